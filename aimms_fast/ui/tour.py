"""Scripted tour of the viewer: opens a project, visits every page and the main states, and saves one
PNG per step (what `aimms demo PATH --screenshots DIR` shows a new user). Runs the real app loop;
needs an X display (xvfb-run works). The user's own viewer settings are neither used nor changed."""
from __future__ import annotations

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
