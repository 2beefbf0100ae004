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

// Track answers the public track page: the number alone shows nothing
// personal; with the right last four digits of the phone it adds the masked
// name and phone, certificate type, department and timeline. A wrong tail
// gets the number-alone view; the second return says whether the tail
// matched (false also when none was given).
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
	kind, destKind, status := shipment.Kind(kindS), shipment.DestKind(destKindS), shipment.Status(statusS)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, false, apperr.New(apperr.NotFound, "parcel.not_found").With("waybill_no", waybill)
	}
	if err != nil {
		return st, false, translate(err, "parcel")
	}
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
	if !validTail(phoneTail) {
		return st, false, nil
	}
	var name, phone, issuing string
	var purged bool
	var id int64
	err = l.Pool.QueryRow(ctx, `SELECT p.id, coalesce(p.issuing_dept, ''), pp.name, pp.phone, pp.purged_at IS NOT NULL
		FROM parcels p JOIN parcel_people pp ON pp.parcel_id = p.id WHERE p.waybill_no = $1`, waybill).
		Scan(&id, &issuing, &name, &phone, &purged)
	if errors.Is(err, pgx.ErrNoRows) || purged || len(phone) < 4 || phone[len(phone)-4:] != phoneTail {
		return st, false, nil
	}
	if err != nil {
		return st, false, translate(err, "parcel")
	}
	events, err := l.events(ctx, id, waybill)
	if err != nil {
		return st, false, err
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
	return st, true, nil
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
