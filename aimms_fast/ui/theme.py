"""Fonts, themes and the colours cards are drawn with (dark and light)."""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

BASE_FONT_PX = 15
_FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "C:/Windows/Fonts/segoeui.ttf",
]

# Card and text colours per theme (RGBA 0..255). Badges keep their meaning colours in both themes.
# Text roles (text, dim, heading, warning, error) are checked against window_bg for WCAG AA body
# text (4.5:1) by tests/ui/test_pages.py: the light theme's headings were pale blue on white (1.9:1).
PALETTES = {
    "dark": {"card_bg": (38, 40, 46, 255), "card_border": (70, 74, 84, 255), "text": (230, 232, 236, 255),
             "dim": (150, 155, 165, 255), "accent": (80, 160, 255, 255), "hover": (120, 130, 150, 255),
             "banner": (120, 70, 20, 255), "banner_text": (255, 230, 190, 255), "window_bg": (30, 31, 35, 255),
             "heading": (120, 180, 255, 255), "warning": (255, 200, 90, 255), "error": (255, 120, 100, 255)},
    "light": {"card_bg": (250, 250, 252, 255), "card_border": (190, 194, 204, 255), "text": (25, 27, 32, 255),
              "dim": (88, 93, 103, 255), "accent": (20, 110, 230, 255), "hover": (150, 160, 180, 255),
              "banner": (255, 220, 160, 255), "banner_text": (80, 40, 0, 255), "window_bg": (238, 239, 242, 255),
              "heading": (15, 80, 170, 255), "warning": (140, 80, 0, 255), "error": (175, 35, 25, 255)},
}
TEXT_ROLES = ("text", "dim", "heading", "warning", "error")
# Widget colours of the light theme (build_themes) whose text must stay readable on them.
LIGHT_TEXT = (20, 22, 28)
LIGHT_SURFACES = {"window": (238, 239, 242), "frame": (255, 255, 255), "button": (215, 222, 235),
                  "header": (205, 220, 245), "tab": (215, 220, 230), "table header": (220, 224, 232),
                  "popup": (250, 250, 252)}
STAR = (255, 200, 40, 255)
STAR_EDGE = (90, 60, 0, 255)
BADGE = {"placeholder": ((110, 110, 120, 235), "PLACEHOLDER"),
         "missing": ((200, 50, 50, 235), "MISSING FILE"),
         "nopng": ((170, 90, 0, 235), "NO PNG"),
         "badpng": ((200, 60, 140, 235), "BAD PNG"),
         "failed": ((150, 40, 40, 235), "NO PREVIEW"),
         # assets page (ui/assets.py)
         "loaderror": ((190, 40, 40, 235), "LOAD ERROR"),
         "model": ((40, 100, 160, 235), "3D"),
         "audio": ((90, 70, 150, 235), "AUDIO"),
         # approvals and locks (issue 12, ops/approvals.py)
         "approved": ((25, 110, 50, 235), "APPROVED"),
         "locked": ((40, 90, 170, 235), "LOCKED"),
         "star_approved": ((25, 110, 50, 235), "STAR APPROVED"),
         "star_locked": ((40, 90, 170, 235), "STAR LOCKED")}


def find_font() -> Path | None:
    for c in _FONT_CANDIDATES:
        p = Path(c)
        if p.is_file():
            return p
    return None


def load_font(scale: float = 1.0):
    """A Unicode font (stars, arrows, accents in shot names) if the system has one; else None and
    Dear PyGui's built-in font is used."""
    path = find_font()
    if path is None:
        return None
    with dpg.font_registry():
        font = dpg.add_font(str(path), BASE_FONT_PX)
    return font


