"""Export benchmark: the starred cut and every editor timeline format on the demo project; prints
JSON, saves docs/bench/export.json.

    .venv/bin/python tools/bench/export.py [PATH] [--shots 600 --takes 21000] [--runs 5]

PATH (default /tmp/aimms_scale, shared with tools/bench/store.py) is built with `aimms demo` logic
when missing, else reused. `--shots 40` makes a quick run on /tmp/aimms_scale_40 (issue 10's
target is the 600-shot project). Measures, median of --runs:
  build_cut      export.timeline.build_cut for the video storyboard (gaps) and the image storyboard
  to_otio        the OpenTimelineIO timeline from the cut
  formats        cut + write for otio, edl, fcp7, fcpx, kdenlive (the whole `export()` call)
  reimport       export.reimport.read_edit of each written timeline (unchanged: an empty diff)
Target (issue 10): timeline build + each format <= 2 s on the 600-shot project.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.demo.builder import DemoSpec, build_demo, demo_status  # noqa: E402
from aimms_fast.export import ExportOptions, export, load  # noqa: E402
from aimms_fast.export.reimport import read_edit  # noqa: E402
from aimms_fast.export.timeline import build_cut, to_otio  # noqa: E402
from aimms_fast.project import Project  # noqa: E402

FORMATS = [("otio", ".otio"), ("edl", ".edl"), ("fcp7", ".xml"), ("fcpx", ".fcpxml"), ("kdenlive", ".kdenlive")]
TARGET_S = 2.0


def med(fn, runs: int) -> tuple[float, object]:
    samples, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", type=Path, default=None)
    ap.add_argument("--shots", type=int, default=600)
    ap.add_argument("--takes", type=int, default=None, help="default: 35 per shot (21,000 for 600 shots)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=default_out("export"))
    a = ap.parse_args()
    takes = a.takes if a.takes is not None else a.shots * 35
    path = a.path or Path("/tmp/aimms_scale" if a.shots == 600 else f"/tmp/aimms_scale_{a.shots}")
    built_s = None
    if demo_status(path) is None:
        t = time.perf_counter()
        build_demo(path, DemoSpec(shots=a.shots, takes=takes))
        built_s = round(time.perf_counter() - t, 2)
    load()
    res: dict = {"benchmark": "export", "project": str(path), "machine": platform.machine(),
                 "cpus": os.cpu_count(), "python": platform.python_version(), "runs": a.runs,
                 "build_project_s": built_s, "target_s": TARGET_S}
    import opentimelineio
    res["opentimelineio"] = opentimelineio.__version__
    with Project.open(path, readonly=True) as p:
        res["shots"] = p.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0]
        res["takes"] = p.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0]
        s, cut = med(lambda: build_cut(p, storyboard="video", missing="gap"), a.runs)
        res["build_cut_video_s"] = round(s, 4)
        res["cut"] = {"clips": len(cut.clips), "media_clips": len(cut.media_clips), "fps": cut.fps,
                      "duration_s": round(cut.total_s, 2), "report_lines": len(cut.report)}
        s, icut = med(lambda: build_cut(p, storyboard="image", missing="gap"), a.runs)
        res["build_cut_image_s"] = round(s, 4)
        s, _ = med(lambda: to_otio(cut), a.runs)
        res["to_otio_s"] = round(s, 4)
        res["formats"] = {}
        with tempfile.TemporaryDirectory(prefix="aimms_bench_export_") as tmp:
            for fmt, suffix in FORMATS:
                out = Path(tmp) / f"cut{suffix}"
                s, r = med(lambda: export(p, fmt, out, ExportOptions(missing="gap")), a.runs)
                rs, diff = med(lambda: read_edit(p, out, storyboard="video"), max(1, a.runs // 2))
                res["formats"][fmt] = {"export_s": round(s, 4), "bytes": out.stat().st_size, "clips": r.clips,
                                       "within_target": s <= TARGET_S, "reimport_s": round(rs, 4),
                                       "reimport_changes": len(diff.changes)}
    publish(res, a.out)


if __name__ == "__main__":
    main()
