package ledgercheck

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"
)

func TestChainNamesTheFirstChangedEvent(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 2, 0, 0, 123456000, time.UTC)
	var evs []Event
	var prev []byte
	for i := int32(1); i <= 4; i++ {
		ev := Event{ParcelID: 7, Seq: i, Action: "note", StatusAfter: "registered", ActorRole: "system",
			Source: "schedule", ServerTime: at.Add(time.Duration(i) * time.Minute), Detail: "{}"}
		ev.Hash = Hash(&ev, prev)
		prev = ev.Hash
		evs = append(evs, ev)
	}
	if _, b := Chain(evs, prev); b != nil {
		t.Fatalf("clean chain: %v", b)
	}
	evs[2].Reason = "edited"
	if _, b := Chain(evs, prev); b == nil || b.Seq != 3 || b.Reason != "hash" {
		t.Fatalf("edited chain: %v", b)
	}
	evs[2].Reason = ""
	// Removing the last event shows at the head.
	if _, b := Chain(evs[:3], prev); b == nil || b.Seq != 3 || b.Reason != "head" {
		t.Fatalf("shortened chain: %v", b)
	}
	// NULL and empty differ.
	a, e := evs[0], evs[0]
	empty := ""
	e.ScanID = &empty
	if bytes.Equal(Hash(&a, nil), Hash(&e, nil)) {
		t.Fatal("NULL and '' hash alike")
	}
}

func TestDigestSortsHeadsAndSigns(t *testing.T) {
	t.Parallel()
	h1, h2 := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	d1 := Digest("2026-11-27", nil, [][]byte{h1[:], h2[:]})
	d2 := Digest("2026-11-27", nil, [][]byte{h2[:], h1[:]})
	if !bytes.Equal(d1, d2) {
		t.Fatal("digest depends on the heads' order")
	}
	if bytes.Equal(d1, Digest("2026-11-28", nil, [][]byte{h1[:], h2[:]})) || bytes.Equal(d1, Digest("2026-11-27", d1, [][]byte{h1[:], h2[:]})) {
		t.Fatal("digest ignores the day or the previous digest")
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	sig := SignDigest(priv, d1)
	if !VerifyDigestSignature(pub, d1, sig) || VerifyDigestSignature(pub, d2[:31], sig) {
		t.Fatal("signature")
	}
}
