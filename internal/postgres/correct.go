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
)

// LastChange reads the parcel's latest state change (events that change no
// state are passed over), as a correction undoes it.
func (l *Ledger) LastChange(ctx context.Context, parcelID int64) (shipment.Change, error) {
	var c shipment.Change
	var detail []byte
	err := l.Pool.QueryRow(ctx, `SELECT seq, action, coalesce(status_before, ''), status_after, site_code, actor_role,
			server_time, detail FROM events
		WHERE parcel_id = $1 AND action NOT IN ('label_printed', 'message_sent', 'note')
		ORDER BY seq DESC LIMIT 1`, parcelID).
		Scan(&c.Seq, &c.Action, &c.StatusBefore, &c.StatusAfter, &c.Site, &c.ActorRole, &c.At, &detail)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "parcel.not_found")
	}
	if err != nil {
		return c, translate(err, "parcel")
	}
	var d struct {
		Before   shipment.Before `json:"before"`
		Slot     string          `json:"slot"`
		FromSlot string          `json:"from_slot"`
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		return c, fmt.Errorf("ledger: event %d of parcel %d: detail: %w", c.Seq, parcelID, err)
	}
	c.Before, c.Slot, c.FromSlot = d.Before, d.Slot, d.FromSlot
	return c, nil
}

// correctEvent is the event correctStmt appends, over its parameters.
func correctEvent(seq string) ev {
	return ev{"parcel_id": "$1", "seq": seq, "action": "$9", "status_before": "$17", "status_after": "$3",
		"site_code": "$10", "actor_id": "$18", "actor_role": "$19", "source": "$20", "device": "$21", "scan_id": "$22",
		"device_time": "$23", "server_time": "$8", "reason": "$24", "detail": "$25"}
}

// correctStmt puts the parcel's columns back as they were before the change
// a correction undoes, under the version check, and appends the correction's
// event and the scan's answer, in one statement. $14 says a shelve is undone
// (its code revoked, the ready times put back), $28 that the code is revoked
// anyway (another parcel of the hall holds it now).
var correctStmt = `WITH u AS (
	UPDATE parcels SET status = $3, prev_status = nullif($4, ''), path = $5, path_idx = $6, leg_moving = $7,
		version = version + 1, event_seq = event_seq + 1, updated_at = $8, last_action = $9, last_site = $10,
		last_at = $8, slot = nullif($11, ''), current_run = $12, run_sealed = $13,
		ready_since = CASE WHEN $14 THEN $15 ELSE ready_since END,
		hold_until = CASE WHEN $14 THEN $16 ELSE hold_until END,
		code_hash = CASE WHEN $14 OR $28 THEN NULL ELSE code_hash END,
		journey_ended_at = NULL,
		last_progress_at = $8,
		path_broken = CASE WHEN path IS DISTINCT FROM $5 THEN false ELSE path_broken END,
		head_hash = ` + eventHashExpr(correctEvent("event_seq + 1"), "head_hash") + `
	WHERE id = $1 AND version = $2 RETURNING event_seq),
` + eventAndAnswer(correctEvent, "$22", "$26", "$27")

// ApplyCorrect makes a decided correction durable in one transaction: the
// restored parcel and its event; the message a corrected shelve queued is
// dropped if not yet sent; a corrected receive is taken off the check list
// of its bag while the list is open. A collect undone puts the parcel back
// on the shelf with its code, unless another parcel of the hall drew that
// code since: then the code is revoked (the holder's ID number still
// collects it) and the event says so.
func (l *Ledger) ApplyCorrect(ctx context.Context, w service.CorrectWrite) (int, error) {
	p, r, req := w.Parcel, &w.Restore, w.Req
	var actor *int64
	if w.Actor.ID != 0 {
		actor = &w.Actor.ID
	}
	var run *int64
	if r.Run != 0 {
		run = &r.Run
	}
	var seq int
	write := func(revoke bool) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			detail := w.Detail
			if revoke {
				detail = map[string]any{"code_revoked": true}
				for k, v := range w.Detail {
					detail[k] = v
				}
			}
			body, _ := json.Marshal(w.Answer)
			err := tx.QueryRow(ctx, correctStmt, p.ID, p.Version, r.To, string(r.PrevStatus), r.Path, r.PathIdx,
				r.LegMoving, w.Now, shipment.ActCorrect, r.Site, r.Slot, run, r.RunSealed, r.Unshelve, r.ReadySince,
				r.HoldUntil, r.From, actor, w.Actor.Role, req.Source, req.Device, req.ScanID, req.ScannedAt, req.Reason,
				detail, w.Fingerprint, body, revoke).Scan(&seq)
			if errors.Is(err, pgx.ErrNoRows) {
				return apperr.New(apperr.Conflict, "parcel.conflict").Wrap(service.ErrLostRace)
			}
			if err != nil {
				return err
			}
			return l.undoSideEffects(ctx, tx, p.ID, r.Undoes, r.Run, w.Now)
		}
	}
	err := WithTx(ctx, l.Pool, write(false))
	if isUnique(err, "parcels_ready_code") {
		err = WithTx(ctx, l.Pool, write(true))
	}
	return seq, scanErr(err)
}

// undoSideEffects takes back what the undone change set going beyond the
// parcel's row.
func (l *Ledger) undoSideEffects(ctx context.Context, tx pgx.Tx, parcelID int64, c shipment.Change, run int64,
	now time.Time) error {
	switch c.Action {
	case shipment.ActShelve:
		_, err := tx.Exec(ctx, `UPDATE outbox SET failed_at = $3, last_error = 'dropped: the shelve was corrected'
			WHERE parcel_id = $1 AND event_seq = $2 AND sent_at IS NULL AND failed_at IS NULL`, parcelID, c.Seq, now)
		return err
	case shipment.ActReceive:
		if run != 0 {
			if _, err := tx.Exec(ctx, `UPDATE run_items i SET seen_at = NULL, outcome = ''
				FROM runs r WHERE r.id = i.run_id AND r.status = 'arrived'
					AND i.run_id = $1 AND i.parcel_id = $2 AND i.outcome = 'received'`, run, parcelID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM run_extras x USING runs r
			WHERE r.id = x.run_id AND r.status = 'arrived' AND x.parcel_id = $1 AND x.seen_at = $2`, parcelID, c.At)
		return err
	}
	return nil
}
