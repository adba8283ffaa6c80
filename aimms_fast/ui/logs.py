"""Logs page: the end of logs/project_log.log (what the app and AIMMS wrote), newest first."""
from __future__ import annotations

import os

import dearpygui.dearpygui as dpg

from aimms_fast.ui.page import Page

TAIL_BYTES = 256 * 1024
TAIL_LINES = 500


def tail(path, max_lines: int = TAIL_LINES, max_bytes: int = TAIL_BYTES) -> list[str]:
    """Last lines of a text file without reading all of it (logs grow for years)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]   # first line is probably cut
    return lines[-max_lines:]


class LogsPage(Page):
    name = "logs"
    title = "Logs"

    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Reload", callback=lambda: self.refresh())
            self.filter = dpg.add_input_text(hint="filter lines…", width=260, callback=lambda: self._show())
            self.app.register_text_input(self.filter)
            self.path_text = dpg.add_text("", color=(160, 165, 175))
        self.body = dpg.add_input_text(parent=parent, multiline=True, readonly=True, width=-1, height=-1,
                                       tab_input=False)
        self.lines: list[str] = []

    def on_project(self, project) -> None:
        if project is None:
            self.lines = []
            dpg.set_value(self.path_text, "")
        else:
            self.lines = tail(project.layout.log_file)
            dpg.set_value(self.path_text, f"{project.layout.log_file}  (last {len(self.lines)} lines, newest first)")
        self._show()

    def on_show(self) -> None:
        self.refresh()

    def _show(self) -> None:
        q = (dpg.get_value(self.filter) or "").lower()
        lines = [ln for ln in self.lines if q in ln.lower()] if q else self.lines
        # Newest first: a read-only text box opens at its top, where the latest events belong.
        dpg.set_value(self.body, "\n".join(reversed(lines)) if lines else "(the log is empty)")
