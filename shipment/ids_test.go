package shipment

import (
	"strconv"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
)

func TestNumberKindPrefix(t *testing.T) {
	want := map[NumberKind]string{KindParcel: "CP", KindBag: "CB", KindRun: "CR", "": "", "box": ""}
	for k, p := range want {
		if got := k.Prefix(); got != p {
			t.Errorf("%q.Prefix() = %q, want %q", k, got, p)
		}
		if k.Valid() != (p != "") {
			t.Errorf("%q.Valid() = %v", k, k.Valid())
		}
	}
}

// refChecksum is python-stdnum's iso7064.mod_37_36.checksum, transcribed
// literally, as an independent reference.
func refChecksum(s string) int {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	m := len(alphabet)
	c := m / 2
	for _, ch := range s {
		cc := c
		if cc == 0 {
			cc = m
		}
		c = (cc*2%(m+1) + strings.IndexRune(alphabet, ch)) % m
	}
	return c
}

func TestCheckCharReference(t *testing.T) {
	// The example of python-stdnum's documentation.
	if got := CheckChar("A12425GABC1234002"); got != 'M' {
		t.Errorf("CheckChar(A12425GABC1234002) = %q, want 'M'", got)
	}
	if c, ok := mod3736("A12425GABC1234002M"); !ok || c != 1 {
		t.Errorf("checksum(A12425GABC1234002M) = %d, %v; want 1", c, ok)
	}
	if got := CheckChar("cp123"); got != 0 {
		t.Errorf("CheckChar with lower case = %q, want 0", got)
	}
	// For many bodies, exactly one character completes a valid string and
	// it is CheckChar's.
	for _, body := range []string{"", "0", "Z", "CP", "CB", "CR", "CP0000000000000", "CR9999999999999", "CB1234567890123"} {
		cc := CheckChar(body)
		for i := 0; i < len(mod3736Alphabet); i++ {
			ch := mod3736Alphabet[i]
			valid := refChecksum(body+string(ch)) == 1
			if valid != (ch == cc) {
				t.Errorf("body %q: char %q valid=%v, CheckChar=%q", body, ch, valid, cc)
			}
		}
	}
}

func TestNewNumberFormat(t *testing.T) {
	for _, k := range []NumberKind{KindParcel, KindBag, KindRun} {
		for range 200 {
			n := NewNumber(k)
			if len(n) != NumberLen || !strings.HasPrefix(n, k.Prefix()) || !numAllDigits(n[2:15]) {
				t.Fatalf("NewNumber(%s) = %q: bad shape", k, n)
			}
			if refChecksum(n) != 1 {
				t.Fatalf("NewNumber(%s) = %q: bad check character", k, n)
			}
			got, err := ValidNumber(n)
			if err != nil || got != k {
				t.Fatalf("ValidNumber(%q) = %q, %v", n, got, err)
			}
		}
	}
}

func TestNewNumberUnknownKindPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewNumber(unknown) did not panic")
		}
	}()
	NewNumber("box")
}

// TestErrorsDetected: every single-character substitution (to any other
// character of the alphabet) and every swap of two adjacent different
// characters of an issued number fails validation. Exhaustive over each of
// many numbers.
func TestErrorsDetected(t *testing.T) {
	for i := range 300 {
		n := NewNumber([]NumberKind{KindParcel, KindBag, KindRun}[i%3])
		b := []byte(n)
		for p := range b {
			orig := b[p]
			for j := 0; j < len(mod3736Alphabet); j++ {
				if c := mod3736Alphabet[j]; c != orig {
					b[p] = c
					if refChecksum(string(b)) == 1 {
						t.Fatalf("%s: substitution at %d by %q undetected", n, p, c)
					}
					if _, err := ValidNumber(string(b)); err == nil {
						t.Fatalf("%s: ValidNumber accepts substitution %s", n, b)
					}
				}
			}
			b[p] = orig
		}
		for p := 0; p+1 < len(b); p++ {
			if b[p] == b[p+1] {
				continue
			}
			b[p], b[p+1] = b[p+1], b[p]
			if refChecksum(string(b)) == 1 {
				t.Fatalf("%s: transposition at %d undetected", n, p)
			}
			if _, err := ValidNumber(string(b)); err == nil {
				t.Fatalf("%s: ValidNumber accepts transposition %s", n, b)
			}
			b[p], b[p+1] = b[p+1], b[p]
		}
	}
}

