package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Users keeps accounts and API tokens. Passwords are bcrypt hashes; tokens
// are stored only as SHA-256 hashes.
type Users struct {
	Pool     *pgxpool.Pool
	Ref      *RefData
	Cost     int           // bcrypt cost
	TokenTTL time.Duration // lifetime of an API token
	Now      func() time.Time

	cache  sync.Map // [32]byte token hash → cachedActor
	cached atomic.Int64

	dummyOnce sync.Once
	dummy     []byte
}

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,63}$`)

// Validate checks a new user against the roles and sites.
func (u *Users) validate(n *shipment.NewUser) error {
	n.Username = strings.ToLower(strings.TrimSpace(n.Username))
	if !usernameRe.MatchString(n.Username) {
		return apperr.New(apperr.Invalid, "user.username_invalid").OnField("username")
	}
	if err := shipment.CheckPassword(n.Username, n.Password, "password"); err != nil {
		return err
	}
	return u.validateRole(n)
}

// validateRole checks the role, site and departments of an account.
func (u *Users) validateRole(n *shipment.NewUser) error {
	if !n.Role.Valid() {
		return apperr.New(apperr.Invalid, "user.role_unknown").OnField("role").With("role", string(n.Role))
	}
	n.Site = strings.TrimSpace(n.Site)
	if n.Role.HasSite() {
		if n.Site == "" {
			return apperr.New(apperr.Invalid, "user.site_required").OnField("site")
		}
		k, ok := u.Ref.SiteKind(n.Site)
		if !ok {
			return apperr.New(apperr.Invalid, "site.unknown").OnField("site").With("site", n.Site)
		}
		if (n.Role == shipment.RoleClerk) != (k == shipment.SiteDepartment) ||
			(n.Role == shipment.RoleHallLead && k != shipment.SiteHall) {
			return apperr.New(apperr.Invalid, "user.site_wrong_kind").OnField("site")
		}
	} else if n.Site != "" {
		return apperr.New(apperr.Invalid, "user.site_not_allowed").OnField("site")
	}
	if n.Role == shipment.RoleAPIClient {
		if len(n.Departments) == 0 {
			return apperr.New(apperr.Invalid, "user.departments_required").OnField("departments")
		}
		for _, d := range n.Departments {
			if k, ok := u.Ref.SiteKind(d); !ok || k != shipment.SiteDepartment {
				return apperr.New(apperr.Invalid, "site.unknown").OnField("departments").With("site", d)
			}
		}
	} else {
		n.Departments = nil
	}
	return nil
}

// Create adds a user, as the system. Errors: those of CreateBy.
func (u *Users) Create(ctx context.Context, n shipment.NewUser) (shipment.User, error) {
	return u.CreateBy(ctx, shipment.SystemActor, n)
}

// CreateBy adds a user, audited as by's (without the password). Errors:
// user.* (invalid), site.unknown, user.exists (conflict).
func (u *Users) CreateBy(ctx context.Context, by shipment.Actor, n shipment.NewUser) (shipment.User, error) {
	if err := u.validate(&n); err != nil {
		return shipment.User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(n.Password), u.cost())
	if err != nil {
		return shipment.User{}, fmt.Errorf("users: hash: %w", err)
	}
	var site *string
	if n.Site != "" {
		site = &n.Site
	}
	if n.Departments == nil {
		n.Departments = []string{}
	}
	out := shipment.User{Username: n.Username, Role: n.Role, Site: n.Site, Departments: n.Departments}
	now := u.Now().UTC()
	err = WithTx(ctx, u.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, site_code, departments, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
			n.Username, string(hash), n.Role, site, n.Departments, now).Scan(&out.ID, &out.CreatedAt); err != nil {
			return err
		}
		out.CreatedAt = tracking.Local(out.CreatedAt)
		return RecordChange(ctx, tx, now, Change{By: by, Entity: EntityUser, Key: n.Username, After: out})
	})
	if isUnique(err, "") {
		return shipment.User{}, apperr.New(apperr.Conflict, "user.exists").OnField("username").With("username", n.Username)
	}
	if err != nil {
		return shipment.User{}, translate(err, "user")
	}
	return out, nil
}

func (u *Users) cost() int {
	if u.Cost == 0 {
		return bcrypt.DefaultCost
	}
	return u.Cost
}

// EnsureAdmin creates the admin user when absent. With an empty password it
// generates one and returns it (to be printed once); created reports whether
// the account was made now.
func (u *Users) EnsureAdmin(ctx context.Context, password string) (generated string, created bool, err error) {
	var exists bool
	if err := u.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = 'admin')`).Scan(&exists); err != nil {
		return "", false, fmt.Errorf("users: %w", err)
	}
	if exists {
		return "", false, nil
	}
	if password == "" {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return "", false, err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
		generated = password
	}
	_, err = u.Create(ctx, shipment.NewUser{Username: "admin", Password: password, Role: shipment.RoleAdmin})
	if apperr.CodeOf(err) == "user.exists" {
		return "", false, nil // another instance made it first
	}
	if err != nil {
		return "", false, err
	}
	return generated, true, nil
}

