"""Cold build of a whole project's thumbnail cache, the new path against the old one in one run.

    .venv/bin/python tools/bench/cold_build.py PATH [--limit N] [--workers N] [--only new|old]

PATH is an AIMMS project (the 600-shot / 21K-take demo made by tools/bench/store.py at
/tmp/aimms_scale). Each path builds into its own fresh temporary cache (the project's own
`.aimms_fast_cache` is never touched). --limit N builds only the first N takes in storyboard order
and extrapolates to the whole project (the full 21K takes take minutes on 2 cores).

  old   what `aimms thumbs` did before format 2: cores - 1 workers (1 on 2 cores), raw uint8
        tiles sent back to the writer, no poster pass. (Emulated with today's pool and writer: the
        writer JPEG-encodes in the dispatcher instead of writing 7.8 GiB of raw pages, and the
        pool keeps a second file in each worker's pipe; the recorded run of the real old path
        was 417 s / 50.9 takes/s.)
  new   every core, tiles JPEG-encoded in the workers, a first pass that gives every still its
        poster and every video the picture of its workflow PNG, then the filmstrip pass.

Reports per path: wall seconds and takes/s (noisy on a shared machine), CPU seconds of the main
process and of the workers (getrusage; what to compare under load), the poster pass and the
filmstrip pass separately (takes/s per kind), mean per-file build time by kind, cache bytes and
KiB per take, and the ratio new/old. Prints JSON; writes docs/bench/cold_build.json.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path

from report import default_out, publish


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.cache.atlas import disk_usage, thumbs_dir  # noqa: E402
from aimms_fast.cache.build import build_all, media_paths, with_workflow_png  # noqa: E402
from aimms_fast.cache.pool import default_workers  # noqa: E402
from aimms_fast.media.posters import IMAGE_EXTS  # noqa: E402
from aimms_fast.project import Project  # noqa: E402


def vm_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class WorkerWatch:
    """Samples the workers' peak RSS (VmHWM) twice a second while a pool runs."""

    def __init__(self):
        self.pool = None
        self.peak_kb = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def attach(self, pool) -> None:
        self.pool = pool

    def run(self) -> None:
        while not self.stop.wait(0.5):
            if self.pool is not None:
                for pid in self.pool.worker_pids():
                    self.peak_kb = max(self.peak_kb, vm_kb(pid, "VmHWM"))


def cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)   # workers, once the pool has reaped them
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def run_path(name: str, root: Path, paths: list[str], quick: set[str], workers: int | None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"aimms_cold_{name}_"))
    cache = tmp / ".aimms_fast_cache"
    watch = WorkerWatch()
    watch.thread.start()
    c0 = cpu()
    try:
        if name == "old":
            s = build_all(root, cache, paths, force=True, workers=workers or default_workers(), prune=False,
                          on_pool=watch.attach, extract="aimms_fast.media.posters:extract_tiles")
        else:
            s = build_all(root, cache, paths, force=True, workers=workers, prune=False, quick=quick,
                          on_pool=watch.attach)
    finally:
        watch.stop.set()
    c1 = cpu()
    with sqlite3.connect(thumbs_dir(cache) / "index.sqlite") as c:
        kinds = {k or "none": {"count": n, "mean_build_ms": round(ms or 0, 1)} for k, n, ms in c.execute(
            "SELECT kind, COUNT(*), AVG(build_ms) FROM tiles GROUP BY kind")}
        posters = c.execute("SELECT COUNT(*) FROM posters").fetchone()[0]
        strips = c.execute("SELECT COUNT(*) FROM strips").fetchone()[0]
        from_png = c.execute("SELECT COUNT(*) FROM tiles WHERE poster_from = 'workflow_png'").fetchone()[0]
        pbytes, sbytes = c.execute("SELECT COALESCE(SUM(poster_bytes), 0), COALESCE(SUM(strip_bytes), 0) "
                                   "FROM tiles").fetchone()
    used = disk_usage(cache)
    shutil.rmtree(tmp, ignore_errors=True)
    n_img = sum(1 for p in paths if os.path.splitext(p)[1].lower() in IMAGE_EXTS)
    n_vid = len(paths) - n_img
    film_s = s.seconds - s.posters_seconds
    out = {
        "workers": s.workers, "seconds": round(s.seconds, 2), "takes_per_s": round(s.takes_per_s, 2),
        "cpu_s": {"main": round(c1[0] - c0[0], 2), "workers": round(c1[1] - c0[1], 2),
                  "total": round(sum(c1) - sum(c0), 2),
                  "ms_per_take": round((sum(c1) - sum(c0)) * 1000 / max(1, len(paths)), 2)},
        "summary": {k: v for k, v in s.to_dict().items() if k != "failures"},
        "failures": s.to_dict()["failures"][:10],
        "by_kind": kinds, "posters": posters, "filmstrips": strips, "posters_from_workflow_png": from_png,
        "cache_bytes": used, "cache_kib_per_take": round(used / 1024 / max(1, len(paths)), 1),
        "picture_kib_per_take": {"posters": round(pbytes / 1024 / max(1, posters), 1),
                                 "filmstrips": round(sbytes / 1024 / max(1, strips), 1)},
        "worker_peak_rss_mib": round(watch.peak_kb / 1024, 1),
    }
    if s.posters_seconds:
        out["poster_pass"] = {"seconds": round(s.posters_seconds, 2),
                              "images_and_png_posters": n_img + s.quick_posters,
                              "posters_per_s": round((n_img + s.quick_posters) / s.posters_seconds, 1)}
        out["filmstrip_pass"] = {"seconds": round(film_s, 2), "videos": n_vid,
                                 "videos_per_s": round(n_vid / film_s, 1) if film_s > 0 else None}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path)
    ap.add_argument("--workers", type=int, help="worker processes for the new path (default: every core)")
    ap.add_argument("--limit", type=int, help="only the first N takes in storyboard order")
    ap.add_argument("--only", choices=["new", "old"], help="run one path only")
    ap.add_argument("--out", type=Path, default=default_out("cold_build"))
    args = ap.parse_args()

    with Project.open(args.path, readonly=True) as p:
        all_paths = media_paths(p.conn)
        quick = with_workflow_png(p.conn)
        root = p.root
    paths = all_paths[: args.limit] if args.limit else all_paths
    scale = len(all_paths) / max(1, len(paths))
    result = {"bench": "cold_build", "project": str(root), "takes_in_project": len(all_paths),
              "takes_built": len(paths), "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()[0],
              "videos_with_workflow_png": len(quick & set(paths))}
    for name in ("old", "new"):
        if args.only and args.only != name:
            continue
        r = run_path(name, root, paths, quick, args.workers if name == "new" else None)
        r["estimated_seconds_whole_project"] = round(r["seconds"] * scale, 0)
        r["estimated_cpu_s_whole_project"] = round(r["cpu_s"]["total"] * scale, 0)
        result[name] = r
    if "old" in result and "new" in result:
        o, n = result["old"], result["new"]
        result["ratio_new_over_old"] = {
            "takes_per_s": round(n["takes_per_s"] / o["takes_per_s"], 2) if o["takes_per_s"] else None,
            "cpu_per_take": round(n["cpu_s"]["ms_per_take"] / o["cpu_s"]["ms_per_take"], 2)
            if o["cpu_s"]["ms_per_take"] else None,
            "cache_bytes": round(n["cache_bytes"] / o["cache_bytes"], 3) if o["cache_bytes"] else None}
    result["target_seconds_whole_project"] = 200
    result["recorded_old_whole_project"] = {"seconds": 417, "takes_per_s": 50.9, "cache_kib_per_take": 379}
    publish(result, args.out)


if __name__ == "__main__":
    main()
