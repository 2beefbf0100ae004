package ems

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// CarrierName is EMS's name in bookings and the courier's records.
const CarrierName = "ems"

// ErrUnknownOutcome is a booking whose order EMS may or may not have: no
// order query is published (couriers.md §2.3), so a person checks with
// EMS before anything is ordered again.
var ErrUnknownOutcome = errors.New("ems: the order's outcome is unknown: check with EMS before booking again")

// Carrier books a run's bag with EMS: an order whose logisticsOrderNo is
// the run's number. A cancel is a manual step (the cancel API's code is
// unverified), recorded as such by the caller.
type Carrier struct {
	Client *Client
	Site   func(code string) (shipment.Site, bool)
	// Record keeps each call's exchange (nil: none kept).
	Record func(ctx context.Context, x tracking.CourierExchange)
	// Mapping is the mapping now (nil: DefaultMapping).
	Mapping func() Mapping
	Now     func() time.Time
}

var _ tracking.Carrier = (*Carrier)(nil)

// Name is the carrier's name in bookings.
func (*Carrier) Name() string { return CarrierName }

// Book places the run's order and answers its waybill number.
func (c *Carrier) Book(ctx context.Context, b tracking.Booking) (string, error) {
	from, ok := c.Site(b.FromSite)
	if !ok {
		return "", fmt.Errorf("ems: no site %s", b.FromSite)
	}
	to, ok := c.Site(b.ToSite)
	if !ok {
		return "", fmt.Errorf("ems: no site %s", b.ToSite)
	}
	o := Order{LogisticsOrderNo: b.RunNo, Sender: siteParty(from), Receiver: siteParty(to),
		Cargos: []Cargo{{Name: fmt.Sprintf("证照物流袋 %s（%d 件）", b.BagNo, b.Parcels), Quantity: 1}}}
	return c.place(ctx, o, func(x Exchange, err error) { c.record(ctx, b, x, err) })
}

var _ tracking.ExpressCarrier = (*Carrier)(nil)

// BookExpress places an express parcel's order (its waybill number the
// logisticsOrderNo) from its origin to the recipient's door.
func (c *Carrier) BookExpress(ctx context.Context, e tracking.ExpressOrder) (string, error) {
	from, ok := c.Site(e.FromSite)
	if !ok {
		return "", fmt.Errorf("ems: no site %s", e.FromSite)
	}
	a := e.Recipient.Address
	o := Order{LogisticsOrderNo: e.WaybillNo, Sender: siteParty(from), Cargos: []Cargo{{Name: "证照", Quantity: 1}},
		Receiver: Party{Name: e.Recipient.Name, Phone: e.Recipient.Phone, Prov: a.Province, City: a.City, County: a.District,
			Address: a.Street + a.Detail + a.Unit}}
	return c.place(ctx, o, func(x Exchange, err error) {
		if c.Record != nil {
			c.Record(ctx, x.Record(e.WaybillNo, 0, e.ParcelID, err))
		}
	})
}

// place creates an order; a lost answer is final (EMS publishes no order
// lookup: a person checks before anything is ordered again).
func (c *Carrier) place(ctx context.Context, o Order, record func(Exchange, error)) (string, error) {
	res, x, err := c.Client.CreateOrder(ctx, o)
	record(x, err)
	if errors.Is(err, ErrNoAnswer) {
		return "", fmt.Errorf("%w: %w (%v)", tracking.ErrPermanent, ErrUnknownOutcome, err)
	}
	if err != nil {
		return "", err // EMS refused the order: none was made, and trying again is safe
	}
	return res.WaybillNo, nil
}

// Cancel is a manual step: EMS's cancel API is unverified (couriers.md §7).
func (c *Carrier) Cancel(context.Context, tracking.Booking) error { return tracking.ErrManualStep }

