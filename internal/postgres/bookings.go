package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func (l *Ledger) carrier() string {
	if l.Carrier == "" {
		return "manual"
	}
	return l.Carrier
}

const bookingStateSQL = `SELECT r.id, r.run_no, r.bag_no, r.from_site, r.to_site, r.parcel_count, r.slot, bk.carrier_ref,
	bk.status, bk.carrier, r.status FROM runs r JOIN bookings bk ON bk.run_id = r.id`

func scanBookingState(row pgx.Row) (tracking.BookingState, error) {
	var b tracking.BookingState
	err := row.Scan(&b.RunID, &b.RunNo, &b.BagNo, &b.FromSite, &b.ToSite, &b.Parcels, &b.Slot, &b.Ref, &b.Status,
		&b.Carrier, &b.RunStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "run.not_found")
	}
	return b, translate(err, "run")
}

// RunBooking is a run's booking as its worker needs it.
func (l *Ledger) RunBooking(ctx context.Context, runID int64) (tracking.BookingState, error) {
	return scanBookingState(l.Pool.QueryRow(ctx, bookingStateSQL+` WHERE r.id = $1`, runID))
}

// BookingOf finds the booking a courier's node belongs to: a run's or an
// express parcel's, by its waybill number, or by our order id (the run's
// number, the parcel's waybill number) when the push came before the
// booking's answer was recorded. Errors: run.not_found.
func (l *Ledger) BookingOf(ctx context.Context, carrier, waybillNo, orderID string) (tracking.BookingState, error) {
	b, err := scanBookingState(l.Pool.QueryRow(ctx, bookingStateSQL+` WHERE bk.carrier = $1 AND bk.carrier_ref = $2
		AND bk.carrier_ref <> ''`, carrier, waybillNo))
	if apperr.CodeOf(err) != "run.not_found" {
		return b, err
	}
	if orderID != "" {
		b, err = scanBookingState(l.Pool.QueryRow(ctx, bookingStateSQL+` WHERE r.run_no = $1 AND bk.carrier = $2`, orderID, carrier))
		if apperr.CodeOf(err) != "run.not_found" {
			return b, err
		}
	}
	return scanExpressState(l.Pool.QueryRow(ctx, expressStateSQL+` WHERE bk.carrier = $1
		AND ((bk.carrier_ref = $2 AND bk.carrier_ref <> '') OR p.waybill_no = $3)`, carrier, waybillNo, orderID))
}

// expressStateSQL reads an express parcel's booking; its courier collects
// it at its origin, or, redirected by its recipient, at its hall.
const expressStateSQL = `SELECT p.id, p.waybill_no, coalesce(p.dest_site, p.origin_site), p.status, bk.carrier_ref, bk.status, bk.carrier
	FROM bookings bk JOIN parcels p ON p.id = bk.parcel_id`

func scanExpressState(row pgx.Row) (tracking.BookingState, error) {
	var b tracking.BookingState
	err := row.Scan(&b.ParcelID, &b.WaybillNo, &b.FromSite, &b.ParcelStatus, &b.Ref, &b.Status, &b.Carrier)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "run.not_found")
	}
	b.RunNo = b.WaybillNo
	return b, translate(err, "parcel")
}

// ParcelBooking is an express parcel's booking as its worker needs it,
// with the order (the recipient: personal data, never logged).
func (l *Ledger) ParcelBooking(ctx context.Context, parcelID int64) (tracking.BookingState, tracking.ExpressOrder, error) {
	var o tracking.ExpressOrder
	var addr []byte
	b, err := scanExpressState(l.Pool.QueryRow(ctx, expressStateSQL+` WHERE bk.parcel_id = $1`, parcelID))
	if err != nil {
		return b, o, err
	}
	err = l.Pool.QueryRow(ctx, `SELECT coalesce(name, ''), coalesce(phone, ''), address FROM parcel_people WHERE parcel_id = $1`,
		parcelID).Scan(&o.Recipient.Name, &o.Recipient.Phone, &addr)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return b, o, translate(err, "parcel")
	}
	if len(addr) > 0 {
		if err := json.Unmarshal(addr, &o.Recipient.Address); err != nil {
			return b, o, err
		}
	}
	o.ParcelID, o.WaybillNo, o.FromSite, o.Ref = b.ParcelID, b.WaybillNo, b.FromSite, b.Ref
	return b, o, nil
}

