package postgres_test

import (
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func because(reason string) func(*tracking.ScanRequest) {
	return func(r *tracking.ScanRequest) { r.Reason = reason }
}

// row is what a correction must put back: the parcel's mutable columns.
func (b *bundle) row(t *testing.T, no string) string {
	t.Helper()
	var s string
	err := b.pool.QueryRow(b.ctx, `SELECT concat_ws('|', status, coalesce(prev_status, '-'), array_to_string(path, ','),
			path_idx, leg_moving, coalesce(slot, '-'), coalesce(current_run::text, '-'), run_sealed,
			coalesce(ready_since::text, '-'), coalesce(hold_until::text, '-'), code_hash IS NOT NULL,
			coalesce(journey_ended_at::text, '-'))
		FROM parcels WHERE waybill_no = $1`, no).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCorrectPutsTheParcelBack undoes each kind of mistaken scan at a hall
// and checks the parcel's row is exactly as it was before it, with the
// mistake and its correction kept as two events.
func TestCorrectPutsTheParcelBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setSlots(t, "CC-WIN", true, "A-01", "B-02")
	no := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", no, shipment.ActPickup, "", shipment.InTransit)
	inTransit := b.row(t, no)

	// A receive scanned by mistake: back in transit, received again later.
	b.mustScan(t, "staff", no, shipment.ActReceive, "", shipment.Arrived)
	res, err := b.scan(t, "lead", no, shipment.ActCorrect, "", because("wrong_parcel"))
	if err != nil {
		t.Fatal(err)
	}
	if it := res.Items[0]; it.Status != shipment.InTransit || it.Previous != shipment.Arrived ||
		it.CorrectedAction != shipment.ActReceive || it.Corrects != 3 || it.Seq != 4 {
		t.Fatalf("answer %+v", it)
	}
	if got := b.row(t, no); got != inTransit {
		t.Fatalf("after correcting the receive\n got %s\nwant %s", got, inTransit)
	}
	b.mustScan(t, "staff", no, shipment.ActReceive, "", shipment.Arrived)
	arrived := b.row(t, no)

	// A shelve too early: back to arrived, the code revoked, its SMS dropped.
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready, withSlot("A-01"))
	b.mustScan(t, "lead", no, shipment.ActCorrect, "", shipment.Arrived, because("too_early"))
	if got := b.row(t, no); got != arrived {
		t.Fatalf("after correcting the shelve\n got %s\nwant %s", got, arrived)
	}
	var queued, dropped int
	if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FILTER (WHERE failed_at IS NULL AND sent_at IS NULL),
		count(*) FILTER (WHERE failed_at IS NOT NULL) FROM outbox`).Scan(&queued, &dropped); err != nil || queued != 0 || dropped != 1 {
		t.Fatalf("outbox: %d queued, %d dropped (%v): the corrected shelve's message must not go out", queued, dropped, err)
	}

	// Shelved for real, then a reslot and a collect by mistake.
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready, withSlot("A-01"))
	code := b.readyCode(t)
	ready := b.row(t, no)
	b.mustScan(t, "staff", no, shipment.ActReslot, "", shipment.Ready, withSlot("B-02"))
	b.mustScan(t, "lead", no, shipment.ActCorrect, "", shipment.Ready, because("wrong_action"))
	if got := b.row(t, no); got != ready {
		t.Fatalf("after correcting the reslot\n got %s\nwant %s", got, ready)
	}
	b.mustScan(t, "staff", no, shipment.ActCollect, "", shipment.Collected, func(r *tracking.ScanRequest) { r.IDNumber = holderID })
	res, err = b.scan(t, "lead", no, shipment.ActCorrect, "", because("wrong_parcel"))
	if err != nil || res.Items[0].Slot != "A-01" {
		t.Fatalf("correct the collect: %+v %v", res, err)
	}
	if got := b.row(t, no); got != ready {
		t.Fatalf("after correcting the collect\n got %s\nwant %s", got, ready)
	}
	// The holder's code still collects it.
	b.mustScan(t, "staff", no, shipment.ActCollect, "", shipment.Collected, func(r *tracking.ScanRequest) { r.CollectionCode = code })

	// The log keeps every step; the public timeline shows the journey as it went.
	view, ok, err := b.svc().Track(b.ctx, no, "5678", "zh-CN", func(k string) string { return k })
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var steps []shipment.Action
	for _, e := range view.Detail.Timeline {
		steps = append(steps, e.Action)
	}
	want := []shipment.Action{shipment.ActCollect, shipment.ActShelve, shipment.ActReceive, shipment.ActPickup, shipment.ActRegister}
	if len(steps) != len(want) {
		t.Fatalf("timeline %v, want %v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("timeline %v, want %v", steps, want)
		}
	}
	if _, n := b.status(t, no); n != 14 {
		t.Fatalf("%d events, want 14 (the mistakes and their corrections kept)", n)
	}
	if rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{Waybill: no}); err != nil || rep.Break != nil {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// makeRun makes the run of the leg D-SW → CC-HUB now.
func (b *bundle) makeRun(t *testing.T) *tracking.RunView {
	t.Helper()
	run, err := b.ledger.MakeRun(b.ctx, b.leg(t, "D-SW", "CC-HUB"), b.clock.Now(), "schedule", nil)
	if err != nil || run == nil {
		t.Fatalf("run: %+v %v", run, err)
	}
	return run
}

// TestCorrectAReportPutsBackItsRunAndState: an exception reported by
// mistake takes the parcel out of its run; the correction puts it back in
// the run, in the state it came from.
func TestCorrectAReportPutsBackItsRunAndState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, hubReg()).WaybillNo
	b.makeRun(t)
	booked := b.row(t, no)
	b.mustScan(t, "clerk", no, shipment.ActReport, "", shipment.Exception, because("damaged"))
	admin := b.actors["admin"]
	res, err := b.svc().Scan(b.ctx, admin, tracking.ScanRequest{Code: no, Action: shipment.ActCorrect, ScanID: nextScanID(),
		Reason: "wrong_parcel"})
	if err != nil || res.Items[0].Status != shipment.AwaitingPickup {
		t.Fatalf("admin corrects: %+v %v", res, err)
	}
	if got := b.row(t, no); got != booked {
		t.Fatalf("after correcting the report\n got %s\nwant %s", got, booked)
	}
}

// TestCorrectAReceiveTakesBackItsTick: a parcel received from an open bag
// by mistake is taken off the bag's check list again, so the list still
// waits for it.
func TestCorrectAReceiveTakesBackItsTick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, hubReg()).WaybillNo
	run := b.makeRun(t)
	hub := b.staffAt(t, "CC-HUB")
	if _, err := b.scanAs(t, b.actors["courier"], run.BagNo, shipment.ActPickup); err != nil {
		t.Fatal(err)
	}
	if _, err := b.scanAs(t, hub, run.RunNo, shipment.ActReceive); err != nil {
		t.Fatal(err)
	}
	inBag := b.row(t, no)
	tick := func() string {
		var s string
		if err := b.pool.QueryRow(b.ctx, `SELECT i.outcome || '/' || (i.seen_at IS NOT NULL) FROM run_items i
			JOIN parcels p ON p.id = i.parcel_id WHERE p.waybill_no = $1`, no).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := b.scanAs(t, hub, no, shipment.ActReceive); err != nil || tick() != "received/true" {
		t.Fatalf("receive: %v, tick %s", err, tick())
	}
	if _, err := b.scanAs(t, b.actors["admin"], no, shipment.ActCorrect); apperr.CodeOf(err) != "reason.required" {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := b.svc().Scan(b.ctx, b.actors["admin"], tracking.ScanRequest{Code: no, Action: shipment.ActCorrect,
		ScanID: nextScanID(), Reason: "wrong_parcel"}); err != nil {
		t.Fatal(err)
	}
	if got := b.row(t, no); got != inBag {
		t.Fatalf("after correcting the receive\n got %s\nwant %s", got, inBag)
	}
	if got := tick(); got != "/false" {
		t.Fatalf("check list after the correction: %s, want the parcel awaited again", got)
	}
}

// TestCorrectRefusalsChangeNothing: who may correct what, and when.
func TestCorrectRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fresh := b.register(t, certReg()).WaybillNo
	no := b.arrived(t)
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready)
	before := b.parcelCounts(t, no)
	var shelveSeq int
	if err := b.pool.QueryRow(b.ctx, `SELECT event_seq FROM parcels WHERE waybill_no = $1`, no).Scan(&shelveSeq); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who, code, reason string
		corrects          int
		kind              apperr.Kind
		err               string
	}{
		{"staff", no, "wrong_parcel", 0, apperr.Forbidden, "action.role_forbidden"},
		{"clerk", no, "wrong_parcel", 0, apperr.Forbidden, "action.role_forbidden"},
		{"courier", no, "wrong_parcel", 0, apperr.Forbidden, "action.role_forbidden"},
		{"leadNG", no, "wrong_parcel", 0, apperr.Forbidden, "parcel.other_site"},
		{"lead", no, "", 0, apperr.Invalid, "reason.required"},
		{"lead", no, "damaged", 0, apperr.Invalid, "reason.unknown"},
		{"lead", no, "wrong_parcel", shelveSeq - 1, apperr.Conflict, "correct.not_latest"},
		{"lead", fresh, "wrong_parcel", 0, apperr.Conflict, "correct.nothing"},
	} {
		_, err := b.scan(t, c.who, c.code, shipment.ActCorrect, "", because(c.reason),
			func(r *tracking.ScanRequest) { r.Corrects = c.corrects })
		if e := apperr.As(err); e == nil || e.Kind != c.kind || e.Code != c.err {
			t.Errorf("%s corrects (%q, %d): %v, want %s", c.who, c.reason, c.corrects, err, c.err)
		}
	}
	if got := b.parcelCounts(t, no); got != before {
		t.Fatalf("refusals changed the parcel: %s, was %s", got, before)
	}

	// The pickup was made at D-SW: not the CC-WIN lead's to correct.
	other := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", other, shipment.ActPickup, "", shipment.InTransit)
	if _, err := b.scan(t, "lead", other, shipment.ActCorrect, "", because("wrong_parcel")); apperr.CodeOf(err) != "correct.other_site" {
		t.Errorf("lead corrects a pickup elsewhere: %v", err)
	}

	// A correction is not corrected; the same one from another station at
	// once is a repeat.
	req := tracking.ScanRequest{Code: no, Action: shipment.ActCorrect, ScanID: nextScanID(), Reason: "too_early", Corrects: shelveSeq}
	if _, err := b.svc().Scan(b.ctx, b.actors["lead"], req); err != nil {
		t.Fatal(err)
	}
	after := b.parcelCounts(t, no)
	req.ScanID = nextScanID()
	if res, err := b.svc().Scan(b.ctx, b.actors["lead"], req); err != nil || !res.Repeat {
		t.Fatalf("the same correction at once: %+v %v", res, err)
	}
	b.clock.Add(2 * time.Minute)
	if _, err := b.scan(t, "lead", no, shipment.ActCorrect, "", because("other")); apperr.CodeOf(err) != "correct.already" {
		t.Errorf("correct a correction: %v", err)
	}
	if got := b.parcelCounts(t, no); got != after {
		t.Fatalf("the repeat or the refusal changed the parcel: %s, was %s", got, after)
	}

	// A week later it is too late.
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready)
	b.clock.Add(shipment.CorrectWindow + time.Hour)
	if _, err := b.scan(t, "lead", no, shipment.ActCorrect, "", because("too_early")); apperr.CodeOf(err) != "correct.too_late" {
		t.Errorf("correct after a week: %v", err)
	}
}
