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

type listStore struct {
	Store
	q       ListQuery
	calls   int
	next    int64
	ready   []tracking.ParcelView
	readyAt string
}

func (s *listStore) ListParcels(_ context.Context, _ shipment.Actor, q ListQuery) ([]tracking.ParcelView, int64, error) {
	s.calls++
	s.q = q
	return nil, s.next, nil
}

func (s *listStore) ReadyByCode(_ context.Context, _ shipment.Actor, hall, _ string) ([]tracking.ParcelView, error) {
	s.calls++
	s.readyAt = hall
	return s.ready, nil
}

type countThrottle struct{ n map[string]int }

func (c *countThrottle) Fail(_ context.Context, scope, key string) (int, error) {
	c.n[scope+"/"+key]++
	return c.n[scope+"/"+key], nil
}

func (c *countThrottle) Failures(_ context.Context, scope, key string) (int, error) {
	return c.n[scope+"/"+key], nil
}

func (c *countThrottle) Forgive(_ context.Context, scope, key string) error {
	c.n[scope+"/"+key]--
	return nil
}

// A list filter is checked before anything is read, and says what the text
// may be: a slot only to those who see slots; the page's cursor round-trips.
func TestListQuery(t *testing.T) {
	staff := shipment.Actor{ID: 4, Role: shipment.RoleStaff, Site: "ED-HALL"}
	for name, f := range map[string]tracking.Filter{
		"status": {Status: "lost-ish"}, "site": {Site: "NOPE"}, "cursor": {Cursor: "!!"},
		"long text": {Text: string(make([]rune, 65))},
	} {
		st := &listStore{}
		if _, err := (&Parcels{Store: st, Ref: ref{}}).List(context.Background(), staff, f); apperr.KindOf(err) != apperr.Invalid || st.calls != 0 {
			t.Errorf("%s: %v, %d reads", name, err, st.calls)
		}
	}
	st := &listStore{next: 41}
	s := &Parcels{Store: st, Ref: ref{}}
	page, err := s.List(context.Background(), staff, tracking.Filter{Text: "A-01-1", Limit: 500})
	if err != nil || st.q.Slot != "A-01-1" || st.q.Limit != 200 || page.NextCursor == "" || page.Items == nil {
		t.Fatalf("staff: %+v %+v %v", st.q, page, err)
	}
	if _, err := s.List(context.Background(), staff, tracking.Filter{Cursor: page.NextCursor}); err != nil || st.q.Before != 41 {
		t.Fatalf("next page: %+v %v", st.q, err)
	}
	if _, err := s.List(context.Background(), courier, tracking.Filter{Text: "A-01-1"}); err != nil || st.q.Slot != "" {
		t.Fatalf("courier: %+v %v", st.q, err)
	}
}

// A collection code is looked up in the actor's own hall; each lookup that
// finds nothing counts, and past the limit lookups are refused unread.
func TestByCode(t *testing.T) {
	staff := shipment.Actor{ID: 4, Role: shipment.RoleStaff, Site: "ED-HALL"}
	th := &countThrottle{n: map[string]int{}}
	st := &listStore{}
	s := &Parcels{Store: st, Ref: hallRef{}, Throttle: th}
	if _, err := s.List(context.Background(), staff, tracking.Filter{CollectionCode: "123456", Site: "NG-HALL"}); apperr.CodeOf(err) != "parcel.other_site" {
		t.Fatalf("another hall: %v", err)
	}
	for i := 0; i < MaxCodeLookupFailures; i++ {
		if _, err := s.List(context.Background(), staff, tracking.Filter{CollectionCode: "123456"}); err != nil || st.readyAt != "ED-HALL" {
			t.Fatalf("lookup %d: %v at %q", i, err, st.readyAt)
		}
	}
	calls := st.calls
	if _, err := s.List(context.Background(), staff, tracking.Filter{CollectionCode: "123456"}); apperr.CodeOf(err) != "collect.lookup_too_many" || st.calls != calls {
		t.Fatalf("past the limit: %v, %d reads", err, st.calls-calls)
	}
}

type hallRef struct{ Reference }

func (hallRef) Site(code string) (shipment.Site, bool) {
	return shipment.Site{Code: code, Kind: shipment.SiteHall}, true
}
