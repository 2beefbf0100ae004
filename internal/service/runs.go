package service

import (
	"context"
	"errors"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// RunStore closes the check lists of consolidation runs. R is a closed
// check list as the store answers it (the run and its reconciliation).
type RunStore[R any] interface {
	// CloseRun locks the run a run or bag number names, asks check whether
	// it may be closed, and closes it in the same transaction: every parcel
	// of the bag not seen is reported missing from its bag, the extras are
	// listed. Errors: run.not_found, those of check.
	CloseRun(ctx context.Context, code shipment.Code, a shipment.Actor, now time.Time, check func(Run) error) (R, error)
}

// RunMakeStore makes consolidation runs.
type RunMakeStore interface {
	// Leg reads a leg of the route network. Errors: route.not_found.
	Leg(ctx context.Context, id int64) (shipment.Leg, error)
	// MakeRun makes the run of a leg for a slot, set-based, with the
	// courier's booking queued in the same transaction. A slot already made
	// answers tracking.ErrSlotTaken; nothing waiting, a nil run.
	MakeRun(ctx context.Context, leg shipment.Leg, slot time.Time, madeBy string) (*tracking.RunView, error)
}

// Runs makes consolidation runs by hand and closes their check lists.
type Runs[R any] struct {
	Store RunStore[R]
	Maker RunMakeStore
	Now   func() time.Time
}

// MakeRunNow makes the run of an active leg now, by hand: what waits for the
// leg goes, with its booking, as the schedule's runs do; the run's slot is
// now, so the schedule's own slot later still makes its run.
//
// Errors: route.not_found; route.inactive, run.slot_taken (conflict);
// run.empty (invalid: nothing waits for the leg).
func (s *Runs[R]) MakeRunNow(ctx context.Context, a shipment.Actor, legID int64) (*tracking.RunView, error) {
	leg, err := s.Maker.Leg(ctx, legID)
	if err != nil {
		return nil, err
	}
	if !leg.Active {
		return nil, apperr.New(apperr.Conflict, "route.inactive").With("id", legID)
	}
	run, err := s.Maker.MakeRun(ctx, leg, clock(s.Now).Truncate(time.Microsecond), "admin:"+a.Username)
	if errors.Is(err, tracking.ErrSlotTaken) {
		return nil, apperr.New(apperr.Conflict, "run.slot_taken")
	}
	if err != nil {
		return nil, err
	}
	if run == nil {
		return nil, apperr.New(apperr.Invalid, "run.empty").With("from", leg.From).With("to", leg.To)
	}
	return run, nil
}

// CloseRun closes a bag's check list at the receiving site: every parcel
// not seen is reported as an exception (missing from its bag), every extra
// parcel scanned while the list was open is listed.
//
// Errors: code.* and run.not_run (invalid); run.not_found; scan.other_site
// (forbidden); run.closed, run.not_arrived (conflict).
func (s *Runs[R]) CloseRun(ctx context.Context, a shipment.Actor, no string) (R, error) {
	var none R
	code, err := shipment.ParseCode(no)
	if err != nil {
		return none, err
	}
	if code.Kind == shipment.KindParcel {
		return none, apperr.New(apperr.Invalid, "run.not_run")
	}
	return s.Store.CloseRun(ctx, code, a, clock(s.Now).Truncate(time.Microsecond), func(r Run) error { return mayClose(a, r) })
}

// mayClose: the check list is closed at the receiving site, once, after
// the bag arrived.
func mayClose(a shipment.Actor, r Run) error {
	if a.Role.HasSite() && a.Site != r.ToSite {
		return apperr.New(apperr.Forbidden, "scan.other_site").With("site", a.Site)
	}
	if r.Status == "closed" {
		return apperr.New(apperr.Conflict, "run.closed")
	}
	if r.Status != "arrived" {
		return apperr.New(apperr.Conflict, "run.not_arrived").With("status", r.Status)
	}
	return nil
}
