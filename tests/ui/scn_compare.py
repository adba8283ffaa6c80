"""Scenarios for the compare view, the tournament and the cut points (issue 7 items 3–5). Each runs
in its own process (tests/ui/conftest.run_scenario), drives the app with real X key and mouse input
and returns screenshots plus the viewport rectangles of the pictures, so the tests read frame
numbers and colours from the pixels."""
from __future__ import annotations

import time

from tests.ui.scenarios import click, move_mouse, press, scenario, shot, start_app


def _settle_view(app, w, timeout: float = 10.0) -> bool:
    """Until every pane shows its exact frame, then two frames more to put it on screen."""
    ok = app.wait_until(lambda: w.settled(), timeout=timeout)
    app.settle(2)
    return ok


def _capture(app, w, out, name: str, *, xi=None) -> dict:
    if xi is not None:           # the pointer off the picture: no hover tooltip in the screenshot
        move_mouse(xi, app, 3, 880)
    png = shot(app, out, name)
    return {"png": png, "index": w.transport.index, "indices": w.panes.indices(),
            "pictures": [[k, list(r)] for k, r in w.picture_rects()],
            "panes": [[k, list(r)] for k, r in w.view_rects()]}


def _play_for(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.iterate()


@scenario
def compare_frames(project, out, args):
    """Three takes compared: real keys step, jump, play/pause and shuttle; after each the panes
    are captured (the test reads the frame number of each from the pixels). Adding a fifth take
    to a full view is refused."""
    from aimms_fast.ui.compare import add_to_compare
    from tests.ui.xinput import XInput
    app = start_app(project, width=1200, height=800)
    ids = args["take_ids"]
    w = None
    for t in ids[:3]:
        w = add_to_compare(app, t)
        app.settle(2)
    res = {"after_add": w.take_ids, "same_window": len([x for x in app.windows if x is w]) == 1,
           "layout": w.layout, "focused_while_adding": w.focused(), "backend": w.live.backend, "steps": []}
    add_to_compare(app, ids[0])          # C on a take already there: go to the compare view
    app.settle(3)
    res["focused"] = w.focused()
    xi = XInput()
    _settle_view(app, w)
    res["steps"].append(["open", _capture(app, w, out, "cmp_open", xi=xi)])
    for name, chord in [("right3", ["Right", "Right", "Right"]), ("shift_right", ["Shift_L", "Right"]),
                        ("end", ["End"]), ("left", ["Left"]), ("shift_left", ["Shift_L", "Left"]),
                        ("home", ["Home"])]:
        if name == "right3":
            for _ in range(3):
                press(xi, app, "Right")
        else:
            press(xi, app, *chord)
        res["steps"].append([name, {"settled": _settle_view(app, w), **_capture(app, w, out, f"cmp_{name}", xi=xi)}])
    press(xi, app, "space")
    res["playing_after_space"] = w.transport.rate
    _play_for(app, 0.6)
    press(xi, app, "space")
    res["steps"].append(["play_pause", {"settled": _settle_view(app, w), **_capture(app, w, out, "cmp_play_pause", xi=xi)}])
    press(xi, app, "l")
    press(xi, app, "l")
    res["rate_after_ll"] = w.transport.rate
    _play_for(app, 0.3)
    press(xi, app, "k")
    res["rate_after_k"] = w.transport.rate
    res["steps"].append(["shuttle", {"settled": _settle_view(app, w), **_capture(app, w, out, "cmp_shuttle", xi=xi)}])
    res["dropped"] = w.transport.dropped
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def compare_time_sync(project, out, args):
    """Y switches to time sync: clips of different fps and length show the same fraction of
    their duration; Y again: frame sync."""
    from aimms_fast.ui.compare import open_compare
    from tests.ui.xinput import XInput
    app = start_app(project)
    w = open_compare(app, args["take_ids"])
    app.settle(3)
    xi = XInput()
    press(xi, app, "y")
    res = {"sync": w.transport.sync, "steps": []}
    for name, chord in [("r5", ["Right"] * 5), ("shift_right", ["Shift_L", "Right"]), ("end", ["End"]),
                        ("left", ["Left"])]:
        if name == "r5":
            for _ in range(5):
                press(xi, app, "Right")
        else:
            press(xi, app, *chord)
        res["steps"].append([name, {"settled": _settle_view(app, w), **_capture(app, w, out, f"time_{name}", xi=xi)}])
    press(xi, app, "y")
    res["sync_after"] = w.transport.sync
    _settle_view(app, w)
    res["frame_step"] = _capture(app, w, out, "time_back_to_frame", xi=xi)
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def compare_modes(project, out, args):
    """Two flat-colour takes: wipe (keys, then the divider dragged with the mouse), difference with
    a gain, blend, the A/B toggle (2 shows B alone, 2 again all), S over pane B stars B."""
    from aimms_fast.ui.compare import open_compare
    from tests.ui.xinput import XInput
    app = start_app(project)
    w = open_compare(app, args["take_ids"])
    app.settle(3)
    xi = XInput()
    res = {"backend": w.live.backend}
    _settle_view(app, w)
    res["panes"] = _capture(app, w, out, "modes_panes", xi=xi)
    press(xi, app, "w")
    res["mode_w"] = w.mode
    _settle_view(app, w)
    res["wipe"] = {**_capture(app, w, out, "modes_wipe", xi=xi), "param": w.params["wipe"]}
    # drag the divider to a quarter of the pane with the real mouse
    x0, y0, x1, y1 = w.live.picture_rect(0)
    ym = (y0 + y1) / 2
    move_mouse(xi, app, (x0 + x1) / 2, ym)
    xi.button(True)
    app.settle(2)
    for f in (0.45, 0.35, 0.25):
        move_mouse(xi, app, x0 + f * (x1 - x0), ym, frames=2)
    xi.button(False)
    app.settle(3)
    _settle_view(app, w)
    res["wipe_drag"] = {**_capture(app, w, out, "modes_wipe_dragged", xi=xi), "param": w.params["wipe"]}
    # S with the mouse left of the divider stars A... right of it stars B: use B
    move_mouse(xi, app, x0 + 0.8 * (x1 - x0), ym)
    res["under_mouse_wipe_right"] = w.pane_under_mouse()
    press(xi, app, "d")
    res["mode_d"] = w.mode
    w.set_param(1.0)
    _settle_view(app, w)
    res["difference"] = {**_capture(app, w, out, "modes_difference", xi=xi), "param": w.params["difference"]}
    w.set_param(2.0)
    _settle_view(app, w)
    res["difference2"] = {**_capture(app, w, out, "modes_difference_gain2", xi=xi), "param": w.params["difference"]}
    press(xi, app, "b")
    w.set_param(0.25)
    _settle_view(app, w)
    res["blend"] = {**_capture(app, w, out, "modes_blend", xi=xi), "param": w.params["blend"]}
    press(xi, app, "b")                 # again: back to panes
    res["mode_after_bb"] = w.mode
    press(xi, app, "2")
    res["solo"] = w.solo
    _settle_view(app, w)
    res["solo_b"] = _capture(app, w, out, "modes_solo_b", xi=xi)
    press(xi, app, "2")
    res["solo_again"] = w.solo
    _settle_view(app, w)
    res["all_again"] = _capture(app, w, out, "modes_all_again", xi=xi)
    # S stars the take under the mouse: pane B
    bx0, by0, bx1, by1 = w.live.pane_rect(1)
    move_mouse(xi, app, (bx0 + bx1) / 2, (by0 + by1) / 2)
    res["under_mouse"] = w.pane_under_mouse()
    res["tooltip"] = __import__("dearpygui.dearpygui", fromlist=["x"]).get_value(w.tip_text)
    xi.key("s", True)                   # held 0.7 s: Dear PyGui repeats it; it must star once
    _play_for(app, 0.7)
    xi.key("s", False)
    app.settle(3)
    res["labels_after_star"] = [t.starred for t in w.panes.takes]
    res["star_shot"] = shot(app, out, "modes_starred")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def tournament_keys(project, out, args):
    """Number keys star in the tournament, Tab / Shift+Tab walk the shots with takes; the
    storyboard card follows at once."""
    from aimms_fast.ui.tournament import open_tournament
    from tests.ui.xinput import XInput
    from aimms_fast.ui.tournament import TournamentWindow
    app = start_app(project)
    app.show_page("videos")
    app.settle(3)
    xi = XInput()
    g = app.pages["videos"].grid
    g.select([c.key for c in g.cards].index(args["shot_id"]))
    press(xi, app, "t")                 # T on the storyboard opens the selected shot's tournament
    app.settle(5)
    t = next(w for w in app.windows if isinstance(w, TournamentWindow))
    assert open_tournament(app, args["shot_id"], "video") is t     # one tournament window
    res = {"shot0": t.shot_id, "takes0": [x.take_id for x in t.takes], "playing": t.transport.rate,
           "focused": t.focused(), "steps": []}
    res["grid"] = shot(app, out, "tournament_open")
    res["rects0"] = [[k, list(r)] for k, r in t.view_rects()]
    press(xi, app, "2")
    page = app.pages["videos"]
    card = [c for c in page.grid.cards if c.key == t.shot_id][0]
    res["after_2"] = {"starred_index": t.starred_index, "card_take": card.take_id, "card_starred": card.starred}
    app.settle(3)
    res["starred_shot"] = shot(app, out, "tournament_starred")
    press(xi, app, "Tab")
    res["shot1"] = t.shot_id
    res["takes1"] = [x.take_id for x in t.takes]
    press(xi, app, "1")
    card = [c for c in page.grid.cards if c.key == t.shot_id][0]
    res["after_tab_1"] = {"starred_index": t.starred_index, "card_take": card.take_id, "card_starred": card.starred}
    press(xi, app, "Tab")
    res["shot_after_last_tab"] = t.shot_id
    press(xi, app, "Shift_L", "Tab")
    res["shot_after_shift_tab"] = t.shot_id
    res["starred_back"] = t.starred_index
    app.settle(3)
    res["back_shot"] = shot(app, out, "tournament_back")
    press(xi, app, "9")                 # no take 9: a note, nothing starred
    res["after_9"] = t.starred_index
    t2 = open_tournament(app, args["image_shot_id"], "image")    # the same window, image takes
    app.settle(3)
    press(xi, app, "1")
    res["image"] = {"same_window": t2 is t, "storyboard": t.storyboard, "shot": t.shot_id,
                    "takes": [x.take_id for x in t.takes], "starred_index": t.starred_index}
    res["image_shot"] = shot(app, out, "tournament_images")
    press(xi, app, "Escape")
    res["closed"] = not t.alive
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def cutpoints_pairs(project, out, args):
    """Cut points: the first cut shows N's last and N+1's first frame, Right moves to a gap,
    Left back, Enter opens the pair in compare at those frames."""
    from aimms_fast.ui.cutpoints import open_cutpoints
    from tests.ui.xinput import XInput
    from aimms_fast.ui.cutpoints import CutPointsWindow
    app = start_app(project)
    app.show_page("videos")
    app.settle(3)
    xi = XInput()
    press(xi, app, "x")                 # X on the Videos storyboard
    app.settle(3)
    c = next(w for w in app.windows if isinstance(w, CutPointsWindow))
    assert open_cutpoints(app) is c

    def ready():
        return all(s is None or c.shown[k] == c.indices[k] for k, s in enumerate(c.streams))

    def cap(name):
        app.wait_until(ready, timeout=10)
        app.settle(3)
        return {"png": shot(app, out, name), "indices": list(c.indices), "errors": list(c.errors),
                "pictures": [[k, list(c.live.picture_rect(k))] for k in range(2)],
                "panes": [[k, list(r)] for k, r in c.view_rects()],
                "selected": c.selected, "note": __import__("dearpygui.dearpygui", fromlist=["x"]).get_value(c.t_note)}
    res = {"cuts": len(c.cuts), "focused": c.focused()}
    res["first"] = cap("cutpoints_first")
    press(xi, app, "Right")
    res["second"] = cap("cutpoints_gap")
    press(xi, app, "Right")             # past the last cut: stays
    res["still_second"] = c.selected
    press(xi, app, "Left")
    res["back"] = cap("cutpoints_back")
    press(xi, app, "Return")
    from aimms_fast.ui.compare import CompareWindow
    wins = [w for w in app.windows if isinstance(w, CompareWindow) and w.alive]
    res["compare_open"] = len(wins)
    if wins:
        w = wins[0]
        _settle_view(app, w)
        res["compare"] = {**_capture(app, w, out, "cutpoints_compare", xi=xi), "takes": w.take_ids,
                          "offsets": list(w.panes.offsets)}
        press(xi, app, "Left")
        _settle_view(app, w)
        res["compare_left"] = _capture(app, w, out, "cutpoints_compare_left", xi=xi)
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def compare_images_and_broken(project, out, args):
    """Image takes compare like videos (wipe between two pictures); a take that cannot be decoded
    shows its error in its pane and the rest keeps working; C on the storyboard adds its take."""
    from aimms_fast.ui.compare import CompareWindow, open_compare
    from tests.ui.xinput import XInput
    app = start_app(project)
    xi = XInput()
    w = open_compare(app, args["take_ids"])
    app.settle(3)
    _settle_view(app, w)
    res = {"errors_panes": list(w.panes.errors), "panes": _capture(app, w, out, "images_broken", xi=xi)}
    press(xi, app, "Right")              # transport keys on stills and a broken take: nothing breaks
    press(xi, app, "w")
    _settle_view(app, w)
    res["wipe"] = _capture(app, w, out, "images_wipe", xi=xi)
    press(xi, app, "Escape")
    res["closed"] = not w.alive
    app.show_page("videos")
    app.settle(3)
    g = app.pages["videos"].grid
    g.select(0)
    press(xi, app, "c")
    wins = [x for x in app.windows if isinstance(x, CompareWindow) and x.alive]
    res["c_opened"] = [x.take_ids for x in wins]
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def compare_keyboard_flow(project, out, args):
    """Without the mouse: on the Videos storyboard C adds the selected card's take and the keys stay
    on the storyboard (Right picks the next card, C adds it); C on a take already in the compare
    view goes there, and W / D then drive it."""
    from aimms_fast.ui.compare import CompareWindow, add_to_compare
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    app.settle(3)
    g = app.pages["videos"].grid
    g.select(0)
    xi = XInput()
    press(xi, app, "c")
    w = next(x for x in app.windows if isinstance(x, CompareWindow))
    res = {"after_first_c": w.take_ids, "compare_focused_1": w.focused()}
    press(xi, app, "Right")
    res["storyboard_selected"] = g.selected
    press(xi, app, "c")
    res["after_second_c"] = w.take_ids
    res["compare_focused_2"] = w.focused()
    press(xi, app, "c")                  # this card's take is in compare already: go there
    res["compare_focused_3"] = w.focused()
    # N cycles the layout from side by side (two panes): stacked, 2x2 grid, side again
    layouts = []
    for _ in range(3):
        press(xi, app, "n")
        layouts.append(w.layout)
    res["layouts"] = layouts
    # full: the 3rd and 4th fit, a 5th is refused; Remove takes one out
    ids = args["take_ids"]
    for t in (ids[1], ids[2], ids[4]):
        add_to_compare(app, t)
    app.settle(3)
    res["after_full"] = w.take_ids
    w.remove_pane(3)
    app.settle(2)
    res["after_remove"] = w.take_ids
    w.focus()
    app.settle(3)
    press(xi, app, "w")
    res["mode_w"] = w.mode
    press(xi, app, "d")
    res["mode_d"] = w.mode
    press(xi, app, "Escape")
    res["closed"] = not w.alive
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res
