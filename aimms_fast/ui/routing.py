"""Routing page: a matrix of shots × {image takes, video takes, workflow PNGs, starred, assets},
each cell ok / warning / problem with its count (ops/check.py decides), a summary line, a
"problems only" filter and a click on a cell to open that shot's window. Virtualized (the table's
clipper draws only the visible rows of 600 shots). It rechecks itself whenever the app reports a
change (app.notify -> on_data_changed), so a fix made on the Unused page shows here at once. The
check is stat-only and runs on a background thread; sqlite stays on the UI thread."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ops import check as CK
from aimms_fast.ops import housekeeping as HK
from aimms_fast.ui.scan_page import ScanPage

# Glyphs of DejaVu Sans (the bundled UI font) and the colours they are drawn in.
MARK = {CK.OK: "\u2713", CK.WARN: "!", CK.BAD: "\u2717", CK.NONE: ""}
COLOUR = {CK.OK: (90, 200, 110), CK.WARN: (235, 180, 60), CK.BAD: (255, 90, 80), CK.NONE: (140, 140, 140)}
STORYBOARD = {"images": "image", "videos": "video", "pngs": "video", "starred": "video", "assets": "image"}


class RoutingPage(ScanPage):
    name = "routing"
    title = "Routing"
    button_label = "Check again"
    failed_label = "check failed"

    def build(self, parent) -> None:
        self.build_header(parent)
        with dpg.group(parent=parent, horizontal=True):
            self.only_bad = dpg.add_checkbox(label="Problems only", callback=lambda: self._fill())
            self.summary = dpg.add_text("")
        self.problems_text = dpg.add_text("", parent=parent, wrap=0, show=False)
        self.table = dpg.add_table(parent=parent, header_row=True, clipper=True, scrollY=True, height=-1, freeze_rows=1,
                                   row_background=True, resizable=True, borders_innerV=True,
                                   policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(self.table, self.app.themes["table"])
        for label, w in [("id", 0.35), ("shot", 1.6)] + [(CK.COLUMN_TITLES[c], 1.0) for c in CK.COLUMNS]:
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=w)
        self.themes = {}
        for state, rgb in COLOUR.items():
            with dpg.theme() as t:
                with dpg.theme_component(dpg.mvAll):
                    dpg.add_theme_color(dpg.mvThemeCol_Text, rgb)
            self.themes[state] = t
        self.check: CK.CheckResult | None = None
        self.result: dict | None = None
        self.cells: dict[tuple[int, str], int] = {}   # (shot_id, column) -> selectable (tests click them)

    def clear(self) -> None:
        self.check = self.result = None
        self.cells = {}
        dpg.delete_item(self.table, children_only=True, slot=1)
        dpg.set_value(self.summary, "")
        dpg.set_value(self.problems_text, "")

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        self._scanned_for = None
        if self.visible:
            self.scan()

    def start(self, project):
        def work():   # its own connection (project.for_job): nothing of the check on the UI thread
            inp, s = HK.survey_in_job(project, duplicates=False, trash=False)
            r = CK.result_from(inp, s)
            CK.add_outside_rows(project, r)   # trash/pending/history rows leading out (issue 14)
            return r
        return work, "checking …"

    def show(self, result: CK.CheckResult) -> None:
        self.check = result
        self.result = {"counts": result.storyboards, "problems": result.counts, "healthy": result.healthy}
        dpg.set_value(self.status, "healthy: nothing to fix" if result.healthy else
                      "problems found: fix them on the Unused page (Ctrl+5)")
        dpg.set_value(self.summary, result.summary())
        # Paths outside the project are listed by name too: the matrix cell only counts them as gone.
        others = [p for p in result.problems if p.shot_id is None or p.kind in ("orphan", "empty_folder", "outside")]
        dpg.set_value(self.problems_text, "" if not others else
                      "Also: " + ", ".join(f"{'outside the project' if p.kind == 'outside' else p.kind} {p.path}"
                                           for p in others[:8])
                      + (f" … and {len(others) - 8} more" if len(others) > 8 else ""))
        dpg.configure_item(self.problems_text, show=bool(others))
        self._fill()

    def _fill(self) -> None:
        dpg.delete_item(self.table, children_only=True, slot=1)
        self.cells = {}
        r = self.check
        if r is None:
            return
        only = dpg.get_value(self.only_bad)
        for row in r.rows:
            if only and not row.bad:
                continue
            with dpg.table_row(parent=self.table):
                dpg.add_text(str(row.shot_id))
                dpg.add_selectable(label=row.shot_name, user_data=(row.shot_id, "image"),
                                   callback=lambda s, a, u: self._open(s, u))
                for col in CK.COLUMNS:
                    c = row.cells[col]
                    sel = dpg.add_selectable(label=f"{MARK[c.state]} {c.text}".strip(), user_data=(row.shot_id, STORYBOARD[col]),
                                             callback=lambda s, a, u: self._open(s, u))
                    dpg.bind_item_theme(sel, self.themes[c.state])
                    self.cells[(row.shot_id, col)] = sel

    def _open(self, sender, user) -> None:
        dpg.set_value(sender, False)          # a cell is a button here, not a toggle
        shot_id, storyboard = user
        self.app.open_shot(shot_id, storyboard)
