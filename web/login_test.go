package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/i18n"
)

// memThrottle counts like postgres.Throttle within one window, in memory.
type memThrottle struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *memThrottle) Fail(_ context.Context, scope, client string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n[scope+":"+client]++
	return m.n[scope+":"+client], nil
}

func (m *memThrottle) Failures(_ context.Context, scope, client string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[scope+":"+client], nil
}

func (m *memThrottle) Forgive(_ context.Context, scope, client string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n[scope+":"+client] > 0 {
		m.n[scope+":"+client]--
	}
	return nil
}

// passwordAccounts knows every user, each with the password "right-password".
type passwordAccounts struct{ roleAccounts }

func (passwordAccounts) IssueToken(_ context.Context, _, password, _ string) (string, time.Time, error) {
	if password != "right-password" {
		return "", time.Time{}, apperr.New(apperr.Unauthorized, "auth.bad_credentials")
	}
	return "cct_x", time.Now().Add(time.Hour), nil
}

// Guesses for one user spread over many addresses delay that user's
// sign-ins, at most 2 s, and refuse nobody; one address is refused only for
// the users it failed for.
func TestSignInDelaysSpreadGuessingAndRefusesOnlyTheGuesser(t *testing.T) {
	var mu sync.Mutex
	var slept []time.Duration
	app, err := New(Deps{Catalog: i18n.MustLoad(), Accounts: passwordAccounts{}, Throttle: &memThrottle{n: map[string]int{}},
		ProxyHeader: "X-Real-IP", TrustedProxies: []string{"0.0.0.0/0", "::/0"},
		Sleep: func(_ context.Context, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			slept = append(slept, d)
		}})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(addr, user, password string) int {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/auth/token",
			strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Real-IP", addr)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	lastSleep := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		if len(slept) == 0 {
			return 0
		}
		return slept[len(slept)-1]
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(slept) }

	// 100 wrong passwords for admin, each from its own address.
	for i := 0; i < 100; i++ {
		before := count()
		if st := signIn(fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), "admin", "wrong"); st != 401 {
			t.Fatalf("guess %d from a fresh address answered %d, want 401", i+1, st)
		}
		switch {
		case i < 10 && count() != before:
			t.Fatalf("guess %d was delayed %v: the first 10 are free", i+1, lastSleep())
		case i >= 11 && (count() == before || lastSleep() <= 0):
			t.Fatalf("guess %d was not delayed", i+1)
		}
		if d := lastSleep(); d > 2*time.Second {
			t.Fatalf("guess %d delayed %v, more than 2 s", i+1, d)
		}
	}
	if d := lastSleep(); d != 2*time.Second {
		t.Fatalf("after 100 guesses the delay is %v, want the 2 s cap", d)
	}
	// The admin, from an address of their own, gets in, delayed, not refused.
	before := count()
	if st := signIn("192.0.2.7", "admin", "right-password"); st != 200 {
		t.Fatalf("right password from a clean address: %d", st)
	}
	if count() != before+1 || lastSleep() != 2*time.Second {
		t.Fatalf("right password delayed %v", lastSleep())
	}

	// One address: 20 wrong passwords for one user, then refused for that user only.
	for i := 0; i < 20; i++ {
		if st := signIn("198.51.100.1", "clerk.sw", "wrong"); st != 401 {
			t.Fatalf("wrong password %d: %d", i+1, st)
		}
	}
	if st := signIn("198.51.100.1", "clerk.sw", "right-password"); st != 429 {
		t.Fatalf("21st try from the guessing address: %d, want 429", st)
	}
	if st := signIn("198.51.100.2", "clerk.sw", "right-password"); st != 200 {
		t.Fatalf("the user from another address: %d", st)
	}
	// One address failing over many users: past 100 it is refused for the
	// users it failed for, never for one it has not.
	for i := 0; i < 100; i++ {
		if st := signIn("198.51.100.9", fmt.Sprintf("user%d", i), "wrong"); st != 401 {
			t.Fatalf("stuffing %d: %d", i, st)
		}
	}
	if st := signIn("198.51.100.9", "user0", "right-password"); st != 429 {
		t.Fatalf("address over its limit, user it failed for: %d, want 429", st)
	}
	if st := signIn("198.51.100.9", "staff.win", "right-password"); st != 200 {
		t.Fatalf("address over its limit, user it never failed for: %d, want 200", st)
	}
}

func TestLoginDelay(t *testing.T) {
	for _, c := range []struct {
		failures int
		want     time.Duration
	}{{0, 0}, {10, 0}, {11, 100 * time.Millisecond}, {15, 500 * time.Millisecond}, {30, 2 * time.Second}, {10000, 2 * time.Second}} {
		if got := loginDelay(c.failures, 10, 2*time.Second); got != c.want {
			t.Errorf("loginDelay(%d) = %v, want %v", c.failures, got, c.want)
		}
	}
}
