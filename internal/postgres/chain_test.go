package postgres_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/ledgercheck"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// journeyOfEveryKind writes events of every kind the adapter writes:
// register, label_printed, single scans (book, pickup, receive, shelve,
// collect), message_sent from the outbox, a run (book as a set), a bag
// pickup and a check list's missing report. It answers one waybill.
func journeyOfEveryKind(t *testing.T, b *bundle) string {
	t.Helper()
	no := b.register(t, certReg()).WaybillNo
	if err := b.ledger.RecordPrinted(b.ctx, b.actors["clerk"], []string{no}, "label"); err != nil {
		t.Fatal(err)
	}
	b.mustScan(t, "clerk", no, shipment.ActBook, "", shipment.AwaitingPickup)
	b.mustScan(t, "courier", no, shipment.ActPickup, "D-SW", shipment.InTransit)
	b.mustScan(t, "staff", no, shipment.ActReceive, "CC-WIN", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "CC-WIN", shipment.Ready)
	if rep, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: &sink{}}, 10); err != nil || rep.Sent != 1 {
		t.Fatalf("deliver: %+v %v", rep, err)
	}
	b.mustScan(t, "staff", no, shipment.ActCollect, "CC-WIN", shipment.Collected,
		func(r *tracking.ScanRequest) { r.IDNumber = holderID })
	b.mustScan(t, "lead", no, shipment.ActCorrect, "", shipment.Ready, because("wrong_parcel"))
	b.mustScan(t, "staff", no, shipment.ActCollect, "CC-WIN", shipment.Collected,
		func(r *tracking.ScanRequest) { r.IDNumber = holderID })

	hub := b.staffAt(t, "CC-HUB")
	var nos []string
	for i := 0; i < 3; i++ {
		nos = append(nos, b.register(t, hubReg()).WaybillNo)
	}
	run, err := b.ledger.MakeRun(b.ctx, b.leg(t, "D-SW", "CC-HUB"), b.clock.Now(), "schedule", nil)
	if err != nil || run == nil {
		t.Fatalf("run: %+v %v", run, err)
	}
	if _, err := b.scanAs(t, b.actors["courier"], run.BagNo, shipment.ActPickup); err != nil {
		t.Fatal(err)
	}
	if _, err := b.scanAs(t, hub, run.RunNo, shipment.ActReceive); err != nil {
		t.Fatal(err)
	}
	if _, err := b.scanAs(t, hub, nos[0], shipment.ActReceive); err != nil {
		t.Fatal(err)
	}
	if _, err := b.runs().CloseRun(b.ctx, hub, run.RunNo); err != nil {
		t.Fatal(err)
	}
	return no
}

type storedEvent struct {
	ev        ledgercheck.Event
	sqlHash   []byte // event_hash(e, previous stored hash) in SQL
	head      []byte
	lastOfRow bool
}

