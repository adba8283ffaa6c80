"""Thumbnail textures: the ONLY module that creates or deletes Dear PyGui textures.

Why it looks like this (measured, see ../shared/DESIGN.md and tools/bench/ui_bench.py):
- Dynamic/raw textures are re-uploaded in full every frame, so thumbnails live in STATIC textures.
- Textures take float32 RGBA only (uint8 renders wrong), and Dear PyGui keeps that float32 copy in
  RAM: 16 B/pixel, plus the GL copy (~4 B/pixel). Residency is budgeted and evicted LRU.
- Creating a static texture costs ~20 ns/pixel and its first upload ~15 ns/pixel, so work is done a
  few tiles at a time within a per-frame time budget, visible cards first.
- Tiles are packed into atlas pages (one texture holds up to MAX_PAGE_TILES posters, addressed by
  UVs; a page is as wide as the frame's build budget allows: wide for the first screen, one or two
  tiles a frame while scrolling), read from the media engine's on-disk atlas cache, which never
  decodes video on read.

Cards never hold a texture themselves: they ask `get(rel)` every frame they are on screen, which also
marks the page as used. Pages unused this frame may be evicted; listeners registered with
`on_evict` hear about it before the texture is deleted, so no widget ever draws a deleted texture.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import dearpygui.dearpygui as dpg

log = logging.getLogger(__name__)

MAX_PAGE_TILES = 8          # posters per atlas page at most (a page is sized to what the frame's budget allows)
BYTES_PER_PIXEL = 16 + 4    # float32 RGBA CPU copy kept by Dear PyGui + the GL texture
MAX_STRIPS = 6              # filmstrip textures kept for hover scrubbing
DEFAULT_POSTER = (256, 144)


@dataclass
class Region:
    """Where a tile is drawn from: texture tag and UV rectangle."""
    tag: int | str
    uv_min: tuple[float, float]
    uv_max: tuple[float, float]


@dataclass
class _Page:
    tag: int | str
    nbytes: int
    rels: list[str]
    last_used: int = 0


@dataclass
class Strip:
    """A take's filmstrip in one texture: frame k is regions[k]; times in seconds."""
    tag: int | str
    regions: list[Region]
    times: list[float]
    nbytes: int
    last_used: int = 0


@dataclass
class BankStats:
    pages: int = 0
    tiles: int = 0
    strips: int = 0
    resident_bytes: int = 0
    built_tiles: int = 0
    evicted_pages: int = 0
    build_seconds: float = 0.0
    queue: int = 0
    extra: dict = field(default_factory=dict)


def _to_float(dst: np.ndarray, src: np.ndarray) -> None:
    """uint8 RGBA -> float32 0..1 in one pass into a preallocated slice."""
    np.multiply(src, np.float32(1.0 / 255.0), out=dst, casting="unsafe")


def _fit(tile: np.ndarray, w: int, h: int) -> np.ndarray:
    """Tiles should already be (h, w, 4); crop/pad defensively so one odd tile can't break a page."""
    if tile.ndim == 3 and tile.shape[0] == h and tile.shape[1] == w and tile.shape[2] == 4:
        return tile
    out = np.zeros((h, w, 4), np.uint8)
    out[..., 3] = 255
    if tile.ndim == 3 and tile.shape[2] in (3, 4):
        th, tw = min(h, tile.shape[0]), min(w, tile.shape[1])
        y0, x0 = (h - th) // 2, (w - tw) // 2
        out[y0:y0 + th, x0:x0 + tw, :tile.shape[2]] = tile[:th, :tw]
    return out