def build_themes() -> dict[str, int]:
    themes = {}
    with dpg.theme() as dark:
        with dpg.theme_component(dpg.mvAll):
            _common_style()
            dpg.add_theme_color(dpg.mvThemeCol_WindowBg, PALETTES["dark"]["window_bg"])
            dpg.add_theme_color(dpg.mvThemeCol_ChildBg, (0, 0, 0, 0))
    themes["dark"] = dark
    with dpg.theme() as light:
        with dpg.theme_component(dpg.mvAll):
            _common_style()
            p = PALETTES["light"]
            for col, val in [
                (dpg.mvThemeCol_Text, LIGHT_TEXT), (dpg.mvThemeCol_TextDisabled, (105, 109, 117)),
                (dpg.mvThemeCol_WindowBg, p["window_bg"]), (dpg.mvThemeCol_ChildBg, (0, 0, 0, 0)),
                (dpg.mvThemeCol_PopupBg, (250, 250, 252)), (dpg.mvThemeCol_Border, (180, 184, 194)),
                (dpg.mvThemeCol_FrameBg, (255, 255, 255)), (dpg.mvThemeCol_FrameBgHovered, (225, 235, 250)),
                (dpg.mvThemeCol_FrameBgActive, (205, 222, 248)), (dpg.mvThemeCol_TitleBg, (220, 222, 228)),
                (dpg.mvThemeCol_TitleBgActive, (200, 210, 230)), (dpg.mvThemeCol_MenuBarBg, (228, 230, 236)),
                (dpg.mvThemeCol_ScrollbarBg, (232, 233, 237)), (dpg.mvThemeCol_ScrollbarGrab, (185, 189, 198)),
                (dpg.mvThemeCol_Button, LIGHT_SURFACES["button"]), (dpg.mvThemeCol_ButtonHovered, (190, 210, 240)),
                (dpg.mvThemeCol_ButtonActive, (160, 190, 235)), (dpg.mvThemeCol_Header, (205, 220, 245)),
                (dpg.mvThemeCol_HeaderHovered, (185, 205, 240)), (dpg.mvThemeCol_HeaderActive, (165, 195, 240)),
                (dpg.mvThemeCol_Tab, (215, 220, 230)), (dpg.mvThemeCol_TabHovered, (190, 210, 240)),
                (dpg.mvThemeCol_TabActive, (250, 250, 252)), (dpg.mvThemeCol_TableHeaderBg, (220, 224, 232)),
                (dpg.mvThemeCol_TableRowBgAlt, (244, 245, 248)), (dpg.mvThemeCol_CheckMark, (20, 110, 230)),
                (dpg.mvThemeCol_SliderGrab, (120, 160, 220)),
            ]:
                dpg.add_theme_color(col, val)
    themes["light"] = light
    with dpg.theme() as banner:
        with dpg.theme_component(dpg.mvAll):
            dpg.add_theme_color(dpg.mvThemeCol_ChildBg, PALETTES["dark"]["banner"])
            dpg.add_theme_color(dpg.mvThemeCol_Text, PALETTES["dark"]["banner_text"])
    themes["banner"] = banner
    with dpg.theme() as danger:
        with dpg.theme_component(dpg.mvButton):
            dpg.add_theme_color(dpg.mvThemeCol_Button, (150, 45, 45))
            dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (185, 60, 60))
            dpg.add_theme_color(dpg.mvThemeCol_Text, (255, 255, 255))
    themes["danger"] = danger
    with dpg.theme() as table:
        with dpg.theme_component(dpg.mvAll):
            # Selectable (first cell) and text cells line up only without vertical frame padding.
            dpg.add_theme_style(dpg.mvStyleVar_FramePadding, 6, 0)
            dpg.add_theme_style(dpg.mvStyleVar_CellPadding, 6, 3)
    themes["table"] = table
    return themes


# Fill rate is the frame budget with software GL (Xvfb/llvmpipe, laptops without a GPU driver):
# measured at 1600x960, an opaque child-window background costs ~6 ms per frame and filled card
# backgrounds under the posters ~7 ms. Child windows are therefore transparent (Dear PyGui's default
# is not) and cards fill only their caption strip.


def _common_style() -> None:
    dpg.add_theme_style(dpg.mvStyleVar_FrameRounding, 4)
    dpg.add_theme_style(dpg.mvStyleVar_WindowRounding, 6)
    dpg.add_theme_style(dpg.mvStyleVar_ChildRounding, 4)
    dpg.add_theme_style(dpg.mvStyleVar_FramePadding, 8, 4)
    dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 8, 6)


