package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/text/encoding/simplifiedchinese"

	svc "github.com/changchun-gov/courier/internal/service"
	"github.com/changchun-gov/courier/internal/sheet"
	"github.com/changchun-gov/courier/shipment"
	"github.com/changchun-gov/courier/tracking"
)

// shot keeps a screenshot of the page when COURIER_SCREENSHOTS names a
// directory, and always when the test has failed (into the test's
// temporary directory, named in the log).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("COURIER_SCREENSHOTS")
	if dir == "" && !t.Failed() {
		return
	}
	if dir == "" {
		dir = os.TempDir()
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := dir + "/" + name + ".png"
	if err := os.WriteFile(p, b, 0o644); err == nil {
		t.Logf("screenshot: %s", p)
	}
}

// noSideways fails when the page is wider than the screen (it would
// scroll sideways on a 360 px phone).
func noSideways(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if w > 0 {
		t.Errorf("%s scrolls sideways by %d px", page, w)
	}
}

// walk registers a certificate for CC-WIN (by D-SW's clerk) and takes it
// through actions, each by its usual hand: pickup by the courier, the
// others by CC-WIN's staff.
func (s *service) walk(tok map[string]string, actions ...string) string {
	s.t.Helper()
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	for _, a := range actions {
		who := "staff"
		if a == "pickup" {
			who = "courier"
		}
		if r := s.scan(tok[who], no, a, ""); r.Status != 200 {
			s.t.Fatalf("%s: %s", a, r.Body)
		}
	}
	return no
}

// firstKind is how the newest scan shows: done, repeat or refused.
func firstKind(t *testing.T, ctx context.Context) string {
	t.Helper()
	k, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#results li').dataset.kind`))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return s
}

// The window staff's day starts at the sign-in page and goes on at the scan
// station: a wrong password keeps the username and says why beside the
// field; the right one opens the page first asked for; scans typed by a
// wedge scanner (keys, then Enter), once behind a Chinese input method,
// show at once with their result; a repeat counts once; an unknown code
// goes to the exceptions; signing out ends the session. At 360 px nothing
// scrolls sideways.
func TestScanStationInChromium(t *testing.T) {
	t.Parallel()
	// The browser reaches the service over plain http: its cookies are
	// not Secure then.
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	nos := []string{s.walk(tok, "pickup"), s.walk(tok, "pickup")}
	ctx := browser(t)
	defer shot(t, ctx, "scan-station-last")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 800)); err != nil {
		t.Fatal(err)
	}

	// Not signed in: the scan station sends the browser to sign in, and back.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan"), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if u, err := url.Parse(loc); err != nil || u.Path != "/login" || u.Query().Get("next") != "/scan" {
		t.Fatalf("not signed in, /scan went to %s", loc)
	}
	legible(t, ctx, "sign-in page")
	noSideways(t, ctx, "sign-in page")
	shot(t, ctx, "login-360")

	if err := chromedp.Do(ctx, chromedp.SendKeys("#username", "u-staff"), chromedp.SendKeys("#password", "wrong-password"),
		chromedp.Click("#sign-in"), chromedp.WaitVisible("#password-error")); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, "#password-error"); msg != "用户名或密码错误" {
		t.Fatalf("wrong password says %q", msg)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value("#username")); v != "u-staff" {
		t.Fatalf("the username typed is not kept: %q", v)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#password", "password-staff-1"), chromedp.Click("#sign-in"),
		chromedp.WaitVisible("#scan-form")); err != nil {
		t.Fatal(err)
	}
	if who := text(t, ctx, "#who"); who != "u-staff" {
		t.Fatalf("signed in as %q", who)
	}
	legible(t, ctx, "scan station")
	noSideways(t, ctx, "scan station")

	// The first action the staff may take is chosen: receive.
	checked, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('input[name=action]:checked').value`))
	if checked != "receive" {
		t.Fatalf("action chosen at first: %q", checked)
	}
	// A receive asks neither for a slot nor for a reason.
	shown, _ := chromedp.Run(ctx, chromedp.Evaluate[[]bool](`['slot-row', 'reason-row'].map(id => document.getElementById(id).offsetParent !== null)`))
	if len(shown) != 2 || shown[0] || shown[1] {
		t.Fatalf("receive shows the slot and reason fields: %v", shown)
	}
	focused := func() string {
		id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement && document.activeElement.id`))
		return id
	}
	if f := focused(); f != "code" {
		t.Fatalf("the scan field has no focus (%q has)", f)
	}

	// A wedge scanner: the code's keys, then Enter.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(nos[0]+"\r"), chromedp.WaitVisible("#results li")); err != nil {
		t.Fatal(err)
	}
	first := text(t, ctx, "#results li:first-child")
	kind := firstKind(t, ctx)
	if kind != "done" || !strings.Contains(first, nos[0]) || !strings.Contains(first, "已到达") {
		t.Fatalf("first scan shows %q (%s)", first, kind)
	}
	if n := text(t, ctx, "#count"); n != "1" {
		t.Fatalf("count after one scan: %s", n)
	}
	if f := focused(); f != "code" {
		t.Fatalf("after a scan the focus is on %q", f)
	}
	// The same label again: a repeat, not counted.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(nos[0]+"\r"),
		chromedp.WaitVisible(`#results li:nth-child(2)`)); err != nil {
		t.Fatal(err)
	}
	kind = firstKind(t, ctx)
	if kind != "repeat" {
		t.Fatalf("a second receive of the same parcel shows as %q", kind)
	}

	// Behind a Chinese input method: the scanner's keys arrive as a
	// composition, ended with the whole text, then Enter.
	if _, err := chromedp.Call(ctx, input.ImeSetComposition, input.ImeSetCompositionParams{Text: "cp", SelectionStart: 2, SelectionEnd: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: nos[1]}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#results li:nth-child(3)`)); err != nil {
		t.Fatal(err)
	}
	first = text(t, ctx, "#results li:first-child")
	kind = firstKind(t, ctx)
	if kind != "done" || !strings.Contains(first, nos[1]) {
		t.Fatalf("the scan behind an input method shows %q (%s)", first, kind)
	}
	if banner, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById('ime-banner').hidden`)); !banner {
		t.Fatal("no banner asks to switch the input method")
	}
	if n := text(t, ctx, "#count"); n != "2" {
		t.Fatalf("count after two parcels: %s", n)
	}

	// Something that is not one of our codes: to the exceptions list.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("HELLO123\r"), chromedp.WaitVisible("#exceptions li")); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, "#exceptions li:first-child"); !strings.Contains(msg, "HELLO123") || !strings.Contains(msg, "条码") {
		t.Fatalf("unknown code shows %q", msg)
	}
	legible(t, ctx, "scan station with results")
	noSideways(t, ctx, "scan station with results")
	shot(t, ctx, "scan-360")

	// A script's call without the page's CSRF token is refused.
	cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	// HttpOnly: the page's scripts see none of our cookies.
	if cookies != "" {
		t.Fatalf("cookies readable by scripts: %q", cookies)
	}
	status, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => (await fetch('/app/api/scans', {method: 'POST',
		headers: {'Content-Type': 'application/json'}, body: JSON.stringify({code: 'x', action: 'receive', scan_id: 'csrf-1'})})).status)()`,
		chromedp.EvalAwaitPromise))
	if status != http.StatusForbidden {
		t.Fatalf("a call without the CSRF token answered %d, want 403", status)
	}

	// The language switch: English on request, kept, and back.
	switchLang(t, ctx)
	if h := text(t, ctx, "h1"); h != "Scan station" {
		t.Fatalf("after switching to English the title is %q", h)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/"), chromedp.WaitVisible("h1")); err != nil {
		t.Fatal(err)
	}
	if h := text(t, ctx, "h1"); h != "Home" {
		t.Fatalf("English is not kept: the home page says %q", h)
	}
	switchLang(t, ctx)
	if h := text(t, ctx, "h1"); h != "首页" {
		t.Fatalf("back to Chinese, the home page says %q", h)
	}

	// Sign out: back at the sign-in page, and the scan station asks again.
	if err := chromedp.Do(ctx, chromedp.Click("#logout"), chromedp.WaitVisible("#login-form"),
		chromedp.Navigate(s.base+"/scan"), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatal(err)
	}
}

