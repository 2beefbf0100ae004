// Package embeddedpg starts and stops a private PostgreSQL cluster with the
// server binaries installed on the machine (initdb and postgres, found by
// FindBinaries). The cluster listens on a unix socket only, in its own
// directory. It trusts the local user "app", or, when Options.Password is
// set, asks every connection for its password (SCRAM).
//
// PostgreSQL refuses to run as root. When the process is root, embeddedpg
// runs initdb and postgres as the "postgres" system user and gives that user
// the cluster directory; ReachableDir picks a directory that user can reach.
// On Linux the server gets SIGINT when the thread that started it exits, so
// a killed parent does not leave a server running: do not call Start from a
// goroutine that has called runtime.LockOSThread.
//
// See STACK-NOTES.md §6 for the measurements behind the defaults.
package embeddedpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrInUse is returned (wrapped) by Start when a running server already owns
// the data directory.
var ErrInUse = errors.New("embeddedpg: the data directory is in use by a running server")

const (
	// User is the database superuser initdb creates; it needs a password
	// only when Options.Password is set.
	User = "app"

	readyTimeout  = 30 * time.Second
	readyInterval = 10 * time.Millisecond
	stopTimeout   = 30 * time.Second
	killTimeout   = 5 * time.Second
	tailSize      = 4 << 10
)

// Options configure Start.
type Options struct {
	// Dir is the cluster directory, dedicated to the cluster: it holds the
	// data directory (Dir/data), the unix socket and, by default, the server
	// log. It is created when missing; when root, it is handed to the
	// postgres user. Required. Pass it through ReachableDir first.
	Dir string

	// Durable keeps PostgreSQL's crash safety. When false (tests, the dev
	// default), initdb runs with --no-sync and the server with fsync,
	// synchronous_commit and full_page_writes off: fast, but a machine crash
	// can corrupt the cluster.
	Durable bool

	// Logger receives the few lines embeddedpg logs; nil means slog.Default().
	Logger *slog.Logger

	// Log receives the output of initdb and postgres. Nil means appending to
	// Dir/postgres.log.
	Log io.Writer

	// Password, when set, is the superuser's password, and the cluster asks
	// every connection for its password (scram-sha-256) instead of trusting
	// the local socket. A cluster that trusted is switched at start.
	Password string
}

