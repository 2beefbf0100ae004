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
	if req.Corrects != 0 {
		body = append(body, "corrects", req.Corrects)
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
	// What a correction would put back (shipment.Change).
	if b := shipment.BeforeOf(p, req.Action, o); !b.Empty() {
		d["before"] = b
	}
	return d
}

// CorrectAnswer is the answer to a correction: the parcel as it is put back.
func CorrectAnswer(p *shipment.Parcel, r shipment.Restore, req ScanRequest, number string, now time.Time) ScanResult {
	np := shipment.Parcel{Path: r.Path, PathIdx: r.PathIdx}
	item := ItemResult{WaybillNo: p.WaybillNo, Status: r.To, Previous: r.From, Site: r.Site,
		NextSite: np.NextSite(), Corrects: r.Undoes.Seq, CorrectedAction: r.Undoes.Action}
	if r.To == shipment.Ready {
		item.Slot = r.Slot
	}
	return ScanResult{ScanID: req.ScanID, Kind: "parcel", Code: number, At: Local(now), Items: []ItemResult{item}}
}

// CorrectDetail is what a correction's event records beyond its columns:
// the event it undoes, and what it puts back (as any event records what it
// changed).
func CorrectDetail(p *shipment.Parcel, r shipment.Restore) map[string]any {
	d := map[string]any{"corrects": r.Undoes.Seq, "corrected_action": string(r.Undoes.Action)}
	if len(r.Path) > 0 && !slices.Equal(r.Path, p.Path) {
		d["path"] = r.Path
	}
	if r.Slot != p.Slot && r.Slot != "" {
		d["slot"] = r.Slot
	}
	return d
}
