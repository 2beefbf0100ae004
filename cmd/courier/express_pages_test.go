package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The city's own runner delivers express parcels on a phone: their open
// bookings show each recipient masked until taken, then in full (a read of
// personal data, recorded); out for delivery from the page; at the door the
// ID number's last digits, a photo taken and a signature drawn on the
// screen; another parcel's failed attempt with its reason.
func TestExpressDeliveryPagesInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	admin := tok["admin"]
	s.must(201, "POST", "/api/v1/users", admin, map[string]any{"username": "runner", "password": "password-runner-1",
		"role": "courier", "carrier": "manual"})
	runner := s.login("runner", "password-runner-1")
	first, second := s.bookedExpress(tok["clerk"]), s.bookedExpress(tok["clerk"])
	dir := t.TempDir()
	photo := filepath.Join(dir, "handover.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photo, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := browser(t)
	defer shot(t, ctx, "express-last")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 800)); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, s.base, "runner", "password-runner-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/courier"), chromedp.WaitVisible("#take-"+first)); err != nil {
		t.Fatal(err)
	}
	if card := text(t, ctx, "#bookings"); strings.Contains(card, "王小明") || strings.Contains(card, "13912345678") ||
		!strings.Contains(card, "王*明") {
		t.Fatalf("an open booking shows its recipient: %q", card)
	}
	reads := s.count(`SELECT count(*) FROM personal_reads WHERE purpose = 'courier_delivery'`)
	for _, no := range []string{first, second} {
		if err := chromedp.Do(ctx, chromedp.Click("#take-"+no), chromedp.WaitNotPresent("#take-"+no), chromedp.WaitVisible("#done")); err != nil {
			t.Fatal(err)
		}
	}
	if card := text(t, ctx, "#bookings"); !strings.Contains(card, "王小明") || !strings.Contains(card, "13912345678") ||
		!strings.Contains(card, "2 单元 301 室") {
		t.Fatalf("a booking taken hides its recipient: %q", card)
	}
	if n := s.count(`SELECT count(*) FROM personal_reads WHERE purpose = 'courier_delivery'`); n <= reads {
		t.Errorf("showing the recipients was not recorded")
	}
	// Collected at the department (the scan station's scan), then out for
	// delivery from this page.
	for _, no := range []string{first, second} {
		if r := s.scan(runner, no, "pickup", "D-SW"); r.Status != 200 {
			t.Fatalf("pickup: %s", r.Body)
		}
	}
	for _, no := range []string{first, second} {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/courier"), chromedp.WaitVisible("#dispatch-"+no),
			chromedp.Click("#dispatch-"+no), chromedp.WaitNotPresent("#dispatch-"+no), chromedp.WaitVisible("#done")); err != nil {
			t.Fatal(err)
		}
	}
	legible(t, ctx, "the courier's deliveries")
	noSideways(t, ctx, "the courier's deliveries")
	shot(t, ctx, "express-360")
	// At the first door: the ID number's last digits, a photo, a signature.
	sig := `(() => { const c = document.querySelector('#signature-` + first + `'); const r = c.getBoundingClientRect();
		const ev = (t, x, y) => c.dispatchEvent(new PointerEvent(t, {clientX: r.left + x, clientY: r.top + y, pointerId: 7, bubbles: true}));
		ev('pointerdown', 10, 20); for (let i = 1; i < 30; i++) ev('pointermove', 10 + i * 8, 20 + (i % 5) * 12); ev('pointerup', 250, 40);
		return true; })()`
	if err := chromedp.Do(ctx, chromedp.SendKeys("#tail-"+first, "002X"), chromedp.SetUploadFiles("#photo-"+first, []string{photo})); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](sig)); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "express-signed-360")
	if err := chromedp.Do(ctx, chromedp.Click("#deliver-button-"+first), chromedp.WaitNotPresent("#deliver-"+first),
		chromedp.WaitVisible("#done")); err != nil {
		t.Fatal(err)
	}
	if done := text(t, ctx, "#done"); done != "已交付" {
		t.Fatalf("after the handover: %q %s", done, text(t, ctx, "main"))
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+first, admin, nil).str("status"); st != "delivered" {
		t.Fatalf("the first parcel: %s", st)
	}
	if n := s.count(`SELECT count(*) FROM delivery_proofs d JOIN parcels p ON p.id = d.parcel_id WHERE p.waybill_no = $1
		AND d.method = 'id' AND length(d.signature_enc) > 100`, first); n != 1 {
		t.Fatalf("%d proofs of the first delivery", n)
	}
	// The second door: nobody home.
	if err := chromedp.Do(ctx, chromedp.SetValue("#reason-"+second, "recipient_absent"), chromedp.Click("#fail-button-"+second),
		chromedp.WaitNotPresent("#fail-"+second), chromedp.WaitVisible("#done")); err != nil {
		t.Fatal(err)
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+second, admin, nil).str("status"); st != "exception" {
		t.Fatalf("the second parcel: %s", st)
	}
	if e := s.eventCount(admin, second, "fail"); e != 1 {
		t.Fatalf("%d failed attempts", e)
	}
	shot(t, ctx, "express-done-360")
}

