package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/openapitest"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/web"
)

// The README's walk: register → pickup → receive → shelve → collect, and the
// public track page before and after.
func TestWalkThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()

	s.must(200, "GET", "/healthz", "", nil)
	s.must(200, "GET", "/readyz", "", nil)
	sites := s.must(200, "GET", "/api/v1/sites", tok["staff"], nil)
	if !strings.Contains(string(sites.Body), `"code":"CC-HUB"`) || !strings.Contains(string(sites.Body), "二道区政务服务中心") {
		t.Fatalf("sites: %s", sites.Body)
	}

	p := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	no := p.str("waybill_no")
	if p.str("status") != "registered" || p.str("status_text") != "已登记" || !strings.HasPrefix(no, "CP") {
		t.Fatalf("created: %s", p.Body)
	}
	before := s.must(200, "GET", "/api/v1/track/"+no, "", nil)
	if before.str("status") != "registered" || before.JSON["detail"] != nil || strings.Contains(string(before.Body), "王") {
		t.Fatalf("public view before: %s", before.Body)
	}

	steps := []struct{ who, code, action, site, want string }{
		{"courier", no, "pickup", "D-SW", "in_transit"},
		{"staff", "https://zwfw.example.cn/T/" + no, "receive", "CC-WIN", "arrived"},
		{"staff", strings.ToLower(no), "shelve", "CC-WIN", "ready"},
	}
	for _, st := range steps {
		r := s.scan(tok[st.who], st.code, st.action, st.site)
		items, _ := r.JSON["items"].([]any)
		if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["status"] != st.want {
			t.Fatalf("%s: %d %s", st.action, r.Status, r.Body)
		}
	}
	ready := s.must(200, "GET", "/api/v1/track/"+no, "", nil)
	if ready.str("status") != "ready" || ready.str("hold_until") == "" || !strings.Contains(ready.str("hold_until"), "+08:00") {
		t.Fatalf("public view when ready: %s", ready.Body)
	}
	r := s.scan(tok["staff"], no, "collect", "CC-WIN", "id_number", "11010519491231002X")
	if r.Status != 200 {
		t.Fatalf("collect: %d %s", r.Status, r.Body)
	}
	after := s.must(200, "GET", "/api/v1/track/"+no+"?phone_tail=5678", "", nil)
	d, _ := after.JSON["detail"].(map[string]any)
	if after.str("status") != "collected" || d == nil || d["recipient_name"] != "王*明" || d["phone"] != "139****5678" {
		t.Fatalf("public view after: %s", after.Body)
	}
	if strings.Contains(string(after.Body), "王小明") || strings.Contains(string(after.Body), "1101051949") {
		t.Fatalf("public view leaks personal data: %s", after.Body)
	}
	tl, _ := d["timeline"].([]any)
	if len(tl) != 5 {
		t.Fatalf("timeline has %d entries: %s", len(tl), after.Body)
	}
	wrong := s.must(200, "GET", "/api/v1/track/"+no+"?phone_tail=0000", "", nil)
	if wrong.JSON["detail"] != nil {
		t.Fatalf("wrong tail got detail: %s", wrong.Body)
	}
	evs := s.must(200, "GET", "/api/v1/parcels/"+no+"/events", tok["admin"], nil)
	if n := len(evs.JSON["items"].([]any)); n < 5 {
		t.Fatalf("events: %d", n)
	}
	page := s.must(200, "GET", "/t/"+no, "", nil)
	if !strings.Contains(string(page.Body), "已领取") || strings.Contains(string(page.Body), "王") {
		t.Fatalf("track page: %s", page.Body)
	}
	s.must(200, "GET", "/T/"+no, "", nil)
	en := s.must(200, "GET", "/api/v1/track/"+no, "", nil, "Accept-Language", "en-US,en;q=0.9")
	if en.str("status_text") != "Collected" {
		t.Fatalf("english: %s", en.Body)
	}
	msgs := s.must(200, "GET", "/api/v1/messages?waybill_no="+no, tok["admin"], nil)
	if !strings.Contains(string(msgs.Body), `"code":"******"`) || strings.Contains(string(msgs.Body), "13912345678") {
		t.Fatalf("messages for operators: %s", msgs.Body)
	}
}

