package sheet

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/changchun-gov/courier/internal/apperr"
)

var (
	header = []string{"办件编号", "申请人姓名", "手机号码"}
	rows   = [][]string{{"A-1", "王小明", "13912345678"}, {"A-2", "李四", "13812345678"}}
)

func TestReadsTheTemplatesItWrites(t *testing.T) {
	x, err := XLSX("登记", header, rows)
	if err != nil {
		t.Fatal(err)
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(CSV(header, rows)[3:])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, enc string
		data      []byte
	}{{"a.xlsx", "xlsx", x}, {"a.csv", "utf-8", CSV(header, rows)}, {"a.csv", "gbk", gbk},
		{"a.txt", "utf-8", []byte("办件编号\t申请人姓名\t手机号码\nA-1\t王小明\t13912345678\n\n\nA-2\t李四\t13812345678\n")}} {
		tb, err := Read(c.name, c.data, 10)
		if err != nil {
			t.Fatalf("%s %s: %v", c.name, c.enc, err)
		}
		if tb.Encoding != c.enc || !reflect.DeepEqual(tb.Header, header) || !reflect.DeepEqual(tb.Rows, rows) {
			t.Errorf("%s: %s %q %q", c.enc, tb.Encoding, tb.Header, tb.Rows)
		}
		if c.name == "a.txt" && !reflect.DeepEqual(tb.Lines, []int{2, 5}) {
			t.Errorf("lines %v, want [2 5]: a blank line counts", tb.Lines)
		}
	}
}

func TestRefusesWhatItCannotRead(t *testing.T) {
	many := "a,b\n" + strings.Repeat("1,2\n", 11)
	for _, c := range []struct {
		name, data, code string
	}{
		{"a.csv", "", "import.empty"},
		{"a.csv", "  \n\n", "import.empty"},
		{"a.csv", "\xff\xfe\xfd\x80,1\n", "import.encoding"}, // neither UTF-8 nor GBK
		{"a.xls", "\xd0\xcf\x11\xe0\x00\x00", "import.format"},
		{"a.xlsx", "PK\x03\x04 broken", "import.format"},
		{"a.csv", many, "import.too_many_rows"},
	} {
		_, err := Read(c.name, []byte(c.data), 10)
		if got := apperr.CodeOf(err); got != c.code {
			t.Errorf("%q: %v, want %s", c.data, err, c.code)
		}
	}
	if _, err := Read("a.csv", []byte("a,b\n"+strings.Repeat("1,2\n", 10)), 10); err != nil {
		t.Errorf("ten rows of at most ten: %v", err)
	}
}
