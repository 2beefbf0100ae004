package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

var scanIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)

// MaxCodeFailures is how many wrong collection codes a parcel takes in a
// throttle window before codes are refused for it (the holder's ID still
// works): six digits must not be guessable at the counter.
const MaxCodeFailures = 5

// DefaultRetentionDays is how long a hall holds a parcel whose certificate
// type says nothing.
const DefaultRetentionDays = 30

// Scan applies one scan or action to the parcel its code names.
//
// A repeat (the same scan id with the same body, or the same action at the
// same site within a minute) changes nothing and answers with repeat=true,
// also when it raced the scan it repeats and lost the version check; the
// same scan id with a different body is refused. Two different actions at
// once: one wins, the other gets parcel.conflict.
//
// Errors: scan.id_required, scan.id_reused, scan.action_required,
// action.unknown, code.*, reason.*, collect.*, slot.* (invalid); parcel.not_found
// (not found); action.role_forbidden, scan.other_site, parcel.other_site,
// cancel.not_owner (forbidden); state.*, scan.wrong_site, parcel.conflict and
// the other conflicts of shipment.Decide (conflict).
func (l *Ledger) Scan(ctx context.Context, a shipment.Actor, req tracking.ScanRequest) (tracking.ScanResult, error) {
	req.ScanID = strings.TrimSpace(req.ScanID)
	if req.ScanID == "" {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "scan.id_required").OnField("scan_id")
	}
	if !scanIDRe.MatchString(req.ScanID) {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "request.bad_query").OnField("scan_id").With("field", "scan_id")
	}
	if req.Action == "" {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "scan.action_required").OnField("action")
	}
	if !req.Action.Valid() || req.Action == shipment.ActRegister {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "action.unknown").OnField("action").With("action", string(req.Action))
	}
	if req.Source == "" {
		req.Source = shipment.SourceScan
	}
	if !req.Source.Valid() || req.Source == shipment.SourceSchedule {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "request.bad_query").OnField("source").With("field", "source")
	}
	code, err := shipment.ParseCode(req.Code)
	if err != nil {
		return tracking.ScanResult{}, withField(err, "code")
	}
	if code.Kind == shipment.KindSlot {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "scan.slot_in_code").OnField("code").With("slot", code.Slot)
	}
	if req.Slot, err = scanSlot(req.Action, req.Slot); err != nil {
		return tracking.ScanResult{}, err
	}
	req.Site = strings.TrimSpace(req.Site)
	if req.Site != "" {
		if _, ok := l.Ref.Site(req.Site); !ok {
			return tracking.ScanResult{}, apperr.New(apperr.Invalid, "site.unknown").OnField("site").With("site", req.Site)
		}
	}
	if req.ScannedAt != nil {
		// Offline scans arrive late, but not from another month or the future.
		now := l.now()
		if req.ScannedAt.Before(now.Add(-30*24*time.Hour)) || req.ScannedAt.After(now.Add(10*time.Minute)) {
			return tracking.ScanResult{}, apperr.New(apperr.Invalid, "scan.time_invalid").OnField("scanned_at")
		}
	}
	if len(req.Device) > 100 {
		return tracking.ScanResult{}, apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("device").With("field", "device")
	}
	fingerprint := l.fingerprint(a, code.Number, req)
	if code.Kind != shipment.KindParcel {
		return l.scanBag(ctx, a, req, code, fingerprint)
	}

	// The common path takes two round trips: read the parcel, then one
	// statement that updates it under the version check and appends the
	// event and the scan's answer. Actions with side effects (shelve,
	// reslot, collect) run in a transaction. A reused scan id is looked up
	// only when the scan fails, since that is when it matters.
	if req.Action == shipment.ActCollect && req.CollectionCode != "" && l.Throttle != nil {
		if n, err := l.Throttle.Failures(ctx, "code", code.Number); err == nil && n >= MaxCodeFailures {
			return tracking.ScanResult{}, apperr.New(apperr.TooMany, "collect.too_many").OnField("collection_code")
		}
	}
	res, wroteOutbox, err := l.applyScan(ctx, a, req, code.Number, fingerprint, nil)
	if apperr.CodeOf(err) == "collect.code_wrong" && l.Throttle != nil {
		_, _ = l.Throttle.Fail(ctx, "code", code.Number)
	}
	if err != nil || res.Repeat {
		if r, ok, perr := l.priorScan(ctx, req.ScanID, fingerprint); ok || perr != nil {
			if perr != nil {
				return tracking.ScanResult{}, perr
			}
			return r, nil
		}
		if err == nil {
			return res, nil
		}
		if isUnique(err, "events_pkey") || isUnique(err, "parcels_ready_code") {
			return tracking.ScanResult{}, apperr.New(apperr.Conflict, "parcel.conflict").Wrap(err)
		}
		return tracking.ScanResult{}, translate(err, "parcel")
	}
	if wroteOutbox && l.Kick != nil {
		l.Kick()
	}
	return res, nil
}

