"""Decoding huge images for thumbnails in bounded memory (issue 14: image bombs).

Pillow decodes a PNG whole: a 12000x12000 RGB PNG (a 1 MB file) is 576 MB as a Pillow image
(RGB is stored 4 bytes a pixel) and ~1.7 GB once converted and resized — per thumbnail worker.
JPEG has draft mode (decode at 1/2..1/8 scale); PNG has nothing like it, so:

- `reduced_png(path, target)`: 8-bit non-interlaced greyscale/RGB/grey+alpha/RGBA PNGs are
  inflated band by band (zlib with a bounded output per call, so a deflate bomb cannot balloon
  either), each band is unfiltered by Pillow's own PNG decoder (the band's previous row is passed
  in, unfiltered, as a "None"-filtered first row, so Up/Average/Paeth rows decode exactly) and
  box-reduced at once. Peak memory is one band (~16 MB) plus the reduced picture.
- Everything else is decoded whole, so it must fit: `check_pixels()` refuses images above
  FULL_DECODE_MAX_PIXELS (streamable PNGs: above STREAM_MAX_PIXELS) with a clear MediaError
  before any pixel is decoded; the take is marked failed with that reason.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

from aimms_fast.errors import MediaError

# Whole decode: pixels * 4 bytes (+ a reduced copy) must stay well under the 300 MB a worker may
# use. 50 Mpx = 200 MB decoded: an 8K frame (33 Mpx) or a 7000x7000 still is fine.
FULL_DECODE_MAX_PIXELS = 50_000_000
# Banded PNG decode: memory is bounded, time is not (~1 s per 100 Mpx): 1 Gpx is a 30000^2 scan.
STREAM_MAX_PIXELS = 1_000_000_000
BAND_BYTES = 16 * 1024 * 1024
# Streamable PNGs above this go the banded way (below it a whole decode is small and faster).
BANDED_FROM_PIXELS = 16_000_000

_SIG = b"\x89PNG\r\n\x1a\n"
_MODES = {0: ("L", 1), 2: ("RGB", 3), 4: ("LA", 2), 6: ("RGBA", 4)}   # colour type -> mode, bytes/px


def png_header(path: Path) -> tuple[int, int, int, int, int] | None:
    """(width, height, bit depth, colour type, interlace) of a PNG, or None if not a PNG."""
    with open(path, "rb") as f:
        head = f.read(33)
    if len(head) < 33 or head[:8] != _SIG or head[12:16] != b"IHDR":
        return None
    w, h, depth, ctype, _comp, _filt, interlace = struct.unpack(">IIBBBBB", head[16:29])
    return w, h, depth, ctype, interlace


def streamable(hdr) -> bool:
    return hdr is not None and hdr[2] == 8 and hdr[3] in _MODES and hdr[4] == 0


def check_pixels(path: Path, w: int, h: int, *, stream: bool) -> None:
    limit = STREAM_MAX_PIXELS if stream else FULL_DECODE_MAX_PIXELS
    if w * h > limit:
        raise MediaError(f"image too large for a thumbnail: {w}x{h} = {w * h / 1e6:.0f} Mpx "
                         f"(the limit is {limit / 1e6:.0f} Mpx)", path=path,
                         hint="make a smaller copy (e.g. 8K or less) and use that as the take")


def _idat_chunks(f):
    f.seek(8)
    while True:
        head = f.read(8)
        if len(head) < 8:
            raise MediaError("PNG ends before its image data ends (truncated file)")
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IDAT":
            remaining = length
            while remaining:
                part = f.read(min(remaining, 1 << 20))
                if not part:
                    raise MediaError("PNG ends inside its image data (truncated file)")
                remaining -= len(part)
                yield part
            f.seek(4, 1)  # CRC
        elif kind == b"IEND":
            return
        else:
            f.seek(length + 4, 1)


def reduced_png(path: Path, target: tuple[int, int]):
    """A Pillow image of a streamable PNG reduced by an integer factor so that it still covers
    `target` (w, h) — the caller resizes the rest of the way. Memory: one band + the result."""
    from PIL import Image
    hdr = png_header(path)
    if not streamable(hdr):
        raise ValueError("not a streamable PNG")
    w, h, _depth, ctype, _ = hdr
    check_pixels(path, w, h, stream=True)
    mode, bpp = _MODES[ctype]
    factor = max(1, min(w // max(1, target[0]), h // max(1, target[1])))
    stride = 1 + w * bpp
    rows_per_band = max(1, BAND_BYTES // stride // factor) * factor
    out = Image.new(mode, ((w + factor - 1) // factor, (h + factor - 1) // factor))
    inflate = zlib.decompressobj()
    buf = bytearray()
    prev_row = bytes(w * bpp)       # the row above the first one is all zeros (PNG spec)
    y = 0
    with open(path, "rb") as f:
        chunks = _idat_chunks(f)
        pending = b""
        while y < h:
            want = min(rows_per_band, h - y) * stride
            while len(buf) < want:
                if not pending:
                    pending = next(chunks, b"")
                    if not pending:
                        buf += inflate.flush()
                        if len(buf) < want:
                            raise MediaError("PNG image data ends early (truncated or corrupt)", path=path)
                        break
                # bounded output per call: a deflate bomb is inflated a band at a time
                try:
                    buf += inflate.decompress(pending, want - len(buf))
                except zlib.error as e:
                    raise MediaError(f"PNG image data is corrupt ({e})", path=path) from e
                pending = inflate.unconsumed_tail
            rows = want // stride
            band = Image.frombytes(mode, (w, rows + 1),
                                   zlib.compress(b"\x00" + prev_row + bytes(buf[:want]), 0), "zip", mode)
            del buf[:want]
            prev_row = band.crop((0, rows, w, rows + 1)).tobytes()
            part = band.crop((0, 1, w, rows + 1))
            small = part.reduce(factor) if factor > 1 else part
            out.paste(small, (0, y // factor))
            y += rows
    return out, (w, h)
