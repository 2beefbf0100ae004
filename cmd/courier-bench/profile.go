package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// With -profile, after the measured runs, the bench repeats one baseline
// track round, one service track round and one scan run (on parcels the
// measured run left untouched) while `perf record -a` samples every process
// on the machine: the courier, the PostgreSQL backends, the bare Fiber
// baseline and the bench itself (the load generator). The profiled runs are reported
// apart and never enter the figures. perf must be installed (Debian:
// linux-perf) and allowed to sample system-wide (root, or
// kernel.perf_event_paranoid ≤ -1).

// profileRun is one profiled run: where its files are and a summary.
type profileRun struct {
	Name      string   `json:"name"`
	Summary   string   `json:"summary"`    // the load run's figures
	Data      string   `json:"data"`       // perf.data file (kept with -keep)
	Report    string   `json:"report"`     // perf report text
	Focus     string   `json:"focus"`      // the process Functions is about
	ByProcess []string `json:"by_process"` // share of all samples per process
	Functions []string `json:"functions"`  // inclusive share of Focus's CPU per function
}

// perfRecord samples all CPUs at 499 Hz, with call chains, for d.
func perfRecord(ctx context.Context, out string, d time.Duration) (*exec.Cmd, error) {
	secs := strconv.FormatFloat(d.Seconds(), 'f', 1, 64)
	cmd := exec.CommandContext(ctx, "perf", "record", "-a", "-g", "-F", "499", "-o", out, "--", "sleep", secs)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	return cmd, nil
}

// perfSummary writes the perf report of r.Data to r.Data+".txt" and fills in
// the per-process shares and the heaviest functions of r.Focus, counted
// with their callees, as a share of that process's samples.
func perfSummary(ctx context.Context, r *profileRun) error {
	r.Report = r.Data + ".txt"
	report := func(args ...string) ([]byte, error) {
		args = append([]string{"report", "-i", r.Data, "--stdio"}, args...)
		out, err := exec.CommandContext(ctx, "perf", args...).Output()
		if err != nil {
			return nil, fmt.Errorf("perf %s: %w", strings.Join(args, " "), err)
		}
		return out, nil
	}
	byComm, err := report("--no-children", "-g", "none", "--sort", "comm", "--percent-limit", "1")
	if err != nil {
		return err
	}
	inclusive, err := report("--children", "--comm", r.Focus, "--percentage", "relative", "-g", "none",
		"--sort", "symbol", "--percent-limit", "0.5")
	if err != nil {
		return err
	}
	self, err := report("--no-children", "-g", "none", "--sort", "comm,dso,symbol", "--percent-limit", "0.3")
	if err != nil {
		return err
	}
	text := "# samples by process\n" + string(byComm) +
		"\n# " + r.Focus + ": functions with their callees, share of its samples\n" + string(inclusive) +
		"\n# all processes: functions alone (self), share of all samples\n" + string(self)
	if err := os.WriteFile(r.Report, []byte(text), 0o644); err != nil {
		return err
	}
	r.ByProcess = reportLines(string(byComm), 8, nil)
	r.Functions = reportLines(string(inclusive), 30, func(sym string) bool {
		// The Go code that decides the cost; runtime, kernel and
		// syscall plumbing, and method-value wrappers, are in the full
		// report.
		for _, p := range []string{"[k]", "runtime.", "internal/", "syscall.", "net.", "io.", "bufio.", "os.", "sync.",
			"github.com/valyala/fasthttp.(*workerPool)"} {
			if strings.HasPrefix(sym, p) {
				return false
			}
		}
		return !strings.HasSuffix(sym, "-fm")
	})
	if len(r.Functions) > 0 && strings.Contains(r.Functions[0], " 0x") {
		// `go run` links without a symbol table: perf shows addresses.
		r.Functions = []string{"(no symbols: " + r.Focus + " was linked without a symbol table, as `go run` does; " +
			"for names, run a binary from `go build ./cmd/courier-bench`)"}
	}
	return nil
}

// reportLines returns up to n data lines of a perf report as "share  name",
// keeping those whose name passes keep (nil keeps all). The name is the
// text after the share(s), with perf's padding and trailing "- -" columns
// removed.
func reportLines(s string, n int, keep func(string) bool) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || !strings.HasSuffix(f[0], "%") {
			continue
		}
		share := f[0]
		f = f[1:]
		if len(f) > 0 && strings.HasSuffix(f[0], "%") { // the self column of --children
			f = f[1:]
		}
		for len(f) > 0 && f[len(f)-1] == "-" {
			f = f[:len(f)-1]
		}
		if len(f) > 0 && f[0] == "[.]" {
			f = f[1:]
		}
		name := strings.Join(f, " ")
		if name == "" || (keep != nil && !keep(name)) {
			continue
		}
		out = append(out, fmt.Sprintf("%7s  %s", share, name))
		if len(out) == n {
			break
		}
	}
	return out
}

// profile runs the profiled track rounds and scan run.
func (b *bench) profile(ctx context.Context, waybills []string, unscanned []string, courierTok string) ([]profileRun, error) {
	o := b.opts
	var runs []profileRun
	record := func(name, focus string, load func() (string, error)) error {
		r := profileRun{Name: name, Focus: focus, Data: filepath.Join(b.workDir, "perf-"+strings.ReplaceAll(name, " ", "-")+".data")}
		b.logf("profile: %s under perf (%s)", name, o.duration)
		rec, err := perfRecord(ctx, r.Data, o.duration)
		if err != nil {
			return err
		}
		summary, err := load()
		werr := rec.Wait()
		if err != nil {
			return err
		}
		if werr != nil {
			return fmt.Errorf("perf record: %w", werr)
		}
		r.Summary = summary
		if err := perfSummary(ctx, &r); err != nil {
			return err
		}
		runs = append(runs, r)
		return nil
	}
	track := func(addr, url string) func() (string, error) {
		return func() (string, error) {
			tr, err := runTrackRound(ctx, addr, url, waybills, o.trackConns, 0, o.duration)
			return fmt.Sprintf("%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors", tr.RPS, tr.P50Ms, tr.P99Ms, tr.Errors), err
		}
	}
	for _, t := range []struct{ name, focus, addr, url string }{
		{"baseline track", baselineComm, b.baseline.addr, "http://" + b.baseline.addr + "/t/"},
		{"service track", "courier", b.service.addr, "http://" + b.service.addr + "/api/v1/track/"},
	} {
		// Warm the connections up first, so that the sampled part is steady.
		if _, err := runTrackRound(ctx, t.addr, t.url, waybills, o.trackConns, 0, o.warmup+time.Millisecond); err != nil {
			return nil, err
		}
		if err := record(t.name, t.focus, track(t.addr, t.url)); err != nil {
			return nil, err
		}
	}

	if len(unscanned) == 0 {
		b.logf("profile: no unscanned parcels left for a profiled scan run")
		return runs, nil
	}
	if err := checkpoint(ctx, b.cluster); err != nil {
		return nil, err
	}
	err := record("scan run", "courier", func() (string, error) {
		src, _ := oneAction(unscanned, courierTok, "pickup", benchOrigin, "")
		sr, err := runScans(ctx, b.service.addr, src, o.clients, o.duration)
		return fmt.Sprintf("%.0f scans/s over %.1fs, p50 %.2f ms, p99 %.2f ms, %d errors", sr.PerSec, sr.Seconds,
			sr.P50Ms, sr.P99Ms, sr.Errors), err
	})
	return runs, err
}
