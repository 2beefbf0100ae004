package main

// The -runs mode: making the consolidation runs of one slot, set-based in
// the service (postgres.Ledger.MakeRun, one call per leg), against the same
// rows written by plain set-based statements into tables of the same shape.
//
//	go run ./cmd/courier-bench -runs [-runs-parcels 100000] [-runs-legs 50] [-rounds 3]
//	    [-runs-workers 4] [-runs-explain] [-keep] [-out runs.json] [-strict]
//
// One run:
//
//  1. starts its own durable cluster (as the default mode does);
//  2. builds a template database, runsbench: migrated (postgres.Migrate),
//     reference data (postgres.SeedReference), extra legs so that exactly
//     -runs-legs legs are used, -runs-parcels waiting parcels spread round
//     robin over them (as registrations arrive over a day) with their
//     'register' events, loaded with INSERT … SELECT generate_series, and a
//     copy of the same rows in the baseline tables b_* (below); VACUUM
//     ANALYZE;
//  3. for each of -rounds rounds, in this order, each side on a fresh copy
//     of the template (CREATE DATABASE … TEMPLATE runsbench), after a
//     CHECKPOINT and a read of the tables it is about to write:
//     - baseline: one transaction of plain set-based statements, one per
//     table over all legs, writing the rows MakeRun writes (run slots,
//     runs, run items, the parcels' state change, the 'book' events,
//     bookings) into b_run_slots, b_runs, b_run_items, b_parcels,
//     b_events, b_bookings;
//     - service, sequential: ledger.MakeRun for each leg, one after another
//     (what one scheduler instance does);
//     - baseline+FK+hash: the baseline with the service tables' foreign
//     keys added to the b_* tables, and the same hash chain (copies of the
//     service's two chain triggers, on b_events and b_parcels);
//     - service, parallel: the same calls from -runs-workers goroutines
//     (several instances or legs at once; informational);
//     each side is checked afterwards (runs, run items, parcels awaiting
//     pickup in a run, 'book' events);
//  4. reports the medians and the ratio service (sequential) /
//     baseline+FK+hash, with the target ≤ 1.5: like with like, one
//     connection at a time on each side, the same foreign keys and the
//     same hash column (the ratios to the bare baseline and of the
//     parallel path are informational).
//
// "Tables of the same shape" are CREATE TABLE b_x (LIKE x INCLUDING ALL):
// the same columns, types, defaults, identity, NOT NULL and CHECK
// constraints and the same indexes (primary and unique keys, the GIN index
// on path, the partial and expression indexes such as parcels_waiting), so
// the baseline's UPDATE maintains the same indexes as the service's. LIKE
// copies no foreign keys and no triggers: the bare baseline goes without
// them (and writes no hash); baseline+FK+hash adds the foreign keys and the hash chain's two
// INSERT triggers, the integrity work the service's statements also pay.
// (The append-only triggers fire on UPDATE, DELETE and TRUNCATE only, never
// on the INSERTs either side does.) The durability is the same: synchronous_commit
// on, one commit for the baseline, one per leg for the service (each run is
// its own transaction by design).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/jobs"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
)

// Target: the service makes the runs in at most 1.5× the baseline's time.
const runsRatioTarget = 1.5

// runsTemplate is the database holding the loaded data every side copies.
const runsTemplate = "runsbench"

// runsSchedule is the schedule of the legs the bench adds.
const runsSchedule = "30 9,14 * * *"

// runsPoolSize matches the service's default COURIER_DB_MAX_CONNS.
const runsPoolSize = 16

// checkRunsFlags validates the -runs flags (called by parseFlags).
func checkRunsFlags(o options) error {
	switch {
	case o.runsParcels < 1 || o.runsParcels > 10_000_000:
		return fmt.Errorf("-runs-parcels must be from 1 to 10000000")
	case o.runsLegs < 1 || o.runsLegs > len(runsLegCandidates()):
		return fmt.Errorf("-runs-legs must be from 1 to %d", len(runsLegCandidates()))
	case o.runsWorkers < 1 || o.runsWorkers > runsPoolSize:
		return fmt.Errorf("-runs-workers must be from 1 to %d", runsPoolSize)
	}
	return nil
}

// runsSide is one timed side of one round.
type runsSide struct {
	Seconds float64 `json:"seconds"`
	CPU     cpuUse  `json:"cpu"`
	// MakeRun calls only: the slowest and the median call.
	MaxRunMs    float64 `json:"max_run_ms,omitempty"`
	MedianRunMs float64 `json:"median_run_ms,omitempty"`
}

