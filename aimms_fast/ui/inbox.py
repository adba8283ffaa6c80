"""Inbox / Jobs page (issue 11): ComfyUI outputs the folder watcher found, each waiting for one
key (A accept into the suggested shot, R reassign to another shot, I ignore), and the ComfyUI jobs
(ui/jobs.py). Shown after the eight AIMMS pages (View menu).

While a project is open (writable) the page runs the output-folder watcher (if comfyui_output_path
is set) and the job runner, each on its own thread with its own connection. They report through a
queue that `_Pump` (registered with App.add_window, so it runs every frame whichever page shows)
drains on the UI thread: new takes are announced to the pages (`App.notify`), the tables marked
dirty, and `status_part()` gives the status bar its ComfyUI note. Workers never call Dear PyGui.
"""
from __future__ import annotations

import logging
import queue

import dearpygui.dearpygui as dpg

from aimms_fast.comfy import inbox as I
from aimms_fast.errors import AimmsError
from aimms_fast.store import comfy as S
from aimms_fast.ui.floating import FloatingWindow
from aimms_fast.ui.jobs import JobsPanel
from aimms_fast.ui.page import Page

log = logging.getLogger(__name__)
MAX_ROWS = 500


class _Pump(FloatingWindow):
    """No window: drains watcher and runner events each frame (UI thread)."""

    def __init__(self, page):
        super().__init__(page.app)
        self.page = page

    def tick(self) -> bool:
        return self.page.drain()


