"""Unused page: media files under media/ that no take or asset refers to (left-overs of deletes
made outside the app, files copied in by hand, AIMMS's own orphans). The scan walks the folder on
a background thread; the list shows path, size and modification time."""
from __future__ import annotations

import os
import time
from pathlib import Path, PurePosixPath

import dearpygui.dearpygui as dpg

from aimms_fast.ui.background import BackgroundJob
from aimms_fast.ui.page import Page

MAX_ROWS = 5000


def referenced_paths(conn) -> set[str]:
    refs = {r[0] for r in conn.execute("SELECT file_path FROM takes WHERE file_path IS NOT NULL")}
    refs |= {r[0] for r in conn.execute("SELECT file_path FROM assets WHERE file_path IS NOT NULL")}
    return {r.replace("\\", "/") for r in refs}


def find_unused(root: Path, media: Path, refs: set[str]) -> list[tuple[str, int, float]]:
    """(relative path, size, mtime) of every file under `media` not in `refs`, sorted by path.
    Pure file-system work: safe on a worker thread."""
    out = []
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(media):
        dirnames.sort()
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            rel = PurePosixPath(p.relative_to(root)).as_posix()
            if rel in refs:
                continue
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((rel, st.st_size, st.st_mtime))
    return out


class UnusedPage(Page):
    name = "unused"
    title = "Unused"

    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Scan again", callback=lambda: self.scan())
            self.status = dpg.add_text("")
        self.table = dpg.add_table(parent=parent, header_row=True, clipper=True, scrollY=True, height=-1,
                                   row_background=True, resizable=True, borders_innerV=True,
                                   policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(self.table, self.app.themes["table"])
        for label, w in [("file", 4.0), ("size", 1.0), ("modified", 1.4)]:
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=w)
        self.job = None
        self.files: list[tuple[str, int, float]] = []
        self._scanned_for = None

    def on_project(self, project) -> None:
        self.files = []
        self.job = None
        self._scanned_for = None
        dpg.delete_item(self.table, children_only=True, slot=1)
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
        refs = referenced_paths(p.conn)       # sqlite stays on this thread
        root, media = p.root, p.layout.media
        self.job = BackgroundJob(lambda: find_unused(root, media, refs))
        dpg.set_value(self.status, "scanning media/ …")

    def tick(self) -> bool:
        if self.job is None:
            return False
        if not self.job.done:
            return True
        job, self.job = self.job, None
        if job.error is not None:
            dpg.set_value(self.status, f"scan failed: {job.error}")
            return False
        self.files = job.result
        self._fill()
        return False

    def _fill(self) -> None:
        dpg.delete_item(self.table, children_only=True, slot=1)
        total = sum(f[1] for f in self.files)
        for rel, size, mtime in self.files[:MAX_ROWS]:
            with dpg.table_row(parent=self.table):
                dpg.add_text(rel)
                dpg.add_text(f"{size:,}")
                dpg.add_text(time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime)))
        more = f" (first {MAX_ROWS} shown)" if len(self.files) > MAX_ROWS else ""
        dpg.set_value(self.status, f"{len(self.files)} unused file(s), {total / 2**20:.1f} MB{more}"
                      if self.files else "no unused files under media/")
