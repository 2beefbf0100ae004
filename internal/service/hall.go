package service

import (
	"context"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// HallStore keeps what a hall's shelves hold and its stocktakes.
type HallStore interface {
	// ShelfParcels lists what the hall's shelves should hold now: ready,
	// in exception from the shelf, returning and not yet taken away.
	ShelfParcels(ctx context.Context, site string) ([]tracking.ShelfItem, error)
	SaveStocktake(ctx context.Context, a shipment.Actor, r tracking.StocktakeResult, at time.Time) (int64, error)
}

// Hall is a hall's own work on its shelves: the stocktake (盘点) and the
// parcels to pull for their department.
type Hall struct {
	Store HallStore
	Ref   SiteKinds
	Now   func() time.Time
}

// MaxStocktakeScans bounds one stocktake.
const MaxStocktakeScans = 20000

// hallOf is the hall a staff member works at; an administrator names it.
// Errors: auth.forbidden, site.unknown, site.wrong_kind.
func (h *Hall) hallOf(a shipment.Actor, site string) (string, error) {
	switch a.Role {
	case shipment.RoleAdmin:
	case shipment.RoleStaff, shipment.RoleHallLead:
		if site == "" {
			site = a.Site
		}
		if site != a.Site {
			return "", apperr.New(apperr.Forbidden, "auth.forbidden")
		}
	default:
		return "", apperr.New(apperr.Forbidden, "auth.forbidden")
	}
	k, ok := h.Ref.SiteKind(site)
	if !ok {
		return "", apperr.New(apperr.Invalid, "site.unknown").OnField("site").With("site", site)
	}
	if k != shipment.SiteHall {
		return "", apperr.New(apperr.Invalid, "site.wrong_kind").OnField("site").With("site", site)
	}
	return site, nil
}

// Shelf lists what the hall's shelves should hold, and of it the parcels
// returning to their department, to pull and bag.
func (h *Hall) Shelf(ctx context.Context, a shipment.Actor, site string) (all, returning []tracking.ShelfItem, err error) {
	site, err = h.hallOf(a, site)
	if err != nil {
		return nil, nil, err
	}
	all, err = h.Store.ShelfParcels(ctx, site)
	for _, it := range all {
		if it.Status == shipment.Returning {
			returning = append(returning, it)
		}
	}
	return all, returning, err
}

// Stocktake compares what was seen on the shelves (codes as scanned, with
// the slot each was found in) with what should be there, and keeps the
// result. Codes that are no waybill count as unexpected.
// Errors: those of hallOf; stocktake.too_many (invalid).
func (h *Hall) Stocktake(ctx context.Context, a shipment.Actor, site string, seen []tracking.Seen) (tracking.StocktakeResult, error) {
	site, err := h.hallOf(a, site)
	if err != nil {
		return tracking.StocktakeResult{}, err
	}
	if len(seen) > MaxStocktakeScans {
		return tracking.StocktakeResult{}, apperr.New(apperr.Invalid, "stocktake.too_many").With("max", MaxStocktakeScans)
	}
	norm := make([]tracking.Seen, 0, len(seen))
	for _, s := range seen {
		n := tracking.Seen{Code: s.Code}
		if c, err := shipment.ParseCode(s.Code); err == nil && c.Kind == shipment.KindParcel {
			n.Code = c.Number
		}
		if s.Slot != "" {
			if slot, err := shipment.ParseSlot(s.Slot); err == nil {
				n.Slot = slot
			}
		}
		norm = append(norm, n)
	}
	expected, err := h.Store.ShelfParcels(ctx, site)
	if err != nil {
		return tracking.StocktakeResult{}, err
	}
	r := tracking.Reconcile(expected, norm)
	r.Site, r.At = site, clock(h.Now)
	if r.ID, err = h.Store.SaveStocktake(ctx, a, r, r.At); err != nil {
		return tracking.StocktakeResult{}, err
	}
	return r, nil
}
