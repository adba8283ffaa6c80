"""Review polish scenarios (wave 2): the player's look-ahead budget, cut pairs in compare, "Save take
as…", editor trims. Frame numbers are read from screenshot pixels (demo.numbered), state only to
wait until a frame has arrived; tests/ui/test_review2.py asserts on the facts returned."""
from __future__ import annotations

from tests.ui.scenarios import press, scenario, shot, start_app


def _open_player(app, take_id):
    from aimms_fast.ui.review import dispatch
    dispatch(app, "play", take_id=take_id)
    app.settle(2)
    p = app.windows[-1]
    assert p.key_context == "player", p
    return p


def _number_in(app, out, name, rect) -> int | str:
    import numpy as np
    from PIL import Image
    from aimms_fast.demo.numbered import read_frame_number
    img = np.asarray(Image.open(shot(app, out, name)).convert("RGB"))
    x0, y0, x1, y1 = (int(round(v)) for v in rect)
    try:
        return read_frame_number(img[y0:y1, x0:x1])
    except ValueError as e:
        return f"unreadable: {e}"


def _exact(app, p, index, timeout=8.0) -> bool:
    return app.wait_until(lambda: p.shown_kind == "exact" and p.shown_index == index, timeout=timeout)


@scenario
def review2_player_budget(project, out, args):
    """A 720p take in a player: Right x8, let the look-ahead fill, then Left x3 — each step back
    must come from the buffer (no decode, the stream counts a hit)."""
    from tests.ui.xinput import XInput
    from aimms_fast.ui.player import PLAYER_BUDGET
    app = start_app(project)
    p = _open_player(app, args["take"])
    _exact(app, p, 0)
    xi = XInput()
    for i in range(1, 9):
        press(xi, app, "Right")
        _exact(app, p, i)
    p.stream.wait_idle(10)
    app.settle(2)
    w, h = p.stream.size
    res = {"budget": PLAYER_BUDGET, "frame_bytes": w * h * 4, "capacity": p.stream.stats["capacity"],
           "buffered": p.stream.buffered(), "back": []}
    for want in (7, 6, 5):
        ready = want in p.stream.buffered()
        before = dict(p.stream.stats)
        press(xi, app, "Left")
        _exact(app, p, want)
        after = dict(p.stream.stats)
        # The player asks get(i) once per rendered frame for the playhead only: no miss means
        # the frame was there the first time it was asked (what decodes after that is the
        # look-ahead turning backwards, not this step).
        res["back"].append({"want": want, "ready_before": ready, "misses": after["misses"] - before["misses"],
                            "hits": after["hits"] - before["hits"],
                            "screen": _number_in(app, out, f"back{want}", p.view.pane_rect(0))})
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


def _pane_numbers(app, w, out, name) -> dict:
    """Screenshot (pointer off the picture) and the frame number read from each pane's picture."""
    import math
    import numpy as np
    from PIL import Image
    from aimms_fast.demo.numbered import read_frame_number
    png = shot(app, out, name)
    img = np.asarray(Image.open(png).convert("RGB"))
    nums = {}
    for k, (x0, y0, x1, y1) in w.picture_rects():
        crop = img[int(math.ceil(y0)) + 1:int(y1) - 1, int(math.ceil(x0)) + 1:int(x1) - 1]
        try:
            nums[str(k)] = read_frame_number(crop)
        except ValueError as e:
            nums[str(k)] = f"unreadable: {e}"
    return {"png": png, "numbers": nums, "index": w.transport.index, "indices": w.panes.indices()}


@scenario
def review2_cut_pair(project, out, args):
    """A cut pair in compare (N at its last frame, N+1 at its first): Right x3 must move N+1 on
    while N stays on its last frame; End goes to N+1's last; Left from the start pair clamps N+1."""
    from tests.ui.scenarios import move_mouse
    from tests.ui.xinput import XInput
    from aimms_fast.ui.compare import open_compare
    app = start_app(project, width=1200, height=800)
    xi = XInput()
    n_out = args["frames_out"]
    w = open_compare(app, args["take_ids"], start_indices=[n_out - 1, 0])

    def cap(name):
        app.wait_until(lambda: w.settled(), timeout=10)
        app.settle(2)
        move_mouse(xi, app, 3, 780)
        return _pane_numbers(app, w, out, name)

    res = {"open": cap("cut_open"), "frame_count": w.transport.master.frame_count,
           "offsets": list(w.panes.offsets)}
    for _ in range(3):
        press(xi, app, "Right")
    res["right3"] = cap("cut_right3")
    press(xi, app, "End")
    res["end"] = cap("cut_end")
    press(xi, app, "Home")
    res["home"] = cap("cut_home")
    # Back to the cut, then play: N+1 runs on past N's end.
    w.panes.set_start([n_out - 1, 0])
    res["again"] = cap("cut_again")
    press(xi, app, "space")
    app.wait_until(lambda: w.panes.indices()[1] >= 6, timeout=10)
    press(xi, app, "k")
    res["played"] = cap("cut_played")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res