// switchLang follows the page's language link, as a click would, and
// waits for the page it leads back to (a click's wait could find the old
// page still there).
func switchLang(t *testing.T, ctx context.Context) {
	t.Helper()
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('lang').href`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(href), chromedp.WaitVisible("h1")); err != nil {
		t.Fatal(err)
	}
}

// changed tells the page a select's value changed (SetValue does not).
func changed(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('`+sel+`').dispatchEvent(new Event('change', {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
}

// arrived waits until the tab has navigated to an address containing part
// and shows sel (a click's navigation: waiting for sel alone could find it
// on the page before).
func arrived(t *testing.T, ctx context.Context, part, sel string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.href.includes(`+strconv.Quote(part)+`) && document.readyState === 'complete' && !!document.querySelector(`+strconv.Quote(sel)+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s with %s: %v", part, sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// poll waits until the expression is true in the page.
func poll(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// signIn signs a tab in through the sign-in page.
func signIn(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", password), chromedp.Click("#sign-in"),
		chromedp.WaitVisible("#who")); err != nil {
		t.Fatal(err)
	}
}

// A department clerk registers a certificate at the desk: the form says
// what is wrong as they type (the service's own rules) and shows the
// route; saving opens the parcel with its label to print; the same form
// sent again makes no second parcel.
func TestDeskRegistersInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	s.users()
	ctx := browser(t)
	defer shot(t, ctx, "desk-last")
	signIn(t, ctx, s.base, "u-clerk", "password-clerk-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/new"), chromedp.WaitVisible("#register-form"),
		chromedp.SetValue("#dest_site", "ED-HALL")); err != nil {
		t.Fatal(err)
	}
	changed(t, ctx, "#dest_site")
	poll(t, ctx, `document.getElementById('path').textContent.includes('→')`)
	if route := text(t, ctx, "#path"); !strings.Contains(route, "→") || !strings.Contains(route, "二道") {
		t.Fatalf("route shown: %q", route)
	}
	// A phone number that is none: said beside the phone field (the
	// fields above it filled in, in the form's order).
	if err := chromedp.Do(ctx, chromedp.SetValue("#cert_type", "business_licence")); err != nil {
		t.Fatal(err)
	}
	changed(t, ctx, "#cert_type")
	if err := chromedp.Do(ctx, chromedp.SendKeys("#application_no", "SW-2026-DESK-1"), chromedp.SendKeys("#name", "王小明"),
		chromedp.SendKeys("#phone", "1391234"),
		chromedp.WaitVisible(`.live-error[data-field="phone"]`)); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, `.live-error[data-field="phone"]`); !strings.Contains(msg, "手机") {
		t.Fatalf("phone error: %q", msg)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#phone", "5678"), chromedp.SendKeys("#id_number", "11010519491231002X")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `!document.querySelector('.live-error')`)
	legible(t, ctx, "desk registration")
	noSideways(t, ctx, "desk registration")
	shot(t, ctx, "desk-new-414")
	if err := chromedp.Do(ctx, chromedp.Click("#register"), chromedp.WaitVisible("#waybill")); err != nil {
		t.Fatal(err)
	}
	no := text(t, ctx, "#waybill")
	if st := text(t, ctx, "#status"); st != "已登记" || !strings.HasPrefix(no, "CP") {
		t.Fatalf("registered %q: %q", no, st)
	}
	legible(t, ctx, "parcel page")
	// The label prints as a PDF.
	pdf, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const r = await fetch('/desk/print', {method: 'POST', body: new FormData(document.getElementById('print-form'))});
		return r.headers.get('Content-Type') + ' ' + (await r.text()).slice(0, 5);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || pdf != "application/pdf %PDF-" {
		t.Fatalf("print: %q %v", pdf, err)
	}
	// The same form sent again (a reload, a second click): the same
	// parcel, no second one.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/new"), chromedp.WaitVisible("#register-form"),
		chromedp.SetValue("#dest_site", "ED-HALL"), chromedp.SetValue("#application_no", "SW-2026-DESK-1"),
		chromedp.SetValue("#name", "王小明"), chromedp.SetValue("#phone", "13912345678"), chromedp.SetValue("#cert_type", "business_licence"),
		chromedp.SetValue("#id_number", "11010519491231002X")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#register"), chromedp.WaitVisible("#waybill")); err != nil {
		t.Fatal(err)
	}
	if again := text(t, ctx, "#waybill"); again != no {
		t.Fatalf("the same form again made %s, first %s", again, no)
	}
	// The desk's list finds it by its application number, once.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/parcels"), chromedp.WaitVisible("#list-form"),
		chromedp.SendKeys("#q", "SW-2026-DESK-1\r")); err != nil {
		t.Fatal(err)
	}
	arrived(t, ctx, "q=SW-2026-DESK-1", "#parcel-list")
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#parcel-list li .no')].map(a => a.textContent)`))
	if len(rows) != 1 || rows[0] != no {
		t.Fatalf("the list by application number: %v, want [%s]", rows, no)
	}
	legible(t, ctx, "parcel list")
	noSideways(t, ctx, "parcel list")
	// By destination and day: ED-HALL today finds it, NG-HALL nothing.
	today := time.Now().In(tracking.Shanghai).Format(time.DateOnly)
	for dest, want := range map[string]string{"ED-HALL": no, "NG-HALL": ""} {
		// The form's own query, as its GET submits it.
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/parcels?q=&status=&dest="+dest+"&from="+today+"&to="+today),
			chromedp.WaitVisible("#parcel-list, #empty")); err != nil {
			t.Fatal(err)
		}
		if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('dest').value + ' ' + document.getElementById('from').value`)); got != dest+" "+today {
			t.Fatalf("the form keeps %q, want %q", got, dest+" "+today)
		}
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#parcel-list li .no')].map(a => a.textContent)`))
		if (want == "" && len(rows) != 0) || (want != "" && (len(rows) != 1 || rows[0] != want)) {
			t.Fatalf("the list for %s today: %v, want %q", dest, rows, want)
		}
	}
	shot(t, ctx, "desk-list-filtered")

	// Cancelled before pickup, with a reason: without one, the form says so
	// beside the field and the parcel stays registered.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/parcels/"+no), chromedp.WaitVisible("#cancel-form"),
		chromedp.Click("#cancel"), chromedp.WaitVisible("#cancel-form .field-error")); err != nil {
		t.Fatal(err)
	}
	if msg, st := text(t, ctx, "#cancel-form .field-error"), text(t, ctx, "#status"); !strings.Contains(msg, "原因") || st != "已登记" {
		t.Fatalf("cancel without a reason: %q, status %q", msg, st)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue("#reason", "applicant_withdrew"), chromedp.Click("#cancel"),
		chromedp.WaitNotPresent("#cancel-form")); err != nil {
		t.Fatal(err)
	}
	if st := text(t, ctx, "#status"); st != "已撤销" {
		t.Fatalf("after the cancel: %q", st)
	}
}

