package postgres_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func TestTransitionRulesTableMatchesGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows, err := b.pool.Query(b.ctx, `SELECT action || ' ' || from_status || ' ' || to_status || ' ' || role FROM transition_rules`)
	if err != nil {
		t.Fatal(err)
	}
	var db []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		db = append(db, s)
	}
	var gorules []string
	for _, r := range shipment.Rules {
		for _, role := range r.Roles {
			gorules = append(gorules, string(r.Action)+" "+string(r.From)+" "+string(r.To)+" "+string(role))
		}
	}
	sort.Strings(db)
	sort.Strings(gorules)
	if !slices.Equal(db, gorules) {
		t.Fatalf("transition_rules (%d rows) differs from shipment.Rules (%d rows): add a migration", len(db), len(gorules))
	}
}

func TestMigrationsDownAndUpAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := postgres.MigrateDown(b.ctx, b.owner); err != nil {
		t.Fatalf("down: %v", err)
	}
	st, err := postgres.Schema(b.ctx, b.owner)
	if err != nil || st.Current != 0 {
		t.Fatalf("after down: %+v %v", st, err)
	}
	var n int
	if err := b.owner.QueryRow(b.ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("tables left after down: %d %v", n, err)
	}
	if _, err := postgres.CheckSchema(b.ctx, b.owner); err == nil {
		t.Fatal("CheckSchema accepted an empty schema")
	}
	if _, err := postgres.Migrate(b.ctx, b.owner, nil); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if _, err := postgres.CheckSchema(b.ctx, b.owner); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaNewerThanReleaseIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.owner.Exec(b.ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.CheckSchema(b.ctx, b.owner); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("CheckSchema: %v", err)
	}
	if _, err := postgres.Migrate(b.ctx, b.owner, nil); err == nil {
		t.Fatal("Migrate ran on a newer schema")
	}
}

func TestConcurrentMigrateIsSafe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := postgres.MigrateDown(b.ctx, b.owner); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = postgres.Migrate(b.ctx, b.owner, nil) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := postgres.CheckSchema(b.ctx, b.owner); err != nil {
		t.Fatal(err)
	}
}