// MarkParcelBooking records a change of an express parcel's booking and
// appends it to the booking's history. Errors: booking.state (conflict).
func (l *Ledger) MarkParcelBooking(ctx context.Context, parcelID int64, m tracking.BookingMark) (tracking.BookingState, error) {
	var out tracking.BookingState
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		b, err := scanExpressState(tx.QueryRow(ctx, expressStateSQL+` WHERE bk.parcel_id = $1 FOR UPDATE OF bk`, parcelID))
		if err != nil {
			return err
		}
		out, err = l.writeMark(ctx, tx, `parcel_id = $1`, parcelID, b, m)
		return err
	})
	return out, err
}

// bookExpress queues an express parcel's booking in the transaction that
// registered it.
func (l *Ledger) bookExpress(ctx context.Context, tx pgx.Tx, parcelID int64, now time.Time) error {
	if l.ExpressHook == nil {
		return nil // no courier delivers express parcels here (tests of the core alone)
	}
	carrier := l.ExpressCarrier
	if carrier == "" {
		carrier = "manual"
	}
	tag, err := tx.Exec(ctx, `WITH b AS (INSERT INTO bookings (parcel_id, carrier, status, created_at, updated_at)
		VALUES ($1, $3, 'pending', $2, $2) ON CONFLICT (parcel_id) DO NOTHING RETURNING id)
		INSERT INTO booking_events (booking_id, at, status, carrier) SELECT id, $2, 'pending', $3 FROM b`,
		parcelID, now, carrier)
	if err != nil || tag.RowsAffected() == 0 {
		return err // booked before
	}
	return l.ExpressHook(ctx, tx, parcelID)
}

// QuietBookings lists booked runs on their way (sealed or picked up) whose
// courier has told nothing since before quietSince, oldest first: the
// reconciliation queries their routes.
func (l *Ledger) QuietBookings(ctx context.Context, quietSince time.Time, limit int) ([]tracking.BookingState, error) {
	rows, err := l.Pool.Query(ctx, bookingStateSQL+` WHERE bk.status = 'booked' AND bk.carrier_ref <> ''
		AND r.status IN ('sealed', 'picked_up') AND coalesce(bk.updated_at, bk.created_at) < $1
		AND NOT EXISTS (SELECT 1 FROM route_nodes n WHERE n.carrier = bk.carrier AND n.waybill_no = bk.carrier_ref
			AND n.received_at >= $1)
		ORDER BY bk.id LIMIT $2`, quietSince, limit)
	if err != nil {
		return nil, translate(err, "run")
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.BookingState, error) { return scanBookingState(row) })
}

// bookingMoves lists the states a booking may move to from each state.
var bookingMoves = map[string][]string{
	tracking.BookingPending: {tracking.BookingPending, tracking.BookingBooked, tracking.BookingFailed,
		tracking.BookingCancelling, tracking.BookingCancelled, tracking.BookingCancelManual},
	tracking.BookingFailed: {tracking.BookingPending, tracking.BookingBooked, tracking.BookingFailed,
		tracking.BookingCancelling, tracking.BookingCancelled, tracking.BookingCancelManual},
	tracking.BookingBooked:       {tracking.BookingCancelling, tracking.BookingCancelManual, tracking.BookingCancelled},
	tracking.BookingCancelling:   {tracking.BookingCancelling, tracking.BookingCancelled, tracking.BookingCancelManual},
	tracking.BookingCancelManual: {tracking.BookingCancelled},
	tracking.BookingCancelled:    {},
}

// MarkBooking records a change of a run's booking and appends it to the
// booking's history, in one transaction. A booking the courier confirms
// after its run was cancelled becomes cancelling (the worker then cancels
// it at the courier). A change the booking's state does not allow (a
// cancelled booking booked again, a booked one booked by hand) is refused:
// booking.state (conflict), the state unchanged.
func (l *Ledger) MarkBooking(ctx context.Context, runID int64, m tracking.BookingMark) (tracking.BookingState, error) {
	var out tracking.BookingState
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		var err error
		out, err = l.markBooking(ctx, tx, runID, m)
		return err
	})
	return out, err
}

