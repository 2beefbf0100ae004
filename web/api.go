package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": s.Version})
}

func (s *server) readyz(c *fiber.Ctx) error {
	if s.Ready != nil {
		if err := s.Ready(c.UserContext()); err != nil {
			s.log.Warn("not ready", "err", err)
			c.Set(fiber.HeaderRetryAfter, retryAfter)
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable"})
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

type tokenRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// NewPassword replaces the password; required after a reset.
	NewPassword string `json:"new_password,omitempty"`
}

// issueToken signs in. Failures are counted before the password is tried,
// so parallel guesses cannot slip past a limit, and forgiven when it
// matched. A client is refused after LoginHard failures for one user, or
// after LoginClientHard failures over all users, but only for users it has
// failed for; guesses for a user spread over many addresses delay that
// user's sign-ins (at most LoginMaxDelay) and refuse nobody.
func (s *server) issueToken(c *fiber.Ctx) error {
	var r tokenRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if r.Username == "" {
		return apperr.New(apperr.Invalid, "request.field_required").OnField("username")
	}
	ctx := c.UserContext()
	matched, err := s.countPasswordTry(c, r.Username)
	if err != nil {
		return err
	}
	tok, exp, err := s.Accounts.IssueToken(ctx, r.Username, r.Password, r.NewPassword)
	if err != nil && apperr.CodeOf(err) == "auth.bad_credentials" {
		return err
	}
	// The password matched (a refusal after it is no guess).
	matched()
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"token": tok, "token_type": "Bearer", "expires_at": tracking.Local(exp)})
}

// countPasswordTry counts a try of a user's password from this client
// before it is made (sign-in and the change of one's own password share the
// counts): past the limits it refuses, or delays the try. The answer takes
// the try back once the password matched.
func (s *server) countPasswordTry(c *fiber.Ctx, username string) (matched func(), err error) {
	ctx := c.UserContext()
	client, user := clientKey(c), strings.ToLower(strings.TrimSpace(username))
	pair := client + " " + user
	nc, err := s.Throttle.Fail(ctx, "login", client)
	if err != nil {
		return nil, err
	}
	ncu, err := s.Throttle.Fail(ctx, "login-pair", pair)
	if err != nil {
		return nil, err
	}
	if ncu > s.LoginHard || (nc > s.LoginClientHard && ncu > 1) {
		return nil, apperr.New(apperr.TooMany, "auth.too_many_attempts")
	}
	nu, err := s.Throttle.Fail(ctx, "login-user", user)
	if err != nil {
		return nil, err
	}
	if d := loginDelay(nu-1, s.LoginUserFree, s.LoginMaxDelay); d > 0 {
		s.Sleep(ctx, d)
	}
	return func() {
		_ = s.Throttle.Forgive(ctx, "login", client)
		_ = s.Throttle.Forgive(ctx, "login-pair", pair)
		_ = s.Throttle.Forgive(ctx, "login-user", user)
	}, nil
}

// loginDelay is the wait before a user's sign-in after failures for that
// user from all clients: nothing up to free, then 100 ms more per failure,
// at most limit.
func loginDelay(failures, free int, limit time.Duration) time.Duration {
	if failures <= free {
		return 0
	}
	return min(time.Duration(failures-free)*100*time.Millisecond, limit)
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changeOwnPassword sets the caller's password; their other tokens end.
func (s *server) changeOwnPassword(c *fiber.Ctx) error {
	var r passwordChange
	if err := decode(c, &r); err != nil {
		return err
	}
	if r.CurrentPassword == "" {
		return apperr.New(apperr.Invalid, "request.field_required").OnField("current_password")
	}
	// A held token must not make the password guessable: tries of the
	// current password count as sign-ins do.
	a := actor(c)
	matched, err := s.countPasswordTry(c, a.Username)
	if err != nil {
		return err
	}
	tok := strings.TrimSpace(strings.TrimPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "))
	err = s.Accounts.ChangePassword(c.UserContext(), a, tok, r.CurrentPassword, r.NewPassword)
	if apperr.CodeOf(err) != "user.current_password_wrong" {
		matched()
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) updateUser(c *fiber.Ctx) error {
	var ch shipment.UserChange
	if err := decode(c, &ch); err != nil {
		return err
	}
	u, err := s.Accounts.Update(c.UserContext(), actor(c), c.Params("username"), ch)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *server) resetPassword(c *fiber.Ctx) error {
	name := strings.ToLower(c.Params("username"))
	pw, err := s.Accounts.ResetPassword(c.UserContext(), actor(c), name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"username": name, "temporary_password": pw, "must_change_password": true})
}

func (s *server) revokeToken(c *fiber.Ctx) error {
	tok := strings.TrimSpace(strings.TrimPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "))
	if err := s.Accounts.RevokeToken(c.UserContext(), tok); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) me(c *fiber.Ctx) error {
	a := actor(c)
	return c.JSON(fiber.Map{"id": a.ID, "username": a.Username, "role": a.Role, "site": a.Site, "departments": a.Departments})
}

func (s *server) listSites(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"items": s.Ref.Sites()})
}

func (s *server) listCertTypes(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"items": s.Ref.CertTypes()})
}

