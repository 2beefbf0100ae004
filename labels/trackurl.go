package labels

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/changchun-gov/courier/shipment"
)

// TrackURL returns the text of a waybill label's QR code: the parcel's
// public tracking address publicURL + "/T/" + waybillNo, with the scheme and
// host upper-cased (both are case-insensitive) and the path segment "T"
// upper-case, so that with an upper-case waybill number the whole text is in
// QR's alphanumeric set (0–9 A–Z space $ % * + - . / :) — a smaller, more
// robust code, and text a Chinese input method cannot turn into candidates.
// The routes must therefore serve /T/<number> as well as /t/<number>.
//
// A base path in publicURL ("https://host/courier") is kept as given, since
// paths are case-sensitive; its lower-case letters then cost a few bytes of
// the code. Example:
//
//	TrackURL("https://zwfw.example.cn/", "CP4821937460215L")
//	// "HTTPS://ZWFW.EXAMPLE.CN/T/CP4821937460215L"
//
// waybillNo must be a valid parcel number (shipment.ValidNumber, kind
// parcel). Errors: CodeWaybillInvalid; a plain error for a publicURL that is
// not an absolute http(s) address without query or fragment.
func TrackURL(publicURL, waybillNo string) (string, error) {
	base, err := normalisePublicURL(publicURL)
	if err != nil {
		return "", err
	}
	if !validParcelNo(waybillNo) {
		return "", waybillError(0, waybillNo)
	}
	return base + "/T/" + waybillNo, nil
}

// normalisePublicURL checks publicURL and returns it with upper-case scheme
// and host and no trailing slash.
func normalisePublicURL(publicURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(publicURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Opaque != "" {
		return "", fmt.Errorf("labels: public URL %q is not an absolute http(s) address without query or fragment", publicURL)
	}
	return strings.ToUpper(u.Scheme) + "://" + strings.ToUpper(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// validParcelNo reports whether s is exactly a valid parcel number.
func validParcelNo(s string) bool {
	k, err := shipment.ValidNumber(s)
	return err == nil && k == shipment.KindParcel
}
