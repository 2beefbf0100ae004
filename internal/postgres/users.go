package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
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
}

var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,63}$`)

// MinPasswordLen is the shortest accepted password.
const MinPasswordLen = 10

// Validate checks a new user against the roles and sites.
func (u *Users) validate(n *shipment.NewUser) error {
	n.Username = strings.ToLower(strings.TrimSpace(n.Username))
	if !usernameRe.MatchString(n.Username) {
		return apperr.New(apperr.Invalid, "user.username_invalid").OnField("username")
	}
	if utf8.RuneCountInString(n.Password) < MinPasswordLen || len(n.Password) > 72 {
		return apperr.New(apperr.Invalid, "user.password_weak").OnField("password")
	}
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
		if (n.Role == shipment.RoleClerk) != (k == shipment.SiteDepartment) {
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

// IssueToken checks a username and password and returns a new bearer token.
// Errors: auth.bad_credentials (unauthorized).
func (u *Users) IssueToken(ctx context.Context, username, password string) (token string, expires time.Time, err error) {
	var id int64
	var hash string
	err = u.Pool.QueryRow(ctx, `SELECT id, password_hash FROM users WHERE username = $1 AND NOT disabled`,
		strings.ToLower(strings.TrimSpace(username))).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the same time as a real check, so timing tells nothing.
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z5yW6RkV3YBFa6E0bKTgHqiu"), []byte(password))
		return "", time.Time{}, apperr.New(apperr.Unauthorized, "auth.bad_credentials")
	}
	if err != nil {
		return "", time.Time{}, translate(err, "user")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", time.Time{}, apperr.New(apperr.Unauthorized, "auth.bad_credentials")
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

// TokenCacheTTL is how long an instance trusts a token it has resolved
// without asking the database again: a revoked token or disabled user may
// still work for this long on other instances.
const TokenCacheTTL = 5 * time.Second

type cachedActor struct {
	actor   shipment.Actor
	expires time.Time
}

// ActorByToken resolves a bearer token. Errors: auth.token_invalid (unauthorized).
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
	err := u.Pool.QueryRow(ctx, `SELECT u.id, u.username, u.role, u.site_code, u.departments
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.expires_at > $2 AND NOT u.disabled`, sum, u.Now().UTC()).
		Scan(&a.ID, &a.Username, &a.Role, &site, &a.Departments)
	if errors.Is(err, pgx.ErrNoRows) {
		return shipment.Actor{}, apperr.New(apperr.Unauthorized, "auth.token_invalid")
	}
	if err != nil {
		return shipment.Actor{}, translate(err, "token")
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
	rows, err := u.Pool.Query(ctx, `SELECT id, username, role, coalesce(site_code, ''), departments, created_at FROM users ORDER BY id`)
	if err != nil {
		return nil, translate(err, "user")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shipment.User, error) {
		var x shipment.User
		err := r.Scan(&x.ID, &x.Username, &x.Role, &x.Site, &x.Departments, &x.CreatedAt)
		x.CreatedAt = tracking.Local(x.CreatedAt)
		return x, err
	})
	return out, translate(err, "user")
}
