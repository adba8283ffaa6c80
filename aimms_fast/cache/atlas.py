"""Atlas pages on disk: every take's poster and filmstrip as raw uint8 tiles, plus their index.

Layout (inside the project's regenerable cache folder, `.aimms_fast_cache/thumbs/`):
  FORMAT.json          format version + tile sizes + frames per strip; any difference = rebuild
  index.sqlite         one row per media file (key: project-relative path; size + mtime_ns
                       decide staleness): state, reason, tile numbers, picture rects, frame times
  posters_00000.npy    page of POSTERS_PER_PAGE poster tiles, array (slot, h, w, 4) RGBA
  strips_00000.npy     page of STRIPS_PER_PAGE filmstrips, array (slot, K, h, w, 3) RGB

Pages are plain .npy files (np.load(..., mmap_mode='r') opens them); each tile is one contiguous
block, so reading a tile is one positioned read with no decoding. Files are created sparse: an
unused slot costs no disk. Strips are stored RGB: their alpha is always "opaque inside the picture
rect, clear outside" and is rebuilt on read (25% less disk on the biggest part of the cache).

One writer at a time (the worker pool's dispatcher thread, in whichever process runs it): workers
send tiles back, the writer packs them. Pixels are written before the index row is committed, so
a reader never sees a row whose pixels are not there yet.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np

from aimms_fast.media.posters import POSTER_SIZE, STRIP_FRAMES, STRIP_SIZE

FORMAT_VERSION = 1
POSTERS_PER_PAGE = 64    # 64 x 144 KiB = 9 MiB per page
STRIPS_PER_PAGE = 32     # 32 x 432 KiB = 13.5 MiB per page (K=16)
SUBDIR = "thumbs"
INDEX = "index.sqlite"
FORMAT_FILE = "FORMAT.json"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS tiles (
        path TEXT PRIMARY KEY,      -- project-relative, forward slashes
        size INTEGER NOT NULL,      -- source size and mtime_ns when built: a change = stale
        mtime_ns INTEGER NOT NULL,
        state TEXT NOT NULL,        -- ready | placeholder | failed
        reason TEXT,
        kind TEXT, strategy TEXT,
        src_w INTEGER, src_h INTEGER,
        poster_tile INTEGER,        -- global tile number: page = n // per_page, slot = n % per_page
        px INTEGER, py INTEGER, pw INTEGER, ph INTEGER,   -- picture rect inside the poster tile
        strip_tile INTEGER,
        sx INTEGER, sy INTEGER, sw INTEGER, sh INTEGER,   -- picture rect inside each strip frame
        times TEXT,                 -- JSON list of strip frame times (s)
        frame_count INTEGER, keyframe_count INTEGER,
        build_ms REAL, built_at REAL
    )""",
    "CREATE TABLE IF NOT EXISTS free_tiles (kind TEXT NOT NULL, tile INTEGER NOT NULL, PRIMARY KEY (kind, tile))",
    "CREATE TABLE IF NOT EXISTS counters (kind TEXT PRIMARY KEY, next INTEGER NOT NULL)",
]


def thumbs_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / SUBDIR


def format_record(strip_frames: int = STRIP_FRAMES) -> dict:
    return {"version": FORMAT_VERSION, "poster_size": list(POSTER_SIZE), "strip_size": list(STRIP_SIZE),
            "strip_frames": int(strip_frames), "posters_per_page": POSTERS_PER_PAGE,
            "strips_per_page": STRIPS_PER_PAGE}


def read_format(folder: Path) -> dict | None:
    try:
        return json.loads((folder / FORMAT_FILE).read_text())
    except (OSError, ValueError):
        return None


