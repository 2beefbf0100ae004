package postgres_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/jobs"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func TestTailClosesAfterTwentyWrongOnes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := *b.ledger // a second instance on the same database
	no := b.register(t, certReg()).WaybillNo
	tr := func(k string) string { return k }
	alone, _, err := b.svc().Track(b.ctx, no, "", "zh-CN", tr)
	if err != nil {
		t.Fatal(err)
	}
	// 19 wrong tails, in parallel and from both instances: the right one
	// still opens the detail.
	var wg sync.WaitGroup
	for i := 0; i < postgres.TailLimit-1; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := b.ledger
			if i%2 == 1 {
				l = &other
			}
			st, matched, err := parcelsOf(l).Track(b.ctx, no, "1"+itoa(100+i), "zh-CN", tr)
			if err != nil || matched || !reflect.DeepEqual(st, alone) {
				t.Errorf("wrong tail %d: %+v %v", i, st, err)
			}
		}(i)
	}
	wg.Wait()
	if st, matched, err := parcelsOf(&other).Track(b.ctx, no, "5678", "zh-CN", tr); err != nil || !matched || st.Detail == nil {
		t.Fatalf("right tail after %d wrong ones: %+v %v", postgres.TailLimit-1, st, err)
	}
	// The 20th wrong one closes the tail for good: the right one gets
	// exactly the number-alone view, on every instance, however late.
	if _, matched, err := b.svc().Track(b.ctx, no, "0000", "zh-CN", tr); err != nil || matched {
		t.Fatalf("20th wrong tail: %v %v", matched, err)
	}
	b.clock.Add(90 * 24 * time.Hour)
	for _, l := range []*postgres.Ledger{b.ledger, &other} {
		st, matched, err := parcelsOf(l).Track(b.ctx, no, "5678", "zh-CN", tr)
		if err != nil || matched || !reflect.DeepEqual(st, alone) {
			t.Fatalf("right tail after %d wrong ones: %v %+v %v", postgres.TailLimit, matched, st, err)
		}
	}
	var n int
	_ = b.pool.QueryRow(b.ctx, `SELECT failures FROM tail_failures f JOIN parcels p ON p.id = f.parcel_id
		WHERE p.waybill_no = $1`, no).Scan(&n)
	if n != postgres.TailLimit {
		t.Fatalf("wrong tails counted: %d, want %d", n, postgres.TailLimit)
	}
	// Counting a parcel's tails touches no other parcel.
	other2 := b.register(t, certReg()).WaybillNo
	if _, matched, err := b.svc().Track(b.ctx, other2, "5678", "zh-CN", tr); err != nil || !matched {
		t.Fatalf("another parcel's tail: %v %v", matched, err)
	}
}

