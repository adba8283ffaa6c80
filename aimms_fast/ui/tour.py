"""Scripted tour of the viewer: opens a project, visits every page and the main states, and saves one
PNG per step (what `aimms demo PATH --screenshots DIR` shows a new user). Runs the real app loop;
needs an X display (xvfb-run works). The user's own viewer settings are neither used nor changed.

Each screenshot shows the finished screen: the pointer is moved off the window first (a card under
it would show a filmstrip frame and a hover border instead of its poster), then the tour waits
until every card on screen, on the page and in open shot windows, has its thumbnail (and so has
every row of a shot window's Assets list)."""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from pathlib import Path
from typing import Callable

from aimms_fast.errors import AimmsError

THUMB_WAIT_S = 180.0
FRAME_WAIT_S = 30.0      # exact frames of a review window (a GOP-250 seek on 2 busy cores)

log = logging.getLogger(__name__)


def visible_ready(app, grid) -> bool:
    """Every card on screen shows its real poster (or a final stand-in: failed, placeholder)."""
    lo, hi = grid._range
    if grid.cards and hi <= lo:
        return False
    for i in range(lo, min(hi, len(grid.cards))):
        c = grid.cards[i]
        if c.rel and not c.placeholder and not app.textures.resident(c.rel) \
                and app.services.state(c.rel) not in ("failed", "placeholder"):
            return False
    return True


def strips_ready(app) -> bool:
    """The Assets lists of open shot windows show their thumbnails (or a final stand-in)."""
    from aimms_fast.ui.assets import AssetStrip
    for w in app.windows:
        strip = getattr(w, "assets", None) if w.alive else None
        if not isinstance(strip, AssetStrip):
            continue
        rels = set(strip._rels())
        for k, a in enumerate(strip.rows):
            if a.file_path in rels and not strip.shows_picture(k) and (
                    app.services is None or app.services.state(a.file_path) not in ("failed", "placeholder")):
                return False
    return True


def screen_grids(app) -> list:
    """The card grids on screen: the current page's and those of open floating windows."""
    grids = []
    page = app.current_page
    if page is not None and getattr(page, "grid", None) is not None:
        grids.append(page.grid)
    for w in app.windows:
        if w.alive and getattr(w, "grid", None) is not None:
            grids.append(w.grid)
    return grids


class _XTest:
    """The X pointer through XTest (ctypes; no extra package). Opened per use: the tour moves the
    pointer a few dozen times at most."""

    def __init__(self):
        self.x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        self.xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
        x11, xtst = self.x11, self.xtst
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        for fn in (x11.XDefaultScreen, x11.XFlush, x11.XCloseDisplay):
            fn.argtypes = [ctypes.c_void_p]
        x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                              ctypes.c_ulong]
        xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.dpy = x11.XOpenDisplay(None)
        if not self.dpy:
            raise OSError("cannot open the X display")

    def screen(self) -> tuple[int, int]:
        scr = self.x11.XDefaultScreen(self.dpy)
        return self.x11.XDisplayWidth(self.dpy, scr), self.x11.XDisplayHeight(self.dpy, scr)

    def move(self, x: float, y: float) -> None:
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, int(x), int(y), 0)
        self.x11.XFlush(self.dpy)

    def button(self, down: bool, button: int = 1) -> None:
        self.xtst.XTestFakeButtonEvent(self.dpy, button, 1 if down else 0, 0)
        self.x11.XFlush(self.dpy)

    def close(self) -> None:
        if self.dpy:
            self.x11.XCloseDisplay(self.dpy)
            self.dpy = None


def _xtest() -> _XTest | None:
    try:
        return _XTest()
    except (OSError, AttributeError):
        return None


def pointer_off_window() -> bool:
    """Move the X pointer out of the viewport (XTest, on X11): to a screen corner the window does
    not cover, else onto the status bar. False where there is no X11/XTest (nothing moved)."""
    import dearpygui.dearpygui as dpg
    xt = _xtest()
    if xt is None:
        return False
    try:
        sw, sh = xt.screen()
        vx, vy = dpg.get_viewport_pos()
        vw, vh = dpg.get_viewport_width(), dpg.get_viewport_height()
        if vx + vw < sw - 2:
            x, y = sw - 1, sh - 1
        elif vy + vh < sh - 2:
            x, y = sw - 1, sh - 1
        elif vx > 2 or vy > 2:
            x, y = 0, 0
        else:      # the window covers the screen: its status bar (no hover effects there)
            x, y = int(vx + 4), int(vy + vh - 6)
        xt.move(x, y)
        return True
    finally:
        xt.close()


