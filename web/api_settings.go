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

// beijing is the zone of the dates an administrator types.
var beijing = time.FixedZone("CST", 8*3600)

func (s *server) saveSite(c *fiber.Ctx) error {
	var e shipment.SiteEdit
	if err := decode(c, &e); err != nil {
		return err
	}
	if s.Settings == nil {
		return apperr.New(apperr.Unavailable, "service.unavailable")
	}
	site, err := s.Settings.SaveSite(c.UserContext(), actor(c), strings.ToUpper(strings.TrimSpace(c.Params("code"))), e)
	if err != nil {
		return err
	}
	return c.JSON(site)
}

// auditTime reads a from/to bound: RFC 3339, or a Beijing date (a date as
// "to" includes that whole day).
func auditTime(v, field string, end bool) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, beijing)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "request.bad_query").OnField(field).With("field", field)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return &d, nil
}

func (s *server) listAudit(c *fiber.Ctx) error {
	f := shipment.AuditFilter{Entity: c.Query("entity"), Cursor: c.Query("cursor")}
	var err error
	if f.From, err = auditTime(c.Query("from"), "from", false); err != nil {
		return err
	}
	if f.To, err = auditTime(c.Query("to"), "to", true); err != nil {
		return err
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return apperr.New(apperr.Invalid, "request.bad_query").OnField("to").With("field", "from, to")
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return apperr.New(apperr.Invalid, "request.bad_query").OnField("limit").With("field", "limit")
		}
		f.Limit = n
	}
	if s.Settings == nil {
		return apperr.New(apperr.Unavailable, "service.unavailable")
	}
	p, err := s.Settings.Audit(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *server) getCourierMapping(c *fiber.Ctx) error {
	m, err := s.Settings.CourierMapping(c.UserContext(), actor(c), c.Params("carrier"))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *server) putCourierMapping(c *fiber.Ctx) error {
	var m tracking.StageMapping
	if err := decode(c, &m); err != nil {
		return err
	}
	m, err := s.Settings.SaveCourierMapping(c.UserContext(), actor(c), c.Params("carrier"), m)
	if err != nil {
		return err
	}
	return c.JSON(m)
}
