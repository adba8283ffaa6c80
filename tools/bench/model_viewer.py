"""3D viewer frame time in the real app (issue 8): orbiting a model in the floating viewer, under
Xvfb + llvmpipe, whole app frames (render into the pane's texture + Dear PyGui's frame).

    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" .venv/bin/python tools/bench/model_viewer.py [--frames 120] [--out F]

(without a DISPLAY the script starts itself again under xvfb-run). The viewport is set to 800x600.
A mouse drag is stood in for by turning the camera 4 px a frame and telling the viewport it is
being dragged (so it draws as during a real drag: without MSAA); the same run is repeated with
full-quality frames (4x MSAA, what a still picture gets). Model: CesiumMan (the largest textured
realdata model; copied to a temp folder). Prints JSON and writes docs/bench/model_viewer.json.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
MODEL = ROOT.parent / "shared" / "realdata" / "3d" / "gltf" / "CesiumMan.glb"
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24 +extension GLX"]


def pct(values, q):
    v = sorted(values)
    return round(v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))], 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--model", default=str(MODEL))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        os.execvp("xvfb-run", XVFB + [sys.executable] + sys.argv)

    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.app import App
    from aimms_fast.ui.model_viewer import ModelViewerWindow

    work = Path(tempfile.mkdtemp(prefix="aimms_model_bench_"))
    try:
        model = Path(shutil.copy(args.model, work / Path(args.model).name))
        app = App(vsync=False, width=1400, height=900, persist_prefs=False)
        app.start(None, welcome_if_none=False)
        app.settle(3)
        w = ModelViewerWindow(app, model, title=model.name)
        app.add_window(w)
        vp = w.viewport
        end = time.monotonic() + 60
        while vp.model is None and vp.error is None and time.monotonic() < end:
            app.iterate(pace=False)
        if vp.model is None:
            sys.exit(f"model did not load: {vp.error}")
        app.settle(5)
        for _ in range(3):      # the window sizes its picture: grow/shrink it until that is 800x600
            dw, dh = 800 - vp._size[0], 600 - vp._size[1]
            if not (dw or dh):
                break
            dpg.configure_item(w.win, width=dpg.get_item_width(w.win) + dw,
                               height=dpg.get_item_height(w.win) + dh)
            app.settle(4)
        result = {"bench": "model_viewer", "model": model.name, "viewport": list(vp._size),
                  "faces": vp.model.stats.faces, "frames": args.frames,
                  "gl": __import__("aimms_fast.ui.live_view", fromlist=["_GL"])._GL.ctx.info["GL_RENDERER"]}
        for name, dragging in (("orbit_drag_msaa0", True), ("orbit_still_msaa4", False)):
            vp._track_mouse = (lambda: True) if dragging else (lambda: False)
            frames, renders = [], []
            r0 = vp.renders
            for _ in range(args.frames):
                vp.camera.orbit(4, 0.5)
                vp._dirty = True
                t0 = time.perf_counter()
                app.iterate(pace=False)
                frames.append((time.perf_counter() - t0) * 1000)
            renders = [ms for _, ms in vp.frame_ms[-args.frames:]]
            result[name] = {"frame_p50_ms": pct(frames, 50), "frame_p95_ms": pct(frames, 95),
                            "frame_max_ms": round(max(frames), 2),
                            "render_p50_ms": round(statistics.median(renders), 2),
                            "renders": vp.renders - r0}
        result["target_p95_ms"] = 33
        result["load_avg"] = os.getloadavg()
        app.shutdown()
        publish(result, args.out or default_out("model_viewer"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