def click_at(app, x: float, y: float) -> bool:
    """A real left click (XTest) at viewport point (x, y), frames rendered between the events.
    False without X11/XTest."""
    import dearpygui.dearpygui as dpg
    xt = _xtest()
    if xt is None:
        return False
    try:
        vx, vy = dpg.get_viewport_pos()
        xt.move(vx + x, vy + y)
        app.settle(2)
        xt.button(True)
        app.settle(2)
        xt.button(False)
        app.settle(3)
        return True
    finally:
        xt.close()


def click_menu(app, menu) -> bool:
    """Open a menu of the menu bar with a real click on its title: Dear PyGui has no call that
    opens a menu, and a menu item reports its position but no size (measured: rect_size 0, 0)."""
    import dearpygui.dearpygui as dpg
    x, y = dpg.get_item_pos(menu)
    w, h = dpg.get_text_size(dpg.get_item_label(menu))
    return click_at(app, x + 4 + w / 2, y + 3 + h / 2)


def run_tour(project_path: Path, out_dir: Path) -> list[Path]:
    """Returns the screenshots written (PNG), in tour order."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise AimmsError("the screenshot tour needs an X display (DISPLAY is not set)",
                         hint="run it under xvfb-run, e.g. xvfb-run -a aimms demo PATH --screenshots DIR")
    from aimms_fast.ui.app import App
    from aimms_fast.ui.prefs import Prefs
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    app = App(prefs=Prefs(), vsync=False, width=1600, height=960, persist_prefs=False)
    shots: list[Path] = []

    number = 0

    def snap(name: str, ready: Callable[[], bool] | None = None, *, at: int | None = None,
             pointer: bool = True) -> Path:
        """Screenshot `NN_name.png` once the screen is finished: every card on screen has its
        thumbnail and `ready()` (a window's exact frames) holds. `at` moves the numbering on
        (the review walk starts at 20)."""
        nonlocal number
        if pointer:
            pointer_off_window()
        app.settle(3)                    # the pointer's leave event reaches the grids
        if app.project is not None:
            app.wait_until(lambda: all(visible_ready(app, g) for g in screen_grids(app)) and strips_ready(app),
                           timeout=THUMB_WAIT_S)
        if ready is not None and not app.wait_until(ready, timeout=FRAME_WAIT_S):
            log.warning("tour: %s was not finished after %.0f s; screenshot taken anyway", name, FRAME_WAIT_S)
        app.settle(3)
        number = max(number + 1, at or 0)
        path = app.screenshot(out_dir / f"{number:02d}_{name}.png")
        shots.append(path)
        return path

    def wait_grid(grid) -> None:
        app.wait_until(lambda: visible_ready(app, grid), timeout=THUMB_WAIT_S)

    app.start(None, welcome_if_none=False)
    try:
        app.settle(2)
        snap("welcome")
        if not app.open_project(Path(project_path)):
            raise AimmsError(f"the viewer could not open the project: {app.errors[-1] if app.errors else ''}",
                             path=project_path)
        app.show_page("images")
        images = app.pages["images"].grid
        wait_grid(images)
        snap("images_storyboard")
        app.show_page("videos")
        videos = app.pages["videos"].grid
        wait_grid(videos)
        snap("videos_storyboard")
        starred = next((i for i, c in enumerate(videos.cards) if c.starred and c.rel), 0)
        videos.select(starred)
        for _ in range(6):
            app.handle_key(".")
        snap("videos_filmstrip_step")
        from aimms_fast.store.shots import sections
        secs = sections(app.project.conn)
        if len(secs) > 1:
            app.set_section_filter(secs[1])
            wait_grid(videos)
            snap("videos_section_filter")
            app.set_section_filter(None)
        if videos.cards:
            w = app.open_shot(videos.cards[starred].key, "video")
            if w is not None:
                wait_grid(w.grid)
                snap("shot_window_videos")
                w.set_storyboard("image")
                wait_grid(w.grid)
                snap("shot_window_images")
                w.close()
        app.show_page("shots")
        snap("shots_table")
        page = app.pages["shots"]
        if page.shown:
            page.click(page.shown[0]["shot_id"])
            page.edit_selected()
            snap("shots_edit_dialog")
            app.dialogs.close_top()
        for name in ("assets", "unused", "settings", "logs", "routing"):
            app.show_page(name)
            pg = app.pages[name]
            if hasattr(pg, "job"):
                app.wait_until(lambda: pg.job is None, timeout=60)
            snap(name)
        app.handle_key("F1")
        snap("keyboard_map")
        app.handle_key("F1")
        app.set_theme("light")
        app.show_page("images")
        wait_grid(images)
        snap("images_light_theme")
        app.set_theme("dark")
        before = _undo_top(app)
        try:
            review_walk(app, snap)
            desktop_features(app, snap)
            assets_walk(app, snap)
        finally:
            for w in list(app.windows):
                if w.key_context:
                    w.close()
            app.dialogs.close_top()
            app.settle(2)
            _undo_back_to(app, before)    # the demo is left as the tour found it
        app.close_project()
        snap("closed_welcome")
    finally:
        app.shutdown()
    return shots


# -- the review walk: what a new user does with the keyboard alone (issue 7's "done when") --------

def _press(app, name: str, frames: int = 3, **mods) -> str | None:
    """One key through the app's own dispatcher (the same path as a real key press)."""
    action = app.handle_key(name, **mods)
    app.settle(frames)
    return action


def _focused_context(app) -> str:
    w = app.focused_window()
    return w.key_context if w is not None else ""


def _wait_focus(app, context: str, what: str) -> bool:
    """Wait until the window of `context` has the keyboard (a new window takes it in its first
    rendered frame). Logged, not raised: a screenshot of the wrong window is still a screenshot."""
    ok = app.wait_until(lambda: _focused_context(app) == context, timeout=5.0)
    if not ok:
        log.warning("tour: %s: expected the %s window to have the keyboard, it is with %r",
                    what, context, _focused_context(app) or "the page")
    return ok


def _newest(app, cls):
    return next((w for w in reversed(app.windows) if w.alive and isinstance(w, cls)), None)


def _playable(project, rel: str) -> bool:
    """The file is there and its probe (made at import) did not mark it broken."""
    from aimms_fast.media.probe import facts
    if not project.layout.size_of(rel):  # missing, empty or outside the project (issue 14)
        return False
    f = facts(project.conn, rel)
    return f is None or f.get("status") in (None, "ok")


def _pick_shot(app, grid) -> tuple[int, int, list] | None:
    """(card index, shot id, playable video takes) of the Videos card whose shot has the most
    playable takes (a shot with a broken take only when no other has as many)."""
    from aimms_fast.store.review import shot_review_takes
    best = None
    for i, c in enumerate(grid.cards):
        takes = shot_review_takes(app.project.conn, c.key, "video")
        good = [t for t in takes if _playable(app.project, t.rel)]
        score = (min(len(good), 3), len(good) == len(takes), len(good))
        if good and (best is None or score > best[0]):
            best = (score, i, c.key, good)
    return None if best is None else best[1:]


def _select_card(app, grid, i: int) -> None:
    """Arrow keys from the first card to card i (Home, then Right)."""
    _press(app, "Home", 1)
    for _ in range(i):
        _press(app, "Right", 1)
    app.settle(2)


def _select_take(app, shot_window, take_id: str) -> None:
    """Right / Left in the shot window until `take_id` is selected."""
    ids = [t.take_id for t in shot_window.takes]
    if take_id not in ids:
        return
    want = ids.index(take_id)
    for _ in range(len(ids)):
        here = shot_window.grid.selected
        if here == want:
            break
        _press(app, "Right" if want > here else "Left", 1)


def _panes_exact(panes) -> bool:
    """Every pane of a PaneSet shows the exact frame for the playhead, paused."""
    if panes.transport.rate:
        return False
    idx = panes.indices()
    return all(panes.streams[k] is None or panes.shown[k] == idx[k] for k in range(len(panes.streams)))


def review_walk(app, snap) -> None:
    """Videos page -> a shot with several video takes -> its shot window -> the player (frame
    steps, J/K/L) -> promote a frame (F) -> C on three takes -> compare (wipe, difference) ->
    tournament (a number key stars) -> cut points (Enter: the pair in compare) -> the promoted
    frame as an image take. Keys only, through `app.handle_key`; one screenshot per view."""
    from aimms_fast.ui.compare import CompareWindow
    from aimms_fast.ui.cutpoints import CutPointsWindow
    from aimms_fast.ui.player import Player
    from aimms_fast.ui.tournament import TournamentWindow
    for w in list(app.windows):
        if w.key_context:               # review and shot windows; not the drop watcher
            w.close()
    _press(app, "3", ctrl=True)                               # Videos page
    videos = app.pages["videos"].grid
    app.wait_until(lambda: visible_ready(app, videos), timeout=THUMB_WAIT_S)
    pick = _pick_shot(app, videos)
    if pick is None:
        log.warning("tour: no shot has a playable video take; the review walk is left out")
        return
    card, shot_id, good = pick
    _select_card(app, videos, card)
    _press(app, "Enter")                                      # the shot window
    _wait_focus(app, "shot", "Enter on a Videos card")
    sw = app.shot_windows.get(shot_id)
    if sw is None:
        log.warning("tour: Enter did not open the shot window; the review walk stops here")
        return
    _select_take(app, sw, good[0].take_id)

    # -- player: frame steps and shuttle, then promote the frame on screen -------------------
    _press(app, "Space")
    _wait_focus(app, "player", "Space in the shot window")
    player = _newest(app, Player)
    if player is not None:
        app.wait_until(lambda: player.shown_kind in ("exact", "error"), timeout=FRAME_WAIT_S)
        for _ in range(5):
            _press(app, "Right", 2)
        _press(app, "I")                                       # in point at frame 5
        _press(app, "L", 1)
        _run_for(app, 0.4)
        _press(app, "L", 1)                                    # twice: 2x
        _run_for(app, 0.3)
        _press(app, "K")
        _press(app, "O")                                       # out point here: blue on the scrub bar

        def player_ready() -> bool:
            tr = player.transport
            exact = player.shown_kind == "exact" and tr is not None and player.shown_index == tr.index
            strip = app.textures.strip(player.take.rel) is not None if app.services is not None else True
            return (exact and strip and not tr.rate) or player.shown_kind == "error"
        snap("player", player_ready, at=20)
        if player.shown_kind == "exact":
            _press(app, "F")                                   # promote: a job with its dialog
            app.wait_until(lambda: not app.jobs_running, timeout=120)
            app.settle(3)
        _press(app, "Escape")                                  # close the player
    if _focused_context(app) != "shot":
        # ImGui gives the focus back to the window below (measured: always the shot window
        # here); should it not, a user would click the shot window, and so does the tour.
        log.warning("tour: the shot window did not get the keyboard back; focusing it")
        sw.focus()
        _wait_focus(app, "shot", "back to the shot window")

    # -- C on three takes, then compare: panes, wipe, difference ------------------------------
    for t in good[:3]:
        _select_take(app, sw, t.take_id)
        _press(app, "C")
    _press(app, "C")                       # C on a take already in compare: go there
    _wait_focus(app, "compare", "C on a take already in the compare view")
    cw = _newest(app, CompareWindow)
    if cw is not None:
        _press(app, "Home")
        _press(app, "Right")
        _press(app, "Right")
        snap("compare", cw.settled)
        if len(cw.panes) >= 2:
            _press(app, "W")
            snap("compare_wipe", cw.settled)
            _press(app, "D")
            snap("compare_difference", cw.settled)
        _press(app, "Escape")
    if not sw.alive:
        return
    if _focused_context(app) != "shot":
        log.warning("tour: the shot window did not get the keyboard back; focusing it")
        sw.focus()
        _wait_focus(app, "shot", "back to the shot window")

    # -- tournament: a number key stars ------------------------------------------------------
    _press(app, "T")
    _wait_focus(app, "tournament", "T in the shot window")
    tw = _newest(app, TournamentWindow)
    if tw is not None and tw.takes:
        pick_n = next((k + 1 for k, t in enumerate(tw.takes) if not t.starred), 1)
        _press(app, "K")
        _press(app, "Home")
        _press(app, str(pick_n))
        snap("tournament", lambda: _panes_exact(tw.panes) and tw.starred_index == pick_n)
        _press(app, "Escape")
    _close_with_escape(app, sw, "shot")

    # -- cut points on the Videos page; Enter opens the pair in compare -----------------------
    app.settle(3)
    _press(app, "X")
    _wait_focus(app, "cutpoints", "X on the Videos page")
    cp = _newest(app, CutPointsWindow)
    if cp is not None and cp.cuts:
        # The first cut with both sides starred, else one with a side to see (Right walks there).
        want = next((i for i, c in enumerate(cp.cuts) if not c.gap), None)
        if want is None:
            want = next((i for i, c in enumerate(cp.cuts)
                         if c.out_shot.starred is not None or c.in_shot.starred is not None), 0)
        for _ in range(want - cp.selected):
            _press(app, "Right", 1)

        def cut_ready() -> bool:
            return all(s is None or cp.shown[k] == cp.indices[k] for k, s in enumerate(cp.streams))
        snap("cutpoints", cut_ready)
        if cp.cut is not None and not cp.cut.gap:
            _press(app, "Enter")
            _wait_focus(app, "compare", "Enter in the cut points")
            pair = _newest(app, CompareWindow)
            if pair is not None:
                snap("cutpoints_compare", pair.settled)
                _press(app, "Escape")
        _close_with_escape(app, cp, "cutpoints")

    # -- the promoted frame: a new image take of the shot -------------------------------------
    _press(app, "2", ctrl=True)                               # Images page
    images = app.pages["images"].grid
    idx = next((i for i, c in enumerate(images.cards) if c.key == shot_id), None)
    if idx is not None:
        _select_card(app, images, idx)
        _press(app, "Enter")
        _wait_focus(app, "shot", "Enter on an Images card")
        iw = app.shot_windows.get(shot_id)
        if iw is not None and iw.takes:
            newest = max(iw.takes, key=lambda t: (t.take_number, t.take_id))
            _select_take(app, iw, newest.take_id)
            snap("promote")
            _close_with_escape(app, iw, "shot")


def _close_with_escape(app, w, context: str) -> None:
    """Esc on window `w` once it has the keyboard back (closing the window above it hands the
    focus down); closed directly, with a log line, should the focus be elsewhere."""
    if not w.alive:
        return
    if app.wait_until(lambda: _focused_context(app) == context and app.focused_window() is w, timeout=3.0):
        _press(app, "Escape")
    if w.alive:
        log.warning("tour: the %s window did not have the keyboard for Esc; closing it", context)
        w.close()
        app.settle(2)


def _run_for(app, seconds: float) -> None:
    """Render frames for a while (playback runs on the transport's clock, not on frames)."""
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.iterate(pace=True)


def desktop_features(app, snap) -> None:
    """Issue 13's desktop: a card's right-click menu, the Edit menu naming what Ctrl+Z undoes, and
    the built-in file browser (what is shown where no desktop portal, zenity or kdialog is)."""
    import dearpygui.dearpygui as dpg

    from aimms_fast.ui import context_menu as cm
    page = app.current_page
    grid = getattr(page, "grid", None)
    if grid is not None and 0 <= grid.selected < len(grid.cards):
        c = grid.cards[grid.selected]
        x0, y0, x1, y1 = grid.poster_rect(grid.selected)
        menu = cm.menu(app)
        menu.show(cm.take_entries(app, c.take_id, shot_id=c.key, storyboard=page.storyboard),
                  pos=((x0 + x1) / 2, (y0 + y1) / 2))
        snap("context_menu", lambda: menu.is_open)
        menu.hide()
        app.settle(3)
    edit = _menu_bar_menu("Edit")
    if edit is not None and click_menu(app, edit):
        snap("edit_menu_undo", pointer=False)
        click_menu(app, edit)          # a second click on its title closes the menu
    from aimms_fast.ops.files import IMAGE_EXTS
    from aimms_fast.ui.file_dialog import FileBrowser, filters_for
    start = _image_folder(app)
    fb = FileBrowser(app, "Add image takes (the built-in file browser)", filters_for(sorted(IMAGE_EXTS)),
                     lambda paths: None, multiple=True, start=start)
    app.settle(3)
    if fb.entries:
        img = next((i for i, e in enumerate(fb.entries) if e.is_image), None)
        if img is not None:
            fb.click(img)
    snap("file_browser", lambda: not fb.thumbs_pending)
    fb.cancel()
    app.settle(3)
    dpg.focus_item("main")


def _viewport_finished(vp) -> bool:
    """A ModelViewport shows its model in a full-quality (MSAA) frame, or its error card."""
    if vp is None:
        return True
    if vp.error:
        return True
    return (vp.model is not None and not vp.loading and vp.renders > 0 and not vp._dirty
            and not vp._fast and vp._drag is None)


def _drag(app, x0: float, y0: float, dx: float, dy: float, steps: int = 8) -> bool:
    """A real left-button drag (XTest) from viewport point (x0, y0) by (dx, dy), frames rendered
    between the moves (the viewer follows the mouse once per frame). False without X11/XTest."""
    import dearpygui.dearpygui as dpg
    xt = _xtest()
    if xt is None:
        return False
    try:
        vx, vy = dpg.get_viewport_pos()
        xt.move(vx + x0, vy + y0)
        app.settle(2)
        xt.button(True)
        app.settle(2)
        for k in range(1, steps + 1):
            xt.move(vx + x0 + dx * k / steps, vy + y0 + dy * k / steps)
            app.settle(1)
        xt.button(False)
        app.settle(3)
        return True
    finally:
        xt.close()


def assets_walk(app, snap) -> None:
    """Issue 8's "done when": Ctrl+4 -> the Assets page with every thumbnail (the 3D prop's
    rendered in the worker pool), the arrow keys to the textured model, Enter -> the 3D viewer;
    3 (right view) then 9 (three-quarter view), a short left-drag orbit; one screenshot of the
    grid and one of the viewer, each after its full-quality frame."""
    from aimms_fast.ops.assets import media_kind
    from aimms_fast.ui.model_viewer import ModelViewerWindow
    _press(app, "4", ctrl=True)                               # Assets page
    page = app.pages["assets"]
    grid = page.grid
    app.wait_until(lambda: visible_ready(app, grid), timeout=THUMB_WAIT_S)
    models = [i for i, a in enumerate(page.rows) if media_kind(a.file_path) == "model"]
    if not models:
        log.warning("tour: the project has no 3D model asset; the 3D viewer is left out")
        snap("assets_grid")
        return
    _select_card(app, grid, models[0])            # the detail panel shows its small 3D view
    snap("assets_grid", lambda: _viewport_finished(page.viewport))
    _press(app, "Enter")
    _wait_focus(app, "model", "Enter on a 3D model card")
    mv = _newest(app, ModelViewerWindow)
    if mv is None:
        log.warning("tour: Enter did not open the 3D viewer")
        return
    vp = mv.viewport
    app.wait_until(lambda: vp.model is not None or vp.error is not None, timeout=FRAME_WAIT_S * 2)
    _press(app, "3")                                          # right view
    _press(app, "9")                                          # three-quarter view
    if vp.model is not None:
        x0, y0, x1, y1 = vp.view.picture_rect(0)
        _drag(app, (x0 + x1) / 2, (y0 + y1) / 2, 45, -20)     # orbit a little: a left drag
    snap("model3d", lambda: _viewport_finished(vp))
    _close_with_escape(app, mv, "model")


def _menu_bar_menu(label: str):
    import dearpygui.dearpygui as dpg

    def walk(item):
        for child in dpg.get_item_children(item, 1) or []:
            kind = dpg.get_item_type(child)
            if kind.endswith("mvMenu") and dpg.get_item_label(child) == label:
                return child
            if kind.endswith(("mvMenuBar", "mvGroup")):
                found = walk(child)
                if found:
                    return found
        return None
    return walk("main")


def _image_folder(app) -> Path:
    """The folder holding most image takes among the first shots (the browser shows their
    thumbnails), else the project folder."""
    from aimms_fast.store.review import review_shots, shot_review_takes
    count: dict[Path, int] = {}
    for sid in review_shots(app.project.conn, "image")[:40]:
        for t in shot_review_takes(app.project.conn, sid, "image"):
            if app.project.layout.size_of(t.rel) is not None:
                p = app.project.layout.abs(t.rel)
                count[p.parent] = count.get(p.parent, 0) + 1
    return max(count, key=count.get) if count else Path(app.project.root)


def _undo_top(app) -> int | None:
    from aimms_fast.store.history import top_undo
    e = top_undo(app.project.conn)
    return e.id if e is not None else None


def _undo_back_to(app, entry_id: int | None, most: int = 20) -> int:
    """Ctrl+Z until the newest undoable step is `entry_id` again (the tour's own changes: the
    promoted frame, the tournament's star). Returns how many steps were undone."""
    n = 0
    while n < most and _undo_top(app) != entry_id:
        if _press(app, "Z", ctrl=True) != "undo":
            break
        n += 1
    return n
