"""What every floating window of the viewer (shot window, player, compare, tournament, cut points)
provides to the app shell. The shell (`App.add_window`) routes keys to the focused one (its
`key_context` in keys.py), ticks each every frame, and passes on thumbnail events and data changes.
All methods are called on the UI thread."""
from __future__ import annotations

import dearpygui.dearpygui as dpg


class FloatingWindow:
    key_context = ""

    def __init__(self, app):
        self.app = app
        self.alive = True
        self.win = None          # the dpg window item

    def on_action(self, action: str) -> bool:
        """A keyboard action from keys.py for `key_context`; True if handled."""
        return False

    def tick(self) -> bool:
        """Per frame while open; True while it has work (keeps the loop at full frame rate)."""
        return False

    def on_tiles(self, events) -> None:
        """Thumbnail events from the workers."""

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        """Shots or takes changed elsewhere ('shots' | 'takes' | 'all')."""

    def relayout(self) -> None:
        """Card size, theme or font scale changed."""

    def next_frame_due(self) -> float | None:
        """time.monotonic() at which this window needs its next frame drawn (a playing transport's
        next frame), None when nothing plays. The app loop sleeps until the earliest one."""
        tr = getattr(self, "transport", None)
        return tr.next_change_at() if tr is not None and tr.rate else None

    def focused(self) -> bool:
        """True while this window (or a child window inside it) has keyboard focus. Asked of
        ImGui's windows, not of Dear PyGui's "focused item": that one stays on a clicked button
        after the focus moved to another window, which would then lose its keys to this one."""
        if not (self.alive and self.win is not None and dpg.does_item_exist(self.win)):
            return False
        return window_focused(self.win)

    def focus(self) -> None:
        if self.alive and self.win is not None and dpg.does_item_exist(self.win):
            dpg.focus_item(self.win)

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        if self.win is not None and dpg.does_item_exist(self.win):
            dpg.delete_item(self.win)


def window_focused(item) -> bool:
    """The window or any child window below it (also inside groups) is ImGui's focused window."""
    return dpg.is_item_focused(item) or _window_focused_inside(item)


def _window_focused_inside(item) -> bool:
    for child in dpg.get_item_children(item, 1) or []:
        kind = dpg.get_item_type(child)
        if kind == "mvAppItemType::mvChildWindow":
            if window_focused(child):
                return True
        elif kind in _CONTAINERS and _window_focused_inside(child):
            return True
    return False


_CONTAINERS = {"mvAppItemType::mvGroup", "mvAppItemType::mvTabBar", "mvAppItemType::mvTab",
               "mvAppItemType::mvCollapsingHeader", "mvAppItemType::mvTable", "mvAppItemType::mvTableRow"}
