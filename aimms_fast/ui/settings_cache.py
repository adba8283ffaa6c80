"""Settings > Memory and thumbnails: the cache folder's size and "Clear the thumbnail cache", both
as background jobs with progress (a 21K-take cache is tens of thousands of files).

Clearing stops the thumbnail workers first (they write into the folder), deletes the folder's
contents, then starts a fresh MediaServices so thumbnails are rebuilt as pages ask for them. The job
functions use only os (no Dear PyGui, no sqlite): they run on the job's thread."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aimms_fast.errors import Cancelled


@dataclass
class FolderUsage:
    path: str
    files: int
    bytes: int


def _walk(path: Path):
    for dp, dirs, files in os.walk(path):
        for f in files:
            yield os.path.join(dp, f)


def folder_usage(path: Path, progress=None, cancel=None) -> FolderUsage:
    """Files and bytes under `path` (0 when it does not exist). Job thread."""
    n = size = 0
    for fp in _walk(path):
        try:
            size += os.lstat(fp).st_size
        except OSError:
            continue
        n += 1
        if n % 500 == 0:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            if progress:
                progress(n, 0)
    return FolderUsage(str(path), n, size)


def clear_folder(path: Path, progress=None, cancel=None) -> FolderUsage:
    """Delete everything under `path` (the folder itself stays); returns what was freed. Stops at
    Cancel between files (what is gone is gone: it is a cache). Job thread."""
    before = folder_usage(path)
    done = freed = 0
    for fp in _walk(path):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        try:
            freed += os.lstat(fp).st_size
            os.unlink(fp)
        except OSError:
            continue
        done += 1
        if progress and done % 200 == 0:
            progress(done, before.files)
    for child in Path(path).iterdir() if Path(path).exists() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
    if progress:
        progress(before.files, before.files)
    return FolderUsage(str(path), done, freed)


def human(n: int) -> str:
    for unit, div in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n} bytes"


def measure(app, on_text) -> None:
    """Start the size job; `on_text(str)` gets the answer on the UI thread."""
    p = app.project
    if p is None:
        return
    folder = p.layout.cache
    app.run_job(lambda progress, cancel, project: folder_usage(folder, progress, cancel),
                title="Measuring the thumbnail cache", label=str(folder), mutating=False,
                on_done=lambda u: on_text(f"{human(u.bytes)} in {u.files:,} files in {u.path}. Safe to clear: "
                                          "thumbnails are rebuilt when needed."))


class CacheClear:
    """Stop the workers, clear the cache folder in a job, start fresh workers (also when the job
    fails or is cancelled: `poll()` from the page's tick sees to that). UI thread."""

    def __init__(self, app, on_text):
        self.app, self.on_text = app, on_text
        self.project = app.project
        self.job = None
        self.restarted = False

    def start(self) -> bool:
        app, p = self.app, self.project
        if p is None or app.services is None:
            return False
        if p.readonly:
            app.toast("read-only project: its cache is left as it is")
            return False
        if app.busy_job is not None:
            app.refuse_while_busy("clearing the cache")
            return False
        folder = p.layout.cache
        app.services.close()
        app.textures.attach(None)
        self.job = app.run_job(lambda progress, cancel, project: clear_folder(folder, progress, cancel),
                               title="Clearing the thumbnail cache", label=str(folder), mutating=False,
                               on_done=self._done)
        if self.job is None:
            self._restart()
        return self.job is not None

    def _done(self, u: FolderUsage) -> None:
        self._restart()
        self.on_text(f"Cleared {human(u.bytes)} ({u.files:,} files). Thumbnails are being rebuilt.")

    def _restart(self) -> None:
        from aimms_fast.ui.services import MediaServices
        if self.restarted or self.app.project is not self.project:
            return
        self.restarted = True
        app = self.app
        app.services = MediaServices(self.project, workers=app.prefs.workers or None)
        app.textures.attach(app.services.tiles, app.services.states)
        app.notify("all")

    def poll(self) -> bool:
        """True while the job runs; a failed or cancelled clear gets its workers back here."""
        if self.job is None or self.restarted:
            return False
        if not self.job.done:
            return True
        if self.job.work.error is not None:
            self._restart()
        return False
