package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The roles of least privilege. ServiceRole is created by migration 00005
// when missing and holds the service's grants: every table read and written,
// the append-only ones (events, ledger_digests) only read and appended. The
// service serves as it or as a member of it; migrations run as the owner of
// the tables. OwnerRole is the owner on the embedded database.
const (
	ServiceRole = "courier_service"
	OwnerRole   = "courier_owner"
)

// SetupEmbeddedRoles prepares the embedded database, as its superuser: the
// owner and the service roles with their passwords, the database and every
// object in it owned by the owner (an older release made them as the
// superuser).
func SetupEmbeddedRoles(ctx context.Context, superDSN, ownerPassword, servicePassword string) error {
	conn, err := pgx.Connect(ctx, superDSN)
	if err != nil {
		return fmt.Errorf("postgres: roles: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stmts := []string{`SET password_encryption = 'scram-sha-256'`}
	for _, r := range []struct{ name, password string }{{OwnerRole, ownerPassword}, {ServiceRole, servicePassword}} {
		id, pw := pgx.Identifier{r.name}.Sanitize(), quoteLiteral(r.password)
		stmts = append(stmts, `DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = `+quoteLiteral(r.name)+`) THEN
				CREATE ROLE `+id+`;
			END IF;
		END $$`,
			`ALTER ROLE `+id+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD `+pw)
	}
	stmts = append(stmts, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO courier_owner', current_database()); END $$`,
		transferOwnership)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("postgres: roles: %w", err)
		}
	}
	return nil
}

// transferOwnership gives courier_owner what others own in schema public.
const transferOwnership = `DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> 'courier_owner'::regrole
		  AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
		      AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO courier_owner', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
			WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
	END LOOP;
	FOR r IN SELECT p.oid::regprocedure AS name, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public' AND p.proowner <> 'courier_owner'::regrole
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO courier_owner', CASE r.prokind WHEN 'p' THEN 'PROCEDURE'
			WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.name);
	END LOOP;
	FOR r IN SELECT t.oid::regtype AS name, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r') AND t.typowner <> 'courier_owner'::regrole
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO courier_owner', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.name);
	END LOOP;
END $$`

// CheckServiceRole refuses to serve as a role that could change the event
// log: a superuser, the owner of events (or a member of the owner's role), or
// a role granted more than INSERT and SELECT on it.
func CheckServiceRole(ctx context.Context, pool *pgxpool.Pool) error {
	var user string
	var super, owner bool
	var extra, others []string
	err := pool.QueryRow(ctx, `SELECT current_user, r.rolsuper, pg_has_role(current_user, c.relowner, 'MEMBER'),
		array(SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) p
		      WHERE has_table_privilege(c.oid, p)),
		array(SELECT p || ' ' || t FROM unnest(ARRAY['ledger_digests', 'audit_log', 'key_check']) t,
		      unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) p
		      WHERE to_regclass(t) IS NOT NULL AND has_table_privilege(to_regclass(t), p))
		FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'events'::regclass`).
		Scan(&user, &super, &owner, &extra, &others)
	if err != nil {
		return fmt.Errorf("postgres: check the service's role: %w", err)
	}
	switch {
	case super:
		return fmt.Errorf("the database role %q is a superuser: the service serves as a role that may only insert into and read the event log (a member of %s; migrations run as the owner, from DATABASE_OWNER_URL)", user, ServiceRole)
	case owner:
		return fmt.Errorf("the database role %q owns the event log: the service serves as a role that may only insert into and read it (a member of %s; migrations run as the owner, from DATABASE_OWNER_URL)", user, ServiceRole)
	case len(extra) > 0:
		return fmt.Errorf("the database role %q may %s the event log: the service may only insert into and read it (revoke those)", user, strings.Join(extra, ", "))
	case len(others) > 0:
		return fmt.Errorf("the database role %q may %s: the service may only insert into and read the append-only tables (revoke those)", user, strings.Join(others, ", "))
	}
	return nil
}

// quoteLiteral quotes an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
