package labels

import (
	"fmt"
	"image/color"
	"io"
	"strconv"
	"time"
	"unicode/utf16"

	"codeberg.org/go-pdf/fpdf"
	"github.com/boombuler/barcode/code128"
	"github.com/skip2/go-qrcode"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Options configure a Renderer.
type Options struct {
	// PublicURL is the service's public base address (COURIER_PUBLIC_URL),
	// for example "https://zwfw.changchun.gov.cn". Waybill QR codes hold
	// TrackURL(PublicURL, waybill). Required.
	PublicURL string

	// Title is printed at the top of waybill and bag labels. Default
	// "政务服务证照流转".
	Title string

	// CreationDate, when set, makes output deterministic for golden tests:
	// every document gets this creation and modification date, and its
	// internal catalogs are written in sorted order. Leave it zero in
	// production (documents are then dated when rendered).
	CreationDate time.Time
}

// Renderer renders labels and manifests. Create it once with NewRenderer;
// it is safe for concurrent use.
type Renderer struct {
	opts      Options
	publicURL string // normalised: upper-case scheme and host, no trailing slash
	primary   *primaryFont
	fallback  *glyphPack
}

// NewRenderer parses the embedded fonts and checks the options.
func NewRenderer(opts Options) (*Renderer, error) {
	base, err := normalisePublicURL(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	if opts.Title == "" {
		opts.Title = "政务服务证照流转"
	}
	p, err := loadPrimary(primaryTTF)
	if err != nil {
		return nil, err
	}
	fb, err := parseGlyphPack(fallbackPack)
	if err != nil {
		return nil, err
	}
	return &Renderer{opts: opts, publicURL: base, primary: p, fallback: fb}, nil
}

// mmToPt converts millimetres to PDF points.
const mmToPt = 72 / 25.4

// doc is one document being rendered.
type doc struct {
	r     *Renderer
	pdf   *fpdf.Fpdf
	pageH float64 // height of the current page, mm
	size  float64 // current font size, points (0: unset)
	raw   []byte  // scratch for raw content-stream operators

	missing []rune // characters of the current item printed as code-point boxes
	flags   Flags
}

// newDoc starts a document whose pages are w × h mm.
func (r *Renderer) newDoc(w, h float64) *doc {
	orient, size := "P", fpdf.SizeType{Wd: w, Ht: h}
	if w > h {
		// fpdf takes the size upright and turns it for landscape.
		orient, size = "L", fpdf.SizeType{Wd: h, Ht: w}
	}
	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: orient, UnitStr: "mm", Size: size})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	if !r.opts.CreationDate.IsZero() {
		pdf.SetCreationDate(r.opts.CreationDate)
		pdf.SetModificationDate(r.opts.CreationDate)
		pdf.SetCatalogSort(true)
	}
	pdf.AddUTF8FontFromBytes(fontFamily, "", primaryTTF)
	pdf.SetFont(fontFamily, "", 10)
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetFillColor(0, 0, 0)
	pdf.SetTextColor(0, 0, 0)
	return &doc{r: r, pdf: pdf, pageH: h, raw: make([]byte, 0, 8192)}
}

// addPage starts a page of the document's size.
func (d *doc) addPage() {
	d.pdf.AddPage()
	d.size = 0
}

// finish completes the document in memory and, only if that succeeded,
// writes it to w in one piece.
func (d *doc) finish(w io.Writer) error {
	d.pdf.Close()
	if err := d.pdf.Error(); err != nil {
		return renderFailed(err)
	}
	if err := d.pdf.Output(w); err != nil {
		return fmt.Errorf("labels: write PDF: %w", err)
	}
	return nil
}

