"""Player scenarios (issue 7): real keys through X, frame numbers read from the screenshot pixels.

Each returns facts as JSON; tests/ui/test_player.py asserts on them and on the screenshots. The
frame on screen is read from the pane crop of a screenshot with demo.numbered.read_frame_number,
never from the player's state (state is only used to wait until a frame has arrived)."""
from __future__ import annotations

import time

from tests.ui.scenarios import click, item_center, move_mouse, press, scenario, shot, start_app


def _open(app, take_id):
    from aimms_fast.ui.review import dispatch
    dispatch(app, "play", take_id=take_id)
    app.settle(2)
    p = app.windows[-1]
    assert p.key_context == "player", p
    return p


def _screen_number(app, p, out, name) -> dict:
    """Screenshot, crop the picture, read the number in its pixels."""
    import numpy as np
    from PIL import Image
    from aimms_fast.demo.numbered import read_frame_number
    path = shot(app, out, name)
    img = np.asarray(Image.open(path).convert("RGB"))
    x0, y0, x1, y1 = (int(round(v)) for v in p.view.pane_rect(0))
    try:
        n = read_frame_number(img[y0:y1, x0:x1])
    except ValueError as e:
        n = f"unreadable: {e}"
    return {"shot": path, "number": n, "state": p.transport.index, "pane": [x0, y0, x1, y1]}


def _wait_exact(app, p, index=None, timeout=8.0) -> bool:
    return app.wait_until(lambda: p.shown_kind == "exact" and p.shown_index == (
        p.transport.index if index is None else index), timeout=timeout)


