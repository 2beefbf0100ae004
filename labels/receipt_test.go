package labels_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
)

// A handover receipt: one page, the waybill's QR, the holder masked as on a
// label, the hall and the time; a receipt with no hall is refused.
func TestReceipt(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rc := labels.Receipt{WaybillNo: "CP0000000000001X", CertType: "营业执照", Holder: "王小明",
		Hall: labels.Place{Code: "CC-WIN", Name: "长春市政务服务中心 出证窗口"}, Window: "3 号窗口",
		CollectedAt: time.Date(2026, 12, 2, 15, 4, 0, 0, time.FixedZone("CST", 8*3600)), ByProxy: true, Staff: "u-staff"}
	if _, err := newRenderer(t).Receipt(&buf, rc); err != nil {
		t.Fatal(err)
	}
	pdf := buf.Bytes()
	if got := decodePage(t, pdf, 1); !slices.Equal(got, []string{"QR-Code:CP0000000000001X"}) {
		t.Fatalf("decoded %q", got)
	}
	if n := pageCount(t, pdf); n != 1 {
		t.Fatalf("%d pages", n)
	}
	text := squash(pdfText(t, pdf, 0, 0))
	for _, s := range []string{"证照领取回执", "王*明", "营业执照", "2026-12-0215:04", "代领", "长春市政务服务中心"} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "王小明") {
		t.Errorf("the receipt shows the holder's name in clear:\n%s", text)
	}
	rc.Hall = labels.Place{}
	if _, err := newRenderer(t).Receipt(&bytes.Buffer{}, rc); apperr.CodeOf(err) != labels.CodeFieldInvalid {
		t.Fatalf("no hall: %v", err)
	}
}
