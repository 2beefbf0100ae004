package postgres_test

import (
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// A citizen comes late: the parcel returning to its department is still
// at the hall, so it is recalled to the shelf with a fresh collection code
// that reaches the holder; the old code no longer hands it over, the new
// one does. Once the courier took it, it cannot be recalled.
func TestRecallGivesAFreshCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := &sink{}
	no := b.ready(t)
	if rep, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: n}, 10); err != nil || rep.Sent != 1 {
		t.Fatalf("deliver: %+v %v", rep, err)
	}
	oldCode := n.last(t).Params["code"]
	b.mustScan(t, "staff", no, shipment.ActReturn, "", shipment.Returning, func(r *tracking.ScanRequest) { r.Reason = "uncollected" })

	if _, err := b.scan(t, "staffNG", no, shipment.ActRecall, "NG-HALL"); apperr.KindOf(err) == "" {
		t.Fatal("another hall recalled the parcel")
	}
	b.mustScan(t, "staff", no, shipment.ActRecall, "CC-WIN", shipment.Ready)
	var path []string
	var idx int
	if err := b.pool.QueryRow(b.ctx, `SELECT path, path_idx FROM parcels WHERE waybill_no = $1`, no).Scan(&path, &idx); err != nil {
		t.Fatal(err)
	}
	if len(path) != 2 || path[0] != "D-SW" || path[1] != "CC-WIN" || idx != 1 {
		t.Fatalf("after the recall: path %v at %d", path, idx)
	}
	if rep, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: n}, 10); err != nil || rep.Sent != 1 {
		t.Fatalf("deliver after the recall: %+v %v", rep, err)
	}
	m := n.last(t)
	if m.Template != "sms.ready" || len(m.Params["code"]) != 6 || m.Params["code"] == oldCode {
		t.Fatalf("the recall's message: %+v (old code %s)", m, oldCode)
	}
	withCode := func(code string) func(*tracking.ScanRequest) {
		return func(r *tracking.ScanRequest) { r.CollectionCode = code }
	}
	if _, err := b.scan(t, "staff", no, shipment.ActCollect, "CC-WIN", withCode(oldCode)); apperr.CodeOf(err) != "collect.code_wrong" {
		t.Fatalf("the old code: %v", err)
	}
	b.mustScan(t, "staff", no, shipment.ActCollect, "CC-WIN", shipment.Collected, withCode(m.Params["code"]))

	// Returning and picked up: gone from the hall.
	other := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", other, shipment.ActPickup, "D-SW", shipment.InTransit)
	b.mustScan(t, "staff", other, shipment.ActReceive, "CC-WIN", shipment.Arrived)
	b.mustScan(t, "staff", other, shipment.ActReturn, "", shipment.Returning, func(r *tracking.ScanRequest) { r.Reason = "uncollected" })
	b.mustScan(t, "courier", other, shipment.ActPickup, "CC-WIN", shipment.Returning)
	if _, err := b.scan(t, "staff", other, shipment.ActRecall, "CC-WIN"); apperr.CodeOf(err) != "recall.left_hall" {
		t.Fatalf("a recall after the pickup: %v", err)
	}
}
