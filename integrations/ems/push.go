package ems

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/changchun-gov/courier/tracking"
)

// PushEnvelope is the body of a trace push (040002, §2.5).
type PushEnvelope struct {
	LogitcsInterface string `json:"logitcsInterface"`
	Method           string `json:"method"`
	MsgType          string `json:"msgType"`
	SenderNo         string `json:"senderNo"`
	SerialNo         string `json:"serialNo"`
	TimeStamp        string `json:"timeStamp"`
	Version          string `json:"version"`
}

// ErrBadPush is a body that is not a trace push this key opens.
var ErrBadPush = errors.New("ems: not a trace push")

// ParsePush opens a trace push: its serial number (to echo) and its trace
// items (one object or a list). A push that does not open still answers
// its serial number when it has one.
func ParsePush(signKey string, body []byte) (serialNo string, items []TraceItem, err error) {
	var p PushEnvelope
	if err := json.Unmarshal(body, &p); err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrBadPush, err)
	}
	if p.SerialNo == "" || p.LogitcsInterface == "" {
		return p.SerialNo, nil, fmt.Errorf("%w: no serialNo or logitcsInterface", ErrBadPush)
	}
	plain, err := Decrypt(signKey, p.LogitcsInterface)
	if err != nil {
		return p.SerialNo, nil, fmt.Errorf("%w: %v", ErrBadPush, err)
	}
	if err := json.Unmarshal(plain, &items); err != nil {
		var one TraceItem
		if err := json.Unmarshal(plain, &one); err != nil {
			return p.SerialNo, nil, fmt.Errorf("%w: %v", ErrBadPush, err)
		}
		items = []TraceItem{one}
	}
	for i, it := range items {
		if it.WaybillNo == "" && it.TraceNo != "" {
			items[i].WaybillNo = it.TraceNo
		}
		if items[i].WaybillNo == "" || it.OpCode == "" || it.OpTime == "" {
			return p.SerialNo, nil, fmt.Errorf("%w: item %d lacks its waybillNo, opCode or opTime", ErrBadPush, i)
		}
		if _, err := ParseTime(it.OpTime); err != nil {
			return p.SerialNo, nil, fmt.Errorf("%w: item %d: %v", ErrBadPush, i, err)
		}
	}
	return p.SerialNo, items, nil
}

// PushReply is the answer to a push: its serial number echoed, 00000 when
// it was stored, S00001 when not (EMS pushes again).
func PushReply(serialNo, senderNo string, stored bool) []byte {
	code := RetOK
	msg := ""
	if !stored {
		code, msg = "S00001", "推送失败"
	}
	b, _ := json.Marshal(map[string]string{"serialNo": serialNo, "code": code, "codeMessage": msg, "senderNo": senderNo})
	return b
}

// PushReceiver answers EMS's trace push: the items are opened with the
// account's key and kept first (Save, each once), then EMS is told 00000
// with its serial number; a push that does not open or is not kept
// answers S00001, and EMS pushes again.
type PushReceiver struct {
	SignKey, SenderNo string
	// Mapping is the mapping now (nil: DefaultMapping): administrators
	// change it while the service runs.
	Mapping func() Mapping
	Save    func(ctx context.Context, nodes []tracking.RouteNode) (int, error)
	Now     func() time.Time
}

// Receive takes one push and returns the HTTP status and body to answer.
func (r *PushReceiver) Receive(ctx context.Context, body []byte) (int, []byte) {
	serial, items, err := ParsePush(r.SignKey, body)
	if err != nil {
		return http.StatusBadRequest, PushReply(serial, r.SenderNo, false)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	kept := make([]tracking.RouteNode, len(items))
	for i, it := range items {
		kept[i] = r.mapping().Node(it, "push", now())
	}
	if _, err := r.Save(ctx, kept); err != nil {
		return http.StatusInternalServerError, PushReply(serial, r.SenderNo, false)
	}
	return http.StatusOK, PushReply(serial, r.SenderNo, true)
}

func (r *PushReceiver) mapping() Mapping {
	if r.Mapping != nil {
		return r.Mapping()
	}
	return DefaultMapping
}
