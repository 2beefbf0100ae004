package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestEncryptRoundTripAndBinding(t *testing.T) {
	t.Parallel()
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	ct := k.Encrypt([]byte("220102199003071234"), []byte("parcel:1"))
	if bytes.Contains(ct, []byte("1990")) {
		t.Fatal("ciphertext holds the plaintext")
	}
	pt, err := k.Decrypt(ct, []byte("parcel:1"))
	if err != nil || string(pt) != "220102199003071234" {
		t.Fatalf("round trip: %q %v", pt, err)
	}
	if _, err := k.Decrypt(ct, []byte("parcel:2")); err == nil {
		t.Fatal("ciphertext moved to another parcel still opened")
	}
	ct[len(ct)-1] ^= 1
	if _, err := k.Decrypt(ct, []byte("parcel:1")); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
}

func TestHashIsKeyedAndDomainSeparated(t *testing.T) {
	t.Parallel()
	a, _ := Generate()
	b, _ := Generate()
	if bytes.Equal(a.Hash("resident_id", "x"), b.Hash("resident_id", "x")) {
		t.Fatal("different keys gave the same hash")
	}
	if bytes.Equal(a.Hash("resident_id", "x"), a.Hash("passport", "x")) {
		t.Fatal("domains not separated")
	}
	if !bytes.Equal(a.Hash("d", "x"), a.Hash("d", "x")) {
		t.Fatal("hash not deterministic")
	}
}

func TestLoadOrCreateIsStable(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "sub", "secrets.json")
	k1, created, err := LoadOrCreate(p)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	k2, created, err := LoadOrCreate(p)
	if err != nil || created {
		t.Fatalf("load: %v %v", created, err)
	}
	if !bytes.Equal(k1.IDHash, k2.IDHash) || !bytes.Equal(k1.Data, k2.Data) {
		t.Fatal("keys changed between starts")
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	if _, err := ParseKey("abc"); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := ParseKey("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"); err != nil {
		t.Fatal(err)
	}
	if _, err := New(make([]byte, 32), make([]byte, 32)); err == nil {
		t.Fatal("equal keys accepted")
	}
}

func TestCheckValuesTellKeysApartWithoutRevealingThem(t *testing.T) {
	a, _ := Generate()
	b, _ := Generate()
	ai, ad := a.Check()
	ai2, ad2 := a.Check()
	bi, bd := b.Check()
	if !bytes.Equal(ai, ai2) || !bytes.Equal(ad, ad2) {
		t.Fatal("check values are not stable")
	}
	if bytes.Equal(ai, bi) || bytes.Equal(ad, bd) || bytes.Equal(ai, ad) {
		t.Fatal("check values do not tell keys apart")
	}
	if bytes.Contains(ai, a.IDHash) || bytes.Contains(ad, a.Data) {
		t.Fatal("a check value holds its key")
	}
}

func TestPasswordsAreKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db-passwords.json")
	a, err := LoadOrCreatePasswords(path, "app", "svc")
	if err != nil || len(a["app"]) < 32 || a["app"] == a["svc"] {
		t.Fatalf("%v %v", a, err)
	}
	b, err := LoadOrCreatePasswords(path, "app", "svc", "owner")
	if err != nil || b["app"] != a["app"] || b["svc"] != a["svc"] || b["owner"] == "" {
		t.Fatalf("%v %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}
