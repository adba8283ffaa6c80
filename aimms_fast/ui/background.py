"""Work off the UI thread: file-system scans (`BackgroundJob`) and long use cases (`Job`: backup,
restore, CSV import, archive, export) with their own project connection, progress and cancel.

The thread only computes: no Dear PyGui, and never the UI's sqlite connection. A `Job` runs its use
case on `project.for_job()` (its own connection; SQLite WAL lets the UI keep reading while the job
writes), so a transaction the job holds open is the job's alone: nothing the UI does can join it,
and a cancelled or failed job rolls back without touching what the UI has. The UI polls `done`
once per frame and shows `result` or `error`."""
from __future__ import annotations

import threading
from typing import Callable


class BackgroundJob:
    def __init__(self, fn: Callable[[], object], name: str = "aimms-scan"):
        self.result = None
        self.error: BaseException | None = None
        self._done = threading.Event()

        def run():
            try:
                self.result = fn()
            except BaseException as e:  # reported on the page, never raised in the thread
                self.error = e
            finally:
                self._done.set()
        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class Job:
    """One long use case: `fn(progress, cancel, project)` on a worker thread with the job's own
    project (`project.for_job()`). `progress(done, total)` may be called from the worker;
    `cancel` is a threading.Event the use case checks between batches (it raises
    errors.Cancelled and its transaction rolls back). Created and polled on the UI thread."""

    def __init__(self, fn: Callable, project, *, title: str, label: str, mutating: bool = True,
                 on_done: Callable | None = None, changed: tuple | None = None):
        self.title, self.label, self.mutating = title, label, mutating
        self.on_done, self.changed = on_done, changed
        self.cancel = threading.Event()
        self.done_n = 0
        self.total = 0
        self.win = self.bar = self.text = self.cancel_button = None   # the progress dialog (UI thread)

        def progress(done: int, total: int) -> None:
            self.done_n, self.total = int(done), int(total)

        def run():
            with project.for_job() as own:
                return fn(progress, self.cancel, own)
        self.work = BackgroundJob(run, name=f"aimms-job {title}")

    @property
    def done(self) -> bool:
        return self.work.done

    @property
    def cancelled(self) -> bool:
        """The job ended because its Cancel button was pressed (its changes were rolled back)."""
        from aimms_fast.errors import Cancelled
        return isinstance(self.work.error, Cancelled)

    def wait(self, timeout: float | None = None) -> bool:
        return self.work.wait(timeout)
