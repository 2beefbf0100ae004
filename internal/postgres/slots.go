package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// HallSettings are one hall's settings, from hall_settings (a hall without a
// row has the zero value).
type HallSettings struct {
	// SlotRequired: shelving there must name one of the hall's slots.
	SlotRequired bool
}

// hallSettings reads a hall's settings. Every read of hall_settings goes
// through here.
func hallSettings(ctx context.Context, q querier, site string) (HallSettings, error) {
	var h HallSettings
	err := q.QueryRow(ctx, `SELECT slot_required FROM hall_settings WHERE site_code = $1`, site).Scan(&h.SlotRequired)
	if errors.Is(err, pgx.ErrNoRows) {
		return HallSettings{}, nil
	}
	if err != nil {
		return HallSettings{}, translate(err, "site")
	}
	return h, nil
}

// slotFacts reads what a hall keeps for a shelve or reslot's slot: whether
// it requires one, and whether slot is one of its own. The slot's row is
// share-locked, so a concurrent edit of the list that removes it waits for
// this scan and then sees the parcel in it.
func slotFacts(ctx context.Context, tx pgx.Tx, site, slot string) (required, known bool, err error) {
	if slot == "" {
		hs, err := hallSettings(ctx, tx, site)
		return hs.SlotRequired, false, err
	}
	err = tx.QueryRow(ctx, `SELECT true FROM slots WHERE site_code = $1 AND code = $2 FOR SHARE`, site, slot).Scan(&known)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	return false, known, err
}

// HallSlots returns a hall's slots, sorted, and its slot setting.
func (l *Ledger) HallSlots(ctx context.Context, site string) (shipment.HallSlots, error) {
	return l.hallSlots(ctx, l.Pool, site)
}

func (l *Ledger) hallSlots(ctx context.Context, q interface {
	querier
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, site string) (shipment.HallSlots, error) {
	hs, err := hallSettings(ctx, q, site)
	if err != nil {
		return shipment.HallSlots{}, err
	}
	rows, err := q.Query(ctx, `SELECT code FROM slots WHERE site_code = $1 ORDER BY code`, site)
	if err != nil {
		return shipment.HallSlots{}, translate(err, "site")
	}
	slots, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return shipment.HallSlots{}, translate(err, "site")
	}
	if slots == nil {
		slots = []string{}
	}
	return shipment.HallSlots{Site: site, SlotRequired: hs.SlotRequired, Slots: slots}, nil
}

// ReplaceHallSlots replaces a hall's list of slots and its slot setting
// with in, normalised (service.Settings.SetHallSlots), audited as a's. A
// slot that a ready parcel (or one reported from the shelf) stands in
// cannot be removed: move the parcels first.
//
// Errors: slot.in_use (conflict).
func (l *Ledger) ReplaceHallSlots(ctx context.Context, a shipment.Actor, site string, in shipment.HallSlots) (shipment.HallSlots, error) {
	now := l.now()
	var out shipment.HallSlots
	err := WithTx(ctx, l.Pool, func(tx pgx.Tx) error {
		// One edit of a hall's slots at a time, from here on: the hall's
		// settings row locked (made if missing) before "before" is read.
		if _, err := tx.Exec(ctx, `INSERT INTO hall_settings (site_code, slot_required, updated_at) VALUES ($1, false, $2)
			ON CONFLICT (site_code) DO NOTHING`, site, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM hall_settings WHERE site_code = $1 FOR UPDATE`, site); err != nil {
			return err
		}
		before, err := l.hallSlots(ctx, tx, site)
		if err != nil {
			return err
		}
		// One edit of a hall's slots at a time.
		if _, err := tx.Exec(ctx, `INSERT INTO hall_settings (site_code, slot_required, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (site_code) DO UPDATE SET slot_required = $2, updated_at = $3`, site, in.SlotRequired, now); err != nil {
			return err
		}
		// Remove first: this waits for scans putting parcels in those
		// slots, whose parcels the check below then sees.
		rows, err := tx.Query(ctx, `DELETE FROM slots WHERE site_code = $1 AND NOT (code = ANY($2)) RETURNING code`,
			site, in.Slots)
		if err != nil {
			return err
		}
		removed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(removed) > 0 {
			var used []string
			if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT slot ORDER BY slot), '{}') FROM parcels
				WHERE dest_site = $1 AND status IN ('ready', 'exception') AND slot = ANY($2)`, site, removed).Scan(&used); err != nil {
				return err
			}
			if len(used) > 0 {
				return apperr.New(apperr.Conflict, "slot.in_use").OnField("slots").
					With("slots", strings.Join(used, "、")).With("in_use", used)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO slots (site_code, code, created_at) SELECT $1, unnest($2::text[]), $3
			ON CONFLICT DO NOTHING`, site, in.Slots, now); err != nil {
			return err
		}
		if out, err = l.hallSlots(ctx, tx, site); err != nil {
			return err
		}
		return RecordChange(ctx, tx, now, Change{By: a, Entity: EntitySlots, Key: site, Before: before, After: out})
	})
	if err != nil {
		if apperr.As(err) != nil {
			return shipment.HallSlots{}, err
		}
		return shipment.HallSlots{}, translate(err, "site")
	}
	return out, nil
}

// HasSlot reports whether the hall keeps slot.
func (l *Ledger) HasSlot(ctx context.Context, site, slot string) (bool, error) {
	var known bool
	err := l.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM slots WHERE site_code = $1 AND code = $2)`, site, slot).Scan(&known)
	return known, translate(err, "site")
}