func storedEvents(t *testing.T, b *bundle) []storedEvent {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `SELECT e.parcel_id, e.seq, e.action, e.status_before, e.status_after, e.site_code,
		e.actor_id, e.actor_role, e.source, e.device, e.scan_id, e.device_time, e.server_time, e.run_id, e.bag_id,
		e.leg_id, e.reason, e.detail::text, e.hash,
		event_hash(e, lag(e.hash) OVER (PARTITION BY e.parcel_id ORDER BY e.seq)),
		p.head_hash, e.seq = p.event_seq
		FROM events e JOIN parcels p ON p.id = e.parcel_id ORDER BY e.parcel_id, e.seq`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedEvent, error) {
		var s storedEvent
		ev := &s.ev
		err := r.Scan(&ev.ParcelID, &ev.Seq, &ev.Action, &ev.StatusBefore, &ev.StatusAfter, &ev.SiteCode, &ev.ActorID,
			&ev.ActorRole, &ev.Source, &ev.Device, &ev.ScanID, &ev.DeviceTime, &ev.ServerTime, &ev.RunID, &ev.BagID,
			&ev.LegID, &ev.Reason, &ev.Detail, &ev.Hash, &s.sqlHash, &s.head, &s.lastOfRow)
		return s, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The trigger's hash, the SQL function's and Go's agree on real events of
// every kind, each chained to its parcel's previous event; parcels.head_hash
// is the newest.
func TestEventHashGoAndSQLAgree(t *testing.T) {
	t.Parallel()
	b := setup(t)
	journeyOfEveryKind(t, b)
	evs := storedEvents(t, b)
	kinds := map[string]bool{}
	var prev []byte
	for i, s := range evs {
		if i == 0 || evs[i-1].ev.ParcelID != s.ev.ParcelID {
			prev = nil
		}
		kinds[s.ev.Action+"/"+s.ev.Source] = true
		if s.ev.BagID != nil {
			kinds["bag:"+s.ev.Action] = true
		}
		if len(s.ev.Hash) != 32 {
			t.Fatalf("event %d/%d: hash %x", s.ev.ParcelID, s.ev.Seq, s.ev.Hash)
		}
		if got := ledgercheck.Hash(&s.ev, prev); !bytes.Equal(got, s.ev.Hash) {
			t.Errorf("event %d/%d %s: Go %x, trigger %x", s.ev.ParcelID, s.ev.Seq, s.ev.Action, got, s.ev.Hash)
		}
		if !bytes.Equal(s.sqlHash, s.ev.Hash) {
			t.Errorf("event %d/%d %s: event_hash %x, trigger %x", s.ev.ParcelID, s.ev.Seq, s.ev.Action, s.sqlHash, s.ev.Hash)
		}
		if s.lastOfRow && !bytes.Equal(s.head, s.ev.Hash) {
			t.Errorf("parcel %d: head %x, newest event %x", s.ev.ParcelID, s.head, s.ev.Hash)
		}
		prev = s.ev.Hash
	}
	for _, k := range []string{"register/web", "label_printed/web", "book/scan", "pickup/scan", "shelve/scan",
		"message_sent/schedule", "collect/scan", "book/schedule", "bag:book", "bag:pickup", "bag:report", "report/web"} {
		if !kinds[k] {
			t.Errorf("no %s event among %v", k, kinds)
		}
	}
	rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{})
	if err != nil || rep.Break != nil || rep.Events != len(evs) {
		t.Fatalf("verify: %+v %v (%d events)", rep, err, len(evs))
	}
}

// An event edited behind the service's back (as the superuser, the
// append-only trigger off) is named by Verify; a range or a parcel with
// nothing in it is an error.
func TestVerifyNamesAnEditedEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := journeyOfEveryKind(t, b)
	day := b.clock.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	if rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{From: day, To: day}); err != nil || rep.Break != nil || rep.Parcels != 4 {
		t.Fatalf("clean verify: %+v %v", rep, err)
	}
	tamper(t, b, `UPDATE events SET site_code = 'CC-HUB' WHERE seq = 4 AND parcel_id = (SELECT id FROM parcels WHERE waybill_no = $1)`, no)
	rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{From: day, To: day})
	if err != nil || rep.Break == nil || rep.Break.WaybillNo != no || rep.Break.Seq != 4 || rep.Break.Reason != "hash" {
		t.Fatalf("verify after an edit: %+v %v", rep, err)
	}
	if rep, err = b.ledger.Verify(b.ctx, tracking.VerifyScope{Waybill: no}); err != nil || rep.Break == nil || rep.Break.Seq != 4 {
		t.Fatalf("verify of the parcel: %+v %v", rep, err)
	}
	// A parcel whose head was removed is named, not skipped.
	other := b.register(t, certReg()).WaybillNo
	if _, err := b.pool.Exec(b.ctx, `UPDATE parcels SET head_hash = NULL WHERE waybill_no = $1`, other); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{Waybill: other}); err != nil || rep.Break == nil || rep.Break.Reason != "head" {
		t.Fatalf("verify of a parcel without its head: %+v %v", rep, err)
	}
	for scope, code := range map[tracking.VerifyScope]string{
		{From: "2020-01-01", To: "2020-01-31"}: "verify.range_empty",
		{From: day, To: "2020-01-01"}:          "verify.range_reversed",
		{From: "2026-13-01", To: day}:          "verify.day_invalid",
		{From: day}:                            "verify.range_incomplete",
		{Waybill: "CC00000000000000"}:          "parcel.not_found",
	} {
		if _, err := b.ledger.Verify(b.ctx, scope); apperr.CodeOf(err) != code {
			t.Errorf("%+v: %v, want %s", scope, err, code)
		}
	}
}

