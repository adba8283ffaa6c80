"""Scenarios for the app shell (issue 13): keys follow focus, undo/redo from the keyboard and the
Edit menu, jobs on their own connection that only their Cancel button can stop, callbacks that
cannot end the app, the status bar and Help. Run one per process by tests/ui/test_shell.py."""
from __future__ import annotations

import time
from pathlib import Path

from tests.ui.scenarios import (click, item_center, move_mouse, press, scenario, shot, start_app,
                                wait_tiles)


def card_center(grid, i):
    x0, y0, x1, y1 = grid.poster_rect(i)
    return (x0 + x1) / 2, (y0 + y1) / 2


def video_stars(app, shot_id: int) -> list[int]:
    """`starred` of each video take of a shot in take-number order, read from the database."""
    from aimms_fast.store.takes import takes_for_shot
    return [t.starred for t in takes_for_shot(app.project.conn, shot_id, "video")]


def all_video_stars(app) -> dict[str, int]:
    return {f"{r[0]}": r[1] for r in app.project.conn.execute(
        "SELECT take_id, starred FROM takes WHERE take_type = 'final_video' ORDER BY take_id")}


@scenario
def keys_follow_focus(project, out, args):
    """The issue's defect, with real mouse and keys: Videos page, click card 12, Enter, click
    Take 03 in the shot window, Right, S. Then the same keys with the shot window open but the
    page focused, with a modal dialog open, and with the window closed."""
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    xi = XInput()
    res = {"stars_before": all_video_stars(app)}
    s12, s13 = g.cards[11].key, g.cards[12].key
    res["shots"] = [s12, s13]
    click(xi, app, *card_center(g, 11))
    res["sb_after_click"] = g.selected
    press(xi, app, "Return")
    w = app.shot_windows.get(s12)
    res["window_opened"] = w is not None and w.alive
    # Leave the page's right-hand cards uncovered (a user drags the window aside) so the page can
    # be clicked while the window stays open.
    dpg.configure_item(w.win, pos=(10, 60), width=1060, height=600)
    app.settle(3)
    wait_tiles(app, w.grid)
    res["win_rect_take3"] = list(w.grid.poster_rect(2))
    res["window_before_click"] = shot(app, out, "window_before_click")
    click(xi, app, *card_center(w.grid, 2))
    res["win_after_click"] = w.grid.selected
    press(xi, app, "Right")
    res["win_after_right"] = w.grid.selected
    res["sb_after_right"] = g.selected
    press(xi, app, "s")
    res["stars_s12_after_s"] = video_stars(app, s12)
    res["stars_s13_after_s"] = video_stars(app, s13)
    res["sb_after_s"] = g.selected
    res["defect_shot"] = shot(app, out, "window_focused")
    press(xi, app, "s")                       # S again on the same take: back to how it was
    res["stars_after_ss"] = all_video_stars(app)

    # Page focused, window still open: a click on a storyboard card outside the window.
    free = next(i for i in range(len(g.cards)) if card_center(g, i)[0] > 1100)
    click(xi, app, *card_center(g, free))
    res["free_card"] = free
    res["win_focused_after_page_click"] = w.focused()
    before_win = w.grid.selected
    press(xi, app, "Right")
    res["sb_after_page_right"] = g.selected
    res["win_unchanged_by_page_keys"] = w.grid.selected == before_win

    # A modal dialog swallows page and window keys; Escape closes the dialog, not the window.
    app.action("about")
    app.settle(3)
    res["dialog_open"] = len(app.dialogs.open)
    sb, ws, stars = g.selected, w.grid.selected, all_video_stars(app)
    press(xi, app, "Right")
    press(xi, app, "s")
    press(xi, app, "Delete")
    res["modal_changed_nothing"] = (g.selected, w.grid.selected, all_video_stars(app)) == (sb, ws, stars)
    res["dialogs_after_modal_keys"] = len(app.dialogs.open)
    press(xi, app, "Escape")
    res["dialogs_after_escape"] = len(app.dialogs.open)
    res["window_alive_after_dialog_escape"] = w.alive

    # Focus the window again by clicking a take, Escape closes it; the page gets keys again.
    click(xi, app, *card_center(w.grid, 0))
    press(xi, app, "Escape")
    res["window_alive_after_escape"] = w.alive
    sb = g.selected
    press(xi, app, "Left")
    res["sb_left_after_close"] = [sb, g.selected]

    # Shots page under a focused shot window: Down and Delete belong to the window.
    press(xi, app, "Control_L", "1")
    app.settle(3)
    res["page"] = app.current_page.name
    shots = app.pages["shots"]
    shots.click(s12)
    w2 = app.open_shot(s13, "video")
    dpg.configure_item(w2.win, pos=(10, 60), width=1060, height=600)
    app.settle(3)
    # The last real click (a take of the first window) was at this same spot: with fast frames it
    # can be under ImGui's 0.3 s double-click time, and a double click opens the player.
    time.sleep(0.4)
    click(xi, app, *card_center(w2.grid, 0))
    sel = sorted(shots.selected)
    press(xi, app, "Down")
    res["shots_sel_unchanged"] = sorted(shots.selected) == sel
    res["w2_after_down"] = w2.grid.selected
    press(xi, app, "Delete")
    res["delete_dialog"] = [dpg.get_item_label(d) for d in app.dialogs.open]
    press(xi, app, "Escape")
    press(xi, app, "Control_L", "3")         # global chords still work with the window focused
    res["page_after_ctrl3"] = app.current_page.name
    res["w2_alive_after_ctrl3"] = w2.alive
    press(xi, app, "Escape")                 # second Escape: closes the window
    res["w2_alive"] = w2.alive
    press(xi, app, "Control_L", "1")
    press(xi, app, "Down")
    res["shots_sel_after_close"] = sorted(shots.selected)
    res["stars_end"] = all_video_stars(app)
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


