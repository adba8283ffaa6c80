"""The viewer's link to the media engine: tile cache (read side), thumbnail worker pool, frame and
metadata readers. No Dear PyGui here: the app calls these on its own thread and drains pool events
once per frame within a time budget (workers run in other processes and never touch the UI).

Each engine part is optional at run time: if it cannot be imported or fails to start, the viewer
still opens the project and says why previews are missing (`self.problem`). What is swallowed here
is logged (the project's log) with the reason it is safe to go on."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class TileEvent:
    rel_path: str
    state: str
    reason: str | None = None


class MediaServices:
    """Per open project. `tiles` may be None (no cache module, or it failed to open)."""

    def __init__(self, project, *, workers: int | None = None, start_pool: bool = True,
                 strip_size: tuple[int, int] | None = None):
        """`strip_size`: hover-scrub frame (w, h), one of cache.atlas.SCRUB_SIZES (None: 128x72)."""
        self.project = project
        self._strip_size = strip_size
        self.tiles = None
        self.problem: str | None = None
        self._pool = None
        self._pool_failed = False
        self._pending_failed = False
        self._workers = workers
        self._allow_pool = start_pool and not project.readonly
        self._last_request: tuple = ()
        self._last_refresh = 0.0
        # state() on the cache costs an index query plus a stat; the grid asks every frame, so
        # states are cached here and forgotten when workers report on a path (or on refresh).
        self._states: dict[str, str] = {}
        self._sweep = None     # store.stats.sweep_paths generator (own connection) while queueing
        self.swept = 0
        try:
            from aimms_fast.cache.tiles import TileCache
            self.tiles = TileCache(project.layout.cache, project.root)
        except ImportError as e:
            self.problem = f"thumbnail cache not available ({e})"
        except Exception as e:  # a damaged cache must not stop the project from opening
            log.exception("the thumbnail cache could not be opened; the project opens without "
                          "previews")
            self.problem = f"thumbnail cache could not be opened ({e})"

    # -- tile states ---------------------------------------------------------------------------
    def state(self, rel: str | None) -> str:
        if not rel or self.tiles is None:
            return "missing"
        st = self._states.get(rel)
        if st is None:
            try:
                st = self.tiles.state(rel)
            except Exception:
                log.exception("tile state of %s could not be read; the card shows 'no preview' "
                              "until a refresh", rel)
                st = "failed"
            self._states[rel] = st
        return st

    def states(self, rels: list[str]) -> dict[str, str]:
        """state() for many paths; unknown ones are read with one index query."""
        if self.tiles is None:
            return dict.fromkeys(rels, "missing")
        unknown = [r for r in rels if r not in self._states]
        if unknown:
            try:
                self._states.update(self.tiles.states(unknown))
            except Exception:
                log.exception("tile states of %d paths could not be read; those cards show 'no "
                              "preview' until a refresh", len(unknown))
                self._states.update(dict.fromkeys(unknown, "failed"))
        return {r: self._states[r] for r in rels}

    def forget_states(self, rels=None) -> None:
        if rels is None:
            self._states.clear()
        else:
            for r in rels:
                self._states.pop(r, None)

    def reason(self, rel: str) -> str | None:
        if self.tiles is None:
            return self.problem
        try:
            return self.tiles.reason(rel)
        except Exception as e:
            log.exception("the reason %s failed could not be read; its text is shown instead", rel)
            return str(e)

    # -- requests ------------------------------------------------------------------------------
    def _ensure_pool(self):
        if self._pool is not None or self._pool_failed or not self._allow_pool or self.tiles is None:
            return self._pool
        try:
            from aimms_fast.cache.pool import ThumbnailPool
            self._pool = ThumbnailPool(self.project.root, self.project.layout.cache, workers=self._workers,
                                       strip_size=self._strip_size)
        except Exception as e:
            log.exception("thumbnail workers could not start; the viewer runs without building "
                          "new thumbnails")
            self._pool_failed = True
            self.problem = f"thumbnail workers could not start ({e})"
        return self._pool

    def request(self, visible: list[str], ahead: list[str]) -> None:
        """Ask for tiles that are not built yet: what is on screen first (priority 0), then what is
        about to scroll in (1). Older requests not in these lists are cancelled (newest wins)."""
        key = (tuple(visible), tuple(ahead))
        if key == self._last_request:
            return
        self._last_request = key
        st = self.states([r for r in (*visible, *ahead) if r])
        need_v = [r for r in visible if r and st[r] in ("missing", "stale")]
        need_a = [r for r in ahead if r and st[r] in ("missing", "stale")]
        if not need_v and not need_a:
            return
        pool = self._ensure_pool()
        if pool is None:
            return
        try:
            pool.cancel_except(set(need_v) | set(need_a))
            if need_v:
                pool.request(need_v, priority=0)
            if need_a:
                pool.request(need_a, priority=1)
        except Exception as e:
            log.exception("asking the workers for thumbnails failed; the next scroll asks again")
            self.problem = f"thumbnail request failed ({e})"

    def set_scrub_size(self, strip_size: tuple[int, int] | None) -> None:
        """The Settings scrub size changed: the next pool builds filmstrips that size, and a new
        sweep rebuilds the filmstrips of the other size (they keep showing until then)."""
        if strip_size == self._strip_size:
            return
        self._strip_size = strip_size
        if self._pool is not None:
            try:
                self._pool.close()
            except Exception:
                log.exception("stopping the thumbnail workers for a new scrub size failed")
            self._pool = None
        self.begin_sweep()

    def begin_sweep(self) -> None:
        """Build every take's tiles in the background, behind whatever is on screen (every poster
        and filmstrip ready before the user scrolls to it). Queued a slice per frame by
        sweep_tick; the workers' dispatcher, not this thread, skips what the cache already has
        (a cache check here costs ~20 us a take: 0.4 s of UI time at 21K takes)."""
        from aimms_fast.store.stats import sweep_paths
        if self.project.readonly or self.tiles is None:
            return
        self._end_sweep()
        # Its own connection and snapshot: a restore or import on another connection can neither
        # cut it short nor be held up by it.
        self._sweep = sweep_paths(self.project.layout.db)
        self.swept = 0

    def _end_sweep(self) -> None:
        if self._sweep is not None:
            self._sweep.close()      # closes the sweep's connection
            self._sweep = None

    @property
    def sweeping(self) -> bool:
        """The background sweep still has takes to queue."""
        return self._sweep is not None

    def sweep_tick(self, n: int = 500) -> bool:
        """Queue the next slice of the sweep; False when there is nothing left to queue."""
        if self._sweep is None:
            return False
        pool = self._ensure_pool()
        rels = None
        if pool is not None:
            try:
                rels = next(self._sweep)
            except StopIteration:
                rels = None
            except Exception:
                log.exception("the thumbnail sweep could not read the take list; on-screen "
                              "thumbnails are still built as cards are shown")
                rels = None
        if not rels:
            self._end_sweep()
            return False
        from aimms_fast.cache.pool import BACKGROUND
        try:
            pool.request(rels, priority=BACKGROUND)
        except Exception as e:
            log.exception("queueing the thumbnail sweep failed; on-screen thumbnails are still "
                          "asked for as cards are shown")
            self.problem = f"thumbnail request failed ({e})"
            self._end_sweep()
            return False
        self.swept += len(rels)
        return True

    def drain(self, budget_s: float = 0.002) -> list[TileEvent]:
        """Events from the workers since the last call (non-blocking, bounded by `budget_s`)."""
        out: list[TileEvent] = []
        pool = self._pool
        if pool is not None:
            deadline = time.perf_counter() + budget_s
            while time.perf_counter() < deadline:
                try:
                    got = pool.drain(max_events=100)
                except Exception as e:
                    log.exception("the thumbnail workers stopped; the viewer goes on without "
                                  "building new thumbnails")
                    self.problem = f"thumbnail workers stopped ({e})"
                    self._pool = None
                    self._pool_failed = True
                    break
                if not got:
                    break
                out += [TileEvent(e.rel_path, e.state, getattr(e, "reason", None)) for e in got]
        if out and self.tiles is not None:
            try:
                self.tiles.refresh()
            except Exception:
                log.exception("re-reading the tile index failed; the next worker event retries")
            self.forget_states(e.rel_path for e in out)
        return out

    def poll_foreign(self, interval: float = 2.0) -> bool:
        """Read-only projects don't run workers (the instance holding the lock does): re-read the
        cache index now and then to pick up its tiles. Returns True when it re-read."""
        if self._pool is not None or self.tiles is None:
            return False
        now = time.monotonic()
        if now - self._last_refresh < interval:
            return False
        self._last_refresh = now
        try:
            self.tiles.refresh()
        except Exception:
            log.exception("re-reading the other instance's tile index failed; retried in %.0f s",
                          interval)
            return False
        self._states = {k: v for k, v in self._states.items() if v == "ready"}
        return True

    def pending(self, *, urgent_only: bool = False) -> int:
        try:
            return self._pool.pending(urgent_only=urgent_only) if self._pool is not None else 0
        except Exception:
            if not self._pending_failed:   # asked every frame: say it once
                self._pending_failed = True
                log.exception("the workers' queue length could not be read; shown as 0 (display only)")
            return 0

    @property
    def pool_running(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        self._end_sweep()
        if self._pool is not None:
            try:
                self._pool.close()
            except Exception:
                log.exception("stopping the thumbnail workers failed; they are daemon processes "
                              "and end with the app")
            self._pool = None