// runsResult is the -runs mode's figures; -out writes them as JSON.
type runsResult struct {
	Started     string   `json:"started"`
	Command     string   `json:"command"`
	Machine     machine  `json:"machine"`
	Parcels     int      `json:"parcels"`
	Legs        int      `json:"legs"`
	AddedLegs   int      `json:"added_legs"`
	Rounds      int      `json:"rounds"`
	Workers     int      `json:"workers"`
	LoadSeconds float64  `json:"load_seconds"`
	CopySeconds float64  `json:"copy_seconds_median"`
	DBSizeMB    float64  `json:"template_size_mb"`
	Triggers    []string `json:"triggers"`
	ForeignKeys []string `json:"foreign_keys"`

	Baseline   []runsSide `json:"baseline"`
	BaselineFK []runsSide `json:"baseline_fk"`
	Sequential []runsSide `json:"service_sequential"`
	Parallel   []runsSide `json:"service_parallel"`

	BaselineS   float64 `json:"baseline_s"`
	BaselineFKS float64 `json:"baseline_fk_s"`
	SequentialS float64 `json:"service_sequential_s"`
	ParallelS   float64 `json:"service_parallel_s"`
	Ratio       float64 `json:"ratio"`          // sequential / baseline (informational)
	RatioPar    float64 `json:"ratio_parallel"` // parallel / baseline (informational)
	RatioFK     float64 `json:"ratio_fk"`       // sequential / baseline+FK: the target
	Target      float64 `json:"target"`
	Pass        bool    `json:"pass"`

	Explain []string `json:"explain,omitempty"`
}

// runsCommand is the command line the report shows.
func runsCommand(o options) string {
	return fmt.Sprintf("go run ./cmd/courier-bench -runs -runs-parcels %d -runs-legs %d -rounds %d -runs-workers %d",
		o.runsParcels, o.runsLegs, o.rounds, o.runsWorkers)
}

// measureRuns starts the cluster, builds the template and runs the rounds.
func (b *bench) measureRuns(ctx context.Context) (*runsResult, error) {
	o := b.opts
	b.logf("courier-bench -runs: %d CPUs, %s; parcels=%d legs=%d rounds=%d workers=%d",
		runtime.NumCPU(), runtime.Version(), o.runsParcels, o.runsLegs, o.rounds, o.runsWorkers)
	res := &runsResult{Started: time.Now().UTC().Format(time.RFC3339), Command: runsCommand(o), Machine: machineInfo(),
		Parcels: o.runsParcels, Legs: o.runsLegs, Rounds: o.rounds, Workers: o.runsWorkers, Target: runsRatioTarget}

	var err error
	if res.Machine.BackgroundPct, err = b.prepare(ctx); err != nil {
		return nil, err
	}
	if err := b.startClusterFor(ctx, &res.Machine); err != nil {
		return nil, err
	}

	legs, err := b.buildRunsTemplate(ctx, res)
	if err != nil {
		return nil, err
	}

	slot := runsSlot()
	var copies []float64
	for i := range o.rounds {
		for _, side := range []struct {
			name string
			run  func(ctx context.Context, db string) (runsSide, error)
			dst  *[]runsSide
		}{
			{"baseline", func(ctx context.Context, db string) (runsSide, error) {
				return b.runsBaseline(ctx, db, legs, slot, false)
			}, &res.Baseline},
			{"service-seq", func(ctx context.Context, db string) (runsSide, error) {
				return b.runsService(ctx, db, legs, slot, 1)
			}, &res.Sequential},
			{"baseline-fk", func(ctx context.Context, db string) (runsSide, error) {
				return b.runsBaseline(ctx, db, legs, slot, true)
			}, &res.BaselineFK},
			{"service-par", func(ctx context.Context, db string) (runsSide, error) {
				return b.runsService(ctx, db, legs, slot, o.runsWorkers)
			}, &res.Parallel},
		} {
			db := fmt.Sprintf("runsbench_r%d_%s", i+1, strings.ReplaceAll(side.name, "-", "_"))
			start := time.Now()
			if err := b.copyDatabase(ctx, db); err != nil {
				return nil, err
			}
			copies = append(copies, time.Since(start).Seconds())
			r, err := side.run(ctx, db)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", i+1, side.name, err)
			}
			*side.dst = append(*side.dst, r)
			extra := ""
			if r.MaxRunMs > 0 {
				extra = fmt.Sprintf(", MakeRun median %.0f ms, max %.0f ms", r.MedianRunMs, r.MaxRunMs)
			}
			b.logf("round %d/%d %-11s %.3f s (verified)%s; CPU %s, postgres %.2f s CPU", i+1, o.rounds, side.name,
				r.Seconds, extra, cpuText(r.CPU), r.CPU.CPUSeconds["postgres"])
			if err := b.dropDatabase(ctx, db); err != nil {
				return nil, err
			}
		}
	}
	res.CopySeconds = median(copies)

	secs := func(rs []runsSide) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = r.Seconds
		}
		return median(v)
	}
	res.BaselineS, res.BaselineFKS = secs(res.Baseline), secs(res.BaselineFK)
	res.SequentialS, res.ParallelS = secs(res.Sequential), secs(res.Parallel)
	if res.BaselineS > 0 {
		res.Ratio, res.RatioPar = res.SequentialS/res.BaselineS, res.ParallelS/res.BaselineS
	}
	if res.BaselineFKS > 0 {
		res.RatioFK = res.SequentialS / res.BaselineFKS
	}
	// Like with like: the service one leg after another (one connection
	// at a time, as the baseline's one transaction) against the baseline
	// with the same foreign keys. The scheduler's parallel path and the
	// baseline without foreign keys are informational.
	res.Pass = res.RatioFK > 0 && res.RatioFK <= runsRatioTarget

	if o.runsExplain {
		if res.Explain, err = b.runsExplain(ctx, legs, slot); err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
	}
	return res, nil
}

