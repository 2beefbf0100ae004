package labels_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changchun-gov/courier/internal/apperr"
	"github.com/changchun-gov/courier/labels"
	"github.com/changchun-gov/courier/shipment"
)

const publicURL = "https://zwfw.changchun.gov.cn"

var (
	rendererOnce sync.Once
	renderer     *labels.Renderer
	rendererErr  error
)

// newRenderer returns the tests' shared renderer (NewRenderer parses the
// fonts; the renderer is safe for concurrent use).
func newRenderer(t testing.TB) *labels.Renderer {
	t.Helper()
	rendererOnce.Do(func() {
		renderer, rendererErr = labels.NewRenderer(labels.Options{PublicURL: publicURL})
	})
	if rendererErr != nil {
		t.Fatal(rendererErr)
	}
	return renderer
}

// number returns a valid number: prefix, 13 digits from n, check character.
func number(prefix string, n int) string {
	body := fmt.Sprintf("%s%013d", prefix, n)
	return body + string(shipment.CheckChar(body))
}

// The test recipient. None of the phone's last four digits may appear on a
// label; "4729" occurs nowhere else on the test labels.
const (
	fullName  = "张小三"
	fullPhone = "13812344729"
	phoneTail = "4729"
)

func testLabel(i int) labels.Label {
	return labels.Label{
		WaybillNo:     number("CP", 4821937460000+i),
		Kind:          shipment.KindCertificate,
		Origin:        labels.Place{Code: "D-SW", Name: "长春市商务局"},
		Destination:   labels.Place{Code: "NA-HALL", Name: "农安县政务服务中心"},
		Window:        "3号窗口（不动产登记）",
		RecipientName: fullName,
		Phone:         fullPhone,
		CertType:      "营业执照",
		Leg:           "D-SW → CC-HUB",
		RunNo:         number("CR", 1000000000001),
		RegisteredAt:  time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC), // 09:30 in China
	}
}

func expressLabel(i int) labels.Label {
	l := testLabel(i)
	l.Express = true
	l.Destination = labels.Place{}
	l.Window = ""
	l.Address = shipment.Address{Province: "吉林省", City: "长春市", District: "南关区", Street: "永吉街道", Detail: "人民大街1234号", Unit: "3单元502室"}
	return l
}

func waybill(t *testing.T, l labels.Label) ([]byte, labels.Flags) {
	t.Helper()
	var buf bytes.Buffer
	flags, err := newRenderer(t).Waybill(&buf, l)
	if err != nil {
		t.Fatalf("Waybill: %v", err)
	}
	return buf.Bytes(), flags
}

func TestWaybill(t *testing.T) {
	t.Parallel()

	t.Run("DecodesQRAndCode128", func(t *testing.T) {
		t.Parallel()
		l := testLabel(1)
		pdf, _ := waybill(t, l)
		url, err := labels.TrackURL(publicURL, l.WaybillNo)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"CODE-128:" + l.WaybillNo, "QR-Code:" + url}
		if got := decodePage(t, pdf, 1); !slices.Equal(got, want) {
			t.Errorf("decoded %q, want %q", got, want)
		}
		if url != "HTTPS://ZWFW.CHANGCHUN.GOV.CN/T/"+l.WaybillNo {
			t.Errorf("QR text %q", url)
		}
	})

	t.Run("ChineseTextIntact", func(t *testing.T) {
		t.Parallel()
		l := testLabel(2)
		pdf, flags := waybill(t, l)
		if len(flags) != 0 {
			t.Errorf("flags %v", flags)
		}
		text := pdfText(t, pdf, 0, 0)
		for _, s := range []string{
			"政务服务证照流转", "证照 — 请妥善保管", l.WaybillNo, "目的地", "农安县政务服务中心", "NA-HALL",
			"窗口：3号窗口（不动产登记）", "收件人", "张*三", "138********", "寄件：长春市商务局（D-SW）",
			"内件：证照（营业执照）", "登记：2026-11-27 09:30", "线路：D-SW → CC-HUB", "批次：" + l.RunNo,
			"扫码查询进度", "签收：",
		} {
			if !strings.Contains(text, s) {
				t.Errorf("text lacks %q:\n%s", s, text)
			}
		}
		if pageCount(t, pdf) != 1 {
			t.Error("not one page")
		}
	})

	t.Run("MaterialsMark", func(t *testing.T) {
		t.Parallel()
		l := testLabel(3)
		l.Kind = shipment.KindMaterials
		l.RecipientName = ""
		pdf, _ := waybill(t, l)
		text := pdfText(t, pdf, 0, 0)
		for _, s := range []string{"申请材料 — 请妥善保管", "内件：申请材料"} {
			if !strings.Contains(text, s) {
				t.Errorf("text lacks %q:\n%s", s, text)
			}
		}
	})

	t.Run("SinglePDFUnder40KB", func(t *testing.T) {
		t.Parallel()
		rare := expressLabel(6)
		rare.RecipientName = "𠮷堃䶮"
		rare.Address.Street = "堃喆䶮𠮷街道"
		for _, l := range []labels.Label{testLabel(4), expressLabel(5), rare} {
			pdf, _ := waybill(t, l)
			t.Logf("%s: %d bytes", l.WaybillNo, len(pdf))
			if len(pdf) > 40<<10 {
				t.Errorf("%s: single-label PDF is %d bytes, over 40 KB", l.WaybillNo, len(pdf))
			}
		}
	})
}