// afterApply adds writes to the transaction that applied a change.
type afterApply func(ctx context.Context, tx pgx.Tx, p *shipment.Parcel, now time.Time) error

// applyStmt updates the parcel under the version check and appends the
// event and the scan's answer (with the event's seq filled in), in one
// statement.
const applyStmt = `WITH u AS (
	UPDATE parcels SET status = $3, prev_status = nullif($4, ''), path = $5, path_idx = $6, leg_moving = $7,
		version = version + 1, event_seq = event_seq + 1, updated_at = $8, last_action = $9, last_site = $10,
		last_at = $8,
		ready_since = CASE WHEN $11 THEN $8 ELSE ready_since END,
		hold_until = CASE WHEN $11 THEN $12 ELSE hold_until END,
		code_hash = CASE WHEN $11 THEN $13 ELSE code_hash END,
		journey_ended_at = CASE WHEN $14 THEN $8 ELSE journey_ended_at END,
		last_progress_at = $8,
		-- Off the shelf: collected, returned, … (a shelve or reslot sets the slot after).
		slot = CASE WHEN $3 IN ('ready', 'exception') THEN slot END,
		-- Leaving the run: received, or taken out of the normal way by an exception.
		current_run = CASE WHEN $9 IN ('receive', 'report', 'fail', 'resolve', 'return') THEN NULL ELSE current_run END,
		run_sealed = CASE WHEN $9 IN ('receive', 'report', 'fail', 'resolve', 'return') THEN false ELSE run_sealed END,
		-- A new path was just computed over the active routes.
		path_broken = CASE WHEN path IS DISTINCT FROM $5 THEN false ELSE path_broken END
	WHERE id = $1 AND version = $2 RETURNING event_seq),
e AS (
	INSERT INTO events (parcel_id, seq, action, status_before, status_after, site_code, actor_id, actor_role,
		source, device, scan_id, device_time, server_time, reason, detail)
	SELECT $1, u.event_seq, $9, $15, $3, $10, $16, $17, $18, $19, $20, $21, $8, $22, $23 FROM u
	RETURNING seq),
r AS (
	INSERT INTO scan_results (scan_id, request_hash, parcel_id, response, created_at)
	SELECT $20, $24, $1, jsonb_set($25::jsonb, '{items,0,seq}', to_jsonb(e.seq)), $8 FROM e)
SELECT seq FROM e`

// errLostRace marks a version check that another change of the parcel won.
var errLostRace = errors.New("ledger: the parcel changed since it was read")

// applyScan applies one scan to the parcel. When another scan changed the
// parcel between the read and the write, the scan is decided again on the
// parcel as it now is: if that makes it a repeat (the same action at the
// same site, within the window), it answers as one; otherwise it stays
// parcel.conflict. Only the losing scan pays the extra read.
func (l *Ledger) applyScan(ctx context.Context, a shipment.Actor, req tracking.ScanRequest, number string,
	fingerprint []byte, also afterApply) (tracking.ScanResult, bool, error) {
	res, wroteOutbox, err := l.applyScanOnce(ctx, a, req, number, fingerprint, also)
	if !errors.Is(err, errLostRace) {
		return res, wroteOutbox, err
	}
	p, rerr := l.parcelByNumber(ctx, l.Pool, number)
	if rerr != nil {
		return res, false, err
	}
	now := l.now()
	if o, derr := shipment.Decide(p, l.command(ctx, a, req, now)); derr == nil && o.Repeat {
		return repeatResult(p, o, req, number, now), false, nil
	}
	return res, false, err
}