// Every request example of POST /api/v1/parcels in the OpenAPI document works
// as is against the reference data.
func TestOpenAPIParcelExamplesWork(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	admin := s.login("admin", adminPassword)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Example  json.RawMessage `json:"example"`
					Examples map[string]struct {
						Value json.RawMessage `json:"value"`
					} `json:"examples"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	served := s.must(200, "GET", "/api/openapi.json", "", nil)
	if err := json.Unmarshal(served.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if string(served.Body) != string(web.OpenAPI) {
		t.Fatal("served document differs from the embedded one")
	}
	media := doc.Paths["/api/v1/parcels"]["post"].RequestBody.Content["application/json"]
	bodies := []json.RawMessage{}
	if len(media.Example) > 0 {
		bodies = append(bodies, media.Example)
	}
	for _, e := range media.Examples {
		bodies = append(bodies, e.Value)
	}
	if len(bodies) == 0 {
		t.Fatal("no example for POST /api/v1/parcels")
	}
	for _, b := range bodies {
		r := s.do("POST", "/api/v1/parcels", admin, []byte(b))
		if r.Status != 201 {
			t.Errorf("example %s: %d %s", b, r.Status, r.Body)
		}
	}
}

func TestBadInputIsRefusedAndNothingWritten(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	clerk := tok["clerk"]
	mod := func(f func(m map[string]any)) map[string]any {
		b := parcelBody("13912345678")
		f(b)
		return b
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"MalformedJSON", `{"kind":`, 400, "request.malformed_json"},
		{"NotAnObject", `[1,2]`, 400, "request.wrong_type"},
		{"Empty", ``, 400, "request.malformed_json"},
		{"TrailingData", `{"kind":"certificate"} {}`, 400, "request.malformed_json"},
		{"UnknownField", mod(func(m map[string]any) { m["colour"] = "red" }), 400, "request.unknown_field"},
		{"WrongType", mod(func(m map[string]any) { m["origin_site"] = 42 }), 400, "request.wrong_type"},
		{"UnknownSite", mod(func(m map[string]any) { m["destination"] = map[string]any{"kind": "hall", "site": "XX-HALL"} }), 422, "site.unknown"},
		{"BadPhone", mod(func(m map[string]any) { m["applicant"].(map[string]any)["phone"] = "23912345678" }), 422, "phone.invalid"},
		{"IDCheckDigit", mod(func(m map[string]any) { m["applicant"].(map[string]any)["id_number"] = "110105194912310021" }), 422, "id.resident.checksum"},
		{"OtherDepartment", mod(func(m map[string]any) { m["origin_site"] = "D-GT" }), 403, "parcel.dept_not_yours"},
		{"UnknownKind", mod(func(m map[string]any) { m["kind"] = "pizza" }), 422, "parcel.kind_unknown"},
	}
	for _, c := range cases {
		r := s.do("POST", "/api/v1/parcels", clerk, c.body)
		if r.Status != c.status || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
		msg, _ := r.JSON["error"].(map[string]any)["message"].(string)
		if msg == "" || msg == c.code {
			t.Errorf("%s: no Chinese message: %s", c.name, r.Body)
		}
	}
	if status, body := s.oversized("/api/v1/parcels", clerk); status != 413 || !strings.Contains(body, "request.too_large") {
		t.Errorf("oversized body: %d %s", status, body)
	}
	list := s.must(200, "GET", "/api/v1/parcels", tok["admin"], nil)
	if n := len(list.JSON["items"].([]any)); n != 0 {
		t.Fatalf("%d parcels written by bad requests", n)
	}
	en := s.do("POST", "/api/v1/parcels", clerk, mod(func(m map[string]any) { m["applicant"].(map[string]any)["phone"] = "1" }), "Accept-Language", "en")
	if msg := en.JSON["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "mainland mobile") {
		t.Fatalf("english message: %s", en.Body)
	}

	// Scans: a mistyped number is told apart from an unknown one.
	no := s.must(201, "POST", "/api/v1/parcels", clerk, parcelBody("13912345678")).str("waybill_no")
	mistyped := no[:15] + string("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(strings.IndexByte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", no[15])+1)%36])
	for _, c := range []struct {
		name, code, action string
		status             int
		want               string
	}{
		{"Mistyped", mistyped, "pickup", 422, "code.mistyped"},
		{"Garbage", "hello world", "pickup", 422, "code.invalid"},
		{"Unknown", shipment.NewNumber(shipment.KindParcel), "pickup", 404, "parcel.not_found"},
		{"UnknownAction", no, "teleport", 422, "action.unknown"},
		{"WrongState", no, "deliver", 409, "state.not_allowed"},
	} {
		r := s.scan(tok["courier"], c.code, c.action, "")
		if r.Status != c.status || r.errCode() != c.want {
			t.Errorf("scan %s: %d %s", c.name, r.Status, r.Body)
		}
	}
	r := s.do("POST", "/api/v1/scans", tok["courier"], map[string]any{"code": no, "action": "pickup"})
	if r.Status != 422 || r.errCode() != "scan.id_required" {
		t.Errorf("no scan id: %d %s", r.Status, r.Body)
	}
	r = s.scan(tok["staffNG"], no, "receive", "CC-WIN")
	if r.Status != 403 || r.errCode() != "scan.other_site" {
		t.Errorf("other site: %d %s", r.Status, r.Body)
	}
	ok := s.do("POST", "/api/v1/scans", tok["courier"], map[string]any{"code": no, "action": "pickup", "scan_id": "same-1"})
	again := s.do("POST", "/api/v1/scans", tok["courier"], map[string]any{"code": no, "action": "pickup", "scan_id": "same-1"})
	if ok.Status != 200 || again.Status != 200 || again.JSON["repeat"] != true {
		t.Errorf("repeat: %s / %s", ok.Body, again.Body)
	}
	reused := s.do("POST", "/api/v1/scans", tok["courier"], map[string]any{"code": no, "action": "report", "reason": "damaged", "scan_id": "same-1"})
	if reused.Status != 422 || reused.errCode() != "scan.id_reused" {
		t.Errorf("reused: %s", reused.Body)
	}
	wrongHall := s.scan(tok["staffNG"], no, "receive", "NG-HALL")
	if wrongHall.Status != 409 || wrongHall.errCode() != "scan.wrong_site" || !strings.Contains(string(wrongHall.Body), "CC-WIN") {
		t.Errorf("wrong hall: %s", wrongHall.Body)
	}
	if r := s.do("GET", "/api/v1/parcels", "", nil); r.Status != 401 || r.errCode() != "auth.required" {
		t.Errorf("no token: %s", r.Body)
	}
	if r := s.do("GET", "/api/v1/parcels", "cct_nope", nil); r.Status != 401 || r.errCode() != "auth.token_invalid" {
		t.Errorf("bad token: %s", r.Body)
	}
	if r := s.do("GET", "/api/v1/nope", tok["admin"], nil); r.Status != 404 || r.errCode() != "request.not_found" {
		t.Errorf("unknown route: %s", r.Body)
	}
}

// A test walks every route with every role.
func TestTrackFailuresAreSlowedAndSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	db := map[string]string{"COURIER_TRACK_FREE_FAILURES": "2", "COURIER_TRACK_MAX_FAILURES": "5"}
	a := boot(t, db)
	db["DATABASE_URL"] = ""
	// A second instance on the same database, sharing the counters.
	b := bootEnvSameDB(t, a, db)
	clerk := a.users()["clerk"]
	no := a.must(201, "POST", "/api/v1/parcels", clerk, parcelBody("13912345678")).str("waybill_no")
	unknown := shipment.NewNumber(shipment.KindParcel)

	a.must(404, "GET", "/api/v1/track/"+unknown, "", nil)
	b.must(404, "GET", "/api/v1/track/"+unknown, "", nil)
	start := time.Now()
	a.must(200, "GET", "/api/v1/track/"+no+"?phone_tail=0000", "", nil) // third failure: delayed
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Errorf("third failure answered in %v: not slowed down", d)
	}
	b.must(404, "GET", "/api/v1/track/not-a-number", "", nil)
	a.must(404, "GET", "/api/v1/track/"+unknown, "", nil)
	r := b.do("GET", "/api/v1/track/"+unknown, "", nil)
	if r.Status != 429 || r.errCode() != "track.too_many" {
		t.Fatalf("sixth failure across instances: %d %s", r.Status, r.Body)
	}
	// Successful lookups are never refused or slowed.
	for _, s := range []*service{a, b} {
		r := s.do("GET", "/api/v1/track/"+no+"?phone_tail=5678", "", nil)
		if r.Status != 200 || r.JSON["detail"] == nil {
			t.Fatalf("successful lookup refused: %d %s", r.Status, r.Body)
		}
	}
	// Wrong-format tails are bad input.
	if r := a.do("GET", "/api/v1/track/"+no+"?phone_tail=12a4", "", nil); r.Status != 422 {
		t.Fatalf("bad tail: %d %s", r.Status, r.Body)
	}
}

// bootEnvSameDB starts another instance on a's database with a's keys.
func bootEnvSameDB(t *testing.T, a *service, extra map[string]string) *service {
	t.Helper()
	env := map[string]string{}
	for k, v := range a.env() {
		env[k] = v
	}
	for k, v := range extra {
		if v != "" {
			env[k] = v
		}
	}
	return bootEnv(t, env)
}

var envs sync.Map // *service → env

func (s *service) env() map[string]string {
	v, _ := envs.Load(s)
	m, _ := v.(map[string]string)
	return m
}

// oversized announces a 10 MB body and reads the answer, which comes before
// any of the body is sent.
func (s *service) oversized(path, token string) (int, string) {
	s.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 12000000\r\n\r\n{", path, token)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		s.t.Fatalf("oversized: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	req, _ := http.NewRequest("POST", s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	checkAPI(s.t, &openapitest.Exchange{Request: req, ReqBody: []byte("{"), Status: res.StatusCode, Header: res.Header, Body: b})
	return res.StatusCode, string(b)
}
