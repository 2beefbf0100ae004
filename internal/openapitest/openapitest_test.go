package openapitest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/openapitest"
	"github.com/changchun-gov/courier/web"
)

func load(t *testing.T) *openapitest.Doc {
	t.Helper()
	d, err := openapitest.Load(web.OpenAPI)
	if err != nil {
		t.Fatalf("web/openapi.json: %v", err)
	}
	return d
}

// exchange builds one request and its answer.
func exchange(method, path, token, reqBody string, status int, contentType, body string) *openapitest.Exchange {
	req, err := http.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
	if err != nil {
		panic(err)
	}
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &openapitest.Exchange{Request: req, ReqBody: []byte(reqBody), Status: status, Header: h, Body: []byte(body)}
}

const (
	jsonCT = "application/json; charset=utf-8"
	me     = `{"id":1,"username":"admin","role":"admin","site":"","departments":null}`
	token  = `{"token":"cct_x","token_type":"Bearer","expires_at":"2026-03-15T22:42:07+08:00"}`
)

// The checker passes what the document says and fails, naming the
// operation, what it does not: the hook in cmd/courier can fail.
func TestCheck(t *testing.T) {
	d := load(t)
	for _, c := range []struct {
		name string
		x    *openapitest.Exchange
		want string // "" = valid; else a piece of the error
	}{
		{"documented answer", exchange("GET", "/api/v1/me", "tok", "", 200, jsonCT, me), ""},
		{"public, no token", exchange("GET", "/healthz", "", "", 200, jsonCT, `{"status":"ok","version":"dev"}`), ""},
		{"upper-case public page", exchange("GET", "/T/CP2026031500417N", "", "", 200, "text/html; charset=utf-8", "<html></html>"), ""},
		{"unknown address refused", exchange("GET", "/api/v1/nothing", "tok", "", 404, jsonCT, `{"error":{"code":"route.not_found","message":"x"}}`), ""},
		{"bad request refused", exchange("POST", "/api/v1/auth/token", "", `{"username":1}`, 400,
			jsonCT, `{"error":{"code":"request.wrong_type","message":"x","field":"username"}}`), ""},
		{"token issued", exchange("POST", "/api/v1/auth/token", "", `{"username":"admin","password":"pw"}`, 200, jsonCT, token), ""},

		{"missing field", exchange("GET", "/api/v1/me", "tok", "", 200, jsonCT, `{"id":1,"username":"admin","role":"admin","site":""}`),
			`operation me: answer 200 does not match the document`},
		{"unknown enum", exchange("GET", "/api/v1/me", "tok", "", 200, jsonCT, strings.Replace(me, `"role":"admin"`, `"role":"boss"`, 1)),
			`"boss"`},
		{"undocumented status", exchange("GET", "/api/v1/me", "tok", "", 418, jsonCT, `{}`), `operation me: answer 418`},
		{"wrong content type", exchange("GET", "/api/v1/me", "tok", "", 200, "text/plain", me), `operation me`},
		{"no token, yet served", exchange("GET", "/api/v1/me", "", "", 200, jsonCT, me), `the document refuses the request, yet it was answered 200`},
		{"bad body, yet served", exchange("POST", "/api/v1/auth/token", "", `{"username":1}`, 200, jsonCT, token), `operation issueToken`},
		{"time not at +08:00", exchange("POST", "/api/v1/auth/token", "", `{"username":"admin","password":"pw"}`, 200, jsonCT,
			strings.Replace(token, "+08:00", "Z", 1)), `+08:00`},
		{"not a PDF", exchange("GET", "/api/v1/parcels/CP2026031500417N/label.pdf", "tok", "", 200, "application/pdf", "<html>"), `not a PDF`},
		{"body where none is documented", exchange("DELETE", "/api/v1/auth/token", "tok", "", 204, jsonCT, `{}`), `operation revokeToken`},
		{"undocumented address served", exchange("GET", "/api/v1/nothing", "tok", "", 200, jsonCT, `{}`), `no operation of the document`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := d.Check(c.x)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && err == nil:
				t.Fatal("passed")
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// Load validates the document itself: an example that breaks its schema,
// or a date-time example not at +08:00, is refused.
func TestLoadValidatesTheDocument(t *testing.T) {
	for _, c := range []struct{ name, old, new string }{
		{"example of the wrong type", `"example": "2026-03-15T10:42:07+08:00"`, `"example": 7`},
		{"example not at +08:00", `"example": "2026-03-15T10:42:07+08:00"`, `"example": "2026-03-15T02:42:07Z"`},
		{"dangling $ref", `"$ref": "#/components/schemas/ErrorBody"`, `"$ref": "#/components/schemas/NoSuchBody"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !bytes.Contains(web.OpenAPI, []byte(c.old)) {
				t.Fatalf("the document has no %s", c.old)
			}
			spec := bytes.Replace(web.OpenAPI, []byte(c.old), []byte(c.new), 1)
			if !json.Valid(spec) {
				t.Fatal("not JSON")
			}
			if _, err := openapitest.Load(spec); err == nil {
				t.Fatal("loaded")
			} else {
				t.Log(err)
			}
		})
	}
}