def find_button(root, label: str):
    """The button labelled `label` under a Dear PyGui item (depth first), else None."""
    import dearpygui.dearpygui as dpg
    for child in dpg.get_item_children(root, 1) or []:
        if dpg.get_item_type(child).endswith("mvButton") and dpg.get_item_label(child) == label:
            return child
        found = find_button(child, label)
        if found:
            return found
    return None


def texts_under(root) -> list[str]:
    import dearpygui.dearpygui as dpg
    out = []
    for slot in (0, 1, 2, 3):
        for child in dpg.get_item_children(root, slot) or []:
            if dpg.get_item_type(child).endswith("mvText"):
                out.append(dpg.get_value(child))
            out += texts_under(child)
    return out


@scenario
def undo_redo_keys(project, out, args):
    """S stars (toast with the undo hint), the Edit menu names what Ctrl+Z undoes, real Ctrl+Z
    and Ctrl+Shift+Z undo and redo it, and with nothing left to undo a quiet status line says so."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.menus import edit_labels
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    xi = XInput()
    res = {"edit_before": list(edit_labels(app)), "stars_before": all_video_stars(app)}
    click(xi, app, *card_center(g, 1))
    press(xi, app, "s")
    res["stars_after_s"] = all_video_stars(app)
    res["toast_after_s"] = dpg.get_value(app._toast)
    res["edit_after_s"] = list(edit_labels(app))
    res["after_s"] = shot(app, out, "after_s")
    # Ctrl+Z while typing in a text field is the field's own undo, not the project's.
    app.show_page("shots")
    app.settle(3)
    click(xi, app, *item_center(app.pages["shots"].search))
    res["typing"] = app._typing()
    press(xi, app, "Control_L", "z")
    res["typing_ctrl_z_kept_star"] = all_video_stars(app) == res["stars_after_s"]
    app.show_page("videos")
    app.settle(3)
    click(xi, app, *card_center(g, 1))
    press(xi, app, "Control_L", "z")
    res["stars_after_undo"] = all_video_stars(app)
    res["toast_after_undo"] = dpg.get_value(app._toast)
    res["edit_after_undo"] = list(edit_labels(app))
    res["card_starred_after_undo"] = g.cards[1].starred
    press(xi, app, "Control_L", "Shift_L", "z")
    res["stars_after_redo"] = all_video_stars(app)
    res["card_starred_after_redo"] = g.cards[1].starred
    press(xi, app, "Control_L", "z")
    res["dialogs_before_nothing"] = len(app.dialogs.open)
    press(xi, app, "Control_L", "z")           # nothing left to undo
    res["status_nothing"] = dpg.get_value(app._status)
    res["dialogs_after_nothing"] = len(app.dialogs.open)
    res["stars_end"] = all_video_stars(app)
    res["nothing_shot"] = shot(app, out, "nothing_to_undo")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def job_isolation(project, out, args):
    """A job that holds its write transaction open on its own connection: Escape, Ctrl+Z, S and
    Ctrl+O during it change nothing; its Cancel button rolls it back; a second run completes."""
    import threading
    import dearpygui.dearpygui as dpg
    from aimms_fast.errors import Cancelled
    from aimms_fast.store.db import transaction
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    xi = XInput()
    res = {}
    click(xi, app, *card_center(g, 0))
    press(xi, app, "s")                        # something Ctrl+Z could undo
    stars = all_video_stars(app)
    res["starred_first"] = g.cards[0].starred
    sid = g.cards[0].key
    desc = lambda: app.project.conn.execute("SELECT description FROM shots WHERE shot_id = ?",
                                            (sid,)).fetchone()[0]
    res["desc_before"] = desc()
    started, release = threading.Event(), threading.Event()
    seen = {}

    def hold(progress, cancel, project):
        seen["own_project"] = project is not app.project and project.conn is not app.project.conn
        seen["thread"] = threading.current_thread().name
        with transaction(project.db):
            project.conn.execute("UPDATE shots SET description = 'changed by the job' WHERE shot_id = ?",
                                 (sid,))
            progress(1, 2)
            started.set()
            while not release.is_set():
                if cancel.is_set():
                    raise Cancelled("the test job was cancelled")
                time.sleep(0.01)
            progress(2, 2)
        return "job done"
    results = []
    job = app.run_job(hold, title="Test job", label="holding a write transaction open",
                      changed=("shots", [sid]), on_done=results.append)
    started.wait(10)
    app.settle(3)
    res["dialog_no_close"] = dpg.get_item_configuration(job.win)["no_close"]
    res["running_shot"] = shot(app, out, "job_running")
    res["ui_reads_while_job_writes"] = desc()          # WAL: the UI still reads, the old value
    press(xi, app, "Escape")
    res["dialog_after_escape"] = dpg.does_item_exist(job.win) and job.win in app.dialogs.open
    press(xi, app, "Control_L", "z")
    res["stars_after_ctrl_z"] = all_video_stars(app) == stars
    res["status_after_ctrl_z"] = dpg.get_value(app._status)
    press(xi, app, "s")
    res["stars_after_s"] = all_video_stars(app) == stars
    press(xi, app, "Control_L", "o")
    res["dialogs_after_ctrl_o"] = len(app.dialogs.open)
    res["refused_op"] = app.run_op(lambda: "ran") is None
    res["still_running"] = not job.done
    x, y = item_center(job.cancel_button)
    click(xi, app, x, y)
    res["cancel_set"] = job.cancel.is_set()
    app.wait_until(lambda: not app.jobs_running, timeout=20)
    app.settle(3)
    res["after_cancel_desc"] = desc()
    res["after_cancel_toast"] = dpg.get_value(app._toast)
    res["after_cancel_status"] = dpg.get_value(app._status)
    res["after_cancel_dialogs"] = len(app.dialogs.open)
    res["cancel_shot"] = shot(app, out, "job_cancelled")
    res["seen"] = dict(seen)
    # The same job left to finish: its change is committed and the UI sees it.
    started.clear()
    job = app.run_job(hold, title="Test job", label="holding a write transaction open",
                      changed=("shots", [sid]), on_done=results.append)
    started.wait(10)
    app.settle(2)
    release.set()
    app.wait_until(lambda: not app.jobs_running, timeout=20)
    app.settle(2)
    res["after_done_desc"] = desc()
    res["results"] = results
    # Now Ctrl+Z works again (the star made before the jobs).
    click(xi, app, *card_center(g, 0))
    press(xi, app, "Control_L", "z")
    res["undo_after_jobs"] = g.cards[0].starred
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def callback_guard(project, out, args):
    """An exception in a button callback, a key handler and a deferred call is logged to the
    project's log and shown; frames keep coming. Open folder without xdg-open or gio says so."""
    import os
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    xi = XInput()
    res = {}
    w = app.open_shot(g.cards[0].key, "video")
    dpg.configure_item(w.win, pos=(10, 60), width=1060, height=600)
    app.settle(3)

    def broken():
        raise RuntimeError("injected failure in Copy prompt")
    w.copy_prompt = broken
    frames = app.frames
    click(xi, app, *item_center(find_button(w.win, "Copy prompt")))
    app.settle(5)
    res["frames_advanced"] = app.frames - frames
    res["alive"] = dpg.is_dearpygui_running()
    res["dialogs"] = [dpg.get_item_label(d) for d in app.dialogs.open]
    res["dialog_texts"] = texts_under(app.dialogs.open[-1]) if app.dialogs.open else []
    res["error_shot"] = shot(app, out, "button_error")
    win = app.dialogs.open[-1]
    x, y = dpg.get_item_pos(win)
    res["dialog_rect"] = [x, y, x + dpg.get_item_width(win), y + dpg.get_item_height(win)]
    press(xi, app, "Escape")
    res["dialogs_after_escape"] = len(app.dialogs.open)

    # A key handler that fails: the page's action raises.
    w.close()
    app.settle(2)
    page = app.pages["videos"]
    real = page.on_action

    def broken_action(action):
        raise KeyError(f"injected failure for {action}")
    page.on_action = broken_action
    press(xi, app, "Right")
    page.on_action = real
    res["key_error_dialogs"] = [dpg.get_item_label(d) for d in app.dialogs.open]
    press(xi, app, "Escape")
    app._deferred.append(lambda: 1 / 0)
    app.settle(3)
    res["deferred_dialogs"] = [dpg.get_item_label(d) for d in app.dialogs.open]
    press(xi, app, "Escape")
    # A page whose every frame fails: one dialog and one log entry, not one a frame.
    real_tick = page.tick

    def broken_tick():
        raise ValueError("injected failure in every frame")
    page.tick = broken_tick
    app.settle(20)
    page.tick = real_tick
    res["tick_dialogs"] = [dpg.get_item_label(d) for d in app.dialogs.open]
    press(xi, app, "Escape")
    frames = app.frames
    app.settle(5)
    res["frames_after_errors"] = app.frames - frames
    res["log"] = app.project.layout.log_file.read_text(encoding="utf-8")

    # Open folder with nothing to open it: an explanation, not a crash.
    os.environ["PATH"] = ""
    w = app.open_shot(g.cards[0].key, "video")
    dpg.configure_item(w.win, pos=(10, 60), width=1060, height=600)
    app.settle(3)
    click(xi, app, *item_center(find_button(w.win, "Open folder")))
    app.settle(3)
    res["open_dialogs"] = [dpg.get_item_label(d) for d in app.dialogs.open]
    res["open_texts"] = texts_under(app.dialogs.open[-1]) if app.dialogs.open else []
    res["open_shot"] = shot(app, out, "open_folder_missing")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def status_and_help(project, out, args):
    """The status bar speaks to users; the performance figures appear only with the overlay on;
    Help > User guide is formatted text."""
    import dearpygui.dearpygui as dpg
    app = start_app(project)
    app.show_page("images")
    wait_tiles(app, app.pages["images"].grid)
    app.settle(30)
    res = {"status": dpg.get_value(app._status), "perf_shown": dpg.is_item_shown(app._perf)}
    app.action("perf_overlay")
    app.settle(3)
    res["perf_on"] = [dpg.get_value(app._perf), dpg.is_item_shown(app._perf),
                      dpg.get_value(app._perf_item)]
    res["status_shot"] = shot(app, out, "status_perf")
    app.action("perf_overlay")
    app.settle(3)
    res["perf_off"] = [dpg.get_value(app._perf), dpg.is_item_shown(app._perf)]
    app.action("guide")
    app.settle(4)
    win = app.dialogs.open[-1]
    res["guide_title"] = dpg.get_item_label(win)
    res["guide_texts"] = texts_under(win)
    res["guide_tables"] = sum(1 for i in dpg.get_all_items() if dpg.get_item_type(i).endswith("mvTable")
                              and _under(i, win))
    res["guide_shot"] = shot(app, out, "guide")
    res["errors"] = app.errors
    app.shutdown()
    return res


