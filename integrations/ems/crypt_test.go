package ems

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm4"
)

// The national standard's known answer (GB/T 32907-2016): the module's
// SM4 is the standard's.
func TestSM4KnownAnswer(t *testing.T) {
	key, _ := hex.DecodeString("0123456789abcdeffedcba9876543210")
	c, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	c.Encrypt(out, key) // the plaintext is the key's bytes
	if got := hex.EncodeToString(out); got != "681edf34d206965e86b3e94f536e4246" {
		t.Fatalf("SM4 gives %s, want 681edf34d206965e86b3e94f536e4246", got)
	}
}

// The envelope of couriers.md §2.2 (a made-up key: our code's
// self-consistency, recomputed there), opened again.
func TestEnvelope(t *testing.T) {
	const key = "MDEyMzQ1Njc4OUFCQ0RFRg=="
	const biz = `{"waybillNo":"1100000000000","direction":"0"}`
	const want = "|$4|new7GnV/MSrwHYe4m0rxnwDyMYAQmdU4ikio1pMjsIQ5Lcdz2SIHLdVzuASz8aHHo+08GBzeJtvhg1fvjE301WjLPDZ7IUT3RcbPat49UIM="
	got, err := Encrypt(key, []byte(biz))
	if err != nil || got != want {
		t.Fatalf("Encrypt: %s %v\nwant %s", got, err, want)
	}
	plain, err := Decrypt(key, got)
	if err != nil || string(plain) != biz {
		t.Fatalf("Decrypt: %s %v", plain, err)
	}
	if _, err := Decrypt("QUJDREVGR0hJSktMTU5PUA==", got); !errors.Is(err, ErrBadEnvelope) {
		t.Fatalf("another key opens it: %v", err)
	}
	for _, bad := range []string{"", "|$4|", "|$4|not base64!", want[4:]} {
		if _, err := Decrypt(key, bad); !errors.Is(err, ErrBadEnvelope) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := Encrypt("c2hvcnQ=", []byte(biz)); !errors.Is(err, ErrBadKey) {
		t.Fatalf("a short key: %v", err)
	}
}
