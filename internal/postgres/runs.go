package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// RunHook runs inside the transaction that made a row (a run, a check of
// the log), for work that must be durable with it (enqueueing the job that
// follows). It is an alias, so that the interfaces internal/jobs defines
// over its transaction type are met by the adapter's methods.
type RunHook = func(ctx context.Context, tx pgx.Tx, id int64) error

// MakeRunSQL moves every parcel waiting at the leg's origin for the leg
// into the run, in one statement: run items, the state change taken from
// the action table as data (transition_rules), and the events. Parcels
// locked by a scan at this instant are skipped and wait for the next run.
var MakeRunSQL = `WITH w AS (
	SELECT p.id, p.status FROM parcels p
	-- The leg is next and the parcel in no run (migration 00015), and it
	-- waits: in a state a run takes from, not moving.
	WHERE p.wait_from = $2 AND p.wait_to = $3
	  AND p.status IN ('registered', 'awaiting_pickup', 'arrived', 'returning') AND NOT p.leg_moving
	  AND NOT p.path_broken
	ORDER BY p.id FOR UPDATE SKIP LOCKED),
t AS (
	SELECT w.id, w.status AS before, tr.to_status AS after FROM w
	JOIN transition_rules tr ON tr.action = 'book' AND tr.from_status = w.status AND tr.role = 'system'),
i AS (INSERT INTO run_items (run_id, parcel_id) SELECT $1, id FROM t),
u AS (
	UPDATE parcels p SET status = t.after, current_run = $1, run_sealed = true, version = version + 1,
		event_seq = event_seq + 1, updated_at = $4, last_action = 'book', last_site = $2, last_at = $4
	FROM t WHERE p.id = t.id
	RETURNING p.id, p.event_seq, t.before, t.after),
e AS (
	` + insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'book'", "status_before": "u.before",
	"status_after": "u.after", "site_code": "$2", "actor_role": "'system'", "source": "'schedule'", "server_time": "$4",
	"run_id": "$5", "bag_id": "$6", "leg_id": "$7"}) + `
	RETURNING 1)
SELECT count(*) FROM e`

// ErrSlotTaken reports that a slot was already made (by this or another
// instance): not an error for the scheduler.
var ErrSlotTaken = tracking.ErrSlotTaken

// MakeRun makes the run of one leg for one slot: every parcel waiting at
// the leg's origin for the leg goes into one sealed bag, with the courier
// booking, all in one transaction. The (leg, slot) key makes each slot one
// run across all instances: a slot already made answers ErrSlotTaken. A slot
// with nothing waiting is recorded and makes no bag (nil run, no error).
func (l *Ledger) MakeRun(ctx context.Context, leg shipment.Leg, slot time.Time, madeBy string, hook RunHook) (*tracking.RunView, error) {
	now := l.now()
	slot = slot.UTC().Truncate(time.Second)
	var run *tracking.RunView
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO run_slots (leg_id, slot, made_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, leg.ID, slot, madeBy, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrSlotTaken
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		bagNo := shipment.NewNumber(shipment.KindBag)
		if l.NewBagNo != nil {
			bagNo = l.NewBagNo()
		}
		r := &tracking.RunView{RunNo: shipment.NewNumber(shipment.KindRun), BagNo: bagNo,
			SealNo: sealNumber(), LegID: leg.ID, FromSite: leg.From, ToSite: leg.To, Slot: slot, Status: "sealed",
			CreatedAt: now}
		if err := sp.QueryRow(ctx, `INSERT INTO runs (run_no, bag_no, seal_no, leg_id, from_site, to_site, slot, status,
			parcel_count, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sealed', 0, $8) RETURNING id`,
			r.RunNo, r.BagNo, r.SealNo, leg.ID, leg.From, leg.To, slot, now).Scan(&r.ID); err != nil {
			return err
		}
		if err := sp.QueryRow(ctx, MakeRunSQL, r.ID, leg.From, leg.To, now, r.RunNo, r.BagNo,
			strconv.FormatInt(leg.ID, 10)).Scan(&r.ParcelCount); err != nil {
			return err
		}
		if r.ParcelCount == 0 {
			// An empty slot makes no empty bag: undo the run, keep the slot.
			return sp.Rollback(ctx)
		}
		if _, err := sp.Exec(ctx, `UPDATE runs SET parcel_count = $2 WHERE id = $1`, r.ID, r.ParcelCount); err != nil {
			return err
		}
		if _, err := sp.Exec(ctx, `UPDATE run_slots SET run_id = $3, parcels = $4 WHERE leg_id = $1 AND slot = $2`,
			leg.ID, slot, r.ID, r.ParcelCount); err != nil {
			return err
		}
		if _, err := sp.Exec(ctx, `WITH b AS (INSERT INTO bookings (run_id, carrier, status, created_at, updated_at)
			VALUES ($1, $3, 'pending', $2, $2) RETURNING id)
			INSERT INTO booking_events (booking_id, at, status, carrier) SELECT id, $2, 'pending', $3 FROM b`,
			r.ID, now, l.carrier()); err != nil {
			return err
		}
		if hook != nil {
			if err := hook(ctx, sp, r.ID); err != nil {
				return err
			}
		}
		if err := sp.Commit(ctx); err != nil {
			return err
		}
		r.CreatedAt, r.Slot = tracking.Local(r.CreatedAt), tracking.Local(r.Slot)
		run = r
		return nil
	})
	if errors.Is(err, ErrSlotTaken) {
		return nil, ErrSlotTaken
	}
	if err != nil {
		return nil, translate(err, "run")
	}
	return run, nil
}

