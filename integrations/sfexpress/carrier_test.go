package sfexpress_test

import (
	"context"
	"testing"
	"time"

	"github.com/changchun-gov/courier/integrations/sfexpress"
	"github.com/changchun-gov/courier/integrations/simulator"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

var sites = map[string]shipment.Site{
	"D-SW":   {Code: "D-SW", NameZH: "长春市商务局", Province: "吉林省", City: "长春市", District: "南关区", Street: "人民大街", Detail: "1号", Phone: "0431-11111111"},
	"CC-WIN": {Code: "CC-WIN", NameZH: "长春市政务服务中心 出证窗口", Province: "吉林省", City: "长春市", District: "南关区", Street: "人民大街", Detail: "2号", Phone: "0431-22222222"},
}

// A run's booking is one SF order whatever the network does: booked again
// after a lost answer, or after a time-out, it is looked up, not ordered
// twice; each call's exchange is recorded.
func TestCarrierNeverBooksTwice(t *testing.T) {
	t.Parallel()
	sim, c := start(t, "sim-check-word-0123456789abcdef", 300*time.Millisecond)
	var kept []tracking.CourierExchange
	carrier := &sfexpress.Carrier{Client: c, Site: func(code string) (shipment.Site, bool) { s, ok := sites[code]; return s, ok },
		Record: func(_ context.Context, x tracking.CourierExchange) { kept = append(kept, x) }}
	ctx := context.Background()
	b := tracking.Booking{RunNo: "CR1431506755068A", BagNo: "CB3296776716086A", FromSite: "D-SW", ToSite: "CC-WIN", Parcels: 3,
		Slot: time.Date(2026, 12, 3, 6, 30, 0, 0, time.UTC)}
	first, err := carrier.Book(ctx, b)
	if err != nil || first == "" {
		t.Fatalf("book: %q %v", first, err)
	}
	for _, f := range []simulator.Fault{simulator.FaultDrop, simulator.FaultSlow, ""} {
		if f != "" {
			sim.Fail(f)
		}
		again, err := carrier.Book(ctx, b)
		if err != nil || again != first {
			t.Fatalf("booked again after %q: %q %v, want %s", f, again, err, first)
		}
	}
	if sim.Orders() != 1 {
		t.Fatalf("%d orders placed", sim.Orders())
	}
	if len(kept) != 7 || kept[0].Service != sfexpress.ServiceCreateOrder || kept[1].Service != sfexpress.ServiceCreateOrder ||
		kept[1].Outcome != "no_answer" || kept[2].Service != sfexpress.ServiceSearchOrder || kept[2].Outcome != "ok" ||
		kept[6].Outcome != "ok" || kept[5].Outcome != sfexpress.BusinessDuplicateOrder || kept[0].OrderID != b.RunNo {
		t.Fatalf("%d exchanges kept: %+v", len(kept), kept)
	}
	if err := carrier.Cancel(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := carrier.Cancel(ctx, b); err != nil {
		t.Fatalf("a second cancel: %v", err)
	}
	if _, err := carrier.Book(ctx, tracking.Booking{RunNo: "CR-X", FromSite: "XX", ToSite: "CC-WIN"}); err == nil {
		t.Fatal("booked from no site")
	}
}
