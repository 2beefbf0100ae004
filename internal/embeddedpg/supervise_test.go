package embeddedpg

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A killed postmaster is started again: crash recovery keeps every committed
// row, the connection string stays the same, each exit and restart is
// logged, and Stop stops for good.
func TestSupervisorRestartsAKilledServer(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(shmDir(t), "cluster")
	var logs syncBuffer
	opts := Options{Dir: dir, Durable: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	c := startCluster(t, opts)
	sup := Supervise(c, opts)
	t.Cleanup(func() { _ = sup.Stop() })

	exec1(t, c.DSN(), "CREATE TABLE kept (n int)")
	// A connection left open: its backend outlives the postmaster for a
	// moment, which PostgreSQL refuses to start beside.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	for round := 1; round <= 2; round++ {
		if _, err := conn.Exec(ctx, "INSERT INTO kept SELECT generate_series(1, 100)"); err != nil {
			t.Fatal(err)
		}
		old := sup.Cluster()
		pid := old.cmd.Process.Pid
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for sup.Restarts() < round {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: not restarted within 10 s; log:\n%s", round, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !sup.Up() || sup.Cluster() == old || sup.Cluster().DSN() != c.DSN() {
			t.Fatalf("round %d: up %v, new cluster %v, DSN %q", round, sup.Up(), sup.Cluster() != old, sup.Cluster().DSN())
		}
		if got := queryInt(t, c.DSN(), `SELECT count(*) FROM pg_settings
			WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes') AND setting = 'on'`); got != 3 {
			t.Fatalf("round %d: the restarted server is not durable (%d of 3 settings on)", round, got)
		}
		if got := queryInt(t, c.DSN(), "SELECT count(*) FROM kept"); got != 100*round {
			t.Fatalf("round %d: %d rows after the restart, want %d", round, got, 100*round)
		}
		conn.Close(ctx)
		if conn, err = pgx.Connect(ctx, c.DSN()); err != nil {
			t.Fatal(err)
		}
	}

	for _, want := range []string{"exited unexpectedly", "status=\"signal: killed\"", "restarted after an unexpected exit"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log has no %q:\n%s", want, logs.String())
		}
	}

	last := sup.Cluster()
	pid := last.cmd.Process.Pid
	procs := append(children(t, pid), pid)
	if err := sup.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	time.Sleep(3 * minBackoff)
	if sup.Restarts() != 2 || sup.Cluster() != last {
		t.Fatalf("started again after Stop: %d restarts", sup.Restarts())
	}
	for _, p := range procs {
		if pidAlive(p) {
			t.Errorf("process %d still alive after Stop", p)
		}
	}
}

// Stop during the wait before a restart abandons it: nothing is started.
func TestSupervisorStopWhileDown(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(shmDir(t), "cluster")
	opts := Options{Dir: dir, Logger: testLogger(t)}
	c := startCluster(t, opts)
	sup := Supervise(c, opts)
	if err := syscall.Kill(c.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	_ = sup.Stop()
	time.Sleep(3 * minBackoff)
	if sup.Restarts() != 0 {
		t.Fatalf("%d restarts after Stop", sup.Restarts())
	}
	if pid, err := readPid(filepath.Join(dir, "data", "postmaster.pid")); err == nil && pidAlive(pid) && pid != c.cmd.Process.Pid {
		t.Fatalf("a postmaster (pid %d) runs after Stop", pid)
	}
}
