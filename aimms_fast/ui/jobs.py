"""The Jobs panel of the Inbox / Jobs page: queue shots to ComfyUI with the project's workflow
template, and follow each job (state, progress, node errors); cancel and retry.

The runner (comfy/runner.py) works on its own thread; its events arrive through the page's pump
(ui/inbox.py) and only mark this panel dirty. Everything here runs on the UI thread.
"""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.comfy import jobs as J
from aimms_fast.comfy.client import node_errors_text
from aimms_fast.store import comfy as S

SCOPES = ["every shot without a starred take", "shots selected on the Shots page", "the section shown"]
STATE_COLOURS = {"done": (120, 210, 130), "failed": (255, 110, 100), "cancelled": (160, 160, 160),
                 "running": (120, 180, 255), "fetching": (120, 180, 255)}
MAX_ROWS = 300


class JobsPanel:
    def __init__(self, page):
        self.page = page
        self.app = page.app
        self.rows: list[S.JobRow] = []
        self.index = 0

    # -- building (UI thread) ----------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_text("Queue")
            self.scope = dpg.add_combo(SCOPES, default_value=SCOPES[0], width=290)
            dpg.add_text("variations")
            self.variations = dpg.add_input_int(default_value=1, min_value=1, max_value=100, min_clamped=True,
                                                max_clamped=True, width=90)
            dpg.add_button(label="Queue to ComfyUI", callback=lambda: self.app.guard("queueing", self.queue))
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_text("Workflow (API format JSON)")
            self.path = dpg.add_input_text(width=420, hint="workflow_api.json (ComfyUI: Workflow > Export (API))")
            self.use_button = dpg.add_button(label="Use", callback=lambda: self.app.guard("loading the workflow",
                                                                                          self.load))
            dpg.add_button(label="Choose…", callback=lambda: self.app.guard("choosing a workflow", self.choose))
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_text("Bindings")
            self.bind_text = dpg.add_input_text(width=-160, hint="node.input=field, … (e.g. 6.text=prompt, 3.seed=seed)")
            dpg.add_button(label="Apply bindings", callback=lambda: self.app.guard("bindings", self.apply_bindings))
        self.template_text = dpg.add_text("", parent=parent, color=(160, 165, 175))
        self.table = dpg.add_table(parent=parent, header_row=True, row_background=True, scrollY=True, height=-1,
                                   borders_innerV=True, policy=dpg.mvTable_SizingStretchProp)
        for label, w in (("", 0.15), ("job", 0.5), ("shot", 1.2), ("var", 0.3), ("state", 0.6),
                         ("progress", 0.8), ("details", 3.0)):
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=w)

    def on_project(self, project) -> None:
        self.rows, self.index = [], 0
        t = J.saved_template(project) if project is not None else None
        self._show_template(t)
        self.refresh()

    def _show_template(self, t) -> None:
        dpg.set_value(self.template_text, self._template_line(t))
        dpg.set_value(self.bind_text, ", ".join(b.text() for b in t.bindings) if t else "")

    @staticmethod
    def _template_line(t) -> str:
        if t is None:
            return "no template yet"
        fields = sorted({b.field for b in t.bindings})
        return f"template {t.name} ({t.storyboard} workflow, {len(t.graph)} nodes) fills: " + ", ".join(fields)

    # -- actions (UI thread) -------------------------------------------------------------------------
    def load(self) -> None:
        from aimms_fast.comfy.template import load_template
        p = self.page.project
        text = dpg.get_value(self.path).strip()
        if p is None or not text:
            return
        t = self.app.run_op(lambda: (J.save_template(p, load_template(Path(text).expanduser())),
                                     J.saved_template(p))[1], title="Could not use that workflow", mutating=False)
        if t is not None:
            self._show_template(t)

    def apply_bindings(self) -> None:
        """Replace the template's bindings with the edited list (each checked against the graph)."""
        from aimms_fast.comfy.template import Binding, merge_bindings
        p = self.page.project
        t = J.saved_template(p) if p is not None else None
        if t is None:
            self.app.status_note("Load a workflow first (API format JSON)")
            return
        texts = [x.strip() for x in dpg.get_value(self.bind_text).split(",") if x.strip()]

        def apply():
            t.bindings = merge_bindings([], [Binding.parse(x) for x in texts], t.graph)
            J.save_template(p, t)
            return t
        if self.app.run_op(apply, title="Could not use those bindings", mutating=False) is not None:
            self._show_template(t)
            self.app.toast(f"{len(t.bindings)} binding(s) saved")

    def choose(self) -> None:
        def picked(files):
            dpg.set_value(self.path, str(files[0]))
            self.load()
        self.app.dialogs.pick_files("Workflow in API format (ComfyUI: Workflow > Export (API))", [".json"], picked,
                                    multiple=False)

    def shot_ids(self) -> list[int]:
        p = self.page.project
        scope = dpg.get_value(self.scope)
        t = J.saved_template(p)
        if scope == SCOPES[1]:
            shots = self.app.pages.get("shots")
            return sorted(getattr(shots, "selected", set()))
        if scope == SCOPES[2] and self.app.section_filter:
            return S.shots_in_section(p.conn, self.app.section_filter)
        return J.without_star(p, t.storyboard if t else "image")

    def queue(self) -> None:
        p = self.page.project
        if p is None:
            return
        t = J.saved_template(p)
        if t is None:
            self.app.status_note("Load a workflow first (API format JSON)")
            return
        ids = self.shot_ids()
        got = self.app.run_op(lambda: J.queue_shots(p, t, ids, variations=int(dpg.get_value(self.variations))),
                              title="Could not queue the shots", mutating=False)
        if got:
            self.app.toast(f"Queued {len(got)} job(s) to ComfyUI")
            self.page.runner_wake()
            self.refresh()
            self.index = 0              # the newest job (the list is newest first)
            self.draw()

    def cancel(self) -> None:
        j = self.selected()
        if j is not None and j.active:
            self.app.run_op(lambda: J.cancel_job(self.page.project, j.job_id), title="Could not cancel", mutating=False)
            self.refresh()

    def retry(self) -> None:
        j = self.selected()
        if j is not None and j.state in ("failed", "cancelled"):
            if self.app.run_op(lambda: J.retry_job(self.page.project, j.job_id), title="Could not retry",
                               mutating=False) is not None:
                self.page.runner_wake()
            self.refresh()

    def selected(self) -> S.JobRow | None:
        return self.rows[self.index] if 0 <= self.index < len(self.rows) else None

    def move(self, step: int) -> None:
        if self.rows:
            self.index = max(0, min(len(self.rows) - 1, self.index + step))
            self.draw()

    # -- drawing (UI thread) ---------------------------------------------------------------------------
    def refresh(self) -> None:
        p = self.page.project
        keep = self.selected().job_id if self.selected() else None
        self.rows = S.list_jobs(p.conn, limit=MAX_ROWS)[::-1] if p is not None else []
        ids = [j.job_id for j in self.rows]
        self.index = ids.index(keep) if keep in ids else min(self.index, max(0, len(self.rows) - 1))
        self.draw()

    def draw(self) -> None:
        dpg.delete_item(self.table, children_only=True, slot=1)
        focus = self.page.focus == "jobs"
        for i, j in enumerate(self.rows):
            with dpg.table_row(parent=self.table):
                dpg.add_text(">" if i == self.index and focus else ("·" if i == self.index else ""),
                             color=(255, 200, 90))
                dpg.add_text(j.job_id[:8])
                dpg.add_text(j.shot_name or str(j.shot_id))
                dpg.add_text(str(j.variation))
                dpg.add_text(j.state, color=STATE_COLOURS.get(j.state, (220, 220, 220)))
                if j.state in ("running", "fetching"):
                    dpg.add_progress_bar(default_value=j.progress, overlay=f"{j.progress * 100:.0f} %", width=-1)
                else:
                    dpg.add_text("")
                details = j.message or (f"{len(j.take_ids)} take(s) filed" if j.state == "done" else (j.node or ""))
                extra = [e for e in node_errors_text(j.node_errors) if e not in (j.message or "")]
                dpg.add_text("\n".join([details] + extra), wrap=0)
