"""Routing page: takes whose file is not where the database says (moved, renamed, deleted outside
the app), counted per storyboard and listed, so they can be found and relinked. Placeholders are
counted separately (they are expected to be empty)."""
from __future__ import annotations

import os

import dearpygui.dearpygui as dpg

from aimms_fast.ui.background import BackgroundJob
from aimms_fast.ui.page import Page

MAX_ROWS = 5000
KIND = {"base_image": "image", "final_video": "video", "video_workflow": "workflow PNG", "audio_vo": "audio"}


def check_files(root, rows) -> dict:
    """rows: (take_id, shot_id, shot_name, take_type, file_path, placeholder). Pure file-system work."""
    from pathlib import Path, PurePosixPath
    counts: dict[str, dict[str, int]] = {}
    missing = []
    root = Path(root)
    for take_id, shot_id, shot_name, take_type, rel, placeholder in rows:
        c = counts.setdefault(KIND.get(take_type, take_type), {"takes": 0, "missing": 0, "placeholders": 0})
        c["takes"] += 1
        if placeholder:
            c["placeholders"] += 1
        p = root / Path(*PurePosixPath((rel or "").replace("\\", "/")).parts) if rel else None
        if p is None or not os.path.exists(p):
            c["missing"] += 1
            missing.append((shot_id, shot_name or "", KIND.get(take_type, take_type), rel or "(no path)"))
    return {"counts": counts, "missing": missing}


class RoutingPage(Page):
    name = "routing"
    title = "Routing"

    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Check again", callback=lambda: self.scan())
            self.status = dpg.add_text("")
        self.summary = dpg.add_table(parent=parent, header_row=True, row_background=True,
                                     borders_innerV=True, policy=dpg.mvTable_SizingStretchProp, height=130)
        for label in ("storyboard", "takes", "file missing", "placeholders"):
            dpg.add_table_column(label=label, parent=self.summary)
        dpg.add_text("Takes whose file is missing", parent=parent)
        self.table = dpg.add_table(parent=parent, header_row=True, clipper=True, scrollY=True, height=-1,
                                   row_background=True, resizable=True, borders_innerV=True,
                                   policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(self.table, self.app.themes["table"])
        for label, w in [("shot id", 0.6), ("shot", 1.6), ("kind", 0.8), ("recorded path", 3.0)]:
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=w)
        self.job = None
        self.result: dict | None = None
        self._scanned_for = None

    def on_project(self, project) -> None:
        self.job = None
        self.result = None
        self._scanned_for = None
        dpg.delete_item(self.table, children_only=True, slot=1)
        dpg.delete_item(self.summary, children_only=True, slot=1)
        dpg.set_value(self.status, "")
        if project is not None and self.visible:
            self.scan()

    def on_show(self) -> None:
        if self.project is not None and self._scanned_for is not self.project:
            self.scan()

    def refresh(self) -> None:
        self.scan()

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        self._scanned_for = None
        if self.visible:
            self.scan()

    def scan(self) -> None:
        p = self.project
        if p is None:
            return
        self._scanned_for = p
        rows = p.conn.execute(
            "SELECT t.take_id, t.shot_id, s.shot_name, t.take_type, t.file_path, COALESCE(f.placeholder, 0) "
            "FROM takes t LEFT JOIN shots s USING (shot_id) LEFT JOIN fast_takes f USING (take_id) "
            "ORDER BY s.order_number, t.shot_id, t.take_type, t.file_path").fetchall()
        root = p.root
        self.job = BackgroundJob(lambda: check_files(root, rows))
        dpg.set_value(self.status, f"checking {len(rows)} files …")

    def tick(self) -> bool:
        if self.job is None:
            return False
        if not self.job.done:
            return True
        job, self.job = self.job, None
        if job.error is not None:
            dpg.set_value(self.status, f"check failed: {job.error}")
            return False
        self.result = job.result
        self._fill()
        return False

    def _fill(self) -> None:
        r = self.result
        dpg.delete_item(self.summary, children_only=True, slot=1)
        dpg.delete_item(self.table, children_only=True, slot=1)
        for kind, c in sorted(r["counts"].items()):
            with dpg.table_row(parent=self.summary):
                dpg.add_text(kind)
                dpg.add_text(str(c["takes"]))
                dpg.add_text(str(c["missing"]), color=(255, 110, 100) if c["missing"] else None)
                dpg.add_text(str(c["placeholders"]))
        for shot_id, name, kind, rel in r["missing"][:MAX_ROWS]:
            with dpg.table_row(parent=self.table):
                dpg.add_text(str(shot_id))
                dpg.add_text(name)
                dpg.add_text(kind)
                dpg.add_text(rel)
        n = len(r["missing"])
        dpg.set_value(self.status, f"{n} take(s) point at a missing file" if n else "every take's file is in place")
