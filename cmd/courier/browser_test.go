package main

import (
	"bytes"
	"context"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/changchun-gov/courier/internal/chromium"
	"github.com/changchun-gov/courier/shipment"
)

// The package's one headless Chromium, started by the first test that
// needs it; each test gets a tab in a browser context of its own.
var shared = struct {
	once sync.Once
	ctx  context.Context // the browser's
	err  string          // why there is none
	// sem bounds the tests driving the browser at once; turns are those
	// holding a turn.
	sem   chan struct{}
	turns sync.Map
}{sem: make(chan struct{}, 4)}

// browser opens a tab in the package's headless Chromium for one test,
// with a phone's screen (414 × 900). Under CI=true a missing Chromium is a
// set-up error; elsewhere the test is skipped with the reason.
func browser(t *testing.T) context.Context {
	t.Helper()
	shared.once.Do(startBrowser)
	if shared.ctx == nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(shared.err)
		}
		t.Skip(shared.err)
	}
	// A few tests at a time drive the one browser: on two cores, more tabs
	// at once (some decoding a camera's frames) only slow each other down
	// (a test holds its turn until it ends, however many tabs it opens).
	if _, held := shared.turns.LoadOrStore(t, true); !held {
		shared.sem <- struct{}{}
		t.Cleanup(func() {
			shared.turns.Delete(t)
			<-shared.sem
		})
	}
	// A browser context of its own (as a private window): tests that
	// run at once sign in to services on the same host, and cookies do
	// not tell ports apart.
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() {
		cancelT()
		cancel()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(414, 900)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func startBrowser() {
	path, err := chromium.Path()
	if err != nil {
		shared.err = err.Error()
		return
	}
	dir, err := os.MkdirTemp("", "courier-chromium-")
	if err != nil {
		shared.err = err.Error()
		return
	}
	// The fake camera plays a label's QR code (of cameraWaybill), then a
	// bag label's (cameraBag), a second each.
	cameraWaybill, cameraBag = shipment.NewNumber(shipment.KindParcel), shipment.NewNumber(shipment.KindBag)
	video := filepath.Join(dir, "label.y4m")
	if err := writeQRVideo(video, "HTTP://LOCALHOST:8080/T/"+cameraWaybill, cameraBag); err != nil {
		shared.err = "fake camera: " + err.Error()
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900), chromedp.UserDataDir(dir),
		// Staff and citizens ask for Chinese.
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelA()
		shared.err = "headless Chromium did not start: " + err.Error()
		return
	}
	shared.ctx = ctx
	stopBrowser = func() {
		cancel()
		cancelA()
		_ = os.RemoveAll(dir)
	}
}

// cameraWaybill is the waybill number of the QR code the fake camera shows,
// cameraBag the bag number of the bag label's it shows next.
var cameraWaybill, cameraBag string

