package postgres_test

import (
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
)

// An unknown username's password is checked against a hash of the
// configured cost, so it takes as long as a real user's check.
func TestDummyHashUsesTheConfiguredCost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, cost := range []int{4, 6} {
		u := &postgres.Users{Pool: b.pool, Ref: b.users.Ref, Cost: cost, TokenTTL: time.Hour, Now: b.clock.Now}
		got, err := bcrypt.Cost(u.DummyHash())
		if err != nil || got != cost {
			t.Fatalf("dummy hash cost %d (%v), want %d", got, err, cost)
		}
		if _, _, err := (&service.Accounts{Store: u}).IssueToken(b.ctx, "nobody-here", "some-password", ""); apperr.CodeOf(err) != "auth.bad_credentials" {
			t.Fatalf("unknown user: %v", err)
		}
	}
	if got, _ := bcrypt.Cost((&postgres.Users{}).DummyHash()); got != bcrypt.DefaultCost {
		t.Fatalf("unset cost: dummy hash cost %d", got)
	}
}

// Two admins taking each other's rights at once: one of them stays.
func TestConcurrentDemotionsKeepAnAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.users.Create(b.ctx, shipmentAdmin("admin2")); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 5; round++ {
		errs := make(chan error, 2)
		for _, name := range []string{"u-admin", "admin2"} {
			go func() {
				yes := true
				_, err := b.accounts().Update(b.ctx, shipment.SystemActor, name, shipmentChange(&yes))
				errs <- err
			}()
		}
		var refused int
		for i := 0; i < 2; i++ {
			if err := <-errs; apperr.CodeOf(err) == "user.last_admin" {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		var active int
		if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled`).Scan(&active); err != nil {
			t.Fatal(err)
		}
		if active != 1 || refused != 1 {
			t.Fatalf("round %d: %d active admins, %d refused", round, active, refused)
		}
		no := false
		for _, name := range []string{"u-admin", "admin2"} {
			if _, err := b.accounts().Update(b.ctx, shipment.SystemActor, name, shipmentChange(&no)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func shipmentAdmin(name string) shipment.NewUser {
	return shipment.NewUser{Username: name, Password: "second-admin-pw-1", Role: shipment.RoleAdmin}
}

func shipmentChange(disabled *bool) shipment.UserChange {
	return shipment.UserChange{Disabled: disabled}
}
