#!/bin/sh
# Regenerates the label fonts in this directory from Debian's font packages.
# Run by hand on a Debian 12 machine; NOT run in CI (the outputs are committed).
#
#   apt-get install -y fonts-wqy-microhei fonts-hanazono python3-fonttools
#   labels/fonts/make-fonts.sh
#
# Outputs (see README.md): wqy-microhei-gbk.ttf, hanamin-fallback.glyphs,
# SHA256SUMS. Uses Debian's /usr/bin/python3, which has fontTools; another
# python3 on PATH may not.
set -eu
cd "$(dirname "$0")"
PY=/usr/bin/python3
WQY=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
HANA=/usr/share/fonts/truetype/hanazono
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. WenQuanYi Micro Hei: take font 0 ("WenQuanYi Micro Hei") out of the TTC
#    (fpdf cannot read collections) ...
$PY -c "from fontTools.ttLib import TTCollection as C; C('$WQY', recalcTimestamp=False).fonts[0].save('$WORK/wqy-microhei.ttf')"

# ... and cut it to printable ASCII (U+0020-U+007E) plus every character GBK
#    can encode (21,886 characters in all; 21,883 are in the font).
$PY - "$WORK/gbk.txt" <<'PYEOF'
import sys
chars = [chr(c) for c in range(0x20, 0x7F)]
for c in range(0x80, 0x10000):
    if 0xD800 <= c <= 0xDFFF:
        continue
    try:
        chr(c).encode("gbk")
    except UnicodeEncodeError:
        continue
    chars.append(chr(c))
open(sys.argv[1], "w", encoding="utf-8").write("".join(chars))
PYEOF
$PY -m fontTools.subset "$WORK/wqy-microhei.ttf" --text-file="$WORK/gbk.txt" \
  --output-file=wqy-microhei-gbk.ttf --no-hinting --desubroutinize --layout-features='' \
  --drop-tables+=GSUB,GPOS,GDEF,vhea,vmtx,FFTM

# 2. The fallback outlines: every character the cut font lacks that HanaMinA
#    (BMP: CJK Extension A, compatibility ideographs, symbols) or HanaMinB
#    (CJK Extensions B-F) has, as polygons in a compact file (glyphpack.py).
$PY glyphpack.py wqy-microhei-gbk.ttf "$HANA/HanaMinA.ttf" "$HANA/HanaMinB.ttf" hanamin-fallback.glyphs 128 0.5

# 3. The licence texts, from the Debian packages.
cp /usr/share/doc/fonts-wqy-microhei/copyright COPYRIGHT-wqy-microhei.debian
cp /usr/share/common-licenses/Apache-2.0 LICENSE-wqy-microhei-Apache-2.0.txt
cp /usr/share/doc/fonts-hanazono/copyright LICENSE-hanazono.txt

sha256sum wqy-microhei-gbk.ttf hanamin-fallback.glyphs > SHA256SUMS
ls -l wqy-microhei-gbk.ttf hanamin-fallback.glyphs
