package service

import (
	"context"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

type nodeStore struct {
	kept map[string]bool
	runs map[string]tracking.BookingState // by waybill
}

func (s *nodeStore) SaveRouteNodes(_ context.Context, nodes []tracking.RouteNode) ([]tracking.RouteNode, error) {
	var fresh []tracking.RouteNode
	for _, n := range nodes {
		k := n.Carrier + n.WaybillNo + n.At.String() + n.OpCode
		if !s.kept[k] {
			s.kept[k] = true
			fresh = append(fresh, n)
		}
	}
	return fresh, nil
}

func (s *nodeStore) BookingOf(_ context.Context, carrier, waybill, order string) (tracking.BookingState, error) {
	if b, ok := s.runs[waybill]; ok && b.Carrier == carrier {
		return b, nil
	}
	for _, b := range s.runs {
		if b.RunNo == order && b.Carrier == carrier {
			return b, nil
		}
	}
	return tracking.BookingState{}, apperr.New(apperr.NotFound, "run.not_found")
}

func (s *nodeStore) QuietBookings(context.Context, time.Time, int) ([]tracking.BookingState, error) {
	return nil, nil
}

type scanLog struct {
	scans []tracking.ScanRequest
	err   error
}

func (l *scanLog) Scan(_ context.Context, a shipment.Actor, req tracking.ScanRequest) (tracking.ScanResult, error) {
	if a.Role != shipment.RoleCourier {
		return tracking.ScanResult{}, apperr.New(apperr.Forbidden, "action.role_forbidden")
	}
	l.scans = append(l.scans, req)
	return tracking.ScanResult{}, l.err
}

func TestReceiveNodes(t *testing.T) {
	ctx := context.Background()
	store := &nodeStore{kept: map[string]bool{}, runs: map[string]tracking.BookingState{
		"SF1": {Booking: tracking.Booking{RunNo: "CR-1", BagNo: "CB-1", FromSite: "D-SW", Ref: "SF1"}, Carrier: "sfexpress",
			Status: tracking.BookingBooked, RunStatus: "sealed"},
	}}
	scans := &scanLog{}
	c := &Couriers{Store: store, Scans: scans}
	at := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)
	n := tracking.RouteNode{Carrier: "sfexpress", OrderID: "CR-1", WaybillNo: "SF1", At: at, OpCode: "50",
		Stage: tracking.StageCollected, Via: "push"}
	r, err := c.ReceiveNodes(ctx, []tracking.RouteNode{n, n})
	if err != nil || r.Fresh != 1 || r.Moved != 1 || r.Unknown != 0 {
		t.Fatalf("%+v, %v", r, err)
	}
	if len(scans.scans) != 1 {
		t.Fatalf("scans: %+v", scans.scans)
	}
	s := scans.scans[0]
	if s.Code != "CB-1" || s.Action != shipment.ActPickup || s.Site != "D-SW" || s.Source != shipment.SourceCourier ||
		s.ScannedAt == nil || !s.ScannedAt.Equal(at) || s.ScanID == "" {
		t.Errorf("the pickup: %+v", s)
	}
	// Repeated: kept once; the run is asked again with the same scan id (a
	// pickup that failed before is made now; one made is a repeat).
	if r, err := c.ReceiveNodes(ctx, []tracking.RouteNode{n}); err != nil || r.Fresh != 0 {
		t.Fatalf("again: %+v, %v", r, err)
	}
	if len(scans.scans) != 2 || scans.scans[1].ScanID != s.ScanID {
		t.Errorf("again: %+v", scans.scans)
	}
	// A run moved on meanwhile (the scan is refused as a conflict): the node is
	// kept, no error, nothing moved.
	scans.err = apperr.New(apperr.Conflict, "bag.state")
	later := n
	later.At, later.OpCode, later.Stage = at.Add(time.Hour), "36", tracking.StageMoving
	if r, err := c.ReceiveNodes(ctx, []tracking.RouteNode{later}); err != nil || r.Fresh != 1 || r.Moved != 0 {
		t.Fatalf("moved on: %+v, %v", r, err)
	}
	// A picked-up run is not scanned at all; a node before collected moves nothing.
	store.runs["SF1"] = tracking.BookingState{Booking: store.runs["SF1"].Booking, Carrier: "sfexpress", RunStatus: "picked_up"}
	scans.scans = nil
	signed := n
	signed.At, signed.OpCode, signed.Stage = at.Add(3*time.Hour), "80", tracking.StageSigned
	if r, err := c.ReceiveNodes(ctx, []tracking.RouteNode{signed}); err != nil || r.Fresh != 1 || len(scans.scans) != 0 {
		t.Fatalf("signed: %+v, %v, %+v", r, err, scans.scans)
	}
	// An unknown waybill: nothing kept, nothing moved, no error.
	unknown := n
	unknown.WaybillNo, unknown.OrderID = "SF999", "CR-999"
	if r, err := c.ReceiveNodes(ctx, []tracking.RouteNode{unknown}); err != nil || r.Unknown != 1 || r.Fresh != 0 {
		t.Fatalf("unknown: %+v, %v", r, err)
	}
	// Found by our order id when the waybill is not recorded yet.
	early := n
	early.WaybillNo, early.At = "SF-NEW", at.Add(time.Minute)
	if r, err := c.ReceiveNodes(ctx, []tracking.RouteNode{early}); err != nil || r.Fresh != 1 {
		t.Fatalf("by order id: %+v, %v", r, err)
	}

	bad := []func(*tracking.RouteNode){
		func(n *tracking.RouteNode) { n.Carrier = "" }, func(n *tracking.RouteNode) { n.OrderID = "" },
		func(n *tracking.RouteNode) { n.At = time.Time{} }, func(n *tracking.RouteNode) { n.Via = "mail" },
		func(n *tracking.RouteNode) { n.Stage = "lost" }, func(n *tracking.RouteNode) { n.OpCode = "" },
	}
	for i, f := range bad {
		m := n
		f(&m)
		if _, err := c.ReceiveNodes(ctx, []tracking.RouteNode{m}); apperr.CodeOf(err) != "courier.nodes_invalid" {
			t.Errorf("bad node %d: %v", i, err)
		}
	}
	if _, err := c.ReceiveNodes(ctx, nil); apperr.CodeOf(err) != "courier.nodes_invalid" {
		t.Errorf("no nodes: %v", err)
	}
}
