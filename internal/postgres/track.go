package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// TailLimit is how many wrong phone tails a parcel takes over its whole
// life, from all clients together: after that many the tail no longer opens
// its detail, right or wrong, for good (its private link still does).
const TailLimit = 20

// tailLockClass is the first key of the advisory locks under which the tail
// lookups of one waybill take turns (the second is the waybill's hash).
const tailLockClass = 7001

// LinkGrace is how long a private link outlives the end of the journey.
const LinkGrace = 7 * 24 * time.Hour

// Track answers the public track page: the number alone shows nothing
// personal; with the right last four digits of the phone it adds the masked
// name and phone, certificate type, department and timeline. A wrong tail,
// or any tail of a parcel that has had TailLimit wrong ones, gets the
// number-alone view; the second return says whether the detail was opened
// (false also when no tail was given).
//
// Round trips: the number alone is one indexed read. A tail adds one round
// trip that reads the recipient and the parcel's count of wrong tails and,
// when the tail is wrong, counts it (then the events when it opens).
//
// Errors: parcel.not_found.
func (l *Ledger) Track(ctx context.Context, waybill, phoneTail, lang string, t func(key string) string) (tracking.PublicStatus, bool, error) {
	var st tracking.PublicStatus
	var (
		kindS, destKindS, dest, statusS, certType string
	)
	// One indexed read of the parcel's current state (plain types scan
	// without reflection: this is the busiest public path).
	err := l.Pool.QueryRow(ctx, `SELECT kind, dest_kind, coalesce(dest_site, ''), status, updated_at, ready_since,
		hold_until, coalesce(cert_type, '') FROM parcels WHERE waybill_no = $1`, waybill).
		Scan(&kindS, &destKindS, &dest, &statusS, &st.UpdatedAt, &st.ReadySince, &st.HoldUntil, &certType)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, false, apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", waybill)
	}
	if err != nil {
		return st, false, translate(err, "parcel")
	}
	ct, hasCT := l.publicState(&st, waybill, kindS, destKindS, dest, statusS, certType, lang, t)
	if !validTail(phoneTail) {
		return st, false, nil
	}
	// The comparison is made in the statement that counts a wrong tail, so
	// a wrong tail costs no extra round trip, and name and phone leave the
	// database only when the detail opens. Tail lookups of one waybill take
	// turns under a transaction-scoped advisory lock, sent in the same round
	// trip (a batch runs as one implicit transaction, each statement with a
	// fresh snapshot): a right tail sees every wrong one sent before it, even
	// those still in flight on other connections or instances.
	var id int64
	var issuing string
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
			CASE WHEN right_tail AND failures < $4 THEN phone END FROM t`, waybill, phoneTail, l.now(), TailLimit)
	br := l.Pool.SendBatch(ctx, batch)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&id, &issuing, &name, &phone)
	}
	if cerr := br.Close(); cerr != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		err = cerr // not committed: neither counted nor to be shown
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, translate(err, "parcel")
	}
	if name == nil || phone == nil {
		return st, false, nil
	}
	if err := l.publicDetail(ctx, &st, id, issuing, *name, *phone, ct, hasCT, lang, t); err != nil {
		return st, false, err
	}
	return st, true, nil
}

// TrackByLink answers a parcel's private link: the same view as the right
// phone tail, without it, until the journey ended LinkGrace ago. One read
// by the token's keyed hash, then the events.
//
// Errors: link.not_found (unknown, expired, or the personal data purged).
func (l *Ledger) TrackByLink(ctx context.Context, token, lang string, t func(key string) string) (tracking.PublicStatus, error) {
	var st tracking.PublicStatus
	if !shipment.ValidLinkToken(token) {
		return st, apperr.New(apperr.NotFound, "link.not_found")
	}
	var (
		id                                                 int64
		waybill, kindS, destKindS, dest, statusS, certType string
		issuing, name, phone                               string
	)
	err := l.Pool.QueryRow(ctx, `SELECT p.id, p.waybill_no, p.kind, p.dest_kind, coalesce(p.dest_site, ''), p.status,
			p.updated_at, p.ready_since, p.hold_until, coalesce(p.cert_type, ''), coalesce(p.issuing_dept, ''), pp.name, pp.phone
		FROM parcel_links pl JOIN parcels p ON p.id = pl.parcel_id JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE pl.token_hash = $1 AND pp.purged_at IS NULL AND (p.journey_ended_at IS NULL OR p.journey_ended_at > $2)`,
		l.Keys.Hash(linkDomain, token), l.now().Add(-LinkGrace)).
		Scan(&id, &waybill, &kindS, &destKindS, &dest, &statusS, &st.UpdatedAt, &st.ReadySince, &st.HoldUntil,
			&certType, &issuing, &name, &phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, apperr.New(apperr.NotFound, "link.not_found")
	}
	if err != nil {
		return st, translate(err, "parcel")
	}
	ct, hasCT := l.publicState(&st, waybill, kindS, destKindS, dest, statusS, certType, lang, t)
	if err := l.publicDetail(ctx, &st, id, issuing, name, phone, ct, hasCT, lang, t); err != nil {
		return st, err
	}
	return st, nil
}

// publicState fills the number-alone view.
func (l *Ledger) publicState(st *tracking.PublicStatus, waybill, kindS, destKindS, dest, statusS, certType, lang string,
	t func(key string) string) (shipment.CertType, bool) {
	kind, destKind, status := shipment.Kind(kindS), shipment.DestKind(destKindS), shipment.Status(statusS)
	st.WaybillNo, st.Kind, st.Status = waybill, kind, status
	st.StatusText = t("status." + string(status))
	st.UpdatedAt = tracking.Local(st.UpdatedAt)
	st.ReadySince, st.HoldUntil = tracking.LocalPtr(st.ReadySince), tracking.LocalPtr(st.HoldUntil)
	st.Express = destKind == shipment.DestAddress
	st.Destination = l.Ref.place(dest, lang, destKind == shipment.DestHall)
	ct, hasCT := l.Ref.CertType(certType)
	if hasCT && destKind == shipment.DestHall {
		st.Bring = ct.BringZH
		if lang == "en" {
			st.Bring = ct.BringEN
		}
	}
	return ct, hasCT
}

// publicDetail adds the detail: masked name and phone, certificate type,
// department and the timeline.
func (l *Ledger) publicDetail(ctx context.Context, st *tracking.PublicStatus, id int64, issuing, name, phone string,
	ct shipment.CertType, hasCT bool, lang string, t func(key string) string) error {
	events, err := l.events(ctx, id, st.WaybillNo)
	if err != nil {
		return err
	}
	d := &tracking.PublicDetail{RecipientName: shipment.MaskName(name), Phone: shipment.MaskPhoneScreen(phone)}
	if hasCT {
		d.CertType = ct.NameZH
		if lang == "en" {
			d.CertType = ct.NameEN
		}
	}
	if s, ok := l.Ref.Site(issuing); ok {
		d.Department = s.Name(lang)
	}
	d.Timeline = tracking.Timeline(events, func(code string) string {
		if s, ok := l.Ref.Site(code); ok {
			return s.Name(lang)
		}
		return ""
	}, t)
	st.Detail = d
	return nil
}

func validTail(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