// A clerk imports the approval platform's export (a GBK CSV): the preview
// lists the refused row and why, the good rows are registered and their
// labels print as one batch; the same file again registers nothing new.
func TestDeskImportsInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	s.users()
	hdr, _ := svc.ImportTemplate(shipment.KindCertificate)
	csv, err := simplifiedchinese.GBK.NewEncoder().Bytes(sheet.CSV(hdr, [][]string{
		{"SW-IMP-1", "营业执照", "", "个人", "王小明", "", "13912345678", "居民身份证", "11010519491231002X", "二道区政务服务中心", ""},
		{"SW-IMP-2", "营业执照", "", "个人", "李四", "", "13812345678", "居民身份证", "11010519491231002X", "CC-WIN", ""},
		{"SW-IMP-3", "营业执照", "", "个人", "赵五", "", "1381234", "居民身份证", "11010519491231002X", "CC-WIN", ""},
	})[3:])
	if err != nil {
		t.Fatal(err)
	}
	file := t.TempDir() + "/审批导出.csv"
	if err := os.WriteFile(file, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	defer shot(t, ctx, "import-last")
	signIn(t, ctx, s.base, "u-clerk", "password-clerk-1")
	upload := func() {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/import"), chromedp.WaitVisible("#upload-form"),
			chromedp.SetUploadFiles("#file", []string{file}), chromedp.Click("#upload"), chromedp.WaitVisible("#choice-form")); err != nil {
			t.Fatal(err)
		}
	}
	// Bad files are said beside the field, and register nothing: columns
	// missing, an old .xls, a file over the limit (refused by the page
	// before sending, and by the server when sent anyway).
	dir := t.TempDir()
	bad := map[string][]byte{"缺列.csv": []byte("申请人,手机号码\n王小明,13912345678\n"),
		"旧版.xls": append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...),
		"太大.csv": make([]byte, 11<<20)}
	for name, want := range map[string]string{"缺列.csv": "缺少必填列", "旧版.xls": "CSV 或 XLSX", "太大.csv": "超过 10 MB"} {
		if err := os.WriteFile(dir+"/"+name, bad[name], 0o644); err != nil {
			t.Fatal(err)
		}
		sel := "#upload-form .field-error"
		if name == "太大.csv" {
			sel = "#file-size-error"
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/desk/import"), chromedp.WaitVisible("#upload-form"),
			chromedp.SetUploadFiles("#file", []string{dir + "/" + name}), chromedp.Click("#upload"), chromedp.WaitVisible(sel)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if msg := text(t, ctx, sel); !strings.Contains(msg, want) {
			t.Fatalf("%s: %q, want %q", name, msg, want)
		}
	}
	sent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const f = new FormData(document.getElementById('upload-form'));
		f.set('file', new Blob([new Uint8Array((10 << 20) + 1)]), 'big.csv');
		const r = await fetch('/desk/import', {method: 'POST', body: f});
		f.set('file', new Blob([new Uint8Array(11 << 20)]), 'bigger.csv');
		const r2 = await fetch('/desk/import', {method: 'POST', body: f});
		return r.status + ' ' + (await r.text()).includes('超过 10 MB') + ' ' + r2.status + ' ' + (await r2.text()).includes('请求内容过大');
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || sent != "422 true 413 true" {
		t.Fatalf("a file over the limit sent anyway: %q %v", sent, err)
	}
	legible(t, ctx, "import upload")
	noSideways(t, ctx, "import upload")
	shot(t, ctx, "import-upload")

	upload()
	if g, r := text(t, ctx, "#good-count"), text(t, ctx, "#refused-count"); g != "2" || r != "1" {
		t.Fatalf("preview: %s good, %s refused", g, r)
	}
	if why := text(t, ctx, "#refused li"); !strings.Contains(why, "第4行") || !strings.Contains(why, "手机号码") {
		t.Fatalf("the refused row: %q", why)
	}
	if good := text(t, ctx, "#good"); strings.Contains(good, "王小明") || !strings.Contains(good, "二道区") {
		t.Fatalf("the good rows (names masked, routes named): %q", good)
	}
	legible(t, ctx, "import preview")
	noSideways(t, ctx, "import preview")
	shot(t, ctx, "import-preview")
	if err := chromedp.Do(ctx, chromedp.Click("#do-import"), chromedp.WaitVisible("#import-result")); err != nil {
		t.Fatal(err)
	}
	if n := text(t, ctx, "#created-count"); n != "2" {
		t.Fatalf("%s registered, want 2", n)
	}
	legible(t, ctx, "import result")
	shot(t, ctx, "import-result")
	pdf, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const f = new FormData(document.getElementById('print-form'));
		const r = await fetch('/desk/print', {method: 'POST', body: f});
		return f.get('waybill_nos').split(' ').length + ' ' + r.headers.get('Content-Type') + ' ' + (await r.text()).slice(0, 5);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || pdf != "2 application/pdf %PDF-" {
		t.Fatalf("the batch's labels: %q %v", pdf, err)
	}
	// The same file again: both rows found registered, nothing to import.
	upload()
	if e, g := text(t, ctx, "#existing-count"), text(t, ctx, "#good-count"); e != "2" || g != "0" {
		t.Fatalf("the same file again: %s existing, %s good", e, g)
	}
	poll(t, ctx, `!document.getElementById('do-import')`)
	tpl, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const r = await fetch('/desk/import/template/xlsx');
		const b = new Uint8Array(await r.arrayBuffer());
		return r.status + ' ' + String.fromCharCode(b[0], b[1]);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || tpl != "200 PK" {
		t.Fatalf("the XLSX template: %q %v", tpl, err)
	}
}

