package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Results are all figures of one run; -out writes them as JSON.
type Results struct {
	Started      string             `json:"started"`
	Machine      machine            `json:"machine"`
	Config       configInfo         `json:"config"`
	Pgbench      pgbenchResult      `json:"pgbench"`
	Registration registrationResult `json:"registration"`
	Scans        scanResult         `json:"scans"` // pickup, the median round: the target
	// PickupRounds are every pickup round, each judged against the pgbench
	// round just before it (PgbenchRounds, TPS; the first is Pgbench).
	PickupRounds  []scanResult `json:"pickup_rounds"`
	PgbenchRounds []float64    `json:"pgbench_rounds_tps"`
	// MixPgbench is the pgbench round run right before the mix, which the
	// mix is judged against.
	MixPgbench pgbenchResult `json:"mix_pgbench"`
	Receive    scanResult    `json:"receive"`
	Shelve     scanResult    `json:"shelve"`
	Collect    scanResult    `json:"collect"`
	Mix        scanResult    `json:"hall_mix"`
	// Pushes are SF route pushes of one node and of ten, beside the scans.
	Push1   scanResult   `json:"push_1_node"`
	Push10  scanResult   `json:"push_10_nodes"`
	Track   trackResult  `json:"track"`
	Profile []profileRun `json:"profile,omitempty"`
	Pass    bool         `json:"pass"`
}

type machine struct {
	CPUs              int    `json:"cpus"`
	GOMAXPROCS        int    `json:"gomaxprocs"`
	GoVersion         string `json:"go_version"`
	OS                string `json:"os"`
	Arch              string `json:"arch"`
	PostgreSQL        string `json:"postgresql"`
	ClusterDir        string `json:"cluster_dir"`
	FSType            string `json:"fs_type"`
	Fsync             string `json:"fsync"`
	SynchronousCommit string `json:"synchronous_commit"`
	FullPageWrites    string `json:"full_page_writes"`
	// BackgroundPct is the CPU other processes used in 2 s before the run.
	BackgroundPct float64 `json:"background_pct"`
}

type configInfo struct {
	Clients    int     `json:"clients"`
	DurationS  float64 `json:"duration_s"`
	TrackConns int     `json:"track_conns"`
	Parcels    int     `json:"parcels"`
	Rounds     int     `json:"rounds"`
	WarmupS    float64 `json:"warmup_s"`
	// GOMAXPROCS of the courier and the bare baseline; 0: Go's default.
	ServerProcs int `json:"server_procs"`
}

