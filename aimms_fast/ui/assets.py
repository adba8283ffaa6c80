"""Assets page: characters, locations and other assets (images, video, audio, 3D models) as a
virtualised card grid (ui/card_grid.py, posters from the atlas cache like the storyboards), with
a detail panel to rename, star, tag, note, assign to shots and delete, a search box and a type
filter. Import by the file dialog or by dropping files from the desktop onto the page
(ui/file_dialog.py calls `accept_drop`). Enter (or a double click) on a 3D model opens the floating
3D viewer (ui/model_viewer.py); other files open in the desktop's program.

Every change goes through ops/assets.py (one undo step each) via App.run_op. UI thread only.
"""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.ops import assets as OA
from aimms_fast.project.layout import ASSET_KINDS
from aimms_fast.ui import theme as T
from aimms_fast.ui.card_grid import Card, CardGrid, card_status
from aimms_fast.ui.page import Page

TYPES = ["All", "Characters", "Locations", "Other"]
JOB_BYTES = 64 << 20     # imports this big copy in a job with a progress dialog (a 64 MB copy: ~0.1-1 s)
JOB_FILES = 16
MEDIA_LABEL = {"image": "image", "video": "video", "audio": "audio", "model": "3D model", "other": "file"}


def type_of(label: str) -> str | None:
    """'Characters' -> 'characters'; 'All' -> None."""
    return None if label == "All" else label.lower()


