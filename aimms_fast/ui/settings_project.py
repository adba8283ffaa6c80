"""Settings > This project: the settings AIMMS keeps in the project's `meta` table (name, author,
description, project notes, ComfyUI output folder and address), edited in place and saved with
ops/project_meta.set_project_meta (one transaction, one `mutation` line in the project log), plus
the read-only facts (folder, format version, dates). UI thread only."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ui import theme as T

FIELDS = [("project_name", "Project name", False), ("author", "Author", False),
          ("description", "Description", False), ("project_info", "Project notes", True),
          ("comfyui_output_path", "ComfyUI output folder", False), ("comfyui_URL", "ComfyUI address", False)]
HINTS = {"comfyui_output_path": "e.g. C:/ComfyUI/output", "comfyui_URL": "e.g. http://127.0.0.1:8188/",
         "project_info": "colour scheme, film look prompt, anything the team should know"}
# AIMMS meta keys shown as facts (unknown keys are shown as they are).
META_LABELS = {"project_name": "Project name", "author": "Author", "created_date": "Created",
               "schema_version": "AIMMS format version", "app_version": "Made with AIMMS version",
               "last_modified": "Last changed", "description": "Description", "created_at": "Created",
               "migration_date": "Moved to this format", "project_info": "Project notes",
               "comfyui_URL": "ComfyUI address", "comfyui_output_path": "ComfyUI output folder (project)"}


class ProjectMetaForm:
    def __init__(self, app, parent):
        self.app = app
        self.inputs: dict[str, int] = {}
        T.text(app, parent, "Saved in the project (data/shots.db, table meta) exactly where AIMMS keeps them: "
                            "AIMMS shows the same values.", "dim", wrap=900)
        for key, label, multi in FIELDS:
            with dpg.group(parent=parent, horizontal=True):
                if key == "comfyui_output_path":
                    w = dpg.add_input_text(width=520, hint=HINTS[key])
                    dpg.add_button(label="Browse…", callback=lambda: app.dialogs.pick_folder(
                        "ComfyUI output folder (this project)",
                        lambda p: dpg.set_value(self.inputs["comfyui_output_path"], str(p))))
                else:
                    w = dpg.add_input_text(width=600, multiline=multi, height=90 if multi else 0,
                                           hint=HINTS.get(key, ""))
                dpg.add_text(label)
            app.register_text_input(w)
            self.inputs[key] = w
        with dpg.group(parent=parent, horizontal=True):
            self.save_button = dpg.add_button(label="Save project settings", callback=lambda: self.save())
            self.revert_button = dpg.add_button(label="Undo my edits", callback=lambda: self.load())
            self.state = T.text(app, 0, "", "dim")
        self.facts = dpg.add_table(parent=parent, header_row=True, row_background=True, borders_innerV=True,
                                   policy=dpg.mvTable_SizingStretchProp, height=170, scrollY=True)
        dpg.add_table_column(label="Fact", parent=self.facts, init_width_or_weight=1.0)
        dpg.add_table_column(label="Value", parent=self.facts, init_width_or_weight=3.0)

    def values(self) -> dict[str, str]:
        return {k: dpg.get_value(w) for k, w in self.inputs.items()}

    def load(self) -> None:
        from aimms_fast.ops.project_meta import project_meta
        p = self.app.project
        dpg.delete_item(self.facts, children_only=True, slot=1)
        meta = project_meta(p) if p is not None else {}
        for k, w in self.inputs.items():
            dpg.set_value(w, meta.get(k) or "")
            dpg.configure_item(w, enabled=p is not None and not p.readonly)
        dpg.configure_item(self.save_button, enabled=p is not None and not p.readonly)
        dpg.set_value(self.state, "" if p is None or not p.readonly else "read-only project: shown, not editable")
        if p is None:
            return
        rows = [("Folder", str(p.root)), ("Opened read-only", p.readonly_reason or "no")]
        editable = {k for k, *_ in FIELDS}
        rows += [(META_LABELS.get(k, k), v) for k, v in sorted(meta.items()) if k not in editable]
        for k, v in rows:
            with dpg.table_row(parent=self.facts):
                dpg.add_text(k)
                dpg.add_text("" if v is None else str(v), wrap=900)

    def save(self) -> None:
        from aimms_fast.ops.project_meta import set_project_meta
        app = self.app
        if app.project is None:
            return
        values = self.values()
        result = app.run_op(lambda: set_project_meta(app.project, **values), title="Project settings not saved")
        if result is None:
            dpg.set_value(self.state, "not saved (see the message); your edits are still here")
            return
        self.load()
        if result.changed:
            names = ", ".join(lbl for k, lbl, _ in FIELDS if k in result.changed)
            dpg.set_value(self.state, f"saved: {names}")
            app.toast(f"Project settings saved ({names})")
            if "project_name" in result.changed:
                dpg.set_viewport_title(f"{app.project.name} — aimms")
        else:
            dpg.set_value(self.state, "nothing changed")
