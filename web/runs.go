package web

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The runs' pages: a site's runs, and a run with its courier booking and
// the booking's history; the origin's staff cancel a run before pickup or
// record a booking made by telephone. Both call the service's use cases,
// as the API does.

type runRow struct {
	RunNo, Route, StatusText, BookingText, Class string
	Slot                                         any
	Parcels                                      int
}

type runsPageData struct {
	Statuses []deskChoice
	Items    []runRow
}

type historyRow struct {
	At                                        any
	StatusText, CarrierText, Ref, Note, Actor string
}

type runPageData struct {
	Run                                    *tracking.RunView
	Route, StatusText, CancelledText, Done string
	Booking                                *tracking.RunBookingStatus
	BookingText, CarrierText               string
	History                                []historyRow
	CanCancel, CanBook, CanAssign          bool
}

// runStatuses are the states a run's list filters by.
var runStatuses = []string{"sealed", "picked_up", "arrived", "closed", "cancelled"}

func (s *server) runsPage(c *fiber.Ctx) error {
	v := s.view(c, "page.runs")
	status := c.Query("status")
	if status != "" && !slices.Contains(runStatuses, status) {
		status = ""
	}
	v.Form["status"] = status
	list, err := s.Runs.Runs(c.UserContext(), actor(c), "", status, 100)
	if err != nil {
		return err
	}
	d := runsPageData{}
	for _, st := range runStatuses {
		d.Statuses = append(d.Statuses, deskChoice{st, v.T("run_status." + st)})
	}
	for _, r := range list {
		row := runRow{RunNo: r.RunNo, Route: strings.Join(s.siteNames(v.Lang, []string{r.FromSite, r.ToSite}), " → "),
			StatusText: v.T("run_status." + r.Status), Slot: r.Slot, Parcels: r.ParcelCount}
		if r.BookingStatus != "" {
			row.BookingText = v.T("booking_status." + r.BookingStatus)
			if r.BookingStatus == tracking.BookingFailed || r.BookingStatus == tracking.BookingCancelManual {
				row.Class = "refused" // a person's turn
			}
		}
		d.Items = append(d.Items, row)
	}
	v.Data = d
	return s.renderPage(c, fiber.StatusOK, "runs", v)
}

func (s *server) runPage(c *fiber.Ctx) error {
	r, err := s.Runs.Run(c.UserContext(), actor(c), c.Params("no"))
	if err != nil {
		return err
	}
	return s.renderRun(c, fiber.StatusOK, r, "", nil)
}

// renderRun shows a run's page, with what was just done or the error of a
// refused form.
func (s *server) renderRun(c *fiber.Ctx, status int, r *tracking.RunView, done string, ferr error) error {
	v := s.view(c, "page.run")
	a := actor(c)
	mayAct := a.Role == shipment.RoleAdmin || (a.Role.HasSite() && a.Site == r.FromSite)
	d := runPageData{Run: r, Route: strings.Join(s.siteNames(v.Lang, []string{r.FromSite, r.ToSite}), " → "),
		StatusText: v.T("run_status." + r.Status), Booking: r.Booking, Done: done,
		CanCancel: mayAct && r.Status == "sealed"}
	if r.CancelledAt != nil {
		d.CancelledText = s.cat.T(v.Lang, "runs.cancelled_note", map[string]any{"at": r.CancelledAt.Format("2006-01-02 15:04"),
			"reason": r.CancelNote})
	}
	if b := r.Booking; b != nil {
		d.BookingText, d.CarrierText = v.T("booking_status."+b.Status), v.T("runs.carrier."+b.Carrier)
		d.CanBook = mayAct && r.Status != "cancelled" && (b.Status == tracking.BookingPending || b.Status == tracking.BookingFailed)
		d.CanAssign = s.Couriers != nil && a.Role == shipment.RoleAdmin && b.Status == tracking.BookingBooked &&
			(r.Status == "sealed" || r.Status == "picked_up")
		for i := len(b.History) - 1; i >= 0; i-- {
			e := b.History[i]
			who := e.Actor
			if who == "" {
				who = v.T("runs.history_service")
			}
			d.History = append(d.History, historyRow{At: e.At, StatusText: v.T("booking_status." + e.Status),
				CarrierText: v.T("runs.carrier." + e.Carrier), Ref: e.CarrierRef, Note: e.Note, Actor: who})
		}
	}
	if ae := apperr.As(ferr); ae != nil {
		field := ae.Field
		switch {
		case strings.HasSuffix(c.Path(), "/assign"):
			field = "username"
		case field == "" && strings.HasSuffix(c.Path(), "/cancel"):
			field = "reason"
		case field == "":
			field = "ref"
		}
		v.Errors[field] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		for _, k := range []string{"reason", "ref", "note", "username"} {
			v.Form[k] = c.FormValue(k)
		}
		status = statusOf[ae.Kind]
	}
	v.Data = d
	return s.renderPage(c, status, "run", v)
}

func (s *server) runCancelForm(c *fiber.Ctx) error {
	a, no := actor(c), c.Params("no")
	r, err := s.Runs.CancelRun(c.UserContext(), a, no, c.FormValue("reason"), shipment.SourceWeb)
	if apperr.As(err) == nil && err != nil {
		return err
	}
	if err == nil {
		return s.renderRun(c, fiber.StatusOK, r, s.text(s.lang(c), "runs.cancelled_ok"), nil)
	}
	return s.rerenderRun(c, no, err)
}

func (s *server) runBookForm(c *fiber.Ctx) error {
	a, no := actor(c), c.Params("no")
	r, err := s.Runs.BookByHand(c.UserContext(), a, no, c.FormValue("ref"), c.FormValue("note"))
	if apperr.As(err) == nil && err != nil {
		return err
	}
	if err == nil {
		return s.renderRun(c, fiber.StatusOK, r, s.text(s.lang(c), "runs.booked_ok"), nil)
	}
	return s.rerenderRun(c, no, err)
}

// rerenderRun shows the run again with a refused form's error beside it.
func (s *server) rerenderRun(c *fiber.Ctx, no string, ferr error) error {
	r, err := s.Runs.Run(c.UserContext(), actor(c), no)
	if err != nil {
		return err
	}
	return s.renderRun(c, fiber.StatusOK, r, "", ferr)
}

func (s *server) runAssignForm(c *fiber.Ctx) error {
	a, no := actor(c), c.Params("no")
	err := s.Couriers.Assign(c.UserContext(), a, no, c.FormValue("username"))
	if apperr.As(err) == nil && err != nil {
		return err
	}
	if err != nil {
		return s.rerenderRun(c, no, err)
	}
	r, err := s.Runs.Run(c.UserContext(), a, no)
	if err != nil {
		return err
	}
	return s.renderRun(c, fiber.StatusOK, r, s.text(s.lang(c), "runs.assigned_ok"), nil)
}
