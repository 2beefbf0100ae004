package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/embeddedpg"
	"github.com/changchun-gov/courier/internal/pgtest"
	"github.com/changchun-gov/courier/internal/postgres"
)

// runEnv runs the program with env until it exits (or 30 s pass).
func runEnv(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb lockedBuffer
	code := run(ctx, args, func(k string) string { return env[k] }, &out, &errb)
	return code, errb.String()
}

// On DATABASE_URL the service refuses to serve as a superuser or as the
// owner of the event log, and migrates only as the owner.
func TestServiceRefusesRolesThatCouldChangeTheLog(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	base := map[string]string{
		"COURIER_ADDR": "127.0.0.1:0", "COURIER_ID_HASH_KEY": randomKey(), "COURIER_DATA_KEY": randomKey(),
		"COURIER_ADMIN_PASSWORD": adminPassword, "COURIER_PASSWORD_COST": "4", "COURIER_SCHEDULER": "off",
		"COURIER_LOG_LEVEL": "error",
	}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	// The superuser, migrating as itself.
	if code, errs := runEnv(t, with("DATABASE_URL", db, "DATABASE_OWNER_URL", db, "COURIER_MIGRATE", "1")); code != 1 ||
		!strings.Contains(errs, "is a superuser") {
		t.Fatalf("served as a superuser: %d %s", code, errs)
	}
	// COURIER_MIGRATE without the owner's connection.
	svc := pgtest.AsRole(t, db, postgres.ServiceRole)
	if code, errs := runEnv(t, with("DATABASE_URL", svc, "COURIER_MIGRATE", "1")); code != 2 ||
		!strings.Contains(errs, "DATABASE_OWNER_URL") {
		t.Fatalf("migrate without the owner: %d %s", code, errs)
	}
	// The owner of events (not a superuser).
	ownerURL := pgtest.AsRole(t, db, "courier_test_owner")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `GRANT courier_service TO courier_test_owner`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ALTER TABLE events OWNER TO courier_test_owner`); err != nil {
		t.Fatal(err)
	}
	if code, errs := runEnv(t, with("DATABASE_URL", ownerURL)); code != 1 || !strings.Contains(errs, "owns the event log") {
		t.Fatalf("served as the owner: %d %s", code, errs)
	}
	if _, err := conn.Exec(ctx, `ALTER TABLE events OWNER TO current_user`); err != nil {
		t.Fatal(err)
	}
	// A role granted more than INSERT and SELECT on it.
	if _, err := conn.Exec(ctx, `GRANT UPDATE ON events TO courier_test_owner`); err != nil {
		t.Fatal(err)
	}
	if code, errs := runEnv(t, with("DATABASE_URL", ownerURL)); code != 1 || !strings.Contains(errs, "may UPDATE the event log") {
		t.Fatalf("served as a role that may update events: %d %s", code, errs)
	}
}

// An embedded cluster of an older release (trust, every table owned by the
// superuser) is switched at start: passwords, the tables owned by the owner
// role, the service serving as its restricted role.
func TestEmbeddedClusterOfAnOlderReleaseIsSwitched(t *testing.T) {
	t.Parallel()
	data := filepath.Join(tempDir(t), "var")
	dir, _, _ := embeddedpg.ReachableDir(filepath.Join(data, "pg"))
	ctx := context.Background()
	cl, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(ctx, cl.DSN(), 2)
	if err == nil {
		_, err = postgres.Migrate(ctx, pool, nil)
		pool.Close()
	}
	if err != nil {
		_ = cl.Stop()
		t.Fatal(err)
	}
	if err := cl.Stop(); err != nil {
		t.Fatal(err)
	}

	s := bootEnv(t, map[string]string{"COURIER_DATA_DIR": data, "COURIER_DEMO": "0", "COURIER_ADDR": "127.0.0.1:0", "COURIER_PASSWORD_COST": "4",
		"COURIER_ADMIN_PASSWORD": adminPassword, "COURIER_TEST_CLUSTER": "1"})
	tok := s.login("admin", adminPassword)
	s.must(201, "POST", "/api/v1/parcels", tok, parcelBody("13912345678"))
	if code, out, errs := s.verify(); code != 1 || !strings.Contains(errs, "already running") {
		t.Fatalf("verify beside a running embedded service: %d %s %s", code, out, errs)
	}
	var pw map[string]string
	if b, err := os.ReadFile(filepath.Join(data, "db-passwords.json")); err != nil || json.Unmarshal(b, &pw) != nil {
		t.Fatalf("passwords: %v", err)
	}
	conn, err := pgx.Connect(ctx, "host="+dir+" dbname=postgres sslmode=disable user=app password="+pw["app"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var others []string
	if err := conn.QueryRow(ctx, `SELECT array(SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v') AND c.relowner <> 'courier_owner'::regrole ORDER BY 1)`).
		Scan(&others); err != nil || len(others) != 0 {
		t.Fatalf("still owned by others: %v %v", others, err)
	}
	var user string
	if err := conn.QueryRow(ctx, `SELECT usename FROM pg_stat_activity WHERE application_name = 'courier' LIMIT 1`).Scan(&user); err != nil || user != postgres.ServiceRole {
		t.Fatalf("the service connects as %q (%v)", user, err)
	}
}