// runsSlot is the slot every side makes: today's 09:30 in Changchun.
func runsSlot() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month(), now.Day(), 1, 30, 0, 0, time.UTC)
}

// legPair is a leg by its sites.
type legPair struct{ from, to string }

// runsLegCandidates lists the legs the bench may use, in order: the
// reference legs whose destination is not the hub (a parcel's destination
// is a hall or a department), then new direct legs between sites,
// departments to halls first.
func runsLegCandidates() []legPair {
	kind := map[string]shipment.SiteKind{}
	for _, s := range postgres.ReferenceSites {
		kind[s.Code] = s.Kind
	}
	seen := map[legPair]bool{}
	var out []legPair
	for _, l := range postgres.ReferenceLegs() {
		p := legPair{l.From, l.To}
		seen[p] = true
		if kind[l.To] != shipment.SiteHub && kind[l.From] != "" {
			out = append(out, p)
		}
	}
	prio := func(p legPair) int {
		switch {
		case kind[p.from] == shipment.SiteDepartment && kind[p.to] == shipment.SiteHall:
			return 0
		case kind[p.from] == shipment.SiteHall && kind[p.to] == shipment.SiteDepartment:
			return 1
		}
		return 2
	}
	var added []legPair
	for _, f := range postgres.ReferenceSites {
		for _, t := range postgres.ReferenceSites {
			p := legPair{f.Code, t.Code}
			if f.Code == t.Code || t.Kind == shipment.SiteHub || seen[p] {
				continue
			}
			seen[p] = true
			added = append(added, p)
		}
	}
	slices.SortStableFunc(added, func(a, b legPair) int { return cmp.Compare(prio(a), prio(b)) })
	return append(out, added...)
}

// buildRunsTemplate creates, migrates, seeds and loads the template
// database and returns the legs used.
func (b *bench) buildRunsTemplate(ctx context.Context, res *runsResult) ([]shipment.Leg, error) {
	o := b.opts
	if err := createDatabase(ctx, b.cluster, runsTemplate); err != nil {
		return nil, err
	}
	pool, err := postgres.Open(ctx, b.cluster.ConnString(runsTemplate), 4)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	b.logf("migrating and seeding %s", runsTemplate)
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		return nil, err
	}
	if err := postgres.SeedReference(ctx, pool); err != nil {
		return nil, err
	}

	// The legs: exactly -runs-legs of them, with distinct (from, to).
	pairs := runsLegCandidates()[:o.runsLegs]
	from, to := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		from[i], to[i] = p.from, p.to
	}
	tag, err := pool.Exec(ctx, `INSERT INTO legs (from_site, to_site, schedule, sla_hours)
		SELECT f, t, $3, 24 FROM unnest($1::text[], $2::text[]) AS u(f, t)
		ON CONFLICT (from_site, to_site) DO NOTHING`, from, to, runsSchedule)
	if err != nil {
		return nil, fmt.Errorf("legs: %w", err)
	}
	res.AddedLegs = int(tag.RowsAffected())
	routes := &postgres.Routes{Pool: pool, Now: time.Now}
	all, err := routes.Legs(ctx)
	if err != nil {
		return nil, err
	}
	byPair := map[legPair]shipment.Leg{}
	for _, l := range all {
		byPair[legPair{l.From, l.To}] = l
	}
	legs := make([]shipment.Leg, 0, len(pairs))
	for _, p := range pairs {
		l, ok := byPair[p]
		if !ok || !l.Active {
			return nil, fmt.Errorf("leg %s → %s missing or inactive", p.from, p.to)
		}
		legs = append(legs, l)
	}
	b.logf("%d legs (%d of the reference data, %d added)", len(legs), len(legs)-res.AddedLegs, res.AddedLegs)

	b.logf("loading %d waiting parcels and their register events (set-based)", o.runsParcels)
	start := time.Now()
	if err := loadRunsParcels(ctx, pool, legs, o.runsParcels); err != nil {
		return nil, err
	}
	if err := createBaselineTables(ctx, pool); err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return nil, err
	}
	res.LoadSeconds = time.Since(start).Seconds()
	if err := pool.QueryRow(ctx, `SELECT pg_database_size(current_database()) / 1e6`).Scan(&res.DBSizeMB); err != nil {
		return nil, err
	}
	if res.Triggers, err = strs(ctx, pool, `SELECT tgrelid::regclass || ': ' || tgname FROM pg_trigger
		WHERE NOT tgisinternal AND tgrelid = ANY($1::regclass[]) ORDER BY 1`, runsTables); err != nil {
		return nil, err
	}
	if res.ForeignKeys, err = strs(ctx, pool, `SELECT conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND conrelid = ANY($1::regclass[]) ORDER BY conrelid::regclass::text, conname`, runsTables); err != nil {
		return nil, err
	}
	b.logf("loaded in %.1fs (parcels, events, the b_* copies, VACUUM ANALYZE); template %.0f MB",
		res.LoadSeconds, res.DBSizeMB)
	return legs, nil
}