func sealNumber() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e10))
	return fmt.Sprintf("FQ%010d", n.Int64())
}

const runCols = `r.id, r.run_no, r.bag_no, r.seal_no, r.leg_id, r.from_site, r.to_site, r.slot, r.status,
	r.parcel_count, r.created_at, r.picked_up_at, r.arrived_at, r.closed_at, r.cancelled_at, r.cancel_reason, r.handed_over_at`

func scanRun(row pgx.Row) (*tracking.RunView, error) {
	var r tracking.RunView
	err := row.Scan(&r.ID, &r.RunNo, &r.BagNo, &r.SealNo, &r.LegID, &r.FromSite, &r.ToSite, &r.Slot, &r.Status,
		&r.ParcelCount, &r.CreatedAt, &r.PickedUpAt, &r.ArrivedAt, &r.ClosedAt, &r.CancelledAt, &r.CancelNote, &r.HandedOverAt)
	if err != nil {
		return nil, err
	}
	localRun(&r)
	return &r, nil
}

// localRun shows a run's times in Asia/Shanghai.
func localRun(r *tracking.RunView) {
	r.Slot, r.CreatedAt = tracking.Local(r.Slot), tracking.Local(r.CreatedAt)
	r.PickedUpAt, r.ArrivedAt, r.ClosedAt = tracking.LocalPtr(r.PickedUpAt), tracking.LocalPtr(r.ArrivedAt), tracking.LocalPtr(r.ClosedAt)
	r.CancelledAt, r.HandedOverAt = tracking.LocalPtr(r.CancelledAt), tracking.LocalPtr(r.HandedOverAt)
}

