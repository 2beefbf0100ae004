package shipment

import (
	"crypto/rand"
	"encoding/base32"
)

// LinkTokenLen is the length of a private link's token: 80 random bits in
// base32 (RFC 4648 alphabet, upper case, no padding), short enough for an
// SMS and far beyond online guessing.
const LinkTokenLen = 16

var linkEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewLinkToken draws the token of a parcel's private link (/s/{token}),
// which opens the public detail without the phone tail.
func NewLinkToken() string {
	var b [LinkTokenLen * 5 / 8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("shipment: no randomness: " + err.Error())
	}
	return linkEncoding.EncodeToString(b[:])
}

// ValidLinkToken reports whether s has a link token's form (checked before
// any database call).
func ValidLinkToken(s string) bool {
	if len(s) != LinkTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}
