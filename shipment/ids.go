package shipment

import (
	"crypto/rand"

	"github.com/changchun-gov/courier/internal/apperr"
)

// NumberKind is the kind of thing a scannable number names. Each kind has a
// reserved two-letter prefix, so one scan field accepts every kind.
type NumberKind string

// The kinds of scannable numbers.
const (
	KindParcel NumberKind = "parcel" // prefix CP
	KindBag    NumberKind = "bag"    // prefix CB
	KindRun    NumberKind = "run"    // prefix CR
)

// Layout of a scannable number: a two-letter prefix, NumberDigits random
// decimal digits and one check character, NumberLen characters in all, drawn
// from digits and upper-case letters only.
const (
	NumberDigits = 13
	NumberLen    = 2 + NumberDigits + 1
)

// numberKinds lists the kinds in prefix-lookup order.
var numberKinds = [...]NumberKind{KindParcel, KindBag, KindRun}

// Prefix returns the kind's two-letter prefix ("CP", "CB", "CR"), or "" for
// an unknown kind.
func (k NumberKind) Prefix() string {
	switch k {
	case KindParcel:
		return "CP"
	case KindBag:
		return "CB"
	case KindRun:
		return "CR"
	}
	return ""
}

// Valid reports whether k is one of the known kinds.
func (k NumberKind) Valid() bool { return k.Prefix() != "" }

// numberKindOfPrefix returns the kind whose prefix is p (two bytes).
func numberKindOfPrefix(p string) (NumberKind, bool) {
	for _, k := range numberKinds {
		if k.Prefix() == p {
			return k, true
		}
	}
	return "", false
}

// mod3736Alphabet is the ISO 7064 MOD 37,36 alphabet: a character's value is
// its index.
const mod3736Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// mod3736Value returns the value of c in the alphabet, or -1.
func mod3736Value(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// mod3736Step is one step of the ISO 7064 hybrid system MOD 37,36.
func mod3736Step(state, v int) int {
	if state == 0 {
		state = 36
	}
	return (state*2%37 + v) % 36
}

// mod3736 returns the ISO 7064 MOD 37,36 running checksum of s (as
// python-stdnum's iso7064.mod_37_36.checksum), and false when s holds a
// character outside the alphabet. A string ending in its check character has
// checksum 1.
func mod3736(s string) (int, bool) {
	state := 18
	for i := 0; i < len(s); i++ {
		v := mod3736Value(s[i])
		if v < 0 {
			return 0, false
		}
		state = mod3736Step(state, v)
	}
	return state, true
}

// CheckChar returns the ISO 7064 MOD 37,36 check character of body, which
// must consist of digits and upper-case letters: appended to body it makes a
// string whose checksum is valid. It returns 0 when body holds any other
// character.
//
// The hybrid system detects every single-character substitution. It misses
// a few adjacent transpositions (2 of the 1,260 ordered pairs of distinct
// characters, in each of 36 running states); NewNumber never issues a number
// exposed to one.
func CheckChar(body string) byte {
	c, ok := mod3736(body)
	if !ok {
		return 0
	}
	if c == 0 {
		c = 36
	}
	return mod3736Alphabet[((1-c*2%37)%36+36)%36]
}

// NewNumber returns a new random number of the given kind: its prefix, 13
// decimal digits from crypto/rand and the check character, for example
// "CP4821937460215L". Numbers have no sequential relation, so one cannot be
// guessed from another; callers still rely on a unique index to reject the
// (about 1 in 10^13) repeat.
//
// Candidates in which swapping two adjacent characters would keep the check
// character valid (about 6 in 100) are drawn again, so every issued number
// detects all single substitutions and all adjacent transpositions.
//
// NewNumber panics if kind is not a known kind: that is a programming error.
func NewNumber(kind NumberKind) string {
	prefix := kind.Prefix()
	if prefix == "" {
		panic("shipment: NewNumber: unknown kind " + string(kind))
	}
	var buf [NumberLen]byte
	copy(buf[:], prefix)
	for {
		numRandomDigits(buf[2 : 2+NumberDigits])
		buf[NumberLen-1] = CheckChar(string(buf[:NumberLen-1]))
		if numTranspositionSafe(string(buf[:])) {
			return string(buf[:])
		}
	}
}

// numRandomDigits fills dst with uniformly random decimal digits.
func numRandomDigits(dst []byte) {
	var pool [32]byte
	n := len(pool) // pool exhausted
	for i := 0; i < len(dst); {
		if n == len(pool) {
			// crypto/rand.Read never fails (it crashes the program instead).
			_, _ = rand.Read(pool[:])
			n = 0
		}
		b := pool[n]
		n++
		if b >= 250 { // reject to keep b%10 uniform
			continue
		}
		dst[i] = '0' + b%10
		i++
	}
}

// numTranspositionSafe reports whether no swap of two adjacent, different
// characters of the valid number s yields another string with a valid check.
func numTranspositionSafe(s string) bool {
	state := 18
	for i := 0; i+1 < len(s); i++ {
		a, b := mod3736Value(s[i]), mod3736Value(s[i+1])
		if a != b && mod3736Step(mod3736Step(state, a), b) == mod3736Step(mod3736Step(state, b), a) {
			return false
		}
		state = mod3736Step(state, a)
	}
	return true
}

// ValidNumber checks that s is exactly a normalised number — a known prefix,
// 13 decimal digits and a correct check character, nothing else — and returns
// its kind. Use ParseCode for text from a scanner or a person.
//
// Errors (apperr.Invalid): "code.mistyped" when s has the shape of a number
// but a wrong check character, "code.invalid" otherwise.
func ValidNumber(s string) (NumberKind, error) {
	if len(s) != NumberLen {
		return "", apperr.New(apperr.Invalid, "code.invalid")
	}
	kind, ok := numberKindOfPrefix(s[:2])
	if !ok || !numAllDigits(s[2:2+NumberDigits]) || mod3736Value(s[NumberLen-1]) < 0 {
		return "", apperr.New(apperr.Invalid, "code.invalid")
	}
	if c, _ := mod3736(s); c != 1 {
		return "", apperr.New(apperr.Invalid, "code.mistyped")
	}
	return kind, nil
}

// numAllDigits reports whether s is non-empty and all ASCII decimal digits.
func numAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
