package service

import (
	"context"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
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
