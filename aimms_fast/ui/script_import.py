"""Script import preview (issue 12): the shots a Fountain script would add, change and remove
(ops/script.py diff), shown before anything is written; Import applies exactly that diff. UI thread."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError

COLOURS = {"add": (120, 200, 120), "change": (230, 190, 90), "remove": (230, 110, 110)}


class ScriptImportDialog:
    """A window with the preview table. `preview(path, granularity)` fills it; `apply()` imports."""

    def __init__(self, app, on_done=None):
        self.app = app
        self.on_done = on_done
        self.diff = None
        self.path = None
        self.granularity = "beat"
        self.error = ""
        self.win = dpg.add_window(label="Import script", width=980, height=620, show=False, modal=False,
                                  no_collapse=True, pos=(60, 60))
        self.summary = dpg.add_text("", parent=self.win)
        self.table = dpg.add_table(parent=self.win, header_row=True, resizable=True, scrollY=True, height=-40,
                                   policy=dpg.mvTable_SizingStretchProp, row_background=True)
        for label, w in (("", 0.5), ("Shot", 1.0), ("Section", 1.6), ("Description", 3.2), ("Dialogue", 2.2),
                         ("Location", 1.0), ("Time", 0.6)):
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=w)
        with dpg.group(parent=self.win, horizontal=True):
            self.import_btn = dpg.add_button(label="Import", callback=lambda: self.apply())
            dpg.add_button(label="Cancel", callback=lambda: self.close())

    def preview(self, path, granularity: str = "beat") -> None:
        from aimms_fast.ops.script import preview
        self.path, self.granularity, self.error = path, granularity, ""
        dpg.delete_item(self.table, children_only=True, slot=1)
        try:
            self.diff = preview(self.app.project, path, granularity)
        except AimmsError as e:
            self.diff, self.error = None, str(e)
            dpg.set_value(self.summary, f"Cannot import: {e}")
            dpg.configure_item(self.import_btn, enabled=False)
            dpg.configure_item(self.win, show=True)
            return
        d = self.diff
        dpg.set_value(self.summary, f"{d.script.title or path}: {len(d.script.scenes)} scenes, "
                                    f"{len(d.script.speakers)} speaking characters — {d.summary()}"
                                    + (f", {len(d.kept)} kept" if d.kept else ""))
        rows = [("add", a.fields) for a in d.added] + [("change", c.fields) for _, c in d.changed] + \
               [("remove", {"shot_name": f"shot {sid}", "section": key}) for sid, key in d.removed]
        for kind, f in rows:
            with dpg.table_row(parent=self.table):
                dpg.add_text({"add": "+", "change": "~", "remove": "−"}[kind], color=COLOURS[kind])
                for k in ("shot_name", "section", "description", "dialogue", "location", "time_of_day"):
                    dpg.add_text((f.get(k) or "")[:160], wrap=0)
        dpg.configure_item(self.import_btn, enabled=not d.empty)
        dpg.configure_item(self.win, show=True)

    def apply(self):
        from aimms_fast.ops.script import import_script
        if self.diff is None or self.diff.empty:
            return None
        try:
            d = import_script(self.app.project, self.path, granularity=self.granularity)
        except AimmsError as e:
            self.error = str(e)
            dpg.set_value(self.summary, f"Import failed: {e}")
            return None
        self.close()
        self.app.notify("all")
        if self.on_done:
            self.on_done(d)
        return d

    def close(self) -> None:
        dpg.configure_item(self.win, show=False)
