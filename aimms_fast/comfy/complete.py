"""Is a file ComfyUI is writing finished? A structural check beside the watcher's size-stable rule.

Size-stable alone can be fooled by a writer that pauses (VHS pipes frames into ffmpeg, which writes
the MP4 index only at the end). Cheap structural ends are checked where the format has one: PNG's
IEND chunk, JPEG's EOI marker, and for MP4/MOV a walk over the top-level boxes that must cover
the file exactly and include `moov`. Other formats (WebM, GIF, WebP) rely on size-stable alone.
Reads at most a few hundred bytes per box header; never decodes.
"""
from __future__ import annotations

import struct
from pathlib import Path

MAX_BOXES = 10_000


def _mp4_complete(f, size: int) -> bool:
    pos, seen_moov = 0, False
    for _ in range(MAX_BOXES):
        if pos == size:
            return seen_moov
        if size - pos < 8:
            return False
        f.seek(pos)
        head = f.read(16)
        n, kind = struct.unpack(">I4s", head[:8])
        if n == 1:
            if len(head) < 16:
                return False
            n = struct.unpack(">Q", head[8:16])[0]
        elif n == 0:                  # "to the end of the file": only a finished writer sets it last
            return seen_moov or kind == b"moov"
        if n < 8:
            return False
        seen_moov = seen_moov or kind == b"moov"
        pos += n
    return False


def looks_complete(path: Path) -> bool:
    """False when the file's own structure says it is still being written (or is cut short)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return False
        ext = path.suffix.lower()
        with open(path, "rb") as f:
            if ext == ".png":
                f.seek(max(0, size - 12))
                return f.read(12)[4:8] == b"IEND"
            if ext in (".jpg", ".jpeg"):
                f.seek(size - 2)
                return f.read(2) == b"\xff\xd9"
            if ext in (".mp4", ".mov", ".m4v"):
                return _mp4_complete(f, size)
    except OSError:
        return False
    return True
