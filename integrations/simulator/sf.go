// Package simulator plays the city's couriers on loopback, on their real
// wire protocols (../shared/protocols/couriers.md §5), so that bookings,
// pushes and their failures run with no network: SF Express's open
// platform (SF). It is told to fail by Fail.
package simulator

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/changchun-gov/courier/integrations/sfexpress"
)

// Fault is a failure the simulator plays on the next call it takes.
type Fault string

// The faults.
const (
	// FaultSlow acts on the call, then answers only after Delay (past the
	// client's time-out): did the order get placed?
	FaultSlow Fault = "slow"
	// FaultDrop acts on the call and closes the connection unanswered.
	FaultDrop Fault = "drop"
	// FaultRateLimit refuses the call unread (A1005).
	FaultRateLimit Fault = "rate_limit"
	// FaultBadSignature refuses the call as wrongly signed (A1006).
	FaultBadSignature Fault = "bad_signature"
	// FaultGarbage answers a body that is not the gateway's JSON.
	FaultGarbage Fault = "garbage"
)

// SF is SF Express's open platform (丰桥) for one partner.
type SF struct {
	PartnerID, CheckWord string
	// Services are the services associated with the partner (nil: the
	// four the client calls); any other answers A1004, before the
	// signature is checked, as the gateway does.
	Services []string
	// Delay is how long FaultSlow waits (default 3 s).
	Delay time.Duration
	// Now is the simulator's clock (nil: the system's).
	Now func() time.Time

	faults     faults
	mu         sync.Mutex
	orders     map[string]*sfOrder
	pushFaults []PushFault
	calls      map[string]int
	nodeSeq    int64
}

type sfOrder struct {
	order     sfexpress.Order
	result    sfexpress.OrderResult
	cancelled bool
	routes    []sfexpress.Route
	nodeIDs   []string // each route node's id
	pushed    int      // the nodes the push endpoint accepted
	created   time.Time
	played    int // the timeline's steps added
}

// Fail queues faults, played one per call in order.
func (s *SF) Fail(f ...Fault) { s.faults.add(f...) }

// Calls counts the calls a service took that reached it (signed right).
func (s *SF) Calls(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[service]
}

// Orders counts the orders placed (cancelled ones included).
func (s *SF) Orders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

// AddRoute appends a route node to an order's waybill (the simulator's
// timeline and the tests move parcels by it).
func (s *SF) AddRoute(orderID string, r sfexpress.Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderID]
	if o == nil {
		return fmt.Errorf("simulator: no SF order %s", orderID)
	}
	o.routes = append(o.routes, r)
	o.nodeIDs = append(o.nodeIDs, s.nodeID())
	return nil
}

func (s *SF) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		gatewayError(w, sfexpress.GatewayMissingField, "参数错误")
		return
	}
	env, err := sfexpress.ParseEnvelope(r.PostForm)
	if err != nil {
		gatewayError(w, sfexpress.GatewayMissingField, "必填参数缺失")
		return
	}
	services := s.Services
	if services == nil {
		services = []string{sfexpress.ServiceCreateOrder, sfexpress.ServiceSearchOrder, sfexpress.ServiceUpdateOrder, sfexpress.ServiceRoutes}
	}
	// The permission is checked before the signature (couriers.md §1.2).
	if env.PartnerID != s.PartnerID || !slices.Contains(services, env.ServiceCode) {
		gatewayError(w, sfexpress.GatewayNoPermission, "无权限访问该服务")
		return
	}
	if !env.Verify(s.CheckWord) {
		gatewayError(w, sfexpress.GatewayBadSignature, "数字签名无效")
		return
	}
	fault := s.faults.next()
	switch fault {
	case FaultRateLimit:
		gatewayError(w, sfexpress.GatewayRateLimited, "访问频率超限")
		return
	case FaultBadSignature:
		gatewayError(w, sfexpress.GatewayBadSignature, "数字签名无效")
		return
	case FaultGarbage:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
		return
	}
	answer(w, r, fault, s.Delay, s.serve(env))
}

