package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// verify runs `courier verify args…` against the service's database.
func (s *service) verify(args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	env := s.env()
	var out, errb lockedBuffer
	code = run(context.Background(), append([]string{"verify"}, args...), func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// superuserURL is a superuser's connection to the service's database.
func (s *service) superuserURL() string {
	env := s.env()
	if u := env["DATABASE_OWNER_URL"]; u != "" {
		return u
	}
	return env["DATABASE_URL"]
}

// `courier verify` is clean on a fresh start and after a journey; an event
// edited behind the service's back is named (parcel and event), with exit
// status 3; a range or a parcel with nothing in it is a clear error.
func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	if code, out, errs := s.verify(); code != 0 || !strings.Contains(out, "ok:") {
		t.Fatalf("fresh start: %d %s %s", code, out, errs)
	}
	tok := s.users()
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13812345678")).str("waybill_no")
	s.must(200, "POST", "/api/v1/scans", tok["courier"], map[string]any{"code": no, "action": "pickup", "site": "D-SW", "scan_id": scanID()})
	s.must(200, "POST", "/api/v1/scans", tok["staff"], map[string]any{"code": no, "action": "receive", "site": "CC-WIN", "scan_id": scanID()})
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	for _, args := range [][]string{nil, {"--from", today, "--to", today}, {"--parcel", no}} {
		if code, out, errs := s.verify(args...); code != 0 || !strings.Contains(out, "ok: 3 event(s) of 1 parcel(s)") {
			t.Fatalf("verify %v: %d %s %s", args, code, out, errs)
		}
	}

	// An admin starts the same check in the background and reads its result.
	if run := s.backgroundVerify(tok["admin"], map[string]any{"from": today, "to": today}); run["status"] != "clean" {
		t.Fatalf("background check: %v", run)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.superuserURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `BEGIN;
		ALTER TABLE events DISABLE TRIGGER events_no_update;
		UPDATE events SET site_code = 'D-GT' WHERE seq = 2 AND parcel_id = (SELECT id FROM parcels WHERE waybill_no = '`+no+`');
		ALTER TABLE events ENABLE TRIGGER events_no_update;
		COMMIT`)
	if err != nil {
		t.Fatal(err)
	}
	want := "BROKEN: parcel " + no + ", event 2 (hash)"
	for _, args := range [][]string{nil, {"--from", today, "--to", today}, {"--parcel", no}} {
		if code, out, errs := s.verify(args...); code != exitBroken || !strings.Contains(out, want) {
			t.Fatalf("verify %v after an edit: %d %q %s", args, code, out, errs)
		}
	}

	run := s.backgroundVerify(tok["admin"], map[string]any{"waybill_no": no})
	res, _ := run["result"].(map[string]any)
	brk, _ := res["break"].(map[string]any)
	if run["status"] != "broken" || brk["waybill_no"] != no || brk["seq"] != float64(2) {
		t.Fatalf("background check after an edit: %v", run)
	}
	if r := s.do("POST", "/api/v1/verify", tok["admin"], map[string]any{"from": "2020-01-01", "to": "2020-01-02"}); r.Status != 404 || r.errCode() != "verify.range_empty" {
		t.Fatalf("background check of an empty range: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", "/api/v1/verify", tok["admin"], map[string]any{"from": today}); r.Status != 422 || r.errCode() != "verify.range_incomplete" {
		t.Fatalf("background check of half a range: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/api/v1/verify/999999", tok["admin"], nil); r.Status != 404 || r.errCode() != "verify.not_found" {
		t.Fatalf("unknown check: %d %s", r.Status, r.Body)
	}

	for args, msg := range map[string]string{
		"--from 2020-01-01 --to 2020-01-02": "2020-01-01 至 2020-01-02 期间没有任何事件",
		"--from 2020-02-30 --to 2020-03-01": "日期 2020-02-30 无效",
		"--from " + today:                   "须同时给出起止日期",
		"--parcel CC00000000000000":         "运单号 CC00000000000000 不存在",
		"--parcel":                          "usage: courier verify",
	} {
		if code, _, errs := s.verify(strings.Fields(args)...); code != 1 || !strings.Contains(errs, msg) {
			t.Errorf("verify %s: %d %s", args, code, errs)
		}
	}
}

// backgroundVerify starts a check through the API and waits (10 s at most)
// for its result.
func (s *service) backgroundVerify(admin string, body map[string]any) map[string]any {
	s.t.Helper()
	r := s.must(202, "POST", "/api/v1/verify", admin, body)
	id := r.JSON["id"]
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got := s.must(200, "GET", fmt.Sprintf("/api/v1/verify/%v", id), admin, nil)
		if st := got.str("status"); st != "queued" && st != "running" {
			return got.JSON
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("check %v did not finish within 10 s", id)
	return nil
}
