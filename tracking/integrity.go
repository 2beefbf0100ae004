package tracking

import (
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// DigestView is one day's digest as exported (hex), to be kept elsewhere.
type DigestView struct {
	Day        string    `json:"day"`
	PrevDigest string    `json:"prev_digest,omitempty"`
	Digest     string    `json:"digest"`
	Heads      int       `json:"heads"`
	Signature  string    `json:"signature,omitempty"`
	PublicKey  string    `json:"public_key,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// VerifyScope selects what a check of the event log covers: the chains of
// the parcels with an event on the days From..To (YYYY-MM-DD, Beijing time,
// both included; both empty: every day), or of one parcel (Waybill).
type VerifyScope struct {
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Waybill string `json:"waybill_no,omitempty"`
}

// DayRange turns the scope's days into [from, to) in UTC (zero: open).
// Errors: verify.day_invalid, verify.range_incomplete, verify.range_reversed.
func (s VerifyScope) DayRange() (from, to time.Time, err error) {
	if s.From == "" && s.To == "" {
		return from, to, nil
	}
	parse := func(field, v string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, v, Shanghai)
		if err != nil || len(v) != len(time.DateOnly) {
			return t, apperr.New(apperr.Invalid, "verify.day_invalid").With("day", v).OnField(field)
		}
		return t, nil
	}
	if s.From == "" || s.To == "" {
		return from, to, apperr.New(apperr.Invalid, "verify.range_incomplete")
	}
	if from, err = parse("from", s.From); err != nil {
		return
	}
	if to, err = parse("to", s.To); err != nil {
		return
	}
	if to.Before(from) {
		return from, to, apperr.New(apperr.Invalid, "verify.range_reversed").With("from", s.From).With("to", s.To)
	}
	return from.UTC(), to.AddDate(0, 0, 1).UTC(), nil
}

// VerifyBreak names the first event whose chain does not hold.
type VerifyBreak struct {
	WaybillNo string `json:"waybill_no"`
	Seq       int32  `json:"seq"`
	Reason    string `json:"reason"` // hash, head, order (see ledgercheck.Break), missing (newer events than the parcel's chain holds were removed)
}

// DigestBreak names the first day whose digest does not hold.
type DigestBreak struct {
	Day    string `json:"day"`
	Reason string `json:"reason"` // digest (the day's events changed), chain (the previous digest), signature
}

// VerifyReport is what a check of the event log found.
type VerifyReport struct {
	Parcels     int          `json:"parcels"`
	Events      int          `json:"events"`
	Break       *VerifyBreak `json:"break,omitempty"`
	Digests     int          `json:"digests"`
	DigestBreak *DigestBreak `json:"digest_break,omitempty"`
}

// Broken reports whether the check found a break.
func (r VerifyReport) Broken() bool { return r.Break != nil || r.DigestBreak != nil }

// VerifyRun is a check an admin started in the background, with its result.
type VerifyRun struct {
	ID          int64         `json:"id"`
	RequestedBy string        `json:"requested_by"`
	Scope       VerifyScope   `json:"scope"`
	Status      string        `json:"status"` // queued, running, clean, broken, failed
	Result      *VerifyReport `json:"result,omitempty"`
	Error       string        `json:"error,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	FinishedAt  *time.Time    `json:"finished_at,omitempty"`
}