class TextureBank:
    """Static atlas pages of posters and filmstrips, LRU-evicted under a byte budget."""

    def __init__(self, budget_bytes: int = 192 << 20):
        self.budget = int(budget_bytes)
        self.frame = 0
        self._source = None
        self._states = lambda rels: {}
        self._poster_size = DEFAULT_POSTER
        self._entries: dict[str, tuple[_Page, Region]] = {}
        self._pages: OrderedDict[int | str, _Page] = OrderedDict()
        self._strips: OrderedDict[str, Strip] = OrderedDict()
        self._strip_fail: set[str] = set()
        self._unreadable: set[str] = set()
        self._queue: list[str] = []
        self._queued: set[str] = set()
        self._urgent = 0
        self._tile_cost = 0.0015      # seconds per tile (running estimate: read + convert + create)
        self._listeners: list[Callable[[set], None]] = []
        self.stats = BankStats()
        self._registry = dpg.add_texture_registry()
        self.neutral = self._solid_texture((0.22, 0.22, 0.24), stripes=(0.25, 0.25, 0.27))
        self.failed = self._solid_texture((0.30, 0.16, 0.16), stripes=(0.34, 0.18, 0.18))
        self.empty = self._solid_texture((0.15, 0.15, 0.16), stripes=(0.18, 0.18, 0.19))
        self._icons: dict[object, Region] = {}

    # -- setup ---------------------------------------------------------------------------------
    def _solid_texture(self, rgb, stripes) -> Region:
        """Small neutral textures for 'being built' / 'failed' / 'no media'; diagonal stripes so they
        never look like a real (flat) poster."""
        w, h = 32, 18
        img = np.empty((h, w, 4), np.float32)
        img[..., :3] = rgb
        img[..., 3] = 1.0
        yy, xx = np.mgrid[0:h, 0:w]
        img[((xx + yy) // 4) % 2 == 0, :3] = stripes
        tag = dpg.add_static_texture(w, h, img, parent=self._registry)
        return Region(tag, (0.0, 0.0), (1.0, 1.0))

    def icon(self, key, make: Callable[[], np.ndarray]) -> Region:
        """A small fixed image (RGBA uint8 from make(), called once per key) as a static texture
        kept for the session: marks drawn as one textured quad instead of many triangles."""
        r = self._icons.get(key)
        if r is None:
            img = np.asarray(make())
            h, w = img.shape[:2]
            data = np.empty((h, w, 4), np.float32)
            _to_float(data, img)
            r = Region(dpg.add_static_texture(w, h, data, parent=self._registry), (0.0, 0.0), (1.0, 1.0))
            self._icons[key] = r
        return r

    def attach(self, source, states: Callable[[list], dict] | None = None) -> None:
        """Use a tile source (aimms_fast.cache.tiles.TileCache or None) and a batched, cached
        `states(rels) -> {rel: state}` (the app's MediaServices.states); drops everything resident."""
        self.clear()
        self._source = source
        self._states = states or (lambda rels: source.states(rels) if source is not None else {})
        size = getattr(source, "POSTER_SIZE", None) if source is not None else None
        self._poster_size = tuple(size) if size else DEFAULT_POSTER

    @property
    def poster_size(self) -> tuple[int, int]:
        return self._poster_size

    def on_evict(self, fn: Callable[[set], None]) -> None:
        """fn(set_of_texture_tags) is called before those textures are deleted."""
        self._listeners.append(fn)

    def off_evict(self, fn) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def set_budget(self, nbytes: int) -> None:
        self.budget = int(nbytes)
        self._evict()

    # -- lookups (every frame, for what is on screen) -------------------------------------------
    def get(self, rel: str) -> Region | None:
        e = self._entries.get(rel)
        if e is None:
            return None
        e[0].last_used = self.frame
        return e[1]

    def resident(self, rel: str) -> bool:
        return rel in self._entries

    def want(self, rels: Iterable[str], *, urgent: bool = False) -> None:
        """Queue tiles to build this frame, in priority order (call with what is on screen first,
        urgent=True, then what is about to be). Rebuilt every frame by whoever is visible."""
        q = self._queue
        seen = self._queued
        for r in rels:
            if r and r not in self._entries and r not in seen:
                seen.add(r)
                q.append(r)
                if urgent:
                    self._urgent += 1
        self.stats.queue = len(q)

    def urgent_ready(self) -> bool:
        """Cards on screen still lack their picture: worth a longer build budget this frame."""
        return self._urgent > 0

    def invalidate(self, rels: Iterable[str]) -> None:
        """A tile was rebuilt (source changed): stop using the old pixels. The page stays until
        evicted (other tiles on it are still good)."""
        for r in rels:
            self._entries.pop(r, None)
            s = self._strips.pop(r, None)
            if s is not None:
                self._delete({s.tag})
            self._strip_fail.discard(r)

    def forget_failures(self, rels: Iterable[str] | None = None) -> None:
        """Workers reported on these (None: all, e.g. F5): what was missing may exist now."""
        if rels is None:
            self._strip_fail.clear()
            self._unreadable.clear()
            return
        rels = set(rels)
        self._strip_fail.difference_update(rels)
        self._unreadable.difference_update(rels)

    def begin_frame(self) -> None:
        self.frame += 1
        self._queue = []
        self._queued = set()
        self._urgent = 0

    # -- building ------------------------------------------------------------------------------
    def pump(self, budget_s: float) -> int:
        """Build pages from queued tiles that the cache has ready, until `budget_s` is spent.
        Returns how many queued tiles were left over because the budget ran out (0 when all
        ready tiles are built; tiles the cache has not made yet don't count)."""
        src = self._source
        if src is None or not self._queue:
            return 0
        deadline = time.perf_counter() + budget_s
        try:
            states = self._states(self._queue)
        except Exception:
            log.exception("tile states of %d queued thumbnails could not be read; they stay grey "
                          "this frame and are asked for again", len(self._queue))
            states = {}
        # stale pixels beat a grey box while the rebuild runs
        queue = [r for r in self._queue if states.get(r) in ("ready", "stale") and r not in self._unreadable]
        self._queue = []
        i = 0
        while i < len(queue):
            # A page holds as many tiles as the remaining budget pays for (measured cost per tile):
            # the first screen gets wide pages in few frames, steady scrolling one or two tiles a
            # frame. One page is always built, so every frame makes progress.
            left = deadline - time.perf_counter()
            n = max(1, min(MAX_PAGE_TILES, int(left / max(1e-4, self._tile_cost))))
            if i and left < self._tile_cost:
                break
            batch = queue[i:i + n]
            i += len(batch)
            self._build_page(batch)
        self._queue = [r for r in queue[i:] if r not in self._entries]
        self.stats.queue = len(self._queue)
        prefetch = getattr(src, "prefetch", None)
        if prefetch is not None and self._queue:
            prefetch(self._queue)   # the cache's loader thread decodes them before we ask again
        self._evict()
        return len(self._queue)  # non-empty only when the deadline stopped the loop

    def _build_page(self, rels: list[str]) -> None:
        t0 = time.perf_counter()
        try:
            tiles = self._source.posters(rels) or {}
        except Exception:
            log.exception("%d thumbnails could not be read from the cache (first: %s); they are "
                          "marked unreadable until the workers report on them again", len(rels), rels[0])
            tiles = {}
        # Index says ready but the page file could not be read (cache deleted or rebuilt under
        # us): don't retry every frame; workers' next report on the path clears it.
        self._unreadable.update(r for r in rels if tiles.get(r) is None)
        rels = [r for r in rels if tiles.get(r) is not None]
        if not rels:
            return
        w, h = self._poster_size
        n = len(rels)
        page = np.empty((h, w * n, 4), np.float32)
        for k, r in enumerate(rels):
            _to_float(page[:, k * w:(k + 1) * w], _fit(np.asarray(tiles[r]), w, h))
        tag = dpg.add_static_texture(w * n, h, page, parent=self._registry)
        p = _Page(tag, w * n * h * BYTES_PER_PIXEL, list(rels), self.frame)
        self._pages[tag] = p
        for k, r in enumerate(rels):
            self._entries[r] = (p, Region(tag, (k / n, 0.0), ((k + 1) / n, 1.0)))
        self.stats.built_tiles += n
        dt = time.perf_counter() - t0
        self.stats.build_seconds += dt
        self._tile_cost = 0.8 * self._tile_cost + 0.2 * dt / n

    # -- filmstrips (hover scrub) ----------------------------------------------------------------
    def strip(self, rel: str) -> Strip | None:
        """The take's filmstrip texture, built on first use (one texture, ~5 ms); None if the cache
        has no filmstrip for it."""
        s = self._strips.get(rel)
        if s is not None:
            self._strips.move_to_end(rel)
            s.last_used = self.frame
            return s
        if self._source is None or rel in self._strip_fail:
            return None
        try:
            if self._states([rel]).get(rel) not in ("ready", "stale"):
                return None       # not built yet: ask again after the workers report
            got = self._source.filmstrip(rel)
        except Exception:
            log.exception("the filmstrip of %s could not be read; the card shows its poster "
                          "instead of scrubbing", rel)
            got = None
        if not got:
            self._strip_fail.add(rel)
            return None
        frames, times = got
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[0] == 0:
            self._strip_fail.add(rel)
            return None
        k, h, w = frames.shape[:3]
        cols = min(k, 4)
        rows = (k + cols - 1) // cols
        img = np.zeros((rows * h, cols * w, 4), np.float32)
        regions = []
        for i in range(k):
            r, c = divmod(i, cols)
            _to_float(img[r * h:(r + 1) * h, c * w:(c + 1) * w], _fit(frames[i], w, h))
            regions.append(Region(None, (c / cols, r / rows), ((c + 1) / cols, (r + 1) / rows)))
        tag = dpg.add_static_texture(cols * w, rows * h, img, parent=self._registry)
        for reg in regions:
            reg.tag = tag
        s = Strip(tag, regions, [float(t) for t in (times if times is not None else [])],
                  cols * w * rows * h * BYTES_PER_PIXEL, self.frame)
        self._strips[rel] = s
        while len(self._strips) > MAX_STRIPS:
            old_rel, old = next(iter(self._strips.items()))
            if old.last_used >= self.frame:
                break
            del self._strips[old_rel]
            self._delete({old.tag})
        return s

    # -- eviction ------------------------------------------------------------------------------
    def resident_bytes(self) -> int:
        return sum(p.nbytes for p in self._pages.values()) + sum(s.nbytes for s in self._strips.values())

    def _evict(self) -> None:
        total = self.resident_bytes()
        if total <= self.budget:
            self._update_stats(total)
            return
        victims = sorted((p for p in self._pages.values() if p.last_used < self.frame),
                         key=lambda p: p.last_used)
        gone: set = set()
        for p in victims:
            if total <= self.budget:
                break
            total -= p.nbytes
            gone.add(p.tag)
            del self._pages[p.tag]
            for r in p.rels:
                e = self._entries.get(r)
                if e is not None and e[0] is p:
                    del self._entries[r]
            self.stats.evicted_pages += 1
        if gone:
            self._delete(gone)
        self._update_stats(total)

    def _delete(self, tags: set) -> None:
        for fn in self._listeners:
            fn(tags)
        for t in tags:
            if dpg.does_item_exist(t):
                dpg.delete_item(t)

    def _update_stats(self, total: int) -> None:
        self.stats.pages = len(self._pages)
        self.stats.tiles = len(self._entries)
        self.stats.strips = len(self._strips)
        self.stats.resident_bytes = total

    def clear(self) -> None:
        tags = set(self._pages) | {s.tag for s in self._strips.values()}
        self._pages.clear()
        self._entries.clear()
        self._strips.clear()
        self._strip_fail.clear()
        self._unreadable.clear()
        self._queue = []
        if tags:
            self._delete(tags)
        self._update_stats(0)