// serve acts on a signed call and returns its answer.
func (s *SF) serve(env sfexpress.Envelope) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
		s.orders = map[string]*sfOrder{}
	}
	s.calls[env.ServiceCode]++
	switch env.ServiceCode {
	case sfexpress.ServiceCreateOrder:
		var o sfexpress.Order
		if err := json.Unmarshal([]byte(env.MsgData), &o); err != nil || o.OrderID == "" {
			return businessError("1000", "订单参数错误")
		}
		if len(o.Contacts) < 2 {
			return businessError("1010", "寄件方或收件方信息为空")
		}
		if _, dup := s.orders[o.OrderID]; dup {
			return businessError(sfexpress.BusinessDuplicateOrder, "重复下单")
		}
		res := sfexpress.OrderResult{OrderID: o.OrderID, OriginCode: "431", DestCode: "431", FilterResult: 2,
			Waybills: []sfexpress.WaybillInfo{{Type: 1, No: "SF" + digits(13)}}}
		res.RouteLabelInfo, _ = json.Marshal([]map[string]any{{"code": "1000", "routeLabelData": map[string]string{
			"waybillNo": res.Waybills[0].No, "destRouteLabel": "431WA-001", "codingMapping": "S10", "proCode": "T4", "abFlag": "A"}}})
		s.orders[o.OrderID] = &sfOrder{order: o, result: res, created: s.now()}
		return success(res)
	case sfexpress.ServiceSearchOrder:
		var q struct {
			OrderID string `json:"orderId"`
		}
		_ = json.Unmarshal([]byte(env.MsgData), &q)
		o := s.orders[q.OrderID]
		if o == nil {
			return businessError(sfexpress.BusinessOrderNotFound, "订单不存在")
		}
		return success(o.result)
	case sfexpress.ServiceUpdateOrder:
		var q struct {
			OrderID  string `json:"orderId"`
			DealType int    `json:"dealType"`
		}
		_ = json.Unmarshal([]byte(env.MsgData), &q)
		o := s.orders[q.OrderID]
		switch {
		case o == nil:
			return businessError(sfexpress.BusinessOrderNotFound, "订单不存在")
		case q.DealType != 2:
			return businessError("8252", "订单已确认")
		case o.cancelled:
			return businessError(sfexpress.BusinessCancelled, "订单已取消")
		}
		o.cancelled = true
		return success(map[string]any{"orderId": q.OrderID, "waybillNoInfoList": o.result.Waybills, "resStatus": 2})
	case sfexpress.ServiceRoutes:
		var q struct {
			TrackingNumber []string `json:"trackingNumber"`
		}
		_ = json.Unmarshal([]byte(env.MsgData), &q)
		var out []sfexpress.RouteResp
		for _, no := range q.TrackingNumber {
			rr := sfexpress.RouteResp{MailNo: no, Routes: []sfexpress.Route{}}
			for _, o := range s.orders {
				if o.result.WaybillNo() == no {
					rr.Routes = append(rr.Routes, o.routes...)
				}
			}
			out = append(out, rr)
		}
		return success(map[string]any{"routeResps": out})
	}
	return businessError("1000", "未知服务")
}

func gatewayError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	b, _ := json.Marshal(sfexpress.Gateway{ResultCode: code, ErrorMsg: msg, ResponseID: digits(20)})
	_, _ = w.Write(b)
}

// success wraps msgData as the gateway does: the service's answer as a
// JSON string inside the gateway's.
func success(msgData any) []byte {
	md, _ := json.Marshal(msgData)
	inner, _ := json.Marshal(sfexpress.Result{Success: true, ErrorCode: sfexpress.BusinessOK, MsgData: md})
	b, _ := json.Marshal(sfexpress.Gateway{ResultCode: sfexpress.GatewayOK, ResponseID: digits(20), ResultData: string(inner)})
	return b
}

func businessError(code, msg string) []byte {
	inner, _ := json.Marshal(sfexpress.Result{Success: false, ErrorCode: code, ErrorMsg: &msg})
	b, _ := json.Marshal(sfexpress.Gateway{ResultCode: sfexpress.GatewayOK, ResponseID: digits(20), ResultData: string(inner)})
	return b
}

func digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

func (s *SF) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
