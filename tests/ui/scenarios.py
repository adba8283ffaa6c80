"""UI scenarios, one per process (see conftest.run_scenario). Each starts the real app on a real
project, drives it through its API and real X input, saves screenshots and writes result.json with
what the test needs to check (rectangles in viewport pixels, states, counts).

    python tests/ui/scenarios.py NAME '{"project": ..., "out": ..., "args": {...}}'
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


# -- helpers (child process only) ---------------------------------------------------------------------

def start_app(project: str | None, **kw):
    from aimms_fast.ui.app import App
    app = App(vsync=False, width=kw.pop("width", 1400), height=kw.pop("height", 900))
    app.start(Path(project) if project else None, **kw)
    app.settle(3)
    return app


def settled_tiles(app, grid) -> bool:
    """Every card on screen that has media shows its real poster (or is known to have none)."""
    if app.services is None:
        return False
    lo, hi = grid._range
    if grid.cards and hi <= lo:
        return False          # not laid out yet (first frames after the page was shown)
    for i in range(lo, min(hi, len(grid.cards))):
        c = grid.cards[i]
        if not c.rel or c.placeholder:
            continue
        if not app.textures.resident(c.rel) and app.services.state(c.rel) not in ("failed", "placeholder"):
            return False
    return True


def sweep_finished(app) -> bool:
    """The background sweep has queued everything and the workers have built it."""
    return (app._sweep_at is None and app.services._sweep is None and app.services.pending() == 0)


def wait_tiles(app, grid, timeout: float = 90) -> None:
    ok = app.wait_until(lambda: settled_tiles(app, grid), timeout=timeout)
    if not ok:
        raise AssertionError(f"thumbnails did not arrive in {timeout}s: {app.textures.stats} {app.services.problem}")
    app.settle(3)


def rects(grid, n=None) -> list[list[float]]:
    n = len(grid.cards) if n is None else min(n, len(grid.cards))
    return [list(grid.poster_rect(i)) for i in range(n)]


def shot(app, out: Path, name: str) -> str:
    return str(app.screenshot(out / f"{name}.png"))


def press(xi, app, *keys: str) -> None:
    """Real key chord through X: press all, release in reverse order, rendering frames between."""
    for k in keys:
        xi.key(k, True)
        app.settle(1)
    for k in reversed(keys):
        xi.key(k, False)
        app.settle(1)
    app.settle(2)


def click(xi, app, x: float, y: float) -> None:
    import dearpygui.dearpygui as dpg
    vx, vy = dpg.get_viewport_pos()
    xi.move(vx + x, vy + y)
    app.settle(2)
    xi.button(True)
    app.settle(1)
    xi.button(False)
    app.settle(3)


def move_mouse(xi, app, x: float, y: float, frames: int = 4) -> None:
    import dearpygui.dearpygui as dpg
    vx, vy = dpg.get_viewport_pos()
    xi.move(vx + x, vy + y)
    app.settle(frames)


def item_center(tag):
    import dearpygui.dearpygui as dpg
    x0, y0 = dpg.get_item_rect_min(tag)
    x1, y1 = dpg.get_item_rect_max(tag)
    return (x0 + x1) / 2, (y0 + y1) / 2


def press_dialog_button(app, label: str) -> None:
    """Click a button of the newest dialog by calling the callback Dear PyGui would call."""
    import dearpygui.dearpygui as dpg
    win = app.dialogs.open[-1]

    def walk(item):
        for child in dpg.get_item_children(item, 1) or []:
            if dpg.get_item_type(child).endswith("mvButton") and dpg.get_item_label(child) == label:
                return child
            found = walk(child)
            if found:
                return found
        return None
    btn = walk(win)
    if btn is None:
        raise AssertionError(f"no button '{label}' in dialog {dpg.get_item_label(win)}")
    dpg.get_item_callback(btn)()
    app.settle(2)


# -- scenarios -------------------------------------------------------------------------------------------

@scenario
def storyboards(project, out, args):
    """Images and Videos pages show each shot's poster; placeholders and missing PNGs are badged."""
    app = start_app(project)
    res = {"first_frame_s": app.first_frame_s, "page": app.current_page.name}
    for page in ("images", "videos"):
        app.show_page(page)
        app.settle(2)
        g = app.pages[page].grid
        wait_tiles(app, g)
        res[page] = {"rects": rects(g), "cards": [c.title for c in g.cards],
                     "badges": [c.badges for c in g.cards], "starred": [c.starred for c in g.cards],
                     "status": [list(app.pages[page]._status_of(c)) for c in g.cards],
                     "shot": shot(app, out, page), "pool": len(g._slots)}
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def star_moves(project, out, args):
    """S on a video card stars its take; starring another take in the shot window moves the star
    and the card's poster follows."""
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    res = {"before": shot(app, out, "before"), "rects": rects(g, 2)}
    xi = XInput()
    click(xi, app, *item_center_of_card(g, 0))
    res["selected_after_click"] = g.selected
    press(xi, app, "s")
    move_mouse(xi, app, 5, 5)        # off the card, or it would show the filmstrip frame under the mouse
    res["starred_after_s"] = g.cards[0].starred
    res["after_s"] = shot(app, out, "after_s")
    w = app.open_shot(g.cards[0].key, "video")
    app.settle(3)
    wait_tiles(app, w.grid)
    res["win_rects_before"] = rects(w.grid)
    res["win_before"] = shot(app, out, "window_before")
    w.grid.select(1)
    w.star()
    app.settle(3)
    wait_tiles(app, w.grid)
    wait_tiles(app, g)
    res["win_rects_after"] = rects(w.grid)
    res["win_starred"] = [c.starred for c in w.grid.cards]
    res["win_after"] = shot(app, out, "window_after")
    w.close()
    app.settle(3)
    res["card_rel"] = g.cards[0].rel
    res["rects_after"] = rects(g, 2)
    res["after_window"] = shot(app, out, "storyboard_after")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


