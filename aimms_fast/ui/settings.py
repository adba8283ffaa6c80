"""Settings page, in the words of someone making a film: appearance (text size, colours, card
size), files (the ComfyUI output folder, a shortcut in every file picker), memory and thumbnails
(memory budget, hover-scrub frame size, worker count, the cache folder's size and a clear-cache
button: ui/settings_cache.py), the keyboard map (ui/keys.py), and the project's own settings as
AIMMS stores them in its `meta` table (ui/settings_project.py). Per-user settings are saved in the
platform's config folder (ui/prefs.py). UI thread only."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.ui import settings_cache as C
from aimms_fast.ui import theme as T
from aimms_fast.ui.page import Page
from aimms_fast.ui.prefs import MAX_WORKERS, SCRUB_SIZES, THEMES, Prefs, app_log_file
from aimms_fast.ui.settings_project import META_LABELS, ProjectMetaForm  # noqa: F401 (META_LABELS: old import path)

SCRUB_LABELS = {"128x72": "128 × 72 (smallest cache)", "192x108": "192 × 108", "256x144": "256 × 144 (sharpest)"}


class SettingsPage(Page):
    name = "settings"
    title = "Settings"

    def build(self, parent) -> None:
        from aimms_fast.ui.file_dialog import PickerPrefs
        app = self.app
        prefs = app.prefs
        parent = dpg.add_child_window(parent=parent, border=False)   # the page scrolls as a whole
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
        self.scrub = dpg.add_combo([SCRUB_LABELS[s] for s in SCRUB_SIZES], parent=parent, width=260,
                                   label="Hover-scrub frame size", default_value=SCRUB_LABELS[prefs.scrub_size],
                                   callback=lambda s, a: self.set_scrub_size(a))
        T.text(app, parent, "The frames you see when the mouse moves across a video card. Larger looks sharper "
                            "on big cards and makes the thumbnail cache bigger.", "dim", wrap=720)
        self.workers = dpg.add_input_int(parent=parent, label="Thumbnail workers (0 = one per processor core)",
                                         default_value=prefs.workers, min_value=0, max_value=MAX_WORKERS,
                                         min_clamped=True, max_clamped=True, width=260, on_enter=True,
                                         callback=lambda s, a: self.set_workers(a))
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Build missing thumbnails", callback=lambda: app.action("build_thumbs"))
            dpg.add_button(label="How big is the thumbnail cache?", callback=lambda: C.measure(app, self._cache_text))
            dpg.add_button(label="Clear the thumbnail cache…", callback=lambda: self.ask_clear_cache())
        self.cache = T.text(app, parent, "", "text", wrap=900)
        self._clearing = None
        dpg.add_spacer(parent=parent, height=6)
        T.text(app, parent, "This project", "heading")
        self.project_form = ProjectMetaForm(app, parent)
        dpg.add_spacer(parent=parent, height=6)
        with dpg.collapsing_header(label="Keyboard shortcuts", parent=parent, default_open=False):
            self._keys_table()
        with dpg.collapsing_header(label="Technical details", parent=parent, default_open=False):
            self.tech = T.text(app, 0, "", "dim", wrap=900)
            T.text(app, 0, f"Your settings are saved in {Prefs.path()}", "dim")
            T.text(app, 0, f"The app log is {app_log_file()}", "dim")

    def _keys_table(self) -> None:
        from aimms_fast.ui import keys as K
        with dpg.table(header_row=True, row_background=True, borders_innerH=True, height=320, scrollY=True,
                       policy=dpg.mvTable_SizingStretchProp, clipper=True):
            dpg.add_table_column(label="Where", init_width_or_weight=1.2)
            dpg.add_table_column(label="Keys", init_width_or_weight=0.8)
            dpg.add_table_column(label="Does", init_width_or_weight=3.0)
            for sc in K.SHORTCUTS:
                with dpg.table_row():
                    dpg.add_text(K.CONTEXT_TITLES.get(sc.context, sc.context).split(" (")[0])
                    dpg.add_text(sc.chord)
                    dpg.add_text(sc.text)

    # -- app settings ------------------------------------------------------------------------------
    def set_scrub_size(self, label: str) -> None:
        size = next((k for k, v in SCRUB_LABELS.items() if v == label or k == label), None)
        if size is None or size == self.app.prefs.scrub_size:
            return
        self.app.prefs.scrub_size = size
        self.app.save_prefs()
        dpg.set_value(self.scrub, SCRUB_LABELS[size])
        if self.app.services is not None:   # rebuild now, in the background (old strips show meanwhile)
            from aimms_fast.cache.atlas import parse_scrub_size
            self.app.services.set_scrub_size(parse_scrub_size(size))
        self.app.toast(f"Hover-scrub frames: {size.replace('x', ' × ')} (filmstrips are rebuilt in the background)")

    def set_workers(self, n: int) -> None:
        n = int(min(MAX_WORKERS, max(0, n)))
        if n == self.app.prefs.workers:
            return
        self.app.prefs.workers = n
        self.app.save_prefs()
        dpg.set_value(self.workers, n)
        self.app.toast(f"Thumbnail workers: {n or 'one per core'} (from the next time a project opens)")

    # -- the cache folder ----------------------------------------------------------------------------
    def _cache_text(self, text: str) -> None:
        if dpg.does_item_exist(self.cache):
            dpg.set_value(self.cache, text)

    def ask_clear_cache(self) -> None:
        if self.project is None:
            return
        self.app.dialogs.confirm("Clear the thumbnail cache?",
                                 f"Delete every thumbnail in {self.project.layout.cache}? Your takes are not "
                                 "touched; thumbnails are rebuilt when pages show them.",
                                 self.clear_cache, yes="Clear cache")

    def clear_cache(self) -> None:
        job = C.CacheClear(self.app, self._cache_text)
        if job.start():
            self._clearing = job

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
        dpg.set_value(self.cache, "")
        self.project_form.load()

    def on_show(self) -> None:
        prefs = self.app.prefs
        dpg.set_value(self.font, prefs.font_scale)
        dpg.set_value(self.theme, prefs.theme)
        dpg.set_value(self.card, prefs.card_width)
        dpg.set_value(self.budget, prefs.texture_budget_mb)
        dpg.set_value(self.scrub, SCRUB_LABELS[prefs.scrub_size])
        dpg.set_value(self.workers, prefs.workers)

    def apply_theme(self) -> None:
        T.retint(self.app)

    def tick(self) -> bool:
        if self._clearing is not None and not self._clearing.poll():
            self._clearing = None
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
