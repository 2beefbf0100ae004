package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The Ledger is the store of service.Parcels.
var _ service.Store = (*Ledger)(nil)

// ParcelByNumber reads a parcel by its waybill number.
// Errors: parcel.not_found.
func (l *Ledger) ParcelByNumber(ctx context.Context, number string) (*shipment.Parcel, error) {
	p, err := l.parcelByNumber(ctx, l.Pool, number)
	return p, translate(err, "parcel")
}

// PriorScan returns the stored answer of a scan id and its fingerprint.
func (l *Ledger) PriorScan(ctx context.Context, scanID string) (tracking.ScanResult, []byte, bool, error) {
	var hash, body []byte
	err := l.Pool.QueryRow(ctx, `SELECT request_hash, response FROM scan_results WHERE scan_id = $1`, scanID).Scan(&hash, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return tracking.ScanResult{}, nil, false, nil
	}
	if err != nil {
		return tracking.ScanResult{}, nil, false, translate(err, "scan")
	}
	var res tracking.ScanResult
	if err := json.Unmarshal(body, &res); err != nil {
		return tracking.ScanResult{}, nil, true, fmt.Errorf("ledger: stored scan answer: %w", err)
	}
	return res, hash, true, nil
}

// Holder returns what a collect of the parcel is checked against.
func (l *Ledger) Holder(ctx context.Context, parcelID int64) (service.Holder, error) {
	var h service.Holder
	err := l.Pool.QueryRow(ctx, `SELECT p.code_hash, coalesce(pp.id_hash, ''::bytea), coalesce(pp.id_type, ''),
		coalesce(pp.id_tail, ''), dc.code_hash
		FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id LEFT JOIN delivery_codes dc ON dc.parcel_id = p.id
		WHERE p.id = $1`, parcelID).
		Scan(&h.CodeHash, &h.IDHash, &h.IDType, &h.IDTail, &h.DeliveryHash)
	return h, translate(err, "parcel")
}

// applyStmt updates the parcel under the version check and appends the
// event and the scan's answer (with the event's seq filled in), in one
// statement.
// applyEvent is the event applyStmt appends, over its parameters; seq is
// the parcel's new event_seq.
func applyEvent(seq string) ev {
	return ev{"parcel_id": "$1", "seq": seq, "action": "$9", "status_before": "$15", "status_after": "$3",
		"site_code": "$10", "actor_id": "$16", "actor_role": "$17", "source": "$18", "device": "$19", "scan_id": "$20",
		"device_time": "$21", "server_time": "$8", "reason": "$22", "detail": "$23"}
}

// leaveRunSQL lists shipment.LeaveRunActions as SQL literals.
var leaveRunSQL = func() string {
	q := make([]string, len(shipment.LeaveRunActions))
	for i, a := range shipment.LeaveRunActions {
		q[i] = "'" + string(a) + "'"
	}
	return strings.Join(q, ", ")
}()

var applyStmt = `WITH u AS (
	UPDATE parcels SET status = $3, prev_status = nullif($4, ''), path = $5, path_idx = $6, leg_moving = $7,
		version = version + 1, event_seq = event_seq + 1, updated_at = $8, last_action = $9, last_site = $10,
		last_at = $8,
		ready_since = CASE WHEN $11 THEN $8 ELSE ready_since END,
		hold_until = CASE WHEN $11 THEN $12 ELSE hold_until END,
		code_hash = CASE WHEN $11 THEN $13 ELSE code_hash END,
		journey_ended_at = CASE WHEN $14 THEN $8 ELSE journey_ended_at END,
		last_progress_at = $8,
		-- Into the slot a shelve or reslot names ($26, checked in the same
		-- transaction); kept while it waits on the shelf, going back to its
		-- department too (the hall pulls it from there); off the shelf when
		-- collected, picked up, ….
		slot = CASE WHEN $26::text <> '' THEN $26::text WHEN $3 IN ('ready', 'exception') OR ($3 = 'returning' AND NOT $7)
			THEN slot END,
		-- Leaving the run: received, or taken out of the normal way by an exception.
		current_run = CASE WHEN $9 IN (` + leaveRunSQL + `) THEN NULL ELSE current_run END,
		run_sealed = CASE WHEN $9 IN (` + leaveRunSQL + `) THEN false ELSE run_sealed END,
		-- A new path was just computed over the active routes.
		path_broken = CASE WHEN path IS DISTINCT FROM $5 THEN false ELSE path_broken END,
		-- The new head, the hash of the event below chained to the old
		-- head, set here so that the head trigger has nothing to update.
		head_hash = ` + eventHashExpr(applyEvent("event_seq + 1"), "head_hash") + `
	WHERE id = $1 AND version = $2 RETURNING event_seq),
` + eventAndAnswer(applyEvent, "$20", "$24", "$25")

