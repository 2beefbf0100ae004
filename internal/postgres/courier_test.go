package postgres_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// A courier call is kept with its bodies encrypted, read back in clear,
// and emptied with its parcel's personal data; a call about a run (no
// parcel) keeps its bodies.
func TestCourierExchangesAreKeptAndPurged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.register(t, certReg())
	var parcelID int64
	if err := b.pool.QueryRow(b.ctx, `SELECT id FROM parcels WHERE waybill_no = $1`, p.WaybillNo).Scan(&parcelID); err != nil {
		t.Fatal(err)
	}
	req := []byte(`serviceCode=EXP_RECE_CREATE_ORDER&msgData={"contact":"王小明","mobile":"13912345678"}`)
	for _, x := range []tracking.CourierExchange{
		{Carrier: "sfexpress", Service: "EXP_RECE_CREATE_ORDER", OrderID: p.WaybillNo, ParcelID: parcelID, Started: b.clock.Now(),
			Took: 120 * time.Millisecond, Status: 200, Outcome: "ok", Request: req, Response: []byte(`{"apiResultCode":"A1000"}`)},
		{Carrier: "sfexpress", Service: "EXP_RECE_CREATE_ORDER", OrderID: "CR-RUN-1", RunID: 7, Started: b.clock.Now(),
			Took: time.Second, Outcome: "no_answer", Request: []byte("serviceCode=EXP_RECE_CREATE_ORDER")},
	} {
		if err := b.ledger.RecordExchange(b.ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.ledger.Exchanges(b.ctx, "sfexpress", p.WaybillNo)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Request, req) || got[0].Took != 120*time.Millisecond || got[0].ParcelID != parcelID {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if n := b.countRows(t, `SELECT count(*) FROM courier_exchanges WHERE position('13912345678'::bytea IN request_enc) > 0`); n != 0 {
		t.Fatal("a phone number is stored in clear")
	}
	b.mustScan(t, "clerk", p.WaybillNo, shipment.ActCancel, "", shipment.Cancelled,
		func(r *tracking.ScanRequest) { r.Reason = "applicant_withdrew" })
	b.clock.Add(400 * 24 * time.Hour)
	if _, err := b.ledger.PurgePersonal(b.ctx, 180*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err = b.ledger.Exchanges(b.ctx, "sfexpress", p.WaybillNo)
	if err != nil || len(got) != 1 || got[0].Request != nil || got[0].Response != nil || got[0].Outcome != "ok" {
		t.Fatalf("after the purge: %+v %v", got, err)
	}
	run, err := b.ledger.Exchanges(b.ctx, "sfexpress", "CR-RUN-1")
	if err != nil || len(run) != 1 || run[0].Request == nil {
		t.Fatalf("the run's call after the purge: %+v %v", run, err)
	}
	if _, err := b.pool.Exec(b.ctx, `DELETE FROM courier_exchanges`); err == nil {
		t.Fatal("the service's role deleted the courier's exchanges")
	}
}

// A route node is kept once, whether it came by push (with its id) or by
// query (without); the service's role cannot change or delete one.
func TestRouteNodesAreKeptOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := time.Date(2026, 12, 3, 7, 2, 11, 0, time.UTC)
	node := func(id, op, via string, after time.Duration) tracking.RouteNode {
		return tracking.RouteNode{Carrier: "sfexpress", NodeID: id, OrderID: "CR-1", WaybillNo: "SF1000000000000", At: at.Add(after),
			OpCode: op, Stage: tracking.StageCollected, Via: via, ReceivedAt: b.clock.Now()}
	}
	fresh, err := b.ledger.SaveRouteNodes(b.ctx, []tracking.RouteNode{node("158918741444476", "50", "push", 0), node("158918741444477", "36", "push", time.Hour)})
	if err != nil || len(fresh) != 2 {
		t.Fatalf("first push: %d new, %v", len(fresh), err)
	}
	// The same nodes again by push, and the first by query: nothing new.
	fresh, err = b.ledger.SaveRouteNodes(b.ctx, []tracking.RouteNode{node("158918741444476", "50", "push", 0), node("", "50", "query", 0),
		node("", "80", "query", 2*time.Hour)})
	if err != nil || len(fresh) != 1 || fresh[0].OpCode != "80" {
		t.Fatalf("again: %+v %v", fresh, err)
	}
	all, err := b.ledger.RouteNodes(b.ctx, "sfexpress", "CR-1")
	if err != nil || len(all) != 3 || all[0].NodeID != "158918741444476" || all[2].Via != "query" {
		t.Fatalf("kept: %+v %v", all, err)
	}
	for _, sql := range []string{`UPDATE route_nodes SET stage = 'signed'`, `DELETE FROM route_nodes`} {
		if _, err := b.pool.Exec(b.ctx, sql); err == nil {
			t.Fatalf("the service's role may %s", sql)
		}
	}
}