// A right tail waits for a wrong one in flight (on another connection or
// instance) and then sees it: a burst of guesses cannot slip the right one
// past the limit while the wrong ones are not yet committed.
func TestRightTailWaitsForWrongOnesInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	tr := func(k string) string { return k }
	for i := 0; i < postgres.TailLimit-1; i++ {
		if _, _, err := b.svc().Track(b.ctx, no, "0000", "zh-CN", tr); err != nil {
			t.Fatal(err)
		}
	}
	// The 20th wrong tail, in flight: its lock taken, its count not committed.
	tx, err := b.pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx) //nolint:errcheck
	if _, err := tx.Exec(b.ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, postgres.TailLockClass, no); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(b.ctx, `UPDATE tail_failures f SET failures = failures + 1 FROM parcels p
		WHERE p.id = f.parcel_id AND p.waybill_no = $1`, no); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		matched bool
		err     error
	}
	done := make(chan answer, 1)
	go func() {
		_, matched, err := b.svc().Track(b.ctx, no, "5678", "zh-CN", tr)
		done <- answer{matched, err}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for waiting := 0; waiting == 0; {
		select {
		case a := <-done:
			t.Fatalf("right tail answered while a wrong one was in flight: opened %v, %v", a.matched, a.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the right tail neither answered nor waited")
		}
		_ = b.pool.QueryRow(b.ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting)
		time.Sleep(2 * time.Millisecond) // polling for the waiter, not timing
	}
	if err := tx.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	if a := <-done; a.err != nil || a.matched {
		t.Fatalf("right tail after the 20th wrong one committed: opened %v, %v", a.matched, a.err)
	}
}

func TestPrivateLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ledger.PublicURL = "https://zwfw.example.cn"
	tr := func(k string) string { return k }
	v := b.register(t, certReg())
	no := v.WaybillNo
	tok, ok := strings.CutPrefix(v.PrivateURL, "https://zwfw.example.cn/s/")
	if !ok || !shipment.ValidLinkToken(tok) {
		t.Fatalf("private url %q", v.PrivateURL)
	}
	if got, _ := b.svc().Get(b.ctx, b.actors["clerk"], no); got.PrivateURL != v.PrivateURL {
		t.Fatalf("staff view: %q, want %q", got.PrivateURL, v.PrivateURL)
	}
	if got, _ := b.svc().Get(b.ctx, b.actors["api"], no); got.PrivateURL != v.PrivateURL {
		t.Fatalf("approval platform view: %q", got.PrivateURL)
	}
	// Retrievable later, for the ready SMS.
	var id int64
	_ = b.pool.QueryRow(b.ctx, `SELECT id FROM parcels WHERE waybill_no = $1`, no).Scan(&id)
	if u, err := b.ledger.PrivateLink(b.ctx, id); err != nil || u != v.PrivateURL {
		t.Fatalf("private link for the SMS: %q %v", u, err)
	}
	// Stored neither in clear nor as anything but its keyed hash and ciphertext.
	var clear int
	_ = b.pool.QueryRow(b.ctx, `SELECT count(*) FROM parcel_links pl WHERE pl::text LIKE '%' || $1 || '%'
		OR encode(token_hash, 'escape') LIKE '%' || $1 || '%' OR encode(token_enc, 'escape') LIKE '%' || $1 || '%'`, tok).Scan(&clear)
	if clear != 0 {
		t.Fatal("link token stored in clear")
	}
	byTail, _, err := b.svc().Track(b.ctx, no, "5678", "zh-CN", tr)
	if err != nil {
		t.Fatal(err)
	}
	// The link opens the same detail as the tail, also once the tail is closed.
	for i := 0; i < postgres.TailLimit; i++ {
		_, _, _ = b.svc().Track(b.ctx, no, "0000", "zh-CN", tr)
	}
	st, err := b.svc().TrackByLink(b.ctx, tok, "zh-CN", tr)
	if err != nil || !reflect.DeepEqual(st, byTail) {
		t.Fatalf("link view:\n got %+v %v\nwant %+v", st, err, byTail)
	}
	for _, bad := range []string{shipment.NewLinkToken(), strings.ToLower(tok), tok[:15], ""} {
		if _, err := b.svc().TrackByLink(b.ctx, bad, "zh-CN", tr); apperr.CodeOf(err) != "link.not_found" {
			t.Fatalf("link %q: %v", bad, err)
		}
	}

	// Valid until the journey ended 7 days ago, then gone.
	b.mustScan(t, "courier", no, shipment.ActPickup, "", shipment.InTransit)
	if got, err := b.svc().Get(b.ctx, b.actors["courier"], no); err != nil || got.PrivateURL != "" {
		t.Fatalf("courier's view: %q %v", got.PrivateURL, err)
	}
	b.mustScan(t, "staff", no, shipment.ActReceive, "", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready)
	b.mustScan(t, "staff", no, shipment.ActCollect, "", shipment.Collected, func(r *tracking.ScanRequest) { r.IDNumber = holderID })
	b.clock.Add(postgres.LinkGrace - 3*time.Minute) // the scan moved the clock 2 minutes on
	if st, err := b.svc().TrackByLink(b.ctx, tok, "zh-CN", tr); err != nil || st.Detail == nil || st.Status != shipment.Collected {
		t.Fatalf("link within 7 days of collection: %+v %v", st, err)
	}
	if n := linksRemoved(t, b); n != 0 {
		t.Fatalf("purge within 7 days removed %v links", n)
	}
	b.clock.Add(2 * time.Minute)
	if _, err := b.svc().TrackByLink(b.ctx, tok, "zh-CN", tr); apperr.CodeOf(err) != "link.not_found" {
		t.Fatalf("expired link: %v", err)
	}
	if got, _ := b.svc().Get(b.ctx, b.actors["clerk"], no); got.PrivateURL != "" {
		t.Fatalf("expired link still in the staff view: %q", got.PrivateURL)
	}
	if u, err := b.ledger.PrivateLink(b.ctx, id); err != nil || u != "" {
		t.Fatalf("expired link for the SMS: %q %v", u, err)
	}
	if n := linksRemoved(t, b); n != 1 {
		t.Fatalf("purge removed %v links, want 1", n)
	}
	var left int
	_ = b.pool.QueryRow(b.ctx, `SELECT count(*) FROM parcel_links`).Scan(&left)
	if left != 0 {
		t.Fatalf("links left after the purge: %d", left)
	}
}

// linksRemoved runs the purge job and returns how many links it removed.
func linksRemoved(t *testing.T, b *bundle) float64 {
	t.Helper()
	run, err := jobs.RunJob(b.ctx, b.ledger, b.svc(), tracking.JobPurge)
	if err != nil {
		t.Fatalf("purge: %+v %v", run, err)
	}
	var d map[string]any
	if err := json.Unmarshal(run.Detail, &d); err != nil {
		t.Fatal(err)
	}
	n, _ := d["links_removed"].(float64)
	return n
}

func TestEnsureLinksGivesOlderParcelsOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ledger.PublicURL = "https://zwfw.example.cn"
	older := b.register(t, certReg()).WaybillNo
	newer := b.register(t, certReg())
	// older was registered before private links existed.
	if _, err := b.pool.Exec(b.ctx, `DELETE FROM parcel_links pl USING parcels p WHERE p.id = pl.parcel_id
		AND p.waybill_no = $1`, older); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.svc().Get(b.ctx, b.actors["clerk"], older); v.PrivateURL != "" {
		t.Fatalf("older parcel has a link: %q", v.PrivateURL)
	}
	for want := 1; want >= 0; want-- { // a second run finds nothing to do
		if n, err := b.ledger.EnsureLinks(b.ctx); err != nil || n != want {
			t.Fatalf("ensure links: %d %v, want %d", n, err, want)
		}
	}
	v, _ := b.svc().Get(b.ctx, b.actors["clerk"], older)
	tok, ok := strings.CutPrefix(v.PrivateURL, "https://zwfw.example.cn/s/")
	if !ok || !shipment.ValidLinkToken(tok) {
		t.Fatalf("older parcel's link: %q", v.PrivateURL)
	}
	if st, err := b.svc().TrackByLink(b.ctx, tok, "zh-CN", func(k string) string { return k }); err != nil || st.WaybillNo != older || st.Detail == nil {
		t.Fatalf("older parcel's link opens: %+v %v", st, err)
	}
	if v2, _ := b.svc().Get(b.ctx, b.actors["clerk"], newer.WaybillNo); v2.PrivateURL != newer.PrivateURL {
		t.Fatalf("newer parcel's link changed: %q → %q", newer.PrivateURL, v2.PrivateURL)
	}
}
