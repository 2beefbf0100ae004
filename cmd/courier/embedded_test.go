package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// tempDir makes a directory the postgres user can reach (t.TempDir's
// parents are private to root), removed when the test ends.
func tempDir(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	d := filepath.Join("/tmp", "courier-e2e-"+hex.EncodeToString(b))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// postgresFor lists the pids of postgres processes whose command line names dir.
func postgresFor(dir string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, "postgres") && strings.Contains(cmd, dir) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func waitNoPostgres(t *testing.T, dir string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		pids := postgresFor(dir)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres still running for %s after %v: pids %v", dir, within, pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With nothing configured the service starts its own durable PostgreSQL,
// keeps its keys and data across restarts, and leaves no server behind.
func TestEmbeddedDefault(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	data := filepath.Join(dir, "var")
	// The scheduler is off as in boot: a leg's slot passing before the
	// restart (or a catch-up run at it) would move the parcel this test
	// expects to find as it left it.
	env := map[string]string{"COURIER_DATA_DIR": data, "COURIER_ADDR": "127.0.0.1:0", "COURIER_PASSWORD_COST": "4",
		"COURIER_SCHEDULER": "off"}
	start := time.Now()
	s := bootEnv(t, env)
	s.must(200, "GET", "/readyz", "", nil)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("ready after %v", d)
	}
	m := regexp.MustCompile(`created user "admin" with password (\S+)`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no generated admin password printed:\n%s", s.stdout.String())
	}
	tok := s.login("admin", m[1])
	// The first start filled in a demo day and said where to sign in.
	dm := regexp.MustCompile(`demo day filled in .* password (demo-\S+)`).FindStringSubmatch(s.stdout.String())
	if dm == nil {
		t.Fatalf("no demo day announced:\n%s", s.stdout.String())
	}
	demo := s.login("demo-staff", dm[1])
	states := map[string]int{}
	for _, it := range s.must(200, "GET", "/api/v1/parcels?limit=200", tok, nil).JSON["items"].([]any) {
		states[it.(map[string]any)["status"].(string)]++
	}
	for _, st := range []string{"registered", "in_transit", "arrived", "ready", "collected", "exception", "returning", "cancelled"} {
		if states[st] == 0 {
			t.Errorf("the demo day has no parcel %s: %v", st, states)
		}
	}
	if runs := s.must(200, "GET", "/api/v1/runs", demo, nil).JSON["items"].([]any); len(runs) == 0 {
		t.Error("the demo day has no run")
	}
	no := s.must(201, "POST", "/api/v1/parcels", tok, parcelBody("13912345678")).str("waybill_no")

	// Password authentication: the generated passwords are kept with the
	// keys; without one the cluster lets nobody in.
	var pw map[string]string
	if b, err := os.ReadFile(filepath.Join(data, "db-passwords.json")); err != nil || json.Unmarshal(b, &pw) != nil {
		t.Fatalf("passwords: %v", err)
	}
	host := "host=" + filepath.Join(data, "pg") + " dbname=postgres sslmode=disable"
	if c, err := pgx.Connect(context.Background(), host+" user=app"); err == nil {
		c.Close(context.Background())
		t.Fatal("the embedded cluster let the superuser in without a password")
	}
	// The service's role may only append to the event log, which the owner owns.
	svc, err := pgx.Connect(context.Background(), host+" user=courier_service password="+pw["courier_service"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Exec(context.Background(), `UPDATE events SET reason = 'x'`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("the service's role updated events: %v", err)
	}
	var owner string
	_ = svc.QueryRow(context.Background(), `SELECT tableowner FROM pg_tables WHERE tablename = 'events'`).Scan(&owner)
	if owner != "courier_owner" {
		t.Errorf("events owned by %q", owner)
	}
	svc.Close(context.Background())

	// Durable settings on the service's own cluster.
	conn, err := pgx.Connect(context.Background(), host+" user=app password="+pw["app"])
	if err != nil {
		t.Fatal(err)
	}
	for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		var v string
		if err := conn.QueryRow(context.Background(), "SHOW "+setting).Scan(&v); err != nil || v != "on" {
			t.Errorf("%s = %q (%v), want on", setting, v, err)
		}
	}
	var listen string
	_ = conn.QueryRow(context.Background(), "SHOW listen_addresses").Scan(&listen)
	if listen != "" {
		t.Errorf("listen_addresses = %q: the embedded server must use a unix socket only", listen)
	}
	conn.Close(context.Background())
	keys, err := os.ReadFile(filepath.Join(data, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}

	// A second process on the same data directory is refused, clearly.
	var out2, err2 lockedBuffer
	if code := run(context.Background(), nil, func(k string) string { return env[k] }, &out2, &err2); code != 1 ||
		!strings.Contains(err2.String(), "already running") {
		t.Fatalf("second start on the same directory: %d %s", code, err2.String())
	}

	if code := s.stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, s.stderr.String())
	}
	waitNoPostgres(t, dir, 5*time.Second)

	// A second start finds everything as it was.
	s2 := bootEnv(t, env)
	if strings.Contains(s2.stdout.String(), "created user") || strings.Contains(s2.stdout.String(), "demo day") {
		t.Fatal("admin or demo day created again on restart")
	}
	tok = s2.login("admin", m[1])
	got := s2.must(200, "GET", "/api/v1/parcels/"+no, tok, nil)
	if got.str("status") != "registered" {
		t.Fatalf("parcel after restart: %s", got.Body)
	}
	keys2, _ := os.ReadFile(filepath.Join(data, "secrets.json"))
	if string(keys) != string(keys2) {
		t.Fatal("keys changed across restarts")
	}
	s2.stop()
	waitNoPostgres(t, dir, 5*time.Second)
}

// Where the postgres user cannot reach the data directory, the cluster goes
// to a fixed place it can reach, and the log says so.
func TestEmbeddedDefaultPrivateParent(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root runs the cluster as another user")
	}
	dir := tempDir(t)
	private := filepath.Join(dir, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(private, "var")
	env := map[string]string{"COURIER_DATA_DIR": data, "COURIER_DEMO": "0", "COURIER_ADDR": "127.0.0.1:0", "COURIER_PASSWORD_COST": "4",
		"COURIER_ADMIN_PASSWORD": adminPassword}
	s := bootEnv(t, env)
	s.must(200, "GET", "/readyz", "", nil)
	if !strings.Contains(s.stderr.String(), "placed elsewhere") {
		t.Errorf("no log line about the moved cluster:\n%s", s.stderr.String())
	}
	moved := regexp.MustCompile(`dir=(/var/tmp/courier-pg-\w+)`).FindStringSubmatch(s.stderr.String())
	s.stop()
	if moved != nil {
		t.Cleanup(func() { os.RemoveAll(moved[1]) })
		waitNoPostgres(t, moved[1], 5*time.Second)
	}
}

// The server does not outlive the service when the service is killed.
func TestKilledServiceLeavesNoPostgres(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	bin := filepath.Join(dir, "courier")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "COURIER_DATA_DIR="+filepath.Join(dir, "var"), "COURIER_ADDR=127.0.0.1:0", "COURIER_DEMO=0",
		"COURIER_ADMIN_PASSWORD="+adminPassword, "DATABASE_URL=", "COURIER_PASSWORD_COST=4")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	listening := make(chan bool, 1)
	go func() {
		for lines.Scan() {
			if strings.Contains(lines.Text(), "listening on") {
				listening <- true
			}
		}
		close(listening)
	}()
	select {
	case ok := <-listening:
		if !ok {
			t.Fatal("service exited before listening")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("service did not listen within 60 s")
	}
	if len(postgresFor(dir)) == 0 {
		t.Fatal("no postgres process found for the service")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitNoPostgres(t, dir, 10*time.Second)
}

// Bad configuration stops the service with one clear message per problem.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DATABASE_URL":       "postgres://x@127.0.0.1:1/db",
		"COURIER_ADDR":       "nonsense",
		"COURIER_PUBLIC_URL": "ftp://x",
		"COURIER_LOG_LEVEL":  "loud",
	}
	var stdout, stderr lockedBuffer
	code := run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code %d", code)
	}
	for _, want := range []string{"COURIER_ADDR", "COURIER_PUBLIC_URL", "COURIER_LOG_LEVEL", "COURIER_ID_HASH_KEY: required with DATABASE_URL"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("no error about %s:\n%s", want, stderr.String())
		}
	}
	stdout = lockedBuffer{}
	if code := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "migrate") || !strings.Contains(stdout.String(), "serve") {
		t.Fatalf("help: %d %s", code, stdout.String())
	}
}

// Against DATABASE_URL the service refuses a schema that is behind unless
// told to migrate, and `courier migrate up` brings it current.
func TestSchemaBehindIsRefusedUntilMigrated(t *testing.T) {
	t.Parallel()
	s := boot(t, nil) // migrated
	env := s.env()
	s.stop()
	pool, err := pgx.Connect(context.Background(), env["DATABASE_OWNER_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	pool.Close(context.Background())
	env2 := map[string]string{}
	for k, v := range env {
		env2[k] = v
	}
	delete(env2, "COURIER_MIGRATE")
	get := func(k string) string { return env2[k] }
	var stdout, stderr lockedBuffer
	if code := run(context.Background(), nil, get, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "courier migrate up") {
		t.Fatalf("serve on a schema behind: %d %s", code, stderr.String())
	}
	stdout = lockedBuffer{}
	if code := run(context.Background(), []string{"migrate", "status"}, get, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "behind") {
		t.Fatalf("migrate status: %d %s %s", code, stdout.String(), stderr.String())
	}
}
