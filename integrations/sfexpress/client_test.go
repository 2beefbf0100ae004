package sfexpress_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/integrations/sfexpress"
	"github.com/changchun-gov/courier/integrations/simulator"
)

func start(t *testing.T, checkWord string, timeout time.Duration) (*simulator.SF, *sfexpress.Client) {
	t.Helper()
	sim := &simulator.SF{PartnerID: "CCZWFW", CheckWord: "sim-check-word-0123456789abcdef", Delay: 2 * timeout}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c := sfexpress.New(sfexpress.Config{URL: srv.URL + "/std/service", PartnerID: "CCZWFW", CheckWord: checkWord,
		MonthlyCard: "7551234567", ExpressTypeID: 110, HTTP: &http.Client{Timeout: timeout}})
	return sim, c
}

func order(id string) sfexpress.Order {
	return sfexpress.Order{OrderID: id, CargoDesc: "证照", CargoDetails: []sfexpress.Cargo{{Name: "营业执照正本", Count: 1, Unit: "件"}},
		IsDocall: 1, IsReturnRouteLabel: 1, Contacts: []sfexpress.Contact{
			{Type: sfexpress.ContactSender, Company: "长春市政务服务中心", Contact: "出证窗口", Tel: "0431-88888888",
				Country: "CN", Province: "吉林省", City: "长春市", County: "南关区", Address: "人民大街1号*一楼~东侧"},
			{Type: sfexpress.ContactRecipient, Contact: "王小明", Mobile: "13912345678", Country: "CN",
				Province: "吉林省", City: "长春市", County: "朝阳区", Address: "西安大路100号"}}}
}

// An order is placed once: our order id is the key; a second create of it
// answers 8016 and the order is then read back, not placed again; a
// cancel answers resStatus 2, and a second one 8037.
func TestOrdersAreNeverDoubled(t *testing.T) {
	t.Parallel()
	sim, c := start(t, "sim-check-word-0123456789abcdef", 2*time.Second)
	ctx := context.Background()
	res, x, err := c.CreateOrder(ctx, order("CR-TEST-0001"))
	if err != nil || !strings.HasPrefix(res.WaybillNo(), "SF") || res.FilterResult != 2 {
		t.Fatalf("create: %+v %v", res, err)
	}
	if x.Status != 200 || len(x.Response) == 0 || strings.Contains(string(x.Request), "msgDigest") ||
		strings.Contains(string(x.Request), "sim-check-word") || !strings.Contains(string(x.Request), "serviceCode=EXP_RECE_CREATE_ORDER") {
		t.Fatalf("the exchange kept: %s → %d %s", x.Request, x.Status, x.Response)
	}
	_, _, err = c.CreateOrder(ctx, order("CR-TEST-0001"))
	if sfexpress.CodeOf(err) != sfexpress.BusinessDuplicateOrder {
		t.Fatalf("second create: %v, want 8016", err)
	}
	again, _, err := c.SearchOrder(ctx, "CR-TEST-0001")
	if err != nil || again.WaybillNo() != res.WaybillNo() {
		t.Fatalf("search: %+v %v, want %s", again, err, res.WaybillNo())
	}
	if sim.Orders() != 1 {
		t.Fatalf("%d orders placed", sim.Orders())
	}
	if _, err := c.CancelOrder(ctx, "CR-TEST-0001"); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if _, err := c.CancelOrder(ctx, "CR-TEST-0001"); sfexpress.CodeOf(err) != sfexpress.BusinessCancelled {
		t.Fatalf("second cancel: %v, want 8037", err)
	}
	// A cancelled order id is never used again.
	if _, _, err := c.CreateOrder(ctx, order("CR-TEST-0001")); sfexpress.CodeOf(err) != sfexpress.BusinessDuplicateOrder {
		t.Fatalf("create after cancel: %v, want 8016", err)
	}
	if _, _, err := c.SearchOrder(ctx, "CR-NONE"); sfexpress.CodeOf(err) != sfexpress.BusinessOrderNotFound {
		t.Fatalf("search of no order: %v", err)
	}
}

