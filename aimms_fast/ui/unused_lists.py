"""One list of the Unused page: a clipped (virtualized) table, sortable by any column, with
multi-select (click toggles a row; Select all / none) and a row of action buttons that act on the
selection (or on every row when nothing is selected). UI thread only."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import dearpygui.dearpygui as dpg

# Rows made as widgets (the clipper draws only the visible ones, but each row still costs ~6
# items): a pooled 21K project has ~30K duplicates. Beyond this the list says so; Select all and
# the actions still cover every item, and sorting brings any of them into the shown part.
MAX_ROWS = 5000


@dataclass
class Column:
    label: str
    key: str
    weight: float = 1.0
    fmt: Callable | None = None     # value -> text


def size_text(n) -> str:
    if n is None:
        return ""
    return f"{n:,} B" if n < 10_000 else f"{n / 1024:,.0f} KiB" if n < 10 * 2**20 else f"{n / 2**20:,.1f} MiB"


def age_text(s) -> str:
    return "" if s is None else f"{s / 86400:.1f} days" if s >= 86400 else f"{s / 3600:.1f} h" if s >= 3600 \
        else f"{s / 60:.0f} min"


def date_text(t) -> str:
    return "" if not t else time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


class ItemList:
    """`actions`: (label, fn(items), danger) — fn gets the selected items (all when none selected)."""

    def __init__(self, parent, name: str, columns: list[Column], actions: list[tuple], theme=None,
                 empty_text: str = "nothing here"):
        self.name = name
        self.columns = columns
        self.items: list[dict] = []
        self.sel: set[int] = set()        # indexes into self.items
        self.empty_text = empty_text
        self.buttons: dict[str, int] = {}
        with dpg.group(parent=parent, horizontal=True):
            for label, fn, danger in actions:
                b = dpg.add_button(label=label, user_data=fn,
                                   callback=lambda s, a, u: u(self.selected_or_all()))
                self.buttons[label] = b
            dpg.add_spacer(width=12)
            dpg.add_button(label="Select all", callback=lambda: self.select_all(True))
            dpg.add_button(label="Select none", callback=lambda: self.select_all(False))
            self.note = dpg.add_text("")
        self.table = dpg.add_table(parent=parent, header_row=True, clipper=True, scrollY=True, height=-1, freeze_rows=1,
                                   row_background=True, resizable=True, borders_innerV=True, sortable=True,
                                   sort_multi=False, callback=self._on_sort,
                                   policy=dpg.mvTable_SizingStretchProp)
        if theme is not None:
            dpg.bind_item_theme(self.table, theme)
        for c in columns:
            dpg.add_table_column(label=c.label, parent=self.table, init_width_or_weight=c.weight)
        with dpg.theme() as self._sel_theme:   # a selected row must stand out from the striping
            with dpg.theme_component(dpg.mvSelectable):
                dpg.add_theme_color(dpg.mvThemeCol_Header, (52, 98, 168))
                dpg.add_theme_color(dpg.mvThemeCol_HeaderHovered, (66, 116, 190))
                dpg.add_theme_color(dpg.mvThemeCol_HeaderActive, (76, 130, 205))
        self.active = False     # drawn only while its tab is shown (a hidden list keeps its items)
        self._dirty = False

    # -- data --
    def set_items(self, items: list[dict]) -> None:
        keep = {self._key(self.items[i]) for i in self.sel if i < len(self.items)}
        self.items = list(items)
        self.sel = {i for i, it in enumerate(self.items) if self._key(it) in keep}
        self._render()

    def set_active(self, on: bool) -> None:
        self.active = on
        if on and self._dirty:
            self._render()

    @staticmethod
    def _key(it: dict):
        return it.get("take_id") or it.get("path")

    def selected(self) -> list[dict]:
        return [self.items[i] for i in sorted(self.sel)]

    def selected_or_all(self) -> list[dict]:
        return self.selected() or list(self.items)

    def select_all(self, on: bool) -> None:
        self.sel = set(range(len(self.items))) if on else set()
        self._render()

    def select_where(self, pred) -> None:
        self.sel = {i for i, it in enumerate(self.items) if pred(it)}
        self._render()

    def _toggle(self, i: int) -> None:
        self.sel ^= {i}
        self._update_note()

    def _on_sort(self, sender, specs) -> None:
        if not specs:
            return
        col_id, direction = specs[0]
        cols = dpg.get_item_children(self.table, 0)
        k = self.columns[cols.index(col_id)].key
        chosen = {self._key(self.items[i]) for i in self.sel}
        self.items.sort(key=lambda it: (it.get(k) is None, it.get(k) if it.get(k) is not None else 0),
                        reverse=direction < 0)
        self.sel = {i for i, it in enumerate(self.items) if self._key(it) in chosen}
        self._render()

    # -- drawing --
    def _render(self) -> None:
        if not self.active:
            self._dirty = True
            self._update_note()
            return
        self._dirty = False
        dpg.delete_item(self.table, children_only=True, slot=1)
        for i, it in enumerate(self.items[:MAX_ROWS]):
            with dpg.table_row(parent=self.table):
                for j, c in enumerate(self.columns):
                    v = it.get(c.key)
                    text = c.fmt(v) if c.fmt else ("" if v is None else str(v))
                    if j == 0:
                        sel = dpg.add_selectable(label=text, span_columns=True, default_value=i in self.sel,
                                                 user_data=i, callback=lambda s, a, u: self._toggle(u))
                        dpg.bind_item_theme(sel, self._sel_theme)
                    else:
                        dpg.add_text(text)
        self._update_note()

    def _update_note(self) -> None:
        n = len(self.items)
        more = f" (first {MAX_ROWS:,} shown)" if n > MAX_ROWS else ""
        dpg.set_value(self.note, self.empty_text if not n else
                      (f"{len(self.sel)} of {n:,} selected" if self.sel
                       else f"{n:,} item(s); none selected: actions apply to all") + more)
