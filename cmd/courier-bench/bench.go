package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/changchun-gov/courier/internal/embeddedpg"

	"github.com/valyala/fasthttp"
)

// Targets the service must meet.
const (
	scanRatioTarget  = 0.5 // pickup scans/s ≥ 0.5 × pgbench TPC-B-like TPS
	mixRatioTarget   = 0.3 // a hall's mix of scans/s ≥ 0.3 × pgbench TPS
	trackRatioTarget = 0.7 // service req/s ≥ 0.7 × bare Fiber + pgx req/s
	trackP99Ratio    = 1.3 // service p99 ≤ 1.3 × the bare handler's p99, same run
)

// benchSlots are the hall's shelf slots; shelving must name one.
var benchSlots = []string{"A-01-1", "A-01-2", "A-02-1", "B-01-1"}

// prepareHall readies the hall the measured parcels go to (its shelf slots,
// required at shelving) and says what its scans carry: a slot at shelving,
// the holder's ID number at collection.
func (b *bench) prepareHall(ctx context.Context, a *api, adminTok string) (stages, error) {
	err := a.send(ctx, "PUT", "/api/v1/sites/"+benchHall+"/slots", adminTok,
		map[string]any{"slot_required": true, "slots": benchSlots}, fasthttp.StatusOK, nil)
	if err != nil {
		return stages{}, fmt.Errorf("shelf slots: %w", err)
	}
	return stages{origin: benchOrigin, hall: benchHall,
		shelveExtra:  fmt.Sprintf(`,"slot":%q`, benchSlots[1]),
		collectExtra: fmt.Sprintf(`,"id_number":%q`, benchHolderID)}, nil
}

// bench holds what one run started, so cleanup can stop it in reverse order.
type bench struct {
	opts       options
	pgbenchBin string // pgbench, found by runPgbench
	progress   io.Writer
	began      time.Time

	workDir  string // /var/tmp/courier-bench-*: cluster, binary, logs
	extraDir string // a ReachableDir fallback to remove as well, if one was used
	cluster  *embeddedpg.Cluster
	service  *service
	baseline *baselineProcess
}

// logf prints a progress line on stderr, with the time since the start.
func (b *bench) logf(format string, args ...any) {
	if b.began.IsZero() {
		b.began = time.Now()
	}
	fmt.Fprintf(b.progress, "[%6.1fs] %s\n", time.Since(b.began).Seconds(), fmt.Sprintf(format, args...))
}

