"""Review windows (player, compare) drawn without an ImGui window background under their pictures.

Why: llvmpipe blends every pixel a window fills (~7 ns of CPU each, docs/performance.md). A
floating window's background is one rectangle under everything in it, so under the picture area
it was paid for and then painted over by the pane's picture: ~3.5 ms of CPU a frame for the
player's 926x521 picture, ~7.5 ms for the four pictures of a 1280x820 compare window. Here the
window has no background and a 1 px padding (its border stays visible); its picture area (LiveView, which paints its own bars
and gaps) fills the window edge to edge, and the controls sit in a `panel`: a child window whose
own background is the theme's window colour, with the usual padding and spacing restored.

UI thread only.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ui import theme as T

_THEMES: dict[str, int] = {}


def _hole_theme() -> int:
    t = _THEMES.get("hole")
    if t is None or not dpg.does_item_exist(t):
        with dpg.theme() as t:
            with dpg.theme_component(dpg.mvAll):
                # 1 px: the window's border stays visible around the picture area (and outside
                # any pane crop a test reads)
                dpg.add_theme_style(dpg.mvStyleVar_WindowPadding, 1, 1)
                dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 8, 0)
        _THEMES["hole"] = t
    return t


def panel_theme(app) -> int:
    """The controls panel's theme for the app's current colour theme."""
    name = app.prefs.theme
    t = _THEMES.get(name)
    if t is None or not dpg.does_item_exist(t):
        with dpg.theme() as t:
            # The spacing after an item is the one of its own theme: 0 after the panel itself
            # (the picture area follows it without a gap), the usual 6 after the rows in it.
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvThemeCol_ChildBg, T.PALETTES[name]["window_bg"])
                dpg.add_theme_style(dpg.mvStyleVar_WindowPadding, 8, 6)
                dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 8, 0)
                dpg.add_theme_style(dpg.mvStyleVar_ChildRounding, 0)
            for kind in (dpg.mvGroup, dpg.mvDrawlist):
                with dpg.theme_component(kind):
                    dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 8, 6)
        _THEMES[name] = t
    return t


def open_window(win: int) -> None:
    """Make `win` a window without background or padding (its children must cover it)."""
    dpg.configure_item(win, no_background=True)
    dpg.bind_item_theme(win, _hole_theme())


def add_panel(app, parent: int, **kw) -> int:
    """A child window with the window's own background colour and padding, for controls."""
    panel = dpg.add_child_window(parent=parent, border=False, no_scrollbar=True,
                                 always_use_window_padding=True, **kw)
    dpg.bind_item_theme(panel, panel_theme(app))
    return panel


def rows_height(app, rows: int) -> int:
    """Height of a panel holding `rows` rows of buttons at the app's font scale. A fixed height,
    not Dear PyGui's auto_resize_y: an auto-sized child keeps a new window hidden for a frame or
    two, which made it take the keyboard focus late (compare's C hands the focus back)."""
    row = T.BASE_FONT_PX * app.prefs.font_scale + 8          # frame padding 4 above and below
    return int(rows * row + (rows - 1) * 6 + 2 * 6 + 2)


def recolour(app, panel: int, rows: int | None = None) -> None:
    """The app's theme or font scale changed: the panel follows it."""
    if dpg.does_item_exist(panel):
        dpg.bind_item_theme(panel, panel_theme(app))
        if rows:
            dpg.configure_item(panel, height=rows_height(app, rows))
