package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/changchun-gov/courier/integrations/ems"
	"github.com/changchun-gov/courier/integrations/simulator"
)

// walkRoles are the callers of the role walk, in the order of a row's
// cells: users of each role at a site of their own or another, and no token.
var walkRoles = []string{"admin", "clerk", "clerkGT", "staff", "staffNG", "lead", "courier", "api", ""}

// cellWant decodes a row's cells, one letter per caller in walkRoles order:
// o 2xx (the request is valid and must succeed), f 403, u 401, n 404.
func cellWant(t *testing.T, route, cells string) map[string]byte {
	t.Helper()
	cells = strings.ReplaceAll(cells, " ", "")
	if len(cells) != len(walkRoles) {
		t.Fatalf("%s: %d cells, want %d (%v)", route, len(cells), len(walkRoles), walkRoles)
	}
	out := map[string]byte{}
	for i, r := range walkRoles {
		if !strings.ContainsRune("ofun", rune(cells[i])) {
			t.Fatalf("%s: cell %q for %q", route, cells[i], r)
		}
		out[r] = cells[i]
	}
	return out
}

// walkRequest is one cell's request: the path (with its parameters filled
// in), the body, and the token when the cell needs one of its own.
type walkRequest struct {
	path    string
	body    any
	token   string
	headers []string
}

// walkRoute is one row: a route of the service, how to make a valid
// request for each caller, and what each caller must get.
type walkRoute struct {
	method, pattern string
	req             func(role string) walkRequest
	cells           string
}

var walkN atomic.Int64

// walkNo is a fresh application number.
func walkNo() string { return fmt.Sprintf("RW-%d", walkN.Add(1)) }

var paramPattern = regexp.MustCompile(`\{[^}]+\}`)

