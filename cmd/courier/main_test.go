package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/openapitest"
	"github.com/changchun-gov/courier/internal/pgtest"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/web"
)

func TestMain(m *testing.M) {
	pgtest.Configure(postgres.PrepareTemplate(false))
	code := pgtest.Main(m)
	stopBrowser()
	os.Exit(code)
}

// lockedBuffer is an io.Writer safe for the service's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const adminPassword = "admin-password-2026"

// service is one running instance of the whole program.
type service struct {
	t      *testing.T
	base   string
	stdout *lockedBuffer
	stderr *lockedBuffer
	stop   func() int
}

// boot runs the program's run() on :0 against a fresh test database and
// waits until it listens. extra overrides environment variables.
func boot(t *testing.T, extra map[string]string) *service {
	t.Helper()
	return bootHooks(t, extra, nil)
}

// bootHooks is boot with the service's clock and delays in the test's hands.
func bootHooks(t *testing.T, extra map[string]string, h *testHooks) *service {
	t.Helper()
	db := pgtest.DB(t)
	env := map[string]string{
		// The service serves as its restricted role; migrations run as the owner.
		"DATABASE_URL":           pgtest.AsRole(t, db, postgres.ServiceRole),
		"DATABASE_OWNER_URL":     db,
		"COURIER_MIGRATE":        "1",
		"COURIER_ADDR":           "127.0.0.1:0",
		"COURIER_ADMIN_PASSWORD": adminPassword,
		"COURIER_ID_HASH_KEY":    randomKey(),
		"COURIER_DATA_KEY":       randomKey(),
		"COURIER_PASSWORD_COST":  "4",
		"COURIER_PUBLIC_URL":     "https://zwfw.example.cn",
		"COURIER_LOG_LEVEL":      "warn",
		// Tests drive runs themselves: a real slot passing mid-test must not move parcels.
		"COURIER_SCHEDULER": "off",
	}
	for k, v := range extra {
		env[k] = v
	}
	return bootEnvHooks(t, env, h)
}

var listenRe = regexp.MustCompile(`listening on (https?://\S+)`)

func bootEnv(t *testing.T, env map[string]string) *service {
	t.Helper()
	return bootEnvHooks(t, env, nil)
}

// bootEnvHooks is bootEnv with the service's clock and delays in the test's
// hands (nil: the real ones).
func bootEnvHooks(t *testing.T, env map[string]string, h *testHooks) *service {
	t.Helper()
	base := context.Background()
	if h != nil {
		base = context.WithValue(base, testHooksKey{}, h)
	}
	ctx, cancel := context.WithCancel(base)
	s := &service{t: t, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	envs.Store(s, env)
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, s.stdout, s.stderr) }()
	var once sync.Once
	code := -1
	s.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("service did not stop within 30 s")
			}
		})
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRe.FindStringSubmatch(s.stdout.String()); m != nil {
			s.base = m[1]
			return s
		}
		select {
		case c := <-done:
			done <- c // for stop, which then returns at once
			t.Fatalf("service exited with %d before listening:\n%s", c, s.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("service did not listen within 30 s:\n%s", s.stderr.String())
	return nil
}

// response is an HTTP answer with its body decoded when it is JSON.
type response struct {
	Status int
	Body   []byte
	JSON   map[string]any
}

func (r response) errCode() string {
	e, _ := r.JSON["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) str(key string) string {
	v, _ := r.JSON[key].(string)
	return v
}

func (s *service) do(method, path, token string, body any, headers ...string) response {
	s.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Body: b}
	_ = json.Unmarshal(b, &out.JSON)
	checkAPI(s.t, &openapitest.Exchange{Request: req, ReqBody: raw, Status: res.StatusCode, Header: res.Header, Body: b})
	return out
}

// checkedBase is the address of a proxy in front of s that checks every
// exchange against the API document, for clients that do not go through
// do (the README's curl walk).
func (s *service) checkedBase() string {
	s.t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := http.NewRequest(r.Method, s.base+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		checkAPI(s.t, &openapitest.Exchange{Request: out, ReqBody: body, Status: res.StatusCode, Header: res.Header, Body: b})
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(b)
	}))
	s.t.Cleanup(srv.Close)
	return srv.URL
}

// apiDoc is web/openapi.json, loaded and validated once by kin-openapi.
var apiDoc = sync.OnceValues(func() (*openapitest.Doc, error) { return openapitest.Load(web.OpenAPI) })

// checkAPI fails t when an exchange disagrees with the API document: every
// request the end-to-end tests send through do, error answers included.
func checkAPI(t testing.TB, x *openapitest.Exchange) {
	t.Helper()
	doc, err := apiDoc()
	if err != nil {
		t.Fatalf("web/openapi.json: %v", err)
	}
	if err := doc.Check(x); err != nil {
		t.Errorf("%s %s: %v", x.Request.Method, x.Request.URL.RequestURI(), err)
	}
}

func (s *service) must(want int, method, path, token string, body any, headers ...string) response {
	s.t.Helper()
	r := s.do(method, path, token, body, headers...)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

func (s *service) login(user, password string) string {
	s.t.Helper()
	r := s.must(200, "POST", "/api/v1/auth/token", "", map[string]string{"username": user, "password": password})
	return r.str("token")
}

// users creates one user per role and returns their tokens by name.
func (s *service) users() map[string]string {
	s.t.Helper()
	admin := s.login("admin", adminPassword)
	toks := map[string]string{"admin": admin}
	for name, body := range map[string]map[string]any{
		"clerk":   {"role": "clerk", "site": "D-SW"},
		"clerkGT": {"role": "clerk", "site": "D-GT"},
		"staff":   {"role": "staff", "site": "CC-WIN"},
		"staffNG": {"role": "staff", "site": "NG-HALL"},
		"lead":    {"role": "hall_lead", "site": "CC-WIN"},
		"courier": {"role": "courier"},
		"api":     {"role": "api_client", "departments": []string{"D-SW"}},
	} {
		body["username"] = "u-" + strings.ToLower(name)
		body["password"] = "password-" + name + "-1"
		s.must(201, "POST", "/api/v1/users", admin, body)
		toks[name] = s.login("u-"+strings.ToLower(name), "password-"+name+"-1")
	}
	return toks
}

func parcelBody(phone string) map[string]any {
	return map[string]any{
		"kind": "certificate", "origin_site": "D-SW",
		"destination": map[string]any{"kind": "hall", "site": "CC-WIN"},
		"applicant": map[string]any{"type": "natural", "name": "王小明", "phone": phone,
			"id_type": "resident_id", "id_number": "11010519491231002X"},
		"certificate":    map[string]any{"type": "business_licence", "number": "SW-CERT-1"},
		"application_no": fmt.Sprintf("SW-2026-%06d", nextApplication()),
	}
}

var applications struct {
	sync.Mutex
	n int
}

// nextApplication numbers the test registrations: an application number is
// registered once per origin and kind.
func nextApplication() int {
	applications.Lock()
	defer applications.Unlock()
	applications.n++
	return applications.n
}

var scanN struct {
	sync.Mutex
	n int
}

func scanID() string {
	scanN.Lock()
	defer scanN.Unlock()
	scanN.n++
	return fmt.Sprintf("e2e-%d-%d", time.Now().UnixNano(), scanN.n)
}

func (s *service) scan(token, code, action, site string, extra ...any) response {
	s.t.Helper()
	body := map[string]any{"code": code, "action": action, "scan_id": scanID()}
	if site != "" {
		body["site"] = site
	}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return s.do("POST", "/api/v1/scans", token, body)
}
