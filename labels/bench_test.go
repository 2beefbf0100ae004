package labels

// Benchmarks: go test -run='^$' -bench=. -benchmem ./labels/
//
// The baseline is a bare fpdf document with, per page, one line of CJK text,
// one Code 128 and one QR code (the same payloads, drawn as vector
// rectangles with fpdf's own Rect), in the same embedded font. Targets: a
// 1,000-label batch within 1.5× the baseline's 1,000 pages, a single label
// within 1.5× a single baseline page. BenchmarkRatio* run both in the same
// iteration and report the ratio; BenchmarkMemory100k reports the heap in
// use while printing 100,000 labels in a row.

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/boombuler/barcode/code128"
	"github.com/skip2/go-qrcode"

	"github.com/changchun-gov/courier/shipment"
)

const benchPublicURL = "https://zwfw.changchun.gov.cn"

var benchRenderer = sync.OnceValue(func() *Renderer {
	r, err := NewRenderer(Options{PublicURL: benchPublicURL})
	if err != nil {
		panic(err)
	}
	return r
})

// benchNumber returns the i-th deterministic parcel number of a run.
func benchNumber(prefix string, i int) string {
	body := fmt.Sprintf("%s%013d", prefix, 4821937460000+i*7919)
	return body + string(shipment.CheckChar(body))
}

// rareBench are Extension-B characters some benchmark names carry: more
// distinct characters than the outline cache holds.
func rareBench(i int) string { return string(rune(0x20000 + (i*37)%40000)) }

// benchLabels returns n realistic labels; every 10th has a rare name, every
// 4th goes by express.
func benchLabels(n int) []Label {
	ls := make([]Label, n)
	names := []string{"张小三", "欧阳小锋", "李四", "王建国", "赵堃喆"}
	for i := range ls {
		l := Label{
			WaybillNo:     benchNumber("CP", i),
			Kind:          shipment.KindCertificate,
			Origin:        Place{"D-SW", "长春市商务局"},
			Destination:   Place{"NA-HALL", "农安县政务服务中心"},
			Window:        "3号窗口（不动产登记）",
			RecipientName: names[i%len(names)],
			Phone:         fmt.Sprintf("139%08d", i),
			CertType:      "营业执照",
			Leg:           "D-SW → CC-HUB",
			RunNo:         benchNumber("CR", i/50),
			RegisteredAt:  time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC),
		}
		if i%10 == 3 {
			l.RecipientName = rareBench(i) + "小" + rareBench(i+1)
		}
		if i%4 == 1 {
			l.Express = true
			l.Address = shipment.Address{Province: "吉林省", City: "长春市", District: "南关区", Street: "永吉街道", Detail: fmt.Sprintf("人民大街%d号", 100+i), Unit: "3单元502室"}
		}
		ls[i] = l
	}
	return ls
}

// baseline writes the bare reference document: per page one line of CJK
// text, one Code 128 and one QR code, in the same font.
func baseline(w io.Writer, labels []Label) error {
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: 100, Ht: 150}})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddUTF8FontFromBytes("wqy", "", primaryTTF)
	pdf.SetFont("wqy", "", 12)
	pdf.SetFillColor(0, 0, 0)
	for _, l := range labels {
		pdf.AddPage()
		pdf.Text(5, 15, "农安县政务服务中心 证照寄递 "+l.WaybillNo)
		bc, err := code128.Encode(l.WaybillNo)
		if err != nil {
			return err
		}
		n := bc.Bounds().Dx()
		mod := 90.0 / float64(n+20)
		for i := 0; i < n; {
			if !isDark(bc.At(i, 0)) {
				i++
				continue
			}
			j := i
			for j < n && isDark(bc.At(j, 0)) {
				j++
			}
			pdf.Rect(5+float64(10+i)*mod, 25, float64(j-i)*mod, 15, "F")
			i = j
		}
		q, err := qrcode.New(benchPublicURL+"/T/"+l.WaybillNo, qrcode.High)
		if err != nil {
			return err
		}
		q.DisableBorder = true
		bm := q.Bitmap()
		m := 28.5 / float64(len(bm)+8)
		for row, cells := range bm {
			for i := 0; i < len(cells); {
				if !cells[i] {
					i++
					continue
				}
				j := i
				for j < len(cells) && cells[j] {
					j++
				}
				pdf.Rect(5+float64(4+i)*m, 60+float64(4+row)*m, float64(j-i)*m, m, "F")
				i = j
			}
		}
	}
	return pdf.Output(w)
}

