package main

import (
	"context"
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
