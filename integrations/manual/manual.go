// Package manual is the carrier used until the courier company's API is
// integrated: a booking is recorded as made by telephone, and its reference
// is the run number for the dispatcher to quote.
package manual

import (
	"context"

	"github.com/changchun-gov/courier/tracking"
)

// Carrier records manual bookings.
type Carrier struct{}

var _ tracking.Carrier = Carrier{}

// Name is the carrier's name in bookings.
func (Carrier) Name() string { return "manual" }

// Book answers the reference of a manual booking.
func (Carrier) Book(_ context.Context, b tracking.Booking) (string, error) {
	return "MANUAL-" + b.RunNo, nil
}
