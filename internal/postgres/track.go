package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// TailLimit is how many wrong phone tails a parcel takes over its whole
// life (service.TailLimit).
const TailLimit = service.TailLimit

// tailLockClass is the first key of the advisory locks under which the tail
// lookups of one waybill take turns (the second is the waybill's hash).
const tailLockClass = 7001

// LinkGrace is how long a private link outlives the end of the journey
// (service.LinkGrace).
const LinkGrace = service.LinkGrace

// TrackState reads a parcel's current state by its number: one indexed
// read (plain types scan without reflection: this is the busiest public
// path). Errors: parcel.not_found.
func (l *Ledger) TrackState(ctx context.Context, waybill string) (service.TrackState, error) {
	st := service.TrackState{WaybillNo: waybill}
	var kind, destKind, status string
	err := l.Pool.QueryRow(ctx, `SELECT kind, dest_kind, coalesce(dest_site, ''), status, updated_at, ready_since,
		hold_until, coalesce(cert_type, '') FROM parcels WHERE waybill_no = $1`, waybill).
		Scan(&kind, &destKind, &st.DestSite, &status, &st.UpdatedAt, &st.ReadySince, &st.HoldUntil, &st.CertType)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", waybill)
	}
	st.Kind, st.DestKind, st.Status = shipment.Kind(kind), shipment.DestKind(destKind), shipment.Status(status)
	return st, translate(err, "parcel")
}

// TrackTail checks a phone tail in one round trip. The comparison is made
// in the statement that counts a wrong tail, so a wrong tail costs no extra
// round trip, and name and phone leave the database only when the detail
// opens. Tail lookups of one waybill take turns under a transaction-scoped
// advisory lock, sent in the same round trip (a batch runs as one implicit
// transaction, each statement with a fresh snapshot): a right tail sees
// every wrong one sent before it, even those still in flight on other
// connections or instances.
func (l *Ledger) TrackTail(ctx context.Context, waybill, tail string, now time.Time, limit int) (service.TrackPerson, bool, error) {
	var pr service.TrackPerson
	var name, phone *string
	batch := &pgx.Batch{}
	batch.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, tailLockClass, waybill)
	batch.Queue(`WITH t AS (
			SELECT p.id, coalesce(p.issuing_dept, '') AS issuing, pp.name, pp.phone,
				pp.purged_at IS NULL AND length(pp.phone) >= 4 AND right(pp.phone, 4) = $2 AS right_tail,
				coalesce((SELECT f.failures FROM tail_failures f WHERE f.parcel_id = p.id), 0) AS failures
			FROM parcels p JOIN parcel_people pp ON pp.parcel_id = p.id WHERE p.waybill_no = $1),
		w AS (
			INSERT INTO tail_failures AS f (parcel_id, failures, last_at) SELECT id, 1, $3::timestamptz FROM t WHERE NOT right_tail
			ON CONFLICT (parcel_id) DO UPDATE SET failures = f.failures + 1, last_at = excluded.last_at)
		SELECT id, issuing, CASE WHEN right_tail AND failures < $4 THEN name END,
			CASE WHEN right_tail AND failures < $4 THEN phone END FROM t`, waybill, tail, now, limit)
	br := l.Pool.SendBatch(ctx, batch)
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&pr.ParcelID, &pr.IssuingDept, &name, &phone)
	}
	if cerr := br.Close(); cerr != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		err = cerr // not committed: neither counted nor to be shown
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return pr, false, nil
	}
	if err != nil {
		return pr, false, translate(err, "parcel")
	}
	if name == nil || phone == nil {
		return pr, false, nil
	}
	pr.Name, pr.Phone = *name, *phone
	return pr, true, nil
}

// TrackLink reads the parcel of a private link by the token's keyed hash.
// Errors: link.not_found.
func (l *Ledger) TrackLink(ctx context.Context, token string, endedAfter time.Time) (service.TrackState, service.TrackPerson, error) {
	var st service.TrackState
	var pr service.TrackPerson
	var kind, destKind, status string
	err := l.Pool.QueryRow(ctx, `SELECT p.id, p.waybill_no, p.kind, p.dest_kind, coalesce(p.dest_site, ''), p.status,
			p.updated_at, p.ready_since, p.hold_until, coalesce(p.cert_type, ''), coalesce(p.issuing_dept, ''), pp.name, pp.phone
		FROM parcel_links pl JOIN parcels p ON p.id = pl.parcel_id JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE pl.token_hash = $1 AND pp.purged_at IS NULL AND (p.journey_ended_at IS NULL OR p.journey_ended_at > $2)`,
		l.Keys.Hash(linkDomain, token), endedAfter).
		Scan(&pr.ParcelID, &st.WaybillNo, &kind, &destKind, &st.DestSite, &status, &st.UpdatedAt, &st.ReadySince,
			&st.HoldUntil, &st.CertType, &pr.IssuingDept, &pr.Name, &pr.Phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, pr, apperr.New(apperr.NotFound, "link.not_found")
	}
	st.Kind, st.DestKind, st.Status = shipment.Kind(kind), shipment.DestKind(destKind), shipment.Status(status)
	return st, pr, translate(err, "parcel")
}