// runByCode finds a run by its run or bag number. Errors: run.not_found.
func (l *Ledger) runByCode(ctx context.Context, q querier, code shipment.Code, lock bool) (*tracking.RunView, error) {
	col := "run_no"
	if code.Kind == shipment.KindBag {
		col = "bag_no"
	}
	sql := `SELECT ` + runCols + ` FROM runs r WHERE r.` + col + ` = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	r, err := scanRun(q.QueryRow(ctx, sql, code.Number))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "run.not_found").With("code", code.Number)
	}
	return r, translate(err, "run")
}

// ScanBag applies a scan of a bag or run number in one transaction: the
// run locked, step decides, and a pickup moves every parcel in the bag
// (pickupBag); an arrival opens the bag's check list.
func (l *Ledger) ScanBag(ctx context.Context, w service.BagWrite, step func(service.Run) (service.BagStep, error)) (tracking.ScanResult, error) {
	res := w.Answer
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		run, err := l.runByCode(ctx, tx, w.Code, true)
		if err != nil {
			return err
		}
		st, err := step(service.Run{FromSite: run.FromSite, ToSite: run.ToSite, Status: run.Status})
		if err != nil {
			return err
		}
		switch st {
		case service.BagRepeat:
			res.Repeat = true
			res.Items, err = l.runItems(ctx, tx, run.ID, true)
			return err
		case service.BagPickup:
			res.Items, err = l.pickupBag(ctx, tx, w.Actor, w.Req, run, w.Now)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE runs SET status = 'picked_up', picked_up_at = $2 WHERE id = $1`, run.ID, w.Now); err != nil {
				return err
			}
		case service.BagArrive, service.BagList:
			if st == service.BagArrive {
				if _, err := tx.Exec(ctx, `UPDATE runs SET status = 'arrived', arrived_at = $2 WHERE id = $1`, run.ID, w.Now); err != nil {
					return err
				}
			}
			// The check list: every parcel of the bag, each received when scanned.
			if res.Items, err = l.runItems(ctx, tx, run.ID, false); err != nil {
				return err
			}
		}
		body, _ := json.Marshal(res)
		_, err = tx.Exec(ctx, `INSERT INTO scan_results (scan_id, request_hash, parcel_id, response, created_at)
			VALUES ($1, $2, 0, $3, $4)`, w.Req.ScanID, w.Fingerprint, body, w.Now)
		return err
	})
	if isUnique(err, "scan_results_pkey") {
		return tracking.ScanResult{}, fmt.Errorf("%w: %w", service.ErrScanIDTaken, translate(err, "run"))
	}
	if err != nil {
		return tracking.ScanResult{}, translate(err, "run")
	}
	return res, nil
}

// pickupEvents appends the pickup of each parcel of u, picked up in its bag.
var pickupEvents = insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'pickup'",
	"status_before": "u.before", "status_after": "u.after", "site_code": "$4", "actor_id": "$5", "actor_role": "$6",
	"source": "$7", "device": "$8", "scan_id": "$9", "device_time": "$10", "server_time": "$3", "run_id": "$11",
	"bag_id": "$12", "leg_id": "$13"})

func (l *Ledger) pickupBag(ctx context.Context, tx pgx.Tx, a shipment.Actor, req tracking.ScanRequest, run *tracking.RunView,
	now time.Time) ([]tracking.ItemResult, error) {
	var actor *int64
	if a.ID != 0 {
		actor = &a.ID
	}
	role := a.Role
	if role == shipment.RoleAdmin {
		role = shipment.RoleCourier // the table lists admins everywhere; the bag moves as a courier moves it
	}
	rows, err := tx.Query(ctx, `WITH w AS (
		SELECT p.id, p.status, p.waybill_no, p.path, p.path_idx FROM run_items ri JOIN parcels p ON p.id = ri.parcel_id
		WHERE ri.run_id = $1 AND p.current_run = $1 ORDER BY p.id FOR UPDATE OF p),
	t AS (
		SELECT w.*, tr.to_status AS after FROM w
		JOIN transition_rules tr ON tr.action = 'pickup' AND tr.from_status = w.status AND tr.role = $2),
	u AS (
		UPDATE parcels p SET status = t.after, leg_moving = (t.status = 'returning'), version = version + 1,
			event_seq = event_seq + 1, updated_at = $3, last_action = 'pickup', last_site = $4, last_at = $3,
			last_progress_at = $3
		FROM t WHERE p.id = t.id
		RETURNING p.id, p.event_seq, p.waybill_no, t.status AS before, t.after, p.path, p.path_idx),
	e AS (`+pickupEvents+` RETURNING 1)
	SELECT u.waybill_no, u.before, u.after, u.event_seq, u.path, u.path_idx FROM u ORDER BY u.waybill_no`,
		run.ID, role, now, run.FromSite, actor, a.Role, req.Source, req.Device, req.ScanID, req.ScannedAt,
		run.RunNo, run.BagNo, strconv.FormatInt(run.LegID, 10))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.ItemResult, error) {
		var it tracking.ItemResult
		var p shipment.Parcel
		err := row.Scan(&it.WaybillNo, &it.Previous, &it.Status, &it.Seq, &p.Path, &p.PathIdx)
		it.Site, it.NextSite = run.FromSite, p.NextSite()
		return it, err
	})
}