// measure runs every step and returns the figures.
func (b *bench) measure(ctx context.Context) (*Results, error) {
	o := b.opts
	b.logf("courier-bench: %d CPUs, %s; clients=%d duration=%s track-conns=%d parcels=%d",
		runtime.NumCPU(), runtime.Version(), o.clients, o.duration, o.trackConns, o.parcels)
	res := &Results{
		Machine: machineInfo(),
		Config: configInfo{Clients: o.clients, DurationS: o.duration.Seconds(), TrackConns: o.trackConns,
			Parcels: o.parcels, Rounds: o.rounds, WarmupS: o.warmup.Seconds(), ServerProcs: o.serverProcs},
		Started: time.Now().UTC().Format(time.RFC3339),
	}

	var err error
	if res.Machine.BackgroundPct, err = b.prepare(ctx); err != nil {
		return nil, err
	}

	// Build first: compiling must not overlap any timed run.
	bin, err := b.buildFromTree(ctx)
	if err != nil {
		return nil, err
	}

	if err := b.startCluster(ctx, res); err != nil {
		return nil, err
	}

	// Baseline A: pgbench TPC-B-like.
	if res.Pgbench, err = b.runPgbench(ctx); err != nil {
		return nil, err
	}

	// The service.
	if err := createDatabase(ctx, b.cluster, "courier"); err != nil {
		return nil, err
	}
	b.logf("starting the courier service")
	b.service, err = startService(ctx, bin, b.workDir, b.cluster.ConnString("courier"), o.serverProcs)
	if err != nil {
		return nil, err
	}
	b.logf("courier listening on %s (pid %d, log %s)", b.service.addr, b.service.pid(), b.service.logPath)
	api := newAPI(b.service.addr)
	adminTok, err := api.token(ctx, "admin", b.service.adminPassword)
	if err != nil {
		return nil, fmt.Errorf("admin sign-in: %w", err)
	}
	courierTok, err := api.createUserAndSignIn(ctx, adminTok, "bench.courier", "courier", "")
	if err != nil {
		return nil, err
	}
	staffTok, err := api.createUserAndSignIn(ctx, adminTok, "bench.staff", "staff", benchHall)
	if err != nil {
		return nil, err
	}
	st, err := b.prepareHall(ctx, api, adminTok)
	if err != nil {
		return nil, err
	}

	mixN := max(o.parcels/3, 1)
	b.logf("registering %d + %d parcels through the API (8 workers, as admin)", o.parcels, mixN)
	reg, waybills, err := registerParcels(ctx, b.service.addr, adminTok, 0, o.parcels+mixN, 8)
	if err != nil {
		return nil, err
	}
	res.Registration = reg
	b.logf("registered %d parcels in %.1fs (%.0f/s)", reg.Parcels, reg.Seconds, reg.PerSec)
	waybills, mixWaybills := waybills[:o.parcels], waybills[o.parcels:]
	b.logf("VACUUM (ANALYZE) of the service's database, as pgbench -i ends with for its tables")
	if err := vacuumAnalyze(ctx, b.cluster, "courier"); err != nil {
		return nil, err
	}

	// Scans: each action on its own parcels, one after another along the
	// journey (the parcels a phase moved are the next phase's), then the
	// hall's mix on fresh parcels. Every phase starts from a checkpoint.
	phase := func(name string, src scanSource, target float64, pg pgbenchResult) (scanResult, error) {
		if err := checkpoint(ctx, b.cluster); err != nil {
			return scanResult{}, err
		}
		b.logf("scan run %s: %d workers for %s", name, o.clients, o.duration)
		av0, err := autovacuumRuns(ctx, b.cluster, "courier")
		if err != nil {
			return scanResult{}, err
		}
		w0, err := walStats(ctx, b.cluster)
		if err != nil {
			return scanResult{}, err
		}
		r, err := runScans(ctx, b.service.addr, src, o.clients, o.duration)
		if err != nil {
			return r, err
		}
		if av1, aerr := autovacuumRuns(ctx, b.cluster, "courier"); aerr == nil {
			r.Autovacuums = av1 - av0
		}
		if w1, werr := walStats(ctx, b.cluster); werr == nil {
			r.WAL = w1.minus(w0)
		}
		r.Name = name
		r.judge(pg, target)
		b.logf("  %s: %d ok in %.1fs = %.0f/s (%d errors, %d repeats); CPU %s; %d autovacuum runs", name, r.OK,
			r.Seconds, r.PerSec, r.Errors, r.Repeats, cpuText(r.CPU), r.Autovacuums)
		return r, nil
	}
	// Pickups, the target, in rounds, each after a round of pgbench (the
	// first is the one above): the machine's pace drifts, so each pickup
	// round is compared with the pgbench round just before it, and the
	// median round is the figure.
	pool := waybills
	var moved []string
	for round := 1; round <= o.rounds; round++ {
		pg := res.Pgbench
		if round > 1 {
			if pg, err = b.pgbenchRound(ctx, res.Pgbench); err != nil {
				return nil, err
			}
		}
		res.PgbenchRounds = append(res.PgbenchRounds, pg.TPS)
		src, applied := oneAction(pool, courierTok, "pickup", benchOrigin, "")
		r, err := phase(fmt.Sprintf("pickup %d/%d", round, o.rounds), src, scanRatioTarget, pg)
		if err != nil {
			return nil, err
		}
		r.Name = "pickup"
		res.PickupRounds = append(res.PickupRounds, r)
		pool = pool[min(r.ParcelsUsed, len(pool)):]
		moved = append(moved, applied()...)
	}
	res.Scans = medianRound(res.PickupRounds)
	// The courier's pushes, beside the pickups: a push should cost no more
	// than a scan.
	b.logf("making %d runs from %s booked with the simulator, to push their routes", pushRuns, pushOrigin)
	targets, err := b.prepareBookedRuns(ctx, api, adminTok, pushRuns)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		nodes  int
		target float64
		dst    *scanResult
	}{{1, pushRatioTarget, &res.Push1}, {10, 0, &res.Push10}} {
		if *p.dst, err = phase(fmt.Sprintf("push %d", p.nodes), pushSource(targets, b.service.pushToken, p.nodes), 0, res.Pgbench); err != nil {
			return nil, err
		}
		p.dst.judgePush(res.Scans, p.target)
		b.logf("  push %d: %.0f nodes/s, %.2f × the pickups' rate", p.nodes, p.dst.NodesPerSec, p.dst.Ratio)
	}
	// The informational actions are compared with the median pgbench round.
	pgMedian := res.Pgbench
	pgMedian.TPS = median(res.PgbenchRounds)
	for _, a := range []struct {
		action, token, site, extra string
		target                     float64
		dst                        *scanResult
	}{
		{"receive", staffTok, benchHall, "", 0, &res.Receive},
		{"shelve", staffTok, benchHall, st.shelveExtra, 0, &res.Shelve},
		{"collect", staffTok, benchHall, st.collectExtra, 0, &res.Collect},
	} {
		src, applied := oneAction(moved, a.token, a.action, a.site, a.extra)
		if *a.dst, err = phase(a.action, src, a.target, pgMedian); err != nil {
			return nil, err
		}
		moved = applied()
	}
	// The mix, the other target, right after a pgbench round of its own.
	if res.MixPgbench, err = b.pgbenchRound(ctx, res.Pgbench); err != nil {
		return nil, err
	}
	if res.Mix, err = phase("hall mix", hallMix(mixWaybills, courierTok, staffTok, st), mixRatioTarget, res.MixPgbench); err != nil {
		return nil, err
	}

	// Track.
	b.baseline, err = startBaselineProcess(b.workDir, b.cluster.ConnString("courier"), o.serverProcs)
	if err != nil {
		return nil, err
	}
	b.logf("bare Fiber + pgx baseline listening on %s", b.baseline.addr)
	if res.Track, err = b.runTrack(ctx, waybills); err != nil {
		return nil, err
	}
	if err := b.service.alive(); err != nil {
		return nil, err
	}
	if o.profile {
		if res.Profile, err = b.profile(ctx, waybills, pool, courierTok); err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		if err := b.service.alive(); err != nil {
			return nil, err
		}
	}

	res.Pass = res.Scans.Pass && res.Mix.Pass && res.Track.Pass && res.Push1.Pass && res.Push10.Pass
	res.Machine.ClusterDir = b.cluster.Dir()
	return res, nil
}

