"""Cold build of a whole project's thumbnail cache: takes/s and peak memory.

    .venv/bin/python tools/bench/cold_build.py PATH [--workers N] [--limit N] [--project-cache]

PATH is an AIMMS project (e.g. the 600-shot / 21K-take demo made by tools/bench/store.py at
/tmp/aimms_scale). The build goes into a fresh temporary cache folder (the project's own
`.aimms_fast_cache` is left alone unless --project-cache, which wipes and rebuilds it).
--limit N builds only the first N takes in storyboard order (the full 21K takes on a 2-core
machine takes a while); the JSON then also gives the time the whole project would take at the
measured rate.

Reports: takes/s, what was built (posters, filmstrips by strategy, placeholders, failures),
mean build time per take kind, cache bytes on disk (pages are sparse) and per take, peak RSS of
the main process (getrusage SELF) and of the workers (VmHWM sampled from /proc while they run,
and getrusage CHILDREN for the ones that exited). Prints JSON; writes docs/bench/cold_build.json.
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
from aimms_fast.cache.build import build_all, media_paths  # noqa: E402
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
    """Samples the workers' peak RSS (VmHWM) twice a second while the pool runs."""

    def __init__(self):
        self.pool = None
        self.peak_kb = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def attach(self, pool) -> None:
        self.pool = pool

    def sample(self) -> None:
        if self.pool is not None:
            for pid in self.pool.worker_pids():
                self.peak_kb = max(self.peak_kb, vm_kb(pid, "VmHWM"))

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path)
    ap.add_argument("--workers", type=int, help="worker processes (default cores - 1)")
    ap.add_argument("--limit", type=int, help="only the first N takes in storyboard order")
    ap.add_argument("--project-cache", action="store_true", help="build into the project's own cache (wiped first)")
    ap.add_argument("--out", type=Path, default=default_out("cold_build"))
    args = ap.parse_args()

    with Project.open(args.path, readonly=True) as p:
        all_paths = media_paths(p.conn)
        root, own_cache = p.root, p.layout.cache
        placeholders = {r[0] for r in p.conn.execute(
            "SELECT t.file_path FROM takes t JOIN fast_takes f USING (take_id) WHERE f.placeholder = 1")}
    paths = all_paths[: args.limit] if args.limit else all_paths
    tmp = None
    if args.project_cache:
        cache = own_cache
    else:
        tmp = Path(tempfile.mkdtemp(prefix="aimms_cold_cache_"))
        cache = tmp / ".aimms_fast_cache"

    load0 = os.getloadavg()[0]     # other work on the machine skews throughput: say so
    watch = WorkerWatch()
    watch.thread.start()
    try:
        s = build_all(root, cache, paths, force=True, workers=args.workers, prune=False,
                      on_pool=watch.attach)
    finally:
        watch.stop.set()
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with sqlite3.connect(thumbs_dir(cache) / "index.sqlite") as c:
        kinds = {k or "none": {"count": n, "mean_build_ms": round(ms or 0, 1)} for k, n, ms in c.execute(
            "SELECT kind, COUNT(*), AVG(build_ms) FROM tiles GROUP BY kind")}
        strategies = dict(c.execute("SELECT COALESCE(strategy, state), COUNT(*) FROM tiles GROUP BY 1"))
        posters = c.execute("SELECT COUNT(*) FROM tiles WHERE poster_tile IS NOT NULL").fetchone()[0]
        strips = c.execute("SELECT COUNT(*) FROM tiles WHERE strip_tile IS NOT NULL").fetchone()[0]
    used = disk_usage(cache)
    result = {
        "bench": "cold_build",
        "project": str(root), "takes_in_project": len(all_paths),
        "placeholders_in_project": len(placeholders & set(all_paths)),
        "takes_built": len(paths), "workers": s.workers, "cpus": os.cpu_count(), "loadavg_at_start": load0,
        "seconds": round(s.seconds, 2), "takes_per_s": round(s.takes_per_s, 2),
        "estimated_seconds_whole_project": round(len(all_paths) / s.takes_per_s, 0) if s.takes_per_s else None,
        "summary": {k: v for k, v in s.to_dict().items() if k not in ("failures",)},
        "failures": s.to_dict()["failures"][:20],
        "by_kind": kinds, "by_strategy": strategies, "posters": posters, "filmstrips": strips,
        "cache_bytes": used, "cache_mib": round(used / 2**20, 1),
        "cache_kib_per_take": round(used / 1024 / max(1, len(paths)), 1),
        "peak_rss_mib": {"main": round(self_kb / 1024, 1),
                         "worker_max": round(max(children_kb, watch.peak_kb) / 1024, 1)},
    }
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    publish(result, args.out)


if __name__ == "__main__":
    main()