// The service's role may only read and append to the event log and the
// digests: it cannot update, delete, truncate, or turn off or drop their
// triggers; CheckServiceRole accepts it and refuses the owner.
func TestServiceRoleMayOnlyAppendToTheLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	for _, q := range []string{
		`UPDATE events SET reason = 'x'`,
		`DELETE FROM events`,
		`TRUNCATE events CASCADE`,
		`ALTER TABLE events DISABLE TRIGGER events_no_update`,
		`DROP TRIGGER events_chain ON events`,
		`CREATE TRIGGER x BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()`,
		`UPDATE ledger_digests SET heads = 0`,
		`DELETE FROM ledger_digests`,
		`UPDATE goose_db_version SET is_applied = false`,
		`UPDATE key_check SET data_check = ''::bytea`,
		`DELETE FROM key_check`,
	} {
		_, err := b.pool.Exec(b.ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "42501" && pe.Code != "42809") {
			t.Errorf("%s: %v, want permission denied", q, err)
		}
	}
	var privs []string
	if err := b.pool.QueryRow(b.ctx, `SELECT array(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE',
		'TRUNCATE', 'REFERENCES', 'TRIGGER']) p WHERE has_table_privilege('events', p))`).Scan(&privs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(privs, []string{"SELECT", "INSERT"}) {
		t.Fatalf("the service's privileges on events: %v", privs)
	}
	if _, n := b.status(t, no); n != 1 {
		t.Fatalf("events: %d", n)
	}
	if err := postgres.CheckServiceRole(b.ctx, b.pool); err != nil {
		t.Fatal(err)
	}
	if err := postgres.CheckServiceRole(b.ctx, b.owner); err == nil || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("the superuser owner accepted as the service: %v", err)
	}
	// A right to change another append-only table is refused too.
	if _, err := b.owner.Exec(b.ctx, `GRANT UPDATE ON audit_log TO courier_service`); err != nil {
		t.Fatal(err)
	}
	if err := postgres.CheckServiceRole(b.ctx, b.pool); err == nil || !strings.Contains(err.Error(), "UPDATE audit_log") {
		t.Fatalf("a service that may update the audit log: %v", err)
	}
	if _, err := b.owner.Exec(b.ctx, `REVOKE UPDATE ON audit_log FROM courier_service`); err != nil {
		t.Fatal(err)
	}
}

// tamper runs q as the superuser with the append-only trigger off.
func tamper(t *testing.T, b *bundle, q string, args ...any) {
	t.Helper()
	tx, err := b.owner.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx) //nolint:errcheck
	for _, s := range []string{`ALTER TABLE events DISABLE TRIGGER events_no_update`, q, `ALTER TABLE events ENABLE TRIGGER events_no_update`} {
		var a []any
		if s == q {
			a = args
		}
		if _, err := tx.Exec(b.ctx, s, a...); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
}

