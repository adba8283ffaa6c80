"""Small dialogs: confirm, message/report, formatted text (the user guide), job progress, text
prompt, file and folder pickers.

All are non-blocking: they call back when the user answers (Dear PyGui has no modal loop, and the
render loop must keep running)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
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
        self._sticky: set[int] = set()   # progress dialogs: closed only by their job ending
        self._under: dict[int, list[int]] = {}   # modal dialog -> the modal ones it hides

    def _show_now(self) -> bool:
        # Measured: a modal opened in the same frame as another modal closed is closed at once by
        # ImGui's popup stack (on_close fires, it never shows). Such a dialog is shown a frame later.
        return self.app.frames != self._closed_at

    def _window(self, title: str, w: int, h: int, *, modal: bool = True):
        # ImGui keeps one modal at a time here: a second modal window opened while one shows is
        # closed at once (measured: New project -> Browse… lost its picker). So a modal opened
        # over others hides them, and they come back when it closes.
        under = [x for x in self.open if modal and dpg.does_item_exist(x) and dpg.is_item_shown(x)
                 and dpg.get_item_configuration(x).get("modal")]
        for x in under:
            dpg.configure_item(x, show=False)
        show = self._show_now() and not under
        win = dpg.add_window(label=title, modal=modal, width=w, height=h, no_collapse=True, show=show,
                             on_close=lambda s: self._forget(s))
        _center(win, w, h)
        self.open.append(win)
        if under:
            self._under[win] = under
            self._closed_at = self.app.frames      # show the new one a frame later, like a reopen
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
        self._sticky.discard(win)
        if win in self.open:
            self.open.remove(win)
        if win in self._pending:
            self._pending.remove(win)
        for x in self._under.pop(win, []):         # the dialogs it hid come back next frame
            if x in self.open and dpg.does_item_exist(x) and x not in self._pending:
                self._pending.append(x)
        self._closed_at = self.app.frames
        # Deleting inside the close callback is fine with manual callback management (runs between
        # frames).
        _close(win)

    def close(self, win) -> None:
        self._forget(win)

    def close_top(self) -> bool:
        """Escape: close the newest dialog. A job's progress dialog stays (only its Cancel button
        stops the job); True means the key was used either way."""
        if self.open:
            if self.open[-1] not in self._sticky:
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

    def progress(self, title: str, label: str, on_cancel: Callable[[], None] | None = None
                 ) -> tuple[int, int, int, int | None]:
        """A modal progress window: no title-bar close button, Escape leaves it open; it closes when
        its job ends (the app calls close). Its Cancel button (when `on_cancel` is given) is the one
        way to stop the job. Being modal, it also keeps the mouse off the project while the job
        runs. Returns (window, bar, label text, cancel button)."""
        win = self._window(title, 480, 150 if on_cancel else 120)
        dpg.configure_item(win, no_close=True)
        self._sticky.add(win)
        text = dpg.add_text(label, parent=win, wrap=450)
        bar = dpg.add_progress_bar(parent=win, width=-1, default_value=0.0, overlay="starting…")
        button = None
        if on_cancel is not None:
            dpg.add_spacer(parent=win, height=4)
            button = dpg.add_button(parent=win, label="Cancel", width=120, callback=lambda: on_cancel())
        return win, bar, text, button

    def report(self, title: str, text: str, *, width: int = 760, height: int = 480,
               actions: list[tuple[str, Callable[[], None]]] = ()) -> int:
        """Long text (validation reports): read-only, scrollable, copyable. `actions`: extra
        buttons (label, callback) before Copy; each closes the dialog first."""
        win = self._window(title, width, height)
        dpg.add_input_text(parent=win, default_value=text, multiline=True, readonly=True, width=-1,
                           height=height - 90)
        with dpg.group(parent=win, horizontal=True):
            for label, fn in actions:
                dpg.add_button(label=label, callback=lambda s, a, u: (self._forget(win), u()), user_data=fn)
            dpg.add_button(label="Copy", width=100, callback=lambda: dpg.set_clipboard_text(text))
            dpg.add_button(label="Close", width=100, callback=lambda: self._forget(win))
        return win

    def markdown(self, title: str, text: str, *, on_browser: Callable[[], None] | None = None,
                 width: int = 900, height: int = 660) -> int:
        """Markdown shown as formatted text (the user guide): headings larger and coloured,
        bullets, wrapped paragraphs, tables as tables; no raw '#' or '**'. Not modal (it is read
        beside the app), but Escape closes it like the other dialogs."""
        vw = dpg.get_viewport_client_width() or 1280
        vh = dpg.get_viewport_client_height() or 800
        width, height = min(width, vw - 40), min(height, vh - 60)
        win = self._window(title, width, height, modal=False)
        fonts = getattr(self.app, "heading_fonts", {}) or {}
        accent = (110, 175, 255) if self.app.prefs.theme == "dark" else (20, 90, 200)
        dim = (160, 165, 175) if self.app.prefs.theme == "dark" else (90, 95, 105)
        wrap = width - 50
        with dpg.group(parent=win, horizontal=True):
            dpg.add_button(label="Close", width=100, callback=lambda: self._forget(win))
            if on_browser is not None:
                dpg.add_button(label="Open in the browser", callback=lambda: on_browser())
        body = dpg.add_child_window(parent=win, border=False, width=-1, height=-1)
        for b in markdown_blocks(text):
            if b.kind == "heading":
                dpg.add_spacer(parent=body, height=10 if b.level > 1 else 2)
                t = dpg.add_text(b.text, parent=body, color=accent, wrap=wrap)
                if b.level in fonts:
                    dpg.bind_item_font(t, fonts[b.level])
                if b.level <= 2:
                    dpg.add_separator(parent=body)
            elif b.kind == "bullet":
                with dpg.group(parent=body, horizontal=True, horizontal_spacing=4):
                    dpg.add_spacer(width=12 + 18 * b.level)
                    dpg.add_text("•", color=accent)
                    dpg.add_text(b.text, wrap=wrap - 40 - 18 * b.level)
            elif b.kind == "code":
                dpg.add_text(b.text, parent=body, color=dim, indent=16)
            elif b.kind == "table":
                with dpg.table(parent=body, header_row=True, borders_innerH=True, borders_outerH=True,
                               borders_innerV=True, borders_outerV=True, policy=dpg.mvTable_SizingStretchProp):
                    for k, h in enumerate(b.rows[0]):
                        dpg.add_table_column(label=h, init_width_or_weight=1.0 if k == 0 else 4.0)
                    for row in b.rows[1:]:
                        with dpg.table_row():
                            for cell in row:
                                dpg.add_text(cell, wrap=0)
            else:
                dpg.add_text(b.text, parent=body, wrap=wrap)
            dpg.add_spacer(parent=body, height=4)
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


# -- markdown (the user guide) ---------------------------------------------------------------------

@dataclass
class Block:
    kind: str                       # heading | para | bullet | code | table
    text: str = ""
    level: int = 0                  # heading 1..6; bullet nesting 0..
    rows: list[list[str]] = field(default_factory=list)   # table: header row first


_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_EM = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")


def inline(text: str) -> str:
    """Markdown inline markup to plain text: links keep their words, **bold**, *em* and `code`
    lose their markers (Dear PyGui draws one style per text item)."""
    text = _LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = _EM.sub(r"\1", text)
    return text.replace("\\|", "|")


def markdown_blocks(md: str) -> list[Block]:
    """The block structure of a markdown document (the subset the user guide uses: ATX headings,
    paragraphs, bullets, fenced code, pipe tables)."""
    out: list[Block] = []
    para: list[str] = []
    lines = md.splitlines()

    def flush():
        if para:
            out.append(Block("para", inline(" ".join(p.strip() for p in para))))
            para.clear()
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("```"):
            flush()
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            out.append(Block("code", "\n".join(code)))
        elif not s:
            flush()
        elif s.startswith("#") and s.lstrip("#").startswith(" "):
            flush()
            level = len(s) - len(s.lstrip("#"))
            out.append(Block("heading", inline(s.lstrip("#").strip()), level=min(level, 6)))
        elif s.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip().strip("|"))]
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                    rows.append([inline(c) for c in cells])
                i += 1
            out.append(Block("table", rows=rows))
            continue
        elif _BULLET.match(line):
            flush()
            m = _BULLET.match(line)
            item = [m.group(2)]
            while i + 1 < len(lines) and lines[i + 1].strip() and not _BULLET.match(lines[i + 1]) \
                    and lines[i + 1].startswith("  "):
                i += 1
                item.append(lines[i].strip())
            out.append(Block("bullet", inline(" ".join(item)), level=len(m.group(1)) // 2))
        else:
            para.append(line)
        i += 1
    flush()
    return out
