"""Shots page: the shot list as a virtualised table (Dear PyGui's clipper draws only visible rows),
a column picker, search over chosen columns (Esc clears it), the shared section filter, add/edit (one
or many, in labelled fields), reorder, delete with confirmation, CSV import/export, and a right-click
menu on rows (ui/context_menu.py). UI thread only."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.store import aimms_schema as A
from aimms_fast.ui import theme as T
from aimms_fast.ui.page import Page

COUNT_COLUMNS = ["images", "videos"]
ALL_COLUMNS = ["shot_id", *A.SHOT_FIELDS, "created_date", *COUNT_COLUMNS]
LONG_FIELDS = {"description", "image_prompt", "video_prompt", "dialogue", "image_negative", "video_negative"}
CELL_CHARS = 90
# What users read for each column (the AIMMS column names stay in the CSV and the database).
FIELD_LABELS = {
    "shot_id": "ID", "order_number": "Order", "shot_name": "Shot name", "section": "Section",
    "description": "Description", "image_prompt": "Image prompt", "colour_scheme_image": "Colour scheme",
    "time_of_day": "Time of day", "location": "Location", "country": "Country", "year": "Year",
    "video_prompt": "Video prompt", "dialogue": "Dialogue", "image_negative": "Image negative prompt",
    "video_negative": "Video negative prompt", "lora_1": "LoRA 1", "lora_2": "LoRA 2", "lora_3": "LoRA 3",
    "created_date": "Created", "images": "Images", "videos": "Videos",
}
FIELD_HINTS = {
    "order_number": "position in the shot list (1, 2, 3…; empty = at the end)",
    "shot_name": "e.g. INT_OFFICE_DAWN_020",
    "colour_scheme_image": "e.g. teal and orange, muted",
    "lora_1": "LoRA file name, optionally with :strength",
}


def label_of(col: str) -> str:
    return FIELD_LABELS.get(col, col.replace("_", " ").capitalize())


WIDE = {"description": 3.0, "image_prompt": 3.0, "video_prompt": 3.0, "dialogue": 2.5, "shot_name": 1.6,
        "image_negative": 2.0, "video_negative": 2.0}


def _cell(v) -> str:
    if v is None:
        return ""
    s = str(v).replace("\r", " ").replace("\n", " ")
    return s if len(s) <= CELL_CHARS else s[:CELL_CHARS - 1] + "…"


class ShotsPage(Page):
    name = "shots"
    title = "Shots"
    key_context = "shots"

    def __init__(self, app):
        super().__init__(app)
        self.rows: list[dict] = []
        self.shown: list[dict] = []
        self.selected: set[int] = set()
        self._anchor: int | None = None
        self._selectables: dict[int, int] = {}
        self._stale = False
        self.asset_filter: str | None = None      # id_key: only shots this asset is assigned to
        self._asset_keys: dict[str, str] = {}     # combo label -> id_key

    # -- build ----------------------------------------------------------------------------------
    def build(self, parent) -> None:
        self.parent = parent
        prefs = self.app.prefs
        with dpg.group(parent=parent, horizontal=True):
            # Esc in the box clears it (ImGui's EscapeClearsAll), then leaves the box.
            self.search = dpg.add_input_text(hint="search shots…  (Esc clears)", width=260,
                                             escape_clears_all=True, callback=lambda: self._refilter())
            self.app.register_text_input(self.search)
            dpg.add_button(label="in columns ▾")
            with dpg.popup(dpg.last_item(), mousebutton=dpg.mvMouseButton_Left):
                dpg.add_text("Search in")
                self._search_checks = {c: dpg.add_checkbox(label=label_of(c), default_value=c in prefs.search_columns,
                                                           callback=lambda: self._search_columns_changed())
                                       for c in A.SHOT_FIELDS}
            dpg.add_text("Section")
            self.section_combo = dpg.add_combo(["All sections"], default_value="All sections", width=200,
                                               callback=lambda s, a: self.app.set_section_filter(
                                                   None if a == "All sections" else a))
            dpg.add_text("Asset")
            self.asset_combo = dpg.add_combo(["All assets"], default_value="All assets", width=180,
                                             callback=lambda s, a: self.set_asset_filter(self._asset_keys.get(a)))
            dpg.add_button(label="Columns ▾")
            with dpg.popup(dpg.last_item(), mousebutton=dpg.mvMouseButton_Left):
                dpg.add_text("Show columns")
                self._col_checks = {c: dpg.add_checkbox(label=label_of(c), default_value=c in prefs.shot_columns,
                                                        callback=lambda: self._columns_changed())
                                    for c in ALL_COLUMNS}
            self.count_text = dpg.add_text("")
        with dpg.group(parent=parent, horizontal=True):
            self.b_add = dpg.add_button(label="Add shot…", callback=lambda: edit_dialog(self.app, []))
            self.b_edit = dpg.add_button(label="Edit…", callback=lambda: self.edit_selected())
            self.b_up = dpg.add_button(label="Move up", callback=lambda: self.move_selected(-1))
            self.b_down = dpg.add_button(label="Move down", callback=lambda: self.move_selected(+1))
            self.b_del = dpg.add_button(label="Delete…", callback=lambda: self.delete_selected())
            dpg.bind_item_theme(self.b_del, self.app.themes["danger"])
            dpg.add_spacer(width=20)
            self.b_import = dpg.add_button(label="Import CSV…", callback=lambda: self.app.action("import_csv"))
            dpg.add_button(label="Export CSV", callback=lambda: self.app.action("export_csv"))
            dpg.add_spacer(width=20)
            self.sel_text = T.text(self.app, None, "", "dim")
        self.table_parent = dpg.add_group(parent=parent)
        self.table = None
        with dpg.item_handler_registry() as self._row_handlers:
            dpg.add_item_clicked_handler(button=dpg.mvMouseButton_Right, callback=lambda s, a: self._right_click(a[1]))
        self._build_table()

    def _columns(self) -> list[str]:
        cols = [c for c in ALL_COLUMNS if c in self.app.prefs.shot_columns]
        return cols or ["order_number", "shot_name"]

    def _build_table(self) -> None:
        if self.table is not None:
            dpg.delete_item(self.table)
        self._selectables = {}
        self.table = dpg.add_table(parent=self.table_parent, header_row=True, clipper=True, scrollY=True,
                                   scrollX=True, freeze_rows=1, row_background=True, resizable=True,
                                   borders_innerV=True, borders_outerH=True, height=-1,
                                   policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(self.table, self.app.themes["table"])
        for c in self._columns():
            dpg.add_table_column(label=label_of(c), parent=self.table, init_width_or_weight=WIDE.get(c, 1.0))
        self._fill_rows()

    def _fill_rows(self) -> None:
        dpg.delete_item(self.table, children_only=True, slot=1)
        self._selectables = {}
        cols = self._columns()
        for r in self.shown:
            sid = r["shot_id"]
            with dpg.table_row(parent=self.table):
                first = True
                for c in cols:
                    if first:
                        self._selectables[sid] = dpg.add_selectable(
                            label=_cell(r.get(c)) or " ", span_columns=True, default_value=sid in self.selected,
                            callback=self._on_row, user_data=sid)
                        dpg.bind_item_handler_registry(self._selectables[sid], self._row_handlers)
                        first = False
                    else:
                        dpg.add_text(_cell(r.get(c)))
        self._update_counts()

    # -- data -----------------------------------------------------------------------------------
    def on_project(self, project) -> None:
        self.selected.clear()
        self._anchor = None
        self._stale = project is not None
        if project is None:
            self.rows = []
            self.shown = []
            self._fill_rows()
            return
        ro = project.readonly
        for b in (self.b_add, self.b_edit, self.b_up, self.b_down, self.b_del, self.b_import):
            dpg.configure_item(b, enabled=not ro)
        if self.visible:
            self._reload()

    def on_show(self) -> None:
        if self._stale and self.project is not None:
            self._reload()

    def _reload(self) -> None:
        self._stale = False
        self._load()
        self._update_sections()
        self._update_assets()
        self._refilter()

    def _load(self) -> None:
        from aimms_fast.store.shots import list_shots
        from aimms_fast.store.storyboard import take_counts
        conn = self.project.conn
        self.rows = list_shots(conn)
        counts = take_counts(conn)
        for r in self.rows:
            c = counts.get(r["shot_id"], {})
            r["images"] = c.get("images", 0)
            r["videos"] = c.get("videos", 0)

    def _update_sections(self) -> None:
        from aimms_fast.store.shots import sections
        items = ["All sections"] + (sections(self.project.conn) if self.project else [])
        dpg.configure_item(self.section_combo, items=items)
        dpg.set_value(self.section_combo, self.app.section_filter or "All sections")

    def apply_filter(self) -> None:
        if self.project is not None and not self._stale:
            dpg.set_value(self.section_combo, self.app.section_filter or "All sections")
            self._refilter()

    def set_search(self, text: str) -> None:
        dpg.set_value(self.search, text)
        self._refilter()

    def set_asset_filter(self, id_key: str | None) -> None:
        """Only the shots an asset is assigned to (None: all shots)."""
        self.asset_filter = id_key
        label = next((k for k, v in self._asset_keys.items() if v == id_key), "All assets")
        dpg.set_value(self.asset_combo, label)
        self._refilter()

    def _update_assets(self) -> None:
        from aimms_fast.ops.assets import list_assets
        rows = list_assets(self.project) if self.project is not None else []
        self._asset_keys = {}
        for a in rows:
            label = f"{a.name} ({a.kind})"
            n = 2
            while label in self._asset_keys:     # names may repeat: the list stays unambiguous
                label = f"{a.name} ({a.kind}) #{n}"
                n += 1
            self._asset_keys[label] = a.id_key
        dpg.configure_item(self.asset_combo, items=["All assets", *self._asset_keys])
        if self.asset_filter not in self._asset_keys.values():
            self.asset_filter = None
        dpg.set_value(self.asset_combo, next((k for k, v in self._asset_keys.items() if v == self.asset_filter),
                                             "All assets"))

    def _refilter(self) -> None:
        sec = self.app.section_filter
        with_asset = None
        if self.asset_filter is not None and self.project is not None:
            from aimms_fast.ops.assets import shot_ids_with_asset
            with_asset = shot_ids_with_asset(self.project, self.asset_filter)
        q = (dpg.get_value(self.search) or "").strip().lower()
        look = [c for c in self.app.prefs.search_columns if c in A.SHOT_FIELDS] or ["shot_name"]
        out = []
        for r in self.rows:
            if sec is not None and r.get("section") != sec:
                continue
            if with_asset is not None and r["shot_id"] not in with_asset:
                continue
            if q and not any(q in str(r.get(c) or "").lower() for c in look):
                continue
            out.append(r)
        self.shown = out
        self.selected &= {r["shot_id"] for r in out}
        self._fill_rows()

    def _update_counts(self) -> None:
        dpg.set_value(self.count_text, f"{len(self.shown)} of {len(self.rows)} shots")
        n = len(self.selected)
        dpg.set_value(self.sel_text, f"{n} selected" if n else "click a row; Ctrl/Shift+click for several")

    def _columns_changed(self) -> None:
        self.app.prefs.shot_columns = [c for c, cb in self._col_checks.items() if dpg.get_value(cb)]
        self.app.save_prefs()
        self._build_table()

    def set_columns(self, cols: list[str]) -> None:
        for c, cb in self._col_checks.items():
            dpg.set_value(cb, c in cols)
        self._columns_changed()

    def _search_columns_changed(self) -> None:
        self.app.prefs.search_columns = [c for c, cb in self._search_checks.items() if dpg.get_value(cb)]
        self.app.save_prefs()
        self._refilter()

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if self.project is None:
            return
        if not self.visible:
            self._stale = True
            return
        self._reload()

    # -- selection ------------------------------------------------------------------------------
    def _on_row(self, sender, value, sid) -> None:
        ctrl = dpg.is_key_down(dpg.mvKey_ModCtrl)
        shift = dpg.is_key_down(dpg.mvKey_ModShift)
        self.click(sid, ctrl=ctrl, shift=shift)

    def click(self, sid: int, *, ctrl: bool = False, shift: bool = False) -> None:
        ids = [r["shot_id"] for r in self.shown]
        if shift and self._anchor in ids and sid in ids:
            a, b = sorted((ids.index(self._anchor), ids.index(sid)))
            self.selected = set(ids[a:b + 1])
        elif ctrl:
            self.selected ^= {sid}
            self._anchor = sid
        else:
            self.selected = {sid}
            self._anchor = sid
        for s, tag in self._selectables.items():
            dpg.set_value(tag, s in self.selected)
        self._update_counts()

    def on_action(self, action: str) -> bool:
        if action.startswith("move:"):
            ids = [r["shot_id"] for r in self.shown]
            if not ids:
                return True
            cur = ids.index(self._anchor) if self._anchor in ids else -1
            nxt = max(0, min(len(ids) - 1, cur + (1 if action.endswith("+1") else -1)))
            self.click(ids[nxt])
        elif action == "edit":
            self.edit_selected()
        elif action == "delete":
            self.delete_selected()
        elif action.startswith("reorder:"):
            self.move_selected(int(action[8:]))
        elif action == "search":
            dpg.focus_item(self.search)
        else:
            return False
        return True

    def _right_click(self, item) -> None:
        """Right click on a row: select it (unless it is already among the selected) and open the
        row menu."""
        from aimms_fast.ui import context_menu as cm
        sid = dpg.get_item_user_data(item)
        if self.project is None or sid is None:
            return
        if sid not in self.selected:
            self.click(sid)
        cm.menu(self.app).show(cm.shot_entries(self.app, sid, on_edit=self.edit_selected,
                                               on_delete=self.delete_selected))

    def _selected_in_order(self) -> list[int]:
        return [r["shot_id"] for r in self.shown if r["shot_id"] in self.selected]

    def edit_selected(self) -> None:
        ids = self._selected_in_order()
        if not ids:
            self.app.toast("select one or more shots first")
            return
        edit_dialog(self.app, ids)

    def delete_selected(self) -> None:
        ids = self._selected_in_order()
        if not ids:
            self.app.toast("select one or more shots first")
            return
        from aimms_fast.ops.shots import delete_shots
        names = ", ".join(str(r["shot_name"]) for r in self.rows if r["shot_id"] in self.selected)[:200]
        self.app.dialogs.confirm(
            f"Delete {len(ids)} shot(s)",
            f"Delete {names}? Their takes and media move to the project trash; Project > Undo Last "
            "Delete (Ctrl+Z) brings them back.",
            lambda: self.app.run_op(lambda: delete_shots(self.project, ids), changed=("all",),
                                    done=f"deleted {len(ids)} shot(s)"))

    def move_selected(self, delta: int) -> None:
        ids = self._selected_in_order()
        if len(ids) != 1:
            self.app.toast("select exactly one shot to move it")
            return
        from aimms_fast.ops.shots import move_shot
        order = [r["shot_id"] for r in self.rows]
        idx = order.index(ids[0]) + delta
        if 0 <= idx < len(order):
            self.app.run_op(lambda: move_shot(self.project, ids[0], idx), changed=("all",))


# -- add / edit dialog -------------------------------------------------------------------------------

def edit_dialog(app, shot_ids: list[int]) -> int | None:
    """Add a shot (no ids), edit one, or edit many at once (only ticked fields are written)."""
    from aimms_fast.store.shots import get_shot
    if app.project is None:
        return None
    if app.readonly:
        app.toast("the project is read-only")
        return None
    multi = len(shot_ids) > 1
    shot = get_shot(app.project.conn, shot_ids[0]) if len(shot_ids) == 1 else None
    title = ("Add shot" if not shot_ids else f"Edit {len(shot_ids)} shots" if multi
             else f"Edit shot {shot['shot_id']}: {shot['shot_name']}")
    d = app.dialogs
    win = d._window(title, 820, 680)
    if multi:
        T.text(app, win, "Tick the fields to set on every selected shot; the others stay as they are.", "dim")
    inputs: dict[str, int] = {}
    ticks: dict[str, int] = {}
    labels: dict[str, int] = {}
    form = dpg.add_table(parent=win, header_row=False, policy=dpg.mvTable_SizingFixedFit, borders_innerV=False)
    if multi:
        dpg.add_table_column(parent=form, width_fixed=True, init_width_or_weight=30)
    dpg.add_table_column(parent=form, width_fixed=True, init_width_or_weight=190)
    dpg.add_table_column(parent=form, width_stretch=True, init_width_or_weight=1.0)
    for f in A.SHOT_FIELDS:
        with dpg.table_row(parent=form):
            if multi:
                ticks[f] = dpg.add_checkbox(label="")
                with dpg.tooltip(ticks[f]):
                    dpg.add_text(f"Set {label_of(f)} on every selected shot")
            labels[f] = dpg.add_text(label_of(f))
            value = "" if shot is None or shot.get(f) is None else str(shot.get(f))
            kw = {"hint": FIELD_HINTS[f]} if f in FIELD_HINTS else {}
            if f in LONG_FIELDS:
                inputs[f] = dpg.add_input_text(default_value=value, multiline=True, width=-1, height=54, **kw)
            else:
                inputs[f] = dpg.add_input_text(default_value=value, width=-1, **kw)
            app.register_text_input(inputs[f])
            if multi:
                dpg.set_item_callback(inputs[f], lambda s, a, u: dpg.set_value(u, True))
                dpg.set_item_user_data(inputs[f], ticks[f])
    msg = T.text(app, win, "", "error", wrap=780)

    def save():
        from aimms_fast.errors import AimmsError
        from aimms_fast.ops.shots import add_shot, duplicate_names, edit_shots
        p = app.project
        values = {f: dpg.get_value(i) for f, i in inputs.items()}
        if multi:
            values = {f: v for f, v in values.items() if dpg.get_value(ticks[f])}
        elif shot is not None:
            values = {f: v for f, v in values.items() if v != ("" if shot.get(f) is None else str(shot.get(f)))}
        values = {f: (None if v == "" and f != "shot_name" else v) for f, v in values.items()}
        try:
            if not shot_ids:
                sid = add_shot(p, **{k: v for k, v in values.items() if v is not None})
                changed_ids = [sid]
            else:
                edit_shots(p, shot_ids, **values)
                changed_ids = shot_ids
        except AimmsError as e:
            dpg.set_value(msg, str(e))
            return
        d.close(win)
        app.notify("all")
        name = values.get("shot_name")
        if name and len(changed_ids) == 1 and duplicate_names(p.conn, name, exclude=changed_ids[0]):
            app.toast(f"note: another shot is also named '{name}'")
        else:
            app.toast("saved")
    with dpg.group(parent=win, horizontal=True):
        dpg.add_button(label="Add" if not shot_ids else "Save", width=120, callback=save)
        dpg.add_button(label="Cancel", width=120, callback=lambda: d.close(win))
    app._last_edit_dialog = (win, inputs, ticks, save)  # tests fill and save the dialog through this
    app._last_edit_labels = labels
    return win
