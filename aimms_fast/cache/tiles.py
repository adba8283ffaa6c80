"""Read side of the atlas, for the UI: posters and filmstrips from the cache's index database.

Reading never opens media: a screen of posters is one indexed query that returns their JPEG bytes
and picture rects (cache/atlas.py, format 2), decoded by libjpeg-turbo straight into the result
array (~0.1 ms per 256x144 poster; cache/codec.py). Large batches are decoded on two threads
(the decoder releases the GIL). Reads go through SQLite's small page cache and the OS page
cache, not a memory map, so scrolling through 21K posters does not grow the process RSS.

The UI holds one TileCache per open project, calls `refresh()` after draining pool events, and
asks `state()` to know what to request. Not thread-safe: use it from one thread (the UI thread,
or a loader thread that owns it).
"""
from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from aimms_fast.errors import OutsideProject
from aimms_fast.cache import atlas as A
from aimms_fast.cache import codec
from aimms_fast.cache.loader import PosterLoader
from aimms_fast.media.posters import POSTER_SIZE, STRIP_FRAMES, STRIP_SIZE
from aimms_fast.project.layout import Layout

_SQL_CHUNK = 500
PARALLEL_FROM = 12      # posters per call from which decoding is split over two threads
_decoders: ThreadPoolExecutor | None = None


def _decoder_pool() -> ThreadPoolExecutor:
    global _decoders
    if _decoders is None:
        _decoders = ThreadPoolExecutor(2, thread_name_prefix="aimms-tile-decode")
    return _decoders


class TileCache:
    POSTER_SIZE = POSTER_SIZE      # (w, h)
    STRIP_SIZE = STRIP_SIZE        # (w, h) of a new cache's filmstrip frames; each row says its own
    STRIP_FRAMES = STRIP_FRAMES    # K of a new cache; each row says its own

    def __init__(self, cache_dir: Path, project_root: Path):
        self.cache_dir = Path(cache_dir)
        self.project_root = Path(project_root)
        self._layout = Layout(self.project_root)   # stored paths may carry Windows backslashes
        self.folder = A.thumbs_dir(self.cache_dir)
        self._conn: sqlite3.Connection | None = None
        self._ino = None
        self._loader: PosterLoader | None = None
        self.refresh()

    # -- lifecycle ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Pick up what writers committed; reopen when the cache was rebuilt or deleted. A cache
        of another format (an older release's) reads as empty until the pool rebuilds it."""
        try:
            ino = os.stat(self.folder / A.INDEX).st_ino
        except FileNotFoundError:
            ino = None
        if ino == self._ino and self._conn is not None:
            return                    # same index: sqlite already sees new commits
        self._close()
        fmt = A.read_format(self.folder)
        if ino is None or fmt != A.format_record():
            return
        try:
            conn = sqlite3.connect(str(self.folder / A.INDEX), timeout=5, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("SELECT 1 FROM tiles LIMIT 1").fetchall()
            conn.execute("SELECT 1 FROM posters LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            return                    # being created or damaged: the pool rebuilds it
        self._conn, self._ino = conn, ino
        self.POSTER_SIZE = tuple(fmt["poster_size"])

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._loader is not None:
            self._loader.close()
        self._conn, self._ino, self._loader = None, None, None

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
    def _query(self, q: str, args) -> list[tuple]:
        try:
            return self._conn.execute(q, args).fetchall()
        except sqlite3.DatabaseError:
            self._close()             # deleted under us; refresh() will reopen
            return []

    def prefetch(self, rel_paths) -> None:
        """Decode these posters on the loader thread (what is about to scroll in), so a later
        posters() finds them decoded. Replaces the previous prefetch list; cheap to call every
        frame."""
        if self._conn is None:
            return
        if self._loader is None:
            self._loader = PosterLoader(self.folder / A.INDEX, self.POSTER_SIZE)
        self._loader.want(rel_paths)

    def poster_blobs(self, rel_paths) -> dict[str, tuple[bytes, tuple[int, int, int, int], float]]:
        """rel -> (JPEG bytes, picture rect, built_at) of every path that has a poster: the
        compressed read."""
        if self._conn is None:
            return {}
        rels = list(dict.fromkeys(rel_paths))
        out = {}
        for i in range(0, len(rels), _SQL_CHUNK):
            part = rels[i:i + _SQL_CHUNK]
            q = (f"SELECT t.path, p.data, t.px, t.py, t.pw, t.ph, t.built_at FROM tiles t "
                 f"JOIN posters p USING (path) WHERE t.path IN ({','.join('?' * len(part))})")
            for r in self._query(q, part):
                out[r[0]] = (r[1], tuple(r[2:6]), r[6])
            if self._conn is None:
                return {}
        return out

    def posters(self, rel_paths) -> dict[str, np.ndarray]:
        """Posters (h, w, 4) RGBA uint8 of every path that has one (ready or stale), read-only:
        copy one if you keep it past the next frame. Those the loader thread decoded already
        (prefetch) come from its LRU; the rest are decoded here. A picture that does not decode
        is left out (the pool rebuilds it when the UI asks again)."""
        blobs = self.poster_blobs(rel_paths)
        if not blobs:
            return {}
        w, h = self.POSTER_SIZE
        done: dict[str, np.ndarray] = {}
        loader = self._loader
        if loader is not None:
            for rel, (_, _, built_at) in blobs.items():
                got = loader.get(rel, built_at)
                if got is not None:
                    done[rel] = got
        have = [(rel, b) for rel, b in blobs.items() if rel not in done]
        if not have:
            return done
        out = np.empty((len(have), h, w, 4), np.uint8)

        def work(lo: int, hi: int) -> list[bool]:
            ok = []
            for i in range(lo, hi):
                blob, rect, _ = have[i][1]
                try:
                    codec.decode_poster_into(blob, rect, out[i])
                    ok.append(True)
                except ValueError:
                    ok.append(False)
            return ok

        n = len(have)
        if n >= PARALLEL_FROM:
            half = n // 2
            fut = _decoder_pool().submit(work, half, n)
            ok = work(0, half) + fut.result()
        else:
            ok = work(0, n)
        for i, (rel, b) in enumerate(have):
            if ok[i]:
                done[rel] = out[i]
                if loader is not None:
                    loader.put(rel, b[2], out[i])
        return done

    def poster(self, rel_path: str) -> np.ndarray | None:
        return self.posters([rel_path]).get(rel_path)

    def filmstrip(self, rel_path: str) -> tuple[np.ndarray, list[float]] | None:
        """(K, h, w, 4) RGBA frames and their times in seconds, or None (stills have none). The
        frame size is the one the row was built with (the Settings scrub size then)."""
        if self._conn is None:
            return None
        r = self._query("SELECT s.data, t.sx, t.sy, t.sw, t.sh, t.strip_w, t.strip_h, t.strip_k, t.times "
                        "FROM tiles t JOIN strips s USING (path) WHERE t.path = ?", (rel_path,))
        if not r:
            return None
        blob, x, y, w, h, fw, fh, k, times = r[0]
        try:
            frames = codec.decode_strip(blob, (x, y, w, h), k, (fw, fh))
        except ValueError:
            return None
        return frames, (json.loads(times) if times else [])
