package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/internal/openapitest"
	"github.com/changchun-gov/courier/internal/schedule"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// operations lists the document's operations as "METHOD path" → operation.
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatal("openapi.json has no paths")
	}
	ops := map[string]map[string]any{}
	for p, item := range paths {
		m, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not an object", p)
		}
		for _, method := range httpMethods {
			if op, ok := m[method]; ok {
				o, ok := op.(map[string]any)
				if !ok {
					t.Fatalf("%s %s is not an object", method, p)
				}
				ops[strings.ToUpper(method)+" "+p] = o
			}
		}
	}
	return ops
}

func schemaOf(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	s, ok := dig(doc, "components", "schemas", name).(map[string]any)
	if !ok {
		t.Fatalf("components.schemas.%s is missing", name)
	}
	return s
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func asStrings[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// resolve follows a local $ref.
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	for m != nil {
		r, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		target := dig(doc, strings.Split(strings.TrimPrefix(r, "#/"), "/")...)
		m, _ = target.(map[string]any)
		if m == nil {
			t.Fatalf("$ref %s does not resolve", r)
		}
	}
	return m
}

// mediaExamples returns the example values of a media type object: example
// and every examples[*].value.
func mediaExamples(media map[string]any) map[string]any {
	out := map[string]any{}
	if ex, ok := media["example"]; ok {
		out["example"] = ex
	}
	if exs, ok := media["examples"].(map[string]any); ok {
		for name, e := range exs {
			if v, ok := dig(e, "value").(any); ok && v != nil {
				out[name] = v
			}
		}
	}
	return out
}

// TestOpenAPIDocumentIsValid: kin-openapi loads the document, resolves
// every $ref and validates it (every response described, every example
// valid against its schema, every time at +08:00).
func TestOpenAPIDocumentIsValid(t *testing.T) {
	if _, err := openapitest.Load(OpenAPI); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAPIDocumentIsComplete checks what an OpenAPI validator does not
// ask for: a bearer scheme, and an example for every request body.
func TestOpenAPIDocumentIsComplete(t *testing.T) {
	doc := loadOpenAPI(t)
	v, _ := doc["openapi"].(string)
	if !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi = %q, want 3.x", v)
	}
	if dig(doc, "components", "securitySchemes", "bearerAuth", "scheme") != "bearer" {
		t.Error("components.securitySchemes.bearerAuth must be an http bearer scheme")
	}
	for key, op := range operations(t, doc) {
		if rb, ok := op["requestBody"]; ok {
			media, ok := requestMedia(t, doc, rb)
			if !ok {
				t.Errorf("%s: requestBody has no application/json (or form) content", key)
				continue
			}
			if len(mediaExamples(media)) == 0 {
				t.Errorf("%s: requestBody has no example or examples", key)
			}
		}
	}
}

var (
	paramRe  = regexp.MustCompile(`\{[^}/]*\}|:[^/]+`)
	prefixes = []string{"/api", "/t/", "/s/", "/healthz", "/readyz", "/hooks/"}
)

func routeKey(method, path string) string {
	return method + " " + paramRe.ReplaceAllString(path, "{}")
}

type fakeCouriers struct{}

func (fakeCouriers) Bookings(context.Context, shipment.Actor) ([]tracking.CourierBooking, error) {
	return []tracking.CourierBooking{{RunNo: "CR48172039561280", BagNo: "CB73059182644075", RunStatus: "sealed", Slot: fakeAt,
		Parcels: 3, Carrier: "sfexpress", CarrierRef: "SF1440012345678", Courier: "courier.li", Mine: true,
		From: tracking.CourierStop{Code: "D-SW", Name: "长春市商务局", Address: "吉林省长春市南关区人民大街 1000 号", Phone: "0431-88881234"},
		To:   tracking.CourierStop{Code: "CC-WIN", Name: "长春市政务服务中心 出证窗口", Address: "吉林省长春市南关区人民大街 2000 号"}}}, nil
}
func (fakeCouriers) Take(context.Context, shipment.Actor, string) error           { return nil }
func (fakeCouriers) Assign(context.Context, shipment.Actor, string, string) error { return nil }
func (fakeCouriers) HandOver(context.Context, shipment.Actor, string) error       { return nil }

type fakePush struct{}

func (fakePush) Receive(context.Context, []byte) (int, []byte) { return 200, nil }

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	app, err := New(Deps{Catalog: i18n.MustLoad(), Runs: fakeOps{}, Integrity: fakeIntegrity{}, Couriers: fakeCouriers{},
		Pushes: &Pushes{Token: "t", Receivers: map[string]PushReceiver{"sfexpress": fakePush{}, "ems": fakePush{}}}})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == "HEAD" || !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(r.Path, p) }) {
			continue
		}
		routes[routeKey(r.Method, r.Path)] = true
	}
	if len(routes) < 10 {
		t.Fatalf("only %d routes found: %v", len(routes), routes)
	}
	documented := map[string]bool{}
	for key := range operations(t, loadOpenAPI(t)) {
		method, path, _ := strings.Cut(key, " ")
		documented[routeKey(method, path)] = true
	}
	for r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !routes[d] {
			t.Errorf("openapi.json documents %s, which no route serves", d)
		}
	}
}

