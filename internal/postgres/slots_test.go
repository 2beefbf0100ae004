package postgres_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// arrived registers a parcel for CC-WIN and brings it there.
func (b *bundle) arrived(t *testing.T) string {
	t.Helper()
	no := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", no, shipment.ActPickup, "", shipment.InTransit)
	b.mustScan(t, "staff", no, shipment.ActReceive, "", shipment.Arrived)
	return no
}

func (b *bundle) setSlots(t *testing.T, site string, required bool, slots ...string) shipment.HallSlots {
	t.Helper()
	h, err := b.settings().SetHallSlots(b.ctx, b.actors["admin"], site, shipment.HallSlots{SlotRequired: required, Slots: slots})
	if err != nil {
		t.Fatalf("set slots of %s: %v", site, err)
	}
	return h
}

func withSlot(s string) func(*tracking.ScanRequest) {
	return func(r *tracking.ScanRequest) { r.Slot = s }
}

// parcelCounts is what a refused scan must leave alone: the parcel, its events and
// the outbox.
func (b *bundle) parcelCounts(t *testing.T, no string) string {
	t.Helper()
	var s string
	err := b.pool.QueryRow(b.ctx, `SELECT p.status || '/' || p.version || '/' || coalesce(p.slot, '-') || '/' ||
		(SELECT count(*) FROM events e WHERE e.parcel_id = p.id) || '/' || (SELECT count(*) FROM outbox)
		FROM parcels p WHERE waybill_no = $1`, no).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShelveTakesTheSlot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.setSlots(t, "CC-WIN", true, "b-01", "A-03-2", "A-03-2")
	if !h.SlotRequired || !slices.Equal(h.Slots, []string{"A-03-2", "B-01"}) {
		t.Fatalf("slots: %+v", h)
	}
	b.setSlots(t, "NG-HALL", false, "N-1")
	no := b.arrived(t)
	before := b.parcelCounts(t, no)
	mistyped, _ := shipment.SlotCode("A-03-2")
	mistyped = mistyped[:len(mistyped)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(mistyped, "0")]
	for _, c := range []struct {
		slot, code string
	}{
		{"", "slot.required"},
		{"A--1", "slot.invalid"},
		{"货架1", "slot.invalid"},
		{"Z-9", "slot.unknown"},
		{"N-1", "slot.unknown"}, // another hall's slot
		{mistyped, "slot.mistyped"},
	} {
		_, err := b.scan(t, "staff", no, shipment.ActShelve, "", withSlot(c.slot))
		if apperr.CodeOf(err) != c.code || apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("shelve into %q: %v, want %s", c.slot, err, c.code)
		}
		if e := apperr.As(err); e != nil && e.Field != "slot" {
			t.Errorf("shelve into %q: field %q", c.slot, e.Field)
		}
	}
	// A slot on another action, and a slot label scanned as the parcel.
	code, _ := shipment.SlotCode("A-03-2")
	if _, err := b.scan(t, "staff", no, shipment.ActReport, "", withSlot("A-03-2"), func(r *tracking.ScanRequest) { r.Reason = "damaged" }); apperr.CodeOf(err) != "slot.not_expected" {
		t.Errorf("slot on report: %v", err)
	}
	if _, err := b.scan(t, "staff", code, shipment.ActShelve, ""); apperr.CodeOf(err) != "scan.slot_in_code" {
		t.Errorf("slot label as the code: %v", err)
	}
	if got := b.parcelCounts(t, no); got != before {
		t.Fatalf("refused shelves wrote: %s, was %s", got, before)
	}

	// The slot label's code, as the scanner types it.
	res, err := b.scan(t, "staff", no, shipment.ActShelve, "", withSlot("]Q1"+strings.ToLower(code)+"\r\n"))
	if err != nil || res.Items[0].Status != shipment.Ready || res.Items[0].Slot != "A-03-2" {
		t.Fatalf("shelve: %+v %v", res, err)
	}
	v, err := b.svc().Get(b.ctx, b.actors["staff"], no)
	if err != nil || v.Slot != "A-03-2" {
		t.Fatalf("staff view: slot %q %v", v.Slot, err)
	}
	page, err := b.svc().List(b.ctx, b.actors["staff"], tracking.Filter{Status: shipment.Ready})
	if err != nil || len(page.Items) != 1 || page.Items[0].Slot != "A-03-2" {
		t.Fatalf("staff list: %+v %v", page.Items, err)
	}
	for _, q := range []string{"a-03-2", code} {
		page, err := b.svc().List(b.ctx, b.actors["staff"], tracking.Filter{Text: q})
		if err != nil || len(page.Items) != 1 || page.Items[0].WaybillNo != no {
			t.Fatalf("staff list of slot %q: %+v %v", q, page.Items, err)
		}
	}
	if page, _ := b.svc().List(b.ctx, b.actors["courier"], tracking.Filter{Text: "A-03-2"}); len(page.Items) != 0 {
		t.Errorf("a courier finds parcels by slot: %+v", page.Items)
	}
	if v, _ := b.svc().Get(b.ctx, b.actors["courier"], no); v.Slot != "" {
		t.Errorf("a courier sees the slot %q", v.Slot)
	}
	var detail map[string]any
	if err := b.pool.QueryRow(b.ctx, `SELECT detail FROM events e JOIN parcels p ON p.id = e.parcel_id
		WHERE p.waybill_no = $1 AND e.action = 'shelve'`, no).Scan(&detail); err != nil || detail["slot"] != "A-03-2" {
		t.Fatalf("shelve event detail: %v %v", detail, err)
	}

	// reslot: into another of the hall's slots, recorded.
	if _, err := b.scan(t, "staffNG", no, shipment.ActReslot, "", withSlot("N-1")); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("reslot by another hall: %v", err)
	}
	if _, err := b.scan(t, "courier", no, shipment.ActReslot, "CC-WIN", withSlot("B-01")); apperr.CodeOf(err) != "action.role_forbidden" {
		t.Errorf("reslot by a courier: %v", err)
	}
	for slot, want := range map[string]string{"": "slot.required", "A-03-2": "reslot.same_slot", "N-1": "slot.unknown", "B-1-": "slot.invalid"} {
		before := b.parcelCounts(t, no)
		if _, err := b.scan(t, "staff", no, shipment.ActReslot, "", withSlot(slot)); apperr.CodeOf(err) != want {
			t.Errorf("reslot into %q: %v, want %s", slot, err, want)
		}
		if got := b.parcelCounts(t, no); got != before {
			t.Errorf("refused reslot into %q wrote: %s, was %s", slot, got, before)
		}
	}
	b.mustScan(t, "staff", no, shipment.ActReslot, "", shipment.Ready, withSlot("b-01"))
	evs, err := b.svc().Events(b.ctx, b.actors["staff"], no)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Action != shipment.ActReslot || last.Slot != "B-01" || last.StatusBefore != shipment.Ready || last.StatusAfter != shipment.Ready {
		t.Fatalf("reslot event: %+v", last)
	}
	if err := b.pool.QueryRow(b.ctx, `SELECT detail FROM events e JOIN parcels p ON p.id = e.parcel_id
		WHERE p.waybill_no = $1 AND e.action = 'reslot'`, no).Scan(&detail); err != nil || detail["from_slot"] != "A-03-2" {
		t.Fatalf("reslot event detail: %v %v", detail, err)
	}
	if v, _ := b.svc().Get(b.ctx, b.actors["admin"], no); v.Slot != "B-01" {
		t.Fatalf("after reslot: slot %q", v.Slot)
	}
	if evs, _ := b.svc().Events(b.ctx, b.actors["courier"], no); slices.ContainsFunc(evs, func(e tracking.Event) bool { return e.Slot != "" }) {
		t.Error("a courier sees slots in the events")
	}

	// A slot a parcel stands in cannot be removed from the list.
	_, err = b.settings().SetHallSlots(b.ctx, b.actors["admin"], "CC-WIN", shipment.HallSlots{SlotRequired: true, Slots: []string{"A-03-2"}})
	if apperr.CodeOf(err) != "slot.in_use" || apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("removing a used slot: %v", err)
	}
	if h, _ := b.settings().HallSlots(b.ctx, b.actors["staff"], "CC-WIN"); !slices.Equal(h.Slots, []string{"A-03-2", "B-01"}) {
		t.Fatalf("a refused edit changed the list: %+v", h)
	}

	// Collected: off the shelf, and then the slot may go.
	code6 := b.readyCode(t)
	b.mustScan(t, "staff", no, shipment.ActCollect, "", shipment.Collected, func(r *tracking.ScanRequest) { r.CollectionCode = code6 })
	if v, _ := b.svc().Get(b.ctx, b.actors["admin"], no); v.Slot != "" {
		t.Fatalf("collected, still in slot %q", v.Slot)
	}
	if h := b.setSlots(t, "CC-WIN", true, "A-03-2"); !slices.Equal(h.Slots, []string{"A-03-2"}) {
		t.Fatalf("slots: %+v", h)
	}
}

