package main

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// Findings of the security review, kept fixed.
func TestSecurityLimits(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_TRACK_FREE_FAILURES": "100", "COURIER_TRACK_MAX_FAILURES": "200"})
	tok := s.users()
	clerk := tok["clerk"]
	no := s.must(201, "POST", "/api/v1/parcels", clerk, parcelBody("13912345678")).str("waybill_no")

	t.Run("ErrOtherSitesParcel", func(t *testing.T) {
		// Another department may not report, resolve or return a parcel of ours …
		r := s.scan(tok["clerkGT"], no, "report", "", "reason", "damaged")
		if r.Status != 403 || r.errCode() != "parcel.other_site" {
			t.Fatalf("report by another department: %s", r.Body)
		}
		// … but a hall may report one that reached it by mistake.
		if r := s.scan(tok["staffNG"], no, "report", "", "reason", "misrouted"); r.Status != 200 {
			t.Fatalf("misrouted report: %s", r.Body)
		}
		if r := s.scan(tok["admin"], no, "resolve", "", "resolution", "restore"); r.Status != 200 {
			t.Fatalf("resolve: %s", r.Body)
		}
	})
	t.Run("ErrCourierReadsUnhandled", func(t *testing.T) {
		r := s.do("GET", "/api/v1/parcels/"+no, tok["courier"], nil)
		if r.Status != 403 || r.errCode() != "parcel.not_handled" {
			t.Fatalf("courier reading an unhandled parcel: %s", r.Body)
		}
	})
	t.Run("ErrScanTimeInvalid", func(t *testing.T) {
		r := s.scan(tok["courier"], no, "pickup", "", "scanned_at", "2001-01-01T00:00:00+08:00")
		if r.Status != 422 || r.errCode() != "scan.time_invalid" {
			t.Fatalf("old scan time: %s", r.Body)
		}
	})
	t.Run("ErrCollectionCodeGuessing", func(t *testing.T) {
		for _, st := range []struct{ who, action string }{{"courier", "pickup"}, {"staff", "receive"}, {"staff", "shelve"}} {
			if r := s.scan(tok[st.who], no, st.action, ""); r.Status != 200 {
				t.Fatalf("%s: %s", st.action, r.Body)
			}
		}
		var last response
		for i := 0; i < 6; i++ {
			last = s.scan(tok["staff"], no, "collect", "", "collection_code", "00000"+string(rune('0'+i)))
		}
		if last.Status != 429 || last.errCode() != "collect.too_many" {
			t.Fatalf("sixth wrong code: %s", last.Body)
		}
		// The holder's ID still works.
		if r := s.scan(tok["staff"], no, "collect", "", "id_number", "11010519491231002X"); r.Status != 200 {
			t.Fatalf("collect by ID: %s", r.Body)
		}
	})
	t.Run("NULIsBadInputNot500", func(t *testing.T) {
		if r := s.do("GET", "/api/v1/parcels?q=%00", clerk, nil); r.Status != 422 {
			t.Fatalf("NUL in a query: %d %s", r.Status, r.Body)
		}
		b := parcelBody("13912345678")
		b["notes"] = "a\u0000b"
		if r := s.do("POST", "/api/v1/parcels", clerk, b); r.Status != 422 {
			t.Fatalf("NUL in notes: %d %s", r.Status, r.Body)
		}
	})
}

// Parallel wrong passwords cannot slip past the sign-in limit.
func TestLoginLimitHoldsUnderParallelGuesses(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "admin", "password": "wrong-password"})
			mu.Lock()
			codes[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[401] > 20 || codes[429] < 20 {
		t.Fatalf("answers %v: more than 20 guesses were tried", codes)
	}
}

func TestProxyHeaderNeedsTrustedProxies(t *testing.T) {
	t.Parallel()
	env := map[string]string{"COURIER_PROXY_HEADER": "X-Real-IP"}
	var stdout, stderr lockedBuffer
	if code := run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "COURIER_TRUSTED_PROXIES") {
		t.Fatalf("%d %s", code, stderr.String())
	}
	env = map[string]string{"DATABASE_URL": "postgres://app:pw@db/x?password=s3cret&sslmode=disable",
		"COURIER_ID_HASH_KEY": randomKey(), "COURIER_DATA_KEY": randomKey()}
	stdout = lockedBuffer{}
	if code := run(context.Background(), []string{"config"}, func(k string) string { return env[k] }, &stdout, &stderr); code != 0 ||
		strings.Contains(stdout.String(), "s3cret") || strings.Contains(stdout.String(), ":pw@") {
		t.Fatalf("config dump: %d %s", code, stdout.String())
	}
}