func isDark(c color.Color) bool {
	r, _, _, _ := c.RGBA()
	return r < 0x8000
}

func BenchmarkBaselinePage(b *testing.B) {
	ls := benchLabels(1)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := baseline(&buf, ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "pdf-bytes")
}

func BenchmarkWaybill(b *testing.B) {
	r := benchRenderer()
	l := benchLabels(1)[0]
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if _, err := r.Waybill(&buf, l); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "pdf-bytes")
}

func BenchmarkBaseline1000(b *testing.B) {
	ls := benchLabels(1000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := baseline(&buf, ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "pdf-bytes")
}

func BenchmarkBatch1000(b *testing.B) {
	r := benchRenderer()
	ls := benchLabels(1000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if _, err := r.Batch(&buf, ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "pdf-bytes")
}

// ratio times ours and the baseline alternately, so both see the same
// machine state, and reports both and their ratio.
func ratio(b *testing.B, n int, ours func([]Label) error) {
	ls := benchLabels(n)
	var tBase, tOurs time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := baseline(io.Discard, ls); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := ours(ls); err != nil {
			b.Fatal(err)
		}
		tOurs += time.Since(t1)
		tBase += t1.Sub(t0)
	}
	b.ReportMetric(float64(tBase.Microseconds())/1000/float64(b.N), "baseline-ms")
	b.ReportMetric(float64(tOurs.Microseconds())/1000/float64(b.N), "ours-ms")
	b.ReportMetric(float64(tOurs)/float64(tBase), "ratio")
}

func BenchmarkRatioSingle(b *testing.B) {
	r := benchRenderer()
	ratio(b, 1, func(ls []Label) error {
		_, err := r.Waybill(io.Discard, ls[0])
		return err
	})
}

func BenchmarkRatioBatch1000(b *testing.B) {
	r := benchRenderer()
	ratio(b, 1000, func(ls []Label) error {
		_, err := r.Batch(io.Discard, ls)
		return err
	})
}

// BenchmarkMemory100k prints 100,000 labels in a row (100 batches of
// 1,000 into io.Discard) and reports the heap in use after a collection at
// every 10,000 labels: heap-10k-MB (after the first 10,000), heap-100k-MB
// (at the end), heap-max-MB, and growth = heap-100k / heap-10k. Flat
// memory means growth near 1. Run it alone:
//
//	go test -run='^$' -bench=Memory100k -benchtime=1x ./labels/
func BenchmarkMemory100k(b *testing.B) {
	r := benchRenderer()
	const total, batch = 100_000, 1000
	ls := benchLabels(batch)
	heap := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse) / (1 << 20)
	}
	for b.Loop() {
		var first, last, peak float64
		for done := 0; done < total; done += batch {
			for i := range ls { // fresh numbers each batch
				ls[i].WaybillNo = benchNumber("CP", done+i)
				if i%10 == 3 {
					ls[i].RecipientName = rareBench(done+i) + "小" + rareBench(done+i+1)
				}
			}
			if _, err := r.Batch(io.Discard, ls); err != nil {
				b.Fatal(err)
			}
			if (done+batch)%10_000 == 0 {
				h := heap()
				b.Logf("labels %6d: heap in use %.1f MB", done+batch, h)
				if first == 0 {
					first = h
				}
				last, peak = h, max(peak, h)
			}
		}
		b.ReportMetric(first, "heap-10k-MB")
		b.ReportMetric(last, "heap-100k-MB")
		b.ReportMetric(peak, "heap-max-MB")
		b.ReportMetric(last/first, "growth")
	}
}
