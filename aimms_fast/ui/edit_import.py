"""File > Read an Edited Timeline…: an editor's changes to an exported cut (.otio, FCP 7 .xml,
.fcpxml, .edl, .kdenlive) shown as a list the user applies or rejects.

Reading (export/reimport.py `read_edit`: parses the file, probes nothing, changes nothing) and
applying (`apply_edit`: one transaction through ops) both run as app jobs on the job's own
connection. Nothing changes until Apply; Reject just closes the list.

Undo: `apply_edit` makes the new order and each star change through ops (ops.shots.reorder,
ops.takes.star_take), so each is its own step on the undo stack (Ctrl+Z takes them back one at a
time, the last star first). The trims go straight to `fast_take_trims` (store/export.py) and are
not on the undo stack; the dialog says so, and reading the original export again proposes them
back. UI thread only.
"""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.ui import theme as T

EDIT_EXTS = [".otio", ".xml", ".fcpxml", ".edl", ".kdenlive", ".mlt"]
UNDO_NOTE = ("Apply makes every change at once. Ctrl+Z then takes back the order and the take changes "
             "one step at a time; new in/out points are stored per take and are not on the undo stack "
             "(reading the original export again proposes the old ones back).")


def change_lines(diff) -> list[tuple[str, str]]:
    """(kind, text) for every proposed change, as the dialog lists them. Any thread (pure)."""
    out: list[tuple[str, str]] = []
    if diff.order:
        for m in diff.order.moves:
            out.append(("order", f"{m.shot_name}: moves from #{m.old_position} to #{m.new_position}"))
    for s in diff.stars:
        old = f"take {s.old_take_number}" if s.old_take_id else "no starred take"
        out.append(("take", f"{s.shot_name}: {old} -> take {s.new_take_number}"))
    for t in diff.trims:
        new = "the whole file" if t.clear else f"{t.new_in_s:.3f}-{t.new_out_s:.3f} s"
        what = "hold" if diff.storyboard == "image" else "in/out"
        out.append(("trim", f"{t.shot_name} take {t.take_number}: {what} {t.old_in_s:.3f}-{t.old_out_s:.3f} s "
                            f"-> {new} ({t.new_out_s - t.new_in_s:.2f} s)"))
    return out


def headline(diff) -> str:
    n = len(diff.changes)
    return (f"{diff.source.name}: {diff.clips_read} clip{'s' * (diff.clips_read != 1)} read "
            f"({diff.format}, {diff.storyboard} storyboard, {diff.fps:g} fps): "
            + (f"{n} proposed change{'s' * (n != 1)}" if n else "it matches the project, nothing to change"))


def pick_edit(app) -> None:
    """Ask for the edited file, then read it (UI thread)."""
    p = app.project
    start = None
    try:
        from aimms_fast.ui.export_dialog import _last_folder
        start = _last_folder.get(str(p.root))
    except ImportError:
        pass
    app.dialogs.pick_files("Read an edited timeline", EDIT_EXTS, lambda files: read_edit_flow(app, files[0]),
                           multiple=False, start=start)


def read_edit_flow(app, path: Path, *, storyboard: str | None = None):
    """Read `path` on a job; on success show the diff dialog. Returns the Job (or None)."""
    from aimms_fast.export.reimport import read_edit
    return app.run_job(lambda progress, cancel, jp: read_edit(jp, path, storyboard=storyboard),
                       title="Read the edit", label=f"Reading {Path(path).name} and matching its clips to takes…",
                       on_done=lambda diff: EditDiffDialog(app, diff), mutating=False, cancellable=False)


class EditDiffDialog:
    """The proposed changes with Apply / Reject. Tests read `lines` and the dialog's text items and
    press its buttons."""

    def __init__(self, app, diff):
        global last_opened
        last_opened = self
        self.app, self.diff = app, diff
        self.lines = change_lines(diff)
        self.applied = None      # apply_edit's counts once applied
        self.job = None
        vw = dpg.get_viewport_client_width() or 1280
        vh = dpg.get_viewport_client_height() or 800
        w, h = min(860, vw - 40), min(600, vh - 60)
        self.win = app.dialogs._window(f"Edited timeline: {diff.source.name}", w, h)
        T.text(app, self.win, headline(diff), "heading", wrap=w - 30)
        body = dpg.add_child_window(parent=self.win, height=-(80 if self.lines else 40), border=True)
        titles = {"order": "Shot order", "take": "Takes (star moves to another take)", "trim": "In/out points"}
        for kind in ("order", "take", "trim"):
            mine = [text for k, text in self.lines if k == kind]
            if not mine:
                continue
            T.text(app, body, f"{titles[kind]} ({len(mine)})", "heading")
            for text in mine:
                with dpg.group(parent=body, horizontal=True):
                    dpg.add_spacer(width=12)
                    dpg.add_text(text, wrap=w - 80)
            dpg.add_spacer(parent=body, height=4)
        if diff.notes:
            T.text(app, body, "Notes", "heading")
            for n in diff.notes:
                with dpg.group(parent=body, horizontal=True):
                    dpg.add_spacer(width=12)
                    T.text(app, 0, n, "dim", wrap=w - 80)
        if self.lines:
            T.text(app, self.win, UNDO_NOTE, "dim", wrap=w - 30)
        with dpg.group(parent=self.win, horizontal=True):
            if self.lines:
                n = len(diff.changes)
                self.apply_button = dpg.add_button(label=f"Apply {n} change{'s' * (n != 1)}", width=170,
                                                   callback=lambda: self.apply(), enabled=not app.readonly)
                dpg.add_button(label="Reject", width=120, callback=lambda: self.reject())
                if app.readonly:
                    T.text(app, 0, "read-only project: nothing can be applied", "warning")
            else:
                dpg.add_button(label="Close", width=120, callback=lambda: self.reject())

    def apply(self):
        """Apply every proposal on a job (one transaction); pages reload ("all") when it ends."""
        from aimms_fast.export.reimport import apply_edit
        diff = self.diff
        self.app.dialogs.close(self.win)
        self.job = self.app.run_job(lambda progress, cancel, jp: apply_edit(jp, diff), title="Apply the edit",
                                    label=f"Applying {len(diff.changes)} change(s) from {diff.source.name}…",
                                    on_done=self._done, changed=("all",), cancellable=False)
        return self.job

    def _done(self, counts: dict) -> None:
        self.applied = counts
        parts = [f"{counts['order']} shot(s) moved" if counts.get("order") else "",
                 f"{counts['stars']} take(s) starred" if counts.get("stars") else "",
                 f"{counts['trims']} in/out change(s)" if counts.get("trims") else ""]
        undo = " · Ctrl+Z undoes it step by step (not the in/out points)" if counts.get("order") or counts.get("stars") \
            else " · in/out points are not on the undo stack"
        self.app.toast("applied the edit: " + ", ".join(p for p in parts if p) + undo, seconds=8)

    def reject(self) -> None:
        """Close; nothing changes."""
        self.app.dialogs.close(self.win)


last_opened: EditDiffDialog | None = None   # the newest dialog (tests reach it here)