// TestMasking: the label shows the name, phone and address only as GB/T
// 41833-2022 and PRODUCT.md allow.
func TestMasking(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]labels.Label{"Hall": testLabel(10), "Express": expressLabel(11)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pdf, _ := waybill(t, l)
			text := pdfText(t, pdf, 0, 0)
			flat := squash(text)
			for _, banned := range []string{fullName, "张小", "小三", fullPhone, phoneTail, "138123", "1234号", "3单元", "502室", "502", "单元"} {
				if strings.Contains(flat, banned) {
					t.Errorf("label shows %q:\n%s", banned, text)
				}
			}
			// no digit of the phone's last four next to the masked phone
			if !strings.Contains(text, "138********") || strings.Contains(flat, "138********"+phoneTail[:1]) {
				t.Errorf("phone not masked as 138********:\n%s", text)
			}
			if !strings.Contains(text, "张*三") {
				t.Errorf("masked name missing:\n%s", text)
			}
			if l.Express && !strings.Contains(flat, "吉林省长春市南关区永吉街道人民大街****号") {
				t.Errorf("masked address missing:\n%s", text)
			}
			// nor anywhere in the document's decompressed streams
			dump := dumpPDF(t, pdf)
			for _, banned := range []string{fullName, fullPhone, "3单元", "502室", "人民大街1234"} {
				if strings.Contains(dump, banned) {
					t.Errorf("document holds %q", banned)
				}
			}
		})
	}
}

