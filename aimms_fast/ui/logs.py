"""Logs page: the project log (logs/project_log.log, what AIMMS and this app wrote about the
project, one `mutation` line per change) and the app log (the user's log folder), with a level
filter, a word search, follow mode, line selection to copy, and "Open in editor" (as AIMMS does).

Big logs stay cheap: project/log_tail.LogTail reads the last MiB and then only what is appended
(one stat per poll, polled a few times a second while following); older chunks load on request.
The list is virtual: a fixed pool of selectable rows is moved over a spacer as tall as all the
matching lines, so a 100,000-line log costs the same per frame as a 40-line one. UI thread only."""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

from aimms_fast.project.log_tail import LEVELS, LogTail, matching
from aimms_fast.ui import theme as T
from aimms_fast.ui.page import Page

SOURCES = ("Project log", "App log")
LEVEL_CHOICES = {"All lines": (0, False), "Info and above": (1, False), "Warnings and errors": (2, False),
                 "Errors only": (3, False), "Changes to the project": (0, True)}
POLL_S = 0.5                # follow mode: how often the file is stat()ed
OVERSCAN = 4
LEVEL_COLOURS = {2: "warning", 3: "error", 4: "error"}


class LogsPage(Page):
    name = "logs"
    title = "Logs"

    def build(self, parent) -> None:
        app = self.app
        self.tail: LogTail | None = None
        self.shown: list[int] = []          # indexes into tail.lines that pass the filters
        self.selected: set[int] = set()     # indexes into tail.lines
        self._anchor: int | None = None
        self._polled = 0.0
        self._range = (-1, -1, -1)
        with dpg.group(parent=parent, horizontal=True):
            self.source = dpg.add_combo(list(SOURCES), default_value=SOURCES[0], width=130,
                                        callback=lambda: self._open_source())
            self.level = dpg.add_combo(list(LEVEL_CHOICES), default_value="All lines", width=200,
                                       callback=lambda: self._refilter())
            self.search = dpg.add_input_text(hint="search words…", width=240, callback=lambda: self._refilter())
            app.register_text_input(self.search)
            self.follow = dpg.add_checkbox(label="Follow", default_value=True,
                                           callback=lambda s, a: a and self._scroll_to_end())
            dpg.add_button(label="Copy selected", callback=lambda: self.copy_selection())
            dpg.add_button(label="Open in editor", callback=lambda: self.open_in_editor())
            self.older = dpg.add_button(label="Load older lines", callback=lambda: self.load_older())
        self.info = T.text(app, parent, "", "dim")
        self.scroll = dpg.add_child_window(parent=parent, border=True, height=-1, horizontal_scrollbar=True)
        self.spacer = dpg.add_spacer(parent=self.scroll, width=1, height=1)
        self.rows: list[int] = []
        self._row_h = 0

    @property
    def lines(self) -> list:
        """Every line read so far (project/log_tail.Line), oldest first."""
        return self.tail.lines if self.tail is not None else []

    # -- source ----------------------------------------------------------------------------------
    def path(self):
        from aimms_fast.ui.prefs import app_log_file
        if dpg.get_value(self.source) == "App log":
            return app_log_file()
        return self.project.layout.log_file if self.project is not None else None

    def _open_source(self) -> None:
        p = self.path()
        self.tail = LogTail(p) if p is not None else None
        if self.tail is not None:
            self.tail.load()
        self.selected.clear()
        self._anchor = None
        self._refilter()
        self._scroll_to_end()

    def on_project(self, project) -> None:
        self._open_source()

    def on_show(self) -> None:
        if self.tail is None or self.tail.poll():
            self._refilter()

    def refresh(self) -> None:
        self._open_source()

    def load_older(self) -> None:
        if self.tail is None or not self.tail.has_older:
            return
        added = self.tail.load_older()
        self.selected = {i + added for i in self.selected}
        y = dpg.get_y_scroll(self.scroll)
        before = len(self.shown)
        self._refilter()
        dpg.set_y_scroll(self.scroll, y + (len(self.shown) - before) * self._line_h())

    # -- filtering -------------------------------------------------------------------------------
    def _filters(self) -> dict:
        lvl, mut = LEVEL_CHOICES.get(dpg.get_value(self.level), (0, False))
        return {"min_level": lvl, "mutations_only": mut, "query": dpg.get_value(self.search) or ""}

    def _refilter(self) -> None:
        lines = self.tail.lines if self.tail is not None else []
        self.shown = matching(lines, **self._filters())
        self._range = (-1, -1, -1)
        self._layout()

    def _line_h(self) -> int:
        return int(T.BASE_FONT_PX * self.app.prefs.font_scale) + 6

    def _layout(self) -> None:
        h = self._line_h()
        if h != self._row_h:
            self._row_h = h
            for r in self.rows:
                dpg.delete_item(r)
            self.rows = []
        dpg.configure_item(self.spacer, height=max(1, len(self.shown) * h))
        t = self.tail
        total = len(t.lines) if t is not None else 0
        where = str(t.path) if t is not None else "no project open"
        older = " · older lines not loaded" if t is not None and t.has_older else ""
        dpg.set_value(self.info, f"{where} · {len(self.shown):,} of {total:,} lines shown"
                                 f"{' · ' + str(len(self.selected)) + ' selected' if self.selected else ''}{older}")
        dpg.configure_item(self.older, enabled=bool(t is not None and t.has_older))

    def _scroll_to_end(self) -> None:
        self._stick = True

    # -- per frame -------------------------------------------------------------------------------
    def tick(self) -> bool:
        if self._line_h() != self._row_h:       # text size changed: rows are rebuilt at the new height
            self._layout()
            self._range = (-1, -1, -1)
        now = time.monotonic()
        if self.tail is not None and dpg.get_value(self.follow) and now - self._polled >= POLL_S:
            self._polled = now
            n = self.tail.poll()
            if n:
                at_end = dpg.get_y_scroll(self.scroll) >= dpg.get_y_scroll_max(self.scroll) - 2
                if n > 0:
                    first = len(self.tail.lines) - n
                    self.shown += matching(self.tail.lines, start=first, **self._filters())
                    self._trim_dropped()
                    self._layout()
                else:                    # rotated: everything was reloaded
                    self.selected.clear()
                    self._refilter()
                if at_end:
                    self._stick = True
        if getattr(self, "_stick", False):
            self._stick = False
            dpg.set_y_scroll(self.scroll, len(self.shown) * self._row_h + 100)
            self._range = (-1, -1, -1)
        self._place_rows()
        return False

    def _trim_dropped(self) -> None:
        """LogTail drops its oldest lines past MAX_LINES: re-index what we keep."""
        t = self.tail
        if self.shown and self.shown[-1] >= len(t.lines):
            self._refilter()

    def _place_rows(self) -> None:
        h = self._row_h or self._line_h()
        y = dpg.get_y_scroll(self.scroll)
        view = dpg.get_item_rect_size(self.scroll)[1] or 600
        first = max(0, int(y // h) - OVERSCAN)
        last = min(len(self.shown), int((y + view) // h) + OVERSCAN + 1)
        key = (first, last, len(self.shown))
        if key == self._range:
            return
        self._range = key
        need = int(view // h) + 2 * OVERSCAN + 2
        while len(self.rows) < need:
            r = dpg.add_selectable(parent=self.scroll, label="", span_columns=True, show=False,
                                   callback=self._on_click)
            self.rows.append(r)
        lines = self.tail.lines if self.tail is not None else []
        for k, r in enumerate(self.rows):
            j = first + k
            if j >= last:
                dpg.configure_item(r, show=False)
                continue
            i = self.shown[j]
            ln = lines[i]
            dpg.configure_item(r, show=True, pos=(8, j * h + 4), label=ln.text or " ", user_data=i)
            dpg.set_value(r, i in self.selected)
            role = LEVEL_COLOURS.get(ln.level)
            dpg.bind_item_theme(r, self._theme(role) if role else 0)

    def _theme(self, role: str) -> int:
        cache = self.__dict__.setdefault("_themes", {})
        key = (role, self.app.prefs.theme)
        if key not in cache:
            with dpg.theme() as th, dpg.theme_component(dpg.mvSelectable):
                dpg.add_theme_color(dpg.mvThemeCol_Text, T.colour(self.app, role))
            cache[key] = th
        return cache[key]

    # -- selection and copy ------------------------------------------------------------------------
    def _on_click(self, sender, value, user_data) -> None:
        i = user_data
        shift = dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
        ctrl = dpg.is_key_down(dpg.mvKey_LControl) or dpg.is_key_down(dpg.mvKey_RControl)
        self.select(i, extend=shift, toggle=ctrl)

    def select(self, i: int, *, extend: bool = False, toggle: bool = False) -> None:
        """Click: one line; Shift+click: the shown lines from the last click to this one;
        Ctrl+click: add or remove one line."""
        if extend and self._anchor is not None:
            lo, hi = sorted((self._anchor, i))
            self.selected = {k for k in self.shown if lo <= k <= hi}
        elif toggle:
            self.selected ^= {i}
            self._anchor = i
        else:
            self.selected = {i}
            self._anchor = i
        self._range = (-1, -1, -1)
        self._layout()

    def selection_text(self) -> str:
        lines = self.tail.lines if self.tail is not None else []
        return "\n".join(lines[i].text for i in sorted(self.selected) if i < len(lines))

    def copy_selection(self) -> None:
        text = self.selection_text()
        if not text:
            self.app.toast("select lines first (click, Shift+click, Ctrl+click)")
            return
        dpg.set_clipboard_text(text)
        self.app.toast(f"copied {len(self.selected)} line{'s' if len(self.selected) != 1 else ''}")

    def open_in_editor(self) -> None:
        p = self.path()
        if p is None:
            return
        self.app.open_file(p)

    def on_action(self, action: str) -> bool:
        return False


__all__ = ["LogsPage", "LEVELS"]
