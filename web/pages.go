package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/i18n"
	"github.com/changchun-gov/courier/shipment"
)

// The staff pages: server-rendered from the templates under
// templates/pages, each inside templates/layout.html, parsed at start. A
// page's handler calls the same services as the API's; what it adds is the
// session (a cookie holding a session token of service.Accounts), CSRF and
// the HTML.

// Cookie names.
const (
	sessionCookie = "cc_session"
	csrfCookie    = "cc_csrf"
	langCookie    = "cc_lang"
)

// pageCSP allows our own scripts and styles only (no inline code);
// WebAssembly for the barcode polyfill; the camera's blob: frames.
const pageCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; media-src 'self' blob:; worker-src 'self'; manifest-src 'self'; form-action 'self'; " +
	"base-uri 'none'; frame-ancestors 'none'"

// pageView is what every page's template gets.
type pageView struct {
	Lang  string
	Other string // the other language
	T     func(string) string
	Title string
	// Path is the page's own address (for the language switch to return to).
	Path  string
	Actor *shipment.Actor
	Menu  []menuItem
	CSRF  string
	// Data is the page's own.
	Data any
	// Form keeps what the user typed; Errors the message per field ("" for
	// the form as a whole).
	Form   map[string]string
	Errors map[string]string
}

// menuItem is one entry of the role-aware menu.
type menuItem struct {
	Href, Key string
	Current   bool
}

// menu lists the pages a role has, in the order of a working day.
var menu = []struct {
	href, key string
	roles     []shipment.Role
}{
	{"/", "page.home", shipment.Roles},
	{"/desk/new", "page.desk_new", deskRoles},
	{"/desk/import", "page.desk_import", deskRoles},
	{"/desk/parcels", "page.parcels", siteStaff},
	{"/scan", "page.scan", scanners},
	{"/counter", "page.counter", hallStaff},
	{"/hall", "page.hall", hallStaff},
	{"/runs", "page.runs", siteStaff},
	{"/courier", "page.courier", []shipment.Role{shipment.RoleCourier}},
}

// pageTemplates parses the layout and each page once, at start.
type pageTemplates map[string]*template.Template

func parsePages(funcs template.FuncMap) (pageTemplates, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	out := pageTemplates{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", n, err)
		}
		out[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return out, nil
}

// renderPage writes a page with the layout.
func (s *server) renderPage(c *fiber.Ctx, status int, name string, v pageView) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	// Our own pages' requests carry their origin (the CSRF check reads
	// it; under no-referrer a form's POST says "Origin: null"); other
	// sites learn nothing.
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	c.Type("html", "utf-8")
	return c.Status(status).Send(b.Bytes())
}

// view starts a page's view for the request: language, the signed-in
// actor and their menu, the CSRF token.
func (s *server) view(c *fiber.Ctx, titleKey string) pageView {
	lang := s.lang(c)
	other := i18n.English
	if lang == i18n.English {
		other = i18n.Chinese
	}
	v := pageView{Lang: lang, Other: other, T: func(k string) string { return s.text(lang, k) },
		Path: c.OriginalURL(), CSRF: s.csrfToken(c), Form: map[string]string{}, Errors: map[string]string{}}
	v.Title = v.T(titleKey)
	if a, ok := c.Locals(actorKey).(shipment.Actor); ok {
		v.Actor = &a
		for _, m := range menu {
			if slices.Contains(m.roles, a.Role) {
				v.Menu = append(v.Menu, menuItem{Href: m.href, Key: m.key, Current: m.href == c.Path()})
			}
		}
	}
	return v
}

// csrfToken is the token forms and scripts send back: a MAC of the
// browser's CSRF cookie, which a page of another site can neither read
// nor set. The cookie is made on the first page.
func (s *server) csrfToken(c *fiber.Ctx) string {
	seed := c.Cookies(csrfCookie)
	if len(seed) < 40 {
		seed = randomToken()
		s.setCookie(c, csrfCookie, seed, time.Time{})
		// Read back within this request (the sign-in form is rendered
		// with the cookie it sets).
		c.Request().Header.SetCookie(csrfCookie, seed)
	}
	m := hmac.New(sha256.New, []byte(seed))
	m.Write([]byte("courier csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF guards every state-changing page request and script call: the
// form's _csrf or the X-CSRF-Token header must match the cookie, and an
// Origin header, when sent, must be our own.
func (s *server) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, c.Hostname()) {
			return apperr.New(apperr.Forbidden, "page.csrf")
		}
	}
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("_csrf")
	}
	if c.Cookies(csrfCookie) == "" && s.secureCookies && c.Protocol() != "https" {
		// Our cookies are Secure (COURIER_PUBLIC_URL is https): a browser
		// on a plain http address never sends them back.
		return apperr.New(apperr.Forbidden, "page.https_required").With("url", s.PublicURL)
	}
	if c.Cookies(csrfCookie) == "" || !hmac.Equal([]byte(got), []byte(s.csrfToken(c))) {
		return apperr.New(apperr.Forbidden, "page.csrf")
	}
	return c.Next()
}

