package tracking

import (
	"sort"
	"time"

	"github.com/changchun-gov/courier/shipment"
)

// ShelfItem is a parcel a hall's shelves should hold (ready, or in
// exception from the shelf), in its recorded slot.
type ShelfItem struct {
	WaybillNo string          `json:"waybill_no"`
	Status    shipment.Status `json:"status"`
	Slot      string          `json:"slot,omitempty"`
}

// Seen is a code scanned on the shelves during a stocktake, with the slot
// it was found in ("" when no slot was scanned before it).
type Seen struct {
	Code string `json:"code"`
	Slot string `json:"slot,omitempty"`
}

// Misplaced is a parcel found in another slot than the one recorded.
type Misplaced struct {
	WaybillNo string `json:"waybill_no"`
	Recorded  string `json:"recorded"`
	Found     string `json:"found"`
}

// StocktakeResult is what a stocktake (盘点) found.
type StocktakeResult struct {
	ID       int64     `json:"id"`
	Site     string    `json:"site"`
	At       time.Time `json:"at"`
	Expected int       `json:"expected"`
	Seen     int       `json:"seen"`
	// Missing should be on the shelves and was not seen.
	Missing []ShelfItem `json:"missing"`
	// Unexpected was seen and should not be there (not on this hall's
	// shelves, or no parcel of ours).
	Unexpected []string `json:"unexpected"`
	// Misplaced was seen in a slot other than its recorded one.
	Misplaced []Misplaced `json:"misplaced"`
}

// Reconcile compares what the shelves should hold with what was seen.
// Codes are waybill numbers as parsed; each parcel counts once (the last
// slot it was seen in wins).
func Reconcile(expected []ShelfItem, seen []Seen) StocktakeResult {
	r := StocktakeResult{Expected: len(expected), Missing: []ShelfItem{}, Unexpected: []string{}, Misplaced: []Misplaced{}}
	want := map[string]ShelfItem{}
	for _, e := range expected {
		want[e.WaybillNo] = e
	}
	found := map[string]string{}
	var order []string
	for _, s := range seen {
		if _, again := found[s.Code]; !again {
			order = append(order, s.Code)
		}
		found[s.Code] = s.Slot
	}
	r.Seen = len(found)
	for _, code := range order {
		e, ok := want[code]
		switch {
		case !ok:
			r.Unexpected = append(r.Unexpected, code)
		case found[code] != "" && e.Slot != "" && found[code] != e.Slot:
			r.Misplaced = append(r.Misplaced, Misplaced{WaybillNo: code, Recorded: e.Slot, Found: found[code]})
		}
	}
	for _, e := range expected {
		if _, ok := found[e.WaybillNo]; !ok {
			r.Missing = append(r.Missing, e)
		}
	}
	sort.Slice(r.Missing, func(i, j int) bool {
		return r.Missing[i].Slot+r.Missing[i].WaybillNo < r.Missing[j].Slot+r.Missing[j].WaybillNo
	})
	return r
}
