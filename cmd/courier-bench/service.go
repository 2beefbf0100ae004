package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/valyala/fasthttp"
)

const (
	// listeningPrefix starts the line the courier prints once it serves.
	listeningPrefix = "courier: listening on http://"
	startTimeout    = 90 * time.Second
	stopTimeout     = 15 * time.Second
)

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the go command on PATH?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run courier-bench from inside the courier module (go run ./cmd/courier-bench)")
	}
	return filepath.Dir(gomod), nil
}

// buildFromTree compiles the courier from this working tree into the
// bench's work directory and returns the binary. Done first: compiling
// must not overlap any timed run.
func (b *bench) buildFromTree(ctx context.Context) (string, error) {
	modRoot, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(b.workDir, "courier")
	b.logf("building %s from %s", bin, modRoot)
	return bin, buildCourier(ctx, modRoot, bin)
}

// buildCourier compiles ./cmd/courier of the module in modRoot to out.
func buildCourier(ctx context.Context, modRoot, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/courier")
	cmd.Dir = modRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/courier: %w\n%s", err, b)
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// service is the courier subprocess.
type service struct {
	cmd           *exec.Cmd
	addr          string // 127.0.0.1:port
	adminPassword string
	pushToken     string // the push endpoints' token
	logPath       string
	logFile       *os.File
	exited        chan struct{} // closed when the process has exited
	waitErr       error
}

// startService starts the courier binary on databaseURL with fresh keys and
// a fresh admin password, and returns once it prints its listening line and
// /readyz answers 200.
func startService(ctx context.Context, bin, workDir, databaseURL string, procs int) (*service, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &service{adminPassword: "bench-" + randomHex(12), logPath: filepath.Join(workDir, "courier.log"),
		exited: make(chan struct{}), pushToken: randomHex(16)}
	if s.logFile, err = os.Create(s.logPath); err != nil {
		return nil, err
	}
	// The service serves as its restricted role (which the first migration
	// would make without a login); migrations run as the owner.
	servicePassword := randomHex(16)
	if err := withConn(ctx, databaseURL, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'courier_service') THEN CREATE ROLE courier_service; END IF;
		END $$`)
		if err == nil {
			_, err = conn.Exec(ctx, `ALTER ROLE courier_service LOGIN PASSWORD '`+servicePassword+`'`)
		}
		return err
	}); err != nil {
		s.logFile.Close()
		return nil, fmt.Errorf("the service's role: %w", err)
	}
	env := []string{
		"DATABASE_URL=" + databaseURL + " user=courier_service password=" + servicePassword,
		"DATABASE_OWNER_URL=" + databaseURL,
		"COURIER_MIGRATE=1",
		"COURIER_ADDR=127.0.0.1:" + fmt.Sprint(port),
		"COURIER_ADMIN_PASSWORD=" + s.adminPassword,
		"COURIER_ID_HASH_KEY=" + randomHex(32),
		"COURIER_DATA_KEY=" + randomHex(32),
		"COURIER_PASSWORD_COST=4",
		"COURIER_LOG_LEVEL=warn",
		"COURIER_TRACK_FREE_FAILURES=100000",
		"COURIER_DATA_DIR=" + filepath.Join(workDir, "courier-data"),
		// The courier simulator books the runs; its own route plays in
		// real time (nothing of it comes during a bench), the bench pushes.
		"COURIER_COURIER_SIM=on",
		"COURIER_SIM_SPEED=1",
		"COURIER_PUSH_TOKEN=" + s.pushToken,
	}
	// Our environment minus any configuration of the service's own.
	for _, kv := range serverEnv(procs) {
		if !strings.HasPrefix(kv, "COURIER_") && !strings.HasPrefix(kv, "DATABASE_") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin)
	cmd.Dir = workDir
	cmd.Env = env
	cmd.Stderr = s.logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.logFile.Close()
		return nil, err
	}
	// Its own process group, so a Ctrl-C reaches only us and we stop it in
	// order; killed when we die (Linux).
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		s.logFile.Close()
		return nil, fmt.Errorf("start courier: %w", err)
	}
	s.cmd = cmd

	// Copy stdout to the log, watching for the listening line. The pipe
	// reaches EOF when the process exits, after which Wait may run.
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.logFile, line)
			if addr, ok := strings.CutPrefix(line, listeningPrefix); ok {
				select {
				case listening <- strings.TrimSpace(addr):
				default:
				}
			}
		}
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	fail := func(err error) (*service, error) {
		_ = s.stop()
		return nil, fmt.Errorf("%w\ncourier log (%s):\n%s", err, s.logPath, tail(s.logPath, 3000))
	}
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case s.addr = <-listening:
	case <-s.exited:
		return fail(fmt.Errorf("courier exited during start: %v", s.waitErr))
	case <-timer.C:
		return fail(fmt.Errorf("courier did not print %q within %s", listeningPrefix, startTimeout))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if host, _, err := net.SplitHostPort(s.addr); err != nil || host != "127.0.0.1" {
		return fail(fmt.Errorf("courier listens on %q, want 127.0.0.1", s.addr))
	}
	hc := newHostClient(s.addr, 1)
	for {
		status, _, err := doRequest(hc, "GET", "http://"+s.addr+"/readyz", "", nil)
		if err == nil && status == fasthttp.StatusOK {
			return s, nil
		}
		select {
		case <-s.exited:
			return fail(fmt.Errorf("courier exited during start: %v", s.waitErr))
		case <-timer.C:
			return fail(fmt.Errorf("/readyz did not answer 200 within %s (last: %d %v)", startTimeout, status, err))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *service) pid() int { return s.cmd.Process.Pid }

// alive returns an error when the service has exited.
func (s *service) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("courier exited during the run: %v\n%s", s.waitErr, tail(s.logPath, 3000))
	default:
		return nil
	}
}

// stop sends SIGTERM (the service shuts down gracefully) and SIGKILL after
// stopTimeout. It is safe to call more than once.
func (s *service) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	defer s.logFile.Close()
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("did not stop within %s of SIGTERM; killed", stopTimeout)
}

// tail returns the last n bytes of the file at path.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	off := max(fi.Size()-n, 0)
	b := make([]byte, fi.Size()-off)
	_, _ = f.ReadAt(b, off)
	return string(b)
}

// newHostClient returns a keep-alive client for one 127.0.0.1 address with
// at most conns connections.
func newHostClient(addr string, conns int) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                     addr,
		MaxConns:                 conns,
		MaxConnWaitTimeout:       10 * time.Second,
		MaxIdleConnDuration:      time.Minute,
		ReadTimeout:              10 * time.Second,
		WriteTimeout:             10 * time.Second,
		NoDefaultUserAgentHeader: true,
	}
}

// doRequest sends one request and returns the status and a copy of the body.
func doRequest(hc *fasthttp.HostClient, method, url, token string, body []byte) (int, []byte, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(url)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBody(body)
	}
	if err := hc.Do(req, resp); err != nil {
		return 0, nil, err
	}
	return resp.StatusCode(), append([]byte(nil), resp.Body()...), nil
}

// api calls the service's JSON API for the set-up steps.
type api struct {
	hc   *fasthttp.HostClient
	base string
}

func newAPI(addr string) *api { return &api{hc: newHostClient(addr, 4), base: "http://" + addr} }

// call POSTs in as JSON and decodes a want-status answer into out.
func (a *api) call(ctx context.Context, path, token string, in any, want int, out any) error {
	return a.send(ctx, "POST", path, token, in, want, out)
}

// send sends in as JSON with method and decodes a want-status answer into out.
func (a *api) send(ctx context.Context, method, path, token string, in any, want int, out any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	status, resp, err := doRequest(a.hc, method, a.base+path, token, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, status, want, truncate(resp, 300))
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// token signs in and returns a bearer token.
func (a *api) token(ctx context.Context, username, password string) (string, error) {
	var r struct {
		Token string `json:"token"`
	}
	err := a.call(ctx, "/api/v1/auth/token", "", map[string]string{"username": username, "password": password},
		fasthttp.StatusOK, &r)
	if err == nil && r.Token == "" {
		err = errors.New("sign-in answered no token")
	}
	return r.Token, err
}

// createUserAndSignIn creates a user with a random password (as admin) and
// signs in as it; site is the user's site, or "" for roles without one.
func (a *api) createUserAndSignIn(ctx context.Context, adminToken, username, role, site string) (string, error) {
	password := "bench-" + randomHex(12)
	u := map[string]string{"username": username, "password": password, "role": role}
	if site != "" {
		u["site"] = site
	}
	err := a.call(ctx, "/api/v1/users", adminToken, u, fasthttp.StatusCreated, nil)
	if err != nil {
		return "", fmt.Errorf("create user %s: %w", username, err)
	}
	tok, err := a.token(ctx, username, password)
	if err != nil {
		return "", fmt.Errorf("sign in as %s: %w", username, err)
	}
	return tok, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// serverEnv is this process's environment for a Go server it starts, with
// GOMAXPROCS set to procs (Go's default when 0).
func serverEnv(procs int) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	if procs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	return env
}
