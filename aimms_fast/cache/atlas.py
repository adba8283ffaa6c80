"""The thumbnail atlas on disk: every take's poster and filmstrip, JPEG-compressed, plus the index.

Layout (inside the project's regenerable cache folder, `.aimms_fast_cache/thumbs/`):
  FORMAT.json          format version, codec, poster size; a different one = wipe and rebuild
  index.sqlite         table tiles: one row per media file (key: project-relative path; size +
                       mtime_ns decide staleness): state, reason, picture rects, frame times...
                       tables posters / strips: the JPEG bytes (cache/codec.py), keyed by path

Format 2 (this one) stores compressed pictures in SQLite; format 1 stored raw uint8 tiles in .npy
pages (379 KiB per take; 7.8 GiB for the 21K demo). SQLite and not page files, because the
pictures now vary in size: SQLite reuses the space of a rewritten picture (format 1 rewrote
fixed-size slots in place; variable-size blobs in page files would need a compactor), and one
indexed query returns a whole screen of posters with their rects (a read of 60 is ~0.3 ms).

Filmstrip geometry (frame size = the Settings scrub size, and K) is recorded per row, not in
FORMAT.json: changing the scrub size does not throw the posters away. A row whose filmstrip is
another size than the writer's is reported as not built by `known()`, so a sweep rebuilds it in
the background while the old (correct, smaller) filmstrip keeps showing.

A row can be `complete = 0`: a video's poster taken from its companion workflow PNG (as AIMMS
does; cheap), with the filmstrip still to come. A full build redoes those rows; the video's own
poster replaces the PNG's when they differ.

One writer at a time (the worker pool's dispatcher thread, in whichever process runs it): workers
send tiles (already JPEG-encoded, cache/encode.py) back, the writer stores them. A row and its
pictures are written in one transaction, so a reader never sees a row whose pixels are missing.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np

from aimms_fast.cache import codec
from aimms_fast.media.posters import POSTER_SIZE, STRIP_FRAMES, STRIP_SIZE

FORMAT_VERSION = 2
SUBDIR = "thumbs"
INDEX = "index.sqlite"
FORMAT_FILE = "FORMAT.json"
SCRUB_SIZES = ((128, 72), (192, 108), (256, 144))   # the Settings choices for hover-scrub frames

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS tiles (
        path TEXT PRIMARY KEY,      -- project-relative, forward slashes
        size INTEGER NOT NULL,      -- source size and mtime_ns when built: a change = stale
        mtime_ns INTEGER NOT NULL,
        state TEXT NOT NULL,        -- ready | placeholder | failed
        reason TEXT,
        kind TEXT, strategy TEXT,
        src_w INTEGER, src_h INTEGER,
        px INTEGER, py INTEGER, pw INTEGER, ph INTEGER,   -- picture rect inside the poster tile
        strip_w INTEGER, strip_h INTEGER, strip_k INTEGER, -- filmstrip frame size and count
        sx INTEGER, sy INTEGER, sw INTEGER, sh INTEGER,   -- picture rect inside each strip frame
        times TEXT,                 -- JSON list of strip frame times (s)
        frame_count INTEGER, keyframe_count INTEGER,
        poster_from TEXT,           -- 'media' | 'workflow_png'
        complete INTEGER NOT NULL DEFAULT 1,  -- 0: poster only (from the workflow PNG) so far
        poster_bytes INTEGER, strip_bytes INTEGER,
        build_ms REAL, built_at REAL
    )""",
    "CREATE TABLE IF NOT EXISTS posters (path TEXT PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS strips (path TEXT PRIMARY KEY, data BLOB NOT NULL)",
]
TILE_COLS = ("path", "size", "mtime_ns", "state", "reason", "kind", "strategy", "src_w", "src_h",
             "px", "py", "pw", "ph", "strip_w", "strip_h", "strip_k", "sx", "sy", "sw", "sh", "times",
             "frame_count", "keyframe_count", "poster_from", "complete", "poster_bytes", "strip_bytes",
             "build_ms", "built_at")


def thumbs_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / SUBDIR


def format_record() -> dict:
    return {"version": FORMAT_VERSION, "codec": codec.CODEC, "poster_size": list(POSTER_SIZE),
            "poster_quality": codec.POSTER_QUALITY, "strip_quality": codec.STRIP_QUALITY}


def read_format(folder: Path) -> dict | None:
    try:
        return json.loads((folder / FORMAT_FILE).read_text())
    except (OSError, ValueError):
        return None


