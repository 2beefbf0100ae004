package simulator_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/integrations/ems"
	"github.com/changchun-gov/courier/integrations/sfexpress"
	"github.com/changchun-gov/courier/integrations/simulator"
	"github.com/changchun-gov/courier/tracking"
)

// store keeps nodes once, as route_nodes does, and can be told to fail.
type store struct {
	mu   sync.Mutex
	kept []tracking.RouteNode
	seen map[string]bool
	fail bool
}

func (s *store) save(_ context.Context, nodes []tracking.RouteNode) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return 0, errors.New("database down")
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	n := 0
	for _, x := range nodes {
		k := x.Carrier + x.WaybillNo + x.At.String() + x.OpCode
		if !s.seen[k] {
			s.seen[k] = true
			s.kept = append(s.kept, x)
			n++
		}
	}
	return n, nil
}

type pushReceiver interface {
	Receive(ctx context.Context, body []byte) (int, []byte)
}

func serve(r pushReceiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		status, reply := r.Receive(req.Context(), b)
		w.WriteHeader(status)
		_, _ = w.Write(reply)
	})
}

// SF's pushes are kept before they are accepted: while the store fails
// SF is told to push again; a repeated node is kept once.
func TestSFPushIsKeptBeforeItIsAccepted(t *testing.T) {
	t.Parallel()
	sim := &simulator.SF{PartnerID: "P", CheckWord: "cw"}
	api := httptest.NewServer(sim)
	defer api.Close()
	st := &store{fail: true}
	hook := httptest.NewServer(serve(&sfexpress.PushReceiver{Save: st.save}))
	defer hook.Close()
	c := sfexpress.New(sfexpress.Config{URL: api.URL, PartnerID: "P", CheckWord: "cw"})
	ctx := context.Background()
	if _, _, err := c.CreateOrder(ctx, sfexpress.Order{OrderID: "CR-9", CargoDetails: []sfexpress.Cargo{{Name: "证照"}},
		Contacts: []sfexpress.Contact{{Type: 1}, {Type: 2}}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	if err := sim.Play("CR-9", at, simulator.StandardRoute[:2]...); err != nil {
		t.Fatal(err)
	}
	if out, _ := sim.Push(ctx, hook.Client(), hook.URL, "CR-9"); out.Accepted || len(st.kept) != 0 {
		t.Fatalf("accepted while the store failed: %+v", out)
	}
	st.fail = false
	if out, _ := sim.Push(ctx, hook.Client(), hook.URL, "CR-9"); !out.Accepted || len(st.kept) != 2 {
		t.Fatalf("after: %+v, %d kept", out, len(st.kept))
	}
	if err := sim.Play("CR-9", at, simulator.StandardRoute[2:]...); err != nil {
		t.Fatal(err)
	}
	sim.FailPush(simulator.PushRepeat)
	if out, _ := sim.Push(ctx, hook.Client(), hook.URL, "CR-9"); !out.Accepted || out.Nodes != 3 || len(st.kept) != 4 {
		t.Fatalf("repeated push: %+v, %d kept", out, len(st.kept))
	}
	if last := st.kept[3]; last.Stage != tracking.StageSigned || last.OrderID != "CR-9" || last.Via != "push" {
		t.Fatalf("signed node kept as %+v", last)
	}
	resp, err := http.Post(hook.URL, "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an empty push: %v %v", resp, err)
	}
}

// EMS's pushes echo their serial number, kept or not.
func TestEMSPushIsKeptAndEchoed(t *testing.T) {
	t.Parallel()
	const key = "MDEyMzQ1Njc4OUFCQ0RFRg=="
	sim := &simulator.EMS{SenderNo: "1100012345678", SignKey: key}
	st := &store{}
	r := &ems.PushReceiver{SignKey: key, SenderNo: "1100012345678", Save: st.save}
	body, err := sim.PushBody("SN-1", []ems.TraceItem{{WaybillNo: "1100000000000", OrderNo: "CR-1", OpTime: "2026-12-03 16:56:50",
		OpCode: "704", OpName: "投递结果反馈-妥投"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if status, reply := r.Receive(context.Background(), body); status != 200 || string(reply) != string(ems.PushReply("SN-1", "1100012345678", true)) {
			t.Fatalf("%d %s", status, reply)
		}
	}
	if len(st.kept) != 1 || st.kept[0].Stage != tracking.StageSigned {
		t.Fatalf("kept %+v", st.kept)
	}
	other := &ems.PushReceiver{SignKey: "QUJDREVGR0hJSktMTU5PUA==", SenderNo: "1100012345678", Save: st.save}
	if status, reply := other.Receive(context.Background(), body); status != 400 || string(reply) != string(ems.PushReply("SN-1", "1100012345678", false)) {
		t.Fatalf("another key: %d %s", status, reply)
	}
}
