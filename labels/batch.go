package labels

import (
	"strings"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// Layouts of a print run: one 100 × 150 mm page per label for label
// printers, or four labels per A4 sheet (scaled to A6, with cut marks).
const (
	LayoutLabel = "label"
	LayoutA4    = "a4"
)

// CheckLayout returns the layout a print run asked for, LayoutLabel when
// none. Errors: label.layout_unknown (invalid).
func CheckLayout(layout string) (string, error) {
	switch layout {
	case "":
		return LayoutLabel, nil
	case LayoutLabel, LayoutA4:
		return layout, nil
	}
	return "", apperr.New(apperr.Invalid, "label.layout_unknown").OnField("layout").With("layout", layout)
}

// ParseBatch reads the waybill numbers of a print run, as typed or scanned
// (shipment.ParseCode), in the order asked: from 1 to MaxBatch parcel
// numbers.
//
// Errors (invalid, on the field waybill_nos): CodeBatchEmpty,
// CodeBatchTooLarge (arguments count, max), label.invalid_items (items,
// numbers: every entry that is not a parcel's number, shortened).
func ParseBatch(raw []string) ([]string, error) {
	if len(raw) == 0 {
		return nil, apperr.New(apperr.Invalid, CodeBatchEmpty).OnField("waybill_nos")
	}
	if len(raw) > MaxBatch {
		return nil, apperr.New(apperr.Invalid, CodeBatchTooLarge).OnField("waybill_nos").
			With("count", len(raw)).With("max", MaxBatch)
	}
	numbers := make([]string, len(raw))
	var bad []string
	for i, r := range raw {
		code, err := shipment.ParseCode(r)
		if err != nil || code.Kind != shipment.KindParcel {
			bad = append(bad, cutRunes(r, 40))
			continue
		}
		numbers[i] = code.Number
	}
	if len(bad) > 0 {
		return nil, apperr.New(apperr.Invalid, "label.invalid_items").OnField("waybill_nos").
			With("items", strings.Join(bad, "、")).With("numbers", bad)
	}
	return numbers, nil
}

// cutRunes cuts s to n characters, marking the cut.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Places name the sites a label shows, and their certificate types.
type Places interface {
	Site(code string) (shipment.Site, bool)
	CertType(code string) (shipment.CertType, bool)
}

// ForParcel is the label of parcel p for its recipient (name, phone, and
// the address of an express parcel), with the places of ref.
func ForParcel(p *shipment.Parcel, name, phone string, addr *shipment.Address, ref Places) Label {
	place := func(code string) Place {
		s, _ := ref.Site(code)
		return Place{Code: code, Name: s.NameZH}
	}
	lb := Label{WaybillNo: p.WaybillNo, Kind: p.Kind, Origin: place(p.OriginSite), RecipientName: name,
		Phone: phone, RegisteredAt: p.CreatedAt}
	if p.DestKind == shipment.DestAddress {
		lb.Express = true
		if addr != nil {
			lb.Address = *addr
		}
	} else {
		lb.Destination = place(p.DestSite)
		if s, ok := ref.Site(p.DestSite); ok && len(s.Windows) > 0 {
			lb.Window = strings.TrimSpace(s.Windows[0].No + " " + s.Windows[0].Name)
		}
	}
	if ct, ok := ref.CertType(p.CertType); ok {
		lb.CertType = ct.NameZH
	}
	if next := p.NextSite(); next != "" {
		lb.Leg = p.CurrentSite() + " → " + next
	}
	return lb
}
