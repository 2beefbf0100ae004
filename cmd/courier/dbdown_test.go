package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/embeddedpg"
)

// answer is an HTTP answer with its headers.
type answer struct {
	status int
	header http.Header
	body   []byte
	sent   time.Time
	got    time.Time
}

func (a answer) code() string {
	var b struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(a.body, &b)
	return b.Error.Code
}

// call sends one request; a transport error is a test failure.
func (s *service) call(method, path, token, contentType string, body []byte) answer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	a := answer{sent: time.Now()}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Errorf("%s %s: %v", method, path, err)
		return a
	}
	defer res.Body.Close()
	a.body, _ = io.ReadAll(res.Body)
	a.status, a.header, a.got = res.StatusCode, res.Header, time.Now()
	return a
}

// checkUnavailable checks a 503 is the database-away answer: its code, a
// Chinese message and Retry-After.
func checkUnavailable(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status != 503 {
		t.Errorf("%s: status %d, want 503: %s", what, a.status, a.body)
		return
	}
	if strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		if c := a.code(); c != "service.db_unavailable" {
			t.Errorf("%s: code %q, want service.db_unavailable: %s", what, c, a.body)
		}
	}
	if !strings.Contains(string(a.body), "数据库暂时不可用") {
		t.Errorf("%s: no Chinese message: %s", what, a.body)
	}
	if a.header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
}

