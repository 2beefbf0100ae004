package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/ledgercheck"
	"github.com/changchun-gov/courier/tracking"
)

// VerifyScope selects what Verify checks: the chains of the parcels with an
// event on the days From..To (YYYY-MM-DD, Beijing time, both included; both
// empty: every day), or of one parcel (Waybill).
type VerifyScope struct {
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Waybill string `json:"waybill_no,omitempty"`
}

// VerifyBreak names the first event whose chain does not hold.
type VerifyBreak struct {
	WaybillNo string `json:"waybill_no"`
	Seq       int32  `json:"seq"`
	Reason    string `json:"reason"` // hash, head, order (see ledgercheck.Break)
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Parcels     int          `json:"parcels"`
	Events      int          `json:"events"`
	Break       *VerifyBreak `json:"break,omitempty"`
	Digests     int          `json:"digests"`
	DigestBreak *DigestBreak `json:"digest_break,omitempty"`
}

// Broken reports whether Verify found a break.
func (r VerifyReport) Broken() bool { return r.Break != nil || r.DigestBreak != nil }

// dayRange turns the scope's days into [from, to) in UTC (zero: open).
func (s VerifyScope) dayRange() (from, to time.Time, err error) {
	if s.From == "" && s.To == "" {
		return from, to, nil
	}
	parse := func(field, v string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, v, tracking.Shanghai)
		if err != nil || len(v) != len(time.DateOnly) {
			return t, apperr.New(apperr.Invalid, "verify.day_invalid").With("day", v).OnField(field)
		}
		return t, nil
	}
	if s.From == "" || s.To == "" {
		return from, to, apperr.New(apperr.Invalid, "verify.range_incomplete")
	}
	if from, err = parse("from", s.From); err != nil {
		return
	}
	if to, err = parse("to", s.To); err != nil {
		return
	}
	if to.Before(from) {
		return from, to, apperr.New(apperr.Invalid, "verify.range_reversed").With("from", s.From).With("to", s.To)
	}
	return from.UTC(), to.AddDate(0, 0, 1).UTC(), nil
}

