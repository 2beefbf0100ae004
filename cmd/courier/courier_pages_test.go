package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/changchun-gov/courier/internal/pgtest"
	"github.com/changchun-gov/courier/shipment"
)

// A courier's day on a phone: the bookings of their carrier wait to be
// taken (a courier of another carrier sees none and may take none); the
// courier takes one, collects its bag at the scan station (/scan, as a
// wedge scanner types it) and records the handover at the destination,
// which the hall's receive of the bag completes. An administrator assigns
// a booking to the city's own runner and back. The booking's history says
// who did what.
func TestCourierPagesInChromium(t *testing.T) {
	t.Parallel()
	s, _ := courierService(t, pgtest.NewClock(time.Now()), "COURIER_PUBLIC_URL", "http://localhost:8080")
	tok := s.users()
	admin := tok["admin"]
	for name, carrier := range map[string]string{"courier.sf": "sfexpress", "courier.ems": "ems"} {
		s.must(201, "POST", "/api/v1/users", admin, map[string]any{"username": name, "password": "password-courier-1",
			"role": "courier", "carrier": carrier})
	}
	for _, c := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"username": "clerk.x", "password": "password-courier-1", "role": "clerk", "site": "D-SW", "carrier": "sfexpress"}, "user.carrier_not_allowed"},
		{map[string]any{"username": "courier.x", "password": "password-courier-1", "role": "courier", "carrier": "dhl"}, "user.carrier_unknown"},
	} {
		if r := s.do("POST", "/api/v1/users", admin, c.body); r.Status != 422 || r.errCode() != c.code {
			t.Errorf("user %v: %d %s, want %s", c.body, r.Status, r.Body, c.code)
		}
	}
	sf, em := s.login("courier.sf", "password-courier-1"), s.login("courier.ems", "password-courier-1")
	legs := s.legIDs(admin)
	s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", legs["D-SW>CC-WIN"]), admin, nil)
	runNo, bagNo := run.str("run_no"), run.str("bag_no")
	eventually(t, 20*time.Second, "the booking", func() bool { return s.booking(admin, runNo)["status"] == "booked" })

	items := func(token string) []any {
		t.Helper()
		return s.must(200, "GET", "/api/v1/courier/bookings", token, nil).JSON["items"].([]any)
	}
	if got := items(sf); len(got) != 1 || got[0].(map[string]any)["mine"] != false ||
		got[0].(map[string]any)["from"].(map[string]any)["address"] == "" {
		t.Fatalf("SF's courier sees %v", got)
	}
	if got := items(em); len(got) != 0 {
		t.Fatalf("EMS's courier sees %v", got)
	}
	for who, token := range map[string]string{"EMS's courier": em, "the runner": tok["courier"]} {
		if r := s.do("POST", "/api/v1/runs/"+runNo+"/take", token, nil); r.Status != 403 || r.errCode() != "booking.other_carrier" {
			t.Errorf("%s takes SF's booking: %d %s", who, r.Status, r.Body)
		}
	}
	if r := s.do("POST", "/api/v1/runs/"+runNo+"/handover", sf, nil); r.Status != 403 || r.errCode() != "booking.not_yours" {
		t.Errorf("a handover of a booking not taken: %d %s", r.Status, r.Body)
	}
	// The administrator gives it to the city's runner, then back to SF's courier.
	for _, c := range []struct {
		user, code string
		status     int
	}{{"u-clerk", "user.not_courier", 422}, {"courier.ems", "booking.other_carrier", 409}, {"nobody", "user.not_found", 404}} {
		if r := s.do("POST", "/api/v1/runs/"+runNo+"/assign", admin, map[string]any{"username": c.user}); r.Status != c.status || r.errCode() != c.code {
			t.Errorf("assign to %s: %d %s", c.user, r.Status, r.Body)
		}
	}
	if r := s.must(200, "POST", "/api/v1/runs/"+runNo+"/assign", admin, map[string]any{"username": "u-courier"}); !strings.Contains(string(r.Body), `"courier":"u-courier"`) {
		t.Fatalf("assigned: %s", r.Body)
	}
	if got := items(tok["courier"]); len(got) != 1 || got[0].(map[string]any)["mine"] != true {
		t.Fatalf("the runner sees %v", got)
	}
	if got := items(sf); len(got) != 0 {
		t.Fatalf("SF's courier still sees %v", got)
	}
	if r := s.do("POST", "/api/v1/runs/"+runNo+"/take", sf, nil); r.Status != 409 || r.errCode() != "booking.taken" {
		t.Errorf("take a booking assigned to another: %d %s", r.Status, r.Body)
	}
	// Back to SF's courier, from the run's page (an administrator at a desk).
	ctx := browser(t)
	defer shot(t, ctx, "courier-last")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, s.base, "admin", adminPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/runs/"+runNo), chromedp.WaitVisible("#assign-form"),
		chromedp.SendKeys("#username", "courier.ems"), chromedp.Click("#assign"), chromedp.WaitVisible("#assign-form .field-error")); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, "#assign-form .field-error"); msg != "该预约属于其他快递公司" {
		t.Errorf("assign to EMS's courier says %q", msg)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue("#username", "courier.sf"), chromedp.Click("#assign"), chromedp.WaitVisible("#done")); err != nil {
		t.Fatal(err)
	}
	if who := text(t, ctx, "#courier"); who != "courier.sf" {
		t.Fatalf("assigned to %q", who)
	}
	legible(t, ctx, "run page as admin")

	// On the phone, in a browser context of its own.
	ctx = browser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 800)); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, s.base, "courier.sf", "password-courier-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/courier"), chromedp.WaitVisible("#bookings")); err != nil {
		t.Fatal(err)
	}
	card := text(t, ctx, "#bookings li")
	for _, want := range []string{bagNo, "长春市商务局", "揽收：", "交站："} {
		if !strings.Contains(card, want) {
			t.Errorf("the booking's card lacks %q: %q", want, card)
		}
	}
	legible(t, ctx, "courier page")
	noSideways(t, ctx, "courier page")
	shot(t, ctx, "courier-360")
	// Collect: the scan station with pickup chosen, the bag's label scanned.
	if err := chromedp.Do(ctx, chromedp.Click("#collect-"+runNo), chromedp.WaitVisible("#code")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#code", bagNo+"\n")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `[...document.querySelectorAll('#results li')].some(li => li.textContent.includes('`+bagNo+`'))`)
	eventually(t, 10*time.Second, "the pickup", func() bool {
		return s.must(200, "GET", "/api/v1/runs/"+runNo, admin, nil).str("status") == "picked_up"
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/courier"), chromedp.WaitVisible("#handover-"+runNo),
		chromedp.Click("#handover-"+runNo), chromedp.WaitVisible("#done")); err != nil {
		t.Fatal(err)
	}
	if card := text(t, ctx, "#bookings li"); !strings.Contains(card, "已交站") {
		t.Errorf("after the handover: %q", card)
	}
	shot(t, ctx, "courier-handed-over-360")
	r := s.must(200, "GET", "/api/v1/runs/"+runNo, admin, nil)
	if r.str("handed_over_at") == "" || r.str("status") != "picked_up" {
		t.Fatalf("the run after the handover: %s", r.Body)
	}
	hist := fmt.Sprint(r.JSON["booking"].(map[string]any)["history"])
	for _, want := range []string{"assigned to u-courier", "assigned to courier.sf", "handed over at CC-WIN"} {
		if !strings.Contains(hist, want) {
			t.Errorf("the booking's history lacks %q: %s", want, hist)
		}
	}
	// The hall's receive completes it: the booking leaves the courier's list.
	s.must(200, "POST", "/api/v1/scans", tok["staff"], map[string]any{"code": bagNo, "action": "receive", "scan_id": scanID()})
	if got := items(sf); len(got) != 0 {
		t.Fatalf("after the hall's receive SF's courier sees %v", got)
	}
}

// The courier collects a bag by the phone's camera: the scan station with
// pickup chosen, the fake camera playing the bag label's QR code.
func TestCourierCollectsABagByCamera(t *testing.T) {
	t.Parallel()
	ctx := browser(t) // starts the shared browser, whose camera shows cameraBag
	defer shot(t, ctx, "camera-bag-last")
	var once sync.Once
	s := bootHooks(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"}, &testHooks{bagNo: func() string {
		no := shipment.NewNumber(shipment.KindBag)
		once.Do(func() { no = cameraBag })
		return no
	}})
	tok := s.users()
	admin := tok["admin"]
	s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", s.legIDs(admin)["D-SW>CC-WIN"]), admin, nil)
	if run.str("bag_no") != cameraBag {
		t.Fatalf("the run's bag %s, the camera's %s", run.str("bag_no"), cameraBag)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 800)); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, s.base, "u-courier", "password-courier-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan?action=pickup"), chromedp.WaitVisible("#camera"),
		chromedp.Click("#camera")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the bag picked up by the camera's scan", func() bool {
		return s.must(200, "GET", "/api/v1/runs/"+run.str("run_no"), admin, nil).str("status") == "picked_up"
	})
	poll(t, ctx, `[...document.querySelectorAll('#results li')].some(li => li.textContent.includes('`+cameraBag+`'))`)
	shot(t, ctx, "camera-bag-360")
}