// runsTables are the tables MakeRun writes; the baseline has a b_ copy of each.
var runsTables = []string{"parcels", "events", "runs", "run_items", "run_slots", "bookings"}

func strs(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) ([]string, error) {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// loadRunsParcels inserts n parcels waiting for legs, round robin (parcel
// k waits for leg k mod len(legs)), in the shape a registration leaves:
// status registered, path [from, to] at index 0, one 'register' event.
func loadRunsParcels(ctx context.Context, pool *pgxpool.Pool, legs []shipment.Leg, n int) error {
	from, to := make([]string, len(legs)), make([]string, len(legs))
	for i, l := range legs {
		from[i], to[i] = l.From, l.To
	}
	return postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		now := time.Now().UTC().Truncate(time.Microsecond)
		if _, err := tx.Exec(ctx, `WITH l AS (
			SELECT u.k - 1 AS k, u.f, u.t, sf.kind AS fk, st.kind AS tk
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(f, t, k)
			JOIN sites sf ON sf.code = u.f JOIN sites st ON st.code = u.t)
		INSERT INTO parcels (waybill_no, kind, origin_site, dest_kind, dest_site, path, path_idx, status,
			cert_type, issuing_dept, created_at, updated_at, version, event_seq, last_action, last_site, last_at)
		SELECT 'CP' || lpad(g.n::text, 13, '0') || 'X',
			CASE WHEN l.fk = 'department' THEN 'certificate' ELSE 'materials' END,
			l.f, l.tk, l.t, ARRAY[l.f, l.t], 0, 'registered',
			CASE WHEN l.fk = 'department' THEN 'business_licence' END,
			CASE WHEN l.fk = 'department' THEN l.f END,
			$4, $4, 1, 1, 'register', l.f, $4
		FROM generate_series(0, $3::int - 1) AS g(n) JOIN l ON l.k = g.n % cardinality($1::text[])
		ORDER BY g.n`, from, to, n, now); err != nil {
			return fmt.Errorf("load parcels: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO events (parcel_id, seq, action, status_after, site_code, actor_role,
			source, server_time) SELECT id, 1, 'register', 'registered', origin_site, 'admin', 'api', created_at
			FROM parcels ORDER BY id`); err != nil {
			return fmt.Errorf("load events: %w", err)
		}
		return nil
	})
}

// createBaselineTables creates b_x (LIKE x INCLUDING ALL) for each of
// runsTables and copies the loaded rows into them.
func createBaselineTables(ctx context.Context, pool *pgxpool.Pool) error {
	return postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		for _, t := range runsTables {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE b_%s (LIKE %s INCLUDING ALL)`, t, t)); err != nil {
				return fmt.Errorf("baseline table b_%s: %w", t, err)
			}
		}
		// The stored columns only: the generated ones (migration 00015)
		// are computed again by b_parcels, as LIKE … INCLUDING ALL copies
		// their expressions.
		var cols string
		if err := tx.QueryRow(ctx, `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
			FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'parcels' AND is_generated = 'NEVER'`).Scan(&cols); err != nil {
			return fmt.Errorf("parcels columns: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO b_parcels OVERRIDING SYSTEM VALUE (`+cols+`) SELECT `+cols+` FROM parcels ORDER BY id`); err != nil {
			return fmt.Errorf("copy parcels: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO b_events SELECT * FROM events ORDER BY parcel_id, seq`); err != nil {
			return fmt.Errorf("copy events: %w", err)
		}
		return nil
	})
}

// copyDatabase creates db from the template, then checkpoints so that the
// copy's WAL is not paid by the timed section.
func (b *bench) copyDatabase(ctx context.Context, db string) error {
	return withConn(ctx, b.cluster.DSN(), func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY",
			pgx.Identifier{db}.Sanitize(), pgx.Identifier{runsTemplate}.Sanitize())); err != nil {
			return fmt.Errorf("copy %s to %s: %w", runsTemplate, db, err)
		}
		return nil
	})
}

func (b *bench) dropDatabase(ctx context.Context, db string) error {
	if b.opts.keep {
		return nil
	}
	return withConn(ctx, b.cluster.DSN(), func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		return err
	})
}

