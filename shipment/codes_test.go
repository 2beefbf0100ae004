package shipment

import (
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
)

// testNumber returns body followed by its check character.
func testNumber(body string) string { return body + string(CheckChar(body)) }

// toFullWidth turns printable ASCII into its full-width form, as a Chinese
// input method in full-width mode types it.
func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ':
			return 0x3000
		case r > ' ' && r < 0x7F:
			return r + 0xFEE0
		}
		return r
	}, s)
}

// spaced inserts sep after the prefix and every four characters after it.
func spaced(n, sep string) string {
	var b strings.Builder
	b.WriteString(n[:2])
	for i := 2; i < len(n); i += 4 {
		b.WriteString(sep)
		b.WriteString(n[i:min(i+4, len(n))])
	}
	return b.String()
}

// wrongCheck returns n with another check character.
func wrongCheck(n string) string {
	return n[:15] + string(mod3736Alphabet[(mod3736Value(n[15])+7)%36])
}

func TestParseCode(t *testing.T) {
	p := testNumber("CP1234567890123")
	b := testNumber("CB0000000000001")
	r := testNumber("CR9081726354453")
	cases := []struct {
		name string
		in   string
		want string // the number, or "" when an error is expected
		code string
	}{
		{"bare parcel", p, p, ""},
		{"bare bag", b, b, ""},
		{"bare run", r, r, ""},
		{"lower case", strings.ToLower(p), p, ""},
		{"mixed case", "cP" + strings.ToLower(p[2:]), p, ""},
		{"url", "https://track.changchun.gov.cn/t/" + p, p, ""},
		{"url upper", "HTTPS://TRACK.CHANGCHUN.GOV.CN/T/" + p, p, ""},
		{"url lower number", "https://track.changchun.gov.cn/t/" + strings.ToLower(p), p, ""},
		{"url query", "https://x.example/t/" + b + "?src=label&v=2", b, ""},
		{"url trailing slash", "https://x.example/t/" + r + "/", r, ""},
		{"url fragment", "http://10.0.0.7:8080/t/" + p + "#top", p, ""},
		{"url upper with query", "HTTPS://X.EXAMPLE/T/" + p + "?A=1", p, ""},
		{"url ideographic full stop", "https://track。changchun。gov。cn/t/" + p, p, ""},
		{"full-width number", toFullWidth(p), p, ""},
		{"full-width lower", toFullWidth(strings.ToLower(p)), p, ""},
		{"full-width url", toFullWidth("https://x.example/t/" + p), p, ""},
		{"spaces", spaced(p, " "), p, ""},
		{"double spaces", spaced(p, "  "), p, ""},
		{"hyphens", spaced(p, "-"), p, ""},
		{"full-width spaces", spaced(p, "\u3000"), p, ""},
		{"full-width hyphens", spaced(p, "－"), p, ""},
		{"em dashes", spaced(p, "—"), p, ""},
		{"no-break spaces", spaced(p, "\u00a0"), p, ""},
		{"spaces lower", strings.ToLower(spaced(b, " ")), b, ""},
		{"aim qr url", "]Q1https://x.example/t/" + p, p, ""},
		{"aim code128", "]C0" + b, b, ""},
		{"aim datamatrix", "]d2" + r, r, ""},
		{"aim after space", " ]Q1" + p, p, ""},
		{"trailing crlf", p + "\r\n", p, ""},
		{"trailing lf", p + "\n", p, ""},
		{"trailing tab", p + "\t", p, ""},
		{"surrounding spaces", "  " + p + "  ", p, ""},
		{"zero-width space", p[:8] + "\u200b" + p[8:], p, ""},
		{"bom", "\ufeff" + p, p, ""},
		{"chinese label", "运单号：" + p, p, ""},
		{"chinese around", "单号 " + spaced(p, " ") + " 请查收", p, ""},
		{"label text", "No." + p, p, ""},
		{"letters before", "ABC" + p, p, ""},
		{"digits before", "0042" + p, p, ""},
		{"number then word", p + " ok", p, ""},
		{"number then copy", p + "-2", p, ""},
		{"prefix repeated", "CP" + p, p, ""},
		{"valid preferred", wrongCheck(p) + " " + b, b, ""},
		{"first valid", p + "," + b, p, ""},
		{"quoted", `"` + p + `"`, p, ""},

		{"empty", "", "", "code.empty"},
		{"spaces only", "   ", "", "code.empty"},
		{"crlf only", "\r\n", "", "code.empty"},
		{"ideographic space", "\u3000\t", "", "code.empty"},
		{"zero-width only", "\u200b", "", "code.empty"},

		{"wrong check", wrongCheck(p), "", "code.mistyped"},
		{"wrong check lower", strings.ToLower(wrongCheck(b)), "", "code.mistyped"},
		{"wrong check spaced", spaced(wrongCheck(r), " "), "", "code.mistyped"},
		{"wrong check url", "https://x.example/t/" + wrongCheck(p), "", "code.mistyped"},
		{"digits swapped", p[:5] + p[6:7] + p[5:6] + p[7:], "", "code.mistyped"},
		{"letter o for zero", p[:11] + "O" + p[12:], "", "code.mistyped"},
		{"letter i for one", "CP" + "I" + p[3:], "", "code.mistyped"},

		{"word", "hello", "", "code.invalid"},
		{"other url", "https://example.com/", "", "code.invalid"},
		{"short", p[:15], "", "code.invalid"},
		{"digit missing", p[:5] + p[6:], "", "code.invalid"},
		{"extra digit", p[:15] + "4" + p[15:], "", "code.invalid"},
		{"trailing digits", p + "99", "", "code.invalid"},
		{"unknown prefix", "CX" + p[2:], "", "code.invalid"},
		{"no prefix", p[2:], "", "code.invalid"},
		{"words with prefix", "CREDITCARDNUMBER", "", "code.invalid"},
		{"control chars", "\x00\x01", "", "code.invalid"},
		{"invalid utf8", "\xff\xfe", "", "code.invalid"},
		{"chinese only", "长春市政务服务中心", "", "code.invalid"},
		{"too long", strings.Repeat(" ", MaxCodeInput) + p, "", "code.invalid"},
		{"too long blank", strings.Repeat(" ", MaxCodeInput+1), "", "code.invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCode(c.in)
			if c.want != "" {
				if err != nil {
					t.Fatalf("ParseCode(%q) error %v, want %s", c.in, err, c.want)
				}
				k, _ := ValidNumber(c.want)
				if got.Number != c.want || got.Kind != k {
					t.Fatalf("ParseCode(%q) = %+v, want %s (%s)", c.in, got, c.want, k)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseCode(%q) = %+v, want error %s", c.in, got, c.code)
			}
			if got != (Code{}) {
				t.Errorf("ParseCode(%q) returned %+v with its error", c.in, got)
			}
			if apperr.KindOf(err) != apperr.Invalid || apperr.CodeOf(err) != c.code {
				t.Fatalf("ParseCode(%q) error = %v, want %s", c.in, err, c.code)
			}
		})
	}
}

