package labels

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// How a character is printed.
type glyphClass uint8

const (
	// classPrimary: drawn as text in the embedded primary font.
	classPrimary glyphClass = iota
	// classOutline: not in the primary font (CJK Extension A, B–F, …):
	// its outline from the fallback pack is drawn as a filled path, inside a
	// marked-content span whose ActualText carries the character, so that
	// text extraction and search still find it. fpdf cannot take characters
	// beyond the BMP at all (its CID map has 65,536 entries: it panics).
	classOutline
	// classMissing: in no font: printed as its code point in a box
	// ("U+10FFFD") and the label is flagged.
	classMissing
	// classSkip: a variation selector or other default-ignorable character
	// that selects a form but is not a character of its own.
	classSkip
)

// Text layout constants, as fractions of the font size.
const (
	lineHeight   = 1.22 // baseline to baseline
	ascentRatio  = 0.84 // top of the line box to the baseline
	boxTextRatio = 0.42 // code-point box: size of the hex text
	ptToMM       = 25.4 / 72
)

// glyphInfo classifies c and returns its advance in em and, for outlines,
// its index in the fallback pack.
func (r *Renderer) glyphInfo(c rune) (glyphClass, float64, int) {
	if r.primary.has(c) {
		return classPrimary, float64(r.primary.widths[c]) / 1000, 0
	}
	if ignorable(c) {
		return classSkip, 0, 0
	}
	if i, ok := r.fallback.find(c); ok {
		return classOutline, r.fallback.advance(i), i
	}
	return classMissing, r.missingBoxEm(c), 0
}

// ignorable reports whether c is a default-ignorable character that is not
// printed on its own: variation selectors (including the ideographic
// variation selectors that may follow a rare hanzi), zero-width joiners and
// spaces, the byte order mark, soft hyphens and tags.
func ignorable(c rune) bool {
	switch {
	case c >= 0xFE00 && c <= 0xFE0F, c >= 0xE0100 && c <= 0xE01EF, // variation selectors
		c >= 0x180B && c <= 0x180F, // Mongolian selectors
		c >= 0x200B && c <= 0x200F, c >= 0x2060 && c <= 0x206F,
		c == 0xFEFF, c == 0x00AD, c == 0x034F,
		c >= 0xE0000 && c <= 0xE007F: // tags
		return true
	}
	return false
}

// codePointText is how a character in no font is printed: "U+10FFFD".
func codePointText(c rune) string {
	s := strconv.FormatUint(uint64(c), 16)
	if len(s) < 4 {
		s = strings.Repeat("0", 4-len(s)) + s
	}
	return "U+" + strings.ToUpper(s)
}

// missingBoxEm is the width in em of the code-point box for c.
func (r *Renderer) missingBoxEm(c rune) float64 {
	w := 0
	for _, d := range codePointText(c) {
		w += int(r.primary.widths[d])
	}
	return max(1, float64(w)/1000*boxTextRatio+0.3)
}

// prepare readies text for printing: line breaks kept when multiline, other
// control characters and white space made spaces, runs of spaces collapsed,
// and a letter followed by combining marks composed (NFC) when a precomposed
// form exists — only those sequences, so compatibility ideographs, which NFC
// would replace by their unified forms, are printed as given.
func prepare(s string, multiline bool) []rune {
	out := make([]rune, 0, utf8.RuneCountInString(s))
	space := false
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if c == '\n' && multiline {
			for len(out) > 0 && out[len(out)-1] == ' ' {
				out = out[:len(out)-1]
			}
			if len(out) > 0 {
				out = append(out, '\n')
			}
			space = false
			continue
		}
		if unicode.IsSpace(c) || unicode.IsControl(c) || c == utf8.RuneError && n == 1 {
			if c == utf8.RuneError {
				out = append(out, c) // invalid UTF-8: shown as a code-point box
				continue
			}
			space = true
			continue
		}
		if space {
			if len(out) > 0 && out[len(out)-1] != '\n' {
				out = append(out, ' ')
			}
			space = false
		}
		if unicode.In(c, unicode.Mn, unicode.Me) && !ignorable(c) && len(out) > 0 {
			// compose the mark with what precedes it, when NFC can
			j := i
			for j < len(s) {
				d, m := utf8.DecodeRuneInString(s[j:])
				if !unicode.In(d, unicode.Mn, unicode.Me) || ignorable(d) {
					break
				}
				j += m
			}
			seq := string(out[len(out)-1]) + s[i-n:j]
			if comp := []rune(norm.NFC.String(seq)); len(comp) < utf8.RuneCountInString(seq) {
				out = append(out[:len(out)-1], comp...)
				i = j
				continue
			}
		}
		out = append(out, c)
	}
	for len(out) > 0 && (out[len(out)-1] == ' ' || out[len(out)-1] == '\n') {
		out = out[:len(out)-1]
	}
	return out
}

