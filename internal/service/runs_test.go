package service

import (
	"context"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

type runStore struct {
	run    Run
	closed bool
}

func (s *runStore) CloseRun(_ context.Context, _ shipment.Code, _ shipment.Actor, _ time.Time, check func(Run) error) (string, error) {
	if err := check(s.run); err != nil {
		return "", err
	}
	s.closed = true
	return "closed", nil
}

// A check list is closed at the receiving site, once, after the bag
// arrived; a parcel's number is not a run's.
func TestCloseRun(t *testing.T) {
	hall := shipment.Actor{ID: 4, Role: shipment.RoleStaff, Site: "ED-HALL"}
	other := shipment.Actor{ID: 5, Role: shipment.RoleStaff, Site: "NG-HALL"}
	admin := shipment.Actor{ID: 1, Role: shipment.RoleAdmin}
	run := shipment.NewNumber(shipment.KindRun)
	for name, c := range map[string]struct {
		a      shipment.Actor
		no     string
		status string
		code   string
	}{
		"at the hall":     {hall, run, "arrived", ""},
		"by an admin":     {admin, run, "arrived", ""},
		"elsewhere":       {other, run, "arrived", "scan.other_site"},
		"twice":           {hall, run, "closed", "run.closed"},
		"before arriving": {hall, run, "picked_up", "run.not_arrived"},
		"a parcel":        {hall, shipment.NewNumber(shipment.KindParcel), "arrived", "run.not_run"},
	} {
		st := &runStore{run: Run{FromSite: "CC-HUB", ToSite: "ED-HALL", Status: c.status}}
		s := &Runs[string]{Store: st, Now: func() time.Time { return t0 }}
		_, err := s.CloseRun(context.Background(), c.a, c.no)
		if c.code == "" && err != nil || c.code != "" && apperr.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want %q", name, err, c.code)
		}
		if st.closed != (c.code == "") {
			t.Errorf("%s: closed %v", name, st.closed)
		}
	}
}

type maker struct {
	leg    shipment.Leg
	run    *tracking.RunView
	err    error
	slot   time.Time
	madeBy string
}

func (m *maker) Leg(context.Context, int64) (shipment.Leg, error) { return m.leg, nil }

func (m *maker) MakeRun(_ context.Context, _ shipment.Leg, slot time.Time, madeBy string) (*tracking.RunView, error) {
	m.slot, m.madeBy = slot, madeBy
	return m.run, m.err
}

// A run made by hand takes the service's clock as its slot; an inactive
// leg, a slot made already and nothing waiting are told apart.
func TestMakeRunNow(t *testing.T) {
	admin := shipment.Actor{ID: 1, Username: "admin", Role: shipment.RoleAdmin}
	now := time.Date(2026, 12, 2, 1, 30, 0, 123456789, time.UTC)
	for _, c := range []struct {
		m    maker
		code string
	}{
		{maker{leg: shipment.Leg{ID: 3, Active: true}, run: &tracking.RunView{RunNo: "CR1"}}, ""},
		{maker{leg: shipment.Leg{ID: 3}}, "route.inactive"},
		{maker{leg: shipment.Leg{ID: 3, Active: true}, err: tracking.ErrSlotTaken}, "run.slot_taken"},
		{maker{leg: shipment.Leg{ID: 3, Active: true}}, "run.empty"},
	} {
		s := &Runs[string]{Maker: &c.m, Now: func() time.Time { return now }}
		run, err := s.MakeRunNow(context.Background(), admin, 3)
		if (c.code != "" && apperr.CodeOf(err) != c.code) || (c.code == "" && (err != nil || run == nil || run.RunNo != "CR1")) {
			t.Errorf("%+v: %v %v, want %q", c.m.leg, run, err, c.code)
		}
		if c.m.leg.Active && (!c.m.slot.Equal(now.Truncate(time.Microsecond)) || c.m.madeBy != "admin:admin") {
			t.Errorf("made for slot %v by %q", c.m.slot, c.m.madeBy)
		}
	}
}

type runReader struct {
	run      tracking.RunView
	filter   tracking.RunFilter
	detailed bool
}

