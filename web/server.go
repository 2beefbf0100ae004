package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/shipment"
)

// BodyLimit is the largest request body a route accepts unless
// bodyLimits gives it more; MaxBodyLimit the largest of all (the server
// reads no more).
const (
	BodyLimit    = 256 << 10
	MaxBodyLimit = ImportBodyLimit + 64<<10
)

// bodyLimits are the routes that take more than BodyLimit, by path: a
// stocktake of a large hall (up to service.MaxStocktakeScans codes), a
// spreadsheet to import (with its form's other fields), a handover with a
// proxy's authorisation photo.
var bodyLimits = map[string]int{
	"/app/api/stocktakes": 2 << 20,
	"/desk/import":        MaxBodyLimit,
	"/counter/collect":    PhotoBodyLimit + 64<<10,
	// A delivery's proof: a photo and a signature, base64 in JSON.
	"/api/v1/scans":  ProofBodyLimit,
	"/app/api/scans": ProofBodyLimit,
}

// ProofBodyLimit bounds a scan that carries a delivery's proof (two images
// of at most PhotoBodyLimit each, base64 in JSON).
const ProofBodyLimit = 2*PhotoBodyLimit*4/3 + 64<<10

// prefixLimits are the limits of routes with a parameter, by prefix.
var prefixLimits = map[string]int{"/courier/deliver/": 2*PhotoBodyLimit + 64<<10}

// limitBody refuses a body over its route's limit (413 request.too_large).
func limitBody(c *fiber.Ctx) error {
	limit, ok := bodyLimits[c.Path()]
	for pre, l := range prefixLimits {
		if !ok && strings.HasPrefix(c.Path(), pre) {
			limit, ok = l, true
		}
	}
	if !ok {
		limit = BodyLimit
	}
	if len(c.Request().Body()) > limit {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

type server struct {
	Deps
	log   *slog.Logger
	cat   *i18n.Catalog
	tpl   *templates
	pages pageTemplates
	// assets are the pages' static files; secureCookies is set when the
	// service is reached over HTTPS (COURIER_PUBLIC_URL).
	assets        *assets
	secureCookies bool

	texts map[string]map[string]string // language → key → text, for keys without arguments
	langs sync.Map                     // Accept-Language header → language
	nlang atomic.Int64
}

// text translates a key that takes no arguments: from a table made at
// start, read without locks on the busiest paths.
func (s *server) text(lang, key string) string {
	if t, ok := s.texts[lang][key]; ok {
		return t
	}
	return s.cat.T(lang, key, nil)
}

// New builds the Fiber application with every route.
func New(d Deps) (*fiber.App, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Catalog == nil {
		return nil, errors.New("web: no catalog")
	}
	if d.RequestTimeout == 0 {
		d.RequestTimeout = 15 * time.Second
	}
	if d.TrackFree == 0 {
		d.TrackFree = 10
	}
	if d.TrackHard == 0 {
		d.TrackHard = 60
	}
	if d.TrackMaxDelay == 0 {
		d.TrackMaxDelay = 3 * time.Second
	}
	if d.Sleep == nil {
		d.Sleep = sleep
	}
	if d.LoginHard == 0 {
		d.LoginHard = 20
	}
	if d.LoginClientHard == 0 {
		d.LoginClientHard = 100
	}
	if d.LoginUserFree == 0 {
		d.LoginUserFree = 10
	}
	if d.LoginMaxDelay == 0 || d.LoginMaxDelay > 2*time.Second {
		d.LoginMaxDelay = 2 * time.Second
	}
	if d.Sleep == nil {
		d.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	tpl, pages, err := parseTemplates(as)
	if err != nil {
		return nil, err
	}
	s := &server{Deps: d, log: d.Log, cat: d.Catalog, tpl: tpl, pages: pages, assets: as,
		secureCookies: strings.HasPrefix(strings.ToLower(d.PublicURL), "https://"), texts: map[string]map[string]string{}}
	for _, lang := range []string{i18n.Chinese, i18n.English} {
		m := map[string]string{}
		for _, k := range d.Catalog.Keys() {
			if t := d.Catalog.T(lang, k, nil); !strings.Contains(t, "{{") {
				m[k] = t
			}
		}
		s.texts[lang] = m
	}
	app := fiber.New(fiber.Config{
		AppName:                 "courier",
		DisableStartupMessage:   true,
		BodyLimit:               MaxBodyLimit,
		ReadTimeout:             20 * time.Second,
		WriteTimeout:            20 * time.Second,
		IdleTimeout:             75 * time.Second,
		ErrorHandler:            s.errorHandler,
		ProxyHeader:             d.ProxyHeader,
		EnableTrustedProxyCheck: d.ProxyHeader != "",
		TrustedProxies:          d.TrustedProxies,
		EnableIPValidation:      true,
		// goccy/go-json: encoding/json's output, at a fraction of its cost
		// on the busiest public path.
		JSONEncoder: gojson.Marshal,
		JSONDecoder: gojson.Unmarshal,
	})
	app.Use(recover.New(recover.Config{EnableStackTrace: false}))
	app.Use(s.headers)
	app.Use(limitBody)
	s.routes(app)
	return app, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// headers sets the security headers every answer carries.
func (s *server) headers(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	return c.Next()
}

// bounded gives a request's work a deadline. The public read paths go
// without: their one query is bounded by the pool's statement timeout.
func (s *server) bounded(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

const actorKey = "actor"

// auth resolves the bearer token into the request's actor.
func (s *server) auth(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return apperr.New(apperr.Unauthorized, "auth.required")
	}
	a, err := s.Accounts.ActorByToken(c.UserContext(), strings.TrimSpace(tok))
	if err != nil {
		return err
	}
	c.Locals(actorKey, a)
	return c.Next()
}

// allow lets only the given roles through.
func allow(roles ...shipment.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !slices.Contains(roles, actor(c).Role) {
			return apperr.New(apperr.Forbidden, "auth.forbidden")
		}
		return c.Next()
	}
}

func actor(c *fiber.Ctx) shipment.Actor {
	a, _ := c.Locals(actorKey).(shipment.Actor)
	return a
}

// decode reads a JSON body strictly: unknown fields, wrong types and
// trailing data are refused with a stable code naming the problem.
func decode(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.New(apperr.BadRequest, "request.malformed_json").With("detail", "empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.New(apperr.BadRequest, "request.malformed_json").With("detail", "trailing data")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return apperr.New(apperr.BadRequest, "request.malformed_json").With("detail", se.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return apperr.New(apperr.BadRequest, "request.wrong_type").OnField(field).With("field", field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.New(apperr.BadRequest, "request.unknown_field").OnField(f).With("field", f)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.BadRequest, "request.malformed_json").With("detail", "unexpected end")
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.New(apperr.BadRequest, "request.malformed_json").With("detail", "")
}

// clientKey identifies the caller for throttling: its address, an IPv6
// address by its /64 (one subscriber's network).
func clientKey(c *fiber.Ctx) string {
	ip := net.ParseIP(c.IP())
	if ip == nil {
		return c.IP()
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
