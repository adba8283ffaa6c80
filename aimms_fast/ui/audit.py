"""Audit page (issue 12): the project's audit log (store/audit.py), newest first, filtered by action
text and by words in the details / ids / author. UI thread only."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ui.page import Page

LIMIT = 2000  # rows shown; `aimms audit PATH --json` has them all


def change_text(changes: list[dict], n: int = 3) -> str:
    parts = [f"{c['field']}: {c['before']!r} → {c['after']!r}" if c["field"] != "*"
             else f"{c['table']} {c['key']}: {'added' if c['after'] else 'removed'}" for c in changes[:n]]
    return "; ".join(parts) + (f" (+{len(changes) - n})" if len(changes) > n else "")


class AuditPage(Page):
    name = "audit"
    title = "Audit"

    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Reload", callback=lambda: self.refresh())
            self.action_filter = dpg.add_input_text(hint="action (star, import_script…)", width=220,
                                                    callback=lambda: self._show())
            self.text_filter = dpg.add_input_text(hint="words in details, ids, who…", width=260,
                                                  callback=lambda: self._show())
            for w in (self.action_filter, self.text_filter):
                self.app.register_text_input(w)
            self.count_text = dpg.add_text("", color=(160, 165, 175))
        self.table = dpg.add_table(parent=parent, header_row=True, resizable=True, policy=dpg.mvTable_SizingStretchProp,
                                   scrollY=True, row_background=True, height=-1, borders_innerH=True)
        for label, w in (("When (UTC)", 1.3), ("Who", 0.8), ("What", 1.2), ("Details", 2.6), ("Before → after", 3.0)):
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=w)
        self.rows = []

    def on_project(self, project) -> None:
        if self.visible or project is None:   # a hidden page loads when shown (on_show)
            self._show()

    def on_show(self) -> None:
        self._show()

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if self.visible:
            self._show()

    def _show(self) -> None:
        from aimms_fast.store import audit as A
        dpg.delete_item(self.table, children_only=True, slot=1)
        if self.project is None:
            self.rows = []
            dpg.set_value(self.count_text, "")
            return
        self.rows = A.rows(self.project.conn, action=dpg.get_value(self.action_filter) or None,
                           search=dpg.get_value(self.text_filter) or None, limit=LIMIT)
        for r in self.rows:
            with dpg.table_row(parent=self.table):
                dpg.add_text(r.at.replace("T", " ").rstrip("Z"))
                dpg.add_text(r.who or "-")
                dpg.add_text(r.action)
                dpg.add_text(r.detail[:200] + (f"  [shots {', '.join(map(str, r.ids[:8]))}]" if r.ids else ""), wrap=0)
                dpg.add_text(change_text(r.changes), wrap=0)
        dpg.set_value(self.count_text, f"{len(self.rows)} row(s)" + (" (newest first)" if self.rows else ""))