// writeQRVideo writes a y4m video (what Chromium's fake camera plays) of
// QR codes of texts, a second each: 640 × 480 grey frames.
func writeQRVideo(path string, texts ...string) error {
	const w, h = 640, 480
	chroma := make([]byte, w*h/2) // U and V, each a quarter, all neutral
	for i := range chroma {
		chroma[i] = 128
	}
	var out bytes.Buffer
	out.WriteString("YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
	for _, text := range texts {
		q, err := qrcode.New(text, qrcode.Medium)
		if err != nil {
			return err
		}
		img := q.Image(400)
		y := make([]byte, w*h)
		for i := range y {
			y[i] = 255
		}
		b := img.Bounds()
		for py := 0; py < b.Dy(); py++ {
			for px := 0; px < b.Dx(); px++ {
				g := color.GrayModel.Convert(img.At(b.Min.X+px, b.Min.Y+py)).(color.Gray)
				y[(py+40)*w+px+120] = g.Y
			}
		}
		for range 10 {
			out.WriteString("FRAME\n")
			out.Write(y)
			out.Write(chroma)
		}
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// stopBrowser ends the shared browser (TestMain calls it).
var stopBrowser = func() {}

// The public track page as a citizen sees it on a phone: status and hall
// first; the phone tail opens the masked detail; English on request.
func TestTrackPageInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	reg := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678"))
	no, link := reg.str("waybill_no"), strings.TrimPrefix(reg.str("private_url"), "https://zwfw.example.cn")
	for _, st := range []struct{ who, action, site string }{{"courier", "pickup", ""}, {"staff", "receive", ""}, {"staff", "shelve", ""}} {
		if r := s.scan(tok[st.who], no, st.action, st.site); r.Status != 200 {
			t.Fatalf("%s: %s", st.action, r.Body)
		}
	}
	ctx := browser(t)
	// The label's QR text is upper case: /T/ works as well as /t/.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/T/"+no), chromedp.WaitVisible("#status")); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text("#status"))
	if err != nil || status != "待领取" {
		t.Fatalf("status %q %v", status, err)
	}
	hall, _ := chromedp.Run(ctx, chromedp.Text("#hall"))
	if !strings.Contains(hall, "长春市政务服务中心 出证窗口") || !strings.Contains(hall, "周一至周五") {
		t.Fatalf("hall: %q", hall)
	}
	legible(t, ctx, "number-alone view")
	body, _ := chromedp.Run(ctx, chromedp.Text("body"))
	// (The waybill number itself may hold the digits 5678.)
	if strings.Contains(body, "王") || strings.Contains(strings.ReplaceAll(body, no, ""), "5678") {
		t.Fatalf("number-alone view shows personal data: %q", body)
	}

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`input[name="phone_tail"]`, "5678"),
		chromedp.Submit(`input[name="phone_tail"]`),
		chromedp.WaitVisible("#recipient"),
	); err != nil {
		t.Fatal(err)
	}
	legible(t, ctx, "tail view")
	name, _ := chromedp.Run(ctx, chromedp.Text("#recipient"))
	phone, _ := chromedp.Run(ctx, chromedp.Text("#phone"))
	timeline, _ := chromedp.Run(ctx, chromedp.Text("#timeline"))
	if name != "王*明" || phone != "139****5678" || !strings.Contains(timeline, "上架") {
		t.Fatalf("detail: %q %q %q", name, phone, timeline)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil || len(shot) < 1000 {
		t.Fatalf("screenshot: %d bytes %v", len(shot), err)
	}
	if dir := os.Getenv("COURIER_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(dir+"/track-detail.png", shot, 0o644)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/t/"+no+"?lang=en"), chromedp.WaitVisible("#status")); err != nil {
		t.Fatal(err)
	}
	status, _ = chromedp.Run(ctx, chromedp.Text("#status"))
	if status != "Ready for collection" {
		t.Fatalf("english status %q", status)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/t/CP0000000000000X"), chromedp.WaitVisible("#error")); err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text("#error"))
	if !strings.Contains(msg, "未找到该运单") {
		t.Fatalf("unknown number page: %q", msg)
	}

	// The private link (sent, never printed) opens the detail without the tail.
	if !strings.HasPrefix(link, "/s/") {
		t.Fatalf("private url %q", reg.str("private_url"))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+link), chromedp.WaitVisible("#recipient")); err != nil {
		t.Fatal(err)
	}
	legible(t, ctx, "private link view")
	name, _ = chromedp.Run(ctx, chromedp.Text("#recipient"))
	timeline, _ = chromedp.Run(ctx, chromedp.Text("#timeline"))
	if name != "王*明" || !strings.Contains(timeline, "上架") {
		t.Fatalf("private link page: %q %q", name, timeline)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/s/"+shipment.NewLinkToken()), chromedp.WaitVisible("#error")); err != nil {
		t.Fatal(err)
	}
	msg, _ = chromedp.Run(ctx, chromedp.Text("#error"))
	if !strings.Contains(msg, "链接无效或已过期") {
		t.Fatalf("unknown link page: %q", msg)
	}
}

// legibleJS lists what breaks the pages' rules for a busy counter and a
// phone: visible text under 16 px, links, buttons and inputs under 44 px.
const legibleJS = `(() => {
	const bad = [];
	for (const el of document.body.querySelectorAll('*')) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		const cs = getComputedStyle(el);
		const ownText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== '');
		if (ownText && parseFloat(cs.fontSize) < 16) bad.push(el.tagName + ' text ' + cs.fontSize + ': ' + el.textContent.trim().slice(0, 20));
		// A radio button or check box is touched through its label.
		const box = /^(radio|checkbox)$/.test(el.type) && el.closest('label') ? el.closest('label').getBoundingClientRect() : r;
		if (/^(A|BUTTON|INPUT|SELECT)$/.test(el.tagName) && (box.height < 44 || box.width < 44)) bad.push(el.tagName + ' target ' + Math.round(box.width) + 'x' + Math.round(box.height));
	}
	return bad;
})()`

// legible fails the test when the page shown breaks legibleJS's rules.
func legible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](legibleJS))
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	if len(bad) > 0 {
		t.Errorf("%s is hard to read or to touch: %v", page, bad)
	}
}
