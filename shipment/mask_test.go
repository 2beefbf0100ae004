package shipment

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/changchun-gov/courier/internal/apperr"
)

func TestMaskName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"张", "*"},
		{"𠮷", "*"},
		{"张三", "张*"},
		{"𠮷三", "𠮷*"},
		{"张小三", "张*三"},
		{"吉𠮷祥", "吉*祥"},
		{"张三𠮷", "张*𠮷"},
		{"欧阳小锋", "欧**锋"},
		{"司马相如", "司**如"},
		{"阿卜杜拉·买买提", "阿******提"},
		{" 张小三 ", "张*三"},
		{"John Smith", "J********h"},
	}
	for _, c := range cases {
		got := MaskName(c.in)
		if got != c.want {
			t.Errorf("MaskName(%q) = %q, want %q", c.in, got, c.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("MaskName(%q) = %q: invalid UTF-8", c.in, got)
		}
	}
}

func TestMaskPhoneScreen(t *testing.T) {
	cases := []struct{ in, want string }{
		{"13812341234", "138****1234"},
		{"13812345678", "138****5678"},
		{"+86 138-1234-5678", "138****5678"},
		{"", ""},
		{"12345", "*****"},
		{"043188888888", "************"},
	}
	for _, c := range cases {
		if got := MaskPhoneScreen(c.in); got != c.want {
			t.Errorf("MaskPhoneScreen(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskPhoneLabel(t *testing.T) {
	cases := []struct{ in, want string }{
		{"13812345678", "138********"},
		{"+86 138 1234 5678", "138********"},
		{"", ""},
		{"12345", "*****"},
		{"043188888888", "************"},
	}
	for _, c := range cases {
		if got := MaskPhoneLabel(c.in); got != c.want {
			t.Errorf("MaskPhoneLabel(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Never any of the last four digits, in their positions or anywhere:
	// with a tail of digits that appear nowhere else, none may show; and
	// at least six digits are hidden (GB/T 41833-2022).
	for _, phone := range []string{"13800005678", "15911112468", "18622229753", "13312340000"} {
		got := MaskPhoneLabel(phone)
		if len(got) != 11 || got[:3] != phone[:3] {
			t.Fatalf("MaskPhoneLabel(%q) = %q", phone, got)
		}
		for i := 7; i < 11; i++ {
			if got[i] != '*' {
				t.Errorf("MaskPhoneLabel(%q) = %q shows position %d", phone, got, i)
			}
		}
		if strings.Count(got, "*") < 6 {
			t.Errorf("MaskPhoneLabel(%q) = %q hides fewer than 6 digits", phone, got)
		}
		if strings.ContainsAny(got[3:], "0123456789") {
			t.Errorf("MaskPhoneLabel(%q) = %q shows a digit after the first three", phone, got)
		}
	}
}

func TestMaskID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"11010519491231002X", "**************002X"},
		{"220102199003071234", "**************1234"},
		{"E12345678", "*****5678"},
		{"H12345678", "*****5678"},
		{"12345678", "****5678"},
		{"X12345", "***345"},
		{"12345", "***45"},
		{"1", "*"},
		{"", ""},
		{" E12345678 ", "*****5678"},
	}
	for _, c := range cases {
		if got := MaskID(c.in); got != c.want {
			t.Errorf("MaskID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func testAddress() Address {
	return Address{
		Province: "吉林省",
		City:     "长春市",
		District: "南关区",
		Street:   "永吉街道",
		Detail:   "人民大街1234号",
		Unit:     "3单元502室",
	}
}

func TestAddressValidate(t *testing.T) {
	if err := testAddress().Validate(); err != nil {
		t.Fatalf("valid address: %v", err)
	}
	a := testAddress()
	a.Street, a.Unit = "", ""
	if err := a.Validate(); err != nil {
		t.Fatalf("address without optional fields: %v", err)
	}
	long := strings.Repeat("路", MaxAddressField+1)
	okLong := strings.Repeat("𠮷", MaxAddressField)
	cases := []struct {
		edit  func(*Address)
		code  string
		field string
	}{
		{func(a *Address) { a.Province = "" }, "address.required", "province"},
		{func(a *Address) { a.City = "  " }, "address.required", "city"},
		{func(a *Address) { a.District = "\u3000" }, "address.required", "district"},
		{func(a *Address) { a.Detail = "" }, "address.required", "detail"},
		{func(a *Address) { a.Province = long }, "address.too_long", "province"},
		{func(a *Address) { a.Street = long }, "address.too_long", "street"},
		{func(a *Address) { a.Detail = long }, "address.too_long", "detail"},
		{func(a *Address) { a.Unit = long }, "address.too_long", "unit"},
		{func(a *Address) { a.Detail = okLong }, "", ""},
		{func(a *Address) { a.Unit = " " + okLong + " " }, "", ""},
	}
	for i, c := range cases {
		a := testAddress()
		c.edit(&a)
		err := a.Validate()
		if c.code == "" {
			if err != nil {
				t.Errorf("case %d: %v", i, err)
			}
			continue
		}
		e := apperr.As(err)
		if e == nil || e.Kind != apperr.Invalid || e.Code != c.code || e.Field != c.field {
			t.Errorf("case %d: error %v, want %s on %s", i, err, c.code, c.field)
			continue
		}
		if c.code == "address.too_long" && e.Args["max"] != MaxAddressField {
			t.Errorf("case %d: args %v", i, e.Args)
		}
	}
}

func TestAddressFormats(t *testing.T) {
	a := testAddress()
	if got, want := a.Full(), "吉林省长春市南关区永吉街道人民大街1234号3单元502室"; got != want {
		t.Errorf("Full() = %q, want %q", got, want)
	}
	if got, want := a.MaskForLabel(), "吉林省长春市南关区永吉街道人民大街****号"; got != want {
		t.Errorf("MaskForLabel() = %q, want %q", got, want)
	}
	if got, want := a.MaskForScreen(), "吉林省长春市南关区永吉街道****"; got != want {
		t.Errorf("MaskForScreen() = %q, want %q", got, want)
	}

	// No street; digits in every script masked on labels; the unit never.
	b := Address{Province: "吉林省", City: "长春市", District: "二道区", Detail: " 东盛大街１８号\n8栋 ", Unit: "2单元1101室"}
	if got, want := b.Full(), "吉林省长春市二道区东盛大街１８号 8栋2单元1101室"; got != want {
		t.Errorf("Full() = %q, want %q", got, want)
	}
	label := b.MaskForLabel()
	if want := "吉林省长春市二道区东盛大街**号 *栋"; label != want {
		t.Errorf("MaskForLabel() = %q, want %q", label, want)
	}
	if strings.Contains(label, "单元") || strings.Contains(label, "1101") {
		t.Errorf("label shows the unit: %q", label)
	}
	if got, want := b.MaskForScreen(), "吉林省长春市二道区****"; got != want {
		t.Errorf("MaskForScreen() = %q, want %q", got, want)
	}

	// Latin parts are kept apart.
	c := Address{Province: "Jilin", City: "Changchun", District: "Nanguan", Detail: "No. 12 Renmin St", Unit: "Room 502"}
	if got, want := c.Full(), "Jilin Changchun Nanguan No. 12 Renmin St Room 502"; got != want {
		t.Errorf("Full() = %q, want %q", got, want)
	}
	if got, want := c.MaskForLabel(), "Jilin Changchun Nanguan No. ** Renmin St"; got != want {
		t.Errorf("MaskForLabel() = %q, want %q", got, want)
	}
}