// At the handover counter the staff scan the citizen's label, see what the
// holder must bring, and hand over against the holder's ID number: a wrong
// number is said beside the form and hands nothing over; a proxy collects
// with their own name, ID number and authorisation.
func TestHandoverCounterInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	var nos []string
	for range 4 { // one holder's
		nos = append(nos, s.walk(tok, "pickup", "receive", "shelve"))
	}
	ctx := browser(t)
	defer shot(t, ctx, "counter-last")
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	find := func(no string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/counter"), chromedp.WaitVisible("#q"),
			chromedp.SendKeys("#q", no+"\r"), chromedp.WaitVisible(".collect-form")); err != nil {
			t.Fatal(err)
		}
	}
	public := func(no string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/t/"+no), chromedp.WaitVisible("#status")); err != nil {
			t.Fatal(err)
		}
		return text(t, ctx, "#status")
	}
	// The citizen's public page before the handover…
	if st := public(nos[0]); st != "待领取" {
		t.Fatalf("the public page before the handover: %q", st)
	}
	find(nos[0])
	if bring := text(t, ctx, ".bring"); bring == "" {
		t.Fatalf("what to bring: %q", bring)
	}
	legible(t, ctx, "counter")
	noSideways(t, ctx, "counter")
	shot(t, ctx, "counter-414")
	// The window this counter sits at.
	if err := chromedp.Do(ctx, chromedp.SetValue("select.window", "A02")); err != nil {
		t.Fatal(err)
	}
	// The wrong ID number: said, nothing handed over.
	if err := chromedp.Do(ctx, chromedp.SendKeys(`input[name="id_number"]`, "110105199003071239"),
		chromedp.Click("button.collect"), chromedp.WaitVisible(".collect-form .field-error")); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, ".collect-form .field-error"); !strings.Contains(msg, "证件") {
		t.Fatalf("wrong ID number says %q", msg)
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+nos[0], tok["staff"], nil).str("status"); st != "ready" {
		t.Fatalf("after a wrong ID number the parcel is %s", st)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(`input[name="id_number"]`, "11010519491231002X"),
		chromedp.Click("button.collect"), chromedp.WaitVisible("#handed-over")); err != nil {
		t.Fatal(err)
	}
	if st := text(t, ctx, "#done-status"); st != "已领取" {
		t.Fatalf("handed over: %q", st)
	}
	var device string
	for _, e := range s.must(200, "GET", "/api/v1/parcels/"+nos[0]+"/events", tok["staff"], nil).JSON["items"].([]any) {
		if m := e.(map[string]any); m["action"] == "collect" {
			device, _ = m["device"].(string)
		}
	}
	if device != "window:A02" {
		t.Fatalf("the collection records the window as %q", device)
	}
	// …and after it.
	if st := public(nos[0]); st != "已领取" {
		t.Fatalf("the public page after the handover: %q", st)
	}
	// A proxy, at the same window (kept), with the authorisation photographed.
	var pb bytes.Buffer
	if err := png.Encode(&pb, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	photoBytes, photo := pb.Bytes(), t.TempDir()+"/委托书.png"
	if err := os.WriteFile(photo, photoBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	find(nos[1])
	if w, _ := chromedp.Run(ctx, chromedp.Value("select.window")); w != "A02" {
		t.Fatalf("the next handover's window is %q, want A02 kept", w)
	}
	if err := chromedp.Do(ctx, chromedp.Click(".proxy-toggle"), chromedp.SendKeys(`input[name="id_number"]`, "11010519491231002X"),
		chromedp.SendKeys(`input[name="proxy_name"]`, "李四"), chromedp.SendKeys(`input[name="proxy_id_number"]`, "220102198506154564"),
		chromedp.SendKeys(`input[name="authorisation"]`, "WT-2026-001"),
		chromedp.SetUploadFiles(`input[name="authorisation_photo"]`, []string{photo}),
		chromedp.Click("button.collect"), chromedp.WaitVisible("#handed-over")); err != nil {
		t.Fatal(err)
	}
	// The authorisation's photo was kept: the hall's staff see it.
	img, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const r = await fetch(document.getElementById('authorisation-photo').href);
		return r.status + ' ' + r.headers.get('Content-Type') + ' ' + (await r.arrayBuffer()).byteLength;
	})()`, chromedp.EvalAwaitPromise))
	if want := fmt.Sprintf("200 image/png %d", len(photoBytes)); err != nil || img != want {
		t.Fatalf("the authorisation photo: %q %v, want %q", img, err, want)
	}
	if st := text(t, ctx, "#done-status"); st != "已领取" {
		t.Fatalf("handed to a proxy: %q", st)
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+nos[1], tok["staff"], nil).str("status"); st != "collected" {
		t.Fatalf("after the proxy's handover the parcel is %s", st)
	}
	// The receipt prints as a PDF.
	pdf, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const r = await fetch(document.getElementById('receipt').href);
		return r.headers.get('Content-Type') + ' ' + (await r.text()).slice(0, 5);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || pdf != "application/pdf %PDF-" {
		t.Fatalf("receipt: %q %v", pdf, err)
	}

	// The holder's name finds all four: the two still ready here first,
	// the collected ones after. The clerk scans each label taken from the
	// shelf: it is ticked; another code is refused beside the field.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/counter"), chromedp.WaitVisible("#q"),
		chromedp.SendKeys("#q", "王小明\r"), chromedp.WaitVisible("#pick")); err != nil {
		t.Fatal(err)
	}
	if b := text(t, ctx, "#several"); !strings.Contains(b, "(2)") {
		t.Fatalf("several waiting: %q", b)
	}
	order, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('section.parcel')].map(s => s.dataset.waybill).join(' ')`))
	if err != nil || !strings.HasPrefix(order, nos[2]+" "+nos[3]) && !strings.HasPrefix(order, nos[3]+" "+nos[2]) || len(strings.Fields(order)) != 4 {
		t.Fatalf("found %q (%v), want %s and %s first of four", order, err, nos[2], nos[3])
	}
	if f, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "pick" {
		t.Fatalf("the focus is on %q, want the check field", f)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#pick", nos[0]+"\r"), chromedp.WaitVisible("#pick-error")); err != nil {
		t.Fatal(err)
	}
	if msg := text(t, ctx, "#pick-error"); !strings.Contains(msg, "不在待领取") {
		t.Fatalf("a collected parcel's label says %q", msg)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#pick", "HTTP://LOCALHOST:8080/T/"+nos[2]+"\r"),
		chromedp.WaitVisible(`section[data-waybill="`+nos[2]+`"] .picked-mark`)); err != nil {
		t.Fatal(err)
	}
	if n := text(t, ctx, "#picked"); n != "1" {
		t.Fatalf("checked: %q", n)
	}
	if f, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.closest('section').dataset.waybill`)); f != nos[2] {
		t.Fatalf("the focus is in %q's card, want %s", f, nos[2])
	}
	legible(t, ctx, "counter with several")
	// Handed over; the other one still waits on the page.
	card := `section[data-waybill="` + nos[2] + `"] `
	if err := chromedp.Do(ctx, chromedp.SendKeys(card+`input[name="id_number"]`, "11010519491231002X"),
		chromedp.Click(card+"button.collect"), chromedp.WaitVisible("#handed-over")); err != nil {
		t.Fatal(err)
	}
	left, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('section.parcel')].map(s => s.dataset.waybill).join(' ')`))
	if err != nil || left != nos[3] {
		t.Fatalf("after the handover the page lists %q (%v), want %s", left, err, nos[3])
	}
	if q, _ := chromedp.Run(ctx, chromedp.Value("#q")); q != "" {
		t.Fatalf("the find field keeps %q for the next citizen", q)
	}
}