func (l *Ledger) runItems(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, runID int64, repeat bool) ([]tracking.ItemResult, error) {
	rows, err := q.Query(ctx, `SELECT p.waybill_no, p.status FROM run_items ri JOIN parcels p ON p.id = ri.parcel_id
		WHERE ri.run_id = $1 ORDER BY p.waybill_no`, runID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.ItemResult, error) {
		it := tracking.ItemResult{Repeat: repeat}
		err := row.Scan(&it.WaybillNo, &it.Status)
		it.Previous = it.Status
		return it, err
	})
}

// checkOff ticks a received parcel off its bag's check list, or notes it
// as an extra on the check lists open at the site.
func (l *Ledger) checkOff(ctx context.Context, tx pgx.Tx, p *shipment.Parcel, site string, now time.Time) error {
	if p.CurrentRun != 0 {
		tag, err := tx.Exec(ctx, `UPDATE run_items SET seen_at = $3, outcome = 'received'
			WHERE run_id = $1 AND parcel_id = $2 AND seen_at IS NULL`, p.CurrentRun, p.ID, now)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO run_extras (run_id, parcel_id, seen_at)
		SELECT r.id, $2, $3 FROM runs r WHERE r.to_site = $1 AND r.status = 'arrived' AND r.id <> $4
		ON CONFLICT DO NOTHING`, site, p.ID, now, p.CurrentRun)
	return err
}

// missingEvents reports each parcel of u missing from its bag.
var missingEvents = insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'report'",
	"status_before": "u.before", "status_after": "'exception'", "site_code": "$3", "actor_id": "$4", "actor_role": "$5",
	"source": "'web'", "server_time": "$2", "run_id": "$6", "bag_id": "$7", "reason": "'missing_from_bag'"})

// The Ledger is the store of service.Runs.
var _ service.RunStore[tracking.CloseResult] = (*Ledger)(nil)

// CloseRun closes a bag's check list in one transaction, once check allows
// it on the locked run: every parcel not seen is reported as an exception
// (missing from its bag), every extra parcel scanned while the list was
// open is listed. Errors: run.not_found, those of check.
func (l *Ledger) CloseRun(ctx context.Context, code shipment.Code, a shipment.Actor, now time.Time,
	check func(service.Run) error) (tracking.CloseResult, error) {
	var out tracking.CloseResult
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		run, err := l.runByCode(ctx, tx, code, true)
		if err != nil {
			return err
		}
		if err := check(service.Run{FromSite: run.FromSite, ToSite: run.ToSite, Status: run.Status}); err != nil {
			return err
		}
		var actor *int64
		if a.ID != 0 {
			actor = &a.ID
		}
		// Lock the run's parcels first, in id order, as a receive does
		// (parcel, then its run item): no deadlock with a late receive.
		if _, err := tx.Exec(ctx, `SELECT p.id FROM run_items ri JOIN parcels p ON p.id = ri.parcel_id
			WHERE ri.run_id = $1 ORDER BY p.id FOR UPDATE OF p`, run.ID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `WITH m AS (
			UPDATE run_items ri SET outcome = 'missing' WHERE ri.run_id = $1 AND ri.seen_at IS NULL RETURNING ri.parcel_id),
		w AS (
			SELECT p.id, p.status FROM parcels p JOIN m ON m.parcel_id = p.id
			WHERE p.current_run = $1 AND p.journey_ended_at IS NULL FOR UPDATE OF p),
		t AS (
			SELECT w.id, w.status AS before FROM w
			JOIN transition_rules tr ON tr.action = 'report' AND tr.from_status = w.status AND tr.to_status = 'exception'
			 AND tr.role = 'staff'),
		u AS (
			UPDATE parcels p SET status = 'exception', prev_status = t.before, current_run = NULL, run_sealed = false,
				version = version + 1, event_seq = event_seq + 1, updated_at = $2, last_action = 'report',
				last_site = $3, last_at = $2
			FROM t WHERE p.id = t.id RETURNING p.id, p.event_seq, p.waybill_no, t.before),
		e AS (`+missingEvents+` RETURNING 1)
		SELECT p.waybill_no FROM m JOIN parcels p ON p.id = m.parcel_id ORDER BY 1`,
			run.ID, now, run.ToSite, actor, a.Role, run.RunNo, run.BagNo)
		if err != nil {
			return err
		}
		if out.Missing, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE runs SET status = 'closed', closed_at = $2 WHERE id = $1`, run.ID, now); err != nil {
			return err
		}
		if out.Received, err = l.strings(ctx, tx, `SELECT p.waybill_no FROM run_items ri JOIN parcels p ON p.id = ri.parcel_id
			WHERE ri.run_id = $1 AND ri.outcome = 'received' ORDER BY 1`, run.ID); err != nil {
			return err
		}
		if out.Extras, err = l.strings(ctx, tx, `SELECT p.waybill_no FROM run_extras x JOIN parcels p ON p.id = x.parcel_id
			WHERE x.run_id = $1 ORDER BY 1`, run.ID); err != nil {
			return err
		}
		run.Status, run.ClosedAt = "closed", tracking.LocalPtr(&now)
		out.Run = run
		return nil
	})
	if err != nil {
		return tracking.CloseResult{}, translate(err, "run")
	}
	return out, nil
}

