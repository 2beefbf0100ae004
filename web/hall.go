package web

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The hall's page: the parcels returning to their department that are
// still on the shelf (to pull and bag), and the stocktake (盘点).

type hallPageData struct {
	Returning []tracking.ShelfItem
	OnShelf   int
	// Recalled is the parcel just recalled; ScanID makes a second submit
	// of a recall form a repeat.
	Recalled, ScanID string
	// The hall's slots, each with its printable label.
	Site  string
	Slots []string
}

func (s *server) hallPage(c *fiber.Ctx) error {
	return s.renderHall(c, fiber.StatusOK, nil)
}

// renderHall shows the hall's page, with the error of a refused recall.
func (s *server) renderHall(c *fiber.Ctx, status int, fail error) error {
	v := s.view(c, "page.hall")
	all, returning, err := s.Hall.Shelf(c.UserContext(), actor(c), c.Query("site"))
	if err != nil {
		return err
	}
	d := hallPageData{Returning: returning, OnShelf: len(all), ScanID: "hall-" + randomToken()}
	if code, err := shipment.ParseCode(c.Query("recalled")); err == nil && code.Kind == shipment.KindParcel {
		d.Recalled = code.Number
	}
	if ae := apperr.As(fail); ae != nil {
		v.Errors[""] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		status = statusOf[ae.Kind]
	}
	if s.Slots != nil {
		site := c.Query("site")
		if site == "" {
			site = actor(c).Site
		}
		if h, err := s.Slots.HallSlots(c.UserContext(), actor(c), site); err == nil {
			d.Site, d.Slots = h.Site, h.Slots
		}
	}
	v.Data = d
	return s.renderPage(c, status, "hall", v)
}

// hallRecall puts a returning parcel still at the hall back on the shelf
// (the core's recall: a fresh collection code, the holder told again).
func (s *server) hallRecall(c *fiber.Ctx) error {
	no := strings.TrimSpace(c.FormValue("waybill_no"))
	_, err := s.Parcels.Scan(c.UserContext(), actor(c), tracking.ScanRequest{Code: no, Action: shipment.ActRecall,
		ScanID: c.FormValue("scan_id"), Source: shipment.SourceWeb, Slot: c.FormValue("slot")})
	if apperr.As(err) != nil {
		return s.renderHall(c, fiber.StatusOK, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/hall?recalled="+url.QueryEscape(no), fiber.StatusSeeOther)
}

type stocktakeRequest struct {
	Site string          `json:"site,omitempty"`
	Seen []tracking.Seen `json:"seen"`
}

// stocktake reconciles what the page saw on the shelves and keeps it.
func (s *server) stocktake(c *fiber.Ctx) error {
	var r stocktakeRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	res, err := s.Hall.Stocktake(c.UserContext(), actor(c), r.Site, r.Seen)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
