"""Script page (issue 12): import a Fountain script (preview dialog, ui/script_import.py), the
per-scene breakdown (ops/breakdown.py), the characters with their versions and scenes
(ops/characters.py), and the per-section approval summary (ops/approvals.py). UI thread only."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError
from aimms_fast.ui.page import Page

DIM = (160, 165, 175)


def _table(parent, cols, height):
    t = dpg.add_table(parent=parent, header_row=True, resizable=True, policy=dpg.mvTable_SizingStretchProp,
                      scrollY=True, row_background=True, height=height, borders_innerH=True)
    for label, w in cols:
        dpg.add_table_column(label=label, parent=t, init_width_or_weight=w)
    return t


class ScriptPage(Page):
    name = "script"
    title = "Script"

    def build(self, parent) -> None:
        from aimms_fast.ui.script_import import ScriptImportDialog
        self.dialog = ScriptImportDialog(self.app, on_done=lambda d: self._after_import(d))
        with dpg.group(parent=parent, horizontal=True):
            self.path_input = dpg.add_input_text(hint="path to a .fountain screenplay", width=420)
            self.app.register_text_input(self.path_input)
            dpg.add_button(label="Browse…", callback=lambda: self.browse_script())
            self.gran = dpg.add_radio_button(["beat", "scene"], default_value="beat", horizontal=True)
            dpg.add_button(label="Preview import…", callback=lambda: self.open_preview())
            dpg.add_button(label="Detect characters", callback=lambda: self.detect())
            self.status = dpg.add_text("", color=DIM)
        dpg.add_text("Breakdown (screen time: Storyboarder's word rate)", parent=parent)
        self.scenes = _table(parent, [("#", 0.3), ("Heading", 2.2), ("Location", 1.2), ("Time", 0.6),
                                      ("Cast (speaking)", 2.0), ("Mentioned", 1.2), ("Est.", 0.5),
                                      ("Shots", 0.5), ("Img ★", 0.5), ("Vid ★", 0.5)], 300)
        dpg.add_text("Characters", parent=parent)
        with dpg.group(parent=parent, horizontal=True):
            self.char_pick = dpg.add_combo([], width=160, callback=lambda: self._fill_versions())
            self.stage_pick = dpg.add_combo(["concept", "casting", "final", "alternate"], default_value="final",
                                            width=100)
            self.slot_inputs = {}
            for slot in ("front", "side", "back"):
                self.slot_inputs[slot] = dpg.add_input_text(hint=f"{slot} image", width=150)
                self.app.register_text_input(self.slot_inputs[slot])
                dpg.add_button(label="…", user_data=slot, callback=lambda s, a, u: self.browse_slot(u))
            dpg.add_button(label="Add version", callback=lambda: self.add_version())
        with dpg.group(parent=parent, horizontal=True):
            self.version_pick = dpg.add_combo([], width=110, callback=lambda: self._fill_version_buttons())
            dpg.add_button(label="Roll back", callback=lambda: self.rollback())
            self.approve_btn = dpg.add_button(label="Approve version", callback=lambda: self.approve_version())
            self.lock_btn = dpg.add_button(label="Lock version", callback=lambda: self.lock_version())
            dpg.add_spacer(width=16)
            dpg.add_button(label="Rename…", callback=lambda: self.rename_dialog())
            dpg.add_button(label="Merge into…", callback=lambda: self.merge_dialog())
        self.chars = _table(parent, [("Name", 1.2), ("Aliases", 1.4), ("Active version", 1.2), ("Versions", 1.6),
                                     ("Scenes", 1.4), ("Shots", 0.5), ("Approval", 1.2)], 220)
        dpg.add_text("Approvals per section", parent=parent)
        self.approvals = _table(parent, [("Section", 2.5), ("Shots", 0.6), ("Takes", 0.6), ("Approved", 0.7),
                                         ("Locked", 0.7), ("Shots with approved star", 1.2)], -1)
        self.scene_rows: list = []
        self.char_rows: list = []
        self.section_rows: list = []

    def on_project(self, project) -> None:
        if self.visible or project is None:   # a hidden page loads when shown (on_show)
            self._show()

    def on_show(self) -> None:
        self._show()

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if self.visible:
            self._show()

    def open_preview(self, path: str | None = None, granularity: str | None = None) -> None:
        if self.project is None:
            return
        path = path or (dpg.get_value(self.path_input) or "").strip()
        if not path:
            dpg.set_value(self.status, "type or paste the path of a .fountain file first")
            return
        self.dialog.preview(path, granularity or dpg.get_value(self.gran))

    def browse_script(self) -> None:
        def go(files) -> None:
            dpg.set_value(self.path_input, str(files[0]))
            self.open_preview(str(files[0]))
        self.app.dialogs.pick_files("Import a screenplay", [".fountain", ".spmd", ".txt"], go, multiple=False)

    def browse_slot(self, slot: str):
        """Pick the image for the next version's front/side/back slot."""
        from aimms_fast.ops.files import IMAGE_EXTS
        return self.app.dialogs.pick_files(f"{slot.capitalize()} image", sorted(IMAGE_EXTS),
                                           lambda files: dpg.set_value(self.slot_inputs[slot], str(files[0])),
                                           multiple=False, kind="image")

    # -- the picked character and version --------------------------------------------------------
    def _character(self):
        name = dpg.get_value(self.char_pick)
        return next((c for c in self.char_rows if c.name == name), None)

    def _version(self):
        ch, v = self._character(), dpg.get_value(self.version_pick) or ""
        if ch is None or not v.startswith("v"):
            return None
        return next((x for x in ch.versions if x.number == int(v[1:].split()[0])), None)

    def _fill_version_buttons(self) -> None:
        from aimms_fast.ops import approvals as AP
        v = self._version()
        a = AP.state(self.project, "charver", v.id) if v and self.project else None
        dpg.configure_item(self.approve_btn, label="Unapprove version" if a and a.approved else "Approve version",
                           enabled=bool(v) and not (a and a.locked))
        dpg.configure_item(self.lock_btn, label="Unlock version" if a and a.locked else "Lock version",
                           enabled=bool(v))

    def _set_version_flag(self, fn_name: str, flag: str) -> None:
        from aimms_fast.ops import approvals as AP
        v = self._version()
        if v is None:
            dpg.set_value(self.status, "pick a character and a version first")
            return
        a = AP.state(self.project, "charver", v.id)
        on = not (a and getattr(a, flag))
        if self.app.run_op(lambda: getattr(AP, fn_name)(self.project, "charver", v.id, on=on) or True,
                           title="Could not change the approval") is not None:
            self.app.notify("all")
            self._show()

    def approve_version(self) -> None:
        self._set_version_flag("approve", "approved")

    def lock_version(self) -> None:
        self._set_version_flag("lock", "locked")

    def rename_dialog(self):
        ch = self._character()
        if ch is None:
            return None
        return self.app.dialogs.prompt("Rename character", "name", lambda v: self.rename(ch.name, v),
                                       default=ch.name, ok="Rename")

    def rename(self, name: str, new_name: str) -> None:
        from aimms_fast.ops.characters import rename
        if self.app.run_op(lambda: rename(self.project, name, new_name) or True, title="Could not rename") is not None:
            self.app.notify("all")
            dpg.set_value(self.char_pick, new_name.strip())
            self._show()

    def merge_dialog(self):
        """Fold the picked character into another one (STEEL into MR. STEEL): asks for the name to keep."""
        ch = self._character()
        if ch is None:
            return None
        others = ", ".join(c.name for c in self.char_rows if c.name != ch.name)[:200]
        return self.app.dialogs.prompt(f"Merge {ch.name} into…", "keep", lambda v: self.merge(v.strip(), [ch.name]),
                                       ok="Merge", hint=others)

    def merge(self, keep: str, others: list[str]) -> None:
        from aimms_fast.ops.characters import merge
        if self.app.run_op(lambda: merge(self.project, keep, others) or True, title="Could not merge") is not None:
            self.app.notify("all")
            dpg.set_value(self.char_pick, keep)
            self._show()

    def _after_import(self, d) -> None:
        self.app.toast(f"Imported {d.script.title or 'script'}: {d.summary()}")
        self._show()

    def detect(self) -> list[str]:
        from aimms_fast.ops.characters import detect
        try:
            new = detect(self.project)
        except AimmsError as e:
            self.app.show_error("Cannot detect characters", e)
            return []
        self.app.toast(f"{len(new)} new character(s)" + (f": {', '.join(new[:6])}" if new else ""))
        self.app.notify("all")
        return new

    def _fill_versions(self) -> None:
        name = dpg.get_value(self.char_pick)
        ch = next((c for c in self.char_rows if c.name == name), None)
        items = [f"v{v.number} {v.stage}" for v in ch.versions] if ch else []
        dpg.configure_item(self.version_pick, items=items)
        act = ch.active if ch else None
        dpg.set_value(self.version_pick, f"v{act.number} {act.stage}" if act else (items[-1] if items else ""))
        self._fill_version_buttons()

    def add_version(self, name: str | None = None, stage: str | None = None, images: dict | None = None):
        """The form's character, stage and image paths (empty slots stay empty). Returns the version id."""
        from aimms_fast.ops.characters import add_version
        name = name or dpg.get_value(self.char_pick)
        stage = stage or dpg.get_value(self.stage_pick)
        if images is None:
            images = {k: v.strip() for k, w in self.slot_inputs.items() if (v := dpg.get_value(w) or "").strip()}
        if not name:
            dpg.set_value(self.status, "pick a character first")
            return None
        vid = self.app.run_op(lambda: add_version(self.project, name, stage, images=images),
                              title="Could not add the version")
        if vid is not None:
            self.app.notify("all")
            self._show()
        return vid

    def rollback(self) -> None:
        from aimms_fast.ops.characters import rollback
        name, v = dpg.get_value(self.char_pick), dpg.get_value(self.version_pick) or ""
        if not name or not v.startswith("v"):
            return
        if self.app.run_op(lambda: rollback(self.project, name, int(v[1:].split()[0])),
                           title="Could not roll back") is not None:
            self.app.notify("all")
            self._show()

    def _show(self) -> None:
        import sqlite3
        try:
            self._fill()
        except sqlite3.OperationalError:  # opened read-only before m009 could run: nothing to show
            dpg.set_value(self.status, "this project has no script tables yet (open it writable once)")

    def _fill(self) -> None:
        from aimms_fast.ops import approvals as AP
        from aimms_fast.ops import breakdown as B
        from aimms_fast.ops import characters as OC
        for t in (self.scenes, self.chars, self.approvals):
            dpg.delete_item(t, children_only=True, slot=1)
        self.scene_rows, self.char_rows, self.section_rows = [], [], []
        if self.project is None:
            return
        try:
            self.scene_rows = B.breakdown(self.project)
        except AimmsError:
            dpg.set_value(self.status, "no script imported yet")
        scene_of = {sid: s.index for s in self.scene_rows for sid in s.shot_ids}
        for s in self.scene_rows:
            with dpg.table_row(parent=self.scenes):
                for v in (s.index, s.heading, s.location, s.time_of_day, ", ".join(s.speaking),
                          ", ".join(s.mentioned), f"{s.est_seconds:.0f}s", s.shots, s.with_image, s.with_video):
                    dpg.add_text(str(v), wrap=0)
        self.char_rows = OC.list_characters(self.project)
        for c in self.char_rows:
            a = AP.state(self.project, "asset", c.id_key)
            va = AP.state(self.project, "charver", c.active.id) if c.active else None
            with dpg.table_row(parent=self.chars):
                dpg.add_text(c.name)
                dpg.add_text(", ".join(c.aliases), wrap=0)
                dpg.add_text(f"v{c.active.number} {c.active.stage}" if c.active else "-")
                dpg.add_text(" · ".join(f"v{v.number} {v.stage}" for v in c.versions) or "-", wrap=0)
                dpg.add_text(", ".join(str(n) for n in sorted({scene_of[s] for s in c.shot_ids if s in scene_of})),
                             wrap=0)
                dpg.add_text(str(len(c.shot_ids)))
                dpg.add_text(" · ".join(x for x in (
                    "locked" if a and a.locked else "approved" if a and a.approved else "",
                    f"v{c.active.number} locked" if va and va.locked else
                    f"v{c.active.number} approved" if va and va.approved else "") if x))
        names = [c.name for c in self.char_rows]
        dpg.configure_item(self.char_pick, items=names)
        if dpg.get_value(self.char_pick) not in names:
            dpg.set_value(self.char_pick, names[0] if names else "")
        self._fill_versions()
        self.section_rows = AP.section_summary(self.project)
        for s in self.section_rows:
            with dpg.table_row(parent=self.approvals):
                for v in (s.section or "(no section)", s.shots, s.takes, s.approved, s.locked,
                          s.shots_with_approved_star):
                    dpg.add_text(str(v), wrap=0)
        if self.scene_rows:
            dpg.set_value(self.status, f"{len(self.scene_rows)} scenes, {len(self.char_rows)} characters")