// warmAndCheckpoint reads the tables a side will write into shared buffers
// (as a busy service has them) and checkpoints.
func warmAndCheckpoint(ctx context.Context, conn *pgx.Conn, prefix string) error {
	for _, t := range []string{"parcels", "events"} {
		var n int64
		if err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s%s`, prefix, t)).Scan(&n); err != nil {
			return err
		}
	}
	_, err := conn.Exec(ctx, "CHECKPOINT")
	return err
}

// baselineStmts write, for every leg of the slot at once, the rows MakeRun
// writes: $1 slot, $2 now, $3 the leg ids (each uses the first few). They select the parcels waiting
// for each leg by the same generated columns as the service (those of the
// parcels_waiting index), and take nothing from transition_rules.
var baselineStmts = []string{
	`INSERT INTO b_runs (run_no, bag_no, seal_no, leg_id, from_site, to_site, slot, status, parcel_count, created_at)
	SELECT 'RB' || lpad(l.id::text, 14, '0'), 'BB' || lpad(l.id::text, 14, '0'), 'FQ' || lpad(l.id::text, 10, '0'),
		l.id, l.from_site, l.to_site, $1, 'sealed', w.n, $2
	FROM legs l JOIN (
		SELECT p.wait_from AS f, p.wait_to AS t, count(*) AS n FROM b_parcels p
		WHERE p.wait_from IS NOT NULL AND p.status IN ('registered', 'arrived', 'returning') AND NOT p.leg_moving
	  AND NOT p.path_broken
		GROUP BY 1, 2) w ON w.f = l.from_site AND w.t = l.to_site
	WHERE l.id = ANY($3::bigint[])`,
	`INSERT INTO b_run_slots (leg_id, slot, run_id, parcels, made_by, created_at)
	SELECT r.leg_id, r.slot, r.id, r.parcel_count, 'bench', $2 FROM b_runs r WHERE r.slot = $1`,
	`INSERT INTO b_run_items (run_id, parcel_id)
	SELECT r.id, p.id FROM b_parcels p JOIN b_runs r ON r.from_site = p.wait_from AND r.to_site = p.wait_to
	WHERE r.slot = $1 AND p.wait_from IS NOT NULL AND p.status IN ('registered', 'arrived', 'returning') AND NOT p.leg_moving
	  AND NOT p.path_broken`,
	`UPDATE b_parcels p SET status = 'awaiting_pickup', current_run = r.id, run_sealed = true, version = version + 1,
		event_seq = event_seq + 1, updated_at = $2, last_action = 'book', last_site = r.from_site, last_at = $2
	FROM b_runs r
	WHERE r.slot = $1 AND r.from_site = p.wait_from AND r.to_site = p.wait_to
	  AND p.wait_from IS NOT NULL AND p.status IN ('registered', 'arrived', 'returning') AND NOT p.leg_moving
	  AND NOT p.path_broken`,
	`INSERT INTO b_events (parcel_id, seq, action, status_before, status_after, site_code, actor_role, source,
		server_time, run_id, bag_id, leg_id)
	SELECT p.id, p.event_seq, 'book', 'registered', p.status, r.from_site, 'system', 'schedule', $2, r.run_no, r.bag_no,
		r.leg_id::text
	FROM b_parcels p JOIN b_runs r ON r.id = p.current_run WHERE r.slot = $1`,
	`INSERT INTO b_bookings (run_id, carrier, status, created_at) SELECT r.id, 'manual', 'pending', $2 FROM b_runs r
	WHERE r.slot = $1`,
}

var referencesRe = regexp.MustCompile(`REFERENCES (\w+)\(`)

// addBaselineFKs gives the b_* tables the foreign keys of the service's
// tables, pointing at the b_* copies where the target is one of them.
func addBaselineFKs(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND conrelid = ANY($1::regclass[]) ORDER BY 1, conname`, runsTables)
	if err != nil {
		return err
	}
	type fk struct{ table, def string }
	fks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (fk, error) {
		var f fk
		err := row.Scan(&f.table, &f.def)
		return f, err
	})
	if err != nil {
		return err
	}
	for _, f := range fks {
		def := referencesRe.ReplaceAllStringFunc(f.def, func(m string) string {
			t := referencesRe.FindStringSubmatch(m)[1]
			if slices.Contains(runsTables, t) {
				return "REFERENCES b_" + t + "("
			}
			return m
		})
		if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER TABLE b_%s ADD %s`, f.table, def)); err != nil {
			return fmt.Errorf("b_%s %s: %w", f.table, def, err)
		}
	}
	return nil
}

// addBaselineChain gives b_events the service's hash chain: copies of the
// triggers the service has on events (read from the database, so the
// baseline pays whatever the service's chain costs), their functions
// pointed at b_events and b_parcels.
func addBaselineChain(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT t.tgname, pg_get_triggerdef(t.oid), p.proname, pg_get_functiondef(p.oid)
		FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE t.tgrelid = 'events'::regclass AND t.tgname IN ('events_chain', 'events_head') ORDER BY t.tgname`)
	if err != nil {
		return fmt.Errorf("baseline hash chain: %w", err)
	}
	type trig struct{ name, def, fn, fnDef string }
	trigs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (trig, error) {
		var t trig
		return t, r.Scan(&t.name, &t.def, &t.fn, &t.fnDef)
	})
	if err != nil {
		return fmt.Errorf("baseline hash chain: %w", err)
	}
	if len(trigs) != 2 {
		return fmt.Errorf("baseline hash chain: events has %d of its two chain triggers", len(trigs))
	}
	tables := strings.NewReplacer(" events ", " b_events ", " parcels ", " b_parcels ")
	for _, t := range trigs {
		fnDef := strings.Replace(t.fnDef, "public."+t.fn+"(", "public.b_"+t.fn+"(", 1)
		if _, err := conn.Exec(ctx, tables.Replace(fnDef)); err != nil {
			return fmt.Errorf("baseline hash chain: b_%s: %w", t.fn, err)
		}
		def := strings.Replace(t.def, "TRIGGER "+t.name+" ", "TRIGGER b_"+t.name+" ", 1)
		def = strings.Replace(def, " ON public.events ", " ON public.b_events ", 1)
		def = strings.Replace(def, "FUNCTION "+t.fn+"(", "FUNCTION b_"+t.fn+"(", 1)
		if _, err := conn.Exec(ctx, def); err != nil {
			return fmt.Errorf("baseline hash chain: %s: %w", def, err)
		}
	}
	return nil
}

