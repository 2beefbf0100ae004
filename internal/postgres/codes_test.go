package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// drawn hands out the given codes in order, then fails: a test sees every
// draw.
func drawn(codes ...string) func() (string, error) {
	var mu sync.Mutex
	return func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(codes) == 0 {
			return "", errors.New("more codes drawn than the test expects")
		}
		c := codes[0]
		codes = codes[1:]
		return c, nil
	}
}

func (b *bundle) lookup(who, hall, code string) (tracking.Page[tracking.ParcelView], error) {
	return b.svc().List(b.ctx, b.actors[who], tracking.Filter{CollectionCode: code, Site: hall})
}

// deliveredCodes delivers the queued SMS and answers each parcel's newest code.
func (b *bundle) deliveredCodes(t *testing.T) map[string]string {
	t.Helper()
	n := &sink{}
	if _, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: n}, 100); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range n.msgs {
		out[m.WaybillNo] = m.Params["code"]
	}
	return out
}

// Collection codes are unique among the ready parcels of a hall: a code
// drawn twice is drawn again, on shelving and in the reminder job, and the
// counter finds a parcel by its code alone.
func TestCollectionCodesUniqueInAHall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.throttle = &postgres.Throttle{Ledger: b.ledger, Window: 10 * time.Minute}
	// The second shelve draws the first parcel's code, then another.
	b.ledger.NewCode = drawn("111111", "111111", "222222")
	a, c := b.ready(t), b.ready(t)
	codes := b.deliveredCodes(t)
	if codes[a] != "111111" || codes[c] != "222222" {
		t.Fatalf("codes: %v", codes)
	}

	// The counter finds each by its code alone.
	for code, want := range map[string]string{"111111": a, "222222": c} {
		page, err := b.lookup("staff", "", code)
		if err != nil || len(page.Items) != 1 || page.Items[0].WaybillNo != want {
			t.Fatalf("lookup %s: %+v %v", code, page, err)
		}
	}
	if page, err := b.lookup("admin", "CC-WIN", "111111"); err != nil || len(page.Items) != 1 || page.Items[0].WaybillNo != a {
		t.Fatalf("admin lookup: %+v %v", page, err)
	}
	// Another hall's staff find nothing there; others may not look.
	if page, err := b.lookup("staffNG", "", "111111"); err != nil || len(page.Items) != 0 {
		t.Fatalf("lookup at another hall: %+v %v", page, err)
	}
	for who, want := range map[string]string{"clerk": "auth.forbidden", "courier": "auth.forbidden", "api": "auth.forbidden"} {
		if _, err := b.lookup(who, "", "111111"); apperr.CodeOf(err) != want {
			t.Errorf("%s: %v", who, err)
		}
	}
	for _, tc := range []struct{ who, hall, code, want string }{
		{"admin", "", "111111", "site.required"},
		{"admin", "D-SW", "111111", "site.wrong_kind"},
		{"staff", "NG-HALL", "111111", "parcel.other_site"},
		{"staff", "", "11111", "collect.code_format"},
		{"staff", "", "1111111", "collect.code_format"},
	} {
		if _, err := b.lookup(tc.who, tc.hall, tc.code); apperr.CodeOf(err) != tc.want {
			t.Errorf("%+v: %v", tc, err)
		}
	}

	// Two ready parcels of a hall cannot hold the same code, whoever writes it.
	if _, err := b.pool.Exec(b.ctx, `UPDATE parcels SET code_hash = (SELECT code_hash FROM parcels WHERE waybill_no = $1)
		WHERE waybill_no = $2`, a, c); err == nil {
		t.Fatal("the database accepted two ready parcels of a hall with one code")
	}

	// The reminder job draws fresh codes under the same rule: the first
	// draws the second's code, then another; the second draws the first's
	// new code, then another.
	b.clock.Add(4 * 24 * time.Hour)
	b.ledger.NewCode = drawn("222222", "444444", "444444", "555555")
	if _, err := b.ledger.RemindReady(b.ctx, 3*24*time.Hour, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	codes = b.deliveredCodes(t)
	if codes[a] != "444444" || codes[c] != "555555" {
		t.Fatalf("reminder codes: %v", codes)
	}
	if page, err := b.lookup("staff", "", "111111"); err != nil || len(page.Items) != 0 {
		t.Fatalf("the revoked code still finds a parcel: %+v %v", page, err)
	}
	b.mustScan(t, "staff", a, shipment.ActCollect, "CC-WIN", shipment.Collected, func(r *tracking.ScanRequest) { r.CollectionCode = "444444" })
}

// A lookup that finds nothing counts as a wrong code at the hall: past the
// limit even the right code is refused there, so lookups cannot guess.
func TestCollectionCodeLookupsCannotGuess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.throttle = &postgres.Throttle{Ledger: b.ledger, Window: 10 * time.Minute}
	b.ledger.NewCode = drawn("123456")
	no := b.ready(t)
	for i := 0; i < postgres.MaxCodeLookupFailures; i++ {
		page, err := b.lookup("staff", "", "9"+itoa(10000+i))
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("guess %d: %+v %v", i, page, err)
		}
	}
	if _, err := b.lookup("staff", "", "123456"); apperr.CodeOf(err) != "collect.lookup_too_many" {
		t.Fatalf("the right code after %d failed lookups: %v", postgres.MaxCodeLookupFailures, err)
	}
	// The parcel itself is still collected by its code, scanned from its label.
	b.mustScan(t, "staff", no, shipment.ActCollect, "CC-WIN", shipment.Collected, func(r *tracking.ScanRequest) { r.CollectionCode = "123456" })
}

