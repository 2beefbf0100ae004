// Package openapitest checks HTTP traffic against the service's OpenAPI
// document with kin-openapi (openapi3 loader, gorillamux router,
// openapi3filter). Only tests import it: the end-to-end tests of cmd/courier
// run every request they send and every answer they get through Check.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Doc is a loaded, validated OpenAPI document with its router.
type Doc struct {
	T      *openapi3.T
	router routers.Router
}

func init() {
	// The public pages are HTML, validated as the string their schema says.
	// (PDFs, documented as binary strings, need no decoder; Check looks at
	// their signature itself.)
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	// Every time of the API is at +08:00, examples included (the document's
	// own validation sees only the library-wide formats).
	openapi3.DefineStringFormatValidator("date-time", openapi3.NewCallbackValidator(Shanghai))
}

// Shanghai is the date-time format of the API: RFC 3339 at +08:00.
func Shanghai(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("%q is not RFC 3339", s)
	}
	if _, off := t.Zone(); off != 8*3600 {
		return fmt.Errorf("%q is not at +08:00 (Asia/Shanghai)", s)
	}
	return nil
}

// Load parses spec, validates it as an OpenAPI document (examples against
// their schemas included) and builds its router.
func Load(spec []byte) (*Doc, error) {
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := t.Validate(loader.Context, openapi3.EnableExamplesValidation(), openapi3.EnableSchemaFormatValidation(),
		openapi3.EnableSchemaPatternValidation()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	r, err := gorillamux.NewRouter(t)
	if err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	return &Doc{T: t, router: r}, nil
}

// bearer accepts any request that carries a bearer token: whether the token
// is good is the service's to say, and a refused one must be answered 401.
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return in.NewError(fmt.Errorf("security scheme %q is not http bearer", in.SecuritySchemeName))
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(h, " "); !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return in.NewError(errors.New("no bearer token"))
	}
	return nil
}

// Exchange is one request and its answer as a test client saw them.
type Exchange struct {
	Request     *http.Request // its Body is not read; ReqBody holds the bytes sent
	ReqBody     []byte
	Status      int
	Header      http.Header
	Body        []byte
	OperationID string // set by Check once the operation is found
}

// findRoute finds the operation of a request. The service routes
// case-insensitively (a label's QR code holds /T/…, upper-cased), so a path
// no operation matches is matched again in lower case, and its path
// parameters are then taken from the path as sent.
func (d *Doc) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := d.router.FindRoute(req)
	if !errors.Is(err, routers.ErrPathNotFound) {
		return route, params, err
	}
	lower := req.Clone(req.Context())
	lower.URL.Path, lower.URL.RawPath = strings.ToLower(req.URL.Path), ""
	route, _, err2 := d.router.FindRoute(lower)
	if err2 != nil {
		return nil, nil, err
	}
	tmpl, sent := strings.Split(route.Path, "/"), strings.Split(req.URL.Path, "/")
	if len(tmpl) != len(sent) {
		return nil, nil, err
	}
	params = map[string]string{}
	for i, seg := range tmpl {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params[seg[1:len(seg)-1]] = sent[i]
		}
	}
	return route, params, nil
}

// Check validates one exchange: the operation must be documented, its
// request valid, and the answer's status, content type and body as
// documented for that operation. A request the document refuses (the
// tests send bad input on purpose) must be refused with a 4xx. The error
// names the operation and carries the library's message.
func (d *Doc) Check(x *Exchange) error {
	req := x.Request.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(x.ReqBody))
	req.ContentLength = int64(len(x.ReqBody))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(x.ReqBody)), nil }
	if len(x.ReqBody) == 0 {
		req.Body, req.GetBody = http.NoBody, nil
	}
	route, params, err := d.findRoute(req)
	if err != nil {
		if x.Status == http.StatusNotFound || x.Status == http.StatusMethodNotAllowed {
			return nil // an address no operation serves, refused as such
		}
		return fmt.Errorf("%s %s: no operation of the document (%v), yet answered %d", req.Method, req.URL.Path, err, x.Status)
	}
	op := route.Operation.OperationID
	if op == "" {
		op = route.Method + " " + route.Path
	}
	x.OperationID = op
	opts := &openapi3filter.Options{
		AuthenticationFunc:    bearer,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	ctx := context.Background()
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if reqErr != nil && (x.Status < 400 || x.Status >= 500) {
		return fmt.Errorf("operation %s: the document refuses the request, yet it was answered %d: %v", op, x.Status, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.Status,
		Header:                 x.Header,
		Options:                opts,
	}
	out.SetBodyBytes(x.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("operation %s: answer %d does not match the document: %v", op, x.Status, err)
	}
	if ct, _, _ := strings.Cut(x.Header.Get("Content-Type"), ";"); strings.EqualFold(strings.TrimSpace(ct), "application/pdf") &&
		!bytes.HasPrefix(x.Body, []byte("%PDF-")) {
		return fmt.Errorf("operation %s: answer %d is application/pdf but not a PDF: starts %q", op, x.Status, x.Body[:min(len(x.Body), 40)])
	}
	if r := route.Operation.Responses.Status(x.Status); r != nil && r.Value != nil && len(r.Value.Content) == 0 && len(x.Body) > 0 {
		return fmt.Errorf("operation %s: answer %d documents no body, yet has %d bytes", op, x.Status, len(x.Body))
	}
	return nil
}
