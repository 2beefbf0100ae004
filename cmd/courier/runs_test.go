package main

import (
	"fmt"
	"strings"
	"testing"
)

// legIDs maps "FROM>TO" to leg ids.
func (s *service) legIDs(token string) map[string]int {
	s.t.Helper()
	r := s.must(200, "GET", "/api/v1/routes", token, nil)
	out := map[string]int{}
	for _, it := range r.JSON["items"].([]any) {
		l := it.(map[string]any)
		out[l["from_site"].(string)+">"+l["to_site"].(string)] = int(l["id"].(float64))
	}
	return out
}

func (s *service) staffAt(admin, site string) string {
	s.t.Helper()
	name := "staff-" + strings.ToLower(site)
	s.must(201, "POST", "/api/v1/users", admin, map[string]any{"username": name, "password": "password-123456",
		"role": "staff", "site": site})
	return s.login(name, "password-123456")
}

// A certificate for a county hall travels department → hub → hall in
// sealed runs, through the API: runs made by an administrator, bags scanned
// by the courier and the halls, the hub's check list closed, manifests and
// bag labels printed and decoded.
func TestHubJourneyThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	admin := tok["admin"]
	hub := s.staffAt(admin, "CC-HUB")
	ed := s.staffAt(admin, "ED-HALL")
	legs := s.legIDs(admin)

	body := parcelBody("13912345678")
	body["destination"] = map[string]any{"kind": "hall", "site": "ED-HALL"}
	p := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], body)
	no := p.str("waybill_no")
	if path := fmt.Sprint(p.JSON["path"]); path != "[D-SW CC-HUB ED-HALL]" {
		t.Fatalf("path %s", path)
	}
	if r := s.do("GET", "/api/v1/routes/path?from=D-SW&to=ED-HALL", tok["clerk"], nil); !strings.Contains(string(r.Body), `"path":["D-SW","CC-HUB","ED-HALL"]`) {
		t.Fatalf("route path: %s", r.Body)
	}

	// Leg 1: department → hub.
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", legs["D-SW>CC-HUB"]), admin, nil)
	runNo, bagNo := run.str("run_no"), run.str("bag_no")
	if run.JSON["parcel_count"].(float64) != 1 {
		t.Fatalf("run: %s", run.Body)
	}
	if r := s.do("POST", fmt.Sprintf("/api/v1/routes/%d/run", legs["D-GT>CC-HUB"]), admin, nil); r.Status != 422 || r.errCode() != "run.empty" {
		t.Fatalf("empty leg: %d %s", r.Status, r.Body)
	}
	manifest := s.must(200, "GET", "/api/v1/runs/"+runNo+"/manifest.pdf", tok["clerk"], nil)
	if pages := decodePDF(t, manifest.Body); len(pages) == 0 || !strings.Contains(strings.Join(pages[0], "|"), runNo) {
		t.Fatalf("manifest decoded %v, want %s", pages, runNo)
	}
	bagLabel := s.must(200, "GET", "/api/v1/runs/"+bagNo+"/bag-label.pdf", tok["courier"], nil)
	if pages := decodePDF(t, bagLabel.Body); len(pages) != 1 || !strings.Contains(strings.Join(pages[0], "|"), "CODE-128:"+bagNo) {
		t.Fatalf("bag label decoded %v, want %s", pages, bagNo)
	}
	if r := s.scan(tok["clerk"], no, "cancel", "", "reason", "applicant_withdrew"); r.Status != 409 || r.errCode() != "cancel.run_sealed" {
		t.Fatalf("cancel in a sealed run: %s", r.Body)
	}
	r := s.scan(tok["courier"], bagNo, "pickup", "D-SW")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"in_transit"`) {
		t.Fatalf("bag pickup: %s", r.Body)
	}
	if r := s.scan(hub, bagNo, "receive", ""); r.Status != 200 || r.JSON["kind"] != "bag" {
		t.Fatalf("bag receive at the hub: %s", r.Body)
	}
	if r := s.scan(hub, no, "receive", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"next_site":"ED-HALL"`) {
		t.Fatalf("parcel receive at the hub: %s", r.Body)
	}
	closed := s.must(200, "POST", "/api/v1/runs/"+runNo+"/close", hub, nil)
	if !strings.Contains(string(closed.Body), `"missing":[]`) || !strings.Contains(string(closed.Body), no) {
		t.Fatalf("close: %s", closed.Body)
	}

	// Leg 2: hub → hall; the parcel continues without anyone retyping it.
	run2 := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", legs["CC-HUB>ED-HALL"]), admin, nil)
	bag2 := run2.str("bag_no")
	s.must(200, "POST", "/api/v1/scans", tok["courier"], map[string]any{"code": bag2, "action": "pickup", "scan_id": scanID()})
	if r := s.scan(tok["staffNG"], bag2, "receive", "NG-HALL"); r.Status != 403 && r.Status != 409 {
		t.Fatalf("bag received at the wrong hall: %d %s", r.Status, r.Body)
	}
	s.must(200, "POST", "/api/v1/scans", ed, map[string]any{"code": bag2, "action": "receive", "scan_id": scanID()})
	for _, a := range []string{"receive", "shelve"} {
		if r := s.scan(ed, no, a, ""); r.Status != 200 {
			t.Fatalf("%s at the hall: %s", a, r.Body)
		}
	}
	detail := s.must(200, "GET", "/api/v1/runs/"+bag2, admin, nil)
	if !strings.Contains(string(detail.Body), `"outcome":"received"`) || !strings.Contains(string(detail.Body), `"carrier":"manual"`) {
		t.Fatalf("run detail: %s", detail.Body)
	}
	tr := s.must(200, "GET", "/api/v1/track/"+no+"?phone_tail=5678", "", nil)
	if tr.str("status") != "ready" || !strings.Contains(string(tr.Body), "长春市政务服务中心 物料流转区") {
		t.Fatalf("public timeline: %s", tr.Body)
	}
	if list := s.must(200, "GET", "/api/v1/runs?site=CC-HUB", admin, nil); len(list.JSON["items"].([]any)) != 2 {
		t.Fatalf("runs at the hub: %s", list.Body)
	}
}