// EventsOf reads a parcel's events in order.
func (l *Ledger) EventsOf(ctx context.Context, parcelID int64, waybill string) ([]tracking.Event, error) {
	return l.events(ctx, parcelID, waybill)
}

// CourierNodesOf reads the courier's route nodes of the bags a parcel
// travelled in, in time order.
func (l *Ledger) CourierNodesOf(ctx context.Context, parcelID int64) ([]tracking.RouteNode, error) {
	rows, err := l.Pool.Query(ctx, `SELECT n.carrier, n.order_id, n.waybill_no, n.at, n.op_code, n.stage
		FROM bookings bk JOIN route_nodes n ON n.carrier = bk.carrier AND n.waybill_no = bk.carrier_ref
		WHERE bk.carrier_ref <> '' AND (bk.parcel_id = $1 OR bk.run_id IN (SELECT run_id FROM run_items WHERE parcel_id = $1))
		ORDER BY n.at, n.id`, parcelID)
	if err != nil {
		return nil, translate(err, "route_node")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.RouteNode, error) {
		var n tracking.RouteNode
		var stage string
		err := row.Scan(&n.Carrier, &n.OrderID, &n.WaybillNo, &n.At, &n.OpCode, &stage)
		n.Stage = tracking.CourierStage(stage)
		return n, err
	})
	return out, translate(err, "route_node")
}

// Throttle counts failures per client key in fixed windows, in a table every
// instance shares. Keys are hashed before they are stored.
type Throttle struct {
	Ledger *Ledger
	Window time.Duration
}

// Fail records one failure for the client and returns the failures in the
// current window, this one included.
func (th *Throttle) Fail(ctx context.Context, scope, client string) (int, error) {
	l := th.Ledger
	now := l.now()
	start := now.Truncate(th.Window)
	key := scope + ":" + hex.EncodeToString(l.Keys.Hash("client", client)[:16])
	var n int
	err := l.Pool.QueryRow(ctx, `INSERT INTO track_failures (client_key, window_start, failures) VALUES ($1, $2, 1)
		ON CONFLICT (client_key, window_start) DO UPDATE SET failures = track_failures.failures + 1
		RETURNING failures`, key, start).Scan(&n)
	if err != nil {
		return 0, translate(err, "throttle")
	}
	return n, nil
}

// Forgive takes back one failure (a sign-in counted before it was tried
// and then succeeded).
func (th *Throttle) Forgive(ctx context.Context, scope, client string) error {
	l := th.Ledger
	key := scope + ":" + hex.EncodeToString(l.Keys.Hash("client", client)[:16])
	_, err := l.Pool.Exec(ctx, `UPDATE track_failures SET failures = failures - 1
		WHERE client_key = $1 AND window_start = $2 AND failures > 0`, key, l.now().Truncate(th.Window))
	return translate(err, "throttle")
}

// Failures returns the client's failures in the current window.
func (th *Throttle) Failures(ctx context.Context, scope, client string) (int, error) {
	l := th.Ledger
	start := l.now().Truncate(th.Window)
	key := scope + ":" + hex.EncodeToString(l.Keys.Hash("client", client)[:16])
	var n int
	err := l.Pool.QueryRow(ctx, `SELECT coalesce(sum(failures), 0) FROM track_failures WHERE client_key = $1 AND window_start = $2`,
		key, start).Scan(&n)
	return n, translate(err, "throttle")
}

// Prune deletes windows older than a day.
func (th *Throttle) Prune(ctx context.Context) error {
	_, err := th.Ledger.Pool.Exec(ctx, `DELETE FROM track_failures WHERE window_start < $1`, th.Ledger.now().Add(-24*time.Hour))
	return translate(err, "throttle")
}