// eventAndAnswer is the tail of a statement whose CTE u updated one parcel
// (returning its new event_seq): the event of set, and the scan's answer
// stored under its scan id with the event's seq filled in. $1 is the
// parcel, $8 the time.
func eventAndAnswer(set func(seq string) ev, scanID, fingerprint, answer string) string {
	return `e AS (
	` + insertEvents("u", set("u.event_seq")) + `
	RETURNING seq),
r AS (
	INSERT INTO scan_results (scan_id, request_hash, parcel_id, response, created_at)
	SELECT ` + scanID + `, ` + fingerprint + `, $1, jsonb_set(` + answer + `::jsonb, '{items,0,seq}', to_jsonb(e.seq)), $8 FROM e)
SELECT seq FROM e`
}

// ApplyScan makes a decided scan durable. A plain scan is the one
// statement applyStmt; a receive, a shelve or reslot, and a collect by a
// proxy add their writes in one transaction with it.
func (l *Ledger) ApplyScan(ctx context.Context, w service.ScanWrite) (int, error) {
	p, o, req := w.Parcel, &w.Outcome, w.Req
	var actor *int64
	if w.Actor.ID != 0 {
		actor = &w.Actor.ID
	}
	body, _ := json.Marshal(w.Answer)
	slot := ""
	if w.Slot != nil {
		slot = req.Slot
	}
	apply := func(q querier, shelved bool, holdUntil *time.Time, codeHash []byte) (int, error) {
		var seq int
		err := q.QueryRow(ctx, applyStmt, p.ID, p.Version, o.To, string(o.PrevStatus), o.Path, o.PathIdx, o.LegMoving,
			w.Now, req.Action, o.Site, shelved, holdUntil, codeHash, o.To.Final(), o.From, actor, w.Actor.Role,
			req.Source, req.Device, req.ScanID, req.ScannedAt, req.Reason, w.Detail, w.Fingerprint, body, slot).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, apperr.New(apperr.Conflict, "parcel.conflict").Wrap(service.ErrLostRace)
		}
		return seq, err
	}
	if !w.CheckOff && w.Slot == nil && w.Ready == nil && w.Proxy == nil && w.TellOrigin == "" && w.Dispatch == nil &&
		w.Delivered == nil && !w.BookExpress {
		seq, err := apply(l.Pool, false, nil, nil)
		return seq, scanErr(err)
	}
	var seq int
	var message *outboxMessage
	write := func(tx pgx.Tx) error {
		if w.Slot != nil {
			required, known, err := slotFacts(ctx, tx, o.Site, req.Slot)
			if err != nil {
				return err
			}
			if err := w.Slot(required, known); err != nil {
				return err
			}
		}
		var holdUntil *time.Time
		var codeHash []byte
		if r := w.Ready; r != nil {
			code, err := l.freeCode(ctx, tx, o.Site)
			if err != nil {
				return err
			}
			hold := r.HoldUntil
			holdUntil, codeHash = &hold, l.codeHash(o.Site, code)
			params := maps.Clone(r.Message.Params)
			if params == nil {
				params = map[string]string{}
			}
			params["code"] = code
			message = &outboxMessage{Template: r.Message.Template, Params: params}
		}
		var err error
		if seq, err = apply(tx, w.Ready != nil, holdUntil, codeHash); err != nil {
			return err
		}
		if w.TellOrigin != "" {
			if err := l.tellOrigin(ctx, tx, p, w.TellOrigin, req.Reason, w.Now); err != nil {
				return err
			}
		}
		if w.CheckOff {
			if err := l.checkOff(ctx, tx, p, o.Site, w.Now); err != nil {
				return err
			}
		}
		if pr := w.Proxy; pr != nil {
			var photoType *string
			var photo []byte
			if len(pr.Photo) > 0 {
				photoType, photo = &pr.PhotoType, l.Keys.Encrypt(pr.Photo, photoAD(p.ID))
			}
			_, err = tx.Exec(ctx, `INSERT INTO handover_people (parcel_id, event_seq, name, id_type, id_hash, id_enc,
				authorisation, photo_type, photo_enc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.ID, seq, pr.Name, pr.IDType,
				l.Keys.Hash(string(pr.IDType), pr.IDNumber), l.Keys.Encrypt([]byte(pr.IDNumber), parcelAD(p.ID)),
				pr.Authorisation, photoType, photo)
			if err != nil {
				return err
			}
		}
		if w.BookExpress {
			if err := l.bookExpress(ctx, tx, p.ID, w.Now); err != nil {
				return err
			}
		}
		if d := w.Dispatch; d != nil {
			code, err := l.newCode()
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO delivery_codes (parcel_id, code_hash, created_at) VALUES ($1, $2, $3)
				ON CONFLICT (parcel_id) DO UPDATE SET code_hash = EXCLUDED.code_hash, created_at = EXCLUDED.created_at`,
				p.ID, l.Keys.Hash(service.DeliveryDomain(p.WaybillNo), code), w.Now); err != nil {
				return err
			}
			params := maps.Clone(d.Params)
			if params == nil {
				params = map[string]string{}
			}
			params["code"] = code
			message = &outboxMessage{Template: d.Template, Params: params}
		}
		if d := w.Delivered; d != nil {
			method := "id"
			if d.Code != "" {
				method = "code"
			}
			if _, err := tx.Exec(ctx, `INSERT INTO delivery_proofs (parcel_id, event_seq, method, photo_type, photo_enc, signature_enc)
				VALUES ($1, $2, $3, $4, $5, $6)`, p.ID, seq, method, d.PhotoType, l.Keys.Encrypt(d.Photo, proofAD(p.ID, "photo")),
				l.Keys.Encrypt(d.Signature, proofAD(p.ID, "signature"))); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM delivery_codes WHERE parcel_id = $1`, p.ID); err != nil {
				return err
			}
		}
		if message != nil {
			return l.enqueue(ctx, tx, p.ID, seq, *message, w.Now)
		}
		return nil
	}
	err := WithTx(ctx, l.Pool, write)
	// A collection code found free may be taken by another shelve at the
	// hall before this one writes it (the unique index says so): draw again,
	// rather than refuse the station's scan.
	for try := 1; w.Ready != nil && isUnique(err, "parcels_ready_code") && try < maxCodeDraws; try++ {
		message = nil
		err = WithTx(ctx, l.Pool, write)
	}
	if err == nil && message != nil && l.Kick != nil {
		l.Kick()
	}
	return seq, scanErr(err)
}

// maxCodeDraws is how many times a shelve writes with a fresh collection
// code when another shelve took its code at the same instant.
const maxCodeDraws = 3

// scanErr translates the error of a scan's write: two scans of the parcel
// at once, one loses.
func scanErr(err error) error {
	if isUnique(err, "events_pkey") || isUnique(err, "parcels_ready_code") {
		return apperr.New(apperr.Conflict, "parcel.conflict").Wrap(err)
	}
	return translate(err, "parcel")
}

// collectionCode is a random 6-digit code.
func collectionCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func photoAD(id int64) []byte { return []byte("authorisation:" + strconv.FormatInt(id, 10)) }

// AuthorisationPhoto reads the photo of the parcel's latest handover to a
// proxy, decrypted. Errors: proxy.photo_not_found.
func (l *Ledger) AuthorisationPhoto(ctx context.Context, parcelID int64) (string, []byte, error) {
	var t string
	var enc []byte
	err := l.Pool.QueryRow(ctx, `SELECT photo_type, photo_enc FROM handover_people
		WHERE parcel_id = $1 AND photo_enc IS NOT NULL ORDER BY event_seq DESC LIMIT 1`, parcelID).Scan(&t, &enc)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, apperr.New(apperr.NotFound, "proxy.photo_not_found")
	}
	if err != nil {
		return "", nil, translate(err, "parcel")
	}
	b, err := l.Keys.Decrypt(enc, photoAD(parcelID))
	if err != nil {
		return "", nil, fmt.Errorf("postgres: authorisation photo of parcel %d: %w", parcelID, err)
	}
	return t, b, nil
}

// proofAD binds a delivery proof's ciphertext to its parcel and part.
func proofAD(parcelID int64, part string) []byte {
	return []byte("delivery_proof:" + strconv.FormatInt(parcelID, 10) + ":" + part)
}