// A bag arrives at the hall: scanning it opens its check list; each
// parcel scanned is received and ticked off; a parcel of no bag shows as
// extra; closing the list reports the missing one.
func TestBagReceiveInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	var nos []string
	for range 2 {
		nos = append(nos, s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no"))
	}
	run := s.must(201, "POST", fmt.Sprintf("/api/v1/routes/%d/run", s.legIDs(tok["admin"])["D-SW>CC-WIN"]), tok["admin"], nil)
	bag := run.str("bag_no")
	s.must(200, "POST", "/api/v1/scans", tok["courier"], map[string]any{"code": bag, "action": "pickup", "scan_id": scanID()})
	// A parcel that came outside the bag.
	loose := s.walk(tok, "pickup")

	ctx := browser(t)
	defer shot(t, ctx, "bag-last")
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	scanCode := func(code string, rows int) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys("#code", code+"\r"),
			chromedp.WaitVisible(fmt.Sprintf("#results li:nth-child(%d)", rows))); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan?action=receive"), chromedp.WaitVisible("#code")); err != nil {
		t.Fatal(err)
	}
	scanCode(bag, 1)
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#bag")); err != nil {
		t.Fatal(err)
	}
	counts := func() string {
		return text(t, ctx, "#bag-expected") + "/" + text(t, ctx, "#bag-scanned") + "/" + text(t, ctx, "#bag-missing") + "/" + text(t, ctx, "#bag-extra")
	}
	if c := counts(); c != "2/0/2/0" {
		t.Fatalf("bag opened: expected/scanned/missing/extra %s", c)
	}
	scanCode(nos[0], 2)
	scanCode(loose, 3)
	if c := counts(); c != "2/1/1/1" {
		t.Fatalf("after one of the bag and one loose: %s", c)
	}
	legible(t, ctx, "bag check list")
	noSideways(t, ctx, "bag check list")
	shot(t, ctx, "bag-414")
	if err := chromedp.Do(ctx, chromedp.Click("#bag-close")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.getElementById('bag-result').textContent !== ''`)
	if msg := text(t, ctx, "#bag-result"); !strings.Contains(msg, "1") || !strings.Contains(msg, "未到") {
		t.Fatalf("closing says %q", msg)
	}
	kinds, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#bag-list li')].map(li => li.dataset.kind + ':' + li.textContent)`))
	want := []string{"scanned:" + nos[0] + "已扫", "missing:" + nos[1] + "未到", "extra:" + loose + "多出"}
	slices.Sort(kinds)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Fatalf("check list after closing:\n got %v\nwant %v", kinds, want)
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+nos[1], tok["staff"], nil).str("status"); st != "exception" {
		t.Fatalf("the missing parcel is %s after closing, want exception", st)
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+nos[0], tok["staff"], nil).str("status"); st != "arrived" {
		t.Fatalf("the scanned parcel is %s, want arrived", st)
	}
}

