"""The column-mapping dialog for shot lists made by other tools (issue 12, item 1).

File > Import CSV… opens it when the file is not in AIMMS's own columns (ui/menus.py
import_csv_flow asks `maybe_map`): one row per column of the file with an example value, how many
rows fill it, the proposed AIMMS field (a combo to change it: a field, "notes" = appended to the
description as "Column: value", or "(drop)") and why it was proposed; the lines set aside (chatter,
code fences, repeated headers) with reasons; the problems that block the import, checked on every
change. A saved preset (per user, ops/csv_map.PRESETS_FILE in the config folder) is applied on
its own when it names every column of the file. Import runs csv_io's checks first, like any CSV.

UI thread only. Tests drive it through `last_opened`: `choose`, `choose_prefix`, `apply_preset`,
`save_preset`, `start_import`.
"""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.ops import csv_map as M
from aimms_fast.ops.csv_vocab import NOTES
from aimms_fast.ui import theme as T
from aimms_fast.ui.prefs import config_dir

DROP = "(drop)"
NOTES_LABEL = "notes (in description)"
NO_PRESET = "(no preset)"
last_opened: "CsvMapDialog | None" = None


def _label(target: str | None) -> str:
    return DROP if target is None else NOTES_LABEL if target == NOTES else target


def _target(label: str) -> str | None:
    return None if label == DROP else NOTES if label == NOTES_LABEL else label


def is_aimms_file(plan: M.MapPlan) -> bool:
    """A plain CSV in AIMMS's own columns: the usual import handles it (no mapping needed)."""
    from aimms_fast.ops.csv_io import IMPORT_COLUMNS, normalize_header
    return (plan.format == "csv" and not plan.dropped_lines and bool(plan.columns)
            and all(normalize_header(c.header) in IMPORT_COLUMNS for c in plan.columns if c.header.strip()))


def maybe_map(app, path: Path) -> bool:
    """Open the dialog when `path` needs a mapping; False leaves the file to the usual import (an
    AIMMS CSV, or one so broken that csv_io's own report explains it best)."""
    plan = M.plan_mapping(path)
    if plan.encoding and any(p.message.startswith("no table found") for p in plan.file_problems):
        # text without a table (a chat answer that is all prose): say that, not "unknown column 'Sure!…'"
        app.dialogs.report(f"No shot list found in {Path(path).name}",
                           "\n".join(str(p) for p in plan.file_problems)
                           + "\n\nA shot list needs a header row (Shot, Description, …) and one line per shot, "
                             "as CSV (values separated by , ; tab or |) or as a Markdown table.")
        return True
    if plan.file_problems or is_aimms_file(plan):
        return False
    global last_opened
    last_opened = CsvMapDialog(app, Path(path), plan)
    return True


