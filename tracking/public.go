package tracking

import (
	"sort"
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// Shanghai is the time zone people read times in. Times are stored in UTC.
var Shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

// Local returns t in Asia/Shanghai.
func Local(t time.Time) time.Time { return t.In(Shanghai) }

// LocalPtr is Local for an optional time.
func LocalPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	l := Local(*t)
	return &l
}

// Place is a site as the public sees it.
type Place struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Hours   string `json:"opening_hours,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// PublicStatus is what anyone with the number may see: nothing personal.
type PublicStatus struct {
	WaybillNo   string          `json:"waybill_no"`
	Status      shipment.Status `json:"status"`
	StatusText  string          `json:"status_text"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Kind        shipment.Kind   `json:"kind"`
	Express     bool            `json:"express"`
	Destination *Place          `json:"destination,omitempty"`
	Bring       string          `json:"what_to_bring,omitempty"`
	ReadySince  *time.Time      `json:"ready_since,omitempty"`
	HoldUntil   *time.Time      `json:"hold_until,omitempty"`
	Detail      *PublicDetail   `json:"detail,omitempty"`
}

// PublicDetail is added when the caller knows the last four digits of the
// phone: masked name and phone, certificate type, department, timeline. Never
// full names, ID numbers, shelf slots or collection codes.
type PublicDetail struct {
	RecipientName string          `json:"recipient_name"`
	Phone         string          `json:"phone"`
	CertType      string          `json:"cert_type,omitempty"`
	Department    string          `json:"department,omitempty"`
	Timeline      []TimelineEntry `json:"timeline"`
}

// TimelineEntry is one step of the public timeline, newest first.
type TimelineEntry struct {
	At         time.Time       `json:"at"`
	Action     shipment.Action `json:"action"`
	ActionText string          `json:"action_text"`
	Status     shipment.Status `json:"status"`
	StatusText string          `json:"status_text"`
	Place      string          `json:"place,omitempty"`
}

// StateChanging reports whether an event belongs on a timeline. A reslot
// (a move between two shelf slots of the hall) is the hall's business, not a
// step of the journey.
func StateChanging(a shipment.Action) bool {
	return a == shipment.ActRegister || a == shipment.ActRedirect || (a.Valid() && a != shipment.ActReslot)
}

// Timeline folds events into timeline entries, newest first, leaving out
// events that change no state, and a mistaken change together with the
// correction (更正) that undid it: the journey as it went. place names a
// site; text translates a key.
func Timeline(events []Event, place func(code string) string, text func(key string) string) []TimelineEntry {
	out := make([]TimelineEntry, 0, len(events))
	undone := map[int]bool{}
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.Action == shipment.ActCorrect {
			undone[e.Corrects] = true
		}
		if !StateChanging(e.Action) || e.Action == shipment.ActCorrect || undone[e.Seq] {
			continue
		}
		out = append(out, TimelineEntry{
			At:         Local(e.ServerTime),
			Action:     e.Action,
			ActionText: text("action." + string(e.Action)),
			Status:     e.StatusAfter,
			StatusText: text("status." + string(e.StatusAfter)),
			Place:      place(e.Site),
		})
	}
	return out
}

// TimelineCourier is the action of a timeline entry that is a node of the
// courier's own route (no event of ours).
const TimelineCourier shipment.Action = "courier"

// courierActs are the actions of ours a courier's stage is the same story
// as: the node is that event, already on the timeline.
var courierActs = map[CourierStage]shipment.Action{StageCollected: shipment.ActPickup,
	StageOutForDelivery: shipment.ActDispatch, StageSigned: shipment.ActDeliver, StageFailed: shipment.ActFail}

// WithCourier adds the courier's route nodes to a timeline (newest first),
// one story: a node that tells what an event of ours on the timeline tells
// (collected: the pickup; out for delivery: the dispatch; signed for: the
// delivery; failed: the failure) is that event, and nodes that tell nothing
// (unknown stage) are left out; each other node is an entry of its own, in
// the state the parcel was in at the time (the courier's words are not
// shown: they may name the recipient).
func WithCourier(entries []TimelineEntry, nodes []RouteNode, text func(key string) string) []TimelineEntry {
	out := entries
	added := false
	has := map[shipment.Action]bool{}
	for _, e := range entries {
		has[e.Action] = true
	}
	for _, n := range nodes {
		if n.Stage == StageUnknown || n.Stage == StageCollected || has[courierActs[n.Stage]] {
			continue
		}
		e := TimelineEntry{At: Local(n.At), Action: TimelineCourier,
			ActionText: text("runs.carrier."+n.Carrier) + "：" + text("courier_stage."+string(n.Stage))}
		for _, x := range entries { // newest first: the first not after the node
			if !x.At.After(e.At) {
				e.Status, e.StatusText = x.Status, x.StatusText
				break
			}
		}
		if e.Status == "" {
			continue // before anything of ours: not this parcel's story
		}
		out = append(out, e)
		added = true
	}
	if added {
		sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	}
	return out
}