// Cluster is a running PostgreSQL server started by Start.
type Cluster struct {
	dir    string
	logger *slog.Logger
	cmd    *exec.Cmd
	log    *serverLog

	password string // the superuser's, when the cluster asks for one

	exited  chan struct{} // closed once the postmaster has exited
	waitErr error         // the postmaster's exit status, set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts a cluster in opts.Dir, running initdb first when
// Dir/data/PG_VERSION is missing, and returns once the server accepts
// connections (within about 30 seconds). A stale postmaster.pid left by a
// dead server is PostgreSQL's business; a live server owning the data
// directory makes Start fail with ErrInUse. ctx bounds the start only, not
// the server's life: call Stop.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("embeddedpg: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("embeddedpg: cluster directory: %w", err)
	}
	if n := len(filepath.Join(dir, socketName)); n > maxSocketPath {
		return nil, fmt.Errorf("embeddedpg: socket path in %s would be %d bytes, over PostgreSQL's limit of %d; use ReachableDir",
			dir, n, maxSocketPath)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}

	var acct *account
	if isRoot() {
		a, err := postgresAccount()
		if err != nil {
			return nil, err
		}
		if blocked := unreachableAncestor(dir, a); blocked != "" {
			return nil, fmt.Errorf("embeddedpg: the postgres user cannot enter %s, a parent of %s; use ReachableDir", blocked, dir)
		}
		acct = &a
	}
	if err := mkdirOwned(dir, 0o700, acct); err != nil {
		return nil, fmt.Errorf("embeddedpg: cluster directory: %w", err)
	}
	if acct != nil {
		if err := os.Chown(dir, acct.uid, acct.gid); err != nil {
			return nil, fmt.Errorf("embeddedpg: cluster directory: %w", err)
		}
	}

	dataDir := filepath.Join(dir, "data")
	if pid, err := readPid(filepath.Join(dataDir, "postmaster.pid")); err == nil && pidAlive(pid) && isPostgresProcess(pid) {
		return nil, fmt.Errorf("%w: %s (postmaster pid %d)", ErrInUse, dataDir, pid)
	}
	if err := writeFileNoFollow(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		return nil, fmt.Errorf("embeddedpg: %w", err)
	}

	logs := &serverLog{}
	if err := logs.open(dir, opts.Log, acct); err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, logger: logger, log: logs, exited: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			c.log.close()
		}
	}()

	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		if err := c.initdb(ctx, bin, dataDir, opts.Durable, acct); err != nil {
			return nil, err
		}
	}

	// A cluster that trusts the socket is reached without the password
	// first, then switched (requirePassword).
	switchAuth := opts.Password != "" && !passwordAuth(dataDir)
	if !switchAuth {
		c.password = opts.Password
	}

	args := []string{"-D", dataDir, "-c", "listen_addresses=", "-c", "unix_socket_directories=" + dir}
	if !opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	cmd.Stdout = c.log.w
	cmd.Stderr = c.log.w
	cmd.SysProcAttr = sysProcAttr(acct)
	cmd.WaitDelay = killTimeout
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("embeddedpg: start postgres: %w", err)
	}
	c.cmd = cmd
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()

	if err := c.waitReady(ctx); err != nil {
		_ = c.Stop()
		return nil, err
	}
	if switchAuth {
		if err := c.requirePassword(ctx, dataDir, acct, opts.Password); err != nil {
			_ = c.Stop()
			return nil, err
		}
	}
	ok = true
	logger.Info("embedded postgres ready", "dir", dir, "pid", cmd.Process.Pid,
		"durable", opts.Durable, "duration", time.Since(began).Round(time.Millisecond))
	return c, nil
}

// initdb creates the data directory.
func (c *Cluster) initdb(ctx context.Context, bin, dataDir string, durable bool, acct *account) error {
	args := []string{"-D", dataDir, "-U", User, "--auth=trust", "--encoding=UTF8", "--locale=C"}
	if !durable {
		args = append(args, "--no-sync")
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), args...)
	cmd.Dir = c.dir
	cmd.Env = childEnv()
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = sysProcAttr(acct)
	// On SIGINT initdb removes the half-made data directory.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = killTimeout
	began := time.Now()
	err := cmd.Run()
	_, _ = c.log.w.Write(out.Bytes())
	if err != nil {
		return fmt.Errorf("embeddedpg: initdb %s: %w\n%s", dataDir, err, lastBytes(out.Bytes(), tailSize))
	}
	c.logger.Info("initialised embedded postgres cluster", "dir", c.dir,
		"durable", durable, "duration", time.Since(began).Round(time.Millisecond))
	return nil
}

// waitReady tries to connect every 10 ms until the server accepts, the
// postmaster exits, ctx ends or 30 seconds pass.
func (c *Cluster) waitReady(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(c.DSN())
	if err != nil {
		return fmt.Errorf("embeddedpg: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(readyInterval)
	defer tick.Stop()
	for {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.ConnectConfig(attemptCtx, cfg)
		cancelAttempt()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return fmt.Errorf("embeddedpg: postgres exited during startup (%v); server log:\n%s", c.waitErr, c.log.tail())
		case <-ctx.Done():
			return fmt.Errorf("embeddedpg: postgres not ready: %w (last attempt: %v); server log:\n%s",
				context.Cause(ctx), err, c.log.tail())
		case <-tick.C:
		}
	}
}

// Dir returns the absolute cluster directory, which is also the directory
// of the unix socket.
func (c *Cluster) Dir() string { return c.dir }

// DSN returns the keyword/value connection string of the postgres database.
func (c *Cluster) DSN() string { return c.ConnString("postgres") }

// ConnString returns the keyword/value connection string of database db.
func (c *Cluster) ConnString(db string) string {
	return c.ConnStringAs(db, User, c.password)
}

// Stop shuts the server down: SIGINT (fast shutdown), then after 30 seconds
// SIGQUIT and finally SIGKILL. It returns an error when the server had
// already died or needed more than SIGINT. Stop is idempotent and safe for
// concurrent use.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopErr = c.stop()
		c.log.close()
	})
	return c.stopErr
}