// runsBaseline times the baseline statements in one transaction on a copy;
// full gives the b_* tables the service's foreign keys and hash chain.
func (b *bench) runsBaseline(ctx context.Context, db string, legs []shipment.Leg, slot time.Time, full bool) (runsSide, error) {
	var side runsSide
	err := withConn(ctx, b.cluster.ConnString(db), func(conn *pgx.Conn) error {
		if full {
			if err := addBaselineFKs(ctx, conn); err != nil {
				return err
			}
			if err := addBaselineChain(ctx, conn); err != nil {
				return err
			}
		} else if _, err := conn.Exec(ctx, `ALTER TABLE b_events ALTER COLUMN hash DROP NOT NULL`); err != nil {
			// The bare baseline computes no hash.
			return err
		}
		if err := warmAndCheckpoint(ctx, conn, "b_"); err != nil {
			return err
		}
		ids := make([]int64, len(legs))
		for i, l := range legs {
			ids[i] = l.ID
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		// Prepare outside the timed section, as the service's pool has
		// its statements cached after the first slot.
		all := []any{slot, now, ids}
		args := make([][]any, len(baselineStmts))
		for i, s := range baselineStmts {
			sd, err := conn.Prepare(ctx, fmt.Sprintf("b%d", i), s)
			if err != nil {
				return err
			}
			args[i] = all[:len(sd.ParamOIDs)]
		}
		c0, start := takeCPU(), time.Now()
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for i := range baselineStmts {
				if _, err := tx.Exec(ctx, fmt.Sprintf("b%d", i), args[i]...); err != nil {
					return fmt.Errorf("statement %d: %w", i+1, err)
				}
			}
			return nil
		})
		side.Seconds, side.CPU = time.Since(start).Seconds(), c0.until(takeCPU())
		if err != nil {
			return err
		}
		return verifyRuns(ctx, conn, "b_", slot, len(legs), b.opts.runsParcels)
	})
	return side, err
}

// runsService times ledger.MakeRun for every leg, from workers goroutines.
func (b *bench) runsService(ctx context.Context, db string, legs []shipment.Leg, slot time.Time, workers int) (runsSide, error) {
	var side runsSide
	conn, err := pgx.Connect(ctx, b.cluster.ConnString(db))
	if err != nil {
		return side, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := warmAndCheckpoint(ctx, conn, ""); err != nil {
		return side, err
	}
	pool, err := postgres.Open(ctx, b.cluster.ConnString(db), runsPoolSize)
	if err != nil {
		return side, err
	}
	defer pool.Close()
	// Open the workers' connections before the clock starts.
	held := make([]*pgxpool.Conn, 0, workers)
	for range workers {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return side, err
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	ledger := &postgres.Ledger{Pool: pool, Now: time.Now}

	if workers > 1 {
		// The scheduler's own code path: jobs.MakeRuns, as Tick calls it.
		due := make([]jobs.Due, len(legs))
		for i, l := range legs {
			due[i] = jobs.Due{Leg: l, Slot: slot}
		}
		c0, start := takeCPU(), time.Now()
		made, err := jobs.MakeRuns[pgx.Tx](ctx, ledger, due, workers, nil)
		side.Seconds, side.CPU = time.Since(start).Seconds(), c0.until(takeCPU())
		if err != nil {
			return side, err
		}
		if len(made) != len(legs) {
			return side, fmt.Errorf("jobs.MakeRuns made %d runs for %d legs", len(made), len(legs))
		}
		return side, verifyRuns(ctx, conn, "", slot, len(legs), b.opts.runsParcels)
	}

	next := make(chan shipment.Leg)
	durs := make([]float64, 0, len(legs))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	c0, start := takeCPU(), time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for leg := range next {
				t0 := time.Now()
				run, err := ledger.MakeRun(ctx, leg, slot, "bench", nil)
				d := ms(time.Since(t0))
				mu.Lock()
				durs = append(durs, d)
				switch {
				case err != nil:
					errs = append(errs, fmt.Errorf("MakeRun %s → %s: %w", leg.From, leg.To, err))
				case run == nil:
					errs = append(errs, fmt.Errorf("MakeRun %s → %s: no run", leg.From, leg.To))
				}
				mu.Unlock()
			}
		}()
	}
	for _, l := range legs {
		next <- l
	}
	close(next)
	wg.Wait()
	side.Seconds, side.CPU = time.Since(start).Seconds(), c0.until(takeCPU())
	if err := errors.Join(errs...); err != nil {
		return side, err
	}
	side.MedianRunMs, side.MaxRunMs = median(durs), slices.Max(durs)
	return side, verifyRuns(ctx, conn, "", slot, len(legs), b.opts.runsParcels)
}

