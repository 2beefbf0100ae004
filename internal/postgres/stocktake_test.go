package postgres_test

import (
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// A stocktake is reconciled against the hall's shelves as stored and kept;
// another hall's staff may not take this hall's.
func TestStocktakeIsKept(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setSlots(t, "CC-WIN", true, "A-01")
	on := b.arrived(t)
	b.mustScan(t, "staff", on, shipment.ActShelve, "", shipment.Ready, func(r *tracking.ScanRequest) { r.Slot = "A-01" })
	missing := b.arrived(t)
	b.mustScan(t, "staff", missing, shipment.ActShelve, "", shipment.Ready, func(r *tracking.ScanRequest) { r.Slot = "A-01" })
	hall := &service.Hall{Store: b.ledger, Ref: b.ledger.Ref, Now: b.clock.Now}
	r, err := hall.Stocktake(b.ctx, b.actors["staff"], "", []tracking.Seen{{Code: on, Slot: "A-01"}, {Code: "NOT-A-CODE"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Expected != 2 || len(r.Missing) != 1 || r.Missing[0].WaybillNo != missing ||
		len(r.Unexpected) != 1 || r.Unexpected[0] != "NOT-A-CODE" {
		t.Fatalf("stocktake %+v", r)
	}
	if n := b.countRows(t, `SELECT count(*) FROM stocktakes WHERE id = $1 AND site_code = 'CC-WIN' AND result->'missing'->0->>'waybill_no' = $2`,
		r.ID, missing); n != 1 {
		t.Fatalf("stocktake kept %d times", n)
	}
	if _, err := hall.Stocktake(b.ctx, b.actors["staffNG"], "CC-WIN", nil); apperr.CodeOf(err) != "auth.forbidden" {
		t.Fatalf("another hall's staff: %v", err)
	}
}

// A parcel going back to its department stays on the hall's list to pull
// and bag until the courier takes it, in a run or not yet.
func TestReturningStaysOnTheShelfUntilPickedUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setSlots(t, "CC-WIN", true, "A-01")
	no := b.arrived(t)
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready, func(r *tracking.ScanRequest) { r.Slot = "A-01" })
	b.mustScan(t, "staff", no, shipment.ActReturn, "", shipment.Returning, func(r *tracking.ScanRequest) { r.Reason = "uncollected" })
	hall := &service.Hall{Store: b.ledger, Ref: b.ledger.Ref, Now: b.clock.Now}
	returning := func() []string {
		t.Helper()
		all, ret, err := hall.Shelf(b.ctx, b.actors["staff"], "")
		if err != nil {
			t.Fatal(err)
		}
		var nos []string
		for _, it := range ret {
			nos = append(nos, it.WaybillNo)
			if it.Slot != "A-01" {
				t.Errorf("returning %s is listed in slot %q, want the slot it sits in", it.WaybillNo, it.Slot)
			}
		}
		if len(all) != len(ret) {
			t.Errorf("on the shelf %v, returning %v", all, ret)
		}
		return nos
	}
	if got := returning(); len(got) != 1 || got[0] != no {
		t.Fatalf("returning, in no run: %v", got)
	}
	run, err := b.ledger.MakeRun(b.ctx, b.leg(t, "CC-WIN", "D-SW"), b.clock.Now(), "schedule", nil)
	if err != nil || run == nil || run.ParcelCount != 1 {
		t.Fatalf("run: %+v %v", run, err)
	}
	if got := returning(); len(got) != 1 || got[0] != no {
		t.Fatalf("returning, in a sealed run: %v", got)
	}
	if _, err := b.scan(t, "courier", run.BagNo, shipment.ActPickup, ""); err != nil {
		t.Fatal(err)
	}
	if got := returning(); len(got) != 0 {
		t.Fatalf("returning, picked up: %v", got)
	}
}
