package sfexpress

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The services (serviceCode) this client calls (couriers.md §1.6).
const (
	ServiceCreateOrder = "EXP_RECE_CREATE_ORDER"
	ServiceSearchOrder = "EXP_RECE_SEARCH_ORDER_RESP"
	ServiceUpdateOrder = "EXP_RECE_UPDATE_ORDER"
	ServiceRoutes      = "EXP_RECE_SEARCH_ROUTES"
)

// Contact types of an order's contactInfoList.
const (
	ContactSender    = 1
	ContactRecipient = 2
)

// Contact is a sender or recipient, in full (SF masks on its labels by
// printFlag; we mask only when printing or showing).
type Contact struct {
	Type     int    `json:"contactType"`
	Company  string `json:"company,omitempty"`
	Contact  string `json:"contact,omitempty"`
	Tel      string `json:"tel,omitempty"`
	Mobile   string `json:"mobile,omitempty"`
	Country  string `json:"country,omitempty"`
	Province string `json:"province,omitempty"`
	City     string `json:"city,omitempty"`
	County   string `json:"county,omitempty"`
	Address  string `json:"address,omitempty"`
}

// Cargo is one line of an order's cargoDetails.
type Cargo struct {
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
	Unit  string `json:"unit,omitempty"`
}

// Order is an EXP_RECE_CREATE_ORDER request (§1.7). OrderID is ours and
// unique for ever, also after a cancel: it is the booking's idempotency
// key.
type Order struct {
	Language           string    `json:"language"`
	OrderID            string    `json:"orderId"`
	ExpressTypeID      int       `json:"expressTypeId,omitempty"`
	PayMethod          int       `json:"payMethod,omitempty"`
	MonthlyCard        string    `json:"monthlyCard,omitempty"`
	ParcelQty          int       `json:"parcelQty,omitempty"`
	TotalWeight        float64   `json:"totalWeight,omitempty"`
	CargoDesc          string    `json:"cargoDesc,omitempty"`
	CargoDetails       []Cargo   `json:"cargoDetails"`
	IsDocall           int       `json:"isDocall,omitempty"`
	SendStartTm        string    `json:"sendStartTm,omitempty"`
	IsReturnRouteLabel int       `json:"isReturnRouteLabel"`
	Contacts           []Contact `json:"contactInfoList"`
	// SpecialDeliveryTypeCode "1" with value "1:<the ID card's last 8
	// characters>": the courier checks the recipient's ID at the door.
	SpecialDeliveryTypeCode string `json:"specialDeliveryTypeCode,omitempty"`
	SpecialDeliveryValue    string `json:"specialDeliveryValue,omitempty"`
	Remark                  string `json:"remark,omitempty"`
	CustReferenceNo         string `json:"custReferenceNo,omitempty"`
}

// WaybillInfo is one of an order's waybill numbers.
type WaybillInfo struct {
	Type int    `json:"waybillType"` // 1 parent, 2 child, 3 sign-back
	No   string `json:"waybillNo"`
}

// OrderResult is the msgData of a created or searched order.
type OrderResult struct {
	OrderID      string        `json:"orderId"`
	OriginCode   string        `json:"originCode,omitempty"`
	DestCode     string        `json:"destCode,omitempty"`
	FilterResult int           `json:"filterResult,omitempty"` // 2: can be collected and delivered; 3: cannot
	Remark       string        `json:"remark,omitempty"`
	Waybills     []WaybillInfo `json:"waybillNoInfoList"`
	// RouteLabelInfo is kept raw: one transcription has an array where
	// the clients see an object (§1.7).
	RouteLabelInfo json.RawMessage `json:"routeLabelInfo,omitempty"`
}

// WaybillNo is the order's parent waybill number ("" before one is given).
func (r OrderResult) WaybillNo() string {
	for _, w := range r.Waybills {
		if w.Type == 1 || w.Type == 0 {
			return w.No
		}
	}
	if len(r.Waybills) > 0 {
		return r.Waybills[0].No
	}
	return ""
}

