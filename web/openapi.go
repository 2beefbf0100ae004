package web

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// OpenAPI is the OpenAPI 3 document describing the whole API.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *server) openapi(c *fiber.Ctx) error {
	c.Type("json", "utf-8")
	return c.Send(OpenAPI)
}