// verifyRuns checks what a side wrote: one run per leg, every parcel in a
// run item, awaiting pickup in its run, with one 'book' event.
func verifyRuns(ctx context.Context, conn *pgx.Conn, prefix string, slot time.Time, legs, parcels int) error {
	var runs, items, sumCount, waiting, inRun, book, slots, bookings int
	q := strings.ReplaceAll(`SELECT
		(SELECT count(*) FROM @runs WHERE slot = $1),
		(SELECT count(*) FROM @run_items ri JOIN @runs r ON r.id = ri.run_id WHERE r.slot = $1),
		(SELECT coalesce(sum(parcel_count), 0) FROM @runs WHERE slot = $1),
		(SELECT count(*) FROM @parcels WHERE current_run IS NULL),
		(SELECT count(*) FROM @parcels p JOIN @run_items ri ON ri.parcel_id = p.id AND ri.run_id = p.current_run
			WHERE p.status = 'awaiting_pickup' AND p.version = 2 AND p.event_seq = 2 AND p.run_sealed),
		(SELECT count(*) FROM @events e JOIN @parcels p ON p.id = e.parcel_id AND e.seq = p.event_seq
			WHERE e.action = 'book' AND e.status_before = 'registered' AND e.status_after = 'awaiting_pickup'),
		(SELECT count(*) FROM @run_slots WHERE slot = $1 AND run_id IS NOT NULL),
		(SELECT count(*) FROM @bookings bk JOIN @runs r ON r.id = bk.run_id WHERE r.slot = $1)`, "@", prefix)
	if err := conn.QueryRow(ctx, q, slot).Scan(&runs, &items, &sumCount, &waiting, &inRun, &book, &slots, &bookings); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if runs != legs || items != parcels || sumCount != parcels || waiting != 0 || inRun != parcels || book != parcels ||
		slots != legs || bookings != legs {
		return fmt.Errorf("verify: want %d runs, run slots and bookings and %d run items, parcels in runs and book events; "+
			"got runs=%d run_slots=%d bookings=%d run_items=%d sum(parcel_count)=%d in_run=%d book_events=%d still_waiting=%d",
			legs, parcels, runs, slots, bookings, items, sumCount, inRun, book, waiting)
	}
	return nil
}

// runsExplain runs EXPLAIN (ANALYZE, BUFFERS, WAL) of the service's
// statement for the first leg, and of the baseline's statements for all
// legs, each in a transaction rolled back, on a fresh copy.
func (b *bench) runsExplain(ctx context.Context, legs []shipment.Leg, slot time.Time) ([]string, error) {
	const db = "runsbench_explain"
	if err := b.copyDatabase(ctx, db); err != nil {
		return nil, err
	}
	defer func() { _ = b.dropDatabase(ctx, db) }()
	b.logf("EXPLAIN ANALYZE of MakeRunSQL (leg %s → %s) and of the baseline+FK+hash statements (all legs)", legs[0].From, legs[0].To)
	var out []string
	explain := func(tx pgx.Tx, title, sql string, args ...any) error {
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, WAL) "+sql, args...)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		out = append(out, "== "+title)
		out = append(out, lines...)
		return nil
	}
	err := withConn(ctx, b.cluster.ConnString(db), func(conn *pgx.Conn) error {
		if err := warmAndCheckpoint(ctx, conn, ""); err != nil {
			return err
		}
		if err := warmAndCheckpoint(ctx, conn, "b_"); err != nil {
			return err
		}
		// The baseline statements as the target compares them: with the
		// service's foreign keys and hash chain.
		if err := addBaselineFKs(ctx, conn); err != nil {
			return err
		}
		if err := addBaselineChain(ctx, conn); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		l := legs[0]
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
		var runID int64
		if err := tx.QueryRow(ctx, `INSERT INTO runs (run_no, bag_no, seal_no, leg_id, from_site, to_site, slot, status,
			parcel_count, created_at) VALUES ('RX00000000000001', 'BX00000000000001', 'FQ0000000001', $1, $2, $3, $4, 'sealed', 0, $5)
			RETURNING id`, l.ID, l.From, l.To, slot, now).Scan(&runID); err != nil {
			return err
		}
		if err := explain(tx, fmt.Sprintf("service: MakeRunSQL, one leg (%s → %s)", l.From, l.To), postgres.MakeRunSQL,
			runID, l.From, l.To, now, "RX00000000000001", "BX00000000000001", fmt.Sprint(l.ID)); err != nil {
			return err
		}
		if err := tx.Rollback(ctx); err != nil {
			return err
		}
		ids := make([]int64, len(legs))
		for i, l := range legs {
			ids[i] = l.ID
		}
		tx, err = conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
		all := []any{slot, now, ids}
		for i, s := range baselineStmts {
			sd, err := tx.Prepare(ctx, "", s)
			if err != nil {
				return err
			}
			if err := explain(tx, fmt.Sprintf("baseline statement %d (all legs)", i+1), s, all[:len(sd.ParamOIDs)]...); err != nil {
				return err
			}
		}
		return tx.Rollback(ctx)
	})
	return out, err
}

