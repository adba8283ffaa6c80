"""Scenarios for the Export dialog and the edited-timeline dialog (issue 10 item 7, the UI): opened
from the File menu and the keyboard, the preview read from the dialog's own text items, exports
written through the dialog's job (EDL, PDF), an animatic cancelled with its Cancel button, and an
edited OTIO read back as a diff that is rejected, then applied. Run one per process by
tests/ui/test_export_ui.py."""
from __future__ import annotations

import os
from pathlib import Path

from tests.ui.scenarios import click, item_center, press, press_dialog_button, scenario, shot, start_app


def texts_in(item) -> list[str]:
    """Every text item's value under `item`, in layout order (what the user reads)."""
    import dearpygui.dearpygui as dpg
    out = []
    for slot in (1, 0, 2, 3):   # 1: most items; table rows sit in slot 1 of the table too
        for child in dpg.get_item_children(item, slot) or []:
            if dpg.get_item_type(child).endswith("mvText"):
                out.append(dpg.get_value(child))
            out.extend(texts_in(child))
    return out


def table_rows(table) -> list[list[str]]:
    import dearpygui.dearpygui as dpg
    return [[dpg.get_value(c) for c in dpg.get_item_children(r, 1) or []]
            for r in dpg.get_item_children(table, 1) or []]


def menu_item(label: str):
    """The menu bar item with this label (its callback is what a click runs)."""
    import dearpygui.dearpygui as dpg
    for item in dpg.get_all_items():
        if dpg.get_item_type(item).endswith("mvMenuItem") and dpg.get_item_label(item) == label:
            return item
    raise AssertionError(f"no menu item {label!r}")


def wait_job(app, job, timeout: float = 120) -> None:
    if job is None:
        raise AssertionError(f"the job was refused: {app.errors}")
    if not app.wait_until(lambda: job.done and job not in app._jobs, timeout=timeout):
        raise AssertionError(f"job {job.title} did not end in {timeout}s")
    app.settle(3)


def db_state(project) -> dict:
    c = project.conn
    return {"shots": c.execute("SELECT shot_id, order_number FROM shots ORDER BY shot_id").fetchall(),
            "stars": c.execute("SELECT take_id, starred FROM takes ORDER BY take_id").fetchall(),
            "trims": c.execute("SELECT take_id, in_s, out_s FROM fast_take_trims ORDER BY take_id").fetchall()}


