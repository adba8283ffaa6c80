"""Routing page: takes whose file is not where the database says (moved, renamed, deleted outside
the app), counted per storyboard and listed, so they can be found and relinked. Placeholders are
counted separately (they are expected to be empty). The check is ops/housekeeping.py's."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ops.housekeeping import check_take_files, take_file_rows
from aimms_fast.ui.scan_page import MAX_ROWS, ScanPage


class RoutingPage(ScanPage):
    name = "routing"
    title = "Routing"
    button_label = "Check again"
    failed_label = "check failed"

    def build(self, parent) -> None:
        self.build_header(parent)
        self.summary = dpg.add_table(parent=parent, header_row=True, row_background=True,
                                     borders_innerV=True, policy=dpg.mvTable_SizingStretchProp, height=130)
        for label in ("storyboard", "takes", "file missing", "placeholders"):
            dpg.add_table_column(label=label, parent=self.summary)
        dpg.add_text("Takes whose file is missing", parent=parent)
        self.table = self.list_table(parent, [("shot id", 0.6), ("shot", 1.6), ("kind", 0.8),
                                              ("recorded path", 3.0)])
        self.result: dict | None = None

    def clear(self) -> None:
        self.result = None
        dpg.delete_item(self.table, children_only=True, slot=1)
        dpg.delete_item(self.summary, children_only=True, slot=1)

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        self._scanned_for = None
        if self.visible:
            self.scan()

    def start(self, project):
        rows = take_file_rows(project.conn)         # sqlite stays on this thread
        root = project.root
        return (lambda: check_take_files(root, rows)), f"checking {len(rows)} files …"

    def show(self, result) -> None:
        self.result = r = result
        dpg.delete_item(self.summary, children_only=True, slot=1)
        dpg.delete_item(self.table, children_only=True, slot=1)
        for kind, c in sorted(r["counts"].items()):
            with dpg.table_row(parent=self.summary):
                dpg.add_text(kind)
                dpg.add_text(str(c["takes"]))
                dpg.add_text(str(c["missing"]), color=(255, 110, 100) if c["missing"] else None)
                dpg.add_text(str(c["placeholders"]))
        for m in r["missing"][:MAX_ROWS]:
            with dpg.table_row(parent=self.table):
                dpg.add_text(str(m["shot_id"]))
                dpg.add_text(m["shot_name"])
                dpg.add_text(m["kind"])
                dpg.add_text(m["path"] or "(no path)")
        n = len(r["missing"])
        dpg.set_value(self.status, f"{n} take(s) point at a missing file" if n else "every take's file is in place")
