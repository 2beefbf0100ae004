package labels

import (
	"io"
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// Receipt size: a half A5, 148 × 105 mm, landscape.
const (
	receiptW = 148
	receiptH = 105
)

// Receipt is the handover receipt (领取回执) the counter prints for a
// collected parcel: masked as a label is (the holder's name as
// shipment.MaskName), never the phone or an ID number.
type Receipt struct {
	WaybillNo   string
	CertType    string
	Holder      string // in clear here; drawn masked
	Hall        Place
	Window      string
	CollectedAt time.Time // shown as given: in Asia/Shanghai (tracking.Local)
	ByProxy     bool
	Staff       string // the username of the staff who handed over
}

// Receipt renders a receipt (one page) to w. On error nothing is written:
// CodeFieldInvalid with field "waybill_no" or "hall".
func (r *Renderer) Receipt(w io.Writer, rc Receipt) (Flags, error) {
	if strings.TrimSpace(rc.WaybillNo) == "" {
		return nil, apperr.New(apperr.Invalid, CodeFieldInvalid).OnField("waybill_no").With("field", "waybill_no").
			With("items", itemName(0, ""))
	}
	if strings.TrimSpace(rc.Hall.Name) == "" {
		return nil, apperr.New(apperr.Invalid, CodeFieldInvalid).OnField("hall").With("field", "hall").
			With("items", itemName(0, rc.WaybillNo))
	}
	how := "本人领取"
	if rc.ByProxy {
		how = "代领（凭委托书）"
	}
	rows := [][2]string{
		{"运单号", rc.WaybillNo},
		{"证照", rc.CertType},
		{"持证人", shipment.MaskName(rc.Holder)},
		{"领取方式", how},
		{"领取时间", rc.CollectedAt.Format("2006-01-02 15:04")},
		{"领取地点", strings.TrimSpace(rc.Hall.text() + " " + rc.Window)},
		{"经办人", rc.Staff},
	}
	return r.render(w, receiptW, receiptH, func(d *doc) error {
		d.addPage()
		d.rect(4, 4, receiptW-8, receiptH-8, 0.3)
		d.text("证照领取回执", 8, 8, receiptW-46, 10, 16, 12, 1, style{bold: true})
		if _, err := d.qr(strings.ToUpper(rc.WaybillNo), receiptW-36, 8, 28); err != nil {
			return err
		}
		y := 24.0
		for _, row := range rows {
			d.text(row[0], 8, y, 24, 8, 10, 8, 1, style{})
			d.text(row[1], 34, y, receiptW-80, 8, 11, 7, 1, style{bold: row[0] == "运单号"})
			y += 9
		}
		d.text("此回执证明上述证照已当面交付。请妥善保管。", 8, receiptH-14, receiptW-16, 6, 8, 7, 1, style{})
		d.endItem(0, rc.WaybillNo)
		return nil
	})
}