// Shelving at a hall whose slots are required: without a slot the scan is
// refused with the reason; a slot label's scan sets the slot, kept for the
// parcels shelved after it.
func TestShelveWithASlotInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	s.must(200, "PUT", "/api/v1/sites/CC-WIN/slots", tok["admin"], map[string]any{"slot_required": true, "slots": []string{"A-01", "A-02"}})
	nos := []string{s.walk(tok, "pickup", "receive"), s.walk(tok, "pickup", "receive")}
	label, err := shipment.SlotCode("A-02")
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	defer shot(t, ctx, "shelve-last")
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan?action=shelve"), chromedp.WaitVisible("#slot"),
		chromedp.SendKeys("#code", nos[0]+"\r"), chromedp.WaitVisible("#results li")); err != nil {
		t.Fatal(err)
	}
	if k := firstKind(t, ctx); k != "refused" {
		t.Fatalf("a shelve without a slot shows as %s", k)
	}
	if msg := text(t, ctx, "#results li:first-child"); !strings.Contains(msg, "货位") {
		t.Fatalf("a shelve without a slot says %q", msg)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#code", label+"\r"), chromedp.WaitVisible("#results li:nth-child(2)")); err != nil {
		t.Fatal(err)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value("#slot")); v != label {
		t.Fatalf("the slot label's scan set the slot to %q", v)
	}
	for i, no := range nos {
		if err := chromedp.Do(ctx, chromedp.SendKeys("#code", no+"\r"),
			chromedp.WaitVisible(fmt.Sprintf("#results li:nth-child(%d)", 3+i))); err != nil {
			t.Fatal(err)
		}
		if k := firstKind(t, ctx); k != "done" {
			t.Fatalf("shelving %s shows as %s: %s", no, k, text(t, ctx, "#results li:first-child"))
		}
		if slot := s.must(200, "GET", "/api/v1/parcels/"+no, tok["staff"], nil).str("slot"); slot != "A-02" {
			t.Fatalf("%s stands in %q, want A-02", no, slot)
		}
	}
	legible(t, ctx, "shelving")
}

