package service

import (
	"context"
	"errors"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

type labelStore struct {
	parcels map[string]LabelParcel
	printed []string
}

func (s *labelStore) LabelParcels(_ context.Context, numbers []string) (map[string]LabelParcel, error) {
	out := map[string]LabelParcel{}
	for _, n := range numbers {
		if p, ok := s.parcels[n]; ok {
			out[n] = p
		}
	}
	return out, nil
}

func (s *labelStore) RecordPrinted(_ context.Context, _ shipment.Actor, numbers []string, _ string) error {
	s.printed = append(s.printed, numbers...)
	return nil
}

// A print run is recorded only once its document was drawn, and only of
// parcels the clerk may print, whose particulars are still kept.
func TestPrintRecordsOnlyWhatWasDrawn(t *testing.T) {
	mine := &shipment.Parcel{WaybillNo: shipment.NewNumber(shipment.KindParcel), OriginSite: "D-SW", DestSite: "ED-HALL",
		DestKind: shipment.DestHall, Path: []string{"D-SW", "CC-HUB", "ED-HALL"}}
	other := &shipment.Parcel{WaybillNo: shipment.NewNumber(shipment.KindParcel), OriginSite: "D-GA", DestSite: "ED-HALL",
		DestKind: shipment.DestHall, Path: []string{"D-GA", "CC-HUB", "ED-HALL"}}
	purged := &shipment.Parcel{WaybillNo: shipment.NewNumber(shipment.KindParcel), OriginSite: "D-SW", DestSite: "ED-HALL",
		DestKind: shipment.DestHall, Path: []string{"D-SW", "CC-HUB", "ED-HALL"}}
	st := &labelStore{parcels: map[string]LabelParcel{
		mine.WaybillNo:   {Parcel: mine, Name: "张三", Phone: "13812345678"},
		other.WaybillNo:  {Parcel: other, Name: "李四", Phone: "13812345679"},
		purged.WaybillNo: {Parcel: purged, Purged: true},
	}}
	s := &Labels{Store: st, Ref: refSites{}}
	clerk := shipment.Actor{ID: 7, Role: shipment.RoleClerk, Site: "D-SW"}
	draw := func(layout string, ls []labels.Label) error { return nil }

	for name, c := range map[string]struct {
		numbers []string
		layout  string
		render  func(string, []labels.Label) error
		code    string
	}{
		"another department's":  {[]string{mine.WaybillNo, other.WaybillNo}, "", draw, "label.forbidden_items"},
		"purged":                {[]string{purged.WaybillNo}, "", draw, "label.purged_items"},
		"unknown":               {[]string{shipment.NewNumber(shipment.KindParcel)}, "", draw, "label.unknown_items"},
		"unknown layout":        {[]string{mine.WaybillNo}, "a5", draw, "label.layout_unknown"},
		"the document not made": {[]string{mine.WaybillNo}, "", func(string, []labels.Label) error { return errors.New("fpdf") }, "internal"},
	} {
		err := s.Print(context.Background(), clerk, c.numbers, c.layout, c.render)
		if err == nil || (c.code != "internal" && apperr.CodeOf(err) != c.code) {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
		if len(st.printed) > 0 {
			t.Fatalf("%s: recorded %v", name, st.printed)
		}
	}
	var got []labels.Label
	var layout string
	if err := s.Print(context.Background(), clerk, []string{mine.WaybillNo, mine.WaybillNo}, "a4",
		func(l string, ls []labels.Label) error { layout, got = l, ls; return nil }); err != nil {
		t.Fatal(err)
	}
	if layout != labels.LayoutA4 || len(got) != 2 || got[0].RecipientName != "张三" || len(st.printed) != 2 {
		t.Fatalf("drawn %q %+v, recorded %v", layout, got, st.printed)
	}
}