// CreateOrder places an order. Its failures to resolve by asking SF, never
// by ordering again: ErrNoAnswer (SF may have it) and the duplicate order
// 8016 (SF has it) — SearchOrder answers both.
func (c *Client) CreateOrder(ctx context.Context, o Order) (OrderResult, Exchange, error) {
	if o.Language == "" {
		o.Language = "zh-CN"
	}
	if o.MonthlyCard == "" {
		o.MonthlyCard = c.cfg.MonthlyCard
	}
	if o.ExpressTypeID == 0 {
		o.ExpressTypeID = c.cfg.ExpressTypeID
	}
	var r OrderResult
	x, err := c.Call(ctx, ServiceCreateOrder, o, &r)
	return r, x, err
}

// SearchOrder fetches an order by our id (§1.8).
func (c *Client) SearchOrder(ctx context.Context, orderID string) (OrderResult, Exchange, error) {
	var r OrderResult
	x, err := c.Call(ctx, ServiceSearchOrder, map[string]string{"searchType": "1", "orderId": orderID, "language": "zh-CN"}, &r)
	return r, x, err
}

// CancelOrder cancels an order (dealType 2, §1.9). An order cancelled
// before answers 8037 (CodeOf), which a caller may take as done.
func (c *Client) CancelOrder(ctx context.Context, orderID string) (Exchange, error) {
	var r struct {
		ResStatus int `json:"resStatus"`
	}
	x, err := c.Call(ctx, ServiceUpdateOrder, map[string]any{"orderId": orderID, "dealType": 2}, &r)
	if err == nil && r.ResStatus != 2 {
		err = &Error{Code: fmt.Sprintf("resStatus %d", r.ResStatus), Message: "the order was not cancelled"}
	}
	return x, err
}

// Route is one node of a waybill's route (§1.10).
type Route struct {
	AcceptTime          string `json:"acceptTime"`
	AcceptAddress       string `json:"acceptAddress,omitempty"`
	Remark              string `json:"remark,omitempty"`
	OpCode              string `json:"opCode"`
	FirstStatusCode     string `json:"firstStatusCode,omitempty"`
	FirstStatusName     string `json:"firstStatusName,omitempty"`
	SecondaryStatusCode string `json:"secondaryStatusCode,omitempty"`
	SecondaryStatusName string `json:"secondaryStatusName,omitempty"`
}

// RouteResp is one waybill's routes.
type RouteResp struct {
	MailNo string  `json:"mailNo"`
	Routes []Route `json:"routes"`
}

// MaxRouteQuery is the most waybills one route query takes.
const MaxRouteQuery = 10

// Routes queries the routes of up to ten waybills sharing the phone's last
// four digits (checkPhoneNo is one value per request).
func (c *Client) Routes(ctx context.Context, phoneTail string, waybills ...string) ([]RouteResp, Exchange, error) {
	if len(waybills) == 0 || len(waybills) > MaxRouteQuery {
		return nil, Exchange{Service: ServiceRoutes}, fmt.Errorf("sfexpress: a route query takes 1 to %d waybills, not %d", MaxRouteQuery, len(waybills))
	}
	var r struct {
		RouteResps []RouteResp `json:"routeResps"`
	}
	x, err := c.Call(ctx, ServiceRoutes, map[string]any{"language": "0", "trackingType": "1", "trackingNumber": waybills,
		"methodType": "1", "checkPhoneNo": phoneTail}, &r)
	return r.RouteResps, x, err
}

// beijing is the zone of SF's times (no tzdata needed: China keeps no
// summer time).
var beijing = time.FixedZone("CST", 8*3600)

// ParseTime reads SF's "YYYY-MM-DD HH:MM:SS", Beijing time.
func ParseTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateTime, strings.TrimSpace(s), beijing)
	if err != nil {
		return time.Time{}, fmt.Errorf("sfexpress: time %q: %w", s, err)
	}
	return t.UTC(), nil
}
