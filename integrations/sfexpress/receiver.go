package sfexpress

import (
	"context"
	"net/http"
	"time"

	"github.com/changchun-gov/courier/tracking"
)

// PushReceiver answers SF's route push (JSON mode): the nodes are kept
// first (Save, each once), then SF is told 0000; a body that is not a push
// or a failure to keep it answers 1000, and SF pushes again.
type PushReceiver struct {
	Save func(ctx context.Context, nodes []tracking.RouteNode) (int, error)
	Now  func() time.Time
}

// Receive takes one push and returns the HTTP status and body to answer.
func (r *PushReceiver) Receive(ctx context.Context, body []byte) (int, []byte) {
	nodes, err := ParsePush(body)
	if err != nil {
		return http.StatusBadRequest, PushRefused
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	kept := make([]tracking.RouteNode, len(nodes))
	for i, n := range nodes {
		kept[i] = n.Node(now())
	}
	if _, err := r.Save(ctx, kept); err != nil {
		return http.StatusInternalServerError, PushRefused
	}
	return http.StatusOK, PushAccepted
}