@scenario
def export_dialog(project, out, args):
    """Menu item and Ctrl+Shift+E open the dialog; its preview; EDL and PDF written through it;
    an animatic cancelled part-way leaves no file; screenshots in both themes."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui import export_dialog as X
    from tests.ui.xinput import XInput
    app = start_app(project, width=1400, height=900)
    xi = XInput()
    res = {}
    dests = Path(args["dest"])
    # The File menu's item runs the action (its callback is what a click on it calls).
    item = menu_item("Export…")
    res["menu_shortcut"] = dpg.get_item_configuration(item)["shortcut"]
    dpg.get_item_callback(item)()
    app.settle(3)
    d = X.last_opened
    res["opened_from_menu"] = d is not None and dpg.does_item_exist(d.win) and d.win in app.dialogs.open
    res["title"] = dpg.get_item_label(d.win)
    res["rows"] = table_rows(d.table)
    res["summary"] = dpg.get_value(d.summary_text)
    res["notes"] = texts_in(d.notes_box)
    res["form_texts"] = texts_in(d.win)[:40]
    res["default_out"] = dpg.get_value(d.out_input)
    res["dark"] = shot(app, out, "export_dark")
    d.close()
    app.settle(3)
    # Ctrl+Shift+E (real keys) opens it too.
    press(xi, app, "Control_L", "Shift_L", "e")
    app.settle(2)
    res["opened_by_keys"] = X.last_opened is not d and X.last_opened.win in app.dialogs.open
    d = X.last_opened

    # EDL through the dialog, clicking Export for real.
    d.set_option("format", "edl")
    d.set_option("out", dests / "cut.edl")
    app.settle(2)
    click(xi, app, *item_center(d.export_button))
    wait_job(app, d.job)
    res["edl_result"] = str(d.result.path) if d.result else None
    res["edl_status"] = dpg.get_value(d.status_text)
    res["open_button_shown"] = dpg.is_item_shown(d.open_button)
    res["edl_toast"] = dpg.get_value(app._toast)
    res["after_edl"] = shot(app, out, "export_after_edl")
    # The same file again, now with the media copied to a handoff folder: asked first; Replace writes it.
    res["edl_text_first"] = (dests / "cut.edl").read_text()
    before_mtime = (dests / "cut.edl").stat().st_mtime_ns
    d.set_option("copy_media", dests / "handoff")
    res["replace_job_without_asking"] = d.export() is not None
    app.settle(3)
    res["replace_dialog"] = dpg.get_item_label(app.dialogs.open[-1])
    press_dialog_button(app, "Replace")
    app.wait_until(lambda: d.job is not None and d.job.done and d.job not in app._jobs, timeout=60)
    app.settle(2)
    res["replaced"] = (dests / "cut.edl").stat().st_mtime_ns != before_mtime

    # PDF with its own options (2 x 2, portrait, prompts) and the section filter.
    d.set_option("format", "pdf")
    res["pdf_rows_shown"] = {k: dpg.is_item_shown(dpg.get_item_parent(g)) for k, g in d.groups.items()}
    d.set_option("rows", 2)
    d.set_option("columns", 2)
    d.set_option("orientation", "portrait")
    d.set_option("pdf_prompts", True)
    d.set_option("out", dests / "boards.pdf")
    d.set_option("missing", "title")
    app.settle(2)
    res["pdf_rows"] = table_rows(d.table)
    res["pdf_dark"] = shot(app, out, "export_pdf_dark")
    app.set_theme("light")
    app.settle(3)
    res["pdf_light"] = shot(app, out, "export_pdf_light")
    app.set_theme("dark")
    wait_job(app, d.export())
    res["pdf_result"] = str(d.result.path) if d.result else None

    # The image storyboard: stills held for the shot's duration; the default name follows.
    d.set_option("storyboard", "image")
    res["image_rows"] = table_rows(d.table)
    d.set_option("storyboard", "video")

    # HTML review page: a folder.
    d.set_option("format", "html")
    res["html_default_out"] = dpg.get_value(d.out_input)
    d.set_option("proxies", "never")
    d.set_option("out", dests / "review")
    wait_job(app, d.export())
    res["html_result"] = str(d.result.path) if d.result else None

    # Animatic, cancelled with the progress dialog's Cancel button once frames are being written.
    d.set_option("format", "animatic")
    # 1080p at 60 fps (405 frames) with burn-in: long enough to be stopped part-way.
    d.set_option("size", "1920x1080")
    d.set_option("burn_in", True)
    d.set_option("missing", "gap")
    d.set_option("fps", 60)
    anim = dests / "anim.mp4"
    d.set_option("out", anim)
    d.result = None
    job = d.export()
    res["animatic_started"] = job is not None
    app.wait_until(lambda: job.done_n > 0 or job.done, timeout=60)
    res["progress_before_cancel"] = [job.done_n, job.total]
    if job.done:
        raise AssertionError(f"the animatic finished before Cancel could be pressed: {res}")
    click(xi, app, *item_center(job.cancel_button))
    wait_job(app, job)
    res["animatic_cancelled"] = job.cancelled
    res["animatic_exists"] = anim.exists()
    res["animatic_leftovers"] = sorted(p.name for p in dests.iterdir() if p.name.startswith("anim"))
    res["cancel_toast"] = dpg.get_value(app._toast)
    res["result_after_cancel"] = d.result is not None
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def edit_import_dialog(project, out, args):
    """File > Read an Edited Timeline…, the file picked in the built-in browser, the diff read on a
    job and listed; Reject changes nothing; read again and Apply changes the database."""
    import dearpygui.dearpygui as dpg
    os.environ["AIMMS_FILE_DIALOG"] = "builtin"
    from aimms_fast.ui import edit_import as E
    from aimms_fast.ui.file_dialog import FileBrowser
    app = start_app(project, width=1400, height=900)
    res = {}
    edited = Path(args["edited"])
    before = db_state(app.project)
    dpg.get_item_callback(menu_item("Read an Edited Timeline…"))()
    app.settle(3)
    browser = next(w for w in reversed(app.windows) if isinstance(w, FileBrowser) and w.alive)
    browser.navigate(edited.parent)
    app.settle(2)
    browser.click(browser.names.index(edited.name))
    browser.accept()
    # Shown a frame after the read job's progress dialog closed (one modal per frame: dialogs.py).
    app.wait_until(lambda: E.last_opened is not None and E.last_opened.win in app.dialogs.open
                   and dpg.is_item_shown(E.last_opened.win), timeout=60)
    app.settle(3)
    d = E.last_opened
    res["lines"] = d.lines
    res["texts"] = texts_in(d.win)
    res["buttons"] = [dpg.get_item_label(b) for b in dpg.get_all_items()
                      if dpg.get_item_type(b).endswith("mvButton") and _inside(b, d.win)]
    res["dark"] = shot(app, out, "edit_dark")
    app.set_theme("light")
    app.settle(3)
    res["light"] = shot(app, out, "edit_light")
    app.set_theme("dark")
    d.reject()
    app.settle(3)
    res["closed_after_reject"] = d.win not in app.dialogs.open
    res["unchanged_after_reject"] = db_state(app.project) == before
    # A file that is not a timeline: the job's error is shown, no diff dialog.
    bad = edited.parent / "broken.xml"
    bad.write_text("<xmeml><nonsense")
    wait_job(app, E.read_edit_flow(app, bad))
    res["bad_error"] = app.errors[-1] if app.errors else None
    res["bad_no_dialog"] = E.last_opened is d
    app.dialogs.close_top()
    app.errors.clear()
    app.settle(3)
    # The unedited export: nothing to change, one Close button.
    wait_job(app, E.read_edit_flow(app, Path(args["plain"])))
    app.wait_until(lambda: E.last_opened is not d and dpg.is_item_shown(E.last_opened.win), timeout=30)
    plain = E.last_opened
    res["plain_texts"] = texts_in(plain.win)
    res["plain_buttons"] = [dpg.get_item_label(b) for b in dpg.get_all_items()
                            if dpg.get_item_type(b).endswith("mvButton") and _inside(b, plain.win)]
    plain.reject()
    app.settle(3)
    # Read it again (same flow, no picker) and apply.
    job = E.read_edit_flow(app, edited)
    wait_job(app, job)
    d2 = E.last_opened
    res["second_is_new"] = d2 is not d
    wait_job(app, d2.apply())
    res["applied"] = d2.applied
    after = db_state(app.project)
    res["changed_after_apply"] = after != before
    res["order_after"] = [r[0] for r in app.project.conn.execute(
        "SELECT shot_name FROM shots ORDER BY order_number")]
    res["trims_after"] = after["trims"]
    res["toast"] = dpg.get_value(app._toast)
    res["undo_label"] = app._peek("undo")
    # Ctrl+Z twice (real keys): the star change, then the reorder; the trim stays (not recorded).
    from tests.ui.xinput import XInput
    xi = XInput()
    press(xi, app, "Control_L", "z")
    press(xi, app, "Control_L", "z")
    xi.close()
    undone = db_state(app.project)
    res["undo_restores_order_and_stars"] = (undone["shots"], undone["stars"]) == (before["shots"], before["stars"])
    res["trims_after_undo"] = undone["trims"]
    res["errors"] = app.errors
    app.shutdown()
    return res


def _inside(item, win) -> bool:
    import dearpygui.dearpygui as dpg
    while item:
        if item == win:
            return True
        item = dpg.get_item_parent(item)
    return False
