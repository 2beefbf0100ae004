package service

import (
	"context"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/tracking"
)

// CourierStore keeps what the contracted courier tells of its routes.
type CourierStore interface {
	// SaveRouteNodes keeps the nodes not kept before and returns those.
	SaveRouteNodes(ctx context.Context, nodes []tracking.RouteNode) ([]tracking.RouteNode, error)
}

// Couriers takes in what the contracted courier says: its pushes and the
// answers of route queries, kept before the push is answered.
type Couriers struct {
	Store CourierStore
}

// MaxNodes bounds one push or query answer's nodes.
const MaxNodes = 100

// ReceiveNodes keeps a courier's route nodes, each once however often it
// comes, and returns how many were new. Moving parcels by them comes with
// the bookings (a later step of the courier's integration).
//
// Errors: courier.nodes_invalid (invalid): no nodes, too many, or a node
// without its carrier, order, waybill, time or code, or of an unknown way
// in or stage.
func (c *Couriers) ReceiveNodes(ctx context.Context, nodes []tracking.RouteNode) (int, error) {
	if len(nodes) == 0 || len(nodes) > MaxNodes {
		return 0, apperr.New(apperr.Invalid, "courier.nodes_invalid").With("nodes", len(nodes))
	}
	for i, n := range nodes {
		if n.Carrier == "" || n.OrderID == "" || n.WaybillNo == "" || n.At.IsZero() || n.OpCode == "" ||
			(n.Via != "push" && n.Via != "query") || !validStage(n.Stage) {
			return 0, apperr.New(apperr.Invalid, "courier.nodes_invalid").With("node", i)
		}
	}
	fresh, err := c.Store.SaveRouteNodes(ctx, nodes)
	return len(fresh), err
}

func validStage(s tracking.CourierStage) bool {
	switch s {
	case tracking.StageUnknown, tracking.StageCollected, tracking.StageMoving, tracking.StageOutForDelivery,
		tracking.StageSigned, tracking.StageFailed, tracking.StageReturned:
		return true
	}
	return false
}
