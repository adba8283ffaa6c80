"""Unused page: media files under media/ (and the older assets/) that no take or asset refers to
(left-overs of deletes made outside the app, files copied in by hand, AIMMS's own orphans). The
scan (ops/housekeeping.py) walks the folders on a background thread; the list shows path, size
and modification time."""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

from aimms_fast.ops.housekeeping import referenced_paths, scan_roots, scan_unused
from aimms_fast.ui.scan_page import MAX_ROWS, ScanPage


class UnusedPage(ScanPage):
    name = "unused"
    title = "Unused"

    def build(self, parent) -> None:
        self.build_header(parent)
        self.table = self.list_table(parent, [("file", 4.0), ("size", 1.0), ("modified", 1.4)])
        self.files: list[dict] = []

    def clear(self) -> None:
        self.files = []
        dpg.delete_item(self.table, children_only=True, slot=1)

    def start(self, project):
        refs = referenced_paths(project.conn)       # sqlite stays on this thread
        root, dirs = project.root, scan_roots(project.layout)
        return (lambda: scan_unused(root, dirs, refs)), "scanning media/ …"

    def show(self, result) -> None:
        self.files = result
        dpg.delete_item(self.table, children_only=True, slot=1)
        total = sum(f["size"] for f in self.files)
        for f in self.files[:MAX_ROWS]:
            with dpg.table_row(parent=self.table):
                dpg.add_text(f["path"])
                dpg.add_text(f"{f['size']:,}")
                dpg.add_text(time.strftime("%Y-%m-%d %H:%M", time.localtime(f["mtime"])))
        more = f" (first {MAX_ROWS} shown)" if len(self.files) > MAX_ROWS else ""
        dpg.set_value(self.status, f"{len(self.files)} unused file(s), {total / 2**20:.1f} MB{more}"
                      if self.files else "no unused files under media/")