func (l *Ledger) strings(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if out == nil {
		out = []string{}
	}
	return out, err
}

// ListRuns lists runs, newest first: from or to f.Site when set, in
// f.Status when set, at most f.Limit (service.Runs.List decides them).
func (l *Ledger) ListRuns(ctx context.Context, f tracking.RunFilter) ([]tracking.RunView, error) {
	rows, err := l.Pool.Query(ctx, `SELECT `+runCols+`, coalesce(bk.status, '') FROM runs r
		LEFT JOIN bookings bk ON bk.run_id = r.id
		WHERE ($1 = '' OR r.from_site = $1 OR r.to_site = $1) AND ($2 = '' OR r.status = $2)
		ORDER BY r.id DESC LIMIT $3`, f.Site, f.Status, f.Limit)
	if err != nil {
		return nil, translate(err, "run")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.RunView, error) {
		var r tracking.RunView
		err := row.Scan(&r.ID, &r.RunNo, &r.BagNo, &r.SealNo, &r.LegID, &r.FromSite, &r.ToSite, &r.Slot, &r.Status,
			&r.ParcelCount, &r.CreatedAt, &r.PickedUpAt, &r.ArrivedAt, &r.ClosedAt, &r.CancelledAt, &r.CancelNote, &r.HandedOverAt,
			&r.BookingStatus)
		localRun(&r)
		return r, err
	})
	if out == nil {
		out = []tracking.RunView{}
	}
	return out, translate(err, "run")
}

// RunByCode reads the run a run or bag number names. Errors:
// run.not_found.
func (l *Ledger) RunByCode(ctx context.Context, code shipment.Code) (*tracking.RunView, error) {
	return l.runByCode(ctx, l.Pool, code, false)
}