// The migration chains the events an older database already holds, exactly
// as the trigger would have.
func TestChainMigrationHashesExistingEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	journeyOfEveryKind(t, b)
	before := storedEvents(t, b)
	if err := postgres.MigrateDownTo(b.ctx, b.owner, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Migrate(b.ctx, b.owner, nil); err != nil {
		t.Fatal(err)
	}
	after := storedEvents(t, b)
	if len(after) != len(before) {
		t.Fatalf("%d events, had %d", len(after), len(before))
	}
	for i := range after {
		if !bytes.Equal(after[i].ev.Hash, before[i].ev.Hash) || !bytes.Equal(after[i].head, before[i].head) {
			t.Fatalf("event %d/%d: %x (head %x), trigger made %x (head %x)", after[i].ev.ParcelID, after[i].ev.Seq,
				after[i].ev.Hash, after[i].head, before[i].ev.Hash, before[i].head)
		}
	}
	if rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{}); err != nil || rep.Break != nil {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// The digest job digests each day once, from one snapshot, chained to the
// day before and signed; Verify recomputes them, and names the day whose
// events changed even where the chains were mended to hide it.
func TestDailyDigests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, key, _ := ed25519.GenerateKey(nil)
	b.ledger.DigestKey = key
	// Day 1 (2026-11-27 Beijing): a journey; day 2: nothing; day 3: one more parcel.
	no := journeyOfEveryKind(t, b)
	b.clock.Set(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)) // 2026-11-29 04:00 Beijing
	other := b.register(t, certReg()).WaybillNo
	if rep, err := b.ledger.MakeDigests(b.ctx); err != nil || rep.Affected != 2 {
		t.Fatalf("digests before day 3 ended: %+v %v", rep, err) // 11-27 and 11-28 only
	}
	b.clock.Set(time.Date(2026, 11, 29, 16, 5, 0, 0, time.UTC)) // 11-30 00:05: within the grace
	if rep, err := b.ledger.MakeDigests(b.ctx); err != nil || rep.Affected != 0 {
		t.Fatalf("digest within the grace: %+v %v", rep, err)
	}
	b.clock.Set(time.Date(2026, 11, 29, 16, 30, 0, 0, time.UTC))
	if rep, err := b.ledger.MakeDigests(b.ctx); err != nil || rep.Affected != 1 {
		t.Fatalf("digest of day 3: %+v %v", rep, err)
	}
	if rep, err := b.ledger.MakeDigests(b.ctx); err != nil || rep.Affected != 0 {
		t.Fatalf("digests made twice: %+v %v", rep, err)
	}
	ds, err := b.ledger.Digests(b.ctx, "", "")
	if err != nil || len(ds) != 3 || ds[0].Day != "2026-11-27" || ds[1].Heads != 0 || ds[2].Heads != 1 || ds[0].PrevDigest != "" ||
		ds[1].PrevDigest != ds[0].Digest || ds[2].PrevDigest != ds[1].Digest {
		t.Fatalf("digests: %+v %v", ds, err)
	}
	for _, d := range ds {
		dg, _ := hex.DecodeString(d.Digest)
		sig, _ := hex.DecodeString(d.Signature)
		if !ed25519.Verify(key.Public().(ed25519.PublicKey), dg, sig) {
			t.Fatalf("%s: signature does not verify", d.Day)
		}
	}
	// The day's digest is the hash of the day's heads, recomputed here.
	var heads [][]byte
	rows, _ := b.pool.Query(b.ctx, `SELECT head_hash FROM parcels WHERE waybill_no <> $1`, other)
	heads, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil || hex.EncodeToString(ledgercheck.Digest("2026-11-27", nil, heads)) != ds[0].Digest {
		t.Fatalf("day 1's digest is not the hash of its heads (%v)", err)
	}
	rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{})
	if err != nil || rep.Broken() || rep.Digests != 3 {
		t.Fatalf("verify: %+v %v", rep, err)
	}

	// The newest event of a parcel of day 1 removed, and the parcel's head
	// mended: every chain holds, day 1's digest does not.
	tamper(t, b, `DELETE FROM events WHERE parcel_id = (SELECT id FROM parcels WHERE waybill_no = $1)
		AND seq = (SELECT max(seq) FROM events e JOIN parcels p ON p.id = e.parcel_id WHERE p.waybill_no = $1)`, no)
	if _, err := b.pool.Exec(b.ctx, `UPDATE parcels p SET head_hash = (SELECT hash FROM events e WHERE e.parcel_id = p.id
		ORDER BY seq DESC LIMIT 1) WHERE waybill_no = $1`, no); err != nil {
		t.Fatal(err)
	}
	// The parcel still counts the removed event: its chain ends short.
	rep, err = b.ledger.Verify(b.ctx, tracking.VerifyScope{})
	if err != nil || rep.Break == nil || rep.Break.WaybillNo != no || rep.Break.Reason != "missing" {
		t.Fatalf("verify after a removed event: %+v %v", rep, err)
	}
	// Its count mended too: every chain holds, day 1's digest does not.
	if _, err := b.pool.Exec(b.ctx, `UPDATE parcels p SET event_seq = (SELECT max(seq) FROM events e WHERE e.parcel_id = p.id)
		WHERE waybill_no = $1`, no); err != nil {
		t.Fatal(err)
	}
	rep, err = b.ledger.Verify(b.ctx, tracking.VerifyScope{})
	if err != nil || rep.Break != nil || rep.DigestBreak == nil || rep.DigestBreak.Day != "2026-11-27" || rep.DigestBreak.Reason != "digest" {
		t.Fatalf("verify after a removed event, its parcel mended: %+v %v", rep, err)
	}
	// Another key than the one that signed.
	_, b.ledger.DigestKey, _ = ed25519.GenerateKey(nil)
	if rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{From: "2026-11-29", To: "2026-11-29"}); err != nil ||
		rep.DigestBreak == nil || rep.DigestBreak.Reason != "signature" {
		t.Fatalf("verify with another key: %+v %v", rep, err)
	}
}

