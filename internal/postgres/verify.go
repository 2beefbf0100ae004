package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/ledgercheck"
	"github.com/changchun-gov/courier/tracking"
)

// Verify recomputes the hash chains of the selected parcels in Go
// (ledgercheck) and the daily digests of the selected days (of every day
// without a range; none for one parcel), and names the first break. A range with no event, or a
// parcel that does not exist, is an error; a break is not (it is in the
// report). It reads one snapshot.
func (l *Ledger) Verify(ctx context.Context, s tracking.VerifyScope) (tracking.VerifyReport, error) {
	var rep tracking.VerifyReport
	from, to, err := s.DayRange()
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
		rows, err := tx.Query(ctx, `SELECT p.waybill_no, p.head_hash, p.event_seq, e.parcel_id, e.seq, e.action, e.status_before,
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
		var lastSeq int32
		check := func() bool {
			if len(chain) == 0 {
				return true
			}
			rep.Parcels++
			rep.Events += len(chain)
			if head == nil {
				// A parcel with events always has a head: a missing one
				// is checked (and fails), not skipped.
				head = []byte{}
			}
			if _, b := ledgercheck.Chain(chain, head); b != nil {
				rep.Break = &tracking.VerifyBreak{WaybillNo: waybill, Seq: b.Seq, Reason: b.Reason}
				return false
			}
			// Newer events than the ones found were removed.
			if last := chain[len(chain)-1].Seq; last != lastSeq {
				rep.Break = &tracking.VerifyBreak{WaybillNo: waybill, Seq: lastSeq, Reason: "missing"}
				return false
			}
			chain = chain[:0]
			return true
		}
		for rows.Next() {
			var ev ledgercheck.Event
			var no string
			var h []byte
			var seq int32
			if err := rows.Scan(&no, &h, &seq, &ev.ParcelID, &ev.Seq, &ev.Action, &ev.StatusBefore, &ev.StatusAfter,
				&ev.SiteCode, &ev.ActorID, &ev.ActorRole, &ev.Source, &ev.Device, &ev.ScanID, &ev.DeviceTime,
				&ev.ServerTime, &ev.RunID, &ev.BagID, &ev.LegID, &ev.Reason, &ev.Detail, &ev.Hash); err != nil {
				return err
			}
			if len(chain) > 0 && chain[0].ParcelID != ev.ParcelID && !check() {
				return nil
			}
			waybill, head, lastSeq = no, h, seq
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

// checkScope refuses a scope Verify would refuse, before queueing it.
func (l *Ledger) checkScope(ctx context.Context, q pgx.Tx, s tracking.VerifyScope) error {
	from, to, err := s.DayRange()
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

// QueueVerify records a check to run in the background and, in the same
// transaction, calls then with its id (to enqueue the job that runs it).
// Errors: as Verify's for the scope.
func (l *Ledger) QueueVerify(ctx context.Context, requestedBy string, s tracking.VerifyScope, then RunHook) (tracking.VerifyRun, error) {
	var r tracking.VerifyRun
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		if err := l.checkScope(ctx, tx, s); err != nil {
			return translate(err, "verify")
		}
		r = tracking.VerifyRun{RequestedBy: requestedBy, Scope: s, Status: "queued", CreatedAt: l.now()}
		err := tx.QueryRow(ctx, `INSERT INTO verify_runs (requested_by, scope, status, created_at) VALUES ($1, $2, 'queued', $3)
		RETURNING id`, requestedBy, s, r.CreatedAt).Scan(&r.ID)
		r.CreatedAt = tracking.Local(r.CreatedAt)
		if err != nil {
			return translate(err, "verify")
		}
		return then(ctx, tx, r.ID)
	})
	if err != nil {
		return tracking.VerifyRun{}, err
	}
	return r, nil
}

// RunQueuedVerify runs a queued check and records its result.
func (l *Ledger) RunQueuedVerify(ctx context.Context, id int64) error {
	var s tracking.VerifyScope
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
	var result *tracking.VerifyReport
	if verr == nil {
		result = &rep
	}
	_, err = l.Pool.Exec(context.WithoutCancel(ctx), `UPDATE verify_runs SET status = $2, result = $3, error = $4, finished_at = $5
		WHERE id = $1`, id, status, result, truncate(msg, 500), l.now())
	return err
}

// VerifyRunByID reads a background check. Errors: verify.not_found.
func (l *Ledger) VerifyRunByID(ctx context.Context, id int64) (tracking.VerifyRun, error) {
	var r tracking.VerifyRun
	err := l.Pool.QueryRow(ctx, `SELECT id, requested_by, scope, status, result, error, created_at, finished_at
		FROM verify_runs WHERE id = $1`, id).Scan(&r.ID, &r.RequestedBy, &r.Scope, &r.Status, &r.Result, &r.Error,
		&r.CreatedAt, &r.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "verify.not_found").With("id", id)
	}
	r.CreatedAt, r.FinishedAt = tracking.Local(r.CreatedAt), tracking.LocalPtr(r.FinishedAt)
	return r, translate(err, "verify")
}
