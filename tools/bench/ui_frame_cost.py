"""What one viewer frame costs, counted rather than timed: CPU seconds per frame (every thread of
the process, so llvmpipe's raster threads are included) for a still storyboard screen and for a
scroll, under A/B variants run back to back in fresh processes. On a shared machine wall-clock
frame times swing with other people's work; the CPU a frame burns moves far less.

    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" .venv/bin/python tools/bench/ui_frame_cost.py \
        [PATH] [--size 1600x960] [--variants base,old_card,...] [--frames 120] [--rounds 3]

Variants (each switches one thing back to how it was, or off, to price it):
  base          the viewer as shipped
  old_bg        the main window paints its own opaque background over the viewport clear
  old_card      each card is drawn in one node (outline, poster, star, text interleaved: a texture
                switch and so a separate GL draw per part per card) instead of in layers
  no_text       card text lines hidden (prices the captions)
  no_posters    poster images hidden
  no_outline    card outlines hidden
  empty         no project: the bare window
Prints JSON: per variant, median over rounds of CPU ms per still frame and per scroll frame, and
the counts of card parts drawn.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("base", "old_bg", "old_card", "no_text", "no_posters", "no_outline", "empty")


def _pct(values, q) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q / 100 * (len(v) - 1)))))] if v else 0.0


def child(path: str, size: tuple[int, int], variant: str, frames: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui import card_grid, theme
    from aimms_fast.ui.app import App
    from aimms_fast.ui.prefs import Prefs
    from aimms_fast.ui.tour import visible_ready
    if variant == "old_card":
        card_grid.LAYERED = False
    if variant == "old_bg":
        theme.PAINT_CLEAR = False
    app = App(prefs=Prefs(), vsync=False, width=size[0], height=size[1], persist_prefs=False)
    app.start(None if variant == "empty" else Path(path), welcome_if_none=False)
    out = {"variant": variant}
    if variant != "empty":
        app.wait_until(lambda: app.project is not None and app.current_page is not None, 60)
        app.show_page("videos")
        g = app.pages["videos"].grid
        app.wait_until(lambda: bool(g.cards) and g._range[1] > g._range[0] and visible_ready(app, g), 60)
        # Mid-project, where every card has a real poster (the first rows' pages were built first).
        g.scroll_to(g.scroll_max() / 2)
        app.wait_until(lambda: visible_ready(app, g), 30, min_frames=4)
        app.settle(20)
        parts = {"title": "title", "detail": "detail", "sub": "sub"}
        slots = [s for s in g._slots if s.index >= 0]
        if variant == "no_text":
            for s in slots:
                for k in parts:
                    dpg.configure_item(getattr(s, k), show=False)
        elif variant == "no_posters":
            for s in slots:
                dpg.configure_item(s.img, show=False)
        elif variant == "no_outline":
            for s in slots:
                dpg.configure_item(s.bg, show=False)
        out["cards_assigned"] = len(slots)
        out["pages_on_screen"] = len({s.region.tag for s in slots if s.region is not None})
    else:
        app.settle(20)
    still_cpu, still_wall = [], []
    for _ in range(frames):
        c, t = time.process_time(), time.perf_counter()
        app.iterate(pace=False)
        still_cpu.append((time.process_time() - c) * 1000)
        still_wall.append((time.perf_counter() - t) * 1000)
    out["still_cpu_ms"] = round(statistics.median(still_cpu), 2)
    out["still_wall_ms"] = round(statistics.median(still_wall), 2)
    if variant not in ("empty",) and variant not in ("no_text", "no_posters", "no_outline"):
        g = app.pages["videos"].grid
        y0 = g.scroll_y()
        cpu, py = [], []
        for k in range(frames):
            g.scroll_to(y0 + 24 * (k + 1))
            c = time.process_time()
            app.iterate(pace=False)
            cpu.append((time.process_time() - c) * 1000)
            py.append(app.last_python_s * 1000)
        out["scroll_cpu_ms"] = {"p50": round(statistics.median(cpu), 2), "p95": round(_pct(cpu, 95), 2)}
        out["scroll_python_ms"] = {"p50": round(statistics.median(py), 3), "p95": round(_pct(py, 95), 3)}
    app.shutdown()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default="/tmp/aimms_scale")
    ap.add_argument("--size", default="1600x960")
    ap.add_argument("--variants", default="base,old_bg,old_card")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    if a.child:
        print(json.dumps(child(a.path, (w, h), a.child, a.frames)))
        return
    if not os.environ.get("DISPLAY"):
        sys.exit("ui_frame_cost needs an X display: run it under xvfb-run (see the module docstring)")
    variants = [v for v in a.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            sys.exit(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
    runs: dict[str, list] = {v: [] for v in variants}
    for _ in range(a.rounds):                 # interleaved: A B C A B C, so load drifts hit all alike
        for v in variants:
            p = subprocess.run([sys.executable, __file__, a.path, "--size", a.size, "--frames", str(a.frames),
                                "--child", v], capture_output=True, text=True, cwd=ROOT)
            if p.returncode != 0:
                sys.exit(f"variant {v} failed:\n{p.stderr[-4000:]}")
            runs[v].append(json.loads(p.stdout.strip().splitlines()[-1]))
    summary = {}
    for v, rs in runs.items():
        s = {"still_cpu_ms": statistics.median(r["still_cpu_ms"] for r in rs),
             "still_wall_ms": statistics.median(r["still_wall_ms"] for r in rs)}
        if "scroll_cpu_ms" in rs[0]:
            s["scroll_cpu_p50_ms"] = statistics.median(r["scroll_cpu_ms"]["p50"] for r in rs)
            s["scroll_cpu_p95_ms"] = statistics.median(r["scroll_cpu_ms"]["p95"] for r in rs)
            s["scroll_python_p95_ms"] = statistics.median(r["scroll_python_ms"]["p95"] for r in rs)
        for k in ("cards_assigned", "pages_on_screen"):
            if k in rs[0]:
                s[k] = rs[0][k]
        summary[v] = s
    print(json.dumps({"bench": "ui_frame_cost", "project": a.path, "size": a.size, "frames": a.frames,
                      "rounds": a.rounds, "load_avg_1m": os.getloadavg()[0], "summary": summary,
                      "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