// command is the scan as shipment.Decide takes it.
func (l *Ledger) command(ctx context.Context, a shipment.Actor, req tracking.ScanRequest, now time.Time) shipment.Command {
	cmd := shipment.Command{Action: req.Action, Site: req.Site, Actor: a, Now: now, Reason: req.Reason,
		Resolution: req.Resolution, Slot: req.Slot}
	if l.Routes != nil {
		cmd.Route = func(from, to string) ([]string, error) { return l.Routes.Path(ctx, from, to) }
	}
	return cmd
}

// repeatResult is the answer to a scan Decide found a repeat.
func repeatResult(p *shipment.Parcel, o shipment.Outcome, req tracking.ScanRequest, number string, now time.Time) tracking.ScanResult {
	item := tracking.ItemResult{WaybillNo: p.WaybillNo, Status: o.To, Previous: o.From, Repeat: true,
		Site: o.Site, NextSite: p.NextSite()}
	if slotAction(req.Action) {
		item.Slot = p.Slot
	}
	return tracking.ScanResult{ScanID: req.ScanID, Kind: "parcel", Code: number, Repeat: true, At: tracking.Local(now),
		Items: []tracking.ItemResult{item}}
}

func (l *Ledger) applyScanOnce(ctx context.Context, a shipment.Actor, req tracking.ScanRequest, number string,
	fingerprint []byte, also afterApply) (res tracking.ScanResult, wroteOutbox bool, err error) {
	p, err := l.parcelByNumber(ctx, l.Pool, number)
	if err != nil {
		return res, false, err
	}
	// Clerks and staff act on parcels from, at or bound for their site. A
	// parcel that reached the wrong hall may still be received (to be told
	// it is the wrong site) or reported as misrouted.
	if a.Role.HasSite() && !a.CanSee(p) && req.Action != shipment.ActReceive &&
		!(req.Action == shipment.ActReport && req.Reason == "misrouted") {
		return res, false, apperr.New(apperr.Forbidden, "parcel.other_site")
	}
	now := l.now()
	o, err := shipment.Decide(p, l.command(ctx, a, req, now))
	if err != nil {
		return res, false, err
	}
	if o.Repeat {
		return repeatResult(p, o, req, number, now), false, nil
	}
	item := tracking.ItemResult{WaybillNo: p.WaybillNo, Status: o.To, Previous: o.From, Site: o.Site, Slot: req.Slot}
	res = tracking.ScanResult{ScanID: req.ScanID, Kind: "parcel", Code: number, At: tracking.Local(now)}
	np := shipment.Parcel{Path: o.Path, PathIdx: o.PathIdx}
	item.NextSite = np.NextSite()
	res.Items = []tracking.ItemResult{item}
	var actor *int64
	if a.ID != 0 {
		actor = &a.ID
	}
	apply := func(q querier, ef effects) (int, error) {
		body, _ := json.Marshal(res)
		var seq int
		err := q.QueryRow(ctx, applyStmt, p.ID, p.Version, o.To, string(o.PrevStatus), o.Path, o.PathIdx, o.LegMoving,
			now, req.Action, o.Site, ef.shelved, ef.holdUntil, ef.codeHash, o.To.Final(), o.From, actor, a.Role,
			req.Source, req.Device, req.ScanID, req.ScannedAt, req.Reason, ef.detail, fingerprint, body).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, apperr.New(apperr.Conflict, "parcel.conflict").Wrap(errLostRace)
		}
		return seq, err
	}
	if req.Action == shipment.ActReceive || also != nil {
		// A receive also ticks the parcel off its bag's check list, or notes
		// it as extra on the lists open at this site; a job may add its own
		// writes, in the same transaction.
		err = WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
			seq, err := apply(tx, effects{detail: baseDetail(p, &o, req)})
			if err != nil {
				return err
			}
			res.Items[0].Seq = seq
			if also != nil {
				if err := also(ctx, tx, p, now); err != nil {
					return err
				}
			}
			if req.Action != shipment.ActReceive {
				return nil
			}
			return l.checkOff(ctx, tx, p, o.Site, now)
		})
		return res, false, err
	}
	if req.Action != shipment.ActCollect && !slotAction(req.Action) {
		seq, err := apply(l.Pool, effects{detail: baseDetail(p, &o, req)})
		res.Items[0].Seq = seq
		return res, false, err
	}
	err = WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		if slotAction(req.Action) {
			if err := l.checkSlot(ctx, tx, o.Site, req.Slot); err != nil {
				return err
			}
		}
		ef, err := l.sideEffects(ctx, tx, p, &o, req, now)
		if err != nil {
			return err
		}
		if slotAction(req.Action) {
			noteSlot(ef.detail, p, req)
		}
		seq, err := apply(tx, ef)
		if err != nil {
			return err
		}
		res.Items[0].Seq = seq
		if slotAction(req.Action) {
			if err := setSlot(ctx, tx, p.ID, req.Slot); err != nil {
				return err
			}
		}
		if pr := ef.proxy; pr != nil {
			_, err = tx.Exec(ctx, `INSERT INTO handover_people (parcel_id, event_seq, name, id_type, id_hash, id_enc,
				authorisation) VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, seq, pr.Name, pr.IDType,
				l.Keys.Hash(string(pr.IDType), pr.IDNumber), l.Keys.Encrypt([]byte(pr.IDNumber), parcelAD(p.ID)),
				pr.Authorisation)
			if err != nil {
				return err
			}
		}
		if ef.message != nil {
			if err := l.enqueue(ctx, tx, p.ID, seq, *ef.message, now); err != nil {
				return err
			}
			wroteOutbox = true
		}
		return nil
	})
	return res, wroteOutbox, err
}

// fingerprint identifies a scan's body, so a reused scan id with another
// body is told apart from a repeat. It is a keyed hash: it holds collection
// codes and ID numbers.
func (l *Ledger) fingerprint(a shipment.Actor, number string, req tracking.ScanRequest) []byte {
	body := []any{a.ID, number, req.Action, req.Site, req.Reason, req.Resolution,
		req.CollectionCode, req.IDNumber, req.Proxy}
	if req.Slot != "" {
		body = append(body, req.Slot) // only then: older answers keep their fingerprints
	}
	b, _ := json.Marshal(body)
	return l.Keys.Hash("scan", string(b))
}

// priorScan answers a scan id seen before: the stored answer marked as a
// repeat, or scan.id_reused when the body differs.
func (l *Ledger) priorScan(ctx context.Context, scanID string, fingerprint []byte) (tracking.ScanResult, bool, error) {
	var hash, body []byte
	err := l.Pool.QueryRow(ctx, `SELECT request_hash, response FROM scan_results WHERE scan_id = $1`, scanID).Scan(&hash, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return tracking.ScanResult{}, false, nil
	}
	if err != nil {
		return tracking.ScanResult{}, false, translate(err, "scan")
	}
	if !bytes.Equal(hash, fingerprint) {
		return tracking.ScanResult{}, true, apperr.New(apperr.Invalid, "scan.id_reused").OnField("scan_id").With("scan_id", scanID)
	}
	var res tracking.ScanResult
	if err := json.Unmarshal(body, &res); err != nil {
		return tracking.ScanResult{}, true, fmt.Errorf("ledger: stored scan answer: %w", err)
	}
	res.Repeat = true
	for i := range res.Items {
		res.Items[i].Repeat = true
	}
	return res, true, nil
}

type effects struct {
	shelved   bool
	holdUntil *time.Time
	codeHash  []byte
	detail    map[string]any
	proxy     *tracking.Proxy
	message   *outboxMessage
}

// sideEffects does what an action needs beyond the state change: shelving
// makes the collection code and the message; collecting checks the code or
// the holder's ID and records a proxy.
func (l *Ledger) sideEffects(ctx context.Context, tx pgx.Tx, p *shipment.Parcel, o *shipment.Outcome,
	req tracking.ScanRequest, now time.Time) (effects, error) {
	ef := effects{detail: baseDetail(p, o, req)}
	switch req.Action {
	case shipment.ActShelve:
		code, err := l.freeCode(ctx, tx, o.Site)
		if err != nil {
			return ef, err
		}
		days := DefaultRetentionDays
		ct, ok := l.Ref.CertType(p.CertType)
		if ok {
			days = ct.RetentionDays
		}
		hold := endOfDay(now.AddDate(0, 0, days))
		ef.shelved, ef.holdUntil, ef.codeHash = true, &hold, l.codeHash(o.Site, code)
		hall, _ := l.Ref.Site(o.Site)
		ctName := ct.NameZH
		if ctName == "" {
			ctName = "证照"
		}
		ef.message = &outboxMessage{Template: "sms.ready", Params: map[string]string{
			"code": code, "hall": hall.NameZH, "cert_type": ctName,
			"hold_until": tracking.Local(hold).Format("2006-01-02"), "waybill_no": p.WaybillNo,
		}}
	case shipment.ActCollect:
		var codeHash, idHash []byte
		var idType string
		err := tx.QueryRow(ctx, `SELECT p.code_hash, coalesce(pp.id_hash, ''::bytea), coalesce(pp.id_type, '')
			FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id WHERE p.id = $1`, p.ID).
			Scan(&codeHash, &idHash, &idType)
		if err != nil {
			return ef, err
		}
		code := strings.TrimSpace(req.CollectionCode)
		idNo := strings.TrimSpace(req.IDNumber)
		switch {
		case code != "":
			// Codes are hashed per hall; those made before were hashed per parcel.
			if !bytes.Equal(l.codeHash(p.CurrentSite(), code), codeHash) &&
				!bytes.Equal(l.Keys.Hash("code:"+p.WaybillNo, code), codeHash) {
				return ef, apperr.New(apperr.Invalid, "collect.code_wrong").OnField("collection_code")
			}
			ef.detail["verified_by"] = "code"
		case idNo != "":
			norm, err := shipment.ValidateID(shipment.IDType(idType), idNo)
			if err != nil {
				return ef, withField(err, "id_number")
			}
			if !bytes.Equal(l.Keys.Hash(idType, norm), idHash) {
				return ef, apperr.New(apperr.Invalid, "collect.id_mismatch").OnField("id_number")
			}
			ef.detail["verified_by"] = "id"
		default:
			return ef, apperr.New(apperr.Invalid, "collect.verification_required").OnField("collection_code")
		}
		if pr := req.Proxy; pr != nil {
			name, err := shipment.ValidateName(pr.Name)
			if err != nil || strings.TrimSpace(pr.Authorisation) == "" || pr.IDNumber == "" {
				return ef, apperr.New(apperr.Invalid, "collect.proxy_incomplete").OnField("proxy")
			}
			if pr.IDType == "" {
				pr.IDType = shipment.IDResident
			}
			norm, err := shipment.ValidateID(pr.IDType, pr.IDNumber)
			if err != nil {
				return ef, withField(err, "proxy.id_number")
			}
			if len([]rune(pr.Authorisation)) > 64 {
				return ef, apperr.New(apperr.Invalid, "parcel.text_too_long").OnField("proxy.authorisation").With("field", "proxy.authorisation")
			}
			ef.proxy = &tracking.Proxy{Name: name, IDType: pr.IDType, IDNumber: norm, Authorisation: strings.TrimSpace(pr.Authorisation)}
			ef.detail["proxy"] = true
		}
	}
	return ef, nil
}

// baseDetail is what an event records beyond its columns: the resolution
// and a changed path.
func baseDetail(p *shipment.Parcel, o *shipment.Outcome, req tracking.ScanRequest) map[string]any {
	d := map[string]any{}
	if req.Resolution != "" {
		d["resolution"] = string(req.Resolution)
	}
	if len(o.Path) > 0 && !equalPath(o.Path, p.Path) {
		d["path"] = o.Path
	}
	return d
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// collectionCode is a random 6-digit code.
func collectionCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// endOfDay is the last instant of t's day in Asia/Shanghai, in UTC.
func endOfDay(t time.Time) time.Time {
	l := tracking.Local(t)
	return time.Date(l.Year(), l.Month(), l.Day(), 23, 59, 59, 0, tracking.Shanghai).UTC()
}
