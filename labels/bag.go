package labels

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// BagLabel is what the label of a sealed consolidation bag (封袋) shows: what
// the receiving hall scans first.
type BagLabel struct {
	// BagNo is the bag's number (CB…), or the run's (CR…) when a run
	// travels as one bag. Required; printed, and encoded as Code 128 and as
	// a QR code (the bare number).
	BagNo string
	// RunNo is the consolidation run (CR…) the bag belongs to. Optional; if
	// set it must be a valid run number.
	RunNo string
	// Origin and Destination are the leg's ends; their names are required.
	Origin      Place
	Destination Place
	// Route is the route as printed, e.g. "D-SW → CC-HUB → NA-HALL". Optional.
	Route string
	// SealNo is the number of the bag's seal (封签号). Optional: when empty,
	// a line is left to write it by hand.
	SealNo string
	// Parcels is the number of parcels in the bag.
	Parcels int
	// SealedAt is when the bag was sealed (printed in China Standard Time).
	// Optional.
	SealedAt time.Time
}

// checkBag returns the field of b that is missing or invalid, "" if none.
func checkBag(b *BagLabel) string {
	switch {
	case !validNumberOf(b.BagNo, shipment.KindBag) && !validNumberOf(b.BagNo, shipment.KindRun):
		return "bag_no"
	case b.RunNo != "" && !validNumberOf(b.RunNo, shipment.KindRun):
		return "run_no"
	case strings.TrimSpace(b.Origin.Name) == "":
		return "origin"
	case strings.TrimSpace(b.Destination.Name) == "":
		return "destination"
	case b.Parcels < 0:
		return "parcels"
	}
	return ""
}

// Bag renders a bag label (100 × 150 mm, one page) to w: the bag number as
// text, Code 128 and QR code, the route, the seal number, the parcel count
// and the date. On error nothing is written.
func (r *Renderer) Bag(w io.Writer, b BagLabel) (Flags, error) {
	switch f := checkBag(&b); f {
	case "":
	case "bag_no":
		return nil, apperr.New(apperr.Invalid, CodeBagNoInvalid).OnField(f).With("bag_no", shorten(b.BagNo))
	default:
		return nil, apperr.New(apperr.Invalid, CodeFieldInvalid).OnField(f).With("field", f).With("items", itemName(0, b.BagNo))
	}
	return r.render(w, labelW, labelH, func(d *doc) error {
		d.addPage()
		if err := d.bag(&b); err != nil {
			return err
		}
		d.endItem(0, b.BagNo)
		return nil
	})
}

func (d *doc) bag(b *BagLabel) error {
	r := d.r
	const m, iw = 4.0, 92.0
	d.rect(2, 2, 96, 146, 0.4)

	// header
	mark := prepare("封袋 — 到达先扫此码", false)
	markW := r.textWidth(mark, 11) + 3
	d.fillRect(98-1.5-markW, 3.5, markW, 7, 0)
	d.pdf.SetTextColor(255, 255, 255)
	d.line(mark, 98-1.5-markW, 3.5+5.1, markW, style{size: 11, bold: false, align: 'C'})
	d.pdf.SetTextColor(0, 0, 0)
	d.text(r.opts.Title, m, 4, iw-markW-3, 7, 10, 7, 1, style{})
	d.hline(2, 98, 12, 0.3, false)

	// number and Code 128
	d.line([]rune(b.BagNo), m, 20.5, iw, style{size: 20, bold: true, align: 'C'})
	if err := d.code128(b.BagNo, 5, 23, 90, 15); err != nil {
		return err
	}
	d.hline(2, 98, 40.5, 0.3, false)

	// leg: from → to, the destination large
	d.text("发往", m, 41.5, iw, 5, 8, 8, 1, style{})
	d.text(b.Destination.text(), m, 46.5, iw, 15, 18, 10, 2, style{bold: true})
	d.text("发出："+b.Origin.text(), m, 62, iw, 10, 11, 7, 2, style{})
	d.hline(2, 98, 72.5, 0.3, false)

	// run, route, seal, date
	var info strings.Builder
	if b.RunNo != "" && b.RunNo != b.BagNo {
		info.WriteString("批次：" + b.RunNo + "\n")
	}
	if route := strings.TrimSpace(b.Route); route != "" {
		info.WriteString("线路：" + route + "\n")
	}
	if !b.SealedAt.IsZero() {
		info.WriteString("封袋时间：" + b.SealedAt.In(chinaTime).Format("2006-01-02 15:04"))
	}
	d.text(info.String(), m, 73.5, iw, 17, 10, 6.5, 4, style{})
	d.hline(2, 98, 91, 0.3, false)

	// seal number and count, large
	d.text("封签号", m, 92, 56, 5, 8, 8, 1, style{})
	if seal := strings.TrimSpace(b.SealNo); seal != "" {
		d.text(seal, m, 97, 58, 9, 16, 8, 1, style{bold: true})
	} else {
		d.hline(m, 60, 104, 0.2, false)
	}
	d.text("件数", 66, 92, 30, 5, 8, 8, 1, style{})
	d.text(strconv.Itoa(b.Parcels)+" 件", 66, 96.5, 30, 10, 20, 10, 1, style{bold: true})
	d.hline(2, 98, 107, 0.3, false)

	// QR of the number
	if _, err := d.qr(b.BagNo, 2.5, 107.5, 40); err != nil {
		return err
	}
	d.text("到达站点：扫描此袋，核对袋内件数与交接清单，再逐件扫描签收。", 45, 110, 50, 20, 9, 6.5, 4, style{})
	d.text("接收：", 45, 134, 20, 5, 9, 9, 1, style{})
	d.hline(55, 95, 139, 0.2, false)
	return nil
}