def star_points(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """A five-pointed star's outline (10 points, outer/inner alternating, first point up)."""
    import math
    pts = []
    for k in range(10):
        a = -math.pi / 2 + k * math.pi / 5
        rr = r if k % 2 == 0 else 0.42 * r
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


# Radii beyond r: the triangle star this image replaced grew ~1 px from its anti-aliased fringes.
STAR_EDGE_PX = 2.5
STAR_FILL_PX = 0.5


def star_box(r: float) -> int:
    """Side in pixels of star_image(r) (the edge ring plus a pixel of margin each side)."""
    import math
    return int(math.ceil(2 * (r + STAR_EDGE_PX))) + 2


def star_image(r: float, supersample: int = 4):
    """The 'starred' mark (STAR filled, STAR_EDGE ring) as an anti-aliased RGBA uint8 image of
    star_box(r) pixels, centred. Cards draw it as ONE textured quad: as geometry (16 triangles with
    anti-aliased fringes per card) it cost ~2.3 ms a frame of the Video storyboard under software GL."""
    import numpy as np
    from PIL import Image, ImageDraw
    n = star_box(r)
    big = n * supersample
    c = big / 2
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    for colour, rr in ((STAR_EDGE, r + STAR_EDGE_PX), (STAR, r + STAR_FILL_PX)):
        d.polygon([(x, y) for x, y in star_points(c, c, rr * supersample)], fill=colour)
    # Box-filter down with premultiplied colour so the transparent surround doesn't darken the edge.
    a = np.asarray(img, np.float32)
    a[..., :3] *= a[..., 3:4] / 255.0
    a = a.reshape(n, supersample, n, supersample, 4).mean(axis=(1, 3))
    alpha = a[..., 3:4]
    a[..., :3] = np.where(alpha > 0, a[..., :3] * 255.0 / np.maximum(alpha, 1e-6), 0)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


# -- text colours that follow the theme ------------------------------------------------------------

_tracked: list[tuple[int, str]] = []


def colour(app, role: str) -> tuple:
    """The current theme's colour for a text role (TEXT_ROLES) or palette key."""
    return PALETTES[app.prefs.theme][role]


def text(app, parent, value: str = "", role: str = "dim", **kw):
    """A text item coloured by role that follows theme switches (see retint). UI thread."""
    item = dpg.add_text(value, parent=parent or 0, color=colour(app, role), **kw)
    _tracked.append((item, role))
    return item


# The main window covers the whole viewport, which Dear PyGui clears every frame anyway: painting
# the window's own opaque background over that clear is a second full-screen blended quad (the
# same cost as the child-window backgrounds above). The viewport is cleared to the theme's window
# colour instead and the main window is left transparent. False = the old way (A/B benches).
PAINT_CLEAR = True


def paint_background(app) -> None:
    """Clear the viewport to the theme's window colour and stop the main window painting its own
    background (after set_primary_window, which turns the window's background back on; again on
    a theme switch). UI thread."""
    if not PAINT_CLEAR:
        return
    dpg.set_viewport_clear_color(list(PALETTES[app.prefs.theme]["window_bg"]))
    if dpg.does_item_exist("main"):
        dpg.configure_item("main", no_background=True)


def retint(app) -> None:
    """Recolour every live role-coloured text for the current theme (pages call it from
    apply_theme, which the app runs on a theme switch)."""
    paint_background(app)
    alive = []
    for item, role in _tracked:
        if dpg.does_item_exist(item):
            dpg.configure_item(item, color=colour(app, role))
            alive.append((item, role))
    _tracked[:] = alive


def luminance(c) -> float:
    """WCAG relative luminance of an sRGB colour (0..255)."""
    def ch(v: float) -> float:
        v /= 255.0
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = c[:3]
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)


def contrast(fg, bg) -> float:
    """WCAG contrast ratio (1..21); AA asks 4.5 for body text."""
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def contrast_pairs() -> list[tuple[str, tuple, tuple]]:
    """(what, text colour, background) for every text colour a theme draws with."""
    out = []
    for theme, pal in PALETTES.items():
        for role in TEXT_ROLES:
            out.append((f"{theme} {role} on window", pal[role], pal["window_bg"]))
        out.append((f"{theme} banner", pal["banner_text"], pal["banner"]))
    for name, surface in LIGHT_SURFACES.items():
        out.append((f"light text on {name}", LIGHT_TEXT, surface))
    out.append(("light disabled text", (105, 109, 117), LIGHT_SURFACES["window"]))
    for key, (col, _) in BADGE.items():
        out.append((f"badge {key}", (255, 255, 255), col))
    out.append(("danger button", (255, 255, 255), (150, 45, 45)))
    return out