// TestHybridTranspositionBlindSpots documents why NewNumber redraws some
// numbers: the MOD 37,36 hybrid system misses exactly the swaps of two
// characters whose values differ by one (mod 36), in one running state per
// pair — 72 (state, a, b) cases of 36·36·35. Substitutions are never missed.
func TestHybridTranspositionBlindSpots(t *testing.T) {
	missed := 0
	for s := range 36 {
		for a := range 36 {
			for b := range 36 {
				if mod3736Step(s, a) == mod3736Step(s, b) && a != b {
					t.Fatalf("substitution %d→%d missed in state %d", a, b, s)
				}
				if a != b && mod3736Step(mod3736Step(s, a), b) == mod3736Step(mod3736Step(s, b), a) {
					missed++
					if d := (a - b + 36) % 36; d != 1 && d != 35 {
						t.Errorf("unexpected blind spot: state %d, %d↔%d", s, a, b)
					}
				}
			}
		}
	}
	if missed != 72 {
		t.Errorf("missed transpositions = %d, want 72", missed)
	}
	// Such numbers exist and numTranspositionSafe sees them: find one.
	found := false
	for v := 0; v < 100000 && !found; v++ {
		body := "CP" + strings.Repeat("0", 8) + leftPad(v, 5)
		if !numTranspositionSafe(body + string(CheckChar(body))) {
			found = true
		}
	}
	if !found {
		t.Error("no transposition-unsafe number found; the check is vacuous")
	}
}

func leftPad(v, width int) string {
	s := strconv.Itoa(v)
	return strings.Repeat("0", width-len(s)) + s
}

// TestNewNumberRandom: numbers are unpredictable — all distinct, no
// sequential relation between successive ones, every digit in every position.
func TestNewNumberRandom(t *testing.T) {
	const count = 5000
	seen := make(map[string]bool, count)
	var counts [NumberDigits][10]int
	prev := int64(-1)
	sequential := 0
	var diffs = map[int64]int{}
	for range count {
		n := NewNumber(KindParcel)
		if seen[n] {
			t.Fatalf("repeated number %s", n)
		}
		seen[n] = true
		v, err := strconv.ParseInt(n[2:15], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if prev >= 0 {
			d := v - prev
			diffs[d]++
			if d >= -1000 && d <= 1000 {
				sequential++
			}
		}
		prev = v
		for i := 0; i < NumberDigits; i++ {
			counts[i][n[2+i]-'0']++
		}
	}
	// The chance that two random 13-digit numbers lie within 1000 is 2e-10.
	if sequential > 0 {
		t.Errorf("%d successive numbers within 1000 of each other", sequential)
	}
	for d, c := range diffs {
		if c > 1 {
			t.Errorf("difference %d between successive numbers seen %d times", d, c)
		}
	}
	// Each digit in each position: expected 500, sd about 21; allow ±150.
	for i := range counts {
		for d, c := range counts[i] {
			if c < 350 || c > 650 {
				t.Errorf("position %d digit %d seen %d times of %d", i, d, c, count)
			}
		}
	}
	if NewNumber(KindBag) == NewNumber(KindBag) {
		t.Error("two calls returned the same number")
	}
}

func TestValidNumber(t *testing.T) {
	good := NewNumber(KindRun)
	wrongCheck := good[:15] + string(mod3736Alphabet[(mod3736Value(good[15])+1)%36])
	cases := []struct {
		in   string
		kind NumberKind
		code string
	}{
		{good, KindRun, ""},
		{wrongCheck, "", "code.mistyped"},
		{strings.ToLower(good), "", "code.invalid"},
		{" " + good, "", "code.invalid"},
		{good + "\n", "", "code.invalid"},
		{good[:15], "", "code.invalid"},
		{"CX" + good[2:], "", "code.invalid"},
		{good[:5] + "A" + good[6:], "", "code.invalid"},
		{good[:15] + "*", "", "code.invalid"},
		{"", "", "code.invalid"},
	}
	for _, c := range cases {
		k, err := ValidNumber(c.in)
		if c.code == "" {
			if err != nil || k != c.kind {
				t.Errorf("ValidNumber(%q) = %q, %v; want %q", c.in, k, err, c.kind)
			}
			continue
		}
		if apperr.KindOf(err) != apperr.Invalid || apperr.CodeOf(err) != c.code {
			t.Errorf("ValidNumber(%q) error = %v; want %s", c.in, err, c.code)
		}
	}
}

func TestDocExampleNumber(t *testing.T) {
	const n = "CP4821937460215L" // in NewNumber's documentation
	if k, err := ValidNumber(n); err != nil || k != KindParcel || !numTranspositionSafe(n) {
		t.Fatal(k, err)
	}
}
