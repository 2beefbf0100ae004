package postgres_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/changchun-gov/courier/internal/pgtest"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/secrets"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func TestMain(m *testing.M) {
	pgtest.Configure(postgres.PrepareTemplate(true))
	os.Exit(pgtest.Main(m))
}

// sink is a notifier that keeps what it was given.
type sink struct {
	mu   sync.Mutex
	msgs []tracking.Message
}

func (s *sink) Notify(_ context.Context, m tracking.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return "test", nil
}

func (s *sink) last(t *testing.T) tracking.Message {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) == 0 {
		t.Fatal("no message delivered")
	}
	return s.msgs[len(s.msgs)-1]
}

type bundle struct {
	ctx    context.Context
	pool   *pgxpool.Pool // as the service's role (postgres.ServiceRole)
	owner  *pgxpool.Pool // as the owner of the tables (a superuser)
	ledger *postgres.Ledger
	// throttle, when set, counts the service's wrong collection codes.
	throttle *postgres.Throttle
	users    *postgres.Users
	routes   *postgres.Routes
	clock    *pgtest.Clock
	actors   map[string]shipment.Actor
}

// setup gives each test a fresh database and one actor per role: admin,
// clerk at D-SW and D-GT, staff and a hall lead at CC-WIN and at NG-HALL, a
// courier, an API client for D-SW.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	owner := pgtest.Pool(t)
	pool := pgtest.PoolAs(t, owner.Config().ConnString(), postgres.ServiceRole)
	ref, err := postgres.LoadRefData(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secrets.Generate()
	if err != nil {
		t.Fatal(err)
	}
	clk := pgtest.NewClock(time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC))
	routes := &postgres.Routes{Pool: pool, Ref: ref, Now: clk.Now}
	b := &bundle{ctx: ctx, pool: pool, owner: owner, clock: clk, routes: routes,
		ledger: &postgres.Ledger{Pool: pool, Ref: ref, Keys: keys, Now: clk.Now, Routes: routes},
		users:  &postgres.Users{Pool: pool, Ref: ref, Cost: 4, TokenTTL: time.Hour, Now: clk.Now},
		actors: map[string]shipment.Actor{},
	}
	for name, n := range map[string]shipment.NewUser{
		"admin":   {Role: shipment.RoleAdmin},
		"clerk":   {Role: shipment.RoleClerk, Site: "D-SW"},
		"clerkGT": {Role: shipment.RoleClerk, Site: "D-GT"},
		"staff":   {Role: shipment.RoleStaff, Site: "CC-WIN"},
		"staffNG": {Role: shipment.RoleStaff, Site: "NG-HALL"},
		"lead":    {Role: shipment.RoleHallLead, Site: "CC-WIN"},
		"leadNG":  {Role: shipment.RoleHallLead, Site: "NG-HALL"},
		"courier": {Role: shipment.RoleCourier},
		"api":     {Role: shipment.RoleAPIClient, Departments: []string{"D-SW"}},
	} {
		n.Username, n.Password = "u-"+toLower(name), "password-123456"
		u, err := b.users.Create(ctx, n)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		b.actors[name] = shipment.Actor{ID: u.ID, Username: u.Username, Role: u.Role, Site: u.Site, Departments: u.Departments}
	}
	return b
}

func toLower(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		out = append(out, r)
	}
	return string(out)
}

const holderID = "11010519491231002X"

func certReg() shipment.Registration {
	return shipment.Registration{
		Kind: shipment.KindCertificate, OriginSite: "D-SW",
		Destination: shipment.Destination{Kind: shipment.DestHall, Site: "CC-WIN"},
		Applicant: shipment.Applicant{Type: shipment.Natural, Name: "张三丰", Phone: "13812345678",
			IDType: shipment.IDResident, IDNumber: holderID},
		Certificate:   &shipment.Certificate{Type: "business_licence", Number: "ZZ-CERT-778899"},
		ApplicationNo: "SW-2026-" + itoa(100000+nextApplication()),
	}
}

