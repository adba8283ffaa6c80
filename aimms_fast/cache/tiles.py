"""Read side of the atlas, for the UI: posters and filmstrips straight from the page files.

Reading never decodes anything: a tile is one contiguous block of a page file, read with one
positioned read (`os.preadv`) straight into the result array; adjacent tiles of a batch are read
together. Reads go through the OS page cache, not a memory map, so scrolling through 21K posters
does not grow the process RSS by the gigabytes of pages it touched.

The UI holds one TileCache per open project, calls `refresh()` after draining pool events, and
asks `state()` to know what to request. Not thread-safe: use it from the UI thread.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections import OrderedDict
from pathlib import Path

import numpy as np

from aimms_fast.errors import OutsideProject
from aimms_fast.cache import atlas as A
from aimms_fast.media.posters import POSTER_SIZE, STRIP_FRAMES, STRIP_SIZE
from aimms_fast.project.layout import Layout

MAX_OPEN_PAGES = 64
_SQL_CHUNK = 500


class TileCache:
    POSTER_SIZE = POSTER_SIZE      # (w, h)
    STRIP_SIZE = STRIP_SIZE        # (w, h)
    STRIP_FRAMES = STRIP_FRAMES    # K; the cache's own FORMAT.json wins when it says otherwise

    def __init__(self, cache_dir: Path, project_root: Path):
        self.cache_dir = Path(cache_dir)
        self.project_root = Path(project_root)
        self._layout = Layout(self.project_root)   # stored paths may carry Windows backslashes
        self.folder = A.thumbs_dir(self.cache_dir)
        self._conn: sqlite3.Connection | None = None
        self._geo: A.Geometry | None = None
        self._ino = None
        self._fds: OrderedDict[tuple[str, int], tuple[int, int]] = OrderedDict()
        self.refresh()

    # -- lifecycle ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Pick up what writers committed; reopen when the cache was rebuilt or deleted."""
        try:
            ino = os.stat(self.folder / A.INDEX).st_ino
        except FileNotFoundError:
            ino = None
        if ino == self._ino and self._conn is not None:
            return                    # same index: sqlite already sees new commits
        self._close()
        fmt = A.read_format(self.folder)
        if ino is None or not fmt or fmt.get("version") != A.FORMAT_VERSION:
            return
        try:
            conn = sqlite3.connect(str(self.folder / A.INDEX), timeout=5, isolation_level=None)
            conn.execute("SELECT 1 FROM tiles LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            return                    # being created or damaged: the pool rebuilds it
        self._conn, self._ino = conn, ino
        self._geo = A.Geometry(fmt)
        self.STRIP_FRAMES = self._geo.strip_frames
        self.POSTER_SIZE = self._geo.poster_size
        self.STRIP_SIZE = self._geo.strip_size

    def _close(self) -> None:
        for fd, _ in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._conn is not None:
            self._conn.close()
        self._conn, self._geo, self._ino = None, None, None

    def close(self) -> None:
        self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- index --------------------------------------------------------------------------------
    def _rows(self, rels, cols: str) -> dict[str, tuple]:
        if self._conn is None:
            return {}
        rels = list(rels)
        out = {}
        for i in range(0, len(rels), _SQL_CHUNK):
            part = rels[i:i + _SQL_CHUNK]
            q = f"SELECT path, {cols} FROM tiles WHERE path IN ({','.join('?' * len(part))})"
            try:
                for r in self._conn.execute(q, part):
                    out[r[0]] = r[1:]
            except sqlite3.DatabaseError:
                self._close()         # deleted under us; refresh() will reopen
                return {}
        return out

    def _row(self, rel: str, cols: str):
        return self._rows([rel], cols).get(rel)

    def state(self, rel_path: str) -> str:
        """'ready' | 'missing' (not built yet) | 'placeholder' | 'failed' | 'stale' (the file
        changed since it was built: request it again; the old tiles are still readable)."""
        r = self._row(rel_path, "state, size, mtime_ns")
        if r is None:
            return "missing"
        state, size, mtime_ns = r
        if self._source_key(rel_path) != (size, mtime_ns):
            return "stale"
        return state

    def states(self, rel_paths) -> dict[str, str]:
        """state() for many paths with one query."""
        rows = self._rows(rel_paths, "state, size, mtime_ns")
        out = {}
        for rel in rel_paths:
            r = rows.get(rel)
            if r is None:
                out[rel] = "missing"
                continue
            out[rel] = r[0] if self._source_key(rel) == (r[1], r[2]) else "stale"
        return out

    def _source_key(self, rel: str) -> tuple[int, int]:
        """(size, mtime_ns) of the source now; (-1, 0) when it is gone (as the pool records it)."""
        try:
            st = os.stat(self._layout.read_path(rel))
            return st.st_size, st.st_mtime_ns
        except (OSError, OutsideProject):  # outside the project (issue 14): as if gone
            return -1, 0

    def reason(self, rel_path: str) -> str | None:
        r = self._row(rel_path, "reason")
        return r[0] if r else None

    def info(self, rel_path: str) -> dict | None:
        """Everything the index knows about one entry (for detail panels and the CLI)."""
        if self._conn is None:
            return None
        cur = self._conn.execute("SELECT * FROM tiles WHERE path = ?", (rel_path,))
        r = cur.fetchone()
        if r is None:
            return None
        d = dict(zip([c[0] for c in cur.description], r))
        d["times"] = json.loads(d["times"]) if d.get("times") else []
        return d

    # -- pixels -------------------------------------------------------------------------------
    def _page(self, kind: str, page: int) -> tuple[int, int] | None:
        key = (kind, page)
        got = self._fds.get(key)
        if got is not None:
            self._fds.move_to_end(key)
            return got
        path = self.folder / self._geo.page_name(kind, page)
        try:
            fd = os.open(path, os.O_RDONLY)
            got = (fd, A.npy_data_offset(path))
        except (OSError, ValueError):
            return None
        self._fds[key] = got
        while len(self._fds) > MAX_OPEN_PAGES:
            _, (old, _) = self._fds.popitem(last=False)
            os.close(old)
        return got

    def _read(self, kind: str, tiles: list[int], out: np.ndarray) -> list[bool]:
        """Read tiles[i] into out[i]; consecutive tiles of one page go in one preadv."""
        geo = self._geo
        nbytes = geo.tile_bytes[kind]
        ok = [False] * len(tiles)
        order = sorted(range(len(tiles)), key=lambda i: tiles[i])
        run: list[int] = []

        def flush():
            if not run:
                return
            page, slot = geo.locate(kind, tiles[run[0]])
            got = self._page(kind, page)
            if got is not None:
                fd, base = got
                bufs = [memoryview(out[i]).cast("B") for i in run]
                try:
                    n = os.preadv(fd, bufs, base + slot * nbytes)
                except OSError:
                    n = 0
                for k, i in enumerate(run):
                    ok[i] = n >= (k + 1) * nbytes
            run.clear()

        for i in order:
            if run:
                prev = tiles[run[-1]]
                same_page = geo.locate(kind, prev)[0] == geo.locate(kind, tiles[i])[0]
                if not (same_page and tiles[i] == prev + 1):
                    flush()
            run.append(i)
        flush()
        return ok

    def posters(self, rel_paths) -> dict[str, np.ndarray]:
        """Posters (h, w, 4) RGBA uint8 of every path that has one (ready or stale). The arrays
        share one buffer per call; copy one if you keep it past the next frame."""
        if self._conn is None:
            return {}
        rows = self._rows(rel_paths, "poster_tile")
        have = [(rel, r[0]) for rel, r in rows.items() if r[0] is not None]
        if not have:
            return {}
        out = np.empty((len(have), *self._geo.shape["poster"]), np.uint8)
        ok = self._read("poster", [t for _, t in have], out)
        return {rel: out[i] for i, (rel, _) in enumerate(have) if ok[i]}

    def poster(self, rel_path: str) -> np.ndarray | None:
        return self.posters([rel_path]).get(rel_path)

    def filmstrip(self, rel_path: str) -> tuple[np.ndarray, list[float]] | None:
        """(K, h, w, 4) RGBA frames and their times in seconds, or None (stills have none)."""
        r = self._row(rel_path, "strip_tile, sx, sy, sw, sh, times")
        if r is None or r[0] is None:
            return None
        tile, x, y, w, h, times = r
        rgb = np.empty((1, *self._geo.shape["strip"]), np.uint8)
        if not self._read("strip", [tile], rgb)[0]:
            return None
        k, sh, sw, _ = self._geo.shape["strip"]
        frames = np.zeros((k, sh, sw, 4), np.uint8)
        frames[..., :3] = rgb[0]
        if x is None:
            frames[..., 3] = 255
        else:
            frames[:, y:y + h, x:x + w, 3] = 255
        return frames, (json.loads(times) if times else [])