// render runs fn on a fresh document and writes the result to w, turning a
// panic inside fpdf into an error so that one bad label cannot take the
// server down.
func (r *Renderer) render(w io.Writer, pageW, pageH float64, fn func(d *doc) error) (flags Flags, err error) {
	defer func() {
		if p := recover(); p != nil {
			flags, err = nil, renderFailed(fmt.Errorf("panic: %v", p))
		}
	}()
	d := r.newDoc(pageW, pageH)
	if err := fn(d); err != nil {
		if apperr.As(err) == nil {
			err = renderFailed(err) // a code that cannot be encoded
		}
		return nil, err
	}
	if err := d.finish(w); err != nil {
		return nil, err
	}
	return d.flags, nil
}

// endItem closes the flags of one printed item (a label, a manifest).
func (d *doc) endItem(index int, number string) {
	if len(d.missing) == 0 {
		return
	}
	for i := range d.flags {
		if f := &d.flags[i]; f.Index == index && f.Number == number {
			for _, c := range d.missing {
				if !containsRune(f.Chars, c) {
					f.Chars = append(f.Chars, c)
				}
			}
			d.missing = nil
			return
		}
	}
	d.flags = append(d.flags, Flag{Index: index, Number: number, Chars: d.missing})
	d.missing = nil
}

// ---- raw operators ----

func (d *doc) num(v float64) {
	d.raw = strconv.AppendFloat(d.raw, v, 'f', 2, 64)
	d.raw = append(d.raw, ' ')
}

// flushRaw writes the collected operators into the page's content stream.
func (d *doc) flushRaw() {
	if len(d.raw) > 0 {
		d.pdf.RawWriteStr(string(d.raw))
		d.raw = d.raw[:0]
	}
}

// rectPath adds a rectangle (top-left x, y; mm) to the current path.
func (d *doc) rectPath(x, y, w, h float64) {
	d.num(x * mmToPt)
	d.num((d.pageH - y - h) * mmToPt)
	d.num(w * mmToPt)
	d.num(h * mmToPt)
	d.raw = append(d.raw, "re\n"...)
}

// ---- drawing primitives ----

// setSize selects the font size (points). It must not be called between a
// raw "q" and its "Q": the Tf it writes would be undone by the Q.
func (d *doc) setSize(size float64) {
	if d.size != size {
		d.pdf.SetFontSize(size)
		d.size = size
	}
}

// style of a text line.
type style struct {
	size  float64 // points
	bold  bool    // drawn filled and stroked (the font has no bold face)
	align byte    // 'L', 'C' or 'R' within the given width
}

// line draws one line of text with its left edge at x (or centred /
// right-aligned in w) and its baseline at y (mm).
func (d *doc) line(text []rune, x, y, w float64, st style) {
	if len(text) == 0 {
		return
	}
	size := st.size
	switch st.align {
	case 'C':
		x += (w - d.r.textWidth(text, size)) / 2
	case 'R':
		x += w - d.r.textWidth(text, size)
	}
	d.setSize(size)
	em := size * ptToMM
	var run []rune
	runX := x
	flush := func() {
		if len(run) == 0 {
			return
		}
		if st.bold {
			d.pdf.RawWriteStr("q 2 Tr 0 G " + strconv.FormatFloat(size*0.035, 'f', 2, 64) + " w")
			d.pdf.Text(runX, y, string(run))
			d.pdf.RawWriteStr("Q")
		} else {
			d.pdf.Text(runX, y, string(run))
		}
		run = run[:0]
	}
	for _, c := range text {
		cls, adv, idx := d.r.glyphInfo(c)
		switch cls {
		case classPrimary:
			if len(run) == 0 {
				runX = x
			}
			run = append(run, c)
		case classOutline:
			flush()
			d.outlineGlyph(c, idx, x, y, size, st.bold)
		case classMissing:
			flush()
			d.missingBox(c, x, y, size, adv*em)
		}
		x += adv * em
	}
	flush()
}

// lines draws laid-out text from the top of a box at (x, y), w wide.
func (d *doc) lines(f fitted, x, y, w float64, st style) float64 {
	st.size = f.size
	lh := f.size * ptToMM * lineHeight
	for i, l := range f.lines {
		d.line(l, x, y+f.size*ptToMM*ascentRatio+float64(i)*lh, w, st)
	}
	return f.height()
}