func TestParseCodeLengthBound(t *testing.T) {
	p := testNumber("CP1234567890123")
	in := strings.Repeat(" ", MaxCodeInput-len(p)) + p
	if got, err := ParseCode(in); err != nil || got.Number != p {
		t.Errorf("input of exactly %d bytes: %+v, %v", MaxCodeInput, got, err)
	}
	if _, err := ParseCode(" " + in); apperr.CodeOf(err) != "code.invalid" {
		t.Errorf("input of %d bytes: %v, want code.invalid", MaxCodeInput+1, err)
	}
}

// TestParseCodeInvalidLeaksNothing: the "code.invalid" error carries the
// length of the input and nothing of its content.
func TestParseCodeInvalidLeaksNothing(t *testing.T) {
	in := "张三 13812345678 secret-token-zq"
	_, err := ParseCode(in)
	e := apperr.As(err)
	if e == nil || e.Code != "code.invalid" {
		t.Fatalf("err = %v", err)
	}
	if len(e.Args) != 1 || e.Args["length"] != len(in) {
		t.Errorf("args = %v, want only length %d", e.Args, len(in))
	}
	for _, part := range []string{"张三", "13812345678", "secret", "token"} {
		if strings.Contains(e.Error(), part) {
			t.Errorf("error %q contains %q", e.Error(), part)
		}
	}
}

// TestParseCodeNewNumbers: every issued number parses back, bare, spaced,
// in lower case and as a label URL.
func TestParseCodeNewNumbers(t *testing.T) {
	for _, k := range []NumberKind{KindParcel, KindBag, KindRun} {
		for range 100 {
			n := NewNumber(k)
			for _, in := range []string{n, strings.ToLower(n), spaced(n, " "), "https://x.example/t/" + n, "]Q1HTTPS://X.EXAMPLE/T/" + n + "\r\n"} {
				got, err := ParseCode(in)
				if err != nil || got != (Code{Kind: k, Number: n}) {
					t.Fatalf("ParseCode(%q) = %+v, %v", in, got, err)
				}
			}
		}
	}
}