func (r *runReader) ListRuns(_ context.Context, f tracking.RunFilter) ([]tracking.RunView, error) {
	r.filter = f
	return []tracking.RunView{r.run}, nil
}
func (r *runReader) RunByCode(context.Context, shipment.Code) (*tracking.RunView, error) {
	v := r.run
	return &v, nil
}
func (r *runReader) RunDetail(_ context.Context, v *tracking.RunView) error {
	r.detailed = true
	v.Extras = []string{}
	return nil
}
func (r *runReader) ManifestParcels(context.Context, int64) ([]labels.ManifestParcel, error) {
	return []labels.ManifestParcel{{WaybillNo: shipment.NewNumber(shipment.KindParcel)}}, nil
}

// Site-bound roles list their own site's runs whatever they ask for; a
// run is shown, with its manifest and bag label, only to those who may act
// on it, and nothing more of it is read for anyone else.
func TestRunReads(t *testing.T) {
	rr := &runReader{run: tracking.RunView{ID: 3, RunNo: shipment.NewNumber(shipment.KindRun), FromSite: "D-SW", ToSite: "CC-HUB"}}
	s := &Runs[tracking.CloseResult]{Reader: rr, Ref: refSites{"D-SW": {Code: "D-SW", NameZH: "长春市商务局"}}}
	clerk := shipment.Actor{ID: 7, Role: shipment.RoleClerk, Site: "D-SW"}
	other := shipment.Actor{ID: 8, Role: shipment.RoleStaff, Site: "NG-HALL"}
	admin := shipment.Actor{ID: 1, Role: shipment.RoleAdmin}
	ctx := context.Background()

	if _, err := s.List(ctx, other, "D-SW", "", 0); err != nil || rr.filter.Site != "NG-HALL" || rr.filter.Limit != DefaultRunList {
		t.Fatalf("staff's list: %+v, %v", rr.filter, err)
	}
	if _, err := s.List(ctx, admin, "D-SW", "arrived", 10); err != nil || rr.filter != (tracking.RunFilter{Site: "D-SW", Status: "arrived", Limit: 10}) {
		t.Fatalf("admin's list: %+v, %v", rr.filter, err)
	}
	for _, c := range []struct {
		status string
		limit  int
	}{{"lost", 10}, {"", 201}, {"", -1}} {
		if _, err := s.List(ctx, admin, "", c.status, c.limit); apperr.CodeOf(err) != "request.bad_query" {
			t.Errorf("list %+v: %v", c, err)
		}
	}

	if _, err := s.Run(ctx, other, rr.run.RunNo); apperr.CodeOf(err) != "scan.other_site" || rr.detailed {
		t.Fatalf("another site's run: %v (detail read: %v)", err, rr.detailed)
	}
	if _, err := s.Manifest(ctx, other, rr.run.RunNo); apperr.CodeOf(err) != "scan.other_site" {
		t.Fatalf("another site's manifest: %v", err)
	}
	if _, err := s.Run(ctx, clerk, shipment.NewNumber(shipment.KindParcel)); apperr.CodeOf(err) != "run.not_run" {
		t.Fatalf("a parcel's number: %v", err)
	}
	m, err := s.Manifest(ctx, clerk, rr.run.RunNo)
	if err != nil || m.Origin.Name != "长春市商务局" || len(m.Parcels) != 1 || m.Route != "D-SW → CC-HUB" {
		t.Fatalf("manifest: %+v, %v", m, err)
	}
	if bl, err := s.BagLabel(ctx, clerk, rr.run.RunNo); err != nil || bl.RunNo != rr.run.RunNo || bl.Origin.Code != "D-SW" {
		t.Fatalf("bag label: %+v, %v", bl, err)
	}
	if rr.detailed {
		t.Fatal("a manifest or a bag label read the run's items, extras and booking too")
	}
	if _, err := s.Run(ctx, clerk, rr.run.RunNo); err != nil || !rr.detailed {
		t.Fatalf("the run itself: %v (detail read: %v)", err, rr.detailed)
	}
}
