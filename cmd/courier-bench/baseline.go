package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// baselinePoolSize matches the service's default COURIER_DB_MAX_CONNS, so
// the comparison is about the handler's work, not the pool (STACK-NOTES §7:
// on two cores the pool size makes no difference anyway).
const baselinePoolSize = 16

// baselineServer is baseline B: the least a track endpoint can do with Fiber
// and pgx, one primary-key read and a small JSON answer. It runs in a
// process of its own (baselineProcess), as the service does, so both are
// reached over loopback from another process and scheduled alike.
type baselineServer struct {
	app  *fiber.App
	pool *pgxpool.Pool
	addr string
	done chan error
}

// startBaseline serves GET /t/:no on a free 127.0.0.1 port, reading the
// parcel's status from the courier database.
func startBaseline(ctx context.Context, dsn string) (*baselineServer, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = baselinePoolSize
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return nil, err
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/t/:no", func(c *fiber.Ctx) error {
		var status string
		var updated time.Time
		err := pool.QueryRow(c.UserContext(), `SELECT status, updated_at FROM parcels WHERE waybill_no=$1`,
			c.Params("no")).Scan(&status, &updated)
		if errors.Is(err, pgx.ErrNoRows) {
			return c.SendStatus(fiber.StatusNotFound)
		}
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"waybill_no": c.Params("no"), "status": status, "updated_at": updated})
	})
	s := &baselineServer{app: app, pool: pool, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- app.Listener(ln) }()
	return s, nil
}

// stop shuts the server down and closes its pool.
func (s *baselineServer) stop() error {
	err := s.app.ShutdownWithTimeout(5 * time.Second)
	<-s.done
	s.pool.Close()
	return err
}

// baselineEnv names the database a child serving baseline B reads.
const baselineEnv = "COURIER_BENCH_BASELINE_DSN"

// baselineComm is the command name of baseline B's process, so /proc tells
// its CPU apart from the load generator's.
const baselineComm = "bare-baseline"

// serveBaselineChild is the bench re-executed as baseline B: it serves,
// prints its address on stdout and stops when stdin closes.
func serveBaselineChild(dsn string) int {
	ctx := context.Background()
	s, err := startBaseline(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare baseline:", err)
		return 1
	}
	fmt.Println(s.addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "bare baseline:", err)
		return 1
	}
	return 0
}

// baselineProcess is baseline B running as a child process.
type baselineProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startBaselineProcess copies this executable into dir as baselineComm and
// runs it as baseline B over dsn.
func startBaselineProcess(dir, dsn string, procs int) (*baselineProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, baselineComm)
	if err := copyFile(self, bin); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(serverEnv(procs), baselineEnv+"="+dsn)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("bare baseline did not start: %w", err)
	}
	return &baselineProcess{cmd: cmd, stdin: stdin, addr: strings.TrimSpace(line)}, nil
}

// stop ends the child and waits for it.
func (p *baselineProcess) stop() error {
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		return <-done
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
