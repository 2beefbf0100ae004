package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/secrets"
)

// lastCode reads the code of the newest SMS of a parcel's outbox with the
// template given, decrypted with the service's data key (until the SMS
// gateway exists, tests read the codes there).
func (s *service) lastCode(no, template string) string {
	s.t.Helper()
	env := s.env()
	h, err1 := secrets.ParseKey(env["COURIER_ID_HASH_KEY"])
	d, err2 := secrets.ParseKey(env["COURIER_DATA_KEY"])
	keys, err3 := secrets.New(h, d)
	if err1 != nil || err2 != nil || err3 != nil {
		s.t.Fatal(err1, err2, err3)
	}
	conn, err := pgx.Connect(context.Background(), s.superuserURL())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var id int64
	var seq int
	var enc []byte
	if err := conn.QueryRow(context.Background(), `SELECT o.parcel_id, o.event_seq, o.payload_enc FROM outbox o
		JOIN parcels p ON p.id = o.parcel_id WHERE p.waybill_no = $1 AND o.template = $2 ORDER BY o.id DESC LIMIT 1`,
		no, template).Scan(&id, &seq, &enc); err != nil {
		s.t.Fatalf("no %s message of %s: %v", template, no, err)
	}
	plain, err := keys.Decrypt(enc, []byte(fmt.Sprintf("outbox:%d:%d", id, seq)))
	if err != nil {
		s.t.Fatal(err)
	}
	var m struct {
		Params map[string]string `json:"params"`
	}
	if err := json.Unmarshal(plain, &m); err != nil {
		s.t.Fatal(err)
	}
	return m.Params["code"]
}

