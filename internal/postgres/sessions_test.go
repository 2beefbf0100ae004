package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
)

// A browser session is a token of its own kind: it is not a bearer token
// (nor the reverse); it ends after its idle time without use (use moves it
// on) and at its absolute end; signing out and disabling the account end
// it on every instance.
func TestSessionsEndIdleAtTheirEndAndWithTheAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acc := &service.Accounts{Store: b.users, SessionLife: 3 * time.Hour, SessionIdle: 30 * time.Minute}
	// Another instance: a cache of its own.
	other := func() *service.Accounts {
		u := &postgres.Users{Pool: b.pool, Ref: b.users.Ref, Cost: 4, TokenTTL: time.Hour, Now: b.clock.Now}
		return &service.Accounts{Store: u, SessionLife: 3 * time.Hour, SessionIdle: 30 * time.Minute}
	}
	tok, exp, err := acc.StartSession(b.ctx, "u-staff", "password-123456", "")
	if err != nil || !strings.HasPrefix(tok, "ccs_") || !exp.Equal(b.clock.Now().Add(3*time.Hour)) {
		t.Fatalf("session %q until %v: %v", tok, exp, err)
	}
	if a, err := acc.ActorBySession(b.ctx, tok); err != nil || a.Username != "u-staff" {
		t.Fatalf("session: %+v %v", a, err)
	}
	if _, err := acc.ActorByToken(b.ctx, tok); apperr.CodeOf(err) != "auth.token_invalid" {
		t.Fatalf("a session taken as a bearer token: %v", err)
	}
	api, _, err := acc.IssueToken(b.ctx, "u-staff", "password-123456", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.ActorBySession(b.ctx, api); apperr.CodeOf(err) != "auth.session_ended" {
		t.Fatalf("a bearer token taken as a session: %v", err)
	}

	// Used every 20 minutes, it lasts; 31 minutes without use end it.
	for range 4 {
		b.clock.Add(20 * time.Minute)
		if _, err := other().ActorBySession(b.ctx, tok); err != nil {
			t.Fatalf("in use after %v: %v", b.clock.Now(), err)
		}
	}
	b.clock.Add(31 * time.Minute)
	if _, err := other().ActorBySession(b.ctx, tok); apperr.CodeOf(err) != "auth.session_ended" {
		t.Fatalf("idle 31 minutes: %v", err)
	}

	// The absolute end holds however busy the session is.
	tok, _, err = acc.StartSession(b.ctx, "u-staff", "password-123456", "")
	if err != nil {
		t.Fatal(err)
	}
	for range 8 { // 2 h 40 min
		b.clock.Add(20 * time.Minute)
		if _, err := other().ActorBySession(b.ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	b.clock.Add(21 * time.Minute) // 3 h 1 min after sign-in
	if _, err := other().ActorBySession(b.ctx, tok); apperr.CodeOf(err) != "auth.session_ended" {
		t.Fatalf("past its absolute end: %v", err)
	}

	// Signing out ends it.
	tok, _, _ = acc.StartSession(b.ctx, "u-staff", "password-123456", "")
	if err := acc.RevokeToken(b.ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := other().ActorBySession(b.ctx, tok); apperr.CodeOf(err) != "auth.session_ended" {
		t.Fatalf("signed out: %v", err)
	}

	// Disabling the account ends it on another instance.
	tok, _, _ = acc.StartSession(b.ctx, "u-staff", "password-123456", "")
	yes := true
	if _, err := b.accounts().Update(b.ctx, b.actors["admin"], "u-staff", shipment.UserChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := other().ActorBySession(b.ctx, tok); apperr.As(err) == nil || apperr.As(err).Kind != apperr.Unauthorized {
		t.Fatalf("disabled: %v", err)
	}
}
