package web

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
)

// legRequest creates or changes a leg.
type legRequest struct {
	FromSite string `json:"from_site"`
	ToSite   string `json:"to_site"`
	Schedule string `json:"schedule"`
	SLAHours int    `json:"sla_hours"`
	Active   *bool  `json:"active,omitempty"`
}

func (r legRequest) leg(id int64) shipment.Leg {
	active := r.Active == nil || *r.Active
	sla := r.SLAHours
	if sla == 0 {
		sla = 24
	}
	return shipment.Leg{ID: id, From: strings.TrimSpace(r.FromSite), To: strings.TrimSpace(r.ToSite),
		Schedule: strings.TrimSpace(r.Schedule), SLAHours: sla, Active: active}
}

func (s *server) listLegs(c *fiber.Ctx) error {
	legs, err := s.Runs.Legs(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": legs})
}

func (s *server) routePath(c *fiber.Ctx) error {
	from, to := c.Query("from"), c.Query("to")
	if from == "" || to == "" {
		return apperr.New(apperr.Invalid, "request.field_required").OnField("from").With("field", "from, to")
	}
	path, err := s.Runs.Path(c.UserContext(), from, to)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"from": from, "to": to, "path": path})
}

func legID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "route.not_found").With("id", c.Params("id"))
	}
	return id, nil
}

func (s *server) createLeg(c *fiber.Ctx) error {
	var r legRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	l, err := s.Settings.SaveLeg(c.UserContext(), actor(c), r.leg(0))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}

func (s *server) updateLeg(c *fiber.Ctx) error {
	id, err := legID(c)
	if err != nil {
		return err
	}
	var r legRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	l, err := s.Settings.SaveLeg(c.UserContext(), actor(c), r.leg(id))
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *server) runLegNow(c *fiber.Ctx) error {
	id, err := legID(c)
	if err != nil {
		return err
	}
	run, err := s.Runs.RunLegNow(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(run)
}

func (s *server) getCalendar(c *fiber.Ctx) error {
	days, err := s.Runs.Calendar(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"days": days, "default": "Monday to Friday count; closed days do not; workdays count even on weekends"})
}

type calendarRequest struct {
	Kind string `json:"kind"`
	Note string `json:"note,omitempty"`
}

func (s *server) setCalendarDay(c *fiber.Ctx) error {
	var r calendarRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	note, err := s.Settings.SetCalendarDay(c.UserContext(), actor(c), c.Params("day"), r.Kind, r.Note)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"day": c.Params("day"), "kind": r.Kind, "note": note})
}

func (s *server) deleteCalendarDay(c *fiber.Ctx) error {
	if err := s.Settings.ClearCalendarDay(c.UserContext(), actor(c), c.Params("day")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) listRuns(c *fiber.Ctx) error {
	limit := 0 // the service's default
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n == 0 {
			return apperr.New(apperr.Invalid, "request.bad_query").OnField("limit").With("field", "limit")
		}
		limit = n
	}
	runs, err := s.Runs.Runs(c.UserContext(), actor(c), c.Query("site"), c.Query("status"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": runs})
}

func (s *server) getRun(c *fiber.Ctx) error {
	r, err := s.Runs.Run(c.UserContext(), actor(c), c.Params("no"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *server) closeRun(c *fiber.Ctx) error {
	r, err := s.Runs.CloseRun(c.UserContext(), actor(c), c.Params("no"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// cancelRunRequest is the body of POST /runs/{no}/cancel.
type cancelRunRequest struct {
	Reason string `json:"reason"`
}

// manualBookingRequest is the body of POST /runs/{no}/booking.
type manualBookingRequest struct {
	Ref  string `json:"ref"`
	Note string `json:"note"`
}

func (s *server) cancelRun(c *fiber.Ctx) error {
	var body cancelRunRequest
	if err := decode(c, &body); err != nil {
		return err
	}
	r, err := s.Runs.CancelRun(c.UserContext(), actor(c), c.Params("no"), body.Reason, shipment.SourceAPI)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *server) bookByHand(c *fiber.Ctx) error {
	var body manualBookingRequest
	if err := decode(c, &body); err != nil {
		return err
	}
	r, err := s.Runs.BookByHand(c.UserContext(), actor(c), c.Params("no"), body.Ref, body.Note)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *server) runManifest(c *fiber.Ctx) error {
	m, err := s.Runs.Manifest(c.UserContext(), actor(c), c.Params("no"))
	if err != nil {
		return err
	}
	if s.Labels == nil {
		return apperr.New(apperr.Unavailable, "service.unavailable")
	}
	var b bytes.Buffer
	flags, err := s.Labels.Manifest(&b, m)
	if err != nil {
		return err
	}
	return sendPDF(c, m.RunNo+"-manifest.pdf", b.Bytes(), flags)
}

func (s *server) runBagLabel(c *fiber.Ctx) error {
	bl, err := s.Runs.BagLabel(c.UserContext(), actor(c), c.Params("no"))
	if err != nil {
		return err
	}
	if s.Labels == nil {
		return apperr.New(apperr.Unavailable, "service.unavailable")
	}
	var b bytes.Buffer
	flags, err := s.Labels.Bag(&b, bl)
	if err != nil {
		return err
	}
	return sendPDF(c, bl.BagNo+".pdf", b.Bytes(), flags)
}

func (s *server) listJobs(c *fiber.Ctx) error {
	j, err := s.Runs.Jobs(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(j)
}

type jobRequest struct {
	Enabled  bool            `json:"enabled"`
	Schedule string          `json:"schedule"`
	Params   json.RawMessage `json:"params,omitempty"`
}

func (s *server) saveJob(c *fiber.Ctx) error {
	var r jobRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	j, err := s.Settings.SaveJob(c.UserContext(), actor(c), c.Params("name"), r.Enabled, r.Schedule, r.Params)
	if err != nil {
		return err
	}
	return c.JSON(j)
}

func (s *server) jobRuns(c *fiber.Ctx) error {
	runs, err := s.Runs.JobRuns(c.UserContext(), c.Params("name"), 50)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": runs})
}

func (s *server) runJobNow(c *fiber.Ctx) error {
	r, err := s.Runs.RunJobNow(c.UserContext(), c.Params("name"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}
