package service

import (
	"context"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

type readStore struct {
	Store
	p       *shipment.Parcel
	r       *tracking.Recipient
	handled bool
	asked   int
}

func (s *readStore) ParcelRecord(context.Context, string, time.Time) (*shipment.Parcel, *tracking.Recipient, error) {
	return s.p, s.r, nil
}

func (s *readStore) Handled(context.Context, int64, int64) (bool, error) {
	s.asked++
	return s.handled, nil
}

// A parcel is read by those who may see it, as each may see it: a courier
// only a parcel it handled, with the names masked and no private link.
func TestGet(t *testing.T) {
	r := &tracking.Recipient{Type: shipment.Natural, Name: "张三丰", Phone: "13812345678", IDTail: "002X",
		PrivateURL: "https://example.cn/s/x"}
	clerk := shipment.Actor{ID: 2, Role: shipment.RoleClerk, Site: "D-SW"}
	stranger := shipment.Actor{ID: 3, Role: shipment.RoleClerk, Site: "D-GT"}
	for name, c := range map[string]struct {
		a       shipment.Actor
		handled bool
		code    string
		asked   int
		name    string
		link    string
	}{
		"clerk of the origin": {clerk, false, "", 0, "张三丰", r.PrivateURL},
		"another clerk":       {stranger, false, "parcel.other_site", 0, "", ""},
		"courier who held it": {courier, true, "", 1, shipment.MaskName("张三丰"), ""},
		"another courier":     {courier, false, "parcel.not_handled", 1, "", ""},
	} {
		st := &readStore{p: awaiting(), r: r, handled: c.handled}
		s := &Parcels{Store: st, Now: func() time.Time { return t0 }}
		v, err := s.Get(context.Background(), c.a, st.p.WaybillNo)
		if apperr.CodeOf(err) != c.code && !(c.code == "" && err == nil) {
			t.Errorf("%s: %v, want %q", name, err, c.code)
			continue
		}
		if st.asked != c.asked {
			t.Errorf("%s: asked whether handled %d times, want %d", name, st.asked, c.asked)
		}
		if err == nil && (v.Applicant == nil || v.Applicant.Name != c.name || v.PrivateURL != c.link || v.Applicant.ID != "****002X") {
			t.Errorf("%s: %+v %+v", name, v, v.Applicant)
		}
	}
}
