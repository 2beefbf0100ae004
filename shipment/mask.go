package shipment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

// MaskName masks a person's name for screens and the public page, keeping
// the first and the last character (rune) when it has three or more: "张" →
// "*", "张三" → "张*", "张小三" → "张*三", "欧阳小锋" → "欧**锋" (first, one
// star per hidden character, last; compound surnames get no special case).
// Characters beyond the Basic Multilingual Plane (𠮷) count as one.
// Surrounding white space is trimmed; "" stays "".
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch n := len(r); n {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	default:
		return string(r[0]) + strings.Repeat("*", n-2) + string(r[n-1])
	}
}

// maskAll returns one star per character of s, trimmed.
func maskAll(s string) string {
	return strings.Repeat("*", utf8.RuneCountInString(strings.TrimSpace(s)))
}

// MaskPhoneScreen masks a mainland mobile number for screens and the
// public detail page: the first 3 and last 4 digits stay ("138****1234").
// The number is normalised as by ValidatePhone first; anything that is not
// a valid mobile number is starred whole.
func MaskPhoneScreen(phone string) string {
	n, err := ValidatePhone(phone)
	if err != nil {
		return maskAll(phone)
	}
	return n[:3] + "****" + n[7:]
}

// MaskPhoneLabel masks a mainland mobile number for printed labels and
// manifests: only the first 3 digits stay ("138********"). None of the last
// four is ever shown, because the last four digits open the public detail
// view; eight digits are hidden, more than the six GB/T 41833-2022 asks. The
// number is normalised as by ValidatePhone first; anything that is not a
// valid mobile number is starred whole.
func MaskPhoneLabel(phone string) string {
	n, err := ValidatePhone(phone)
	if err != nil {
		return maskAll(phone)
	}
	return n[:3] + "********"
}

// MaskID masks an identity document number, keeping only its last 4
// characters and starring the rest, length kept: "220102199003071234" →
// "**************1234". Numbers shorter than 8 characters keep only their
// last half (rounded down), so at least as much is hidden as shown.
// Surrounding white space is trimmed; "" stays "".
func MaskID(id string) string {
	r := []rune(strings.TrimSpace(id))
	keep := min(4, len(r)/2)
	return strings.Repeat("*", len(r)-keep) + string(r[len(r)-keep:])
}

// MaxAddressField is the longest accepted address field, in characters.
const MaxAddressField = 100

// Address is an express delivery address. The building unit and room are
// kept apart in Unit because labels never print them. The JSON names are
// also the field names of Validate's errors.
type Address struct {
	Province string `json:"province"`         // 省, required
	City     string `json:"city"`             // 市, required
	District string `json:"district"`         // 区/县, required
	Street   string `json:"street,omitempty"` // 街道/乡镇, optional
	Detail   string `json:"detail"`           // road and house number (道路、门牌号), required
	Unit     string `json:"unit,omitempty"`   // building unit and room (单元、室), optional, never printed on labels
}

// Validate checks that Province, City, District and Detail are present (not
// only white space) and that no field is longer than MaxAddressField
// characters.
//
// Errors (apperr.Invalid), naming the field ("province", "city", "district",
// "street", "detail", "unit"): "address.required"; "address.too_long" with
// argument "max".
func (a Address) Validate() error {
	fields := []struct {
		name     string
		value    string
		required bool
	}{
		{"province", a.Province, true},
		{"city", a.City, true},
		{"district", a.District, true},
		{"street", a.Street, false},
		{"detail", a.Detail, true},
		{"unit", a.Unit, false},
	}
	for _, f := range fields {
		v := strings.TrimSpace(f.value)
		if f.required && v == "" {
			return apperr.New(apperr.Invalid, "address.required").OnField(f.name)
		}
		if utf8.RuneCountInString(v) > MaxAddressField {
			return apperr.New(apperr.Invalid, "address.too_long").OnField(f.name).With("max", MaxAddressField)
		}
	}
	return nil
}

// Full returns the whole address, unit included, in Chinese order and
// without separators ("吉林省长春市南关区永吉街道人民大街1234号3单元502室");
// a space is put only between two parts that would otherwise run a Latin
// letter or digit into another. Parts are trimmed, inner white space and
// control characters become single spaces, and empty parts are skipped.
func (a Address) Full() string {
	return joinAddress(a.Province, a.City, a.District, a.Street, a.Detail, a.Unit)
}

// MaskForLabel returns the address as printed on labels and manifests:
// province, city, district and street in full, the detail with every decimal
// digit (of any script, full-width included) replaced by "*", and the unit
// and room left out ("吉林省长春市南关区永吉街道人民大街****号"). House numbers
// written in Chinese numerals (十八号) are not recognised as digits.
func (a Address) MaskForLabel() string {
	detail := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return '*'
		}
		return r
	}, a.Detail)
	return joinAddress(a.Province, a.City, a.District, a.Street, detail)
}

// MaskForScreen returns the address as shown on screens and the public page:
// province, city, district and street, then "****" for the detail and unit.
func (a Address) MaskForScreen() string {
	return joinAddress(a.Province, a.City, a.District, a.Street) + "****"
}

// joinAddress joins cleaned, non-empty address parts, putting a space only
// between two that would run Latin letters or digits together.
func joinAddress(parts ...string) string {
	var b strings.Builder
	last := rune(-1)
	for _, p := range parts {
		p = cleanAddressPart(p)
		if p == "" {
			continue
		}
		first, _ := utf8.DecodeRuneInString(p)
		if last >= 0 && isASCIIAlnum(last) && isASCIIAlnum(first) {
			b.WriteByte(' ')
		}
		b.WriteString(p)
		last, _ = utf8.DecodeLastRuneInString(p)
	}
	return b.String()
}

// cleanAddressPart trims p and turns each inner run of white space or
// control characters into one space, so a stored line break cannot break a
// printed label.
func cleanAddressPart(p string) string {
	return strings.Join(strings.FieldsFunc(p, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// isASCIIAlnum reports whether r is an ASCII letter or digit.
func isASCIIAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}
