package shipment

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

// IDType is the type of an applicant's identity document.
type IDType string

// The identity document types.
const (
	// IDResident is the mainland resident identity card (居民身份证), 18
	// characters ending in a GB 11643 check digit.
	IDResident IDType = "resident_id"
	// IDPassport is a passport: Chinese (E or G and 8 digits, or E, a letter
	// and 7 digits) or foreign (5 to 17 letters and digits).
	IDPassport IDType = "passport"
	// IDHKMacauPermit is the Mainland Travel Permit for Hong Kong and Macao
	// Residents (港澳居民来往内地通行证): H or M and 8 or 10 digits.
	IDHKMacauPermit IDType = "hk_macau_permit"
	// IDTaiwanPermit is the Mainland Travel Permit for Taiwan Residents
	// (台湾居民来往大陆通行证): 8 or 10 digits.
	IDTaiwanPermit IDType = "taiwan_permit"
	// IDUSCC is a legal person's unified social credit code (统一社会信用代码,
	// GB 32100), 18 characters ending in a check character.
	IDUSCC IDType = "uscc"
)

// IDTypes lists the identity document types.
var IDTypes = []IDType{IDResident, IDPassport, IDHKMacauPermit, IDTaiwanPermit, IDUSCC}

// Valid reports whether t is a known type.
func (t IDType) Valid() bool {
	for _, k := range IDTypes {
		if t == k {
			return true
		}
	}
	return false
}

// identityNow is the clock for birth-date checks; tests replace it.
var identityNow = time.Now

// chinaTime is China Standard Time (UTC+8, no daylight saving), the zone of
// the dates printed on identity documents.
var chinaTime = time.FixedZone("CST", 8*60*60)

// idFold normalises a typed identifier: full-width forms folded to ASCII,
// white space removed anywhere, ASCII letters upper-cased.
func idFold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = codeFoldWidth(r)
		switch {
		case unicode.IsSpace(r):
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// residentWeights are the GB 11643 weights of the first 17 digits.
var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentCheckMap maps the weighted sum mod 11 to the check character.
const residentCheckMap = "10X98765432"

// residentCheck returns the GB 11643 check character of 17 digits.
func residentCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * residentWeights[i]
	}
	return residentCheckMap[sum%11]
}

// ValidateResidentID checks a resident identity number (GB 11643): 18
// characters, 17 digits and a check digit 0–9 or X (a lower-case x, white
// space and full-width digits are accepted and normalised; ValidateID
// returns the normalised form), whose birth date (characters 7–14, YYYYMMDD)
// is a real date from 1900-01-01 up to today in China.
//
// Errors (apperr.Invalid): "id.resident.format", "id.resident.checksum",
// "id.resident.birthdate".
func ValidateResidentID(s string) error {
	_, err := validateResidentID(s)
	return err
}

func validateResidentID(s string) (string, error) {
	n := idFold(s)
	if len(n) != 18 || !numAllDigits(n[:17]) || !(n[17] >= '0' && n[17] <= '9' || n[17] == 'X') {
		return "", apperr.New(apperr.Invalid, "id.resident.format")
	}
	if residentCheck(n[:17]) != n[17] {
		return "", apperr.New(apperr.Invalid, "id.resident.checksum")
	}
	if !validBirthDate(n[6:14]) {
		return "", apperr.New(apperr.Invalid, "id.resident.birthdate")
	}
	return n, nil
}

// validBirthDate reports whether ymd (8 digits) is a real date from
// 1900-01-01 up to today in China.
func validBirthDate(ymd string) bool {
	atoi := func(s string) int {
		v := 0
		for i := 0; i < len(s); i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v
	}
	y, m, d := atoi(ymd[:4]), atoi(ymd[4:6]), atoi(ymd[6:8])
	if y < 1900 || m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, chinaTime)
	if t.Day() != d || t.Month() != time.Month(m) {
		return false // 31 April, 29 February of a common year …
	}
	ty, tm, td := identityNow().In(chinaTime).Date()
	return !t.After(time.Date(ty, tm, td, 0, 0, 0, 0, chinaTime))
}

// usccAlphabet is the GB 32100 character set: digits and upper-case letters
// without I, O, Z, S and V. A character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100 weights of the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccCheck returns the GB 32100 check character of the first 17 characters,
// which must all be in usccAlphabet.
func usccCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccAlphabet, first17[i]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// ValidateUSCC checks a unified social credit code (统一社会信用代码, GB 32100):
// 18 characters from digits and upper-case letters other than I, O, Z, S and
// V, the last a check character (lower case, white space and full-width
// forms are accepted and normalised; ValidateID returns the normalised form).
//
// Errors (apperr.Invalid): "id.uscc.format", "id.uscc.checksum".
func ValidateUSCC(s string) error {
	_, err := validateUSCC(s)
	return err
}

func validateUSCC(s string) (string, error) {
	n := idFold(s)
	if len(n) != 18 {
		return "", apperr.New(apperr.Invalid, "id.uscc.format")
	}
	for i := 0; i < len(n); i++ {
		if strings.IndexByte(usccAlphabet, n[i]) < 0 {
			return "", apperr.New(apperr.Invalid, "id.uscc.format")
		}
	}
	if usccCheck(n[:17]) != n[17] {
		return "", apperr.New(apperr.Invalid, "id.uscc.checksum")
	}
	return n, nil
}

