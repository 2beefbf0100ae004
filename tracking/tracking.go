// Package tracking is the ledger's vocabulary: the events appended for every
// change to a parcel, the scan request and its answer, the public status
// projection (what a citizen may see), the timeline, and the Notifier that
// delivers messages after commit.
//
// It holds ids and codes only; personal data reaches the public projection
// masked, and only after the phone-tail check.
package tracking

import (
	"context"
	"errors"
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// Event is one appended change to a parcel. Events are never updated or
// deleted; the parcel's current state is derived from them and stored in the
// same transaction.
type Event struct {
	ParcelID     int64           `json:"-"`
	WaybillNo    string          `json:"waybill_no"`
	Seq          int             `json:"seq"`
	Action       shipment.Action `json:"action"`
	StatusBefore shipment.Status `json:"status_before,omitempty"`
	StatusAfter  shipment.Status `json:"status_after"`
	Site         string          `json:"site,omitempty"`
	ActorID      int64           `json:"actor_id,omitempty"`
	ActorRole    shipment.Role   `json:"actor_role"`
	Source       shipment.Source `json:"source"`
	Device       string          `json:"device,omitempty"`
	ScanID       string          `json:"scan_id,omitempty"`
	DeviceTime   *time.Time      `json:"device_time,omitempty"`
	ServerTime   time.Time       `json:"server_time"`
	RunID        string          `json:"run_id,omitempty"`
	BagID        string          `json:"bag_id,omitempty"`
	LegID        string          `json:"leg_id,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	// Slot is the shelf slot a shelve or reslot put the parcel in (from the
	// event's detail; staff only, never on a public view).
	Slot string `json:"slot,omitempty"`
	// Corrects is, on a correction (更正), the seq of the event it undid.
	Corrects int `json:"corrects,omitempty"`
}

// ScanRequest is one scan or action: the code as the scanner typed it, the
// action, where, and the scan's own identity and time.
type ScanRequest struct {
	Code       string              `json:"code"`
	Action     shipment.Action     `json:"action"`
	Site       string              `json:"site,omitempty"`
	ScanID     string              `json:"scan_id"`
	Device     string              `json:"device,omitempty"`
	ScannedAt  *time.Time          `json:"scanned_at,omitempty"`
	Source     shipment.Source     `json:"source,omitempty"`
	Reason     string              `json:"reason,omitempty"`
	Resolution shipment.Resolution `json:"resolution,omitempty"`
	// Collect: the collection code or the holder's ID number, and a proxy.
	CollectionCode string `json:"collection_code,omitempty"`
	IDNumber       string `json:"id_number,omitempty"`
	Proxy          *Proxy `json:"proxy,omitempty"`
	// Shelve, reslot: the shelf slot, bare ("A-03-2") or a slot label's code.
	Slot string `json:"slot,omitempty"`
	// Correct: the seq of the event the corrector means to undo (the
	// parcel's latest change; 0: whatever that is).
	Corrects int `json:"corrects,omitempty"`
	// Deliver (an express parcel, by our courier at the door): how the
	// recipient was verified, with a photo and their signature.
	Proof *DeliveryProof `json:"proof,omitempty"`
}

// DeliveryProof is what our courier takes at the door before handing an
// express parcel over: the delivery code the recipient received by SMS,
// or the last digits of their ID number, and a photo and a drawn
// signature (JPEG, PNG or WebP; the signature PNG). Personal data: stored
// encrypted, purged with the rest.
type DeliveryProof struct {
	Code      string `json:"delivery_code,omitempty"`
	IDTail    string `json:"id_tail,omitempty"`
	Photo     []byte `json:"photo,omitempty"`
	Signature []byte `json:"signature,omitempty"`
	PhotoType string `json:"-"`
}

// Proxy is a person collecting for the holder, with the holder's
// authorisation (委托书). Personal data: stored apart, purgeable.
type Proxy struct {
	Name          string          `json:"name"`
	IDType        shipment.IDType `json:"id_type"`
	IDNumber      string          `json:"id_number"`
	Authorisation string          `json:"authorisation"`
	// Photo is the authorisation photographed or uploaded at the counter
	// (JPEG, PNG or WebP; PhotoType is its sniffed type once checked).
	Photo     []byte `json:"-"`
	PhotoType string `json:"-"`
}

// ItemResult is the answer for one parcel of a scan. A bag scan answers with
// one item per parcel in the bag.
type ItemResult struct {
	WaybillNo  string          `json:"waybill_no"`
	Status     shipment.Status `json:"status"`
	StatusText string          `json:"status_text"`
	Previous   shipment.Status `json:"previous_status"`
	Repeat     bool            `json:"repeat"`
	Seq        int             `json:"seq"`
	Site       string          `json:"site,omitempty"`
	NextSite   string          `json:"next_site,omitempty"`
	Slot       string          `json:"slot,omitempty"` // shelve, reslot: the slot it stands in
	// A correction: the event it undid and that event's action.
	Corrects        int             `json:"corrects,omitempty"`
	CorrectedAction shipment.Action `json:"corrected_action,omitempty"`
}

// ScanResult is the answer to a scan.
type ScanResult struct {
	ScanID string       `json:"scan_id"`
	Kind   string       `json:"kind"` // "parcel" (later also "bag", "run")
	Code   string       `json:"code"`
	Repeat bool         `json:"repeat"`
	Items  []ItemResult `json:"items"`
	At     time.Time    `json:"at"`
}

// Message is a notification to a citizen, written to the outbox in the same
// transaction as the change that causes it and delivered after commit.
type Message struct {
	ID        int64
	ParcelID  int64
	WaybillNo string
	Template  string
	Phone     string
	Params    map[string]string
	Text      string // the rendered text (Chinese), filled before the gateway sees it
}

// Notifier is the SMS gateway (a later issue brings one; until it is
// configured no SMS leaves and the outbox keeps them queued).
//
// Notify returns the provider's reference for the message only when the
// provider accepted it. Any error leaves the message unsent: an error that
// wraps ErrRejected means the message will never be accepted (a number the
// provider refuses, a template it does not know), and the message is marked
// failed; any other error is retried later.
type Notifier interface {
	Notify(ctx context.Context, m Message) (ref string, err error)
}

// ErrRejected marks a gateway's final refusal of a message.
var ErrRejected = errors.New("message rejected")

// Booking asks the contracted courier to collect a run's bag. The run's
// number is the order's id at the courier: the booking's idempotency key.
type Booking struct {
	RunID    int64
	RunNo    string
	BagNo    string
	FromSite string
	ToSite   string
	Parcels  int
	Slot     time.Time
	Ref      string // the courier's waybill number, once booked
}

// Carrier books courier pickups through the courier company's API, or
// records a booking made by hand (integrations/manual).
type Carrier interface {
	Name() string
	// Book places the run's order, once: an answer that did not come is
	// resolved by asking the courier, never by ordering again. An error
	// wrapping ErrPermanent will not succeed by retrying.
	Book(ctx context.Context, b Booking) (ref string, err error)
	// Cancel cancels the run's order; ErrManualStep: the courier has no
	// cancel a program may call, and a person cancels by telephone.
	Cancel(ctx context.Context, b Booking) error
	// Routes queries the route of a booked run's waybill.
	Routes(ctx context.Context, b Booking) ([]RouteNode, error)
}

// ExpressOrder asks the courier to deliver one express parcel from its
// origin to its recipient's address. The parcel's waybill number is the
// order's id at the courier. Recipient is personal data: the carrier sends
// it and the exchange's record is purged with the parcel's.
type ExpressOrder struct {
	ParcelID  int64
	WaybillNo string
	FromSite  string
	Recipient ExpressRecipient
	Ref       string // the courier's waybill number, once booked
}

// ExpressRecipient is who an express parcel goes to.
type ExpressRecipient struct {
	Name, Phone string
	Address     shipment.Address
}

// ExpressCarrier books express parcels to citizens' doors.
type ExpressCarrier interface {
	Name() string
	// BookExpress places the parcel's order, once (as Carrier.Book).
	BookExpress(ctx context.Context, o ExpressOrder) (ref string, err error)
}

// ErrPermanent marks a courier's answer that retrying will not change (a
// refused address, an account the courier does not know, an order whose
// outcome a person must find out).
var ErrPermanent = errors.New("the courier's answer is final")

// ErrManualStep is a step the courier's API does not offer: a person does
// it (by telephone) and the booking's history says so.
var ErrManualStep = errors.New("a manual step: the courier's API does not offer it")
