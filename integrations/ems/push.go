package ems

import (
	"encoding/json"
	"errors"
	"fmt"
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
