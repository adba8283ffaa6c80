"""File-system scans off the UI thread. The thread only computes (no Dear PyGui, no shared sqlite
connection); the page polls `done` once per frame and shows `result`."""
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