// startCluster starts the durable cluster in workDir/pg and records what it
// is running on.
func (b *bench) startCluster(ctx context.Context, res *Results) error {
	dir, moved, reason := embeddedpg.ReachableDir(filepath.Join(b.workDir, "pg"))
	if moved {
		b.logf("%s", reason)
		b.extraDir = dir
	}
	b.logf("starting a durable PostgreSQL cluster in %s", dir)
	start := time.Now()
	cl, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: dir, Durable: true, Logger: quietLogger(b.progress)})
	if err != nil {
		return err
	}
	b.cluster = cl
	settings, err := clusterSettings(ctx, cl)
	if err != nil {
		return err
	}
	res.Machine.PostgreSQL = settings.version
	res.Machine.Fsync, res.Machine.SynchronousCommit, res.Machine.FullPageWrites =
		settings.fsync, settings.syncCommit, settings.fullPageWrites
	res.Machine.FSType = fsType(dir)
	b.logf("cluster ready in %.1fs: PostgreSQL %s, fsync=%s synchronous_commit=%s full_page_writes=%s, filesystem %s",
		time.Since(start).Seconds(), settings.version, settings.fsync, settings.syncCommit, settings.fullPageWrites,
		res.Machine.FSType)
	if settings.fsync != "on" || settings.syncCommit != "on" {
		return fmt.Errorf("the cluster is not durable (fsync=%s synchronous_commit=%s)", settings.fsync, settings.syncCommit)
	}
	if res.Machine.FSType == "tmpfs" {
		b.logf("WARNING: %s is on tmpfs, not on disk: commit figures will be optimistic", dir)
	}
	return nil
}