func (l *Ledger) markBooking(ctx context.Context, tx pgx.Tx, runID int64, m tracking.BookingMark) (tracking.BookingState, error) {
	b, err := scanBookingState(tx.QueryRow(ctx, bookingStateSQL+` WHERE r.id = $1 FOR UPDATE OF bk`, runID))
	if err != nil {
		return b, err
	}
	return l.writeMark(ctx, tx, `run_id = $1`, runID, b, m)
}

// writeMark changes the booking (where, of arg) as m says, b its locked
// state, and appends the change to its history.
func (l *Ledger) writeMark(ctx context.Context, tx pgx.Tx, where string, arg any, b tracking.BookingState,
	m tracking.BookingMark) (tracking.BookingState, error) {
	if m.Status == tracking.BookingBooked && b.RunStatus == "cancelled" && b.Status != tracking.BookingBooked {
		m.Status, m.Note = tracking.BookingCancelling, joinNote("booked after its run was cancelled", m.Note)
	}
	if m.Status == b.Status && m.Status == tracking.BookingBooked && m.Ref == b.Ref {
		return b, nil // the same answer again
	}
	allowed := false
	for _, s := range bookingMoves[b.Status] {
		allowed = allowed || s == m.Status
	}
	if !allowed {
		return b, apperr.New(apperr.Conflict, "booking.state").With("booking_status", b.Status).With("to_status", m.Status)
	}
	if m.Carrier == "" {
		m.Carrier = b.Carrier
	}
	ref := b.Ref
	if m.Ref != "" {
		ref = m.Ref
	}
	now := l.now()
	var bookedAt *time.Time
	if m.Status == tracking.BookingBooked {
		bookedAt = &now
	}
	lastErr := ""
	if m.Status == tracking.BookingPending || m.Status == tracking.BookingFailed {
		lastErr = truncate(m.Note, 300)
	}
	attempts := 0
	if m.Attempt {
		attempts = 1
	}
	var bookingID int64
	err := tx.QueryRow(ctx, `UPDATE bookings SET status = $2, carrier = $3, carrier_ref = $4,
		booked_at = coalesce($5, booked_at), last_error = $6, attempts = attempts + $7, updated_at = $8
		WHERE `+where+` RETURNING id`, arg, m.Status, m.Carrier, ref, bookedAt, lastErr, attempts, now).Scan(&bookingID)
	if err != nil {
		return b, translate(err, "run")
	}
	if _, err := tx.Exec(ctx, `INSERT INTO booking_events (booking_id, at, status, carrier, carrier_ref, note, actor)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, bookingID, now, m.Status, m.Carrier, ref, truncate(m.Note, 300), m.Actor); err != nil {
		return b, translate(err, "run")
	}
	b.Status, b.Carrier, b.Ref = m.Status, m.Carrier, ref
	return b, nil
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// bookingView is a run's booking with its history (nil: none).
func (l *Ledger) bookingView(ctx context.Context, runID int64) (*tracking.RunBookingStatus, error) {
	var b tracking.RunBookingStatus
	var id int64
	err := l.Pool.QueryRow(ctx, `SELECT bk.id, bk.carrier, bk.status, bk.carrier_ref, bk.booked_at, bk.last_error, bk.attempts,
		coalesce(u.username, '') FROM bookings bk LEFT JOIN users u ON u.id = bk.courier_id WHERE bk.run_id = $1`, runID).
		Scan(&id, &b.Carrier, &b.Status, &b.CarrierRef, &b.BookedAt, &b.LastError, &b.Attempts, &b.Courier)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err, "run")
	}
	b.BookedAt = tracking.LocalPtr(b.BookedAt)
	rows, err := l.Pool.Query(ctx, `SELECT at, status, carrier, carrier_ref, note, actor FROM booking_events
		WHERE booking_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, translate(err, "run")
	}
	b.History, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.BookingEvent, error) {
		var e tracking.BookingEvent
		err := row.Scan(&e.At, &e.Status, &e.Carrier, &e.CarrierRef, &e.Note, &e.Actor)
		e.At = tracking.Local(e.At)
		return e, err
	})
	if err != nil {
		return nil, translate(err, "run")
	}
	if b.History == nil {
		b.History = []tracking.BookingEvent{}
	}
	return &b, nil
}

