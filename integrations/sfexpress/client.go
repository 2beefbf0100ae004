package sfexpress

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/changchun-gov/courier/integrations/wire"
	"github.com/changchun-gov/courier/tracking"
)

// The gateway's answer codes the client acts on (couriers.md §1.5).
const (
	GatewayOK           = "A1000"
	GatewayMissingField = "A1001"
	GatewayExpired      = "A1002"
	GatewayIPRefused    = "A1003"
	GatewayNoPermission = "A1004"
	GatewayRateLimited  = "A1005"
	GatewayBadSignature = "A1006"
	GatewayDuplicateReq = "A1007"
	GatewayUnreachable  = "A1009"
	GatewaySystemError  = "A1099"
)

// The business error codes the client acts on.
const (
	BusinessOK             = "S0000"
	BusinessDuplicateOrder = "8016"
	BusinessOrderNotFound  = "8018"
	BusinessCancelled      = "8037"
)

// Error is an answer that is not a success: the gateway's (A1xxx) or the
// service's (its errorCode).
type Error struct {
	Gateway bool // the gateway refused the call; else the service did
	Code    string
	Message string
}

func (e *Error) Error() string {
	layer := "service"
	if e.Gateway {
		layer = "gateway"
	}
	return fmt.Sprintf("sfexpress: %s answered %s: %s", layer, e.Code, e.Message)
}

// Retry tells whether the same call may be made again later (with a new
// request id): rate limited, the service unreachable, the gateway's own
// error. Everything else needs a change first.
func (e *Error) Retry() bool {
	return e.Gateway && (e.Code == GatewayRateLimited || e.Code == GatewayUnreachable || e.Code == GatewaySystemError)
}

// CodeOf is the SF code of err ("" for none).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrNoAnswer wraps a call that got no readable answer: a time-out, a
// dropped connection, an HTTP error or a body that is not the gateway's.
// Whether SF acted on it is unknown: an order is then looked up by its id
// (SearchOrder), never created again.
var ErrNoAnswer = wire.ErrNoAnswer

// Config is an SF account (secrets from the environment, never the repo).
type Config struct {
	URL       string // e.g. https://sfapi-sbox.sf-express.com/std/service
	PartnerID string // 顾客编码
	CheckWord string // 校验码 (secret)
	// MonthlyCard (月结卡号) and ExpressTypeID (the contract's product) go
	// on every order.
	MonthlyCard   string
	ExpressTypeID int
	HTTP          *http.Client
	Now           func() time.Time
}

// Client calls one SF account's services.
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
	return &Client{cfg: cfg}
}

// Exchange is one call as it went over the wire, for the record: the form
// sent without its digest (the check word never appears in it), the
// answer's bytes, the HTTP status, when and how long.
type Exchange struct {
	Service   string
	RequestID string
	Request   []byte
	Response  []byte
	Status    int
	Started   time.Time
	Took      time.Duration
}

// Call sends payload (compact JSON, signed as sent) to a service and
// decodes the service's msgData into out (nil: ignored). The exchange is
// returned whatever happened.
func (c *Client) Call(ctx context.Context, service string, payload, out any) (Exchange, error) {
	msgData, err := json.Marshal(payload)
	if err != nil {
		return Exchange{Service: service}, fmt.Errorf("sfexpress: encode %s: %w", service, err)
	}
	now := c.cfg.Now()
	env := Envelope{PartnerID: c.cfg.PartnerID, RequestID: newRequestID(), ServiceCode: service,
		Timestamp: strconv.FormatInt(now.UnixMilli(), 10), MsgData: string(msgData)}
	env.MsgDigest = Digest(env.MsgData, env.Timestamp, c.cfg.CheckWord)
	form := env.Form()
	x := Exchange{Service: service, RequestID: env.RequestID, Started: now.UTC()}
	recorded := env.Form()
	recorded.Del(FieldMsgDigest)
	x.Request = []byte(recorded.Encode())

	x.Status, x.Response, x.Took, err = wire.PostForm(ctx, c.cfg.HTTP, c.cfg.URL, form)
	if err != nil {
		return x, fmt.Errorf("sfexpress: %s: %w", service, err)
	}
	return x, decode(x.Response, out)
}

// Gateway is the gateway's outer answer.
type Gateway struct {
	ResultCode string `json:"apiResultCode"`
	ErrorMsg   string `json:"apiErrorMsg"`
	ResponseID string `json:"apiResponseID"`
	// ResultData is the service's answer as a JSON string (Result).
	ResultData string `json:"apiResultData"`
}

// Result is the service's answer inside apiResultData.
type Result struct {
	Success   bool            `json:"success"`
	ErrorCode string          `json:"errorCode"`
	ErrorMsg  *string         `json:"errorMsg"`
	MsgData   json.RawMessage `json:"msgData"`
	// ErrorMessage: cloud printing's name for errorMsg.
	ErrorMessage *string `json:"errorMessage,omitempty"`
}

// decode reads the two layers (couriers.md §1.5): the gateway's code,
// then the JSON string inside with the service's success and code.
func decode(body []byte, out any) error {
	var g Gateway
	if err := json.Unmarshal(body, &g); err != nil {
		return fmt.Errorf("%w: the answer is not the gateway's JSON: %v", ErrNoAnswer, err)
	}
	if g.ResultCode != GatewayOK {
		return &Error{Gateway: true, Code: g.ResultCode, Message: g.ErrorMsg}
	}
	var r Result
	if err := json.Unmarshal([]byte(g.ResultData), &r); err != nil {
		return fmt.Errorf("%w: apiResultData is not the service's JSON: %v", ErrNoAnswer, err)
	}
	if !r.Success {
		msg := ""
		if r.ErrorMsg != nil {
			msg = *r.ErrorMsg
		} else if r.ErrorMessage != nil {
			msg = *r.ErrorMessage
		}
		return &Error{Code: r.ErrorCode, Message: msg}
	}
	if out == nil || len(r.MsgData) == 0 || bytes.Equal(r.MsgData, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(r.MsgData, out); err != nil {
		return fmt.Errorf("sfexpress: the service's msgData: %w", err)
	}
	return nil
}

// newRequestID is a fresh UUID (version 4) for each call: a repeated one
// is the gateway's A1007.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Record is the exchange as the courier's records keep it, with the
// outcome its error tells ("ok", SF's code, or "no_answer").
func (x Exchange) Record(orderID string, runID, parcelID int64, err error) tracking.CourierExchange {
	return tracking.CourierExchange{Carrier: CarrierName, Service: x.Service, OrderID: orderID, RunID: runID, ParcelID: parcelID,
		Started: x.Started, Took: x.Took, Status: x.Status, Response: x.Response, Request: x.Request,
		Outcome: tracking.ExchangeOutcome(err, errors.Is(err, ErrNoAnswer), CodeOf(err))}
}
