package postgres

import (
	"context"
	"fmt"

	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// MaxCodeLookupFailures is how many collection-code lookups that find
// nothing a hall takes in a throttle window (service.MaxCodeLookupFailures).
const MaxCodeLookupFailures = service.MaxCodeLookupFailures

// codeHash is the keyed hash of a collection code at a hall. Codes are
// unique among the ready parcels of a hall (the index parcels_ready_code),
// so the counter finds a parcel by its code alone.
func (l *Ledger) codeHash(hall, code string) []byte {
	return l.Keys.Hash(shipment.CodeHashDomain(hall), code)
}

func (l *Ledger) newCode() (string, error) {
	if l.NewCode != nil {
		return l.NewCode()
	}
	return collectionCode()
}

// freeCode draws a collection code that no ready parcel of the hall holds,
// nor one in exception that may return to the shelf with its code.
// Two drawn at the same instant are caught by the unique index.
func (l *Ledger) freeCode(ctx context.Context, q querier, hall string) (string, error) {
	for range 20 {
		code, err := l.newCode()
		if err != nil {
			return "", err
		}
		var taken bool
		// Held by a ready parcel, or by one reported from the shelf that
		// may return to it (the index parcels_ready_code covers both).
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM parcels
			WHERE code_site = $1 AND code_hash = $2)`, hall, l.codeHash(hall, code)).Scan(&taken); err != nil {
			return "", fmt.Errorf("ledger: collection code: %w", err)
		}
		if !taken {
			return code, nil
		}
	}
	return "", fmt.Errorf("ledger: no free collection code at %s", hall)
}

// ReadyByCode lists the ready parcels of a hall holding a collection code,
// found by the code's keyed hash.
func (l *Ledger) ReadyByCode(ctx context.Context, a shipment.Actor, hall, code string) ([]tracking.ParcelView, error) {
	var pr personRow
	rows, err := l.Pool.Query(ctx, `SELECT `+parcelCols+`, `+personCols+`
		FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE p.code_site = $1 AND p.code_hash = $2 AND p.status = 'ready'`, hall, l.codeHash(hall, code))
	if err != nil {
		return nil, translate(err, "parcel")
	}
	defer rows.Close()
	var out []tracking.ParcelView
	for rows.Next() {
		p, err := scanParcel(rows, scanPerson(&pr)...)
		if err != nil {
			return nil, translate(err, "parcel")
		}
		out = append(out, l.view(a, p, &pr))
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "parcel")
	}
	return out, nil
}