def check_strip_size(size) -> tuple[int, int]:
    """A scrub-frame size as (w, h); ValueError naming the allowed ones otherwise."""
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"scrub size {size!r} is not (width, height)") from None
    if (w, h) not in SCRUB_SIZES:
        raise ValueError(f"scrub size {w}x{h} is not one of " + ", ".join(f"{a}x{b}" for a, b in SCRUB_SIZES))
    return w, h


def parse_scrub_size(value) -> tuple[int, int] | None:
    """A Settings scrub size ("192x108", (192, 108) or None) as (w, h); None (the default size)
    for anything that is not one of SCRUB_SIZES, so a bad settings file never stops the app."""
    if value is None:
        return None
    try:
        if isinstance(value, str):
            value = value.lower().replace("×", "x").split("x")
        return check_strip_size(value)
    except ValueError:
        return None


def connect_index(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(folder / INDEX), timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")   # a regenerable cache: losing the last commits is fine
    return conn


def wipe(folder: Path) -> None:
    """Delete the atlas (readers holding old files keep them until they refresh)."""
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


class AtlasWriter:
    """Stores tiles and their index rows. Use from one thread."""

    def __init__(self, cache_dir: Path, *, strip_frames: int | None = None,
                 strip_size: tuple[int, int] | None = None):
        """`strip_frames` / `strip_size` are what this writer builds (None: K = STRIP_FRAMES,
        frames STRIP_SIZE). Rows built with another K or size stay readable and count as not
        built (`known()`), so a sweep replaces them."""
        self.cache_dir = Path(cache_dir)
        self.folder = thumbs_dir(self.cache_dir)
        self.strip_frames = int(strip_frames) if strip_frames else STRIP_FRAMES
        self.strip_size = check_strip_size(strip_size) if strip_size else STRIP_SIZE
        self.conn: sqlite3.Connection | None = None
        self._index_ino = None
        self.open()

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> bool:
        """Create or check the atlas; a different format (an older release's raw .npy pages, or a
        damaged index) is wiped and rebuilt. Returns True when it started empty."""
        want = format_record()
        fresh = read_format(self.folder) != want
        if not fresh:
            try:
                self._connect()
                self.conn.execute("SELECT COUNT(*) FROM tiles").fetchone()
            except sqlite3.DatabaseError:
                fresh = True
        if fresh:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            wipe(self.folder)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._connect()
            tmp = self.folder / (FORMAT_FILE + ".tmp")
            tmp.write_text(json.dumps(want, indent=1))
            os.replace(tmp, self.folder / FORMAT_FILE)
        return fresh

    def _connect(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.conn = connect_index(self.folder)
        for sql in SCHEMA:
            self.conn.execute(sql)
        self._index_ino = os.stat(self.folder / INDEX).st_ino

    def ensure_present(self) -> bool:
        """Someone deleted the cache folder while we run: start a new one. True if so."""
        try:
            if os.stat(self.folder / INDEX).st_ino == self._index_ino and (self.folder / FORMAT_FILE).exists():
                return False
        except FileNotFoundError:
            pass
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.open()
        return True

    def close(self) -> None:
        if self.conn is not None:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            self.conn.close()
            self.conn = None

    def begin(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.conn is not None and self.conn.in_transaction:
            self.conn.execute("COMMIT")

    # -- entries --------------------------------------------------------------------------------
    def put(self, rel: str, size: int, mtime_ns: int, th, *, partial: bool = False) -> None:
        """Record what a worker made for `rel` (a posters.Thumbs; its pictures as JPEG bytes in
        `poster_jpeg` / `strip_jpeg`, else encoded here from the arrays). `partial`: a quick
        poster only (from the workflow PNG), the full build still to come. Call commit() to
        publish."""
        partial = partial or bool(getattr(th, "partial", False))
        ready = th.state == "ready"
        if partial and not ready:
            return                    # no quick poster: the full build makes one
        self.begin()
        c = self.conn
        poster = getattr(th, "poster_jpeg", None)
        if ready and poster is None and th.poster is not None:
            poster = codec.encode_poster(th.poster, th.poster_rect or (0, 0, th.poster.shape[1], th.poster.shape[0]))
        strip = getattr(th, "strip_jpeg", None)
        k = len(th.times) if th.times else (len(th.strip) if th.strip is not None else 0)
        if ready and strip is None and th.strip is not None and th.strip_rect is not None:
            strip = codec.encode_strip(th.strip, th.strip_rect)
        strip_wh = getattr(th, "strip_frame_size", None)
        if strip_wh is None and th.strip is not None:
            strip_wh = (th.strip.shape[2], th.strip.shape[1])
        if not ready:
            poster = strip = None
        poster_from = getattr(th, "poster_from", None) or "media"
        if poster is not None and not partial and poster_from == "media":
            poster, poster_from = self._keep_quick_poster(rel, poster, th.poster_rect)
        if poster is not None:
            c.execute("INSERT OR REPLACE INTO posters(path, data) VALUES (?, ?)", (rel, poster))
        else:
            c.execute("DELETE FROM posters WHERE path = ?", (rel,))
        if strip is not None:
            c.execute("INSERT OR REPLACE INTO strips(path, data) VALUES (?, ?)", (rel, strip))
        else:
            c.execute("DELETE FROM strips WHERE path = ?", (rel,))
        pr = th.poster_rect if poster is not None and th.poster_rect else (None,) * 4
        sr = th.strip_rect if strip is not None else (None,) * 4
        sdim = (*strip_wh, k) if strip is not None and strip_wh else (None,) * 3
        src = th.source_size or (None, None)
        values = (rel, int(size), int(mtime_ns), th.state, th.reason, th.kind, th.strategy, src[0], src[1],
                  *pr, *sdim, *sr, json.dumps(th.times) if th.times and strip is not None else None,
                  th.frame_count, th.keyframe_count, poster_from if poster is not None else None,
                  0 if partial else 1,
                  len(poster) if poster is not None else None, len(strip) if strip is not None else None,
                  round(th.build_ms, 2), time.time())
        c.execute(f"INSERT OR REPLACE INTO tiles({','.join(TILE_COLS)}) VALUES ({','.join('?' * len(TILE_COLS))})",
                  values)

    def _keep_quick_poster(self, rel: str, poster: bytes, rect) -> tuple[bytes, str]:
        """The video's own poster replaces the one taken from its workflow PNG only when they
        differ (mean abs difference over 6/255: more than the two JPEG encodings' noise), so the
        UI does not re-upload a poster that looks the same."""
        r = self.conn.execute("SELECT p.data, t.px, t.py, t.pw, t.ph FROM tiles t JOIN posters p USING (path) "
                              "WHERE t.path = ? AND t.poster_from = 'workflow_png'", (rel,)).fetchone()
        if r is None or tuple(r[1:]) != tuple(rect or ()):
            return poster, "media"
        w, h = POSTER_SIZE
        a = np.empty((h, w, 4), np.uint8)
        b = np.empty((h, w, 4), np.uint8)
        try:
            codec.decode_poster_into(r[0], rect, a)
            codec.decode_poster_into(poster, rect, b)
        except ValueError:
            return poster, "media"
        if float(np.abs(a[..., :3].astype(np.int16) - b[..., :3]).mean()) <= 6.0:
            return r[0], "workflow_png"
        return poster, "media"

    def lookup(self, rel: str) -> tuple | None:
        """(state, size, mtime_ns) recorded for rel, or None."""
        return self.conn.execute("SELECT state, size, mtime_ns FROM tiles WHERE path = ?", (rel,)).fetchone()

    def known(self, *, partial_ok: bool = False) -> dict[str, tuple[str, int, int, str | None]]:
        """path -> (state, size, mtime_ns, reason) of every entry that needs no more work (one
        query: resumable builds). Left out: poster-only rows (unless `partial_ok`), and
        filmstrips of another frame size or K than this writer makes (they get rebuilt)."""
        fw, fh = self.strip_size
        q = ("SELECT path, state, size, mtime_ns, reason FROM tiles WHERE "
             "(strip_k IS NULL OR (strip_w = ? AND strip_h = ? AND strip_k = ?))")
        if not partial_ok:
            q += " AND complete = 1"
        return {r[0]: r[1:] for r in self.conn.execute(q, (fw, fh, self.strip_frames))}

    def prune(self, keep: set[str]) -> int:
        """Drop entries whose path is not in `keep` (takes deleted from the project)."""
        self.begin()
        gone = [r[0] for r in self.conn.execute("SELECT path FROM tiles") if r[0] not in keep]
        for path in gone:
            for table in ("tiles", "posters", "strips"):
                self.conn.execute(f"DELETE FROM {table} WHERE path = ?", (path,))
        self.commit()
        return len(gone)

    def failures(self) -> list[tuple[str, str]]:
        return self.conn.execute("SELECT path, reason FROM tiles WHERE state = 'failed' ORDER BY path").fetchall()


def disk_usage(cache_dir: Path) -> int:
    """Bytes the atlas really takes on disk (index + pictures + write-ahead log)."""
    total = 0
    for p in thumbs_dir(cache_dir).glob("*"):
        try:
            total += os.stat(p).st_blocks * 512
        except OSError:
            pass
    return total