// ValidateID checks an identity document number of type t and returns it
// normalised (white space removed, full-width forms folded, letters upper
// case).
//
// Errors (apperr.Invalid): "id.type.unknown"; for resident IDs and USCCs
// those of ValidateResidentID and ValidateUSCC; "id.passport.format";
// "id.permit.format" for both kinds of travel permit.
//
// A passport is accepted when it is Chinese (E or G and 8 digits, or E, a
// letter and 7 digits) or foreign (5 to 17 letters and digits); the foreign
// form is the wider, so the Chinese one names what is expected rather than
// narrowing it.
func ValidateID(t IDType, s string) (string, error) {
	switch t {
	case IDResident:
		return validateResidentID(s)
	case IDUSCC:
		return validateUSCC(s)
	case IDPassport:
		n := idFold(s)
		if chinesePassport(n) || foreignPassport(n) {
			return n, nil
		}
		return "", apperr.New(apperr.Invalid, "id.passport.format")
	case IDHKMacauPermit:
		n := idFold(s)
		if len(n) > 0 && (n[0] == 'H' || n[0] == 'M') && (len(n) == 9 || len(n) == 11) && numAllDigits(n[1:]) {
			return n, nil
		}
		return "", apperr.New(apperr.Invalid, "id.permit.format")
	case IDTaiwanPermit:
		n := idFold(s)
		if (len(n) == 8 || len(n) == 10) && numAllDigits(n) {
			return n, nil
		}
		return "", apperr.New(apperr.Invalid, "id.permit.format")
	}
	return "", apperr.New(apperr.Invalid, "id.type.unknown")
}

// chinesePassport reports whether n is E or G and 8 digits, or E, a letter
// and 7 digits.
func chinesePassport(n string) bool {
	if len(n) != 9 {
		return false
	}
	switch {
	case (n[0] == 'E' || n[0] == 'G') && numAllDigits(n[1:]):
		return true
	case n[0] == 'E' && n[1] >= 'A' && n[1] <= 'Z' && numAllDigits(n[2:]):
		return true
	}
	return false
}

// foreignPassport reports whether n is 5 to 17 upper-case letters and digits.
func foreignPassport(n string) bool {
	if len(n) < 5 || len(n) > 17 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if mod3736Value(n[i]) < 0 {
			return false
		}
	}
	return true
}

// IDTail returns the last n characters (runes) of s: all of s when it is not
// longer, "" when n ≤ 0. Use it to store or show a document's tail ("ending
// in 123X") without the full number.
func IDTail(s string, n int) string {
	if n <= 0 {
		return ""
	}
	count := utf8.RuneCountInString(s)
	if count <= n {
		return s
	}
	i := len(s)
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}

// ValidatePhone checks a mainland China mobile number and returns its 11
// digits. Spaces and hyphens are dropped, full-width forms folded, and a
// leading "+86", "0086" or "86" country code removed; what remains must be
// 1, then 3–9, then 9 more digits.
//
// Error (apperr.Invalid): "phone.invalid".
func ValidatePhone(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = codeFoldWidth(r)
		if unicode.IsSpace(r) || r == '-' {
			continue
		}
		b.WriteRune(r)
	}
	n := b.String()
	switch {
	case strings.HasPrefix(n, "+86"):
		n = n[3:]
	case strings.HasPrefix(n, "0086"):
		n = n[4:]
	case len(n) == 13 && strings.HasPrefix(n, "86"):
		n = n[2:]
	}
	if len(n) != 11 || n[0] != '1' || n[1] < '3' || n[1] > '9' || !numAllDigits(n) {
		return "", apperr.New(apperr.Invalid, "phone.invalid")
	}
	return n, nil
}

// MaxNameLen is the longest accepted name, in characters (runes).
const MaxNameLen = 64

// ValidateName checks a person's name and returns it normalised: trimmed,
// inner runs of white space (including the ideographic space) made one
// ASCII space, and look-alike middle dots (•, ・, ‧, ∙, ⋅ and their half-
// and full-width forms) made U+00B7 "·", the separator of minority and
// foreign names on identity cards. Any script is accepted, rare characters
// beyond the Basic Multilingual Plane (𠮷) and private-use characters
// (which some registries use for rare characters) included.
//
// Errors (apperr.Invalid): "name.empty" when nothing is left after trimming;
// "name.invalid" when it is longer than MaxNameLen characters, holds invalid
// UTF-8, a control or format character (including bidirectional overrides
// and zero-width characters) or a line separator, or has no letter at all.
func ValidateName(s string) (string, error) {
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) })
	if s == "" {
		return "", apperr.New(apperr.Invalid, "name.empty")
	}
	if !utf8.ValidString(s) {
		return "", apperr.New(apperr.Invalid, "name.invalid")
	}
	var b strings.Builder
	b.Grow(len(s))
	count, letters := 0, 0
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) && !unicode.IsControl(r) && r != '\u2028' && r != '\u2029' {
			space = true
			continue
		}
		switch {
		case r == utf8.RuneError,
			unicode.IsControl(r), unicode.Is(unicode.Cf, r),
			unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r),
			unicode.Is(unicode.Cs, r), unicode.Is(unicode.Noncharacter_Code_Point, r):
			return "", apperr.New(apperr.Invalid, "name.invalid")
		case r == '•' || r == '・' || r == '･' || r == '‧' || r == '∙' || r == '⋅' || r == '．':
			r = '·'
		}
		if unicode.IsLetter(r) || unicode.Is(unicode.Co, r) {
			letters++
		}
		if space {
			b.WriteByte(' ')
			count++
			space = false
		}
		b.WriteRune(r)
		count++
	}
	if count > MaxNameLen || letters == 0 {
		return "", apperr.New(apperr.Invalid, "name.invalid")
	}
	return b.String(), nil
}
