package postgres_test

import (
	"testing"

	"github.com/changchun-gov/courier/shipment"
)

// heapOnly tells whether the current version of the parcel is a heap-only
// tuple: written by an update that PostgreSQL made in place (HOT), adding
// no entry to any index. Read from the page itself (pageinspect).
func (b *bundle) heapOnly(t *testing.T, waybill string) bool {
	t.Helper()
	if _, err := b.owner.Exec(b.ctx, `CREATE EXTENSION IF NOT EXISTS pageinspect`); err != nil {
		t.Fatal(err)
	}
	var only bool
	err := b.owner.QueryRow(b.ctx, `WITH c AS (
		SELECT (ctid::text::point)[0]::int AS blk, (ctid::text::point)[1]::int AS off FROM parcels WHERE waybill_no = $1)
		SELECT (h.t_infomask2 & 32768) <> 0 FROM c, heap_page_items(get_raw_page('parcels', c.blk)) h WHERE h.lp = c.off`,
		waybill).Scan(&only)
	if err != nil {
		t.Fatal(err)
	}
	return only
}

// waitsFor is the leg a parcel waits for, as the index of waiting parcels
// sees it (its generated columns).
func (b *bundle) waitsFor(t *testing.T, waybill string) string {
	t.Helper()
	var leg string
	if err := b.owner.QueryRow(b.ctx, `SELECT coalesce(wait_from || $$→$$ || wait_to, '') FROM parcels WHERE waybill_no = $1`,
		waybill).Scan(&leg); err != nil {
		t.Fatal(err)
	}
	return leg
}

// TestAPickupUpdatesTheParcelInPlace: a pickup changes the parcel's status
// but no indexed value, so PostgreSQL makes it a HOT update (no index
// written), whether the parcel was booked into a run or picked up without
// one. Before migration 00015 status stood in partial indexes' predicates
// and every scan wrote all the indexes of parcels. A parcel picked up
// without a run stays in the waiting index, and the next run passes it by.
func TestAPickupUpdatesTheParcelInPlace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	booked := b.register(t, hubReg()).WaybillNo
	loose := b.register(t, hubReg()).WaybillNo
	if got := b.waitsFor(t, loose); got != "D-SW→CC-HUB" {
		t.Fatalf("registered parcel waits for %q, want D-SW→CC-HUB", got)
	}
	b.mustScan(t, "courier", loose, shipment.ActPickup, "", shipment.InTransit)
	if !b.heapOnly(t, loose) {
		t.Fatal("the pickup without a run was not a HOT update: it wrote every index of parcels")
	}
	run := b.makeRun(t)
	if st, _ := b.status(t, booked); run.ParcelCount != 1 || st != shipment.AwaitingPickup {
		t.Fatalf("the run took %d parcels, %s is %s: want only it (the other is on its way)", run.ParcelCount, booked, st)
	}
	if got := b.waitsFor(t, booked); got != "" {
		t.Fatalf("parcel in a run still waits for %q", got)
	}
	b.mustScan(t, "courier", booked, shipment.ActPickup, "", shipment.InTransit)
	if !b.heapOnly(t, booked) {
		t.Fatal("the pickup of a booked parcel was not a HOT update: it wrote every index of parcels")
	}
}
