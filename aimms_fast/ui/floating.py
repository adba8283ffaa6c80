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

    def focused(self) -> bool:
        """True while this window (or anything inside it) has keyboard focus."""
        if not (self.alive and self.win is not None and dpg.does_item_exist(self.win)):
            return False
        if dpg.is_item_focused(self.win):
            return True
        # A click on a child (drawlist, child window, button) focuses the child in Dear PyGui's
        # item state, not the window: walk up from the focused item.
        return _contains(self.win, dpg.get_focused_item())

    def focus(self) -> None:
        if self.alive and self.win is not None and dpg.does_item_exist(self.win):
            dpg.focus_item(self.win)

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        if self.win is not None and dpg.does_item_exist(self.win):
            dpg.delete_item(self.win)


def _contains(root, item) -> bool:
    while item and dpg.does_item_exist(item):
        if item == root:
            return True
        item = dpg.get_item_parent(item)
    return False
