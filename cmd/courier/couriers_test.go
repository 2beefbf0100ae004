package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/integrations/ems"
	"github.com/changchun-gov/courier/integrations/sfexpress"
	"github.com/changchun-gov/courier/integrations/simulator"
	"github.com/changchun-gov/courier/internal/pgtest"
	"github.com/changchun-gov/courier/tracking"
)

const testPushToken = "test-push-token-0123456789abcdef"

// courierService boots the service with the in-process courier simulator
// in the test's hands (its timeline ticked by the test, on the test's
// clock), fast retries and short courier time-outs.
func courierService(t *testing.T, clock *pgtest.Clock, extra ...string) (*service, *courierSim) {
	t.Helper()
	var mu sync.Mutex
	var sim *courierSim
	h := &testHooks{now: clock.Now, courierTimeout: 700 * time.Millisecond, retry: 300 * time.Millisecond,
		sim: func(s *courierSim) {
			mu.Lock()
			defer mu.Unlock()
			s.sf.Delay = 2 * time.Second // past the time-out: the order is placed, the answer never read
			sim = s
		}}
	env := map[string]string{"COURIER_COURIER_SIM": "on", "COURIER_PUSH_TOKEN": testPushToken, "COURIER_SIM_SPEED": "1"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	s := bootHooks(t, env, h)
	mu.Lock()
	defer mu.Unlock()
	if sim == nil {
		t.Fatal("no simulator started")
	}
	return s, sim
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scalar reads one value from the service's database, as its superuser.
func (s *service) scalar(dst any, sql string, args ...any) {
	s.t.Helper()
	conn, err := pgx.Connect(context.Background(), s.superuserURL())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(dst); err != nil {
		s.t.Fatal(err)
	}
}

func (s *service) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	s.scalar(&n, sql, args...)
	return n
}

func (s *service) text(sql string, args ...any) string {
	s.t.Helper()
	var v string
	s.scalar(&v, sql, args...)
	return v
}

func (s *service) booking(token, runNo string) map[string]any {
	s.t.Helper()
	r := s.must(200, "GET", "/api/v1/runs/"+runNo, token, nil)
	b, _ := r.JSON["booking"].(map[string]any)
	return b
}

// A certificate goes department → hall through SF on its real protocol
// (the simulator), with the courier failing for a while: a rate limit, a
// dropped answer and a lookup that times out before the order is booked
// once; pushes come reversed and repeated, one replayed. Every leg's bag is
// picked up by the courier's push alone (no one scans it), received at the
// hall, and the certificate collected. Nothing is booked twice, no node kept
// twice, no parcel moved backwards; a bad push is refused and changes
// nothing.
func TestCourierBookingsThroughTheSimulator(t *testing.T) {
	t.Parallel()
	clock := pgtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, tracking.Shanghai)) // a Thursday
	s, sim := courierService(t, clock)
	tok := s.users()
	admin := tok["admin"]
	legs := s.legIDs(admin)
	p := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	no := p.str("waybill_no")
	var path []string
	for _, x := range p.JSON["path"].([]any) {
		path = append(path, x.(string))
	}
	staff := map[string]string{"CC-WIN": tok["staff"]}
	var runs []string
	for i := 0; i+1 < len(path); i++ {
		from, to := path[i], path[i+1]
		if i == 0 {
			// The courier fails for a while on the first booking.
			sim.sf.Fail(simulator.FaultRateLimit, simulator.FaultDrop, simulator.FaultSlow)
		}
		run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", legs[from+">"+to]), admin, nil)
		runNo, bagNo := run.str("run_no"), run.str("bag_no")
		runs = append(runs, runNo)
		var b map[string]any
		eventually(t, 20*time.Second, "booking of "+runNo, func() bool {
			b = s.booking(admin, runNo)
			return b["status"] == "booked"
		})
		if b["carrier"] != "sfexpress" || !strings.HasPrefix(fmt.Sprint(b["carrier_ref"]), "SF") {
			t.Fatalf("booking: %v", b)
		}
		if i == 0 {
			hist := b["history"].([]any)
			last := hist[len(hist)-1].(map[string]any)
			if b["attempts"].(float64) < 3 || len(hist) < 4 || last["status"] != "booked" || !strings.Contains(fmt.Sprint(hist), "A1005") {
				t.Fatalf("the first booking's history: attempts %v, %v", b["attempts"], hist)
			}
		}
		if n := sim.sf.Orders(); n != i+1 {
			t.Fatalf("%d orders at SF after %d bookings", n, i+1)
		}

		// The courier collects the bag: its push picks the run up. The
		// first push comes reversed, the next repeats an accepted node.
		sim.sf.FailPush(simulator.PushReverse, simulator.PushRepeat)
		clock.Add(45 * time.Minute)
		if n, err := sim.timeline.Tick(context.Background()); err != nil || n != 1 {
			t.Fatalf("the collected push: %d nodes accepted, %v", n, err)
		}
		r := s.must(200, "GET", "/api/v1/runs/"+runNo, admin, nil)
		if r.str("status") != "picked_up" {
			t.Fatalf("after the collected push: %s", r.Body)
		}
		clock.Add(4 * time.Hour)
		if n, err := sim.timeline.Tick(context.Background()); err != nil || n != 4 {
			t.Fatalf("the rest of the route: %d nodes accepted, %v\n%s", n, err, s.stderr.String())
		}
		if n := s.count(`SELECT count(*) FROM route_nodes WHERE waybill_no = $1`, b["carrier_ref"]); n != 4 {
			t.Fatalf("%d route nodes kept, want the route's 4 once each", n)
		}
		if e := s.eventCount(admin, no, "pickup"); e != i+1 {
			t.Fatalf("%d pickups after leg %d", e, i+1)
		}
		// Signed for at the hall: the hall's receive completes the leg.
		if r := s.must(200, "GET", "/api/v1/parcels/"+no, admin, nil); r.str("status") != "in_transit" {
			t.Fatalf("after signed for: %s", r.str("status"))
		}
		if staff[to] == "" {
			staff[to] = s.staffAt(admin, to)
		}
		s.must(200, "POST", "/api/v1/scans", staff[to], map[string]any{"code": bagNo, "action": "receive", "scan_id": scanID()})
		if r := s.scan(staff[to], no, "receive", ""); r.Status != 200 {
			t.Fatalf("receive at %s: %s", to, r.Body)
		}
		if i+2 < len(path) {
			s.must(200, "POST", "/api/v1/runs/"+runNo+"/close", staff[to], nil)
		}
	}
	if r := s.scan(staff["CC-WIN"], no, "shelve", ""); r.Status != 200 {
		t.Fatalf("shelve: %s", r.Body)
	}
	if r := s.scan(staff["CC-WIN"], no, "collect", "", "id_number", "11010519491231002X"); r.Status != 200 {
		t.Fatalf("collect: %s", r.Body)
	}

	// One story on the public timeline: the courier's nodes between our
	// events, the collected node folded into the pickup, each node once.
	tr := s.must(200, "GET", "/api/v1/track/"+no+"?phone_tail=5678", "", nil)
	var story []string
	for _, e := range tr.JSON["detail"].(map[string]any)["timeline"].([]any) {
		m := e.(map[string]any)
		story = append([]string{m["action"].(string) + ":" + m["action_text"].(string)}, story...)
	}
	if got := strings.Join(story, " | "); !strings.Contains(got, "pickup:") ||
		!strings.Contains(got, "courier:顺丰速运：运送中 | courier:顺丰速运：派送中 | courier:顺丰速运：已签收 | receive:") ||
		strings.Count(got, "运送中") != len(runs) {
		t.Errorf("the public timeline, oldest first: %s", got)
	}

	// Never backwards: each event's state follows the one before.
	ev := s.must(200, "GET", "/api/v1/parcels/"+no+"/events", admin, nil)
	prev := ""
	for _, e := range ev.JSON["items"].([]any) {
		m := e.(map[string]any)
		if before, _ := m["status_before"].(string); prev != "" && before != prev {
			t.Fatalf("event %v follows %s", m, prev)
		}
		prev = m["status_after"].(string)
		if m["action"] == "pickup" && (m["source"] != "courier" || m["actor_role"] != "courier") {
			t.Errorf("a pickup by push: %v", m)
		}
	}
	if prev != "collected" {
		t.Fatalf("ends %s", prev)
	}

	// A replayed push (the route again, as SF's own retry would send it) is
	// answered 0000 and changes nothing; a forged one is not even read.
	nodes := s.count(`SELECT count(*) FROM route_nodes`)
	events := len(ev.JSON["items"].([]any))
	ref := s.booking(admin, runs[0])["carrier_ref"].(string)
	replay := fmt.Sprintf(`{"Body":{"WaybillRoute":[{"id":"1","mailno":%q,"orderid":%q,"acceptTime":%q,"opCode":"50","remark":"顺丰速运 已收取快件"}]}}`,
		ref, runs[0], s.text(`SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') FROM route_nodes
			WHERE waybill_no = $1 AND op_code = '50'`, ref))
	r := s.do("POST", "/hooks/sfexpress/"+testPushToken, "", replay, "Content-Type", "application/json")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"0000"`) {
		t.Fatalf("replayed push: %d %s", r.Status, r.Body)
	}
	for _, bad := range []struct {
		path, body string
		status     int
	}{
		{"/hooks/sfexpress/wrong-token-0123456789abcdef", replay, http.StatusNotFound},
		{"/hooks/dhl/" + testPushToken, replay, http.StatusNotFound},
		{"/hooks/sfexpress/" + testPushToken, `{"Body":`, http.StatusBadRequest},
		{"/hooks/sfexpress/" + testPushToken, `{"Body":{"WaybillRoute":[{"mailno":"SF1","acceptTime":"yesterday","opCode":"50"}]}}`, http.StatusBadRequest},
		{"/hooks/ems/" + testPushToken, `{"logitcsInterface":"not-sm4","serialNo":"S1"}`, http.StatusBadRequest},
	} {
		r := s.do("POST", bad.path, "", bad.body, "Content-Type", "application/json")
		if r.Status != bad.status {
			t.Errorf("%s %s: %d %s", bad.path, bad.body, r.Status, r.Body)
		}
		if strings.HasPrefix(bad.path, "/hooks/ems/") && !strings.Contains(string(r.Body), `"S00001"`) {
			t.Errorf("EMS push that does not decrypt: %s", r.Body)
		}
	}
	// A push of a waybill that is no booking of ours is answered (so SF stops
	// pushing it) and not kept.
	stranger := `{"Body":{"WaybillRoute":[{"id":"9","mailno":"SF0000000000001","orderid":"CR00000000000000","acceptTime":"2026-12-03 10:00:00","opCode":"50"}]}}`
	if r := s.do("POST", "/hooks/sfexpress/"+testPushToken, "", stranger, "Content-Type", "application/json"); r.Status != 200 {
		t.Errorf("unknown waybill: %d %s", r.Status, r.Body)
	}
	if n := s.count(`SELECT count(*) FROM route_nodes`); n != nodes {
		t.Errorf("%d route nodes after the bad pushes, were %d", n, nodes)
	}
	if n := len(s.must(200, "GET", "/api/v1/parcels/"+no+"/events", admin, nil).JSON["items"].([]any)); n != events {
		t.Errorf("%d events after the bad pushes, were %d", n, events)
	}
	// Every call of the first booking kept, as it went: rate limited, the
	// order's answer dropped, its lookup timed out, then the duplicate order
	// answered by the lookup.
	if got := s.text(`SELECT string_agg(service || ':' || outcome, ',' ORDER BY x.id) FROM courier_exchanges x
		JOIN runs r ON r.id = x.run_id WHERE r.run_no = $1`, runs[0]); !strings.HasPrefix(got, "EXP_RECE_CREATE_ORDER:A1005,EXP_RECE_CREATE_ORDER:no_answer,EXP_RECE_SEARCH_ORDER_RESP:no_answer,EXP_RECE_CREATE_ORDER:8016,EXP_RECE_SEARCH_ORDER_RESP:ok") {
		t.Errorf("the first booking's calls: %s", got)
	}
	if strings.Contains(s.stderr.String(), "王小明") || strings.Contains(s.stderr.String(), "13912345678") {
		t.Errorf("personal data in the log")
	}
}

// A run not yet picked up is cancelled: its booking is cancelled at SF, its
// parcels wait and ride the next run; a picked-up run cannot be cancelled.
// A booking made by hand is recorded with who made it.
func TestCancelRunAndBookByHand(t *testing.T) {
	t.Parallel()
	clock := pgtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, tracking.Shanghai))
	s, sim := courierService(t, clock)
	tok := s.users()
	admin := tok["admin"]
	legs := s.legIDs(admin)
	p := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	no := p.str("waybill_no")
	path := p.JSON["path"].([]any)
	leg := legs[path[0].(string)+">"+path[1].(string)]
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", leg), admin, nil)
	runNo := run.str("run_no")
	eventually(t, 20*time.Second, "booking", func() bool { return s.booking(admin, runNo)["status"] == "booked" })

	for _, c := range []struct {
		token string
		body  any
		code  string
	}{
		{tok["clerk"], map[string]any{}, "reason.required"},
		{tok["clerk"], map[string]any{"reason": strings.Repeat("长", 201)}, "parcel.text_too_long"},
		{tok["clerkGT"], map[string]any{"reason": "快递公司今日停收"}, "scan.other_site"},
		{tok["courier"], map[string]any{"reason": "快递公司今日停收"}, "auth.forbidden"},
	} {
		if r := s.do("POST", "/api/v1/runs/"+runNo+"/cancel", c.token, c.body); r.errCode() != c.code {
			t.Errorf("cancel %v: %d %s, want %s", c.body, r.Status, r.Body, c.code)
		}
	}
	r := s.must(200, "POST", "/api/v1/runs/"+runNo+"/cancel", tok["clerk"], map[string]any{"reason": "快递公司今日停收"})
	if r.str("status") != "cancelled" || r.str("cancel_reason") != "快递公司今日停收" {
		t.Fatalf("cancel: %s", r.Body)
	}
	eventually(t, 20*time.Second, "booking cancelled", func() bool { return s.booking(admin, runNo)["status"] == "cancelled" })
	if r := s.do("POST", "/api/v1/runs/"+runNo+"/cancel", tok["clerk"], map[string]any{"reason": "again"}); r.Status != 409 || r.errCode() != "run.not_cancellable" {
		t.Errorf("cancel twice: %d %s", r.Status, r.Body)
	}
	if pr := s.must(200, "GET", "/api/v1/parcels/"+no, admin, nil); pr.str("status") != "awaiting_pickup" {
		t.Fatalf("the parcel after the cancel: %s", pr.Body)
	}
	// The next run takes it; the courier's push then picks that one up.
	clock.Add(time.Minute)
	run2 := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", leg), admin, nil)
	if run2.JSON["parcel_count"].(float64) != 1 {
		t.Fatalf("the next run: %s", run2.Body)
	}
	run2No := run2.str("run_no")
	eventually(t, 20*time.Second, "the next booking", func() bool { return s.booking(admin, run2No)["status"] == "booked" })
	clock.Add(45 * time.Minute)
	if _, err := sim.timeline.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := s.must(200, "GET", "/api/v1/runs/"+run2No, admin, nil); r.str("status") != "picked_up" {
		t.Fatalf("the next run: %s", r.Body)
	}
	// The cancelled order is cancelled at SF and got no route.
	if n := s.count(`SELECT count(*) FROM route_nodes WHERE order_id = $1`, runNo); n != 0 {
		t.Errorf("%d nodes of the cancelled order", n)
	}
	if r := s.do("POST", "/api/v1/runs/"+run2No+"/cancel", tok["clerk"], map[string]any{"reason": "too late"}); r.Status != 409 || r.errCode() != "run.not_cancellable" {
		t.Errorf("cancel after pickup: %d %s", r.Status, r.Body)
	}
	if r := s.do("POST", "/api/v1/runs/"+run2No+"/booking", tok["clerk"], map[string]any{"ref": "SF123"}); r.Status != 409 || r.errCode() != "booking.state" {
		t.Errorf("book a booked run by hand: %d %s", r.Status, r.Body)
	}

	// SF down: every attempt refused; staff book by telephone meanwhile.
	p3 := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345679"))
	_ = p3
	sim.sf.Fail(simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit,
		simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit, simulator.FaultRateLimit)
	clock.Add(time.Minute)
	run3 := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", leg), admin, nil)
	run3No := run3.str("run_no")
	eventually(t, 20*time.Second, "a failed attempt", func() bool { return s.booking(admin, run3No)["last_error"] != "" })
	if r := s.do("POST", "/api/v1/runs/"+run3No+"/booking", tok["clerk"], map[string]any{"note": "x"}); r.errCode() != "booking.ref_required" {
		t.Errorf("no ref: %s", r.Body)
	}
	b := s.must(200, "POST", "/api/v1/runs/"+run3No+"/booking", tok["clerk"], map[string]any{"ref": "SF1440099887766", "note": "电话预约 王师傅"})
	bk := b.JSON["booking"].(map[string]any)
	hist := bk["history"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if bk["status"] != "booked" || bk["carrier"] != "manual" || last["actor"] != "u-clerk" || !strings.Contains(last["note"].(string), "王师傅") {
		t.Fatalf("booked by hand: %s", b.Body)
	}
	// The queued attempts then leave it be: no order at SF for it.
	time.Sleep(time.Second)
	if bk := s.booking(admin, run3No); bk["carrier"] != "manual" || bk["carrier_ref"] != "SF1440099887766" {
		t.Fatalf("after the queue's attempts: %v", bk)
	}
}

// EMS books the legs (COURIER_CARRIER_LEGS=ems): its SM4 envelope to the
// simulator, its trace pushed back (encrypted, the serial number echoed)
// picks the run up; a run whose pushes stopped is caught up by the
// courier_sync job querying its trace; EMS's cancel is a telephone call.
func TestEMSLegsAndTheReconciliation(t *testing.T) {
	t.Parallel()
	clock := pgtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, tracking.Shanghai))
	s, sim := courierService(t, clock, "COURIER_CARRIER_LEGS", "ems")
	tok := s.users()
	admin := tok["admin"]
	legs := s.legIDs(admin)
	leg := legs["D-SW>CC-WIN"]
	newRun := func() string {
		t.Helper()
		s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
		clock.Add(time.Minute)
		no := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", leg), admin, nil).str("run_no")
		eventually(t, 20*time.Second, "the EMS booking of "+no, func() bool { return s.booking(admin, no)["status"] == "booked" })
		return no
	}
	pushed, quiet, cancelled := newRun(), newRun(), newRun()
	if b := s.booking(admin, pushed); b["carrier"] != "ems" || !strings.HasPrefix(b["carrier_ref"].(string), "11") {
		t.Fatalf("an EMS booking: %v", b)
	}
	// The push address is unreachable for a while: EMS's pushes fail, and
	// both runs go quiet.
	good := sim.timeline.EMSPushURL
	sim.timeline.EMSPushURL = "http://127.0.0.1:1/nowhere"
	clock.Add(45 * time.Minute)
	if _, err := sim.timeline.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	sim.timeline.EMSPushURL = good
	if n := s.count(`SELECT count(*) FROM route_nodes WHERE carrier = 'ems'`); n != 0 {
		t.Fatalf("%d EMS nodes kept from pushes that never arrived", n)
	}
	// Cancel the third: EMS has no cancel a program may call.
	s.must(200, "POST", "/api/v1/runs/"+cancelled+"/cancel", tok["clerk"], map[string]any{"reason": "快递公司今日停收"})
	eventually(t, 20*time.Second, "the EMS cancel", func() bool { return s.booking(admin, cancelled)["status"] == "cancel_manual" })
	for _, no := range []string{pushed, quiet} {
		if r := s.must(200, "GET", "/api/v1/runs/"+no, admin, nil); r.str("status") != "sealed" {
			t.Fatalf("before the job: %s", r.Body)
		}
	}
	clock.Add(2 * time.Hour) // past quiet_minutes (60)
	job := s.must(200, "POST", "/api/v1/jobs/courier_sync/run", admin, nil)
	if job.str("outcome") != "ok" || job.JSON["affected"].(float64) < 2 {
		t.Fatalf("the reconciliation: %s", job.Body)
	}
	for _, no := range []string{pushed, quiet} {
		if r := s.must(200, "GET", "/api/v1/runs/"+no, admin, nil); r.str("status") != "picked_up" { // by the job's query
			t.Fatalf("run %s after the reconciliation: %s", no, r.Body)
		}
	}
	if n := s.count(`SELECT count(*) FROM route_nodes WHERE carrier = 'ems' AND via = 'query'`); n < 2 {
		t.Errorf("%d EMS nodes queried", n)
	}
	// Now the pushes arrive too: each node kept once, the push answered.
	if _, err := sim.timeline.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, m := s.count(`SELECT count(*) FROM route_nodes WHERE carrier = 'ems'`),
		s.count(`SELECT count(DISTINCT (waybill_no, at, op_code)) FROM route_nodes WHERE carrier = 'ems'`); n != m {
		t.Errorf("%d EMS nodes, %d distinct", n, m)
	}
	if sim.ems.Orders() != 3 {
		t.Errorf("%d orders at EMS, want 3", sim.ems.Orders())
	}
}

// `courier sim` runs the simulator alone and prints the variables that
// point a service at it: a client configured with them books an order; a
// wrong check word is refused as SF's gateway refuses it.
func TestCourierSimCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	env := map[string]string{"COURIER_SIM_ADDR": "127.0.0.1:0"}
	go func() { done <- run(ctx, []string{"sim"}, func(k string) string { return env[k] }, out, errs) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("courier sim exited %d: %s", code, errs.String())
		}
	}()
	var vars map[string]string
	eventually(t, 10*time.Second, "the simulator's variables", func() bool {
		vars = map[string]string{}
		for _, f := range strings.Fields(out.String()) {
			if k, v, ok := strings.Cut(f, "="); ok && strings.HasPrefix(k, "COURIER_") {
				vars[k] = v
			}
		}
		return vars["COURIER_SF_CHECKWORD"] != "" && vars["COURIER_EMS_SIGN_KEY"] != ""
	})
	book := func(checkWord string) error {
		c := sfexpress.New(sfexpress.Config{URL: vars["COURIER_SF_URL"], PartnerID: vars["COURIER_SF_PARTNER_ID"], CheckWord: checkWord,
			MonthlyCard: "7551234567", HTTP: &http.Client{Timeout: 5 * time.Second}})
		_, _, err := c.CreateOrder(context.Background(), sfexpress.Order{OrderID: "CR" + strconv.FormatInt(time.Now().UnixNano(), 10),
			CargoDesc: "证照", ParcelQty: 1, Contacts: []sfexpress.Contact{
				{Type: sfexpress.ContactSender, Contact: "长春市商务局", Tel: "0431-88881234", Address: "人民大街 1000 号"},
				{Type: sfexpress.ContactRecipient, Contact: "出证窗口", Tel: "0431-88885678", Address: "人民大街 2000 号"}}})
		return err
	}
	if err := book(vars["COURIER_SF_CHECKWORD"]); err != nil {
		t.Fatalf("an order with the printed account: %v", err)
	}
	if err := book("wrong-check-word"); sfexpress.CodeOf(err) != "A1006" {
		t.Fatalf("a wrong check word: %v", err)
	}
	if !strings.Contains(errs.String(), "nothing is pushed") {
		t.Errorf("no push address, and not said: %s", errs.String())
	}
}

// The couriers' configuration is checked at start: a carrier that is not
// one, a real carrier without its account or without the push token every
// instance shares, a simulator beside a real account, a short token, an
// EMS key that is not one.
func TestCourierConfigErrors(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/db", "COURIER_ID_HASH_KEY": randomKey(), "COURIER_DATA_KEY": randomKey()}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"COURIER_CARRIER_LEGS": "dhl"}, "COURIER_CARRIER_LEGS: want sfexpress, ems or manual"},
		{map[string]string{"COURIER_CARRIER_LEGS": "sfexpress"}, "sfexpress needs COURIER_SF_URL"},
		{map[string]string{"COURIER_SF_URL": "https://sfapi.example.cn/std/service", "COURIER_SF_PARTNER_ID": "P1", "COURIER_SF_CHECKWORD": "cw"},
			"COURIER_PUSH_TOKEN: required with DATABASE_URL"},
		{map[string]string{"COURIER_SF_URL": "https://sfapi.example.cn/std/service", "COURIER_COURIER_SIM": "on"}, "the simulator replaces the courier accounts"},
		{map[string]string{"COURIER_PUSH_TOKEN": "short"}, "COURIER_PUSH_TOKEN: at least 24 characters"},
		{map[string]string{"COURIER_CARRIER_LEGS": "ems", "COURIER_EMS_URL": "https://ems.example.cn/api", "COURIER_EMS_SENDER_NO": "1",
			"COURIER_EMS_AUTHORIZATION": "a", "COURIER_EMS_SIGN_KEY": "sixteen-chars-ok"}, "the Base64 text of a 16-byte SM4 key"},
		{map[string]string{"COURIER_PUSH_ALLOW": "10.0.0.0/33"}, "COURIER_PUSH_ALLOW: want addresses or CIDRs"},
		{map[string]string{"COURIER_SIM_SPEED": "0"}, "COURIER_SIM_SPEED: want a number from 1 to 100000"},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range c.env {
			env[k] = v
		}
		var stdout, stderr lockedBuffer
		if code := run(context.Background(), []string{"config"}, func(k string) string { return env[k] }, &stdout, &stderr); code != 2 ||
			!strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, %s; want %q", c.env, code, stderr.String(), c.want)
		}
	}
	// A real account's secrets are hidden by `courier config`.
	env := map[string]string{"COURIER_SF_URL": "https://sfapi.example.cn/std/service", "COURIER_SF_PARTNER_ID": "P1",
		"COURIER_SF_CHECKWORD": "the-check-word", "COURIER_PUSH_TOKEN": testPushToken}
	for k, v := range base {
		env[k] = v
	}
	var stdout, stderr lockedBuffer
	if code := run(context.Background(), []string{"config"}, func(k string) string { return env[k] }, &stdout, &stderr); code != 0 ||
		strings.Contains(stdout.String(), "the-check-word") || strings.Contains(stdout.String(), testPushToken) ||
		!strings.Contains(stdout.String(), "COURIER_CARRIER_LEGS=sfexpress") || !strings.Contains(stdout.String(), "COURIER_SF_CHECKWORD=(set)") {
		t.Errorf("config: %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// With COURIER_PUSH_ALLOW, a push from any other address is refused, unread.
func TestPushAllowList(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_COURIER_SIM": "on", "COURIER_PUSH_TOKEN": testPushToken, "COURIER_SIM_SPEED": "1",
		"COURIER_PUSH_ALLOW": "203.0.113.0/24"})
	body := `{"Body":{"WaybillRoute":[{"id":"1","mailno":"SF0000000000001","orderid":"CR00000000000001","acceptTime":"2026-12-03 10:00:00","opCode":"50"}]}}`
	if r := s.do("POST", "/hooks/sfexpress/"+testPushToken, "", body, "Content-Type", "application/json"); r.Status != 403 {
		t.Fatalf("a push from outside the allow-list: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(s.stderr.String(), "address not allowed") {
		t.Errorf("the refusal is not logged")
	}
}

// Express to the citizen's door through SF: the clerk's registration books
// the parcel's own order (to the recipient, its exchange kept with the
// parcel's personal data); the courier's pushes pick it up, dispatch it and,
// only once signed for, deliver it; a failed attempt leaves it in exception
// for the hall, and the signature pushed after does not move it. One story
// on the timeline.
func TestExpressParcelsThroughTheSimulator(t *testing.T) {
	t.Parallel()
	clock := pgtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, tracking.Shanghai))
	s, sim := courierService(t, clock)
	tok := s.users()
	admin := tok["admin"]
	ok, failing := s.bookedExpress(tok["clerk"]), s.bookedExpress(tok["clerk"])
	if n := s.count(`SELECT count(*) FROM courier_exchanges x JOIN parcels p ON p.id = x.parcel_id WHERE p.waybill_no = $1
		AND x.service = 'EXP_RECE_CREATE_ORDER' AND x.outcome = 'ok'`, ok); n != 1 {
		t.Fatalf("%d order exchanges kept with the parcel", n)
	}
	status := func(no string) string { return s.must(200, "GET", "/api/v1/parcels/"+no, admin, nil).str("status") }
	clock.Add(45 * time.Minute)
	if _, err := sim.timeline.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := status(ok); st != "in_transit" {
		t.Fatalf("collected: %s", st)
	}
	// The second's courier finds nobody at home.
	fail := simulator.FailedAttempt.Route
	fail.AcceptTime = time.Date(2026, 12, 3, 11, 40, 0, 0, tracking.Shanghai).Format(time.DateTime)
	if err := sim.sf.AddRoute(failing, fail); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Hour) // 11:45: out for delivery (11:30), and the failure (11:40)
	if _, err := sim.timeline.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := status(ok); st != "out_for_delivery" {
		t.Fatalf("out for delivery: %s", st)
	}
	if st := status(failing); st != "exception" {
		t.Fatalf("after the failed attempt: %s", st)
	}
	clock.Add(2 * time.Hour)
	if _, err := sim.timeline.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := status(ok); st != "delivered" {
		t.Fatalf("signed for: %s", st)
	}
	if st := status(failing); st != "exception" {
		t.Fatalf("a signature pushed after the failure moved it: %s", st)
	}
	for _, a := range []string{"pickup", "dispatch", "deliver"} {
		if n := s.eventCount(admin, ok, a); n != 1 {
			t.Errorf("%d %s events", n, a)
		}
	}
	tr := s.must(200, "GET", "/api/v1/track/"+ok+"?phone_tail=5678", "", nil)
	var story []string
	for _, e := range tr.JSON["detail"].(map[string]any)["timeline"].([]any) {
		m := e.(map[string]any)
		story = append([]string{m["action"].(string)}, story...)
	}
	if got := strings.Join(story, " "); got != "register pickup courier dispatch deliver" {
		t.Errorf("the express timeline, oldest first: %s", got)
	}
	if sim.sf.Orders() != 2 {
		t.Errorf("%d SF orders for two express parcels", sim.sf.Orders())
	}
}

// What EMS's events mean is the administrators' table: the default reads
// 704 as signed; a mapping that signs by a name is refused; a code saved
// is read by every push after it (each instance reloads it).
func TestEMSMappingIsTheAdministrators(t *testing.T) {
	t.Parallel()
	clock := pgtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, tracking.Shanghai))
	s, sim := courierService(t, clock, "COURIER_CARRIER_LEGS", "ems")
	tok := s.users()
	admin := tok["admin"]
	if m := s.must(200, "GET", "/api/v1/couriers/ems/mapping", admin, nil); !strings.Contains(string(m.Body), `"704":"signed"`) {
		t.Fatalf("the default: %s", m.Body)
	}
	if r := s.do("GET", "/api/v1/couriers/sfexpress/mapping", admin, nil); r.Status != 404 || r.errCode() != "courier.mapping_not_found" {
		t.Errorf("SF's mapping: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{
		{"codes": map[string]any{}, "names": map[string]any{"妥投": "signed"}},
		{"codes": map[string]any{"704": "lost"}, "names": map[string]any{}},
		{"codes": map[string]any{"": "moving"}, "names": map[string]any{}},
	} {
		if r := s.do("PUT", "/api/v1/couriers/ems/mapping", admin, bad); r.Status != 422 || r.errCode() != "courier.mapping_invalid" {
			t.Errorf("mapping %v: %d %s", bad, r.Status, r.Body)
		}
	}
	s.must(200, "PUT", "/api/v1/couriers/ems/mapping", admin, map[string]any{
		"codes": map[string]any{"704": "signed", "999": "collected"}, "names": map[string]any{"投递": "out_for_delivery"}})
	if n := s.count(`SELECT count(*) FROM audit_log WHERE entity = 'courier_mapping' AND entity_key = 'ems'`); n != 1 {
		t.Errorf("%d audit entries of the mapping", n)
	}
	time.Sleep(2500 * time.Millisecond) // the instance reloads it (settings_version, polled every second)
	s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	runNo := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", s.legIDs(admin)["D-SW>CC-WIN"]), admin, nil).str("run_no")
	eventually(t, 20*time.Second, "the EMS booking", func() bool { return s.booking(admin, runNo)["status"] == "booked" })
	if !sim.ems.AddTrace(runNo, ems.TraceItem{OpCode: "999", OpName: "上门收件", OpTime: "2026-12-03 09:10:00"}) {
		t.Fatal("no EMS order for the run")
	}
	if _, err := sim.timeline.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.must(200, "GET", "/api/v1/runs/"+runNo, admin, nil).str("status"); st != "picked_up" {
		t.Fatalf("a run whose EMS event 999 the mapping reads as collected: %s", st)
	}
}

// expressAddress is the test's express destination.
var expressAddress = map[string]any{"province": "吉林省", "city": "长春市", "district": "南关区", "detail": "人民大街 100 号",
	"unit": "2 单元 301 室"}

// parcelBooking is the state of an express parcel's courier booking ("": none).
func (s *service) parcelBooking(no string) string {
	s.t.Helper()
	return s.text(`SELECT coalesce((SELECT status FROM bookings WHERE parcel_id = p.id), '') FROM parcels p
		WHERE waybill_no = $1`, no)
}

// bookedExpress registers an express parcel as the clerk (token) and waits
// until its courier booking is made.
func (s *service) bookedExpress(clerk string) string {
	s.t.Helper()
	b := parcelBody("13912345678")
	b["destination"] = map[string]any{"kind": "address", "address": expressAddress}
	no := s.must(201, "POST", "/api/v1/parcels", clerk, b).str("waybill_no")
	eventually(s.t, 20*time.Second, "the express booking of "+no, func() bool { return s.parcelBooking(no) == "booked" })
	return no
}
