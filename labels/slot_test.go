package labels_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

func TestSlotLabel(t *testing.T) {
	t.Parallel()
	for _, slot := range []string{"A-03-2", "K-1-10-AB12", "B7"} {
		var buf bytes.Buffer
		_, err := newRenderer(t).Slot(&buf, labels.SlotLabel{Slot: slot, Hall: labels.Place{Code: "NA-HALL", Name: "农安县政务服务中心"}})
		if err != nil {
			t.Fatal(err)
		}
		pdf := buf.Bytes()
		code, _ := shipment.SlotCode(slot)
		got := decodePage(t, pdf, 1)
		if want := []string{"QR-Code:" + code}; !slices.Equal(got, want) {
			t.Fatalf("decoded %q, want %q", got, want)
		}
		// What the scanner reads is the slot, through the one scan field.
		c, err := shipment.ParseCode(strings.TrimPrefix(got[0], "QR-Code:"))
		if err != nil || c.Kind != shipment.KindSlot || c.Slot != slot {
			t.Fatalf("ParseCode of the QR text: %+v %v", c, err)
		}
		if n := pageCount(t, pdf); n != 1 {
			t.Fatalf("%d pages", n)
		}
		text := squash(pdfText(t, pdf, 0, 0))
		for _, s := range []string{"货位", slot, "农安县政务服务中心"} {
			if !strings.Contains(text, s) {
				t.Errorf("text lacks %q:\n%s", s, text)
			}
		}
	}
}

func TestSlotLabelErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		label labels.SlotLabel
		field string
	}{
		{labels.SlotLabel{Slot: "a-03", Hall: labels.Place{Name: "农安县政务服务中心"}}, "slot"},
		{labels.SlotLabel{Slot: "", Hall: labels.Place{Name: "农安县政务服务中心"}}, "slot"},
		{labels.SlotLabel{Slot: "A-03"}, "hall"},
	} {
		var buf bytes.Buffer
		_, err := newRenderer(t).Slot(&buf, c.label)
		e := apperr.As(err)
		if e == nil || e.Code != labels.CodeFieldInvalid || e.Field != c.field || buf.Len() != 0 {
			t.Errorf("%+v: %v (%d bytes written)", c.label, err, buf.Len())
		}
	}
}