// cancelRunSQL puts every parcel of a cancelled run back to wait for the
// next one ($1 the run): out of the run, in the state it was in, with a
// book event (the action table as data, for the actor's role $2).
var cancelRunSQL = `WITH w AS (
	SELECT p.id, p.status FROM parcels p WHERE p.current_run = $1 ORDER BY p.id FOR UPDATE),
t AS (
	SELECT w.id, w.status AS before, tr.to_status AS after FROM w
	JOIN transition_rules tr ON tr.action = 'book' AND tr.from_status = w.status AND tr.to_status = w.status AND tr.role = $2),
u AS (
	UPDATE parcels p SET current_run = NULL, run_sealed = false, version = version + 1,
		event_seq = event_seq + 1, updated_at = $3, last_action = 'book', last_site = $4, last_at = $3
	FROM t WHERE p.id = t.id
	RETURNING p.id, p.event_seq, t.before, t.after),
e AS (
	` + insertEvents("u", ev{"parcel_id": "u.id", "seq": "u.event_seq", "action": "'book'", "status_before": "u.before",
	"status_after": "u.after", "site_code": "$4", "actor_id": "$5", "actor_role": "$2", "source": "$6", "server_time": "$3",
	"run_id": "$7", "bag_id": "$8", "reason": "$9", "detail": "jsonb_build_object('run_cancelled', $7::text)"}) + `
	RETURNING 1)
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM e)`

// CancelRun cancels a run not yet picked up, in one transaction: the run
// locked, check decides, its parcels wait for the next run (each with an
// event), the run is marked cancelled and its booking cancelling, and hook
// queues the courier's cancel. Errors: run.not_found, those of check.
func (l *Ledger) CancelRun(ctx context.Context, code shipment.Code, a shipment.Actor, reason string, src shipment.Source,
	now time.Time, check func(service.Run) error, hook RunHook) (*tracking.RunView, error) {
	var run *tracking.RunView
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		r, err := l.runByCode(ctx, tx, code, true)
		if err != nil {
			return err
		}
		if err := check(service.Run{FromSite: r.FromSite, ToSite: r.ToSite, Status: r.Status}); err != nil {
			return err
		}
		var actor *int64
		if a.ID != 0 {
			actor = &a.ID
		}
		var waiting, moved int
		if err := tx.QueryRow(ctx, cancelRunSQL, r.ID, string(a.Role), now, r.FromSite, actor, string(src), r.RunNo, r.BagNo,
			reason).Scan(&waiting, &moved); err != nil {
			return err
		}
		if waiting != moved {
			return fmt.Errorf("postgres: cancel run %s: %d of its %d parcels have no book rule for %s", r.RunNo, moved, waiting, a.Role)
		}
		if _, err := tx.Exec(ctx, `UPDATE runs SET status = 'cancelled', cancelled_at = $2, cancel_reason = $3 WHERE id = $1`,
			r.ID, now, reason); err != nil {
			return err
		}
		if _, err := l.markBooking(ctx, tx, r.ID, tracking.BookingMark{Status: tracking.BookingCancelling,
			Note: "run cancelled: " + reason, Actor: a.Username}); err != nil {
			return err
		}
		if hook != nil {
			if err := hook(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		r.Status, r.CancelledAt, r.CancelNote = "cancelled", tracking.LocalPtr(&now), reason
		run = r
		return nil
	})
	if err != nil {
		return nil, translate(err, "run")
	}
	return run, nil
}

