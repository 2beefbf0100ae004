// Package sfexpress speaks the SF Express open platform's protocol (丰桥,
// ../shared/protocols/couriers.md §1): the signed form envelope, the
// two-layer answer, orders, routes and the route push.
package sfexpress

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
)

// JavaURLEncode encodes s as Java's URLEncoder.encode(s, "UTF-8") does,
// which the gateway's digest follows: Go's QueryEscape differs on '*'
// (left as is) and '~' (escaped) only.
func JavaURLEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "~", "%7E")
	return strings.ReplaceAll(e, "%2A", "*")
}

// Digest is a request's msgDigest: Base64(MD5(URLEncode(msgData +
// timestamp + checkWord))), over exactly the msgData sent.
func Digest(msgData, timestamp, checkWord string) string {
	sum := md5.Sum([]byte(JavaURLEncode(msgData + timestamp + checkWord)))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// The envelope's form fields.
const (
	FieldPartnerID   = "partnerID"
	FieldRequestID   = "requestID"
	FieldServiceCode = "serviceCode"
	FieldTimestamp   = "timestamp"
	FieldMsgDigest   = "msgDigest"
	FieldMsgData     = "msgData"
)

// Envelope is one request as the gateway receives it (a form POST).
type Envelope struct {
	PartnerID, RequestID, ServiceCode, Timestamp, MsgDigest, MsgData string
}

// Form is the envelope as the request's form.
func (e Envelope) Form() url.Values {
	return url.Values{FieldPartnerID: {e.PartnerID}, FieldRequestID: {e.RequestID}, FieldServiceCode: {e.ServiceCode},
		FieldTimestamp: {e.Timestamp}, FieldMsgDigest: {e.MsgDigest}, FieldMsgData: {e.MsgData}}
}

// ErrMissingField is a form without one of the envelope's fields (the
// gateway's A1001).
var ErrMissingField = errors.New("sfexpress: a required envelope field is missing")

// ParseEnvelope reads a request's form, as the gateway (or our simulator)
// does.
func ParseEnvelope(f url.Values) (Envelope, error) {
	e := Envelope{PartnerID: f.Get(FieldPartnerID), RequestID: f.Get(FieldRequestID), ServiceCode: f.Get(FieldServiceCode),
		Timestamp: f.Get(FieldTimestamp), MsgDigest: f.Get(FieldMsgDigest), MsgData: f.Get(FieldMsgData)}
	if e.PartnerID == "" || e.RequestID == "" || e.ServiceCode == "" || e.Timestamp == "" || e.MsgDigest == "" || e.MsgData == "" {
		return e, ErrMissingField
	}
	return e, nil
}

// Verify reports whether the envelope's digest is the one checkWord makes.
func (e Envelope) Verify(checkWord string) bool {
	return e.MsgDigest == Digest(e.MsgData, e.Timestamp, checkWord)
}
