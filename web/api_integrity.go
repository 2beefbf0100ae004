package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
)

func (s *server) listDigests(c *fiber.Ctx) error {
	d, err := s.Integrity.Digests(c.UserContext(), c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": d})
}

type verifyRequest struct {
	From      string `json:"from"`
	To        string `json:"to"`
	WaybillNo string `json:"waybill_no"`
}

func (s *server) startVerify(c *fiber.Ctx) error {
	var r verifyRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	run, err := s.Integrity.StartVerify(c.UserContext(), actor(c), r.From, r.To, r.WaybillNo)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(run)
}

func (s *server) getVerify(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.New(apperr.NotFound, "verify.not_found").With("id", c.Params("id"))
	}
	run, err := s.Integrity.VerifyRun(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(run)
}
