package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/postgres"
)

// Wrong passwords for admin from one address do not lock the admin out:
// the right password from another address signs in.
func TestWrongPasswordsFromOneAddressDoNotLockTheAdminOut(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PROXY_HEADER": "X-Real-IP", "COURIER_TRUSTED_PROXIES": "127.0.0.1"})
	from := func(addr, password string) response {
		return s.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "admin", "password": password}, "X-Real-IP", addr)
	}
	// In parallel: each is delayed a little, not one after another.
	var wg sync.WaitGroup
	answers := make([]response, 20)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = from("203.0.113.66", "wrong-password")
		}()
	}
	wg.Wait()
	for i, r := range answers {
		if r.Status != 401 || r.errCode() != "auth.bad_credentials" {
			t.Fatalf("wrong password %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if r := from("198.51.100.20", adminPassword); r.Status != 200 || r.str("token") == "" {
		t.Fatalf("right password from another address: %d %s", r.Status, r.Body)
	}
	// The guessing address itself is refused for admin.
	if r := from("203.0.113.66", adminPassword); r.Status != 429 || r.errCode() != "auth.too_many_attempts" {
		t.Fatalf("guessing address: %d %s", r.Status, r.Body)
	}
}

// A disabled user's tokens stop on every instance within the token cache's
// lifetime; signing in is refused; enabled again, the old tokens stay dead.
func TestDisabledUserIsCutOffOnEveryInstance(t *testing.T) {
	t.Parallel()
	a := boot(t, nil)
	b := bootEnvSameDB(t, a, nil)
	tok := a.users()
	staff := tok["staff"]
	// b resolves (and caches) the token before the account is disabled.
	b.must(200, "GET", "/api/v1/me", staff, nil)
	a.must(200, "GET", "/api/v1/me", staff, nil)

	start := time.Now()
	u := a.must(200, "PATCH", "/api/v1/users/u-staff", tok["admin"], map[string]any{"disabled": true})
	if u.JSON["disabled"] != true {
		t.Fatalf("disable: %s", u.Body)
	}
	if r := a.do("GET", "/api/v1/me", staff, nil); r.Status != 401 || r.errCode() != "auth.user_disabled" {
		t.Fatalf("token on the instance that disabled: %d %s", r.Status, r.Body)
	}
	for {
		r := b.do("GET", "/api/v1/parcels", staff, nil)
		if r.Status == 401 {
			if r.errCode() != "auth.user_disabled" {
				t.Fatalf("other instance: %s", r.Body)
			}
			break
		}
		if r.Status != 200 {
			t.Fatalf("other instance: %d %s", r.Status, r.Body)
		}
		if time.Since(start) > postgres.TokenCacheTTL+time.Second {
			t.Fatalf("the other instance still accepts the token after %v", time.Since(start))
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := b.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "u-staff", "password": "password-staff-1"})
	if r.Status != 403 || r.errCode() != "auth.user_disabled" {
		t.Fatalf("sign-in while disabled: %d %s", r.Status, r.Body)
	}
	if msg, _ := r.JSON["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "停用") {
		t.Fatalf("no Chinese message: %s", r.Body)
	}

	a.must(200, "PATCH", "/api/v1/users/u-staff", tok["admin"], map[string]any{"disabled": false})
	if r := a.do("GET", "/api/v1/me", staff, nil); r.Status != 401 || r.errCode() != "auth.token_invalid" {
		t.Fatalf("old token after enabling again: %d %s", r.Status, r.Body)
	}
	fresh := b.login("u-staff", "password-staff-1")
	b.must(200, "GET", "/api/v1/me", fresh, nil)

	// Both edits are in the audit log, by the admin, with before and after.
	audit := b.must(200, "GET", "/api/v1/audit?entity=user", tok["admin"], nil)
	var flips []string
	for _, it := range audit.JSON["items"].([]any) {
		e := it.(map[string]any)
		if e["key"] != "u-staff" || e["action"] != "update" {
			continue
		}
		before, _ := e["before"].(map[string]any)
		after, _ := e["after"].(map[string]any)
		if e["actor_username"] != "admin" || before == nil || after == nil {
			t.Fatalf("audit entry: %v", e)
		}
		flips = append(flips, fmt.Sprint(before["disabled"], "→", after["disabled"]))
	}
	if strings.Join(flips, ",") != "true→false,false→true" { // newest first
		t.Fatalf("audit of the account edits: %v\n%s", flips, audit.Body)
	}
}

// The last active admin can be neither disabled nor demoted; a refused
// change writes nothing.
func TestLastAdminCannotBeDisabledOrDemoted(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	admin := s.login("admin", adminPassword)
	for _, body := range []map[string]any{{"disabled": true}, {"role": "staff", "site": "CC-WIN"}, {"role": "courier", "disabled": true}} {
		r := s.do("PATCH", "/api/v1/users/admin", admin, body)
		if r.Status != 409 || r.errCode() != "user.last_admin" {
			t.Fatalf("%v: %d %s", body, r.Status, r.Body)
		}
	}
	s.must(200, "GET", "/api/v1/me", admin, nil)
	users := s.must(200, "GET", "/api/v1/users", admin, nil)
	if !strings.Contains(string(users.Body), `"role":"admin","disabled":false`) {
		t.Fatalf("admin changed by a refused request: %s", users.Body)
	}
	// With a second admin, one may go; then the other is the last.
	s.must(201, "POST", "/api/v1/users", admin, map[string]any{"username": "admin2", "password": "second-admin-pw-1", "role": "admin"})
	s.must(200, "PATCH", "/api/v1/users/admin", admin, map[string]any{"role": "hall_lead", "site": "CC-WIN"})
	admin2 := s.login("admin2", "second-admin-pw-1")
	if r := s.do("PATCH", "/api/v1/users/admin2", admin2, map[string]any{"disabled": true}); r.Status != 409 || r.errCode() != "user.last_admin" {
		t.Fatalf("disabling the new last admin: %d %s", r.Status, r.Body)
	}
	// The demoted admin's token now acts as a hall lead (this instance forgets at once).
	if me := s.must(200, "GET", "/api/v1/me", admin, nil); me.str("role") != "hall_lead" || me.str("site") != "CC-WIN" {
		t.Fatalf("demoted admin: %s", me.Body)
	}
	s.must(403, "GET", "/api/v1/users", admin, nil)
}

func TestAccountEditsRefuseBadInput(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	admin := tok["admin"]
	before := s.must(200, "GET", "/api/v1/users", admin, nil)
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"PATCH", "/api/v1/users/nobody", map[string]any{"disabled": true}, 404, "user.not_found"},
		{"POST", "/api/v1/users/nobody/password-reset", nil, 404, "user.not_found"},
		{"PATCH", "/api/v1/users/u-staff", map[string]any{}, 422, "user.nothing_to_change"},
		{"PATCH", "/api/v1/users/u-staff", map[string]any{"role": "hall_lead", "site": "D-SW"}, 422, "user.site_wrong_kind"},
		{"PATCH", "/api/v1/users/u-staff", map[string]any{"role": "hall_lead", "site": "CC-HUB"}, 422, "user.site_wrong_kind"},
		{"PATCH", "/api/v1/users/u-staff", map[string]any{"role": "chief"}, 422, "user.role_unknown"},
		{"PATCH", "/api/v1/users/u-courier", map[string]any{"site": "CC-WIN"}, 422, "user.site_not_allowed"},
		{"PATCH", "/api/v1/users/u-staff", map[string]any{"disabled": "yes"}, 400, "request.wrong_type"},
		{"POST", "/api/v1/users", map[string]any{"username": "weak", "password": "qwertyuiop", "role": "courier"}, 422, "user.password_common"},
		{"POST", "/api/v1/users", map[string]any{"username": "courier.zhang", "password": "courier.zhang1", "role": "courier"}, 422, "user.password_is_username"},
		{"POST", "/api/v1/users", map[string]any{"username": "short", "password": "short-pw", "role": "courier"}, 422, "user.password_weak"},
		{"PUT", "/api/v1/me/password", map[string]any{"current_password": "wrong-password", "new_password": "a-good-new-password"}, 403, "user.current_password_wrong"},
		{"PUT", "/api/v1/me/password", map[string]any{"current_password": "password-courier-1", "new_password": "1234567890"}, 422, "user.password_common"},
	} {
		r := s.do(c.method, c.path, admin, c.body)
		if c.path == "/api/v1/me/password" {
			r = s.do(c.method, c.path, tok["courier"], c.body)
		}
		if r.Status != c.status || r.errCode() != c.code {
			t.Errorf("%s %s %v: %d %s, want %d %s", c.method, c.path, c.body, r.Status, r.Body, c.status, c.code)
		}
		if msg, _ := r.JSON["error"].(map[string]any)["message"].(string); msg == "" || msg == c.code {
			t.Errorf("%s %s: no message: %s", c.method, c.path, r.Body)
		}
	}
	if after := s.must(200, "GET", "/api/v1/users", admin, nil); string(after.Body) != string(before.Body) {
		t.Fatalf("refused requests changed users:\n%s\n%s", before.Body, after.Body)
	}
	s.must(200, "GET", "/api/v1/me", tok["courier"], nil)
	s.login("u-courier", "password-courier-1")
}

