"""Dialog stacking scenarios (a modal opened over another modal)."""
from __future__ import annotations

from pathlib import Path

from tests.ui.scenarios import scenario, shot, start_app


@scenario
def modal_over_modal(project, out: Path, args: dict) -> dict:
    import os
    import dearpygui.dearpygui as dpg
    os.environ["AIMMS_FILE_DIALOG"] = "builtin"
    app = start_app(project)
    res = {}
    first = app.dialogs.message("First dialog", "the dialog under the picker")
    app.settle(3)
    picked = []
    app.dialogs.pick_files("Pick a CSV", [".csv"], lambda files: picked.append(files))
    app.settle(6)
    top = app.dialogs.open[-1]
    res["open_after_picker"] = len(app.dialogs.open)
    res["picker_exists"] = dpg.does_item_exist(top)
    res["picker_shown"] = dpg.does_item_exist(top) and dpg.is_item_shown(top)
    res["first_hidden"] = dpg.does_item_exist(first) and not dpg.is_item_shown(first)
    shot(app, out, "picker_over_message")
    app.focused_window()                     # asks the picker whether it has focus (raised ImportError)
    res["key_while_picker"] = app.handle_key("Right")
    app.handle_key("Escape")                 # closes the picker only
    app.settle(6)
    res["first_back"] = dpg.does_item_exist(first) and dpg.is_item_shown(first)
    res["open_after_escape"] = len(app.dialogs.open)
    shot(app, out, "message_back")
    res["errors"] = app.errors
    app.shutdown()
    return res
