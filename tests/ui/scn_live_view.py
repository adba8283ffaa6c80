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
    # A window resized a little: the pane follows, the texture is reused (only UVs change).
    made = lv.stats["textures"]
    lv.set_size(W - 60, H - 40)
    res["cases"]["resized"] = _case(app, lv, out, "resized", [flat(W - 60, H - 40, D)])
    res["resize_textures_made"] = lv.stats["textures"] - made
    lv.set_size(W, H)
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
    in a 1280x720 pane, 1280x720 frames, 4 panes of 640x360, and the composed modes at 1280x720;
    CPU ms of show() and of show() + a rendered frame, against a frame with nothing new."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.live_view import GAP, LiveView
    app = start_app(None, welcome_if_none=False, width=1400, height=860)
    with dpg.window(label="live", pos=(10, 10), width=1300, height=760, no_scrollbar=True) as win:
        pass
    app.settle(1)
    lv = LiveView(app, win, 1280, 720)
    rng = np.random.default_rng(0)
    res = {}

    def idle(n=20):
        c0 = time.process_time()
        for _ in range(n):
            dpg.render_dearpygui_frame()
        return (time.process_time() - c0) / n * 1000

    def run(name, make, n=30, **kw):
        pool = [make() for _ in range(4)]
        frames = [[np.array(f) for f in pool[i % 4]] for i in range(n + 5)]   # new objects each frame
        show = frame = 0.0
        for i in range(n + 5):
            c0 = time.process_time()
            lv.show(frames[i], **kw)
            c1 = time.process_time()
            dpg.render_dearpygui_frame()
            c2 = time.process_time()
            if i >= 5:                                      # the first frames make the textures
                show += c1 - c0
                frame += c2 - c0
        # CPU time of the process (all threads, llvmpipe's included): the machine is shared, so
        # wall time mostly measures the neighbours.
        res[name] = {"show_cpu_ms": round(show / n * 1000, 2), "frame_cpu_ms": round(frame / n * 1000, 2),
                     "still_cpu_ms": round(idle(), 2)}      # same picture again, nothing new to show

    res["empty_cpu_ms"] = round(idle(), 2)
    # dragging the window's corner: the pane changes size every frame, the frame is the old size
    f = rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)
    c0, made = time.process_time(), lv.stats["textures"]
    for i in range(40):
        lv.set_size(1280 - 3 * i, 720 - 2 * i)
        lv.show([f])
        dpg.render_dearpygui_frame()
    res["resize_drag"] = {"frame_cpu_ms": round((time.process_time() - c0) / 40 * 1000, 2),
                          "textures_made": lv.stats["textures"] - made}
    lv.set_size(1280, 720)
    run("one_1080_in_720", lambda: [rng.integers(0, 256, (1080, 1920, 4), dtype=np.uint8)])
    run("one_720", lambda: [rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)])
    lv.set_size(1280 + GAP, 720 + GAP)                       # 2x2 grid panes of exactly 640x360
    sizes = lv.pane_sizes(4, "grid")
    run("four_grid_640", lambda: [rng.integers(0, 256, (360, 640, 4), dtype=np.uint8) for _ in sizes],
        layout="grid")
    res["pane_sizes4"] = sizes
    lv.set_size(1280, 720)
    a = rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)
    for mode, param in (("wipe", 0.5), ("difference", 4.0), ("blend", 0.5)):
        run(f"{mode}_720", lambda: [a, rng.integers(0, 256, (720, 1280, 4), dtype=np.uint8)], mode=mode, param=param)
    res["backend"] = lv.backend
    res["gl_failure"] = lv.gl_failure
    res["errors"] = app.errors
    lv.destroy()
    app.shutdown()
    return res


@scenario
def live_view_fallback(project, out, args):
    """The GL backend cannot find its textures' GL names (as on a driver where the lookup fails):
    after a few frames the view switches to numpy and still shows the right pictures."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui import live_view
    from aimms_fast.ui.live_view import LiveView
    live_view._GL.find = lambda pending: None         # no GL name is ever found
    app = start_app(None, welcome_if_none=False)
    with dpg.window(label="live", pos=(20, 30), width=VIEW[0] + 40, height=VIEW[1] + 60, no_scrollbar=True) as win:
        pass
    app.settle(1)
    lv = LiveView(app, win, *VIEW)
    res = {"backend_at_start": lv.backend}
    sizes = lv.pane_sizes(2, "side")
    frames = [flat(*sizes[0], A), flat(*sizes[1], B)]
    for _ in range(6):
        lv.show(frames, layout="side")
        app.settle(1)
    res["two"] = {"shot": shot(app, out, "two"), "panes": [list(lv.pane_rect(k)) for k in range(2)]}
    res["backend"] = lv.backend
    res["gl_failure"] = lv.gl_failure
    a, b = flat(*VIEW, A), flat(*VIEW, B)
    res["wipe"] = _case(app, lv, out, "wipe", [a, b], mode="wipe", param=0.5)
    res["errors"] = app.errors
    lv.destroy()
    app.settle(2)
    app.shutdown()
    return res
