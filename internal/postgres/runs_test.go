package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func (b *bundle) leg(t *testing.T, from, to string) shipment.Leg {
	t.Helper()
	legs, err := b.routes.Legs(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range legs {
		if l.From == from && l.To == to {
			return l
		}
	}
	t.Fatalf("no leg %s → %s", from, to)
	return shipment.Leg{}
}

func hubReg() shipment.Registration {
	r := certReg()
	r.Destination.Site = "ED-HALL"
	return r
}

func (b *bundle) staffAt(t *testing.T, site string) shipment.Actor {
	t.Helper()
	u, err := b.users.Create(b.ctx, shipment.NewUser{Username: "staff-" + toLower(site), Password: "password-123456",
		Role: shipment.RoleStaff, Site: site})
	if err != nil {
		t.Fatal(err)
	}
	return shipment.Actor{ID: u.ID, Username: u.Username, Role: u.Role, Site: u.Site}
}

func (b *bundle) scanAs(t *testing.T, a shipment.Actor, code string, action shipment.Action) (tracking.ScanResult, error) {
	t.Helper()
	res, err := b.svc().Scan(b.ctx, a, tracking.ScanRequest{Code: code, Action: action, ScanID: nextScanID(), Reason: cancelReason(action)})
	b.clock.Add(2 * time.Minute)
	return res, err
}

// cancelReason is the reason a test's cancel gives ("" for other actions).
func cancelReason(a shipment.Action) string {
	if a == shipment.ActCancel {
		return "applicant_withdrew"
	}
	return ""
}

// A certificate for a county hall goes department → hub → hall in sealed
// runs; the hub's receive sends it on its next leg without retyping.
func TestHubJourneyThroughRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hub := b.staffAt(t, "CC-HUB")
	var nos []string
	for i := 0; i < 3; i++ {
		v := b.register(t, hubReg())
		if !slices.Equal(v.Path, []string{"D-SW", "CC-HUB", "ED-HALL"}) {
			t.Fatalf("path %v", v.Path)
		}
		nos = append(nos, v.WaybillNo)
	}
	other := b.register(t, certReg()).WaybillNo // for CC-WIN: another leg

	slot := time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)
	run, err := b.ledger.MakeRun(b.ctx, b.leg(t, "D-SW", "CC-HUB"), slot, "schedule", nil)
	if err != nil || run == nil || run.ParcelCount != 3 {
		t.Fatalf("run: %+v %v", run, err)
	}
	if _, err := b.ledger.MakeRun(b.ctx, b.leg(t, "D-SW", "CC-HUB"), slot, "schedule", nil); !errors.Is(err, postgres.ErrSlotTaken) {
		t.Fatalf("second make of the slot: %v", err)
	}
	for _, no := range nos {
		if st, _ := b.status(t, no); st != shipment.AwaitingPickup {
			t.Fatalf("%s: %s", no, st)
		}
	}
	if st, _ := b.status(t, other); st != shipment.Registered {
		t.Fatalf("parcel of another leg moved: %s", st)
	}
	if _, err := b.scanAs(t, b.actors["clerk"], nos[0], shipment.ActCancel); apperr.CodeOf(err) != "cancel.run_sealed" {
		t.Fatalf("cancel in a sealed run: %v", err)
	}

	// The courier scans the bag: every parcel in it is in transit.
	res, err := b.scanAs(t, b.actors["courier"], run.BagNo, shipment.ActPickup)
	if err != nil || len(res.Items) != 3 || res.Items[0].Status != shipment.InTransit || res.Kind != "bag" {
		t.Fatalf("bag pickup: %+v %v", res, err)
	}
	again, err := b.scanAs(t, b.actors["courier"], run.BagNo, shipment.ActPickup)
	if err != nil || !again.Repeat {
		t.Fatalf("second bag pickup: %+v %v", again, err)
	}
	// The hub scans the bag (check list opens), two parcels, and one that was not in it.
	if _, err := b.scanAs(t, b.actors["staff"], run.BagNo, shipment.ActReceive); apperr.CodeOf(err) != "scan.other_site" {
		t.Fatalf("bag received by another site: %v", err)
	}
	res, err = b.scanAs(t, hub, run.RunNo, shipment.ActReceive)
	if err != nil || len(res.Items) != 3 {
		t.Fatalf("bag receive: %+v %v", res, err)
	}
	for _, no := range nos[:2] {
		if r, err := b.scanAs(t, hub, no, shipment.ActReceive); err != nil || r.Items[0].Status != shipment.Arrived || r.Items[0].NextSite != "ED-HALL" {
			t.Fatalf("receive %s at hub: %+v %v", no, r, err)
		}
	}
	extra := b.register(t, hubReg()).WaybillNo
	b.mustScan(t, "courier", extra, shipment.ActPickup, "D-SW", shipment.InTransit)
	if _, err := b.scanAs(t, hub, extra, shipment.ActReceive); err != nil {
		t.Fatal(err)
	}
	closed, err := b.runs().CloseRun(b.ctx, hub, run.RunNo)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(closed.Missing, []string{nos[2]}) || len(closed.Received) != 2 || !slices.Equal(closed.Extras, []string{extra}) {
		t.Fatalf("reconciliation: %+v", closed)
	}
	if st, _ := b.status(t, nos[2]); st != shipment.Exception {
		t.Fatalf("missing parcel: %s", st)
	}
	if _, err := b.runs().CloseRun(b.ctx, hub, run.RunNo); apperr.CodeOf(err) != "run.closed" {
		t.Fatalf("close twice: %v", err)
	}

	// The next leg's run takes the parcels the hub received, and the extra one.
	next, err := b.ledger.MakeRun(b.ctx, b.leg(t, "CC-HUB", "ED-HALL"), slot.Add(2*time.Hour), "schedule", nil)
	if err != nil || next == nil || next.ParcelCount != 3 {
		t.Fatalf("next leg: %+v %v", next, err)
	}
	detail, err := b.runs().Run(b.ctx, b.actors["admin"], next.BagNo)
	if err != nil || len(detail.Items) != 3 || detail.Booking == nil || detail.Booking.Status != "pending" {
		t.Fatalf("detail: %+v %v", detail, err)
	}
	// Events record the run, the bag and the leg.
	var runID, bagID string
	_ = b.pool.QueryRow(b.ctx, `SELECT run_id, bag_id FROM events e JOIN parcels p ON p.id = e.parcel_id
		WHERE p.waybill_no = $1 AND e.action = 'book' ORDER BY seq LIMIT 1`, nos[0]).Scan(&runID, &bagID)
	if runID != run.RunNo || bagID != run.BagNo {
		t.Fatalf("event run/bag: %s %s", runID, bagID)
	}
}

