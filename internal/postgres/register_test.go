package postgres_test

import (
	"sync"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

func (b *bundle) countRows(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(b.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// An application number is registered once per origin and kind: the same
// registration sent again, even by several senders at once, answers the
// parcel registered before; a different body under the number is refused.
func TestApplicationNumberRegisteredOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := certReg()
	first := b.register(t, r)
	if first.Existing {
		t.Fatal("a new registration answered as existing")
	}
	again, err := b.svc().Register(b.ctx, b.actors["api"], r, shipment.SourceAPI)
	if err != nil || !again.Existing || again.WaybillNo != first.WaybillNo {
		t.Fatalf("sent again: %+v %v", again, err)
	}
	rows := `SELECT (SELECT count(*) FROM parcels) + (SELECT count(*) FROM events) + (SELECT count(*) FROM parcel_people)`
	if n := b.countRows(t, rows); n != 3 {
		t.Fatalf("%d rows after sending the same registration twice, want 3", n)
	}

	other := r
	other.Applicant.Phone = "13900001111"
	_, err = b.svc().Register(b.ctx, b.actors["clerk"], other, shipment.SourceWeb)
	if e := apperr.As(err); apperr.CodeOf(err) != "parcel.application_no_taken" || apperr.KindOf(err) != apperr.Conflict ||
		e.Field != "application_no" || e.Args["waybill_no"] != first.WaybillNo {
		t.Fatalf("a different body under the number: %v", err)
	}
	if n := b.countRows(t, rows); n != 3 {
		t.Fatalf("%d rows after a refused registration, want 3", n)
	}

	// The same number at another origin is another application.
	gt := r
	gt.OriginSite = "D-GT"
	v, err := b.svc().Register(b.ctx, b.actors["clerkGT"], gt, shipment.SourceWeb)
	if err != nil || v.Existing || v.WaybillNo == first.WaybillNo {
		t.Fatalf("same number at another origin: %+v %v", v, err)
	}

	// Many senders of one new registration at once: one parcel.
	race := certReg()
	nos := make([]string, 8)
	errs := make([]error, len(nos))
	var wg sync.WaitGroup
	for i := range nos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := b.svc().Register(b.ctx, b.actors["clerk"], race, shipment.SourceWeb)
			nos[i], errs[i] = v.WaybillNo, err
		}()
	}
	wg.Wait()
	for i := range nos {
		if errs[i] != nil || nos[i] != nos[0] {
			t.Fatalf("sender %d: %s %v (first %s)", i, nos[i], errs[i], nos[0])
		}
	}
	if n := b.countRows(t, `SELECT count(*) FROM parcels WHERE application_no = $1`, race.ApplicationNo); n != 1 {
		t.Fatalf("%d parcels for one application", n)
	}
}
