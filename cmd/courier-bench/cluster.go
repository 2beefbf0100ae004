package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/embeddedpg"
)

// pgbenchScale is the pgbench scale factor (1 M accounts, 157 MB).
const pgbenchScale = 10

// makeWorkDir creates a fresh directory on disk for this run: under
// /var/tmp (a disk on Debian, unlike /dev/shm and often /tmp), else the
// system temp directory. It is made 0755 so that, when we are root, the
// postgres user can reach the cluster directory inside it; the path is short
// enough for PostgreSQL's 107-byte socket limit.
func makeWorkDir() (string, error) {
	parent := "/var/tmp"
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "courier-bench-")
	if err != nil {
		return "", fmt.Errorf("work directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("work directory: %w", err)
	}
	return dir, nil
}

// fsType names the file system dir is on, from statfs(2)'s magic number.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	names := map[int64]string{
		0xEF53: "ext4", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs",
		0x794C7630: "overlayfs", 0x2FC12FC1: "zfs", 0x6969: "nfs", 0x65735546: "fuse",
	}
	if n, ok := names[int64(st.Type)]; ok {
		return n
	}
	return fmt.Sprintf("0x%X", int64(st.Type))
}

// quietLogger passes embeddedpg's warnings on to w and drops its info lines.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// settings are the cluster settings the report shows.
type settings struct {
	version, fsync, syncCommit, fullPageWrites string
}

func clusterSettings(ctx context.Context, cl *embeddedpg.Cluster) (settings, error) {
	var s settings
	err := withConn(ctx, cl.DSN(), func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
			current_setting('synchronous_commit'), current_setting('full_page_writes')`).
			Scan(&s.version, &s.fsync, &s.syncCommit, &s.fullPageWrites)
	})
	return s, err
}

// createDatabase creates database name in the cluster.
func createDatabase(ctx context.Context, cl *embeddedpg.Cluster, name string) error {
	return withConn(ctx, cl.DSN(), func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		return err
	})
}

// checkpoint flushes dirty buffers, so that a timed write run does not pay
// for the WAL of the step before it.
func checkpoint(ctx context.Context, cl *embeddedpg.Cluster) error {
	return withConn(ctx, cl.DSN(), func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "CHECKPOINT")
		return err
	})
}

// vacuumAnalyze does for the service's tables what pgbench -i's last step
// does for pgbench's: a VACUUM (ANALYZE) after loading, so that a timed run
// does not pay the autovacuum of the set-up's inserts (like with like).
func vacuumAnalyze(ctx context.Context, cl *embeddedpg.Cluster, db string) error {
	return withConn(ctx, cl.ConnString(db), func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "VACUUM (ANALYZE)")
		return err
	})
}

// autovacuumRuns is how many autovacuum and autoanalyze runs database db
// has finished, to say of a timed run how many fell inside it.
func autovacuumRuns(ctx context.Context, cl *embeddedpg.Cluster, db string) (int64, error) {
	var n int64
	err := withConn(ctx, cl.ConnString(db), func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::bigint
			FROM pg_stat_all_tables`).Scan(&n)
	})
	return n, err
}

// walUse is what the cluster wrote to its WAL (pg_stat_wal), in all or
// between two readings.
type walUse struct {
	Records int64 `json:"records"`
	FPI     int64 `json:"full_page_images"`
	Bytes   int64 `json:"bytes"`
}

func (w walUse) minus(o walUse) walUse {
	return walUse{Records: w.Records - o.Records, FPI: w.FPI - o.FPI, Bytes: w.Bytes - o.Bytes}
}