func TestRoutesCalendarAndJobsBadInput(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	admin := tok["admin"]
	legs := s.legIDs(admin)
	for _, c := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"BadCron", "POST", "/api/v1/routes", map[string]any{"from_site": "D-SW", "to_site": "NG-HALL", "schedule": "61 9 * * *"}, 422, "schedule.invalid"},
		{"TooFrequent", "POST", "/api/v1/routes", map[string]any{"from_site": "D-SW", "to_site": "NG-HALL", "schedule": "* * * * *"}, 422, "schedule.too_frequent"},
		{"Loop", "POST", "/api/v1/routes", map[string]any{"from_site": "CC-HUB", "to_site": "CC-HUB", "schedule": "0 9 * * *"}, 422, "route.same_site"},
		{"UnknownSite", "POST", "/api/v1/routes", map[string]any{"from_site": "D-SW", "to_site": "XX-HALL", "schedule": "0 9 * * *"}, 422, "site.unknown"},
		{"Duplicate", "POST", "/api/v1/routes", map[string]any{"from_site": "D-SW", "to_site": "CC-HUB", "schedule": "0 9 * * *"}, 409, "route.duplicate"},
		{"UnknownLeg", "PUT", "/api/v1/routes/999999", map[string]any{"from_site": "D-SW", "to_site": "CC-HUB", "schedule": "0 9 * * *"}, 404, "route.not_found"},
		{"BadDate", "PUT", "/api/v1/calendar/2026-13-01", map[string]any{"kind": "closed"}, 422, "calendar.date_invalid"},
		{"BadKind", "PUT", "/api/v1/calendar/2026-10-01", map[string]any{"kind": "party"}, 422, "calendar.kind_unknown"},
		{"UnknownJob", "POST", "/api/v1/jobs/nope/run", nil, 404, "job.not_found"},
		{"BadJobCron", "PUT", "/api/v1/jobs/reminder", map[string]any{"enabled": true, "schedule": "x"}, 422, "schedule.invalid"},
		{"BadJobParams", "PUT", "/api/v1/jobs/reminder", map[string]any{"enabled": true, "schedule": "0 10 * * *", "params": map[string]any{"colour": 1}}, 422, "job.params_invalid"},
		{"NotARun", "GET", "/api/v1/runs/hello", nil, 422, "code.invalid"},
	} {
		r := s.do(c.method, c.path, admin, c.body)
		if r.Status != c.status || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	if got := s.legIDs(admin); len(got) != len(legs) {
		t.Fatalf("legs changed by refused requests: %d → %d", len(legs), len(got))
	}
	// Good edits: a holiday, a job's settings, a job run by hand with its history.
	s.must(200, "PUT", "/api/v1/calendar/2026-10-01", admin, map[string]any{"kind": "closed", "note": "国庆节"})
	if cal := s.must(200, "GET", "/api/v1/calendar", tok["staff"], nil); !strings.Contains(string(cal.Body), `"2026-10-01":"closed"`) {
		t.Fatalf("calendar: %s", cal.Body)
	}
	s.must(204, "DELETE", "/api/v1/calendar/2026-10-01", admin, nil)
	s.must(200, "PUT", "/api/v1/jobs/reminder", admin, map[string]any{"enabled": true, "schedule": "0 9 * * *", "params": map[string]any{"first_after_days": 2}})
	run := s.must(200, "POST", "/api/v1/jobs/sla/run", admin, nil)
	if run.str("outcome") != "ok" {
		t.Fatalf("job run: %s", run.Body)
	}
	hist := s.must(200, "GET", "/api/v1/jobs/sla/runs", admin, nil)
	if len(hist.JSON["items"].([]any)) != 1 {
		t.Fatalf("history: %s", hist.Body)
	}
	jobs := s.must(200, "GET", "/api/v1/jobs", admin, nil)
	if !strings.Contains(string(jobs.Body), `"schedule":"0 9 * * *"`) {
		t.Fatalf("jobs: %s", jobs.Body)
	}
	// Deactivating the leg a waiting parcel needs flags the parcel; it is not lost.
	body := parcelBody("13912345678")
	body["destination"] = map[string]any{"kind": "hall", "site": "NG-HALL"}
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], body).str("waybill_no")
	s.must(200, "PUT", fmt.Sprintf("/api/v1/routes/%d", legs["D-SW>CC-HUB"]), admin,
		map[string]any{"from_site": "D-SW", "to_site": "CC-HUB", "schedule": "30 9,14 * * *", "sla_hours": 24, "active": false})
	evs := s.must(200, "GET", "/api/v1/parcels/"+no+"/events", admin, nil)
	if !strings.Contains(string(evs.Body), `"reason":"path_broken"`) {
		t.Fatalf("waiting parcel not flagged: %s", evs.Body)
	}
	// New registrations take the shortest way that is left (via the city window).
	body["application_no"] = fmt.Sprintf("SW-2026-%06d", nextApplication()) // another application
	if r := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], body); fmt.Sprint(r.JSON["path"]) != "[D-SW CC-WIN CC-HUB NG-HALL]" {
		t.Fatalf("path without the leg: %s", r.Body)
	}
}
