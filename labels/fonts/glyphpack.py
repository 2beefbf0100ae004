#!/usr/bin/python3
"""Builds hanamin-fallback.glyphs: the outlines of every character that the
primary label font (WenQuanYi Micro Hei cut to GBK + ASCII) lacks and
HanaMinA / HanaMinB have, in the compact format read by labels/glyphpack.go.

Usage: glyphpack.py PRIMARY.ttf HanaMinA.ttf HanaMinB.ttf OUT.glyphs [GRID [TOL]]

Each outline is converted as follows (this is the modification made to the
Hanazono glyphs; see README.md):
  * composite glyphs are flattened;
  * the glyph is scaled and shifted so that the ideographic box of HanaMin
    (measured on a few common hanzi) matches the primary font's, so the
    fallback characters sit on the same baseline at the same size;
  * the outlines become polygons: HanaMin's glyphs are drawn with straight
    segments only (GlyphWiki's stroke engine writes curves as polylines), and
    the rare quadratic curve is flattened into 8 segments;
  * coordinates are rounded to a GRID-unit em (default 128; 1/128 em is
    0.04 mm for a 5 mm character, below a 600 dpi printer dot); points that
    become duplicates are dropped, then each polygon is simplified with the
    Ramer-Douglas-Peucker algorithm (tolerance TOL grid units, default 0.5),
    and polygons with fewer than 3 points are dropped;
  * hinting and every table but the outlines and advances is dropped.

File format (integers big-endian; "uvarint" is Go's encoding/binary
unsigned varint, "svarint" its zigzag signed varint):
  "CCGLYPH1"                      magic, 8 bytes
  u16 grid                        units per em of the coordinates
  u16 block                       glyphs per compressed block
  u32 count                       number of glyphs N (sorted by code point)
  u32 blocks                      number of blocks M = ceil(N / block)
  u32 indexLen                    length of the compressed index
  index (raw DEFLATE)             N uvarint code point deltas (the first is
                                  the code point itself), then N uvarint
                                  advance widths in grid units
  (M+1) x u32                     block offsets, relative to the first block
  M blocks (raw DEFLATE)          each the glyph records of `block`
                                  consecutive glyphs
  glyph record: uvarint polygons; per polygon: uvarint points P, then
  P x (svarint dx, svarint dy), each relative to the previous point (the
  first point of the glyph relative to (0, 0)), y up from the baseline.
  Polygons are closed implicitly and filled with the nonzero winding rule.
"""
import struct
import sys
import unicodedata
import zlib

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

REFERENCE = "国中永東圆围圈團園田口回"
BLOCK = 128


def ideo_box(font):
    """Returns (ymin, ymax) in em of the reference hanzi's union box."""
    gs, cmap, upem = font.getGlyphSet(), font.getBestCmap(), font["head"].unitsPerEm
    lo, hi = 1e9, -1e9
    for ch in REFERENCE:
        name = cmap.get(ord(ch))
        if name is None:
            continue
        pen = BoundsPen(gs)
        gs[name].draw(pen)
        lo, hi = min(lo, pen.bounds[1] / upem), max(hi, pen.bounds[3] / upem)
    return lo, hi


def uvarint(n, out):
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def svarint(n, out):
    uvarint((n << 1) if n >= 0 else ((-n << 1) - 1), out)


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return c.compress(bytes(data)) + c.flush()


def wanted(cp, primary):
    if cp in primary or cp <= 0x7E:
        return False
    if 0xE000 <= cp <= 0xF8FF or cp >= 0xF0000:  # private use
        return False
    return unicodedata.category(chr(cp)) not in ("Cc", "Cf", "Cs", "Co", "Zs", "Zl", "Zp", "Mn", "Me")


def flatten(pts, on):
    """Returns the contour as a polygon: TrueType quadratic segments (off-curve
    points; two in a row imply an on-curve point between them) become 8 line
    segments each."""
    n = len(pts)
    if all(on):
        return list(pts)
    # start at an on-curve point (or an implied one)
    k = next((i for i in range(n) if on[i]), None)
    if k is None:
        first = ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
        seq, son = [first] + list(pts[1:]) + list(pts[:1]), [1] + [0] * n
    else:
        seq, son = list(pts[k:]) + list(pts[:k]), list(on[k:]) + list(on[:k])
    seq.append(seq[0])
    son.append(1)
    out = [seq[0]]
    cur = seq[0]
    i = 1
    while i < len(seq):
        if son[i]:
            cur = seq[i]
            out.append(cur)
            i += 1
            continue
        ctrl = seq[i]
        if son[i + 1]:
            nxt = seq[i + 1]
            i += 2
        else:
            nxt = ((ctrl[0] + seq[i + 1][0]) / 2, (ctrl[1] + seq[i + 1][1]) / 2)
            i += 1
        for t in range(1, 9):
            t /= 8
            out.append(((1 - t) ** 2 * cur[0] + 2 * (1 - t) * t * ctrl[0] + t * t * nxt[0],
                        (1 - t) ** 2 * cur[1] + 2 * (1 - t) * t * ctrl[1] + t * t * nxt[1]))
        cur = nxt
    out.pop()  # the closing copy of the start point
    return out


