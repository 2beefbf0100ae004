package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// MaxCodeLookupFailures is how many collection-code lookups that find
// nothing a hall takes in a throttle window before lookups there are
// refused: a lookup is a guess at a code, like a wrong code at collect.
const MaxCodeLookupFailures = 20

var collectionCodeRe = regexp.MustCompile(`^[0-9]{6}$`)

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

// freeCode draws a collection code that no ready parcel of the hall holds.
// Two drawn at the same instant are caught by the unique index.
func (l *Ledger) freeCode(ctx context.Context, q querier, hall string) (string, error) {
	for range 20 {
		code, err := l.newCode()
		if err != nil {
			return "", err
		}
		var taken bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM parcels
			WHERE status = 'ready' AND path[path_idx + 1] = $1 AND code_hash = $2)`, hall, l.codeHash(hall, code)).Scan(&taken); err != nil {
			return "", fmt.Errorf("ledger: collection code: %w", err)
		}
		if !taken {
			return code, nil
		}
	}
	return "", fmt.Errorf("ledger: no free collection code at %s", hall)
}

// findByCode answers the ready parcel of a hall that holds a collection
// code (an empty page when none does). Staff look in their own hall; an
// admin names the hall. A lookup that finds nothing counts as a wrong code
// at that hall; past MaxCodeLookupFailures in a window lookups there are
// refused, so they cannot be used to guess.
//
// Errors: collect.code_format, site.required, site.unknown, site.wrong_kind,
// request.bad_query (invalid); auth.forbidden, parcel.other_site
// (forbidden); collect.lookup_too_many (too many).
func (l *Ledger) findByCode(ctx context.Context, a shipment.Actor, f tracking.Filter) (tracking.Page[tracking.ParcelView], error) {
	var none tracking.Page[tracking.ParcelView]
	if !shipment.MayTake(a.Role, shipment.ActCollect) {
		return none, apperr.New(apperr.Forbidden, "auth.forbidden")
	}
	if f.Status != "" || f.Text != "" || f.Cursor != "" {
		return none, apperr.New(apperr.Invalid, "request.bad_query").OnField("collection_code").With("field", "collection_code")
	}
	hall := strings.TrimSpace(f.Site)
	if a.Role != shipment.RoleAdmin {
		if hall != "" && hall != a.Site {
			return none, apperr.New(apperr.Forbidden, "parcel.other_site")
		}
		hall = a.Site
	}
	if hall == "" {
		return none, apperr.New(apperr.Invalid, "site.required").OnField("site")
	}
	s, ok := l.Ref.Site(hall)
	if !ok {
		return none, apperr.New(apperr.Invalid, "site.unknown").OnField("site").With("site", hall)
	}
	if s.Kind != shipment.SiteHall {
		return none, apperr.New(apperr.Invalid, "site.wrong_kind").OnField("site").With("site", hall)
	}
	code := strings.TrimSpace(f.CollectionCode)
	if !collectionCodeRe.MatchString(code) {
		return none, apperr.New(apperr.Invalid, "collect.code_format").OnField("collection_code")
	}
	if l.Throttle != nil {
		n, err := l.Throttle.Failures(ctx, "code_lookup", hall)
		if err != nil {
			return none, err
		}
		if n >= MaxCodeLookupFailures {
			return none, apperr.New(apperr.TooMany, "collect.lookup_too_many").OnField("collection_code")
		}
	}
	var pr personRow
	rows, err := l.Pool.Query(ctx, `SELECT `+parcelCols+`, `+personCols+`
		FROM parcels p LEFT JOIN parcel_people pp ON pp.parcel_id = p.id
		WHERE p.status = 'ready' AND p.path[p.path_idx + 1] = $1 AND p.code_hash = $2`, hall, l.codeHash(hall, code))
	if err != nil {
		return none, translate(err, "parcel")
	}
	defer rows.Close()
	out := tracking.Page[tracking.ParcelView]{Items: []tracking.ParcelView{}}
	for rows.Next() {
		p, err := scanParcel(rows, scanPerson(&pr)...)
		if err != nil {
			return none, translate(err, "parcel")
		}
		out.Items = append(out.Items, l.view(a, p, &pr))
	}
	if err := rows.Err(); err != nil {
		return none, translate(err, "parcel")
	}
	if len(out.Items) == 0 && l.Throttle != nil {
		if _, err := l.Throttle.Fail(ctx, "code_lookup", hall); err != nil {
			return none, err
		}
	}
	return out, nil
}