// DummyHash is the hash an unknown username's password is checked against,
// so that the answer takes as long as for a real user: made once, at the
// configured cost.
func (u *Users) DummyHash() []byte {
	u.dummyOnce.Do(func() {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		h, err := bcrypt.GenerateFromPassword([]byte(base64.RawURLEncoding.EncodeToString(b)), u.cost())
		if err != nil {
			panic(err) // only for a cost outside bcrypt's range, refused by the configuration
		}
		u.dummy = h
	})
	return u.dummy
}

// IssueToken checks a username and password and returns a new bearer token.
// After a password reset the request must carry newPassword, which becomes
// the password (checked by the policy); it may be given at any sign-in.
//
// Errors: auth.bad_credentials (unauthorized); auth.user_disabled,
// auth.password_change_required (forbidden, only after the password
// matched); the codes of shipment.CheckPassword on new_password.
func (u *Users) IssueToken(ctx context.Context, username, password, newPassword string) (token string, expires time.Time, err error) {
	var id int64
	var hash string
	var disabled, mustChange bool
	name := strings.ToLower(strings.TrimSpace(username))
	err = u.Pool.QueryRow(ctx, `SELECT id, password_hash, disabled, must_change_password FROM users WHERE username = $1`,
		name).Scan(&id, &hash, &disabled, &mustChange)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the same time as a real check, so timing tells nothing.
		_ = bcrypt.CompareHashAndPassword(u.DummyHash(), []byte(password))
		return "", time.Time{}, apperr.New(apperr.Unauthorized, "auth.bad_credentials")
	}
	if err != nil {
		return "", time.Time{}, translate(err, "user")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", time.Time{}, apperr.New(apperr.Unauthorized, "auth.bad_credentials")
	}
	if disabled {
		return "", time.Time{}, apperr.New(apperr.Forbidden, "auth.user_disabled")
	}
	if newPassword != "" {
		if err := u.setPassword(ctx, id, name, hash, newPassword, "new_password"); err != nil {
			return "", time.Time{}, err
		}
		// A new password ends every token of the old one, as a change
		// through PUT /me/password does.
		if err := u.revokeAll(ctx, u.Pool, id, nil); err != nil {
			return "", time.Time{}, err
		}
	} else if mustChange {
		return "", time.Time{}, apperr.New(apperr.Forbidden, "auth.password_change_required").OnField("new_password")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, err
	}
	token = "cct_" + base64.RawURLEncoding.EncodeToString(b)
	now := u.Now().UTC()
	expires = now.Add(u.TokenTTL)
	sum := sha256.Sum256([]byte(token))
	if _, err := u.Pool.Exec(ctx, `INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sum[:], id, now, expires); err != nil {
		return "", time.Time{}, translate(err, "token")
	}
	return token, expires, nil
}

// setPassword checks a new password against the policy and stores it,
// clearing a reset, unless the password changed meanwhile (oldHash).
func (u *Users) setPassword(ctx context.Context, id int64, username, oldHash, password, field string) error {
	if err := shipment.CheckPassword(username, password, field); err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(oldHash), []byte(password)) == nil {
		return apperr.New(apperr.Invalid, "user.password_unchanged").OnField(field)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), u.cost())
	if err != nil {
		return fmt.Errorf("users: hash: %w", err)
	}
	tag, err := u.Pool.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = false, updated_at = $4
		WHERE id = $1 AND password_hash = $3`, id, string(h), oldHash, u.Now().UTC())
	if err != nil {
		return translate(err, "user")
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.Conflict, "user.changed_meanwhile")
	}
	return nil
}