class InboxPage(Page):
    name = "inbox"
    title = "Inbox / Jobs"
    key_context = "inbox"

    def __init__(self, app):
        super().__init__(app)
        self.events: queue.Queue = queue.Queue()
        self.watcher = None
        self.runner = None
        self.items: list[S.InboxRow] = []
        self.index = 0
        self.focus = "inbox"
        self.jobs = JobsPanel(self)
        self.watch_note = ""
        self._dirty = False

    # -- building ------------------------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            self.watch_text = dpg.add_text("", color=(160, 165, 175))
            self.auto = dpg.add_checkbox(label="Add confident matches without asking",
                                         callback=lambda s, a: self.app.guard("auto-add", lambda: self._set_auto(a)))
        dpg.add_text("Inbox  (A accept · R reassign · I ignore · Up/Down · J: jobs)", parent=parent)
        self.inbox_table = dpg.add_table(parent=parent, header_row=True, row_background=True, scrollY=True,
                                         height=260, borders_innerV=True, policy=dpg.mvTable_SizingStretchProp)
        for label, w in (("", 0.15), ("#", 0.3), ("kind", 0.4), ("file", 2.6), ("suggested shot", 1.2),
                         ("why", 0.6), ("note", 1.6)):
            dpg.add_table_column(label=label, parent=self.inbox_table, init_width_or_weight=w)
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_text("Reassign to")
            self.shot_combo = dpg.add_combo([], width=320)
            dpg.add_button(label="Reassign (R)", callback=lambda: self.app.guard("reassign", self.reassign))
        dpg.add_separator(parent=parent)
        dpg.add_text("Jobs  (C cancel · R retry · J: inbox)", parent=parent)
        self.jobs.build(parent)

    # -- project lifecycle (UI thread) ---------------------------------------------------------------
    def on_project(self, project) -> None:
        self._stop_workers()
        self.items, self.index = [], 0
        dpg.configure_item(self.shot_combo, items=[])
        if project is None:
            self.jobs.on_project(None)
            self._draw_inbox()
            return
        dpg.set_value(self.auto, I.auto_enabled(project))
        self.jobs.on_project(project)
        self._start_workers(project)
        self.refresh_inbox()

    def _start_workers(self, project) -> None:
        from aimms_fast.comfy.runner import JobRunner
        self.app.add_window(_Pump(self))
        if project.readonly:
            self.watch_note = "read-only project: not watching ComfyUI's output folder"
        else:
            self.runner = JobRunner(project, on_event=self.events.put)
            self.runner.start()
            self._start_watcher(project)
        dpg.set_value(self.watch_text, self.watch_note)

    def _start_watcher(self, project) -> None:
        from aimms_fast.comfy.watcher import Watcher
        self._watching_setting = S.get_meta(project.conn, S.META_OUTPUT)
        try:
            folder = I.output_folder(project)
            self.watcher = Watcher(project, folder, on_event=self.events.put)
            self.watcher.start()
            self.watch_note = f"Watching {folder}"
        except AimmsError as e:
            self.watch_note = f"Not watching: {e}"
        except OSError as e:        # inotify limits, a folder that vanished: the app goes on
            log.warning("cannot watch the ComfyUI output folder: %s", e)
            self.watch_note = f"Not watching: {e}"

    def _sync_watcher(self) -> None:
        """The output folder was changed on the Settings page: watch the new one."""
        p = self.project
        if p is None or p.readonly or S.get_meta(p.conn, S.META_OUTPUT) == getattr(self, "_watching_setting", None):
            return
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self._start_watcher(p)
        dpg.set_value(self.watch_text, self.watch_note)

    def _stop_workers(self) -> None:
        for w in (self.watcher, self.runner):
            if w is not None:
                w.stop()
        self.watcher = self.runner = None

    def runner_wake(self) -> None:
        if self.runner is not None:
            self.runner.wake()

    # -- events from the workers (UI thread, via _Pump) ----------------------------------------------
    def drain(self) -> bool:
        from aimms_fast.comfy.runner import JobEvent
        got = False
        shots: set[int] = set()
        while True:
            try:
                ev = self.events.get_nowait()
            except queue.Empty:
                break
            got = True
            if isinstance(ev, JobEvent):
                if ev.state == "done" and ev.take_ids:
                    shots.add(ev.shot_id)
            else:
                self._dirty = True
                if ev.state == "accepted" and ev.shot_id is not None:
                    shots.add(ev.shot_id)
        if shots:
            self.app.notify("takes", sorted(shots))
            self.app.refresh_counts()
            self.app.refresh_edit_menu()     # each filing is an undo step: Edit > Undo names it
        if got:
            self.app._status_at = 0.0       # the status bar's ComfyUI note changes now, not in 0.25 s
            if self.visible:
                self.refresh_inbox()
                self.jobs.refresh()
        return got

    def status_part(self) -> str | None:
        """The status bar's ComfyUI note (any page): jobs running, items waiting."""
        if self.project is None:
            return None
        parts = []
        c = S.job_counts(self.project.conn)         # two indexed counts: fine at 4 Hz
        running, queued = c.get("running", 0) + c.get("fetching", 0), c.get("new", 0) + c.get("submitted", 0)
        if running or queued:
            pct = S.running_progress(self.project.conn)
            parts.append(f"ComfyUI: {running} running{f' ({pct * 100:.0f} %)' if running else ''}, {queued} queued")
            note = self.runner.status if self.runner is not None else ""
            if note.startswith("cannot"):
                parts.append(note)
        n = S.inbox_count(self.project.conn)
        if n:
            parts.append(f"Inbox {n}")
        return " · ".join(parts) or None

    # -- inbox (UI thread) ------------------------------------------------------------------------------
    def on_show(self) -> None:
        if self.project is not None:
            self._sync_watcher()
            self.refresh_inbox()
            self.jobs.refresh()

    def refresh(self) -> None:
        self.on_show()

    def refresh_inbox(self) -> None:
        p = self.project
        keep = self.items[self.index].item_id if 0 <= self.index < len(self.items) else None
        self.items = I.waiting(p)[:MAX_ROWS] if p is not None else []
        ids = [r.item_id for r in self.items]
        self.index = ids.index(keep) if keep in ids else min(self.index, max(0, len(self.items) - 1))
        if p is not None:
            names = [f"{sid}  {name}" for sid, name, _i, _v in S.shots_for_matching(p.conn)]
            dpg.configure_item(self.shot_combo, items=names)
        self._draw_inbox()

    def _draw_inbox(self) -> None:
        dpg.delete_item(self.inbox_table, children_only=True, slot=1)
        focus = self.focus == "inbox"
        for i, r in enumerate(self.items):
            with dpg.table_row(parent=self.inbox_table):
                dpg.add_text(">" if i == self.index and focus else ("·" if i == self.index else ""),
                             color=(255, 200, 90))
                dpg.add_text(str(r.item_id))
                dpg.add_text(r.kind)
                dpg.add_text(r.source + ("  (+ workflow PNG)" if r.companion else ""))
                dpg.add_text(r.shot_name or "(none: reassign)",
                             color=(120, 210, 130) if r.confident else (255, 200, 90) if r.shot_id else (255, 110, 100))
                dpg.add_text(r.reason or "")
                dpg.add_text(r.message or "")
        if not self.items:
            with dpg.table_row(parent=self.inbox_table):
                dpg.add_text("")
                dpg.add_text("")
                dpg.add_text("")
                dpg.add_text("Nothing waiting. Outputs that need a decision wait here.")

    def _item(self) -> S.InboxRow | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def _after(self, filed) -> None:
        if filed is not None:
            self.app.notify("takes", [filed.shot_id])
            self.app.refresh_counts()      # run_op's toast says what was added, with the Ctrl+Z hint
        self.refresh_inbox()

    def accept(self) -> None:
        r = self._item()
        if r is not None:
            self._after(self.app.run_op(lambda: I.accept(self.project, r.item_id), title="Could not add the take"))

    def reassign(self) -> None:
        r = self._item()
        choice = dpg.get_value(self.shot_combo)
        if r is None:
            return
        if not choice:
            self.app.status_note("Choose the shot in 'Reassign to', then press R")
            dpg.focus_item(self.shot_combo)
            return
        sid = int(choice.split()[0])
        self._after(self.app.run_op(lambda: I.reassign(self.project, r.item_id, sid), title="Could not add the take"))

    def ignore(self) -> None:
        r = self._item()
        if r is not None:
            self.app.run_op(lambda: I.ignore(self.project, r.item_id), title="Could not ignore it", mutating=False)
            self.refresh_inbox()

    def _set_auto(self, on: bool) -> None:
        if self.project is not None:
            self.app.run_op(lambda: I.set_auto(self.project, bool(on)), mutating=False)

    def on_action(self, action: str) -> bool:
        if self.project is None:
            return False
        if action == "switch":
            self.focus = "jobs" if self.focus == "inbox" else "inbox"
            self._draw_inbox()
            self.jobs.draw()
        elif action.startswith("move:"):
            step = 1 if action.endswith("+1") else -1
            if self.focus == "inbox":
                if self.items:
                    self.index = max(0, min(len(self.items) - 1, self.index + step))
                    self._draw_inbox()
            else:
                self.jobs.move(step)
        elif action == "accept" and self.focus == "inbox":
            self.accept()
        elif action == "reassign":
            self.reassign() if self.focus == "inbox" else self.jobs.retry()
        elif action == "ignore" and self.focus == "inbox":
            self.ignore()
        elif action == "cancel" and self.focus == "jobs":
            self.jobs.cancel()
        elif action == "queue":
            self.jobs.queue()
        else:
            return False
        return True