// A recipient chooses express to the door through the private link: a
// code texted to the phone on file (one a minute; five wrong ones end it),
// the address from the national division codes. On the shelf, the parcel
// comes off it at once (its collection code no longer opens it) and the
// courier is booked at the hall; on its way, the choice is recorded and the
// booking made when it reaches the hall. Handed over, it is too late.
func TestRedirectToExpressThroughThePrivateLink(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	admin := tok["admin"]
	register := func() (string, string) {
		r := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
		return r.str("waybill_no"), r.str("private_url")[strings.LastIndex(r.str("private_url"), "/")+1:]
	}
	address := expressAddress
	ready, readyLink := register()
	for _, st := range []struct{ who, action string }{{"courier", "pickup"}, {"staff", "receive"}, {"staff", "shelve"}} {
		if r := s.scan(tok[st.who], ready, st.action, ""); r.Status != 200 {
			t.Fatalf("%s: %s", st.action, r.Body)
		}
	}
	collectionCode := s.lastCode(ready, "sms.ready")
	s.must(200, "POST", "/api/v1/s/"+readyLink+"/redirect-code", "", nil)
	if r := s.do("POST", "/api/v1/s/"+readyLink+"/redirect-code", "", nil); r.Status != 429 || r.errCode() != "redirect.code_too_soon" {
		t.Fatalf("a second code at once: %d %s", r.Status, r.Body)
	}
	code := s.lastCode(ready, "sms.redirect_code")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := s.do("POST", "/api/v1/s/"+readyLink+"/redirect", "", map[string]any{"code": wrong, "address": address}); r.Status != 422 ||
		r.errCode() != "redirect.code_wrong" {
		t.Fatalf("a wrong code: %d %s", r.Status, r.Body)
	}
	bad := map[string]any{"province": "吉林省", "city": "长春市", "district": "海淀区", "detail": "1 号"}
	if r := s.do("POST", "/api/v1/s/"+readyLink+"/redirect", "", map[string]any{"code": code, "address": bad}); r.Status != 422 ||
		r.errCode() != "address.district_unknown" {
		t.Fatalf("a district outside its city: %d %s", r.Status, r.Body)
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+ready, admin, nil).str("status"); st != "ready" {
		t.Fatalf("refused choices moved it: %s", st)
	}
	r := s.must(200, "POST", "/api/v1/s/"+readyLink+"/redirect", "", map[string]any{"code": code, "address": address})
	if r.str("status") != "arrived" || r.JSON["express"] != true {
		t.Fatalf("after the choice: %s", r.Body)
	}
	if c := s.scan(tok["staff"], ready, "collect", "", "collection_code", collectionCode); c.Status == 200 {
		t.Fatalf("the old collection code still collects it: %s", c.Body)
	}
	eventually(t, 20*time.Second, "its booking at the hall", func() bool { return s.parcelBooking(ready) == "booked" })
	if e := s.eventCount(admin, ready, "redirect"); e != 1 {
		t.Fatalf("%d redirect events", e)
	}
	if d := s.scan(tok["courier"], ready, "dispatch", ""); d.Status != 200 || !strings.Contains(string(d.Body), `"status":"out_for_delivery"`) {
		t.Fatalf("the courier takes it from the hall: %s", d.Body)
	}
	// On its way: recorded now, booked when it reaches its hall.
	moving, movingLink := register()
	s.must(200, "POST", "/api/v1/s/"+movingLink+"/redirect-code", "", nil)
	s.must(200, "POST", "/api/v1/s/"+movingLink+"/redirect", "", map[string]any{"code": s.lastCode(moving, "sms.redirect_code"), "address": address})
	if n := s.count(`SELECT count(*) FROM bookings b JOIN parcels p ON p.id = b.parcel_id WHERE p.waybill_no = $1`, moving); n != 0 {
		t.Fatalf("booked before it reached its hall")
	}
	s.scan(tok["courier"], moving, "pickup", "")
	if r := s.scan(tok["staff"], moving, "receive", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"arrived"`) {
		t.Fatalf("receive at the hall: %s", r.Body)
	}
	if sh := s.scan(tok["staff"], moving, "shelve", ""); sh.Status == 200 {
		t.Fatalf("an express parcel shelved: %s", sh.Body)
	}
	eventually(t, 20*time.Second, "its booking on arrival", func() bool {
		return s.count(`SELECT count(*) FROM bookings b JOIN parcels p ON p.id = b.parcel_id WHERE p.waybill_no = $1`, moving) == 1
	})
	// Too late once handed over.
	done, doneLink := register()
	for _, st := range []struct{ who, action string }{{"courier", "pickup"}, {"staff", "receive"}, {"staff", "shelve"}} {
		s.scan(tok[st.who], done, st.action, "")
	}
	s.must(200, "POST", "/api/v1/scans", tok["staff"], map[string]any{"code": done, "action": "collect", "scan_id": scanID(),
		"id_number": "11010519491231002X"})
	if r := s.do("POST", "/api/v1/s/"+doneLink+"/redirect-code", "", nil); r.Status != 409 || r.errCode() != "redirect.not_allowed" {
		t.Fatalf("after the handover: %d %s", r.Status, r.Body)
	}
}

// The same on the citizen's phone: the private link's page offers express,
// texts the code, and the address lists follow each other.
func TestRedirectPageInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	r := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	no, link := r.str("waybill_no"), r.str("private_url")[strings.LastIndex(r.str("private_url"), "/")+1:]
	ctx := browser(t)
	defer shot(t, ctx, "redirect-last")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 800), chromedp.Navigate(s.base+"/s/"+link),
		chromedp.WaitVisible("#send-code")); err != nil {
		t.Fatal(err)
	}
	legible(t, ctx, "the private link with express offered")
	if err := chromedp.Do(ctx, chromedp.Click("#send-code"), chromedp.WaitVisible("#express-form")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ sel, value string }{{"#province", "吉林省"}, {"#city", "长春市"}, {"#district", "南关区"}} {
		poll(t, ctx, `[...document.querySelectorAll('`+f.sel+` option')].some(o => o.value === '`+f.value+`')`)
		if err := chromedp.Do(ctx, chromedp.SetValue(f.sel, f.value)); err != nil {
			t.Fatal(err)
		}
		changed(t, ctx, f.sel)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#code", s.lastCode(no, "sms.redirect_code")), chromedp.SendKeys("#addr-detail", "人民大街 100 号"),
		chromedp.SendKeys("#unit", "2 单元 301 室")); err != nil {
		t.Fatal(err)
	}
	legible(t, ctx, "the express form")
	noSideways(t, ctx, "the express form")
	shot(t, ctx, "redirect-360")
	if err := chromedp.Do(ctx, chromedp.Click("#redirect"), chromedp.WaitVisible("#redirected")); err != nil {
		t.Fatal(err)
	}
	if p := s.must(200, "GET", "/api/v1/parcels/"+no, tok["admin"], nil); !strings.Contains(string(p.Body), `"destination_kind":"address"`) {
		t.Fatalf("after the page's choice: %s", p.Body)
	}
}
