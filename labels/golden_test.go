package labels_test

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/changchun-gov/courier/labels"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenDate is the fixed creation date of golden documents.
var goldenDate = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// TestGolden compares a structural dump of deterministic documents (fixed
// creation date, sorted catalogs) with testdata/*.golden, so that an
// unintended layout change shows up in review. After an intended change:
//
//	go test ./labels/ -run TestGolden -update
func TestGolden(t *testing.T) {
	t.Parallel()
	r, err := labels.NewRenderer(labels.Options{PublicURL: publicURL, CreationDate: goldenDate})
	if err != nil {
		t.Fatal(err)
	}
	l := expressLabel(500)
	l.RecipientName = "𠮷堃\U0010FFFD" // an outline glyph and a code-point box
	docs := map[string]func(w io.Writer) error{
		"waybill": func(w io.Writer) error { _, err := r.Waybill(w, testLabel(500)); return err },
		"express": func(w io.Writer) error { _, err := r.Waybill(w, l); return err },
		"bag": func(w io.Writer) error {
			_, err := r.Bag(w, labels.BagLabel{BagNo: number("CB", 5000000000001), Origin: labels.Place{Code: "D-SW", Name: "长春市商务局"},
				Destination: labels.Place{Code: "NA-HALL", Name: "农安县政务服务中心"}, SealNo: "FQ-0042", Parcels: 3, SealedAt: goldenDate})
			return err
		},
		"manifest": func(w io.Writer) error { _, err := r.Manifest(w, testManifest(3)); return err },
	}
	for name, render := range docs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var a, b bytes.Buffer
			if err := render(&a); err != nil {
				t.Fatal(err)
			}
			if err := render(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("output is not deterministic")
			}
			got := dumpPDF(t, a.Bytes())
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s; if the change is intended, run go test ./labels/ -run TestGolden -update and review the diff.\n%s",
					name, path, firstDiff(string(want), got))
			}
		})
	}
}

var (
	objRe    = regexp.MustCompile(`(?s)(\d+) 0 obj\n(.*?)endobj\n`)
	lengthRe = regexp.MustCompile(`/Length (\d+)`)
)

// dumpPDF writes a PDF's structure as text: every object's dictionary, and
// each stream decompressed — content streams as text (bytes outside
// printable ASCII escaped), binary streams (the font subset, maps) as their
// length and hash.
func dumpPDF(t *testing.T, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	header, _, _ := bytes.Cut(pdf, []byte("\n"))
	fmt.Fprintf(&out, "# structural dump of a PDF, written by labels/golden_test.go\n%s\n", header)
	for _, m := range objRe.FindAllSubmatch(pdf, -1) {
		fmt.Fprintf(&out, "== object %s\n", m[1])
		body := m[2]
		dict, rest, isStream := bytes.Cut(body, []byte("stream\n"))
		writeContent(&out, dict, false)
		if !isStream {
			continue
		}
		lm := lengthRe.FindSubmatch(dict)
		if lm == nil {
			t.Fatalf("object %s: stream without /Length", m[1])
		}
		n, _ := strconv.Atoi(string(lm[1]))
		data := rest[:n]
		if bytes.Contains(dict, []byte("/FlateDecode")) {
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("object %s: %v", m[1], err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("object %s: %v", m[1], err)
			}
		}
		printable := 0
		for _, c := range data {
			if c >= 0x20 && c < 0x7F || c == '\n' {
				printable++
			}
		}
		if len(data) > 0 && printable*10 < len(data)*7 {
			fmt.Fprintf(&out, "-- binary stream: %d bytes, sha256 %x\n", len(data), sha256.Sum256(data))
			continue
		}
		out.WriteString("-- stream:\n")
		writeContent(&out, data, true)
		out.WriteString("\n-- endstream\n")
	}
	return out.String()
}

// writeContent writes PDF syntax as text. Literal strings in UTF-16BE —
// with a byte order mark, or all of them in content streams (utf16), where
// fpdf writes text for the embedded font so — are shown decoded as («…»);
// other bytes outside printable ASCII are escaped.
func writeContent(out *strings.Builder, data []byte, utf16Strings bool) {
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c != '(' {
			if c >= 0x20 && c < 0x7F || c == '\n' {
				out.WriteByte(c)
			} else {
				fmt.Fprintf(out, `\x%02x`, c)
			}
			continue
		}
		var lit []byte
		depth := 1
		for i++; i < len(data) && depth > 0; i++ {
			switch c := data[i]; c {
			case '\\':
				i++
				if i < len(data) {
					switch data[i] {
					case 'r':
						lit = append(lit, '\r')
					case 'n':
						lit = append(lit, '\n')
					default:
						lit = append(lit, data[i])
					}
				}
			case '(':
				depth++
				lit = append(lit, c)
			case ')':
				depth--
				if depth > 0 {
					lit = append(lit, c)
				}
			default:
				lit = append(lit, c)
			}
		}
		i--
		bom := bytes.HasPrefix(lit, []byte{0xFE, 0xFF})
		if bom {
			lit = lit[2:]
		}
		if len(lit)%2 == 0 && (utf16Strings || bom) {
			u := make([]uint16, len(lit)/2)
			for j := range u {
				u[j] = uint16(lit[2*j])<<8 | uint16(lit[2*j+1])
			}
			fmt.Fprintf(out, "(«%s»)", string(utf16.Decode(u)))
		} else {
			fmt.Fprintf(out, "(%q)", lit)
		}
	}
}

// firstDiff shows where two texts first differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %.200q\n  got  %.200q", i+1, w, g)
		}
	}
	return "(no line differs)"
}