func TestEmptySlotMakesNoBag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run, err := b.ledger.MakeRun(b.ctx, b.leg(t, "D-GT", "CC-HUB"), time.Now(), "schedule", nil)
	if err != nil || run != nil {
		t.Fatalf("%+v %v", run, err)
	}
	var slots, runs int
	_ = b.pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM run_slots), (SELECT count(*) FROM runs)`).Scan(&slots, &runs)
	if slots != 1 || runs != 0 {
		t.Fatalf("slots %d runs %d", slots, runs)
	}
}

// Three instances making the same slots at once: one run per slot.
func TestThreeInstancesMakeEachSlotOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	leg := b.leg(t, "D-SW", "CC-HUB")
	const slots = 12
	base := time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)
	for s := 0; s < slots; s++ {
		for i := 0; i < 3; i++ {
			b.register(t, hubReg())
		}
		instances := []postgres.Ledger{*b.ledger, *b.ledger, *b.ledger}
		var wg sync.WaitGroup
		made := make([]int, 3)
		for i := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := instances[i].MakeRun(context.Background(), leg, base.Add(time.Duration(s)*time.Hour), "schedule", nil)
				if err == nil && r != nil {
					made[i] = r.ParcelCount
				} else if err != nil && !errors.Is(err, postgres.ErrSlotTaken) {
					t.Errorf("slot %d instance %d: %v", s, i, err)
				}
			}()
		}
		wg.Wait()
		if total := made[0] + made[1] + made[2]; total != 3 {
			t.Fatalf("slot %d: instances made %v", s, made)
		}
	}
	var perSlot, twice, left int
	_ = b.pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM runs WHERE leg_id = $1),
		(SELECT count(*) FROM (SELECT parcel_id FROM run_items GROUP BY parcel_id HAVING count(*) > 1) x),
		(SELECT count(*) FROM parcels WHERE current_run IS NULL)`, leg.ID).Scan(&perSlot, &twice, &left)
	if perSlot != slots || twice != 0 || left != 0 {
		t.Fatalf("runs %d (want %d), parcels in two runs %d, left behind %d", perSlot, slots, twice, left)
	}
}

// An instance killed in the middle of making a run leaves no parcel in two
// runs and none behind: its transaction dies with it, and the slot is made
// again in full.
func TestKilledInTheMiddleOfARun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	leg := b.leg(t, "D-SW", "CC-HUB")
	for i := 0; i < 5; i++ {
		b.register(t, hubReg())
	}
	slot := time.Date(2026, 11, 27, 6, 30, 0, 0, time.UTC)
	inside := make(chan int32)
	resume := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := b.ledger.MakeRun(context.Background(), leg, slot, "schedule", func(ctx context.Context, tx pgx.Tx, runID int64) error {
			var pid int32
			if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			inside <- pid
			<-resume
			return nil
		})
		done <- err
	}()
	pid := <-inside
	// The parcels are moved inside the dying transaction; kill its backend.
	if _, err := b.pool.Exec(b.ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-done; err == nil {
		t.Fatal("the killed run committed")
	}
	var runs, slots, waiting int
	_ = b.pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM run_slots),
		(SELECT count(*) FROM parcels WHERE current_run IS NULL AND status = 'registered')`).Scan(&runs, &slots, &waiting)
	if runs != 0 || slots != 0 || waiting != 5 {
		t.Fatalf("after the kill: runs %d slots %d waiting %d", runs, slots, waiting)
	}
	run, err := b.ledger.MakeRun(b.ctx, leg, slot, "schedule", nil)
	if err != nil || run == nil || run.ParcelCount != 5 {
		t.Fatalf("remade: %+v %v", run, err)
	}
}
