"""`aimms check` benchmark on the 600-shot / 21K-take project: warm check (what the Routing page
and `aimms check` do after the first run: page cache warm, no hashing), in CPU time and wall time.

    /work/main/.venv/bin/python tools/bench/check.py [SCALE] [--runs 7] [--work DIR]

SCALE is the scale project (default /tmp/aimms_scale, made by tools/bench/store.py). It is never
written: its database is copied to --work (once) and media/ is a symlink to SCALE/media, so the
m007 migration and the fingerprint cache land in the copy. Prints JSON:
  check_s       ops.check.check(project) on an open project (the Routing page's refresh)
  open_check_s  Project.open + check + close (the `aimms check` command minus interpreter start)
  unused_s      the whole Unused survey, warm fingerprint cache (hashing only on the first run)
each as {cpu_p50, cpu_max, wall_p50, wall_max} over --runs after one warm-up run; and the counts.
CPU time (time.process_time) is what to compare under load; the wall numbers are for a quiet box.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.ops import check as CK  # noqa: E402
from aimms_fast.ops import housekeeping as HK  # noqa: E402
from aimms_fast.project import Project  # noqa: E402


def mirror(scale: Path, work: Path) -> Path:
    """A project whose data/ is a copy of SCALE's and whose media/ is SCALE's (symlink)."""
    if not (work / "data" / "shots.db").exists():
        work.mkdir(parents=True, exist_ok=True)
        (work / "data").mkdir(exist_ok=True)
        shutil.copy2(scale / "data" / "shots.db", work / "data" / "shots.db")
        for f in ("project_config.json",):
            if (scale / f).exists():
                shutil.copy2(scale / f, work / f)
        for f in ("shot_name_mapping.json",):
            if (scale / "data" / f).exists():
                shutil.copy2(scale / "data" / f, work / "data" / f)
        (work / "media").symlink_to(scale / "media")
    return work


def timed(fn, runs: int) -> tuple[dict, object]:
    fn()   # warm-up: page cache, migration, fingerprint cache
    cpu, wall = [], []
    out = None
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    r = lambda xs: round(xs, 4)  # noqa: E731
    return {"cpu_p50": r(statistics.median(cpu)), "cpu_max": r(max(cpu)),
            "wall_p50": r(statistics.median(wall)), "wall_max": r(max(wall))}, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", nargs="?", default="/tmp/aimms_scale", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/aimms_check_bench"))
    a = ap.parse_args()
    if not (a.scale / "data" / "shots.db").exists():
        sys.exit(f"no project at {a.scale}: make it with tools/bench/store.py first")
    root = mirror(a.scale, a.work)
    out: dict = {"project": str(a.scale), "runs": a.runs}
    p = Project.open(root)
    try:
        out["check_s"], r = timed(lambda: CK.check(p), a.runs)
        out["takes"] = p.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0]
        out["shots"] = len(r.rows)
        out["files"] = r.files
        out["problems"] = r.counts
        out["unused_s"], s = timed(lambda: HK.unused_report(p), max(1, a.runs // 2))
        out["duplicates"] = len(s.duplicates)
    finally:
        p.close()

    def open_check():
        with Project.open(root) as q:
            return CK.check(q)
    out["open_check_s"], _ = timed(open_check, a.runs)
    out["target"] = "warm check <= 1.0 s on the 21K-take project (issue 9)"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