class AssetsPage(Page):
    name = "assets"
    title = "Assets"
    key_context = "assets"

    def __init__(self, app):
        super().__init__(app)
        self.rows: list = []                       # store.assets.AssetRow, filtered, in grid order
        self.states: dict[str, str] = {}           # id_key -> ops.assets.file_state
        self.load_errors: dict[str, str] = {}      # id_key -> why the 3D viewer could not load it
        self.kind: str | None = None
        self.grid: CardGrid | None = None
        self._stale = False
        self._shown_key = None
        self.dropped: list[list[str]] = []         # id_keys each drop imported (tests read it)
        self.job_bytes = JOB_BYTES

    # -- build ------------------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            self.type_radio = dpg.add_radio_button(TYPES, default_value="All", horizontal=True,
                                                   callback=lambda s, a: self.set_kind(type_of(a)))
            dpg.add_spacer(width=10)
            self.search = dpg.add_input_text(hint="search name, tag, notes…  (Esc clears)", width=240,
                                             escape_clears_all=True, callback=lambda: self.apply_filter())
            self.app.register_text_input(self.search)
            self.starred_box = dpg.add_checkbox(label="Starred only", callback=lambda: self.apply_filter())
            dpg.add_spacer(width=10)
            self.b_import = dpg.add_button(label="Import…", callback=lambda: self.import_dialog())
            dpg.add_text("as")
            self.import_kind = dpg.add_combo(list(ASSET_KINDS), default_value="characters", width=120)
            dpg.add_spacer(width=10)
            self.count_text = dpg.add_text("")
        self.hint_text = T.text(self.app, parent, "", "dim")
        with dpg.group(parent=parent, horizontal=True):
            self.grid_parent = dpg.add_group()
            self.grid = CardGrid(self.app, self.grid_parent, video=False, on_open=self._open_index,
                                 on_select=lambda i: self._show_detail(), height=-1, width=-370,
                                 status_of=self._status_of, on_context=self._context)
            self.panel = dpg.add_child_window(width=360, height=-1, border=True)
        self._build_panel()

    def _build_panel(self) -> None:
        p = self.panel
        self.d_title = dpg.add_text("No asset selected", parent=p, wrap=340)
        self.d_info = T.text(self.app, p, "", "dim", wrap=340)
        # A small live 3D view of the selected model (drag to orbit, wheel to zoom); made on first use.
        self.d_view_box = dpg.add_group(parent=p, show=False)
        self.viewport = None
        dpg.add_separator(parent=p)
        with dpg.group(parent=p, horizontal=True):
            self.d_name = dpg.add_input_text(width=230, hint="name", on_enter=True,
                                             callback=lambda s, a: self.rename_selected(a))
            self.app.register_text_input(self.d_name)
            self.d_rename = dpg.add_button(label="Rename", callback=lambda: self.rename_selected(dpg.get_value(self.d_name)))
        self.d_star = dpg.add_checkbox(parent=p, label="Starred", callback=lambda: self.star_selected())
        dpg.add_text("Tags (comma-separated)", parent=p)
        self.d_tags = dpg.add_input_text(parent=p, width=-1, hint="hero, act 1")
        self.app.register_text_input(self.d_tags)
        dpg.add_text("Notes", parent=p)
        self.d_notes = dpg.add_input_text(parent=p, width=-1, height=70, multiline=True)
        self.app.register_text_input(self.d_notes)
        self.d_save = dpg.add_button(parent=p, label="Save tags and notes", callback=lambda: self.save_meta())
        dpg.add_separator(parent=p)
        self.d_shots_title = dpg.add_text("Used in shots", parent=p)
        self.d_shots = dpg.add_group(parent=p)
        with dpg.group(parent=p, horizontal=True):
            self.d_assign = dpg.add_input_text(width=230, hint="shot names or ids, comma-separated", on_enter=True,
                                               callback=lambda s, a: self.assign_by_names(a))
            self.app.register_text_input(self.d_assign)
            dpg.add_button(label="Assign", callback=lambda: self.assign_by_names(dpg.get_value(self.d_assign)))
        self.d_assign_sel = dpg.add_button(parent=p, label="Assign to shots selected on the Shots page (A)",
                                           callback=lambda: self.assign_selected_shots())
        dpg.add_separator(parent=p)
        with dpg.group(parent=p, horizontal=True):
            self.d_open = dpg.add_button(label="Open", callback=lambda: self.open_selected())
            self.d_reveal = dpg.add_button(label="Reveal in folder", callback=lambda: self._reveal())
            self.d_delete = dpg.add_button(label="Delete…", callback=lambda: self.delete_selected())
            dpg.bind_item_theme(self.d_delete, self.app.themes["danger"])
        self._panel_items = [self.d_name, self.d_rename, self.d_star, self.d_tags, self.d_notes, self.d_save,
                             self.d_assign, self.d_assign_sel, self.d_open, self.d_reveal, self.d_delete]
        self._show_detail()

    # -- data -------------------------------------------------------------------------------
    def on_project(self, project) -> None:
        self.load_errors = {}
        self._stale = True
        if self.viewport is not None:
            self.viewport.destroy()        # its renderer holds the closed project's model
            self.viewport = None
        if project is None:
            self.rows = []
            self.grid.set_cards([])
            self._stale = False
            self._show_detail()
            return
        from aimms_fast.ui.file_dialog import ensure_drop_target
        ensure_drop_target(self.app)        # files dropped from the desktop onto this page are imported
        if self.visible:
            self._load()

    def on_show(self) -> None:
        if self._stale and self.project is not None:
            self._load()

    def _load(self) -> None:
        self._stale = False
        self.apply_filter()

    def set_kind(self, kind: str | None) -> None:
        """Type filter: None (all) or characters / locations / other. Importing follows it."""
        if kind is not None and kind not in ASSET_KINDS:
            raise ValueError(f"asset type must be one of {ASSET_KINDS}")
        self.kind = kind
        dpg.set_value(self.type_radio, "All" if kind is None else kind.capitalize())
        if kind is not None:
            dpg.set_value(self.import_kind, kind)
        self.apply_filter()

    def set_search(self, text: str) -> None:
        dpg.set_value(self.search, text)
        self.apply_filter()

    def apply_filter(self) -> None:
        if self.project is None or self._stale:
            return
        p = self.project
        self.rows = OA.list_assets(p, kind=self.kind, search=dpg.get_value(self.search),
                                   starred_only=bool(dpg.get_value(self.starred_box)))
        self.states = {a.id_key: OA.file_state(p, a) for a in self.rows}
        self.grid.set_cards([self._card(a) for a in self.rows])
        from aimms_fast.store.assets import count_assets
        total = count_assets(p.conn)
        dpg.set_value(self.count_text, f"{len(self.rows)} of {total} assets")
        self._show_detail()

    def _card(self, a) -> Card:
        media = OA.media_kind(a.file_path)
        st = self.states.get(a.id_key, "ok")
        badges = []
        if media == "model" and st == "ok" and a.id_key not in self.load_errors and self.app.services is not None \
                and self.app.services.state(a.file_path) == "failed":
            # its thumbnail could not be rendered: the loader's reason (the file, and why)
            self.load_errors[a.id_key] = self.app.services.reason(a.file_path) or "the model could not be loaded"
        if st == "missing":
            badges.append("missing")
        elif st == "empty":
            badges.append("placeholder")
        elif st == "error" or a.id_key in self.load_errors:
            badges.append("loaderror")
        if media == "model":
            badges.append("model")
        elif media == "audio":
            badges.append("audio")
        detail = " · ".join(x for x in (a.kind, MEDIA_LABEL[media],
                                        f"{a.shot_count} shot{'s' if a.shot_count != 1 else ''}" if a.shot_count else "")
                            if x)
        sub = ", ".join(a.tags) if a.tags else Path(a.file_path).name
        tip = [a.name, detail, f"File: {a.file_path}" + ("  (missing)" if st == "missing" else "")]
        if a.tags:
            tip.append("Tags: " + ", ".join(a.tags))
        if a.notes:
            tip.append("Notes: " + a.notes[:400])
        if a.id_key in self.load_errors:
            tip.append("Could not load: " + self.load_errors[a.id_key])
        elif st == "error" and a.media_reason:
            tip.append("Could not read: " + a.media_reason)
        no_poster = st in ("missing", "empty") or media == "audio"
        return Card(key=a.id_key, rel=None if no_poster else a.file_path, title=a.name, subtitle=sub, detail=detail,
                    tooltip="\n".join(tip), starred=bool(a.starred), badges=badges,
                    placeholder=no_poster, extra={"media": media, "state": st})

    def _status_of(self, card: Card) -> tuple[str, str]:
        media = card.extra.get("media")
        st = card.extra.get("state")
        if st == "missing":
            return "failed", "file missing"
        if st == "empty":
            return "empty", "empty file"
        if media == "audio":
            return "empty", "audio"
        kind, text = card_status(self.app, card)
        if media == "model" and kind != "tile":
            if card.key in self.load_errors:
                return "failed", "could not load"
            if self.app.services is None or self.app.services.state(card.rel) != "ready":
                return "empty", "3D model · Enter"
        return kind, text

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if self.project is None:
            return
        if what in ("assets", "all", "shots"):
            if self.visible:
                self.apply_filter()
            else:
                self._stale = True

    def on_tiles(self, events) -> None:
        rels = {e.rel_path for e in events}
        self.grid.refresh_status(rels)
        for e in events:             # a model whose thumbnail could not be rendered: LOAD ERROR badge
            if e.state == "failed" and OA.media_kind(e.rel_path) == "model":
                for a in self.rows:
                    if a.file_path == e.rel_path and a.id_key not in self.load_errors:
                        self._load_failed(a.id_key, e.reason or "the model could not be rendered")

    # -- per frame --------------------------------------------------------------------------
    def tick(self) -> bool:
        visible, ahead = self.grid.tick()
        self.app.textures.want(visible, urgent=True)
        self.app.textures.want(ahead)
        if self.app.services is not None:
            self.app.services.request(visible, ahead)
        self._update_hint()
        busy = False
        if self.viewport is not None and dpg.is_item_shown(self.d_view_box):
            busy = self.viewport.tick()
        return busy

    def _update_hint(self) -> None:
        a = self.selected
        if a is not None:
            text = f"selected: {a.name}  ({a.file_path})"
        else:
            text = ("Enter opens (3D models in the viewer) · S stars · F2 renames · A assigns to the shots "
                    "selected on the Shots page · drop files here to import")
        if text != getattr(self, "_hint", None):
            dpg.set_value(self.hint_text, text)
            self._hint = text

    # -- selection and detail -----------------------------------------------------------------
    @property
    def selected(self):
        g = self.grid
        if g is None or not (0 <= g.selected < len(self.rows)):
            return None
        return self.rows[g.selected]

    def select_key(self, id_key: str) -> bool:
        for i, c in enumerate(self.grid.cards):
            if c.key == id_key:
                self.grid.select(i)
                return True
        return False

    def _show_detail(self) -> None:
        a = self.selected
        on = a is not None and not self.app.readonly
        for item in self._panel_items:
            dpg.configure_item(item, enabled=on if item not in (self.d_open, self.d_reveal) else a is not None)
        dpg.delete_item(self.d_shots, children_only=True)
        if a is None:
            dpg.set_value(self.d_title, "No asset selected")
            dpg.set_value(self.d_info, "Click a card to see and edit its details.")
            for item in (self.d_name, self.d_tags, self.d_notes):
                dpg.set_value(item, "")
            dpg.set_value(self.d_star, False)
            dpg.set_value(self.d_shots_title, "Used in shots")
            self._shown_key = None
            self._show_model(None)
            return
        media = OA.media_kind(a.file_path)
        st = self.states.get(a.id_key, "ok")
        dpg.set_value(self.d_title, ("★ " if a.starred else "") + a.name)
        info = [f"{a.kind} · {MEDIA_LABEL[media]}", a.file_path]
        if a.extra_files:
            info.append(f"+ {len(a.extra_files)} file(s): " + ", ".join(Path(f).name for f in a.extra_files))
        if st != "ok":
            info.append({"missing": "FILE MISSING", "empty": "zero-byte file", "error": "cannot be read"}[st]
                        + (f": {a.media_reason}" if st == "error" and a.media_reason else ""))
        if a.id_key in self.load_errors:
            info.append("could not load: " + self.load_errors[a.id_key])
        info.append(f"added {a.created_date}")
        dpg.set_value(self.d_info, "\n".join(info))
        if self._shown_key != a.id_key:
            dpg.set_value(self.d_name, a.name)
            dpg.set_value(self.d_tags, ", ".join(a.tags))
            dpg.set_value(self.d_notes, a.notes)
        dpg.set_value(self.d_star, bool(a.starred))
        dpg.configure_item(self.d_open, label="Open 3D viewer" if media == "model" else "Open")
        # a model that failed to load says why in the text above; no second error picture
        self._show_model(a if media == "model" and st == "ok" and a.id_key not in self.load_errors else None)
        shots = OA.shots_of_asset(self.project, a.id_key)
        dpg.set_value(self.d_shots_title, f"Used in {len(shots)} shot{'s' if len(shots) != 1 else ''}"
                      + (":" if shots else " (assign below)"))
        for s in shots:
            with dpg.group(parent=self.d_shots, horizontal=True):
                dpg.add_button(label="x", small=True, enabled=not self.app.readonly,
                               callback=lambda sd, ad, sid=s["shot_id"]: self.unassign([sid]))
                dpg.add_selectable(label=f"{s['order_number']}. {s['shot_name']}", width=300,
                                   callback=lambda sd, ad, sid=s["shot_id"]: self.app.open_shot(sid, "image"))
        self._shown_key = a.id_key

    def _show_model(self, a) -> None:
        """The panel's small 3D view follows the selection (models only)."""
        dpg.configure_item(self.d_view_box, show=a is not None)
        if a is None:
            return
        lay = self.project.layout
        path = lay.read_path(a.file_path) if lay.is_inside(a.file_path, follow=True) else None
        if path is None:
            dpg.configure_item(self.d_view_box, show=False)  # outside the project (issue 14): not read
            return
        if self.viewport is None:
            from aimms_fast.ui.model_viewer import ModelViewport
            self.viewport = ModelViewport(self.app, self.d_view_box, 340, 220)
        if self.viewport.path != path:
            key = a.id_key
            self.viewport.on_loaded = lambda m, err: self._load_failed(key, err)
            self.viewport.load(path, self.project.layout.cache)

    # -- actions ----------------------------------------------------------------------------
    def _op(self, fn, title: str):
        return self.app.run_op(fn, changed=("assets", None), title=title)

    def rename_selected(self, name: str):
        a = self.selected
        if a is None:
            return None
        return self._op(lambda: OA.rename_asset(self.project, a.id_key, name), "Could not rename")

    def rename_dialog(self) -> None:
        a = self.selected
        if a is None:
            return
        self.app.dialogs.prompt("Rename asset", "name", lambda v: self.rename_selected(v), default=a.name,
                                ok="Rename")

    def star_selected(self):
        a = self.selected
        if a is None:
            return None
        return self._op(lambda: OA.star_asset(self.project, a.id_key), "Could not star")

    def save_meta(self):
        a = self.selected
        if a is None:
            return None
        tags, notes = dpg.get_value(self.d_tags), dpg.get_value(self.d_notes)
        self._shown_key = None        # show the cleaned tags after the save
        return self._op(lambda: OA.set_asset_meta(self.project, a.id_key, tags=tags, notes=notes),
                        "Could not save tags and notes")

    def assign_by_names(self, text: str):
        a = self.selected
        refs = [r.strip() for r in (text or "").split(",") if r.strip()]
        if a is None or not refs:
            self.app.toast("select an asset and type shot names or ids")
            return None

        def go():
            return OA.assign_to_shots(self.project, [a.id_key], OA.resolve_shots(self.project, refs))
        res = self._op(go, "Could not assign")
        if res is not None:
            dpg.set_value(self.d_assign, "")
        return res

    def assign_selected_shots(self):
        a = self.selected
        shots = self.app.pages.get("shots")
        sids = shots._selected_in_order() if shots is not None and shots.selected else []
        if a is None or not sids:
            self.app.toast("select shots on the Shots page first (Ctrl/Shift+click for several)")
            return None
        return self._op(lambda: OA.assign_to_shots(self.project, [a.id_key], sids), "Could not assign")

    def unassign(self, shot_ids):
        a = self.selected
        if a is None:
            return None
        return self._op(lambda: OA.assign_to_shots(self.project, [a.id_key], shot_ids, on=False), "Could not unassign")

    def delete_selected(self) -> None:
        a = self.selected
        if a is None:
            return
        key = a.id_key

        def go():
            if self._op(lambda: OA.delete_assets(self.project, [key]), "Could not delete") is not None:
                self.app.toast(f"{a.name} moved to the trash (Ctrl+Z brings it back)")
        extra = f" and its {len(a.extra_files)} extra file(s)" if a.extra_files else ""
        self.app.dialogs.confirm("Delete asset", f"Delete {a.name} ({a.file_path}{extra})"
                                 + (f", used in {a.shot_count} shot(s)," if a.shot_count else "")
                                 + "? It goes to the project trash; Ctrl+Z brings it back.", go)

    def import_files(self, files, kind: str | None = None) -> list[str]:
        """Import files as assets of `kind` (default: the 'as' combo). Small imports run at once on
        the UI connection; big ones (JOB_BYTES, JOB_FILES) in a job behind a progress dialog with
        Cancel (nothing half-imported either way). Returns the new id_keys (empty for a job: its
        result arrives later)."""
        files = [Path(f) for f in files]
        kind = kind or dpg.get_value(self.import_kind)
        if not files or self.project is None:
            return []
        size = 0
        for f in files:
            try:
                size += f.stat().st_size
            except OSError:
                pass          # add_assets names the missing file
        if size >= self.job_bytes or len(files) >= JOB_FILES:
            def work(progress, cancel, project):
                from aimms_fast.errors import Cancelled

                def step(done, total):
                    progress(done, total)
                    if cancel.is_set():
                        raise Cancelled()
                return OA.add_assets(project, files, kind=kind, progress=step)
            self.app.run_job(work, title="Import assets", label=f"Copying {len(files)} file(s) into {kind}…",
                             on_done=lambda ids: self._imported(ids, kind), changed=("assets", None))
            return []
        ids = self._op(lambda: OA.add_assets(self.project, files, kind=kind), "Could not import")
        self._imported(ids, kind)
        return ids or []

    def _imported(self, ids, kind: str) -> None:
        if ids:
            if self.kind not in (None, kind):
                self.set_kind(kind)
            else:
                self.apply_filter()
            self.select_key(ids[-1])
            self.app.toast(f"imported {len(ids)} {kind} asset{'s' if len(ids) != 1 else ''} · Ctrl+Z to undo")

    def import_dialog(self, start: Path | None = None):
        """Import…: pick files (images, video, audio, 3D models) to import as the 'as' type.
        Returns the picker (ours, or the native waiter)."""
        if self.project is None:
            return None
        kind = dpg.get_value(self.import_kind)
        return self.app.dialogs.pick_files(f"Import {kind}", sorted(OA.ASSET_EXTS),
                                           lambda fs: self.import_files(fs, kind), start=start, kind="asset")

    def accept_drop(self, drop) -> tuple[str, object, list[str]]:
        """Files dropped from the desktop onto this page (ui/file_dialog.deliver_drop): imported as the
        'as' type; files of other kinds are named in the toast."""
        files = [p for p in drop.paths if p.is_file()]
        ok = [p for p in files if p.suffix.lower() in OA.ASSET_EXTS]
        skipped = len(drop.paths) - len(ok)
        ids = self.import_files(ok) if ok else []
        if skipped:
            self.app.toast(f"{skipped} dropped item(s) were not images, video, audio or 3D models")
        self.dropped.append(ids)
        return ("assets", dpg.get_value(self.import_kind), ids)

    def open_selected(self) -> None:
        a = self.selected
        if a is None:
            return
        if self.states.get(a.id_key) == "missing":
            self.app.toast(f"{a.file_path} is missing")
            return
        if OA.media_kind(a.file_path) == "model":
            from aimms_fast.ui.model_viewer import open_model
            open_model(self.app, a.id_key, on_error=self._load_failed)
        else:
            if self.project.layout.is_inside(a.file_path, follow=True):  # issue 14
                self.app.open_file(self.project.layout.read_path(a.file_path))
            else:
                self.app.toast(f"{a.file_path} is outside the project: not opened")

    def _load_failed(self, id_key: str, reason: str | None) -> None:
        """The 3D viewer reports how a load went: the card shows a LOAD ERROR badge until it loads."""
        if reason:
            self.load_errors[id_key] = reason
        else:
            self.load_errors.pop(id_key, None)
        for i, c in enumerate(self.grid.cards):
            if c.key == id_key:
                self.grid.update_card(i, self._card(self.rows[i]))
        self._show_detail()

    def _open_index(self, i: int) -> None:
        self.open_selected()

    def _reveal(self) -> None:
        a = self.selected
        if a is not None:
            from aimms_fast.ui.context_menu import reveal
            reveal(self.app, a.file_path)

    def on_action(self, action: str) -> bool:
        g = self.grid
        if action.startswith("move:"):
            g.move(action[5:])
        elif action == "open":
            self.open_selected()
        elif action == "star":
            self.star_selected()
        elif action == "rename":
            self.rename_dialog()
        elif action == "assign":
            self.assign_selected_shots()
        elif action == "delete":
            self.delete_selected()
        elif action == "search":
            dpg.focus_item(self.search)
        elif action == "card:+":
            self.app.set_card_width(self.app.prefs.card_width + 40)
        elif action == "card:-":
            self.app.set_card_width(self.app.prefs.card_width - 40)
        else:
            return False
        return True

    def _context(self, i: int) -> None:
        from aimms_fast.ui import context_menu as cm
        if self.project is None or not (0 <= i < len(self.rows)):
            return
        a = self.rows[i]
        rw = not self.app.readonly
        model = OA.media_kind(a.file_path) == "model"
        cm.menu(self.app).show([
            cm.MenuEntry("Open 3D viewer" if model else "Open", self.open_selected),
            cm.MenuEntry("Unstar" if a.starred else "Star", self.star_selected, enabled=rw),
            cm.MenuEntry("Rename…", self.rename_dialog, enabled=rw),
            cm.MenuEntry("Assign to selected shots", self.assign_selected_shots, enabled=rw),
            *cm.approval_entries(self.app, None, None, rw, kind="asset", ident=a.id_key, changed="all"),  # issue 12
            cm.MenuEntry("", None),
            cm.MenuEntry("Reveal in folder", lambda: cm.reveal(self.app, a.file_path)),
            cm.MenuEntry("Copy path", lambda: cm.copy_path(self.app, a.file_path)),
            cm.MenuEntry("", None),
            cm.MenuEntry("Delete…", self.delete_selected, enabled=rw, danger=True),
        ])

    def set_card_width(self, w: int) -> None:
        self.grid.relayout()

    def apply_theme(self) -> None:
        self.grid.relayout()
        T.retint(self.app)


