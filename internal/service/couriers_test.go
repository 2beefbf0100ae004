package service

import (
	"context"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/tracking"
)

type nodeStore struct{ kept map[string]bool }

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

func TestReceiveNodes(t *testing.T) {
	c := &Couriers{Store: &nodeStore{kept: map[string]bool{}}}
	n := tracking.RouteNode{Carrier: "sfexpress", OrderID: "CR-1", WaybillNo: "SF1", At: time.Now(), OpCode: "50",
		Stage: tracking.StageCollected, Via: "push"}
	if got, err := c.ReceiveNodes(context.Background(), []tracking.RouteNode{n, n}); err != nil || got != 1 {
		t.Fatalf("%d new, %v", got, err)
	}
	if got, err := c.ReceiveNodes(context.Background(), []tracking.RouteNode{n}); err != nil || got != 0 {
		t.Fatalf("again: %d new, %v", got, err)
	}
	bad := []func(*tracking.RouteNode){
		func(n *tracking.RouteNode) { n.Carrier = "" }, func(n *tracking.RouteNode) { n.OrderID = "" },
		func(n *tracking.RouteNode) { n.At = time.Time{} }, func(n *tracking.RouteNode) { n.Via = "mail" },
		func(n *tracking.RouteNode) { n.Stage = "lost" }, func(n *tracking.RouteNode) { n.OpCode = "" },
	}
	for i, f := range bad {
		m := n
		f(&m)
		if _, err := c.ReceiveNodes(context.Background(), []tracking.RouteNode{m}); apperr.CodeOf(err) != "courier.nodes_invalid" {
			t.Errorf("bad node %d: %v", i, err)
		}
	}
	if _, err := c.ReceiveNodes(context.Background(), nil); apperr.CodeOf(err) != "courier.nodes_invalid" {
		t.Errorf("no nodes: %v", err)
	}
}
