package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The recipient's choice of express to the door, through the private link:
// a one-time code texted to the phone on file, then the address (province,
// city and district from the national division codes). The API's and the
// link page's forms call the same use cases.

// redirectRequest is the body of POST /api/v1/s/{token}/redirect.
type redirectRequest struct {
	Code    string           `json:"code"`
	Address shipment.Address `json:"address"`
}

func linkToken(c *fiber.Ctx) (string, error) {
	tok := strings.ToUpper(c.Params("token"))
	if !shipment.ValidLinkToken(tok) {
		return "", apperr.New(apperr.NotFound, "link.not_found")
	}
	return tok, nil
}

func (s *server) redirectCodeAPI(c *fiber.Ctx) error {
	tok, err := linkToken(c)
	if err != nil {
		return err
	}
	if err := s.Parcels.SendRedirectCode(c.UserContext(), tok); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"sent": true, "expires_in_s": 600})
}

func (s *server) redirectAPI(c *fiber.Ctx) error {
	tok, err := linkToken(c)
	if err != nil {
		return err
	}
	var body redirectRequest
	if err := decode(c, &body); err != nil {
		return err
	}
	if err := s.Parcels.Redirect(c.UserContext(), tok, body.Code, body.Address); err != nil {
		return err
	}
	return s.linkAPI(c)
}

// redirectForm is the link page's express form.
type redirectForm struct {
	Token  string
	Phone  string // masked, where the code went
	Sent   bool
	Done   bool
	Error  string
	Form   map[string]string
	Script string // the address form's script
}

// linkRedirect is the link page's two steps: the code, then the address.
func (s *server) linkRedirect(c *fiber.Ctx, step string) error {
	d := s.pageData(c)
	tok, err := linkToken(c)
	if err != nil {
		return err
	}
	f := &redirectForm{Form: map[string]string{}}
	for _, k := range []string{"code", "province", "city", "district", "street", "detail", "unit"} {
		f.Form[k] = strings.TrimSpace(c.FormValue(k))
	}
	switch step {
	case "code":
		err = s.Parcels.SendRedirectCode(c.UserContext(), tok)
		f.Sent = err == nil || apperr.CodeOf(err) == "redirect.code_too_soon"
	case "address":
		f.Sent = true
		err = s.Parcels.Redirect(c.UserContext(), tok, f.Form["code"], shipment.Address{Province: f.Form["province"],
			City: f.Form["city"], District: f.Form["district"], Street: f.Form["street"], Detail: f.Form["detail"], Unit: f.Form["unit"]})
		f.Done = err == nil
	}
	if ae := apperr.As(err); ae != nil {
		f.Error = s.cat.T(d.Lang, ae.Code, s.readable(d.Lang, ae.Args))
	} else if err != nil {
		return err
	}
	st, lerr := s.linkLookup(c)
	if lerr != nil {
		return lerr
	}
	d.Number, d.Status, d.Redirect, d.CanRedirect = st.WaybillNo, &st, f, mayRedirect(st)
	f.Token = tok
	if st.Detail != nil {
		f.Phone = st.Detail.Phone
	}
	f.Script, _ = s.assets.URL("address.js")
	return s.renderTrack(c, fiber.StatusOK, d)
}

// mayRedirect: the link page offers express while the certificate has not
// left its last hall (the service decides: shipment.DecideRedirect).
func mayRedirect(st tracking.PublicStatus) bool {
	if st.Express || st.Kind != shipment.KindCertificate {
		return false
	}
	switch st.Status {
	case shipment.Registered, shipment.AwaitingPickup, shipment.InTransit, shipment.Arrived, shipment.Ready:
		return true
	}
	return false
}
