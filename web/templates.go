package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/tracking"
)

//go:embed templates/*.html templates/pages/*.html
var templateFS embed.FS

// templates are parsed once at start; a template that does not parse stops
// the service from starting.
type templates struct {
	track *template.Template
}

func parseTemplates(a *assets) (*templates, pageTemplates, error) {
	funcs := template.FuncMap{
		"asset": a.URL,
		"t":     func(tr func(string) string, key string) string { return tr(key) },
		"when": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return tracking.Local(*t).Format("2006-01-02 15:04")
		},
		"day": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return tracking.Local(*t).Format("2006-01-02")
		},
		"at": func(t time.Time) string { return tracking.Local(t).Format("2006-01-02 15:04") },
		// args names a partial's arguments: args "Key" value "Key" value ….
		"args": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("args: an odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("args: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
	tr, err := template.New("track.html").Funcs(funcs).ParseFS(templateFS, "templates/track.html")
	if err != nil {
		return nil, nil, fmt.Errorf("web: templates: %w", err)
	}
	pages, err := parsePages(funcs)
	if err != nil {
		return nil, nil, err
	}
	return &templates{track: tr}, pages, nil
}

type trackPageData struct {
	Lang     string
	T        func(string) string
	Number   string
	Status   *tracking.PublicStatus
	TailSent bool
	Error    string
	Other    string // link to the other language
	// Redirect is the private link's express form (nil: the public page).
	Redirect *redirectForm
	// CanRedirect: the parcel may still go by express (the link's page).
	CanRedirect bool
}

const publicCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (s *server) renderTrack(c *fiber.Ctx, status int, d trackPageData) error {
	var b bytes.Buffer
	if err := s.tpl.track.Execute(&b, d); err != nil {
		return fmt.Errorf("web: render track page: %w", err)
	}
	csp := publicCSP
	if d.Redirect != nil && d.Redirect.Sent && !d.Redirect.Done {
		// The express form's address lists follow each other (our script,
		// the division codes from our server).
		csp += "; script-src 'self'; connect-src 'self'"
	}
	c.Set(fiber.HeaderContentSecurityPolicy, csp)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(b.Bytes())
}

func (s *server) pageData(c *fiber.Ctx) trackPageData {
	lang := s.lang(c)
	other := "en"
	if lang == "en" {
		other = "zh-CN"
	}
	return trackPageData{Lang: lang, T: func(k string) string { return s.cat.T(lang, k, nil) }, Other: other}
}

func (s *server) trackPage(c *fiber.Ctx) error {
	d := s.pageData(c)
	st, err := s.trackLookup(c)
	if err != nil {
		return err
	}
	tail := c.Query("phone_tail")
	if c.Method() == fiber.MethodPost {
		tail = c.FormValue("phone_tail")
	}
	d.Number, d.Status, d.TailSent = st.WaybillNo, &st, tail != ""
	return s.renderTrack(c, fiber.StatusOK, d)
}

// linkPage is a parcel's private link: the detail without the phone tail.
func (s *server) linkPage(c *fiber.Ctx) error {
	d := s.pageData(c)
	st, err := s.linkLookup(c)
	if err != nil {
		return err
	}
	d.Number, d.Status = st.WaybillNo, &st
	d.Redirect, d.CanRedirect = &redirectForm{Form: map[string]string{}, Token: strings.ToUpper(c.Params("token"))}, mayRedirect(st)
	if st.Detail != nil {
		d.Redirect.Phone = st.Detail.Phone
	}
	d.Redirect.Script, _ = s.assets.URL("address.js")
	return s.renderTrack(c, fiber.StatusOK, d)
}

func (s *server) renderTrackError(c *fiber.Ctx, status int, msg string) error {
	d := s.pageData(c)
	d.Error = msg
	return s.renderTrack(c, status, d)
}
