package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/changchun-gov/courier/migrations"
)

// migrationLock is the advisory lock key held while migrating, so that
// instances starting at once migrate one after the other.
const migrationLock int64 = 0x636f7572696572 // "courier"

// SchemaStatus says where the database schema stands against this binary:
// ours (goose) and the job queue's (River), which migrate together.
type SchemaStatus struct {
	Current      int64 // applied version in the database (0: empty)
	Known        int64 // newest version this binary knows
	RiverCurrent int   // River's applied version
	RiverKnown   int   // River's newest version in this binary
}

// Behind reports whether migrations are pending.
func (s SchemaStatus) Behind() bool { return s.Current < s.Known || s.RiverCurrent < s.RiverKnown }

// Ahead reports whether the database is newer than this binary.
func (s SchemaStatus) Ahead() bool { return s.Current > s.Known || s.RiverCurrent > s.RiverKnown }

// ErrSchemaBehind and ErrSchemaAhead are returned by CheckSchema.
var (
	ErrSchemaBehind = errors.New("the database schema is behind this release: run `courier migrate up` (or start with COURIER_MIGRATE=1)")
	ErrSchemaAhead  = errors.New("the database schema is newer than this release: run the newer release")
)

func provider(db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
}

// KnownVersion is the newest migration this binary carries.
func KnownVersion() int64 {
	names, _ := fs.Glob(migrations.FS, "*.sql")
	var v int64
	for _, n := range names {
		num, _, _ := strings.Cut(n, "_")
		if x, err := strconv.ParseInt(num, 10, 64); err == nil {
			v = max(v, x)
		}
	}
	return v
}

// Schema reads the database's applied version without changing anything.
func Schema(ctx context.Context, pool *pgxpool.Pool) (SchemaStatus, error) {
	st := SchemaStatus{Known: KnownVersion()}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&exists); err != nil {
		return st, fmt.Errorf("postgres: schema version: %w", err)
	}
	if !exists {
		return st, nil
	}
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&st.Current)
	if err != nil {
		return st, fmt.Errorf("postgres: schema version: %w", err)
	}
	rm, err := riverMigrator(pool)
	if err != nil {
		return st, err
	}
	all := rm.AllVersions()
	if len(all) > 0 {
		st.RiverKnown = all[len(all)-1].Version
	}
	var riverTable bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('river_migration') IS NOT NULL`).Scan(&riverTable); err != nil {
		return st, fmt.Errorf("postgres: schema version: %w", err)
	}
	if riverTable {
		have, err := rm.ExistingVersions(ctx)
		if err != nil {
			return st, fmt.Errorf("postgres: river schema version: %w", err)
		}
		for _, m := range have {
			st.RiverCurrent = max(st.RiverCurrent, m.Version)
		}
	}
	return st, nil
}

func riverMigrator(pool *pgxpool.Pool) (*rivermigrate.Migrator[pgx.Tx], error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("postgres: river migrator: %w", err)
	}
	return m, nil
}

// CheckSchema refuses a schema that is behind or ahead of this binary.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) (SchemaStatus, error) {
	st, err := Schema(ctx, pool)
	if err != nil {
		return st, err
	}
	switch {
	case st.Ahead():
		return st, fmt.Errorf("%w (database at %d, release knows %d)", ErrSchemaAhead, st.Current, st.Known)
	case st.Behind():
		return st, fmt.Errorf("%w (database at %d, release knows %d)", ErrSchemaBehind, st.Current, st.Known)
	}
	return st, nil
}

// Migrate applies pending migrations, each in its own transaction, under an
// advisory lock held on a dedicated connection so that instances starting at
// once take turns. It refuses a database newer than this binary.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (applied int, err error) {
	// Migrations and the wait for the lock may take longer than the serving
	// pool's statement timeout: they get connections of their own. The lock
	// is held on a connection outside any pool, so that instances waiting
	// for it take no connection the migration needs.
	cfg := pool.Config().Copy()
	delete(cfg.ConnConfig.RuntimeParams, "statement_timeout")
	cfg.MaxConns = 2
	pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer pool.Close()
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return 0, fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock) //nolint:errcheck

	st, err := Schema(ctx, pool)
	if err != nil {
		return 0, err
	}
	if st.Ahead() {
		return 0, fmt.Errorf("%w (database at %d, release knows %d)", ErrSchemaAhead, st.Current, st.Known)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, nil)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, r := range res {
		if log != nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	// The job queue's tables, in the same step and under the same lock.
	rm, err := riverMigrator(pool)
	if err != nil {
		return len(res), err
	}
	rres, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return len(res), fmt.Errorf("postgres: migrate river: %w", err)
	}
	for _, v := range rres.Versions {
		if log != nil {
			log.Info("job queue migration applied", "version", v.Version, "name", v.Name, "duration", v.Duration)
		}
	}
	return len(res) + len(rres.Versions), nil
}

// MigrateDown rolls back every migration, River's included (for tests of
// the down files).
func MigrateDown(ctx context.Context, pool *pgxpool.Pool) error {
	rm, err := riverMigrator(pool)
	if err != nil {
		return err
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		return fmt.Errorf("postgres: migrate river down: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, nil)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, 0)
	return err
}

// PrepareTemplate returns a set-up for a test template database: the
// migrations, and the reference data when seed is true. It matches
// pgtest.Setup.
func PrepareTemplate(seed bool) func(ctx context.Context, conn *pgx.Conn) error {
	return func(ctx context.Context, conn *pgx.Conn) error {
		pool, err := pgxpool.New(ctx, conn.Config().ConnString())
		if err != nil {
			return err
		}
		defer pool.Close()
		if _, err := Migrate(ctx, pool, nil); err != nil {
			return err
		}
		if seed {
			return SeedReference(ctx, pool)
		}
		return nil
	}
}
