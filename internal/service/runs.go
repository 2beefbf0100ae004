package service

import (
	"context"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
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

// Runs closes the check lists of consolidation runs.
type Runs[R any] struct {
	Store RunStore[R]
	Now   func() time.Time
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
