"""Scenario for the column-mapping dialog (issue 12, item 1): File > Import CSV… with another
tool's shot list opens it; a user changes targets with the combos, sees a blocking problem, saves
a preset, imports with a real click; the preset comes back for the same tool's next file; an LLM
answer shows its left-out lines; an AIMMS CSV still takes the usual path. Run by
tests/ui/test_csv_map_ui.py."""
from __future__ import annotations

from pathlib import Path

from tests.ui.scenarios import click, item_center, scenario, shot, start_app


def _texts(item) -> list[str]:
    import dearpygui.dearpygui as dpg
    out = []
    for child in dpg.get_item_children(item, 1) or []:
        if dpg.get_item_type(child).endswith("mvText"):
            out.append(dpg.get_value(child))
        out.extend(_texts(child))
    return out


def _rows(d) -> list[list[str]]:
    import dearpygui.dearpygui as dpg
    rows = []
    for r in dpg.get_item_children(d.table, 1) or []:
        cells = []
        for c in dpg.get_item_children(r, 1) or []:
            cells.append(dpg.get_value(c))
        rows.append(cells)
    return rows


def _pick(d, label: str, value: str) -> None:
    """What choosing `value` in the row's combo does: Dear PyGui calls the combo's callback."""
    import dearpygui.dearpygui as dpg
    i = next(c.index for c in d.plan.columns if c.label == label)
    combo = d.combos[i]
    dpg.set_value(combo, value)
    dpg.get_item_callback(combo)(combo, value, dpg.get_item_user_data(combo))


@scenario
def csv_map_dialog(project, out, args):
    import dearpygui.dearpygui as dpg
    from aimms_fast.store.shots import list_shots
    from aimms_fast.ui import csv_map_dialog as D
    from aimms_fast.ui.menus import import_csv_flow
    from tests.ui.xinput import XInput
    app = start_app(project, width=1400, height=900)
    app.show_page("shots")
    app.settle(3)
    res = {}
    import_csv_flow(app, Path(args["studiobinder"]))
    app.settle(4)
    d = D.last_opened
    res["opened"] = d is not None and d.win in app.dialogs.open
    res["title"] = dpg.get_item_label(d.win)
    res["summary"] = dpg.get_value(d.summary)
    res["rows"] = _rows(d)
    res["lines"] = _texts(d.lines_box)
    res["button"] = dpg.get_item_label(d.import_button)
    res["shot_studiobinder"] = shot(app, out, "map_studiobinder")
    _pick(d, "Notes", D.DROP)
    _pick(d, "Shot", D.DROP)
    app.settle(3)
    res["problem"] = dpg.get_value(d.problem_text)
    res["button_blocked"] = [dpg.get_item_label(d.import_button), dpg.get_item_configuration(d.import_button)["enabled"]]
    res["shot_problem"] = shot(app, out, "map_problem")
    _pick(d, "Shot", "shot_name")
    app.settle(2)
    res["problem_after"] = dpg.get_value(d.problem_text)
    res["why_shot"] = next(r[4] for r in _rows(d) if r[0] == "Shot")
    dpg.set_value(d.preset_name, "StudioBinder")
    d.save_preset(dpg.get_value(d.preset_name))
    app.settle(2)
    xi = XInput()
    click(xi, app, *item_center(d.import_button))          # a real click on "Import 5 shots"
    xi.close()
    app.wait_until(lambda: d.result is not None, timeout=60)
    app.settle(3)
    res["done_title"] = dpg.get_item_label(app.dialogs.open[-1]) if app.dialogs.open else None
    res["shots"] = [(r["shot_name"], r["section"], r["location"], r["description"])
                    for r in list_shots(app.project.conn)]
    res["undo"] = app._peek("undo")
    app.dialogs.close_top()
    app.settle(2)
    # the same tool's next file: the preset is applied on its own
    import_csv_flow(app, Path(args["studiobinder"]))
    app.settle(3)
    d2 = D.last_opened
    res["second_preset"] = d2.plan.preset
    res["second_notes_target"] = next(c.target for c in d2.plan.columns if c.label == "Notes")
    d2.close()
    app.settle(2)
    # Celtx: shot numbers restart per scene, so names are proposed as "<Scene #>-<Shot #>"
    import_csv_flow(app, Path(args["celtx"]))
    app.settle(3)
    d4 = D.last_opened
    res["celtx_prefix"] = dpg.get_value(d4.prefix_combo)
    res["celtx_prefix_items"] = dpg.get_item_configuration(d4.prefix_combo)["items"][:3]
    res["shot_celtx"] = shot(app, out, "map_celtx")
    value = res["celtx_prefix_items"][0]
    dpg.set_value(d4.prefix_combo, value)
    dpg.get_item_callback(d4.prefix_combo)(d4.prefix_combo, value, None)
    res["celtx_prefix_off"] = d4.plan.name_prefix
    d4.close()
    app.settle(2)
    # an LLM answer: the left-out lines, with reasons
    import_csv_flow(app, Path(args["llm"]))
    app.settle(4)
    d3 = D.last_opened
    res["llm_summary"] = dpg.get_value(d3.summary)
    res["llm_lines"] = _texts(d3.lines_box)
    res["shot_llm"] = shot(app, out, "map_llm")
    d3.close()
    app.settle(2)
    # a chat answer with no table at all: said plainly
    import_csv_flow(app, Path(args["prose"]))
    app.settle(3)
    res["prose_title"] = dpg.get_item_label(app.dialogs.open[-1]) if app.dialogs.open else None
    app.dialogs.close_top()
    app.settle(2)
    # an AIMMS CSV: the usual confirmation, no mapping dialog
    import_csv_flow(app, Path(args["aimms"]))
    app.settle(3)
    res["aimms_same_dialog"] = D.last_opened is d3
    res["aimms_title"] = dpg.get_item_label(app.dialogs.open[-1]) if app.dialogs.open else None
    res["errors"] = app.errors
    app.shutdown()
    return res
