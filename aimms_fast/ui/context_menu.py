"""Right-click menus for storyboard cards, shot-window takes and Shots-table rows, and the take
actions they (and the S key) share: play, open shot, star, replace, reveal in folder, copy path,
delete (asks first).

One popup window is made once per app and refilled for each right click (creating and deleting a
window per click would leave ImGui popup-stack state behind; refilling costs ~10 add_* calls).
UI thread only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import dearpygui.dearpygui as dpg


@dataclass
class MenuEntry:
    label: str
    run: Callable[[], None] | None      # None: a separator
    enabled: bool = True
    danger: bool = False


class ContextMenu:
    """The app's one popup menu. `show(entries)` opens it at the mouse."""

    def __init__(self, app):
        self.app = app
        self.win = dpg.add_window(popup=True, show=False, autosize=True, no_title_bar=True,
                                  no_saved_settings=True, min_size=[160, 20])
        self.entries: list[MenuEntry] = []
        self.items: dict[str, int] = {}

    def show(self, entries: list[MenuEntry], pos: tuple[float, float] | None = None) -> None:
        dpg.delete_item(self.win, children_only=True)
        self.entries = entries
        self.items = {}
        for e in entries:
            if e.run is None:
                dpg.add_separator(parent=self.win)
                continue
            item = dpg.add_selectable(label=e.label, parent=self.win, enabled=e.enabled,
                                      callback=self._on_pick, user_data=e.label)
            if e.danger and "danger_text" in self.app.themes:
                dpg.bind_item_theme(item, self.app.themes["danger_text"])
            self.items[e.label] = item
        x, y = pos if pos is not None else dpg.get_mouse_pos(local=False)
        dpg.set_item_pos(self.win, [int(x), int(y)])
        dpg.configure_item(self.win, show=True)
        dpg.focus_item(self.win)

    @property
    def is_open(self) -> bool:
        return dpg.does_item_exist(self.win) and dpg.is_item_shown(self.win)

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.entries if e.run is not None]

    def hide(self) -> None:
        if dpg.does_item_exist(self.win) and dpg.is_item_shown(self.win):
            dpg.configure_item(self.win, show=False)
            # A modal opened in the frame a popup closes is closed at once by ImGui's popup stack
            # (measured, see Dialogs._show_now): a confirm that follows waits one frame.
            if hasattr(self.app.dialogs, "_closed_at"):
                self.app.dialogs._closed_at = self.app.frames

    def _on_pick(self, sender, value, label) -> None:
        self.invoke(label)

    def invoke(self, label: str) -> None:
        """Run an entry by its label (what a click on it does); the menu closes first."""
        self.hide()
        for e in self.entries:
            if e.label == label and e.run is not None and e.enabled:
                e.run()
                return
        raise KeyError(f"no enabled menu entry {label!r} (have {self.labels})")


def menu(app) -> ContextMenu:
    """The app's context menu, made on first use (after the viewport exists)."""
    m = getattr(app, "_context_menu", None)
    if m is None or not dpg.does_item_exist(m.win):
        m = ContextMenu(app)
        app._context_menu = m
    return m


# -- shared take actions ------------------------------------------------------------------------------

def toggle_star(app, take_id: str, shot_id: int | None = None) -> str | None:
    """Star / unstar a take exactly (S twice = no change) and say so in a toast. Uses
    ops.takes.toggle_star where it exists (its label is the toast), else star_take."""
    from aimms_fast.ops import takes as ops_takes
    from aimms_fast.store.takes import get_take
    if app.project is None:
        return None      # read-only projects: the op refuses with a message that says why
    fn = getattr(ops_takes, "toggle_star", None)
    if fn is not None:
        res = app.run_op(lambda: fn(app.project, take_id), title="Could not star")
        if res is None:
            return None
        label = res.label
        sid = getattr(res, "shot_id", None) or shot_id
    else:
        t = get_take(app.project.conn, take_id)
        if t is None:
            return None
        on = not bool(t.starred)
        val = app.run_op(lambda: ops_takes.star_take(app.project, take_id, on=on), title="Could not star")
        if val is None:
            return None
        label = f"{'Starred' if val else 'Unstarred'} take {t.take_number:02d}"
        sid = t.shot_id
    if sid is None:
        t = get_take(app.project.conn, take_id)
        sid = t.shot_id if t else None
    app.notify("takes", [sid] if sid is not None else None)
    # app.run_op has already said it: "<label> · Ctrl+Z to undo"
    return label


def reveal(app, rel: str) -> None:
    """Open the folder holding a take's file in the desktop's file manager."""
    lay = app.project.layout
    path = lay.abs(rel) if lay.is_inside(rel) else None  # issue 14: never reveal outside the project
    app.opener(path.parent if path is not None and path.parent.exists() else app.project.root)


def copy_path(app, rel: str) -> str:
    lay = app.project.layout
    path = str(lay.abs(rel)) if lay.is_inside(rel) else str(rel)
    dpg.set_clipboard_text(path)
    app.toast(f"copied {path}")
    return path


def replace(app, take_id: str) -> None:
    """Pick a new file for a take and replace it (the old file is kept in the backup)."""
    from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS
    from aimms_fast.store.takes import get_take
    t = get_take(app.project.conn, take_id)
    if t is None:
        return
    exts = sorted(IMAGE_EXTS if t.storyboard == "image" else VIDEO_EXTS)

    def go(files: list[Path]) -> None:
        from aimms_fast.ops.takes import replace_take
        rel = app.run_op(lambda: replace_take(app.project, take_id, files[0]), title="Could not replace")
        if rel:
            if app.services is not None:
                app.services.forget_states([rel, t.file_path])
            app.textures.invalidate([rel, t.file_path])
            app.notify("takes", [t.shot_id])
            app.toast(f"replaced take {t.take_number:02d}")
    app.dialogs.pick_files(f"Replace take {t.take_number:02d}", exts, go, multiple=False,
                           kind="image" if t.storyboard == "image" else "video")