// startClusterFor starts the durable cluster for a mode whose figures
// keep a machine of their own: m gains the cluster's settings and place.
func (b *bench) startClusterFor(ctx context.Context, m *machine) error {
	cres := &Results{Machine: *m}
	if err := b.startCluster(ctx, cres); err != nil {
		return err
	}
	*m = cres.Machine
	m.ClusterDir = b.cluster.Dir()
	return nil
}

// runTrack alternates baseline and service rounds and judges the medians.
func (b *bench) runTrack(ctx context.Context, waybills []string) (trackResult, error) {
	o := b.opts
	tr := trackResult{Conns: o.trackConns}
	baseURL := "http://" + b.baseline.addr + "/t/"
	svcURL := "http://" + b.service.addr + "/api/v1/track/"
	for i := range o.rounds {
		for _, t := range []struct {
			name string
			addr string
			url  string
			dst  *[]trackRound
		}{{"baseline", b.baseline.addr, baseURL, &tr.Baseline}, {"service", b.service.addr, svcURL, &tr.Service}} {
			b.logf("track round %d/%d, %s: %d connections for %s (+%s warm-up)", i+1, o.rounds, t.name,
				o.trackConns, o.duration, o.warmup)
			r, err := runTrackRound(ctx, t.addr, t.url, waybills, o.trackConns, o.warmup, o.duration)
			if err != nil {
				return tr, fmt.Errorf("track %s: %w", t.name, err)
			}
			*t.dst = append(*t.dst, r)
			b.logf("  %s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors; CPU %s", t.name, r.RPS, r.P50Ms, r.P99Ms,
				r.Errors, cpuText(r.CPU))
		}
	}
	tr.judge()
	return tr, nil
}

// cleanup stops what measure started, in reverse order, and removes the
// work directory unless -keep. interrupted says the run was cancelled by a
// signal.
func (b *bench) cleanup(interrupted bool) error {
	var errs []error
	if b.baseline != nil {
		errs = append(errs, b.baseline.stop())
	}
	if b.service != nil {
		if err := b.service.stop(); err != nil {
			errs = append(errs, fmt.Errorf("courier: %w (log: %s)", err, b.service.logPath))
		}
	}
	if b.cluster != nil {
		// A Ctrl-C in the terminal also reaches postgres, which then stops
		// on its own; Stop reports that, which is no failure here.
		if err := b.cluster.Stop(); err != nil && !interrupted {
			errs = append(errs, err)
		}
	}
	for _, dir := range []string{b.workDir, b.extraDir} {
		if dir == "" {
			continue
		}
		if b.opts.keep {
			fmt.Fprintf(b.progress, "kept %s\n", dir)
			continue
		}
		errs = append(errs, os.RemoveAll(dir))
	}
	return errors.Join(errs...)
}

// prepare measures how busy the machine is before it is loaded (2 s) and
// makes the work directory; it answers the background load in percent.
func (b *bench) prepare(ctx context.Context) (float64, error) {
	c0 := takeCPU()
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	pct := c0.until(takeCPU()).OtherPct
	b.logf("background load before the run: %.0f%% of the CPU", pct)
	var err error
	if b.workDir, err = makeWorkDir(); err != nil {
		return pct, err
	}
	b.logf("work directory %s", b.workDir)
	return pct, nil
}
