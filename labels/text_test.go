package labels

import (
	"strings"
	"sync"
	"testing"
)

var internalRenderer = sync.OnceValues(func() (*Renderer, error) {
	return NewRenderer(Options{PublicURL: "https://zwfw.example.cn"})
})

func testRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := internalRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func joinLines(lines [][]rune) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(string(l))
	}
	return b.String()
}

// TestWrapKeepsEveryCharacter: the strings that fpdf's MultiCell cuts
// (窗 and 递 lost at the break) keep every character at every width.
func TestWrapKeepsEveryCharacter(t *testing.T) {
	t.Parallel()
	r := testRenderer(t)
	for _, s := range []string{
		"不动产登记窗口",
		"（证照寄递）",
		"吉林省长春市农安县政务服务中心 不动产登记窗口",
		"吉林省长春市南关区永吉街道人民大街****号𠮷䶮堃喆",
		"Room 1203, Building B, Changchun New District 长春新区硅谷大街",
	} {
		in := prepare(s, false)
		full := r.textWidth(in, 12)
		for w := full / 8; w < full*1.1; w += full / 23 {
			lines := r.wrap(in, w, 12)
			got := joinLines(lines)
			if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(s, " ", "") {
				t.Errorf("wrap(%q, %.1f mm) = %q: characters lost", s, w, lines)
			}
			for _, l := range lines {
				if len(l) > 1 && r.textWidth(l, 12) > w+1e-9 {
					t.Errorf("wrap(%q, %.1f mm): line %q is %.1f mm wide", s, w, string(l), r.textWidth(l, 12))
				}
			}
		}
	}
}

func TestWrapBreaks(t *testing.T) {
	t.Parallel()
	r := testRenderer(t)
	em := 12 * ptToMM
	tests := []struct {
		name  string
		text  string
		width float64 // in em of a hanzi
		want  []string
	}{
		{"BreakBeforeOverflowingHanzi", "不动产登记窗口", 5.5, []string{"不动产登记", "窗口"}},
		{"ClosingPunctuationNotFirst", "证照寄递）", 4.2, []string{"证照寄", "递）"}},
		{"OpeningPunctuationNotLast", "证照（寄递", 3.2, []string{"证照", "（寄递"}},
		{"LatinBreaksAtSpace", "Building B Room", 6, []string{"Building B", "Room"}},
		{"LatinWordAfterHanzi", "物料流转区CC-HUB", 6.5, []string{"物料流转区", "CC-HUB"}},
		{"LongWordBreaksWhereFull", "HTTPS://ZWFW.EXAMPLE.CN/T/CP4821937460215L", 10, nil},
		{"NewlinesKept", "寄件：甲\n内件：乙", 20, []string{"寄件：甲", "内件：乙"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lines := r.wrap(prepare(tt.text, true), tt.width*em, 12)
			var got []string
			for _, l := range lines {
				got = append(got, string(l))
			}
			if tt.want == nil {
				if strings.Join(got, "") != tt.text || len(got) < 2 {
					t.Errorf("got %q", got)
				}
				return
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFitShrinksThenWraps(t *testing.T) {
	t.Parallel()
	r := testRenderer(t)
	short := r.fit(prepare("张*三", false), 50, 10, 18, 10, 1)
	if short.size != 18 || len(short.lines) != 1 {
		t.Errorf("short text: %v lines at %v pt", len(short.lines), short.size)
	}
	long := strings.Repeat("不动产登记窗口", 30)
	f := r.fit(prepare(long, false), 90, 28, 14, 9, 3)
	if f.height() > 28 || joinLines(f.lines) != long {
		t.Errorf("long text: %d lines at %v pt, %.1f mm high", len(f.lines), f.size, f.height())
	}
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  张\t三  ":       "张 三",
		"Jose\u0301":     "José",         // composed
		"\uFA10\u4E00":   "\uFA10\u4E00", // compatibility ideograph kept
		"葛\U000E0100优":   "葛\U000E0100优", // selector kept, not printed (classSkip)
		"a\u200Bb":       "a\u200Bb",     // zero-width: skipped when printed
		"甲\n\n乙":         "甲\n\n乙",
		"bad\xffutf8":    "bad\uFFFDutf8",
		"第一行 \n 第二行\r\n": "第一行\n第二行",
		"\n\n 甲":         "甲",
	} {
		if got := string(prepare(in, true)); got != want {
			t.Errorf("prepare(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGlyphClasses(t *testing.T) {
	t.Parallel()
	r := testRenderer(t)
	for c, want := range map[rune]glyphClass{
		'A': classPrimary, '张': classPrimary, '堃': classPrimary, '喆': classPrimary, '·': classPrimary, '　': classPrimary,
		'䶮': classOutline, '𠮷': classOutline, 0x2A6D6: classOutline, 0x2B740: classOutline, 0x2CEB0: classOutline, 0xFA10: classOutline,
		0x10FFFD: classMissing, 0xE000: classMissing, 0x31350: classMissing, // Extension G: in neither font
		0xFE0F: classSkip, 0xE0100: classSkip, 0x200B: classSkip,
	} {
		if got, _, _ := r.glyphInfo(c); got != want {
			t.Errorf("U+%04X: class %d, want %d", c, got, want)
		}
	}
}

// TestGlyphPackDecodes decodes every outline in the fallback pack.
func TestGlyphPackDecodes(t *testing.T) {
	t.Parallel()
	p, err := parseGlyphPack(fallbackPack)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.runes) < 70000 {
		t.Errorf("%d glyphs", len(p.runes))
	}
	empty := 0
	for i := range p.runes {
		if i%p.block == 0 || i%97 == 0 { // a sample in every block (decode reads the block)
			o, err := p.decode(i)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.polys) == 0 {
				empty++
			}
			for _, poly := range o.polys {
				for j := 0; j < len(poly); j += 2 {
					if x, y := poly[j], poly[j+1]; x < -64 || x > 3*128 || y < -64 || y > 160 {
						t.Fatalf("U+%04X: point (%d, %d) off the em box", p.runes[i], x, y)
					}
				}
			}
		}
	}
	if empty > 10 {
		t.Errorf("%d empty outlines", empty)
	}
	i, ok := p.find('𠮷')
	if !ok {
		t.Fatal("𠮷 not in the pack")
	}
	if o, _ := p.outline(i); o.adv != 1 || len(o.polys) < 3 {
		t.Errorf("𠮷: advance %v, %d polygons", o.adv, len(o.polys))
	}
}
