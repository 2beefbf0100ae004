package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// race sends one scan per request at the same instant and returns each
// answer in order.
func (b *bundle) race(reqs []tracking.ScanRequest, who []string) ([]tracking.ScanResult, []error) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	res := make([]tracking.ScanResult, len(reqs))
	errs := make([]error, len(reqs))
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res[i], errs[i] = b.svc().Scan(context.Background(), b.actors[who[i]], reqs[i])
		}()
	}
	close(start)
	wg.Wait()
	return res, errs
}

// Twelve stations send the same pickup with their own scan ids at once: one
// is applied and every other one is a repeat, however the race falls.
func TestSameScanFromTwelveStationsIsOneAppliedAndRepeats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const rounds, stations = 30, 12
	for round := 0; round < rounds; round++ {
		no := b.register(t, certReg()).WaybillNo
		reqs := make([]tracking.ScanRequest, stations)
		who := make([]string, stations)
		for i := range reqs {
			reqs[i] = tracking.ScanRequest{Code: no, Action: shipment.ActPickup, Site: "D-SW", ScanID: nextScanID()}
			who[i] = "courier"
		}
		res, errs := b.race(reqs, who)
		applied, repeats := 0, 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d station %d: %v (a repeat answered as refused)", round, i, err)
			}
			if res[i].Repeat {
				repeats++
			} else {
				applied++
			}
			if res[i].Items[0].Status != shipment.InTransit {
				t.Fatalf("round %d station %d: status %s", round, i, res[i].Items[0].Status)
			}
		}
		if st, n := b.status(t, no); applied != 1 || repeats != stations-1 || n != 2 || st != shipment.InTransit {
			t.Fatalf("round %d: %d applied, %d repeats, %d events, %s", round, applied, repeats, n, st)
		}
	}
}

// Two different actions from twelve stations at once: one scan wins, the
// others of its action are repeats, and every scan of the other action is
// refused as a conflict.
func TestDifferentActionsRacingStillConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const rounds, stations = 20, 12
	for round := 0; round < rounds; round++ {
		no := b.register(t, certReg()).WaybillNo
		reqs := make([]tracking.ScanRequest, stations)
		who := make([]string, stations)
		for i := range reqs {
			if i%2 == 0 {
				reqs[i] = tracking.ScanRequest{Code: no, Action: shipment.ActPickup, Site: "D-SW", ScanID: nextScanID()}
				who[i] = "courier"
			} else {
				reqs[i] = tracking.ScanRequest{Code: no, Action: shipment.ActCancel, ScanID: nextScanID(), Reason: "applicant_withdrew"}
				who[i] = "clerk"
			}
		}
		res, errs := b.race(reqs, who)
		var winner shipment.Action
		for i, err := range errs {
			if err == nil && !res[i].Repeat {
				if winner != "" {
					t.Fatalf("round %d: two winners", round)
				}
				winner = reqs[i].Action
			}
		}
		if winner == "" {
			t.Fatalf("round %d: no winner: %v", round, errs)
		}
		for i, err := range errs {
			switch {
			case reqs[i].Action == winner && err != nil:
				t.Fatalf("round %d: %s like the winner refused: %v", round, winner, err)
			case reqs[i].Action != winner && apperr.KindOf(err) != apperr.Conflict:
				t.Fatalf("round %d: %s after %s won: %v, want a conflict", round, reqs[i].Action, winner, err)
			}
		}
		want := shipment.InTransit
		if winner == shipment.ActCancel {
			want = shipment.Cancelled
		}
		if st, n := b.status(t, no); n != 2 || st != want {
			t.Fatalf("round %d: %d events, %s (winner %s)", round, n, st, winner)
		}
	}
}

// The same holds for a shelve, which runs in a transaction with its side
// effects: twelve stations shelving one parcel into one slot make one
// shelve, one message, and eleven repeats.
func TestSameShelveFromTwelveStationsIsOneApplied(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setSlots(t, "CC-WIN", true, "A-03-2")
	const rounds, stations = 10, 12
	for round := 0; round < rounds; round++ {
		no := b.arrived(t)
		reqs := make([]tracking.ScanRequest, stations)
		who := make([]string, stations)
		for i := range reqs {
			reqs[i] = tracking.ScanRequest{Code: no, Action: shipment.ActShelve, Slot: "A-03-2", ScanID: nextScanID()}
			who[i] = "staff"
		}
		res, errs := b.race(reqs, who)
		applied := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d station %d: %v", round, i, err)
			}
			if !res[i].Repeat {
				applied++
			}
			if res[i].Items[0].Slot != "A-03-2" {
				t.Fatalf("round %d station %d: slot %q", round, i, res[i].Items[0].Slot)
			}
		}
		var msgs int
		if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM outbox o JOIN parcels p ON p.id = o.parcel_id
			WHERE p.waybill_no = $1`, no).Scan(&msgs); err != nil {
			t.Fatal(err)
		}
		if st, _ := b.status(t, no); applied != 1 || msgs != 1 || st != shipment.Ready {
			t.Fatalf("round %d: %d applied, %d messages, %s", round, applied, msgs, st)
		}
	}
}