class AssetStrip:
    """A shot's assets as a list of small thumbnails with names (the shot window's "Assets"
    section). Pictures come from the atlas like the cards' (evicted pages fall back to the neutral
    texture); a click shows the asset on the Assets page. UI thread only."""

    ROW = 44
    TW, TH = 64, 36

    def __init__(self, app, parent, width: int):
        self.app = app
        self.bank = app.textures
        self.width = width
        self.rows: list = []                  # store.assets.AssetRow
        self._items: list[tuple] = []         # (image item, region shown)
        self.empty = T.text(app, parent, "No assets assigned (Assets page: Assign).", "dim")
        self.dl = dpg.add_drawlist(width=width, height=1, parent=parent, show=False)
        with dpg.item_handler_registry() as self._handlers:
            dpg.add_item_clicked_handler(button=dpg.mvMouseButton_Left, callback=self._on_click)
        dpg.bind_item_handler_registry(self.dl, self._handlers)
        self.bank.on_evict(self._on_evict)

    def set_shot(self, project, shot_id: int) -> None:
        self.rows = OA.assets_of_shot(project, shot_id)
        dpg.delete_item(self.dl, children_only=True)
        self._items = []
        pal = T.PALETTES[self.app.prefs.theme]
        n = self.bank.neutral
        for k, a in enumerate(self.rows):
            y = k * self.ROW
            img = dpg.draw_image(n.tag, (0, y + 2), (self.TW, y + 2 + self.TH), uv_min=n.uv_min, uv_max=n.uv_max,
                                 parent=self.dl)
            media = OA.media_kind(a.file_path)
            dpg.draw_text((self.TW + 8, y + 2), ("★ " if a.starred else "") + a.name, size=T.BASE_FONT_PX,
                          color=pal["text"], parent=self.dl)
            dpg.draw_text((self.TW + 8, y + 2 + T.BASE_FONT_PX + 2), f"{a.kind} · {MEDIA_LABEL[media]}",
                          size=max(9, T.BASE_FONT_PX - 2), color=pal["dim"], parent=self.dl)
            self._items.append((img, n))
        dpg.configure_item(self.dl, height=max(1, len(self.rows) * self.ROW), show=bool(self.rows))
        dpg.configure_item(self.empty, show=not self.rows)

    def _rels(self) -> list[str]:
        return [a.file_path for a in self.rows if OA.media_kind(a.file_path) in ("image", "video", "model")]

    def tick(self) -> list[str]:
        """Show the pictures that are resident; returns the rels it wants (the caller puts them in
        its own textures.want / services.request: one request per frame, or they cancel each other)."""
        rels = self._rels()
        if not rels:
            return []
        for k, a in enumerate(self.rows):
            region = self.bank.get(a.file_path) if a.file_path in rels else None
            img, shown = self._items[k]
            if region is not None and region is not shown:
                dpg.configure_item(img, texture_tag=region.tag, uv_min=region.uv_min, uv_max=region.uv_max)
                self._items[k] = (img, region)
        return rels

    def shows_picture(self, k: int) -> bool:
        """Row k shows its real thumbnail (not the neutral stand-in)."""
        return 0 <= k < len(self._items) and self._items[k][1] is not self.bank.neutral

    def row_rect(self, k: int) -> tuple[float, float, float, float]:
        """Row k's thumbnail in viewport pixels (screenshots and tests)."""
        x0, y0 = dpg.get_item_rect_min(self.dl)
        return x0, y0 + k * self.ROW + 2, x0 + self.TW, y0 + k * self.ROW + 2 + self.TH

    def _on_evict(self, tags: set) -> None:
        n = self.bank.neutral
        for k, (img, shown) in enumerate(self._items):
            if shown is not n and shown.tag in tags and dpg.does_item_exist(img):
                dpg.configure_item(img, texture_tag=n.tag, uv_min=n.uv_min, uv_max=n.uv_max)
                self._items[k] = (img, n)

    def _on_click(self, *_):
        mx, my = dpg.get_mouse_pos(local=False)
        y0 = dpg.get_item_rect_min(self.dl)[1]
        k = int((my - y0) // self.ROW)
        if 0 <= k < len(self.rows):
            show_asset(self.app, self.rows[k].id_key)

    def destroy(self) -> None:
        self.bank.off_evict(self._on_evict)
        for item in (self.dl, self._handlers, self.empty):
            if dpg.does_item_exist(item):
                dpg.delete_item(item)


def show_asset(app, id_key: str) -> None:
    """Go to the Assets page with this asset selected (filters cleared if they hide it)."""
    page = app.pages.get("assets")
    if page is None:
        return
    app.show_page("assets")
    if not page.select_key(id_key):
        dpg.set_value(page.search, "")
        dpg.set_value(page.starred_box, False)
        page.set_kind(None)
        page.select_key(id_key)
