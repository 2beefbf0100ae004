package sfexpress

import "testing"

// The published test vector of the SF developer doc (couriers.md §1.4),
// and the value the recipe gives without its URL-encoding step, which the
// gateway refuses.
func TestDigestMatchesThePublishedVector(t *testing.T) {
	const msgData = `{"language":"zh-CN","orderId":"QIAO-20200618-004"}`
	const timestamp, checkWord = "12312334453453", "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci"
	if got := Digest(msgData, timestamp, checkWord); got != "IIKJtuLVzoFTu4kHI8M8vA==" {
		t.Fatalf("msgDigest %s, want IIKJtuLVzoFTu4kHI8M8vA==", got)
	}
	if got := unencodedDigest(msgData + timestamp + checkWord); got != "OwYXm3XG9fjHK7A+/t7Ckw==" {
		t.Fatalf("the digest without URL encoding is %s, want OwYXm3XG9fjHK7A+/t7Ckw==", got)
	}
	e := Envelope{MsgData: msgData, Timestamp: timestamp, MsgDigest: "IIKJtuLVzoFTu4kHI8M8vA=="}
	if !e.Verify(checkWord) || e.Verify("another-check-word") {
		t.Fatal("Verify does not tell the right check word from a wrong one")
	}
}

// Java's URLEncoder leaves '*' and escapes '~', unlike Go's QueryEscape;
// free text (addresses, remarks) holds both.
func TestJavaURLEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a b*c~d+e中": "a+b*c%7Ed%2Be%E4%B8%AD",
		`{"k":"v"}`:  "%7B%22k%22%3A%22v%22%7D",
		"-_.":        "-_.",
	} {
		if got := JavaURLEncode(in); got != want {
			t.Errorf("JavaURLEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