// text lays s out in a box (x, y, w, h) with fit and draws it; it returns
// the height used.
func (d *doc) text(s string, x, y, w, h float64, maxSize, minSize float64, maxLines int, st style) float64 {
	f := d.r.fit(prepare(s, true), w, h, maxSize, minSize, maxLines)
	return d.lines(f, x, y, w, st)
}

// outlineGlyph draws a fallback character as a filled path, with an
// invisible ideographic space inside a marked-content span whose ActualText
// is the character, so extraction gives the character at its place.
func (d *doc) outlineGlyph(c rune, idx int, x, y, size float64, bold bool) {
	o, err := d.r.fallback.outline(idx)
	if err != nil {
		d.missingBox(c, x, y, size, d.r.missingBoxEm(c)*size*ptToMM)
		return
	}
	d.raw = append(d.raw, "/Span <</ActualText <FEFF"...)
	var units [2]uint16
	n := 1
	if c >= 0x10000 {
		r1, r2 := utf16.EncodeRune(c)
		units[0], units[1] = uint16(r1), uint16(r2)
		n = 2
	} else {
		units[0] = uint16(c)
	}
	for _, u := range units[:n] {
		d.raw = append(d.raw, hex4(u)...)
	}
	d.raw = append(d.raw, ">>> BDC\nq 3 Tr"...)
	d.flushRaw()
	d.pdf.Text(x, y, "\u3000")
	d.raw = append(d.raw, "Q\nq 0 g\n"...)
	u := size / d.r.fallback.grid
	x0, y0 := x*mmToPt, (d.pageH-y)*mmToPt
	for _, poly := range o.polys {
		for i := 0; i < len(poly); i += 2 {
			d.num(x0 + float64(poly[i])*u)
			d.num(y0 + float64(poly[i+1])*u)
			if i == 0 {
				d.raw = append(d.raw, "m\n"...)
			} else {
				d.raw = append(d.raw, "l\n"...)
			}
		}
		d.raw = append(d.raw, "h\n"...)
	}
	// HanaMin is a Mincho whose thin strokes fade on a thermal printer and
	// look light beside the Hei text: stroke the outline a little as well
	// (more for bold)
	d.raw = append(d.raw, "0 G "...)
	if bold {
		d.num(size * 0.06)
	} else {
		d.num(size * 0.025)
	}
	d.raw = append(d.raw, "w 1 j B\nQ\nEMC"...)
	d.flushRaw()
}

func hex4(u uint16) []byte {
	const digits = "0123456789ABCDEF"
	return []byte{digits[u>>12], digits[u>>8&15], digits[u>>4&15], digits[u&15]}
}

// missingBox prints a character no font has as its code point in a thin
// box, w mm wide, and notes it for the item's flags.
func (d *doc) missingBox(c rune, x, y, size, w float64) {
	if !containsRune(d.missing, c) {
		d.missing = append(d.missing, c)
	}
	em := size * ptToMM
	top := y - 0.80*em
	d.raw = append(d.raw, "q 0 G "...)
	d.num(0.06 * size)
	d.raw = append(d.raw, "w\n"...)
	d.rectPath(x+0.05*em, top, w-0.1*em, 0.92*em)
	d.raw = append(d.raw, "S\nQ"...)
	d.flushRaw()
	small := size * boxTextRatio
	d.setSize(small)
	label := codePointText(c)
	tw := 0.0
	for _, ch := range label {
		tw += float64(d.r.primary.widths[ch]) / 1000 * small * ptToMM
	}
	d.pdf.Text(x+(w-tw)/2, top+0.46*em+small*ptToMM*0.35, label)
	d.setSize(size)
}

func containsRune(rs []rune, c rune) bool {
	for _, r := range rs {
		if r == c {
			return true
		}
	}
	return false
}

// rect draws a rectangle outline (lw: line width in mm).
func (d *doc) rect(x, y, w, h, lw float64) {
	d.raw = append(d.raw, "q 0 G "...)
	d.num(lw * mmToPt)
	d.raw = append(d.raw, "w\n"...)
	d.rectPath(x, y, w, h)
	d.raw = append(d.raw, "S\nQ"...)
	d.flushRaw()
}

