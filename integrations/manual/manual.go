// Package manual is the carrier of bookings made by hand: a booking is
// recorded as made by telephone, its reference the run number for the
// dispatcher to quote, and a cancel is a person's telephone call. It serves
// where no courier API is configured, and a booking typed in by staff when
// the courier's API is down is recorded under its name.
package manual

import (
	"context"

	"github.com/changchun-gov/courier/tracking"
)

// Carrier records manual bookings.
type Carrier struct{}

var _ tracking.Carrier = Carrier{}

// CarrierName is the name of bookings made by hand.
const CarrierName = "manual"

// Name is the carrier's name in bookings.
func (Carrier) Name() string { return CarrierName }

// Book answers the reference of a manual booking.
func (Carrier) Book(_ context.Context, b tracking.Booking) (string, error) {
	return "MANUAL-" + b.RunNo, nil
}

// BookExpress answers the reference of an express parcel booked by hand.
func (Carrier) BookExpress(_ context.Context, o tracking.ExpressOrder) (string, error) {
	return "MANUAL-" + o.WaybillNo, nil
}

// Cancel is a telephone call.
func (Carrier) Cancel(context.Context, tracking.Booking) error { return tracking.ErrManualStep }

// Routes: a manual booking has no route to query.
func (Carrier) Routes(context.Context, tracking.Booking) ([]tracking.RouteNode, error) {
	return nil, nil
}
