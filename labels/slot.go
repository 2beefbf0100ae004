package labels

import (
	"io"
	"strings"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// Slot label size: a small shelf tag, 60 × 40 mm.
const (
	slotW = 60
	slotH = 40
)

// SlotLabel is what a shelf slot's tag (货位标签) shows: the slot, large, and
// its QR code, which holds the slot's code (shipment.SlotCode: "CS…", digits
// and capitals only) so the scan field that takes parcel numbers takes it.
type SlotLabel struct {
	// Slot is the slot as the hall names it, e.g. "A-03-2". Required; it
	// must match shipment.SlotPattern.
	Slot string
	// Hall is the hall whose shelf it is. Its name is required.
	Hall Place
}

// Slot renders a slot label (60 × 40 mm, one page) to w. On error nothing is
// written: CodeFieldInvalid with field "slot" or "hall".
func (r *Renderer) Slot(w io.Writer, s SlotLabel) (Flags, error) {
	code, err := shipment.SlotCode(s.Slot)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, CodeFieldInvalid).OnField("slot").With("field", "slot").
			With("items", itemName(0, shorten(s.Slot)))
	}
	if strings.TrimSpace(s.Hall.Name) == "" {
		return nil, apperr.New(apperr.Invalid, CodeFieldInvalid).OnField("hall").With("field", "hall").
			With("items", itemName(0, s.Slot))
	}
	return r.render(w, slotW, slotH, func(d *doc) error {
		d.addPage()
		d.rect(1, 1, slotW-2, slotH-2, 0.3)
		if _, err := d.qr(code, 1.5, 5, 31); err != nil {
			return err
		}
		d.text("货位", 33, 3, 25, 5, 8, 7, 1, style{})
		d.text(s.Slot, 33, 9, 25, 14, 22, 9, 2, style{bold: true})
		d.text(s.Hall.text(), 33, 25, 25, 12, 7, 5, 3, style{})
		d.line([]rune(code), 2, slotH-2.5, slotW-4, style{size: 6, align: 'C'})
		d.endItem(0, s.Slot)
		return nil
	})
}
