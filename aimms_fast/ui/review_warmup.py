"""Warm-up of the review views right after a project's first screen, so the first player of a
session opens as fast as the later ones.

Measured (docs/performance.md, "open a player"): the first open of a session paid for importing
PyAV and the playback modules (~180 ms of CPU; `av` alone is most of it), compiling the compare
shaders and the GL self-test, and making the pane's Dear PyGui texture (a float32 copy and
upload of the whole canvas, ~60 ms). Here the imports run on a thread of their own (module code
holds the GIL for part of it, but the UI thread keeps drawing), and the GL work, which must run on
the UI thread, is done a step per frame by `live_gl.prewarm`: one texture of a new player's
pane size is made, found, self-tested and left in the texture pool, where the first player
takes it.

UI thread: `step` (the app calls it once per frame until it returns True). The import thread
never touches Dear PyGui.
"""
from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

# What opening a player imports beyond the shell (measured with cProfile on the first open).
# The ui modules only define things at import (no Dear PyGui calls), so the thread imports them too.
MODULES = ("av", "av.subtitles.stream", "aimms_fast.media.frames", "aimms_fast.media.probe",
           "aimms_fast.playback.stream", "aimms_fast.playback.transport", "aimms_fast.playback.audio",
           "aimms_fast.store.review", "aimms_fast.store.export",
           "aimms_fast.ui.live_gl", "aimms_fast.ui.live_view", "aimms_fast.ui.player")


def _import_all() -> None:
    # Module code holds the GIL; the app's 1 ms switch interval (App.start) keeps a UI frame from
    # waiting long for it while these imports run (~0.2 s), e.g. when the user scrolls.
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:   # noqa: BLE001 - the player reports its own import error when opened
            log.warning("warm-up: importing %s failed", name, exc_info=True)


class ReviewWarmup:
    """One warm-up per opened project (cheap when everything is warm already)."""

    def __init__(self):
        self._thread: threading.Thread | None = None
        self._gl_done = False

    def importing(self) -> bool:
        """The import thread is still running (it needs no UI frames)."""
        return self._thread is not None and self._thread.is_alive()

    def step(self, app, *, idle: bool = True) -> bool:
        """Advance the warm-up by one frame's share; True when it is finished. UI thread. The
        imports start at once; the GL steps (a texture made and tested on this thread, ~30 ms a
        frame) wait for `idle` (no first screen loading, no scrolling)."""
        if self._thread is None:
            self._thread = threading.Thread(target=_import_all, name="warm-up imports", daemon=True)
            self._thread.start()
            return False
        if self._thread.is_alive() or not idle:
            return False
        if not self._gl_done:
            from aimms_fast.ui.live_gl import prewarm
            from aimms_fast.ui.player import default_pane_size
            self._gl_done = prewarm(*default_pane_size())
            return False
        return True