// CourierBookings lists the open bookings a courier sees (booked, the run
// sealed or on its way): those assigned to courierID, and, when carrier is
// set, those of that carrier assigned to nobody; by slot.
func (l *Ledger) CourierBookings(ctx context.Context, courierID int64, carrier string) ([]tracking.CourierBooking, error) {
	rows, err := l.Pool.Query(ctx, `SELECT r.run_no, r.bag_no, r.status, r.slot, r.parcel_count, r.from_site, r.to_site,
		bk.carrier, bk.carrier_ref, bk.status, coalesce(u.username, ''), coalesce(bk.courier_id = $1, false), r.picked_up_at,
		r.handed_over_at
		FROM bookings bk JOIN runs r ON r.id = bk.run_id LEFT JOIN users u ON u.id = bk.courier_id
		WHERE bk.status = 'booked' AND r.status IN ('sealed', 'picked_up')
		  AND (bk.courier_id = $1 OR (bk.courier_id IS NULL AND $2 <> '' AND bk.carrier = $2))
		ORDER BY r.slot, r.id LIMIT 200`, courierID, carrier)
	if err != nil {
		return nil, translate(err, "run")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.CourierBooking, error) {
		var b tracking.CourierBooking
		err := row.Scan(&b.RunNo, &b.BagNo, &b.RunStatus, &b.Slot, &b.Parcels, &b.FromSite, &b.ToSite, &b.Carrier,
			&b.CarrierRef, &b.BookingStatus, &b.Courier, &b.Mine, &b.PickedUpAt, &b.HandedOverAt)
		b.Slot, b.PickedUpAt, b.HandedOverAt = tracking.Local(b.Slot), tracking.LocalPtr(b.PickedUpAt), tracking.LocalPtr(b.HandedOverAt)
		return b, err
	})
	if err != nil {
		return nil, translate(err, "run")
	}
	// Express parcels: booked, on their way to the door.
	rows, err = l.Pool.Query(ctx, `SELECT p.waybill_no, p.status, bk.created_at, p.origin_site, bk.carrier, bk.carrier_ref,
		coalesce(u.username, ''), coalesce(bk.courier_id = $1, false), coalesce(pp.name, ''), coalesce(pp.phone, ''), pp.address
		FROM bookings bk JOIN parcels p ON p.id = bk.parcel_id LEFT JOIN parcel_people pp ON pp.parcel_id = p.id
		LEFT JOIN users u ON u.id = bk.courier_id
		WHERE bk.status = 'booked' AND p.status IN ('registered', 'awaiting_pickup', 'in_transit', 'out_for_delivery')
		  AND (bk.courier_id = $1 OR (bk.courier_id IS NULL AND $2 <> '' AND bk.carrier = $2))
		ORDER BY bk.id LIMIT 200`, courierID, carrier)
	if err != nil {
		return nil, translate(err, "parcel")
	}
	express, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tracking.CourierBooking, error) {
		var b tracking.CourierBooking
		var r tracking.CourierRecipient
		var addr []byte
		err := row.Scan(&b.WaybillNo, &b.ParcelStatus, &b.Slot, &b.FromSite, &b.Carrier, &b.CarrierRef, &b.Courier, &b.Mine,
			&r.Name, &r.Phone, &addr)
		if len(addr) > 0 {
			var a shipment.Address
			if json.Unmarshal(addr, &a) == nil {
				r.Address = a.Province + a.City + a.District + a.Street + a.Detail + " " + a.Unit
			}
		}
		b.RunNo, b.RunStatus, b.Parcels, b.Slot, b.Recipient = b.WaybillNo, string(b.ParcelStatus), 1, tracking.Local(b.Slot), &r
		return b, err
	})
	out = append(out, express...)
	if out == nil {
		out = []tracking.CourierBooking{}
	}
	return out, translate(err, "parcel")
}