class CsvMapDialog:
    def __init__(self, app, path: Path, plan: M.MapPlan):
        self.app, self.path, self.plan = app, path, plan
        self.presets = M.load_presets(config_dir())
        self.result = None          # the MappedImport of the last import
        self.job = None
        found = M.matching_preset(config_dir(), plan)
        if found:
            self.plan = M.plan_mapping(path, preset=self.presets[found], preset_name=found)
        vw = dpg.get_viewport_client_width() or 1280
        vh = dpg.get_viewport_client_height() or 800
        w, h = min(1180, vw - 40), min(820, vh - 50)
        # Not modal: the import's progress dialog (modal) must open over it (see ExportDialog).
        self.win = app.dialogs._window(f"Map the columns of {path.name}", w, h, modal=False)
        dpg.set_item_pos(self.win, [max(0, (vw - w) // 2), max(0, (vh - h) // 2)])
        self._build()
        self.refresh()

    # -- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        app, win = self.app, self.win
        self.summary = T.text(app, win, "", "heading")
        T.text(app, win, "Each column of the file goes to an AIMMS shot field, to notes (added to the shot's "
                         "description as 'Column: value' lines), or is dropped. Change any row below.", "dim", wrap=0)
        with dpg.group(parent=win, horizontal=True):
            dpg.add_text("Preset")
            self.preset_combo = dpg.add_combo([NO_PRESET, *sorted(self.presets)], width=220,
                                              default_value=self.plan.preset or NO_PRESET,
                                              callback=lambda s, a, u=None: self.apply_preset(None if a == NO_PRESET else a))
            dpg.add_spacer(width=20)
            self.preset_name = dpg.add_input_text(width=200, hint="preset name",
                                                  default_value=self.plan.preset or self.path.stem[:40])
            app.register_text_input(self.preset_name)
            dpg.add_button(label="Save as preset", callback=lambda: self.save_preset(dpg.get_value(self.preset_name)))
            dpg.add_spacer(width=20)
            dpg.add_text("Shot names")
            self.prefix_combo = dpg.add_combo([], width=260, callback=lambda s, a, u=None: self.choose_prefix(self._prefix_of(a)))
        self.table = dpg.add_table(parent=win, header_row=True, scrollY=True, height=-230, row_background=True,
                                   resizable=True, borders_innerV=True, freeze_rows=1,
                                   policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(self.table, app.themes["table"])
        for label, wt in [("Column in the file", 1.3), ("Example", 2.2), ("Filled", 0.45),
                          ("Goes to", 1.5), ("Why", 2.2)]:
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=wt)
        T.text(app, win, "Lines left out", "text")
        self.lines_box = dpg.add_child_window(parent=win, height=110, border=True)
        self.problem_text = T.text(app, win, "", "error", wrap=0)
        with dpg.group(parent=win, horizontal=True):
            self.import_button = dpg.add_button(label="Import", width=200, callback=lambda: self.start_import())
            dpg.add_button(label="Cancel", width=100, callback=lambda: self.close())
            self.status = T.text(app, 0, "", "dim")

    def _fill_table(self) -> None:
        dpg.delete_item(self.table, children_only=True, slot=1)
        options = [*[t for t in M.TARGETS if t != NOTES], NOTES_LABEL, DROP]
        self.combos: list[int] = []
        self.whys: list[int] = []
        for c in self.plan.columns:
            with dpg.table_row(parent=self.table):
                T.text(self.app, 0, c.label, "text")
                dpg.add_text(c.sample.replace("\n", " ")[:70])
                dpg.add_text(f"{c.filled}/{self.plan.rows}")
                self.combos.append(dpg.add_combo(options, default_value=_label(c.target), width=-1,
                                                 callback=lambda s, a, u: self.choose(u, _target(a)), user_data=c.index))
                self.whys.append(T.text(self.app, 0, c.why, "dim"))

    def _prefix_labels(self) -> dict[int | None, str]:
        sc = next((c for c in self.plan.columns if c.target == "shot_name"), None)
        shot, eg = (sc.label, sc.sample[:12]) if sc else ("shot", "")
        out: dict[int | None, str] = {None: f"as in {shot}" + (f" (e.g. {eg})" if eg else "")}
        for c in self.plan.columns:
            if c is not sc:
                out[c.index] = f"{c.label}-{shot}" + (f" (e.g. {c.sample[:12]}-{eg})" if eg and c.sample else "")
        return out

    def _prefix_of(self, label: str) -> int | None:
        return next((k for k, v in self._prefix_labels().items() if v == label), None)

    def _show_prefix(self) -> None:
        labels = self._prefix_labels()
        dpg.configure_item(self.prefix_combo, items=list(labels.values()))
        dpg.set_value(self.prefix_combo, labels.get(self.plan.name_prefix, labels[None]))

    def refresh(self) -> None:
        p = self.plan
        bits = [f"{p.rows} shot rows", f"{len(p.columns)} columns", p.format or "?"]
        if p.delimiter:
            bits.append("delimiter " + ("tab" if p.delimiter == "\t" else repr(p.delimiter)))
        if p.fenced:
            bits.append("inside a ``` code block")
        if p.encoding:
            bits.append(p.encoding)
        dpg.set_value(self.summary, f"{self.path.name}: " + ", ".join(bits)
                      + (f"   ·   preset '{p.preset}'" if p.preset else ""))
        self._fill_table()
        self._show_prefix()
        dpg.delete_item(self.lines_box, children_only=True)
        if not p.dropped_lines:
            T.text(self.app, self.lines_box, "none: every line of the file is a header or a shot row", "dim")
        for i in p.dropped_lines:
            T.text(self.app, self.lines_box, str(i), "dim")
        self._check()

    def _check(self) -> None:
        problems = self.plan.problems
        dpg.set_value(self.problem_text, "\n".join(f"• {i.message}" for i in problems))
        dpg.configure_item(self.import_button, enabled=not problems,
                           label=f"Import {self.plan.rows} shots" if not problems else "Import (fix the mapping)")

    # -- actions (also the test API) -----------------------------------------------------------------
    def choose(self, index: int, target: str | None) -> None:
        self.plan.set_target(index, target)
        c = self.plan.columns[index]
        dpg.set_value(self.combos[index], _label(c.target))
        dpg.set_value(self.whys[index], c.why)     # not a table rebuild: the combo calling us lives in it
        self._show_prefix()
        self._check()

    def choose_prefix(self, index: int | None) -> None:
        """Shot names "<column's value>-<shot>" (the shot numbers start again per scene), or as in the file."""
        self.plan.set_name_prefix(index)
        self._show_prefix()

    def apply_preset(self, name: str | None) -> None:
        self.plan = M.plan_mapping(self.path, preset=self.presets.get(name) if name else None, preset_name=name)
        dpg.set_value(self.preset_combo, name or NO_PRESET)
        self.refresh()

    def save_preset(self, name: str) -> None:
        out = self.app.run_op(lambda: M.save_preset(config_dir(), name, self.plan), title="Preset not saved",
                              mutating=False)
        if out is None:
            return
        self.presets = M.load_presets(config_dir())
        self.plan.preset = name.strip()
        dpg.configure_item(self.preset_combo, items=[NO_PRESET, *sorted(self.presets)])
        dpg.set_value(self.preset_combo, name.strip())
        dpg.set_value(self.status, f"saved preset '{name.strip()}'")
        self.app.toast(f"mapping saved as preset '{name.strip()}'")

    def start_import(self) -> None:
        """Check everything first (dry run); import only a clean file, or offer its valid rows."""
        from aimms_fast.ui.menus import _report_text
        app, plan, path = self.app, self.plan, self.path
        if not plan.ok:
            return
        checked = app.run_op(lambda: M.import_mapped(app.project, path, plan, dry_run=True),
                             title="Import failed", mutating=False)
        if checked is None:
            return
        report = checked.report

        def go(valid_only: bool = False, n: int = report.rows):
            self.close()
            self.job = app.run_job(
                lambda progress, cancel, jp: M.import_mapped(jp, path, plan, progress=progress, cancel=cancel,
                                                             valid_only=valid_only),
                title="Import CSV", label=f"Importing {n} shots from {path.name}…", changed=("all",),
                on_done=self._done)
        if report.ok:
            go()
            return
        valid = app.run_op(lambda: M.import_mapped(app.project, path, plan, dry_run=True, valid_only=True),
                           title="Import failed", mutating=False)
        n = valid.report.rows - len(valid.report.skipped_lines) if valid is not None and valid.report.ok else 0
        button = f"Import the {n} valid row{'s' * (n != 1)}"
        app.dialogs.report(f"CSV has problems: nothing imported ({len(report.errors)} errors)",
                           _report_text(report), actions=[(button, lambda: go(True, n))] if n > 0 else [])

    def _done(self, res) -> None:
        from aimms_fast.ui.menus import _report_text
        self.result = res
        self.app.dialogs.report(f"Imported {res.report.imported} shots",
                                "\n".join(res.plan.report_lines()) + "\n\n" + _report_text(res.report))

    def close(self) -> None:
        if dpg.does_item_exist(self.win):
            self.app.dialogs.close(self.win)
