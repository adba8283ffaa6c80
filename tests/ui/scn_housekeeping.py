"""Housekeeping scenario (issue 9): on a damaged copy of the demo project a user finds every
problem on the Routing page and fixes all of them from the Unused page without leaving the app:
relink a moved folder and a renamed file, regenerate workflow PNGs, delete what cannot be saved,
attach a stray picture to its shot, trash the rest, undo one step with Ctrl+Z (real keys) and redo
it, empty the trash. Screenshots before and after of both pages."""
from __future__ import annotations

from pathlib import Path

from tests.ui.scenarios import click, item_center, press, press_dialog_button, scenario, shot, start_app


def _idle(app, page, timeout=60):
    ok = app.wait_until(lambda: page.job is None and app.jobs_running == 0, timeout=timeout)
    if not ok:
        raise AssertionError(f"{page.name}: scan or job did not finish")
    app.settle(4)


def _cells(page):
    return {f"{sid}/{col}": [c.state, c.text] for row in page.check.rows for col, c in row.cells.items()
            for sid in [row.shot_id]}


def _lists(page):
    return {k: sorted(str(i.get("path")) for i in lst.items) for k, lst in page.lists.items()}


def _click_button(xi, app, tag):
    click(xi, app, *item_center(tag))


@scenario
def housekeeping_fix(project, out, args):
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    out = Path(out)
    app = start_app(project, width=1500, height=900)
    xi = XInput()
    res: dict = {"steps": []}
    routing, unused = app.pages["routing"], app.pages["unused"]

    # -- find every problem on the Routing page --
    app.show_page("routing")
    _idle(app, routing)
    res["routing_before"] = {"summary": routing.check.summary(), "counts": routing.check.counts,
                             "problems": [[p.kind, p.path] for p in routing.check.problems],
                             "cells": _cells(routing), "bad_shots": [r.shot_id for r in routing.check.rows if r.bad],
                             "not_in_rows": dpg.get_value(routing.problems_text)}
    res["shot_routing_before"] = shot(app, out, "routing_damaged")
    dpg.set_value(routing.only_bad, True)
    routing._fill()
    app.settle(4)
    res["problem_rows"] = sorted({sid for sid, _c in routing.cells})
    res["shot_routing_problems_only"] = shot(app, out, "routing_problems_only")
    # A click (real mouse) on a problem cell opens that shot's window.
    first_bad = res["problem_rows"][0]
    click(xi, app, *item_center(routing.cells[(first_bad, "images")]))
    app.settle(4)
    res["opened_window"] = [w.shot_id for w in app.shot_windows.values() if w.alive]
    for w in list(app.shot_windows.values()):
        if w.alive:
            w.close()
    app.settle(3)

    # -- fix everything from the Unused page --
    app.show_page("unused")
    _idle(app, unused)
    unused.show_tab("missing")
    app.settle(4)
    res["unused_before"] = _lists(unused)
    res["shot_unused_before"] = shot(app, out, "unused_damaged")
    # Relink the moved folder (what the folder picker hands back), then the renamed file.
    unused.relink_from(args["outside"])
    _idle(app, unused)
    unused.relink_from(str(Path(project) / "media"))
    _idle(app, unused)
    res["steps"].append(["relinked", _lists(unused)["missing"]])
    # Regenerate every missing workflow PNG (real click on the button); the broken video cannot.
    unused.show_tab("no_png")
    app.settle(4)
    _click_button(xi, app, unused.lists["no_png"].buttons["Regenerate PNGs"])
    _idle(app, unused)
    res["regen_dialog"] = dpg.get_item_label(app.dialogs.open[-1]) if app.dialogs.open else None
    res["shot_regen_message"] = shot(app, out, "regenerate_message")
    press_dialog_button(app, "OK")
    _idle(app, unused)
    res["steps"].append(["regenerated", _lists(unused)["no_png"]])
    # What cannot be saved: the broken video take, and the record whose file was deleted.
    unused.lists["no_png"].select_all(True)
    unused.delete_no_png(unused.lists["no_png"].selected())
    press_dialog_button(app, "Delete")
    _idle(app, unused)
    unused.show_tab("missing")
    unused.delete_missing(unused.lists["missing"].selected_or_all())
    press_dialog_button(app, "Delete")
    _idle(app, unused)
    # Orphans: the stray picture becomes a take of the shot whose folder it is in; the rest to the trash.
    unused.show_tab("orphans")
    app.settle(3)
    orph = unused.lists["orphans"]
    orph.select_where(lambda it: it["path"] == args["stray"])
    unused.attach_pick(orph.selected())            # the picker offers the folder's shot first
    app.settle(4)
    win = app.dialogs.open[-1]
    combo = next(c for c in dpg.get_item_children(win, 1) if dpg.get_item_type(c).endswith("mvCombo"))
    res["attach_pick_default"] = dpg.get_value(combo)
    res["shot_attach_pick"] = shot(app, out, "attach_pick")
    press_dialog_button(app, "Cancel")
    unused.attach_suggested(orph.selected())
    _idle(app, unused)
    res["attached"] = [t.file_path for t in __import__("aimms_fast.store.takes", fromlist=["x"]).takes_for_shot(
        app.project.conn, 5, "image")]
    res["orphans_before_trash"] = _lists(unused)["orphans"]
    _click_button(xi, app, orph.buttons["Move to trash"])
    res["confirm_title"] = dpg.get_item_label(app.dialogs.open[-1]) if app.dialogs.open else None
    app.settle(6)
    res["confirm_shown"] = bool(app.dialogs.open) and dpg.is_item_shown(app.dialogs.open[-1])
    res["shot_confirm"] = shot(app, out, "confirm_trash")
    press_dialog_button(app, "Move")
    _idle(app, unused)
    res["orphans_after_trash"] = _lists(unused)["orphans"]
    # Ctrl+Z (real keys) brings them back; Ctrl+Shift+Z moves them again.
    press(xi, app, "Control_L", "z")
    _idle(app, unused)
    res["orphans_after_undo"] = _lists(unused)["orphans"]
    press(xi, app, "Control_L", "Shift_L", "z")
    _idle(app, unused)
    res["orphans_after_redo"] = _lists(unused)["orphans"]
    # Empty folders of deleted shots, then the placeholders.
    unused.show_tab("empty_folders")
    unused.remove_folders(unused.lists["empty_folders"].selected_or_all())
    press_dialog_button(app, "Remove")
    _idle(app, unused)
    unused.show_tab("placeholders")
    unused.delete_placeholders(unused.lists["placeholders"].selected_or_all())
    press_dialog_button(app, "Delete")
    _idle(app, unused)
    # The trash lists what it holds; emptying removes exactly that.
    click(xi, app, *item_center(unused.tabs["trash"]))     # a real click on the tab draws its list
    app.settle(4)
    res["trash_tab_active"] = unused.lists["trash"].active and not unused.lists["placeholders"].active
    res["trash_rows"] = len(dpg.get_item_children(unused.lists["trash"].table, 1) or [])
    res["trash_listed"] = [[t["path"], t["size"]] for t in unused.lists["trash"].items]
    res["shot_trash"] = shot(app, out, "unused_trash")
    unused.empty_trash(unused.lists["trash"].selected_or_all())
    res["empty_confirm_text"] = _dialog_text(app)
    press_dialog_button(app, "Empty trash")
    _idle(app, unused)
    res["unused_after"] = _lists(unused)
    unused.show_tab("missing")
    app.settle(4)
    res["shot_unused_after"] = shot(app, out, "unused_healthy")

    # -- the Routing page has refreshed itself --
    app.show_page("routing")
    _idle(app, routing)
    dpg.set_value(routing.only_bad, False)
    routing._fill()
    app.settle(4)
    res["routing_after"] = {"summary": routing.check.summary(), "healthy": routing.check.healthy,
                            "cells": _cells(routing)}
    res["shot_routing_after"] = shot(app, out, "routing_healthy")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