// lockAssignment reads a run's booking (or an express parcel's) for its
// assignment, locked.
func (l *Ledger) lockAssignment(ctx context.Context, tx pgx.Tx, code shipment.Code) (tracking.Assignment, int64, error) {
	if code.Kind == shipment.KindParcel {
		var a tracking.Assignment
		var courier *int64
		var bookingID int64
		err := tx.QueryRow(ctx, `SELECT p.id, p.waybill_no, p.origin_site, p.status, bk.carrier_ref, bk.status, bk.carrier,
			bk.courier_id, bk.id FROM parcels p JOIN bookings bk ON bk.parcel_id = p.id WHERE p.waybill_no = $1
			FOR UPDATE OF bk`, code.Number).
			Scan(&a.ParcelID, &a.WaybillNo, &a.FromSite, &a.ParcelStatus, &a.Ref, &a.Status, &a.Carrier, &courier, &bookingID)
		if errors.Is(err, pgx.ErrNoRows) {
			return a, 0, apperr.New(apperr.NotFound, "run.not_found").With("code", code.Number)
		}
		if courier != nil {
			a.CourierID = *courier
		}
		a.RunNo, a.ToSite = a.WaybillNo, "address"
		switch a.ParcelStatus { // open while on its way to the door
		case shipment.Registered, shipment.AwaitingPickup, shipment.InTransit, shipment.OutForDelivery:
			a.RunStatus = "sealed"
		default:
			a.RunStatus = string(a.ParcelStatus)
		}
		return a, bookingID, translate(err, "parcel")
	}
	col := "run_no"
	if code.Kind == shipment.KindBag {
		col = "bag_no"
	}
	var a tracking.Assignment
	var courier *int64
	var bookingID int64
	err := tx.QueryRow(ctx, `SELECT r.id, r.run_no, r.bag_no, r.from_site, r.to_site, r.parcel_count, r.slot, bk.carrier_ref,
		bk.status, bk.carrier, r.status, bk.courier_id, r.handed_over_at IS NOT NULL, bk.id
		FROM runs r JOIN bookings bk ON bk.run_id = r.id WHERE r.`+col+` = $1 FOR UPDATE OF r, bk`, code.Number).
		Scan(&a.RunID, &a.RunNo, &a.BagNo, &a.FromSite, &a.ToSite, &a.Parcels, &a.Slot, &a.Ref, &a.Status, &a.Carrier,
			&a.RunStatus, &courier, &a.HandedOver, &bookingID)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, 0, apperr.New(apperr.NotFound, "run.not_found").With("code", code.Number)
	}
	if courier != nil {
		a.CourierID = *courier
	}
	return a, bookingID, translate(err, "run")
}

// AssignBooking assigns a run's booking to the courier named username, in
// one transaction: the booking locked, check decides (with the courier's
// account), the assignment recorded in the booking's history. Errors:
// run.not_found, user.not_found, those of check.
func (l *Ledger) AssignBooking(ctx context.Context, code shipment.Code, username string, by shipment.Actor, now time.Time,
	check func(a tracking.Assignment, courier shipment.User) error) error {
	return translate(WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		a, bookingID, err := l.lockAssignment(ctx, tx, code)
		if err != nil {
			return err
		}
		var u shipment.User
		err = tx.QueryRow(ctx, `SELECT id, username, role, carrier, disabled FROM users WHERE username = $1`, username).
			Scan(&u.ID, &u.Username, &u.Role, &u.Carrier, &u.Disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "user.not_found").With("username", username)
		}
		if err != nil {
			return err
		}
		if err := check(a, u); err != nil {
			return err
		}
		if a.CourierID == u.ID {
			return nil // assigned to them already
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET courier_id = $2, assigned_at = $3, updated_at = $3 WHERE id = $1`,
			bookingID, u.ID, now); err != nil {
			return err
		}
		note := "assigned to " + u.Username
		if by.ID == u.ID {
			note = "taken by " + u.Username
		}
		_, err = tx.Exec(ctx, `INSERT INTO booking_events (booking_id, at, status, carrier, carrier_ref, note, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, bookingID, now, a.Status, a.Carrier, a.Ref, note, by.Username)
		return err
	}), "run")
}

// HandOverRun records a courier's handover of a run's bag at its
// destination, in one transaction: the run locked, check decides, the
// handover on the run and in the booking's history (once). Errors:
// run.not_found, those of check.
func (l *Ledger) HandOverRun(ctx context.Context, code shipment.Code, by shipment.Actor, now time.Time,
	check func(a tracking.Assignment) error) error {
	return translate(WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		a, bookingID, err := l.lockAssignment(ctx, tx, code)
		if err != nil {
			return err
		}
		if err := check(a); err != nil {
			return err
		}
		if a.HandedOver {
			return nil
		}
		var byID *int64
		if by.ID != 0 {
			byID = &by.ID
		}
		if _, err := tx.Exec(ctx, `UPDATE runs SET handed_over_at = $2, handed_over_by = $3 WHERE id = $1`, a.RunID, now, byID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO booking_events (booking_id, at, status, carrier, carrier_ref, note, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, bookingID, now, a.Status, a.Carrier, a.Ref, "handed over at "+a.ToSite, by.Username)
		return err
	}), "run")
}