// walStats reads the cluster's WAL counters.
func walStats(ctx context.Context, cl *embeddedpg.Cluster) (walUse, error) {
	var w walUse
	err := withConn(ctx, cl.DSN(), func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT wal_records, wal_fpi, wal_bytes::bigint FROM pg_stat_wal`).Scan(&w.Records, &w.FPI, &w.Bytes)
	})
	return w, err
}

func withConn(ctx context.Context, dsn string, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}

// pgbenchResult is baseline A.
type pgbenchResult struct {
	Scale        int     `json:"scale"`
	Clients      int     `json:"clients"`
	Jobs         int     `json:"jobs"`
	DurationS    int     `json:"duration_s"`
	InitS        float64 `json:"init_s"`
	TPS          float64 `json:"tps"`
	LatencyAvgMs float64 `json:"latency_avg_ms"`
	Transactions int64   `json:"transactions"`
	Failed       int64   `json:"failed_transactions"`
	CPU          cpuUse  `json:"cpu"`
	Autovacuums  int64   `json:"autovacuums"` // autovacuum and autoanalyze runs that ended during the run
	WAL          walUse  `json:"wal"`
	Output       string  `json:"-"`
}

// runPgbench initialises a pgbench database at scale 10 and runs the
// built-in TPC-B-like script with -clients clients and two threads for
// -duration (rounded up to whole seconds).
func (b *bench) runPgbench(ctx context.Context) (pgbenchResult, error) {
	r := pgbenchResult{Scale: pgbenchScale, Clients: b.opts.clients, Jobs: min(2, b.opts.clients),
		DurationS: int((b.opts.duration + time.Second - 1) / time.Second)}
	binDir, err := embeddedpg.FindBinaries()
	if err != nil {
		return r, err
	}
	pgbench := filepath.Join(binDir, "pgbench")
	if _, err := os.Stat(pgbench); err != nil {
		return r, fmt.Errorf("pgbench not found next to postgres: %w", err)
	}
	if err := createDatabase(ctx, b.cluster, "pgbench"); err != nil {
		return r, err
	}
	b.logf("pgbench -i -s %d -q pgbench", pgbenchScale)
	start := time.Now()
	if _, err := b.pgbench(ctx, pgbench, "-i", "-s", strconv.Itoa(pgbenchScale), "-q", "pgbench"); err != nil {
		return r, err
	}
	r.InitS = time.Since(start).Seconds()
	b.pgbenchBin = pgbench
	return b.pgbenchRound(ctx, r)
}

// pgbenchRound runs one timed round of pgbench on its database (made by
// runPgbench), from a checkpoint, with r's settings.
func (b *bench) pgbenchRound(ctx context.Context, r pgbenchResult) (pgbenchResult, error) {
	pgbench := b.pgbenchBin
	if err := checkpoint(ctx, b.cluster); err != nil {
		return r, err
	}
	args := []string{"-c", strconv.Itoa(r.Clients), "-j", strconv.Itoa(r.Jobs), "-T", strconv.Itoa(r.DurationS), "-n", "pgbench"}
	b.logf("pgbench %s", strings.Join(args, " "))
	av0, err := autovacuumRuns(ctx, b.cluster, "pgbench")
	if err != nil {
		return r, err
	}
	w0, err := walStats(ctx, b.cluster)
	if err != nil {
		return r, err
	}
	c0 := takeCPU()
	out, err := b.pgbench(ctx, pgbench, args...)
	r.CPU = c0.until(takeCPU())
	if av1, aerr := autovacuumRuns(ctx, b.cluster, "pgbench"); aerr == nil {
		r.Autovacuums = av1 - av0
	}
	if w1, werr := walStats(ctx, b.cluster); werr == nil {
		r.WAL = w1.minus(w0)
	}
	// The bench idles meanwhile: its share is pgbench's, reaped into it.
	if v, ok := r.CPU.CPUSeconds[benchName()]; ok {
		delete(r.CPU.CPUSeconds, benchName())
		r.CPU.CPUSeconds["pgbench"] += v
	}
	if err != nil {
		return r, err
	}
	r.Output = out
	if err := parsePgbench(out, &r); err != nil {
		return r, err
	}
	b.logf("pgbench: %.0f TPS, average latency %.2f ms; CPU %s", r.TPS, r.LatencyAvgMs, cpuText(r.CPU))
	return r, nil
}

// pgbench runs the pgbench client against the cluster's socket as user app.
// pgbench is only a client, so it may run as root.
func (b *bench) pgbench(ctx context.Context, path string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = b.workDir
	env := []string{"PGHOST=" + b.cluster.Dir(), "PGPORT=5432", "PGUSER=" + embeddedpg.User}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pgbench %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

var (
	// PG 14 and later print one tps line, "without initial connection
	// time"; PG 13 and earlier print "including connections establishing"
	// and "excluding connections establishing".
	tpsRe = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(([^)]*)\)`)
	// PG 15 adds the failed transactions line.
	latencyRe   = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
	processedRe = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	failedRe    = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
)

// parsePgbench reads the figures from pgbench's summary.
func parsePgbench(out string, r *pgbenchResult) error {
	found := false
	for _, m := range tpsRe.FindAllStringSubmatch(out, -1) {
		tps, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		// Prefer the figure without connection set-up; take any if none says so.
		if strings.Contains(m[2], "without initial connection") || strings.Contains(m[2], "excluding") || !found {
			r.TPS, found = tps, true
		}
	}
	if !found {
		return fmt.Errorf("no \"tps = N\" line in the pgbench output:\n%s", out)
	}
	if m := latencyRe.FindStringSubmatch(out); m != nil {
		r.LatencyAvgMs, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := processedRe.FindStringSubmatch(out); m != nil {
		r.Transactions, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := failedRe.FindStringSubmatch(out); m != nil {
		r.Failed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return nil
}
