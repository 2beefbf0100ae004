// Package pgtest is the harness for tests that need PostgreSQL. Import it
// only from _test.go files.
//
// Each test binary shares one server: the one TEST_DATABASE_URL points at or,
// when that is unset, a private cluster on /dev/shm (see embeddedpg) started
// on first use. A package's TestMain registers how to build its template
// database, and every test then gets a fresh database cloned from that
// template, dropped when the test ends:
//
//	func TestMain(m *testing.M) {
//		pgtest.Configure(func(ctx context.Context, conn *pgx.Conn) error {
//			return migrate(ctx, conn) // and seed
//		})
//		os.Exit(pgtest.Main(m))
//	}
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		pool := pgtest.Pool(t)
//		…
//	}
//
// Tests fail, never skip, when no database can be had. Set COURIER_DEBUG=1 to
// see the harness's log lines.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/embeddedpg"
)

// EnvURL names the environment variable with the connection string of an
// existing server to use instead of a private cluster. Its role needs
// CREATEDB, and CREATEROLE for the login roles tests serve as (AsRole). Several test binaries may share the server: every database
// pgtest creates has a random name.
const EnvURL = "TEST_DATABASE_URL"

const (
	// clusterPrefix names the private cluster directories on /dev/shm;
	// directories left by killed test binaries are removed at the next start.
	clusterPrefix = "epg-"
	startTimeout  = 2 * time.Minute
	ddlTimeout    = time.Minute
)

// Setup builds the template database: migrations, seed data. conn is
// connected to the template as its owner. Setup must not leave other
// connections to it open (pgtest terminates any it finds).
type Setup func(ctx context.Context, conn *pgx.Conn) error

// server is the database server of this test binary.
type server struct {
	admin      string              // connection string of an administrative database
	cluster    *embeddedpg.Cluster // nil with TEST_DATABASE_URL
	pool       *pgxpool.Pool       // on admin: CREATE and DROP DATABASE
	fileCopy   bool                // CREATE DATABASE … STRATEGY = FILE_COPY works (PostgreSQL 15+)
	clusterDir string              // removed by Main
}

var (
	mu         sync.Mutex
	setup      Setup
	configured bool
	built      bool // the template was (being) built: too late to Configure

	srvOnce sync.Once
	srv     *server
	srvErr  error

	tmplOnce sync.Once
	tmpl     string
	tmplErr  error

	logger = newLogger()
)

func newLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("COURIER_DEBUG") == "1" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("component", "pgtest")
}

// Configure registers how the template database is built. Call it once,
// from TestMain, before the tests run. Without it the template is an empty
// database.
func Configure(s Setup) {
	mu.Lock()
	defer mu.Unlock()
	if configured {
		panic("pgtest: Configure called twice")
	}
	if built {
		panic("pgtest: Configure called after the template was built; call it from TestMain")
	}
	configured, setup = true, s
}

// Main runs the tests, then drops what pgtest made on a shared server or
// stops the private cluster and removes its directory. Use it from TestMain:
// os.Exit(pgtest.Main(m)). A failed teardown turns a passing run into a
// failing one.
func Main(m *testing.M) int {
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// DB returns the connection string of a fresh database cloned from the
// template and dropped (WITH (FORCE)) when the test ends. Safe for parallel
// tests.
func DB(t testing.TB) string {
	t.Helper()
	s := mustServer(t)
	tmplName, err := ensureTemplate(s)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "t_" + randomSuffix()
	create := "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(tmplName)
	if s.fileCopy {
		create += " STRATEGY = FILE_COPY" // ~9 ms on tmpfs against ~15 ms for WAL_LOG
	}
	ctx, cancel := context.WithTimeout(context.Background(), ddlTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, create); err != nil {
		t.Fatalf("pgtest: create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ddlTimeout)
		defer cancel()
		if err := dropDatabase(ctx, s.pool, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s.connString(name)
}

// Pool returns a pool on a fresh database (see DB), closed when the test
// ends, before the database is dropped.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	connString := DB(t)
	pool, err := pgxpool.New(context.Background(), connString)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// AdminConnString returns the connection string of the server's
// administrative database: the one TEST_DATABASE_URL names, or the private
// cluster's postgres database. Tests must not change what other tests
// share through it.
func AdminConnString(t testing.TB) string {
	t.Helper()
	return mustServer(t).admin
}

// Server returns the private cluster, or nil when TEST_DATABASE_URL is set.
func Server(t testing.TB) *embeddedpg.Cluster {
	t.Helper()
	return mustServer(t).cluster
}

func mustServer(t testing.TB) *server {
	t.Helper()
	srvOnce.Do(func() { srv, srvErr = startServer() })
	if srvErr != nil {
		t.Fatalf("pgtest: no database: %v", srvErr)
	}
	return srv
}

// startServer connects to TEST_DATABASE_URL or starts a private cluster.
func startServer() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	if connString := os.Getenv(EnvURL); connString != "" {
		s := &server{admin: connString}
		if err := s.connect(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvURL, err)
		}
		logger.Debug("using the server of " + EnvURL)
		return s, nil
	}

	parent := "/dev/shm" // tmpfs: clones are fast and steady (STACK-NOTES §6.4)
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		parent = os.TempDir()
	}
	if err := embeddedpg.RemoveStale(parent, clusterPrefix); err != nil {
		logger.Warn("cannot remove stale test clusters", "err", err)
	}
	dir, err := os.MkdirTemp(parent, clusterPrefix)
	if err != nil {
		return nil, err
	}
	// The postgres user (when root) must reach it; Start hands it over.
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: dir, Logger: logger})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("%w (or set %s to an existing server)", err, EnvURL)
	}
	s := &server{admin: c.DSN(), cluster: c, clusterDir: dir}
	if err := s.connect(ctx); err != nil {
		_ = c.Stop()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// connect opens the admin pool and checks the server version.
func (s *server) connect(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, s.admin)
	if err != nil {
		return err
	}
	var version int
	var v string
	if err := pool.QueryRow(ctx, "SHOW server_version_num").Scan(&v); err != nil {
		pool.Close()
		return err
	}
	if version, err = strconv.Atoi(v); err != nil {
		pool.Close()
		return fmt.Errorf("server_version_num %q: %w", v, err)
	}
	s.pool, s.fileCopy = pool, version >= 150000
	return nil
}

