package ems

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/changchun-gov/courier/integrations/wire"
)

// The API codes this client calls (§2.3).
const (
	APICreateOrder = "020003"
	APITrace       = "040001"
	APITracePush   = "040002"
)

// RetOK is the answer's success code.
const RetOK = "00000"

// Error is an answer whose retCode is not 00000.
type Error struct {
	Code, Message string
}

func (e *Error) Error() string { return fmt.Sprintf("ems: answered %s: %s", e.Code, e.Message) }

// CodeOf is the EMS code of err ("" for none).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrNoAnswer wraps a call that got no readable answer (a time-out, a
// dropped connection, an HTTP error, a body that is not EMS's): whether
// EMS acted on it is unknown.
var ErrNoAnswer = wire.ErrNoAnswer

// Config is an EMS contract account. Authorization and SignKey are
// secrets. Which credential keys the SM4 envelope depends on the account
// (couriers.md §2.2, unverified): SignKey, or the authorization code when
// the account has no sign key.
type Config struct {
	URL           string // e.g. https://api.ems.com.cn/amp-prod-api/f/amp/api/test
	SenderNo      string // 协议客户号
	Authorization string
	SignKey       string
	// BizProductNo is the contract's product (1 特快专递, …).
	BizProductNo string
	HTTP         *http.Client
	Now          func() time.Time
}

// Client calls one EMS account's APIs.
type Client struct {
	cfg Config
}

// New returns a client of the account; a nil HTTP client is one with a
// 15 s time-out.
func New(cfg Config) *Client {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SignKey == "" {
		cfg.SignKey = cfg.Authorization
	}
	return &Client{cfg: cfg}
}

// beijing is the zone of EMS's times (China keeps no summer time).
var beijing = time.FixedZone("CST", 8*3600)

// TimeLayout is EMS's "yyyy-MM-dd HH:mm:ss", Beijing time.
const TimeLayout = time.DateTime

// Exchange is one call as it went over the wire, for the record: the form
// without the authorization code and with the business JSON in clear (the
// envelope is only its encryption), the answer, when and how long.
type Exchange struct {
	API      string
	Request  []byte
	Response []byte
	Status   int
	Started  time.Time
	Took     time.Duration
}

// Answer is EMS's answer envelope; RetBody is a JSON string or an array.
type Answer struct {
	RetCode  string          `json:"retCode"`
	RetMsg   string          `json:"retMsg"`
	RetBody  json.RawMessage `json:"retBody"`
	RetDate  string          `json:"retDate,omitempty"`
	SerialNo string          `json:"serialNo,omitempty"`
}

// Call sends payload to an API and decodes retBody into out (nil:
// ignored).
func (c *Client) Call(ctx context.Context, api string, payload, out any) (Exchange, error) {
	biz, err := json.Marshal(payload)
	if err != nil {
		return Exchange{API: api}, fmt.Errorf("ems: encode %s: %w", api, err)
	}
	enc, err := Encrypt(c.cfg.SignKey, biz)
	if err != nil {
		return Exchange{API: api}, err
	}
	now := c.cfg.Now()
	form := url.Values{"apiCode": {api}, "senderNo": {c.cfg.SenderNo}, "authorization": {c.cfg.Authorization},
		"msgType": {"0"}, "timeStamp": {now.In(beijing).Format(TimeLayout)}, "version": {"V1.0.0"}, "logitcsInterface": {enc}}
	recorded := url.Values{"apiCode": {api}, "senderNo": {c.cfg.SenderNo}, "timeStamp": form["timeStamp"], "business": {string(biz)}}
	x := Exchange{API: api, Request: []byte(recorded.Encode()), Started: now.UTC()}
	x.Status, x.Response, x.Took, err = wire.PostForm(ctx, c.cfg.HTTP, c.cfg.URL, form)
	if err != nil {
		return x, fmt.Errorf("ems: %s: %w", api, err)
	}
	var a Answer
	if err := json.Unmarshal(x.Response, &a); err != nil || a.RetCode == "" {
		return x, fmt.Errorf("%w: %s: the answer is not EMS's JSON", ErrNoAnswer, api)
	}
	if a.RetCode != RetOK {
		return x, &Error{Code: a.RetCode, Message: a.RetMsg}
	}
	if out == nil {
		return x, nil
	}
	return x, decodeBody(a.RetBody, out)
}

