package service

import (
	"context"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// ReadStore reads a parcel for the staff screens.
type ReadStore interface {
	// ParcelRecord reads a parcel with its person data, the private link
	// included while the journey has not ended before linkSince.
	// Errors: parcel.not_found.
	ParcelRecord(ctx context.Context, waybill string, linkSince time.Time) (*shipment.Parcel, *tracking.Recipient, error)
	// Handled reports whether the actor appears on an event of the parcel.
	Handled(ctx context.Context, actorID, parcelID int64) (bool, error)
}

// Get returns a parcel the actor may see, as the actor may see it.
//
// Errors: parcel.not_found (not found); parcel.other_site,
// parcel.not_handled (forbidden).
func (s *Parcels) Get(ctx context.Context, a shipment.Actor, waybill string) (tracking.ParcelView, error) {
	p, r, err := s.Store.ParcelRecord(ctx, waybill, s.now().Add(-LinkGrace))
	if err != nil {
		return tracking.ParcelView{}, err
	}
	if err := s.mayRead(ctx, a, p); err != nil {
		return tracking.ParcelView{}, err
	}
	return tracking.StaffView(a, p, r), nil
}

// Events returns a parcel's events in order (shelf slots only to those who
// see slots).
//
// Errors: parcel.not_found; parcel.other_site, parcel.not_handled.
func (s *Parcels) Events(ctx context.Context, a shipment.Actor, waybill string) ([]tracking.Event, error) {
	p, err := s.Store.ParcelByNumber(ctx, waybill)
	if err != nil {
		return nil, err
	}
	if err := s.mayRead(ctx, a, p); err != nil {
		return nil, err
	}
	evs, err := s.Store.EventsOf(ctx, p.ID, waybill)
	if !tracking.SeesSlots(a) {
		for i := range evs {
			evs[i].Slot = ""
		}
	}
	return evs, err
}

// mayRead checks that the actor may read the parcel: CanSee, and for a
// courier only the parcels it has handled.
func (s *Parcels) mayRead(ctx context.Context, a shipment.Actor, p *shipment.Parcel) error {
	if !a.CanSee(p) {
		return apperr.New(apperr.Forbidden, "parcel.other_site")
	}
	if a.Role != shipment.RoleCourier {
		return nil
	}
	handled, err := s.Store.Handled(ctx, a.ID, p.ID)
	if err != nil {
		return err
	}
	if !handled {
		return apperr.New(apperr.Forbidden, "parcel.not_handled")
	}
	return nil
}
