package shipment

import "testing"

func TestLinkTokens(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok := NewLinkToken()
		if !ValidLinkToken(tok) {
			t.Fatalf("%q is not a valid token", tok)
		}
		if seen[tok] {
			t.Fatalf("%q drawn twice", tok)
		}
		seen[tok] = true
	}
	for _, bad := range []string{"", "ABCDEFGHIJKLMNO", "ABCDEFGHIJKLMNOPQ", "abcdefghijklmnop", "ABCDEFGHIJKLMNO1", "ABCDEFGHIJKLMNO=", "ABCDEFGHIJKLMNO8"} {
		if ValidLinkToken(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
