// Command courier-bench measures the courier service on this machine
// against physical baselines measured in the same run, and says whether the
// service meets its throughput targets.
//
// One run does, in order:
//
//  1. builds the courier binary (go build ./cmd/courier);
//  2. starts one durable embedded PostgreSQL cluster (fsync and synchronous
//     commit on) in a fresh directory on disk under /var/tmp;
//  3. baseline A: pgbench's built-in TPC-B-like script (scale 10) with
//     -clients connections, in its own database;
//  4. starts the courier service on that cluster, creates a courier user and
//     registers -parcels parcels through the API;
//  5. scans, every one on its own parcel (certificates from D-SW to the
//     city window CC-WIN), -clients workers for -duration each, one action
//     after another along the journey: pickup by the courier (target: at
//     least 0.5× pgbench's TPS), then receive, shelve with a slot and
//     collect with the holder's ID number by the hall's staff on the
//     parcels the previous phase moved (each rate reported against
//     pgbench); then a hall's mix of the four on fresh parcels, each
//     parcel passing through all four (target: at least 0.3×);
//  6. track: baseline B is a bare Fiber handler doing one primary-key
//     lookup, in a process of its own as the service is (this executable
//     re-run as "bare-baseline"); it and the service's public track API are loaded
//     alternately (baseline, service, baseline, service) with -track-conns
//     keep-alive connections asking for random existing waybills (targets:
//     service at least 0.7× the baseline's req/s, service p99 ≤ 1.3× the
//     baseline's p99 in the same run).
//
// Everything runs on the same cores: the figures are co-located upper
// bounds, meaningful as ratios. Each timed run also records how the CPU time
// split between this process tree and everything else on the machine (the
// report warns when other processes took more than 5%), and the CPU cost per
// operation of each of our processes (cpu.go). The courier and PostgreSQL
// processes are stopped and the directory removed at the end (keep it with
// -keep), also on Ctrl-C; the courier dies with this process if it is
// killed (a killed run leaves its /var/tmp/courier-bench-* directory).
//
// With -profile, extra runs under `perf record -a` (see profile.go) show
// where the CPU goes, per process and per function.
//
// Usage, from the module root:
//
//	go run ./cmd/courier-bench [-clients 8] [-duration 15s] [-track-conns 64]
//	    [-parcels N] [-rounds 2] [-warmup 1s] [-keep] [-out figures.json] [-strict] [-profile]
//
// With -runs it measures instead the making of one slot's consolidation
// runs against plain set-based SQL (runs.go):
//
//	go run ./cmd/courier-bench -runs [-runs-parcels 100000] [-runs-legs 50] [-rounds 3] [-runs-workers 4] [-runs-explain]
//
// With -list it times the desk's list pages on a generated year (list.go):
//
//	go run ./cmd/courier-bench -list [-list-parcels 1000000] [-list-requests 200]
//
// With -generate URL it only fills a migrated database (the service
// started on it once, or `courier migrate`) with a generated year:
//
//	go run ./cmd/courier-bench -generate postgres://… [-list-parcels 1000000]
//
// With -import it times a clerk's bulk import of an XLSX (imports.go):
//
//	go run ./cmd/courier-bench -import [-import-sizes 1000,5000,10000] [-rounds 3]
//
// The exit status is 0 when the measurements completed, even when a target
// is missed; with -strict a missed target exits 3. Errors exit 1, an
// interrupt 130.
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/changchun-gov/courier/internal/jobs"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	clients    int
	duration   time.Duration
	trackConns int
	parcels    int
	rounds     int
	warmup     time.Duration
	keep       bool
	out        string
	strict     bool
	profile    bool

	// -runs mode (runs.go).
	runs        bool
	runsParcels int
	runsLegs    int
	runsWorkers int
	runsExplain bool
	serverProcs int
	// -station: the scan station in a browser under other clients' scans.
	station        bool
	stationClients int
	stationScans   int
	// -import: a bulk import of an XLSX (imports.go).
	importMode  bool
	importSizes string
	// -list: the desk's list pages on a generated year (list.go).
	list         bool
	listParcels  int
	listRequests int
	// -generate: only fill the database named by the URL (list.go).
	generate string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("courier-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.clients, "clients", 8, "concurrent clients for pgbench and for the scan run")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "length of each timed run (pgbench rounds it up to whole seconds)")
	fs.IntVar(&o.trackConns, "track-conns", 64, "concurrent keep-alive connections for the track runs")
	fs.IntVar(&o.parcels, "parcels", 0, "parcels to register before the scan runs, each scan using a fresh one; 0: 2500 per second of -duration for each pickup round (-rounds, one more with -profile)")
	fs.IntVar(&o.serverProcs, "server-procs", 0, "GOMAXPROCS of the two Go servers, the courier and the bare baseline (0: Go's default, every core); the load generator keeps its own")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per target: pickup rounds each after a pgbench round, track rounds alternating baseline and service; medians are reported")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "untimed load before each track round")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directory (cluster, courier binary and logs)")
	fs.StringVar(&o.out, "out", "", "also write the figures as JSON to this file")
	fs.BoolVar(&o.strict, "strict", false, "exit with status 3 when a target is missed")
	fs.BoolVar(&o.profile, "profile", false, "after the measured runs, repeat a service track round and a scan run under `perf record -a` and summarise where the CPU went")
	fs.BoolVar(&o.runs, "runs", false, "instead: time making the runs of one slot (ledger.MakeRun per leg) against plain set-based SQL (runs.go)")
	fs.IntVar(&o.runsParcels, "runs-parcels", 100000, "-runs: waiting parcels")
	fs.IntVar(&o.runsLegs, "runs-legs", 50, "-runs: legs the parcels wait for, one run each")
	fs.IntVar(&o.runsWorkers, "runs-workers", jobs.RunWorkers, "-runs: workers of jobs.MakeRuns, as the scheduler uses (the target applies to this variant)")
	fs.BoolVar(&o.station, "station", false, "instead: the scan station's scan-to-feedback time in headless Chromium while -station-clients scan through the API once a second each (station.go)")
	fs.IntVar(&o.stationClients, "station-clients", 64, "-station: API clients scanning once a second each")
	fs.IntVar(&o.stationScans, "station-scans", 300, "-station: scans made in the browser (at most 500)")
	fs.BoolVar(&o.importMode, "import", false, "instead: time a clerk's bulk import of an XLSX, preview and commit, with the Go heap's peak (imports.go)")
	fs.StringVar(&o.importSizes, "import-sizes", "1000,5000,10000", "-import: rows of the files imported, comma-separated")
	fs.BoolVar(&o.list, "list", false, "instead: the desk's list pages on a generated year of parcels, p95 per page (list.go)")
	fs.IntVar(&o.listParcels, "list-parcels", 1000000, "-list: parcels generated")
	fs.IntVar(&o.listRequests, "list-requests", 200, "-list: timed requests per page")
	fs.StringVar(&o.generate, "generate", "", "instead: fill the migrated courier database at this URL with -list-parcels parcels of a generated year, and stop")
	fs.BoolVar(&o.runsExplain, "runs-explain", false, "-runs: also print EXPLAIN (ANALYZE, BUFFERS, WAL) of the service's and the baseline's statements")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/courier-bench [flags]\n\n"+
			"Measures the courier service against pgbench and a bare Fiber + pgx handler on this machine.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.runs {
		if err := checkRunsFlags(o); err != nil {
			return o, err
		}
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case o.clients < 1 || o.clients > 1000:
		return o, fmt.Errorf("-clients must be from 1 to 1000")
	case o.duration < time.Second:
		return o, fmt.Errorf("-duration must be at least 1s")
	case o.trackConns < 1 || o.trackConns > 10000:
		return o, fmt.Errorf("-track-conns must be from 1 to 10000")
	case o.parcels < 0:
		return o, fmt.Errorf("-parcels must not be negative")
	case o.rounds < 1 || o.rounds > 20:
		return o, fmt.Errorf("-rounds must be from 1 to 20")
	case o.warmup < 0:
		return o, fmt.Errorf("-warmup must not be negative")
	case o.list && (o.listParcels < 1000 || o.listParcels > 10_000_000 || o.listRequests < 10):
		return o, fmt.Errorf("-list-parcels must be from 1000 to 10000000, -list-requests at least 10")
	case o.station && (o.stationClients < 0 || o.stationClients > 1000 || o.stationScans < 1 || o.stationScans > 500):
		return o, fmt.Errorf("-station-clients must be from 0 to 1000, -station-scans from 1 to 500")
	case o.serverProcs < 0 || o.serverProcs > runtime.NumCPU():
		return o, fmt.Errorf("-server-procs must be from 0 to the number of cores (%d)", runtime.NumCPU())
	}
	if o.parcels == 0 {
		o.parcels = autoParcelsPerSecond * int((o.duration+time.Second-1)/time.Second) * o.rounds
		if o.profile {
			o.parcels += autoParcelsPerSecond * int((o.duration+time.Second-1)/time.Second)
		}
	}
	if o.profile {
		if _, err := exec.LookPath("perf"); err != nil {
			return o, fmt.Errorf("-profile needs perf on PATH (Debian: apt-get install linux-perf): %w", err)
		}
	}
	return o, nil
}