// Two shelves at one hall at the same instant may draw the same free code:
// the one the unique index refuses draws again, and its station sees no
// refusal. Here another transaction takes 111111 for a parcel of the hall
// after the shelve found the code free and before it wrote it.
func TestShelveThatLosesItsCodeDrawsAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, c := b.arrived(t), b.arrived(t)
	tx, err := b.owner.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx) //nolint:errcheck
	if _, err := tx.Exec(b.ctx, `UPDATE parcels SET status = 'ready', code_hash = $1 WHERE waybill_no = $2`,
		b.ledger.CodeHash("CC-WIN", "111111"), c); err != nil {
		t.Fatal(err)
	}
	b.ledger.NewCode = drawn("111111", "222222")
	done := make(chan error, 1)
	go func() {
		_, err := b.svc().Scan(b.ctx, b.actors["staff"], tracking.ScanRequest{Code: a, Action: shipment.ActShelve,
			Site: "CC-WIN", ScanID: nextScanID()})
		done <- err
	}()
	// The shelve waits on the index for the other transaction; it commits.
	for waiting := false; !waiting; {
		if err := b.owner.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("the shelve did not wait for the code: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := tx.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the shelve was refused: %v", err)
	}
	if codes := b.deliveredCodes(t); codes[a] != "222222" {
		t.Fatalf("codes %v, want 222222 for %s", codes, a)
	}
}

// A parcel reported from the shelf keeps its code: another shelve at the
// hall does not draw it, and the parcel goes back to the shelf with it.
func TestCodeOfAParcelInExceptionStaysItsOwn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ledger.NewCode = drawn("111111", "111111", "222222")
	a := b.ready(t)
	b.mustScan(t, "staff", a, shipment.ActReport, "CC-WIN", shipment.Exception, func(r *tracking.ScanRequest) {
		r.Reason = "damaged"
	})
	c := b.arrived(t)
	b.mustScan(t, "staff", c, shipment.ActShelve, "CC-WIN", shipment.Ready)
	b.mustScan(t, "staff", a, shipment.ActResolve, "CC-WIN", shipment.Ready, func(r *tracking.ScanRequest) {
		r.Resolution = shipment.ResolveRestore
	})
	if codes := b.deliveredCodes(t); codes[a] != "111111" || codes[c] != "222222" {
		t.Fatalf("codes %v: %s keeps 111111, %s draws 222222", codes, a, c)
	}
}

// Wrong collection codes sent at once cannot pass the limit together:
// each is counted before it is tried.
func TestParallelCodeGuessesStopAtTheLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.throttle = &postgres.Throttle{Ledger: b.ledger, Window: 10 * time.Minute}
	b.ledger.NewCode = drawn("111111")
	no := b.ready(t)
	const guesses = 24
	codes := make(chan string, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			_, err := b.svc().Scan(b.ctx, b.actors["staff"], tracking.ScanRequest{Code: no, Action: shipment.ActCollect,
				Site: "CC-WIN", ScanID: nextScanID(), CollectionCode: fmt.Sprintf("%06d", 200000+i)})
			codes <- apperr.CodeOf(err)
		})
	}
	wg.Wait()
	close(codes)
	tried := 0
	for c := range codes {
		switch c {
		case "collect.code_wrong":
			tried++
		case "collect.too_many":
		default:
			t.Errorf("a guess answered %q", c)
		}
	}
	if tried > service.MaxCodeFailures {
		t.Fatalf("%d wrong codes were tried, the limit is %d", tried, service.MaxCodeFailures)
	}
}

// A wrong collection code says how many tries remain; the last says none
// do, and the next is refused.
func TestWrongCodeSaysTheTriesLeft(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.throttle = &postgres.Throttle{Ledger: b.ledger, Window: 10 * time.Minute}
	b.ledger.NewCode = drawn("111111")
	no := b.ready(t)
	var got []string
	for i := range service.MaxCodeFailures + 1 {
		_, err := b.svc().Scan(b.ctx, b.actors["staff"], tracking.ScanRequest{Code: no, Action: shipment.ActCollect,
			Site: "CC-WIN", ScanID: nextScanID(), CollectionCode: fmt.Sprintf("%06d", 200000+i)})
		ae := apperr.As(err)
		if ae == nil {
			t.Fatalf("guess %d: %v", i, err)
		}
		got = append(got, fmt.Sprintf("%s %v %v", ae.Code, ae.Args["remaining"], ae.Args["exhausted"]))
	}
	want := []string{"collect.code_wrong 4 <nil>", "collect.code_wrong 3 <nil>", "collect.code_wrong 2 <nil>",
		"collect.code_wrong 1 <nil>", "collect.code_wrong <nil> true", "collect.too_many <nil> <nil>"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("answers:\n got %v\nwant %v", got, want)
	}
}