// The hall's shelves: a parcel going back to its department is listed to
// pull; a stocktake slot by slot finds the one missing, the one that should
// not be there and the one in the wrong slot.
func TestStocktakeInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	s.must(200, "PUT", "/api/v1/sites/CC-WIN/slots", tok["admin"], map[string]any{"slot_required": true, "slots": []string{"A-01", "A-02"}})
	shelved := func(slot string) string {
		no := s.walk(tok, "pickup", "receive")
		if r := s.scan(tok["staff"], no, "shelve", "", "slot", slot); r.Status != 200 {
			t.Fatalf("shelve: %s", r.Body)
		}
		return no
	}
	p1, p2, p3, back := shelved("A-01"), shelved("A-01"), shelved("A-02"), shelved("A-02")
	if r := s.scan(tok["staff"], back, "return", "", "reason", "uncollected"); r.Status != 200 {
		t.Fatalf("return: %s", r.Body)
	}
	foreign := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	a01, _ := shipment.SlotCode("A-01")
	a02, _ := shipment.SlotCode("A-02")

	ctx := browser(t)
	defer shot(t, ctx, "stocktake-last")
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/hall"), chromedp.WaitVisible("#stocktake")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#returning"); !strings.Contains(got, back) {
		t.Fatalf("the parcels to pull: %q, want %s", got, back)
	}
	for _, c := range []string{a01, p1, p3, foreign, a02, back} {
		if err := chromedp.Do(ctx, chromedp.SendKeys("#st-code", c+"\r")); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, ctx, `document.getElementById('st-count').textContent === '4'`)
	if err := chromedp.Do(ctx, chromedp.Click("#st-finish"), chromedp.WaitVisible("#st-result")); err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"#st-missing": p2, "#st-unexpected": foreign, "#st-misplaced": p3} {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+sel+` .no')].map(e => e.textContent)`))
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: %v, want [%s]", sel, got, want)
		}
	}
	legible(t, ctx, "stocktake")
	noSideways(t, ctx, "stocktake")
	// The slots' labels print from the same page.
	pdf, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const r = await fetch(document.querySelector('#slots a').href);
		return r.headers.get('Content-Type') + ' ' + (await r.text()).slice(0, 5);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || pdf != "application/pdf %PDF-" {
		t.Fatalf("slot label: %q %v", pdf, err)
	}
	shot(t, ctx, "stocktake-414")

	// The holder came late: the returning parcel is recalled to a slot (the
	// hall requires one: without it, the page says so).
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/hall"), chromedp.WaitVisible("#recall-"+back)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('slot-`+back+`').value = ''`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#recall-"+back)); err != nil {
		t.Fatal(err)
	}
	arrived(t, ctx, "/hall/recall", "#form-error")
	if msg := text(t, ctx, "#form-error"); !strings.Contains(msg, "货位") {
		t.Fatalf("a recall without a slot: %q", msg)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue("#slot-"+back, "A-02"), chromedp.Click("#recall-"+back)); err != nil {
		t.Fatal(err)
	}
	arrived(t, ctx, "recalled="+back, "#recalled")
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('returning') || {textContent: ''}).textContent`)); strings.Contains(got, back) {
		t.Fatalf("the recalled parcel is still to pull: %q", got)
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+back, tok["staff"], nil); st.str("status") != "ready" || st.str("slot") != "A-02" {
		t.Fatalf("after the recall: %s", st.Body)
	}
	legible(t, ctx, "hall after a recall")
	shot(t, ctx, "hall-recalled")
}

// offline switches the tab's network off or on (navigator.onLine, the
// online and offline events, and every fetch, the service worker's too).
func offline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	// Sent as a map: this Chromium wants the top-level "offline" that
	// cdproto's params lack.
	byRule := cdp.Command[map[string]any, cdp.Empty]{Method: network.CommandEmulateNetworkConditionsByRule}
	if _, err := chromedp.Call(ctx, byRule, map[string]any{"offline": off, "emulateOfflineServiceWorker": off,
		"matchedNetworkConditions": []map[string]any{{"urlPattern": "", "latency": 0, "downloadThroughput": -1,
			"uploadThroughput": -1, "offline": off}}}); err != nil {
		t.Fatalf("network conditions: %v", err)
	}
	// The state last: its online event finds the network back.
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off,
		DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatalf("network state: %v", err)
	}
}

// A scan made with the network off is kept in the browser and counted as
// waiting; the station reloads without network (its service worker); when
// the network returns the scan is sent, once.
func TestOfflineScanInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	no := s.walk(tok, "pickup")
	ctx := browser(t)
	defer shot(t, ctx, "offline-last")
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan"), chromedp.WaitVisible("#code")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `navigator.serviceWorker && navigator.serviceWorker.controller !== null`)

	offline(t, ctx, true)
	if err := chromedp.Do(ctx, chromedp.SendKeys("#code", no+"\r"), chromedp.WaitVisible("#pending")); err != nil {
		t.Fatal(err)
	}
	if n := text(t, ctx, "#pending-count"); n != "1" {
		t.Fatalf("waiting scans: %s", n)
	}
	// The station loads with no network, and still knows what waits.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible("#scan-form")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.getElementById('pending-count').textContent === '1'`)
	if st := s.must(200, "GET", "/api/v1/parcels/"+no, tok["staff"], nil).str("status"); st != "in_transit" {
		t.Fatalf("offline, the parcel is already %s", st)
	}
	shot(t, ctx, "offline-414")
	offline(t, ctx, false)
	poll(t, ctx, `document.getElementById('pending').hidden && document.querySelector('#results li[data-kind="done"]') !== null`)
	if st := s.must(200, "GET", "/api/v1/parcels/"+no, tok["staff"], nil).str("status"); st != "arrived" {
		t.Fatalf("after reconnecting the parcel is %s", st)
	}
	receives := 0
	for _, e := range s.must(200, "GET", "/api/v1/parcels/"+no+"/events", tok["staff"], nil).JSON["items"].([]any) {
		if e.(map[string]any)["action"] == "receive" {
			receives++
		}
	}
	if receives != 1 {
		t.Fatalf("the offline scan was recorded %d times", receives)
	}
}

