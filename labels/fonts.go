package labels

import (
	_ "embed"
	"fmt"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
)

// The embedded fonts; labels/fonts/README.md says where they come from and
// how they were made (labels/fonts/make-fonts.sh).
var (
	// WenQuanYi Micro Hei, cut to printable ASCII plus GBK (Apache-2.0).
	//go:embed fonts/wqy-microhei-gbk.ttf
	primaryTTF []byte

	// Outlines of the characters the primary font lacks (CJK Extension A,
	// Extensions B–F, compatibility ideographs, symbols), taken from HanaMinA
	// and HanaMinB (Hanazono Font License).
	//go:embed fonts/hanamin-fallback.glyphs
	fallbackPack []byte
)

// fontFamily is the family name the primary font is registered under in
// every document.
const fontFamily = "wqy"

// primaryFont is what the renderer knows about the primary font: which BMP
// characters it has and their advance widths, in thousandths of an em
// exactly as fpdf writes them into the PDF.
type primaryFont struct {
	widths [0x10000]uint16 // 0: not in the font
}

// loadPrimary parses the embedded primary font once: its character map with
// golang.org/x/image/font/sfnt, its widths through fpdf itself (so they match
// the widths fpdf puts into the PDF to the unit).
func loadPrimary(ttf []byte) (*primaryFont, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("labels: parse primary font: %w", err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(fontFamily, "", ttf)
	pdf.SetFont(fontFamily, "", 10)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("labels: load primary font into fpdf: %w", err)
	}
	p := &primaryFont{}
	var buf sfnt.Buffer
	var s [4]byte
	for r := rune(0x20); r < 0x10000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		gi, err := f.GlyphIndex(&buf, r)
		if err != nil || gi == 0 {
			continue
		}
		n := utf8.EncodeRune(s[:], r)
		w := pdf.GetStringSymbolWidth(string(s[:n]))
		if w <= 0 {
			w = 1 // present but without advance: still printable
		}
		p.widths[r] = uint16(w)
	}
	if p.widths['0'] == 0 || p.widths['中'] == 0 {
		return nil, fmt.Errorf("labels: primary font lacks basic characters")
	}
	return p, nil
}

// has reports whether the primary font has c.
func (p *primaryFont) has(c rune) bool {
	return c >= 0 && c < 0x10000 && p.widths[c] != 0
}