// A time-out and a dropped answer leave the outcome unknown (ErrNoAnswer):
// the order was placed, and searching finds it. A rate limit is retryable
// and placed nothing; a wrong check word is A1006, not retryable.
func TestFailuresTellWhatToDo(t *testing.T) {
	t.Parallel()
	sim, c := start(t, "sim-check-word-0123456789abcdef", 300*time.Millisecond)
	ctx := context.Background()
	for i, f := range []simulator.Fault{simulator.FaultSlow, simulator.FaultDrop, simulator.FaultGarbage} {
		id := "CR-FAULT-" + string(f)
		sim.Fail(f)
		_, x, err := c.CreateOrder(ctx, order(id))
		if !errors.Is(err, sfexpress.ErrNoAnswer) {
			t.Fatalf("%s: %v, want no answer", f, err)
		}
		if r := x.Record(id, 0, 0, err); r.Outcome != "no_answer" || r.Carrier != "sfexpress" || r.OrderID != id || len(r.Request) == 0 {
			t.Fatalf("%s: recorded as %+v", f, r)
		}
		res, _, err := c.SearchOrder(ctx, id)
		if f == simulator.FaultGarbage {
			// Refused unread: nothing placed.
			if sfexpress.CodeOf(err) != sfexpress.BusinessOrderNotFound {
				t.Fatalf("%s: search %v", f, err)
			}
			continue
		}
		if err != nil || res.WaybillNo() == "" || sim.Orders() != i+1 {
			t.Fatalf("%s: search %+v %v (%d orders)", f, res, err, sim.Orders())
		}
	}
	n := sim.Orders()
	sim.Fail(simulator.FaultRateLimit)
	_, x, err := c.CreateOrder(ctx, order("CR-RATE"))
	if r := x.Record("CR-RATE", 1, 0, err); r.Outcome != sfexpress.GatewayRateLimited || r.RunID != 1 {
		t.Fatalf("rate limit recorded as %+v", r)
	}
	var e *sfexpress.Error
	if !errors.As(err, &e) || e.Code != sfexpress.GatewayRateLimited || !e.Retry() || sim.Orders() != n {
		t.Fatalf("rate limited: %v (%d orders)", err, sim.Orders())
	}
	if _, _, err := c.CreateOrder(ctx, order("CR-RATE")); err != nil {
		t.Fatalf("after the rate limit: %v", err)
	}
	_, bad := start(t, "a-wrong-check-word", time.Second)
	_, _, err = bad.CreateOrder(ctx, order("CR-BAD"))
	if !errors.As(err, &e) || e.Code != sfexpress.GatewayBadSignature || e.Retry() {
		t.Fatalf("wrong check word: %v", err)
	}
}

// The route query answers the nodes of each waybill with both codes.
func TestRoutes(t *testing.T) {
	t.Parallel()
	sim, c := start(t, "sim-check-word-0123456789abcdef", time.Second)
	ctx := context.Background()
	res, _, err := c.CreateOrder(ctx, order("CR-ROUTE"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.AddRoute("CR-ROUTE", sfexpress.Route{AcceptTime: "2026-12-03 15:02:11", Remark: "顺丰速运 已收取快件",
		OpCode: "50", FirstStatusCode: "1", FirstStatusName: "已揽收"}); err != nil {
		t.Fatal(err)
	}
	rs, _, err := c.Routes(ctx, "5678", res.WaybillNo())
	if err != nil || len(rs) != 1 || rs[0].MailNo != res.WaybillNo() || len(rs[0].Routes) != 1 || rs[0].Routes[0].OpCode != "50" {
		t.Fatalf("routes: %+v %v", rs, err)
	}
	at, err := sfexpress.ParseTime(rs[0].Routes[0].AcceptTime)
	if err != nil || !at.Equal(time.Date(2026, 12, 3, 7, 2, 11, 0, time.UTC)) {
		t.Fatalf("accept time %v %v", at, err)
	}
	if _, _, err := c.Routes(ctx, "5678", make([]string, 11)...); err == nil {
		t.Fatal("a route query of 11 waybills was sent")
	}
}