// Every route of the service (as its OpenAPI document lists them, which a
// test in web keeps equal to the routes it serves) with every role: each
// cell has its expected status; every allowed cell sends a valid request
// and must answer 2xx; a route missing from the table fails the test.
func TestEveryRouteWithEveryRole(t *testing.T) {
	t.Parallel()
	// The courier's API is the simulator, refusing every booking (rate
	// limited): bookings stay pending, for staff to book by hand.
	var sim *courierSim
	s := bootHooks(t, map[string]string{"COURIER_COURIER_SIM": "on", "COURIER_PUSH_TOKEN": testPushToken, "COURIER_SIM_SPEED": "1"},
		&testHooks{sim: func(cs *courierSim) {
			sim = cs
			for range 2000 {
				cs.sf.Fail(simulator.FaultRateLimit)
			}
		}})
	tok := s.users()
	admin := tok["admin"]
	legs := s.legIDs(admin)
	emsPush, err := sim.ems.PushBody("RW-1", []ems.TraceItem{{WaybillNo: "1100000000001", OrderNo: "CR00000000000001",
		OpTime: "2026-12-03 10:00:00", OpCode: "203", OpName: "收寄"}})
	if err != nil {
		t.Fatal(err)
	}

	// registered makes a parcel as the clerk at D-SW, for the city window,
	// and answers the registration.
	registered := func() response {
		b := parcelBody("13912345678")
		b["application_no"] = walkNo()
		return s.must(201, "POST", "/api/v1/parcels", tok["clerk"], b)
	}
	register := func() string { return registered().str("waybill_no") }
	// The parcel most rows read: registered at D-SW and collected by the
	// courier, bound for CC-WIN; and its private link.
	first := registered()
	no := first.str("waybill_no")
	link := strings.TrimPrefix(first.str("private_url"), "https://zwfw.example.cn")
	s.must(200, "POST", "/api/v1/scans", tok["courier"], map[string]any{"code": no, "action": "pickup", "site": "D-SW", "scan_id": scanID()})
	// A run of the direct leg D-SW → CC-WIN, for the run rows.
	register()
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", legs["D-SW>CC-WIN"]), admin, nil)
	runNo, bagNo := run.str("run_no"), run.str("bag_no")
	// registerAt makes a parcel as admin at a department, for the city window.
	registerAt := func(origin string) {
		b := parcelBody("13912345678")
		b["application_no"], b["origin_site"] = walkNo(), origin
		s.must(201, "POST", "/api/v1/parcels", admin, b)
	}
	// Manual runs are keyed by leg and second: each run below has a leg of its own.
	// arrivedRun makes a run whose bag the courier collected and CC-WIN received.
	arrivedRun := func(origin string) string {
		registerAt(origin)
		r := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", legs[origin+">CC-WIN"]), admin, nil)
		s.must(200, "POST", "/api/v1/scans", tok["courier"], map[string]any{"code": r.str("bag_no"), "action": "pickup", "scan_id": scanID()})
		s.must(200, "POST", "/api/v1/scans", tok["staff"], map[string]any{"code": r.str("bag_no"), "action": "receive", "scan_id": scanID()})
		return r.str("run_no")
	}
	// sealedRun makes a run waiting for its courier, from origin.
	// (A leg makes one run a second: a second run of the same second waits.)
	sealedRun := func(origin string) string {
		registerAt(origin)
		for range 3 {
			r := s.do("POST", fmt.Sprintf("/api/v1/routes/%d/run", legs[origin+">CC-WIN"]), admin, nil)
			if r.Status == 201 {
				return r.str("run_no")
			}
			if r.errCode() != "run.slot_taken" {
				t.Fatalf("a run from %s: %d %s", origin, r.Status, r.Body)
			}
			time.Sleep(time.Second)
		}
		t.Fatalf("no run from %s", origin)
		return ""
	}
	// The walk's courier works for the city's own booking by telephone
	// (the carrier of bookings made by hand): bookedRun is a sealed run
	// booked so, pickedRun one assigned to that courier and picked up.
	s.must(200, "PATCH", "/api/v1/users/u-courier", admin, map[string]any{"carrier": "manual"})
	bookedRun := func(origin string) string {
		no := sealedRun(origin)
		s.must(200, "POST", "/api/v1/runs/"+no+"/booking", admin, map[string]any{"ref": "TEL-" + no})
		return no
	}
	pickedRun := func(origin string) string {
		no := bookedRun(origin)
		s.must(200, "POST", "/api/v1/runs/"+no+"/assign", admin, map[string]any{"username": "u-courier"})
		s.must(200, "POST", "/api/v1/scans", tok["courier"], map[string]any{"code": no, "action": "pickup", "scan_id": scanID()})
		return no
	}
	// registration is a valid registration for each registering caller.
	registration := func(role string) any {
		b := parcelBody("13912345678")
		b["application_no"] = walkNo()
		switch role {
		case "clerkGT":
			b["origin_site"] = "D-GT"
			b["certificate"] = map[string]any{"type": "business_licence", "number": "GT-1"}
		case "staff", "staffNG", "lead":
			site := map[string]string{"staff": "CC-WIN", "staffNG": "NG-HALL", "lead": "CC-WIN"}[role]
			b["kind"], b["origin_site"] = "materials", site
			b["destination"] = map[string]any{"kind": "department", "site": "D-SW"}
			delete(b, "certificate")
		}
		return b
	}
	// scanFor is a valid scan of a fresh parcel for each scanning caller.
	scanFor := func(role string) any {
		p := register()
		body := map[string]any{"code": p, "scan_id": scanID()}
		switch role {
		case "admin":
			body["action"], body["reason"] = "report", "damaged"
		case "clerk", "clerkGT", "api", "":
			body["action"], body["reason"] = "cancel", "applicant_withdrew"
		case "staff", "staffNG", "lead":
			s.must(200, "POST", "/api/v1/scans", tok["courier"], map[string]any{"code": p, "action": "pickup", "site": "D-SW", "scan_id": scanID()})
			body["action"], body["reason"] = "report", "damaged"
		case "courier":
			body["action"], body["site"] = "pickup", "D-SW"
		}
		return body
	}
	plain := func(path string) func(string) walkRequest {
		return func(string) walkRequest { return walkRequest{path: path} }
	}
	withBody := func(path string, body func(role string) any) func(string) walkRequest {
		return func(role string) walkRequest { return walkRequest{path: path, body: body(role)} }
	}
	newUser := func(string) any {
		return map[string]any{"username": "w" + strings.ToLower(strings.ReplaceAll(walkNo(), "-", "")), "password": "password-123456", "role": "courier"}
	}
	leg := fmt.Sprintf("/api/v1/routes/%d", legs["D-SW>CC-WIN"])
	legBody := func(string) any {
		return map[string]any{"from_site": "D-SW", "to_site": "CC-WIN", "schedule": "30 9,14 * * *", "sla_hours": 24, "active": true}
	}
	newLegs := []string{"NG-HALL", "NA-HALL", "JY-HALL", "DH-HALL", "YS-HALL", "ED-HALL", "CC-HUB"}
	var newLeg atomic.Int64
	newLegBody := func(role string) any {
		// A department to a hall it has no leg to yet, for the allowed
		// caller; the others are refused before the body is read.
		to := newLegs[0]
		if role == "admin" {
			to = newLegs[newLeg.Add(1)%int64(len(newLegs))]
		}
		return map[string]any{"from_site": "D-AJ", "to_site": to, "schedule": "0 10 * * *"}
	}
	day := "/api/v1/calendar/2026-10-01"

	// A background check of the parcel's chain, for the row that reads one.
	check := s.must(202, "POST", "/api/v1/verify", admin, map[string]any{"waybill_no": no})
	checkID := fmt.Sprint(check.JSON["id"])

	// Accounts the admin edits: a role and site change that keeps the user
	// as it was, and a password reset of an account made for it.
	s.must(201, "POST", "/api/v1/users", admin, map[string]any{"username": "walk.reset", "password": "walk-reset-pw-1", "role": "courier"})
	// password is each caller's password, for the rows that sign in.
	password := func(role string) (string, string) {
		if role == "admin" {
			return "admin", adminPassword
		}
		return "u-" + strings.ToLower(role), "password-" + role + "-1"
	}

	//                                                     admin clerk clerkGT staff staffNG lead courier api none
	routes := []walkRoute{
		{"GET", "/healthz", plain("/healthz"), "o o o o o o o o o"},
		{"GET", "/readyz", plain("/readyz"), "o o o o o o o o o"},
		{"GET", "/api/openapi.json", plain("/api/openapi.json"), "o o o o o o o o o"},
		{"GET", "/t/{waybill_no}", plain("/t/" + no), "o o o o o o o o o"},
		{"POST", "/t/{waybill_no}", func(string) walkRequest {
			return walkRequest{path: "/t/" + no, body: "phone_tail=5678", headers: []string{"Content-Type", "application/x-www-form-urlencoded"}}
		}, "o o o o o o o o o"},
		{"GET", "/api/v1/track/{waybill_no}", plain("/api/v1/track/" + no), "o o o o o o o o o"},
		{"GET", "/s/{token}", plain(link), "o o o o o o o o o"},
		// The link page's express form (a parcel of its own each time).
		{"POST", "/s/{token}/express-code", func(string) walkRequest {
			r := registered()
			return walkRequest{path: "/s/" + r.str("private_url")[strings.LastIndex(r.str("private_url"), "/")+1:] + "/express-code",
				body: "lang=zh-CN", headers: []string{"Content-Type", "application/x-www-form-urlencoded"}}
		}, "o o o o o o o o o"},
		{"POST", "/s/{token}/express", func(string) walkRequest {
			r := registered()
			tok := r.str("private_url")[strings.LastIndex(r.str("private_url"), "/")+1:]
			s.must(200, "POST", "/api/v1/s/"+tok+"/redirect-code", "", nil)
			form := url.Values{"code": {s.lastCode(r.str("waybill_no"), "sms.redirect_code")}, "province": {"吉林省"}, "city": {"长春市"},
				"district": {"南关区"}, "detail": {"人民大街 100 号"}}
			return walkRequest{path: "/s/" + tok + "/express", body: form.Encode(), headers: []string{"Content-Type", "application/x-www-form-urlencoded"}}
		}, "o o o o o o o o o"},
		{"GET", "/api/v1/s/{token}", plain("/api/v1" + link), "o o o o o o o o o"},
		{"POST", "/api/v1/auth/token", withBody("/api/v1/auth/token", func(string) any {
			return map[string]string{"username": "admin", "password": adminPassword}
		}), "o o o o o o o o o"},
		{"DELETE", "/api/v1/auth/token", func(role string) walkRequest {
			// A token of its own, so the walk's token stays valid.
			tk := ""
			if role != "" {
				tk = s.login(password(role))
			}
			return walkRequest{path: "/api/v1/auth/token", token: tk}
		}, "o o o o o o o o u"},
		{"GET", "/api/v1/me", plain("/api/v1/me"), "o o o o o o o o u"},
		{"GET", "/api/v1/sites", plain("/api/v1/sites"), "o o o o o o o o u"},
		{"GET", "/api/v1/cert-types", plain("/api/v1/cert-types"), "o o o o o o o o u"},
		{"GET", "/api/v1/users", plain("/api/v1/users"), "o f f f f f f f u"},
		{"POST", "/api/v1/users", withBody("/api/v1/users", newUser), "o f f f f f f f u"},
		{"PATCH", "/api/v1/users/{username}", withBody("/api/v1/users/u-staffng", func(string) any {
			return map[string]any{"role": "staff", "site": "NG-HALL", "disabled": false}
		}), "o f f f f f f f u"},
		{"POST", "/api/v1/users/{username}/password-reset", plain("/api/v1/users/walk.reset/password-reset"), "o f f f f f f f u"},
		{"POST", "/api/v1/parcels", withBody("/api/v1/parcels", registration), "o o o o o o f o u"},
		{"GET", "/api/v1/parcels", plain("/api/v1/parcels"), "o o o o o o o o u"},
		{"GET", "/api/v1/parcels/{waybill_no}", plain("/api/v1/parcels/" + no), "o o f o f o o o u"},
		{"GET", "/api/v1/parcels/{waybill_no}/events", plain("/api/v1/parcels/" + no + "/events"), "o o f o f o o o u"},
		{"GET", "/api/v1/parcels/{waybill_no}/label.pdf", plain("/api/v1/parcels/" + no + "/label.pdf"), "o o f o f o f o u"},
		{"POST", "/api/v1/labels", withBody("/api/v1/labels", func(string) any {
			return map[string]any{"waybill_nos": []string{no}}
		}), "o o f o f o f o u"},
		{"POST", "/api/v1/scans", withBody("/api/v1/scans", scanFor), "o o f o f o o f u"},
		{"GET", "/api/v1/messages", plain("/api/v1/messages"), "o f f f f f f f u"},
		{"PUT", "/api/v1/sites/{code}", withBody("/api/v1/sites/NG-HALL", func(string) any {
			return map[string]any{"board_notice_zh": "本周六正常办公"}
		}), "o f f f f f f f u"},
		{"PUT", "/api/v1/sites/{code}/slots", withBody("/api/v1/sites/CC-WIN/slots", func(string) any {
			return map[string]any{"slot_required": false, "slots": []string{"A-01", "A-02"}}
		}), "o f f f f f f f u"},
		{"GET", "/api/v1/sites/{code}/slots", plain("/api/v1/sites/CC-WIN/slots"), "o f f o f o f f u"},
		{"GET", "/api/v1/sites/{code}/slots/{slot}/label.pdf", plain("/api/v1/sites/CC-WIN/slots/A-01/label.pdf"), "o f f o f o f f u"},
		{"GET", "/api/v1/digests", plain("/api/v1/digests"), "o f f f f f f f u"},
		{"POST", "/api/v1/verify", withBody("/api/v1/verify", func(string) any { return map[string]any{"waybill_no": no} }), "o f f f f f f f u"},
		{"GET", "/api/v1/verify/{id}", plain("/api/v1/verify/" + checkID), "o f f f f f f f u"},
		{"GET", "/api/v1/audit", plain("/api/v1/audit?entity=site"), "o f f f f f f f u"},
		{"GET", "/api/v1/routes", plain("/api/v1/routes"), "o o o o o o o o u"},
		{"GET", "/api/v1/routes/path", plain("/api/v1/routes/path?" + url.Values{"from": {"D-SW"}, "to": {"CC-WIN"}}.Encode()), "o o o o o o o o u"},
		{"POST", "/api/v1/routes", withBody("/api/v1/routes", newLegBody), "o f f f f f f f u"},
		{"PUT", "/api/v1/routes/{id}", withBody(leg, legBody), "o f f f f f f f u"},
		{"POST", "/api/v1/routes/{id}/run", func(role string) walkRequest {
			if role == "admin" {
				registerAt("D-GT")
			}
			return walkRequest{path: fmt.Sprintf("/api/v1/routes/%d/run", legs["D-GT>CC-WIN"])}
		}, "o f f f f f f f u"},
		{"GET", "/api/v1/calendar", plain("/api/v1/calendar"), "o o o o o o o o u"},
		{"PUT", "/api/v1/calendar/{day}", withBody(day, func(string) any { return map[string]any{"kind": "closed", "note": "国庆节"} }), "o f f f f f f f u"},
		{"DELETE", "/api/v1/calendar/{day}", plain(day), "o f f f f f f f u"},
		{"GET", "/api/v1/runs", plain("/api/v1/runs"), "o o o o o o o f u"},
		{"GET", "/api/v1/runs/{run_no}", plain("/api/v1/runs/" + runNo), "o o f o f o o f u"},
		{"POST", "/api/v1/runs/{run_no}/close", func(role string) walkRequest {
			if origin, ok := map[string]string{"admin": "D-HB", "staff": "D-LY", "lead": "D-NS"}[role]; ok {
				return walkRequest{path: "/api/v1/runs/" + arrivedRun(origin) + "/close"}
			}
			return walkRequest{path: "/api/v1/runs/" + runNo + "/close"}
		}, "o f f o f o f f u"},
		{"POST", "/api/v1/runs/{run_no}/cancel", func(role string) walkRequest {
			no := runNo
			if origin, ok := map[string]string{"admin": "D-HB", "clerk": "D-SW"}[role]; ok {
				no = sealedRun(origin)
			}
			return walkRequest{path: "/api/v1/runs/" + no + "/cancel", body: map[string]any{"reason": "快递公司今日停收"}}
		}, "o o f f f f f f u"},
		{"POST", "/api/v1/runs/{run_no}/booking", func(role string) walkRequest {
			no := runNo
			if origin, ok := map[string]string{"admin": "D-HB", "clerk": "D-SW"}[role]; ok {
				no = sealedRun(origin)
			}
			return walkRequest{path: "/api/v1/runs/" + no + "/booking", body: map[string]any{"ref": "SF1440099887766", "note": "电话预约"}}
		}, "o o f f f f f f u"},
		{"GET", "/api/v1/courier/bookings", plain("/api/v1/courier/bookings"), "f f f f f f o f u"},
		// The recipient's choice of express: public, the link's token (each
		// call on a parcel of its own: one code a minute).
		{"POST", "/api/v1/s/{token}/redirect-code", func(string) walkRequest {
			r := registered()
			return walkRequest{path: "/api/v1/s/" + r.str("private_url")[strings.LastIndex(r.str("private_url"), "/")+1:] + "/redirect-code"}
		}, "o o o o o o o o o"},
		{"POST", "/api/v1/s/{token}/redirect", func(string) walkRequest {
			r := registered()
			tok := r.str("private_url")[strings.LastIndex(r.str("private_url"), "/")+1:]
			s.must(200, "POST", "/api/v1/s/"+tok+"/redirect-code", "", nil)
			return walkRequest{path: "/api/v1/s/" + tok + "/redirect", body: map[string]any{"code": s.lastCode(r.str("waybill_no"), "sms.redirect_code"),
				"address": map[string]any{"province": "吉林省", "city": "长春市", "district": "南关区", "detail": "人民大街 100 号"}}}
		}, "o o o o o o o o o"},
		{"GET", "/api/v1/couriers/{carrier}/mapping", plain("/api/v1/couriers/ems/mapping"), "o f f f f f f f u"},
		{"PUT", "/api/v1/couriers/{carrier}/mapping", withBody("/api/v1/couriers/ems/mapping", func(string) any {
			return map[string]any{"codes": map[string]any{"704": "signed"}, "names": map[string]any{"收寄": "collected"}}
		}), "o f f f f f f f u"},
		{"POST", "/api/v1/runs/{run_no}/take", func(role string) walkRequest {
			no := runNo
			if role == "courier" {
				no = bookedRun("D-NS")
			}
			return walkRequest{path: "/api/v1/runs/" + no + "/take"}
		}, "f f f f f f o f u"},
		{"POST", "/api/v1/runs/{run_no}/assign", func(role string) walkRequest {
			no := runNo
			if role == "admin" {
				no = bookedRun("D-LY")
			}
			return walkRequest{path: "/api/v1/runs/" + no + "/assign", body: map[string]any{"username": "u-courier"}}
		}, "o f f f f f f f u"},
		{"POST", "/api/v1/runs/{run_no}/handover", func(role string) walkRequest {
			no := runNo
			if origin, ok := map[string]string{"admin": "D-GT", "courier": "D-SW"}[role]; ok {
				no = pickedRun(origin)
			}
			return walkRequest{path: "/api/v1/runs/" + no + "/handover"}
		}, "o f f f f f o f u"},
		// The couriers' pushes: no sign-in, the token in the address (a
		// waybill that is no booking of ours is answered, not kept).
		{"POST", "/hooks/sfexpress/{token}", withBody("/hooks/sfexpress/"+testPushToken, func(string) any {
			return map[string]any{"Body": map[string]any{"WaybillRoute": []any{map[string]any{"id": "1", "mailno": "SF0000000000001",
				"orderid": "CR00000000000001", "acceptTime": "2026-12-03 10:00:00", "opCode": "50"}}}}
		}), "o o o o o o o o o"},
		{"POST", "/hooks/ems/{token}", withBody("/hooks/ems/"+testPushToken, func(string) any { return json.RawMessage(emsPush) }),
			"o o o o o o o o o"},
		{"GET", "/api/v1/runs/{run_no}/manifest.pdf", plain("/api/v1/runs/" + runNo + "/manifest.pdf"), "o o f o f o o f u"},
		{"GET", "/api/v1/runs/{run_no}/bag-label.pdf", plain("/api/v1/runs/" + bagNo + "/bag-label.pdf"), "o o f o f o o f u"},
		{"GET", "/api/v1/jobs", plain("/api/v1/jobs"), "o f f f f f f f u"},
		{"PUT", "/api/v1/jobs/{name}", withBody("/api/v1/jobs/reminder", func(string) any {
			return map[string]any{"enabled": true, "schedule": "0 9 * * *"}
		}), "o f f f f f f f u"},
		{"GET", "/api/v1/jobs/{name}/runs", plain("/api/v1/jobs/sla/runs"), "o f f f f f f f u"},
		{"POST", "/api/v1/jobs/{name}/run", plain("/api/v1/jobs/sla/run"), "o f f f f f f f u"},
		// Last: everyone changes their own password (the rows above sign in with it).
		{"PUT", "/api/v1/me/password", withBody("/api/v1/me/password", func(role string) any {
			_, pw := password(role)
			return map[string]any{"current_password": pw, "new_password": "walk-" + pw}
		}), "o o o o o o o o u"},
	}

	// The table covers every documented route, and only those.
	doc := s.must(200, "GET", "/api/openapi.json", "", nil)
	paths, _ := doc.JSON["paths"].(map[string]any)
	documented := map[string]bool{}
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			switch m {
			case "get", "post", "put", "patch", "delete":
				documented[strings.ToUpper(m)+" "+paramPattern.ReplaceAllString(p, "{}")] = true
			}
		}
	}
	inTable := map[string]bool{}
	for _, rt := range routes {
		key := rt.method + " " + paramPattern.ReplaceAllString(rt.pattern, "{}")
		if inTable[key] {
			t.Errorf("route %s is in the table twice", key)
		}
		inTable[key] = true
		if !documented[key] {
			t.Errorf("the table has %s, which the service does not document", key)
		}
	}
	var missing []string
	for key := range documented {
		if !inTable[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, key := range missing {
		t.Errorf("route %s is missing from the role walk", key)
	}

	// Query variants of a route that answer other callers than the route
	// itself: the counter's lookup by collection code (hall staff and
	// leads of that hall, admins).
	variants := []walkRoute{
		{"GET", "/api/v1/parcels?collection_code", plain("/api/v1/parcels?collection_code=123456&site=CC-WIN"), "o f f o f o f f u"},
	}
	for _, rt := range append(routes, variants...) {
		want := cellWant(t, rt.method+" "+rt.pattern, rt.cells)
		for _, role := range walkRoles {
			rq := rt.req(role)
			token := tok[role]
			if rq.token != "" || rt.method == "DELETE" && rt.pattern == "/api/v1/auth/token" {
				token = rq.token
			}
			r := s.do(rt.method, rq.path, token, rq.body, rq.headers...)
			ok := false
			switch want[role] {
			case 'o':
				ok = r.Status >= 200 && r.Status < 300
			case 'f':
				ok = r.Status == 403
			case 'u':
				ok = r.Status == 401
			case 'n':
				ok = r.Status == 404
			}
			if !ok {
				who := role
				if who == "" {
					who = "no token"
				}
				t.Errorf("%s %s as %s: %d, want %c: %s", rt.method, rq.path, who, r.Status, want[role], truncateBody(r.Body))
			}
		}
	}
}

func truncateBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
