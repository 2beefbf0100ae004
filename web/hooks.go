package web

import (
	"crypto/subtle"
	"net"

	"github.com/gofiber/fiber/v2"
)

// Pushes are the couriers' push endpoints, /hooks/{carrier}/{token}: the
// token is the unguessable part of the address the courier is given (SF
// and EMS sign nothing a receiver can check), and an optional allow-list
// of source addresses narrows who may call. Each carrier's receiver keeps
// the push before it answers, and answers as its protocol requires.
type Pushes struct {
	Token     string
	Allow     []*net.IPNet // empty: any address
	Receivers map[string]PushReceiver
}

func (s *server) pushRoutes(app *fiber.App) {
	if s.Pushes == nil || s.Pushes.Token == "" {
		return
	}
	for name := range s.Pushes.Receivers {
		app.Post("/hooks/"+name+"/:token", s.bounded, func(c *fiber.Ctx) error { return s.push(c, name) })
	}
}

// push answers a courier's push. A wrong token is answered 404 (nothing says the endpoint exists), an address outside the
// allow-list 403; neither is read.
func (s *server) push(c *fiber.Ctx, carrier string) error {
	p := s.Pushes
	r := p.Receivers[carrier]
	if subtle.ConstantTimeCompare([]byte(c.Params("token")), []byte(p.Token)) != 1 {
		s.Log.Warn("courier push refused: wrong token", "carrier", carrier)
		return c.Status(fiber.StatusNotFound).Send(nil)
	}
	if len(p.Allow) > 0 {
		ip, ok := net.ParseIP(c.IP()), false
		for _, n := range p.Allow {
			ok = ok || (ip != nil && n.Contains(ip))
		}
		if !ok {
			s.Log.Warn("courier push refused: address not allowed", "carrier", carrier, "addr", c.IP())
			return c.Status(fiber.StatusForbidden).Send(nil)
		}
	}
	status, body := r.Receive(c.UserContext(), c.Body())
	if status != fiber.StatusOK {
		// What the courier sent is not logged: it may hold a recipient's data.
		s.Log.Warn("courier push refused", "carrier", carrier, "status", status, "bytes", len(c.Body()))
	}
	c.Set(fiber.HeaderContentType, "application/json;charset=UTF-8")
	return c.Status(status).Send(body)
}