func machineInfo() machine {
	return machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH}
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// printReport writes the human-readable table.
func printReport(w io.Writer, r *Results) {
	m := r.Machine
	fmt.Fprintf(w, "\ncourier-bench — %s\n", r.Started)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s %s/%s; PostgreSQL %s on %s (%s)\n",
		m.CPUs, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch, m.PostgreSQL, m.FSType, m.ClusterDir)
	fmt.Fprintf(w, "durability: fsync=%s synchronous_commit=%s full_page_writes=%s; load generators share the same cores\n",
		m.Fsync, m.SynchronousCommit, m.FullPageWrites)
	procs := "Go's default (every core)"
	if r.Config.ServerProcs > 0 {
		procs = strconv.Itoa(r.Config.ServerProcs)
	}
	fmt.Fprintf(w, "Go servers (the courier, the bare baseline): GOMAXPROCS %s; PostgreSQL, pgbench and the load generator use every core\n", procs)
	fmt.Fprintf(w, "background load before the run: %.0f%% of the CPU\n", m.BackgroundPct)

	p, s := r.Pgbench, r.Scans
	fmt.Fprintf(w, "\nSCANS (state-changing writes, durable), %d clients, %.0fs each; every scan on its own parcel\n", s.Workers, r.Config.DurationS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  baseline A: pgbench TPC-B-like (-s %d -c %d -j %d -T %d -n)\t%.0f TPS\tavg latency %.2f ms, %d failed\n",
		p.Scale, p.Clients, p.Jobs, p.DurationS, p.TPS, p.LatencyAvgMs, p.Failed)
	fmt.Fprintf(tw, "  service: POST /api/v1/scans\tscans/s\tratio\ttarget\t\tp50 ms\tp99 ms\tok\tseconds\trepeats\terrors\n")
	for _, x := range []scanResult{r.Scans, r.Receive, r.Shelve, r.Collect, r.Mix} {
		target, verdict := "(informational)", ""
		if x.Target > 0 {
			target, verdict = fmt.Sprintf("≥ %.2f", x.Target), passFail(x.Pass)
		}
		fmt.Fprintf(tw, "    %s\t%.0f\t%.2f\t%s\t%s\t%.2f\t%.2f\t%d\t%.1f\t%d\t%d\n", scanLabel(x), x.PerSec, x.Ratio,
			target, verdict, x.P50Ms, x.P99Ms, x.OK, x.Seconds, x.Repeats, x.Errors)
	}
	tw.Flush()
	if len(r.PickupRounds) > 1 {
		parts := make([]string, len(r.PickupRounds))
		for i, x := range r.PickupRounds {
			parts[i] = fmt.Sprintf("%.0f TPS → %.0f pickups/s = %.2f", x.PgbenchTPS, x.PerSec, x.Ratio)
		}
		which := "the median round"
		if len(parts)%2 == 0 {
			which += " (of an even number, the lower middle)"
		}
		fmt.Fprintf(w, "  pickup rounds, each after its pgbench round: %s; the row above is %s. Receive, shelve and collect are compared with the median pgbench round, %.0f TPS; the mix with a pgbench round of its own just before it, %.0f TPS\n",
			strings.Join(parts, "; "), which, median(r.PgbenchRounds), r.MixPgbench.TPS)
	}
	fmt.Fprintf(w, "  hall mix by action: %s\n", byActionText(r.Mix.ByAction))
	fmt.Fprintf(w, "  CPU during the runs (share of all %d cores): pgbench %s; pickup %s; mix %s\n", m.CPUs, cpuText(p.CPU),
		cpuText(s.CPU), cpuText(r.Mix.CPU))
	fmt.Fprintf(w, "  autovacuum and autoanalyze runs that ended during each run: pgbench %d; pickup %d, receive %d, shelve %d, collect %d, mix %d (the set-up is vacuumed first, as pgbench -i does)\n",
		p.Autovacuums, r.Scans.Autovacuums, r.Receive.Autovacuums, r.Shelve.Autovacuums, r.Collect.Autovacuums, r.Mix.Autovacuums)
	perOp := func(u walUse, n int64) string {
		if n <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f bytes, %.1f records, %.2f full-page images", float64(u.Bytes)/float64(n),
			float64(u.Records)/float64(n), float64(u.FPI)/float64(n))
	}
	fmt.Fprintf(w, "  WAL per pgbench transaction: %s; per pickup: %s; per mixed scan: %s\n", perOp(p.WAL, p.Transactions),
		perOp(s.WAL, s.OK), perOp(r.Mix.WAL, r.Mix.OK))
	fmt.Fprintf(w, "  CPU per pgbench transaction: %s\n", cpuPerOpText(s.CPUPerPgbenchTx))
	fmt.Fprintf(w, "  CPU per pickup scan:         %s\n", cpuPerOpText(s.CPUPerScan))
	fmt.Fprintf(w, "  CPU per mixed scan:          %s\n", cpuPerOpText(r.Mix.CPUPerScan))
	fmt.Fprintf(w, "  CPU-cost ratio (pgbench per transaction / service per scan): pickup %.2f, mix %.2f (the rate ratios if all were purely CPU-bound)\n",
		s.CostRatio, r.Mix.CostRatio)
	for _, x := range []scanResult{r.Scans, r.Receive, r.Shelve, r.Collect, r.Mix} {
		if x.ParcelsExhausted {
			fmt.Fprintf(w, "  note: %s ran out of parcels (%d) before the deadline; its rate is over %.1fs (raise -parcels)\n",
				x.Name, x.ParcelsUsed, x.Seconds)
		}
		for _, e := range x.ErrorSamples {
			fmt.Fprintf(w, "  error (%s): %s\n", x.Name, e)
		}
	}

	fmt.Fprintf(w, "\nPUSHES (SF route pushes to POST /hooks/sfexpress/{token}, every node new, durable), %d clients, %.0fs each; baseline: the median pickup round above, %.0f scans/s\n",
		r.Push1.Workers, r.Config.DurationS, r.Push1.PickupsPerSec)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  \tpushes/s\tnodes/s\tpushes/s ÷ pickups/s\ttarget\t\tp50 ms\tp99 ms\terrors\n")
	for _, x := range []struct {
		name string
		r    scanResult
	}{{"1 node a push", r.Push1}, {"10 nodes a push", r.Push10}} {
		target := fmt.Sprintf("nodes/s ≥ %d", pushNodesTarget)
		if x.r.Target > 0 {
			target += fmt.Sprintf(", ratio ≥ %.2f", x.r.Target)
		}
		fmt.Fprintf(tw, "  %s\t%.0f\t%.0f\t%.2f\t%s\t%s\t%.2f\t%.2f\t%d\n", x.name, x.r.PerSec, x.r.NodesPerSec, x.r.Ratio,
			target, passFail(x.r.Pass), x.r.P50Ms, x.r.P99Ms, x.r.Errors)
	}
	tw.Flush()
	fmt.Fprintf(w, "  CPU per one-node push: %s; per pickup scan: %s\n", cpuPerOpText(r.Push1.CPUPerScan), cpuPerOpText(s.CPUPerScan))
	for _, x := range []scanResult{r.Push1, r.Push10} {
		for _, e := range x.ErrorSamples {
			fmt.Fprintf(w, "  error (%s): %s\n", x.Name, e)
		}
	}

	t := r.Track
	fmt.Fprintf(w, "\nTRACK (public lookups of random existing waybills), %d connections, %.0fs × %d rounds each, alternating; medians\n",
		t.Conns, r.Config.DurationS, len(t.Service))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  \treq/s\tp50 ms\tp99 ms\terrors\trounds (req/s)\tCPU other (max)\n")
	rounds := func(rs []trackRound) string {
		parts := make([]string, len(rs))
		for i, x := range rs {
			parts[i] = fmt.Sprintf("%.0f", x.RPS)
		}
		return strings.Join(parts, ", ")
	}
	fmt.Fprintf(tw, "  baseline B: bare Fiber + pgx GET /t/:no\t%.0f\t%.2f\t%.2f\t%d\t%s\t%.0f%%\n",
		t.BaselineRPS, t.BaselineP50Ms, t.BaselineP99Ms, t.BaselineErrors, rounds(t.Baseline), maxOther(t.Baseline))
	fmt.Fprintf(tw, "  service: GET /api/v1/track/{waybill_no}\t%.0f\t%.2f\t%.2f\t%d\t%s\t%.0f%%\n",
		t.ServiceRPS, t.ServiceP50Ms, t.ServiceP99Ms, t.ServiceErrors, rounds(t.Service), maxOther(t.Service))
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  ratio service / baseline req/s\t%.2f\ttarget ≥ %.2f\t%s\n", t.Ratio, t.RatioTarget, passFail(t.RatioPass))
	fmt.Fprintf(tw, "  service p99\t%.2f ms\ttarget ≤ %.1f × baseline p99 = %.2f ms\t%s\n", t.ServiceP99Ms, trackP99Ratio,
		t.P99TargetMs, passFail(t.P99Pass))
	tw.Flush()
	fmt.Fprintf(w, "  CPU per request, baseline B: %s; %.0f-byte answers\n", cpuPerOpText(t.BaselineCPUPerReq), avgBytes(t.Baseline))
	fmt.Fprintf(w, "  CPU per request, service:    %s; %.0f-byte answers\n", cpuPerOpText(t.ServiceCPUPerReq), avgBytes(t.Service))
	fmt.Fprintf(w, "  CPU-cost ratio (baseline / service per request): %.2f (the rate ratio if both were purely CPU-bound)\n", t.CostRatio)
	fmt.Fprintf(w, "  (%s is the bare Fiber server, a process of its own as the courier is; %s is this process, the load generator)\n",
		baselineComm, benchName())
	for _, rs := range [][]trackRound{t.Baseline, t.Service} {
		for _, x := range rs {
			for _, e := range x.Samples {
				fmt.Fprintf(w, "  error: %s\n", e)
			}
		}
	}

	fmt.Fprintf(w, "\nset-up: registered %d parcels through the API in %.1fs (%.0f/s, %d workers); pgbench -i took %.1fs\n",
		r.Registration.Parcels, r.Registration.Seconds, r.Registration.PerSec, r.Registration.Workers, p.InitS)
	other := max(p.CPU.OtherPct, s.CPU.OtherPct, r.Receive.CPU.OtherPct, r.Shelve.CPU.OtherPct, r.Collect.CPU.OtherPct,
		r.Mix.CPU.OtherPct, maxOther(t.Baseline), maxOther(t.Service))
	if other > quietOtherPct {
		fmt.Fprintf(w, "WARNING: other processes used up to %.0f%% of the machine's CPU during a timed run: "+
			"the figures are disturbed; rerun on a quiet machine\n", other)
	}
	if r.Profile != nil {
		printProfile(w, r.Profile)
	}
	fmt.Fprintf(w, "OVERALL: %s\n", passFail(r.Pass))
}

