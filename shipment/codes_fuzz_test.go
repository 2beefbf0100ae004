package shipment

import (
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/apperr"
)

func FuzzParseCode(f *testing.F) {
	p := testNumber("CP1234567890123")
	b := testNumber("CB0000000000001")
	r := testNumber("CR9081726354453")
	for _, s := range []string{
		p, b, r,
		strings.ToLower(p),
		"https://track.changchun.gov.cn/t/" + p,
		"HTTPS://TRACK.CHANGCHUN.GOV.CN/T/" + b,
		"https://x.example/t/" + r + "?src=label",
		"https://x.example/t/" + p + "/",
		"]Q1https://x.example/t/" + p,
		"]C0" + b + "\r\n",
		p + "\t",
		spaced(p, " "),
		spaced(r, "-"),
		toFullWidth(p),
		toFullWidth("https://x.example/t/" + b),
		"运单号：" + p,
		wrongCheck(p),
		p[:11] + "O" + p[12:],
		"",
		"   ",
		"hello",
		"CREDITCARDNUMBER",
		"\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ParseCode(raw)
		if err != nil {
			e := apperr.As(err)
			if e == nil || e.Kind != apperr.Invalid {
				t.Fatalf("ParseCode(%q): error %v is not apperr.Invalid", raw, err)
			}
			switch e.Code {
			case "code.empty", "code.mistyped":
				if len(e.Args) != 0 {
					t.Fatalf("ParseCode(%q): %s carries %v", raw, e.Code, e.Args)
				}
			case "code.invalid":
				if len(e.Args) != 1 || e.Args["length"] != len(raw) {
					t.Fatalf("ParseCode(%q): code.invalid carries %v", raw, e.Args)
				}
			default:
				t.Fatalf("ParseCode(%q): unexpected code %s", raw, e.Code)
			}
			if got != (Code{}) {
				t.Fatalf("ParseCode(%q) returned %+v with an error", raw, got)
			}
			return
		}
		n := got.Number
		if got.Kind == KindSlot {
			if code, err := SlotCode(got.Slot); err != nil || code != n {
				t.Fatalf("ParseCode(%q) = %+v: SlotCode(%q) = %q, %v", raw, got, got.Slot, code, err)
			}
			if again, err := ParseCode(n); err != nil || again != got {
				t.Fatalf("ParseCode(%q) = %+v, %v; want %+v", n, again, err, got)
			}
			return
		}
		if len(n) != NumberLen {
			t.Fatalf("ParseCode(%q).Number = %q: length %d", raw, n, len(n))
		}
		if refChecksum(n) != 1 {
			t.Fatalf("ParseCode(%q).Number = %q: bad check character", raw, n)
		}
		if got.Kind.Prefix() == "" || !strings.HasPrefix(n, got.Kind.Prefix()) {
			t.Fatalf("ParseCode(%q) = %+v: prefix does not match kind", raw, got)
		}
		if k, err := ValidNumber(n); err != nil || k != got.Kind {
			t.Fatalf("ValidNumber(%q) = %q, %v", n, k, err)
		}
		if again, err := ParseCode(n); err != nil || again != got {
			t.Fatalf("ParseCode(%q) = %+v, %v; want %+v", n, again, err, got)
		}
		u := "https://x.example/t/" + n
		if again, err := ParseCode(u); err != nil || again != got {
			t.Fatalf("ParseCode(%q) = %+v, %v; want %+v", u, again, err, got)
		}
	})
}