// decodeBody reads retBody: a JSON string holding JSON, or JSON itself.
func decodeBody(raw json.RawMessage, out any) error {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		raw = json.RawMessage(s)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("ems: retBody: %w", err)
	}
	return nil
}

// Party is an order's sender or receiver, in full.
type Party struct {
	Name    string `json:"name"`
	Mobile  string `json:"mobile,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Prov    string `json:"prov"`
	City    string `json:"city"`
	County  string `json:"county"`
	Address string `json:"address"`
}

// Cargo is one line of an order's cargos.
type Cargo struct {
	Name     string `json:"cargoName"`
	Quantity int    `json:"cargoQuantity"`
}

// Order is one order of a 020003 call (§2.4). LogisticsOrderNo is ours,
// the booking's idempotency key.
type Order struct {
	EcommerceUserID   string  `json:"ecommerceUserId"`
	LogisticsOrderNo  string  `json:"logisticsOrderNo"`
	CreatedTime       string  `json:"createdTime"`
	ContentsAttribute int     `json:"contentsAttribute"` // 1 documents
	BizProductNo      string  `json:"bizProductNo"`
	Sender            Party   `json:"sender"`
	Receiver          Party   `json:"receiver"`
	Cargos            []Cargo `json:"cargos"`
}

// OrderResult is what 020003 answers of an order.
type OrderResult struct {
	LogisticsOrderNo string `json:"logisticsOrderNo"`
	WaybillNo        string `json:"waybillNo"`
}

// CreateOrder places one order and returns its waybill number. An
// ErrNoAnswer leaves it unknown whether EMS has it (no order query is
// published: the booking then waits for a person, never orders again).
func (c *Client) CreateOrder(ctx context.Context, o Order) (OrderResult, Exchange, error) {
	if o.CreatedTime == "" {
		o.CreatedTime = c.cfg.Now().In(beijing).Format(TimeLayout)
	}
	if o.BizProductNo == "" {
		o.BizProductNo = c.cfg.BizProductNo
	}
	if o.ContentsAttribute == 0 {
		o.ContentsAttribute = 1
	}
	if o.EcommerceUserID == "" {
		o.EcommerceUserID = c.cfg.SenderNo
	}
	var raw json.RawMessage
	x, err := c.Call(ctx, APICreateOrder, []Order{o}, &raw)
	if err != nil {
		return OrderResult{}, x, err
	}
	// A list of one, or (seen in some answers) the order itself.
	var res []OrderResult
	if json.Unmarshal(raw, &res) != nil {
		var one OrderResult
		if json.Unmarshal(raw, &one) == nil {
			res = []OrderResult{one}
		}
	}
	if len(res) == 0 || res[0].WaybillNo == "" {
		return OrderResult{}, x, &Error{Code: "no_waybill", Message: "the answer holds no waybill number"}
	}
	return res[0], x, nil
}

// TraceItem is one node of a waybill's trace (query and push share it).
type TraceItem struct {
	WaybillNo     string `json:"waybillNo"`
	TraceNo       string `json:"traceNo,omitempty"`
	OrderNo       string `json:"orderNo,omitempty"`
	OpTime        string `json:"opTime"`
	OpCode        string `json:"opCode"`
	OpName        string `json:"opName,omitempty"`
	OpDesc        string `json:"opDesc,omitempty"`
	OpOrgProvName string `json:"opOrgProvName,omitempty"`
	OpOrgCity     string `json:"opOrgCity,omitempty"`
	OpOrgName     string `json:"opOrgName,omitempty"`
	OperatorNo    string `json:"operatorNo,omitempty"`
	OperatorName  string `json:"operatorName,omitempty"`
}

// Trace queries a waybill's trace (040001).
func (c *Client) Trace(ctx context.Context, waybillNo string) ([]TraceItem, Exchange, error) {
	var items []TraceItem
	x, err := c.Call(ctx, APITrace, map[string]string{"waybillNo": waybillNo, "direction": "0"}, &items)
	return items, x, err
}

// ParseTime reads an EMS time (Beijing).
func ParseTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(TimeLayout, strings.TrimSpace(s), beijing)
	if err != nil {
		return time.Time{}, fmt.Errorf("ems: time %q: %w", s, err)
	}
	return t.UTC(), nil
}
