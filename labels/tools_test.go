package labels_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The render-and-decode checks use real tools: poppler-utils (pdftoppm,
// pdftotext, pdfinfo) and zbar-tools (zbarimg). Missing tools skip the test,
// except on CI (CI=true), where they fail it.
var toolPackages = map[string]string{
	"pdftoppm":  "poppler-utils",
	"pdftotext": "poppler-utils",
	"pdfinfo":   "poppler-utils",
	"zbarimg":   "zbar-tools",
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: install the Debian package " + toolPackages[name] + " (apt-get install -y " + toolPackages[name] + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// writePDF saves pdf in the test's temporary directory.
func writePDF(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rasterise renders page (from 1) at dpi and returns the PNG's path.
func rasterise(t *testing.T, pdfPath string, page, dpi int) string {
	t.Helper()
	tool := needTool(t, "pdftoppm")
	prefix := filepath.Join(filepath.Dir(pdfPath), "page"+strconv.Itoa(page))
	p := strconv.Itoa(page)
	cmd := exec.Command(tool, "-r", strconv.Itoa(dpi), "-png", "-singlefile", "-f", p, "-l", p, pdfPath, prefix)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	return prefix + ".png"
}

// decode returns the symbols zbarimg finds in a PNG, as "QR-Code:…" and
// "CODE-128:…", sorted.
func decode(t *testing.T, png string) []string {
	t.Helper()
	tool := needTool(t, "zbarimg")
	cmd := exec.Command(tool, "-q", png)
	var out bytes.Buffer
	cmd.Stdout = &out // stderr: harmless dbus noise
	if err := cmd.Run(); err != nil {
		t.Fatalf("zbarimg found nothing in %s: %v", png, err)
	}
	var syms []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l != "" {
			syms = append(syms, l)
		}
	}
	slices.Sort(syms)
	return syms
}

// decodePage rasterises a page at 200 dpi and decodes it.
func decodePage(t *testing.T, pdf []byte, page int) []string {
	t.Helper()
	needTool(t, "zbarimg")
	return decode(t, rasterise(t, writePDF(t, pdf), page, 200))
}

// pdfText extracts the text of pages first..last (0: all) with pdftotext.
func pdfText(t *testing.T, pdf []byte, first, last int) string {
	t.Helper()
	tool := needTool(t, "pdftotext")
	args := []string{"-enc", "UTF-8"}
	if first > 0 {
		args = append(args, "-f", strconv.Itoa(first), "-l", strconv.Itoa(last))
	}
	args = append(args, writePDF(t, pdf), "-")
	out, err := exec.Command(tool, args...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// pageCount asks pdfinfo for the number of pages.
func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	tool := needTool(t, "pdfinfo")
	out, err := exec.Command(tool, writePDF(t, pdf)).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("pdfinfo: no page count in %s", out)
	return 0
}

// squash removes all white space, for comparing wrapped text.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}
