package jobs_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/changchun-gov/courier/integrations/manual"
	"github.com/changchun-gov/courier/internal/jobs"
	"github.com/changchun-gov/courier/internal/pgtest"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/secrets"
	svc "github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func TestMain(m *testing.M) {
	pgtest.Configure(postgres.PrepareTemplate(true))
	os.Exit(pgtest.Main(m))
}

type bundle struct {
	ctx     context.Context
	pool    *pgxpool.Pool
	clock   *pgtest.Clock
	ledger  *postgres.Ledger
	routes  *postgres.Routes
	clerk   shipment.Actor
	keys    *secrets.Keys
	ref     *postgres.RefData
	service *jobs.Service[pgx.Tx]
}

// parcels is the service over the bundle's ledger, as run wires it.
func (b *bundle) parcels() *svc.Parcels {
	return &svc.Parcels{Store: b.ledger, Keys: b.keys, Ref: b.ref, Routes: b.routes, Now: b.clock.Now}
}

var beijing = time.FixedZone("CST", 8*3600)

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	// As the service serves: a role that may only append to the event log.
	pool := pgtest.PoolAs(t, pgtest.DB(t), postgres.ServiceRole)
	ref, err := postgres.LoadRefData(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := secrets.Generate()
	clk := pgtest.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, beijing)) // a Monday
	users := &postgres.Users{Pool: pool, Ref: ref, Cost: 4, TokenTTL: time.Hour, Now: clk.Now}
	u, err := users.Create(ctx, shipment.NewUser{Username: "clerk", Password: "password-123456", Role: shipment.RoleClerk, Site: "D-SW"})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{ctx: ctx, pool: pool, clock: clk, keys: keys, ref: ref,
		clerk: shipment.Actor{ID: u.ID, Username: u.Username, Role: u.Role, Site: u.Site}}
	b.service, b.ledger, b.routes = b.instance(t)
	return b
}

