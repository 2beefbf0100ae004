package web

import (
	"bytes"
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

// Slots keeps each hall's shelf slots (货位) and its slot setting.
type Slots interface {
	HallSlots(ctx context.Context, a shipment.Actor, site string) (shipment.HallSlots, error)
	SetHallSlots(ctx context.Context, a shipment.Actor, site string, in shipment.HallSlots) (shipment.HallSlots, error)
	SlotLabel(ctx context.Context, a shipment.Actor, site, slot string) (labels.SlotLabel, error)
}

// slotsRequest replaces a hall's slots and its slot setting.
type slotsRequest struct {
	SlotRequired bool     `json:"slot_required"`
	Slots        []string `json:"slots"`
}

func (s *server) slotsReady() error {
	if s.Slots == nil {
		return apperr.New(apperr.Unavailable, "service.unavailable")
	}
	return nil
}

func (s *server) getSlots(c *fiber.Ctx) error {
	if err := s.slotsReady(); err != nil {
		return err
	}
	h, err := s.Slots.HallSlots(c.UserContext(), actor(c), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(h)
}

func (s *server) putSlots(c *fiber.Ctx) error {
	if err := s.slotsReady(); err != nil {
		return err
	}
	var r slotsRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if r.Slots == nil {
		return apperr.New(apperr.Invalid, "request.field_required").OnField("slots").With("field", "slots")
	}
	h, err := s.Slots.SetHallSlots(c.UserContext(), actor(c), c.Params("code"),
		shipment.HallSlots{SlotRequired: r.SlotRequired, Slots: r.Slots})
	if err != nil {
		return err
	}
	return c.JSON(h)
}

// slotLabel prints one slot's shelf tag (60 × 40 mm).
func (s *server) slotLabel(c *fiber.Ctx) error {
	if err := s.slotsReady(); err != nil {
		return err
	}
	if s.Labels == nil {
		return apperr.New(apperr.Unavailable, "service.unavailable")
	}
	l, err := s.Slots.SlotLabel(c.UserContext(), actor(c), c.Params("code"), c.Params("slot"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	flags, err := s.Labels.Slot(&b, l)
	if err != nil {
		return err
	}
	return sendPDF(c, "slot-"+l.Slot+".pdf", b.Bytes(), flags)
}