func TestReferenceDataKeepsAdminEdits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.pool.Exec(b.ctx, `UPDATE sites SET hours_zh = '周一至周六' WHERE code = 'ED-HALL'`); err != nil {
		t.Fatal(err)
	}
	if err := postgres.SeedReference(b.ctx, b.pool); err != nil {
		t.Fatal(err)
	}
	var h string
	var n int
	_ = b.pool.QueryRow(b.ctx, `SELECT hours_zh, (SELECT count(*) FROM sites) FROM sites WHERE code = 'ED-HALL'`).Scan(&h, &n)
	if h != "周一至周六" || n != len(postgres.ReferenceSites) {
		t.Fatalf("hours %q, %d sites", h, n)
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.register(t, certReg())
	for _, q := range []string{
		`UPDATE events SET reason = 'x'`,
		`DELETE FROM events`,
		`TRUNCATE events CASCADE`,
	} {
		if _, err := b.pool.Exec(b.ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	if _, n := b.status(t, v.WaybillNo); n != 1 {
		t.Fatalf("events: %d", n)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		v := b.register(t, certReg())
		if v.Status != shipment.Registered || !strings.HasPrefix(v.WaybillNo, "CP") || len(v.WaybillNo) != 16 {
			t.Fatalf("view: %+v", v)
		}
		if !slices.Equal(v.Path, []string{"D-SW", "CC-WIN"}) || v.NextSite != "CC-WIN" {
			t.Fatalf("path: %v next %s", v.Path, v.NextSite)
		}
		if v.Applicant.Phone != "138****5678" || v.Applicant.ID != "****002X" {
			t.Fatalf("applicant not masked: %+v", v.Applicant)
		}
		// The ID number and certificate number are never stored in clear.
		var dump string
		if err := b.pool.QueryRow(b.ctx, `SELECT (SELECT string_agg(t::text, '|') FROM parcel_people t) ||
			(SELECT string_agg(e::text, '|') FROM events e) || (SELECT string_agg(p::text, '|') FROM parcels p)`).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{holderID, "19491231", "ZZ-CERT-778899"} {
			if strings.Contains(dump, secret) {
				t.Errorf("%q stored in clear", secret)
			}
		}
		// The event log holds ids and codes only.
		var ev string
		_ = b.pool.QueryRow(b.ctx, `SELECT string_agg(e::text, '|') FROM events e`).Scan(&ev)
		for _, personal := range []string{"张三丰", "13812345678", "5678"} {
			if strings.Contains(ev, personal) {
				t.Errorf("event log holds %q", personal)
			}
		}
	})
	t.Run("ErrInvalidWritesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for name, mod := range map[string]func(*shipment.Registration){
			"phone":    func(r *shipment.Registration) { r.Applicant.Phone = "12345" },
			"checksum": func(r *shipment.Registration) { r.Applicant.IDNumber = "110105194912310021" },
			"site":     func(r *shipment.Registration) { r.Destination.Site = "XX-HALL" },
			"certtype": func(r *shipment.Registration) { r.Certificate.Type = "nope" },
		} {
			r := certReg()
			mod(&r)
			_, err := b.svc().Register(b.ctx, b.actors["clerk"], r, shipment.SourceWeb)
			if apperr.KindOf(err) != apperr.Invalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		var n int
		_ = b.pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM parcels) + (SELECT count(*) FROM events) + (SELECT count(*) FROM parcel_people)`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d rows written", n)
		}
	})
	t.Run("ErrOtherDepartment", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, who := range []string{"clerkGT", "api"} {
			r := certReg()
			r.OriginSite = "D-GT"
			if who == "clerkGT" {
				r.OriginSite = "D-SW"
			}
			_, err := b.svc().Register(b.ctx, b.actors[who], r, shipment.SourceAPI)
			if apperr.CodeOf(err) != "parcel.dept_not_yours" {
				t.Errorf("%s: %v", who, err)
			}
		}
		_, err := b.svc().Register(b.ctx, b.actors["courier"], certReg(), shipment.SourceAPI)
		if apperr.CodeOf(err) != "action.role_forbidden" {
			t.Errorf("courier: %v", err)
		}
	})
}

func TestScanJourneyWithCollectionCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := &sink{}
	v := b.register(t, certReg())
	no := v.WaybillNo
	b.mustScan(t, "clerk", no, shipment.ActBook, "", shipment.AwaitingPickup)
	b.mustScan(t, "courier", "]Q1"+strings.ToLower(no)+"\r\n", shipment.ActPickup, "D-SW", shipment.InTransit)
	b.mustScan(t, "staff", "https://zwfw.example/T/"+no, shipment.ActReceive, "CC-WIN", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "CC-WIN", shipment.Ready)

	var pending int
	_ = b.pool.QueryRow(b.ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&pending)
	if pending != 1 {
		t.Fatalf("outbox rows pending after shelve: %d", pending)
	}
	rep, err := b.ledger.Deliver(b.ctx, tracking.Delivery{Gateway: n}, 10)
	if err != nil || rep.Sent != 1 {
		t.Fatalf("deliver: %+v %v", rep, err)
	}
	m := n.last(t)
	code := m.Params["code"]
	if len(code) != 6 || m.Phone != "13812345678" || m.Template != "sms.ready" {
		t.Fatalf("message: %+v", m)
	}
	// Operators see the message with the code and phone masked.
	ms, err := b.ledger.Messages(b.ctx, no, 10)
	if err != nil || len(ms) != 1 || ms[0].SentAt == nil {
		t.Fatalf("messages: %+v %v", ms, err)
	}
	if p := ms[0].Payload["params"].(map[string]any); p["code"] != "******" || ms[0].Phone != "138****5678" {
		t.Fatalf("operator view not masked: %+v", ms[0])
	}
	// The code is stored hashed only.
	var clear int
	_ = b.pool.QueryRow(b.ctx, `SELECT count(*) FROM outbox o WHERE o::text LIKE '%' || $1 || '%'`, code).Scan(&clear)
	if clear != 0 {
		t.Fatal("collection code stored in clear")
	}

	_, err = b.scan(t, "staff", no, shipment.ActCollect, "CC-WIN", func(r *tracking.ScanRequest) { r.CollectionCode = wrongCode(code) })
	if apperr.CodeOf(err) != "collect.code_wrong" {
		t.Fatalf("wrong code: %v", err)
	}
	if st, _ := b.status(t, no); st != shipment.Ready {
		t.Fatalf("status changed by a refused collect: %s", st)
	}
	b.mustScan(t, "staff", no, shipment.ActCollect, "CC-WIN", shipment.Collected, func(r *tracking.ScanRequest) { r.CollectionCode = code })

	evs, err := b.svc().Events(b.ctx, b.actors["admin"], no)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Action)+">"+string(e.StatusAfter))
	}
	want := []string{"register>registered", "book>awaiting_pickup", "pickup>in_transit", "receive>arrived",
		"shelve>ready", "message_sent>ready", "collect>collected"}
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	if evs[2].Site != "D-SW" || evs[3].Site != "CC-WIN" || evs[3].ActorRole != shipment.RoleStaff {
		t.Fatalf("event sites/actors: %+v", evs[2:4])
	}
}

func wrongCode(c string) string {
	if c == "000000" {
		return "000001"
	}
	return "000000"
}

func TestCollectByHolderIDWithProxy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", no, shipment.ActPickup, "", shipment.InTransit)
	b.mustScan(t, "staff", no, shipment.ActReceive, "", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready)
	_, err := b.scan(t, "staff", no, shipment.ActCollect, "", func(r *tracking.ScanRequest) {
		r.IDNumber = "11010519491231003X"
	})
	if k := apperr.CodeOf(err); k != "id.resident.checksum" && k != "collect.id_mismatch" {
		t.Fatalf("other ID: %v", err)
	}
	_, err = b.scan(t, "staff", no, shipment.ActCollect, "", func(r *tracking.ScanRequest) {
		r.IDNumber = strings.ToLower(holderID)
		r.Proxy = &tracking.Proxy{Name: "李四"}
	})
	if apperr.CodeOf(err) != "collect.proxy_incomplete" {
		t.Fatalf("incomplete proxy: %v", err)
	}
	b.mustScan(t, "staff", no, shipment.ActCollect, "", shipment.Collected, func(r *tracking.ScanRequest) {
		r.IDNumber = strings.ToLower(holderID)
		r.Proxy = &tracking.Proxy{Name: "李四", IDType: shipment.IDResident, IDNumber: holderID, Authorisation: "WT-2026-1"}
	})
	var name string
	if err := b.pool.QueryRow(b.ctx, `SELECT name FROM handover_people`).Scan(&name); err != nil || name != "李四" {
		t.Fatalf("proxy not recorded: %q %v", name, err)
	}
	// Its receipt says a proxy collected it, for the hall's staff.
	rc, err := b.labels().Receipt(b.ctx, b.actors["staff"], no)
	if err != nil || !rc.ByProxy || rc.WaybillNo != no || rc.Staff != b.actors["staff"].Username || rc.Hall.Code != "CC-WIN" {
		t.Fatalf("receipt %+v %v", rc, err)
	}
}

// A receipt is for a collected parcel only.
func TestNoReceiptBeforeCollection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	if _, err := b.labels().Receipt(b.ctx, b.actors["staff"], no); apperr.CodeOf(err) != "receipt.not_collected" {
		t.Fatalf("receipt before collection: %v", err)
	}
}

func TestScanRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", no, shipment.ActPickup, "", shipment.InTransit)
	cases := []struct {
		name, who string
		action    shipment.Action
		site      string
		code      string
		kind      apperr.Kind
	}{
		{"ErrWrongSite", "staffNG", shipment.ActReceive, "NG-HALL", "scan.wrong_site", apperr.Conflict},
		{"ErrOtherSite", "staff", shipment.ActReceive, "NG-HALL", "scan.other_site", apperr.Forbidden},
		{"ErrState", "staff", shipment.ActShelve, "CC-WIN", "state.not_allowed", apperr.Conflict},
		{"ErrRole", "courier", shipment.ActShelve, "CC-WIN", "action.role_forbidden", apperr.Forbidden},
		{"ErrCancelInTransit", "clerk", shipment.ActCancel, "D-SW", "state.not_allowed", apperr.Conflict},
	}
	for _, c := range cases {
		_, err := b.scan(t, c.who, no, c.action, c.site)
		if apperr.CodeOf(err) != c.code || apperr.KindOf(err) != c.kind {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if st, n := b.status(t, no); st != shipment.InTransit || n != 2 {
		t.Fatalf("after refusals: %s with %d events", st, n)
	}
	_, err := b.scan(t, "staff", "CP0000000000000X", shipment.ActReceive, "")
	if k := apperr.CodeOf(err); k != "code.mistyped" {
		t.Errorf("mistyped: %v", err)
	}
	_, err = b.scan(t, "staff", shipment.NewNumber(shipment.KindParcel), shipment.ActReceive, "")
	if apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("unknown: %v", err)
	}
}

func TestRepeats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	first, err := b.svc().Scan(b.ctx, b.actors["courier"], tracking.ScanRequest{Code: no, Action: shipment.ActPickup, ScanID: "dup-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("SameScanIDAnswersTheSame", func(t *testing.T) {
		again, err := b.svc().Scan(b.ctx, b.actors["courier"], tracking.ScanRequest{Code: no, Action: shipment.ActPickup, ScanID: "dup-1"})
		if err != nil || !again.Repeat || again.Items[0].Seq != first.Items[0].Seq || again.Items[0].Status != shipment.InTransit {
			t.Fatalf("repeat: %+v %v", again, err)
		}
	})
	t.Run("ErrScanIDReused", func(t *testing.T) {
		_, err := b.svc().Scan(b.ctx, b.actors["courier"], tracking.ScanRequest{Code: no, Action: shipment.ActReport, Reason: "damaged", ScanID: "dup-1"})
		if apperr.CodeOf(err) != "scan.id_reused" || apperr.KindOf(err) != apperr.Invalid {
			t.Fatalf("reused: %v", err)
		}
	})
	t.Run("SameActionSameSiteWithinAMinute", func(t *testing.T) {
		b.clock.Add(59 * time.Second)
		r, err := b.svc().Scan(b.ctx, b.actors["courier"], tracking.ScanRequest{Code: no, Action: shipment.ActPickup, ScanID: "dup-2"})
		if err != nil || !r.Repeat {
			t.Fatalf("%+v %v", r, err)
		}
	})
	t.Run("AfterAMinuteItIsRefused", func(t *testing.T) {
		b.clock.Add(2 * time.Second)
		_, err := b.svc().Scan(b.ctx, b.actors["courier"], tracking.ScanRequest{Code: no, Action: shipment.ActPickup, ScanID: "dup-3"})
		if apperr.CodeOf(err) != "state.not_allowed" {
			t.Fatalf("%v", err)
		}
	})
	if st, n := b.status(t, no); st != shipment.InTransit || n != 2 {
		t.Fatalf("repeats changed the parcel: %s, %d events", st, n)
	}
}

// Two different actions on one parcel at the same instant: exactly one wins.
func TestSimultaneousScansOneWins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const parcels = 25
	for i := 0; i < parcels; i++ {
		no := b.register(t, certReg()).WaybillNo
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, who := range []string{"courier", "clerk"} {
			action := shipment.ActPickup
			if who == "clerk" {
				action = shipment.ActCancel
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[j] = b.svc().Scan(context.Background(), b.actors[who],
					tracking.ScanRequest{Code: no, Action: action, ScanID: nextScanID(), Reason: cancelReason(action)})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if apperr.KindOf(err) != apperr.Conflict {
				t.Fatalf("loser got %v, want a conflict", err)
			}
		}
		st, n := b.status(t, no)
		if ok != 1 || n != 2 || (st != shipment.InTransit && st != shipment.Cancelled) {
			t.Fatalf("parcel %d: %d winners, %d events, status %s", i, ok, n, st)
		}
	}
}

func TestReturnJourney(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	b.mustScan(t, "courier", no, shipment.ActPickup, "", shipment.InTransit)
	b.mustScan(t, "staff", no, shipment.ActReceive, "", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "", shipment.Ready)
	b.mustScan(t, "staff", no, shipment.ActReturn, "", shipment.Returning, func(r *tracking.ScanRequest) { r.Reason = "uncollected" })
	b.mustScan(t, "courier", no, shipment.ActPickup, "CC-WIN", shipment.Returning)
	_, err := b.scan(t, "staffNG", no, shipment.ActReceive, "")
	if apperr.CodeOf(err) != "scan.wrong_site" {
		t.Fatalf("receive elsewhere: %v", err)
	}
	b.mustScan(t, "clerk", no, shipment.ActReceive, "D-SW", shipment.Returned)
}

func TestListScoping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.register(t, certReg()).WaybillNo
	r2 := certReg()
	r2.Destination.Site = "NG-HALL"
	r2.Applicant.Phone = "13900001111"
	c := b.register(t, r2).WaybillNo
	b.mustScan(t, "courier", a, shipment.ActPickup, "", shipment.InTransit)

	list := func(who string, f tracking.Filter) []string {
		t.Helper()
		p, err := b.svc().List(b.ctx, b.actors[who], f)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		var out []string
		for _, v := range p.Items {
			out = append(out, v.WaybillNo)
		}
		sort.Strings(out)
		return out
	}
	both := []string{a, c}
	sort.Strings(both)
	for who, want := range map[string][]string{
		"admin": both, "clerk": both, "clerkGT": nil, "staff": {a}, "staffNG": {c}, "courier": {a}, "api": both,
	} {
		if got := list(who, tracking.Filter{}); !slices.Equal(got, want) {
			t.Errorf("%s sees %v, want %v", who, got, want)
		}
	}
	if got := list("admin", tracking.Filter{Text: "1111"}); !slices.Equal(got, []string{c}) {
		t.Errorf("phone tail search: %v", got)
	}
	if got := list("admin", tracking.Filter{Status: shipment.InTransit}); !slices.Equal(got, []string{a}) {
		t.Errorf("status filter: %v", got)
	}
	p1, err := b.svc().List(b.ctx, b.actors["admin"], tracking.Filter{Limit: 1})
	if err != nil || len(p1.Items) != 1 || p1.NextCursor == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := b.svc().List(b.ctx, b.actors["admin"], tracking.Filter{Limit: 1, Cursor: p1.NextCursor})
	if err != nil || len(p2.Items) != 1 || p2.NextCursor != "" || p2.Items[0].WaybillNo == p1.Items[0].WaybillNo {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
	if _, err := b.svc().List(b.ctx, b.actors["admin"], tracking.Filter{Cursor: "!!"}); apperr.CodeOf(err) != "request.bad_cursor" {
		t.Fatalf("bad cursor: %v", err)
	}
	if _, err := b.svc().Get(b.ctx, b.actors["clerkGT"], a); apperr.CodeOf(err) != "parcel.other_site" {
		t.Fatalf("get other dept: %v", err)
	}
}

func TestTrackViews(t *testing.T) {
	t.Parallel()
	b := setup(t)
	no := b.register(t, certReg()).WaybillNo
	tr := func(k string) string { return k }
	st, matched, err := b.svc().Track(b.ctx, no, "", "zh-CN", tr)
	if err != nil || matched || st.Detail != nil || st.Status != shipment.Registered || st.Destination == nil || st.Destination.Code != "CC-WIN" {
		t.Fatalf("number alone: %+v %v", st, err)
	}
	st, matched, err = b.svc().Track(b.ctx, no, "0000", "zh-CN", tr)
	if err != nil || matched || st.Detail != nil {
		t.Fatalf("wrong tail: %+v %v", st, err)
	}
	st, matched, err = b.svc().Track(b.ctx, no, "5678", "zh-CN", tr)
	if err != nil || !matched || st.Detail == nil || st.Detail.RecipientName != "张*丰" || st.Detail.Phone != "138****5678" || len(st.Detail.Timeline) != 1 {
		t.Fatalf("right tail: %+v %v", st, err)
	}
	if _, _, err := b.svc().Track(b.ctx, shipment.NewNumber(shipment.KindParcel), "", "zh-CN", tr); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("unknown: %v", err)
	}
	// Ready-since and hold-until tell the citizen about a parcel on the
	// shelf; once it is collected they no longer apply.
	b.mustScan(t, "courier", no, shipment.ActPickup, "D-SW", shipment.InTransit)
	b.mustScan(t, "staff", no, shipment.ActReceive, "CC-WIN", shipment.Arrived)
	b.mustScan(t, "staff", no, shipment.ActShelve, "CC-WIN", shipment.Ready)
	if st, _, err = b.svc().Track(b.ctx, no, "", "zh-CN", tr); err != nil || st.ReadySince == nil || st.HoldUntil == nil {
		t.Fatalf("ready: %+v %v", st, err)
	}
	b.mustScan(t, "staff", no, shipment.ActCollect, "CC-WIN", shipment.Collected,
		func(r *tracking.ScanRequest) { r.IDNumber = holderID })
	if st, _, err = b.svc().Track(b.ctx, no, "", "zh-CN", tr); err != nil || st.ReadySince != nil || st.HoldUntil != nil {
		t.Fatalf("collected, still with shelf dates: %+v %v", st, err)
	}
}

func TestThrottleIsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := *b.ledger // a second instance on the same database
	t1 := &postgres.Throttle{Ledger: b.ledger, Window: 10 * time.Minute}
	t2 := &postgres.Throttle{Ledger: &other, Window: 10 * time.Minute}
	for i := 1; i <= 3; i++ {
		th := t1
		if i%2 == 0 {
			th = t2
		}
		if n, err := th.Fail(b.ctx, "track", "10.0.0.1"); err != nil || n != i {
			t.Fatalf("fail %d: %d %v", i, n, err)
		}
	}
	if n, _ := t2.Failures(b.ctx, "track", "10.0.0.2"); n != 0 {
		t.Fatalf("other client: %d", n)
	}
	var keys string
	_ = b.pool.QueryRow(b.ctx, `SELECT string_agg(client_key, ',') FROM track_failures`).Scan(&keys)
	if strings.Contains(keys, "10.0.0.1") {
		t.Fatal("client address stored in clear")
	}
}
