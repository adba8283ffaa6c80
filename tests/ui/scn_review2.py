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


def _browser(app):
    from aimms_fast.ui.file_dialog import FileBrowser
    got = [w for w in app.windows if isinstance(w, FileBrowser) and w.alive]
    return got[-1] if got else None


def _save_via_dialogs(app, xi, folder, name: str | None, wrote) -> dict:
    """After a "Save take as…" click: choose `folder` in the browser, then keep the offered name
    (Enter) or type `name`; wait until a new file lands there. Returns what the user saw."""
    import dearpygui.dearpygui as dpg
    from pathlib import Path
    from tests.ui.scenarios import press_dialog_button
    b = _browser(app)
    res = {"browser": b is not None}
    if b is None:
        return res
    b.navigate(Path(folder))
    app.settle(2)
    b.accept()
    app.settle(3)
    win = app.dialogs.open[-1]
    inputs = [c for c in dpg.get_item_children(win, 1) if dpg.get_item_type(c).endswith("mvInputText")]
    res["offered"] = dpg.get_value(inputs[0]) if inputs else None
    before = set(Path(folder).iterdir())
    if name is None:
        app.wait_until(lambda: dpg.is_item_active(inputs[0]), timeout=3)   # the prompt has the keyboard
        press(xi, app, "Return")
    else:
        dpg.set_value(inputs[0], name)
        press_dialog_button(app, "Save")
    app.wait_until(lambda: set(Path(folder).iterdir()) - before and not app.dialogs.any_open, timeout=10)
    app.settle(3)
    new = sorted(set(Path(folder).iterdir()) - before)
    res["new_files"] = [p.name for p in new]
    res["toast"] = dpg.get_value(app._toast)
    res["png"] = shot(app, wrote, f"save_as_{len(new) and new[0].stem}")
    return res


@scenario
def review2_save_as(project, out, args):
    """"Save take as…" from the player (offered shotname_filename, then a typed name) and from the
    shot window's take details (the same name again: numbered, never replaced). Real clicks."""
    import os
    os.environ["AIMMS_FILE_DIALOG"] = "builtin"
    from tests.ui.scenarios import click, item_center
    from tests.ui.xinput import XInput
    app = start_app(project)
    xi = XInput()
    p = _open_player(app, args["take"])
    _exact(app, p, 0)
    res = {}
    click(xi, app, *item_center(p.b["save_as"]))
    res["player_default"] = _save_via_dialogs(app, xi, args["dest"], None, out)
    p.focus()
    app.settle(2)
    click(xi, app, *item_center(p.b["save_as"]))
    res["player_custom"] = _save_via_dialogs(app, xi, args["dest"], "hero shot", out)
    p.close()
    app.settle(2)
    w = app.open_shot(args["shot_id"], "video")
    app.settle(3)
    w.select_take(args["take"])
    app.settle(2)
    click(xi, app, *item_center(w.b_save_as))
    res["shot_window"] = _save_via_dialogs(app, xi, args["dest"], None, out)
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def review2_trim(project, out, args):
    """A take with an editor's trim opens on its in point with in/out set (loop off) and brackets
    on the scrub bar; Space plays to the out point and stops there; '.' to an untrimmed take
    clears them."""
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    app = start_app(project)
    xi = XInput()
    p = _open_player(app, args["take"])
    tr = p.transport
    _exact(app, p, tr.index)
    app.settle(3)
    x0, y0 = dpg.get_item_rect_min(p.scrub)
    x1, y1 = dpg.get_item_rect_max(p.scrub)
    res = {"open": {"screen": _number_in(app, out, "trim_open", p.view.pane_rect(0)), "index": tr.index,
                    "in": tr.in_index, "out": tr.out_index, "loop": tr.loop, "status": dpg.get_value(p.status),
                    "scrub": [x0, y0, x1, y1], "frames": p.stream.info.frame_count}}
    press(xi, app, "space")
    app.wait_until(lambda: not tr.rate, timeout=5, min_frames=5)
    _exact(app, p, tr.index)
    res["played"] = {"screen": _number_in(app, out, "trim_played", p.view.pane_rect(0)), "index": tr.index}
    press(xi, app, "period")
    app.settle(3)
    _exact(app, p, p.transport.index)
    res["next"] = {"take": p.take.take_id, "in": p.transport.in_index, "out": p.transport.out_index,
                   "status": dpg.get_value(p.status), "screen": _number_in(app, out, "trim_next", p.view.pane_rect(0))}
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res
