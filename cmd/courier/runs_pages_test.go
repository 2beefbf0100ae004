package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/changchun-gov/courier/integrations/simulator"
	"github.com/changchun-gov/courier/internal/pgtest"
)

// The department's clerk on the runs' pages, at phone and desk sizes: the
// run whose booking SF keeps refusing shows each refusal in its history; a
// booking made by telephone is recorded (no reference: said beside the
// field); a run is cancelled with a reason, which the page then shows.
func TestRunPagesInChromium(t *testing.T) {
	t.Parallel()
	// The browser keeps the session's cookie by its own clock: the test's starts now.
	clock := pgtest.NewClock(time.Now())
	s, sim := courierService(t, clock, "COURIER_PUBLIC_URL", "http://localhost:8080")
	tok := s.users()
	admin := tok["admin"]
	legs := s.legIDs(admin)
	sim.sf.Fail(simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit,
		simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit)
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", legs["D-SW>CC-WIN"]), admin, nil)
	runNo := run.str("run_no")
	eventually(t, 20*time.Second, "a refused attempt", func() bool { return s.booking(admin, runNo)["last_error"] != "" })

	ctx := browser(t)
	defer shot(t, ctx, "run-page-last")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 800)); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, s.base, "u-clerk", "password-clerk-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/runs"), chromedp.WaitVisible("#run-list")); err != nil {
		t.Fatal(err)
	}
	if list := text(t, ctx, "#run-list"); !strings.Contains(list, runNo) || !strings.Contains(list, "预约中") {
		t.Fatalf("the runs list: %q", list)
	}
	legible(t, ctx, "runs list")
	noSideways(t, ctx, "runs list")
	shot(t, ctx, "runs-360")
	if err := chromedp.Do(ctx, chromedp.Click(`a[href="/runs/`+runNo+`"]`), chromedp.WaitVisible("#booking")); err != nil {
		t.Fatal(err)
	}
	if h := text(t, ctx, "#history"); !strings.Contains(h, "A1005") || !strings.Contains(h, "系统") {
		t.Fatalf("the booking's history: %q", h)
	}
	legible(t, ctx, "run page")
	noSideways(t, ctx, "run page")
	shot(t, ctx, "run-360")

	// By telephone: no reference is said beside the field; then recorded.
	if err := chromedp.Do(ctx, chromedp.Click("#book"), chromedp.WaitVisible("#book-form .field-error")); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, "#book-form .field-error"); msg != "请填写快递公司的预约单号或运单号" {
		t.Fatalf("no reference: %q", msg)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#ref", "SF1440099887766"), chromedp.SendKeys("#note", "电话预约 王师傅 14:00"),
		chromedp.Click("#book"), chromedp.WaitVisible("#done")); err != nil {
		t.Fatal(err)
	}
	if st := text(t, ctx, "#booking-status"); st != "已预约" {
		t.Fatalf("after booking by hand: %q", st)
	}
	if h := text(t, ctx, "#history li"); !strings.Contains(h, "u-clerk") || !strings.Contains(h, "王师傅") || !strings.Contains(h, "SF1440099887766") {
		t.Fatalf("the newest history entry: %q", h)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#book-form').length`)); n != 0 {
		t.Errorf("a booked run still offers booking by hand")
	}

	// Cancel, at the desk's size: a reason is needed.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Click("#cancel"), chromedp.WaitVisible("#cancel-form .field-error")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#reason", "快递公司今日停收"), chromedp.Click("#cancel"), chromedp.WaitVisible("#cancelled")); err != nil {
		t.Fatal(err)
	}
	if st, c := text(t, ctx, "#run-status"), text(t, ctx, "#cancelled"); st != "已取消" || !strings.Contains(c, "快递公司今日停收") {
		t.Fatalf("after the cancel: %q, %q", st, c)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#cancel-form').length`)); n != 0 {
		t.Errorf("a cancelled run still offers its cancel")
	}
	legible(t, ctx, "cancelled run at desk size")
	shot(t, ctx, "run-1280")
	if pr := s.must(200, "GET", "/api/v1/runs/"+runNo, admin, nil); pr.str("status") != "cancelled" {
		t.Fatalf("the API after the page's cancel: %s", pr.Body)
	}
	if e := s.eventCount(admin, no, "book"); e < 2 {
		t.Errorf("the parcel's book events after its run's cancel: %d", e)
	}
}
