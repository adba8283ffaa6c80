"""LiveView scenarios (tests/ui/test_live_view.py): the real app window with a LiveView in a floating
Dear PyGui window showing known flat colours in 1/2/4 panes and composed (wipe, difference, blend),
screenshotted; the test checks the screen pixels. The backend is forced through AIMMS_LIVE_BACKEND,
which the test sets per run."""
from __future__ import annotations

import time

import numpy as np

from tests.ui.scenarios import scenario, shot, start_app

A = (200, 40, 40)
B = (40, 180, 60)
C = (60, 70, 210)
D = (230, 210, 50)
VIEW = (960, 540)


def flat(w: int, h: int, rgb) -> np.ndarray:
    img = np.empty((h, w, 4), np.uint8)
    img[..., :3] = rgb
    img[..., 3] = 255
    return img


def _case(app, lv, out, name, frames, **kw) -> dict:
    """Show, let a frame render (the GL backend finds its textures then), show again, screenshot."""
    lv.show(frames, **kw)
    app.settle(1)
    lv.show(frames, **kw)
    app.settle(2)
    n = lv.pane_count
    return {"shot": shot(app, out, name), "panes": [list(lv.pane_rect(k)) for k in range(n)],
            "pictures": [list(lv.picture_rect(k)) for k in range(n)], "backend": lv.backend}


@scenario
def live_view_panes(project, out, args):
    """1 / 2 / 4 panes, letterboxing, a frame larger than its pane, labels, an error pane, and the
    three composed modes; one screenshot each."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.live_view import LiveView
    app = start_app(None, welcome_if_none=False)
    with dpg.window(label="live", pos=(20, 30), width=VIEW[0] + 40, height=VIEW[1] + 60, no_scrollbar=True) as win:
        pass
    app.settle(1)
    lv = LiveView(app, win, *VIEW)
    res = {"cases": {}}
    W, H = VIEW
    res["cases"]["one"] = _case(app, lv, out, "one", [flat(W, H, A)], labels=["take A"])
    # 4:3 picture in a 16:9 pane: bars left and right; and a frame twice the pane size (scaled down).
    res["cases"]["letterbox"] = _case(app, lv, out, "letterbox", [flat(720, 540, B)])
    big = flat(2 * W, 2 * H, C)
    big[:, W:] = (*D, 255)                         # right half yellow: scaling must keep halves
    res["cases"]["big"] = _case(app, lv, out, "big", [big])
    sizes2 = lv.pane_sizes(2, "side")
    res["sizes2"] = sizes2
    res["cases"]["two"] = _case(app, lv, out, "two", [flat(*sizes2[0], A), flat(*sizes2[1], B)], layout="side",
                                labels=["left", "right"])
    sizes4 = lv.pane_sizes(4, "grid")
    res["sizes4"] = sizes4
    four = [flat(*s, c) for s, c in zip(sizes4, (A, B, C, D))]
    res["cases"]["four"] = _case(app, lv, out, "four", four, layout="grid", labels=["a", "b", "c", "d"])
    # A None frame keeps the last picture; an error replaces it with red text.
    res["cases"]["four_err"] = _case(app, lv, out, "four_err", [None, four[1], four[2], four[3]], layout="grid",
                                     errors=[None, "take b.mp4 cannot be decoded: invalid data found "
                                             "when processing input (re-render or replace the take)", None, None])
    a, b = flat(W, H, A), flat(W, H, B)
    res["cases"]["wipe"] = _case(app, lv, out, "wipe", [a, b], mode="wipe", param=0.25, labels=["A", "B"])
    res["cases"]["difference"] = _case(app, lv, out, "difference", [a, b], mode="difference", param=1.0)
    res["cases"]["difference4"] = _case(app, lv, out, "difference4", [a, b], mode="difference", param=4.0)
    res["cases"]["blend"] = _case(app, lv, out, "blend", [a, b], mode="blend", param=0.5)
    res["cases"]["blend0"] = _case(app, lv, out, "blend0", [a, b], mode="blend", param=0.0)
    # Unchanged frames are not written again.
    before = dict(lv.stats)
    for _ in range(5):
        lv.show([a, b], mode="blend", param=0.0)
        app.settle(1)
    res["writes_unchanged"] = lv.stats["writes"] - before["writes"]
    res["backend"] = lv.backend
    res["gl_failure"] = lv.gl_failure
    res["errors"] = app.errors
    lv.destroy()
    app.settle(2)
    app.shutdown()
    return res


@scenario
def live_view_bench(project, out, args):
    """Per-frame cost of a playing LiveView (new frame objects every frame): 1 pane 1920x1080 frames
    in a 1280x720 pane, and 4 panes of 640x360; median ms of show() + rendered frame, against an
    idle frame of the same window."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.live_view import LiveView
    app = start_app(None, welcome_if_none=False, width=1400, height=860)
    with dpg.window(label="live", pos=(10, 10), width=1300, height=760, no_scrollbar=True) as win:
        pass
    app.settle(1)
    lv = LiveView(app, win, 1280, 720)
    rng = np.random.default_rng(0)
    res = {}

    def run(name, make, n=30, **kw):
        pool = [make() for _ in range(4)]
        times, shows = [], []
        for i in range(n + 5):
            frames = [f.copy() for f in pool[i % 4]] if i < 5 else [np.array(f) for f in pool[i % 4]]
            t0 = time.perf_counter()
            lv.show(frames, **kw)
            t1 = time.perf_counter()
            dpg.render_dearpygui_frame()
            t2 = time.perf_counter()
            if i >= 5:
                shows.append(t1 - t0)
                times.append(t2 - t0)
        res[name] = {"show_ms": float(np.median(shows) * 1000), "frame_ms": float(np.median(times) * 1000)}

    def idle(n=20):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            dpg.render_dearpygui_frame()
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts) * 1000)

    res["idle_empty_ms"] = idle()
    run("one_1080_to_720", lambda: [rng.integers(0, 256, (1080, 1920, 4), dtype=np.uint8)])
    res["idle_one_ms"] = idle()
    run("one_720", lambda: [rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)])
    sizes = lv.pane_sizes(4, "grid")
    run("four_grid", lambda: [rng.integers(0, 256, (h, w, 4), dtype=np.uint8) for w, h in sizes], layout="grid")
    res["idle_four_ms"] = idle()
    res["pane_sizes4"] = sizes
    a = rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)
    run("wipe_720", lambda: [a.copy(), rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)], mode="wipe")
    run("difference_720", lambda: [a.copy(), rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)],
        mode="difference", param=4.0)
    run("blend_720", lambda: [a.copy(), rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)], mode="blend")
    res["backend"] = lv.backend
    res["gl_failure"] = lv.gl_failure
    res["errors"] = app.errors
    lv.destroy()
    app.shutdown()
    return res
