package postgres_test

import (
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The desk's list filters by destination and by the days of registration
// (Asia/Shanghai), paged by key as before.
func TestListByDestinationAndDays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.register(t, certReg()) // 2026-11-27 10:00 in Shanghai
	b.clock.Add(48 * time.Hour)
	r := certReg()
	r.Destination.Site = "NG-HALL"
	second := b.register(t, r) // 2026-11-29
	clerk := b.actors["clerk"]
	list := func(f tracking.Filter) []string {
		t.Helper()
		p, err := b.svc().List(b.ctx, clerk, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var nos []string
		for _, it := range p.Items {
			nos = append(nos, it.WaybillNo)
		}
		return nos
	}
	for _, c := range []struct {
		f    tracking.Filter
		want []string
	}{
		{tracking.Filter{Dest: "NG-HALL"}, []string{second.WaybillNo}},
		{tracking.Filter{Dest: "CC-WIN"}, []string{first.WaybillNo}},
		{tracking.Filter{From: "2026-11-28"}, []string{second.WaybillNo}},
		{tracking.Filter{To: "2026-11-27"}, []string{first.WaybillNo}},
		{tracking.Filter{From: "2026-11-27", To: "2026-11-29"}, []string{second.WaybillNo, first.WaybillNo}},
		{tracking.Filter{From: "2026-11-30"}, nil},
		{tracking.Filter{Limit: 1, Cursor: ""}, []string{second.WaybillNo}},
	} {
		if got := list(c.f); len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
	}
	// A list of days pages by its cursor too.
	p1, err := b.svc().List(b.ctx, clerk, tracking.Filter{From: "2026-11-27", To: "2026-11-29", Limit: 1})
	if err != nil || len(p1.Items) != 1 || p1.Items[0].WaybillNo != second.WaybillNo || p1.NextCursor == "" {
		t.Fatalf("first page of the days: %+v %v", p1, err)
	}
	p2, err := b.svc().List(b.ctx, clerk, tracking.Filter{From: "2026-11-27", To: "2026-11-29", Limit: 1, Cursor: p1.NextCursor})
	if err != nil || len(p2.Items) != 1 || p2.Items[0].WaybillNo != first.WaybillNo || p2.NextCursor != "" {
		t.Fatalf("second page of the days: %+v %v", p2, err)
	}
	// A search by name finds the clerk's parcels and no one else's.
	if got := list(tracking.Filter{Text: "张三丰"}); len(got) != 2 {
		t.Errorf("by name: %v", got)
	}
	// The final states are listed by their own index (rare_end), with the
	// destination, and only once reached.
	b.mustScan(t, "clerk", first.WaybillNo, shipment.ActCancel, "D-SW", shipment.Cancelled,
		func(r *tracking.ScanRequest) { r.Reason = "applicant_withdrew" })
	for _, c := range []struct {
		f    tracking.Filter
		want []string
	}{
		{tracking.Filter{Status: shipment.Cancelled}, []string{first.WaybillNo}},
		{tracking.Filter{Status: shipment.Cancelled, Dest: "CC-WIN"}, []string{first.WaybillNo}},
		{tracking.Filter{Status: shipment.Cancelled, Dest: "NG-HALL"}, nil},
		{tracking.Filter{Status: shipment.Returned}, nil},
		{tracking.Filter{Status: shipment.Registered}, []string{second.WaybillNo}},
	} {
		if got := list(c.f); len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
	}
	for _, f := range []tracking.Filter{{From: "2026-13-01"}, {From: "2026-11-29", To: "2026-11-28"}, {Dest: "XX-HALL"}} {
		if _, err := b.svc().List(b.ctx, clerk, f); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%+v: %v, want invalid", f, err)
		}
	}
}

// A staff search by a holder's name or phone is recorded as a read of
// personal data: who, from which screen, by what, which parcels — not the
// text; a search by a number reveals no one and is not.
func TestSearchByNameOrPhoneIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.register(t, certReg())
	staff := b.actors["staff"]
	for _, q := range []struct{ text, purpose string }{{p.WaybillNo, "counter"}, {"张三丰", "counter"}, {"5678", "desk_list"},
		{"13812345678", "api"}, {"无此人", "counter"}} {
		if _, err := b.svc().List(b.ctx, staff, tracking.Filter{Text: q.text, Purpose: q.purpose}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := b.pool.Query(b.ctx, `SELECT actor_username, purpose, matched_by, waybills FROM personal_reads ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var who, purpose, by string
		var nos []string
		if err := rows.Scan(&who, &purpose, &by, &nos); err != nil {
			t.Fatal(err)
		}
		if who != staff.Username || len(nos) != 1 || nos[0] != p.WaybillNo {
			t.Errorf("read by %s of %v", who, nos)
		}
		got = append(got, purpose+"/"+by)
	}
	if want := []string{"counter/name", "desk_list/phone_tail", "api/phone"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("reads recorded: %v, want %v", got, want)
	}
	if _, err := b.pool.Exec(b.ctx, `DELETE FROM personal_reads`); err == nil {
		t.Fatal("the service's role deleted the record of reads")
	}
}
