package shipment

import (
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
)

// residentID completes 17 digits with their GB 11643 check digit, computed
// independently of the package: (12 − Σ dᵢ·2¹⁷⁻ⁱ mod 11) mod 11, 10 as X.
func residentID(first17 string) string {
	sum, w := 0, 1
	for i := 16; i >= 0; i-- {
		w = w * 2 % 11
		sum += int(first17[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return first17 + "X"
	}
	return first17 + string(rune('0'+c))
}

// uscc completes 17 characters with their GB 32100 check character, the
// weights computed as 3ⁱ mod 31.
func uscc(first17 string) string {
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccAlphabet, first17[i]) * w
		w = w * 3 % 31
	}
	return first17 + string(usccAlphabet[(31-sum%31)%31])
}

// fixNow sets the identity clock to the given China date for the test.
func fixNow(t *testing.T, y int, m time.Month, d int) {
	t.Helper()
	old := identityNow
	identityNow = func() time.Time { return time.Date(y, m, d, 12, 0, 0, 0, chinaTime) }
	t.Cleanup(func() { identityNow = old })
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s: unexpected error %v", what, err)
		}
		return
	}
	if apperr.KindOf(err) != apperr.Invalid || apperr.CodeOf(err) != code {
		t.Errorf("%s: error %v, want %s", what, err, code)
	}
}

func TestResidentIDStandardExamples(t *testing.T) {
	// The examples of GB 11643-1999.
	wantCode(t, "11010519491231002X", ValidateResidentID("11010519491231002X"), "")
	if residentID("11010519491231002") != "11010519491231002X" {
		t.Fatal("test helper disagrees with the standard's example")
	}
	// Check digit right, but born in 1880: before 1900.
	if residentID("44052418800101001") != "440524188001010014" {
		t.Fatal("test helper disagrees with the standard's example")
	}
	wantCode(t, "440524188001010014", ValidateResidentID("440524188001010014"), "id.resident.birthdate")
}

func TestValidateResidentID(t *testing.T) {
	fixNow(t, 2026, time.March, 15)
	cases := []struct {
		in, code string
	}{
		{residentID("22010219900307123"), ""},
		{residentID("22018319850101001"), ""},
		{residentID("22010220000229123"), ""}, // leap day
		{residentID("22010219000101123"), ""}, // first accepted date
		{residentID("22010220260315123"), ""}, // born today
		{"  " + residentID("22010219900307123") + "\n", ""},
		{"220102 19900307 " + residentID("22010219900307123")[14:], ""},
		{toFullWidth(residentID("22010219900307123")), ""},
		{strings.ToLower(residentID("11010519491231002")), ""}, // lower-case x

		{"", "id.resident.format"},
		{residentID("22010219900307123")[:17], "id.resident.format"},
		{residentID("22010219900307123") + "1", "id.resident.format"},
		{"22010219900307123Y", "id.resident.format"},
		{"2201021990030712X3", "id.resident.format"},
		{"22010219900307A234", "id.resident.format"},
		{"22010-19900307-1234", "id.resident.format"},

		{residentID("22010219900230123"), "id.resident.birthdate"}, // 30 February
		{residentID("22010219900431123"), "id.resident.birthdate"}, // 31 April
		{residentID("22010219901301123"), "id.resident.birthdate"}, // month 13
		{residentID("22010219900001123"), "id.resident.birthdate"}, // month 0
		{residentID("22010219900100123"), "id.resident.birthdate"}, // day 0
		{residentID("22010219000229123"), "id.resident.birthdate"}, // 1900 was not leap
		{residentID("22010218991231123"), "id.resident.birthdate"}, // before 1900
		{residentID("22010200000101123"), "id.resident.birthdate"},
		{residentID("22010220260316123"), "id.resident.birthdate"}, // tomorrow
		{residentID("22010230000101123"), "id.resident.birthdate"},
	}
	for _, c := range cases {
		wantCode(t, "ValidateResidentID("+c.in+")", ValidateResidentID(c.in), c.code)
	}
}

// TestResidentIDEveryWrongCheckDigit: each of the ten wrong check characters
// is rejected, for many numbers.
func TestResidentIDEveryWrongCheckDigit(t *testing.T) {
	fixNow(t, 2026, time.March, 15)
	for i := 0; i < 200; i++ {
		first := "220102" + "19" + string(rune('0'+i%10)) + string(rune('0'+i/10%10)) + "0" + string(rune('1'+i%9)) + "1" + string(rune('0'+i%3)) + leftPad(i, 3)
		good := residentID(first)
		wantCode(t, good, ValidateResidentID(good), "")
		for _, c := range "0123456789X" {
			if byte(c) == good[17] {
				continue
			}
			wantCode(t, first+string(c), ValidateResidentID(first+string(c)), "id.resident.checksum")
		}
	}
}

