"""Settings page, in the words of someone making a film: appearance (text size, colours, card
size), files (the ComfyUI output folder, a shortcut in every file picker), memory for thumbnails
and what the cache holds (engineering figures folded under "Technical details"), and the project's
own settings as AIMMS stores them. UI thread only."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ui import theme as T
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
        from aimms_fast.ui.file_dialog import PickerPrefs
        app = self.app
        prefs = app.prefs
        T.text(app, parent, "Appearance", "heading")
        self.font = dpg.add_slider_float(parent=parent, label="Text size", default_value=prefs.font_scale,
                                         min_value=0.6, max_value=2.5, format="%.2f×", width=260,
                                         callback=lambda s, a: app.set_font_scale(round(a, 2)))
        self.theme = dpg.add_combo(list(THEMES), parent=parent, label="Colours (dark or light)",
                                   default_value=prefs.theme, width=260, callback=lambda s, a: app.set_theme(a))
        self.card = dpg.add_slider_int(parent=parent, label="Card size on the Images and Videos pages",
                                       default_value=prefs.card_width, min_value=120, max_value=520, width=260,
                                       callback=lambda s, a: app.set_card_width(a))
        dpg.add_spacer(parent=parent, height=6)
        T.text(app, parent, "Files", "heading")
        with dpg.group(parent=parent, horizontal=True):
            self.comfy = dpg.add_input_text(default_value=PickerPrefs.load().comfyui_output, width=420,
                                            hint="e.g. ~/ComfyUI/output", on_enter=True,
                                            callback=lambda s, a: self.set_comfyui_output(a))
            app.register_text_input(self.comfy)
            dpg.add_button(label="Browse…", callback=lambda: app.dialogs.pick_folder(
                "ComfyUI output folder", lambda p: self.set_comfyui_output(str(p))))
            dpg.add_text("ComfyUI output folder")
        T.text(app, parent, "A shortcut in every file picker, so new renders are one click away.", "dim", wrap=720)
        with dpg.group(parent=parent, horizontal=True):
            self.file_manager = dpg.add_input_text(default_value=prefs.file_manager, width=420,
                                                   hint="e.g. thunar, nautilus, dolphin", on_enter=True,
                                                   callback=lambda s, a: app.set_file_manager(a))
            app.register_text_input(self.file_manager)
            dpg.add_text("File manager")
        T.text(app, parent, "Opens folders (Open folder, Reveal in folder) when the desktop's xdg-open and gio "
                            "are not installed. Press Enter to save.", "dim", wrap=720)
        dpg.add_spacer(parent=parent, height=6)
        T.text(app, parent, "Memory and thumbnails", "heading")
        self.budget = dpg.add_input_int(parent=parent, label="Memory for thumbnails (MB)",
                                        default_value=prefs.texture_budget_mb, min_value=16, max_value=4096,
                                        min_clamped=True, max_clamped=True, width=260, step=32,
                                        on_enter=True, callback=lambda s, a: app.set_texture_budget(a))
        T.text(app, parent, "More memory keeps more thumbnails ready when you scroll back; less leaves memory "
                            "for other programs. Thumbnails not seen for a while are dropped first and come "
                            "back from the disk cache when needed.", "dim", wrap=720)
        self.tex = dpg.add_text("", parent=parent)
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Build missing thumbnails", callback=lambda: app.action("build_thumbs"))
            dpg.add_button(label="How big is the thumbnail cache?", callback=lambda: self._cache_size())
        self.cache = dpg.add_text("", parent=parent)
        with dpg.collapsing_header(label="Technical details", parent=parent, default_open=False):
            self.tech = T.text(app, 0, "", "dim", wrap=900)
            T.text(app, 0, f"Settings are saved in {Prefs.path()}", "dim")
        dpg.add_spacer(parent=parent, height=6)
        T.text(app, parent, "This project", "heading")
        self.meta = dpg.add_table(parent=parent, header_row=True, row_background=True, borders_innerV=True,
                                  policy=dpg.mvTable_SizingStretchProp, height=-1, scrollY=True)
        dpg.add_table_column(label="Setting", parent=self.meta, init_width_or_weight=1.0)
        dpg.add_table_column(label="Value", parent=self.meta, init_width_or_weight=3.0)

    def set_comfyui_output(self, folder: str) -> None:
        from pathlib import Path

        from aimms_fast.ui.file_dialog import PickerPrefs
        folder = folder.strip()
        if folder and not Path(folder).expanduser().is_dir():
            self.app.toast(f"not a folder: {folder}")
            return
        prefs = PickerPrefs.load()
        prefs.comfyui_output = folder
        prefs.save()
        dpg.set_value(self.comfy, folder)
        self.app.toast("ComfyUI output folder saved" if folder else "ComfyUI output folder cleared")

    def on_project(self, project) -> None:
        dpg.delete_item(self.meta, children_only=True, slot=1)
        dpg.set_value(self.cache, "")
        if project is None:
            return
        rows = [("Folder", str(project.root)),
                ("Opened read-only", project.readonly_reason or "no")]
        rows += [(META_LABELS.get(k, k), v) for k, v in sorted(project.meta().items())]
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

    def apply_theme(self) -> None:
        T.retint(self.app)

    def tick(self) -> bool:
        st = self.app.textures.stats
        svc = self.app.services
        budget = self.app.textures.budget / 2**20
        used = st.resident_bytes / 2**20
        text = (f"{st.tiles + st.strips:,} thumbnails ready in memory, using {used:.0f} of {budget:.0f} MB.")
        if svc is not None:
            n = svc.pending()
            text += f"\n{n:,} thumbnails still to build." if n else "\nAll thumbnails asked for are built."
            if svc.problem:
                text += f"\n{svc.problem}"
        tech = (f"posters {st.tiles} in {st.pages} atlas pages, filmstrips {st.strips}; "
                f"{st.resident_bytes / 2**20:.1f} MB resident (float32 RGBA copies + GPU); built {st.built_tiles} "
                f"in {st.build_seconds * 1000:.0f} ms; evicted {st.evicted_pages} pages"
                + (f"; workers {'running' if svc.pool_running else 'idle'}" if svc is not None else ""))
        if (text, tech) != getattr(self, "_last", None):
            dpg.set_value(self.tex, text)
            dpg.set_value(self.tech, tech)
            self._last = (text, tech)
        return False

    def _cache_size(self) -> None:
        if self.project is None:
            return
        n = _dir_size(self.project.layout.cache)
        dpg.set_value(self.cache, f"{n / 2**20:.1f} MB in {self.project.layout.cache}. Safe to delete: "
                                  "thumbnails are rebuilt when needed.")


# AIMMS meta keys as users read them (unknown keys are shown as they are).
META_LABELS = {"project_name": "Project name", "author": "Author", "created_date": "Created",
               "schema_version": "AIMMS format version", "app_version": "Made with AIMMS version",
               "last_modified": "Last changed", "description": "Description", "created_at": "Created",
               "migration_date": "Moved to this format", "project_info": "Project notes",
               "comfyui_URL": "ComfyUI address", "comfyui_output_path": "ComfyUI output folder (project)"}