def _under(item, root) -> bool:
    import dearpygui.dearpygui as dpg
    while item:
        if item == root:
            return True
        item = dpg.get_item_parent(item)
    return False


@scenario
def tour_finished_screens(project, out, args):
    """`aimms demo --screenshots`: with the pointer resting where the first card will be, the
    tour's storyboard screenshots still show every poster (no hover frame, no grey boxes)."""
    from aimms_fast.ui import app as appmod
    from aimms_fast.ui import tour
    from tests.ui.xinput import XInput
    seen = {}
    real = appmod.App.screenshot

    def spy(self, path):         # what the screen held when the tour took each picture
        g = getattr(self.current_page, "grid", None) if self.current_page is not None else None
        windows = [w for w in self.windows if w.alive and getattr(w, "grid", None) is not None]
        if g is not None and g.cards and not windows:
            seen[Path(path).name] = {"rects": [list(g.poster_rect(i)) for i in range(min(4, len(g.cards)))],
                                     "hover": g.hover, "page": self.current_page.name}
        return real(self, path)
    appmod.App.screenshot = spy
    xi = XInput()
    xi.move(200, 180)
    paths = tour.run_tour(Path(project), out / "tour")
    xi.close()
    return {"paths": [str(p) for p in paths], "seen": seen}


@scenario
def csv_valid_rows(project, out, args):
    """A CSV with bad rows: the report offers importing just the valid rows as a second step."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.store.shots import list_shots
    from aimms_fast.ui.menus import import_csv_flow
    app = start_app(project)
    app.show_page("shots")
    app.settle(3)
    before = [r["shot_name"] for r in list_shots(app.project.conn)]
    import_csv_flow(app, Path(args["csv"]))
    app.settle(3)
    win = app.dialogs.open[-1]
    res = {"title": dpg.get_item_label(win), "buttons": texts_of_buttons(win),
           "after_report": [r["shot_name"] for r in list_shots(app.project.conn)] == before}
    res["report_shot"] = shot(app, out, "report")
    from tests.ui.xinput import XInput
    xi = XInput()
    click(xi, app, *item_center(find_button(win, res["buttons"][0])))     # a real click
    xi.close()
    app.wait_until(lambda: not app.jobs_running, timeout=60)
    app.settle(3)
    res["added"] = sorted({r["shot_name"] for r in list_shots(app.project.conn)} - set(before))
    res["done_title"] = dpg.get_item_label(app.dialogs.open[-1]) if app.dialogs.open else None
    res["edit_undo"] = app._peek("undo")
    res["errors"] = app.errors
    app.shutdown()
    return res


def texts_of_buttons(root) -> list[str]:
    import dearpygui.dearpygui as dpg
    out = []
    for child in dpg.get_item_children(root, 1) or []:
        if dpg.get_item_type(child).endswith("mvButton"):
            out.append(dpg.get_item_label(child))
        out += texts_of_buttons(child)
    return out
