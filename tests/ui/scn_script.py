"""Scenarios for issue 12: the Script page (breakdown, characters, approvals per section), the script
import preview dialog on an edited script, the Audit page, and a locked take refusing delete in the
UI. Each runs in its own process (tests/ui/conftest.run_scenario)."""
from __future__ import annotations

from tests.ui.scenarios import press_dialog_button, scenario, shot, start_app


@scenario
def script_pages(project, out, args):
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui import context_menu as cm
    app = start_app(project)
    res = {}
    app.show_page("script")
    app.settle(3)
    page = app.pages["script"]
    res["scenes"] = [(s.index, s.heading, s.speaking) for s in page.scene_rows]
    res["characters"] = [(c.name, [v.stage for v in c.versions]) for c in page.char_rows]
    res["sections"] = [(s.section, s.approved, s.locked) for s in page.section_rows]
    res["shot_script"] = shot(app, out, "script_page")
    # a second version for Brick from the form, then roll back to v1: its image is the asset's file again
    dpg.set_value(page.char_pick, "Brick")
    dpg.set_value(page.stage_pick, "alternate")
    dpg.set_value(page.slot_inputs["front"], args["alt_front"])
    page.add_version()
    app.settle(2)
    brick = next(c for c in page.char_rows if c.name == "Brick")
    res["brick_after_add"] = [brick.active.number, brick.file_path]
    dpg.set_value(page.version_pick, "v1 final")
    page.rollback()
    app.settle(2)
    brick = next(c for c in page.char_rows if c.name == "Brick")
    res["brick_after_rollback"] = [brick.active.number, brick.file_path]
    res["shot_versions"] = shot(app, out, "script_versions")
    # the preview dialog on the edited script: nothing written until Import
    n_before = app.project.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0]
    dpg.set_value(page.path_input, args["edited"])
    page.open_preview()
    app.settle(3)
    d = page.dialog.diff
    res["preview_summary"] = dpg.get_value(page.dialog.summary)
    res["preview_counts"] = [len(d.added), len(d.changed), len(d.removed)]
    res["rows_before_import"] = app.project.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0] == n_before
    res["shot_preview"] = shot(app, out, "import_preview")
    page.dialog.apply()
    app.settle(3)
    res["shots_after"] = app.project.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0]
    res["dialog_shown_after"] = dpg.is_item_shown(page.dialog.win)
    # a locked take refuses delete through the card menu: the user sees the reason
    cm.delete(app, args["locked_take"])
    app.settle(2)
    press_dialog_button(app, "Delete")
    app.settle(3)
    res["locked_take_exists"] = app.project.conn.execute(
        "SELECT COUNT(*) FROM takes WHERE take_id = ?", (args["locked_take"],)).fetchone()[0]
    res["errors_shown"] = list(app.errors)
    res["shot_locked_error"] = shot(app, out, "locked_error")
    press_dialog_button(app, "OK")
    app.settle(2)
    # the storyboard card of the locked take says LOCKED; the card menu offers Unlock
    from tests.ui.scenarios import wait_tiles
    app.show_page("images")
    app.settle(3)
    g = app.pages["images"].grid
    wait_tiles(app, g)
    res["card_badges"] = {c.take_id: c.badges for c in g.cards if c.badges}
    page_img = app.pages["images"]
    res["char_items"] = dpg.get_item_configuration(page_img.char_combo)["items"]
    page_img.set_character_filter("Cognito")
    app.settle(2)
    res["cognito_cards"] = [c.title for c in g.cards]
    res["shot_char_filter"] = shot(app, out, "images_cognito")
    page_img.set_character_filter(None)
    app.settle(2)
    res["shot_badges"] = shot(app, out, "images_badges")
    # the shot window's Assets strip shows the shot's cast (characters are assets linked to shots)
    w = app.open_shot(args["cast_shot"], "image")
    app.settle(4)
    res["cast"] = sorted(a.name for a in w.assets.rows)
    res["shot_window_cast"] = shot(app, out, "shot_window_cast")
    w.close() if hasattr(w, "close") else None
    app.settle(2)
    entries = cm.take_entries(app, args["locked_take"], shot_id=args["shot_id"], storyboard="image")
    res["menu_labels"] = [e.label for e in entries if e.label]
    next(e for e in entries if e.label == "Unlock").run()
    app.settle(2)
    res["badges_after_unlock"] = next((c.badges for c in g.cards if c.take_id == args["locked_take"]), None)
    app.show_page("audit")
    app.settle(3)
    audit = app.pages["audit"]
    res["audit_actions"] = [r.action for r in audit.rows]
    dpg.set_value(audit.action_filter, "lock")
    audit._show()
    app.settle(2)
    res["audit_lock_rows"] = [(r.action, r.who) for r in audit.rows]
    res["shot_audit"] = shot(app, out, "audit_page")
    res["errors"] = []
    app.shutdown()
    return res


