"""Stats page benchmark: store.stats.project_stats (the one grouped query behind every plot) on the
600-shot / 21,000-take scale project; prints JSON, saves docs/bench/stats.json.

    .venv/bin/python tools/bench/stats.py [PATH] [--runs 15]

PATH (default /tmp/aimms_scale, the project tools/bench/store.py builds and reuses) is built if it is
not there, then opened READ-ONLY (the bench never changes it). Reports wall and CPU time
(time.process_time: meaningful on a loaded machine) of a cold first call and of warm repeats, and
the figures the page would show, so a run can be checked against the database by hand.
Target (issue 9): <= 200 ms on the 21K-take project.
"""
from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.project import Project  # noqa: E402
from aimms_fast.store.stats import histogram, project_stats  # noqa: E402


def ms(s: float) -> float:
    return round(s * 1000, 2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", default="/tmp/aimms_scale", type=Path)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--out", type=Path, default=default_out("stats"))
    args = ap.parse_args(argv)
    if not (args.path / "data" / "shots.db").exists():
        from store import build_or_reuse  # the scale builder, shared with the store benchmark
        build_or_reuse(args.path, 600, 21000)
    walls, cpus = [], []
    with Project.open(args.path, readonly=True) as p:
        for _ in range(args.runs + 1):
            w, c = time.perf_counter(), time.process_time()
            st = project_stats(p.conn)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        takes = p.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0]
    warm_w, warm_c = walls[1:], cpus[1:]
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "sqlite": sqlite3.sqlite_version, "load_1min": round(os.getloadavg()[0], 2)},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "project": {"path": str(args.path), "shots": st.shots, "takes_rows": takes},
        "first_call": {"wall_ms": ms(walls[0]), "cpu_ms": ms(cpus[0])},
        "warm": {"runs": len(warm_w), "wall_median_ms": ms(statistics.median(warm_w)),
                 "wall_max_ms": ms(max(warm_w)), "cpu_median_ms": ms(statistics.median(warm_c)),
                 "cpu_max_ms": ms(max(warm_c))},
        "target_ms": 200,
        "figures": {"image_takes": sum(st.image_takes_per_shot), "video_takes": sum(st.video_takes_per_shot),
                    "sections": len(st.sections), "placeholders": st.placeholders,
                    "total_bytes": st.total_bytes, "unmeasured_files": st.unmeasured_files,
                    "days": len(st.takes_per_day),
                    "image_histogram": {str(k): v for k, v in zip(*histogram(st.image_takes_per_shot))},
                    "starred_video_shots": sum(s.starred_video for s in st.sections)},
    }
    publish(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
