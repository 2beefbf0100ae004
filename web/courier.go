package web

import (
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// The courier's side: their open bookings (where to collect each bag and
// where to hand it over), taking one of their carrier's, and the recorded
// handover at the destination; an administrator assigns a booking. The
// scanning itself is the scan station's (/scan?action=pickup), with its
// camera and offline queue.

func (s *server) courierBookings(c *fiber.Ctx) error {
	list, err := s.Couriers.Bookings(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": list})
}

// assignRequest is the body of POST /runs/{no}/assign.
type assignRequest struct {
	Username string `json:"username"`
}

func (s *server) takeBooking(c *fiber.Ctx) error {
	if err := s.Couriers.Take(c.UserContext(), actor(c), c.Params("no")); err != nil {
		return err
	}
	return s.getRun(c)
}

func (s *server) assignBooking(c *fiber.Ctx) error {
	var body assignRequest
	if err := decode(c, &body); err != nil {
		return err
	}
	if err := s.Couriers.Assign(c.UserContext(), actor(c), c.Params("no"), body.Username); err != nil {
		return err
	}
	return s.getRun(c)
}

func (s *server) handOver(c *fiber.Ctx) error {
	if err := s.Couriers.HandOver(c.UserContext(), actor(c), c.Params("no")); err != nil {
		return err
	}
	return s.getRun(c)
}

type courierPageData struct {
	Items []courierCard
}

type courierCard struct {
	tracking.CourierBooking
	StatusText, CarrierText string
	CanTake, CanCollect     bool
	CanHandOver             bool
	Express                 bool
	CanDispatch, CanDeliver bool
	Reasons                 []deskChoice
	ScanID                  string
}

func (s *server) courierPage(c *fiber.Ctx) error {
	return s.renderCourier(c, "", nil)
}

// renderCourier shows the courier's bookings, with what was just done or
// why it was refused.
func (s *server) renderCourier(c *fiber.Ctx, done string, ferr error) error {
	v := s.view(c, "page.courier")
	list, err := s.Couriers.Bookings(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	d := courierPageData{}
	for _, b := range list {
		card := courierCard{CourierBooking: b, StatusText: v.T("run_status." + b.RunStatus),
			CarrierText: v.T("runs.carrier." + b.Carrier), CanTake: b.Courier == "", CanCollect: b.Mine && b.RunStatus == "sealed",
			CanHandOver: b.Mine && b.RunStatus == "picked_up" && b.HandedOverAt == nil, ScanID: "courier-" + randomToken()}
		if b.Recipient != nil {
			st := b.ParcelStatus
			card.Express, card.StatusText, card.CanHandOver = true, v.T("status."+string(st)), false
			card.CanCollect = b.Mine && (st == shipment.Registered || st == shipment.AwaitingPickup)
			card.CanDispatch = b.Mine && st == shipment.InTransit
			card.CanDeliver = b.Mine && st == shipment.OutForDelivery
			for _, r := range []string{"recipient_absent", "address_wrong", "refused", "delivery_failed"} {
				card.Reasons = append(card.Reasons, deskChoice{r, v.T("reason." + r)})
			}
		}
		d.Items = append(d.Items, card)
	}
	status := fiber.StatusOK
	if ae := apperr.As(ferr); ae != nil {
		v.Errors[""] = s.cat.T(v.Lang, ae.Code, s.readable(v.Lang, ae.Args))
		status = statusOf[ae.Kind]
	}
	v.Form["done"] = done
	v.Data = d
	return s.renderPage(c, status, "courier", v)
}

func (s *server) courierTake(c *fiber.Ctx) error {
	err := s.Couriers.Take(c.UserContext(), actor(c), c.Params("no"))
	if apperr.As(err) == nil && err != nil {
		return err
	}
	if err != nil {
		return s.renderCourier(c, "", err)
	}
	return s.renderCourier(c, s.text(s.lang(c), "courier.taken_ok"), nil)
}

func (s *server) courierHandOver(c *fiber.Ctx) error {
	err := s.Couriers.HandOver(c.UserContext(), actor(c), c.Params("no"))
	if apperr.As(err) == nil && err != nil {
		return err
	}
	if err != nil {
		return s.renderCourier(c, "", err)
	}
	return s.renderCourier(c, s.text(s.lang(c), "courier.handed_over_ok"), nil)
}

// courierScan takes an express parcel's step from the courier's page: out
// for delivery, delivered with its proof, or a failed attempt; the
// service's scan, as the scan station's.
func (s *server) courierScan(c *fiber.Ctx, action shipment.Action) error {
	req := tracking.ScanRequest{Code: c.Params("waybill"), Action: action, ScanID: c.FormValue("scan_id"),
		Source: shipment.SourceWeb, Reason: c.FormValue("reason")}
	if action == shipment.ActDeliver {
		p := &tracking.DeliveryProof{Code: strings.TrimSpace(c.FormValue("delivery_code")), IDTail: strings.TrimSpace(c.FormValue("id_tail"))}
		photo, err := formFile(c, "photo")
		if err != nil {
			return s.renderCourier(c, "", err)
		}
		p.Photo = photo
		if sig, ok := strings.CutPrefix(c.FormValue("signature"), "data:image/png;base64,"); ok {
			p.Signature, _ = base64.StdEncoding.DecodeString(sig)
		}
		req.Proof = p
	}
	_, err := s.Parcels.Scan(c.UserContext(), actor(c), req)
	if apperr.As(err) == nil && err != nil {
		return err
	}
	if err != nil {
		return s.renderCourier(c, "", err)
	}
	return s.renderCourier(c, s.text(s.lang(c), "courier.done."+string(action)), nil)
}
