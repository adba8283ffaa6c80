"""Scenario for the ComfyUI loop (issue 11), the issue's "Done when" as a user would do it: open the
demo-like project pointed at the stand-in ComfyUI server (tests/comfy_server.py, run by the test),
go to the Inbox / Jobs page from the View menu, choose the workflow, press Q to queue every shot
without a starred take, watch the jobs finish and their takes appear, then drop a VHS pair into the
output folder by hand and see it land in the Inbox; reassign it with R."""
from __future__ import annotations

import time
from pathlib import Path

from tests.ui.scenarios import click, item_center, press, rects, scenario, shot, start_app, wait_tiles


@scenario
def comfy_done_when(project, out, args):
    import dearpygui.dearpygui as dpg
    from aimms_fast.store import comfy as S
    from aimms_fast.store.takes import takes_for_shot
    from tests.conftest import make_image, make_video
    from tests.ui.xinput import XInput
    app = start_app(project)
    xi = XInput()
    res = {}
    app.action("page:inbox")                              # View > Inbox / Jobs
    page = app.pages["inbox"]
    app.settle(3)
    res["watch_note"] = dpg.get_value(page.watch_text)
    dpg.set_value(page.jobs.path, args["workflow"])
    click(xi, app, *item_center(page.jobs.use_button))
    res["template"] = dpg.get_value(page.jobs.template_text)
    shots = [r[0] for r in app.project.conn.execute("SELECT shot_id FROM shots ORDER BY order_number")]
    res["takes_before"] = [len(takes_for_shot(app.project.conn, s, "image")) for s in shots]
    press(xi, app, "q")
    res["queued"] = len(S.list_jobs(app.project.conn))
    saw_running = app.wait_until(lambda: any(j.state == "running" for j in page.jobs.rows), timeout=20)
    res["running_status"] = dpg.get_value(app._status)
    res["shot_running"] = shot(app, out, "jobs_running") if saw_running else None
    app.wait_until(lambda: all(j.state in ("done", "failed") for j in S.list_jobs(app.project.conn)), timeout=60)
    app.settle(5)
    res["job_states"] = [j.state for j in S.list_jobs(app.project.conn)]
    res["takes_after"] = [len(takes_for_shot(app.project.conn, s, "image")) for s in shots]
    # By hand: a VHS pair for no known shot, PNG first, then the video
    outdir = Path(args["output"])
    make_image(outdir / "handmade" / "my_test_00001.png", size=(160, 90), text_chunks={"prompt": args["vhs_prompt"]})
    time.sleep(0.3)
    make_video(outdir / "handmade" / "my_test_00001.mp4", frames=12, color_seed=3)
    app.wait_until(lambda: len(page.items) == 1, timeout=30)
    app.settle(3)
    res["inbox"] = [(r.source, r.kind, r.companion is not None, r.shot_id) for r in page.items]
    res["status_with_inbox"] = dpg.get_value(app._status)
    res["shot_inbox"] = shot(app, out, "inbox_and_jobs")
    # reassign it to the third shot with one key
    dpg.set_value(page.shot_combo, page.shot_combo and dpg.get_item_configuration(page.shot_combo)["items"][2])
    press(xi, app, "r")
    app.settle(3)
    res["inbox_after"] = len(page.items)
    res["third_shot_videos"] = [(t.file_path, t.companion_path) for t in takes_for_shot(app.project.conn, shots[2], "video")]
    res["shot_after"] = shot(app, out, "after_reassign")
    app.action("page:images")
    grid = app.pages["images"].grid
    wait_tiles(app, grid)
    res["image_cards"] = [c.rel for c in grid.cards]
    res["image_rects"] = rects(grid)
    res["shot_images_page"] = shot(app, out, "images_page")
    xi.close()
    res["errors"] = app.errors
    app.shutdown()
    return res
