// Package postgres is the single PostgreSQL adapter: the pool, the
// transaction helper, error translation, migrations, reference data, and the
// stores that implement the ledger on pgx.
//
// SQL lives here and nowhere else. Errors leave this package as *apperr.Error
// (not_found, conflict, invalid) or wrapped with context; it never logs.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Open connects a pool to dsn and pings it.
func Open(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse connection string: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "courier"
	// No statement runs for ever, even where a request carries no deadline.
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "30s"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	var version int
	if err := pool.QueryRow(pctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: server version: %w", err)
	}
	if version < MinServerVersion {
		pool.Close()
		return nil, fmt.Errorf("postgres: the server is PostgreSQL %d.%d; the service needs %d or later "+
			"(the event log's hashes count time in exact microseconds, which extract(epoch) gives from 14 on)",
			version/10000, version%10000, MinServerVersion/10000)
	}
	return pool, nil
}

// MinServerVersion is the oldest PostgreSQL the service runs on
// (server_version_num).
const MinServerVersion = 140000

// Beginner is a pool or a transaction (whose Begin opens a savepoint).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// WithTx runs fn in a transaction, committing when it returns nil. The
// rollback runs even when ctx is cancelled.
func WithTx(ctx context.Context, db Beginner, fn func(tx pgx.Tx) error) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return Unavailable(fmt.Errorf("postgres: begin: %w", err))
	}
	defer func() {
		if err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = tx.Rollback(rctx)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return Unavailable(fmt.Errorf("postgres: commit: %w", err))
	}
	return nil
}

// translate maps database errors to application errors once, at the edge.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if apperr.As(err) != nil {
		return err
	}
	if connectionLost(err) {
		return ErrDBUnavailable.Wrap(err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, what+".not_found").Wrap(err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return apperr.New(apperr.Conflict, "request.duplicate").Wrap(err)
		case "23514", "23503", "22001", "22P02", "22021", "22P05", "22008", "22007", "22003", "22023":
			// Values the checks above let through but PostgreSQL refuses
			// (a NUL in text, year 0, …): the caller's input.
			return apperr.New(apperr.Invalid, "request.invalid_value").Wrap(err)
		case "40001", "40P01":
			return apperr.New(apperr.Conflict, "parcel.conflict").Wrap(err)
		case "57014":
			return apperr.New(apperr.Unavailable, "request.timeout").Wrap(err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.New(apperr.Unavailable, "request.timeout").Wrap(err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// isUnique reports whether err is a unique violation (of the named constraint, if given).
func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// withField names the offending input field on an application error.
func withField(err error, field string) error {
	if e := apperr.As(err); e != nil && e.Field == "" {
		return e.OnField(field)
	}
	return err
}
