package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/changchun-gov/courier/integrations/sfexpress"
)

// SF's route push (couriers.md §1.11): the nodes of an order not yet
// accepted go to PushURL, at most ten a push; a node is accepted when the
// endpoint answers return_code 0000, and is then never pushed again. Any
// other answer, a body that is not JSON or a time-out leaves them to push
// again.

// PushFault changes how the next push is sent.
type PushFault string

// The push faults.
const (
	// PushRepeat sends the last accepted node again with the new ones (a
	// receiver must keep it once).
	PushRepeat PushFault = "repeat"
	// PushReverse sends the nodes newest first.
	PushReverse PushFault = "reverse"
)

// PushOutcome is what one push did.
type PushOutcome struct {
	Nodes    int  // nodes sent
	Accepted bool // the endpoint answered 0000
}

// FailPush queues push faults, played one per push in order.
func (s *SF) FailPush(f ...PushFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushFaults = append(s.pushFaults, f...)
}

// Push sends an order's nodes not yet accepted to url (nothing to send:
// no push, no error).
func (s *SF) Push(ctx context.Context, client *http.Client, url, orderID string) (PushOutcome, error) {
	s.mu.Lock()
	o := s.orders[orderID]
	if o == nil {
		s.mu.Unlock()
		return PushOutcome{}, fmt.Errorf("simulator: no SF order %s", orderID)
	}
	var fault PushFault
	if len(s.pushFaults) > 0 {
		fault, s.pushFaults = s.pushFaults[0], s.pushFaults[1:]
	}
	from := o.pushed
	if fault == PushRepeat && from > 0 {
		from--
	}
	end := min(len(o.routes), o.pushed+sfexpress.MaxPushNodes)
	var nodes []sfexpress.PushNode
	for i := from; i < end; i++ {
		r := o.routes[i]
		nodes = append(nodes, sfexpress.PushNode{ID: o.nodeIDs[i], MailNo: o.result.WaybillNo(), OrderID: orderID,
			AcceptTime: r.AcceptTime, AcceptAddress: r.AcceptAddress, Remark: r.Remark, OpCode: r.OpCode,
			FirstStatusCode: r.FirstStatusCode, SecondaryStatusCode: r.SecondaryStatusCode})
	}
	s.mu.Unlock()
	if len(nodes) == 0 {
		return PushOutcome{}, nil
	}
	if fault == PushReverse {
		slices.Reverse(nodes)
	}
	var p sfexpress.Push
	p.Body.WaybillRoute = nodes
	body, _ := json.Marshal(p)
	out := PushOutcome{Nodes: len(nodes)}
	b, answered, err := postPush(ctx, client, url, body)
	if err != nil || !answered {
		return out, err // not answered: pushed again later
	}
	var reply struct {
		ReturnCode string `json:"return_code"`
	}
	if json.Unmarshal(b, &reply) != nil || reply.ReturnCode != "0000" {
		return out, nil
	}
	out.Accepted = true
	s.mu.Lock()
	o.pushed = end
	s.mu.Unlock()
	return out, nil
}

// Step is one node of the simulator's standard route, some time after
// the order.
type Step struct {
	After time.Duration
	sfexpress.Route
}

// StandardRoute is a certificate's way through SF: collected, moving, out
// for delivery, signed for.
var StandardRoute = []Step{
	{0, sfexpress.Route{OpCode: "50", FirstStatusCode: "1", FirstStatusName: "已揽收", Remark: "顺丰速运 已收取快件"}},
	{time.Hour, sfexpress.Route{OpCode: "36", FirstStatusCode: "2", FirstStatusName: "运送中", Remark: "快件离开【长春南关营业点】，已在发往【长春转运中心】的路上"}},
	{2 * time.Hour, sfexpress.Route{OpCode: "204", FirstStatusCode: "3", FirstStatusName: "派送中", Remark: "快件交给王师傅，正在派送途中"}},
	{3 * time.Hour, sfexpress.Route{OpCode: "80", FirstStatusCode: "4", FirstStatusName: "已签收", Remark: "已签收，感谢使用顺丰"}},
}

// FailedAttempt is a delivery that did not happen (the recipient out).
var FailedAttempt = Step{150 * time.Minute, sfexpress.Route{OpCode: "70", SecondaryStatusCode: "1301",
	Remark: "派送失败，客户不在，已约定再次派送"}}

// Play appends the route's steps to an order, timed from at (Beijing time
// on the wire), each with a node id of its own.
func (s *SF) Play(orderID string, at time.Time, steps ...Step) error {
	for _, st := range steps {
		r := st.Route
		r.AcceptTime = at.Add(st.After).In(beijing).Format(time.DateTime)
		if err := s.AddRoute(orderID, r); err != nil {
			return err
		}
	}
	return nil
}

// nodeID is a route node's id, unique among the simulator's.
func (s *SF) nodeID() string {
	s.nodeSeq++
	return strconv.FormatInt(158918741444000+s.nodeSeq, 10)
}
