package sfexpress

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// Carrier books a run's bag with SF: an order whose id is the run's number
// (unique for ever, as SF requires), picked up at the run's origin and
// delivered to its destination. A booking is never placed twice: a call
// with no answer, or one SF answers as a duplicate order, is resolved by
// looking the order up.
type Carrier struct {
	Client *Client
	// Site finds a site's address and telephone.
	Site func(code string) (shipment.Site, bool)
	// Record keeps each call's exchange (nil: none kept).
	Record func(ctx context.Context, x tracking.CourierExchange)
	Now    func() time.Time
}

var _ tracking.Carrier = (*Carrier)(nil)

// CarrierName is SF's name in bookings and the courier's records.
const CarrierName = "sfexpress"

// Name is the carrier's name in bookings.
func (*Carrier) Name() string { return CarrierName }

// Book places the run's order and answers its waybill number.
func (c *Carrier) Book(ctx context.Context, b tracking.Booking) (string, error) {
	from, ok := c.Site(b.FromSite)
	if !ok {
		return "", fmt.Errorf("sfexpress: no site %s", b.FromSite)
	}
	to, ok := c.Site(b.ToSite)
	if !ok {
		return "", fmt.Errorf("sfexpress: no site %s", b.ToSite)
	}
	o := Order{OrderID: b.RunNo, CargoDesc: "证照", ParcelQty: 1, IsDocall: 1, IsReturnRouteLabel: 1,
		CargoDetails:    []Cargo{{Name: fmt.Sprintf("证照物流袋 %s（%d 件）", b.BagNo, b.Parcels), Count: 1, Unit: "袋"}},
		Contacts:        []Contact{siteContact(ContactSender, from), siteContact(ContactRecipient, to)},
		CustReferenceNo: b.BagNo}
	if !b.Slot.IsZero() {
		o.SendStartTm = b.Slot.In(beijing).Format("2006-01-02 15:04:05")
	}
	return c.place(ctx, o, func(x Exchange, err error) { c.record(ctx, b, x, err) })
}

var _ tracking.ExpressCarrier = (*Carrier)(nil)

// BookExpress places an express parcel's order (its waybill number the
// order's id) from its origin to the recipient's door, and answers SF's
// waybill number; a lost or duplicate answer is looked up, as a run's.
func (c *Carrier) BookExpress(ctx context.Context, e tracking.ExpressOrder) (string, error) {
	from, ok := c.Site(e.FromSite)
	if !ok {
		return "", fmt.Errorf("sfexpress: no site %s", e.FromSite)
	}
	a := e.Recipient.Address
	o := Order{OrderID: e.WaybillNo, CargoDesc: "证照", ParcelQty: 1, IsDocall: 1,
		CargoDetails: []Cargo{{Name: "证照", Count: 1, Unit: "件"}}, CustReferenceNo: e.WaybillNo,
		Contacts: []Contact{siteContact(ContactSender, from), {Type: ContactRecipient, Contact: e.Recipient.Name,
			Tel: e.Recipient.Phone, Country: "CN", Province: a.Province, City: a.City, County: a.District,
			Address: a.Street + a.Detail + a.Unit}}}
	return c.place(ctx, o, func(x Exchange, err error) {
		if c.Record != nil {
			c.Record(ctx, x.Record(e.WaybillNo, 0, e.ParcelID, err))
		}
	})
}

// place creates an order once: a call with no answer, or one SF answers as
// a duplicate order, is resolved by looking the order up.
func (c *Carrier) place(ctx context.Context, o Order, record func(Exchange, error)) (string, error) {
	res, x, err := c.Client.CreateOrder(ctx, o)
	record(x, err)
	if err == nil {
		return res.WaybillNo(), nil
	}
	if !errors.Is(err, ErrNoAnswer) && CodeOf(err) != BusinessDuplicateOrder {
		return "", final(err)
	}
	// SF may have the order (no answer) or has it (8016): ask, never order again.
	res, x, serr := c.Client.SearchOrder(ctx, o.OrderID)
	record(x, serr)
	if serr != nil {
		return "", fmt.Errorf("sfexpress: order %s: %w (then its lookup: %v)", o.OrderID, err, serr)
	}
	return res.WaybillNo(), nil
}

// final marks SF's business refusals (an address it does not serve, a
// monthly card it does not know) as answers retrying will not change; the
// gateway's refusals (rate limit, signature, the service unreachable) and
// calls with no answer are tried again.
func final(err error) error {
	var e *Error
	if errors.As(err, &e) && !e.Gateway {
		return fmt.Errorf("%w: %w", tracking.ErrPermanent, err)
	}
	return err
}

// Cancel cancels a run's order; one cancelled before counts as done.
func (c *Carrier) Cancel(ctx context.Context, b tracking.Booking) error {
	x, err := c.Client.CancelOrder(ctx, b.RunNo)
	c.record(ctx, b, x, err)
	if CodeOf(err) == BusinessCancelled {
		return nil
	}
	return err
}

// Routes queries the route of a run's waybill (checked against the last
// four digits of the receiving site's telephone, as SF requires).
func (c *Carrier) Routes(ctx context.Context, b tracking.Booking) ([]tracking.RouteNode, error) {
	if b.Ref == "" {
		return nil, nil
	}
	to, _ := c.Site(b.ToSite)
	res, x, err := c.Client.Routes(ctx, phoneTail(to.Phone), b.Ref)
	c.record(ctx, b, x, err)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	var out []tracking.RouteNode
	for _, rr := range res {
		for _, r := range rr.Routes {
			n, err := r.Node(rr.MailNo, b.RunNo, now())
			if err != nil {
				return nil, err // a time SF does not define: nothing kept
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// Node is a queried route node as the store keeps it (a query's nodes
// carry no node id).
func (r Route) Node(mailNo, orderID string, receivedAt time.Time) (tracking.RouteNode, error) {
	at, err := ParseTime(r.AcceptTime)
	if err != nil {
		return tracking.RouteNode{}, err
	}
	return tracking.RouteNode{Carrier: CarrierName, OrderID: orderID, WaybillNo: mailNo, At: at, OpCode: r.OpCode,
		Status: r.FirstStatusCode, Stage: StageOf(r.OpCode, r.FirstStatusCode, r.Remark), Remark: r.Remark,
		Via: "query", ReceivedAt: receivedAt.UTC()}, nil
}

func phoneTail(phone string) string {
	var d []rune
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			d = append(d, r)
		}
	}
	return string(d[max(0, len(d)-4):])
}

func (c *Carrier) record(ctx context.Context, b tracking.Booking, x Exchange, err error) {
	if c.Record != nil {
		c.Record(ctx, x.Record(b.RunNo, b.RunID, 0, err))
	}
}

func siteContact(kind int, s shipment.Site) Contact {
	return Contact{Type: kind, Company: s.NameZH, Contact: s.NameZH, Tel: s.Phone, Country: "CN",
		Province: s.Province, City: s.City, County: s.District, Address: s.Street + s.Detail}
}
