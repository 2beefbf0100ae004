package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/pgtest"
	"github.com/changchun-gov/courier/shipment"
)

// TestPhoneTailCannotBeGuessed sweeps all 10,000 tails of one parcel from 20
// client addresses, each kept under its own limits by a test clock that
// passes the per-client windows (and delays that return at once): no answer
// opens the detail, every one is exactly the number-alone view, the right
// tail afterwards too; the private link still opens the detail.
func TestPhoneTailCannotBeGuessed(t *testing.T) {
	t.Parallel()
	clock := pgtest.NewClock(time.Now())
	var delays atomic.Int64
	h := &testHooks{now: clock.Now, sleep: func(context.Context, time.Duration) { delays.Add(1) }}
	s := bootHooks(t, map[string]string{"COURIER_PROXY_HEADER": "X-Real-IP", "COURIER_TRUSTED_PROXIES": "127.0.0.1"}, h)
	clerk := s.users()["clerk"]
	reg := s.must(201, "POST", "/api/v1/parcels", clerk, parcelBody("13912345678"))
	no := reg.str("waybill_no")
	link, ok := strings.CutPrefix(reg.str("private_url"), "https://zwfw.example.cn/s/")
	if !ok || !shipment.ValidLinkToken(link) {
		t.Fatalf("register answer without a private link: %s", reg.Body)
	}
	alone := s.must(200, "GET", "/api/v1/track/"+no, "", nil).Body

	const clients, rounds = 20, 10
	perRound := 10000 / clients / rounds // under the per-client limit of a window
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				ip := fmt.Sprintf("203.0.113.%d", c+1)
				for i := 0; i < perRound; i++ {
					tail := fmt.Sprintf("%04d", c*10000/clients+round*perRound+i)
					r := s.do("GET", "/api/v1/track/"+no+"?phone_tail="+tail, "", nil, "X-Real-IP", ip)
					if r.Status != 200 || r.JSON["detail"] != nil || !bytes.Equal(r.Body, alone) {
						t.Errorf("tail %s from %s: %d %s", tail, ip, r.Status, r.Body)
						return
					}
				}
			}(c)
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		clock.Add(11 * time.Minute) // the next per-client window
	}
	if delays.Load() == 0 {
		t.Error("no failed lookup was delayed: the sweep did not reach the per-client limits")
	}
	// The right tail, now, from a client that never failed: the number alone.
	if r := s.do("GET", "/api/v1/track/"+no+"?phone_tail=5678", "", nil, "X-Real-IP", "198.51.100.7"); r.Status != 200 || !bytes.Equal(r.Body, alone) {
		t.Fatalf("right tail after the sweep: %d %s", r.Status, r.Body)
	}
	page := s.must(200, "POST", "/t/"+no, "", "phone_tail=5678", "Content-Type", "application/x-www-form-urlencoded",
		"X-Real-IP", "198.51.100.7")
	if bytes.Contains(page.Body, []byte(`id="detail"`)) || bytes.Contains(page.Body, []byte(link)) {
		t.Fatalf("track page after the sweep shows the detail or the link:\n%s", page.Body)
	}

	// The private link opens the detail without a tail, many times, as JSON and as a page.
	for i := 0; i < 3; i++ {
		r := s.must(200, "GET", "/api/v1/s/"+link, "", nil)
		d, _ := r.JSON["detail"].(map[string]any)
		if d["recipient_name"] != "王*明" || d["phone"] != "139****5678" || r.str("waybill_no") != no {
			t.Fatalf("private link: %s", r.Body)
		}
	}
	page = s.must(200, "GET", "/s/"+strings.ToLower(link), "", nil)
	if !bytes.Contains(page.Body, []byte(`id="detail"`)) || !bytes.Contains(page.Body, []byte("王*明")) {
		t.Fatalf("private link page:\n%s", page.Body)
	}
	// Unknown and malformed links: 404 with a clear message, as JSON and as a page.
	for _, bad := range []string{shipment.NewLinkToken(), "not-a-link", link[:15]} {
		r := s.do("GET", "/api/v1/s/"+bad, "", nil)
		if r.Status != 404 || r.errCode() != "link.not_found" || !strings.Contains(string(r.Body), "链接无效或已过期") {
			t.Fatalf("link %q: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := s.do("GET", "/s/"+shipment.NewLinkToken(), "", nil); r.Status != 404 || !strings.Contains(string(r.Body), "链接无效或已过期") {
		t.Fatalf("unknown link page: %d %s", r.Status, r.Body)
	}
	// Failed link lookups count against the client like unknown numbers.
	var last response
	for i := 0; i <= 60; i++ {
		last = s.do("GET", "/api/v1/s/"+shipment.NewLinkToken(), "", nil, "X-Real-IP", "198.51.100.99")
	}
	if last.Status != 429 || last.errCode() != "track.too_many" {
		t.Fatalf("61st failed link lookup from one client: %d %s", last.Status, last.Body)
	}
	if r := s.do("GET", "/api/v1/track/"+shipment.NewNumber(shipment.KindParcel), "", nil, "X-Real-IP", "198.51.100.99"); r.Status != 429 {
		t.Fatalf("unknown number after 61 failed links: %d %s", r.Status, r.Body)
	}
}
