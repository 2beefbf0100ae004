package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/changchun-gov/courier/integrations/ems"
	"github.com/changchun-gov/courier/internal/delivery"
	"github.com/changchun-gov/courier/internal/embeddedpg"
	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/internal/jobs"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/secrets"
	svc "github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/tracking"
	"github.com/changchun-gov/courier/web"
)

const usage = `courier — certificate courier and logistics service (物料流转 / 快递取证)

Usage:
  courier [serve]          start the service (the default)
  courier migrate status   show the database schema version against this release
  courier migrate up       apply pending migrations
  courier verify [--from DAY --to DAY] [--parcel WAYBILL]
                           recompute the event log's hash chains and name the
                           first break (exit status 3 on a break)
  courier config           print the configuration with secrets hidden
  courier sim              run the courier simulator alone (SF's and EMS's
                           protocols on COURIER_SIM_ADDR, pushing route events
                           to COURIER_SIM_PUSH_URL), for a DATABASE_URL set-up
  courier version          print the version
  courier help             show this help

Configuration comes from environment variables (see README.md). With no
DATABASE_URL the service starts its own PostgreSQL under COURIER_DATA_DIR.
`

// version is the module version, or "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// run is the whole program; main only wires signals and the exit code.
func run(ctx context.Context, args []string, env getenv, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
		args = args[1:]
	}
	switch cmd {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "--version":
		fmt.Fprintln(stdout, "courier", version())
		return 0
	case "sim":
		return simCmd(ctx, env, stdout, stderr)
	}
	cfg, err := loadConfig(env)
	if err != nil {
		fmt.Fprintf(stderr, "courier: configuration is invalid:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 2
	}
	log := newLogger(cfg, stderr)
	switch cmd {
	case "serve":
		err = serve(ctx, cfg, log, stdout)
	case "migrate":
		err = migrateCmd(ctx, cfg, log, args, stdout)
	case "verify":
		err = verifyCmd(ctx, cfg, log, args, stdout)
	case "config":
		red := cfg.Redacted()
		keys := make([]string, 0, len(red))
		for k := range red {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(stdout, "%s=%s\n", k, red[k])
		}
	default:
		fmt.Fprintf(stderr, "courier: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, errBroken) {
		return exitBroken
	}
	if err != nil {
		fmt.Fprintf(stderr, "courier: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// database is an open pool and, on the embedded default, the cluster.
type database struct {
	pool     *pgxpool.Pool // as the service's role
	ownerDSN string        // the tables' owner, for migrations ("" when not configured)
	cluster  *embeddedpg.Cluster
	embedded bool
	lock     *os.File // flock on the data directory, held while the cluster runs
	// supervisor restarts the embedded cluster when its server dies; it
	// stops the cluster now running.
	supervisor *embeddedpg.Supervisor
}

// migrate applies pending migrations as the owner of the tables.
func (d *database) migrate(ctx context.Context, log *slog.Logger) (int, error) {
	if d.ownerDSN == "" {
		return 0, errors.New("migrations run as the owner of the tables: set DATABASE_OWNER_URL")
	}
	pool, err := postgres.Open(ctx, d.ownerDSN, 2)
	if err != nil {
		return 0, fmt.Errorf("DATABASE_OWNER_URL: %w", err)
	}
	defer pool.Close()
	return postgres.Migrate(ctx, pool, log)
}

func (d *database) close() {
	if d.pool != nil {
		d.pool.Close()
	}
	if d.supervisor != nil {
		_ = d.supervisor.Stop()
	} else if d.cluster != nil {
		_ = d.cluster.Stop()
	}
	if d.lock != nil {
		d.lock.Close() // releases the flock
	}
}

// openDatabase connects to DATABASE_URL, or starts the embedded cluster.
func openDatabase(ctx context.Context, cfg *Config, log *slog.Logger) (*database, error) {
	d := &database{}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		if _, err := embeddedpg.FindBinaries(); err != nil {
			return nil, fmt.Errorf("%w\nEither install the PostgreSQL server binaries (Debian: apt-get install postgresql) or set DATABASE_URL", err)
		}
		dir, moved, reason := embeddedpg.ReachableDir(filepath.Join(cfg.DataDir, "pg"))
		if moved {
			log.Warn("embedded PostgreSQL cluster placed elsewhere", "dir", dir, "reason", reason)
		}
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		// One process per data directory: several instances share a
		// DATABASE_URL, not an embedded cluster.
		lock, err := os.OpenFile(filepath.Join(cfg.DataDir, "courier.lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, fmt.Errorf("data dir lock: %w", err)
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lock.Close()
			return nil, fmt.Errorf("another courier is already running on %s (its embedded PostgreSQL serves one process; run several instances against DATABASE_URL)", cfg.DataDir)
		}
		d.lock = lock
		// Three roles, each with a generated password kept with the keys:
		// the superuser, the owner of the tables (migrations) and the
		// service's role (serving).
		pwFile := filepath.Join(cfg.DataDir, "db-passwords.json")
		pw, err := secrets.LoadOrCreatePasswords(pwFile, embeddedpg.User, postgres.OwnerRole, postgres.ServiceRole)
		if err != nil {
			d.close()
			return nil, err
		}
		start := time.Now()
		opts := embeddedpg.Options{Dir: dir, Durable: cfg.DurableEmbedded, Logger: log, Password: pw[embeddedpg.User]}
		cl, err := embeddedpg.Start(ctx, opts)
		if err != nil {
			d.close()
			return nil, fmt.Errorf("embedded PostgreSQL: %w (its log: %s; passwords: %s)", err, filepath.Join(dir, "postgres.log"), pwFile)
		}
		d.cluster, d.embedded = cl, true
		log.Info("embedded PostgreSQL started", "dir", dir, "took", time.Since(start).Round(time.Millisecond))
		d.supervisor = embeddedpg.Supervise(cl, opts)
		if err := postgres.SetupEmbeddedRoles(ctx, cl.DSN(), pw[postgres.OwnerRole], pw[postgres.ServiceRole]); err != nil {
			d.close()
			return nil, err
		}
		d.ownerDSN = cl.ConnStringAs("postgres", postgres.OwnerRole, pw[postgres.OwnerRole])
		dsn = cl.ConnStringAs("postgres", postgres.ServiceRole, pw[postgres.ServiceRole])
	} else {
		d.ownerDSN = cfg.DatabaseOwnerURL
	}
	pool, err := postgres.Open(ctx, dsn, cfg.DBMaxConns)
	if err != nil {
		d.close()
		return nil, err
	}
	d.pool = pool
	return d, nil
}

// loadKeys reads the keys and checks them against the database's check
// values: keys the database was not written with are refused.
func loadKeys(ctx context.Context, cfg *Config, db *database, log *slog.Logger) (*secrets.Keys, error) {
	if cfg.IDHashKey != nil {
		k, err := secrets.New(cfg.IDHashKey, cfg.DataKey)
		if err != nil {
			return nil, err
		}
		return k, postgres.CheckKeys(ctx, db.pool, k, time.Now())
	}
	if !db.embedded {
		return nil, errors.New("COURIER_ID_HASH_KEY and COURIER_DATA_KEY are required with DATABASE_URL")
	}
	path := filepath.Join(cfg.DataDir, "secrets.json")
	k, created, err := secrets.LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	if err := postgres.CheckKeys(ctx, db.pool, k, time.Now()); err != nil {
		if created {
			// New keys beside an old database would only hide the lost file.
			_ = os.Remove(path)
			return nil, fmt.Errorf("%s is missing and the database was written with other keys: %w", path, err)
		}
		return nil, err
	}
	if created {
		log.Info("generated the service's keys; keep this file safe and back it up with the database", "file", path)
	}
	return k, nil
}

func migrateCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "status" && args[0] != "up") {
		return errors.New("usage: courier migrate status|up")
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	if args[0] == "up" {
		if db.ownerDSN == "" {
			// DATABASE_URL alone: this command runs as whoever it names.
			db.ownerDSN = cfg.DatabaseURL
		}
		n, err := db.migrate(ctx, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	}
	st, err := postgres.Schema(ctx, db.pool)
	if err != nil {
		return err
	}
	state := "current"
	if st.Behind() {
		state = "behind: run `courier migrate up`"
	} else if st.Ahead() {
		state = "ahead of this release"
	}
	fmt.Fprintf(stdout, "schema version %d, this release knows %d (%s)\n", st.Current, st.Known, state)
	return nil
}

// serve starts everything, serves until ctx is done, then shuts down in
// reverse order.
func serve(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	started := time.Now()
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.close()
	pool := db.pool

	if db.embedded || cfg.Migrate {
		if _, err := db.migrate(ctx, log); err != nil {
			return err
		}
	}
	if _, err := postgres.CheckSchema(ctx, pool); err != nil {
		return err
	}
	// The log is tamper-evident only if the service cannot change it.
	if err := postgres.CheckServiceRole(ctx, pool); err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	keys, err := loadKeys(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	if err := postgres.SeedReference(ctx, pool); err != nil {
		return err
	}
	ref, err := postgres.LoadRefData(ctx, pool)
	if err != nil {
		return err
	}
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	now := time.Now
	h, _ := ctx.Value(testHooksKey{}).(*testHooks)
	if h != nil && h.now != nil {
		now = h.now
	}
	var sleep func(context.Context, time.Duration)
	if h != nil {
		sleep = h.sleep
	}
	users := &postgres.Users{Pool: pool, Ref: ref, Cost: cfg.PasswordCost, TokenTTL: cfg.TokenTTL, Now: now}
	users.DummyHash() // made now, so the first unknown username takes no longer than the next
	pw, created, err := users.EnsureAdmin(ctx, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created && pw != "" {
		fmt.Fprintf(stdout, "courier: created user \"admin\" with password %s (shown once; set COURIER_ADMIN_PASSWORD to choose it)\n", pw)
	}

	routes := &postgres.Routes{Pool: pool, Ref: ref, Now: now}
	kick := make(chan struct{}, 1)
	ledger := &postgres.Ledger{Pool: pool, Ref: ref, Keys: keys, Now: now, Routes: routes, PublicURL: cfg.PublicURL, DigestKey: cfg.DigestKey, Kick: func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}}
	throttle := &postgres.Throttle{Ledger: ledger, Window: 10 * time.Minute}
	parcels := &svc.Parcels{Store: ledger, Keys: keys, Ref: ref, Routes: routes, Throttle: throttle, Reads: ledger, Photos: ledger, Redirects: ledger, Now: now}
	ledger.Carrier, ledger.ExpressCarrier = cfg.Couriers.Legs, cfg.Couriers.Express
	if h != nil {
		ledger.NewBagNo = h.bagNo
	}
	courierSvc := &svc.Couriers{Store: ledger, Assignments: ledger, Sites: ref, Reads: ledger, Scans: parcels, Now: now}
	cs, err := startCouriers(cfg, ref.Site, func(ctx context.Context, x tracking.CourierExchange) {
		if err := ledger.RecordExchange(context.WithoutCancel(ctx), x); err != nil {
			log.Warn("a courier call's exchange was not kept", "carrier", x.Carrier, "service", x.Service, "err", err)
		}
	}, courierSvc.ReceiveNodes, log, now, h)
	if err != nil {
		return err
	}
	defer cs.stop()
	courierSvc.Carriers = cs.named
	var jobOpts []jobs.Option
	if h != nil && h.retry > 0 {
		jobOpts = append(jobOpts, jobs.RetryAfter(h.retry))
	}
	sched, err := jobs.New(riverpgxv5.New(pool), ledger, useCases{parcels, courierSvc}, routes,
		jobs.Carriers{Legs: cs.legs, Express: cs.express, Named: cs.named}, log, now, jobOpts...)
	if err != nil {
		return err
	}
	ledger.ExpressHook = sched.ExpressHook
	settingsStore := &postgres.Settings{Pool: pool, Ref: ref, Now: now}
	// Every instance sees every administrator's edit within seconds.
	watcher := &postgres.Watcher{Pool: pool}
	watcher.On(postgres.EntitySite, func(ctx context.Context) error { return ref.Reload(ctx, pool) })
	watcher.On(postgres.EntityRoute, routes.Forget)
	watcher.On(postgres.EntityUser, users.ForgetTokens)
	watcher.On(postgres.EntityCourierMapping, func(ctx context.Context) error {
		return cs.loadMapping(ctx, settingsStore.CourierMapping)
	})
	if _, err := watcher.Check(ctx); err != nil {
		return err
	}
	booked := &jobs.Booked[pgx.Tx]{Store: ledger, Cancels: ledger, Routes: routes, Sched: sched}
	runs := &svc.Runs[tracking.CloseResult]{Store: ledger, Reader: ledger, Ref: ref, Now: now, Maker: booked, Canceller: booked,
		Bookings: ledger}
	printer, err := labels.NewRenderer(labels.Options{PublicURL: cfg.PublicURL})
	if err != nil {
		return err
	}
	settings := &svc.Settings{Sites: ref, Store: settingsStore, Slots: ledger, Legs: routes, Schedules: ledger,
		Mappings: settingsStore, Defaults: map[string]tracking.StageMapping{ems.CarrierName: ems.DefaultMapping.Stages()}}
	if err := cs.loadMapping(ctx, settingsStore.CourierMapping); err != nil {
		return err
	}
	app, err := web.New(web.Deps{
		Ledger: ledger, Parcels: parcels, PrintRuns: &svc.Labels{Store: ledger, Ref: ref}, Accounts: &svc.Accounts{Store: users, Sites: ref,
			SessionLife: cfg.SessionMax, SessionIdle: cfg.SessionIdle}, Ref: ref, Throttle: throttle, Labels: printer, Catalog: cat, Log: log,
		Runs: &jobs.Operations[pgx.Tx]{Store: ledger, Routes: routes, Sites: ref, Sched: sched, Closer: runs, Reader: runs, Maker: runs,
			Bookings: runs},
		Pushes:    &web.Pushes{Token: cs.token, Allow: cfg.Couriers.PushAllow, Receivers: cs.receivers},
		Couriers:  courierSvc,
		Settings:  settings,
		Slots:     settings,
		Integrity: &jobs.Integrity[pgx.Tx]{Store: ledger, Sched: sched},
		Hall:      &svc.Hall{Store: ledger, Ref: ref, Now: now},
		Imports:   &svc.Imports{Parcels: parcels, Store: ledger, Now: now, Sites: ref.Sites, CertTypes: ref.CertTypes},
		PublicURL: cfg.PublicURL, Version: version(), ProxyHeader: cfg.ProxyHeader, TrustedProxies: cfg.TrustedProxies,
		TrackFree: cfg.TrackFree, TrackHard: cfg.TrackHard, Sleep: sleep,
		Unavailable: postgres.Unavailable,
		Ready: func(ctx context.Context) error {
			st, err := postgres.Schema(ctx, pool)
			if err != nil {
				return err
			}
			if st.Behind() {
				return postgres.ErrSchemaBehind
			}
			return nil
		},
	})
	if err != nil {
		return err
	}

	if created && db.embedded && cfg.Demo {
		ops := &jobs.Operations[pgx.Tx]{Store: ledger, Routes: routes, Sites: ref, Sched: sched, Closer: runs, Reader: runs, Maker: runs,
			Bookings: runs}
		msg, err := seedDemo(ctx, demoServices{createUser: users.Create, register: parcels.Register, scan: parcels.Scan,
			legs: routes.Legs, runLegNow: ops.RunLegNow, setSlots: settings.SetHallSlots, carrier: cfg.Couriers.Legs}, cfg.PublicURL)
		if err != nil {
			// The service runs without its demo: say so, and go on.
			log.Error("demo day not filled in", "err", err)
		} else {
			fmt.Fprint(stdout, msg)
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		// HTTPS served by the service itself (the camera and the offline
		// scan station need a secure context away from localhost).
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("COURIER_TLS_CERT_FILE/COURIER_TLS_KEY_FILE: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	// No SMS gateway exists yet (a later issue brings one): SMS stay queued,
	// marked no_gateway, and nothing is called sent.
	outbox := &delivery.Worker{Outbox: ledger, Delivery: tracking.Delivery{Render: delivery.RenderSMS(cat)}, Kick: kick, Log: log}
	log.Warn("no SMS gateway configured: SMS to citizens stay queued (GET /api/v1/messages shows them)")
	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(1)
	go func() {
		defer wg.Done()
		outbox.Run(bg)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		every(bg, time.Hour, "prune throttle", throttle.Prune, log)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		every(bg, postgres.DefaultWatchInterval, "settings reload", func(ctx context.Context) error {
			_, err := watcher.Check(ctx)
			return err
		}, log)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Parcels registered before private links existed get theirs.
		if n, err := ledger.EnsureLinks(bg); err != nil && bg.Err() == nil {
			log.Warn("private links for older parcels not made", "err", err)
		} else if n > 0 {
			log.Info("private links made for older parcels", "parcels", n)
		}
	}()
	if !cfg.Scheduler {
		sched.Interval = 0
	}
	if err := sched.Start(bg); err != nil {
		stopBG()
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- app.Listener(ln) }()
	// The simulator pushes to this instance over loopback.
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cs.startTimeline(bg, scheme+"://127.0.0.1:"+port)
	log.Info("courier listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "startup", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "courier: listening on %s://%s\n", scheme, ln.Addr().String())

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		if err != nil {
			err = fmt.Errorf("http server: %w", err)
		}
	}
	log.Info("shutting down")
	if serr := app.ShutdownWithTimeout(10 * time.Second); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	stopBG()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if serr := sched.Stop(sctx); serr != nil {
		log.Warn("job queue shutdown", "err", serr)
	}
	cancel()
	wg.Wait()
	return err
}

// useCases are the jobs that are the service layer's use cases.
type useCases struct {
	*svc.Parcels
	*svc.Couriers
}

// testHooks let a test drive one service's clock and make its delays
// return at once; run looks for them in its context (never set outside
// tests).
type testHooks struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration)
	// sim receives the in-process courier simulator; its timeline then
	// plays only when the test ticks it.
	sim func(*courierSim)
	// courierTimeout bounds a courier call (0: 10 s); retry is the delay
	// before a failed job's next attempt (0: River's backoff).
	courierTimeout, retry time.Duration
	// bagNo draws the runs' bag numbers (a test's camera shows one).
	bagNo func() string
}

type testHooksKey struct{}

// every calls fn every d until ctx ends, logging its errors as what.
func every(ctx context.Context, d time.Duration, what string, fn func(context.Context) error, log *slog.Logger) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Warn(what, "err", err)
		}
	}
}