// A hall lead puts right at the scan station: a receive made by mistake is
// corrected (with a reason), an exception resolved back to its state.
func TestHallLeadCorrectsAndResolvesInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	nos := []string{s.walk(tok, "pickup", "receive"), s.walk(tok, "pickup", "receive")}
	if r := s.scan(tok["staff"], nos[1], "report", "", "reason", "damaged"); r.Status != 200 {
		t.Fatalf("report: %s", r.Body)
	}
	ctx := browser(t)
	defer shot(t, ctx, "lead-last")
	signIn(t, ctx, s.base, "u-lead", "password-lead-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan?action=correct"), chromedp.WaitVisible("#correct-reason"),
		chromedp.SetValue("#correct-reason", "wrong_parcel"), chromedp.SendKeys("#code", nos[0]+"\r"),
		chromedp.WaitVisible("#results li")); err != nil {
		t.Fatal(err)
	}
	if k := firstKind(t, ctx); k != "done" {
		t.Fatalf("the correction shows as %s: %s", k, text(t, ctx, "#results li:first-child"))
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+nos[0], tok["staff"], nil).str("status"); st != "in_transit" {
		t.Fatalf("after the correction the parcel is %s, want in_transit", st)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan?action=resolve"), chromedp.WaitVisible("#resolution"),
		chromedp.SetValue("#resolution", "restore"), chromedp.SendKeys("#code", nos[1]+"\r"),
		chromedp.WaitVisible("#results li")); err != nil {
		t.Fatal(err)
	}
	if k := firstKind(t, ctx); k != "done" {
		t.Fatalf("the resolution shows as %s: %s", k, text(t, ctx, "#results li:first-child"))
	}
	if st := s.must(200, "GET", "/api/v1/parcels/"+nos[1], tok["staff"], nil).str("status"); st != "arrived" {
		t.Fatalf("after the resolution the parcel is %s, want arrived", st)
	}
	legible(t, ctx, "a hall lead's scan station")
}

// A phone's camera reads a label's QR code (Chromium's fake camera plays
// one, read by the vendored polyfill and its WebAssembly, served by us) and
// the number goes to the service as a scan: this one is of no parcel of
// this database, so the answer says it was not found.
func TestCameraScanInChromium(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	s.users()
	ctx := browser(t)
	defer shot(t, ctx, "camera-last")
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/scan"), chromedp.WaitVisible("#camera"),
		chromedp.Click("#camera")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `[...document.querySelectorAll('#results li, #exceptions li')].some(li => li.textContent.includes('`+cameraWaybill+`'))`)
	got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#results li, #exceptions li')].map(li => li.textContent).join(' | ')`))
	if !strings.Contains(got, "不存在") {
		t.Fatalf("the camera's scan answered %q", got)
	}
	// The polyfill's WebAssembly came from our server.
	wasm, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`performance.getEntriesByType('resource').some(e => e.name.startsWith(location.origin + '/static/') && e.name.endsWith('.wasm'))`))
	if !wasm {
		t.Fatal("the barcode reader's WebAssembly was not loaded from /static/")
	}
}

// Every staff page at a 360 px phone: nothing scrolls sideways, text and
// targets are legible (an admin sees every page of the menu).
func TestEveryPageFitsA360pxPhone(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	no := s.must(201, "POST", "/api/v1/parcels", tok["clerk"], parcelBody("13912345678")).str("waybill_no")
	ctx := browser(t)
	defer shot(t, ctx, "layout-last")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	menu, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('nav.menu a')].map(a => a.getAttribute('href'))`))
	if err != nil || len(menu) < 5 {
		t.Fatalf("the staff's menu: %v %v", menu, err)
	}
	for _, p := range append(menu, "/desk/parcels/"+no, "/counter?q="+no, "/login?why=auth.session_ended") {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+p), chromedp.WaitVisible("h1")); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		noSideways(t, ctx, p)
		legible(t, ctx, p)
	}
}

// Body limits per route: a stocktake of a large hall (20,000 codes, about
// 1 MB) is taken; the same size to a JSON route is refused with 413.
func TestBodyLimitsPerRoute(t *testing.T) {
	t.Parallel()
	s := boot(t, map[string]string{"COURIER_PUBLIC_URL": "http://localhost:8080"})
	tok := s.users()
	ctx := browser(t)
	signIn(t, ctx, s.base, "u-staff", "password-staff-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/hall"), chromedp.WaitVisible("#stocktake")); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const seen = [];
		for (let i = 0; i < 20000; i++) seen.push({code: 'CP' + String(i).padStart(14, '0'), slot: 'A-01-02'});
		const body = JSON.stringify({seen});
		const r = await fetch('/app/api/stocktakes', {method: 'POST', headers: {'Content-Type': 'application/json',
			'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}, body});
		return r.status + ' ' + body.length;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(status, "200 ") {
		t.Fatalf("a large stocktake: %q %v", status, err)
	}
	big := `{"notes": "` + strings.Repeat("x", 300<<10) + `"}`
	if r := s.do("POST", "/api/v1/parcels", tok["clerk"], big); r.Status != 413 || !strings.Contains(string(r.Body), "request.too_large") {
		t.Fatalf("a 300 KB registration: %d %s", r.Status, truncateBody(r.Body))
	}
}