// readyCode delivers the pending messages and returns the last collection code.
func (b *bundle) readyCode(t *testing.T) string {
	t.Helper()
	n := &sink{}
	if _, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: n}, 10); err != nil {
		t.Fatal(err)
	}
	return n.last(t).Params["code"]
}

func TestShelveWithoutSlotsWhereNotRequired(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.arrived(t)
	// No list, no setting: shelving needs no slot (but a named one must exist).
	if _, err := b.scan(t, "staff", no, shipment.ActShelve, "", withSlot("A-1")); apperr.CodeOf(err) != "slot.unknown" {
		t.Fatalf("unknown slot: %v", err)
	}
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready)
	if v, _ := b.svc().Get(b.ctx, b.actors["staff"], no); v.Slot != "" {
		t.Fatalf("slot %q", v.Slot)
	}
	// The hall now requires one: a reslot puts the parcel in a slot.
	b.setSlots(t, "CC-WIN", true, "A-1")
	b.mustScan(t, "staff", no, shipment.ActReslot, "", shipment.Ready, withSlot("A-1"))
	if v, _ := b.svc().Get(b.ctx, b.actors["staff"], no); v.Slot != "A-1" {
		t.Fatalf("slot %q", v.Slot)
	}
}

func TestHallSlotsEdits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, c := range []struct {
		who, site string
		in        shipment.HallSlots
		code      string
		kind      apperr.Kind
	}{
		{"staff", "CC-WIN", shipment.HallSlots{Slots: []string{"A-1"}}, "auth.forbidden", apperr.Forbidden},
		{"admin", "D-SW", shipment.HallSlots{Slots: []string{"A-1"}}, "site.wrong_kind", apperr.Invalid},
		{"admin", "XX-HALL", shipment.HallSlots{Slots: []string{"A-1"}}, "site.unknown", apperr.NotFound},
		{"admin", "CC-WIN", shipment.HallSlots{Slots: []string{"A-1", "A_2"}}, "slot.invalid", apperr.Invalid},
		{"admin", "CC-WIN", shipment.HallSlots{SlotRequired: true}, "slot.required_without_slots", apperr.Invalid},
		{"admin", "CC-WIN", shipment.HallSlots{Slots: make([]string, shipment.MaxHallSlots+1)}, "slot.too_many", apperr.Invalid},
	} {
		_, err := b.settings().SetHallSlots(b.ctx, b.actors[c.who], c.site, c.in)
		if apperr.CodeOf(err) != c.code || apperr.KindOf(err) != c.kind {
			t.Errorf("%s sets %s %v: %v, want %s", c.who, c.site, c.in, err, c.code)
		}
	}
	if e := apperr.As(func() error {
		_, err := b.settings().SetHallSlots(b.ctx, b.actors["admin"], "CC-WIN", shipment.HallSlots{Slots: []string{"A-1", "A_2"}})
		return err
	}()); e == nil || e.Field != "slots[1]" {
		t.Errorf("field of a bad slot: %+v", e)
	}
	var n int
	if err := b.pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM slots) + (SELECT count(*) FROM hall_settings)
		+ (SELECT count(*) FROM audit_log WHERE entity = 'slots')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused edits wrote %d rows (%v)", n, err)
	}
	b.setSlots(t, "CC-WIN", false, "A-1", "A-2")
	// The edit is audited once, with the hall's slots before and after.
	var before, after, by string
	if err := b.pool.QueryRow(b.ctx, `SELECT before::text, after::text, actor_username FROM audit_log
		WHERE entity = 'slots' AND entity_key = 'CC-WIN'`).Scan(&before, &after, &by); err != nil ||
		!strings.Contains(before, `"slots": []`) || !strings.Contains(after, `"slots": ["A-1", "A-2"]`) || by != b.actors["admin"].Username {
		t.Fatalf("slots audit: %s → %s by %s (%v)", before, after, by, err)
	}
	if _, err := b.settings().HallSlots(b.ctx, b.actors["staffNG"], "CC-WIN"); apperr.CodeOf(err) != "site.not_yours" {
		t.Errorf("another hall's staff: %v", err)
	}
	h, err := b.settings().HallSlots(b.ctx, b.actors["staff"], "CC-WIN")
	if err != nil || h.SlotRequired || !slices.Equal(h.Slots, []string{"A-1", "A-2"}) || h.Site != "CC-WIN" {
		t.Fatalf("hall slots: %+v %v", h, err)
	}
	l, err := b.settings().SlotLabel(b.ctx, b.actors["staff"], "CC-WIN", "a-2")
	if err != nil || l.Slot != "A-2" || !strings.Contains(l.Hall.Name, "长春市政务服务中心") {
		t.Fatalf("slot label: %+v %v", l, err)
	}
	if _, err := b.settings().SlotLabel(b.ctx, b.actors["staff"], "CC-WIN", "B-9"); apperr.CodeOf(err) != "slot.unknown" || apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("label of an unknown slot: %v", err)
	}
}

