"""Small dialogs: confirm, message/report, text prompt, file and folder pickers.

All are non-blocking: they call back when the user answers (Dear PyGui has no modal loop, and the
render loop must keep running)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import dearpygui.dearpygui as dpg


def _center(win, w: int, h: int) -> None:
    vw = dpg.get_viewport_client_width() or 1280
    vh = dpg.get_viewport_client_height() or 800
    dpg.set_item_pos(win, [max(0, (vw - w) // 2), max(0, (vh - h) // 3)])


def _close(win) -> None:
    if dpg.does_item_exist(win):
        dpg.delete_item(win)


class Dialogs:
    """Owned by the app; remembers open dialogs so keys can be suppressed while one has focus."""

    def __init__(self, app):
        self.app = app
        self.open: list[int] = []
        self._closed_at = -1
        self._pending: list[int] = []

    def _show_now(self) -> bool:
        # Measured: a modal opened in the same frame as another modal closed is closed at once by
        # ImGui's popup stack (on_close fires, it never shows). Such a dialog is shown a frame later.
        return self.app.frames != self._closed_at

    def _window(self, title: str, w: int, h: int, *, modal: bool = True):
        show = self._show_now()
        win = dpg.add_window(label=title, modal=modal, width=w, height=h, no_collapse=True, show=show,
                             on_close=lambda s: self._forget(s))
        _center(win, w, h)
        self.open.append(win)
        if not show:
            self._pending.append(win)
        return win

    def flush(self) -> None:
        """Called once per frame: show dialogs that had to wait for a frame."""
        if self._pending and self._show_now():
            for win in self._pending:
                if dpg.does_item_exist(win):
                    dpg.configure_item(win, show=True)
            self._pending = []

    def _forget(self, win) -> None:
        if win in self.open:
            self.open.remove(win)
        if win in self._pending:
            self._pending.remove(win)
        self._closed_at = self.app.frames
        # Deleting inside the close callback is fine with manual callback management (runs between
        # frames).
        _close(win)

    def close(self, win) -> None:
        self._forget(win)

    def close_top(self) -> bool:
        if self.open:
            self._forget(self.open[-1])
            return True
        return False

    @property
    def any_open(self) -> bool:
        self.open = [w for w in self.open if dpg.does_item_exist(w)]
        return bool(self.open)

    # -- simple ones ---------------------------------------------------------------------------
    def confirm(self, title: str, text: str, on_yes: Callable[[], None], *, yes: str = "Delete",
                danger: bool = True) -> int:
        win = self._window(title, 460, 170)
        dpg.add_text(text, parent=win, wrap=430)
        dpg.add_spacer(parent=win, height=8)
        with dpg.group(parent=win, horizontal=True):
            b = dpg.add_button(label=yes, width=120, callback=lambda: (self._forget(win), on_yes()))
            if danger:
                dpg.bind_item_theme(b, self.app.themes["danger"])
            dpg.add_button(label="Cancel", width=120, callback=lambda: self._forget(win))
        return win

    def message(self, title: str, text: str, *, width: int = 520, height: int = 200) -> int:
        win = self._window(title, width, height)
        dpg.add_text(text, parent=win, wrap=width - 30)
        dpg.add_spacer(parent=win, height=8)
        dpg.add_button(label="OK", parent=win, width=100, callback=lambda: self._forget(win))
        return win

    def progress(self, title: str, label: str) -> tuple[int, int]:
        """A modal progress window (no close button: it closes when its job ends). Being modal, it
        also keeps the user from changing the project while the job runs."""
        win = self._window(title, 480, 120)
        dpg.configure_item(win, no_close=True)
        dpg.add_text(label, parent=win, wrap=450)
        bar = dpg.add_progress_bar(parent=win, width=-1, default_value=0.0, overlay="starting…")
        return win, bar

    def report(self, title: str, text: str, *, width: int = 760, height: int = 480) -> int:
        """Long text (validation reports): read-only, scrollable, copyable."""
        win = self._window(title, width, height)
        dpg.add_input_text(parent=win, default_value=text, multiline=True, readonly=True, width=-1,
                           height=height - 90)
        with dpg.group(parent=win, horizontal=True):
            dpg.add_button(label="Copy", width=100, callback=lambda: dpg.set_clipboard_text(text))
            dpg.add_button(label="Close", width=100, callback=lambda: self._forget(win))
        return win

    def prompt(self, title: str, label: str, on_ok: Callable[[str], None], *, default: str = "",
               ok: str = "OK", hint: str = "") -> int:
        win = self._window(title, 520, 150)
        inp = dpg.add_input_text(parent=win, label=label, default_value=default, width=360, hint=hint,
                                 on_enter=True, callback=lambda s, a: (self._forget(win), on_ok(a)))
        self.app.register_text_input(inp)
        with dpg.group(parent=win, horizontal=True):
            dpg.add_button(label=ok, width=100,
                           callback=lambda: (lambda v: (self._forget(win), on_ok(v)))(dpg.get_value(inp)))
            dpg.add_button(label="Cancel", width=100, callback=lambda: self._forget(win))
        dpg.focus_item(inp)
        return win

    # -- files ---------------------------------------------------------------------------------
    def pick_files(self, title: str, exts: list[str], on_files: Callable[[list[Path]], None], *,
                   multiple: bool = True, start: Path | None = None, kind: str | None = None):
        """The desktop's file chooser, else ours (ui/file_dialog.py); `on_files` gets the picked
        files on the UI thread, never on cancel."""
        from aimms_fast.ui import file_dialog
        return file_dialog.pick_files(self.app, title, exts, on_files, multiple=multiple, start=start, kind=kind)

    def pick_folder(self, title: str, on_folder: Callable[[Path], None], *, start: Path | None = None):
        from aimms_fast.ui import file_dialog
        return file_dialog.pick_folder(self.app, title, on_folder, start=start)
