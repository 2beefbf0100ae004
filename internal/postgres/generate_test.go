package postgres_test

import (
	"testing"

	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/tracking"
)

// A generated year is a ledger like the service's own: every parcel with
// its people and its events, the chain whole (Verify), the states as the
// events say, and the lists and searches find its parcels.
func TestGenerateYear(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 1400
	var last int
	err := postgres.GenerateYear(b.ctx, b.pool, b.ledger.Keys, postgres.GenerateOptions{Parcels: n, End: b.clock.Now(),
		Chunk: 500, Workers: 2, Progress: func(d int) { last = max(last, d) }})
	if err != nil {
		t.Fatal(err)
	}
	if last != n {
		t.Fatalf("progress ended at %d", last)
	}
	if got := b.countRows(t, `SELECT count(*) FROM parcels p JOIN parcel_people pp ON pp.parcel_id = p.id`); got != n {
		t.Fatalf("%d parcels with people, want %d", got, n)
	}
	// The parcel's state is its last event's, and its seq count is its events'.
	if bad := b.countRows(t, `SELECT count(*) FROM parcels p WHERE p.event_seq <> (SELECT count(*) FROM events e WHERE e.parcel_id = p.id)
		OR p.status <> (SELECT e.status_after FROM events e WHERE e.parcel_id = p.id ORDER BY e.seq DESC LIMIT 1)`); bad != 0 {
		t.Fatalf("%d parcels disagree with their events", bad)
	}
	ev := b.countRows(t, `SELECT count(*) FROM events`)
	if per := float64(ev) / n; per < 6 || per > 10 {
		t.Fatalf("%.1f events a parcel, want about 8", per)
	}
	rep, err := b.ledger.Verify(b.ctx, tracking.VerifyScope{})
	if err != nil || rep.Broken() || rep.Parcels != n || rep.Events != ev {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	for _, st := range []string{"collected", "ready", "returned", "cancelled", "in_transit"} {
		if b.countRows(t, `SELECT count(*) FROM parcels WHERE status = $1`, st) == 0 {
			t.Errorf("no %s parcel generated", st)
		}
	}
	page, err := b.svc().List(b.ctx, b.actors["clerk"], tracking.Filter{Status: "ready", Limit: 10})
	if err != nil || len(page.Items) == 0 || page.Items[0].OriginSite != "D-SW" {
		t.Fatalf("the clerk's ready parcels: %+v %v", page, err)
	}
}