def item_center_of_card(grid, i):
    x0, y0, x1, y1 = grid.poster_rect(i)
    return (x0 + x1) / 2, (y0 + y1) / 2


@scenario
def scroll_pool(project, out, args):
    """Scrolling the whole storyboard recycles a fixed pool of card widgets; cards far down still
    show their own posters."""
    import dearpygui.dearpygui as dpg
    app = start_app(project, height=700)
    app.show_page("images")
    g = app.pages["images"].grid
    wait_tiles(app, g)
    def widgets():   # everything but textures (atlas pages come and go by design)
        return sum(1 for i in dpg.get_all_items() if "Texture" not in dpg.get_item_type(i))
    items_before = widgets()
    pool_before = len(g._slots)
    res = {"top": shot(app, out, "top"), "top_rects": rects(g, g.cols), "n": len(g.cards), "cols": g.cols}
    y = 0.0
    while y < g.scroll_max():
        y += 90
        g.scroll_to(y)
        app.settle(1)
    g.move("last")
    app.settle(3)
    wait_tiles(app, g)
    res["pool_before"] = pool_before
    res["pool_after"] = len(g._slots)
    res["items_before"] = items_before
    res["items_after"] = widgets()
    res["last_index"] = len(g.cards) - 1
    res["range"] = list(g._range)
    res["bottom_rects"] = {str(i): list(g.poster_rect(i)) for i in range(max(0, len(g.cards) - g.cols), len(g.cards))}
    res["bottom"] = shot(app, out, "bottom")
    res["selected"] = g.selected
    res["bank"] = vars(app.textures.stats)
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def hover_scrub(project, out, args):
    """Mouse x over a video card picks the filmstrip frame; ',' and '.' step the selected card."""
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    xi = XInput()
    x0, y0, x1, y1 = g.poster_rect(0)
    res = {"rect": [x0, y0, x1, y1], "shots": {}, "hover": {}}
    for frac in (0.05, 0.5, 0.95):
        move_mouse(xi, app, x0 + frac * (x1 - x0), (y0 + y1) / 2, frames=6)
        res["hover"][str(frac)] = g.hover
        res["shots"][str(frac)] = shot(app, out, f"hover_{int(frac * 100)}")
    move_mouse(xi, app, 5, 5)          # leave the grid: poster again
    res["hover_after_leave"] = g.hover
    res["left"] = shot(app, out, "left")
    g.select(0)
    steps = []
    for _ in range(3):
        press(xi, app, "period")
        steps.append(g._kbd_frame.get(0))
    press(xi, app, "comma")
    steps.append(g._kbd_frame.get(0))
    res["steps"] = steps
    res["stepped"] = shot(app, out, "stepped")
    strip = app.textures.strip(g.cards[0].rel)
    res["strip_frames"] = len(strip.regions) if strip else 0
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def keyboard_pages(project, out, args):
    """Ctrl+1..8 (real keys) switch pages; every page renders; F1 shows the keyboard map; arrows,
    Home/End and Enter work on the storyboard."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.keys import PAGES
    from tests.ui.xinput import XInput
    app = start_app(project)
    xi = XInput()
    res = {"pages": {}, "shots": {}}
    for i, name in enumerate(PAGES):
        press(xi, app, "Control_L", str(i + 1))
        app.settle(6)
        if name in ("unused", "routing"):
            app.wait_until(lambda: app.pages[name].job is None, timeout=30)
            app.settle(3)
        res["pages"][name] = app.current_page.name
        res["shots"][name] = shot(app, out, f"page_{i + 1}_{name}")
    press(xi, app, "F1")
    res["keymap_open"] = app._keymap_win is not None and dpg.does_item_exist(app._keymap_win)
    res["keymap"] = shot(app, out, "keymap")
    press(xi, app, "Escape")
    res["keymap_closed"] = app._keymap_win is None
    press(xi, app, "Control_L", "2")
    g = app.pages["images"].grid
    wait_tiles(app, g)
    press(xi, app, "Right")
    press(xi, app, "Right")
    res["after_right"] = g.selected
    press(xi, app, "End")
    res["after_end"] = g.selected
    press(xi, app, "Home")
    res["after_home"] = g.selected
    press(xi, app, "Down")
    res["after_down"] = g.selected
    res["cols"] = g.cols
    press(xi, app, "Home")
    press(xi, app, "Right")                   # shot 2 has two image takes
    press(xi, app, "Return")
    res["windows"] = [w.shot_id for w in app.shot_windows.values()]
    res["selected_shot"] = g.cards[g.selected].key
    w = next(iter(app.shot_windows.values()))
    app.settle(3)
    res["window_focused"] = w.focused()
    before = g.selected
    press(xi, app, "Right")                   # goes to the focused shot window, not the storyboard
    res["window_take_after_right"] = w.grid.selected
    res["storyboard_unchanged"] = g.selected == before
    res["window"] = shot(app, out, "shot_window")
    press(xi, app, "Escape")                  # closes the focused shot window
    res["windows_after_escape"] = [x.shot_id for x in app.shot_windows.values() if x.alive]
    res["unused_files"] = [f["path"] for f in app.pages["unused"].files]
    res["routing"] = app.pages["routing"].result["counts"] if app.pages["routing"].result else None
    res["log_lines"] = len(app.pages["logs"].lines)
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def shot_window_ops(project, out, args):
    """Add takes (files), add placeholders, delete (confirm) and undo, notes and rating."""
    from aimms_fast.store.takes import takes_for_shot
    app = start_app(project)
    app.show_page("images")
    g = app.pages["images"].grid
    wait_tiles(app, g)
    w = app.open_shot(g.cards[0].key, "image")
    app.settle(3)
    res = {"initial": [c.title for c in w.grid.cards]}
    ids = w.add_files([Path(p) for p in args["add"]])
    app.settle(2)
    wait_tiles(app, w.grid)
    res["added"] = len(ids or [])
    res["after_add"] = [c.title for c in w.grid.cards]
    res["after_add_rects"] = rects(w.grid)
    res["after_add_shot"] = shot(app, out, "after_add")
    w.add_placeholders(2)
    app.settle(3)
    res["after_ph"] = [c.badges for c in w.grid.cards]
    w.select_take(ids[0])
    w.delete()
    app.settle(2)
    res["confirm_open"] = len(app.dialogs.open)
    res["confirm_shot"] = shot(app, out, "confirm")
    press_dialog_button(app, "Delete")
    res["after_delete"] = len(takes_for_shot(app.project.conn, w.shot_id, "image"))
    res["undo_enabled"] = w.last_trash is not None
    w.undo()
    app.settle(2)
    res["after_undo"] = len(takes_for_shot(app.project.conn, w.shot_id, "image"))
    w.select_take(ids[0])
    import dearpygui.dearpygui as dpg
    dpg.set_value(w.d_notes, "good light, keep")
    dpg.set_value(w.d_rating, 4)
    w.save_notes()
    t = [t for t in takes_for_shot(app.project.conn, w.shot_id, "image") if t.take_id == ids[0]][0]
    res["notes"], res["rating"] = t.notes, t.rating
    res["card_count_storyboard"] = g.cards[0].subtitle
    res["copied"] = w.copy_prompt()
    opened = []
    app.opener = lambda p: opened.append(str(p))
    w.open_folder()
    res["opened"] = opened
    res["final"] = shot(app, out, "final")
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def video_details(project, out, args):
    """A video take's details: technical facts, generation summary and the workflow PNG status,
    regenerated when missing."""
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    card = int(args.get("card", 0))
    w = app.open_shot(g.cards[card].key, "video")
    app.settle(3)
    import dearpygui.dearpygui as dpg
    res = {"wf_before": dpg.get_value(w.d_wf), "tech": dpg.get_value(w.d_tech), "gen": dpg.get_value(w.d_gen),
           "badges_before": [c.badges for c in w.grid.cards]}
    w.workflow("regenerate")
    app.settle(3)
    res["wf_after"] = dpg.get_value(w.d_wf)
    res["badges_after"] = [c.badges for c in w.grid.cards]
    res["storyboard_badges"] = g.cards[card].badges
    res["shot"] = shot(app, out, "details")
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def shots_page(project, out, args):
    """Search, column picker, multi-row edit, reorder, delete with confirmation, CSV import report."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.store.shots import list_shots
    app = start_app(project)
    app.show_page("shots")
    app.settle(3)
    page = app.pages["shots"]
    res = {"all": len(page.shown)}
    page.set_search("forest")
    res["search"] = [r["shot_name"] for r in page.shown]
    page.set_search("")
    page.set_columns(["order_number", "shot_name", "section", "location", "images", "videos"])
    res["columns"] = page._columns()
    res["table_shot"] = shot(app, out, "table")
    app.set_section_filter("Act 2")
    res["section_rows"] = [r["shot_name"] for r in page.shown]
    app.show_page("images")          # the filter is shared with the storyboards
    app.settle(2)
    res["section_images_cards"] = [c.title for c in app.pages["images"].grid.cards]
    app.show_page("shots")
    app.set_section_filter(None)
    ids = [r["shot_id"] for r in page.shown]
    page.click(ids[0])
    page.click(ids[2], ctrl=True)
    res["selected"] = sorted(page.selected)
    page.edit_selected()
    app.settle(2)
    win, inputs, ticks, save = app._last_edit_dialog
    dpg.set_value(inputs["location"], "EXT. Harbour")
    dpg.set_value(ticks["location"], True)
    res["edit_dialog"] = shot(app, out, "edit_dialog")
    save()
    app.settle(2)
    rows = {r["shot_id"]: r for r in list_shots(app.project.conn)}
    res["locations"] = {str(k): v["location"] for k, v in rows.items()}
    page.click(ids[3])
    page.move_selected(-1)
    res["order_after_move"] = [r["shot_id"] for r in list_shots(app.project.conn)]
    page.click(ids[1])
    page.delete_selected()
    app.settle(2)
    res["confirm_text"] = len(app.dialogs.open)
    press_dialog_button(app, "Delete")
    res["after_delete"] = [r["shot_id"] for r in list_shots(app.project.conn)]
    app.show_page("images")
    app.settle(2)
    res["images_cards_after_delete"] = len(app.pages["images"].grid.cards)
    app.show_page("shots")
    from aimms_fast.ui.menus import import_csv_flow
    import_csv_flow(app, Path(args["bad_csv"]))
    app.settle(3)
    res["bad_report"] = dpg.get_value([c for c in dpg.get_item_children(app.dialogs.open[-1], 1)
                                       if dpg.get_item_type(c).endswith("mvInputText")][0])
    res["bad_report_shot"] = shot(app, out, "bad_csv_report")
    app.dialogs.close_top()
    import_csv_flow(app, Path(args["good_csv"]))
    app.settle(2)
    press_dialog_button(app, "Import")
    app.wait_until(lambda: not app.jobs_running, timeout=60)   # the import runs off the UI thread
    app.settle(2)
    res["after_import"] = [r["shot_name"] for r in list_shots(app.project.conn)]
    res["table_rows_after_import"] = len(page.shown)
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def long_jobs(project, out, args):
    """Long jobs run off the UI thread behind a modal progress dialog while frames keep coming:
    a controlled job (to see the bar mid-way), then the real Archive and Export Starred."""
    import threading
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.menus import _archive, _export_starred
    app = start_app(project)
    app.show_page("videos")
    app.settle(3)
    release, finish = threading.Event(), threading.Event()
    results = []

    def slow(progress, cancel, project):
        progress(3, 10)
        release.wait(30)
        progress(10, 10)
        finish.wait(30)
        return "slow done"
    app.run_job(slow, title="Test job", label="working on it", on_done=results.append)
    frames0 = app.frames
    app.settle(4)
    bar = app._jobs[0].bar
    res = {"value_mid": dpg.get_value(bar), "overlay_mid": dpg.get_item_configuration(bar)["overlay"],
           "dialogs_mid": len(app.dialogs.open), "frames_while_running": app.frames - frames0}
    res["progress_shot"] = shot(app, out, "job_progress")
    win = app._jobs[0].win
    x, y = dpg.get_item_pos(win)
    res["dialog_rect"] = [x, y, x + dpg.get_item_width(win), y + dpg.get_item_height(win)]
    release.set()
    app.wait_until(lambda: (dpg.get_value(bar) or 0) >= 1.0, timeout=30)
    app.settle(2)
    res["full_shot"] = shot(app, out, "job_progress_full")
    finish.set()
    app.wait_until(lambda: not app.jobs_running, timeout=30)
    app.settle(2)
    res["results"] = results
    res["dialogs_after"] = len(app.dialogs.open)
    dest = Path(args["dest"])
    _archive(app, dest)
    res["archive_finished"] = app.wait_until(lambda: not app.jobs_running, timeout=120)
    app.settle(3)
    res["zips"] = sorted(p.name for p in dest.glob("*.zip"))
    res["archive_dialog"] = len(app.dialogs.open)
    app.dialogs.close_top()
    app.settle(2)
    _export_starred(app, dest / "starred")
    res["export_finished"] = app.wait_until(lambda: not app.jobs_running, timeout=120)
    app.settle(3)
    res["starred_files"] = sorted(p.name for p in (dest / "starred").iterdir())
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def readonly(project, out, args):
    """A project locked by another instance opens read-only, with the banner, and refuses changes."""
    import dearpygui.dearpygui as dpg
    app = start_app(project)
    res = {"readonly": app.readonly, "banner_shown": dpg.is_item_shown(app._banner),
           "banner_text": dpg.get_value(app._banner_text),
           "banner_rect": [*dpg.get_item_rect_min(app._banner_text), *dpg.get_item_rect_max(app._banner_text)],
           "viewport_w": dpg.get_viewport_client_width()}
    app.show_page("images")
    g = app.pages["images"].grid
    app.settle(5)
    res["shot"] = shot(app, out, "readonly")
    g.select(0)
    app.pages["images"].star_selected()
    app.settle(2)
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def welcome_and_switch(project, out, args):
    """No project and nothing recent: the welcome page. Then open one project, then another,
    without restarting; the storyboard shows the second project's posters."""
    import dearpygui.dearpygui as dpg
    app = start_app(None)
    res = {"welcome_shown": dpg.is_item_shown(app._welcome), "tabs_shown": dpg.is_item_shown(app._tabbar),
           "welcome": shot(app, out, "welcome")}
    res["open1"] = app.open_project(Path(args["first"]))
    app.show_page("images")
    g = app.pages["images"].grid
    wait_tiles(app, g)
    res["first_rects"] = rects(g, 1)
    res["first"] = shot(app, out, "first")
    res["open2"] = app.open_project(Path(args["second"]))
    app.show_page("images")
    g = app.pages["images"].grid
    wait_tiles(app, g)
    res["second_rects"] = rects(g, 1)
    res["second"] = shot(app, out, "second")
    res["title_cards"] = [c.title for c in g.cards]
    res["bad_open"] = app.open_project(Path(args["first"]).parent / "no_such_project")
    res["errors"] = app.errors
    res["recent"] = app.prefs.recent
    app.shutdown()
    return res


