package pgtest

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var roles sync.Map // role name → *roleOnce

type roleOnce struct {
	once sync.Once
	err  error
}

// RolePassword is the password pgtest gives the login roles it makes.
func RolePassword(role string) string { return "pgtest-" + role }

// AsRole returns connString (a database from DB) for the login role role,
// made on first use with the password RolePassword(role). Roles are
// cluster-wide: pgtest makes one per name for every test and binary, and
// grants nothing (the template's migrations do).
func AsRole(t testing.TB, connString, role string) string {
	t.Helper()
	s := mustServer(t)
	v, _ := roles.LoadOrStore(role, &roleOnce{})
	r := v.(*roleOnce)
	r.once.Do(func() { r.err = ensureRole(s, role) })
	if r.err != nil {
		t.Fatalf("pgtest: role %s: %v", role, r.err)
	}
	return withUser(connString, role, RolePassword(role))
}

// PoolAs is a pool on connString as role (see AsRole), closed when the test
// ends.
func PoolAs(t testing.TB, connString, role string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), AsRole(t, connString, role))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func ensureRole(s *server, role string) error {
	ctx, cancel := context.WithTimeout(context.Background(), ddlTimeout)
	defer cancel()
	name, pw := ident(role), "'"+strings.ReplaceAll(RolePassword(role), "'", "''")+"'"
	lit := "'" + strings.ReplaceAll(role, "'", "''") + "'"
	q := `DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ` + lit + `) THEN
			CREATE ROLE ` + name + ` LOGIN PASSWORD ` + pw + `;
		ELSE
			ALTER ROLE ` + name + ` LOGIN PASSWORD ` + pw + `;
		END IF;
	END $$`
	var err error
	// Binaries sharing a server may race to make the same role.
	for range 5 {
		if _, err = s.pool.Exec(ctx, q); err == nil {
			return nil
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "42710" && pe.Code != "23505" && pe.Code != "XX000") {
			return err
		}
	}
	return err
}

// withUser returns connString with its user and password replaced.
func withUser(connString, user, password string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		if u, err := url.Parse(connString); err == nil {
			u.User = url.UserPassword(user, password)
			q := u.Query()
			q.Del("user")
			q.Del("password")
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	// In the keyword/value form a later keyword wins.
	return connString + " user=" + quoteValue(user) + " password=" + quoteValue(password)
}
