"""The shot window plays a take on Enter and on double-click (issue 7: the player opens from any take)."""
from __future__ import annotations

from pathlib import Path

from tests.ui.scenarios import item_center_of_card, press, scenario, shot, start_app, wait_tiles


@scenario
def shot_window_plays(project, out: Path, args: dict) -> dict:
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    w = app.open_shot(g.cards[0].key, "video")
    app.settle(3)
    wait_tiles(app, w.grid)
    xi = XInput()
    res = {}
    # Double-click take 02 with the real mouse.
    x, y = item_center_of_card(w.grid, 1)
    vx, vy = dpg.get_viewport_pos()
    xi.move(vx + x, vy + y)
    app.settle(2)
    for _ in range(2):
        xi.button(True)
        app.settle(1)
        xi.button(False)
        app.settle(1)
    app.settle(4)
    players = [x for x in app.windows if x.alive and x.key_context == "player"]
    res["after_double"] = [p.take.take_id for p in players]
    res["take_ids"] = [t.take_id for t in w.takes]
    shot(app, out, "double_click_player")
    for p in players:
        p.close()
    app.settle(3)
    # Enter on the selected take (take 01) with the shot window focused.
    w.grid.select(0)
    w.focus()
    app.settle(3)
    press(xi, app, "Return")
    app.settle(3)
    players = [x for x in app.windows if x.alive and x.key_context == "player"]
    res["after_enter"] = [p.take.take_id for p in players]
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res