func TestValidateUSCC(t *testing.T) {
	// The example code of GB 32100-2015.
	if uscc("91350100M000100Y4") != "91350100M000100Y43" {
		t.Fatal("test helper disagrees with the standard's example")
	}
	good := []string{
		"91350100M000100Y43",
		uscc("91220101MA0Y3KLC1"),
		uscc("11220000013544357"),
		uscc("52220102MJY000000"),
		uscc("Y1220104MC0000000"),
	}
	for _, g := range good {
		wantCode(t, g, ValidateUSCC(g), "")
		wantCode(t, "lower "+g, ValidateUSCC(strings.ToLower(g)), "")
		wantCode(t, "spaced "+g, ValidateUSCC(" "+g[:8]+" "+g[8:]+" "), "")
		if n, err := ValidateID(IDUSCC, strings.ToLower(g)); err != nil || n != g {
			t.Errorf("ValidateID(uscc, %q) = %q, %v", strings.ToLower(g), n, err)
		}
		// Every wrong check character.
		for i := 0; i < len(usccAlphabet); i++ {
			if c := usccAlphabet[i]; c != g[17] {
				wantCode(t, g[:17]+string(c), ValidateUSCC(g[:17]+string(c)), "id.uscc.checksum")
			}
		}
	}
	for _, in := range []string{
		"", "91350100M000100Y4", "91350100M000100Y433",
		"91350100I000100Y43", "91350100O000100Y43", "91350100Z000100Y43",
		"91350100S000100Y43", "91350100V000100Y43", "91350100M000100Y4I",
		"9135-0100M000100Y4", "91350100M000100Y4*",
	} {
		wantCode(t, in, ValidateUSCC(in), "id.uscc.format")
	}
}

func TestValidateID(t *testing.T) {
	fixNow(t, 2026, time.March, 15)
	rid := residentID("22010219900307123")
	cases := []struct {
		typ  IDType
		in   string
		want string
		code string
	}{
		{IDResident, " " + strings.ToLower(residentID("11010519491231002")), "11010519491231002X", ""},
		{IDResident, rid[:17] + string("0123456789"[(rid[17]-'0'+1)%10]), "", "id.resident.checksum"},
		{IDResident, "abc", "", "id.resident.format"},

		{IDPassport, "E12345678", "E12345678", ""},
		{IDPassport, "g12345678", "G12345678", ""},
		{IDPassport, "EA1234567", "EA1234567", ""},
		{IDPassport, "ｅ１２３４５６７８", "E12345678", ""},
		{IDPassport, "X1234567", "X1234567", ""},                   // foreign
		{IDPassport, "C01X00T47", "C01X00T47", ""},                 // foreign (DE)
		{IDPassport, "12345", "12345", ""},                         // shortest foreign
		{IDPassport, "ABCDEFGHIJ1234567", "ABCDEFGHIJ1234567", ""}, // longest
		{IDPassport, "1234", "", "id.passport.format"},
		{IDPassport, "ABCDEFGHIJ12345678", "", "id.passport.format"},
		{IDPassport, "E1234-5678", "", "id.passport.format"},
		{IDPassport, "", "", "id.passport.format"},

		{IDHKMacauPermit, "H12345678", "H12345678", ""},
		{IDHKMacauPermit, "m1234567890", "M1234567890", ""},
		{IDHKMacauPermit, "H1234567", "", "id.permit.format"},
		{IDHKMacauPermit, "H123456789", "", "id.permit.format"},
		{IDHKMacauPermit, "K12345678", "", "id.permit.format"},
		{IDHKMacauPermit, "12345678", "", "id.permit.format"},
		{IDHKMacauPermit, "", "", "id.permit.format"},

		{IDTaiwanPermit, "12345678", "12345678", ""},
		{IDTaiwanPermit, "1234 567 890", "1234567890", ""},
		{IDTaiwanPermit, "123456789", "", "id.permit.format"},
		{IDTaiwanPermit, "T1234567", "", "id.permit.format"},
		{IDTaiwanPermit, "", "", "id.permit.format"},

		{IDUSCC, "91350100M000100Y43", "91350100M000100Y43", ""},
		{IDUSCC, "91350100M000100Y44", "", "id.uscc.checksum"},

		{"driving_licence", "123", "", "id.type.unknown"},
		{"", "E12345678", "", "id.type.unknown"},
	}
	for _, c := range cases {
		got, err := ValidateID(c.typ, c.in)
		wantCode(t, string(c.typ)+" "+c.in, err, c.code)
		if got != c.want {
			t.Errorf("ValidateID(%s, %q) = %q, want %q", c.typ, c.in, got, c.want)
		}
	}
	for _, typ := range IDTypes {
		if !typ.Valid() {
			t.Errorf("%s not valid", typ)
		}
	}
	if IDType("x").Valid() {
		t.Error("unknown type valid")
	}
}