// printProfile summarises the -profile runs.
func printProfile(w io.Writer, runs []profileRun) {
	for _, r := range runs {
		fmt.Fprintf(w, "\nPROFILE (not part of the figures): %s, %s\n", r.Name, r.Summary)
		fmt.Fprintf(w, "  samples by process (share of all):\n")
		for _, l := range r.ByProcess {
			fmt.Fprintf(w, "    %s\n", l)
		}
		fmt.Fprintf(w, "  %s: functions with their callees (share of its samples):\n", r.Focus)
		for _, l := range r.Functions {
			fmt.Fprintf(w, "    %s\n", l)
		}
		fmt.Fprintf(w, "  full report: %s (removed at exit unless -keep)\n", r.Report)
	}
}

// writeJSON writes r to path.
func writeJSON(path string, r any) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// quietOtherPct is the share of the CPU other processes may take during a
// timed run before the report warns that the figures are disturbed.
const quietOtherPct = 5

// cpuText describes a run's CPU use.
func cpuText(u cpuUse) string {
	return fmt.Sprintf("busy %.0f%% (ours %.0f%%, other %.0f%%)", u.BusyPct, u.OursPct, u.OtherPct)
}

// maxOther is the largest share of the CPU other processes took in rounds.
func maxOther(rs []trackRound) float64 {
	m := 0.0
	for _, r := range rs {
		m = max(m, r.CPU.OtherPct)
	}
	return m
}

// avgBytes is the mean answer size over rounds.
func avgBytes(rs []trackRound) float64 {
	var n, b float64
	for _, r := range rs {
		n += float64(r.Requests)
		b += r.Bytes * float64(r.Requests)
	}
	if n == 0 {
		return 0
	}
	return b / n
}

// scanLabel names a scan run in the report.
func scanLabel(x scanResult) string {
	switch x.Name {
	case "pickup":
		return "pickup (courier at the department)"
	case "receive":
		return "receive (staff at the hall)"
	case "shelve":
		return "shelve with a slot"
	case "collect":
		return "collect with the holder's ID number"
	case "hall mix":
		return "a hall's mix of the four"
	}
	return x.Name
}

// byActionText lists counts by action in the journey's order.
func byActionText(m map[string]int64) string {
	var parts []string
	for _, a := range []string{"pickup", "receive", "shelve", "collect"} {
		parts = append(parts, fmt.Sprintf("%s %d", a, m[a]))
	}
	return strings.Join(parts, ", ")
}
