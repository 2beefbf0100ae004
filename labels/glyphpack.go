package labels

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// glyphPack reads the fallback outlines (labels/fonts/hanamin-fallback.glyphs,
// written by labels/fonts/glyphpack.py, whose doc comment defines the
// format). The index (code points and advances) is decoded once; an outline
// is decoded from its compressed block when first needed and kept in a small
// bounded cache, so memory does not grow with the characters printed.
type glyphPack struct {
	grid    float64 // coordinate units per em
	block   int     // glyphs per compressed block
	runes   []rune  // sorted code points
	adv     []uint16
	offsets []uint32 // len(blocks)+1, into data
	data    []byte

	mu    sync.Mutex
	cache map[rune]*outline
}

// outline is one decoded glyph: polygons of (x, y) pairs in grid units, y up
// from the baseline.
type outline struct {
	adv   float64 // advance in em
	polys [][]int32
}

// maxCachedOutlines bounds the outline cache; when it is full it is emptied.
const maxCachedOutlines = 512

func parseGlyphPack(b []byte) (*glyphPack, error) {
	const header = 24
	if len(b) < header || string(b[:8]) != "CCGLYPH1" {
		return nil, errors.New("labels: fallback glyphs: bad header")
	}
	p := &glyphPack{
		grid:  float64(binary.BigEndian.Uint16(b[8:])),
		block: int(binary.BigEndian.Uint16(b[10:])),
		cache: map[rune]*outline{},
	}
	n := int(binary.BigEndian.Uint32(b[12:]))
	blocks := int(binary.BigEndian.Uint32(b[16:]))
	ilen := int(binary.BigEndian.Uint32(b[20:]))
	if p.grid == 0 || p.block == 0 || blocks != (n+p.block-1)/p.block || header+ilen+4*(blocks+1) > len(b) {
		return nil, errors.New("labels: fallback glyphs: bad header")
	}
	index, err := io.ReadAll(flate.NewReader(bytes.NewReader(b[header : header+ilen])))
	if err != nil {
		return nil, fmt.Errorf("labels: fallback glyphs: index: %w", err)
	}
	p.runes = make([]rune, n)
	p.adv = make([]uint16, n)
	last := uint64(0)
	for i := range n {
		d, k := binary.Uvarint(index)
		if k <= 0 {
			return nil, errors.New("labels: fallback glyphs: short index")
		}
		index = index[k:]
		last += d
		p.runes[i] = rune(last)
	}
	for i := range n {
		a, k := binary.Uvarint(index)
		if k <= 0 {
			return nil, errors.New("labels: fallback glyphs: short index")
		}
		index = index[k:]
		p.adv[i] = uint16(a)
	}
	off := header + ilen
	p.offsets = make([]uint32, blocks+1)
	for i := range p.offsets {
		p.offsets[i] = binary.BigEndian.Uint32(b[off+4*i:])
	}
	p.data = b[off+4*(blocks+1):]
	if int(p.offsets[blocks]) != len(p.data) {
		return nil, errors.New("labels: fallback glyphs: bad block table")
	}
	return p, nil
}

// find returns the index of c in the pack.
func (p *glyphPack) find(c rune) (int, bool) {
	return slices.BinarySearch(p.runes, c)
}

// advance returns the advance of glyph i in em.
func (p *glyphPack) advance(i int) float64 { return float64(p.adv[i]) / p.grid }

// outline returns the outline of glyph i (code point c).
func (p *glyphPack) outline(i int) (*outline, error) {
	c := p.runes[i]
	p.mu.Lock()
	o := p.cache[c]
	p.mu.Unlock()
	if o != nil {
		return o, nil
	}
	o, err := p.decode(i)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if len(p.cache) >= maxCachedOutlines {
		clear(p.cache)
	}
	p.cache[c] = o
	p.mu.Unlock()
	return o, nil
}

// decode decompresses glyph i's block and reads its record.
func (p *glyphPack) decode(i int) (*outline, error) {
	blk := i / p.block
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(p.data[p.offsets[blk]:p.offsets[blk+1]])))
	if err != nil {
		return nil, fmt.Errorf("labels: fallback glyphs: block %d: %w", blk, err)
	}
	r := &varReader{b: raw}
	for skip := i % p.block; skip > 0; skip-- {
		r.skipGlyph()
	}
	o := &outline{adv: p.advance(i)}
	x, y := int32(0), int32(0)
	np := r.uvarint()
	for range np {
		n := r.uvarint()
		poly := make([]int32, 0, 2*n)
		for range n {
			x += r.svarint()
			y += r.svarint()
			poly = append(poly, x, y)
		}
		o.polys = append(o.polys, poly)
	}
	if r.err {
		return nil, fmt.Errorf("labels: fallback glyphs: glyph U+%04X is truncated", p.runes[i])
	}
	return o, nil
}

// varReader reads varints from a byte slice and remembers running short.
type varReader struct {
	b   []byte
	err bool
}

func (r *varReader) uvarint() int {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = true
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return int(v)
}

func (r *varReader) svarint() int32 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = true
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return int32(v)
}

func (r *varReader) skipGlyph() {
	for np := r.uvarint(); np > 0; np-- {
		for n := 2 * r.uvarint(); n > 0; n-- {
			r.svarint()
		}
	}
}