var applications struct {
	mu sync.Mutex
	n  int
}

// nextApplication numbers the test registrations: an application number is
// registered once per origin and kind.
func nextApplication() int {
	applications.mu.Lock()
	defer applications.mu.Unlock()
	applications.n++
	return applications.n
}

func (b *bundle) register(t *testing.T, r shipment.Registration) tracking.ParcelView {
	t.Helper()
	v, err := b.svc().Register(b.ctx, b.actors["clerk"], r, shipment.SourceWeb)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return v
}

var scanSeq struct {
	mu sync.Mutex
	n  int
}

func nextScanID() string {
	scanSeq.mu.Lock()
	defer scanSeq.mu.Unlock()
	scanSeq.n++
	return "scan-" + time.Now().Format("150405.000000") + "-" + itoa(scanSeq.n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

// svc is the service over the bundle's ledger, as run wires it.
func (b *bundle) svc() *service.Parcels {
	s := parcelsOf(b.ledger)
	if b.throttle != nil {
		s.Throttle = b.throttle
	}
	return s
}

// runs is the service closing check lists over the bundle's ledger.
func (b *bundle) runs() *service.Runs[tracking.CloseResult] {
	return &service.Runs[tracking.CloseResult]{Store: b.ledger, Reader: b.ledger, Ref: b.ledger.Ref, Now: b.ledger.Now}
}

// parcelsOf is the service over a ledger, with the ledger's keys, clock
// and routes.
func parcelsOf(l *postgres.Ledger) *service.Parcels {
	s := &service.Parcels{Store: l, Keys: l.Keys, Ref: l.Ref, Now: l.Now, Reads: l, Photos: l}
	if l.Routes != nil {
		s.Routes = l.Routes
	}
	return s
}

// scan applies one action and advances the clock past the repeat window.
func (b *bundle) scan(t *testing.T, who, code string, action shipment.Action, site string, mod ...func(*tracking.ScanRequest)) (tracking.ScanResult, error) {
	t.Helper()
	req := tracking.ScanRequest{Code: code, Action: action, Site: site, ScanID: nextScanID()}
	for _, m := range mod {
		m(&req)
	}
	res, err := b.svc().Scan(b.ctx, b.actors[who], req)
	b.clock.Add(2 * time.Minute)
	return res, err
}

func (b *bundle) mustScan(t *testing.T, who, code string, action shipment.Action, site string, want shipment.Status, mod ...func(*tracking.ScanRequest)) {
	t.Helper()
	res, err := b.scan(t, who, code, action, site, mod...)
	if err != nil {
		t.Fatalf("%s %s by %s: %v", action, code, who, err)
	}
	if got := res.Items[0].Status; got != want {
		t.Fatalf("%s: status %s, want %s", action, got, want)
	}
}

func (b *bundle) status(t *testing.T, waybill string) (shipment.Status, int) {
	t.Helper()
	var st shipment.Status
	var n int
	err := b.pool.QueryRow(b.ctx, `SELECT p.status, (SELECT count(*) FROM events e WHERE e.parcel_id = p.id)
		FROM parcels p WHERE waybill_no = $1`, waybill).Scan(&st, &n)
	if err != nil {
		t.Fatal(err)
	}
	return st, n
}

// accounts is the service over the bundle's users, as run wires it.
func (b *bundle) accounts() *service.Accounts {
	return &service.Accounts{Store: b.users, Sites: b.ledger.Ref}
}

// labels prints b's parcels' labels, as the service wires it.
func (b *bundle) labels() *service.Labels { return &service.Labels{Store: b.ledger, Ref: b.ledger.Ref} }

// settings is the administration of sites, slots, legs, the calendar and
// the jobs over b's stores, as the service wires it.
func (b *bundle) settings() *service.Settings {
	return &service.Settings{Sites: b.ledger.Ref, Store: &postgres.Settings{Pool: b.pool, Ref: b.ledger.Ref, Now: b.clock.Now},
		Slots: b.ledger, Legs: b.routes, Schedules: b.ledger}
}
