package ledgercheck

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"slices"
)

// DigestTag opens every daily digest's hash input.
const DigestTag = "courier.digest.v1"

// Digest is the digest of one day (YYYY-MM-DD, Beijing time):
//
//	SHA-256("courier.digest.v1" ‖ day ‖ previous digest ‖ heads…)
//
// where the previous digest is the 32 bytes of the day before's digest
// (nothing for the first digest) and the heads are the day's heads — the
// hash of each parcel's newest event whose server_time falls in the day —
// sorted bytewise. heads is sorted in place.
func Digest(day string, prev []byte, heads [][]byte) []byte {
	slices.SortFunc(heads, bytes.Compare)
	h := sha256.New()
	h.Write([]byte(DigestTag))
	h.Write([]byte(day))
	h.Write(prev)
	for _, x := range heads {
		h.Write(x)
	}
	return h.Sum(nil)
}

// SignDigest signs a digest with an Ed25519 key.
func SignDigest(key ed25519.PrivateKey, digest []byte) []byte { return ed25519.Sign(key, digest) }

// VerifyDigestSignature checks a digest's signature.
func VerifyDigestSignature(pub ed25519.PublicKey, digest, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, digest, sig)
}
