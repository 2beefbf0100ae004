package embeddedpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// hbaMarker opens a pg_hba.conf written by embeddedpg: password
// authentication (SCRAM) for everyone on the unix socket, nothing else.
const hbaMarker = "# embeddedpg: password authentication only"

const hbaConf = hbaMarker + `
# Written by embeddedpg; the server listens on its unix socket only.
local all all scram-sha-256
`

// passwordAuth reports whether the cluster in dataDir already asks for
// passwords (its pg_hba.conf is ours).
func passwordAuth(dataDir string) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, "pg_hba.conf"))
	return err == nil && bytes.HasPrefix(b, []byte(hbaMarker))
}

// requirePassword gives the superuser its password and switches the cluster
// from trust (as initdb left it, or an older release) to SCRAM passwords. The
// server runs and is reached through trust; on return it asks every new
// connection for a password.
func (c *Cluster) requirePassword(ctx context.Context, dataDir string, acct *account, password string) error {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("embeddedpg: set password: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SET password_encryption = 'scram-sha-256'`); err != nil {
		return fmt.Errorf("embeddedpg: set password: %w", err)
	}
	if _, err := conn.Exec(ctx, `ALTER ROLE `+pgx.Identifier{User}.Sanitize()+` PASSWORD `+quoteLiteral(password)); err != nil {
		return fmt.Errorf("embeddedpg: set password: %w", err)
	}
	path := filepath.Join(dataDir, "pg_hba.conf")
	tmp := path + ".new"
	_ = os.Remove(tmp)
	if err := writeFileNoFollow(tmp, []byte(hbaConf)); err != nil {
		return fmt.Errorf("embeddedpg: pg_hba.conf: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("embeddedpg: pg_hba.conf: %w", err)
	}
	if acct != nil {
		if err := os.Chown(tmp, acct.uid, acct.gid); err != nil {
			return fmt.Errorf("embeddedpg: pg_hba.conf: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("embeddedpg: pg_hba.conf: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_reload_conf()`); err != nil {
		return fmt.Errorf("embeddedpg: reload: %w", err)
	}
	// The postmaster reloads asynchronously: wait until a connection
	// without the password is refused.
	c.password = password
	noPassword := fmt.Sprintf("host=%s port=5432 user=%s dbname=postgres sslmode=disable connect_timeout=1",
		quoteValue(c.dir), User)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := pgx.Connect(ctx, noPassword)
		if err == nil {
			_ = nc.Close(ctx)
		} else {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "28P01" || strings.Contains(err.Error(), "password") {
				c.logger.Info("embedded postgres now asks for passwords (scram-sha-256)", "dir", c.dir)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("embeddedpg: the server still lets connections in without a password after reloading pg_hba.conf")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ConnStringAs returns the keyword/value connection string of database db
// for another role of the cluster.
func (c *Cluster) ConnStringAs(db, user, password string) string {
	s := fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", quoteValue(c.dir), quoteValue(user), quoteValue(db))
	if password != "" {
		s += " password=" + quoteValue(password)
	}
	return s
}

// quoteLiteral quotes an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