// fillRect fills a rectangle with grey g (0 black … 1 white).
func (d *doc) fillRect(x, y, w, h, g float64) {
	d.raw = append(d.raw, "q "...)
	d.num(g)
	d.raw = append(d.raw, "g\n"...)
	d.rectPath(x, y, w, h)
	d.raw = append(d.raw, "f\nQ"...)
	d.flushRaw()
}

// hline draws a horizontal rule; dashed draws it dashed.
func (d *doc) hline(x1, x2, y, lw float64, dashed bool) {
	d.raw = append(d.raw, "q 0 G "...)
	d.num(lw * mmToPt)
	d.raw = append(d.raw, "w\n"...)
	if dashed {
		d.raw = append(d.raw, "[2 2] 0 d\n"...)
	}
	d.num(x1 * mmToPt)
	d.num((d.pageH - y) * mmToPt)
	d.raw = append(d.raw, "m\n"...)
	d.num(x2 * mmToPt)
	d.num((d.pageH - y) * mmToPt)
	d.raw = append(d.raw, "l S\nQ"...)
	d.flushRaw()
}

// segment draws a straight line from (x1, y1) to (x2, y2).
func (d *doc) segment(x1, y1, x2, y2, lw float64) {
	d.raw = append(d.raw, "q 0 G "...)
	d.num(lw * mmToPt)
	d.raw = append(d.raw, "w\n"...)
	d.num(x1 * mmToPt)
	d.num((d.pageH - y1) * mmToPt)
	d.raw = append(d.raw, "m\n"...)
	d.num(x2 * mmToPt)
	d.num((d.pageH - y2) * mmToPt)
	d.raw = append(d.raw, "l S\nQ"...)
	d.flushRaw()
}

// code128 draws text as a Code 128 symbol filling the box (x, y, w, h),
// quiet zones of 10 modules on either side included, as vector bars.
func (d *doc) code128(text string, x, y, w, h float64) error {
	bc, err := code128.Encode(text)
	if err != nil {
		return err
	}
	n := bc.Bounds().Dx()
	mod := w / float64(n+20)
	x += 10 * mod
	d.raw = append(d.raw, "q 0 g\n"...)
	for i := 0; i < n; {
		if !dark(bc.At(i, 0)) {
			i++
			continue
		}
		j := i
		for j < n && dark(bc.At(j, 0)) {
			j++
		}
		d.rectPath(x+float64(i)*mod, y, float64(j-i)*mod, h)
		i = j
	}
	d.raw = append(d.raw, "f\nQ"...)
	d.flushRaw()
	return nil
}

func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

// qrLevel is the QR codes' error correction: level Q (25 %; go-qrcode
// calls it High) survives a scratched or smudged thermal label better than M.
const qrLevel = qrcode.High

// qr draws text as a QR code in the square (x, y, size), whose outer 4
// modules on every side are the quiet zone, as vector modules. It returns
// the module count per side.
func (d *doc) qr(text string, x, y, size float64) (int, error) {
	q, err := qrcode.New(text, qrLevel)
	if err != nil {
		return 0, err
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := len(bm)
	mod := size / float64(n+8)
	x += 4 * mod
	y += 4 * mod
	d.raw = append(d.raw, "q 0 g\n"...)
	for row, cells := range bm {
		for i := 0; i < n; {
			if !cells[i] {
				i++
				continue
			}
			j := i
			for j < n && cells[j] {
				j++
			}
			d.rectPath(x+float64(i)*mod, y+float64(row)*mod, float64(j-i)*mod, mod)
			i = j
		}
	}
	d.raw = append(d.raw, "f\nQ"...)
	d.flushRaw()
	return n, nil
}

// renderFailed is the error for a document that could not be built.
func renderFailed(err error) error {
	return apperr.New(apperr.Internal, "label.render_failed").Wrap(err)
}