// setCookie sets one of our cookies: HttpOnly, SameSite=Lax, Secure when
// the service is reached over HTTPS; a zero expiry makes it last for the
// browser's session.
func (s *server) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{Name: name, Value: value, Path: "/", Expires: expires, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: s.secureCookies})
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session resolves the session cookie into the request's actor, if any.
// A page that needs one sends the browser to the sign-in page (and back).
func (s *server) session(required bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		tok := c.Cookies(sessionCookie)
		if tok != "" {
			a, err := s.Accounts.ActorBySession(c.UserContext(), tok)
			switch {
			case err == nil:
				c.Locals(actorKey, a)
				c.Locals(sessionKey, tok)
				return c.Next()
			case apperr.As(err) == nil:
				return err
			}
			// Ended (expired, idle, signed out elsewhere, disabled): the
			// cookie goes; the sign-in page says why.
			s.setCookie(c, sessionCookie, "", time.Unix(0, 0))
			if required {
				return s.toSignIn(c, apperr.CodeOf(err))
			}
		}
		if required {
			return s.toSignIn(c, "")
		}
		return c.Next()
	}
}

const sessionKey = "session"

// toSignIn sends a browser to the sign-in page, to come back to this one;
// a script's call gets the error itself.
func (s *server) toSignIn(c *fiber.Ctx, why string) error {
	if strings.HasPrefix(c.Path(), "/app/api/") {
		if why == "" {
			why = "auth.required"
		}
		return apperr.New(apperr.Unauthorized, why)
	}
	q := url.Values{}
	if c.Method() == fiber.MethodGet {
		q.Set("next", c.OriginalURL())
	}
	if why != "" {
		q.Set("why", why)
	}
	return c.Redirect("/login?"+q.Encode(), fiber.StatusSeeOther)
}

// pageAllow lets only the given roles see a page.
func pageAllow(roles ...shipment.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !slices.Contains(roles, actor(c).Role) {
			return apperr.New(apperr.Forbidden, "auth.forbidden")
		}
		return c.Next()
	}
}

// safeNext is where to go after signing in: one of our own paths only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}

// isPage tells whether a request is for a staff page (an HTML answer),
// not the API, a script's call or the public pages.
func isPage(p string) bool {
	p = strings.ToLower(p)
	for _, pre := range []string{"/api/", "/app/api/", "/t/", "/s/", "/static/", "/sw.js", "/healthz", "/readyz", "/hooks/"} {
		if strings.HasPrefix(p, pre) {
			return false
		}
	}
	return true
}

