package postgres

import (
	"context"
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
	From, To string
	Waybill  string
}

// VerifyBreak names the first event whose chain does not hold.
type VerifyBreak struct {
	WaybillNo string `json:"waybill_no"`
	Seq       int32  `json:"seq"`
	Reason    string `json:"reason"` // hash, head, order (see ledgercheck.Break)
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Parcels int          `json:"parcels"`
	Events  int          `json:"events"`
	Break   *VerifyBreak `json:"break,omitempty"`
}

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
// (ledgercheck) and names the first break. A range with no event, or a
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
		check()
		return nil
	})
	if err != nil {
		return rep, translate(err, "verify")
	}
	if rep.Parcels == 0 {
		switch {
		case s.Waybill != "":
			return rep, apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", s.Waybill)
		case !from.IsZero():
			return rep, apperr.New(apperr.NotFound, "verify.range_empty").With("from", s.From).With("to", s.To)
		}
	}
	return rep, nil
}