// The slot is for staff: never on the public track view, a label or a
// message to the citizen.
func TestSlotNeverPublic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const slot = "QX-77-9"
	code, _ := shipment.SlotCode(slot)
	b.setSlots(t, "CC-WIN", true, slot, "R-1")
	no := b.arrived(t)
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready, withSlot(code))
	b.mustScan(t, "staff", no, shipment.ActReslot, "", shipment.Ready, withSlot("R-1"))
	b.mustScan(t, "staff", no, shipment.ActReslot, "", shipment.Ready, withSlot(slot))
	leaks := func(what string, v any) {
		t.Helper()
		s := fmt.Sprintf("%+v", v)
		if j, err := json.Marshal(v); err == nil {
			s += string(j)
		}
		if strings.Contains(s, slot) || strings.Contains(s, code) || strings.Contains(s, "QX77") {
			t.Errorf("%s shows the slot: %s", what, s)
		}
	}
	if v, _ := b.svc().Get(b.ctx, b.actors["staff"], no); v.Slot != slot {
		t.Fatalf("staff view: slot %q", v.Slot)
	}
	for _, tail := range []string{"", "5678", "0000"} {
		st, _, err := b.svc().Track(b.ctx, no, tail, "zh-CN", func(k string) string { return k })
		if err != nil {
			t.Fatal(err)
		}
		if tail == "5678" && st.Detail == nil {
			t.Fatal("the right tail shows no detail")
		}
		leaks("track with tail "+tail, st)
	}
	ls, err := b.labels().LabelsFor(b.ctx, b.actors["staff"], []string{no})
	if err != nil {
		t.Fatal(err)
	}
	leaks("label", ls)
	n := &sink{}
	if _, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: n}, 10); err != nil {
		t.Fatal(err)
	}
	if len(n.msgs) == 0 {
		t.Fatal("no ready message")
	}
	leaks("message", n.msgs)
	var outbox string
	if err := b.pool.QueryRow(b.ctx, `SELECT coalesce(string_agg(o::text, ' '), '') FROM outbox o`).Scan(&outbox); err != nil {
		t.Fatal(err)
	}
	leaks("outbox", outbox)
	ms, _ := b.ledger.Messages(b.ctx, no, 10)
	leaks("operators' message list", ms)
}