func TestOpenAPIEnumsMatchTheDomain(t *testing.T) {
	doc := loadOpenAPI(t)
	scanActions := shipment.ScanActions
	eventActions := append(slices.Clone(shipment.Actions), shipment.ActCorrect, shipment.ActLabelPrinted, shipment.ActMessageSent, shipment.ActNote,
		shipment.ActRedirect)
	reasons := slices.Clone(shipment.Reasons)
	for _, r := range slices.Concat(shipment.CorrectionReasons, shipment.CancelReasons) {
		if !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	actorRoles := append(slices.Clone(shipment.Roles), shipment.RoleSystem, shipment.RoleRecipient)
	for _, c := range []struct {
		schema string
		want   []string
	}{
		{"Status", asStrings(shipment.Statuses)},
		{"ScanAction", asStrings(scanActions)},
		{"EventAction", asStrings(eventActions)},
		{"Role", asStrings(shipment.Roles)},
		{"ActorRole", asStrings(actorRoles)},
		{"IDType", asStrings(shipment.IDTypes)},
		{"Reason", reasons},
		{"Resolution", asStrings([]shipment.Resolution{shipment.ResolveRestore, shipment.ResolveReroute, shipment.ResolveReturn})},
		{"Kind", asStrings([]shipment.Kind{shipment.KindCertificate, shipment.KindMaterials})},
		{"DestKind", asStrings([]shipment.DestKind{shipment.DestHall, shipment.DestDepartment, shipment.DestAddress})},
		{"SiteKind", asStrings([]shipment.SiteKind{shipment.SiteHall, shipment.SiteHub, shipment.SiteDepartment})},
		{"ApplicantType", asStrings([]shipment.ApplicantType{shipment.Natural, shipment.Legal})},
		{"DayKind", asStrings([]schedule.DayKind{schedule.Closed, schedule.Workday})},
		{"JobName", jobNames()},
	} {
		if got := strs(schemaOf(t, doc, c.schema)["enum"]); !slices.Equal(got, c.want) {
			t.Errorf("%s enum = %v, want %v", c.schema, got, c.want)
		}
	}
	// Who may take each scan action.
	xr, _ := schemaOf(t, doc, "ScanAction")["x-roles"].(map[string]any)
	for _, a := range scanActions {
		want := asStrings(slices.DeleteFunc(slices.Clone(shipment.RolesFor(a)), func(r shipment.Role) bool { return r == shipment.RoleSystem }))
		if got := strs(xr[string(a)]); !slices.Equal(got, want) {
			t.Errorf("ScanAction x-roles[%s] = %v, want %v", a, got, want)
		}
	}
	if len(xr) != len(scanActions) {
		t.Errorf("ScanAction x-roles has %d actions, want %d", len(xr), len(scanActions))
	}
}

// Reference data, as the service seeds it.
var (
	refHalls       = []string{"CC-WIN", "ED-HALL", "NG-HALL", "NA-HALL", "JY-HALL", "DH-HALL", "YS-HALL"}
	refHubs        = []string{"CC-HUB"}
	refDepartments = []string{"D-SW", "D-HB", "D-GT", "D-GS", "D-NS", "D-LY", "D-AJ"}
	refCertTypes   = []string{"business_licence", "food_business_licence", "foreign_trade_registration", "eia_approval",
		"pollutant_permit", "real_estate_certificate", "land_use_planning_permit", "water_abstraction_permit",
		"logging_permit", "work_safety_licence"}
)

func refSite(code string) (shipment.SiteKind, bool) {
	switch {
	case slices.Contains(refHalls, code):
		return shipment.SiteHall, true
	case slices.Contains(refHubs, code):
		return shipment.SiteHub, true
	case slices.Contains(refDepartments, code):
		return shipment.SiteDepartment, true
	}
	return "", false
}

func refCertType(code string) bool { return slices.Contains(refCertTypes, code) }

// jobNames are the names of the scheduled jobs, as the service seeds them.
func jobNames() []string {
	var out []string
	for _, j := range tracking.DefaultJobs {
		out = append(out, j.Name)
	}
	return out
}

// decodeStrict decodes v as the handlers do: unknown fields and trailing
// data refused.
func decodeStrict(v any, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

// bodyExamples returns every example of an operation's JSON request body,
// the body schema's own example included.
// requestMedia is a request body's JSON content, or its form content (the
// public track page's phone-tail form).
func requestMedia(t *testing.T, doc map[string]any, rb any) (map[string]any, bool) {
	t.Helper()
	body := resolve(t, doc, rb)
	if m, ok := dig(body, "content", "application/json").(map[string]any); ok {
		return m, true
	}
	m, ok := dig(body, "content", "application/x-www-form-urlencoded").(map[string]any)
	return m, ok
}

func bodyExamples(t *testing.T, doc map[string]any, op map[string]any) map[string]any {
	t.Helper()
	media, _ := requestMedia(t, doc, op["requestBody"])
	out := mediaExamples(media)
	if ex, ok := resolve(t, doc, media["schema"])["example"]; ok {
		out["schema example"] = ex
	}
	return out
}

func TestOpenAPIRequestExamplesAreAccepted(t *testing.T) {
	doc := loadOpenAPI(t)
	ops := operations(t, doc)
	scanIDRe := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)

	checks := map[string]func(t *testing.T, ex any){
		"POST /api/v1/s/{token}/redirect": func(t *testing.T, ex any) {
			var r redirectRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if err := shipment.CheckDivision(&r.Address); err != nil || r.Address.Validate() != nil || len(r.Code) != 6 {
				t.Errorf("redirect %+v: %v", r, err)
			}
		},
		"POST /s/{token}/express": func(t *testing.T, ex any) {
			m, _ := ex.(map[string]any)
			a := shipment.Address{}
			a.Province, _ = m["province"].(string)
			a.City, _ = m["city"].(string)
			a.District, _ = m["district"].(string)
			if err := shipment.CheckDivision(&a); err != nil {
				t.Errorf("form example's address: %v", err)
			}
		},
		"POST /s/{token}/express-code": func(t *testing.T, ex any) {
			if m, _ := ex.(map[string]any); m["lang"] != "zh-CN" && m["lang"] != "en" {
				t.Errorf("form example %v", ex)
			}
		},
		"POST /t/{waybill_no}": func(t *testing.T, ex any) {
			m, _ := ex.(map[string]any)
			if tail, _ := m["phone_tail"].(string); !fourDigits(tail) {
				t.Errorf("form example's phone_tail %v is not four digits", m["phone_tail"])
			}
		},
		"POST /api/v1/labels": func(t *testing.T, ex any) {
			var r printRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if _, err := labels.CheckLayout(r.Layout); err != nil {
				t.Errorf("print example's layout: %v", err)
			}
			if _, err := labels.ParseBatch(r.WaybillNos); err != nil {
				t.Errorf("print example's waybills: %v", err)
			}
		},
		"POST /api/v1/auth/token": func(t *testing.T, ex any) {
			var r tokenRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if r.Username == "" || r.Password == "" {
				t.Errorf("token example lacks username or password: %+v", r)
			}
			if r.NewPassword != "" && shipment.CheckPassword(r.Username, r.NewPassword, "new_password") != nil {
				t.Errorf("token example's new_password breaks the policy: %+v", r)
			}
		},
		"PATCH /api/v1/users/{username}": func(t *testing.T, ex any) {
			var ch shipment.UserChange
			if err := decodeStrict(ex, &ch); err != nil {
				t.Fatal(err)
			}
			if ch.Disabled == nil && ch.Role == nil && ch.Site == nil && ch.Departments == nil {
				t.Error("user change example changes nothing")
			}
			if ch.Role != nil && !ch.Role.Valid() {
				t.Errorf("role %q is not a role", *ch.Role)
			}
			if ch.Site != nil {
				if k, ok := refSite(*ch.Site); !ok || (ch.Role != nil && *ch.Role == shipment.RoleHallLead && k != shipment.SiteHall) {
					t.Errorf("site %q does not fit", *ch.Site)
				}
			}
		},
		"PUT /api/v1/me/password": func(t *testing.T, ex any) {
			var r passwordChange
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if r.CurrentPassword == "" || shipment.CheckPassword("clerk.sw", r.NewPassword, "new_password") != nil {
				t.Errorf("password change example is not valid: %+v", r)
			}
		},
		"POST /api/v1/users": func(t *testing.T, ex any) {
			var n shipment.NewUser
			if err := decodeStrict(ex, &n); err != nil {
				t.Fatal(err)
			}
			if !n.Role.Valid() || len([]rune(n.Password)) < 10 || !regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,63}$`).MatchString(n.Username) {
				t.Errorf("user example is not valid: %+v", n)
			}
			k, ok := refSite(n.Site)
			switch {
			case n.Role == shipment.RoleClerk && (!ok || k != shipment.SiteDepartment),
				n.Role == shipment.RoleStaff && (!ok || k == shipment.SiteDepartment),
				!n.Role.HasSite() && n.Site != "":
				t.Errorf("user example %s: site %q does not fit role %s", n.Username, n.Site, n.Role)
			}
			if (n.Role == shipment.RoleAPIClient) != (len(n.Departments) > 0) {
				t.Errorf("user example %s: departments %v do not fit role %s", n.Username, n.Departments, n.Role)
			}
			for _, d := range n.Departments {
				if k, ok := refSite(d); !ok || k != shipment.SiteDepartment {
					t.Errorf("user example %s: %s is not a department", n.Username, d)
				}
			}
		},
		"POST /api/v1/parcels": func(t *testing.T, ex any) {
			var r shipment.Registration
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if err := r.Normalize(refSite, refCertType); err != nil {
				t.Fatalf("Normalize: %v (field %q)", err, apperr.As(err).Field)
			}
		},
		"POST /api/v1/scans": func(t *testing.T, ex any) {
			var r tracking.ScanRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			code, err := shipment.ParseCode(r.Code)
			if err != nil {
				t.Fatalf("ParseCode(%q): %v", r.Code, err)
			}
			if code.Kind != shipment.KindParcel && r.Action != shipment.ActPickup && r.Action != shipment.ActReceive {
				t.Errorf("code %q is a %s: only pickup and receive take a bag or run", r.Code, code.Kind)
			}
			if !r.Action.Valid() || r.Action == shipment.ActRegister {
				t.Errorf("action %q is not a scan action", r.Action)
			}
			if !scanIDRe.MatchString(r.ScanID) {
				t.Errorf("scan_id %q is not acceptable", r.ScanID)
			}
			if _, ok := refSite(r.Site); r.Site != "" && !ok {
				t.Errorf("site %q is not a reference site", r.Site)
			}
			if r.ScannedAt != nil {
				if _, off := r.ScannedAt.Zone(); off != 8*3600 {
					t.Errorf("scanned_at %v is not at +08:00", r.ScannedAt)
				}
			}
			if r.Source != "" && (!r.Source.Valid() || r.Source == shipment.SourceSchedule) {
				t.Errorf("source %q is refused", r.Source)
			}
			reasons := shipment.ReasonsFor(r.Action)
			if r.Action == shipment.ActCorrect {
				reasons = shipment.CorrectionReasons
			}
			if (r.Action == shipment.ActReport || r.Action == shipment.ActFail || r.Action == shipment.ActCorrect ||
				r.Action == shipment.ActCancel || r.Reason != "") &&
				!slices.Contains(reasons, r.Reason) {
				t.Errorf("reason %q is not a reason", r.Reason)
			}
			if r.Slot != "" || r.Action == shipment.ActReslot {
				if _, err := shipment.ParseSlot(r.Slot); err != nil || (r.Action != shipment.ActShelve && r.Action != shipment.ActReslot) {
					t.Errorf("slot %q on %s: %v", r.Slot, r.Action, err)
				}
			}
			if r.Action == shipment.ActCollect {
				if r.CollectionCode == "" && r.IDNumber == "" {
					t.Error("collect example has neither collection_code nor id_number")
				}
				if r.CollectionCode == "" {
					if _, err := shipment.ValidateID(shipment.IDResident, r.IDNumber); err != nil {
						t.Errorf("id_number: %v", err)
					}
				}
			}
			if p := r.Proxy; p != nil {
				typ := p.IDType
				if typ == "" {
					typ = shipment.IDResident
				}
				if _, err := shipment.ValidateName(p.Name); err != nil || strings.TrimSpace(p.Authorisation) == "" {
					t.Errorf("proxy is incomplete: %+v", p)
				}
				if _, err := shipment.ValidateID(typ, p.IDNumber); err != nil {
					t.Errorf("proxy id_number: %v", err)
				}
			}
		},
		"PUT /api/v1/sites/{code}": func(t *testing.T, ex any) {
			var e shipment.SiteEdit
			if err := decodeStrict(ex, &e); err != nil {
				t.Fatal(err)
			}
			hall := shipment.Site{Code: "NG-HALL", Kind: shipment.SiteHall, NameZH: "南关区政务服务中心", NameEN: "Nanguan",
				Province: "吉林省", City: "长春市", District: "南关区", Active: true}
			if _, err := e.Apply(hall); err != nil {
				t.Errorf("site edit example is refused: %v", err)
			}
		},
		"POST /api/v1/routes":     checkLegExample,
		"PUT /api/v1/routes/{id}": checkLegExample,
		"PUT /api/v1/sites/{code}/slots": func(t *testing.T, ex any) {
			var r slotsRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			h := shipment.HallSlots{SlotRequired: r.SlotRequired, Slots: r.Slots}
			if err := h.Normalize(); err != nil || r.Slots == nil {
				t.Errorf("slots %v: %v", r.Slots, err)
			}
		},
		"POST /hooks/sfexpress/{token}": func(t *testing.T, ex any) {
			var r struct {
				Body struct {
					WaybillRoute []struct {
						ID, MailNo, OrderID, AcceptTime, AcceptAddress, Remark, OpCode string
						FirstStatusCode, FirstStatusName                               string
					}
				}
			}
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			for _, n := range r.Body.WaybillRoute {
				if _, err := time.Parse(time.DateTime, n.AcceptTime); err != nil || n.MailNo == "" || n.OpCode == "" {
					t.Errorf("node %+v: %v", n, err)
				}
			}
		},
		"POST /hooks/ems/{token}": func(t *testing.T, ex any) {
			var r struct {
				LogitcsInterface, Method, MsgType, SenderNo, SerialNo, TimeStamp, Version string
			}
			if err := decodeStrict(ex, &r); err != nil || r.LogitcsInterface == "" || r.SerialNo == "" || r.Method != "040002" {
				t.Errorf("push %+v: %v", r, err)
			}
		},
		"PUT /api/v1/couriers/{carrier}/mapping": func(t *testing.T, ex any) {
			var m tracking.StageMapping
			if err := decodeStrict(ex, &m); err != nil {
				t.Fatal(err)
			}
			if err := tracking.CheckStageMapping(m); err != nil {
				t.Errorf("mapping %+v: %v", m, err)
			}
		},
		"POST /api/v1/runs/{run_no}/assign": func(t *testing.T, ex any) {
			var r assignRequest
			if err := decodeStrict(ex, &r); err != nil || r.Username == "" {
				t.Errorf("assign %+v: %v", r, err)
			}
		},
		"POST /api/v1/runs/{run_no}/cancel": func(t *testing.T, ex any) {
			var r cancelRunRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if r.Reason == "" || len([]rune(r.Reason)) > 200 {
				t.Errorf("reason %q", r.Reason)
			}
		},
		"POST /api/v1/runs/{run_no}/booking": func(t *testing.T, ex any) {
			var r manualBookingRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if r.Ref == "" || len([]rune(r.Ref)) > 40 || len([]rune(r.Note)) > 200 {
				t.Errorf("booking %+v", r)
			}
		},
		"PUT /api/v1/calendar/{day}": func(t *testing.T, ex any) {
			var r calendarRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if !schedule.DayKind(r.Kind).Valid() {
				t.Errorf("kind %q is neither closed nor workday", r.Kind)
			}
			if len([]rune(r.Note)) > 100 {
				t.Errorf("note %q is longer than 100 characters", r.Note)
			}
		},
		"PUT /api/v1/jobs/{name}": func(t *testing.T, ex any) {
			var r jobRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if _, err := schedule.Parse(r.Schedule); err != nil {
				t.Errorf("schedule %q: %v", r.Schedule, err)
			}
			if len(r.Params) > 0 {
				var p tracking.JobParams
				if err := decodeStrict(r.Params, &p); err != nil {
					t.Errorf("params %s: %v", r.Params, err)
				}
				if p.FirstAfterDays < 0 || p.EveryDays < 0 || p.AfterDays < 0 ||
					p.FirstAfterDays > 365 || p.EveryDays > 365 || p.AfterDays > 3650 {
					t.Errorf("params %s are out of range", r.Params)
				}
			}
		},
		"POST /api/v1/verify": func(t *testing.T, ex any) {
			var r verifyRequest
			if err := decodeStrict(ex, &r); err != nil {
				t.Fatal(err)
			}
			if (r.From == "") != (r.To == "") {
				t.Errorf("verify example gives one day of two: %+v", r)
			}
			for _, d := range []string{r.From, r.To} {
				if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
					t.Errorf("day %q: %v", d, err)
				}
			}
			if c, err := shipment.ParseCode(r.WaybillNo); r.WaybillNo != "" && (err != nil || c.Kind != shipment.KindParcel) {
				t.Errorf("waybill %q: %v", r.WaybillNo, err)
			}
		},
	}
	for key, op := range ops {
		if _, ok := op["requestBody"]; !ok {
			continue
		}
		check, ok := checks[key]
		if !ok {
			t.Errorf("%s has a request body this test does not check", key)
			continue
		}
		exs := bodyExamples(t, doc, op)
		if len(exs) == 0 {
			t.Errorf("%s has no examples", key)
		}
		for name, ex := range exs {
			t.Run(key+"/"+name, func(t *testing.T) { check(t, ex) })
		}
	}

	// The brief's named examples are there.
	parcels := bodyExamples(t, doc, ops["POST /api/v1/parcels"])
	var kinds []string
	for _, ex := range parcels {
		var r shipment.Registration
		if decodeStrict(ex, &r) == nil {
			kinds = append(kinds, string(r.Kind)+"/"+string(r.Destination.Kind)+"/"+string(r.Applicant.Type))
		}
	}
	for _, want := range []string{"certificate/hall/natural", "materials/department/natural", "certificate/address/natural", "certificate/hall/legal"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("POST /api/v1/parcels has no %s example (have %v)", want, kinds)
		}
	}
	var actions []string
	for _, ex := range bodyExamples(t, doc, ops["POST /api/v1/scans"]) {
		var r tracking.ScanRequest
		if decodeStrict(ex, &r) == nil {
			a := string(r.Action)
			if r.Proxy != nil {
				a += "+proxy"
			}
			actions = append(actions, a)
		}
	}
	for _, want := range []string{"receive", "collect", "collect+proxy", "report", "reslot"} {
		if !slices.Contains(actions, want) {
			t.Errorf("POST /api/v1/scans has no %s example (have %v)", want, actions)
		}
	}
	for key, want := range map[string]string{
		"POST /api/v1/routes":        `{"from_site":"D-SW","to_site":"CC-HUB","schedule":"30 9,14 * * *","sla_hours":24,"active":true}`,
		"PUT /api/v1/calendar/{day}": `{"kind":"closed","note":"国庆节"}`,
		"PUT /api/v1/jobs/{name}":    `{"enabled":true,"schedule":"0 10 * * *","params":{"first_after_days":3,"every_days":7}}`,
	} {
		var w any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ex := range bodyExamples(t, doc, ops[key]) {
			found = found || reflect.DeepEqual(ex, w)
		}
		if !found {
			t.Errorf("%s has no example %s", key, want)
		}
	}
}

// checkLegExample checks an example of a leg: reference sites, distinct,
// a schedule the service accepts, an SLA in range.
func checkLegExample(t *testing.T, ex any) {
	var r legRequest
	if err := decodeStrict(ex, &r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{r.FromSite, r.ToSite} {
		if _, ok := refSite(s); !ok {
			t.Errorf("site %q is not a reference site", s)
		}
	}
	if r.FromSite == r.ToSite {
		t.Errorf("leg from %s to itself", r.FromSite)
	}
	if _, err := schedule.Parse(r.Schedule); err != nil {
		t.Errorf("schedule %q: %v", r.Schedule, err)
	}
	if l := r.leg(0); l.SLAHours < 1 || l.SLAHours > 720 {
		t.Errorf("sla_hours %d is out of range", l.SLAHours)
	}
}

// jsonFields returns the JSON names of a struct type's fields, embedded
// structs flattened, and which of them are always present (no omitempty).
func jsonFields(t reflect.Type) (all, always []string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			a, w := jsonFields(f.Type)
			all, always = append(all, a...), append(always, w...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	return all, always
}

func TestOpenAPISchemasMatchTheTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	eventView := reflect.TypeOf(struct {
		tracking.Event
		ActionText string `json:"action_text"`
		StatusText string `json:"status_text"`
	}{})
	for _, c := range []struct {
		schema   string
		typ      reflect.Type
		response bool // always-present fields must be required
	}{
		{"Registration", reflect.TypeOf(shipment.Registration{}), false},
		{"Applicant", reflect.TypeOf(shipment.Applicant{}), false},
		{"Destination", reflect.TypeOf(shipment.Destination{}), false},
		{"Address", reflect.TypeOf(shipment.Address{}), false},
		{"Certificate", reflect.TypeOf(shipment.Certificate{}), false},
		{"NewUser", reflect.TypeOf(shipment.NewUser{}), false},
		{"TokenRequest", reflect.TypeOf(tokenRequest{}), false},
		{"ScanRequest", reflect.TypeOf(tracking.ScanRequest{}), false},
		{"Proxy", reflect.TypeOf(tracking.Proxy{}), false},
		{"User", reflect.TypeOf(shipment.User{}), true},
		{"UserChange", reflect.TypeOf(shipment.UserChange{}), false},
		{"PasswordChange", reflect.TypeOf(passwordChange{}), false},
		{"Site", reflect.TypeOf(shipment.Site{}), true},
		{"Window", reflect.TypeOf(shipment.Window{}), true},
		{"QuietHours", reflect.TypeOf(shipment.QuietHours{}), true},
		{"SiteEdit", reflect.TypeOf(shipment.SiteEdit{}), false},
		{"AuditEntry", reflect.TypeOf(shipment.AuditEntry{}), true},
		{"AuditPage", reflect.TypeOf(tracking.Page[shipment.AuditEntry]{}), true},
		{"CertType", reflect.TypeOf(shipment.CertType{}), true},
		{"ScanResult", reflect.TypeOf(tracking.ScanResult{}), true},
		{"ItemResult", reflect.TypeOf(tracking.ItemResult{}), true},
		{"EventView", eventView, true},
		{"ParcelView", reflect.TypeOf(tracking.ParcelView{}), true},
		{"ApplicantView", reflect.TypeOf(tracking.ApplicantView{}), true},
		{"ParcelPage", reflect.TypeOf(tracking.Page[tracking.ParcelView]{}), true},
		{"OutboxEntry", reflect.TypeOf(tracking.OutboxEntry{}), true},
		{"PublicStatus", reflect.TypeOf(tracking.PublicStatus{}), true},
		{"PublicDetail", reflect.TypeOf(tracking.PublicDetail{}), true},
		{"TimelineEntry", reflect.TypeOf(tracking.TimelineEntry{}), true},
		{"Place", reflect.TypeOf(tracking.Place{}), true},
		{"LegRequest", reflect.TypeOf(legRequest{}), false},
		{"Leg", reflect.TypeOf(shipment.Leg{}), true},
		{"RunView", reflect.TypeOf(tracking.RunView{}), true},
		{"RunItem", reflect.TypeOf(tracking.RunItem{}), true},
		{"Booking", reflect.TypeOf(tracking.RunBookingStatus{}), true},
		{"CloseResult", reflect.TypeOf(tracking.CloseResult{}), true},
		{"CalendarDayRequest", reflect.TypeOf(calendarRequest{}), false},
		{"JobRequest", reflect.TypeOf(jobRequest{}), false},
		{"JobParams", reflect.TypeOf(tracking.JobParams{}), false},
		{"JobSetting", reflect.TypeOf(tracking.JobSetting{}), true},
		{"JobRun", reflect.TypeOf(tracking.JobRun{}), true},
		{"HallSlots", reflect.TypeOf(shipment.HallSlots{}), true},
		{"HallSlotsRequest", reflect.TypeOf(slotsRequest{}), false},
		{"Digest", reflect.TypeOf(tracking.DigestView{}), false},
		{"VerifyRequest", reflect.TypeOf(verifyRequest{}), false},
		{"VerifyScope", reflect.TypeOf(tracking.VerifyScope{}), false},
		{"VerifyRun", reflect.TypeOf(tracking.VerifyRun{}), true},
		{"VerifyReport", reflect.TypeOf(tracking.VerifyReport{}), true},
		{"VerifyBreak", reflect.TypeOf(tracking.VerifyBreak{}), true},
		{"DigestBreak", reflect.TypeOf(tracking.DigestBreak{}), true},
		{"ErrorBody", reflect.TypeOf(ErrorBody{}), true},
		{"ErrorDetail", reflect.TypeOf(ErrorDetail{}), true},
	} {
		s := schemaOf(t, doc, c.schema)
		props, _ := s["properties"].(map[string]any)
		var got []string
		for p := range props {
			got = append(got, p)
		}
		all, always := jsonFields(c.typ)
		sort.Strings(got)
		sort.Strings(all)
		if !slices.Equal(got, all) {
			t.Errorf("schema %s has properties %v, the type has JSON fields %v", c.schema, got, all)
		}
		if c.response {
			req := strs(s["required"])
			sort.Strings(req)
			sort.Strings(always)
			if !slices.Equal(req, always) {
				t.Errorf("schema %s requires %v, the type always sends %v", c.schema, req, always)
			}
		}
	}
}

// roleAccounts resolves a token naming a role to an actor of that role.
type roleAccounts struct{}

func (roleAccounts) CreateBy(context.Context, shipment.Actor, shipment.NewUser) (shipment.User, error) {
	return shipment.User{}, errors.New("not implemented")
}
func (roleAccounts) List(context.Context) ([]shipment.User, error) {
	return nil, errors.New("not implemented")
}
func (roleAccounts) IssueToken(context.Context, string, string, string) (string, time.Time, error) {
	return "", time.Time{}, errors.New("not implemented")
}
func (roleAccounts) Update(context.Context, shipment.Actor, string, shipment.UserChange) (shipment.User, error) {
	return shipment.User{}, errors.New("not implemented")
}
func (roleAccounts) ResetPassword(context.Context, shipment.Actor, string) (string, error) {
	return "", errors.New("not implemented")
}
func (roleAccounts) ChangePassword(context.Context, shipment.Actor, string, string, string) error {
	return errors.New("not implemented")
}
func (roleAccounts) RevokeToken(context.Context, string) error { return nil }
func (roleAccounts) StartSession(context.Context, string, string, string) (string, time.Time, error) {
	return "", time.Time{}, errors.New("not implemented")
}
func (roleAccounts) ActorBySession(context.Context, string) (shipment.Actor, error) {
	return shipment.Actor{}, apperr.New(apperr.Unauthorized, "auth.session_ended")
}
func (roleAccounts) ActorByToken(_ context.Context, tok string) (shipment.Actor, error) {
	r := shipment.Role(tok)
	if !r.Valid() {
		return shipment.Actor{}, apperr.New(apperr.Unauthorized, "auth.token_invalid")
	}
	a := shipment.Actor{ID: 1, Username: tok, Role: r}
	switch r {
	case shipment.RoleClerk:
		a.Site = "D-SW"
	case shipment.RoleStaff, shipment.RoleHallLead:
		a.Site = "ED-HALL"
	case shipment.RoleAPIClient:
		a.Departments = []string{"D-SW"}
	}
	return a, nil
}

// TestOpenAPIRolesMatchTheRoutes calls every documented operation as each
// role and without a token: the roles refused with auth.forbidden must be
// exactly those x-roles leaves out, and an operation needs a token exactly
// when its security names bearerAuth. Handlers past the role check run
// against no ledger and fail in their own ways, which is fine here.
func TestOpenAPIRolesMatchTheRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	app, err := New(Deps{Catalog: i18n.MustLoad(), Accounts: roleAccounts{}, Runs: fakeOps{}, Integrity: fakeIntegrity{}, Couriers: fakeCouriers{}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string) (int, string) {
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader("{}")
		}
		req := httptest.NewRequest(method, path, body)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		var eb ErrorBody
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &eb)
		return resp.StatusCode, eb.Error.Code
	}
	globalSec := doc["security"]
	for key, op := range operations(t, doc) {
		method, path, _ := strings.Cut(key, " ")
		path = paramRe.ReplaceAllString(path, "CP2026031500417N")
		sec, ok := op["security"]
		if !ok {
			sec = globalSec
		}
		needsToken := strings.Contains(fmt.Sprint(sec), "bearerAuth")
		status, code := call(method, path, "")
		if needsToken != (status == 401 && code == "auth.required") {
			t.Errorf("%s: security %v, but without a token it answers %d %s", key, sec, status, code)
		}
		if !needsToken {
			if _, ok := op["x-roles"]; ok {
				t.Errorf("%s is public but lists x-roles", key)
			}
			continue
		}
		roles := strs(op["x-roles"])
		if len(roles) == 0 {
			t.Errorf("%s needs a token but lists no x-roles", key)
		}
		desc, _ := op["description"].(string)
		for _, r := range shipment.Roles {
			status, code := call(method, path, string(r))
			refused := status == 403 && code == "auth.forbidden"
			if refused == slices.Contains(roles, string(r)) {
				t.Errorf("%s as %s: answered %d %s, but x-roles is %v", key, r, status, code, roles)
			}
		}
		if !strings.Contains(desc, "Roles: "+strings.Join(roles, ", ")) {
			t.Errorf("%s: description does not name its roles %v", key, roles)
		}
	}
}

// fakeOps answers every operation on routes, runs, the calendar and the
// jobs but their edits (fakeSettings) with a plausible value, as the
// service would.
type fakeOps struct{}

var (
	fakeAt  = time.Date(2026, 3, 16, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	fakeLeg = shipment.Leg{ID: 12, From: "D-SW", To: "CC-HUB", Schedule: "30 9,14 * * *", SLAHours: 24, Active: true}
)

func fakeRun() *tracking.RunView {
	picked, arrived := fakeAt.Add(35*time.Minute), fakeAt.Add(102*time.Minute)
	return &tracking.RunView{RunNo: "CR48172039561280", BagNo: "CB73059182644075", SealNo: "FQ0481726395", LegID: 12,
		FromSite: "D-SW", ToSite: "CC-HUB", Slot: fakeAt, Status: "arrived", ParcelCount: 2, CreatedAt: fakeAt.Add(2 * time.Second),
		PickedUpAt: &picked, ArrivedAt: &arrived}
}

func fakeJobRun(name string) tracking.JobRun {
	done := fakeAt.Add(3 * time.Second)
	return tracking.JobRun{ID: 418, Name: name, StartedAt: fakeAt, FinishedAt: &done, Outcome: "ok", Affected: 1,
		Detail: json.RawMessage(`{"waybill_nos":["CP2026031500417N"]}`)}
}

func (fakeOps) Legs(context.Context) ([]shipment.Leg, error) { return []shipment.Leg{fakeLeg}, nil }
func (fakeOps) Path(_ context.Context, from, to string) ([]string, error) {
	return []string{from, "CC-HUB", to}, nil
}
func (fakeOps) RunLegNow(context.Context, shipment.Actor, int64) (*tracking.RunView, error) {
	r := fakeRun()
	r.Status, r.PickedUpAt, r.ArrivedAt = "sealed", nil, nil
	return r, nil
}
func (fakeOps) Runs(context.Context, shipment.Actor, string, string, int) ([]tracking.RunView, error) {
	return []tracking.RunView{*fakeRun()}, nil
}
func (fakeOps) Run(context.Context, shipment.Actor, string) (*tracking.RunView, error) {
	r := fakeRun()
	seen := fakeAt.Add(104 * time.Minute)
	r.Items = []tracking.RunItem{
		{WaybillNo: "CP2026031500417N", Status: shipment.Arrived, SeenAt: &seen, Outcome: "received"},
		{WaybillNo: "CP2026031500418L", Status: shipment.InTransit},
	}
	r.Extras = []string{"CP2026031500420Z"}
	booked := fakeAt.Add(4 * time.Second)
	r.Booking = &tracking.RunBookingStatus{Carrier: "sfexpress", Status: "booked", CarrierRef: "SF1440012345678", BookedAt: &booked,
		Attempts: 2, History: []tracking.BookingEvent{
			{At: fakeAt, Status: "pending", Carrier: "sfexpress"},
			{At: fakeAt.Add(time.Second), Status: "pending", Carrier: "sfexpress", Note: "attempt 1: sfexpress: gateway answered A1005: 流量超限"},
			{At: booked, Status: "booked", Carrier: "sfexpress", CarrierRef: "SF1440012345678"}}}
	return r, nil
}
func (f fakeOps) CancelRun(ctx context.Context, a shipment.Actor, no, _ string, _ shipment.Source) (*tracking.RunView, error) {
	r, _ := f.Run(ctx, a, no)
	at := fakeAt.Add(10 * time.Minute)
	r.Status, r.CancelledAt, r.CancelNote = "cancelled", &at, "快递公司今日停收"
	r.Booking.Status = "cancelling"
	r.Booking.History = append(r.Booking.History, tracking.BookingEvent{At: at, Status: "cancelling", Carrier: "sfexpress",
		CarrierRef: "SF1440012345678", Note: "run cancelled: 快递公司今日停收", Actor: "clerk.sw"})
	return r, nil
}
func (f fakeOps) BookByHand(ctx context.Context, a shipment.Actor, no, _, _ string) (*tracking.RunView, error) {
	r, _ := f.Run(ctx, a, no)
	r.Booking.Carrier, r.Booking.CarrierRef = "manual", "SF1440099887766"
	r.Booking.History = append(r.Booking.History[:1], tracking.BookingEvent{At: fakeAt.Add(time.Minute), Status: "booked",
		Carrier: "manual", CarrierRef: "SF1440099887766", Note: "booked by hand: 电话预约 王师傅", Actor: "clerk.sw"})
	return r, nil
}
func (fakeOps) CloseRun(context.Context, shipment.Actor, string) (tracking.CloseResult, error) {
	r := fakeRun()
	closed := fakeAt.Add(130 * time.Minute)
	r.Status, r.ClosedAt = "closed", &closed
	return tracking.CloseResult{Run: r, Received: []string{"CP2026031500417N"}, Missing: []string{"CP2026031500418L"},
		Extras: []string{}}, nil
}
func (fakeOps) Manifest(context.Context, shipment.Actor, string) (labels.Manifest, error) {
	return labels.Manifest{RunNo: "CR48172039561280", BagNo: "CB73059182644075", SealNo: "FQ0481726395", CreatedAt: fakeAt,
		Origin: labels.Place{Code: "D-SW", Name: "长春市商务局"}, Destination: labels.Place{Code: "CC-HUB", Name: "长春市政务服务中心 物料流转区"},
		Route: "D-SW → CC-HUB", Parcels: []labels.ManifestParcel{{WaybillNo: "CP2026031500417N", Kind: shipment.KindCertificate,
			CertType: "营业执照", RecipientName: "张三"}}}, nil
}
func (fakeOps) BagLabel(context.Context, shipment.Actor, string) (labels.BagLabel, error) {
	return labels.BagLabel{BagNo: "CB73059182644075", RunNo: "CR48172039561280", SealNo: "FQ0481726395", Parcels: 1,
		Origin: labels.Place{Code: "D-SW", Name: "长春市商务局"}, Destination: labels.Place{Code: "CC-HUB", Name: "长春市政务服务中心 物料流转区"},
		Route: "D-SW → CC-HUB", SealedAt: fakeAt}, nil
}
func (fakeOps) Calendar(context.Context) (map[string]string, error) {
	return map[string]string{"2026-09-27": "workday", "2026-10-01": "closed"}, nil
}
func (fakeOps) Jobs(context.Context) (tracking.JobsView, error) {
	settings := make([]tracking.JobSetting, len(tracking.DefaultJobs))
	for i, j := range tracking.DefaultJobs {
		j.UpdatedAt = fakeAt
		settings[i] = j
	}
	return tracking.JobsView{Items: settings, RecentRuns: []tracking.JobRun{fakeJobRun("reminder")}}, nil
}
func (fakeOps) JobRuns(_ context.Context, name string, _ int) ([]tracking.JobRun, error) {
	return []tracking.JobRun{fakeJobRun(name)}, nil
}
func (fakeOps) RunJobNow(_ context.Context, name string) (tracking.JobRun, error) {
	return fakeJobRun(name), nil
}

// fakeSettings edits a reference hall, legs, the calendar and the jobs, and
// answers the audit log with one entry.
type fakeSettings struct{}

var fakeMapping = tracking.StageMapping{Codes: map[string]tracking.CourierStage{"704": tracking.StageSigned},
	Names: map[string]tracking.CourierStage{"收寄": tracking.StageCollected, "投递": tracking.StageOutForDelivery, "未妥投": tracking.StageFailed}}

func (fakeSettings) CourierMapping(context.Context, shipment.Actor, string) (tracking.StageMapping, error) {
	return fakeMapping, nil
}
func (fakeSettings) SaveCourierMapping(_ context.Context, _ shipment.Actor, _ string, m tracking.StageMapping) (tracking.StageMapping, error) {
	return m, nil
}

func (fakeSettings) SaveLeg(_ context.Context, _ shipment.Actor, l shipment.Leg) (shipment.Leg, error) {
	if l.ID == 0 {
		l.ID = 13
	}
	return l, nil
}
func (fakeSettings) SetCalendarDay(_ context.Context, _ shipment.Actor, _, _, note string) (string, error) {
	return strings.TrimSpace(note), nil
}
func (fakeSettings) ClearCalendarDay(context.Context, shipment.Actor, string) error { return nil }
func (fakeSettings) SaveJob(_ context.Context, _ shipment.Actor, name string, enabled bool, spec string, params []byte) (tracking.JobSetting, error) {
	if len(params) == 0 {
		params = []byte(`{}`)
	}
	return tracking.JobSetting{Name: name, Enabled: enabled, Schedule: spec, Params: params, UpdatedAt: fakeAt}, nil
}

func (fakeSettings) SaveSite(_ context.Context, _ shipment.Actor, code string, e shipment.SiteEdit) (shipment.Site, error) {
	return e.Apply(shipment.Site{Code: code, Kind: shipment.SiteHall, NameZH: "南关区政务服务中心", NameEN: "Nanguan District Government Service Center",
		Province: "吉林省", City: "长春市", District: "南关区", Windows: []shipment.Window{{No: "1", Name: "综合出件窗口"}}, Active: true})
}

func (fakeSettings) Audit(context.Context, shipment.AuditFilter) (tracking.Page[shipment.AuditEntry], error) {
	return tracking.Page[shipment.AuditEntry]{Items: []shipment.AuditEntry{{ID: 418, At: fakeAt, ActorID: 1, ActorUsername: "admin",
		ActorRole: shipment.RoleAdmin, Entity: "calendar", Key: "2026-10-01", Action: "create",
		Before: json.RawMessage("null"), After: json.RawMessage(`{"day":"2026-10-01","kind":"closed","note":"国庆节"}`)}}}, nil
}

// TestOpenAPIDescribesTheOperationsAnswers calls each operation on routes,
// runs, the calendar and the jobs as an admin, with the documented parameter
// and body examples, against fakeOps: kin-openapi checks the request and
// the answer (status, content type, body) against the document.
func TestOpenAPIDescribesTheOperationsAnswers(t *testing.T) {
	doc := loadOpenAPI(t)
	checker, err := openapitest.Load(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := labels.NewRenderer(labels.Options{PublicURL: "https://zwfw.changchun.gov.cn"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(Deps{Catalog: i18n.MustLoad(), Accounts: roleAccounts{}, Runs: fakeOps{}, Settings: fakeSettings{}, Labels: renderer,
		Couriers: fakeCouriers{}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for key, op := range operations(t, doc) {
		if !slices.ContainsFunc(strs(op["tags"]), func(tag string) bool {
			return slices.Contains([]string{"routes", "runs", "calendar", "jobs", "audit"}, tag)
		}) && op["operationId"] != "updateSite" {
			continue
		}
		method, path, _ := strings.Cut(key, " ")
		var query []string
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := resolve(t, doc, p)
			name, _ := pm["name"].(string)
			switch {
			case pm["in"] == "path":
				ex, ok := pm["example"]
				if !ok {
					t.Fatalf("%s: path parameter %s has no example", key, name)
				}
				path = strings.ReplaceAll(path, "{"+name+"}", fmt.Sprint(ex))
			case pm["in"] == "query" && pm["required"] == true:
				query = append(query, name+"="+fmt.Sprint(pm["example"]))
			}
		}
		if len(query) > 0 {
			path += "?" + strings.Join(query, "&")
		}
		bodies := map[string]any{"no body": nil}
		if _, ok := op["requestBody"]; ok {
			bodies = bodyExamples(t, doc, op)
		}
		for name, ex := range bodies {
			n++
			var raw []byte
			if ex != nil {
				raw, _ = json.Marshal(ex)
			}
			req := httptest.NewRequest(method, path, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			// As admin, or as the operation's one role when admins may not.
			who := "admin"
			if roles, _ := op["x-roles"].([]any); len(roles) > 0 && !slices.Contains(roles, any("admin")) {
				who = roles[0].(string)
			}
			req.Header.Set("Authorization", "Bearer "+who)
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			at := fmt.Sprintf("%s (%s) answer %d", key, name, resp.StatusCode)
			if resp.StatusCode >= 300 {
				t.Errorf("%s: %s", at, b)
				continue
			}
			x := &openapitest.Exchange{Request: req, ReqBody: raw, Status: resp.StatusCode, Header: resp.Header, Body: b}
			if err := checker.Check(x); err != nil {
				t.Errorf("%s: %v", at, err)
			}
		}
	}
	if n < 17 {
		t.Errorf("only %d calls made", n)
	}
}

// TestOpenAPIPathParameterExamplesAreValid: the examples of the path
// parameters name things the service knows.
func TestOpenAPIPathParameterExamplesAreValid(t *testing.T) {
	doc := loadOpenAPI(t)
	params, _ := dig(doc, "components", "parameters").(map[string]any)
	ex := func(name string) string {
		s, _ := dig(params, name, "example").(string)
		return s
	}
	if _, err := schedule.ParseDate(ex("CalendarDate")); err != nil {
		t.Errorf("CalendarDate example: %v", err)
	}
	if c, err := shipment.ParseCode(ex("RunOrBagNo")); err != nil || (c.Kind != shipment.KindRun && c.Kind != shipment.KindBag) {
		t.Errorf("RunOrBagNo example %q: %v %v", ex("RunOrBagNo"), c.Kind, err)
	}
	if !slices.Contains(jobNames(), ex("JobName")) {
		t.Errorf("JobName example %q is not a job", ex("JobName"))
	}
	for _, name := range []string{"RunNo", "BagNo"} {
		s, _ := schemaOf(t, doc, name)["example"].(string)
		if c, err := shipment.ParseCode(s); err != nil || c.Number != s || string(c.Kind) != map[string]string{"RunNo": "run", "BagNo": "bag"}[name] {
			t.Errorf("%s example %q: %v %v", name, s, c.Kind, err)
		}
	}
}