func (c *Cluster) stop() error {
	select {
	case <-c.exited:
		return fmt.Errorf("embeddedpg: postgres had already exited: %v", c.waitErr)
	default:
	}
	began := time.Now()
	for _, step := range []struct {
		sig     syscall.Signal
		timeout time.Duration
	}{{syscall.SIGINT, stopTimeout}, {syscall.SIGQUIT, killTimeout}, {syscall.SIGKILL, killTimeout}} {
		if err := c.cmd.Process.Signal(step.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("embeddedpg: signal postgres: %w", err)
		}
		select {
		case <-c.exited:
			if step.sig != syscall.SIGINT {
				return fmt.Errorf("embeddedpg: postgres ignored SIGINT and needed %v to stop", step.sig)
			}
			if c.waitErr != nil {
				return fmt.Errorf("embeddedpg: postgres shutdown: %w", c.waitErr)
			}
			c.logger.Info("embedded postgres stopped", "dir", c.dir, "duration", time.Since(began).Round(time.Millisecond))
			return nil
		case <-time.After(step.timeout):
			c.logger.Warn("embedded postgres did not stop in time", "dir", c.dir, "signal", step.sig.String())
		}
	}
	return fmt.Errorf("embeddedpg: postgres (pid %d) did not exit after SIGKILL", c.cmd.Process.Pid)
}

// serverLog is where initdb and postgres write, plus a way to read back its
// end for error messages.
type serverLog struct {
	w      io.Writer
	file   *os.File    // the default log file; nil when Options.Log was given
	offset int64       // size of file before this start
	ring   *tailBuffer // the end of the output when Options.Log was given
}

// open sets up the log: Dir/postgres.log owned by acct (when non-nil), or
// dest plus an in-memory tail.
func (l *serverLog) open(dir string, dest io.Writer, acct *account) error {
	if dest != nil {
		l.ring = &tailBuffer{max: tailSize}
		// Not an *os.File, so os/exec copies through a pipe, and the ring
		// sees everything.
		l.w = io.MultiWriter(dest, l.ring)
		return nil
	}
	path := filepath.Join(dir, "postgres.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		return fmt.Errorf("embeddedpg: server log: %w", err)
	}
	if acct != nil {
		if err := f.Chown(acct.uid, acct.gid); err != nil {
			f.Close()
			return fmt.Errorf("embeddedpg: server log: %w", err)
		}
	}
	if fi, err := f.Stat(); err == nil {
		l.offset = fi.Size()
	}
	l.file, l.w = f, f
	return nil
}

// tail returns the last few KiB written since open.
func (l *serverLog) tail() string {
	if l.ring != nil {
		return l.ring.String()
	}
	if l.file == nil {
		return ""
	}
	f, err := os.Open(l.file.Name())
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", l.file.Name(), err)
	}
	defer f.Close()
	start := l.offset
	if fi, err := f.Stat(); err == nil && fi.Size()-tailSize > start {
		start = fi.Size() - tailSize
	}
	b, err := io.ReadAll(io.NewSectionReader(f, start, tailSize))
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", l.file.Name(), err)
	}
	return string(b)
}

func (l *serverLog) close() {
	if l.file != nil {
		_ = l.file.Close()
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append([]byte(nil), lastBytes(t.buf, t.max)...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(lastBytes(t.buf, t.max))
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// childEnv is the environment for initdb and postgres: ours without the PG*
// variables (PGPORT, PGDATA, PGOPTIONS…), which would change the server's
// port or settings behind our back.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// writeFileNoFollow writes a small file, refusing to follow a symlink in its
// place (the directory belongs to the postgres user).
func writeFileNoFollow(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// quoteValue quotes a keyword/value connection string value when needed.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