// The embedded postgres killed (SIGKILL of the postmaster) under a load of
// scans: the service starts it again by itself; every scan answered 200 is
// in the ledger afterwards; meanwhile scans are answered 503 (never 500) and
// /readyz says unavailable; scans succeed again within 10 s of the kill; the
// job queue works after it.
func TestEmbeddedPostgresKilledUnderScans(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	data := filepath.Join(dir, "var")
	s := bootEnv(t, map[string]string{"COURIER_DATA_DIR": data, "COURIER_DEMO": "0", "COURIER_ADDR": "127.0.0.1:0",
		"COURIER_PASSWORD_COST": "4", "COURIER_ADMIN_PASSWORD": adminPassword, "COURIER_LOG_LEVEL": "warn",
		"COURIER_SCHEDULER": "off"})
	tok := s.users()

	const parcels = 600
	nos := make([]string, parcels)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < parcels; i += 4 {
				body := parcelBody("13912345678")
				body["application_no"] = fmt.Sprintf("SW-DBDOWN-%04d", i)
				nos[i] = s.must(201, "POST", "/api/v1/parcels", tok["clerk"], body).str("waybill_no")
			}
		}()
	}
	wg.Wait()

	var (
		mu       sync.Mutex
		acked    []string
		ackedAt  []answer
		answers  []answer // every non-200 scan answer
		killedAt time.Time
		next     atomic.Int64
		stop     atomic.Bool
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= parcels {
					return
				}
				body, _ := json.Marshal(map[string]any{"code": nos[i], "action": "pickup", "site": "D-SW",
					"scan_id": "dbdown-" + nos[i]})
				for !stop.Load() { // a station retries the same scan until it is acknowledged
					a := s.call("POST", "/api/v1/scans", tok["courier"], "application/json", body)
					mu.Lock()
					if a.status == 200 {
						acked, ackedAt = append(acked, nos[i]), append(ackedAt, a)
					} else {
						answers = append(answers, a)
					}
					mu.Unlock()
					if a.status == 200 {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	readyz := make(chan answer, 1)
	wg.Add(1)
	go func() { // /readyz during the outage
		defer wg.Done()
		for !stop.Load() {
			if a := s.call("GET", "/readyz", "", "", nil); a.status != 200 {
				select {
				case readyz <- a:
				default:
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	// Kill the postmaster once the load runs.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(data, "pg", "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	// Scans succeed again: the last refusal is followed by acknowledged
	// scans and a second without refusals (or the parcels run out).
	recoveredAt := func() (last time.Time, after int) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range answers {
			if a.got.After(last) {
				last = a.got
			}
		}
		for _, a := range ackedAt {
			if !last.IsZero() && a.sent.After(last) {
				after++
			}
		}
		return last, after
	}
	for deadline := killedAt.Add(20 * time.Second); time.Now().Before(deadline) && int(next.Load()) < parcels; {
		time.Sleep(20 * time.Millisecond)
		if last, after := recoveredAt(); !last.IsZero() && after > 0 && time.Since(last) > time.Second {
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	recovered, after := recoveredAt()
	if after == 0 {
		recovered = time.Time{}
	}

	if recovered.IsZero() {
		t.Fatalf("scans did not succeed again within 20 s of the kill; log:\n%s", s.stderr.String())
	}
	if d := recovered.Sub(killedAt); d > 10*time.Second {
		t.Errorf("scans succeeded again %v after the kill, want within 10 s", d.Round(time.Millisecond))
	}
	t.Logf("%d scans acknowledged, %d refused during the outage; serving again %v after the kill",
		len(acked), len(answers), recovered.Sub(killedAt).Round(time.Millisecond))
	if len(answers) == 0 {
		t.Fatal("no scan was refused: the outage was not seen")
	}
	for i, a := range answers {
		if a.status == 0 {
			continue // a transport error, reported by call
		}
		checkUnavailable(t, fmt.Sprintf("scan answer %d during the outage", i), a)
		if t.Failed() {
			break
		}
	}
	select {
	case a := <-readyz:
		if a.status != 503 || !strings.Contains(string(a.body), `"unavailable"`) || a.header.Get("Retry-After") == "" {
			t.Errorf("/readyz during the outage: %d %s (Retry-After %q)", a.status, a.body, a.header.Get("Retry-After"))
		}
	default:
		t.Error("/readyz never said unavailable")
	}
	for _, want := range []string{"exited unexpectedly", "restarted after an unexpected exit"} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("no log line %q:\n%s", want, s.stderr.String())
		}
	}

	s.must(200, "GET", "/readyz", "", nil)
	// Every acknowledged scan is in the ledger.
	for _, no := range acked {
		ev := s.must(200, "GET", "/api/v1/parcels/"+no+"/events", tok["admin"], nil)
		if !strings.Contains(string(ev.Body), `"action":"pickup"`) {
			t.Fatalf("acknowledged pickup of %s missing from the ledger: %s", no, ev.Body)
		}
	}

	// The job queue survived: a run's courier booking goes through it.
	body := parcelBody("13912345678")
	body["destination"] = map[string]any{"kind": "hall", "site": "ED-HALL"}
	body["application_no"] = "SW-DBDOWN-RUN"
	s.must(201, "POST", "/api/v1/parcels", tok["clerk"], body)
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", s.legIDs(tok["admin"])["D-SW>CC-HUB"]), tok["admin"], nil)
	for deadline := time.Now().Add(20 * time.Second); ; {
		r := s.must(200, "GET", "/api/v1/runs/"+run.str("run_no"), tok["admin"], nil)
		if strings.Contains(string(r.Body), `"status":"booked"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("booking not made by the job queue within 20 s after the outage: %s", r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	waitNoPostgres(t, dir, 5*time.Second)
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// On DATABASE_URL with the server stopped, every route answers without a
// 500: those that need the database 503 with the stable code, a Chinese
// message and Retry-After; /readyz says unavailable. When the server is
// back, the pool reconnects and the same service serves again.
func TestDatabaseURLServerStoppedAndBack(t *testing.T) {
	t.Parallel()
	parent, err := os.MkdirTemp("/dev/shm", "courier-dbdown-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(parent, 0o755)
	t.Cleanup(func() { os.RemoveAll(parent) })
	opts := embeddedpg.Options{Dir: filepath.Join(parent, "pg"), Log: io.Discard, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	cl, err := embeddedpg.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop() })
	// The superuser migrates; the service serves as a member of its role.
	conn, err := pgx.Connect(ctx, cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE ROLE courier_service NOLOGIN; CREATE ROLE dbdown_svc LOGIN IN ROLE courier_service`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := boot(t, map[string]string{"DATABASE_URL": cl.ConnStringAs("postgres", "dbdown_svc", ""), "DATABASE_OWNER_URL": cl.DSN(),
		"COURIER_COURIER_SIM": "on", "COURIER_PUSH_TOKEN": testPushToken, "COURIER_SIM_SPEED": "1"})
	tok := s.users()
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	if r := s.scan(tok["courier"], no, "pickup", "D-SW"); r.Status != 200 {
		t.Fatalf("pickup: %s", r.Body)
	}

	if err := cl.Stop(); err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{}
	raw, err := os.ReadFile("../../web/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	roleToken := map[string]string{"admin": tok["admin"], "clerk": tok["clerk"], "staff": tok["staff"],
		"courier": tok["courier"], "api_client": tok["api"]}
	values := map[string]string{"{waybill_no}": no, "{id}": "1", "{run_no}": "CR48172039561280", "{day}": "2026-12-25",
		"{name}": "reminders", "{token}": "K7Q2M4XJ3B5N6PRA", "{code}": "CC-WIN", "{slot}": "A-01", "{username}": "u-clerk"}
	mustBe503 := map[string]bool{"POST /api/v1/scans": true, "POST /api/v1/parcels": true, "GET /api/v1/parcels/{waybill_no}": true,
		"GET /api/v1/track/{waybill_no}": true, "POST /api/v1/auth/token": true, "GET /t/{waybill_no}": true, "GET /readyz": true}
	var keys []string
	paths := doc["paths"].(map[string]any)
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			keys = append(keys, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		method, p, _ := strings.Cut(key, " ")
		op := paths[p].(map[string]any)[strings.ToLower(method)].(map[string]any)
		token := ""
		roles, _ := op["x-roles"].([]any)
		for _, r := range roles {
			if name, _ := r.(string); token == "" && roleToken[name] != "" {
				token = roleToken[name]
			}
		}
		url := pathParam.ReplaceAllStringFunc(p, func(v string) string { return values[v] })
		if strings.HasPrefix(p, "/hooks/") {
			url = strings.Replace(p, "{token}", testPushToken, 1)
		}
		var body []byte
		ct := ""
		if rb, ok := op["requestBody"].(map[string]any); ok {
			content, _ := rb["content"].(map[string]any)
			if media, ok := content["application/json"].(map[string]any); ok {
				ex, ok := media["example"]
				if !ok {
					exs, _ := media["examples"].(map[string]any)
					names := make([]string, 0, len(exs))
					for n := range exs {
						names = append(names, n)
					}
					sort.Strings(names)
					if len(names) > 0 {
						ex = exs[names[0]].(map[string]any)["value"]
					}
				}
				body, _ = json.Marshal(ex)
				ct = "application/json"
			} else if _, ok := content["application/x-www-form-urlencoded"]; ok {
				body, ct = []byte("phone_tail=5678"), "application/x-www-form-urlencoded"
			}
		}
		if p == "/api/v1/scans" {
			body, _ = json.Marshal(map[string]any{"code": no, "action": "receive", "site": "CC-WIN", "scan_id": "dbdown-walk"})
			token = tok["staff"]
		}
		a := s.call(method, url, token, ct, body)
		switch {
		case strings.HasPrefix(p, "/hooks/"):
			// A courier's push is refused as its protocol says: not kept, pushed again.
			if a.status < 400 || !strings.Contains(string(a.body), `"1000"`) && !strings.Contains(string(a.body), `"S00001"`) {
				t.Errorf("%s with the database stopped: %d %s, want the protocol's refusal", key, a.status, a.body)
			}
		case a.status == 503 && p == "/readyz":
			if !strings.Contains(string(a.body), `"unavailable"`) {
				t.Errorf("%s: %s", key, a.body)
			}
		case a.status == 503:
			checkUnavailable(t, key, a)
		case mustBe503[key]:
			t.Errorf("%s with the database stopped: %d %s, want 503", key, a.status, a.body)
		case a.status >= 200 && a.status < 300:
			// needs no database (health, the document, reference data read at start)
		default:
			t.Errorf("%s with the database stopped: %d %s, want 503 (or 2xx when it needs no database)", key, a.status, a.body)
		}
	}
	if strings.Contains(s.stderr.String(), "request failed") {
		t.Errorf("internal errors logged during the outage:\n%s", s.stderr.String())
	}

	// The server comes back; the pool reconnects by itself.
	back := time.Now()
	cl2, err := embeddedpg.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl2.Stop() })
	for {
		r := s.scan(tok["staff"], no, "receive", "CC-WIN")
		if r.Status == 200 {
			break
		}
		if r.Status != 503 || time.Since(back) > 10*time.Second {
			t.Fatalf("receive after the server came back (%v): %d %s", time.Since(back).Round(time.Millisecond), r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.must(200, "GET", "/readyz", "", nil)
	if got := s.must(200, "GET", "/api/v1/parcels/"+no, tok["admin"], nil).str("status"); got != "arrived" {
		t.Fatalf("status after the receive: %q", got)
	}
}
