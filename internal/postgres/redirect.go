package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
)

// redirectDomain is the hash domain of a parcel's redirect codes.
func redirectDomain(parcelID int64) string { return "redirect:" + strconv.FormatInt(parcelID, 10) }

// SendRedirectCode draws a one-time code for the recipient's choice of
// express, keeps its hash until expires and texts it to the phone on file
// (the outbox), one a minute. Errors: redirect.code_too_soon (too many).
func (l *Ledger) SendRedirectCode(ctx context.Context, parcelID int64, now time.Time, ttl time.Duration) error {
	code, err := l.newCode()
	if err != nil {
		return err
	}
	return translate(WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		var seq int
		if err := tx.QueryRow(ctx, `SELECT event_seq FROM parcels WHERE id = $1 FOR UPDATE`, parcelID).Scan(&seq); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO redirect_codes (parcel_id, code_hash, sent_at, expires_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (parcel_id) DO UPDATE SET code_hash = EXCLUDED.code_hash, sent_at = EXCLUDED.sent_at,
				expires_at = EXCLUDED.expires_at, tries = 0
			WHERE redirect_codes.sent_at <= $3 - interval '1 minute'`,
			parcelID, l.Keys.Hash(redirectDomain(parcelID), code), now, now.Add(ttl))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return apperr.New(apperr.TooMany, "redirect.code_too_soon")
		}
		if err := l.enqueue(ctx, tx, parcelID, seq, outboxMessage{Template: "sms.redirect_code", Params: map[string]string{"code": code}}, now); err != nil {
			return err
		}
		if l.Kick != nil {
			defer l.Kick()
		}
		return nil
	}), "parcel")
}

// maxRedirectTries is how many wrong codes a redirect code takes.
const maxRedirectTries = 5

// Redirect makes the recipient's choice of express to the door, in one
// transaction: the code checked (a wrong one counted, for good), the parcel
// locked and decide asked, its destination the address from now (off the
// shelf when it was on it: its collection code revoked), a redirect event,
// the address kept with the recipient, and — when the parcel is at its
// hall — its express booking queued. Errors: redirect.code_wrong,
// redirect.code_expired (invalid), redirect.too_many (too many), those of
// decide.
func (l *Ledger) Redirect(ctx context.Context, w service.RedirectWrite, decide func(p *shipment.Parcel) (shipment.Status, error)) error {
	var wrong bool
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		var hash []byte
		var expires time.Time
		var tries int
		err := tx.QueryRow(ctx, `SELECT code_hash, expires_at, tries FROM redirect_codes WHERE parcel_id = $1 FOR UPDATE`,
			w.ParcelID).Scan(&hash, &expires, &tries)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return apperr.New(apperr.Invalid, "redirect.code_expired").OnField("code")
		case err != nil:
			return err
		case tries >= maxRedirectTries:
			return apperr.New(apperr.TooMany, "redirect.too_many").OnField("code")
		case !w.Now.Before(expires):
			return apperr.New(apperr.Invalid, "redirect.code_expired").OnField("code")
		case !bytes.Equal(hash, l.Keys.Hash(redirectDomain(w.ParcelID), w.Code)):
			wrong = true
			return apperr.New(apperr.Invalid, "redirect.code_wrong").OnField("code").With("remaining", maxRedirectTries-tries-1)
		}
		p, err := scanParcel(tx.QueryRow(ctx, `SELECT `+parcelCols+` FROM parcels p WHERE p.id = $1 FOR UPDATE`, w.ParcelID))
		if err != nil {
			return err
		}
		to, err := decide(p)
		if err != nil {
			return err
		}
		addr, err := json.Marshal(w.Address)
		if err != nil {
			return err
		}
		var seq int
		if err := tx.QueryRow(ctx, `UPDATE parcels SET status = $2, dest_kind = 'address', version = version + 1,
			event_seq = event_seq + 1, updated_at = $3, last_action = 'redirect', last_at = $3,
			slot = CASE WHEN $2 = 'ready' THEN slot END, ready_since = CASE WHEN $2 = 'ready' THEN ready_since END,
			hold_until = CASE WHEN $2 = 'ready' THEN hold_until END
			WHERE id = $1 RETURNING event_seq`, p.ID, to, w.Now).Scan(&seq); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, redirectEventStmt, p.ID, seq, string(p.Status), string(to), p.CurrentSite(), w.Now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE parcel_people SET address = $2 WHERE parcel_id = $1`, p.ID, addr); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM redirect_codes WHERE parcel_id = $1`, p.ID); err != nil {
			return err
		}
		if len(p.Path) > 0 && p.PathIdx == len(p.Path)-1 && !p.LegMoving {
			return l.bookExpress(ctx, tx, p.ID, w.Now) // at its hall: the courier takes it from there
		}
		return nil
	})
	if wrong {
		if _, cerr := l.Pool.Exec(ctx, `UPDATE redirect_codes SET tries = tries + 1 WHERE parcel_id = $1`, w.ParcelID); cerr != nil {
			return translate(cerr, "parcel")
		}
	}
	return translate(err, "parcel")
}

// redirectEventStmt is the recipient's redirect: the state it leaves the
// parcel in, by the recipient through the private link.
var redirectEventStmt = insertEvents("", ev{"parcel_id": "$1", "seq": "$2", "action": "'redirect'", "status_before": "$3",
	"status_after": "$4", "site_code": "$5", "actor_role": "'recipient'", "source": "'web'", "server_time": "$6",
	"detail": `'{"to":"address"}'::jsonb`})
