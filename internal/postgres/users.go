package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/service"
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

// The Users are the store of service.Accounts.
var _ service.AccountStore = (*Users)(nil)

// Create adds an account as the system (the first administrator, tests),
// checked as service.Accounts checks an administrator's (shipment.CheckNewUser).
// Errors: those of CheckNewUser, user.exists (conflict).
func (u *Users) Create(ctx context.Context, n shipment.NewUser) (shipment.User, error) {
	if err := shipment.CheckNewUser(&n, u.Ref.SiteKind); err != nil {
		return shipment.User{}, err
	}
	return u.CreateUser(ctx, shipment.SystemActor, n)
}

// CreateUser adds a checked account, audited as by's (without the
// password). Errors: user.exists (conflict).
func (u *Users) CreateUser(ctx context.Context, by shipment.Actor, n shipment.NewUser) (shipment.User, error) {
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
	out := shipment.User{Username: n.Username, Role: n.Role, Site: n.Site, Departments: n.Departments, Carrier: n.Carrier}
	now := u.Now().UTC()
	err = WithTx(ctx, u.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, site_code, departments, carrier, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
			n.Username, string(hash), n.Role, site, n.Departments, n.Carrier, now).Scan(&out.ID, &out.CreatedAt); err != nil {
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

// IssueToken checks a username and password and, once the password
// matched, asks decide (shipment.DecideSignIn) whether the sign-in goes on
// and whether newPassword becomes the password (checked by the policy);
// then it returns a new bearer token.
//
// Errors: auth.bad_credentials (unauthorized); those of decide (only after
// the password matched); the codes of shipment.CheckPassword on
// new_password.
func (u *Users) IssueToken(ctx context.Context, username, password, newPassword string,
	decide func(shipment.SignIn) (setPassword bool, err error)) (token string, expires time.Time, err error) {
	id, err := u.signIn(ctx, username, password, newPassword, decide)
	if err != nil {
		return "", time.Time{}, err
	}
	return u.newToken(ctx, id, apiTokenPrefix, u.TokenTTL, 0)
}

// StartSession signs in as IssueToken does and returns a browser session:
// a token (prefix ccs_, never taken as a bearer token) that ends at
// expires, or after idle without use, whichever is first.
func (u *Users) StartSession(ctx context.Context, username, password, newPassword string, life, idle time.Duration,
	decide func(shipment.SignIn) (setPassword bool, err error)) (token string, expires time.Time, err error) {
	id, err := u.signIn(ctx, username, password, newPassword, decide)
	if err != nil {
		return "", time.Time{}, err
	}
	return u.newToken(ctx, id, sessionPrefix, life, idle)
}

// The prefixes of the two kinds of token.
const (
	apiTokenPrefix = "cct_"
	sessionPrefix  = "ccs_"
)

// signIn checks the password and decide, and sets the new password when
// decide says so; it returns the user's id.
func (u *Users) signIn(ctx context.Context, username, password, newPassword string,
	decide func(shipment.SignIn) (setPassword bool, err error)) (int64, error) {
	var id int64
	var hash string
	var disabled, mustChange bool
	name := strings.ToLower(strings.TrimSpace(username))
	err := u.Pool.QueryRow(ctx, `SELECT id, password_hash, disabled, must_change_password FROM users WHERE username = $1`,
		name).Scan(&id, &hash, &disabled, &mustChange)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the same time as a real check, so timing tells nothing.
		_ = bcrypt.CompareHashAndPassword(u.DummyHash(), []byte(password))
		return 0, apperr.New(apperr.Unauthorized, "auth.bad_credentials")
	}
	if err != nil {
		return 0, translate(err, "user")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return 0, apperr.New(apperr.Unauthorized, "auth.bad_credentials")
	}
	setNew, err := decide(shipment.SignIn{Disabled: disabled, MustChange: mustChange})
	if err != nil {
		return 0, err
	}
	if setNew {
		if err := u.setPassword(ctx, id, name, hash, newPassword, "new_password"); err != nil {
			return 0, err
		}
		// A new password ends every token of the old one, as a change
		// through PUT /me/password does.
		if err := u.revokeAll(ctx, u.Pool, id, nil); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// newToken stores a new token of the user, valid for life, and when idle
// is set, only until idle passes without use.
func (u *Users) newToken(ctx context.Context, id int64, prefix string, life, idle time.Duration) (string, time.Time, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, err
	}
	token := prefix + base64.RawURLEncoding.EncodeToString(b)
	now := u.Now().UTC()
	expires := now.Add(life)
	var idleUntil *time.Time
	if idle > 0 {
		t := now.Add(idle)
		idleUntil = &t
	}
	sum := sha256.Sum256([]byte(token))
	if _, err := u.Pool.Exec(ctx, `INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at, idle_until)
		VALUES ($1, $2, $3, $4, $5)`, sum[:], id, now, expires, idleUntil); err != nil {
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

// UpdateUser applies an administrator's change to an account, as change
// decides it on the locked account (service.Accounts). Disabling stops
// every token of the user (at once on this instance, within TokenCacheTTL
// on the others); re-enabling does not bring them back.
//
// Errors: user.not_found; those of change.
func (u *Users) UpdateUser(ctx context.Context, by shipment.Actor, username string, lockAdmins bool,
	change func(cur shipment.User, otherAdmins int) (shipment.User, error)) (shipment.User, error) {
	var out shipment.User
	err := WithTx(ctx, u.Pool, func(tx pgx.Tx) error {
		if lockAdmins {
			// Every active admin locked first, in one order, so that two
			// admins taking each other's rights at once cannot both succeed
			// (nor deadlock).
			if _, err := tx.Exec(ctx, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE`); err != nil {
				return translate(err, "user")
			}
		}
		var cur shipment.User
		var site *string
		var others int
		err := tx.QueryRow(ctx, `SELECT id, username, role, site_code, departments, carrier, disabled, must_change_password, created_at,
				(SELECT count(*) FROM users a WHERE a.role = 'admin' AND NOT a.disabled AND a.id <> u.id)
			FROM users u WHERE username = $1 FOR UPDATE`, username).
			Scan(&cur.ID, &cur.Username, &cur.Role, &site, &cur.Departments, &cur.Carrier, &cur.Disabled, &cur.MustChangePassword,
				&cur.CreatedAt, &others)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "user.not_found").With("username", username)
		}
		if err != nil {
			return translate(err, "user")
		}
		if site != nil {
			cur.Site = *site
		}
		cur.CreatedAt = tracking.Local(cur.CreatedAt)
		next, err := change(cur, others)
		if err != nil {
			return err
		}
		var newSite *string
		if next.Site != "" {
			newSite = &next.Site
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET role = $2, site_code = $3, departments = $4, disabled = $5, updated_at = $6,
			carrier = $7 WHERE id = $1`, cur.ID, next.Role, newSite, next.Departments, next.Disabled, u.Now().UTC(), next.Carrier); err != nil {
			return translate(err, "user")
		}
		if cur.Disabled && !next.Disabled {
			// While disabled, the user's tokens answer auth.user_disabled;
			// enabled again, none of them returns.
			if err := u.revokeAll(ctx, tx, cur.ID, nil); err != nil {
				return err
			}
		}
		out = next
		return RecordChange(ctx, tx, u.Now().UTC(), Change{By: by, Entity: EntityUser, Key: cur.Username,
			Before: cur, After: next})
	})
	if err != nil {
		return shipment.User{}, err
	}
	u.forget(out.ID)
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
	return u.actor(ctx, token, apiTokenPrefix, 0)
}

// ActorBySession resolves a browser session and keeps it for idle more
// (written at most every TokenCacheTTL by an instance). Errors:
// auth.session_ended (unauthorized: expired, idle too long, signed out or
// ended by an administrator), auth.user_disabled.
func (u *Users) ActorBySession(ctx context.Context, token string, idle time.Duration) (shipment.Actor, error) {
	a, err := u.actor(ctx, token, sessionPrefix, idle)
	if apperr.CodeOf(err) == "auth.token_invalid" {
		return a, apperr.New(apperr.Unauthorized, "auth.session_ended")
	}
	return a, err
}

func (u *Users) actor(ctx context.Context, token, prefix string, idle time.Duration) (shipment.Actor, error) {
	if !strings.HasPrefix(token, prefix) || len(token) > 100 {
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
	a, err := u.actorByHash(ctx, sum[:], idle)
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

// actorByHash reads the token's user; with idle set (a session), only
// while the session has not been idle that long, and moving it on.
func (u *Users) actorByHash(ctx context.Context, sum []byte, idle time.Duration) (shipment.Actor, error) {
	var a shipment.Actor
	var site *string
	var disabled bool
	now := u.Now().UTC()
	q, args := `SELECT u.id, u.username, u.role, u.site_code, u.departments, u.carrier, u.disabled
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.expires_at > $2 AND t.idle_until IS NULL`, []any{sum, now}
	if idle > 0 {
		q, args = `WITH t AS (
			UPDATE api_tokens SET idle_until = least($3, expires_at)
			WHERE token_hash = $1 AND expires_at > $2 AND idle_until > $2 RETURNING user_id)
		SELECT u.id, u.username, u.role, u.site_code, u.departments, u.carrier, u.disabled FROM t JOIN users u ON u.id = t.user_id`,
			[]any{sum, now, now.Add(idle)}
	}
	err := u.Pool.QueryRow(ctx, q, args...).Scan(&a.ID, &a.Username, &a.Role, &site, &a.Departments, &a.Carrier, &disabled)
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
	rows, err := u.Pool.Query(ctx, `SELECT id, username, role, coalesce(site_code, ''), departments, carrier, disabled,
		must_change_password, created_at FROM users ORDER BY id`)
	if err != nil {
		return nil, translate(err, "user")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shipment.User, error) {
		var x shipment.User
		err := r.Scan(&x.ID, &x.Username, &x.Role, &x.Site, &x.Departments, &x.Carrier, &x.Disabled, &x.MustChangePassword, &x.CreatedAt)
		x.CreatedAt = tracking.Local(x.CreatedAt)
		return x, err
	})
	return out, translate(err, "user")
}
