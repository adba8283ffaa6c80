"""Unused page: what rots in a project, each list with the action that fixes it (ops/cleanup.py,
ops/relink.py): zero-byte placeholder takes (delete), files no record refers to (move to the
trash, or attach to a shot as a take: the shot is suggested from the folder), records whose file
is missing (relink from a folder the user picks; or delete the record), videos without a workflow
PNG (regenerate from the video; or delete the take), duplicates (same content fingerprint), empty
folders of deleted shots, and the trash with age and size (empty it: the one step that cannot be
undone). Every destructive action asks first, is one undo step (Ctrl+Z) and one line in the
project log. The survey (ops/housekeeping.py) walks the folders on a background thread; sqlite
stays on the UI thread. Lists: ui/unused_lists.py."""
from __future__ import annotations

import threading

import dearpygui.dearpygui as dpg

from aimms_fast.ops import housekeeping as HK
from aimms_fast.ui.scan_page import ScanPage
from aimms_fast.ui.unused_lists import Column, ItemList, age_text, date_text, size_text

TABS = [("placeholders", "Placeholders"), ("orphans", "Unused files"), ("missing", "Missing files"),
        ("no_png", "No workflow PNG"), ("duplicates", "Duplicates"), ("empty_folders", "Empty folders"),
        ("trash", "Trash")]


def _n(items, word):
    return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"


