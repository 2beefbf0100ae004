package tracking

import (
	"errors"
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// RunView is a consolidation run as the API shows it.
type RunView struct {
	ID          int64      `json:"-"`
	RunNo       string     `json:"run_no"`
	BagNo       string     `json:"bag_no"`
	SealNo      string     `json:"seal_no"`
	LegID       int64      `json:"leg_id"`
	FromSite    string     `json:"from_site"`
	ToSite      string     `json:"to_site"`
	Slot        time.Time  `json:"slot"`
	Status      string     `json:"status"`
	ParcelCount int        `json:"parcel_count"`
	CreatedAt   time.Time  `json:"created_at"`
	PickedUpAt  *time.Time `json:"picked_up_at,omitempty"`
	ArrivedAt   *time.Time `json:"arrived_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// HandedOverAt is when its courier recorded the bag's handover at the
	// destination (the destination's receive completes it).
	HandedOverAt *time.Time        `json:"handed_over_at,omitempty"`
	CancelNote   string            `json:"cancel_reason,omitempty"`
	Booking      *RunBookingStatus `json:"booking,omitempty"`
	// BookingStatus is the booking's state in a list (the detail has Booking).
	BookingStatus string    `json:"-"`
	Items         []RunItem `json:"items,omitempty"`
	Extras        []string  `json:"extras,omitempty"`
}

// RunItem is one parcel of a run and whether the receiving site saw it.
type RunItem struct {
	WaybillNo string          `json:"waybill_no"`
	Status    shipment.Status `json:"status"`
	SeenAt    *time.Time      `json:"seen_at,omitempty"`
	Outcome   string          `json:"outcome,omitempty"`
}

// RunBookingStatus is the courier booking of a run, as the API shows it.
type RunBookingStatus struct {
	Carrier    string     `json:"carrier"`
	Status     string     `json:"status"`
	CarrierRef string     `json:"carrier_ref,omitempty"`
	BookedAt   *time.Time `json:"booked_at,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	Attempts   int        `json:"attempts"`
	// Courier is the username of the courier the booking is assigned to.
	Courier string `json:"courier,omitempty"`
	// History is every change of the booking, oldest first.
	History []BookingEvent `json:"history"`
}

// The states of a booking.
const (
	BookingPending      = "pending"       // queued, being tried
	BookingBooked       = "booked"        // the courier has the order (or staff booked it by hand)
	BookingFailed       = "failed"        // the courier refused, or its outcome needs a person
	BookingCancelling   = "cancelling"    // the run was cancelled; the courier is being told
	BookingCancelled    = "cancelled"     // the courier's order is cancelled (or none was made)
	BookingCancelManual = "cancel_manual" // the run was cancelled; a person cancels with the courier by telephone
)

// BookingEvent is one change of a booking.
type BookingEvent struct {
	At         time.Time `json:"at"`
	Status     string    `json:"status"`
	Carrier    string    `json:"carrier"`
	CarrierRef string    `json:"carrier_ref,omitempty"`
	Note       string    `json:"note,omitempty"`
	Actor      string    `json:"actor,omitempty"` // a user's name; empty: the service
}

// BookingState is a run's booking as its worker reads it, or an express
// parcel's (ParcelID set; then Booking holds only the waybill as RunNo's
// stand-in, the origin as FromSite and the courier's Ref).
type BookingState struct {
	Booking
	Status    string
	Carrier   string
	RunStatus string
	// An express parcel's booking.
	ParcelID     int64
	WaybillNo    string
	ParcelStatus shipment.Status
}

// BookingMark is a change of a booking: its new status, and what the
// courier (or the person) said.
type BookingMark struct {
	Status  string
	Carrier string
	Ref     string
	Note    string
	Actor   string
	Attempt bool // an attempt to book (counted)
}

// CloseResult is the reconciliation of a closed check list.
type CloseResult struct {
	Run      *RunView `json:"run"`
	Received []string `json:"received"`
	Missing  []string `json:"missing"`
	Extras   []string `json:"extras"`
}

// RunFilter narrows the list of runs.
type RunFilter struct {
	Site   string
	Status string
	Limit  int
}

// ErrSlotTaken reports that a leg's slot was already made into a run (by
// this or another instance): not an error for the scheduler.
var ErrSlotTaken = errors.New("run slot already made")