def _fill_prompt(app, value: str, ok: str) -> None:
    """Type into the newest prompt dialog and press its OK button (what a user does)."""
    import dearpygui.dearpygui as dpg
    from tests.ui.scenarios import press_dialog_button
    win = app.dialogs.open[-1]

    def walk(item):
        for child in dpg.get_item_children(item, 1) or []:
            if dpg.get_item_type(child).endswith("mvInputText"):
                return child
            found = walk(child)
            if found:
                return found
        return None
    dpg.set_value(walk(win), value)
    press_dialog_button(app, ok)


@scenario
def script_approvals(project, out, args):
    """Approve / Lock from the UI for a shot's star (card menu), an asset (Assets card menu) and a
    character version (Script page); a locked item's refusal is shown; rename and merge characters;
    the file pickers fill a version's image slot."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ops import approvals as AP
    from aimms_fast.ui import context_menu as cm
    from aimms_fast.ui.file_dialog import FileBrowser
    from tests.ui.scenarios import wait_tiles
    app = start_app(project)
    res = {}
    sid, tid = args["shot_id"], args["take_id"]
    # 1. the shot's star on the Images page: Lock star from the card menu, then S is refused with the reason
    app.show_page("images")
    app.settle(3)
    wait_tiles(app, app.pages["images"].grid)
    entries = cm.take_entries(app, tid, shot_id=sid, storyboard="image")
    res["card_labels"] = [e.label for e in entries if e.label]
    m = cm.menu(app)
    m.show(entries)
    app.settle(1)
    m.invoke("Lock star")
    app.settle(2)
    st = AP.state(app.project, "star", f"{sid}:image")
    res["star_state"] = [bool(st and st.approved), bool(st and st.locked), st.locked_by if st else None]
    app.settle(2)
    res["star_card_badges"] = next(c.badges for c in app.pages["images"].grid.cards if c.key == sid)
    res["labels_after_lock"] = [e.label for e in cm.take_entries(app, tid, shot_id=sid, storyboard="image")
                                if e.label]
    cm.toggle_star(app, tid, sid)
    app.settle(3)
    res["starred_after_refused"] = app.project.conn.execute(
        "SELECT starred FROM takes WHERE take_id = ?", (tid,)).fetchone()[0]
    res["star_errors"] = list(app.errors)
    res["shot_star_refused"] = shot(app, out, "star_refused")
    press_dialog_button(app, "OK")
    app.settle(2)
    # 2. an asset (the character Brick is an asset): Lock from the Assets card menu, Delete is refused
    app.show_page("assets")
    app.settle(3)
    pa = app.pages["assets"]
    i = next(k for k, a in enumerate(pa.rows) if a.name == "Brick")
    pa.select_key(pa.rows[i].id_key)
    pa._context(i)
    app.settle(1)
    res["asset_labels"] = cm.menu(app).labels
    cm.menu(app).invoke("Lock")
    app.settle(2)
    a = AP.state(app.project, "asset", pa.rows[i].id_key)
    res["asset_locked"] = bool(a and a.locked)
    n_err = len(app.errors)
    pa.delete_selected()
    app.settle(2)
    if app.dialogs.open and "Delete" in dpg.get_item_label(app.dialogs.open[-1]):
        press_dialog_button(app, "Delete")
        app.settle(3)
    res["asset_errors"] = app.errors[n_err:]
    res["brick_still_there"] = any(a.name == "Brick" for a in pa.rows)
    res["shot_asset_refused"] = shot(app, out, "asset_refused")
    while app.dialogs.open:
        press_dialog_button(app, "OK")
        app.settle(2)
    pa._context(i)
    app.settle(1)
    res["asset_labels_locked"] = cm.menu(app).labels
    cm.menu(app).invoke("Unlock")
    app.settle(2)
    a = AP.state(app.project, "asset", pa.rows[i].id_key)
    res["asset_after_unlock"] = [bool(a and a.approved), bool(a and a.locked)]
    # 3. the Script page: lock Brick's v1, rename Steel, merge Mr. Steel into him, pick a slot image
    app.show_page("script")
    app.settle(3)
    page = app.pages["script"]
    dpg.set_value(page.char_pick, "Brick")
    page._fill_versions()
    page.lock_version()
    app.settle(2)
    v1 = page._version()
    vs = AP.state(app.project, "charver", v1.id)
    res["charver_locked"] = [v1.number, bool(vs and vs.locked), bool(vs and vs.approved)]
    res["lock_btn"] = dpg.get_item_label(page.lock_btn)
    res["brick_approval_cell"] = next(c for c in page.char_rows if c.name == "Brick").name
    n_err = len(app.errors)
    dpg.set_value(page.stage_pick, "alternate")
    page.add_version(images={})          # refused: Brick's locked v1 stays the active version
    app.settle(2)
    res["charver_errors"] = app.errors[n_err:]
    res["brick_versions"] = [v.number for v in next(c for c in page.char_rows if c.name == "Brick").versions]
    res["shot_charver_locked"] = shot(app, out, "charver_locked")
    while app.dialogs.open:
        press_dialog_button(app, "OK")
        app.settle(2)
    dpg.set_value(page.char_pick, args["rename_from"])
    page.rename_dialog()
    app.settle(2)
    _fill_prompt(app, args["rename_to"], "Rename")
    app.settle(2)
    res["names_after_rename"] = [c.name for c in page.char_rows]
    dpg.set_value(page.char_pick, args["merge_from"])
    page.merge_dialog()
    app.settle(2)
    _fill_prompt(app, args["rename_to"], "Merge")
    app.settle(2)
    kept = next(c for c in page.char_rows if c.name == args["rename_to"])
    res["after_merge"] = [len(page.char_rows), sorted(kept.aliases)]
    page.browse_slot("front")
    app.settle(3)
    browser = next(w for w in reversed(app.windows) if isinstance(w, FileBrowser) and w.alive)
    browser.navigate(args["pick_dir"])
    app.settle(2)
    browser.click(browser.names.index(args["pick_name"]))
    browser.accept()
    app.settle(2)
    res["front_slot"] = dpg.get_value(page.slot_inputs["front"])
    # Browse… for the script: the picked file goes into the path field and its preview opens
    page.browse_script()
    app.settle(3)
    browser = next(w for w in reversed(app.windows) if isinstance(w, FileBrowser) and w.alive)
    browser.navigate(args["pick_dir"])
    app.settle(2)
    browser.click(browser.names.index(args["script_name"]))
    browser.accept()
    app.settle(3)
    res["script_path"] = dpg.get_value(page.path_input)
    res["preview_shown"] = dpg.is_item_shown(page.dialog.win)
    res["preview_summary"] = dpg.get_value(page.dialog.summary)
    page.dialog.close()
    app.settle(2)
    res["shot_script_controls"] = shot(app, out, "script_controls")
    res["audit"] = [r[0] for r in app.project.conn.execute("SELECT action FROM fast_audit ORDER BY id")]
    app.shutdown()
    return res