def _dialog_text(app):
    import dearpygui.dearpygui as dpg
    win = app.dialogs.open[-1]
    return " ".join(dpg.get_value(c) for c in dpg.get_item_children(win, 1) or []
                    if dpg.get_item_type(c).endswith("mvText"))


@scenario
def routing_600(project, out, args):
    """600 shots: every row is in the matrix (the clipper draws the visible ones), the filter keeps
    the damaged shots, the last rows scroll into view."""
    import time

    import dearpygui.dearpygui as dpg
    out = Path(out)
    app = start_app(project, width=1400, height=900)
    routing = app.pages["routing"]
    app.show_page("routing")
    _idle(app, routing)
    res = {"rows": len(dpg.get_item_children(routing.table, 1) or []), "summary": routing.check.summary()}
    t0 = time.process_time()
    routing._fill()
    res["fill_cpu_s"] = time.process_time() - t0
    dpg.set_y_scroll(routing.table, dpg.get_y_scroll_max(routing.table) or 1e6)
    app.settle(6)
    dpg.set_y_scroll(routing.table, dpg.get_y_scroll_max(routing.table))
    app.settle(6)
    res["shot_bottom"] = shot(app, out, "routing_600_bottom")
    last = routing.cells[(routing.check.rows[-1].shot_id, "images")]
    res["last_visible"] = dpg.is_item_visible(last)
    dpg.set_value(routing.only_bad, True)
    routing._fill()
    app.settle(4)
    res["bad_rows"] = sorted({sid for sid, _c in routing.cells})
    res["shot_filtered"] = shot(app, out, "routing_600_problems")
    res["errors"] = app.errors
    app.shutdown()
    return res
