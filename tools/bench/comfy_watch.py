"""ComfyUI loop benchmark: CPU cost of the output-folder watcher, counted, not timed on the wall.

    /work/main/.venv/bin/python tools/bench/comfy_watch.py [--files 500] [--shots 60]

A temp project with --shots shots and an output folder of --files small PNGs (ComfyUI-style
`prompt` chunk, names by shot, a quarter matched only by their prompt, a tenth unknown). Measures
with time.process_time (this process: the watcher runs on the caller's thread):
  catch_up_inbox   one catch-up pass that puts every output in the Inbox (auto-add off): scan,
                   read metadata, match, claim; per file
  catch_up_filed   the same files again in a second project with auto-add on (copy + probe +
                   metadata of each new take through ops.takes.add_takes); per file
  idle_tick        one tick with nothing new (what the watcher's loop costs while waiting)
Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _setup(tmp: Path, name: str, shots: int):
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.project import Project
    p = Project.create(tmp / name)
    for i in range(shots):
        add_shot(p, shot_name=f"SH{i:03d}", image_prompt=f"prompt number {i}", placeholders=False)
    return p


def _outputs(folder: Path, files: int, shots: int) -> None:
    from tests.comfy_server import image_workflow
    from tests.conftest import make_image
    for k in range(files):
        g = image_workflow()
        g["6"]["inputs"]["text"] = f"prompt number {k % shots}"
        chunks = {"prompt": json.dumps(g)}
        if k % 10 == 0:
            name = f"unknown/ComfyUI_{k:05}_.png"
            chunks = {}
        elif k % 4 == 0:
            name = f"ComfyUI_{k:05}_.png"                       # prompt match only
        else:
            name = f"SH{k % shots:03d}_{k:05}_.png"
        make_image(folder / name, size=(64, 36), color=(k % 255, 90, 160), text_chunks=chunks)


def _catch_up(p, folder: Path, auto: bool) -> tuple[float, int]:
    from aimms_fast.comfy import inbox as I
    from aimms_fast.comfy.watcher import Watcher
    I.set_auto(p, auto)
    w = Watcher(p, folder, settle_s=0.0, pair_timeout_s=0.0)
    t0 = time.process_time()
    events = w.run_once(p, max_wait_s=60)
    return time.process_time() - t0, len(events)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--shots", type=int, default=60)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        folder = tmp / "output"
        _outputs(folder, a.files, a.shots)
        p1 = _setup(tmp, "inbox", a.shots)
        cpu_inbox, n_inbox = _catch_up(p1, folder, auto=False)
        from aimms_fast.comfy.watcher import Watcher
        w = Watcher(p1, folder, settle_s=0.0)
        t0 = time.process_time()
        for _ in range(100):
            w.tick(p1)
        idle = (time.process_time() - t0) / 100
        p1.close()
        p2 = _setup(tmp, "filed", a.shots)
        cpu_filed, n_filed = _catch_up(p2, folder, auto=True)
        p2.close()
    print(json.dumps({
        "files": a.files, "shots": a.shots,
        "catch_up_inbox": {"outputs": n_inbox, "cpu_s": round(cpu_inbox, 3),
                           "cpu_ms_per_file": round(1000 * cpu_inbox / max(1, n_inbox), 2)},
        "catch_up_filed": {"outputs": n_filed, "cpu_s": round(cpu_filed, 3),
                           "cpu_ms_per_file": round(1000 * cpu_filed / max(1, n_filed), 2)},
        "idle_tick_cpu_us": round(idle * 1e6, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
