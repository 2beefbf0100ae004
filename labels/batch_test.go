package labels_test

import (
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

// A print run's numbers are read as a scanner types them, in order; an
// empty, oversized or mistyped run is refused with every bad entry named.
func TestParseBatch(t *testing.T) {
	a, b := shipment.NewNumber(shipment.KindParcel), shipment.NewNumber(shipment.KindParcel)
	got, err := labels.ParseBatch([]string{" " + strings.ToLower(a) + " ", b})
	if err != nil || len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("%v, %v; want [%s %s]", got, err, a, b)
	}
	bag := shipment.NewNumber(shipment.KindBag)
	long := strings.Repeat("字", 50)
	_, err = labels.ParseBatch([]string{a, bag, "CP123", long})
	e := apperr.As(err)
	if e == nil || e.Code != "label.invalid_items" || e.Field != "waybill_nos" {
		t.Fatalf("bad entries: %v", err)
	}
	if items, _ := e.Args["items"].(string); !strings.Contains(items, bag) || !strings.Contains(items, "CP123") ||
		!strings.Contains(items, strings.Repeat("字", 40)+"…") || strings.Contains(items, a) {
		t.Fatalf("bad entries named: %q", e.Args["items"])
	}
	if _, err := labels.ParseBatch(nil); apperr.CodeOf(err) != labels.CodeBatchEmpty {
		t.Fatalf("empty: %v", err)
	}
	many := make([]string, labels.MaxBatch+1)
	for i := range many {
		many[i] = a
	}
	if _, err := labels.ParseBatch(many); apperr.CodeOf(err) != labels.CodeBatchTooLarge {
		t.Fatalf("too many: %v", err)
	}
	if _, err := labels.ParseBatch(many[:labels.MaxBatch]); err != nil {
		t.Fatalf("as many as allowed: %v", err)
	}
}

func TestCheckLayout(t *testing.T) {
	for in, want := range map[string]string{"": labels.LayoutLabel, "label": labels.LayoutLabel, "a4": labels.LayoutA4} {
		if got, err := labels.CheckLayout(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	if _, err := labels.CheckLayout("A4 "); apperr.CodeOf(err) != "label.layout_unknown" {
		t.Errorf("unknown layout: %v", err)
	}
}
