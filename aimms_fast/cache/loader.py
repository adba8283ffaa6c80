"""The poster loader thread: decodes posters the UI is about to show before it asks for them.

Format 2 stores posters as JPEG (cache/codec.py): a 256x144 poster costs ~0.1 ms of CPU to
decode, ~7 ms for a 60-poster screen, where the raw pages of format 1 cost ~1.5 ms. On the UI
thread that is frame time during a scroll. So TileCache.prefetch(rels) hands the posters of what
is about to scroll in (the card grid's look-ahead rows) to this thread, which decodes them into a
small LRU of decoded posters; TileCache.posters() then takes them from there (no decode, no
copy) and decodes only what the loader has not reached yet.

Freshness: an entry is keyed by the row's `built_at`; a poster rebuilt since (a new row) is a
miss, never the old pixels. The LRU holds CAPACITY posters (144 KiB each: 36 MiB for 256).

Threads: `want()`, `get()` and `put()` may be called from any thread (one lock); the loader
thread owns its own SQLite connection and never touches the caller's.
"""
from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from aimms_fast.cache import codec

CAPACITY = 256            # ~4 screens of cards at 1600x960
BATCH = 16                # posters per index query on the loader thread


class PosterLoader:
    def __init__(self, index: Path, poster_size: tuple[int, int], capacity: int = CAPACITY):
        self.index = Path(index)
        self.poster_size = tuple(poster_size)
        self.capacity = int(capacity)
        self._lru: OrderedDict[str, tuple[float, np.ndarray]] = OrderedDict()
        self._wanted: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self.decoded = 0          # posters this thread decoded (tests, benchmarks)
        self._thread = threading.Thread(target=self._run, name="aimms-poster-loader", daemon=True)
        self._thread.start()

    # -- any thread ---------------------------------------------------------------------------
    def want(self, rels) -> None:
        """Decode these next, in this order (replaces the previous wish: newest wins)."""
        with self._lock:
            self._wanted = [r for r in rels if r not in self._lru]
            if self._wanted:
                self._wake.notify()

    def get(self, rel: str, built_at: float) -> np.ndarray | None:
        with self._lock:
            e = self._lru.get(rel)
            if e is None or e[0] != built_at:
                return None
            self._lru.move_to_end(rel)
            return e[1]

    def put(self, rel: str, built_at: float, pixels: np.ndarray) -> None:
        pixels.flags.writeable = False      # shared with every reader: nobody may draw into it
        with self._lock:
            self._lru[rel] = (built_at, pixels)
            self._lru.move_to_end(rel)
            while len(self._lru) > self.capacity:
                self._lru.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()
            self._wanted = []

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wanted = []
            self._wake.notify()
        self._thread.join(5)

    # -- loader thread ------------------------------------------------------------------------
    def _run(self) -> None:
        conn = None
        try:
            while True:
                with self._lock:
                    while not self._wanted and not self._closed:
                        self._wake.wait()
                    if self._closed:
                        return
                    batch = [r for r in self._wanted[:BATCH] if r not in self._lru]
                    del self._wanted[:BATCH]
                if not batch:
                    continue
                if conn is None:
                    # Not mode=ro: a read-only open of a WAL database fails when no writer left
                    # its -shm file behind (the app opened after `aimms thumbs` finished).
                    conn = sqlite3.connect(str(self.index), timeout=5, isolation_level=None)
                try:
                    rows = conn.execute(
                        f"SELECT t.path, t.built_at, p.data, t.px, t.py, t.pw, t.ph FROM tiles t "
                        f"JOIN posters p USING (path) WHERE t.path IN ({','.join('?' * len(batch))})",
                        batch).fetchall()
                except sqlite3.DatabaseError:
                    continue          # the cache is being rebuilt: TileCache.refresh() replaces us
                w, h = self.poster_size
                for rel, built_at, blob, *rect in rows:
                    out = np.empty((h, w, 4), np.uint8)
                    try:
                        codec.decode_poster_into(blob, tuple(rect), out)
                    except ValueError:
                        continue      # posters() reports it (and the pool rebuilds it)
                    self.decoded += 1
                    self.put(rel, built_at, out)
        finally:
            if conn is not None:
                conn.close()
