// Package ledgercheck recomputes the event log's hash chains (and, in
// digest.go, the daily digests) the way the database computes them, so that
// an edit made behind the service's back shows. It is pure: stdlib only, the
// rows come from the caller.
//
// An event's hash is SHA-256 over the tag "courier.event.v1" followed by
// these fields, in this order, each written as 0x00 for NULL or as 0x01, its
// length in bytes (4 bytes, big-endian) and its bytes:
//
//	parcel_id, seq, action, status_before, status_after, site_code, actor_id,
//	actor_role, source, device, scan_id, device_time, server_time, run_id,
//	bag_id, leg_id, reason, detail, previous hash
//
// Numbers are decimal text; times are microseconds since the Unix epoch in
// decimal; detail is PostgreSQL's text of the jsonb value (keys in jsonb
// order, as `detail::text` gives it); the previous hash is the 32 raw bytes
// of the hash of the parcel's previous event (the one with the next lower
// seq), NULL for its first event. The trigger events_chain in
// migrations/00005_event_chain.sql computes the same.
package ledgercheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// Tag opens every event's hash input: a new encoding gets a new tag.
const Tag = "courier.event.v1"

// Event is one row of the events table, as the hash sees it. Nil pointers
// are SQL NULLs.
type Event struct {
	ParcelID     int64
	Seq          int32
	Action       string
	StatusBefore *string
	StatusAfter  string
	SiteCode     string
	ActorID      *int64
	ActorRole    string
	Source       string
	Device       string
	ScanID       *string
	DeviceTime   *time.Time
	ServerTime   time.Time
	RunID        *string
	BagID        *string
	LegID        *string
	Reason       string
	Detail       string // jsonb text
	Hash         []byte // as stored
}

type encoder struct{ b []byte }

func (e *encoder) null() { e.b = append(e.b, 0) }

func (e *encoder) bytes(v []byte) {
	e.b = append(e.b, 1)
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) str(v string) { e.bytes([]byte(v)) }

func (e *encoder) strp(v *string) {
	if v == nil {
		e.null()
		return
	}
	e.str(*v)
}

func (e *encoder) int(v int64) { e.str(strconv.FormatInt(v, 10)) }

func (e *encoder) time(t *time.Time) {
	if t == nil {
		e.null()
		return
	}
	e.int(t.UnixMicro())
}

// Hash computes the hash of ev chained to prev (nil for a parcel's first
// event).
func Hash(ev *Event, prev []byte) []byte {
	e := encoder{b: make([]byte, 0, 256)}
	e.b = append(e.b, Tag...)
	e.int(ev.ParcelID)
	e.int(int64(ev.Seq))
	e.str(ev.Action)
	e.strp(ev.StatusBefore)
	e.str(ev.StatusAfter)
	e.str(ev.SiteCode)
	if ev.ActorID == nil {
		e.null()
	} else {
		e.int(*ev.ActorID)
	}
	e.str(ev.ActorRole)
	e.str(ev.Source)
	e.str(ev.Device)
	e.strp(ev.ScanID)
	e.time(ev.DeviceTime)
	st := ev.ServerTime
	e.time(&st)
	e.strp(ev.RunID)
	e.strp(ev.BagID)
	e.strp(ev.LegID)
	e.str(ev.Reason)
	e.str(ev.Detail)
	if prev == nil {
		e.null()
	} else {
		e.bytes(prev)
	}
	sum := sha256.Sum256(e.b)
	return sum[:]
}

// Break names the first event whose stored hash does not match.
type Break struct {
	ParcelID int64
	Seq      int32
	Reason   string // "hash" (the row or an earlier one changed), "head" (parcels.head_hash), "order"
}

func (b *Break) Error() string {
	return fmt.Sprintf("chain broken at parcel %d, event %d (%s)", b.ParcelID, b.Seq, b.Reason)
}

// Chain checks one parcel's events, given in ascending seq order, and the
// parcel's stored head (nil: not checked). It answers the first break, or
// nil. The head it computed is returned either way.
func Chain(events []Event, head []byte) (computed []byte, brk *Break) {
	var prev []byte
	for i := range events {
		ev := &events[i]
		if i > 0 && (ev.ParcelID != events[i-1].ParcelID || ev.Seq <= events[i-1].Seq) {
			return prev, &Break{ParcelID: ev.ParcelID, Seq: ev.Seq, Reason: "order"}
		}
		h := Hash(ev, prev)
		if !bytes.Equal(h, ev.Hash) {
			return prev, &Break{ParcelID: ev.ParcelID, Seq: ev.Seq, Reason: "hash"}
		}
		prev = h
	}
	if head != nil && len(events) > 0 && !bytes.Equal(head, prev) {
		last := events[len(events)-1]
		return prev, &Break{ParcelID: last.ParcelID, Seq: last.Seq, Reason: "head"}
	}
	return prev, nil
}