def delete(app, take_id: str) -> None:
    """Ask, then move the take (and its workflow PNG) to the project trash."""
    from aimms_fast.ops.takes import delete_take
    from aimms_fast.store.takes import get_take
    t = get_take(app.project.conn, take_id)
    if t is None:
        return

    def go():
        if app.run_op(lambda: delete_take(app.project, take_id), title="Could not delete") is not None:
            app.notify("takes", [t.shot_id])
            app.toast(f"take {t.take_number:02d} moved to the trash (Ctrl+Z brings it back)")
    app.dialogs.confirm("Delete take", f"Delete take {t.take_number:02d} ({t.file_path})"
                        + (" and its workflow PNG" if t.companion_path else "")
                        + "? It goes to the project trash; Ctrl+Z brings it back.", go)


def take_entries(app, take_id: str | None, *, shot_id: int, storyboard: str,
                 open_shot: bool = True) -> list[MenuEntry]:
    """The menu for a card or take. Entries that need a take are greyed out without one."""
    from aimms_fast.ui import review
    has = take_id is not None
    rw = has and not app.readonly
    from aimms_fast.store.takes import get_take
    t = get_take(app.project.conn, take_id) if has else None
    starred = bool(t and t.starred)
    rel = t.file_path if t else None
    out = [MenuEntry("Play", lambda: review.dispatch(app, "play", take_id=take_id, shot_id=shot_id,
                                                     storyboard=storyboard), enabled=has)]
    if open_shot:
        out.append(MenuEntry("Open shot", lambda: app.open_shot(shot_id, storyboard)))
    out += [
        MenuEntry("Unstar" if starred else "Star", lambda: toggle_star(app, take_id, shot_id), enabled=rw),
        MenuEntry("Replace…", lambda: replace(app, take_id), enabled=rw),
        *approval_entries(app, take_id, shot_id, rw),  # issue 12
        # issue 12: the shot's star on this storyboard (a card stands for the shot, not only its take)
        *(approval_entries(app, None, shot_id, not app.readonly, kind="star", ident=f"{shot_id}:{storyboard}",
                           noun="star") if open_shot else []),
        MenuEntry("", None),
        MenuEntry("Reveal in folder", lambda: reveal(app, rel), enabled=bool(rel)),
        MenuEntry("Copy path", lambda: copy_path(app, rel), enabled=bool(rel)),
        MenuEntry("", None),
        MenuEntry("Delete…", lambda: delete(app, take_id), enabled=rw, danger=True),
    ]
    return out


def approval_entries(app, take_id: str | None, shot_id: int | None, rw: bool, *, kind: str = "take",
                     ident=None, noun: str = "", changed: str = "takes") -> list[MenuEntry]:
    """Approve / Lock / Unlock an item (ops/approvals.py: a take, `kind="star"` with ident
    "<shot id>:image|video", an asset or a character version), as the author from Settings. `noun`
    is appended to the labels ("Lock star"). A refusal or error is shown by app.run_op."""
    from aimms_fast.ops import approvals as AP
    ident = take_id if ident is None else ident
    a = AP.state(app.project, kind, ident) if ident is not None else None
    sfx = f" {noun}" if noun else ""

    def run(fn, on):
        if app.run_op(lambda: fn(app.project, kind, ident, on=on) or True, title="Could not change the approval") \
                is not None:
            app.notify(changed, [shot_id] if shot_id is not None else None)
    rw = rw and ident is not None
    return [MenuEntry(("Unapprove" if a and a.approved else "Approve") + sfx,
                      lambda: run(AP.approve, not (a and a.approved)), enabled=rw and not (a and a.locked)),
            MenuEntry(("Unlock" if a and a.locked else "Lock") + sfx, lambda: run(AP.lock, not (a and a.locked)),
                      enabled=rw)]


def shot_entries(app, shot_id: int, *, on_edit: Callable[[], None] | None = None,
                 on_delete: Callable[[], None] | None = None) -> list[MenuEntry]:
    """The menu for a Shots-table row: the shot's chosen video plays; star/replace act on a take,
    so they live on the cards, not here."""
    from aimms_fast.store.storyboard import load_storyboard, project_exists
    from aimms_fast.ui import review
    rows = load_storyboard(app.project.conn, "video", shot_id=shot_id, exists=project_exists(app.project))
    vid = rows[0].take_id if rows else None
    folder = app.project.layout.shot_dir(shot_id)
    rw = not app.readonly

    def copy_folder():
        dpg.set_clipboard_text(str(folder))
        app.toast(f"copied {folder}")
    return [
        MenuEntry("Play", lambda: review.dispatch(app, "play", take_id=vid, shot_id=shot_id, storyboard="video"),
                  enabled=vid is not None),
        MenuEntry("Open shot", lambda: app.open_shot(shot_id, "image")),
        MenuEntry("Edit…", on_edit or (lambda: None), enabled=rw and on_edit is not None),
        MenuEntry("", None),
        MenuEntry("Reveal in folder", lambda: app.opener(folder if folder.exists() else app.project.root)),
        MenuEntry("Copy path", copy_folder),
        MenuEntry("", None),
        MenuEntry("Delete…", on_delete or (lambda: None), enabled=rw and on_delete is not None, danger=True),
    ]
