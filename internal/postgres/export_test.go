package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// MigrateDownTo rolls our migrations back to version (for tests of a
// migration over existing rows).
func MigrateDownTo(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, nil)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}

// TailLockClass is exported to tests, which hold the lock to stand for a
// tail lookup in flight.
const TailLockClass = tailLockClass

// EventCols is exported to tests, which check it against the table.
const EventCols = eventCols

// InsertEvents is exported to tests.
var InsertEvents = func(from string, set map[string]string) string { return insertEvents(from, set) }

// CodeHash is the keyed hash of a collection code at a hall.
func (l *Ledger) CodeHash(hall, code string) []byte { return l.codeHash(hall, code) }