func (s *server) listUsers(c *fiber.Ctx) error {
	us, err := s.Accounts.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": us})
}

func (s *server) createUser(c *fiber.Ctx) error {
	var n shipment.NewUser
	if err := decode(c, &n); err != nil {
		return err
	}
	u, err := s.Accounts.CreateBy(c.UserContext(), actor(c), n)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

func (s *server) createParcel(c *fiber.Ctx) error {
	var r shipment.Registration
	if err := decode(c, &r); err != nil {
		return err
	}
	a := actor(c)
	src := shipment.SourceWeb
	if a.Role == shipment.RoleAPIClient {
		src = shipment.SourceAPI
	}
	v, err := s.Parcels.Register(c.UserContext(), a, r, src)
	if err != nil {
		return err
	}
	s.localise(c, &v)
	c.Location("/api/v1/parcels/" + v.WaybillNo)
	if v.Existing {
		return c.JSON(v) // the same registration sent again: the parcel registered before
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *server) localise(c *fiber.Ctx, v *tracking.ParcelView) {
	v.StatusText = s.text(s.lang(c), "status."+string(v.Status))
}

// waybillParam reads a waybill number from the path: the scanner parser
// accepts any case and stray punctuation, and tells a mistyped number apart.
func waybillParam(c *fiber.Ctx) (string, error) {
	code, err := shipment.ParseCode(c.Params("waybill"))
	if err != nil {
		return "", err
	}
	if code.Kind != shipment.KindParcel {
		return "", apperr.New(apperr.Invalid, "code.not_parcel")
	}
	return code.Number, nil
}

func (s *server) getParcel(c *fiber.Ctx) error {
	no, err := waybillParam(c)
	if err != nil {
		return err
	}
	v, err := s.Parcels.Get(c.UserContext(), actor(c), no)
	if err != nil {
		return err
	}
	s.localise(c, &v)
	return c.JSON(v)
}

func (s *server) listParcels(c *fiber.Ctx) error {
	f := tracking.Filter{Status: shipment.Status(c.Query("status")), Site: c.Query("site"), Text: c.Query("q"),
		Cursor: c.Query("cursor"), CollectionCode: c.Query("collection_code"), Dest: c.Query("dest"),
		From: c.Query("from"), To: c.Query("to"), Purpose: "api"}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return apperr.New(apperr.Invalid, "request.bad_query").OnField("limit").With("field", "limit")
		}
		f.Limit = n
	}
	p, err := s.Parcels.List(c.UserContext(), actor(c), f)
	if err != nil {
		return err
	}
	for i := range p.Items {
		s.localise(c, &p.Items[i])
	}
	return c.JSON(p)
}

func (s *server) parcelEvents(c *fiber.Ctx) error {
	no, err := waybillParam(c)
	if err != nil {
		return err
	}
	evs, err := s.Parcels.Events(c.UserContext(), actor(c), no)
	if err != nil {
		return err
	}
	type eventView struct {
		tracking.Event
		ActionText string `json:"action_text"`
		StatusText string `json:"status_text"`
	}
	lang := s.lang(c)
	out := make([]eventView, len(evs))
	for i, e := range evs {
		out[i] = eventView{Event: e, ActionText: s.cat.T(lang, "action."+string(e.Action), nil),
			StatusText: s.cat.T(lang, "status."+string(e.StatusAfter), nil)}
	}
	return c.JSON(fiber.Map{"waybill_no": no, "items": out})
}

func (s *server) scan(c *fiber.Ctx) error {
	var r tracking.ScanRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	res, err := s.Parcels.Scan(c.UserContext(), actor(c), r)
	if err != nil {
		return err
	}
	lang := s.lang(c)
	for i := range res.Items {
		res.Items[i].StatusText = s.text(lang, "status."+string(res.Items[i].Status))
	}
	return c.JSON(res)
}