func TestIDTail(t *testing.T) {
	cases := []struct {
		s    string
		n    int
		want string
	}{
		{"11010519491231002X", 4, "002X"},
		{"11010519491231002X", 1, "X"},
		{"11010519491231002X", 0, ""},
		{"11010519491231002X", -2, ""},
		{"E12", 4, "E12"},
		{"", 4, ""},
		{"张三𠮷丰", 2, "𠮷丰"},
	}
	for _, c := range cases {
		if got := IDTail(c.s, c.n); got != c.want {
			t.Errorf("IDTail(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func TestValidatePhone(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"13812345678", "13812345678"},
		{"19912345678", "19912345678"},
		{"138 1234 5678", "13812345678"},
		{"138-1234-5678", "13812345678"},
		{"+86 138 1234 5678", "13812345678"},
		{"+86-13812345678", "13812345678"},
		{"8613812345678", "13812345678"},
		{"0086 13812345678", "13812345678"},
		{"１３８１２３４５６７８", "13812345678"},
		{"＋８６　１３８１２３４５６７８", "13812345678"},
		{" 13812345678\n", "13812345678"},

		{"", ""},
		{"12812345678", ""},  // second digit 2
		{"10012345678", ""},  // second digit 0
		{"23812345678", ""},  // not 1
		{"1381234567", ""},   // 10 digits
		{"138123456789", ""}, // 12 digits
		{"+85213812345678", ""},
		{"+8613812345678x", ""},
		{"138.1234.5678", ""},
		{"(0431) 8888 8888", ""},
		{"043188888888", ""},
		{"86 1381234567", ""},
	}
	for _, c := range cases {
		got, err := ValidatePhone(c.in)
		if c.want == "" {
			wantCode(t, "ValidatePhone("+c.in+")", err, "phone.invalid")
		} else if err != nil {
			t.Errorf("ValidatePhone(%q) error %v", c.in, err)
		}
		if got != c.want {
			t.Errorf("ValidatePhone(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestValidateName(t *testing.T) {
	cases := []struct {
		in, want, code string
	}{
		{"张三", "张三", ""},
		{"  张三\n", "张三", ""},
		{"\u3000张三\u3000", "张三", ""},
		{"欧阳小锋", "欧阳小锋", ""},
		{"吉𠮷", "吉𠮷", ""},             // beyond the BMP
		{"𠮷", "𠮷", ""},               // one character, beyond the BMP
		{"阿卜杜拉·买买提", "阿卜杜拉·买买提", ""}, // minority name, middle dot
		{"阿卜杜拉•买买提", "阿卜杜拉·买买提", ""}, // bullet typed for the dot
		{"阿卜杜拉・买买提", "阿卜杜拉·买买提", ""}, // katakana middle dot
		{"阿卜杜拉．买买提", "阿卜杜拉·买买提", ""}, // full-width full stop
		{"John  Smith", "John Smith", ""},
		{"Zoë O'Brien-Ng", "Zoë O'Brien-Ng", ""},
		{"张\u3000三", "张 三", ""},
		{"\ue000三", "\ue000三", ""}, // private-use rare character
		{strings.Repeat("张", MaxNameLen), strings.Repeat("张", MaxNameLen), ""},
		{strings.Repeat("𠮷", MaxNameLen), strings.Repeat("𠮷", MaxNameLen), ""},

		{"", "", "name.empty"},
		{"   ", "", "name.empty"},
		{"\u3000\t\n", "", "name.empty"},

		{strings.Repeat("张", MaxNameLen+1), "", "name.invalid"},
		{"张\t三", "", "name.invalid"},
		{"张\n三", "", "name.invalid"},
		{"张\x00三", "", "name.invalid"},
		{"张\x7f三", "", "name.invalid"},
		{"张\u202e三", "", "name.invalid"}, // right-to-left override
		{"张\u200b三", "", "name.invalid"}, // zero-width space
		{"张\u2028三", "", "name.invalid"}, // line separator
		{"张\xff三", "", "name.invalid"},   // invalid UTF-8
		{"张\ufffd三", "", "name.invalid"},
		{"12345", "", "name.invalid"},
		{"···", "", "name.invalid"},
	}
	for _, c := range cases {
		got, err := ValidateName(c.in)
		wantCode(t, "ValidateName("+c.in+")", err, c.code)
		if got != c.want {
			t.Errorf("ValidateName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
