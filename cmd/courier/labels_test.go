package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/shipment"
)

// tool finds a command-line tool the label checks need. Under CI=true a
// missing tool is a set-up error; elsewhere the test is skipped.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " is needed: apt-get install " + pkg
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// decodePDF rasterises every page of a PDF and returns, per page, what
// zbarimg decoded ("QR-Code:…", "CODE-128:…"), sorted.
func decodePDF(t *testing.T, pdf []byte) [][]string {
	t.Helper()
	pdftoppm := tool(t, "pdftoppm", "poppler-utils")
	zbarimg := tool(t, "zbarimg", "zbar-tools")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-r", "200", "-png", in, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "p-*.png"))
	sort.Strings(pages)
	var out [][]string
	for _, p := range pages {
		b, _ := exec.Command(zbarimg, "-q", p).Output() // exit 4 when nothing decodes
		var codes []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				codes = append(codes, l)
			}
		}
		sort.Strings(codes)
		out = append(out, codes)
	}
	return out
}

func (s *service) eventCount(token, no, action string) int {
	s.t.Helper()
	r := s.must(200, "GET", "/api/v1/parcels/"+no+"/events", token, nil)
	n := 0
	for _, e := range r.JSON["items"].([]any) {
		if e.(map[string]any)["action"] == action {
			n++
		}
	}
	return n
}

func TestLabelsFromTheAPI(t *testing.T) {
	t.Parallel()
	s := boot(t, nil)
	tok := s.users()
	clerk := tok["clerk"]
	var nos []string
	for i, name := range []string{"王小明", "李𠮷堃", "欧阳䶮喆"} {
		b := parcelBody("1391234567" + string(rune('0'+i)))
		b["applicant"].(map[string]any)["name"] = name
		nos = append(nos, s.must(201, "POST", "/api/v1/parcels", clerk, b).str("waybill_no"))
	}

	// Viewing a label changes nothing; its codes decode to the parcel.
	view := s.must(200, "GET", "/api/v1/parcels/"+nos[1]+"/label.pdf", clerk, nil)
	if !strings.HasPrefix(string(view.Body), "%PDF") || len(view.Body) > 40*1024 {
		t.Fatalf("label: %d bytes, starts %q", len(view.Body), view.Body[:min(8, len(view.Body))])
	}
	pages := decodePDF(t, view.Body)
	want := []string{"CODE-128:" + nos[1], "QR-Code:HTTPS://ZWFW.EXAMPLE.CN/T/" + nos[1]}
	if len(pages) != 1 || strings.Join(pages[0], "|") != strings.Join(want, "|") {
		t.Fatalf("decoded %v, want %v", pages, want)
	}
	if n := s.eventCount(clerk, nos[1], "label_printed"); n != 0 {
		t.Fatalf("viewing recorded %d label_printed events", n)
	}
	// The QR text opens the citizen's page.
	s.must(200, "GET", "/T/"+nos[1], "", nil)

	// A print run: one page per label in the order asked, an event on each.
	order := []string{nos[2], nos[0], strings.ToLower(nos[1])}
	pr := s.must(200, "POST", "/api/v1/labels", clerk, map[string]any{"waybill_nos": order})
	pages = decodePDF(t, pr.Body)
	if len(pages) != 3 {
		t.Fatalf("%d pages", len(pages))
	}
	for i, no := range []string{nos[2], nos[0], nos[1]} {
		if !strings.Contains(strings.Join(pages[i], "|"), "CODE-128:"+no) {
			t.Errorf("page %d: %v, want %s", i+1, pages[i], no)
		}
		if n := s.eventCount(clerk, no, "label_printed"); n != 1 {
			t.Errorf("%s: %d label_printed events", no, n)
		}
	}
	// A reprint records again; an A4 sheet holds four labels.
	sheet := s.must(200, "POST", "/api/v1/labels", clerk, map[string]any{"waybill_nos": nos, "layout": "a4"})
	if pages := decodePDF(t, sheet.Body); len(pages) != 1 || len(pages[0]) != 6 {
		t.Fatalf("A4 sheet decoded %v", pages)
	}
	if n := s.eventCount(clerk, nos[0], "label_printed"); n != 2 {
		t.Errorf("reprint: %d events", n)
	}

	// Bad batches name the offending items and record nothing.
	unknown := shipment.NewNumber(shipment.KindParcel)
	for _, c := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
		item   string
	}{
		{"Unknown", clerk, map[string]any{"waybill_nos": []string{nos[0], unknown}}, 404, "label.unknown_items", unknown},
		{"NotANumber", clerk, map[string]any{"waybill_nos": []string{nos[0], "hello"}}, 422, "label.invalid_items", "hello"},
		{"OtherDepartment", tok["clerkGT"], map[string]any{"waybill_nos": []string{nos[0]}}, 403, "label.forbidden_items", nos[0]},
		{"Empty", clerk, map[string]any{"waybill_nos": []string{}}, 422, "label.batch_empty", ""},
		{"TooMany", clerk, map[string]any{"waybill_nos": make([]string, 1001)}, 422, "label.batch_too_large", "1000"},
		{"Layout", clerk, map[string]any{"waybill_nos": []string{nos[0]}, "layout": "a3"}, 422, "label.layout_unknown", "a3"},
	} {
		r := s.do("POST", "/api/v1/labels", c.token, c.body)
		if r.Status != c.status || r.errCode() != c.code || !strings.Contains(string(r.Body), c.item) {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	if n := s.eventCount(clerk, nos[0], "label_printed"); n != 2 {
		t.Errorf("refused batches recorded events: %d", n)
	}
	if r := s.do("GET", "/api/v1/parcels/"+nos[0]+"/label.pdf", tok["courier"], nil); r.Status != 403 {
		t.Errorf("courier viewing a label: %d", r.Status)
	}
}