// After a reset the user must set a new password when signing in; their
// tokens end at once.
func TestPasswordResetForcesANewPassword(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	r := s.must(200, "POST", "/api/v1/users/u-clerk/password-reset", tok["admin"], nil)
	temp := r.str("temporary_password")
	if len(temp) < 16 || r.JSON["must_change_password"] != true {
		t.Fatalf("reset: %s", r.Body)
	}
	if r := s.do("GET", "/api/v1/me", tok["clerk"], nil); r.Status != 401 || r.errCode() != "auth.token_invalid" {
		t.Fatalf("token after reset: %d %s", r.Status, r.Body)
	}
	signIn := func(password, newPassword string) response {
		body := map[string]string{"username": "u-clerk", "password": password}
		if newPassword != "" {
			body["new_password"] = newPassword
		}
		return s.do("POST", "/api/v1/auth/token", "", body)
	}
	if r := signIn("password-clerk-1", ""); r.Status != 401 {
		t.Fatalf("old password after reset: %d %s", r.Status, r.Body)
	}
	if r := signIn(temp, ""); r.Status != 403 || r.errCode() != "auth.password_change_required" {
		t.Fatalf("temporary password alone: %d %s", r.Status, r.Body)
	}
	for np, code := range map[string]string{"short": "user.password_weak", "password123": "user.password_common",
		"U-Clerk-x": "user.password_weak", "u-clerk1234": "user.password_is_username", temp: "user.password_unchanged"} {
		if r := signIn(temp, np); r.Status != 422 || r.errCode() != code {
			t.Errorf("new password %q: %d %s, want %s", np, r.Status, r.Body, code)
		}
	}
	if r := signIn(temp, ""); r.Status != 403 || r.errCode() != "auth.password_change_required" {
		t.Fatalf("a refused new password changed something: %d %s", r.Status, r.Body)
	}
	if r := signIn(temp, "clerk-chose-this-2027"); r.Status != 200 || r.str("token") == "" {
		t.Fatalf("with a new password: %d %s", r.Status, r.Body)
	}
	if r := signIn(temp, ""); r.Status != 401 {
		t.Fatalf("temporary password after the change: %d %s", r.Status, r.Body)
	}
	earlier := s.login("u-clerk", "clerk-chose-this-2027")
	// Changing the password while signing in ends the tokens of the old one.
	if r := signIn("clerk-chose-this-2027", "clerk-chose-again-2028"); r.Status != 200 {
		t.Fatalf("change at sign-in: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/api/v1/me", earlier, nil); r.Status != 401 {
		t.Fatalf("a token of the old password after a change at sign-in: %d %s", r.Status, r.Body)
	}
	users := s.must(200, "GET", "/api/v1/users", tok["admin"], nil)
	if !strings.Contains(string(users.Body), `"username":"u-clerk","role":"clerk","site":"D-SW","disabled":false,"must_change_password":false`) {
		t.Fatalf("users: %s", users.Body)
	}
}

// Every user changes their own password; their other tokens end, the one
// they used goes on.
func TestEveryoneChangesTheirOwnPassword(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	for name, old := range tok {
		user, pw := "u-"+strings.ToLower(name), "password-"+name+"-1"
		if name == "admin" {
			user, pw = "admin", adminPassword
		}
		other := s.login(user, pw)
		s.must(204, "PUT", "/api/v1/me/password", old, map[string]any{"current_password": pw, "new_password": "fresh-" + pw})
		s.must(200, "GET", "/api/v1/me", old, nil)
		if r := s.do("GET", "/api/v1/me", other, nil); r.Status != 401 {
			t.Errorf("%s: other token after the change: %d", name, r.Status)
		}
		if r := s.do("POST", "/api/v1/auth/token", "", map[string]string{"username": user, "password": pw}); r.Status != 401 {
			t.Errorf("%s: old password after the change: %d", name, r.Status)
		}
		s.login(user, "fresh-"+pw)
	}
	s.must(401, "PUT", "/api/v1/me/password", "", map[string]any{"current_password": "x", "new_password": "y"})
}

// A hall lead acts with staff rights at its own hall.
func TestHallLeadHasStaffRightsAtItsHall(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	if r := s.scan(tok["courier"], no, "pickup", ""); r.Status != 200 {
		t.Fatalf("pickup: %s", r.Body)
	}
	if r := s.scan(tok["lead"], no, "receive", "NG-HALL"); r.Status != 403 || r.errCode() != "scan.other_site" {
		t.Fatalf("lead at another hall: %d %s", r.Status, r.Body)
	}
	for _, a := range []struct{ action, want string }{{"receive", "arrived"}, {"shelve", "ready"}} {
		r := s.scan(tok["lead"], no, a.action, "")
		items, _ := r.JSON["items"].([]any)
		if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["status"] != a.want {
			t.Fatalf("%s by the hall lead: %d %s", a.action, r.Status, r.Body)
		}
	}
	s.must(200, "GET", "/api/v1/parcels/"+no, tok["lead"], nil)
	if r := s.scan(tok["lead"], no, "collect", "", "id_number", "11010519491231002X"); r.Status != 200 {
		t.Fatalf("collect by the hall lead: %d %s", r.Status, r.Body)
	}
}

// A stolen token does not make the account's password guessable: tries of
// the current password count as sign-ins and are refused past the limit,
// and the right one is refused with them.
func TestOwnPasswordCannotBeGuessedWithAToken(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	refused := 0
	for i := range 25 {
		r := s.do("PUT", "/api/v1/me/password", tok["clerk"], map[string]any{
			"current_password": fmt.Sprintf("guess-%02d-password", i), "new_password": "a-good-new-password"})
		switch {
		case r.Status == 403 && r.errCode() == "user.current_password_wrong":
		case r.Status == 429 && r.errCode() == "auth.too_many_attempts":
			refused++
		default:
			t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
		}
	}
	if refused == 0 {
		t.Fatal("25 wrong current passwords from one client were all tried")
	}
	if r := s.do("PUT", "/api/v1/me/password", tok["clerk"], map[string]any{
		"current_password": "password-clerk-1", "new_password": "a-good-new-password"}); r.Status != 429 {
		t.Fatalf("the right password past the limit: %d %s", r.Status, r.Body)
	}
}