@scenario
def background_sweep(project, out, args):
    """Opening a project builds every take's thumbnails in the background, even those no page
    has shown (the Shots page is open the whole time), and the status bar shows the progress."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.cache.tiles import TileCache
    app = start_app(project)
    app.show_page("shots")
    saw_bar = False
    end = time.monotonic() + 90
    while time.monotonic() < end and not sweep_finished(app):
        app.iterate(pace=False)
        saw_bar = saw_bar or dpg.is_item_shown(app._thumb_bar)
    res = {"finished": sweep_finished(app), "swept": app.services.swept, "saw_progress_bar": saw_bar}
    rels = [r[0] for r in app.project.conn.execute(
        "SELECT t.file_path FROM takes t JOIN fast_takes f USING (take_id) "
        "WHERE t.take_type IN ('base_image','final_video') AND f.placeholder = 0")]
    tc = TileCache(app.project.layout.cache, app.project.root)
    res["states"] = {r: tc.state(r) for r in rels}
    res["errors"] = app.errors
    app.shutdown()
    return res


@scenario
def idle_loop(project, out, args):
    """With nothing pending and no input the loop blocks waiting for events (about 2 frames a
    second); a real mouse move wakes it at once."""
    import os
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("shots")
    # nothing pending: the sweep is done and so is the review warm-up (its GL steps wait for an
    # idle second, drawn by the idle loop's own frames)
    app.wait_until(lambda: sweep_finished(app) and app._warmup is None, timeout=60)
    app._activity = time.monotonic() - 10
    busy = app.iterate(pace=False)
    res = {"busy_when_idle": busy, "idle": app.idle, "waits_for_events": app.wait_events is not None}
    f0, c0, t0 = app.frames, os.times(), time.monotonic()
    while time.monotonic() - t0 < 2.0:
        app.iterate()                     # the real paced loop
    c1 = os.times()
    res["idle_frames_2s"] = app.frames - f0
    res["idle_cpu_s"] = c1.user - c0.user
    xi = XInput()
    move_mouse(xi, app, 300, 300, frames=0)
    t = time.monotonic()
    app.iterate()                         # blocks until the motion arrives, then handles it
    app.iterate()
    res["wake_s"] = time.monotonic() - t
    res["idle_after_input"] = app.idle
    xi.close()
    res["errors"] = app.errors
    app.shutdown()
    return res


def _load_more() -> None:
    """Scenario modules beside this one (tests/ui/scn_*.py, one per feature) register with
    `@scenario` from `tests.ui.scenarios`; run as a script, that is a second copy of this module."""
    import importlib
    for f in sorted(Path(__file__).parent.glob("scn_*.py")):
        importlib.import_module(f"tests.ui.{f.stem}")
    copy = sys.modules.get("tests.ui.scenarios")
    if copy is not None:
        SCENARIOS.update(copy.SCENARIOS)


def main() -> None:
    name, spec = sys.argv[1], json.loads(sys.argv[2])
    if name not in SCENARIOS:
        _load_more()
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    result = SCENARIOS[name](spec.get("project"), out, spec.get("args") or {})
    (out / "result.json").write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