// runeWidth returns the printed width of c in mm at size (points).
func (r *Renderer) runeWidth(c rune, size float64) float64 {
	_, em, _ := r.glyphInfo(c)
	return em * size * ptToMM
}

// textWidth returns the printed width of text in mm at size.
func (r *Renderer) textWidth(text []rune, size float64) float64 {
	w := 0.0
	for _, c := range text {
		w += r.runeWidth(c, size)
	}
	return w
}

// noLineStart holds characters that must not begin a line (closing
// punctuation, 行首禁则); noLineEnd those that must not end one.
const (
	noLineStart = "，。、；：？！）》」』】〉〕”’,.;:?!)]}%·…—～－-/"
	noLineEnd   = "（《「『【〈〔“‘([{"
)

// wordRune reports whether c belongs to a run of Latin text, which breaks
// only at spaces (unless a word is wider than the line).
func wordRune(c rune) bool {
	if c < 0x80 {
		return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' ||
			c == '-' || c == '*' || c == '.' || c == '+' || c == '#' || c == '/' || c == '_'
	}
	return c < 0x2E80 && unicode.IsLetter(c)
}

// wrap breaks text into lines no wider than maxW (mm) at size (points),
// never losing a character (only the spaces at a break are dropped): a line
// ends before the character that would overflow, which starts the next line
// (fpdf's MultiCell/SplitText drop that character when it is a hanzi), or
// earlier at the last place a break is allowed: between any two hanzi, at a
// space, where Latin text meets a hanzi — not inside a Latin word or
// number, not before closing punctuation (，。）…) or after opening
// punctuation (（《…). A line with no such place breaks where it is full.
// Line breaks in text are kept.
func (r *Renderer) wrap(text []rune, maxW, size float64) [][]rune {
	var lines [][]rune
	for len(text) > 0 {
		nl := len(text)
		for i, c := range text {
			if c == '\n' {
				nl = i
				break
			}
		}
		lines = r.wrapParagraph(lines, text[:nl], maxW, size)
		if nl == len(text) {
			break
		}
		text = text[nl+1:]
		if len(text) == 0 {
			lines = append(lines, nil)
		}
	}
	return lines
}

func (r *Renderer) wrapParagraph(lines [][]rune, p []rune, maxW, size float64) [][]rune {
	if len(p) == 0 {
		return append(lines, nil)
	}
	start := 0
	for start < len(p) {
		w := 0.0
		end := start // the first rune that does not fit
		for end < len(p) {
			cw := r.runeWidth(p[end], size)
			if w+cw > maxW && end > start {
				break
			}
			w += cw
			end++
		}
		if end == len(p) {
			lines = append(lines, p[start:end])
			break
		}
		brk := end
		for brk > start && !breakable(p, brk) {
			brk--
		}
		if brk == start {
			brk = end // no good place: break where the line is full
		}
		line := p[start:brk]
		for len(line) > 0 && line[len(line)-1] == ' ' {
			line = line[:len(line)-1]
		}
		lines = append(lines, line)
		for brk < len(p) && p[brk] == ' ' {
			brk++
		}
		start = brk
	}
	return lines
}

// breakable reports whether a line may end before p[i] (0 < i < len(p)):
// at a space; not inside a run of Latin text; not before closing or after
// opening punctuation.
func breakable(p []rune, i int) bool {
	switch {
	case p[i] == ' ' || p[i-1] == ' ':
		return true
	case wordRune(p[i-1]) && wordRune(p[i]):
		return false
	case strings.ContainsRune(noLineStart, p[i]), strings.ContainsRune(noLineEnd, p[i-1]):
		return false
	}
	return true
}

// fitted is text laid out in a box: its lines and the size used.
type fitted struct {
	lines [][]rune
	size  float64
}

// height is the height of the laid-out text in mm.
func (f fitted) height() float64 {
	return float64(len(f.lines)) * f.size * ptToMM * lineHeight
}

// minReadable is the smallest size fit goes down to before it lets text
// overflow its box; below it nothing is legible on a thermal label.
const minReadable = 4.0

// fit lays text out in a box w × h mm in at most maxLines lines, at the
// largest size from maxSize down to minSize (in steps of half a point)
// where it fits. If it does not fit at minSize it keeps shrinking, without
// the line limit, until it fits the box's height, down to minReadable;
// beyond that it overflows the box rather than lose a character.
func (r *Renderer) fit(text []rune, w, h, maxSize, minSize float64, maxLines int) fitted {
	size := maxSize
	for {
		lines := r.wrap(text, w, size)
		f := fitted{lines, size}
		if (len(lines) <= maxLines || size < minSize) && f.height() <= h+0.01 || size-0.5 < minReadable {
			return f
		}
		size -= 0.5
	}
}
