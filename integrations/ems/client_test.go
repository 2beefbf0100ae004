package ems_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/integrations/ems"
	"github.com/changchun-gov/courier/integrations/simulator"
)

const key = "MDEyMzQ1Njc4OUFCQ0RFRg=="

func start(t *testing.T, signKey string, timeout time.Duration) (*simulator.EMS, *ems.Client) {
	t.Helper()
	sim := &simulator.EMS{SenderNo: "1100012345678", Authorization: "auth-0123456789", SignKey: key, Delay: 2 * timeout}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := ems.New(ems.Config{URL: srv.URL + "/amp-prod-api/f/amp/api/test", SenderNo: "1100012345678",
		Authorization: "auth-0123456789", SignKey: signKey, BizProductNo: "1", HTTP: &http.Client{Timeout: timeout}})
	return sim, c
}

func order(no string) ems.Order {
	return ems.Order{LogisticsOrderNo: no,
		Sender:   ems.Party{Name: "长春市政务服务中心", Phone: "0431-88888888", Prov: "吉林省", City: "长春市", County: "南关区", Address: "人民大街1号"},
		Receiver: ems.Party{Name: "王小明", Mobile: "13912345678", Prov: "吉林省", City: "长春市", County: "朝阳区", Address: "西安大路100号"},
		Cargos:   []ems.Cargo{{Name: "证照", Quantity: 1}}}
}

// An order gets its waybill number through the encrypted envelope; the
// exchange kept has the business JSON but neither the authorization code
// nor the key; the trace query answers what the simulator recorded.
func TestOrderAndTrace(t *testing.T) {
	t.Parallel()
	sim, c := start(t, key, 2*time.Second)
	ctx := context.Background()
	res, x, err := c.CreateOrder(ctx, order("CX-TEST-0001"))
	if err != nil || !strings.HasPrefix(res.WaybillNo, "11") || res.LogisticsOrderNo != "CX-TEST-0001" {
		t.Fatalf("create: %+v %v", res, err)
	}
	if s := string(x.Request); strings.Contains(s, "auth-0123456789") || strings.Contains(s, key) || !strings.Contains(s, "CX-TEST-0001") {
		t.Fatalf("the exchange kept: %s", s)
	}
	if !sim.AddTrace("CX-TEST-0001", ems.TraceItem{OpTime: "2026-12-03 15:02:11", OpCode: "704", OpName: "投递结果反馈-妥投"}) {
		t.Fatal("no order to trace")
	}
	items, _, err := c.Trace(ctx, res.WaybillNo)
	if err != nil || len(items) != 1 || items[0].OpCode != "704" || items[0].WaybillNo != res.WaybillNo {
		t.Fatalf("trace: %+v %v", items, err)
	}
	if sim.Orders() != 1 {
		t.Fatalf("%d orders", sim.Orders())
	}
}

// A wrong key is refused by EMS (its envelope does not open); a dropped
// answer leaves the outcome unknown; a time-out too.
func TestFailures(t *testing.T) {
	t.Parallel()
	_, bad := start(t, "QUJDREVGR0hJSktMTU5PUA==", time.Second)
	if _, _, err := bad.CreateOrder(context.Background(), order("CX-BAD")); ems.CodeOf(err) != simulator.EMSBadEnvelope {
		t.Fatalf("wrong key: %v", err)
	}
	sim, c := start(t, key, 300*time.Millisecond)
	for _, f := range []simulator.Fault{simulator.FaultDrop, simulator.FaultSlow, simulator.FaultGarbage} {
		sim.Fail(f)
		if _, _, err := c.CreateOrder(context.Background(), order("CX-"+string(f))); !errors.Is(err, ems.ErrNoAnswer) {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// A trace push opens with the account's key; the reply echoes its serial
// number; a push under another key is refused, still echoing it.
func TestPush(t *testing.T) {
	t.Parallel()
	sim := &simulator.EMS{SenderNo: "1100012345678", SignKey: key}
	body, err := sim.PushBody("C3E7FC86", []ems.TraceItem{{WaybillNo: "1100000000000", OrderNo: "CX-1",
		OpTime: "2026-12-03 16:56:50", OpCode: "704", OpName: "投递结果反馈-妥投"}})
	if err != nil {
		t.Fatal(err)
	}
	serial, items, err := ems.ParsePush(key, body)
	if err != nil || serial != "C3E7FC86" || len(items) != 1 || items[0].OpCode != "704" {
		t.Fatalf("push: %s %+v %v", serial, items, err)
	}
	if got := string(ems.PushReply(serial, "1100012345678", true)); got != `{"code":"00000","codeMessage":"","senderNo":"1100012345678","serialNo":"C3E7FC86"}` {
		t.Fatalf("reply %s", got)
	}
	serial, _, err = ems.ParsePush("QUJDREVGR0hJSktMTU5PUA==", body)
	if !errors.Is(err, ems.ErrBadPush) || serial != "C3E7FC86" {
		t.Fatalf("another key: %s %v", serial, err)
	}
	if !strings.Contains(string(ems.PushReply(serial, "1100012345678", false)), `"code":"S00001"`) {
		t.Fatal("a refused push's reply")
	}
}