// pageRoutes lists the staff pages. (Each route names its middleware: a
// group with handlers on the empty prefix would run them for the API too.)
func (s *server) pageRoutes(app *fiber.App) {
	app.Get("/static/:name", s.static)
	app.Get("/sw.js", s.serviceWorker)
	page := func(h ...fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{s.bounded, s.checkCSRF}, h...)
	}
	app.Get("/login", page(s.session(false), s.loginPage)...)
	app.Post("/login", page(s.session(false), s.login)...)
	app.Get("/lang/:lang", page(s.switchLang)...)
	app.Post("/logout", page(s.session(false), s.logout)...)
	app.Get("/", page(s.session(true), s.homePage)...)
	app.Get("/scan", page(s.session(true), pageAllow(scanners...), s.scanPage)...)
	app.Get("/counter", page(s.session(true), pageAllow(hallStaff...), s.counterPage)...)
	app.Post("/counter/collect", page(s.session(true), pageAllow(hallStaff...), s.counterCollect)...)
	app.Get("/counter/receipt/:waybill", page(s.session(true), pageAllow(hallStaff...), s.counterReceipt)...)
	app.Get("/counter/authorisation/:waybill", page(s.session(true), pageAllow(hallStaff...), s.counterPhoto)...)
	if s.Hall != nil {
		app.Get("/hall", page(s.session(true), pageAllow(hallStaff...), s.hallPage)...)
		app.Post("/hall/recall", page(s.session(true), pageAllow(hallStaff...), s.hallRecall)...)
	}
	app.Get("/desk/new", page(s.session(true), pageAllow(deskRoles...), s.deskNewPage)...)
	app.Post("/desk/new", page(s.session(true), pageAllow(deskRoles...), s.deskRegister)...)
	app.Get("/desk/parcels", page(s.session(true), pageAllow(siteStaff...), s.deskList)...)
	app.Get("/desk/parcels/:waybill", page(s.session(true), pageAllow(siteStaff...), s.deskParcel)...)
	app.Post("/desk/print", page(s.session(true), pageAllow(siteStaff...), s.deskPrint)...)
	app.Post("/desk/parcels/:waybill/cancel", page(s.session(true), pageAllow(deskRoles...), s.deskCancel)...)
	if s.Imports != nil {
		app.Get("/desk/import", page(s.session(true), pageAllow(deskRoles...), s.importUploadPage)...)
		app.Post("/desk/import", page(s.session(true), pageAllow(deskRoles...), s.importUpload)...)
		app.Get("/desk/import/template/:format", page(s.session(true), pageAllow(deskRoles...), s.importTemplate)...)
		app.Get("/desk/import/:id", page(s.session(true), pageAllow(deskRoles...), s.importPreview)...)
		app.Post("/desk/import/:id", page(s.session(true), pageAllow(deskRoles...), s.importChoose)...)
	}
	if s.Runs != nil {
		app.Get("/runs", page(s.session(true), pageAllow(siteStaff...), s.runsPage)...)
		app.Get("/runs/:no", page(s.session(true), pageAllow(siteStaff...), s.runPage)...)
		app.Post("/runs/:no/cancel", page(s.session(true), pageAllow(siteStaff...), s.runCancelForm)...)
		app.Post("/runs/:no/booking", page(s.session(true), pageAllow(siteStaff...), s.runBookForm)...)
		if s.Couriers != nil {
			app.Post("/runs/:no/assign", page(s.session(true), pageAllow(admins...), s.runAssignForm)...)
		}
	}
	if s.Couriers != nil {
		couriers := []shipment.Role{shipment.RoleCourier}
		app.Get("/courier", page(s.session(true), pageAllow(couriers...), s.courierPage)...)
		app.Post("/courier/take/:no", page(s.session(true), pageAllow(couriers...), s.courierTake)...)
		app.Post("/courier/handover/:no", page(s.session(true), pageAllow(couriers...), s.courierHandOver)...)
		app.Post("/courier/dispatch/:waybill", page(s.session(true), pageAllow(couriers...),
			func(c *fiber.Ctx) error { return s.courierScan(c, shipment.ActDispatch) })...)
		app.Post("/courier/deliver/:waybill", page(s.session(true), pageAllow(couriers...),
			func(c *fiber.Ctx) error { return s.courierScan(c, shipment.ActDeliver) })...)
		app.Post("/courier/fail/:waybill", page(s.session(true), pageAllow(couriers...),
			func(c *fiber.Ctx) error { return s.courierScan(c, shipment.ActFail) })...)
	}
	// What the pages' scripts call: the API's handlers, on the session.
	calls := app.Group("/app/api", s.bounded, s.session(true), s.checkCSRF)
	calls.Post("/scans", allow(scanners...), s.scan)
	calls.Get("/me", s.me)
	calls.Post("/parcels/check", allow(deskRoles...), s.deskCheck)
	if s.Runs != nil {
		calls.Post("/runs/:no/close", allow(siteStaff...), s.closeRun)
		calls.Get("/runs/:no/manifest.pdf", allow(siteStaff...), s.runManifest)
		calls.Get("/runs/:no/bag-label.pdf", allow(siteStaff...), s.runBagLabel)
	}
	if s.Hall != nil {
		calls.Post("/stocktakes", allow(hallStaff...), s.stocktake)
	}
	if s.Slots != nil {
		calls.Get("/sites/:code/slots/:slot/label.pdf", allow(hallStaff...), s.slotLabel)
	}
}