// RunDetail adds a run's items, extras and booking to r.
func (l *Ledger) RunDetail(ctx context.Context, r *tracking.RunView) error {
	rows, err := l.Pool.Query(ctx, `SELECT p.waybill_no, p.status, ri.seen_at, ri.outcome FROM run_items ri
		JOIN parcels p ON p.id = ri.parcel_id WHERE ri.run_id = $1 ORDER BY p.waybill_no`, r.ID)
	if err != nil {
		return translate(err, "run")
	}
	r.Items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.RunItem, error) {
		var it tracking.RunItem
		err := row.Scan(&it.WaybillNo, &it.Status, &it.SeenAt, &it.Outcome)
		it.SeenAt = tracking.LocalPtr(it.SeenAt)
		return it, err
	})
	if err != nil {
		return translate(err, "run")
	}
	extras, err := l.Pool.Query(ctx, `SELECT p.waybill_no FROM run_extras x JOIN parcels p ON p.id = x.parcel_id
		WHERE x.run_id = $1 ORDER BY 1`, r.ID)
	if err != nil {
		return translate(err, "run")
	}
	if r.Extras, err = pgx.CollectRows(extras, pgx.RowTo[string]); err != nil {
		return translate(err, "run")
	}
	r.Booking, err = l.bookingView(ctx, r.ID)
	return err
}

// ManifestParcels lists the parcels of a run for its manifest, by waybill
// number, with their certificate types' names.
func (l *Ledger) ManifestParcels(ctx context.Context, runID int64) ([]labels.ManifestParcel, error) {
	rows, err := l.Pool.Query(ctx, `SELECT p.waybill_no, p.kind, coalesce(p.cert_type, ''), coalesce(pp.name, '')
		FROM run_items ri JOIN parcels p ON p.id = ri.parcel_id LEFT JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE ri.run_id = $1 ORDER BY p.waybill_no`, runID)
	if err != nil {
		return nil, translate(err, "run")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (labels.ManifestParcel, error) {
		var mp labels.ManifestParcel
		var ct string
		err := row.Scan(&mp.WaybillNo, &mp.Kind, &ct, &mp.RecipientName)
		if c, ok := l.Ref.CertType(ct); ok {
			mp.CertType = c.NameZH
		}
		return mp, err
	})
	return out, translate(err, "run")
}

// Calendar returns the days that differ from Monday–Friday.
func (l *Ledger) Calendar(ctx context.Context) (map[string]string, error) {
	rows, err := l.Pool.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), kind FROM calendar_days ORDER BY day`)
	if err != nil {
		return nil, translate(err, "calendar")
	}
	out := map[string]string{}
	for rows.Next() {
		var d, k string
		if err := rows.Scan(&d, &k); err != nil {
			rows.Close()
			return nil, translate(err, "calendar")
		}
		out[d] = k
	}
	return out, translate(rows.Err(), "calendar")
}

// calendarDay is a calendar exception as the audit log keeps it.
type calendarDay struct {
	Day  string `json:"day"`
	Kind string `json:"kind"`
	Note string `json:"note"`
}

// SetCalendarDay records a holiday or a make-up working day; kind "" removes
// the day's exception. Audited as by's.
func (l *Ledger) SetCalendarDay(ctx context.Context, by shipment.Actor, day, kind, note string) error {
	now := l.now()
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		var before *calendarDay
		var old calendarDay
		err := tx.QueryRow(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), kind, note FROM calendar_days WHERE day = $1::date FOR UPDATE`, day).
			Scan(&old.Day, &old.Kind, &old.Note)
		switch {
		case err == nil:
			before = &old
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		var after *calendarDay
		if kind == "" {
			if before == nil {
				return nil
			}
			_, err = tx.Exec(ctx, `DELETE FROM calendar_days WHERE day = $1::date`, day)
		} else {
			after = &calendarDay{Day: day, Kind: kind, Note: note}
			err = tx.QueryRow(ctx, `INSERT INTO calendar_days (day, kind, note, updated_at) VALUES ($1::date, $2, $3, $4)
				ON CONFLICT (day) DO UPDATE SET kind = $2, note = $3, updated_at = $4
				RETURNING to_char(day, 'YYYY-MM-DD')`, day, kind, note, now).Scan(&after.Day)
		}
		if err != nil {
			return err
		}
		c := Change{By: by, Entity: EntityCalendar, Key: day}
		if before != nil {
			c.Before = before
		}
		if after != nil {
			c.After = after
			c.Key = after.Day
		}
		return RecordChange(ctx, tx, now, c)
	})
	return translate(err, "calendar")
}
