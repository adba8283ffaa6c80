"""Scripted tour of the viewer: opens a project, visits every page and the main states, and saves one
PNG per step (what `aimms demo PATH --screenshots DIR` shows a new user). Runs the real app loop;
needs an X display (xvfb-run works). The user's own viewer settings are neither used nor changed.

Each screenshot shows the finished screen: the pointer is moved off the window first (a card under
it would show a filmstrip frame and a hover border instead of its poster), then the tour waits
until every card on screen, on the page and in open shot windows, has its thumbnail."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

from aimms_fast.errors import AimmsError

THUMB_WAIT_S = 180.0


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


def pointer_off_window() -> bool:
    """Move the X pointer out of the viewport (XTest, on X11): to a screen corner the window does
    not cover, else onto the status bar. False where there is no X11/XTest (nothing moved)."""
    import dearpygui.dearpygui as dpg
    try:
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
    except OSError:
        return False
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for fn in (x11.XDefaultScreen, x11.XFlush, x11.XCloseDisplay):
        fn.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                          ctypes.c_ulong]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        return False
    try:
        scr = x11.XDefaultScreen(dpy)
        sw, sh = x11.XDisplayWidth(dpy, scr), x11.XDisplayHeight(dpy, scr)
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
        xtst.XTestFakeMotionEvent(dpy, -1, int(x), int(y), 0)
        x11.XFlush(dpy)
        return True
    finally:
        x11.XCloseDisplay(dpy)


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

    def snap(name: str) -> None:
        pointer_off_window()
        app.settle(3)                    # the pointer's leave event reaches the grids
        if app.project is not None:
            app.wait_until(lambda: all(visible_ready(app, g) for g in screen_grids(app)),
                           timeout=THUMB_WAIT_S)
        app.settle(3)
        shots.append(app.screenshot(out_dir / f"{len(shots) + 1:02d}_{name}.png"))

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
        app.close_project()
        snap("closed_welcome")
    finally:
        app.shutdown()
    return shots