@scenario
def player_steps(project, out, args):
    """Open a numbered clip (GOP 24); Right/Left (held too), Shift+Right, Home/End, L..K, J..K."""
    from tests.ui.xinput import XInput
    app = start_app(project)
    t0 = time.perf_counter()
    p = _open(app, args["take"])
    ok = _wait_exact(app, p, 0)
    res = {"backend": p.view.backend, "steps": [], "open_to_first_frame_ms": (time.perf_counter() - t0) * 1000}
    res["first_ready"] = ok
    res["open"] = _screen_number(app, p, out, "open")
    res["focused"] = p.focused()
    xi = XInput()
    for keys, name in ((["Right"], "right1"), (["Right"], "right2"), (["Right"], "right3"),
                       (["Left"], "left1"), (["Shift_L", "Right"], "shift_right"),
                       (["Right"], "right_after_second"), (["End"], "end"), (["Left"], "end_left"),
                       (["Home"], "home")):
        press(xi, app, *keys)
        _wait_exact(app, p)
        r = _screen_number(app, p, out, name)
        r["keys"] = keys
        res["steps"].append(r)
    # Held Right: X key repeat is off under Xvfb's XTest, Dear PyGui repeats a held key itself.
    xi.key("Right", True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.2:
        app.iterate(pace=True)
    xi.key("Right", False)
    app.settle(2)
    _wait_exact(app, p)
    res["held"] = _screen_number(app, p, out, "held_right")
    # L plays at 1x from here; K stops. Bounds from the wall clock around the two key presses.
    press(xi, app, "Home")
    _wait_exact(app, p, 0)
    start = p.transport.index
    t_before_l = time.monotonic()
    press(xi, app, "l")
    t_after_l = time.monotonic()
    while time.monotonic() - t_after_l < 0.8:
        app.iterate(pace=True)
    res["rate_while_playing"] = p.transport.rate
    res["playing_shot"] = shot(app, out, "playing")
    t_before_k = time.monotonic()
    press(xi, app, "k")
    t_after_k = time.monotonic()
    _wait_exact(app, p)
    res["lk"] = _screen_number(app, p, out, "after_lk")
    res["lk"].update(start=start, fps=p.stream.info.fps, min_s=t_before_k - t_after_l,
                     max_s=t_after_k - t_before_l, rate_after_k=p.transport.rate)
    # J from here plays backwards at 1x.
    start = p.transport.index
    t_before_j = time.monotonic()
    press(xi, app, "j")
    t_after_j = time.monotonic()
    while time.monotonic() - t_after_j < 0.5:
        app.iterate(pace=True)
    res["rate_reverse"] = p.transport.rate
    t_before_k = time.monotonic()
    press(xi, app, "k")
    t_after_k = time.monotonic()
    _wait_exact(app, p)
    res["jk"] = _screen_number(app, p, out, "after_jk")
    res["jk"].update(start=start, min_s=t_before_k - t_after_j, max_s=t_after_k - t_before_j)
    import dearpygui.dearpygui as dpg
    res["status"] = dpg.get_value(p.status)
    res["dropped"] = p.transport.dropped
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def player_broken(project, out, args):
    """An undecodable take shows its error in the pane; the app goes on rendering and playing."""
    import numpy as np
    from PIL import Image
    app = start_app(project)
    bad = _open(app, args["broken"])
    app.settle(4)
    res = {"error": bad.error, "kind": bad.shown_kind}
    path = shot(app, out, "broken")
    res["shot"] = path
    res["pane"] = list(bad.view.pane_rect(0))
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    x0, y0, x1, y1 = (int(v) for v in res["pane"])
    crop = img[y0:y1, x0:x1]
    res["red_text_pixels"] = int(np.sum((crop[..., 0] > 200) & (crop[..., 1] < 140) & (crop[..., 2] < 140)))
    frames = app.frames
    for k in ("Right", "l", "Space", "Home"):      # transport keys on a broken take do nothing harmful
        app.handle_key(k)
    app.settle(10)
    res["frames_rendered"] = app.frames - frames
    good = _open(app, args["good"])
    res["good_ready"] = _wait_exact(app, good, 0)
    good.on_action("step:+1")
    res["good_step"] = _wait_exact(app, good, 1)
    res["good"] = _screen_number(app, good, out, "good_after_broken")
    img = _open(app, args["bad_image"])
    app.settle(3)
    res["bad_image_error"], res["bad_image_kind"] = img.error, img.shown_kind
    shot(app, out, "bad_image")
    snd = _open(app, args["sound"])
    _wait_exact(app, snd, 0)
    res["sound_has_audio"] = snd.stream.info.has_audio
    snd.on_action("play")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.6:
        app.iterate(pace=True)
    res["sound_status"] = __import__("dearpygui.dearpygui", fromlist=["x"]).get_value(snd.status)
    snd.on_action("mute")
    app.settle(2)
    res["sound_status_muted"] = __import__("dearpygui.dearpygui", fromlist=["x"]).get_value(snd.status)
    snd.on_action("pause")
    res["sound_played_to"] = snd.transport.index
    res["audio_out"] = None if snd.audio is None else {"available": snd.audio.available, "reason": snd.audio.reason}
    shot(app, out, "sound")
    res["broken_still_open"] = bad.alive
    res["windows"] = len([w for w in app.windows if w.alive and w.key_context == "player"])
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def player_star_promote(project, out, args):
    """S stars the take in the database (and the Videos storyboard card at once); F promotes the
    frame shown to a new image take; '.' goes to the next take of the shot."""
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    app.settle(3)
    p = _open(app, args["take"])
    _wait_exact(app, p, 0)
    xi = XInput()
    press(xi, app, "s")
    conn = app.project.conn
    res = {"starred_db": conn.execute("SELECT starred FROM takes WHERE take_id=?", (args["take"],)).fetchone()[0]}
    g = app.pages["videos"].grid
    res["card_starred"] = [c.starred for c in g.cards if c.key == p.take.shot_id]
    res["status_after_star"] = __import__("dearpygui.dearpygui", fromlist=["x"]).get_value(p.status)
    # The mouse reaches the same actions: +1s, then 19 frames back with -1s and five >.
    click(xi, app, *item_center(p.b["second:+1"]))
    res["after_click_plus_second"] = p.transport.index
    click(xi, app, *item_center(p.b["second:-1"]))
    for _ in range(5):
        click(xi, app, *item_center(p.b["step:+1"]))
    _wait_exact(app, p, 5)
    res["after_clicks"] = _screen_number(app, p, out, "after_clicks")
    p.focus()
    app.settle(2)
    # F held for 0.7 s (Dear PyGui repeats a held key after 0.275 s, then every 0.05 s): one promote.
    xi.key("f", True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.7:
        app.iterate(pace=True)
    xi.key("f", False)
    app.wait_until(lambda: app.jobs_running == 0, timeout=15)   # promote runs as a background job
    app.settle(3)
    res["focused_after_promote"] = p.focused()
    # Scrub: press on the filmstrip bar at frame 36, drag to 24, let go; the exact frame follows.
    import dearpygui.dearpygui as dpg
    sx0, sy0 = dpg.get_item_rect_min(p.scrub)
    sx1, sy1 = dpg.get_item_rect_max(p.scrub)
    kinds = []
    slot = (sx1 - sx0) / p.stream.info.frame_count     # the middle of frame k's slot: no rounding doubt
    move_mouse(xi, app, sx0 + 36.5 * slot, (sy0 + sy1) / 2)
    xi.button(True, 1)
    for _ in range(3):
        app.iterate(pace=False)
        kinds.append([p.transport.index, p.shown_kind, p.shown_index, dpg.is_item_active(p.scrub),
                      dpg.get_mouse_pos(local=False)])
    move_mouse(xi, app, sx0 + 24.5 * slot, (sy0 + sy1) / 2, frames=1)
    app.wait_until(lambda: p.transport.index != 36, timeout=3)   # the motion reaches GLFW a frame or two later
    kinds.append([p.transport.index, p.shown_kind, p.shown_index, dpg.is_item_active(p.scrub),
                  dpg.get_mouse_pos(local=False)])
    res["scrub_during"] = shot(app, out, "scrubbing")
    xi.button(False, 1)
    _wait_exact(app, p)
    res["scrub_kinds"] = kinds
    res["scrub"] = _screen_number(app, p, out, "scrubbed")
    res["scrub_width"] = sx1 - sx0
    # Resize the window: the pane follows, the frame is decoded at the new size and reads the same.
    dpg.configure_item(p.win, width=760, height=520)
    app.settle(4)
    _wait_exact(app, p)
    res["resized"] = _screen_number(app, p, out, "resized")
    res["pane_size_after_resize"] = list(p._pane_size())
    res["stream_size_after_resize"] = list(p.stream.size)
    press(xi, app, "Right")
    _wait_exact(app, p)
    res["resized_step"] = _screen_number(app, p, out, "resized_step")
    rows = conn.execute("SELECT t.take_id, t.file_path, t.shot_id FROM takes t WHERE t.take_type='base_image' "
                        "ORDER BY t.created_date").fetchall()
    res["images_after_promote"] = [list(r) for r in rows]
    res["promoted_shot"] = shot(app, out, "promoted")
    press(xi, app, "period")
    app.settle(3)
    res["after_next_take"] = p.take.take_id
    _wait_exact(app, p, 0)
    res["next_take_screen"] = _screen_number(app, p, out, "next_take")
    press(xi, app, "comma")
    res["after_prev_take"] = p.take.take_id
    press(xi, app, "c")
    cmp = [w for w in app.windows if w.alive and w.key_context == "compare"]
    res["compare_takes"] = list(cmp[0].take_ids) if cmp else None
    res["player_focused_after_c"] = p.focused()
    p.focus()
    app.settle(2)
    press(xi, app, "Escape")
    res["closed"] = not p.alive
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def player_image(project, out, args):
    """An image take: fit, Ctrl+1 (100 %: the file's own pixels), wheel zoom under the mouse, drag
    to pan, Ctrl+0 back to fit, ',' / '.' between the shot's image takes."""
    from tests.ui.xinput import XInput
    app = start_app(project)
    p = _open(app, args["image"])
    app.settle(4)
    xi = XInput()
    res = {"kind": p.shown_kind, "size": [p.image.width, p.image.height]}
    res["pane"] = list(p.view.pane_rect(0))
    res["fit_zoom"] = p.image.zoom_text(p._pane_size())
    res["fit"] = shot(app, out, "image_fit")
    press(xi, app, "Control_L", "1")
    app.settle(3)
    res["zoom_100"] = p.image.zoom_text(p._pane_size())
    res["center_100"] = list(p.image.center)
    res["actual"] = shot(app, out, "image_100")
    x0, y0, x1, y1 = p.view.pane_rect(0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    move_mouse(xi, app, cx, cy)
    xi.button(True, 4)            # wheel up: one notch
    app.settle(1)
    xi.button(False, 4)
    app.settle(4)
    res["zoom_wheel"] = p.image.zoom_text(p._pane_size())
    res["wheel"] = shot(app, out, "image_wheel")
    # Drag 60 px right: the picture follows the mouse (centre moves left by 60 / scale).
    before = list(p.image.center)
    xi.button(True, 1)
    app.settle(2)
    for k in range(1, 7):
        move_mouse(xi, app, cx + 10 * k, cy, frames=2)
    xi.button(False, 1)
    app.settle(3)
    res["center_before_drag"] = before
    res["center_after_drag"] = list(p.image.center)
    res["scale_drag"] = p.image.state(p._pane_size()).scale
    res["window_pos_after_drag"] = __import__("dearpygui.dearpygui", fromlist=["x"]).get_item_pos(p.win)
    res["dragged"] = shot(app, out, "image_dragged")
    press(xi, app, "Control_L", "0")
    res["zoom_fit_again"] = p.image.zoom_text(p._pane_size())
    press(xi, app, "period")
    app.settle(3)
    res["next_take"] = p.take.take_id
    res["next_kind"] = p.shown_kind
    res["next"] = shot(app, out, "image_next")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def player_two(project, out, args):
    """Two players: keys go to the one clicked or focused last, never to the other; in that one
    I / O / P / Space loop between in and out, Alt+I / Alt+O clear them."""
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    app = start_app(project)
    a = _open(app, args["take"])
    b = _open(app, args["take2"])
    dpg.configure_item(b.win, pos=(640, 440), width=740, height=440)
    app.settle(4)
    _wait_exact(app, a, 0)
    _wait_exact(app, b, 0)
    xi = XInput()
    click(xi, app, *item_center(b.b["step:+1"]))          # B: frame 1, focus item = B's button
    ax0, ay0 = dpg.get_item_pos(a.win)
    click(xi, app, ax0 + 60, ay0 + 8)                       # A's title bar: A has the keyboard now
    res = {"a_focused": a.focused(), "b_focused": b.focused()}
    click(xi, app, *item_center(b.b["step:-1"]))            # B again (frame 0), by its button
    a.focus()                                               # ... and A focused by the program (as
    app.settle(3)                                           # compare hands the keyboard back)
    res["a_focused_2"], res["b_focused_2"] = a.focused(), b.focused()
    press(xi, app, "Right")
    press(xi, app, "Right")
    _wait_exact(app, a, 2)
    res["a"], res["b"] = a.transport.index, b.transport.index
    res["shot"] = shot(app, out, "two_players")
    res["a_screen"] = _screen_number(app, a, out, "two_a")["number"]
    # In at 2, out at 5, loop, play: the playhead stays inside; Alt+I / Alt+O clear them.
    press(xi, app, "Home")
    for k in (["Right"], ["Right"], ["i"], ["Right"], ["Right"], ["Right"], ["o"], ["p"], ["space"]):
        press(xi, app, *k)
    seen = set()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.8:
        app.iterate(pace=True)
        seen.add(a.transport.index)
    press(xi, app, "k")
    res["loop_seen"] = sorted(seen)
    res["loop_status"] = dpg.get_value(a.status)
    press(xi, app, "Alt_L", "i")
    press(xi, app, "Alt_L", "o")
    res["cleared"] = [a.transport.in_index, a.transport.out_index]
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def player_scrub_filmstrip(project, out, args):
    """Scrubbing far into a long GOP: the cached filmstrip frame is on screen at once, the exact
    frame replaces it when decoded."""
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    app = start_app(project)
    p = _open(app, args["take"])
    _wait_exact(app, p, 0)
    res = {"strip_ready": app.wait_until(lambda: app.textures.strip(p.take.rel) is not None, timeout=30)}
    app.settle(2)
    xi = XInput()
    target = args["target"]
    sx0, sy0 = dpg.get_item_rect_min(p.scrub)
    sx1, sy1 = dpg.get_item_rect_max(p.scrub)
    slot = (sx1 - sx0) / p.stream.info.frame_count
    move_mouse(xi, app, sx0 + (target + 0.5) * slot, (sy0 + sy1) / 2)
    xi.button(True, 1)
    app.wait_until(lambda: p.transport.index == target, timeout=3, min_frames=1)
    res["kind_at_once"] = p.shown_kind
    res["at_once"] = _screen_number(app, p, out, "scrub_filmstrip")
    xi.button(False, 1)
    res["exact_arrived"] = _wait_exact(app, p, target, timeout=15)
    res["exact"] = _screen_number(app, p, out, "scrub_exact")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def player_quick(project, out, args):
    """Open, Right, End, J: the frame read from the screen (run with either LiveView backend)."""
    from tests.ui.xinput import XInput
    app = start_app(project)
    p = _open(app, args["take"])
    res = {"backend": p.view.backend, "first": _wait_exact(app, p, 0)}
    xi = XInput()
    got = []
    for keys in (["Right"], ["End"], ["Left"]):
        press(xi, app, *keys)
        _wait_exact(app, p)
        got.append(_screen_number(app, p, out, "quick_" + keys[0].lower())["number"])
    res["numbers"] = got
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res