// The department's clerk registers a certificate for express to the door:
// the address's province, city and district chosen from the national
// division codes, each list following the one above; the parcel gets its
// courier booking at once.
func TestDeskRegistersAnExpressParcelInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	ctx := browser(t)
	defer shot(t, ctx, "desk-express-last")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(414, 900)); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, s.base, "u-clerk", "password-clerk-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/new"), chromedp.WaitVisible("#register-form"),
		chromedp.Click("#dest-kind-address"), chromedp.WaitVisible("#province")); err != nil {
		t.Fatal(err)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('dest-hall').hidden`)); !hidden {
		t.Errorf("the hall's list still shows for express")
	}
	for _, f := range []struct{ sel, value string }{{"#province", "吉林省"}, {"#city", "长春市"}, {"#district", "南关区"}} {
		poll(t, ctx, `[...document.querySelectorAll('`+f.sel+` option')].some(o => o.value === '`+f.value+`')`)
		if err := chromedp.Do(ctx, chromedp.SetValue(f.sel, f.value)); err != nil {
			t.Fatal(err)
		}
		changed(t, ctx, f.sel)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#detail", "人民大街 100 号"), chromedp.SendKeys("#unit", "2 单元 301 室"),
		chromedp.SetValue("#cert_type", "business_licence"), chromedp.SendKeys("#application_no", "SW-2026-EXPRESS-1"),
		chromedp.SendKeys("#name", "王小明"), chromedp.SendKeys("#phone", "13912345678"),
		chromedp.SendKeys("#id_number", "11010519491231002X")); err != nil {
		t.Fatal(err)
	}
	changed(t, ctx, "#cert_type")
	poll(t, ctx, `!document.querySelector('.live-error')`)
	legible(t, ctx, "desk registration, express")
	noSideways(t, ctx, "desk registration, express")
	shot(t, ctx, "desk-express-414")
	if err := chromedp.Do(ctx, chromedp.Click("#register"), chromedp.WaitVisible("#waybill")); err != nil {
		t.Fatal(err)
	}
	no := text(t, ctx, "#waybill")
	p := s.must(200, "GET", "/api/v1/parcels/"+no, tok["admin"], nil)
	if !strings.Contains(string(p.Body), `"destination_kind":"address"`) || !strings.Contains(string(p.Body), "吉林省长春市南关区") {
		t.Fatalf("the express parcel: %s", p.Body)
	}
	eventually(t, 20*time.Second, "its courier booking", func() bool { return s.parcelBooking(no) == "booked" })
	// A district that is not in the city is refused (a hand-made post).
	b := parcelBody("13912345678")
	b["destination"] = map[string]any{"kind": "address", "address": map[string]any{"province": "吉林省", "city": "长春市",
		"district": "海淀区", "detail": "1 号"}}
	if r := s.do("POST", "/api/v1/parcels", tok["clerk"], b); r.Status != 422 || r.errCode() != "address.district_unknown" {
		t.Errorf("a district outside its city: %d %s", r.Status, r.Body)
	}
}
