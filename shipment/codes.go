package shipment

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

// Code is a number read from scanner text: its kind and the normalised number
// (prefix, 13 digits, check character; 16 characters), or for a shelf slot's
// code (KindSlot) the slot code as encoded (see SlotCode) and the slot.
type Code struct {
	Kind   NumberKind
	Number string
	Slot   string // KindSlot only: the slot it names, as "A-03-2"
}

// MaxCodeInput is the longest scanner text, in bytes, that ParseCode reads;
// longer input is rejected as "code.invalid".
const MaxCodeInput = 512

// ParseCode reads a number from whatever a barcode scanner, a phone camera or
// a person produced:
//
//   - the bare number, in any case, with spaces or hyphens typed between its
//     characters ("cp 1234-5678 …");
//   - the text of a label's QR code, a URL "<base>/t/<number>" or its
//     upper-cased form ".../T/<number>", on any host, with or without a query
//     string or a trailing slash;
//   - text from a Chinese input method, whose full-width letters, digits and
//     punctuation (U+FF01–U+FF5E), ideographic space and 。 are folded to
//     ASCII first;
//   - with a leading AIM symbology identifier ("]Q1", "]C0"), a trailing
//     CR, LF or tab, or other words and punctuation around the number.
//
// The text is folded, upper-cased and split into runs of letters and digits
// (spaces and hyphens between two letters or digits are dropped, joining
// their sides); a candidate is a known prefix followed by 13 digits and one
// more letter or digit, ending where its run ends or where a space or hyphen
// was dropped. The first candidate in reading order whose check character is
// right is the result. Failing that, the first shelf slot code (SlotCode) in
// reading order whose check character is right is the result, of KindSlot.
//
// Errors, all apperr.Invalid:
//   - "code.empty": the text is empty or only white space;
//   - "code.mistyped": something has the shape of a number (a known prefix and
//     the right length, its digits at most twice mistaken for letters) but its
//     check character is wrong — the person should scan or type it again;
//   - "code.invalid": nothing resembles a number, or the text is longer than
//     MaxCodeInput bytes. The error carries the text's length in bytes
//     (argument "length") and nothing else of it.
func ParseCode(raw string) (Code, error) {
	if len(raw) > MaxCodeInput {
		return Code{}, codeInvalid(raw)
	}
	text, blank := codeFold(raw)
	if blank {
		return Code{}, apperr.New(apperr.Invalid, "code.empty")
	}
	text = codeStripAIM(text)

	mistyped := false
	for _, run := range codeRuns(text) {
		s := run.text
		for p := 0; p+NumberLen <= len(s); p++ {
			kind, ok := numberKindOfPrefix(s[p : p+2])
			if !ok {
				continue
			}
			end := p + NumberLen
			if end != len(s) && !run.joined[end] {
				continue // runs on into more letters or digits
			}
			cand := s[p:end]
			body := cand[2 : 2+NumberDigits]
			if numAllDigits(body) {
				if c, _ := mod3736(cand); c == 1 {
					return Code{Kind: kind, Number: cand}, nil
				}
				mistyped = true
			} else if codeLetters(body) <= 2 {
				mistyped = true
			}
		}
	}
	for _, run := range codeRuns(text) {
		c, shaped := slotInRun(run)
		if c.Kind != "" {
			return c, nil
		}
		mistyped = mistyped || shaped
	}
	if mistyped {
		return Code{}, apperr.New(apperr.Invalid, "code.mistyped")
	}
	return Code{}, codeInvalid(raw)
}

// codeInvalid is the "code.invalid" error for raw: it carries only the
// length of the input, never its content.
func codeInvalid(raw string) error {
	return apperr.New(apperr.Invalid, "code.invalid").With("length", len(raw))
}

// codeFoldWidth maps a full-width ASCII variant (U+FF01–U+FF5E) to ASCII and the
// ideographic space and full stops to their ASCII forms; other runes are
// returned unchanged.
func codeFoldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	case r == '。', r == '｡':
		return '.'
	}
	return r
}

// codeFold folds raw for ParseCode to printable ASCII: full-width forms to
// ASCII, letters to upper case, dashes to '-', horizontal white space to ' ',
// line breaks, tabs and every other rune (and invalid UTF-8) to a separator
// ('\n'); zero-width characters are dropped. blank reports whether raw held
// nothing but white space.
func codeFold(raw string) (text string, blank bool) {
	out := make([]byte, 0, len(raw))
	blank = true
	for _, r := range raw {
		r = codeFoldWidth(r)
		switch {
		case r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF:
			continue // zero-width: copied text may carry them anywhere
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			out = append(out, '\n')
			continue
		case unicode.IsSpace(r):
			out = append(out, ' ')
			continue
		}
		blank = false
		switch {
		case r >= 'a' && r <= 'z':
			out = append(out, byte(r-'a'+'A'))
		case r == '-' || (r >= 0x2010 && r <= 0x2015) || r == 0x2212 || r == 0xFE58 || r == 0xFE63:
			out = append(out, '-')
		case r < utf8.RuneSelf && r > ' ' && r != 0x7F:
			out = append(out, byte(r))
		default: // control characters, other scripts, invalid UTF-8
			out = append(out, '\n')
		}
	}
	return string(out), blank
}

// codeStripAIM removes a leading AIM symbology identifier (']', a letter and
// a digit, as "]Q1" or "]C0") that a scanner may put before the data.
func codeStripAIM(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\n') {
		i++
	}
	if len(s)-i >= 3 && s[i] == ']' && s[i+1] >= 'A' && s[i+1] <= 'Z' && s[i+2] >= '0' && s[i+2] <= '9' {
		return s[i+3:]
	}
	return s
}

