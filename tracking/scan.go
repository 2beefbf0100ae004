package tracking

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// ScanBody is what identifies a scan's body, so a reused scan id with
// another body is told apart from a repeat. It holds collection codes and
// ID numbers: it is stored only as a keyed hash.
func ScanBody(actorID int64, number string, req ScanRequest) []byte {
	body := []any{actorID, number, req.Action, req.Site, req.Reason, req.Resolution,
		req.CollectionCode, req.IDNumber, req.Proxy}
	if req.Slot != "" {
		body = append(body, req.Slot) // only then: older answers keep their fingerprints
	}
	b, _ := json.Marshal(body)
	return b
}

// Answer is the answer to a parcel scan shipment.Decide moved (the event's
// seq is filled in once it is written).
func Answer(p *shipment.Parcel, o shipment.Outcome, req ScanRequest, number string, now time.Time) ScanResult {
	np := shipment.Parcel{Path: o.Path, PathIdx: o.PathIdx}
	item := ItemResult{WaybillNo: p.WaybillNo, Status: o.To, Previous: o.From, Site: o.Site, Slot: req.Slot,
		NextSite: np.NextSite()}
	return ScanResult{ScanID: req.ScanID, Kind: "parcel", Code: number, At: Local(now), Items: []ItemResult{item}}
}

// RepeatAnswer is the answer to a scan shipment.Decide found a repeat.
func RepeatAnswer(p *shipment.Parcel, o shipment.Outcome, req ScanRequest, number string, now time.Time) ScanResult {
	item := ItemResult{WaybillNo: p.WaybillNo, Status: o.To, Previous: o.From, Repeat: true,
		Site: o.Site, NextSite: p.NextSite()}
	if req.Action.TakesSlot() {
		item.Slot = p.Slot
	}
	return ScanResult{ScanID: req.ScanID, Kind: "parcel", Code: number, Repeat: true, At: Local(now),
		Items: []ItemResult{item}}
}

// EventDetail is what a scan's event records beyond its columns: the
// resolution, a changed path, and for a shelve or reslot the slot (and the
// slot the parcel left).
func EventDetail(p *shipment.Parcel, o shipment.Outcome, req ScanRequest) map[string]any {
	d := map[string]any{}
	if req.Resolution != "" {
		d["resolution"] = string(req.Resolution)
	}
	if len(o.Path) > 0 && !slices.Equal(o.Path, p.Path) {
		d["path"] = o.Path
	}
	if req.Action.TakesSlot() {
		if req.Slot != "" {
			d["slot"] = req.Slot
		}
		if req.Action == shipment.ActReslot && p.Slot != "" {
			d["from_slot"] = p.Slot
		}
	}
	return d
}
