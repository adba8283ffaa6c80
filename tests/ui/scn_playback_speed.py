"""Scenarios for the playback speed work (issue 7): the warm-up after a project opens, GL pane
textures reused across players (no stale picture), letterbox bars, the main window painted by the
clear colour. Frame numbers are read from screenshot pixels."""
from __future__ import annotations

from tests.ui.scenarios import scenario, shot, start_app
from tests.ui.scn_player import _open, _screen_number, _wait_exact


@scenario
def playback_pool_and_warmup(project, out, args):
    import numpy as np
    from PIL import Image
    from aimms_fast.ui import theme as T
    from aimms_fast.ui.live_gl import BG, _GL
    app = start_app(project, width=1600, height=960)
    res = {"warmed": app.wait_until(lambda: app._warmup is None, timeout=20)}
    res["verified"] = _GL.verified
    res["pool_after_warmup"] = [(t.w, t.h) for t in _GL.pool]
    p = _open(app, args["take"])
    res["first_ready"] = _wait_exact(app, p, 0)
    res["first"] = _screen_number(app, p, out, "first_open")
    res["first_textures_made"] = p.view.stats["textures"]
    res["reused_after_first"] = _GL.stats["reused"]
    for _ in range(5):
        app.handle_key("Right")
        _wait_exact(app, p)
    res["stepped"] = _screen_number(app, p, out, "stepped")
    p.close()
    app.settle(2)
    res["pool_after_close"] = len(_GL.pool)
    # The second player takes the texture that still holds frame 5 of the first: it must show its
    # own frame 0, not that.
    p2 = _open(app, args["take2"])
    res["second_ready"] = _wait_exact(app, p2, 0)
    res["second"] = _screen_number(app, p2, out, "second_open")
    res["second_textures_made"] = p2.view.stats["textures"]
    res["reused_after_second"] = _GL.stats["reused"]
    # narrower than 16:9: bars above and below the picture
    import dearpygui.dearpygui as dpg
    dpg.configure_item(p2.win, width=800)
    app.settle(4)
    _wait_exact(app, p2)
    res["narrow"] = _screen_number(app, p2, out, "narrow")
    img = np.asarray(Image.open(res["narrow"]["shot"]).convert("RGB")).astype(int)
    x0, y0, x1, y1 = (int(round(v)) for v in p2.view.pane_rect(0))
    px0, py0, px1, py1 = (int(round(v)) for v in p2.view.picture_rect(0))
    res["pane"], res["picture"] = [x0, y0, x1, y1], [px0, py0, px1, py1]
    # a letterbox bar (left of the picture when the clip is narrower than the pane, else above it)
    bar = img[y0 + 4:y1 - 4, x0 + 2:px0 - 2] if px0 - x0 > 6 else img[y0 + 2:py0 - 2, x0 + 4:x1 - 4]
    res["bar_mean"] = bar.reshape(-1, 3).mean(axis=0).tolist() if bar.size else None
    res["bar_expected"] = list(BG)
    # the main window's background (right of the player, below the page's toolbar, no card or
    # window there): the clear colour
    corner = img[700:900, 1100:1500]
    res["corner"] = corner.reshape(-1, 3).mean(axis=0).tolist()
    res["window_bg"] = list(T.PALETTES[app.prefs.theme]["window_bg"][:3])
    res["errors"] = app.errors
    p2.close()
    app.shutdown()
    return res
