"""Build the whole atlas of a project: every take's poster and filmstrip (CLI `aimms thumbs`)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aimms_fast.cache.atlas import AtlasWriter, thumbs_dir, wipe
from aimms_fast.errors import AimmsError
from aimms_fast.cache.pool import ThumbnailPool

# The takes the storyboards show as cards. Workflow PNGs (video_workflow) are shown in the shot
# window's detail panel at full size, not as atlas tiles; audio has no picture.
CARD_TAKE_TYPES = ("base_image", "final_video")


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

    @property
    def takes_per_s(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {"total": self.total, "built": self.built, "cached": self.cached,
                "placeholders": self.placeholders, "failed": len(self.failed),
                "failures": [{"path": p, "reason": r} for p, r in self.failed],
                "crashes": self.crashes, "timeouts": self.timeouts, "pruned": self.pruned,
                "seconds": round(self.seconds, 3), "takes_per_s": round(self.takes_per_s, 2),
                "workers": self.workers}


def build_all(project_root: Path, cache_dir: Path, paths: list[str], *, force: bool = False,
              workers: int | None = None, time_limit: float = 30.0, strip_frames: int | None = None,
              prune: bool = True, progress: Callable[[int, int], None] | None = None,
              on_pool: Callable[[ThumbnailPool], None] | None = None) -> BuildSummary:
    """Build tiles for `paths` (project-relative) and wait for all of them. `force` starts from an
    empty cache; `strip_frames` None keeps the cache's K; `prune` drops entries of files no
    longer listed. `on_pool(pool)` is called once
    the pool is running (benchmarks watch its workers' memory)."""
    t0 = time.perf_counter()
    if force:
        wipe(thumbs_dir(cache_dir))
    s = BuildSummary(total=len(paths))
    done = 0
    with ThumbnailPool(project_root, cache_dir, workers=workers, time_limit=time_limit,
                       strip_frames=strip_frames) as pool:
        s.workers = pool.n_workers
        if on_pool is not None:
            on_pool(pool)
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
            elif not idle and now - last_progress > stall_limit:
                raise AimmsError(f"thumbnail build made no progress for {stall_limit:.0f} s",
                                 path=cache_dir, hint=f"pool state: {pool.describe()}")
            for ev in events:
                done += 1
                if ev.state == "failed":
                    s.failed.append((ev.rel_path, ev.reason or "unknown"))
            if progress and events:
                progress(done, s.total)
            if idle:
                break
        st = pool.stats
        s.built, s.cached, s.placeholders = st["decoded"], st["cached"], st["placeholders"]
        s.crashes, s.timeouts = st["crashes"], st["timeouts"]
    if prune:
        w = AtlasWriter(cache_dir, strip_frames=strip_frames)
        try:
            s.pruned = w.prune(set(paths))
        finally:
            w.close()
    s.failed.sort()
    s.seconds = time.perf_counter() - t0
    return s
