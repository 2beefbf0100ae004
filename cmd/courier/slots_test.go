package main

import (
	"slices"
	"strings"
	"testing"
)

// A hall's slots, kept by an admin; the slot tag's QR code shelves a parcel
// through the scan API; staff see the slot, the public never does.
func TestShelfSlotsThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	put := s.must(200, "PUT", "/api/v1/sites/CC-WIN/slots", tok["admin"], map[string]any{"slot_required": true, "slots": []string{"b-01", "A-03-2"}})
	if !put.JSON["slot_required"].(bool) || !slices.Equal(strs(put.JSON["slots"]), []string{"A-03-2", "B-01"}) {
		t.Fatalf("put slots: %s", put.Body)
	}
	if r := s.do("PUT", "/api/v1/sites/CC-WIN/slots", tok["admin"], map[string]any{"slots": []string{"A-03-2", "A--1"}}); r.Status != 422 || r.errCode() != "slot.invalid" {
		t.Fatalf("bad slot: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/api/v1/sites/CC-WIN/slots", tok["staffNG"], nil); r.Status != 403 || r.errCode() != "site.not_yours" {
		t.Fatalf("another hall's staff: %d %s", r.Status, r.Body)
	}
	if got := s.must(200, "GET", "/api/v1/sites/CC-WIN/slots", tok["staff"], nil); !slices.Equal(strs(got.JSON["slots"]), []string{"A-03-2", "B-01"}) {
		t.Fatalf("get slots: %s", got.Body)
	}
	tag := s.must(200, "GET", "/api/v1/sites/CC-WIN/slots/a-03-2/label.pdf", tok["staff"], nil)
	pages := decodePDF(t, tag.Body)
	if len(pages) != 1 || len(pages[0]) != 1 || !strings.HasPrefix(pages[0][0], "QR-Code:CS") {
		t.Fatalf("slot tag decodes to %q", pages)
	}
	qr := strings.TrimPrefix(pages[0][0], "QR-Code:")

	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	for _, st := range []struct{ who, action string }{{"courier", "pickup"}, {"staff", "receive"}} {
		if r := s.scan(tok[st.who], no, st.action, ""); r.Status != 200 {
			t.Fatalf("%s: %d %s", st.action, r.Status, r.Body)
		}
	}
	if r := s.scan(tok["staff"], no, "shelve", ""); r.Status != 422 || r.errCode() != "slot.required" {
		t.Fatalf("shelve without a slot: %d %s", r.Status, r.Body)
	}
	r := s.scan(tok["staff"], no, "shelve", "", "slot", qr)
	if item := r.JSON["items"].([]any)[0].(map[string]any); r.Status != 200 || item["slot"] != "A-03-2" || item["status"] != "ready" {
		t.Fatalf("shelve: %d %s", r.Status, r.Body)
	}
	if v := s.must(200, "GET", "/api/v1/parcels/"+no, tok["staff"], nil); v.str("slot") != "A-03-2" {
		t.Fatalf("staff view: %s", v.Body)
	}
	if l := s.must(200, "GET", "/api/v1/parcels?status=ready", tok["staff"], nil); !strings.Contains(string(l.Body), `"slot":"A-03-2"`) {
		t.Fatalf("staff list: %s", l.Body)
	}
	if r := s.scan(tok["staff"], no, "reslot", "", "slot", "b-01"); r.Status != 200 {
		t.Fatalf("reslot: %d %s", r.Status, r.Body)
	}
	evs := s.must(200, "GET", "/api/v1/parcels/"+no+"/events", tok["staff"], nil)
	items := evs.JSON["items"].([]any)
	if last := items[len(items)-1].(map[string]any); last["action"] != "reslot" || last["slot"] != "B-01" || last["action_text"] != "移位" {
		t.Fatalf("reslot event: %v", last)
	}
	// The reslot was a mistake: staff may not correct it, the hall lead does.
	if r := s.scan(tok["staff"], no, "correct", "", "reason", "wrong_action"); r.Status != 403 || r.errCode() != "action.role_forbidden" ||
		!strings.Contains(r.JSON["error"].(map[string]any)["message"].(string), "更正") {
		t.Fatalf("staff corrects: %d %s", r.Status, r.Body)
	}
	if r := s.scan(tok["lead"], no, "correct", ""); r.Status != 422 || r.errCode() != "reason.required" {
		t.Fatalf("correct without a reason: %d %s", r.Status, r.Body)
	}
	reslotSeq := int(items[len(items)-1].(map[string]any)["seq"].(float64))
	r = s.scan(tok["lead"], no, "correct", "", "reason", "wrong_action", "corrects", reslotSeq)
	if item := r.JSON["items"].([]any)[0].(map[string]any); r.Status != 200 || item["slot"] != "A-03-2" ||
		item["corrected_action"] != "reslot" || int(item["corrects"].(float64)) != reslotSeq {
		t.Fatalf("the lead corrects the reslot: %d %s", r.Status, r.Body)
	}
	if v := s.must(200, "GET", "/api/v1/parcels/"+no, tok["staff"], nil); v.str("slot") != "A-03-2" {
		t.Fatalf("after the correction: %s", v.Body)
	}
	evs = s.must(200, "GET", "/api/v1/parcels/"+no+"/events", tok["staff"], nil)
	items = evs.JSON["items"].([]any)
	if last := items[len(items)-1].(map[string]any); last["action"] != "correct" || int(last["corrects"].(float64)) != reslotSeq ||
		last["action_text"] != "更正" || last["reason"] != "wrong_action" {
		t.Fatalf("correct event: %v", last)
	}
	if r := s.do("PUT", "/api/v1/sites/CC-WIN/slots", tok["admin"], map[string]any{"slot_required": true, "slots": []string{"B-01"}}); r.Status != 409 || r.errCode() != "slot.in_use" {
		t.Fatalf("removing a used slot: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/api/v1/track/" + no, "/api/v1/track/" + no + "?phone_tail=5678", "/t/" + no} {
		pub := s.must(200, "GET", path, "", nil)
		if b := string(pub.Body); strings.Contains(b, "B-01") || strings.Contains(b, "A-03-2") || strings.Contains(b, "CS1") || strings.Contains(b, "移位") ||
			strings.Contains(b, "更正") {
			t.Fatalf("%s shows the slot: %s", path, b)
		}
	}
	label := s.must(200, "GET", "/api/v1/parcels/"+no+"/label.pdf", tok["staff"], nil)
	for _, page := range decodePDF(t, label.Body) {
		for _, c := range page {
			if strings.Contains(c, "CS1") || strings.Contains(c, "B-01") {
				t.Fatalf("the parcel label carries the slot: %q", c)
			}
		}
	}
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