// Routes queries the trace of a run's waybill.
func (c *Carrier) Routes(ctx context.Context, b tracking.Booking) ([]tracking.RouteNode, error) {
	if b.Ref == "" {
		return nil, nil
	}
	items, x, err := c.Client.Trace(ctx, b.Ref)
	c.record(ctx, b, x, err)
	if err != nil {
		return nil, err
	}
	m := DefaultMapping
	if c.Mapping != nil {
		m = c.Mapping()
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	out := make([]tracking.RouteNode, 0, len(items))
	for _, it := range items {
		if _, err := ParseTime(it.OpTime); err != nil {
			return nil, err // a time EMS does not define: nothing kept
		}
		if it.WaybillNo == "" {
			it.WaybillNo = b.Ref
		}
		if it.OrderNo == "" {
			it.OrderNo = b.RunNo
		}
		out = append(out, m.Node(it, "query", now()))
	}
	return out, nil
}

func (c *Carrier) record(ctx context.Context, b tracking.Booking, x Exchange, err error) {
	if c.Record != nil {
		c.Record(ctx, x.Record(b.RunNo, b.RunID, 0, err))
	}
}

func siteParty(s shipment.Site) Party {
	return Party{Name: s.NameZH, Phone: s.Phone, Prov: s.Province, City: s.City, County: s.District, Address: s.Street + s.Detail}
}

// Record is the exchange as the courier's records keep it.
func (x Exchange) Record(orderID string, runID, parcelID int64, err error) tracking.CourierExchange {
	return tracking.CourierExchange{Carrier: CarrierName, Service: x.API, OrderID: orderID, RunID: runID, ParcelID: parcelID,
		Started: x.Started, Took: x.Took, Status: x.Status, Response: x.Response, Request: x.Request,
		Outcome: tracking.ExchangeOutcome(err, errors.Is(err, ErrNoAnswer), CodeOf(err))}
}

// Mapping reads EMS's trace items as stages: by opCode first, then by
// words of opName. EMS publishes no code table (only 704 妥投 is seen), so
// an admin may change it; DefaultMapping is what is known.
type Mapping struct {
	Codes map[string]tracking.CourierStage
	Names map[string]tracking.CourierStage // a word of opName
}

// DefaultMapping: 704 妥投 (delivered) is the one code seen in EMS's
// pushes; the names are those of its public trace pages.
var DefaultMapping = Mapping{
	Codes: map[string]tracking.CourierStage{"704": tracking.StageSigned},
	Names: map[string]tracking.CourierStage{"收寄": tracking.StageCollected, "揽收": tracking.StageCollected,
		"运输": tracking.StageMoving, "运送": tracking.StageMoving, "到达": tracking.StageMoving, "离开": tracking.StageMoving,
		"投递": tracking.StageOutForDelivery, "派送": tracking.StageOutForDelivery,
		"未妥投": tracking.StageFailed, "退回": tracking.StageReturned},
}

// Stage reads an item: its code, else the longest word of its name that
// the mapping has (so 未妥投 wins over 投递); signed only by a code.
func (m Mapping) Stage(it TraceItem) tracking.CourierStage {
	if s, ok := m.Codes[it.OpCode]; ok {
		return s
	}
	best, stage := 0, tracking.StageUnknown
	for w, s := range m.Names {
		if len(w) > best && strings.Contains(it.OpName+it.OpDesc, w) && s != tracking.StageSigned {
			best, stage = len(w), s
		}
	}
	return stage
}

// Node is a trace item as the store keeps it.
func (m Mapping) Node(it TraceItem, via string, receivedAt time.Time) tracking.RouteNode {
	at, _ := ParseTime(it.OpTime) // checked by ParsePush (and by the caller of a query)
	return tracking.RouteNode{Carrier: CarrierName, OrderID: it.OrderNo, WaybillNo: it.WaybillNo, At: at, OpCode: it.OpCode,
		Stage: m.Stage(it), Remark: it.OpDesc, Via: via, ReceivedAt: receivedAt.UTC()}
}

// MappingOf is an administrator's mapping as EMS's trace items are read by.
func MappingOf(m tracking.StageMapping) Mapping { return Mapping{Codes: m.Codes, Names: m.Names} }

// Stages is the mapping as administrators keep it.
func (m Mapping) Stages() tracking.StageMapping {
	return tracking.StageMapping{Codes: m.Codes, Names: m.Names}
}
