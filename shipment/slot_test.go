package shipment

import (
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

func TestSlotCodeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, slot := range []string{"A", "A-03-2", "B12", "K-1-10-A", "ZZZZ-9999-0000-AB12", "A0-32", "CS12"} {
		code, err := SlotCode(slot)
		if err != nil {
			t.Fatalf("SlotCode(%q): %v", slot, err)
		}
		if !strings.HasPrefix(code, SlotPrefix) || strings.Trim(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Fatalf("SlotCode(%q) = %q: not CS and digits and capitals only", slot, code)
		}
		for _, raw := range []string{code, strings.ToLower(code), "]Q1" + code + "\r\n", "https://x.example/" + code, " " + code + " "} {
			got, err := ParseCode(raw)
			if err != nil || got.Kind != KindSlot || got.Slot != slot || got.Number != code {
				t.Fatalf("ParseCode(%q) = %+v, %v; want slot %q", raw, got, err, slot)
			}
			if s, err := ParseSlot(raw); err != nil || s != slot {
				t.Fatalf("ParseSlot(%q) = %q, %v", raw, s, err)
			}
		}
		// The structure is checked: moving a hyphen gives another code.
		if slot == "A0-32" {
			other, _ := SlotCode("A-03-2")
			if other == code {
				t.Fatal("A0-32 and A-03-2 share a code")
			}
		}
	}
	if c, _ := SlotCode("A-03-2"); c != "CS1A20312"+string(CheckChar("CS1A20312")) {
		t.Fatalf("SlotCode(A-03-2) = %q", c)
	}
}

func TestParseSlot(t *testing.T) {
	t.Parallel()
	code, _ := SlotCode("A-03-2")
	ok := map[string]string{"a-03-2": "A-03-2", " B12 \r\n": "B12", "Ａ－０３－２": "A-03-2", "k–1": "K-1"}
	for raw, want := range ok {
		if got, err := ParseSlot(raw); err != nil || got != want {
			t.Errorf("ParseSlot(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	bad := map[string]string{
		"":                        "slot.invalid",
		"A--3":                    "slot.invalid",
		"ABCDE":                   "slot.invalid",
		"A-1-2-3-4":               "slot.invalid",
		"货架1":                     "slot.invalid",
		code[:len(code)-1] + "Z":  "slot.mistyped",
		NewNumber(KindParcel):     "slot.invalid",
		strings.Repeat("A", 1000): "slot.invalid",
	}
	if code[len(code)-1] == 'Z' {
		delete(bad, code[:len(code)-1]+"Z")
	}
	for raw, want := range bad {
		_, err := ParseSlot(raw)
		if apperr.CodeOf(err) != want || apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("ParseSlot(%q): %v, want %s", truncate(raw), err, want)
		}
	}
	if _, err := SlotCode("a-1"); apperr.CodeOf(err) != "slot.invalid" {
		t.Errorf("SlotCode(a-1): %v", err)
	}
	// A parcel number still wins over a slot code in the same text.
	no := NewNumber(KindParcel)
	if c, err := ParseCode(code + " " + no); err != nil || c.Kind != KindParcel {
		t.Errorf("parcel and slot: %+v %v", c, err)
	}
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

func TestDecideReslot(t *testing.T) {
	t.Parallel()
	ready := func() *Parcel {
		p := decCert()
		p.PathIdx, p.Status, p.Slot = 1, Ready, "A-01"
		p.LastAction, p.LastSite, p.LastAt = ActShelve, p.Path[1], decT0
		return p
	}
	later := decT0.Add(2 * RepeatWindow)
	o, err := Decide(ready(), Command{Action: ActReslot, Actor: decAdmin, Now: later, Slot: "B-02"})
	if err != nil || o.Repeat || o.To != Ready || o.Site != ready().Path[1] {
		t.Fatalf("reslot: %+v %v", o, err)
	}
	_, err = Decide(ready(), Command{Action: ActReslot, Actor: decAdmin, Now: later, Slot: "A-01"})
	decWantErr(t, err, apperr.Conflict, "reslot.same_slot")
	_, err = Decide(ready(), Command{Action: ActReslot, Actor: decAdmin, Now: later})
	decWantErr(t, err, apperr.Invalid, "slot.required")
	_, err = Decide(ready(), Command{Action: ActReslot, Actor: Actor{ID: 5, Role: RoleClerk, Site: ready().Path[1]}, Now: later, Slot: "B-02"})
	decWantErr(t, err, apperr.Forbidden, "action.role_forbidden")

	// A repeat of a reslot is one into the same slot; into another slot
	// within the window it moves the parcel again.
	p := ready()
	p.LastAction, p.LastAt = ActReslot, decT0
	if o, err := Decide(p, Command{Action: ActReslot, Actor: decAdmin, Now: decT0.Add(time.Second), Slot: "A-01"}); err != nil || !o.Repeat {
		t.Fatalf("same slot again: %+v %v", o, err)
	}
	if o, err := Decide(p, Command{Action: ActReslot, Actor: decAdmin, Now: decT0.Add(time.Second), Slot: "C-03"}); err != nil || o.Repeat {
		t.Fatalf("another slot: %+v %v", o, err)
	}
	// A shelve into another slot within the window is no repeat.
	if o, err := Decide(ready(), Command{Action: ActShelve, Actor: decAdmin, Now: decT0.Add(time.Second), Slot: "A-01"}); err != nil || !o.Repeat {
		t.Fatalf("shelve again: %+v %v", o, err)
	}
	_, err = Decide(ready(), Command{Action: ActShelve, Actor: decAdmin, Now: decT0.Add(time.Second), Slot: "C-03"})
	decWantErr(t, err, apperr.Conflict, "state.not_allowed")
}

func TestCheckShelfSlot(t *testing.T) {
	for name, c := range map[string]struct {
		slot            string
		required, known bool
		code            string
	}{
		"none, none needed":   {"", false, false, ""},
		"none, one required":  {"", true, false, "slot.required"},
		"one of the hall's":   {"A-01", true, true, ""},
		"not one of the hall": {"A-09", false, false, "slot.unknown"},
	} {
		err := CheckShelfSlot("CC-WIN", c.slot, c.required, c.known)
		if (err == nil) != (c.code == "") || (err != nil && apperr.CodeOf(err) != c.code) {
			t.Errorf("%s: %v, want %q", name, err, c.code)
		}
	}
}