// codeRun is a run of letters and digits. joined[i] reports that spaces or
// hyphens stood before text[i] and were dropped.
type codeRun struct {
	text   string
	joined []bool
}

// codeRuns splits folded text into runs of [0-9A-Z], dropping spaces and
// hyphens that stand between two letters or digits.
func codeRuns(s string) []codeRun {
	var runs []codeRun
	var cur []byte
	var joined []bool
	flush := func() {
		if len(cur) > 0 {
			runs = append(runs, codeRun{text: string(cur), joined: joined})
		}
		cur, joined = nil, nil
	}
	gap := false // spaces or hyphens seen since the last letter or digit
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case mod3736Value(c) >= 0:
			cur = append(cur, c)
			joined = append(joined, gap && len(cur) > 1)
			gap = false
		case c == ' ' || c == '-':
			gap = true
		default:
			flush()
			gap = false
		}
	}
	flush()
	return runs
}

// codeLetters counts the letters in s.
func codeLetters(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			n++
		}
	}
	return n
}

// Shelf slots (货位).
//
// A hall's slot is named by up to four segments of one to four digits or
// upper-case letters, joined by hyphens: "A-03-2", "B12", "K-1-10-A"
// (SlotPattern). A slot label's QR code holds the slot's code:
//
//	"CS", then for each segment its length (one digit, 1–4) and the segment,
//	then the ISO 7064 MOD 37,36 check character of all that precedes it.
//
// So "A-03-2" is carried as "CS" "1A" "203" "12" and its check character:
// "CS1A20312" + CheckChar("CS1A20312"). The hyphens are carried by the
// segment lengths, not as '-': the code is digits and upper-case letters
// only, like every other number on our labels, so a keyboard-wedge scanner's
// layout or Shift cannot corrupt it, ParseCode (which drops hyphens typed
// between characters) reads it from the same scan field as the other
// numbers, it fits QR alphanumeric mode, and the check character covers the
// slot's structure too ("A0-32" and "A-03-2" differ). A code is 5 to 23
// characters long; it never reads as a 16-character parcel, bag or run
// number, whose body is 13 digits after another prefix.

// SlotPrefix starts the code of a shelf slot.
const SlotPrefix = "CS"

// KindSlot is the kind of a shelf slot's code. It is not a NumberKind that
// NewNumber issues: slots are named by the hall, not drawn at random.
const KindSlot NumberKind = "slot"

// SlotPattern is the form of a slot.
var SlotPattern = regexp.MustCompile(`^[A-Z0-9]{1,4}(-[A-Z0-9]{1,4}){0,3}$`)

// SlotCode returns the code a slot label's QR code holds for slot (see the
// encoding above). Error (apperr.Invalid): "slot.invalid" when slot does not
// match SlotPattern.
func SlotCode(slot string) (string, error) {
	if !SlotPattern.MatchString(slot) {
		return "", apperr.New(apperr.Invalid, "slot.invalid").OnField("slot")
	}
	var b strings.Builder
	b.WriteString(SlotPrefix)
	for _, seg := range strings.Split(slot, "-") {
		b.WriteByte(byte('0' + len(seg)))
		b.WriteString(seg)
	}
	b.WriteByte(CheckChar(b.String()))
	return b.String(), nil
}

// CodeHashDomain is the hash domain of the collection codes of a hall
// (or, for codes made before codes were per hall, of one parcel).
func CodeHashDomain(scope string) string { return "code:" + scope }

// ParseSlot reads a slot from what a person typed or a scanner produced in a
// slot field: the bare slot in any case ("a-03-2", full-width forms and
// dashes folded as ParseCode does), or a slot label's code, read as
// ParseCode reads it. It returns the slot as "A-03-2".
//
// Errors (apperr.Invalid, on the field "slot"): "slot.mistyped" for a slot
// code whose check character is wrong, "slot.invalid" for anything else that
// is not a slot.
func ParseSlot(raw string) (string, error) {
	if len(raw) > MaxCodeInput {
		return "", apperr.New(apperr.Invalid, "slot.invalid").OnField("slot")
	}
	text, _ := codeFold(strings.TrimSpace(raw))
	if SlotPattern.MatchString(text) {
		return text, nil
	}
	c, err := ParseCode(raw)
	switch {
	case err == nil && c.Kind == KindSlot:
		return c.Slot, nil
	case apperr.CodeOf(err) == "code.mistyped" && strings.Contains(text, SlotPrefix):
		return "", apperr.New(apperr.Invalid, "slot.mistyped").OnField("slot")
	}
	return "", apperr.New(apperr.Invalid, "slot.invalid").OnField("slot")
}

// slotInRun finds the first slot code in a run of ParseCode's folded text. A
// candidate starts with SlotPrefix, holds one to four length-prefixed
// segments and a check character, and ends where the run ends or where a
// space or hyphen was dropped. shaped reports a candidate of the right shape
// whose check character is wrong.
func slotInRun(run codeRun) (c Code, shaped bool) {
	s := run.text
	for p := 0; p+len(SlotPrefix) < len(s); p++ {
		if s[p:p+len(SlotPrefix)] != SlotPrefix {
			continue
		}
		var segs []string
		i := p + len(SlotPrefix)
		for len(segs) < 4 && i < len(s) && s[i] >= '1' && s[i] <= '4' {
			n := int(s[i] - '0')
			if i+1+n > len(s) {
				break
			}
			segs = append(segs, s[i+1:i+1+n])
			i += 1 + n
			end := i + 1
			if end > len(s) || (end != len(s) && !run.joined[end]) {
				continue
			}
			if sum, _ := mod3736(s[p:end]); sum == 1 {
				return Code{Kind: KindSlot, Number: s[p:end], Slot: strings.Join(segs, "-")}, false
			}
			shaped = true
		}
	}
	return Code{}, shaped
}
