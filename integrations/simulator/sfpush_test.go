package simulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/integrations/sfexpress"
	"github.com/changchun-gov/courier/integrations/simulator"
	"github.com/changchun-gov/courier/tracking"
)

// receiver is a push endpoint that answers as told and keeps what came.
type receiver struct {
	mu     sync.Mutex
	answer []byte
	got    [][]sfexpress.PushNode
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var b [1 << 16]byte
	n, _ := req.Body.Read(b[:])
	nodes, err := sfexpress.ParsePush(b[:n])
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.got = append(r.got, nodes)
	_, _ = w.Write(r.answer)
}

func ids(nodes []sfexpress.PushNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.ID+"/"+n.OpCode)
	}
	return out
}

// Nodes are pushed until the endpoint accepts them, then never again; a
// repeated or reversed push is played when asked.
func TestSFPushesUntilAccepted(t *testing.T) {
	t.Parallel()
	sim := &simulator.SF{PartnerID: "P", CheckWord: "cw"}
	api := httptest.NewServer(sim)
	defer api.Close()
	rcv := &receiver{answer: sfexpress.PushRefused}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	c := sfexpress.New(sfexpress.Config{URL: api.URL, PartnerID: "P", CheckWord: "cw"})
	ctx := context.Background()
	if _, _, err := c.CreateOrder(ctx, sfexpress.Order{OrderID: "CX-1", CargoDetails: []sfexpress.Cargo{{Name: "证照"}},
		Contacts: []sfexpress.Contact{{Type: 1, Contact: "窗口"}, {Type: 2, Contact: "王小明"}}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	if err := sim.Play("CX-1", at, simulator.StandardRoute[:2]...); err != nil {
		t.Fatal(err)
	}
	push := func() simulator.PushOutcome {
		t.Helper()
		out, err := sim.Push(ctx, hook.Client(), hook.URL, "CX-1")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := push(); out.Nodes != 2 || out.Accepted {
		t.Fatalf("refused push: %+v", out)
	}
	rcv.answer = sfexpress.PushAccepted
	if out := push(); out.Nodes != 2 || !out.Accepted {
		t.Fatalf("accepted push: %+v", out)
	}
	if out := push(); out.Nodes != 0 {
		t.Fatalf("pushed again after acceptance: %+v", out)
	}
	if len(rcv.got) != 2 || ids(rcv.got[0])[0] != ids(rcv.got[1])[0] || rcv.got[0][0].AcceptTime != "2026-12-03 09:00:00" {
		t.Fatalf("pushes received: %v", rcv.got)
	}
	// The rest of the way, pushed with the last accepted node again and
	// newest first.
	if err := sim.Play("CX-1", at, simulator.StandardRoute[2:]...); err != nil {
		t.Fatal(err)
	}
	sim.FailPush(simulator.PushRepeat, simulator.PushReverse)
	if out := push(); out.Nodes != 3 || !out.Accepted {
		t.Fatalf("repeating push: %+v", out)
	}
	if got := ids(rcv.got[2]); got[0] != ids(rcv.got[1])[1] {
		t.Fatalf("the repeated push %v does not start with the last accepted node %v", got, ids(rcv.got[1]))
	}
	if err := sim.Play("CX-1", at, simulator.FailedAttempt); err != nil {
		t.Fatal(err)
	}
	if out := push(); out.Nodes != 1 || !out.Accepted {
		t.Fatalf("one more node: %+v", out)
	}
	last := rcv.got[3][0]
	if sfexpress.StageOf(last.OpCode, last.FirstStatusCode, last.Remark) != tracking.StageFailed {
		t.Fatalf("a failed attempt reads as %q", sfexpress.StageOf(last.OpCode, last.FirstStatusCode, last.Remark))
	}
	// A reversed push sends newest first.
	if err := sim.Play("CX-1", at, simulator.StandardRoute[:2]...); err != nil {
		t.Fatal(err)
	}
	sim.FailPush(simulator.PushReverse)
	push()
	if got := rcv.got[4]; len(got) != 2 || got[0].ID < got[1].ID {
		t.Fatalf("reversed push: %v", ids(got))
	}
}