// ChangePassword sets the actor's own password after checking the current
// one; every other token of theirs stops working (keepToken, the one the
// request came with, goes on).
//
// Errors: user.current_password_wrong (forbidden: the token is good, so
// not 401) on a wrong current password; the codes of shipment.CheckPassword
// on new_password.
func (u *Users) ChangePassword(ctx context.Context, a shipment.Actor, keepToken, current, password string) error {
	var hash string
	if err := u.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1 AND NOT disabled`, a.ID).Scan(&hash); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.Unauthorized, "auth.token_invalid")
		}
		return translate(err, "user")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(current)) != nil {
		return apperr.New(apperr.Forbidden, "user.current_password_wrong").OnField("current_password")
	}
	if err := u.setPassword(ctx, a.ID, a.Username, hash, password, "new_password"); err != nil {
		return err
	}
	keep := sha256.Sum256([]byte(keepToken))
	return u.revokeAll(ctx, u.Pool, a.ID, keep[:])
}

// ResetPassword gives a user a new random password, to be passed on to
// them, and ends every token of theirs: signing in with it answers
// auth.password_change_required until the request carries new_password.
//
// Errors: user.not_found.
func (u *Users) ResetPassword(ctx context.Context, by shipment.Actor, username string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	temp := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	h, err := bcrypt.GenerateFromPassword([]byte(temp), u.cost())
	if err != nil {
		return "", fmt.Errorf("users: hash: %w", err)
	}
	err = WithTx(ctx, u.Pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $2, must_change_password = true, updated_at = $3
			WHERE username = $1 RETURNING id`, strings.ToLower(strings.TrimSpace(username)), string(h), u.Now().UTC()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "user.not_found").With("username", username)
		}
		if err != nil {
			return translate(err, "user")
		}
		if err := u.revokeAll(ctx, tx, id, nil); err != nil {
			return err
		}
		name := strings.ToLower(strings.TrimSpace(username))
		return RecordChange(ctx, tx, u.Now().UTC(), Change{By: by, Entity: EntityUser, Key: name,
			Before: map[string]any{"username": name}, After: map[string]any{"username": name, "password_reset": true}})
	})
	if err != nil {
		return "", err
	}
	return temp, nil
}