// A scan sets its parcel's head in the same update as the rest of its
// change (the head trigger then has nothing left to update): with that
// trigger off, scans of every shape still leave the head at their event's
// hash, as the chain trigger wrote it.
func TestScanSetsTheHeadItself(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	if _, err := b.owner.Exec(b.ctx, `ALTER TABLE events DISABLE TRIGGER events_head`); err != nil {
		t.Fatal(err)
	}
	at := b.clock.Now().Add(-time.Minute)
	b.mustScan(t, "courier", no, shipment.ActPickup, "D-SW", shipment.InTransit, func(r *tracking.ScanRequest) {
		r.Device, r.ScannedAt = "扫码枪-07", &at
	})
	b.mustScan(t, "staff", no, shipment.ActReport, "CC-WIN", shipment.Exception, func(r *tracking.ScanRequest) {
		r.Reason = "damaged"
	})
	b.mustScan(t, "staff", no, shipment.ActResolve, "CC-WIN", shipment.InTransit, func(r *tracking.ScanRequest) {
		r.Resolution = shipment.ResolveRestore
	})
	b.mustScan(t, "staff", no, shipment.ActReceive, "CC-WIN", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "CC-WIN", shipment.Ready)
	b.mustScan(t, "lead", no, shipment.ActCorrect, "", shipment.Arrived, because("too_early"))
	var head, last []byte
	var seq int
	if err := b.owner.QueryRow(b.ctx, `SELECT p.head_hash, e.hash, e.seq FROM parcels p
		JOIN events e ON e.parcel_id = p.id AND e.seq = p.event_seq WHERE p.waybill_no = $1`, no).Scan(&head, &last, &seq); err != nil {
		t.Fatal(err)
	}
	if seq != 7 || len(last) != 32 || !bytes.Equal(head, last) {
		t.Fatalf("head %x, the last event's (seq %d) hash %x", head, seq, last)
	}
}