// TestRareCharacters: hanzi outside GB2312 (堃 喆), in Extension A (䶮)
// and Extension B (𠮷) print and are not flagged; the ones outside the
// primary font are drawn as outlines that text extraction still finds.
func TestRareCharacters(t *testing.T) {
	t.Parallel()
	l := expressLabel(20)
	l.RecipientName = "𠮷堃䶮"     // printed 𠮷*䶮
	l.Address.Street = "堃喆䶮𠮷街道" // printed in full
	l.CertType = "𠀀𪚥证"
	pdf, flags := waybill(t, l)
	if len(flags) != 0 {
		t.Errorf("flags %v, want none", flags)
	}
	text := pdfText(t, pdf, 0, 0)
	flat := squash(text)
	for _, s := range []string{"𠮷*䶮", "堃喆䶮𠮷街道", "内件：证照（𠀀𪚥证）"} {
		if !strings.Contains(flat, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
	url, _ := labels.TrackURL(publicURL, l.WaybillNo)
	if got := decodePage(t, pdf, 1); !slices.Equal(got, []string{"CODE-128:" + l.WaybillNo, "QR-Code:" + url}) {
		t.Errorf("decoded %q", got)
	}
}

// TestMissingGlyph: a character no font has is printed as its code point in
// a box, and the label is flagged.
func TestMissingGlyph(t *testing.T) {
	t.Parallel()
	l := testLabel(30)
	l.RecipientName = "张三\U0010FFFD" // printed 张*U+10FFFD
	l.Window = "窗口\uE000"            // private use
	pdf, flags := waybill(t, l)
	want := labels.Flags{{Index: 0, Number: l.WaybillNo, Chars: []rune{0xE000, 0x10FFFD}}} // in order of appearance
	if fmt.Sprint(flags) != fmt.Sprint(want) {
		t.Errorf("flags %v, want %v", flags, want)
	}
	if got := flags[0].String(); got != l.WaybillNo+": U+E000 U+10FFFD" {
		t.Errorf("flag string %q", got)
	}
	text := pdfText(t, pdf, 0, 0)
	for _, s := range []string{"U+10FFFD", "U+E000", "张*"} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
}

// TestLongText: long names and addresses wrap or shrink and keep every
// character.
func TestLongText(t *testing.T) {
	t.Parallel()
	l := expressLabel(40)
	l.RecipientName = "阿卜杜热合曼·买买提依明·艾合买提江·吐尔逊托合提·库尔班尼亚孜·热合木吐拉" // 40 characters
	l.Address = shipment.Address{
		Province: "吉林省", City: "长春市", District: "长春新区",
		Street: strings.Repeat("不动产登记窗口证照寄递", 9),
		Detail: "硅谷大街与超然街交汇处长春新区政务服务中心东侧辅楼B座17号",
	}
	l.CertType = "中华人民共和国不动产权证书（含附图及共有情况说明）"
	l.Origin.Name = strings.Repeat("长春市自然资源局不动产登记中心", 4)
	pdf, flags := waybill(t, l)
	if len(flags) != 0 {
		t.Errorf("flags %v", flags)
	}
	if n := pageCount(t, pdf); n != 1 {
		t.Errorf("%d pages", n)
	}
	flat := squash(pdfText(t, pdf, 0, 0))
	for _, s := range []string{
		shipment.MaskName(l.RecipientName),
		l.Address.MaskForLabel(),
		l.CertType,
		l.Origin.Name,
	} {
		if !strings.Contains(flat, squash(s)) {
			t.Errorf("text lacks %q:\n%s", s, flat)
		}
	}
	url, _ := labels.TrackURL(publicURL, l.WaybillNo)
	if got := decodePage(t, pdf, 1); !slices.Equal(got, []string{"CODE-128:" + l.WaybillNo, "QR-Code:" + url}) {
		t.Errorf("decoded %q", got)
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	var ls []labels.Label
	for i := range 5 {
		ls = append(ls, testLabel(100+(i*37)%11)) // not in numeric order
	}
	ls[2].RecipientName = "王小\U0010FFFD" // printed 王*U+10FFFD
	var buf bytes.Buffer
	flags, err := newRenderer(t).Batch(&buf, ls)
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) != 1 || flags[0].Index != 2 || flags[0].Number != ls[2].WaybillNo {
		t.Errorf("flags %v", flags)
	}
	pdf := buf.Bytes()
	if n := pageCount(t, pdf); n != len(ls) {
		t.Fatalf("%d pages, want %d", n, len(ls))
	}
	for i, l := range ls { // in the order asked
		if text := pdfText(t, pdf, i+1, i+1); !strings.Contains(text, l.WaybillNo) {
			t.Errorf("page %d lacks %s", i+1, l.WaybillNo)
		}
	}
	last := ls[len(ls)-1]
	url, _ := labels.TrackURL(publicURL, last.WaybillNo)
	if got := decodePage(t, pdf, len(ls)); !slices.Equal(got, []string{"CODE-128:" + last.WaybillNo, "QR-Code:" + url}) {
		t.Errorf("last page decoded %q", got)
	}
}

func TestSheet(t *testing.T) {
	t.Parallel()
	var ls []labels.Label
	for i := range 9 {
		ls = append(ls, testLabel(200+i))
	}
	var buf bytes.Buffer
	if _, err := newRenderer(t).Sheet(&buf, ls); err != nil {
		t.Fatal(err)
	}
	pdf := buf.Bytes()
	if n := pageCount(t, pdf); n != 3 {
		t.Fatalf("9 labels on %d A4 pages, want 3", n)
	}
	var want []string
	for _, l := range ls[:4] {
		url, _ := labels.TrackURL(publicURL, l.WaybillNo)
		want = append(want, "CODE-128:"+l.WaybillNo, "QR-Code:"+url)
	}
	slices.Sort(want)
	if got := decodePage(t, pdf, 1); !slices.Equal(got, want) {
		t.Errorf("page 1 decoded %q, want %q", got, want)
	}
	text := pdfText(t, pdf, 3, 3)
	if !strings.Contains(text, ls[8].WaybillNo) || strings.Contains(text, ls[7].WaybillNo) {
		t.Errorf("page 3 should hold only the ninth label:\n%s", text)
	}
}

func TestBag(t *testing.T) {
	t.Parallel()
	b := labels.BagLabel{
		BagNo:       number("CB", 5000000000001),
		RunNo:       number("CR", 6000000000001),
		Origin:      labels.Place{Code: "D-SW", Name: "长春市商务局"},
		Destination: labels.Place{Code: "NA-HALL", Name: "农安县政务服务中心"},
		Route:       "D-SW → CC-HUB → NA-HALL",
		SealNo:      "FQ20261127-0042",
		Parcels:     37,
		SealedAt:    time.Date(2026, 11, 27, 6, 30, 0, 0, time.UTC),
	}
	var buf bytes.Buffer
	if _, err := newRenderer(t).Bag(&buf, b); err != nil {
		t.Fatal(err)
	}
	pdf := buf.Bytes()
	want := []string{"CODE-128:" + b.BagNo, "QR-Code:" + b.BagNo}
	if got := decodePage(t, pdf, 1); !slices.Equal(got, want) {
		t.Errorf("decoded %q, want %q", got, want)
	}
	text := pdfText(t, pdf, 0, 0)
	for _, s := range []string{"农安县政务服务中心（NA-HALL）", "发出：长春市商务局（D-SW）", "批次：" + b.RunNo,
		"线路：D-SW → CC-HUB → NA-HALL", "封签号", b.SealNo, "37 件", "封袋时间：2026-11-27 14:30"} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
}

func testManifest(n int) labels.Manifest {
	m := labels.Manifest{
		RunNo:       number("CR", 7000000000001),
		BagNo:       number("CB", 7000000000002),
		Origin:      labels.Place{Code: "D-SW", Name: "长春市商务局"},
		Destination: labels.Place{Code: "CC-HUB", Name: "长春市政务服务中心 物料流转区"},
		Route:       "D-SW → CC-HUB",
		SealNo:      "FQ20261127-0043",
		CreatedAt:   time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC),
	}
	types := []string{"营业执照", "不动产权证书", "食品经营许可证"}
	for i := range n {
		m.Parcels = append(m.Parcels, labels.ManifestParcel{
			WaybillNo:     number("CP", 7100000000000+i),
			Kind:          shipment.KindCertificate,
			CertType:      types[i%3],
			RecipientName: "赵钱孙" + string(rune('甲'+i%10)),
		})
	}
	return m
}

func TestManifest(t *testing.T) {
	t.Parallel()
	m := testManifest(70)
	m.Parcels[5].RecipientName = "𠮷小䶮"
	var buf bytes.Buffer
	flags, err := newRenderer(t).Manifest(&buf, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) != 0 {
		t.Errorf("flags %v", flags)
	}
	pdf := buf.Bytes()
	pages := pageCount(t, pdf)
	if pages < 3 {
		t.Fatalf("70 parcels on %d pages", pages)
	}
	all := ""
	for p := 1; p <= pages; p++ {
		text := pdfText(t, pdf, p, p)
		all += text
		for _, s := range []string{"集中流转交接清单", "批次号 " + m.RunNo, "封签号：" + m.SealNo, "封袋号：" + m.BagNo,
			"长春市商务局（D-SW）", fmt.Sprintf("第 %d / %d 页", p, pages)} {
			if !strings.Contains(squash(text), squash(s)) {
				t.Errorf("page %d lacks %q:\n%s", p, s, text)
			}
		}
	}
	flat := squash(all)
	for _, p := range m.Parcels {
		if !strings.Contains(all, p.WaybillNo) {
			t.Errorf("manifest lacks %s", p.WaybillNo)
		}
	}
	for _, s := range []string{"赵**甲", "𠮷*䶮", "合计70件：营业执照24件；不动产权证书23件；食品经营许可证23件", "交出方：长春市商务局（D-SW）",
		"接收方：长春市政务服务中心物料流转区（CC-HUB）", "签名：", "时间："} {
		if !strings.Contains(flat, squash(s)) {
			t.Errorf("manifest lacks %q", s)
		}
	}
	if strings.Contains(flat, "赵钱孙") {
		t.Error("manifest shows a full name")
	}
	if got := decodePage(t, pdf, 2); !slices.Equal(got, []string{"QR-Code:" + m.RunNo}) {
		t.Errorf("page 2 decoded %q", got)
	}
}

// TestErrors: input that cannot be printed gives a coded error naming the
// offending items, and nothing is written.
func TestErrors(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	bad := func(f func(*labels.Label)) labels.Label {
		l := testLabel(300)
		f(&l)
		return l
	}
	many := make([]labels.Label, labels.MaxBatch+1)
	for i := range many {
		many[i] = testLabel(i)
	}
	mixed := []labels.Label{testLabel(1), bad(func(l *labels.Label) { l.WaybillNo = "" }), testLabel(2),
		bad(func(l *labels.Label) { l.WaybillNo = "CP4821937460001X" }), bad(func(l *labels.Label) { l.RecipientName = " " })}

	tests := []struct {
		name   string
		render func(w *bytes.Buffer) error
		code   string
		field  string
		args   map[string]any
	}{
		{"ErrWaybillMissing", func(w *bytes.Buffer) error {
			_, err := r.Waybill(w, bad(func(l *labels.Label) { l.WaybillNo = "" }))
			return err
		}, labels.CodeWaybillInvalid, "waybill_no", map[string]any{"items": "#1"}},
		{"ErrWaybillCheckChar", func(w *bytes.Buffer) error {
			_, err := r.Waybill(w, bad(func(l *labels.Label) { l.WaybillNo = "CP4821937460001X" }))
			return err
		}, labels.CodeWaybillInvalid, "waybill_no", map[string]any{"items": "#1 CP4821937460001X"}},
		{"ErrWaybillIsBagNumber", func(w *bytes.Buffer) error {
			_, err := r.Waybill(w, bad(func(l *labels.Label) { l.WaybillNo = number("CB", 1) }))
			return err
		}, labels.CodeWaybillInvalid, "waybill_no", nil},
		{"ErrRecipientMissing", func(w *bytes.Buffer) error {
			_, err := r.Waybill(w, bad(func(l *labels.Label) { l.RecipientName = "" }))
			return err
		}, labels.CodeFieldInvalid, "recipient_name", map[string]any{"field": "recipient_name"}},
		{"ErrExpressAddress", func(w *bytes.Buffer) error {
			_, err := r.Waybill(w, bad(func(l *labels.Label) { l.Express = true }))
			return err
		}, labels.CodeFieldInvalid, "address", nil},
		{"ErrKind", func(w *bytes.Buffer) error {
			_, err := r.Waybill(w, bad(func(l *labels.Label) { l.Kind = "parcel" }))
			return err
		}, labels.CodeFieldInvalid, "kind", nil},
		{"ErrRunNo", func(w *bytes.Buffer) error {
			_, err := r.Waybill(w, bad(func(l *labels.Label) { l.RunNo = "CR123" }))
			return err
		}, labels.CodeFieldInvalid, "run_no", nil},
		{"ErrBatchEmpty", func(w *bytes.Buffer) error {
			_, err := r.Batch(w, nil)
			return err
		}, labels.CodeBatchEmpty, "", nil},
		{"ErrBatchTooLarge", func(w *bytes.Buffer) error {
			_, err := r.Batch(w, many)
			return err
		}, labels.CodeBatchTooLarge, "", map[string]any{"count": labels.MaxBatch + 1, "max": labels.MaxBatch}},
		{"ErrSheetTooLarge", func(w *bytes.Buffer) error {
			_, err := r.Sheet(w, many)
			return err
		}, labels.CodeBatchTooLarge, "", nil},
		{"ErrBatchNamesEveryBadLabel", func(w *bytes.Buffer) error {
			_, err := r.Batch(w, mixed)
			return err
		}, labels.CodeBatchInvalid, "", map[string]any{
			"items":   "#2 (waybill_no); #4 CP4821937460001X (waybill_no); #5 " + testLabel(300).WaybillNo + " (recipient_name)",
			"indexes": []int{1, 3, 4}, "count": 3,
		}},
		{"ErrSheetNamesBadLabel", func(w *bytes.Buffer) error {
			_, err := r.Sheet(w, mixed)
			return err
		}, labels.CodeBatchInvalid, "", map[string]any{"count": 3}},
		{"ErrBagNo", func(w *bytes.Buffer) error {
			_, err := r.Bag(w, labels.BagLabel{BagNo: number("CP", 1), Origin: labels.Place{Name: "甲"}, Destination: labels.Place{Name: "乙"}})
			return err
		}, labels.CodeBagNoInvalid, "bag_no", nil},
		{"ErrBagDestination", func(w *bytes.Buffer) error {
			_, err := r.Bag(w, labels.BagLabel{BagNo: number("CB", 1), Origin: labels.Place{Name: "甲"}})
			return err
		}, labels.CodeFieldInvalid, "destination", nil},
		{"ErrManifestRunNo", func(w *bytes.Buffer) error {
			m := testManifest(3)
			m.RunNo = "CR"
			_, err := r.Manifest(w, m)
			return err
		}, labels.CodeRunNoInvalid, "run_no", nil},
		{"ErrManifestEmpty", func(w *bytes.Buffer) error {
			_, err := r.Manifest(w, testManifest(0))
			return err
		}, labels.CodeManifestEmpty, "", nil},
		{"ErrManifestTooLarge", func(w *bytes.Buffer) error {
			_, err := r.Manifest(w, testManifest(labels.MaxManifestParcels+1))
			return err
		}, labels.CodeManifestTooLarge, "", map[string]any{"max": labels.MaxManifestParcels}},
		{"ErrManifestParcel", func(w *bytes.Buffer) error {
			m := testManifest(10)
			m.Parcels[7].WaybillNo = "cp-lower"
			_, err := r.Manifest(w, m)
			return err
		}, labels.CodeManifestInvalid, "", map[string]any{"items": "#8 cp-lower (waybill_no)", "indexes": []int{7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := tt.render(&buf)
			e := apperr.As(err)
			if e == nil {
				t.Fatalf("error %v, want *apperr.Error %s", err, tt.code)
			}
			if e.Code != tt.code || e.Kind != apperr.Invalid || e.Field != tt.field {
				t.Errorf("error %v, want code %s field %q", err, tt.code, tt.field)
			}
			for k, v := range tt.args {
				if fmt.Sprint(e.Args[k]) != fmt.Sprint(v) {
					t.Errorf("arg %s = %v, want %v", k, e.Args[k], v)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
}

// TestConcurrent: one renderer serves many goroutines, with the same
// output as serially.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	r, err := labels.NewRenderer(labels.Options{PublicURL: publicURL, CreationDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	l := testLabel(400)
	l.RecipientName = "𠮷小䶮"
	var want bytes.Buffer
	if _, err := r.Waybill(&want, l); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				var got bytes.Buffer
				if _, err := r.Waybill(&got, l); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Error("concurrent output differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestTrackURL(t *testing.T) {
	t.Parallel()
	no := number("CP", 4821937460215)
	for base, want := range map[string]string{
		"https://zwfw.example.cn":           "HTTPS://ZWFW.EXAMPLE.CN/T/" + no,
		"https://zwfw.example.cn/":          "HTTPS://ZWFW.EXAMPLE.CN/T/" + no,
		"http://Localhost:8080":             "HTTP://LOCALHOST:8080/T/" + no,
		" https://example.cn/courier/ ":     "HTTPS://EXAMPLE.CN/courier/T/" + no,
		"https://xn--fiq228c.example.cn/gw": "HTTPS://XN--FIQ228C.EXAMPLE.CN/gw/T/" + no,
	} {
		got, err := labels.TrackURL(base, no)
		if err != nil || got != want {
			t.Errorf("TrackURL(%q) = %q, %v; want %q", base, got, err, want)
		}
	}
	// the default form is entirely in QR's alphanumeric set
	got, _ := labels.TrackURL("https://zwfw.example.cn", no)
	for _, c := range got {
		if !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", c) {
			t.Errorf("%q: %q is not QR alphanumeric", got, c)
		}
	}
	// and the scanner parser reads it back
	if c, err := shipment.ParseCode(got); err != nil || c.Number != no {
		t.Errorf("ParseCode(%q) = %v, %v", got, c, err)
	}
	for _, base := range []string{"", "zwfw.example.cn", "ftp://x.cn", "https://x.cn/?a=1", "https://x.cn/#f", "https://u:p@x.cn", "https://"} {
		if _, err := labels.TrackURL(base, no); err == nil {
			t.Errorf("TrackURL(%q) accepted", base)
		}
		if _, err := labels.NewRenderer(labels.Options{PublicURL: base}); err == nil {
			t.Errorf("NewRenderer(%q) accepted", base)
		}
	}
	if _, err := labels.TrackURL("https://x.cn", "CP1"); apperr.CodeOf(err) != labels.CodeWaybillInvalid {
		t.Errorf("bad number: %v", err)
	}
}
