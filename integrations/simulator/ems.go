package simulator

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/changchun-gov/courier/integrations/ems"
)

// The simulator's own refusal codes: EMS publishes only 00000, so these
// are ours (any other code is a refusal to the client).
const (
	EMSBadAuthorization = "B00003" // 授权码错误
	EMSBadEnvelope      = "B00006" // 报文解密失败
	EMSBadOrder         = "B00010" // 订单参数错误
)

// EMS is China Post EMS's open API for one contract customer.
type EMS struct {
	SenderNo, Authorization, SignKey string
	// Delay is how long FaultSlow waits (default 3 s).
	Delay time.Duration
	// Now is the simulator's clock (nil: the system's).
	Now func() time.Time

	faults faults
	mu     sync.Mutex
	orders map[string]*emsOrder // by our logisticsOrderNo
	calls  map[string]int
}

type emsOrder struct {
	order   ems.Order
	waybill string
	trace   []ems.TraceItem
	created time.Time
	played  int // the timeline's steps added
	pushed  int // the items the push endpoint accepted
}

// Fail queues faults, played one per call in order.
func (s *EMS) Fail(f ...Fault) { s.faults.add(f...) }

// Orders counts the orders placed.
func (s *EMS) Orders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

// AddTrace appends a trace item to an order's waybill.
func (s *EMS) AddTrace(orderNo string, it ems.TraceItem) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderNo]
	if o == nil {
		return false
	}
	it.WaybillNo, it.OrderNo = o.waybill, orderNo
	o.trace = append(o.trace, it)
	return true
}

// PushBody is a trace push of items as EMS sends it (040002): the items
// SM4-encrypted under the account's key, with a serial number to echo.
func (s *EMS) PushBody(serialNo string, items []ems.TraceItem) ([]byte, error) {
	plain, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	enc, err := ems.Encrypt(s.SignKey, plain)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ems.PushEnvelope{LogitcsInterface: enc, Method: ems.APITracePush, MsgType: "0",
		SenderNo: s.SenderNo, SerialNo: serialNo, TimeStamp: time.Now().In(beijing).Format(ems.TimeLayout), Version: "v1.0.0"})
}

var beijing = time.FixedZone("CST", 8*3600)

func (s *EMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "a form POST", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	if f.Get("senderNo") != s.SenderNo || f.Get("authorization") != s.Authorization {
		emsAnswer(w, EMSBadAuthorization, "授权码错误", nil)
		return
	}
	biz, err := ems.DecryptRequest(s.SignKey, f.Get("logitcsInterface"))
	if err != nil {
		emsAnswer(w, EMSBadEnvelope, "报文解密失败", nil)
		return
	}
	fault := s.faults.next()
	switch fault {
	case FaultRateLimit:
		emsAnswer(w, "B00429", "访问过于频繁", nil)
		return
	case FaultBadSignature:
		emsAnswer(w, EMSBadEnvelope, "报文解密失败", nil)
		return
	case FaultGarbage:
		_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
		return
	}
	code, msg, body := s.serve(f.Get("apiCode"), biz)
	answer(w, r, fault, s.Delay, emsBody(code, msg, body))
}

func (s *EMS) serve(api string, biz []byte) (code, msg string, body any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders == nil {
		s.orders, s.calls = map[string]*emsOrder{}, map[string]int{}
	}
	s.calls[api]++
	switch api {
	case ems.APICreateOrder:
		var orders []ems.Order
		if err := json.Unmarshal(biz, &orders); err != nil || len(orders) == 0 {
			return EMSBadOrder, "订单参数错误", nil
		}
		var out []ems.OrderResult
		for _, o := range orders {
			if o.LogisticsOrderNo == "" || o.Receiver.Name == "" || o.Receiver.Address == "" {
				return EMSBadOrder, "订单参数错误", nil
			}
			// The same order number answers its waybill again (EMS's own
			// behaviour is unverified: couriers.md §7).
			e := s.orders[o.LogisticsOrderNo]
			if e == nil {
				e = &emsOrder{order: o, waybill: "11" + digits(11), created: s.now()}
				s.orders[o.LogisticsOrderNo] = e
			}
			out = append(out, ems.OrderResult{LogisticsOrderNo: o.LogisticsOrderNo, WaybillNo: e.waybill})
		}
		return ems.RetOK, "成功", out
	case ems.APITrace:
		var q struct {
			WaybillNo string `json:"waybillNo"`
		}
		_ = json.Unmarshal(biz, &q)
		items := []ems.TraceItem{}
		for _, o := range s.orders {
			if o.waybill == q.WaybillNo {
				items = append(items, o.trace...)
			}
		}
		return ems.RetOK, "成功", items
	}
	return "B00404", "未知接口", nil
}

// emsAnswer writes EMS's answer at once.
func emsAnswer(w http.ResponseWriter, code, msg string, body any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(emsBody(code, msg, body))
}

// emsBody is EMS's answer: retBody as a JSON string.
func emsBody(code, msg string, body any) []byte {
	a := map[string]any{"retCode": code, "retMsg": msg, "retDate": time.Now().In(beijing).Format(ems.TimeLayout),
		"serialNo": digits(16)}
	if body != nil {
		b, _ := json.Marshal(body)
		a["retBody"] = string(b)
	}
	out, _ := json.Marshal(a)
	return out
}

func (s *EMS) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
