package tracking

import (
	"strings"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"

	"github.com/changchun-gov/courier/shipment"
)

// The contracted courier's records: each call to its API as it went over
// the wire, and each route node it told us of (pushed or queried).

// CourierExchange is one call to a courier's API. Request and Response
// are the bytes sent and received, secrets removed by the carrier's
// package; they hold personal data (an express parcel's recipient), so the
// store keeps them encrypted and purges them with the parcel's.
type CourierExchange struct {
	Carrier  string
	Service  string // the API's name for the call (serviceCode, apiCode)
	OrderID  string // our order id (a run's number, an express parcel's waybill)
	RunID    int64  // the run it books (0: none)
	ParcelID int64  // the express parcel it books (0: none)
	Started  time.Time
	Took     time.Duration
	Status   int    // HTTP status (0: none came)
	Outcome  string // "ok", the courier's code, or "no_answer"
	Request  []byte
	Response []byte
}

// CourierStage is where a route node puts a parcel.
type CourierStage string

// The stages a node may tell.
const (
	StageCollected      CourierStage = "collected"
	StageMoving         CourierStage = "moving"
	StageOutForDelivery CourierStage = "out_for_delivery"
	StageSigned         CourierStage = "signed"
	StageFailed         CourierStage = "failed"
	StageReturned       CourierStage = "returned"
	StageUnknown        CourierStage = ""
)

// RouteNode is one node of a courier's route of a waybill: kept once (by
// carrier, waybill, time and code), whether it came by push or by query.
type RouteNode struct {
	Carrier    string
	NodeID     string // the courier's id of the node, when it has one (SF's push)
	OrderID    string
	WaybillNo  string // the courier's waybill number
	At         time.Time
	OpCode     string
	Status     string // the courier's standard status, when given
	Stage      CourierStage
	Remark     string
	Via        string // "push" or "query"
	ReceivedAt time.Time
}

// ExchangeOutcome names how a courier call ended, for its record: "ok",
// "no_answer" (no readable answer came), the courier's code, or "error".
func ExchangeOutcome(err error, noAnswer bool, code string) string {
	switch {
	case err == nil:
		return "ok"
	case noAnswer:
		return "no_answer"
	case code != "":
		return code
	}
	return "error"
}

// CourierBooking is a run's booking as its courier's page shows it: where
// to collect the bag and where to hand it over.
type CourierBooking struct {
	RunNo         string      `json:"run_no"`
	BagNo         string      `json:"bag_no"`
	RunStatus     string      `json:"run_status"`
	Slot          time.Time   `json:"slot"`
	Parcels       int         `json:"parcel_count"`
	From          CourierStop `json:"from"`
	To            CourierStop `json:"to"`
	Carrier       string      `json:"carrier"`
	CarrierRef    string      `json:"carrier_ref,omitempty"`
	Courier       string      `json:"courier,omitempty"` // the username it is assigned to ("": open to take)
	Mine          bool        `json:"mine"`
	PickedUpAt    *time.Time  `json:"picked_up_at,omitempty"`
	HandedOverAt  *time.Time  `json:"handed_over_at,omitempty"`
	FromSite      string      `json:"-"`
	ToSite        string      `json:"-"`
	BookingStatus string      `json:"-"`
	// An express parcel's booking: the parcel (its number, its state) and
	// whom it goes to, in full to the courier it is assigned to while it
	// is on its way, masked to the others.
	WaybillNo    string            `json:"waybill_no,omitempty"`
	ParcelStatus shipment.Status   `json:"parcel_status,omitempty"`
	Recipient    *CourierRecipient `json:"recipient,omitempty"`
}

// CourierRecipient is an express parcel's recipient as the courier sees it.
type CourierRecipient struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

// CourierStop is a site as a courier needs it.
type CourierStop struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone,omitempty"`
}

// Assignment is a booking as its assignment is decided: the booking, whom
// it is assigned to (0: nobody), and whether its bag was handed over.
type Assignment struct {
	BookingState
	CourierID  int64
	HandedOver bool
}

// StageMapping reads a courier's events as stages: by event code first,
// then by a word of the event's name (the longest that matches). Signed
// for — the one stage that delivers — is told by a code only.
type StageMapping struct {
	Codes map[string]CourierStage `json:"codes"`
	Names map[string]CourierStage `json:"names"`
}

// MaxMappingEntries bounds a mapping's codes and names.
const MaxMappingEntries = 200

// CheckStageMapping checks an administrator's mapping: codes and words of
// 1 to 20 characters, each to a known stage, signed for by a code only.
//
// Errors: courier.mapping_invalid (invalid).
func CheckStageMapping(m StageMapping) error {
	bad := func(field, key string) error {
		return apperr.New(apperr.Invalid, "courier.mapping_invalid").OnField(field).With("key", key)
	}
	if len(m.Codes)+len(m.Names) == 0 || len(m.Codes)+len(m.Names) > MaxMappingEntries {
		return bad("codes", "")
	}
	for field, entries := range map[string]map[string]CourierStage{"codes": m.Codes, "names": m.Names} {
		for k, s := range entries {
			if n := len([]rune(k)); n == 0 || n > 20 || strings.TrimSpace(k) != k {
				return bad(field, k)
			}
			switch s {
			case StageCollected, StageMoving, StageOutForDelivery, StageFailed, StageReturned:
			case StageSigned:
				if field == "names" {
					return bad(field, k) // signed for: by a code only
				}
			default:
				return bad(field, k)
			}
		}
	}
	return nil
}