// Verify recomputes the hash chains of the selected parcels in Go
// (ledgercheck) and the daily digests of the selected days (of every day
// without a range; none for one parcel), and names the first break. A range with no event, or a
// parcel that does not exist, is an error; a break is not (it is in the
// report). It reads one snapshot.
func (l *Ledger) Verify(ctx context.Context, s VerifyScope) (VerifyReport, error) {
	var rep VerifyReport
	from, to, err := s.dayRange()
	if err != nil {
		return rep, err
	}
	err = pgx.BeginTxFunc(ctx, l.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// The statement timeout of the serving pool does not fit a whole-log check.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		var sel string
		var args []any
		switch {
		case s.Waybill != "":
			sel, args = `SELECT id FROM parcels WHERE waybill_no = $1`, []any{s.Waybill}
		case !from.IsZero():
			sel, args = `SELECT DISTINCT parcel_id FROM events WHERE server_time >= $1 AND server_time < $2`, []any{from, to}
		default:
			sel = `SELECT id FROM parcels`
		}
		rows, err := tx.Query(ctx, `SELECT p.waybill_no, p.head_hash, e.parcel_id, e.seq, e.action, e.status_before,
			e.status_after, e.site_code, e.actor_id, e.actor_role, e.source, e.device, e.scan_id, e.device_time,
			e.server_time, e.run_id, e.bag_id, e.leg_id, e.reason, e.detail::text, e.hash
			FROM events e JOIN parcels p ON p.id = e.parcel_id
			WHERE e.parcel_id IN (`+sel+`) ORDER BY e.parcel_id, e.seq`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var chain []ledgercheck.Event
		var waybill string
		var head []byte
		check := func() bool {
			if len(chain) == 0 {
				return true
			}
			rep.Parcels++
			rep.Events += len(chain)
			if _, b := ledgercheck.Chain(chain, head); b != nil {
				rep.Break = &VerifyBreak{WaybillNo: waybill, Seq: b.Seq, Reason: b.Reason}
				return false
			}
			chain = chain[:0]
			return true
		}
		for rows.Next() {
			var ev ledgercheck.Event
			var no string
			var h []byte
			if err := rows.Scan(&no, &h, &ev.ParcelID, &ev.Seq, &ev.Action, &ev.StatusBefore, &ev.StatusAfter,
				&ev.SiteCode, &ev.ActorID, &ev.ActorRole, &ev.Source, &ev.Device, &ev.ScanID, &ev.DeviceTime,
				&ev.ServerTime, &ev.RunID, &ev.BagID, &ev.LegID, &ev.Reason, &ev.Detail, &ev.Hash); err != nil {
				return err
			}
			if len(chain) > 0 && chain[0].ParcelID != ev.ParcelID && !check() {
				return nil
			}
			waybill, head = no, h
			chain = append(chain, ev)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !check() || s.Waybill != "" {
			return nil
		}
		rep.Digests, rep.DigestBreak, err = l.verifyDigests(ctx, tx, from, to)
		return err
	})
	if err != nil {
		return rep, translate(err, "verify")
	}
	if rep.Parcels == 0 && rep.Digests == 0 {
		switch {
		case s.Waybill != "":
			return rep, apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", s.Waybill)
		case !from.IsZero():
			return rep, apperr.New(apperr.NotFound, "verify.range_empty").With("from", s.From).With("to", s.To)
		}
	}
	return rep, nil
}

// VerifyRun is a check an admin started in the background, with its result.
type VerifyRun struct {
	ID          int64         `json:"id"`
	RequestedBy string        `json:"requested_by"`
	Scope       VerifyScope   `json:"scope"`
	Status      string        `json:"status"` // queued, running, clean, broken, failed
	Result      *VerifyReport `json:"result,omitempty"`
	Error       string        `json:"error,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	FinishedAt  *time.Time    `json:"finished_at,omitempty"`
}

// checkScope refuses a scope Verify would refuse, before queueing it.
func (l *Ledger) checkScope(ctx context.Context, q pgx.Tx, s VerifyScope) error {
	from, to, err := s.dayRange()
	if err != nil {
		return err
	}
	var ok bool
	switch {
	case s.Waybill != "":
		err = q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM parcels WHERE waybill_no = $1)`, s.Waybill).Scan(&ok)
		if err == nil && !ok {
			return apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", s.Waybill)
		}
	case !from.IsZero():
		err = q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM events WHERE server_time >= $1 AND server_time < $2)
			OR EXISTS (SELECT FROM ledger_digests WHERE day >= $3::date AND day <= $4::date)`, from, to, s.From, s.To).Scan(&ok)
		if err == nil && !ok {
			return apperr.New(apperr.NotFound, "verify.range_empty").With("from", s.From).With("to", s.To)
		}
	}
	return err
}

// QueueVerify records a check to run in the background, in tx (which also
// enqueues the job that runs it). Errors: as Verify's for the scope.
func (l *Ledger) QueueVerify(ctx context.Context, tx pgx.Tx, requestedBy string, s VerifyScope) (VerifyRun, error) {
	if err := l.checkScope(ctx, tx, s); err != nil {
		return VerifyRun{}, translate(err, "verify")
	}
	r := VerifyRun{RequestedBy: requestedBy, Scope: s, Status: "queued", CreatedAt: l.now()}
	err := tx.QueryRow(ctx, `INSERT INTO verify_runs (requested_by, scope, status, created_at) VALUES ($1, $2, 'queued', $3)
		RETURNING id`, requestedBy, s, r.CreatedAt).Scan(&r.ID)
	r.CreatedAt = tracking.Local(r.CreatedAt)
	return r, translate(err, "verify")
}

// RunQueuedVerify runs a queued check and records its result.
func (l *Ledger) RunQueuedVerify(ctx context.Context, id int64) error {
	var s VerifyScope
	err := l.Pool.QueryRow(ctx, `UPDATE verify_runs SET status = 'running' WHERE id = $1 AND status IN ('queued', 'running')
		RETURNING scope`, id).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // done already
	}
	if err != nil {
		return err
	}
	rep, verr := l.Verify(ctx, s)
	status, msg := "clean", ""
	switch {
	case verr != nil:
		status, msg = "failed", verr.Error()
		if e := apperr.As(verr); e != nil {
			msg = e.Code
		}
	case rep.Broken():
		status = "broken"
	}
	var result *VerifyReport
	if verr == nil {
		result = &rep
	}
	_, err = l.Pool.Exec(context.WithoutCancel(ctx), `UPDATE verify_runs SET status = $2, result = $3, error = $4, finished_at = $5
		WHERE id = $1`, id, status, result, truncate(msg, 500), l.now())
	return err
}

// VerifyRunByID reads a background check. Errors: verify.not_found.
func (l *Ledger) VerifyRunByID(ctx context.Context, id int64) (VerifyRun, error) {
	var r VerifyRun
	err := l.Pool.QueryRow(ctx, `SELECT id, requested_by, scope, status, result, error, created_at, finished_at
		FROM verify_runs WHERE id = $1`, id).Scan(&r.ID, &r.RequestedBy, &r.Scope, &r.Status, &r.Result, &r.Error,
		&r.CreatedAt, &r.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "verify.not_found").With("id", id)
	}
	r.CreatedAt, r.FinishedAt = tracking.Local(r.CreatedAt), tracking.LocalPtr(r.FinishedAt)
	return r, translate(err, "verify")
}