// autoParcelsPerSecond sizes the default -parcels, per second of each
// pickup round (-rounds of them, one more with -profile): the rounds share
// the parcels, enough for three rounds at the rates seen on two cores
// (1,300 to 2,700 pickups a second; at 2,000 a fast third round ran out).
// The later actions move the parcels the pickups moved. A round that runs
// out is measured over the time it lasted, and the report says so.
const autoParcelsPerSecond = 2500

func main() {
	if dsn := os.Getenv(baselineEnv); dsn != "" {
		os.Exit(serveBaselineChild(dsn))
	}
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "courier-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, o, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run measures, prints the report and returns the exit status.
func run(ctx context.Context, o options, stdout, stderr io.Writer) int {
	b := &bench{opts: o, progress: stderr}
	var (
		report  func(io.Writer)
		figures any
		pass    bool
		err     error
	)
	if o.generate != "" {
		err = b.generateInto(ctx, o.generate)
		report = func(io.Writer) {}
	} else if o.list {
		var res *listResult
		if res, err = b.measureList(ctx); res != nil {
			report, figures, pass = func(w io.Writer) { printListReport(w, res) }, res, res.Pass
		}
	} else if o.importMode {
		var res *importResult
		if res, err = b.measureImport(ctx); res != nil {
			report, figures, pass = func(w io.Writer) { printImportReport(w, res) }, res, res.Pass
		}
	} else if o.station {
		var res *stationResult
		if res, err = b.measureStation(ctx); res != nil {
			report, figures, pass = func(w io.Writer) { printStationReport(w, res) }, res, res.Pass
		}
	} else if o.runs {
		var res *runsResult
		if res, err = b.measureRuns(ctx); res != nil {
			report, figures, pass = func(w io.Writer) { printRunsReport(w, res) }, res, res.Pass
		}
	} else {
		var res *Results
		if res, err = b.measure(ctx); res != nil {
			report, figures, pass = func(w io.Writer) { printReport(w, res) }, res, res.Pass
		}
	}
	if cerr := b.cleanup(ctx.Err() != nil); cerr != nil {
		b.logf("cleanup: %v", cerr)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "courier-bench: interrupted")
			return 130
		}
		fmt.Fprintln(stderr, "courier-bench:", err)
		return 1
	}
	report(stdout)
	if o.out != "" {
		if err := writeJSON(o.out, figures); err != nil {
			fmt.Fprintln(stderr, "courier-bench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nFigures written to %s\n", o.out)
	}
	if o.strict && !pass {
		return 3
	}
	return 0
}
