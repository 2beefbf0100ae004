package tracking

import (
	"reflect"
	"testing"

	"github.com/changchun-gov/courier/shipment"
)

// A stocktake finds the missing, the unexpected and the misplaced; a
// parcel scanned twice counts once, in the last slot it was seen in.
func TestReconcile(t *testing.T) {
	t.Parallel()
	expected := []ShelfItem{{"CP1", shipment.Ready, "A-01"}, {"CP2", shipment.Ready, "A-02"}, {"CP3", shipment.Ready, "A-01"},
		{"CP4", shipment.Exception, ""}}
	seen := []Seen{{"CP1", "A-01"}, {"CP2", "A-01"}, {"CP9", "A-01"}, {"CP1", "A-01"}, {"CP4", "A-02"}}
	got := Reconcile(expected, seen)
	want := StocktakeResult{Expected: 4, Seen: 4, Missing: []ShelfItem{{"CP3", shipment.Ready, "A-01"}},
		Unexpected: []string{"CP9"}, Misplaced: []Misplaced{{"CP2", "A-02", "A-01"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}
