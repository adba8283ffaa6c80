"""Settings page: the project's meta (as AIMMS stores it) and the viewer's own settings: text
size, theme, card size, thumbnail texture memory budget; plus what the thumbnail cache holds."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ui.page import Page
from aimms_fast.ui.prefs import THEMES, Prefs


def _dir_size(path) -> int:
    import os
    total = 0
    for dp, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(dp, f)).st_size
            except OSError:
                pass
    return total


class SettingsPage(Page):
    name = "settings"
    title = "Settings"

    def build(self, parent) -> None:
        prefs = self.app.prefs
        dpg.add_text("Viewer", parent=parent, color=(120, 180, 255))
        self.font = dpg.add_slider_float(parent=parent, label="text size", default_value=prefs.font_scale,
                                         min_value=0.6, max_value=2.5, format="%.2f×", width=260,
                                         callback=lambda s, a: self.app.set_font_scale(round(a, 2)))
        self.theme = dpg.add_combo(list(THEMES), parent=parent, label="theme", default_value=prefs.theme, width=260,
                                   callback=lambda s, a: self.app.set_theme(a))
        self.card = dpg.add_slider_int(parent=parent, label="card width (px)", default_value=prefs.card_width,
                                       min_value=120, max_value=520, width=260,
                                       callback=lambda s, a: self.app.set_card_width(a))
        self.budget = dpg.add_input_int(parent=parent, label="texture memory budget (MB)",
                                        default_value=prefs.texture_budget_mb, min_value=16, max_value=4096,
                                        min_clamped=True, max_clamped=True, width=260, step=32,
                                        on_enter=True, callback=lambda s, a: self.app.set_texture_budget(a))
        dpg.add_text("Thumbnails stay in memory as float32 RGBA (16 bytes per pixel) plus the GPU copy; "
                     "the least recently seen are dropped above this budget.", parent=parent, wrap=720,
                     color=(150, 155, 165))
        dpg.add_text(f"settings file: {Prefs.path()}", parent=parent, color=(150, 155, 165))
        dpg.add_spacer(parent=parent, height=8)
        dpg.add_text("Thumbnails", parent=parent, color=(120, 180, 255))
        self.tex = dpg.add_text("", parent=parent)
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Build missing thumbnails", callback=lambda: self.app.action("build_thumbs"))
            dpg.add_button(label="Measure cache folder", callback=lambda: self._cache_size())
        self.cache = dpg.add_text("", parent=parent)
        dpg.add_spacer(parent=parent, height=8)
        dpg.add_text("Project", parent=parent, color=(120, 180, 255))
        self.meta = dpg.add_table(parent=parent, header_row=True, row_background=True, borders_innerV=True,
                                  policy=dpg.mvTable_SizingStretchProp, height=-1, scrollY=True)
        dpg.add_table_column(label="key", parent=self.meta, init_width_or_weight=1.0)
        dpg.add_table_column(label="value", parent=self.meta, init_width_or_weight=3.0)

    def on_project(self, project) -> None:
        dpg.delete_item(self.meta, children_only=True, slot=1)
        dpg.set_value(self.cache, "")
        if project is None:
            return
        rows = [("folder", str(project.root)), ("read-only", project.readonly_reason or "no")]
        rows += sorted(project.meta().items())
        for k, v in rows:
            with dpg.table_row(parent=self.meta):
                dpg.add_text(k)
                dpg.add_text("" if v is None else str(v), wrap=900)

    def on_show(self) -> None:
        prefs = self.app.prefs
        dpg.set_value(self.font, prefs.font_scale)
        dpg.set_value(self.theme, prefs.theme)
        dpg.set_value(self.card, prefs.card_width)
        dpg.set_value(self.budget, prefs.texture_budget_mb)

    def tick(self) -> bool:
        st = self.app.textures.stats
        svc = self.app.services
        text = (f"resident: {st.tiles} posters in {st.pages} atlas pages + {st.strips} filmstrips, "
                f"{st.resident_bytes / 2**20:.1f} MB of {self.app.textures.budget / 2**20:.0f} MB; "
                f"built {st.built_tiles} ({st.build_seconds * 1000:.0f} ms), evicted {st.evicted_pages} pages")
        if svc is not None:
            text += f"\nworkers: {'running' if svc.pool_running else 'idle'}, {svc.pending()} pending"
            if svc.problem:
                text += f"\n{svc.problem}"
        if text != getattr(self, "_last", None):
            dpg.set_value(self.tex, text)
            self._last = text
        return False

    def _cache_size(self) -> None:
        if self.project is None:
            return
        n = _dir_size(self.project.layout.cache)
        dpg.set_value(self.cache, f"{self.project.layout.cache}: {n / 2**20:.1f} MB (safe to delete; rebuilt on demand)")
