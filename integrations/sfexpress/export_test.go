package sfexpress

import (
	"crypto/md5"
	"encoding/base64"
)

// unencodedDigest is the recipe without its URL-encoding step (wrong).
func unencodedDigest(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}