def simplify(pts, tol):
    """Ramer-Douglas-Peucker on a closed polygon: split it at the point
    farthest from the first, then simplify both chains."""
    if tol <= 0 or len(pts) <= 4:
        return pts

    def rdp(seg):
        if len(seg) < 3:
            return seg
        (x1, y1), (x2, y2) = seg[0], seg[-1]
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5
        best, at = -1.0, 0
        for i in range(1, len(seg) - 1):
            x, y = seg[i]
            d = abs(dy * (x - x1) - dx * (y - y1)) / length if length else ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
            if d > best:
                best, at = d, i
        if best <= tol:
            return [seg[0], seg[-1]]
        return rdp(seg[: at + 1])[:-1] + rdp(seg[at:])

    far = max(range(len(pts)), key=lambda i: (pts[i][0] - pts[0][0]) ** 2 + (pts[i][1] - pts[0][1]) ** 2)
    return rdp(pts[: far + 1])[:-1] + rdp(pts[far:] + [pts[0]])[:-1]


def main():
    primary_path, a_path, b_path, out_path = sys.argv[1:5]
    grid = int(sys.argv[5]) if len(sys.argv) > 5 else 128
    tol = float(sys.argv[6]) if len(sys.argv) > 6 else 0.5
    primary = TTFont(primary_path)
    pcmap = set(primary.getBestCmap())
    p_lo, p_hi = ideo_box(primary)

    sources = {}  # code point -> (font, glyph name); HanaMinB wins for SIP
    fonts = [TTFont(a_path), TTFont(b_path)]
    boxes = {id(font): ideo_box(font) for font in fonts}
    boxes[id(fonts[1])] = boxes[id(fonts[0])]  # HanaMinB has no reference hanzi
    for font in fonts:
        for cp, name in font.getBestCmap().items():
            if wanted(cp, pcmap):
                sources[cp] = (font, name)

    out_glyphs = []
    for cp in sorted(sources):
        font, name = sources[cp]
        upem = font["head"].unitsPerEm
        f_lo, f_hi = boxes[id(font)]
        s = (p_hi - p_lo) / (f_hi - f_lo)
        adv = font["hmtx"][name][0] / upem
        glyf = font["glyf"]
        coords, ends, flags = glyf[name].getCoordinates(glyf)

        def place(pt):
            # scale about the centre of the ideographic box, then move it onto
            # the primary font's box, then round to the grid
            x, y = pt[0] / upem, pt[1] / upem
            x = (x - adv / 2) * s + adv / 2
            y = (y - (f_lo + f_hi) / 2) * s + (p_lo + p_hi) / 2
            return (round(x * grid), round(y * grid))

        polygons, start = [], 0
        for end in ends:
            raw = flatten([coords[i] for i in range(start, end + 1)], [flags[i] & 1 for i in range(start, end + 1)])
            start = end + 1
            pts = []
            for p in map(place, raw):
                if not pts or pts[-1] != p:
                    pts.append(p)
            while len(pts) > 1 and pts[-1] == pts[0]:
                pts.pop()
            pts = simplify(pts, tol)
            if len(pts) >= 3:
                polygons.append(pts)
        rec = bytearray()
        uvarint(len(polygons), rec)
        px = py = 0
        for pts in polygons:
            uvarint(len(pts), rec)
            for x, y in pts:
                svarint(x - px, rec)
                svarint(y - py, rec)
                px, py = x, y
        out_glyphs.append((cp, round(adv * grid), bytes(rec)))

    index = bytearray()
    last = 0
    for cp, _, _ in out_glyphs:
        uvarint(cp - last, index)
        last = cp
    for _, adv, _ in out_glyphs:
        uvarint(adv, index)
    zindex = deflate(index)

    blocks = []
    for i in range(0, len(out_glyphs), BLOCK):
        blocks.append(deflate(b"".join(g[2] for g in out_glyphs[i : i + BLOCK])))
    offsets, off = [], 0
    for b in blocks:
        offsets.append(off)
        off += len(b)
    offsets.append(off)

    with open(out_path, "wb") as f:
        f.write(b"CCGLYPH1")
        f.write(struct.pack(">HHIII", grid, BLOCK, len(out_glyphs), len(blocks), len(zindex)))
        f.write(zindex)
        f.write(struct.pack(">%dI" % len(offsets), *offsets))
        for b in blocks:
            f.write(b)
    print("%s: %d glyphs, grid %d, tolerance %g, %d blocks, %d bytes" % (out_path, len(out_glyphs), grid, tol, len(blocks), 24 + len(zindex) + 4 * len(offsets) + off))


if __name__ == "__main__":
    main()
