package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every administrator's edit made on one instance reaches another instance
// on the same database within 5 s, in the copies it keeps in memory (the
// sites behind the public track) as well as what it reads from the
// database; each edit is in the audit log once; a refused edit writes
// nothing.
func TestAdminEditsReachEveryInstanceWithinFiveSeconds(t *testing.T) {
	t.Parallel()
	a := boot(t, nil)
	b := bootEnvSameDB(t, a, nil)
	tok := a.users()
	admin := tok["admin"]
	no := a.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	dest := func(s *service) string {
		d, _ := s.must(200, "GET", "/api/v1/track/"+no, "", nil).JSON["destination"].(map[string]any)
		n, _ := d["name"].(string)
		return n
	}
	if got := dest(b); got != "长春市政务服务中心 出证窗口" {
		t.Fatalf("destination on b before: %q", got)
	}
	leg := b.must(200, "GET", "/api/v1/routes", admin, nil).JSON["items"].([]any)[0].(map[string]any)
	legID := int(leg["id"].(float64))

	// Refused edits: a clear Chinese error with a stable code, nothing written.
	for _, c := range []struct {
		path   string
		body   any
		status int
		code   string
	}{
		{"/api/v1/sites/CC-WIN", map[string]any{"quiet_hours": map[string]any{"start": "8", "end": "9"}}, 422, "site.quiet_hours_invalid"},
		{"/api/v1/sites/CC-WIN", map[string]any{"board_notice_zh": strings.Repeat("告", 201)}, 422, "site.notice_too_long"},
		{"/api/v1/sites/D-SW", map[string]any{"board_notice_zh": "本周五停止办公"}, 422, "site.hall_setting_only"},
		{"/api/v1/sites/CC-WIN", map[string]any{"name_zh": "  "}, 422, "site.name_required"},
		{"/api/v1/sites/XX-HALL", map[string]any{"name_zh": "无"}, 404, "site.not_found"},
		{"/api/v1/sites/CC-WIN", map[string]any{"kind": "hub"}, 400, "request.unknown_field"},
	} {
		r := a.do("PUT", c.path, admin, c.body)
		msg, _ := r.JSON["error"].(map[string]any)["message"].(string)
		if r.Status != c.status || r.errCode() != c.code || msg == "" || msg == c.code {
			t.Errorf("PUT %s %v: %d %s, want %d %s", c.path, c.body, r.Status, r.Body, c.status, c.code)
		}
	}
	if r := a.do("PUT", "/api/v1/sites/CC-WIN", tok["staff"], map[string]any{"name_zh": "x"}); r.Status != 403 {
		t.Errorf("staff editing a site: %d %s", r.Status, r.Body)
	}
	if n := len(b.must(200, "GET", "/api/v1/audit?entity=site", admin, nil).JSON["items"].([]any)); n != 0 {
		t.Fatalf("refused edits wrote %d audit rows", n)
	}

	// The edits, on a.
	const newName = "长春市政务服务中心 出证窗口（东区）"
	site := a.must(200, "PUT", "/api/v1/sites/cc-win", admin, map[string]any{"name_zh": newName,
		"quiet_hours": map[string]any{"start": "21:00", "end": "08:00"}, "board_notice_zh": "东区出证窗口12月起启用"})
	if site.str("name_zh") != newName || site.str("board_notice_zh") != "东区出证窗口12月起启用" {
		t.Fatalf("saved site: %s", site.Body)
	}
	if got := dest(a); got != newName {
		t.Fatalf("destination on a right after its own edit: %q", got)
	}
	a.must(200, "PUT", fmt.Sprintf("/api/v1/routes/%d", legID), admin, map[string]any{"from_site": leg["from_site"], "to_site": leg["to_site"],
		"schedule": "0 8 * * *", "sla_hours": 30, "active": true})
	a.must(200, "PUT", "/api/v1/calendar/2027-01-01", admin, map[string]any{"kind": "closed", "note": "元旦"})
	a.must(200, "PUT", "/api/v1/jobs/reminder", admin, map[string]any{"enabled": false, "schedule": "0 9 * * *"})
	a.must(201, "POST", "/api/v1/users", admin, map[string]any{"username": "late-courier", "password": "password-late-1", "role": "courier"})
	edited := time.Now()

	seen := map[string]func() bool{
		"site": func() bool {
			r := b.must(200, "GET", "/api/v1/sites", admin, nil)
			return strings.Contains(string(r.Body), newName) && strings.Contains(string(r.Body), `"quiet_hours":{"start":"21:00","end":"08:00"}`)
		},
		"public track": func() bool { return dest(b) == newName },
		"route": func() bool {
			for _, l := range b.must(200, "GET", "/api/v1/routes", admin, nil).JSON["items"].([]any) {
				if m := l.(map[string]any); int(m["id"].(float64)) == legID {
					return m["schedule"] == "0 8 * * *" && m["sla_hours"] == float64(30)
				}
			}
			return false
		},
		"calendar": func() bool {
			days, _ := b.must(200, "GET", "/api/v1/calendar", admin, nil).JSON["days"].(map[string]any)
			return days["2027-01-01"] == "closed"
		},
		"job": func() bool {
			return strings.Contains(string(b.must(200, "GET", "/api/v1/jobs", admin, nil).Body), `"name":"reminder","enabled":false,"schedule":"0 9 * * *"`)
		},
		"user": func() bool {
			return b.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "late-courier", "password": "password-late-1"}).Status == 200
		},
	}
	for time.Since(edited) < 5*time.Second && len(seen) > 0 {
		for what, ok := range seen {
			if ok() {
				delete(seen, what)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for what := range seen {
		t.Errorf("b has not seen the %s edit within 5 s", what)
	}

	// Each edit once in the audit log, as b reads it.
	for _, c := range []struct{ entity, key, action, field, before, after string }{
		{"site", "CC-WIN", "update", "name_zh", "长春市政务服务中心 出证窗口", newName},
		{"route", fmt.Sprint(legID), "update", "schedule", leg["schedule"].(string), "0 8 * * *"},
		{"calendar", "2027-01-01", "create", "kind", "", "closed"},
		{"job", "reminder", "update", "enabled", "true", "false"},
		{"user", "late-courier", "create", "username", "", "late-courier"},
	} {
		var mine []map[string]any
		for _, it := range b.must(200, "GET", "/api/v1/audit?entity="+c.entity+"&limit=200", admin, nil).JSON["items"].([]any) {
			if e := it.(map[string]any); e["key"] == c.key {
				mine = append(mine, e)
			}
		}
		if len(mine) != 1 {
			t.Errorf("%s %s: %d audit entries, want 1: %v", c.entity, c.key, len(mine), mine)
			continue
		}
		e := mine[0]
		str := func(v any) string {
			m, _ := v.(map[string]any)
			if m == nil || m[c.field] == nil {
				return ""
			}
			return fmt.Sprint(m[c.field])
		}
		if e["action"] != c.action || e["actor_username"] != "admin" || str(e["before"]) != c.before || str(e["after"]) != c.after {
			t.Errorf("%s %s audit entry: %v", c.entity, c.key, e)
		}
		// Flags such as must_change_password may show; hashes never.
		if strings.Contains(fmt.Sprint(e), "password_hash") || strings.Contains(fmt.Sprint(e), "$2a$") {
			t.Errorf("%s %s audit entry holds a password: %v", c.entity, c.key, e)
		}
	}
	if r := b.do("GET", "/api/v1/audit?from=yesterday", admin, nil); r.Status != 422 || r.errCode() != "request.bad_query" {
		t.Errorf("bad from: %d %s", r.Status, r.Body)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	if n := len(b.must(200, "GET", "/api/v1/audit?from="+today+"&to="+today+"&entity=calendar", admin, nil).JSON["items"].([]any)); n != 1 {
		t.Errorf("today's calendar changes: %d", n)
	}
	if r := b.do("GET", "/api/v1/audit", tok["staff"], nil); r.Status != 403 {
		t.Errorf("staff reading the audit log: %d", r.Status)
	}
}