// instance is one more instance of the service on the same database.
func (b *bundle) instance(t *testing.T) (*jobs.Service[pgx.Tx], *postgres.Ledger, *postgres.Routes) {
	t.Helper()
	routes := &postgres.Routes{Pool: b.pool, Ref: b.ref, Now: b.clock.Now}
	ledger := &postgres.Ledger{Pool: b.pool, Ref: b.ref, Keys: b.keys, Now: b.clock.Now, Routes: routes}
	uc := &svc.Parcels{Store: ledger, Keys: b.keys, Ref: b.ref, Routes: routes, Now: b.clock.Now}
	s, err := jobs.New(riverpgxv5.New(b.pool), ledger, uc, routes, jobs.Carriers{Legs: manual.Carrier{}}, slog.New(slog.DiscardHandler), b.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s, ledger, routes
}

func (b *bundle) register(t *testing.T, dest string) string {
	t.Helper()
	v, err := b.parcels().Register(b.ctx, b.clerk, shipment.Registration{
		Kind: shipment.KindCertificate, OriginSite: "D-SW",
		Destination: shipment.Destination{Kind: shipment.DestHall, Site: dest},
		Applicant: shipment.Applicant{Type: shipment.Natural, Name: "张三", Phone: "13812345678",
			IDType: shipment.IDResident, IDNumber: "11010519491231002X"},
		Certificate: &shipment.Certificate{Type: "business_licence"},
	}, shipment.SourceAPI)
	if err != nil {
		t.Fatal(err)
	}
	return v.WaybillNo
}

func (b *bundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(b.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const runsOfLeg = `SELECT count(*) FROM runs r JOIN legs l ON l.id = r.leg_id WHERE l.from_site = $1 AND l.to_site = $2`

// Three instances ticking through many slots: each slot makes one run —
// never two, never none.
func TestThreeInstancesExactlyOneRunPerSlot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	services := []*jobs.Service[pgx.Tx]{b.service}
	for i := 0; i < 2; i++ {
		s, _, _ := b.instance(t)
		services = append(services, s)
	}
	// Every slot of the D-SW → CC-WIN leg (09:30 and 14:30 on working days)
	// from Monday to Friday: 10 slots; parcels registered before each.
	slots := 0
	for day := 0; day < 5; day++ {
		for _, hm := range [][2]int{{9, 30}, {14, 30}} {
			at := time.Date(2026, 11, 23+day, hm[0], hm[1], 0, 0, beijing)
			b.clock.Set(at.Add(-time.Hour))
			for i := 0; i < 2; i++ {
				b.register(t, "CC-WIN")
			}
			// Each instance ticks a few times around the slot, all at once.
			for _, off := range []time.Duration{-time.Minute, 0, 10 * time.Second, time.Minute} {
				b.clock.Set(at.Add(off))
				var wg sync.WaitGroup
				for _, s := range services {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := s.Tick(b.ctx); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			slots++
			if n := b.count(t, runsOfLeg, "D-SW", "CC-WIN"); n != slots {
				t.Fatalf("after slot %s: %d runs, want %d", at, n, slots)
			}
		}
	}
	if n := b.count(t, `SELECT count(*) FROM runs WHERE parcel_count <> 2`); n != 0 {
		t.Fatalf("%d runs without exactly the 2 parcels of their slot", n)
	}
	if n := b.count(t, `SELECT count(*) FROM (SELECT slot FROM runs GROUP BY leg_id, slot HAVING count(*) > 1) x`); n != 0 {
		t.Fatalf("%d slots with two runs", n)
	}
	// Each housekeeping job's slot was claimed once too.
	if n := b.count(t, `SELECT count(*) FROM (SELECT 1 FROM job_slots GROUP BY name, slot HAVING count(*) > 1) x`); n != 0 {
		t.Fatalf("job slots claimed twice: %d", n)
	}
}

// When every instance was down across slots, the next start makes one
// catch-up run for the most recent missed slot, not one per slot.
func TestCatchUpMakesOneRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock.Set(time.Date(2026, 11, 23, 8, 0, 0, 0, beijing))
	for i := 0; i < 3; i++ {
		b.register(t, "CC-WIN")
	}
	// Down from Monday 08:00 to Thursday 11:00: six slots missed.
	b.clock.Set(time.Date(2026, 11, 26, 11, 0, 0, 0, beijing))
	made, err := b.service.Tick(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mine []tracking.RunView
	for _, r := range made {
		if r.FromSite == "D-SW" && r.ToSite == "CC-WIN" {
			mine = append(mine, r)
		}
	}
	want := time.Date(2026, 11, 26, 9, 30, 0, 0, beijing)
	if len(mine) != 1 || !mine[0].Slot.Equal(want) || mine[0].ParcelCount != 3 {
		t.Fatalf("catch-up made %+v, want one run for %s", mine, want)
	}
	if _, err := b.service.Tick(b.ctx); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, runsOfLeg, "D-SW", "CC-WIN"); n != 1 {
		t.Fatalf("%d runs", n)
	}
}

// Closed days make no run; a make-up working day on a Saturday does.
func TestHolidayCalendar(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.ledger.SetCalendarDay(b.ctx, shipment.SystemActor, "2026-11-25", "closed", "测试假日"); err != nil {
		t.Fatal(err)
	}
	if err := b.ledger.SetCalendarDay(b.ctx, shipment.SystemActor, "2026-11-28", "workday", "调休上班"); err != nil {
		t.Fatal(err)
	}
	tick := func(at time.Time) {
		b.clock.Set(at)
		if _, err := b.service.Tick(b.ctx); err != nil {
			t.Fatal(err)
		}
	}
	b.clock.Set(time.Date(2026, 11, 24, 15, 0, 0, 0, beijing))
	b.register(t, "CC-WIN")
	tick(time.Date(2026, 11, 24, 15, 0, 0, 0, beijing)) // Tuesday 14:30 slot
	b.register(t, "CC-WIN")
	tick(time.Date(2026, 11, 25, 9, 31, 0, 0, beijing)) // closed Wednesday: no slot today
	tick(time.Date(2026, 11, 25, 14, 31, 0, 0, beijing))
	if n := b.count(t, runsOfLeg, "D-SW", "CC-WIN"); n != 1 {
		t.Fatalf("runs after the closed day: %d, want 1", n)
	}
	tick(time.Date(2026, 11, 26, 9, 31, 0, 0, beijing)) // Thursday: the waiting parcel leaves
	b.register(t, "CC-WIN")
	tick(time.Date(2026, 11, 28, 9, 31, 0, 0, beijing)) // make-up Saturday
	if n := b.count(t, runsOfLeg, "D-SW", "CC-WIN"); n != 3 {
		t.Fatalf("runs after the make-up Saturday: %d, want 3", n)
	}
	var slot time.Time
	_ = b.pool.QueryRow(b.ctx, `SELECT max(slot) FROM runs`).Scan(&slot)
	if want := time.Date(2026, 11, 28, 9, 30, 0, 0, beijing); !slot.Equal(want) {
		t.Fatalf("last run's slot %s, want %s", slot, want)
	}
}

// The courier booking of a run is made through the carrier by the job queue.
func TestRunBookingThroughTheQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock.Set(time.Date(2026, 11, 23, 9, 0, 0, 0, beijing))
	b.register(t, "CC-WIN")
	b.clock.Set(time.Date(2026, 11, 23, 9, 31, 0, 0, beijing))
	made, err := b.service.Tick(b.ctx)
	if err != nil || len(made) != 1 {
		t.Fatalf("%+v %v", made, err)
	}
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	if err := b.service.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.service.Stop(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status, ref string
		_ = b.pool.QueryRow(b.ctx, `SELECT status, carrier_ref FROM bookings`).Scan(&status, &ref)
		if status == "booked" {
			if ref != "MANUAL-"+made[0].RunNo {
				t.Fatalf("carrier ref %q", ref)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("booking still %q after 20 s", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *bundle) scan(t *testing.T, a shipment.Actor, no string, action shipment.Action, mod ...func(*tracking.ScanRequest)) {
	t.Helper()
	req := tracking.ScanRequest{Code: no, Action: action, ScanID: "s-" + no + "-" + string(action)}
	for _, m := range mod {
		m(&req)
	}
	if _, err := b.parcels().Scan(b.ctx, a, req); err != nil {
		t.Fatalf("%s %s: %v", action, no, err)
	}
}

// The housekeeping jobs do their work and leave a history.
func TestHousekeepingJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := shipment.Actor{Role: shipment.RoleAdmin}
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, beijing)
	b.clock.Set(start)
	ready := b.register(t, "CC-WIN")
	expiring := b.register(t, "CC-WIN")
	stalled := b.register(t, "ED-HALL")
	ended := b.register(t, "CC-WIN")
	for _, no := range []string{ready, expiring, ended} {
		b.scan(t, admin, no, shipment.ActPickup)
		b.scan(t, admin, no, shipment.ActReceive)
		b.scan(t, admin, no, shipment.ActShelve)
	}
	b.scan(t, admin, ended, shipment.ActCollect, func(r *tracking.ScanRequest) { r.IDNumber = "11010519491231002X" })
	if _, err := b.pool.Exec(b.ctx, `UPDATE parcels SET hold_until = $2 WHERE waybill_no = $1`, expiring, start.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}

	// Four days later: a reminder with a fresh code, the expired parcel
	// returned, the stalled one flagged.
	b.clock.Set(start.Add(4 * 24 * time.Hour))
	var oldHash []byte
	_ = b.pool.QueryRow(b.ctx, `SELECT code_hash FROM parcels WHERE waybill_no = $1`, ready).Scan(&oldHash)
	run, err := jobs.RunJob(b.ctx, b.ledger, b.parcels(), tracking.JobReminder)
	if err != nil || run.Outcome != "ok" || run.Affected != 2 { // ready and expiring
		t.Fatalf("reminder: %+v %v", run, err)
	}
	var newHash []byte
	_ = b.pool.QueryRow(b.ctx, `SELECT code_hash FROM parcels WHERE waybill_no = $1`, ready).Scan(&newHash)
	if bytes.Equal(oldHash, newHash) {
		t.Fatal("the reminder did not renew the collection code")
	}
	if n := b.count(t, `SELECT count(*) FROM outbox WHERE template = 'sms.reminder'`); n != 2 {
		t.Fatalf("reminder messages: %d", n)
	}
	if run, _ := jobs.RunJob(b.ctx, b.ledger, b.parcels(), tracking.JobReminder); run.Affected != 0 {
		t.Fatalf("reminded again at once: %+v", run)
	}

	run, err = jobs.RunJob(b.ctx, b.ledger, b.parcels(), tracking.JobReturn)
	if err != nil || run.Affected != 1 {
		t.Fatalf("return: %+v %v", run, err)
	}
	var st string
	_ = b.pool.QueryRow(b.ctx, `SELECT status FROM parcels WHERE waybill_no = $1`, expiring).Scan(&st)
	if st != "returning" {
		t.Fatalf("expired parcel: %s", st)
	}
	if n := b.count(t, `SELECT count(*) FROM outbox WHERE channel = 'site' AND site_code = 'D-SW' AND template = 'site.returning'`); n != 1 {
		t.Fatalf("department not told: %d", n)
	}

	run, err = jobs.RunJob(b.ctx, b.ledger, b.parcels(), tracking.JobSLA)
	if err != nil || run.Affected != 1 {
		t.Fatalf("sla: %+v %v", run, err)
	}
	if n := b.count(t, `SELECT count(*) FROM events e JOIN parcels p ON p.id = e.parcel_id WHERE p.waybill_no = $1 AND e.reason = 'sla_breached'`, stalled); n != 1 {
		t.Fatalf("stalled parcel not flagged: %d", n)
	}
	if run, _ := jobs.RunJob(b.ctx, b.ledger, b.parcels(), tracking.JobSLA); run.Affected != 0 {
		t.Fatalf("flagged twice for one stall: %+v", run)
	}

	// 200 days on, the collected parcel's personal data is purged; its events stay.
	b.clock.Set(start.Add(200 * 24 * time.Hour))
	before := b.count(t, `SELECT count(*) FROM events e JOIN parcels p ON p.id = e.parcel_id WHERE p.waybill_no = $1`, ended)
	run, err = jobs.RunJob(b.ctx, b.ledger, b.parcels(), tracking.JobPurge)
	if err != nil || run.Affected != 1 {
		t.Fatalf("purge: %+v %v", run, err)
	}
	var name, phone string
	_ = b.pool.QueryRow(b.ctx, `SELECT pp.name, pp.phone FROM parcel_people pp JOIN parcels p ON p.id = pp.parcel_id
		WHERE p.waybill_no = $1`, ended).Scan(&name, &phone)
	if name != "" || phone != "" {
		t.Fatalf("not purged: %q %q", name, phone)
	}
	if after := b.count(t, `SELECT count(*) FROM events e JOIN parcels p ON p.id = e.parcel_id WHERE p.waybill_no = $1`, ended); after != before+1 {
		t.Fatalf("events %d → %d", before, after)
	}
	hist, err := b.ledger.JobRuns(b.ctx, "", 20)
	if err != nil || len(hist) != 6 {
		t.Fatalf("history: %d %v", len(hist), err)
	}
}
