"""A small PNG chunk walker: text chunks without decoding pixels, and structural validation.

Why not Pillow: `Image.open().info` only sees text chunks before the first IDAT, stops at the first
CRC error, and inflates zTXt/iTXt without a size limit. Here every chunk is length-checked, text
chunks over MAX_TEXT_CHUNK are refused (a hostile file cannot make us allocate gigabytes), IDAT
data is skipped with a seek, and a broken CRC is reported instead of ending the read.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 16 * 1024 * 1024     # compressed or inflated, per text chunk
MAX_TEXT_TOTAL = 64 * 1024 * 1024     # all text of one file
MAX_CHUNK = 0x7FFFFFFF                # PNG spec limit for a chunk length
TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")


@dataclass
class Chunk:
    type: bytes
    offset: int          # of the length field
    length: int
    crc_ok: bool | None  # None when the CRC was not checked
    data: bytes | None = None


@dataclass
class PngScan:
    """What a walk over a PNG found; `problems` is empty for a sound file."""
    is_png: bool = False
    chunks: list[Chunk] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)
    exif: bytes | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    bit_depth: int | None = None
    color_type: int | None = None
    interlace: int | None = None
    has_iend: bool = False
    trailing_bytes: int = 0
    idat_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.is_png and not self.problems


def decode_text(ctype: bytes, data: bytes) -> tuple[str, str]:
    """(keyword, text) of a tEXt/zTXt/iTXt chunk; raises ValueError when malformed or too big."""
    key, sep, rest = data.partition(b"\0")
    if not sep or not key:
        raise ValueError("no keyword")
    keyword = key.decode("latin-1")
    if ctype == b"tEXt":
        return keyword, rest.decode("latin-1")
    if ctype == b"zTXt":
        if not rest or rest[0] != 0:
            raise ValueError("unknown compression method")
        return keyword, _inflate(rest[1:]).decode("latin-1")
    # iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text
    if len(rest) < 2:
        raise ValueError("truncated iTXt header")
    flag, method = rest[0], rest[1]
    _lang, _, rest = rest[2:].partition(b"\0")
    _tkey, _, text = rest.partition(b"\0")
    if flag:
        if method != 0:
            raise ValueError("unknown compression method")
        text = _inflate(text)
    return keyword, text.decode("utf-8", errors="replace")


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_TEXT_CHUNK + 1)
    if len(out) > MAX_TEXT_CHUNK:
        raise ValueError(f"inflates beyond {MAX_TEXT_CHUNK // (1024 * 1024)} MiB (refused)")
    return out


def scan(path: str | Path, *, check_crc: bool = True, keep_data: bool = False,
         inflate_idat: bool = False) -> PngScan:
    """Walk the chunks of a PNG file.

    check_crc verifies every chunk (IDAT included: zlib.crc32 runs at memory speed);
    inflate_idat also inflates the image data and checks it has the size the header promises,
    which catches truncated or garbled pixels without Pillow's per-row unfiltering.
    keep_data keeps the raw bytes of every non-IDAT chunk (repair rewrites them).
    """
    s = PngScan()
    path = Path(path)
    with open(path, "rb") as f:
        sig = f.read(8)
        if sig != SIGNATURE:
            s.problems.append("not a PNG (wrong signature)")
            return s
        s.is_png = True
        size = path.stat().st_size
        text_total = 0
        inflater = zlib.decompressobj() if inflate_idat else None
        inflated = 0
        while True:
            offset = f.tell()
            head = f.read(8)
            if not head:
                s.problems.append("file ends without an IEND chunk (truncated)")
                break
            if len(head) < 8:
                s.problems.append(f"truncated chunk header at byte {offset}")
                break
            length, ctype = struct.unpack(">I4s", head)
            if length > MAX_CHUNK or offset + 12 + length > size:
                s.problems.append(f"chunk {ctype!r} at byte {offset} runs past the end of the file "
                                  f"(truncated)")
                break
            want_data = (ctype in TEXT_TYPES or ctype in (b"IHDR", b"eXIf")
                         or (keep_data and ctype != b"IDAT"))
            if ctype in TEXT_TYPES and length > MAX_TEXT_CHUNK:
                s.warnings.append(f"{ctype.decode('latin-1')} chunk of {length} bytes refused "
                                  f"(limit {MAX_TEXT_CHUNK})")
                want_data = False
            crc = zlib.crc32(ctype)
            data = None
            if want_data or (ctype == b"IDAT" and (check_crc or inflater)):
                data = f.read(length)
                crc = zlib.crc32(data, crc)
            elif check_crc:
                remaining = length
                while remaining:
                    block = f.read(min(remaining, 1 << 20))
                    crc = zlib.crc32(block, crc)
                    remaining -= len(block)
            else:
                f.seek(length, 1)
            stored = struct.unpack(">I", f.read(4))[0]
            crc_ok = (crc & 0xFFFFFFFF) == stored if (check_crc or data is not None) else None
            chunk = Chunk(ctype, offset, length, crc_ok,
                          data if (keep_data and ctype != b"IDAT") else None)
            s.chunks.append(chunk)
            name = ctype.decode("latin-1", errors="replace")
            if crc_ok is False:
                s.problems.append(f"CRC mismatch in {name} chunk at byte {offset}")
            if ctype == b"IHDR" and data is not None and len(data) >= 13:
                (s.width, s.height, s.bit_depth, s.color_type, _c, _f,
                 s.interlace) = struct.unpack(">IIBBBBB", data[:13])
            elif ctype == b"IDAT":
                s.idat_bytes += length
                if inflater is not None and data is not None:
                    try:
                        inflated += len(inflater.decompress(data, 1 << 30))
                    except zlib.error as e:
                        s.problems.append(f"image data does not inflate ({e})")
                        inflater = None
            elif ctype in TEXT_TYPES and data is not None:
                try:
                    key, text = decode_text(ctype, data)
                except (ValueError, zlib.error) as e:
                    s.warnings.append(f"{name} chunk at byte {offset} unreadable ({e})")
                else:
                    text_total += len(text)
                    if text_total > MAX_TEXT_TOTAL:
                        s.warnings.append(f"text beyond {MAX_TEXT_TOTAL} bytes ignored")
                    elif key not in s.text:
                        s.text[key] = text
            elif ctype == b"eXIf" and data is not None:
                s.exif = data
            if ctype == b"IEND":
                s.has_iend = True
                s.trailing_bytes = size - f.tell()
                break
    if s.is_png and (not s.chunks or s.chunks[0].type != b"IHDR"):
        s.problems.append("first chunk is not IHDR")
    if s.is_png and s.idat_bytes == 0:
        s.problems.append("no image data (IDAT)")
    if inflate_idat and inflater is not None and s.width and not s.problems:
        expected = _raw_size(s)
        if expected is not None and inflated < expected:
            s.problems.append(f"image data is short: {inflated} of {expected} bytes (truncated pixels)")
    return s


def _raw_size(s: PngScan) -> int | None:
    """Bytes the inflated IDAT stream must hold (filter byte + packed row, per row)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(s.color_type or 0)
    if channels is None or not s.bit_depth:
        return None
    def rows(w, h):
        return h * (1 + (w * channels * s.bit_depth + 7) // 8) if w and h else 0
    if s.interlace:
        total = 0
        for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                               (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
            w = (s.width - x0 + dx - 1) // dx
            h = (s.height - y0 + dy - 1) // dy
            total += rows(w, h)
        return total
    return rows(s.width, s.height)


def read_text(path: str | Path) -> PngScan:
    """Text chunks and eXIf of a PNG, CRCs of those chunks checked, pixels never read."""
    return scan(path, check_crc=False)
