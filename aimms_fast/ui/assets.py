"""Assets page: the project's assets table (characters, locations, other) with file status."""
from __future__ import annotations

import os

import dearpygui.dearpygui as dpg

from aimms_fast.ui.page import Page

TYPES = ["all", "characters", "locations", "other"]


class AssetsPage(Page):
    name = "assets"
    title = "Assets"

    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_text("Type")
            self.type_combo = dpg.add_combo(TYPES, default_value="all", width=160, callback=lambda: self._fill())
            self.count_text = dpg.add_text("")
        self.table = dpg.add_table(parent=parent, header_row=True, clipper=True, scrollY=True, height=-1,
                                   row_background=True, resizable=True, borders_innerV=True,
                                   policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(self.table, self.app.themes["table"])
        for label, w in [("name", 2.0), ("type", 1.0), ("file", 3.0), ("starred", 0.6), ("file status", 1.0),
                         ("created", 1.4)]:
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=w)
        self.rows: list[tuple] = []

    def on_project(self, project) -> None:
        self.rows = []
        if project is not None:
            lay = project.layout
            for name, kind, rel, starred, created in project.conn.execute(
                    "SELECT asset_name, asset_type, file_path, starred, created_date FROM assets "
                    "ORDER BY asset_type, asset_name"):
                try:
                    size = os.stat(lay.abs(rel)).st_size if rel else None
                    status = "placeholder" if size == 0 else "ok"
                except OSError:
                    status = "MISSING"
                self.rows.append((name or "", kind or "", rel or "", "★" if starred else "", status, created or ""))
        self._fill()

    def _fill(self) -> None:
        kind = dpg.get_value(self.type_combo)
        rows = [r for r in self.rows if kind == "all" or r[1] == kind]
        dpg.delete_item(self.table, children_only=True, slot=1)
        for r in rows:
            with dpg.table_row(parent=self.table):
                for v in r:
                    dpg.add_text(str(v))
        if not rows:
            with dpg.table_row(parent=self.table):
                dpg.add_text("(no assets)" if self.project is not None else "")
        dpg.set_value(self.count_text, f"{len(rows)} of {len(self.rows)} assets")