// connString returns the connection string of database db on the server.
func (s *server) connString(db string) string {
	if s.cluster != nil {
		return s.cluster.ConnString(db)
	}
	return withDatabase(s.admin, db)
}

// ensureTemplate builds the template database once and returns its name.
func ensureTemplate(s *server) (string, error) {
	tmplOnce.Do(func() {
		mu.Lock()
		built = true
		fn := setup
		mu.Unlock()
		tmpl, tmplErr = buildTemplate(s, fn)
	})
	return tmpl, tmplErr
}

func buildTemplate(s *server, fn Setup) (name string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	began := time.Now()
	name = "tmpl_" + randomSuffix()
	if _, err := s.pool.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return "", fmt.Errorf("create template database: %w", err)
	}
	defer func() {
		if err != nil {
			_ = dropDatabase(ctx, s.pool, name)
		}
	}()

	if fn != nil {
		conn, err := pgx.Connect(ctx, s.connString(name))
		if err != nil {
			return "", fmt.Errorf("connect to template database: %w", err)
		}
		err = fn(ctx, conn)
		if cerr := conn.Close(ctx); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("set up template database: %w", err)
		}
	}

	// CREATE DATABASE … TEMPLATE fails with SQLSTATE 55006 while anything is
	// connected to the template: forbid new connections and end any that
	// setup left behind. PostgreSQL waits a few seconds for them to go.
	if _, err := s.pool.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("seal template database: %w", err)
	}
	if _, err := s.pool.Exec(ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		return "", fmt.Errorf("seal template database: %w", err)
	}
	logger.Debug("built template database", "name", name, "duration", time.Since(began).Round(time.Millisecond))
	return name, nil
}

// shutdown undoes startServer and template; Main calls it.
func shutdown() error {
	if srv == nil {
		return nil
	}
	var errs []error
	if srv.cluster == nil && tmpl != "" {
		// A shared server outlives us: drop the template. A private cluster
		// goes away whole.
		ctx, cancel := context.WithTimeout(context.Background(), ddlTimeout)
		errs = append(errs, dropDatabase(ctx, srv.pool, tmpl))
		cancel()
	}
	srv.pool.Close()
	if srv.cluster != nil {
		errs = append(errs, srv.cluster.Stop(), os.RemoveAll(srv.clusterDir))
	}
	return errors.Join(errs...)
}

func dropDatabase(ctx context.Context, pool *pgxpool.Pool, name string) error {
	if _, err := pool.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// withDatabase returns connString (URL or keyword/value form) with its
// database replaced by db.
func withDatabase(connString, db string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err == nil {
			u.Path, u.RawPath = "/"+db, ""
			q := u.Query()
			q.Del("dbname")
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	// In the keyword/value form a later keyword wins.
	return connString + " dbname=" + quoteValue(db)
}

// quoteValue quotes a keyword/value connection string value when needed.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// randomSuffix makes database names unique across test binaries sharing a
// server.
func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