func (s *server) loginPage(c *fiber.Ctx) error {
	if _, ok := c.Locals(actorKey).(shipment.Actor); ok {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	v := s.view(c, "page.login")
	v.Form["next"] = safeNext(c.Query("next"))
	if why := c.Query("why"); why == "auth.session_ended" || why == "auth.user_disabled" {
		v.Errors[""] = v.T(why)
	}
	return s.renderPage(c, fiber.StatusOK, "login", v)
}

// login signs in with the API's throttling and the core's rules; after a
// reset the form asks for the new password as well.
func (s *server) login(c *fiber.Ctx) error {
	v := s.view(c, "page.login")
	user, password, newPassword := strings.TrimSpace(c.FormValue("username")), c.FormValue("password"), c.FormValue("new_password")
	v.Form["username"], v.Form["next"] = user, safeNext(c.FormValue("next"))
	if newPassword != "" || c.FormValue("must_change") == "1" {
		v.Form["must_change"] = "1"
	}
	fail := func(err error) error {
		ae := apperr.As(err)
		if ae == nil {
			return err
		}
		field := ae.Field
		switch ae.Code {
		case "auth.password_change_required":
			v.Form["must_change"] = "1"
			field = "new_password"
		case "auth.bad_credentials":
			field = "password"
		}
		v.Errors[field] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		return s.renderPage(c, statusOf[ae.Kind], "login", v)
	}
	if user == "" {
		return fail(apperr.New(apperr.Invalid, "request.field_required").OnField("username"))
	}
	if newPassword != "" && newPassword != c.FormValue("new_password2") {
		return fail(apperr.New(apperr.Invalid, "page.passwords_differ").OnField("new_password2"))
	}
	matched, err := s.countPasswordTry(c, user)
	if err != nil {
		return fail(err)
	}
	tok, exp, err := s.Accounts.StartSession(c.UserContext(), user, password, newPassword)
	if err != nil && apperr.CodeOf(err) == "auth.bad_credentials" {
		return fail(err)
	}
	matched()
	if err != nil {
		return fail(err)
	}
	s.setCookie(c, sessionCookie, tok, exp)
	// A fresh CSRF seed for the signed-in browser.
	s.setCookie(c, csrfCookie, randomToken(), time.Time{})
	return c.Redirect(v.Form["next"], fiber.StatusSeeOther)
}

func (s *server) logout(c *fiber.Ctx) error {
	if tok, ok := c.Locals(sessionKey).(string); ok {
		if err := s.Accounts.RevokeToken(c.UserContext(), tok); err != nil {
			return err
		}
	}
	s.setCookie(c, sessionCookie, "", time.Unix(0, 0))
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// switchLang keeps the reader's language in a cookie and goes back.
func (s *server) switchLang(c *fiber.Ctx) error {
	s.setCookie(c, langCookie, i18n.Lang(c.Params("lang")), time.Now().AddDate(1, 0, 0))
	return c.Redirect(safeNext(c.Query("back")), fiber.StatusSeeOther)
}

func (s *server) homePage(c *fiber.Ctx) error {
	v := s.view(c, "page.home")
	return s.renderPage(c, fiber.StatusOK, "home", v)
}

// renderPageError answers a page's error as a page: the message, and a
// way on.
func (s *server) renderPageError(c *fiber.Ctx, status int, msg string) error {
	v := s.view(c, "page.error")
	v.Data = msg
	return s.renderPage(c, status, "error", v)
}

// The actions a scan station offers, in the order of a hall's day; each
// role sees those the action table gives it (a hall lead also corrects
// and resolves).
var stationActions = []shipment.Action{shipment.ActReceive, shipment.ActShelve, shipment.ActReslot, shipment.ActPickup,
	shipment.ActDispatch, shipment.ActReport, shipment.ActReturn, shipment.ActRecall, shipment.ActResolve, shipment.ActCorrect}

type scanChoice struct {
	Code, Text string
	Checked    bool
	// Reason is which list of reasons the action takes: "report" (the
	// reasons of report, fail and return), "correct", or none.
	Reason           string
	Slot, Resolution bool
}

type scanPageData struct {
	Actions, Reasons, CorrectionReasons, Resolutions []scanChoice
}

func (s *server) scanPage(c *fiber.Ctx) error {
	v := s.view(c, "page.scan")
	want := shipment.Action(c.Query("action"))
	var d scanPageData
	for i, a := range shipment.ActionsFor(actor(c).Role, stationActions) {
		ch := scanChoice{Code: string(a), Text: v.T("action." + string(a)), Checked: a == want || (want == "" && i == 0),
			Slot: a.TakesSlot(), Resolution: a == shipment.ActResolve}
		switch {
		case a == shipment.ActCorrect:
			ch.Reason = "correct"
		case shipment.NeedsReason(a):
			ch.Reason = "report"
		}
		d.Actions = append(d.Actions, ch)
	}
	for _, r := range shipment.Reasons {
		d.Reasons = append(d.Reasons, scanChoice{Code: r, Text: v.T("reason." + r)})
	}
	for _, r := range shipment.CorrectionReasons {
		d.CorrectionReasons = append(d.CorrectionReasons, scanChoice{Code: r, Text: v.T("reason." + r)})
	}
	for _, r := range []shipment.Resolution{shipment.ResolveRestore, shipment.ResolveReroute, shipment.ResolveReturn} {
		d.Resolutions = append(d.Resolutions, scanChoice{Code: string(r), Text: v.T("resolution." + string(r))})
	}
	v.Data = d
	return s.renderPage(c, fiber.StatusOK, "scan", v)
}
