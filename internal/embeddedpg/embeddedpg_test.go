package embeddedpg

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// shmDir makes a fresh directory on /dev/shm (tmpfs, short path, 0755 so the
// postgres user can reach what is inside) and removes it after the test.
func shmDir(t *testing.T) string {
	t.Helper()
	parent := "/dev/shm"
	if _, err := os.Stat(parent); err != nil {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "epgtest-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startCluster(t *testing.T, opts Options) *Cluster {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func queryInt(t *testing.T, connString, sql string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func exec1(t *testing.T, connString, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

// children returns the pids whose parent is pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the parenthesised command: state, ppid, …
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

func TestFindBinaries(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir, err := FindBinaries()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"postgres", "initdb"} {
			if !isExecutable(filepath.Join(dir, name)) {
				t.Errorf("%s has no executable %s", dir, name)
			}
		}
	})

	fakeRoot := func(t *testing.T, versions ...string) {
		root := t.TempDir()
		for _, v := range versions {
			bin := filepath.Join(root, v, "bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"postgres", "initdb"} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
		old := debianRoot
		debianRoot = root
		t.Cleanup(func() { debianRoot = old })
		t.Setenv("PATH", t.TempDir())
	}

	t.Run("NewestMajorNumerically", func(t *testing.T) {
		fakeRoot(t, "9.6", "10", "15", "notaversion")
		dir, err := FindBinaries()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(debianRoot, "15", "bin"); dir != want {
			t.Errorf("FindBinaries() = %s, want %s", dir, want)
		}
	})

	t.Run("PathSymlinksResolved", func(t *testing.T) {
		fakeRoot(t, "15")
		realBin := filepath.Join(debianRoot, "15", "bin")
		path := t.TempDir()
		for _, name := range []string{"postgres", "initdb"} {
			if err := os.Symlink(filepath.Join(realBin, name), filepath.Join(path, name)); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("PATH", path)
		if dir, err := FindBinaries(); err != nil || dir != realBin {
			t.Errorf("FindBinaries() = %s, %v; want %s", dir, err, realBin)
		}
	})

	t.Run("ErrNoBinaries", func(t *testing.T) {
		fakeRoot(t)
		if _, err := FindBinaries(); !errors.Is(err, ErrNoBinaries) {
			t.Fatalf("FindBinaries() error = %v, want ErrNoBinaries", err)
		}
		if !strings.Contains(ErrNoBinaries.Error(), "apt-get install postgresql") {
			t.Error("ErrNoBinaries does not say what to install")
		}
	})
}

func TestStartQueryStop(t *testing.T) {
	t.Parallel()
	dir := shmDir(t)
	c := startCluster(t, Options{Dir: filepath.Join(dir, "cluster")})

	if got := queryInt(t, c.DSN(), "SELECT 40 + 2"); got != 42 {
		t.Errorf("SELECT 40 + 2 = %d", got)
	}
	exec1(t, c.DSN(), "CREATE DATABASE other")
	if got := queryInt(t, c.ConnString("other"), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"); got != 0 {
		t.Errorf("tables in other = %d", got)
	}
	if got := queryInt(t, c.DSN(), "SELECT CASE WHEN current_setting('fsync') = 'off' THEN 1 ELSE 0 END"); got != 1 {
		t.Error("fsync is on in a non-durable cluster")
	}
	if isRoot() {
		fi, err := os.Stat(c.Dir())
		if err != nil {
			t.Fatal(err)
		}
		acct, err := postgresAccount()
		if err != nil {
			t.Fatal(err)
		}
		if uid := int(fi.Sys().(*syscall.Stat_t).Uid); uid != acct.uid {
			t.Errorf("cluster directory owned by uid %d, want postgres (%d)", uid, acct.uid)
		}
	}

	// Keep a backend busy so there are children to check on.
	conn, err := pgx.Connect(context.Background(), c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	pid := c.cmd.Process.Pid
	procs := append(children(t, pid), pid)
	if len(procs) < 3 {
		t.Fatalf("postmaster %d has only %d processes", pid, len(procs))
	}

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	for _, p := range procs {
		if pidAlive(p) {
			t.Errorf("process %d still alive after Stop", p)
		}
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "data", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid still there after Stop (err %v)", err)
	}
}

func TestStartAgain(t *testing.T) {
	t.Parallel()
	dir := shmDir(t)
	c := startCluster(t, Options{Dir: dir})
	exec1(t, c.DSN(), "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")

	t.Run("ErrInUse", func(t *testing.T) {
		_, err := Start(context.Background(), Options{Dir: dir, Logger: testLogger(t)})
		if !errors.Is(err, ErrInUse) {
			t.Fatalf("Start on a live cluster: err = %v, want ErrInUse", err)
		}
	})
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	t.Run("ReusesDataDurable", func(t *testing.T) {
		var log syncBuffer
		c := startCluster(t, Options{Dir: dir, Durable: true, Log: &log})
		if got := queryInt(t, c.DSN(), "SELECT n FROM kept"); got != 7 {
			t.Errorf("kept row = %d, want 7", got)
		}
		if got := queryInt(t, c.DSN(), "SELECT CASE WHEN current_setting('fsync') = 'on' THEN 1 ELSE 0 END"); got != 1 {
			t.Error("fsync is off in a durable cluster")
		}
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), "database system is ready") {
			t.Errorf("Options.Log did not get the server log:\n%s", log.String())
		}
	})

	t.Run("ErrEarlyExitShowsLog", func(t *testing.T) {
		conf := filepath.Join(dir, "data", "postgresql.conf")
		f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString("\nshared_buffers = bogus\n")
		if err := errors.Join(err, f.Close()); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		_, err = Start(context.Background(), Options{Dir: dir, Logger: testLogger(t)})
		if err == nil {
			t.Fatal("Start with a broken postgresql.conf succeeded")
		}
		t.Log(err)
		if !strings.Contains(err.Error(), "shared_buffers") {
			t.Errorf("error does not show the server log: %v", err)
		}
		if d := time.Since(began); d > 10*time.Second {
			t.Errorf("Start took %v to notice the exit", d)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent Write and String.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)

func TestReachableDir(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		want := filepath.Join(shmDir(t), "cluster")
		dir, moved, reason := ReachableDir(want)
		if dir != want || moved || reason != "" {
			t.Errorf("ReachableDir(%s) = %s, %v, %q; want it unchanged", want, dir, moved, reason)
		}
	})

	checkFallback := func(t *testing.T, preferred string) {
		t.Helper()
		dir, moved, reason := ReachableDir(preferred)
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		if !moved || reason == "" || !strings.HasPrefix(dir, "/var/tmp/courier-pg-") || len(dir) != len("/var/tmp/courier-pg-")+12 {
			t.Fatalf("ReachableDir(%s) = %s, %v, %q; want a /var/tmp/courier-pg-<12 hex> fallback", preferred, dir, moved, reason)
		}
		t.Log(reason)
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("fallback mode %v, want 0700", fi.Mode().Perm())
		}
		if isRoot() {
			acct, err := postgresAccount()
			if err != nil {
				t.Fatal(err)
			}
			if uid := int(fi.Sys().(*syscall.Stat_t).Uid); uid != acct.uid {
				t.Errorf("fallback owned by uid %d, want postgres (%d)", uid, acct.uid)
			}
		}
		again, _, _ := ReachableDir(preferred)
		if again != dir {
			t.Errorf("second ReachableDir = %s, want the same fallback %s", again, dir)
		}
	}

	t.Run("FallbackLongSocketPath", func(t *testing.T) {
		checkFallback(t, filepath.Join(shmDir(t), strings.Repeat("x", 100)))
	})

	t.Run("FallbackUnreachableParent", func(t *testing.T) {
		if !isRoot() {
			t.Skip("only root runs the server as another user")
		}
		parent := shmDir(t)
		if err := os.Chmod(parent, 0o700); err != nil {
			t.Fatal(err)
		}
		preferred := filepath.Join(parent, "cluster")
		checkFallback(t, preferred)
		_, err := Start(context.Background(), Options{Dir: preferred, Logger: testLogger(t)})
		if err == nil || !strings.Contains(err.Error(), "ReachableDir") {
			t.Errorf("Start in an unreachable directory: err = %v, want advice to use ReachableDir", err)
		}
	})
}

// TestStartInTempDir is the trap of STACK-NOTES §6.2: t.TempDir() is long and,
// as root, unreachable for the postgres user; ReachableDir moves it.
func TestStartInTempDir(t *testing.T) {
	t.Parallel()
	dir, moved, reason := ReachableDir(filepath.Join(t.TempDir(), "cluster"))
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if moved {
		t.Log(reason)
	}
	c := startCluster(t, Options{Dir: dir})
	if got := queryInt(t, c.DSN(), "SELECT 1"); got != 1 {
		t.Errorf("SELECT 1 = %d", got)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveStale(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()

	// A pid that is certainly dead: a child we started and reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := strconv.Itoa(cmd.Process.Pid) + "\n"
	live := strconv.Itoa(os.Getpid()) + "\n"
	old := time.Now().Add(-time.Hour)

	mk := func(name string, files map[string]string, mtime time.Time) {
		dir := filepath.Join(parent, name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		for f, content := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(dir, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	mk("epg-dead-postmaster", map[string]string{"data/postmaster.pid": dead + "/x\n"}, old)
	mk("epg-dead-owner", map[string]string{ownerFile: dead}, time.Now())
	mk("epg-no-pid-old", nil, old)
	mk("epg-no-pid-new", nil, time.Now())
	mk("epg-live-owner", map[string]string{ownerFile: live, "data/postmaster.pid": dead}, old)
	mk("epg-live-postmaster", map[string]string{"data/postmaster.pid": live}, old)
	mk("other-dead", map[string]string{ownerFile: dead}, old)
	if err := os.WriteFile(filepath.Join(parent, "epg-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(parent, "other-dead"), filepath.Join(parent, "epg-link")); err != nil {
		t.Fatal(err)
	}

	if err := RemoveStale(parent, "epg-"); err != nil {
		t.Fatal(err)
	}
	for name, wantKept := range map[string]bool{
		"epg-dead-postmaster": false,
		"epg-dead-owner":      false,
		"epg-no-pid-old":      false,
		"epg-no-pid-new":      true,
		"epg-live-owner":      true,
		"epg-live-postmaster": true,
		"other-dead":          true,
		"epg-file":            true,
		"epg-link":            true,
	} {
		_, err := os.Lstat(filepath.Join(parent, name))
		if kept := err == nil; kept != wantKept {
			t.Errorf("%s: kept = %v, want %v", name, kept, wantKept)
		}
	}

	if err := RemoveStale(filepath.Join(parent, "missing"), "epg-"); err != nil {
		t.Errorf("RemoveStale on a missing parent: %v", err)
	}
}

func TestConnStringQuoting(t *testing.T) {
	t.Parallel()
	c := &Cluster{dir: `/tmp/it's a \dir`}
	cfg, err := pgx.ParseConfig(c.ConnString("my db"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != c.dir || cfg.Database != "my db" || cfg.User != User || cfg.Port != 5432 {
		t.Errorf("parsed host=%q db=%q user=%q port=%d", cfg.Host, cfg.Database, cfg.User, cfg.Port)
	}
}
