package service

import (
	"context"
	"strings"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// LabelParcel is what a parcel's label is made of: the parcel, and its
// recipient's particulars (none once purged).
type LabelParcel struct {
	Parcel  *shipment.Parcel
	Name    string
	Phone   string
	Address *shipment.Address
	Purged  bool
	// Proxy: a proxy collected it (handover_people).
	Proxy bool
}

// LabelStore reads the parcels to label and records a print run.
type LabelStore interface {
	// LabelParcels reads the parcels with the given numbers, by number
	// (those that do not exist are missing).
	LabelParcels(ctx context.Context, numbers []string) (map[string]LabelParcel, error)
	// RecordPrinted appends a label_printed event to each parcel (once per
	// parcel however often it is in numbers), all or none.
	RecordPrinted(ctx context.Context, a shipment.Actor, numbers []string, layout string) error
}

// Labels prints waybill labels: one to look at, or a print run recorded on
// every parcel in it.
type Labels struct {
	Store LabelStore
	Ref   labels.Places
}

// Label is one parcel's label to look at (no event).
//
// Errors: those of LabelsFor.
func (s *Labels) Label(ctx context.Context, a shipment.Actor, number string) (labels.Label, error) {
	ls, err := s.LabelsFor(ctx, a, []string{number})
	if err != nil {
		return labels.Label{}, err
	}
	return ls[0], nil
}

// LabelsFor makes the labels of the given parcels, in the order asked.
// Every number must exist and be the actor's to print (shipment.CanSee),
// with its particulars not yet purged; the error names every offending
// number.
//
// Errors: label.unknown_items (not found), label.forbidden_items
// (forbidden), label.purged_items (invalid).
func (s *Labels) LabelsFor(ctx context.Context, a shipment.Actor, numbers []string) ([]labels.Label, error) {
	found, err := s.Store.LabelParcels(ctx, numbers)
	if err != nil {
		return nil, err
	}
	var unknown, forbidden, purged []string
	out := make([]labels.Label, 0, len(numbers))
	for _, no := range numbers {
		r, ok := found[no]
		switch {
		case !ok:
			unknown = append(unknown, no)
		case !a.CanSee(r.Parcel):
			forbidden = append(forbidden, no)
		case r.Purged || r.Name == "":
			purged = append(purged, no)
		default:
			out = append(out, labels.ForParcel(r.Parcel, r.Name, r.Phone, r.Address, s.Ref))
		}
	}
	switch {
	case len(unknown) > 0:
		return nil, apperr.New(apperr.NotFound, "label.unknown_items").With("items", strings.Join(unknown, "、")).With("numbers", unknown)
	case len(forbidden) > 0:
		return nil, apperr.New(apperr.Forbidden, "label.forbidden_items").With("items", strings.Join(forbidden, "、")).With("numbers", forbidden)
	case len(purged) > 0:
		return nil, apperr.New(apperr.Invalid, "label.purged_items").With("items", strings.Join(purged, "、")).With("numbers", purged)
	}
	return out, nil
}

// Print makes a print run: the numbers as typed or scanned
// (labels.ParseBatch), in layout (labels.CheckLayout), drawn by render; a
// label_printed event is recorded on every parcel in it. Nothing is
// recorded unless render succeeded, and render's document is to be sent
// only when Print returns nil (every event recorded).
//
// Errors: those of labels.CheckLayout, labels.ParseBatch, LabelsFor and
// render.
func (s *Labels) Print(ctx context.Context, a shipment.Actor, raw []string, layout string,
	render func(layout string, ls []labels.Label) error) error {
	layout, err := labels.CheckLayout(layout)
	if err != nil {
		return err
	}
	numbers, err := labels.ParseBatch(raw)
	if err != nil {
		return err
	}
	ls, err := s.LabelsFor(ctx, a, numbers)
	if err != nil {
		return err
	}
	if err := render(layout, ls); err != nil {
		return err
	}
	return s.Store.RecordPrinted(ctx, a, numbers, layout)
}

// Receipt is the handover receipt of a collected parcel, for the staff of
// the hall that handed it over (and admins), as a label would show it.
//
// Errors: those of LabelsFor; receipt.not_collected (conflict).
func (s *Labels) Receipt(ctx context.Context, a shipment.Actor, number string) (labels.Receipt, error) {
	found, err := s.Store.LabelParcels(ctx, []string{number})
	if err != nil {
		return labels.Receipt{}, err
	}
	r, ok := found[number]
	switch {
	case !ok:
		return labels.Receipt{}, apperr.New(apperr.NotFound, "label.unknown_items").With("items", number).With("numbers", []string{number})
	case !a.CanSee(r.Parcel):
		return labels.Receipt{}, apperr.New(apperr.Forbidden, "label.forbidden_items").With("items", number).With("numbers", []string{number})
	case r.Parcel.Status != shipment.Collected:
		return labels.Receipt{}, apperr.New(apperr.Conflict, "receipt.not_collected").With("waybill_no", number)
	case r.Purged || r.Name == "":
		return labels.Receipt{}, apperr.New(apperr.Invalid, "label.purged_items").With("items", number).With("numbers", []string{number})
	}
	l := labels.ForParcel(r.Parcel, r.Name, r.Phone, r.Address, s.Ref)
	return labels.Receipt{WaybillNo: l.WaybillNo, CertType: l.CertType, Holder: l.RecipientName, Hall: l.Destination,
		Window: l.Window, CollectedAt: tracking.Local(r.Parcel.LastAt), ByProxy: r.Proxy, Staff: a.Username}, nil
}
