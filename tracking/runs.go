package tracking

import (
	"errors"
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// RunView is a consolidation run as the API shows it.
type RunView struct {
	ID          int64             `json:"-"`
	RunNo       string            `json:"run_no"`
	BagNo       string            `json:"bag_no"`
	SealNo      string            `json:"seal_no"`
	LegID       int64             `json:"leg_id"`
	FromSite    string            `json:"from_site"`
	ToSite      string            `json:"to_site"`
	Slot        time.Time         `json:"slot"`
	Status      string            `json:"status"`
	ParcelCount int               `json:"parcel_count"`
	CreatedAt   time.Time         `json:"created_at"`
	PickedUpAt  *time.Time        `json:"picked_up_at,omitempty"`
	ArrivedAt   *time.Time        `json:"arrived_at,omitempty"`
	ClosedAt    *time.Time        `json:"closed_at,omitempty"`
	Booking     *RunBookingStatus `json:"booking,omitempty"`
	Items       []RunItem         `json:"items,omitempty"`
	Extras      []string          `json:"extras,omitempty"`
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