// Update applies an administrator's change to an account. Disabling stops
// every token of the user (at once on this instance, within TokenCacheTTL
// on the others); re-enabling does not bring them back. The last active
// administrator can be neither disabled nor given another role.
//
// Errors: user.not_found; user.last_admin (conflict); user.nothing_to_change
// and the role and site codes of Create (invalid).
func (u *Users) Update(ctx context.Context, by shipment.Actor, username string, ch shipment.UserChange) (shipment.User, error) {
	if ch.Disabled == nil && ch.Role == nil && ch.Site == nil && ch.Departments == nil {
		return shipment.User{}, apperr.New(apperr.Invalid, "user.nothing_to_change")
	}
	var out shipment.User
	err := WithTx(ctx, u.Pool, func(tx pgx.Tx) error {
		if (ch.Disabled != nil && *ch.Disabled) || (ch.Role != nil && *ch.Role != shipment.RoleAdmin) {
			// The change may take an admin's rights: lock every active
			// admin first, in one order, so that two admins taking each
			// other's rights at once cannot both succeed (nor deadlock).
			if _, err := tx.Exec(ctx, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE`); err != nil {
				return translate(err, "user")
			}
		}
		var site *string
		err := tx.QueryRow(ctx, `SELECT id, username, role, site_code, departments, disabled, must_change_password, created_at
			FROM users WHERE username = $1 FOR UPDATE`, strings.ToLower(strings.TrimSpace(username))).
			Scan(&out.ID, &out.Username, &out.Role, &site, &out.Departments, &out.Disabled, &out.MustChangePassword, &out.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "user.not_found").With("username", username)
		}
		if err != nil {
			return translate(err, "user")
		}
		if site != nil {
			out.Site = *site
		}
		before := out
		before.CreatedAt = tracking.Local(before.CreatedAt)
		wasActiveAdmin := out.Role == shipment.RoleAdmin && !out.Disabled
		n := shipment.NewUser{Username: out.Username, Role: out.Role, Site: out.Site, Departments: out.Departments}
		if ch.Role != nil {
			n.Role = *ch.Role
			if !n.Role.HasSite() {
				n.Site = ""
			}
			if n.Role != shipment.RoleAPIClient {
				n.Departments = nil
			}
		}
		if ch.Site != nil {
			n.Site = *ch.Site
		}
		if ch.Departments != nil {
			n.Departments = *ch.Departments
		}
		if err := u.validateRole(&n); err != nil {
			return err
		}
		disabled := out.Disabled
		if ch.Disabled != nil {
			disabled = *ch.Disabled
		}
		if wasActiveAdmin && (disabled || n.Role != shipment.RoleAdmin) {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1`,
				out.ID).Scan(&others); err != nil {
				return translate(err, "user")
			}
			if others == 0 {
				return apperr.New(apperr.Conflict, "user.last_admin").With("username", out.Username)
			}
		}
		var newSite *string
		if n.Site != "" {
			newSite = &n.Site
		}
		if n.Departments == nil {
			n.Departments = []string{}
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET role = $2, site_code = $3, departments = $4, disabled = $5, updated_at = $6
			WHERE id = $1`, out.ID, n.Role, newSite, n.Departments, disabled, u.Now().UTC()); err != nil {
			return translate(err, "user")
		}
		if out.Disabled && !disabled {
			// While disabled, the user's tokens answer auth.user_disabled;
			// enabled again, none of them returns.
			if err := u.revokeAll(ctx, tx, out.ID, nil); err != nil {
				return err
			}
		}
		out.Role, out.Site, out.Departments, out.Disabled = n.Role, n.Site, n.Departments, disabled
		after := out
		after.CreatedAt = before.CreatedAt
		return RecordChange(ctx, tx, u.Now().UTC(), Change{By: by, Entity: EntityUser, Key: out.Username,
			Before: before, After: after})
	})
	if err != nil {
		return shipment.User{}, err
	}
	u.forget(out.ID)
	out.CreatedAt = tracking.Local(out.CreatedAt)
	return out, nil
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// revokeAll deletes every token of a user but keep (nil: none kept) and
// forgets the user's tokens this instance cached.
func (u *Users) revokeAll(ctx context.Context, db execer, userID int64, keep []byte) error {
	if keep == nil {
		keep = []byte{}
	}
	if _, err := db.Exec(ctx, `DELETE FROM api_tokens WHERE user_id = $1 AND token_hash <> $2`, userID, keep); err != nil {
		return translate(err, "token")
	}
	u.forget(userID)
	return nil
}

// forget drops this instance's cached tokens of a user. Other instances
// ask the database again within TokenCacheTTL.
func (u *Users) forget(userID int64) {
	u.cache.Range(func(k, v any) bool {
		if v.(cachedActor).actor.ID == userID {
			u.cache.Delete(k)
		}
		return true
	})
}

// TokenCacheTTL is how long an instance trusts a token it has resolved
// without asking the database again: a revoked token or disabled user may
// still work for this long on other instances.
const TokenCacheTTL = 5 * time.Second

type cachedActor struct {
	actor   shipment.Actor
	expires time.Time
}

// ActorByToken resolves a bearer token. Errors: auth.token_invalid,
// auth.user_disabled (unauthorized).
func (u *Users) ActorByToken(ctx context.Context, token string) (shipment.Actor, error) {
	if !strings.HasPrefix(token, "cct_") || len(token) > 100 {
		return shipment.Actor{}, apperr.New(apperr.Unauthorized, "auth.token_invalid")
	}
	sum := sha256.Sum256([]byte(token))
	now := time.Now()
	if v, ok := u.cache.Load(sum); ok {
		if c := v.(cachedActor); now.Before(c.expires) {
			return c.actor, nil
		}
		u.cache.Delete(sum)
	}
	a, err := u.actorByHash(ctx, sum[:])
	if err != nil {
		return a, err
	}
	if u.cached.Add(1) > 10000 {
		u.cache.Clear()
		u.cached.Store(0)
	}
	u.cache.Store(sum, cachedActor{actor: a, expires: now.Add(TokenCacheTTL)})
	return a, nil
}

func (u *Users) actorByHash(ctx context.Context, sum []byte) (shipment.Actor, error) {
	var a shipment.Actor
	var site *string
	var disabled bool
	err := u.Pool.QueryRow(ctx, `SELECT u.id, u.username, u.role, u.site_code, u.departments, u.disabled
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.expires_at > $2`, sum, u.Now().UTC()).
		Scan(&a.ID, &a.Username, &a.Role, &site, &a.Departments, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return shipment.Actor{}, apperr.New(apperr.Unauthorized, "auth.token_invalid")
	}
	if err != nil {
		return shipment.Actor{}, translate(err, "token")
	}
	if disabled {
		// Tokens stay while the account is disabled (deleted when it is
		// enabled again), so their holder is told why.
		return shipment.Actor{}, apperr.New(apperr.Unauthorized, "auth.user_disabled")
	}
	if site != nil {
		a.Site = *site
	}
	return a, nil
}

// RevokeToken deletes a token (sign out).
func (u *Users) RevokeToken(ctx context.Context, token string) error {
	sum := sha256.Sum256([]byte(token))
	u.cache.Delete(sum)
	_, err := u.Pool.Exec(ctx, `DELETE FROM api_tokens WHERE token_hash = $1`, sum[:])
	return translate(err, "token")
}

// List returns every user.
func (u *Users) List(ctx context.Context) ([]shipment.User, error) {
	rows, err := u.Pool.Query(ctx, `SELECT id, username, role, coalesce(site_code, ''), departments, disabled,
		must_change_password, created_at FROM users ORDER BY id`)
	if err != nil {
		return nil, translate(err, "user")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shipment.User, error) {
		var x shipment.User
		err := r.Scan(&x.ID, &x.Username, &x.Role, &x.Site, &x.Departments, &x.Disabled, &x.MustChangePassword, &x.CreatedAt)
		x.CreatedAt = tracking.Local(x.CreatedAt)
		return x, err
	})
	return out, translate(err, "user")
}
