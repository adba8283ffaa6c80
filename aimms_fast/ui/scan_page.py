"""A page that shows one housekeeping scan (ops/housekeeping.py): a button to run it again, a status
line, and a list. The sqlite half runs on the UI thread, the file-system half on a BackgroundJob;
the scan reruns when the page is shown for a project it has not scanned yet."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ui.background import BackgroundJob
from aimms_fast.ui.page import Page

MAX_ROWS = 5000


class ScanPage(Page):
    button_label = "Scan again"
    failed_label = "scan failed"

    # -- what a subclass provides --
    def start(self, project) -> tuple:
        """(worker function with no arguments, status text while it runs). Runs on the UI thread."""
        raise NotImplementedError

    def show(self, result) -> None:
        """Fill the page with a finished scan's result."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget the last result (project changed)."""
        raise NotImplementedError

    # -- shared --
    def build_header(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label=self.button_label, callback=lambda: self.scan())
            self.status = dpg.add_text("")
        self.job = None
        self._scanned_for = None

    def list_table(self, parent, columns: list[tuple[str, float]]):
        """The scrolling, clipped list (one row per item) both scan pages end with."""
        table = dpg.add_table(parent=parent, header_row=True, clipper=True, scrollY=True, height=-1,
                              row_background=True, resizable=True, borders_innerV=True,
                              policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(table, self.app.themes["table"])
        for label, w in columns:
            dpg.add_table_column(label=label, parent=table, init_width_or_weight=w)
        return table

    def on_project(self, project) -> None:
        self.job = None
        self._scanned_for = None
        self.clear()
        dpg.set_value(self.status, "")
        if project is not None and self.visible:
            self.scan()

    def on_show(self) -> None:
        if self.project is not None and self._scanned_for is not self.project:
            self.scan()

    def refresh(self) -> None:
        self.scan()

    def scan(self) -> None:
        p = self.project
        if p is None:
            return
        self._scanned_for = p
        work, busy_text = self.start(p)
        self.job = BackgroundJob(work)
        dpg.set_value(self.status, busy_text)

    def tick(self) -> bool:
        if self.job is None:
            return False
        if not self.job.done:
            return True
        job, self.job = self.job, None
        if job.error is not None:
            dpg.set_value(self.status, f"{self.failed_label}: {job.error}")
            return False
        self.show(job.result)
        return False
