"""What the Unused page's buttons do: ask (destructive ones), run the use case from ops/cleanup.py
or ops/relink.py (long ones as jobs with a progress bar), then tell every page the data changed
(the Unused and Routing pages rescan themselves). UI thread only."""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.ops import cleanup
from aimms_fast.ui.unused_lists import size_text

CHANGED = ("all",)


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _names(items, key="path", k=6) -> str:
    xs = [str(i.get(key)) for i in items[:k]]
    return "\n".join(f"  {x}" for x in xs) + (f"\n  … and {len(items) - k} more" if len(items) > k else "")


class Actions:
    def __init__(self, page):
        self.page = page
        self.app = page.app

    def _confirm(self, title, text, fn, yes="Delete"):
        self.app.dialogs.confirm(title, text, fn, yes=yes)

    def _op(self, fn, done=None):
        return self.app.run_op(fn, changed=CHANGED, done=done)

    # -- placeholders --
    def delete_placeholders(self, items):
        if not items:
            return
        ids = [i["take_id"] for i in items]
        self._confirm("Delete placeholder takes",
                      f"Move {_n(len(ids), 'zero-byte take')} (and their placeholder PNGs) to the trash?\n"
                      f"{_names(items)}\nCtrl+Z puts them back.",
                      lambda: self._op(lambda: cleanup.delete_placeholders(self.app.project, ids)))

    # -- orphans --
    def trash_orphans(self, items):
        if not items:
            return
        paths = [i["path"] for i in items]
        size = sum(i.get("size") or 0 for i in items)
        self._confirm("Move unused files to the trash",
                      f"Move {_n(len(paths), 'unused file')} ({size_text(size) or '0 B'}) to the project trash?\n"
                      f"{_names(items)}\nCtrl+Z puts them back until the trash is emptied.",
                      lambda: self._op(lambda: cleanup.trash_orphans(self.app.project, paths)), yes="Move")

    def attach_suggested(self, items):
        todo = [i for i in items if i.get("suggested_shot")]
        if not todo:
            self.app.toast("none of these files sits in a shot's folder: use Attach to shot…")
            return
        for it in todo:
            if self._op(lambda it=it: cleanup.attach_orphan(self.app.project, it["path"], it["suggested_shot"])) is None:
                break

    def attach_pick(self, items):
        if not items:
            return
        from aimms_fast.store.housekeeping import live_shot_ids
        shots = live_shot_ids(self.app.project.conn)
        labels = [f"{sid}  {name}" for sid, name in shots.items()]
        first = items[0].get("suggested_shot")
        default = next((lab for lab in labels if first and lab.startswith(f"{first} ")), labels[0] if labels else "")
        win = self.app.dialogs._window("Attach to shot", 520, 170)
        dpg.add_text(f"Attach {_n(len(items), 'file')} as new takes of:", parent=win)
        combo = dpg.add_combo(labels, default_value=default, parent=win, width=-1)

        def go():
            sid = int(dpg.get_value(combo).split()[0])
            self.app.dialogs._forget(win)
            for it in items:
                if self._op(lambda it=it: cleanup.attach_orphan(self.app.project, it["path"], sid)) is None:
                    break
        with dpg.group(parent=win, horizontal=True):
            dpg.add_button(label="Attach", width=120, callback=go)
            dpg.add_button(label="Cancel", width=120, callback=lambda: self.app.dialogs._forget(win))

    # -- missing --
    def relink_pick(self, items):
        paths = [i["path"] for i in items if i.get("path")]
        self.app.dialogs.pick_folder("Relink: pick the folder to search",
                                     lambda folder: self.relink_from(folder, paths))

    def relink_from(self, folder, paths=None):
        from aimms_fast.ops.relink import relink

        def work(progress, cancel, project):
            return relink(project, Path(folder), paths=paths or None, progress=progress)

        def done(r):
            self.app.toast(f"relinked {len(r.matches)} file(s) from {Path(folder).name}"
                           + (f"; {len(r.unmatched)} not found there" if r.unmatched else "")
                           + (" · Ctrl+Z to undo" if r.matches else ""), seconds=8)
        return self.app.run_job(work, title="Relink", label=f"Searching {folder} …", on_done=done,
                                changed=CHANGED)

    def delete_missing(self, items):
        ids = [i["take_id"] for i in items if i.get("take_id")]
        if not ids:
            self.app.toast("only take records can be deleted here (assets: use the Assets page)")
            return
        self._confirm("Delete records whose file is missing",
                      f"Delete {_n(len(ids), 'take record')} whose file is gone?\n{_names(items)}\n"
                      "Try Relink from folder… first if the files were moved. Ctrl+Z undoes.",
                      lambda: self._op(lambda: cleanup.delete_takes(
                          self.app.project, ids, label=f"Deleted {_n(len(ids), 'take')} whose file is missing")))

    # -- workflow PNGs --
    def regenerate(self, items):
        ids = [i["take_id"] for i in items]
        if not ids:
            return

        def work(progress, cancel, project):
            return cleanup.regenerate_pngs(project, ids, progress=progress)

        def done(out):
            ok = sum(1 for st in out if st.action == "regenerated")
            bad = [st for st in out if st.action == "failed"]
            if bad:
                self.app.dialogs.message("Some workflow PNGs could not be made",
                                         f"Regenerated {ok} of {len(out)}. These videos have no decodable frame:\n"
                                         + "\n".join(f"  {st.video}: {st.reason}" for st in bad)
                                         + "\nDelete those takes (Delete takes) or replace their videos.", height=260)
            else:
                self.app.toast(f"regenerated {_n(ok, 'workflow PNG')} · Ctrl+Z to undo")
        return self.app.run_job(work, title="Regenerate workflow PNGs", label=f"{_n(len(ids), 'video')} …",
                                on_done=done, changed=CHANGED)

    def delete_no_png(self, items):
        ids = [i["take_id"] for i in items]
        if not ids:
            return
        self._confirm("Delete video takes", f"Move {_n(len(ids), 'video take')} to the trash?\n{_names(items)}\n"
                      "Ctrl+Z puts them back.",
                      lambda: self._op(lambda: cleanup.delete_takes(
                          self.app.project, ids, label=f"Deleted {_n(len(ids), 'video take')} without a workflow PNG")))

    # -- duplicates --
    def trash_unused_copies(self, items):
        paths = [i["path"] for i in items if not i.get("referenced")]
        if not paths:
            self.app.toast("every selected copy is in use by a take or asset; delete the take to remove one")
            return
        self.trash_orphans([i for i in items if i["path"] in set(paths)])

    # -- folders --
    def remove_folders(self, items):
        paths = [i["path"] for i in items]
        if not paths:
            return
        self._confirm("Remove empty folders", f"Remove {_n(len(paths), 'empty folder')} of deleted shots?\n"
                      f"{_names(items)}\n(They hold no files.)",
                      lambda: self._op(lambda: cleanup.remove_empty_folders(self.app.project, paths),
                                       done=f"removed {_n(len(paths), 'empty folder')}"), yes="Remove")

    # -- trash --
    def empty_trash(self, items):
        if not items:
            self.app.toast("the trash is empty")
            return
        size = sum(i["size"] for i in items)
        files = sum(i["files"] for i in items)
        paths = [i["path"] for i in items]
        self._confirm("Empty the trash",
                      f"Delete {_n(len(items), 'trash entry')} for good, freeing {size_text(size) or '0 B'} "
                      f"({_n(files, 'file')})?\n{_names(items)}\nThese deletes can no longer be undone.",
                      lambda: self._op(lambda: cleanup.empty_trash(self.app.project, paths),
                                       done=f"emptied the trash: freed {size_text(size) or '0 B'}"),
                      yes="Empty trash")