// printRunsReport writes the -runs figures.
func printRunsReport(w io.Writer, r *runsResult) {
	printHeader(w, "-runs", r.Started, r.Command, r.Machine)
	fmt.Fprintf(w, "data: %d waiting parcels (status registered, one register event each) round robin over %d legs "+
		"(%d added to the reference legs), one slot; loaded set-based in %.1fs, template %.0f MB, copied per side in %.1fs (median)\n",
		r.Parcels, r.Legs, r.AddedLegs, r.LoadSeconds, r.DBSizeMB, r.CopySeconds)

	fmt.Fprintf(w, "\nRUNS of one slot: %d runs, %d run items, %d parcel state changes, %d book events (+ %d run slots, %d bookings); "+
		"%d rounds, each side on a fresh copy; medians\n", r.Legs, r.Parcels, r.Parcels, r.Parcels, r.Legs, r.Legs, len(r.Baseline))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  \tseconds\trounds (s)\tpostgres CPU s\tCPU other (max)\n")
	row := func(name string, s float64, rs []runsSide) {
		parts := make([]string, len(rs))
		var pg []float64
		other := 0.0
		for i, x := range rs {
			parts[i] = fmt.Sprintf("%.3f", x.Seconds)
			pg = append(pg, x.CPU.CPUSeconds["postgres"])
			other = max(other, x.CPU.OtherPct)
		}
		fmt.Fprintf(tw, "  %s\t%.3f\t%s\t%.2f\t%.0f%%\n", name, s, strings.Join(parts, ", "), median(pg), other)
	}
	row("baseline: plain set-based SQL into b_* (LIKE … INCLUDING ALL), 1 statement per table, 1 transaction (informational)", r.BaselineS, r.Baseline)
	row(fmt.Sprintf("service: ledger.MakeRun × %d legs, one after another", r.Legs), r.SequentialS, r.Sequential)
	row("baseline+FK+hash: the baseline with the service tables' foreign keys and hash chain (same triggers, on b_*)", r.BaselineFKS, r.BaselineFK)
	row(fmt.Sprintf("service: jobs.MakeRuns × %d legs, %d workers, as the scheduler makes them (informational)", r.Legs, r.Workers), r.ParallelS, r.Parallel)
	tw.Flush()
	runMs := func(rs []runsSide) string {
		var med, mx []float64
		for _, x := range rs {
			med, mx = append(med, x.MedianRunMs), append(mx, x.MaxRunMs)
		}
		return fmt.Sprintf("median %.0f ms, slowest %.0f ms", median(med), median(mx))
	}
	fmt.Fprintf(w, "  one MakeRun call (%d parcels), one leg after another: %s\n", r.Parcels/max(r.Legs, 1),
		runMs(r.Sequential))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  ratio service (one leg after another) / baseline+FK+hash\t%.2f\ttarget ≤ %.1f\t%s\n", r.RatioFK, r.Target,
		passFail(r.Pass))
	fmt.Fprintf(tw, "  ratio service (one leg after another) / baseline\t%.2f\t(informational)\n", r.Ratio)
	fmt.Fprintf(tw, "  ratio service (scheduler, %d workers) / baseline\t%.2f\t(informational)\n", r.Workers, r.RatioPar)
	tw.Flush()
	fmt.Fprintf(w, "  same shape: b_x is CREATE TABLE b_x (LIKE x INCLUDING ALL) for %s: same columns, defaults, identity,\n"+
		"  CHECKs and indexes (GIN on path, partial parcels_waiting, …); baseline+FK+hash adds the foreign keys and the chain triggers\n", strings.Join(runsTables, ", "))
	fmt.Fprintf(w, "  the service's tables' triggers: %s\n", strings.Join(r.Triggers, "; "))
	fmt.Fprintf(w, "  the service's tables' foreign keys (%d; baseline+FK adds them to b_*):\n", len(r.ForeignKeys))
	for _, f := range r.ForeignKeys {
		fmt.Fprintf(w, "    %s\n", f)
	}
	other := 0.0
	for _, rs := range [][]runsSide{r.Baseline, r.Sequential, r.BaselineFK, r.Parallel} {
		for _, x := range rs {
			other = max(other, x.CPU.OtherPct)
		}
	}
	if other > quietOtherPct {
		fmt.Fprintf(w, "WARNING: other processes used up to %.0f%% of the machine's CPU during a timed run: "+
			"the figures are disturbed; rerun on a quiet machine\n", other)
	}
	if len(r.Explain) > 0 {
		fmt.Fprintf(w, "\nEXPLAIN (ANALYZE, BUFFERS, WAL), not part of the figures:\n")
		for _, l := range r.Explain {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "OVERALL: %s\n", passFail(r.Pass))
}
