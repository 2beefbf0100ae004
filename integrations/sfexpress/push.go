package sfexpress

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/changchun-gov/courier/tracking"
)

// PushNode is one route node of SF's route push (RoutePushService, JSON
// mode, §1.11). ID is the node's id, unique: the push is deduplicated on
// it. OrderID finds our parcel (MailNo may be a child or sign-back number).
type PushNode struct {
	ID            string `json:"id"`
	MailNo        string `json:"mailno"`
	OrderID       string `json:"orderid"`
	AcceptTime    string `json:"acceptTime"`
	AcceptAddress string `json:"acceptAddress,omitempty"`
	Remark        string `json:"remark,omitempty"`
	OpCode        string `json:"opCode"`
	ReasonCode    string `json:"reasonCode,omitempty"`
	ReasonName    string `json:"reasonName,omitempty"`
	// Newer pushes may carry the standard status too (unverified).
	FirstStatusCode     string `json:"firstStatusCode,omitempty"`
	SecondaryStatusCode string `json:"secondaryStatusCode,omitempty"`
}

// Push is the pushed body.
type Push struct {
	Body struct {
		WaybillRoute []PushNode `json:"WaybillRoute"`
	} `json:"Body"`
}

// MaxPushNodes is the most nodes SF sends in one push.
const MaxPushNodes = 10

// ErrBadPush is a body that is not a route push.
var ErrBadPush = errors.New("sfexpress: not a route push")

// ParsePush reads a pushed body; every node needs its id, order id and
// time.
func ParsePush(body []byte) ([]PushNode, error) {
	var p Push
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPush, err)
	}
	nodes := p.Body.WaybillRoute
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: no WaybillRoute", ErrBadPush)
	}
	for i, n := range nodes {
		if n.ID == "" || n.OrderID == "" || n.AcceptTime == "" {
			return nil, fmt.Errorf("%w: node %d lacks its id, orderid or acceptTime", ErrBadPush, i)
		}
		if _, err := ParseTime(n.AcceptTime); err != nil {
			return nil, fmt.Errorf("%w: node %d: %v", ErrBadPush, i, err)
		}
	}
	return nodes, nil
}

// The replies to a push: SF pushes again on anything but success.
var (
	PushAccepted = []byte(`{"return_code":"0000","return_msg":"成功"}`)
	PushRefused  = []byte(`{"return_code":"1000","return_msg":"系统异常"}`)
)

// vetoes are remark words that mean a node is no signature, whatever its
// codes say (退件签收 also holds 签收).
var vetoes = []string{"未签收", "拒收", "退件", "退回", "签收失败", "派送失败"}

// StageOf reads a node as couriers.md §1.14 advises: the standard status
// first (firstStatusCode), the opCode only without it, signed never from
// the remark; a remark with a veto word (派送失败, 退回, …) is a failure or a
// return whatever the codes say.
func StageOf(opCode, firstStatus, remark string) tracking.CourierStage {
	vetoed := false
	for _, v := range vetoes {
		if strings.Contains(remark, v) {
			vetoed = true
		}
	}
	var s tracking.CourierStage
	switch firstStatus {
	case "1":
		s = tracking.StageCollected
	case "2":
		s = tracking.StageMoving
	case "3":
		s = tracking.StageOutForDelivery
	case "4":
		s = tracking.StageSigned
	default:
		switch opCode {
		case "50", "54":
			s = tracking.StageCollected
		case "30", "31", "36", "105", "106", "310":
			s = tracking.StageMoving
		case "44", "204":
			s = tracking.StageOutForDelivery
		case "80":
			s = tracking.StageSigned
		case "70":
			s = tracking.StageFailed
		case "631":
			s = tracking.StageReturned
		}
	}
	if vetoed {
		s = tracking.StageFailed
		if strings.Contains(remark, "退回") || strings.Contains(remark, "退件") {
			s = tracking.StageReturned
		}
	}
	return s
}

// Node is a pushed node as the store keeps it.
func (n PushNode) Node(receivedAt time.Time) tracking.RouteNode {
	at, _ := ParseTime(n.AcceptTime) // checked by ParsePush
	return tracking.RouteNode{Carrier: CarrierName, NodeID: n.ID, OrderID: n.OrderID, WaybillNo: n.MailNo, At: at,
		OpCode: n.OpCode, Status: n.FirstStatusCode, Stage: StageOf(n.OpCode, n.FirstStatusCode, n.Remark), Remark: n.Remark,
		Via: "push", ReceivedAt: receivedAt.UTC()}
}