class Geometry:
    """Shapes and byte offsets of tiles, from a format record."""

    def __init__(self, fmt: dict):
        self.fmt = fmt
        self.poster_size = tuple(fmt["poster_size"])
        self.strip_size = tuple(fmt["strip_size"])
        self.strip_frames = int(fmt["strip_frames"])
        pw, ph = self.poster_size
        sw, sh = self.strip_size
        self.shape = {"poster": (ph, pw, 4), "strip": (self.strip_frames, sh, sw, 3)}
        self.per_page = {"poster": int(fmt["posters_per_page"]), "strip": int(fmt["strips_per_page"])}
        self.tile_bytes = {k: int(np.prod(s)) for k, s in self.shape.items()}

    def page_name(self, kind: str, page: int) -> str:
        return f"{kind}s_{page:05d}.npy"

    def locate(self, kind: str, tile: int) -> tuple[int, int]:
        return divmod(int(tile), self.per_page[kind])


def npy_data_offset(path: Path) -> int:
    with open(path, "rb") as f:
        major, _ = np.lib.format.read_magic(f)
        if major == 1:
            np.lib.format.read_array_header_1_0(f)
        else:
            np.lib.format.read_array_header_2_0(f)
        return f.tell()


def connect_index(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(folder / INDEX), timeout=10, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")   # a regenerable cache: losing the last commits is fine
    return conn


def wipe(folder: Path) -> None:
    """Delete the atlas (readers holding old files keep them until they refresh)."""
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


class AtlasWriter:
    """Packs tiles into pages and records them in the index. Use from one thread."""

    def __init__(self, cache_dir: Path, *, strip_frames: int | None = None):
        """`strip_frames` None keeps the K of an existing atlas (else STRIP_FRAMES); a number
        different from the atlas's rebuilds it."""
        self.cache_dir = Path(cache_dir)
        self.folder = thumbs_dir(self.cache_dir)
        if strip_frames is None:
            have = read_format(self.folder) or {}
            same = have.get("version") == FORMAT_VERSION and isinstance(have.get("strip_frames"), int)
            strip_frames = have["strip_frames"] if same and have["strip_frames"] > 0 else STRIP_FRAMES
        self.strip_frames = int(strip_frames)
        self._fds: dict[tuple[str, int], tuple[int, int]] = {}
        self.conn: sqlite3.Connection | None = None
        self._index_ino = None
        self.open()

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> bool:
        """Create or check the atlas; a different format (or a damaged index) is wiped and
        rebuilt. Returns True when it started empty."""
        want = format_record(self.strip_frames)
        fresh = read_format(self.folder) != want
        if not fresh:
            try:
                self._connect()
                self.conn.execute("SELECT COUNT(*) FROM tiles").fetchone()
            except sqlite3.DatabaseError:
                fresh = True
        if fresh:
            self._close_files()
            wipe(self.folder)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._connect()
            tmp = self.folder / (FORMAT_FILE + ".tmp")
            tmp.write_text(json.dumps(want, indent=1))
            os.replace(tmp, self.folder / FORMAT_FILE)
        self.geo = Geometry(want)
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
        self._close_files()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.open()
        return True

    def _close_files(self) -> None:
        for fd, _ in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def close(self) -> None:
        self._close_files()
        if self.conn is not None:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            self.conn.close()
            self.conn = None

    # -- pages ----------------------------------------------------------------------------------
    def _page(self, kind: str, page: int) -> tuple[int, int]:
        key = (kind, page)
        got = self._fds.get(key)
        if got is None:
            path = self.folder / self.geo.page_name(kind, page)
            if not path.exists():
                # Made under a temp name and renamed: a reader never opens a half-written header.
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                               shape=(self.geo.per_page[kind], *self.geo.shape[kind]))
                mm.flush()                  # header written; the sparse rest takes no disk
                del mm
                os.replace(tmp, path)
            got = (os.open(path, os.O_RDWR), npy_data_offset(path))
            self._fds[key] = got
        return got

    def _write_tile(self, kind: str, tile: int, pixels: np.ndarray) -> None:
        page, slot = self.geo.locate(kind, tile)
        fd, base = self._page(kind, page)
        data = np.ascontiguousarray(pixels, dtype=np.uint8)
        if data.shape != self.geo.shape[kind]:
            raise ValueError(f"{kind} tile shape {data.shape} != {self.geo.shape[kind]}")
        buf = memoryview(data).cast("B")
        off = base + slot * self.geo.tile_bytes[kind]
        while buf:
            n = os.pwrite(fd, buf, off)
            buf, off = buf[n:], off + n

    # -- slots ----------------------------------------------------------------------------------
    def _alloc(self, kind: str) -> int:
        c = self.conn
        r = c.execute("SELECT tile FROM free_tiles WHERE kind = ? ORDER BY tile LIMIT 1", (kind,)).fetchone()
        if r:
            c.execute("DELETE FROM free_tiles WHERE kind = ? AND tile = ?", (kind, r[0]))
            return r[0]
        r = c.execute("SELECT next FROM counters WHERE kind = ?", (kind,)).fetchone()
        n = r[0] if r else 0
        c.execute("INSERT OR REPLACE INTO counters(kind, next) VALUES (?, ?)", (kind, n + 1))
        return n

    def _free(self, kind: str, tile: int | None) -> None:
        if tile is not None:
            self.conn.execute("INSERT OR IGNORE INTO free_tiles(kind, tile) VALUES (?, ?)", (kind, tile))

    def begin(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.conn is not None and self.conn.in_transaction:
            self.conn.execute("COMMIT")

    # -- entries --------------------------------------------------------------------------------
    def put(self, rel: str, size: int, mtime_ns: int, th) -> None:
        """Record what a worker made for `rel` (a posters.Thumbs). Call commit() to publish."""
        self.begin()
        c = self.conn
        old = c.execute("SELECT poster_tile, strip_tile FROM tiles WHERE path = ?", (rel,)).fetchone()
        old_poster, old_strip = old if old else (None, None)
        poster_tile = strip_tile = None
        if th.state == "ready" and th.poster is not None:
            poster_tile = old_poster if old_poster is not None else self._alloc("poster")
            self._write_tile("poster", poster_tile, th.poster)
        elif old_poster is not None:
            self._free("poster", old_poster)
        if th.state == "ready" and th.strip is not None and len(th.strip) == self.geo.strip_frames:
            strip_tile = old_strip if old_strip is not None else self._alloc("strip")
            self._write_tile("strip", strip_tile, th.strip[..., :3])
        elif old_strip is not None:
            self._free("strip", old_strip)
        pr = th.poster_rect or (None,) * 4
        sr = th.strip_rect or (None,) * 4
        src = th.source_size or (None, None)
        c.execute("INSERT OR REPLACE INTO tiles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                  (rel, int(size), int(mtime_ns), th.state, th.reason, th.kind, th.strategy,
                   src[0], src[1], poster_tile, *pr, strip_tile, *sr,
                   json.dumps(th.times) if th.times else None, th.frame_count, th.keyframe_count,
                   round(th.build_ms, 2), time.time()))

    def lookup(self, rel: str) -> tuple | None:
        """(state, size, mtime_ns) recorded for rel, or None."""
        return self.conn.execute("SELECT state, size, mtime_ns FROM tiles WHERE path = ?", (rel,)).fetchone()

    def known(self) -> dict[str, tuple[str, int, int, str | None]]:
        """path -> (state, size, mtime_ns, reason) of every entry (one query: resumable builds)."""
        return {r[0]: r[1:] for r in self.conn.execute("SELECT path, state, size, mtime_ns, reason FROM tiles")}

    def prune(self, keep: set[str]) -> int:
        """Drop entries whose path is not in `keep` (takes deleted from the project)."""
        self.begin()
        gone = [r for r in self.conn.execute("SELECT path, poster_tile, strip_tile FROM tiles")
                if r[0] not in keep]
        for path, p, s in gone:
            self._free("poster", p)
            self._free("strip", s)
            self.conn.execute("DELETE FROM tiles WHERE path = ?", (path,))
        self.commit()
        return len(gone)

    def failures(self) -> list[tuple[str, str]]:
        return self.conn.execute("SELECT path, reason FROM tiles WHERE state = 'failed' ORDER BY path").fetchall()


def disk_usage(cache_dir: Path) -> int:
    """Bytes the atlas really takes on disk (pages are sparse)."""
    total = 0
    for p in thumbs_dir(cache_dir).glob("*"):
        try:
            total += os.stat(p).st_blocks * 512
        except OSError:
            pass
    return total
