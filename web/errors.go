package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/internal/i18n"
)

// statusOf is the one table from application error kinds to HTTP statuses.
var statusOf = map[apperr.Kind]int{
	apperr.BadRequest:   fiber.StatusBadRequest,
	apperr.Invalid:      fiber.StatusUnprocessableEntity,
	apperr.NotFound:     fiber.StatusNotFound,
	apperr.Conflict:     fiber.StatusConflict,
	apperr.Unauthorized: fiber.StatusUnauthorized,
	apperr.Forbidden:    fiber.StatusForbidden,
	apperr.TooMany:      fiber.StatusTooManyRequests,
	apperr.Unavailable:  fiber.StatusServiceUnavailable,
	apperr.Internal:     fiber.StatusInternalServerError,
}

// retryAfter is the Retry-After (seconds) of every 503: the embedded
// database is back within a few seconds of a crash, and a scan station
// retrying with the same scan_id records nothing twice.
const retryAfter = "3"

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error: a stable code (also the message's translation
// key), the message in the reader's language, and the offending field.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Details holds the message's arguments as codes (site codes, states),
	// for programs: for example the expected site of scan.wrong_site.
	Details map[string]any `json:"details,omitempty"`
}

func (s *server) fromFiber(fe *fiber.Error) *apperr.Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return apperr.New(apperr.NotFound, "request.not_found")
	case fiber.StatusMethodNotAllowed:
		return apperr.New(apperr.NotFound, "request.method_not_allowed")
	case fiber.StatusRequestEntityTooLarge:
		return apperr.New(apperr.BadRequest, "request.too_large")
	case fiber.StatusRequestTimeout:
		return apperr.New(apperr.Unavailable, "request.timeout")
	case fiber.StatusBadRequest:
		return apperr.New(apperr.BadRequest, "request.malformed_json")
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return apperr.New(apperr.BadRequest, "request.rejected")
	}
	return apperr.New(apperr.Internal, "internal")
}

// errorHandler renders every error: JSON for the API, a page for /t and /s.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if s.Unavailable != nil {
		err = s.Unavailable(err)
	}
	ae := apperr.As(err)
	status := fiber.StatusInternalServerError
	switch {
	case ae != nil:
		status = statusOf[ae.Kind]
	case errors.As(err, &fe):
		ae = s.fromFiber(fe)
		status = fe.Code
	default:
		ae = apperr.New(apperr.Internal, "internal")
	}
	if status == 0 {
		status = fiber.StatusInternalServerError
	}
	if status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, retryAfter)
	}
	if ae.Kind == apperr.Internal {
		s.log.Error("request failed", "method", c.Method(), "path", c.Route().Path, "err", err)
	}
	lang := s.lang(c)
	args := ae.Args
	if ae.Field != "" {
		if args == nil {
			args = map[string]any{}
		}
		if _, ok := args["field"]; !ok {
			args["field"] = ae.Field
		}
	}
	key := ae.Code
	if !s.cat.Has(key) {
		key = "error." + string(ae.Kind) // a code without its own message: the kind's
	}
	body := ErrorBody{Error: ErrorDetail{Code: ae.Code, Message: s.cat.T(lang, key, s.readable(lang, args)), Field: ae.Field}}
	if ae.Kind != apperr.Internal && len(ae.Args) > 0 {
		body.Error.Details = ae.Args
	}
	if ae.Kind == apperr.Internal {
		body.Error.Code = "internal"
		body.Error.Message = s.cat.T(lang, "internal", nil)
	}
	if p := strings.ToLower(c.Path()); strings.HasPrefix(p, "/t/") || strings.HasPrefix(p, "/s/") {
		// The public pages: /t/{waybill} and the private link /s/{token}.
		return s.renderTrackError(c, status, body.Error.Message)
	}
	if isPage(c.Path()) {
		return s.renderPageError(c, status, body.Error.Message)
	}
	return c.Status(status).JSON(body)
}

func (s *server) lang(c *fiber.Ctx) string {
	if l := c.Query("lang"); l != "" {
		return i18n.Lang(l)
	}
	if l := c.Cookies(langCookie); l != "" {
		return i18n.Lang(l)
	}
	h := c.Get(fiber.HeaderAcceptLanguage)
	if v, ok := s.langs.Load(h); ok {
		return v.(string)
	}
	l := i18n.Lang(h)
	if s.nlang.Add(1) > 1000 { // bound the cache: headers come from clients
		s.langs.Clear()
		s.nlang.Store(0)
	}
	s.langs.Store(string([]byte(h)), l)
	return l
}

// readable turns codes in message arguments into words: states and actions
// into their names, site codes into site names.
func (s *server) readable(lang string, args map[string]any) map[string]any {
	if len(args) == 0 {
		return args
	}
	out := make(map[string]any, len(args))
	for k, v := range args {
		str, ok := v.(string)
		switch {
		case !ok:
		case k == "status":
			v = s.cat.T(lang, "status."+str, nil)
		case k == "run_status":
			v = s.cat.T(lang, "run_status."+str, nil)
		case k == "booking_status" || k == "to_status":
			v = s.cat.T(lang, "booking_status."+str, nil)
		case k == "action" || k == "last_action":
			v = s.cat.T(lang, "action."+str, nil)
		case k == "site" || k == "expected":
			if s.Ref == nil {
			} else if site, found := s.Ref.Site(str); found {
				v = site.Name(lang)
			} else if str == "" {
				v = "—"
			}
		}
		out[k] = v
	}
	return out
}
