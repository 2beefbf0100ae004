package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/embeddedpg"
	"github.com/changchun-gov/courier/internal/postgres"
)

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error with the server away", what)
	}
	if got := apperr.CodeOf(postgres.Unavailable(err)); got != "service.db_unavailable" {
		t.Fatalf("%s: %v is %q, want service.db_unavailable", what, err, got)
	}
}

// A pool under a server that stops (fast shutdown), comes back, is killed
// (SIGKILL of the postmaster) and comes back again: every failure meanwhile
// is "database unavailable", other errors are not, and the pool reconnects
// by itself each time.
func TestPoolAcrossServerRestarts(t *testing.T) {
	t.Parallel()
	parent, err := os.MkdirTemp("/dev/shm", "pgdown-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(parent, 0o755)
	t.Cleanup(func() { os.RemoveAll(parent) })
	// Durable: without synchronous commit a killed postmaster loses the
	// commits its WAL writer had not flushed yet.
	opts := embeddedpg.Options{Dir: filepath.Join(parent, "pg"), Durable: true, Log: io.Discard,
		Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	start := func() *embeddedpg.Cluster {
		cl, err := embeddedpg.Start(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Stop() })
		return cl
	}
	cl := start()
	pool, err := postgres.Open(ctx, cl.DSN(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE TABLE t (n int)"); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, "SELEC 1")
	if got := apperr.CodeOf(postgres.Unavailable(err)); err == nil || got == "service.db_unavailable" {
		t.Fatalf("a syntax error is %q (%v)", got, err)
	}

	// back waits until the pool serves again; every failure before must be
	// "unavailable".
	back := func(round string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; ; i++ {
			err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO t VALUES (1)")
				return err
			})
			if err == nil {
				return
			}
			if got := apperr.CodeOf(err); got != "service.db_unavailable" {
				t.Fatalf("%s: attempt %d: %v is %q, want service.db_unavailable", round, i, err, got)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the pool did not reconnect within 10 s: %v", round, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	for _, how := range []string{"stop", "kill"} {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		switch how {
		case "stop":
			if err := cl.Stop(); err != nil {
				t.Fatal(err)
			}
		case "kill":
			b, err := os.ReadFile(filepath.Join(cl.Dir(), "data", "postmaster.pid"))
			if err != nil {
				t.Fatal(err)
			}
			var pid int
			fmt.Sscan(string(b), &pid)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cl.Stop() // waits for the exit
		}
		// The connection the server dropped (57P01, or EOF), then new ones
		// that cannot connect.
		_, err = conn.Exec(ctx, "SELECT 1")
		conn.Release() // before any Fatal: pool.Close waits for it
		wantUnavailable(t, how+": query on an open connection", err)
		_, err = pool.Exec(ctx, "SELECT 1")
		wantUnavailable(t, how+": query through the pool", err)
		err = postgres.WithTx(ctx, pool, func(pgx.Tx) error { return nil })
		if got := apperr.CodeOf(err); got != "service.db_unavailable" {
			t.Fatalf("%s: WithTx: %v is %q", how, err, got)
		}

		cl = start()
		back(how)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows %d (%v), want 2", n, err)
	}
}
