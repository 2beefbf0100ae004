package labels

import (
	"io"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// Place is a site as printed: its code ("NA-HALL") and name ("农安县政务服务中心").
type Place struct {
	Code string
	Name string
}

// text is the place as one line: "name（code）", or whichever is set.
func (p Place) text() string {
	name, code := strings.TrimSpace(p.Name), strings.TrimSpace(p.Code)
	switch {
	case name != "" && code != "":
		return name + "（" + code + "）"
	case name != "":
		return name
	}
	return code
}

// Label is what a waybill label shows. Personal data is passed in full and
// masked by the package; nothing else on the label is personal.
type Label struct {
	// WaybillNo is the parcel's number, exactly as issued ("CP4821937460215L").
	// Required; it is printed, encoded in Code 128 and in the QR code's
	// tracking address.
	WaybillNo string
	// Kind is what the parcel carries: shipment.KindCertificate (handling
	// mark "证照 — 请妥善保管") or shipment.KindMaterials ("申请材料 — 请妥善保管").
	// Required.
	Kind shipment.Kind
	// Origin is the sending department or hall. Its name is required.
	Origin Place
	// Destination is the hall (or department) the parcel goes to. Its name
	// is required unless Express.
	Destination Place
	// Window is the hall's window, e.g. "3号窗口（不动产登记）". Optional.
	Window string
	// Express marks delivery by courier to Address instead of a hall.
	Express bool
	// Address is the express delivery address, in full; the label prints
	// Address.MaskForLabel() (house numbers starred, unit and room left
	// out). Required (Province, City, District, Detail) when Express.
	Address shipment.Address
	// RecipientName is the recipient's full name; the label prints
	// shipment.MaskName of it ("张*三"). Required for certificates.
	RecipientName string
	// Phone is the recipient's full mobile number; the label prints
	// shipment.MaskPhoneLabel of it ("138********"). Optional.
	Phone string
	// CertType is the certificate type's name ("营业执照"). The certificate's
	// number is never printed, so the label does not take it.
	CertType string
	// Leg is the route leg this label travels, when known, e.g.
	// "D-SW → CC-HUB". Optional.
	Leg string
	// RunNo is the consolidation run (CR…) the parcel is booked on, when
	// known. Optional; if set it must be a valid run number.
	RunNo string
	// RegisteredAt is when the parcel was registered; printed in China
	// Standard Time. Optional.
	RegisteredAt time.Time
}

// Flag reports an item on which characters were printed as code-point boxes
// because no font has them ("label flagged"): a person should check it, and
// may write the names by hand.
type Flag struct {
	// Index is the item's position in the request, counting from 0 (0 for
	// a single label).
	Index int
	// Number is the item's waybill, bag or run number.
	Number string
	// Chars are the characters printed as boxes, each once, in order.
	Chars []rune
}

// Flags lists the flagged items of a print job; it is empty when every
// character was printed.
type Flags []Flag

// String formats the flag as "CP4821937460215L: U+10FFFD U+E000".
func (f Flag) String() string {
	var b strings.Builder
	b.WriteString(f.Number)
	b.WriteByte(':')
	for _, c := range f.Chars {
		b.WriteByte(' ')
		b.WriteString(codePointText(c))
	}
	return b.String()
}

// chinaTime is China Standard Time (UTC+8, no daylight saving time), in
// which dates are printed.
var chinaTime = time.FixedZone("CST", 8*60*60)

// Label dimensions, mm.
const (
	labelW = 100
	labelH = 150
)

// checkLabel returns what is wrong with l: the field that is missing or
// invalid, "" if nothing.
func checkLabel(l *Label) string {
	switch {
	case !validParcelNo(l.WaybillNo):
		return "waybill_no"
	case !l.Kind.Valid():
		return "kind"
	case strings.TrimSpace(l.Origin.Name) == "":
		return "origin"
	case l.Express && l.Address.Validate() != nil:
		return "address"
	case !l.Express && strings.TrimSpace(l.Destination.Name) == "":
		return "destination"
	case l.Kind == shipment.KindCertificate && strings.TrimSpace(l.RecipientName) == "":
		return "recipient_name"
	case l.RunNo != "" && !validNumberOf(l.RunNo, shipment.KindRun):
		return "run_no"
	}
	return ""
}

// validNumberOf reports whether s is exactly a valid number of kind k.
func validNumberOf(s string, k shipment.NumberKind) bool {
	got, err := shipment.ValidNumber(s)
	return err == nil && got == k
}

// waybillError is the error for a single label with a bad number.
func waybillError(index int, no string) error {
	return apperr.New(apperr.Invalid, CodeWaybillInvalid).OnField("waybill_no").
		With("items", itemName(index, no))
}

// labelError is the error for a single label that cannot be printed.
func labelError(l *Label, field string) error {
	if field == "waybill_no" {
		return waybillError(0, l.WaybillNo)
	}
	return apperr.New(apperr.Invalid, CodeFieldInvalid).OnField(field).
		With("field", field).With("items", itemName(0, l.WaybillNo))
}

// checkBatch checks a batch: its size, then every label; the error names
// every label that cannot be printed.
func checkBatch(ls []Label) error {
	if len(ls) == 0 {
		return apperr.New(apperr.Invalid, CodeBatchEmpty)
	}
	if len(ls) > MaxBatch {
		return apperr.New(apperr.Invalid, CodeBatchTooLarge).With("count", len(ls)).With("max", MaxBatch)
	}
	var ps []problem
	for i := range ls {
		if f := checkLabel(&ls[i]); f != "" {
			ps = append(ps, problem{index: i, number: ls[i].WaybillNo, field: f})
		}
	}
	if len(ps) > 0 {
		return listError(CodeBatchInvalid, ps)
	}
	return nil
}

// Waybill renders one waybill label (100 × 150 mm, one page) to w. It
// returns the label's flag if characters had to be printed as code-point
// boxes. On error nothing is written.
func (r *Renderer) Waybill(w io.Writer, l Label) (Flags, error) {
	if f := checkLabel(&l); f != "" {
		return nil, labelError(&l, f)
	}
	return r.render(w, labelW, labelH, func(d *doc) error {
		d.addPage()
		if err := d.waybill(&l, 0, 0, 1); err != nil {
			return err
		}
		d.endItem(0, l.WaybillNo)
		return nil
	})
}

// Batch renders labels into one PDF, one 100 × 150 mm page each, in the
// order given: a clerk's print run for a label printer. At most MaxBatch
// labels; every label is checked before anything is drawn, and on error
// nothing is written.
func (r *Renderer) Batch(w io.Writer, labels []Label) (Flags, error) {
	if err := checkBatch(labels); err != nil {
		return nil, err
	}
	return r.render(w, labelW, labelH, func(d *doc) error {
		for i := range labels {
			d.addPage()
			if err := d.waybill(&labels[i], 0, 0, 1); err != nil {
				return err
			}
			d.endItem(i, labels[i].WaybillNo)
		}
		return nil
	})
}

// The A4 sheet: four labels per page, each scaled to fit an A6 quarter
// (105 × 148.5 mm) inside the margins office printers cannot print on.
const (
	a4W, a4H   = 210, 297
	sheetScale = 0.92
)

// Sheet renders labels on A4 pages, four per page (left to right, top to
// bottom, in the order given), each scaled to A6 with crop marks at its
// corners: for offices without a label printer. Limits and errors as Batch.
func (r *Renderer) Sheet(w io.Writer, labels []Label) (Flags, error) {
	if err := checkBatch(labels); err != nil {
		return nil, err
	}
	return r.render(w, a4W, a4H, func(d *doc) error {
		lw, lh := labelW*sheetScale, labelH*sheetScale
		for i := range labels {
			slot := i % 4
			if slot == 0 {
				d.addPage()
			}
			qx, qy := float64(slot%2)*a4W/2, float64(slot/2)*a4H/2
			x, y := qx+(a4W/2-lw)/2, qy+(a4H/2-lh)/2
			if err := d.waybill(&labels[i], x, y, sheetScale); err != nil {
				return err
			}
			d.endItem(i, labels[i].WaybillNo)
			d.cropMarks(x, y, lw, lh)
		}
		return nil
	})
}

// cropMarks draws corner marks outside the box (x, y, w, h), 1 mm off it.
func (d *doc) cropMarks(x, y, w, h float64) {
	const gap, length, lw = 1.0, 3.5, 0.15
	for _, c := range [][2]float64{{x, y}, {x + w, y}, {x, y + h}, {x + w, y + h}} {
		sx, sy := -1.0, -1.0
		if c[0] > x {
			sx = 1
		}
		if c[1] > y {
			sy = 1
		}
		d.segment(c[0]+sx*gap, c[1], c[0]+sx*(gap+length), c[1], lw)
		d.segment(c[0], c[1]+sy*gap, c[0], c[1]+sy*(gap+length), lw)
	}
}

// handlingMark is the label's handling mark for a kind.
func handlingMark(k shipment.Kind) string {
	if k == shipment.KindMaterials {
		return "申请材料 — 请妥善保管"
	}
	return "证照 — 请妥善保管"
}

// kindName is the kind as printed in the contents area.
func kindName(k shipment.Kind) string {
	if k == shipment.KindMaterials {
		return "申请材料"
	}
	return "证照"
}

// waybill draws label l with its top-left corner at (ox, oy), scaled by s
// (1 on a label page; the A4 sheet scales it with a transformation).
func (d *doc) waybill(l *Label, ox, oy, s float64) error {
	if s != 1 || ox != 0 || oy != 0 {
		d.pdf.TransformBegin()
		d.pdf.TransformTranslate(ox, oy)
		d.pdf.TransformScale(s*100, s*100, 0, 0)
		defer func() {
			d.pdf.TransformEnd()
			d.size = 0 // the Q undid the font size set inside
		}()
	}
	r := d.r
	const m, iw = 4.0, 92.0 // margin, inner width
	d.rect(2, 2, 96, 146, 0.4)

	// header: title and handling mark
	mark := prepare(handlingMark(l.Kind), false)
	markW := r.textWidth(mark, 11) + 3
	d.rect(98-1.5-markW, 3.5, markW, 7, 0.5)
	d.line(mark, 98-1.5-markW, 3.5+5.1, markW, style{size: 11, bold: true, align: 'C'})
	d.text(r.opts.Title, m, 4, iw-markW-3, 7, 10, 7, 1, style{})
	d.hline(2, 98, 12, 0.3, false)

	// code area: number, Code 128
	d.line([]rune(l.WaybillNo), m, 20.5, iw, style{size: 20, bold: true, align: 'C'})
	if err := d.code128(l.WaybillNo, 5, 23, 90, 15); err != nil {
		return err
	}
	d.hline(2, 98, 40.5, 0.3, false)

	// destination area
	if l.Express {
		d.text("快递到户 收件地址", m, 41.5, iw, 5, 8, 8, 1, style{})
		d.text(l.Address.MaskForLabel(), m, 47, iw, 28, 14, 9, 3, style{bold: true})
	} else {
		codeW := 0.0
		if c := strings.TrimSpace(l.Destination.Code); c != "" {
			cr := prepare(c, false)
			size := 14.0
			for size > 8 && r.textWidth(cr, size) > 50 {
				size -= 0.5
			}
			codeW = r.textWidth(cr, size)
			d.line(cr, 98-m-codeW, 41.5+size*ptToMM*ascentRatio, codeW, style{size: size, bold: true})
		}
		d.text("目的地", m, 41.5, iw-codeW-2, 5, 8, 8, 1, style{})
		d.text(l.Destination.Name, m, 48, iw, 14, 18, 11, 2, style{bold: true})
		if win := strings.TrimSpace(l.Window); win != "" {
			d.text("窗口："+win, m, 62.5, iw, 12, 13, 9, 2, style{})
		}
	}
	d.hline(2, 98, 76, 0.3, false)

	// recipient area: masked name and phone only
	d.text("收件人", m, 77, 50, 4, 8, 8, 1, style{})
	if name := shipment.MaskName(l.RecipientName); name != "" {
		d.text(name, m, 81.5, 58, 13.5, 18, 10, 2, style{bold: true})
	} else {
		d.text(l.Destination.text(), m, 81.5, 58, 13.5, 14, 8, 2, style{bold: true})
	}
	if strings.TrimSpace(l.Phone) != "" {
		d.text("电话", 64, 77, 32, 4, 8, 8, 1, style{})
		d.text(shipment.MaskPhoneLabel(l.Phone), 64, 82.5, 32, 8, 13, 8, 1, style{bold: true})
	}
	d.hline(2, 98, 96, 0.3, false)

	// sender and contents area
	var info strings.Builder
	info.WriteString("寄件：" + l.Origin.text())
	info.WriteString("\n内件：" + kindName(l.Kind))
	if ct := strings.TrimSpace(l.CertType); ct != "" {
		info.WriteString("（" + ct + "）")
	}
	if !l.RegisteredAt.IsZero() {
		info.WriteString("\n登记：" + l.RegisteredAt.In(chinaTime).Format("2006-01-02 15:04"))
	}
	if leg := strings.TrimSpace(l.Leg); leg != "" || l.RunNo != "" {
		info.WriteString("\n")
		if leg != "" {
			info.WriteString("线路：" + leg)
			if l.RunNo != "" {
				info.WriteString("  ")
			}
		}
		if l.RunNo != "" {
			info.WriteString("批次：" + l.RunNo)
		}
	}
	d.text(info.String(), m, 97, iw, 21, 9.5, 6, 6, style{})
	d.hline(2, 98, 118.5, 0.3, false)

	// QR code of the tracking address, and the signature area
	url := r.publicURL + "/T/" + l.WaybillNo
	if _, err := d.qr(url, 2.5, 119, 28.5); err != nil {
		return err
	}
	d.text("扫码查询进度", 32, 120.5, 64, 5, 9, 7, 1, style{})
	d.text(url, 32, 126, 64, 8, 6.5, 5, 2, style{})
	d.text("签收：", 32, 137.5, 20, 5, 9, 9, 1, style{})
	d.hline(42, 95, 142.5, 0.2, false)
	return nil
}