class UnusedPage(ScanPage):
    name = "unused"
    title = "Unused"

    def build(self, parent) -> None:
        self.build_header(parent)
        self.survey: HK.Survey | None = None
        self.files: list[dict] = []       # the unused files (older callers and tests read this)
        self._progress = {"done": 0, "total": 0}
        self._cancel = threading.Event()
        theme = self.app.themes["table"]
        mk = lambda *a, **k: ItemList(*a, theme=theme, **k)  # noqa: E731
        self.tabbar = dpg.add_tab_bar(parent=parent, callback=lambda s, tab: self._on_tab(tab))
        self.tabs: dict[str, int] = {}
        self.lists: dict[str, ItemList] = {}
        for key, label in TABS:
            self.tabs[key] = dpg.add_tab(label=label, parent=self.tabbar)
        shot = Column("shot", "shot_id", 0.5)
        name = Column("shot name", "shot_name", 1.5)
        path = Column("file", "path", 3.0)
        self.lists["placeholders"] = mk(self.tabs["placeholders"], "placeholders",
                                        [path, shot, name, Column("kind", "kind", 0.6)],
                                        [("Delete placeholders", self.delete_placeholders, True)],
                                        empty_text="no zero-byte takes")
        self.lists["orphans"] = mk(self.tabs["orphans"], "orphans",
                                   [path, Column("size", "size", 0.8, size_text),
                                    Column("modified", "mtime", 1.0, date_text),
                                    Column("suggested shot", "suggested_name", 1.4)],
                                   [("Move to trash", self.trash_orphans, True),
                                    ("Attach to suggested shot", self.attach_suggested, False),
                                    ("Attach to shot…", self.attach_pick, False)],
                                   empty_text="no unused files under media/")
        self.lists["missing"] = mk(self.tabs["missing"], "missing",
                                   [Column("recorded path", "path", 3.0), shot, name, Column("kind", "kind", 0.8)],
                                   [("Relink from folder…", self.relink_pick, False),
                                    ("Delete records", self.delete_missing, True)],
                                   empty_text="every record's file is in place")
        self.lists["no_png"] = mk(self.tabs["no_png"], "no_png",
                                  [Column("video", "path", 2.4), shot, name, Column("why", "reason", 2.0)],
                                  [("Regenerate PNGs", self.regenerate, False),
                                   ("Delete takes", self.delete_no_png, True)],
                                  empty_text="every video has its workflow PNG")
        self.lists["duplicates"] = mk(self.tabs["duplicates"], "duplicates",
                                      [path, Column("group", "group", 0.5), Column("size", "size", 0.8, size_text),
                                       Column("take of shot", "shot_id", 0.8),
                                       Column("in use", "referenced", 0.6, lambda v: "take/asset" if v else "unused")],
                                      [("Trash unused copies", self.trash_unused_copies, True)],
                                      empty_text="no duplicate files")
        self.lists["empty_folders"] = mk(self.tabs["empty_folders"], "empty_folders", [Column("folder", "path", 3.0)],
                                         [("Remove folders", self.remove_folders, True)],
                                         empty_text="no empty folders of deleted shots")
        self.lists["trash"] = mk(self.tabs["trash"], "trash",
                                 [Column("entry", "path", 2.4), Column("what", "label", 2.4),
                                  Column("files", "files", 0.5), Column("size", "size", 0.8, size_text),
                                  Column("age", "age_s", 0.7, age_text)],
                                 [("Empty trash", self.empty_trash, True)],
                                 empty_text="the trash is empty")
        self.lists["placeholders"].set_active(True)     # the first tab shows first

    # -- scan --
    def clear(self) -> None:
        self.survey = None
        self.files = []
        for lst in self.lists.values():
            lst.set_items([])

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        self._scanned_for = None
        if self.visible:
            self.scan()

    def start(self, project):
        prog = self._progress = {"done": 0, "total": 0}
        cancel = self._cancel = threading.Event()

        def work():   # its own connection (project.for_job): nothing of the scan on the UI thread
            return HK.survey_in_job(project, progress=lambda d, t: prog.update(done=d, total=t), cancel=cancel)[1]
        return work, "scanning media/ …"

    def tick(self) -> bool:
        if self.job is not None and not self.job.done and self._progress["total"]:
            p = self._progress
            dpg.set_value(self.status, f"hashing same-size files for duplicates: {p['done']:,} / {p['total']:,}")
        return super().tick()

    def show(self, result: HK.Survey) -> None:
        self.survey = s = result
        self.files = s.orphans
        data = s.to_dict()
        data["missing"] = s.missing + s.outside
        for key, label in TABS:
            self.lists[key].set_items(data[key])
            dpg.configure_item(self.tabs[key], label=f"{label} ({len(data[key])})")
        freed = sum(t["size"] for t in s.trash)
        dpg.set_value(self.status, f"{_n(s.placeholders, 'placeholder')}, {_n(s.orphans, 'unused file')}, "
                      f"{_n(data['missing'], 'missing file')}, {_n(s.no_png, 'video')} without PNG, "
                      f"{len(s.duplicates)} in duplicate groups, {_n(s.empty_folders, 'empty folder')}, "
                      f"trash {size_text(freed) or '0 B'} ({s.files:,} files scanned)")

    def show_tab(self, key: str) -> None:
        dpg.set_value(self.tabbar, self.tabs[key])
        self._on_tab(self.tabs[key])

    def _on_tab(self, tab) -> None:
        """Only the shown list has rows as widgets (a 21K project's lists would cost ~25K items
        each); the others draw when their tab is picked."""
        for key, t in self.tabs.items():
            self.lists[key].set_active(t == tab)

    # -- actions (ui/unused_actions.py does the work) --
    def _act(self):
        from aimms_fast.ui.unused_actions import Actions
        return Actions(self)

    def delete_placeholders(self, items): self._act().delete_placeholders(items)
    def trash_orphans(self, items): self._act().trash_orphans(items)
    def attach_suggested(self, items): self._act().attach_suggested(items)
    def attach_pick(self, items): self._act().attach_pick(items)
    def relink_pick(self, items): self._act().relink_pick(items)
    def relink_from(self, folder, items=None): self._act().relink_from(folder, items)
    def delete_missing(self, items): self._act().delete_missing(items)
    def regenerate(self, items): self._act().regenerate(items)
    def delete_no_png(self, items): self._act().delete_no_png(items)
    def trash_unused_copies(self, items): self._act().trash_unused_copies(items)
    def remove_folders(self, items): self._act().remove_folders(items)
    def empty_trash(self, items): self._act().empty_trash(items)
