"""3D model benchmark: per realdata model, the cold load (child process), the cached load, the same
conversion in-process, plain `trimesh.load` in-process, first render, thumbnail; and orbit frames.

    .venv/bin/python tools/bench/models.py [--runs 3] [--frames 120]

Prints JSON and writes docs/bench/models.json. Headless EGL in this process (no Dear PyGui here).

cold_ms        load_model with an empty cache: child process spawn + parse + GLB export + the
               parent's GLB read (what a first open or import costs), median of --runs
cached_ms      load_model again: the cached GLB read in-process (what every later open costs)
convert_ms     the format module's load() timed inside a warm process (the child's own work):
               cold_ms - convert_ms - cached_ms ≈ the child-process overhead
trimesh_ms     trimesh.load(path) in-process (glTF/GLB only; trimesh has no FBX reader)
first_render_ms  Renderer.set_model (upload) + one 800x600 render + read-back, fresh renderer
pose_ms        Renderer.set_pose (skeleton evaluated in numpy + joint matrices), animated models
thumb_ms       model_thumbnail(path, 256x144) with a warm model cache (load from cache + render)
orbit          the largest model: camera.orbit per frame, render 800x600 + read back; p50/p95/max,
               without MSAA (what a viewport draws while dragging) and with 4x MSAA (still frames)
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.errors import MediaError  # noqa: E402
from aimms_fast.viewer3d.loader import load_model  # noqa: E402

REAL = ROOT.parent / "shared" / "realdata" / "3d"


def ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


CONVERT = """
import gc, sys, time, importlib
from pathlib import Path
gc.disable()        # as in the loader's child: ufbx 0.0.5 segfaults when the collector frees it
import trimesh, ufbx, PIL.Image   # noqa: F401 - imports are the child's overhead, not its work
mod = importlib.import_module(sys.argv[2])
t0 = time.perf_counter()
mod.load(Path(sys.argv[1]))       # once per process: a second ufbx load in one process can crash
print(round((time.perf_counter() - t0) * 1000, 2), flush=True)
import os; os._exit(0)            # no teardown, as in the loader's child (ufbx 0.0.5 may crash in it)
"""


def convert_ms(path: Path, module: str, runs: int) -> float:
    """The format module's own work, timed inside a process of its own (never ufbx in this one)."""
    import subprocess
    ts = []
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-c", CONVERT, str(path), module], capture_output=True,
                           text=True, cwd=ROOT, timeout=300)
        if r.returncode == 0:
            ts.append(float(r.stdout.strip().splitlines()[-1]))
    return statistics.median(ts) if ts else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--out", default=str(default_out("models")))
    a = ap.parse_args()
    import numpy as np
    import trimesh
    from aimms_fast.viewer3d.loader import FORMATS
    from aimms_fast.viewer3d.render import Camera, Renderer, standalone_context
    from aimms_fast.viewer3d.thumbs import model_thumbnail
    ctx = standalone_context()
    files = sorted(p for p in REAL.rglob("*") if p.suffix.lower() in FORMATS)
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-models-"))
    largest = None
    try:
        for path in files:
            row = {"file": str(path.relative_to(REAL)), "bytes": path.stat().st_size}
            cold = []
            try:
                for i in range(a.runs):
                    cache = tmp / f"c{i}-{path.stem}"
                    t0 = time.perf_counter()
                    m = load_model(path, cache)
                    cold.append(ms(t0))
            except MediaError as e:
                row.update(error=e.message, error_ms=cold[0] if cold else ms(t0))
                rows.append(row)
                continue
            row["cold_ms"] = statistics.median(cold)
            warm = []
            for _ in range(max(5, a.runs)):
                t0 = time.perf_counter()
                load_model(path, cache)
                warm.append(ms(t0))
            row["cached_ms"] = statistics.median(warm)
            row["convert_ms"] = convert_ms(path, FORMATS[path.suffix.lower()], a.runs)
            row["child_overhead_ms"] = round(row["cold_ms"] - row["convert_ms"] - row["cached_ms"], 1)
            if path.suffix.lower() != ".fbx":
                tl = []
                for _ in range(a.runs):
                    t0 = time.perf_counter()
                    trimesh.load(str(path))
                    tl.append(ms(t0))
                row["trimesh_ms"] = statistics.median(tl)
            s = m.stats
            row.update(format=s.format, version=s.version, vertices=s.vertices, faces=s.faces,
                       textured=s.textured)
            r = Renderer(ctx)
            t0 = time.perf_counter()
            r.set_model(m)
            cam = Camera()
            cam.view("iso")
            cam.fit(m.bounds, 800 / 600)
            r.render(cam, (800, 600))
            row["first_render_ms"] = ms(t0)
            if m.animations:
                row["animations"] = [f"{an.name} {an.duration:.2f} s" for an in m.animations]
                pose = []
                for k in range(30):
                    t0 = time.perf_counter()
                    r.set_pose(0, k / 30 * m.animations[0].duration)
                    pose.append(ms(t0))
                row["pose_ms"] = statistics.median(pose)
            r.release()
            th = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                model_thumbnail(path, (256, 144), cache_dir=cache)
                th.append(ms(t0))
            row["thumb_ms"] = statistics.median(th)
            rows.append(row)
            if largest is None or s.faces > largest[1].stats.faces:
                largest = (path, m)
        path, m = largest
        from aimms_fast.viewer3d.render import RenderSettings
        r = Renderer(ctx)
        r.set_model(m)
        orbit = {"file": str(path.relative_to(REAL)), "faces": m.stats.faces, "size": [800, 600],
                 "frames": a.frames}
        for msaa in (0, 4):
            cam = Camera()
            cam.view("iso")
            cam.fit(m.bounds, 800 / 600)
            st = RenderSettings(msaa=msaa)
            r.render(cam, (800, 600), settings=st)
            times = []
            for _ in range(a.frames):
                t0 = time.perf_counter()
                cam.orbit(4, 0.5)
                r.render(cam, (800, 600), settings=st)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            orbit[f"msaa{msaa}"] = {"p50_ms": round(times[len(times) // 2], 2),
                                    "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
                                    "max_ms": round(times[-1], 2)}
        r.release()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    publish({"bench": "models", "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                            "gl": ctx.info["GL_RENDERER"]},
             "runs": a.runs, "models": rows, "orbit": orbit}, a.out)


if __name__ == "__main__":
    main()
