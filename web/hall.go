package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/tracking"
)

// The hall's page: the parcels returning to their department that are
// still on the shelf (to pull and bag), and the stocktake (盘点).

type hallPageData struct {
	Returning []tracking.ShelfItem
	OnShelf   int
	// The hall's slots, each with its printable label.
	Site  string
	Slots []string
}

func (s *server) hallPage(c *fiber.Ctx) error {
	v := s.view(c, "page.hall")
	all, returning, err := s.Hall.Shelf(c.UserContext(), actor(c), c.Query("site"))
	if err != nil {
		return err
	}
	d := hallPageData{Returning: returning, OnShelf: len(all)}
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
	return s.renderPage(c, fiber.StatusOK, "hall", v)
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
