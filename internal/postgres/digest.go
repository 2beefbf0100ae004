package postgres

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/changchun-gov/courier/internal/ledgercheck"
	"github.com/changchun-gov/courier/tracking"
)

// DigestGrace is how long after midnight (Beijing time) a day is left open
// for transactions still committing its events before it is digested.
const DigestGrace = 10 * time.Minute

type digestRow struct {
	day                    time.Time // midnight UTC of the date
	prev, digest, sig, pub []byte
	heads                  int
	created                time.Time
}

func (r digestRow) view() tracking.DigestView {
	return tracking.DigestView{Day: r.day.Format(time.DateOnly), PrevDigest: hex.EncodeToString(r.prev), Digest: hex.EncodeToString(r.digest),
		Heads: r.heads, Signature: hex.EncodeToString(r.sig), PublicKey: hex.EncodeToString(r.pub), CreatedAt: tracking.Local(r.created)}
}

// dayBounds is the day's [start, end) in UTC; day is a date at midnight UTC.
func dayBounds(day time.Time) (time.Time, time.Time) {
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, tracking.Shanghai)
	return start.UTC(), start.AddDate(0, 0, 1).UTC()
}

// dayHeads reads the heads of a day: each parcel's newest event of the day.
func dayHeads(ctx context.Context, q pgx.Tx, day time.Time) ([][]byte, error) {
	from, to := dayBounds(day)
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (parcel_id) hash FROM events
		WHERE server_time >= $1 AND server_time < $2 ORDER BY parcel_id, seq DESC`, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[[]byte])
}

// MakeDigests digests every day not digested yet, in order, up to the day
// before today (Beijing time, after DigestGrace): from the day after the
// newest digest, or from the day of the first event. Each day is read from
// one snapshot; a day another instance digested meanwhile is skipped.
func (l *Ledger) MakeDigests(ctx context.Context) (tracking.JobReport, error) {
	now := l.now()
	y, m, d := tracking.Local(now.Add(-DigestGrace)).AddDate(0, 0, -1).Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	var made []string
	for range 3660 {
		var next *time.Time
		err := l.Pool.QueryRow(ctx, `SELECT coalesce((SELECT max(day) + 1 FROM ledger_digests),
			(SELECT (min(server_time) AT TIME ZONE 'Asia/Shanghai')::date FROM events))`).Scan(&next)
		if err != nil {
			return tracking.JobReport{Affected: len(made)}, err
		}
		if next == nil || next.After(last) {
			break
		}
		day := *next
		err = pgx.BeginTxFunc(ctx, l.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			var prev []byte
			err := tx.QueryRow(ctx, `SELECT digest FROM ledger_digests WHERE day = $1::date - 1`, day).Scan(&prev)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			heads, err := dayHeads(ctx, tx, day)
			if err != nil {
				return err
			}
			digest := ledgercheck.Digest(day.Format(time.DateOnly), prev, heads)
			var sig, pub []byte
			if l.DigestKey != nil {
				sig, pub = ledgercheck.SignDigest(l.DigestKey, digest), l.DigestKey.Public().(ed25519.PublicKey)
			}
			_, err = tx.Exec(ctx, `INSERT INTO ledger_digests (day, prev_digest, digest, heads, signature, public_key, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (day) DO NOTHING`, day, prev, digest, len(heads), sig, pub, now)
			return err
		})
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40001" {
			continue // another instance digested the day meanwhile
		}
		if err != nil {
			return tracking.JobReport{Affected: len(made)}, fmt.Errorf("postgres: digest %s: %w", day.Format(time.DateOnly), err)
		}
		made = append(made, day.Format(time.DateOnly))
	}
	if made == nil {
		made = []string{}
	}
	return tracking.JobReport{Affected: len(made), Detail: map[string]any{"days": made}}, nil
}

// Digests lists the digests of the days from..to (YYYY-MM-DD; empty: all),
// oldest first, for export.
func (l *Ledger) Digests(ctx context.Context, from, to string) ([]tracking.DigestView, error) {
	s := tracking.VerifyScope{From: from, To: to}
	if _, _, err := s.DayRange(); err != nil {
		return nil, err
	}
	rows, err := l.Pool.Query(ctx, `SELECT day, prev_digest, digest, heads, signature, public_key, created_at
		FROM ledger_digests WHERE ($1 = '' OR day >= $1::date) AND ($2 = '' OR day <= $2::date) ORDER BY day`, from, to)
	if err != nil {
		return nil, translate(err, "digest")
	}
	out := []tracking.DigestView{}
	for _, r := range mustDigestRows(rows, &err) {
		out = append(out, r.view())
	}
	return out, translate(err, "digest")
}

func mustDigestRows(rows pgx.Rows, errp *error) []digestRow {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (digestRow, error) {
		var d digestRow
		err := r.Scan(&d.day, &d.prev, &d.digest, &d.heads, &d.sig, &d.pub, &d.created)
		return d, err
	})
	*errp = err
	return out
}

// verifyDigests recomputes the stored digests of the days in [from, to)
// (zero: all) in tx's snapshot.
func (l *Ledger) verifyDigests(ctx context.Context, tx pgx.Tx, from, to time.Time) (int, *tracking.DigestBreak, error) {
	var f, t string
	if !from.IsZero() {
		f, t = tracking.Local(from).Format(time.DateOnly), tracking.Local(to.Add(-time.Second)).Format(time.DateOnly)
	}
	rows, err := tx.Query(ctx, `SELECT day, prev_digest, digest, heads, signature, public_key, created_at
		FROM ledger_digests WHERE ($1 = '' OR day >= $1::date) AND ($2 = '' OR day <= $2::date) ORDER BY day`, f, t)
	if err != nil {
		return 0, nil, err
	}
	ds := mustDigestRows(rows, &err)
	if err != nil {
		return 0, nil, err
	}
	var pub ed25519.PublicKey
	if l.DigestKey != nil {
		pub = l.DigestKey.Public().(ed25519.PublicKey)
	}
	for i, d := range ds {
		day := d.day.Format(time.DateOnly)
		brk := func(reason string) (int, *tracking.DigestBreak, error) {
			return i, &tracking.DigestBreak{Day: day, Reason: reason}, nil
		}
		// The previous digest: the day before's, stored.
		var want []byte
		if i > 0 && ds[i-1].day.Equal(d.day.AddDate(0, 0, -1)) {
			want = ds[i-1].digest
		} else if err := tx.QueryRow(ctx, `SELECT digest FROM ledger_digests WHERE day = $1::date - 1`, d.day).Scan(&want); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return i, nil, err
		}
		if !bytes.Equal(want, d.prev) {
			return brk("chain")
		}
		heads, err := dayHeads(ctx, tx, d.day)
		if err != nil {
			return i, nil, err
		}
		if len(heads) != d.heads || !bytes.Equal(ledgercheck.Digest(day, d.prev, heads), d.digest) {
			return brk("digest")
		}
		// Signatures are checked against the configured key only: the
		// public key stored beside a digest would vouch for a rewritten row
		// signed anew. A digest made before a key was set has none to check.
		if pub != nil && d.sig != nil && !ledgercheck.VerifyDigestSignature(pub, d.digest, d.sig) {
			return brk("signature")
		}
	}
	return len(ds), nil, nil
}
