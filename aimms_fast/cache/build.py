"""Build the whole atlas of a project: every take's poster and filmstrip (CLI `aimms thumbs`).

Order (issue 15): posters first, for every card: still images are built whole (a poster is all
they get), videos get the picture of their companion workflow PNG (~2 ms against ~18 ms of CPU
for the clip; AIMMS itself shows that PNG). Then the full pass builds every video's filmstrip and
its own poster, which replaces the PNG's where they differ. Both passes use every core: `aimms
thumbs` runs without the UI, so nothing else needs a core kept free.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aimms_fast.cache.atlas import AtlasWriter, thumbs_dir, wipe
from aimms_fast.errors import AimmsError
from aimms_fast.cache.pool import ThumbnailPool
from aimms_fast.media.posters import IMAGE_EXTS

# The takes the storyboards show as cards. Workflow PNGs (video_workflow) are shown in the shot
# window's detail panel at full size, not as atlas tiles; audio has no picture.
CARD_TAKE_TYPES = ("base_image", "final_video")


def all_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def media_paths(conn, take_types=CARD_TAKE_TYPES) -> list[str]:
    """Distinct take file paths in storyboard order (so a partial build covers the first screens
    first)."""
    marks = ",".join("?" * len(take_types))
    rows = conn.execute(
        f"SELECT t.file_path FROM takes t LEFT JOIN fast_takes f USING (take_id) "
        f"WHERE t.take_type IN ({marks}) AND t.file_path IS NOT NULL AND t.file_path != '' "
        f"ORDER BY COALESCE(f.shot_order, 0), t.shot_id, COALESCE(f.take_number, 0), t.file_path",
        tuple(take_types)).fetchall()
    seen, out = set(), []
    for (p,) in rows:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def with_workflow_png(conn) -> set[str]:
    """Video take paths whose companion workflow PNG is recorded under the same name (the quick
    poster job finds it beside the video; a companion elsewhere waits for the full build)."""
    rows = conn.execute(
        "SELECT v.file_path, c.file_path FROM fast_takes cf JOIN takes c ON c.take_id = cf.take_id "
        "JOIN takes v ON v.take_id = cf.companion_of "
        "WHERE v.file_path IS NOT NULL AND c.file_path IS NOT NULL AND COALESCE(cf.placeholder, 0) = 0").fetchall()
    out = set()
    for v, c in rows:
        vn, cn = v.replace("\\", "/"), c.replace("\\", "/")
        if cn.rsplit(".", 1)[0] == vn.rsplit(".", 1)[0]:
            out.add(v)
    return out


@dataclass
class BuildSummary:
    total: int = 0
    built: int = 0
    cached: int = 0
    placeholders: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    crashes: int = 0
    timeouts: int = 0
    pruned: int = 0
    seconds: float = 0.0
    workers: int = 0
    quick_posters: int = 0        # videos whose first poster came from their workflow PNG
    posters_seconds: float = 0.0  # until every card had a poster (the quick pass)
    posters_pass_built: int = 0   # stills + PNG posters made by the poster pass (built/cached
                                  # above are the full pass's: a still built first counts as cached)

    @property
    def takes_per_s(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {"total": self.total, "built": self.built, "cached": self.cached,
                "placeholders": self.placeholders, "failed": len(self.failed),
                "failures": [{"path": p, "reason": r} for p, r in self.failed],
                "crashes": self.crashes, "timeouts": self.timeouts, "pruned": self.pruned,
                "seconds": round(self.seconds, 3), "takes_per_s": round(self.takes_per_s, 2),
                "workers": self.workers, "quick_posters": self.quick_posters,
                "posters_seconds": round(self.posters_seconds, 3),
                "posters_pass_built": self.posters_pass_built}


def _run_pool(pool: ThumbnailPool, paths: list[str], time_limit: float, cache_dir: Path,
              on_event: Callable) -> None:
    """Request `paths` and wait until every result is published, feeding events to on_event."""
    pool.request(paths)
    # The pool has its own per-file time limits; this only guards against a pool that stops
    # making progress for a reason nobody foresaw: fail loudly instead of waiting forever.
    stall_limit = 2 * time_limit + 120
    last_progress = time.monotonic()
    while True:
        idle = pool.wait_idle(0.2)     # idle = every result is already published
        events = pool.drain(1 << 30)
        now = time.monotonic()
        if events:
            last_progress = now
            on_event(events)
        elif not idle and now - last_progress > stall_limit:
            raise AimmsError(f"thumbnail build made no progress for {stall_limit:.0f} s",
                             path=cache_dir, hint=f"pool state: {pool.describe()}")
        if idle:
            return


def build_all(project_root: Path, cache_dir: Path, paths: list[str], *, force: bool = False,
              workers: int | None = None, time_limit: float = 30.0, strip_frames: int | None = None,
              strip_size: tuple[int, int] | None = None, quick: set[str] | None = None,
              prune: bool = True, progress: Callable[[int, int], None] | None = None,
              on_pool: Callable[[ThumbnailPool], None] | None = None, extract: str | None = None) -> BuildSummary:
    """Build tiles for `paths` (project-relative) and wait for all of them. `force` starts from an
    empty cache; `workers` None = every core; `strip_frames` / `strip_size` None = 16 frames of
    128x72; `quick`: video paths whose workflow PNG lies beside them (`with_workflow_png`): a
    first pass gives them (and every still image) a poster before any filmstrip is built.
    `prune` drops entries of files no longer listed. `on_pool(pool)` is called once each pool
    is running (benchmarks watch its workers' memory). `extract` replaces the full pass's worker
    job (benchmarks compare with the raw-tile job, media.posters:extract_tiles)."""
    t0 = time.perf_counter()
    if force:
        wipe(thumbs_dir(cache_dir))
    s = BuildSummary(total=len(paths))
    n_workers = workers or all_cores()
    first = [p for p in paths if p in quick or os.path.splitext(p)[1].lower() in IMAGE_EXTS] if quick else []
    total = len(first) + len(paths)
    done = 0

    def count(events, final: bool) -> None:
        nonlocal done
        done += len(events)
        if not final:
            s.quick_posters += sum(1 for ev in events if ev.state == "ready" and ev.rel_path in quick)
        else:
            s.failed.extend((ev.rel_path, ev.reason or "unknown") for ev in events if ev.state == "failed")
        if progress:
            progress(done, total)

    if first:
        with ThumbnailPool(project_root, cache_dir, workers=n_workers, time_limit=time_limit,
                           strip_frames=strip_frames, strip_size=strip_size, quick=True) as pool:
            if on_pool is not None:
                on_pool(pool)
            _run_pool(pool, first, time_limit, cache_dir, lambda ev: count(ev, False))
            s.posters_pass_built = pool.stats["decoded"]
        s.posters_seconds = time.perf_counter() - t0
    with ThumbnailPool(project_root, cache_dir, workers=n_workers, time_limit=time_limit,
                       strip_frames=strip_frames, strip_size=strip_size, extract=extract) as pool:
        s.workers = pool.n_workers
        if on_pool is not None:
            on_pool(pool)
        _run_pool(pool, paths, time_limit, cache_dir, lambda ev: count(ev, True))
        st = pool.stats
        s.built, s.cached, s.placeholders = st["decoded"], st["cached"], st["placeholders"]
        s.crashes, s.timeouts = st["crashes"], st["timeouts"]
    if prune:
        w = AtlasWriter(cache_dir, strip_frames=strip_frames, strip_size=strip_size)
        try:
            s.pruned = w.prune(set(paths))
        finally:
            w.close()
    s.failed.sort()
    s.seconds = time.perf_counter() - t0
    return s