func (s *server) listMessages(c *fiber.Ctx) error {
	no := ""
	if c.Query("waybill_no") != "" {
		code, err := shipment.ParseCode(c.Query("waybill_no"))
		if err != nil {
			return err
		}
		no = code.Number
	}
	ms, err := s.Ledger.Messages(c.UserContext(), no, 100)
	if err != nil {
		return err
	}
	lang := s.lang(c)
	for i := range ms {
		if ms[i].Status == "queued" && ms[i].LastError == "no_gateway" {
			ms[i].Note = s.text(lang, "message.no_gateway")
		}
	}
	return c.JSON(fiber.Map{"items": ms})
}

// trackLookup is the shared public lookup: it validates the number's format
// before touching the database, counts failed lookups (unknown numbers and
// wrong phone tails) per client and slows them down; successful lookups are
// never slowed.
func (s *server) trackLookup(c *fiber.Ctx) (tracking.PublicStatus, error) {
	ctx := c.UserContext()
	lang := s.lang(c)
	tail := c.Query("phone_tail")
	if c.Method() == fiber.MethodPost {
		tail = c.FormValue("phone_tail")
	}
	if tail != "" && !fourDigits(tail) {
		return tracking.PublicStatus{}, apperr.New(apperr.Invalid, "track.phone_tail_invalid").OnField("phone_tail")
	}
	var st tracking.PublicStatus
	matched := false
	raw := strings.ToUpper(strings.TrimSpace(c.Params("waybill")))
	kind, ferr := shipment.ValidNumber(raw)
	err := ferr
	if ferr == nil && kind != shipment.KindParcel {
		err = apperr.New(apperr.NotFound, "parcel.not_found")
	}
	if err == nil {
		st, matched, err = s.Parcels.Track(ctx, raw, tail, lang, func(k string) string { return s.text(lang, k) })
	}
	if err != nil && apperr.KindOf(err) != apperr.Invalid && apperr.KindOf(err) != apperr.NotFound {
		return st, err
	}
	failed := err != nil || (tail != "" && !matched)
	if !failed {
		return st, nil
	}
	// A wrong tail, or any tail of a parcel whose tail is closed (the
	// ledger counts wrong tails per parcel, from all clients), gets exactly
	// the number-alone view; only the client's own failures slow it down.
	if terr := s.slowFailure(c); terr != nil {
		return st, terr
	}
	if err != nil {
		// Unknown, mistyped or malformed numbers all answer the same 404.
		return st, apperr.New(apperr.NotFound, "track.not_found")
	}
	return st, nil
}

// slowFailure counts a failed public lookup against the client: past
// TrackFree each is delayed a little more, past TrackHard refused.
func (s *server) slowFailure(c *fiber.Ctx) error {
	ctx := c.UserContext()
	n, err := s.Throttle.Fail(ctx, "track", clientKey(c))
	if err != nil {
		s.log.Warn("track throttle unavailable", "err", err)
	}
	if n > s.TrackHard {
		return apperr.New(apperr.TooMany, "track.too_many")
	}
	if n > s.TrackFree {
		s.Sleep(ctx, min(time.Duration(n-s.TrackFree)*150*time.Millisecond, s.TrackMaxDelay))
	}
	return nil
}

// linkLookup opens a parcel's private link. The token's form is checked
// before any database call; unknown and expired links count against the
// client like unknown numbers, and all answer the same 404.
func (s *server) linkLookup(c *fiber.Ctx) (tracking.PublicStatus, error) {
	tok := strings.ToUpper(c.Params("token"))
	if !shipment.ValidLinkToken(tok) {
		return tracking.PublicStatus{}, apperr.New(apperr.NotFound, "link.not_found")
	}
	lang := s.lang(c)
	st, err := s.Parcels.TrackByLink(c.UserContext(), tok, lang, func(k string) string { return s.text(lang, k) })
	if err == nil || apperr.KindOf(err) != apperr.NotFound {
		return st, err
	}
	if terr := s.slowFailure(c); terr != nil {
		return st, terr
	}
	return st, apperr.New(apperr.NotFound, "link.not_found")
}

func (s *server) linkAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	st, err := s.linkLookup(c)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func fourDigits(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (s *server) trackAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	st, err := s.trackLookup(c)
	if err != nil {
		return err
	}
	return c.JSON(st)
}
