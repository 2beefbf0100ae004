package service

import (
	"context"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
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
