package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/postgres"
	"github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

type auditRow struct {
	ActorID       *int64
	ActorUsername string
	Entity, Key   string
	Action        string
	Before, After map[string]any
}

// audit reads the audit rows of one record, oldest first.
func (b *bundle) audit(t *testing.T, entity, key string) []auditRow {
	t.Helper()
	rows, err := b.pool.Query(b.ctx, `SELECT actor_id, actor_username, entity, entity_key, action, before, after
		FROM audit_log WHERE entity = $1 AND entity_key = $2 ORDER BY id`, entity, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		var before, after []byte
		if err := rows.Scan(&r.ActorID, &r.ActorUsername, &r.Entity, &r.Key, &r.Action, &before, &after); err != nil {
			t.Fatal(err)
		}
		if before != nil {
			_ = json.Unmarshal(before, &r.Before)
		}
		if after != nil {
			_ = json.Unmarshal(after, &r.After)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// counts is the number of audit rows and the sum of the settings versions.
func (b *bundle) counts(t *testing.T) (rows, versions int64) {
	t.Helper()
	if err := b.pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM audit_log), (SELECT coalesce(sum(version), 0) FROM settings_version)`).
		Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	return rows, versions
}

func ptr[T any](v T) *T { return &v }

// Each administrator's edit is in the audit log once, with who made it and
// the record before and after, written with the edit; an edit that fails
// writes nothing, and one that changes nothing records nothing.
func TestAdminEditsAreAuditedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.actors["admin"]
	settings := b.settings()
	one := func(entity, key, action string) auditRow {
		t.Helper()
		rows := b.audit(t, entity, key)
		if len(rows) == 0 {
			t.Fatalf("%s %s: not in the audit log", entity, key)
		}
		r := rows[len(rows)-1]
		if r.Action != action || r.ActorUsername != admin.Username || r.ActorID == nil || *r.ActorID != admin.ID {
			t.Fatalf("%s %s: %+v, want %s by %s", entity, key, r, action, admin.Username)
		}
		return r
	}
	// Failed edits: refused, nothing written, no version moved.
	n0, v0 := b.counts(t)
	failures := []struct {
		name string
		code string
		do   func() error
	}{
		{"QuietHoursBad", "site.quiet_hours_invalid", func() error {
			_, err := settings.SaveSite(b.ctx, admin, "NG-HALL", shipment.SiteEdit{NameZH: ptr("新名字"),
				QuietHours: &shipment.QuietHours{Start: "25:00", End: "08:00"}})
			return err
		}},
		{"NoticeTooLong", "site.notice_too_long", func() error {
			_, err := settings.SaveSite(b.ctx, admin, "NG-HALL", shipment.SiteEdit{NoticeZH: ptr(strings.Repeat("通", 201))})
			return err
		}},
		{"NoticeOnDepartment", "site.hall_setting_only", func() error {
			_, err := settings.SaveSite(b.ctx, admin, "D-SW", shipment.SiteEdit{NoticeZH: ptr("本周五停止办公")})
			return err
		}},
		{"UnknownSite", "site.not_found", func() error {
			_, err := settings.SaveSite(b.ctx, admin, "XX-HALL", shipment.SiteEdit{NameZH: ptr("无")})
			return err
		}},
		{"DuplicateLeg", "route.duplicate", func() error {
			_, err := settings.SaveLeg(b.ctx, admin, shipment.Leg{From: "D-SW", To: "CC-HUB", Schedule: "0 9 * * *", SLAHours: 24, Active: true})
			return err
		}},
		{"UnknownLeg", "route.not_found", func() error {
			_, err := settings.SaveLeg(b.ctx, admin, shipment.Leg{ID: 99999, From: "D-SW", To: "CC-HUB", Schedule: "0 9 * * *", SLAHours: 24, Active: true})
			return err
		}},
		{"UnknownJob", "job.not_found", func() error {
			_, err := settings.SaveJob(b.ctx, admin, "nope", true, "0 3 * * *", nil)
			return err
		}},
		{"BadJobParams", "job.params_invalid", func() error {
			_, err := settings.SaveJob(b.ctx, admin, tracking.JobPurge, true, "0 3 * * *", []byte(`{"after_days":-1}`))
			return err
		}},
		{"ExistingUser", "user.exists", func() error {
			_, err := b.accounts().CreateBy(b.ctx, admin, shipment.NewUser{Username: "u-admin", Password: "password-123456", Role: shipment.RoleCourier})
			return err
		}},
	}
	for _, f := range failures {
		if err := f.do(); apperr.CodeOf(err) != f.code {
			t.Errorf("%s: %v, want %s", f.name, err, f.code)
		}
	}
	if n, v := b.counts(t); n != n0 || v != v0 {
		t.Fatalf("failed edits wrote %d audit rows and moved versions by %d", n-n0, v-v0)
	}
	if s, _ := b.ledger.Ref.Site("NG-HALL"); s.NameZH != "南关区政务服务中心" {
		t.Fatalf("a refused edit changed the site: %+v", s)
	}

	// A site: names and hall settings.
	site, err := settings.SaveSite(b.ctx, admin, "NG-HALL", shipment.SiteEdit{NameZH: ptr(" 南关区政务服务中心（新址） "),
		QuietHours: &shipment.QuietHours{Start: "21:00", End: "08:00"}, NoticeZH: ptr("12月5日起迁至亚泰大街 100 号"), Active: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if site.NameZH != "南关区政务服务中心（新址）" || site.QuietHours == nil || site.QuietHours.Start != "21:00" {
		t.Fatalf("saved site: %+v", site)
	}
	if s, _ := b.ledger.Ref.Site("NG-HALL"); s.NameZH != site.NameZH || s.NoticeZH != "12月5日起迁至亚泰大街 100 号" || s.QuietHours.End != "08:00" {
		t.Fatalf("this instance's reference data: %+v", s)
	}
	r := one(postgres.EntitySite, "NG-HALL", "update")
	if r.Before["name_zh"] != "南关区政务服务中心" || r.After["name_zh"] != site.NameZH || r.Before["quiet_hours"] != nil ||
		r.After["quiet_hours"].(map[string]any)["start"] != "21:00" || r.After["board_notice_zh"] != site.NoticeZH {
		t.Fatalf("site audit: %+v", r)
	}
	// The same values again change nothing and record nothing.
	if _, err := settings.SaveSite(b.ctx, admin, "NG-HALL", shipment.SiteEdit{NameZH: ptr(site.NameZH)}); err != nil {
		t.Fatal(err)
	}
	// Clearing the quiet hours.
	if _, err := settings.SaveSite(b.ctx, admin, "NG-HALL", shipment.SiteEdit{QuietHours: &shipment.QuietHours{}}); err != nil {
		t.Fatal(err)
	}
	if rows := b.audit(t, postgres.EntitySite, "NG-HALL"); len(rows) != 2 || rows[1].After["quiet_hours"] != nil {
		t.Fatalf("site audit rows: %+v", rows)
	}

	// A leg: created, then changed.
	leg, err := settings.SaveLeg(b.ctx, admin, shipment.Leg{From: "ED-HALL", To: "NG-HALL", Schedule: "0 10 * * *", SLAHours: 24, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	key := itoa(int(leg.ID))
	if r := one(postgres.EntityRoute, key, "create"); r.Before != nil || r.After["from_site"] != "ED-HALL" || r.After["schedule"] != "0 10 * * *" {
		t.Fatalf("leg created: %+v", r)
	}
	leg.Schedule, leg.Active = "0 15 * * *", false
	if _, err := settings.SaveLeg(b.ctx, admin, leg); err != nil {
		t.Fatal(err)
	}
	if r := one(postgres.EntityRoute, key, "update"); r.Before["schedule"] != "0 10 * * *" || r.After["schedule"] != "0 15 * * *" ||
		r.Before["active"] != true || r.After["active"] != false {
		t.Fatalf("leg changed: %+v", r)
	}

	// A calendar day: set, changed, removed.
	for _, d := range []struct{ kind, note, action string }{{"closed", "元旦", "create"}, {"workday", "调休上班", "update"}, {"", "", "delete"}} {
		var err error
		if d.kind == "" {
			err = settings.ClearCalendarDay(b.ctx, admin, "2027-01-01")
		} else {
			_, err = settings.SetCalendarDay(b.ctx, admin, "2027-01-01", d.kind, d.note)
		}
		if err != nil {
			t.Fatal(err)
		}
		r := one(postgres.EntityCalendar, "2027-01-01", d.action)
		if (d.kind == "") != (r.After == nil) || (d.kind != "" && (r.After["kind"] != d.kind || r.After["note"] != d.note)) {
			t.Fatalf("calendar %s: %+v", d.action, r)
		}
	}
	// Removing a day that has no exception records nothing.
	if err := settings.ClearCalendarDay(b.ctx, admin, "2027-01-01"); err != nil {
		t.Fatal(err)
	}

	// A job's settings.
	if _, err := settings.SaveJob(b.ctx, admin, tracking.JobPurge, false, "0 4 * * *", []byte(`{"after_days":90}`)); err != nil {
		t.Fatal(err)
	}
	r = one(postgres.EntityJob, tracking.JobPurge, "update")
	if r.Before["schedule"] != "0 3 * * *" || r.After["schedule"] != "0 4 * * *" || r.Before["enabled"] != true ||
		r.After["params"].(map[string]any)["after_days"] != float64(90) {
		t.Fatalf("job audit: %+v", r)
	}

	// A user: the account without its password.
	if _, err := b.accounts().CreateBy(b.ctx, admin, shipment.NewUser{Username: "new-staff", Password: "password-secret-1",
		Role: shipment.RoleStaff, Site: "ED-HALL"}); err != nil {
		t.Fatal(err)
	}
	r = one(postgres.EntityUser, "new-staff", "create")
	raw, _ := json.Marshal(r.After)
	if r.After["username"] != "new-staff" || r.After["role"] != "staff" || r.After["site"] != "ED-HALL" ||
		strings.Contains(string(raw), "password_hash") || strings.Contains(string(raw), "$2a$") {
		t.Fatalf("user audit: %s", raw)
	}

	// Each change once: 2 site rows (the repeat records nothing), 2 leg, 3 calendar, 1 job, 1 user.
	if n, v := b.counts(t); n-n0 != 9 || v-v0 != 9 {
		t.Fatalf("%d audit rows and %d version moves for 9 changes", n-n0, v-v0)
	}

	// The log is append-only, whoever asks: the service's role may not
	// change it at all, and its trigger stops the owner.
	for _, sql := range []string{`UPDATE audit_log SET actor_username = 'someone'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := b.pool.Exec(b.ctx, sql); err == nil || !strings.Contains(err.Error(), "42501") {
			t.Errorf("%s as the service: %v", sql, err)
		}
		if _, err := b.owner.Exec(b.ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s as the owner: %v", sql, err)
		}
	}
}

// The audit log reads newest first, by entity and time, a page at a time.
func TestAuditLogFiltersAndPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.actors["admin"]
	settings := b.settings()
	start := b.clock.Now()
	for i, name := range []string{"一", "二", "三"} {
		if _, err := settings.SaveSite(b.ctx, admin, "ED-HALL", shipment.SiteEdit{NoticeZH: ptr("公告" + name)}); err != nil {
			t.Fatal(err)
		}
		if _, err := settings.SetCalendarDay(b.ctx, admin, "2027-02-0"+itoa(i+1), "closed", "春节"); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(time.Hour)
	}
	p, err := settings.Audit(b.ctx, shipment.AuditFilter{Entity: postgres.EntitySite, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || p.NextCursor == "" || !strings.Contains(string(p.Items[0].After), "公告三") ||
		p.Items[0].ActorUsername != admin.Username || p.Items[0].Entity != postgres.EntitySite {
		t.Fatalf("first page: %+v", p)
	}
	p2, err := settings.Audit(b.ctx, shipment.AuditFilter{Entity: postgres.EntitySite, Limit: 2, Cursor: p.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Items) != 1 || p2.NextCursor != "" || !strings.Contains(string(p2.Items[0].After), "公告一") {
		t.Fatalf("second page: %+v", p2)
	}
	from, to := start.Add(30*time.Minute), start.Add(90*time.Minute)
	p3, err := settings.Audit(b.ctx, shipment.AuditFilter{From: &from, To: &to})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range p3.Items {
		keys = append(keys, e.Entity+":"+e.Key)
	}
	if !slices.Equal(keys, []string{"calendar:2027-02-02", "site:ED-HALL"}) {
		t.Fatalf("from %v to %v: %v", from, to, keys)
	}
	if _, err := settings.Audit(b.ctx, shipment.AuditFilter{Cursor: "!!"}); apperr.CodeOf(err) != "request.bad_cursor" {
		t.Fatalf("bad cursor: %v", err)
	}
	if _, err := settings.Audit(b.ctx, shipment.AuditFilter{Entity: "Site;"}); apperr.CodeOf(err) != "request.bad_query" {
		t.Fatalf("bad entity: %v", err)
	}
}

// Two instances over one database: what one edits, the other sees after its
// watcher's next poll, in the copies it keeps in memory (sites for the public
// track and scans, legs, resolved tokens).
func TestWatcherReloadsWhatAnotherInstanceChanged(t *testing.T) {
	t.Parallel()
	a := setup(t)
	admin := a.actors["admin"]
	// Instance b: its own copies of the reference data, legs and tokens.
	refB, err := postgres.LoadRefData(a.ctx, a.pool)
	if err != nil {
		t.Fatal(err)
	}
	routesB := &postgres.Routes{Pool: a.pool, Ref: refB, Now: a.clock.Now}
	usersB := &postgres.Users{Pool: a.pool, Ref: refB, Cost: 4, TokenTTL: time.Hour, Now: a.clock.Now}
	w := &postgres.Watcher{Pool: a.pool}
	w.On(postgres.EntitySite, func(ctx2 context.Context) error { return refB.Reload(ctx2, a.pool) })
	w.On(postgres.EntityRoute, routesB.Forget)
	w.On(postgres.EntityUser, usersB.ForgetTokens)
	if _, err := w.Check(a.ctx); err != nil {
		t.Fatal(err)
	}
	if changed, err := w.Check(a.ctx); err != nil || len(changed) != 0 {
		t.Fatalf("nothing changed, yet %v (%v)", changed, err)
	}
	legs, err := routesB.Legs(a.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := (&service.Accounts{Store: usersB}).IssueToken(a.ctx, "u-courier", "password-123456", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := usersB.ActorByToken(a.ctx, tok); err != nil {
		t.Fatal(err)
	}

	// Instance a edits a site and a leg; a user is disabled in an audited edit.
	settingsA := a.settings()
	if _, err := settingsA.SaveSite(a.ctx, admin, "JY-HALL", shipment.SiteEdit{NameEN: ptr("Jingyue Service Center"), Active: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	leg := legs[0]
	leg.SLAHours = 36
	if _, err := settingsA.SaveLeg(a.ctx, admin, leg); err != nil {
		t.Fatal(err)
	}
	err = postgres.WithTx(a.ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(a.ctx, `UPDATE users SET disabled = true WHERE username = 'u-courier'`); err != nil {
			return err
		}
		return postgres.RecordChange(a.ctx, tx, a.clock.Now(), postgres.Change{By: admin, Entity: postgres.EntityUser, Key: "u-courier",
			Before: map[string]any{"disabled": false}, After: map[string]any{"disabled": true}})
	})
	if err != nil {
		t.Fatal(err)
	}

	// Until b polls, it answers from its copies.
	if s, _ := refB.Site("JY-HALL"); s.NameEN == "Jingyue Service Center" || !s.Active {
		t.Fatalf("b reloaded without a poll: %+v", s)
	}
	if _, err := usersB.ActorByToken(a.ctx, tok); err != nil {
		t.Fatalf("b's cached token: %v", err)
	}
	changed, err := w.Check(a.ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(changed)
	if !slices.Equal(changed, []string{postgres.EntityRoute, postgres.EntitySite, postgres.EntityUser}) {
		t.Fatalf("changed: %v", changed)
	}
	if s, _ := refB.Site("JY-HALL"); s.NameEN != "Jingyue Service Center" || s.Active {
		t.Fatalf("b after its poll: %+v", s)
	}
	if _, ok := refB.SiteKind("JY-HALL"); ok {
		t.Fatal("b still takes the deactivated site")
	}
	legsB, err := routesB.Legs(a.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if legsB[0].ID != leg.ID || legsB[0].SLAHours != 36 {
		t.Fatalf("b's legs: %+v", legsB[0])
	}
	if _, err := usersB.ActorByToken(a.ctx, tok); apperr.CodeOf(err) != "auth.user_disabled" {
		t.Fatalf("b still accepts the disabled user's token: %v", err)
	}
}
