package service

import (
	"context"
	"time"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// RetentionStore finds the parcels whose hold has run out.
type RetentionStore interface {
	// ExpiredReady lists the ready parcels held past their hold-until date
	// at now, the longest overdue first, at most limit.
	ExpiredReady(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// ReturnBatch is how many expired parcels one run of the return job sends
// back; the next run takes the rest.
const ReturnBatch = 5000

// ReturnExpired is the retention job's use case: every parcel held past its
// hold-until date is returned by the schedule (so the next run back takes
// it), as a scan the schedule makes is decided and written (Scan), and its
// department is told in the same transaction. The scan id is the parcel's
// and the day's, so a run repeated the same day returns nothing twice.
func (s *Parcels) ReturnExpired(ctx context.Context) (tracking.JobReport, error) {
	now := s.now()
	rep := tracking.JobReport{Detail: map[string]any{}}
	nos, err := s.Store.ExpiredReady(ctx, now, ReturnBatch)
	if err != nil {
		return rep, err
	}
	returned, failed := []string{}, []string{}
	a := shipment.SystemActor
	for _, no := range nos {
		req := tracking.ScanRequest{Code: no, Action: shipment.ActReturn, Reason: "uncollected",
			ScanID: "job-return-" + no + "-" + tracking.Local(now).Format("20060102"), Source: shipment.SourceSchedule}
		res, err := s.apply(ctx, a, req, no, s.fingerprint(a, no, req), func(w *ScanWrite) { w.TellOrigin = "site.returning" })
		switch {
		case err != nil:
			failed = append(failed, no)
		case !res.Repeat:
			returned = append(returned, no)
		}
	}
	rep.Affected = len(returned)
	rep.Detail["waybill_nos"], rep.Detail["failed"] = returned, failed
	return rep, nil
}
