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
    res["bindings"] = dpg.get_value(page.jobs.bind_text)
    # an edit naming a node the graph lacks is refused with a dialog; the saved bindings stay
    dpg.set_value(page.jobs.bind_text, "6.text=prompt, 99.seed=seed")
    page.jobs.apply_bindings()
    res["bad_binding_error"] = app.dialogs.close_top()
    dpg.set_value(page.jobs.bind_text, "6.text=prompt, 7.text=negative, 3.seed=seed, 9.filename_prefix=filename_prefix")
    page.jobs.apply_bindings()                             # without the LoRA binding: the template's LoRA stays
    res["bindings_after_edit"] = dpg.get_value(page.jobs.bind_text)
    shots = [r[0] for r in app.project.conn.execute("SELECT shot_id FROM shots ORDER BY order_number")]
    res["takes_before"] = [len(takes_for_shot(app.project.conn, s, "image")) for s in shots]
    press(xi, app, "q")
    res["queued"] = len(S.list_jobs(app.project.conn))
    saw_running = app.wait_until(lambda: any(j.state == "running" and j.progress > 0.3 for j in page.jobs.rows),
                                 timeout=20, min_frames=1)
    res["progress_shown"] = max((j.progress for j in page.jobs.rows if j.state == "running"), default=0)
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
    # A on a sure name match (auto-add is off, so it waits), I on an unknown image
    make_image(outdir / "SH05_00007_.png", size=(128, 72), color=(200, 40, 40))
    app.wait_until(lambda: len(page.items) == 1, timeout=30)
    make_image(outdir / "ComfyUI_00042_.png", size=(128, 72), color=(40, 40, 200))
    app.wait_until(lambda: len(page.items) == 2, timeout=30)
    res["inbox2"] = [(r.source, r.shot_name, r.reason, r.confident) for r in page.items]
    press(xi, app, "a")                                    # first item: SH05_00007_.png (sure) -> SH05
    press(xi, app, "i")                                    # then ComfyUI_00042_.png -> ignored
    app.settle(3)
    res["inbox2_after"] = len(page.items)
    res["sh05_images"] = len(takes_for_shot(app.project.conn, shots[4], "image"))
    res["ignored"] = [r.source for r in S.list_items(app.project.conn, states=("ignored",))]
    # J to the jobs, queue two variations of every shot again, cancel the newest (still pending)
    dpg.set_value(page.jobs.scope, "shots selected on the Shots page")
    app.pages["shots"].selected = {shots[0]}
    dpg.set_value(page.jobs.variations, 3)
    press(xi, app, "q")
    press(xi, app, "j")
    res["focus_after_tab"] = page.focus
    res["newest_job"] = page.jobs.selected().job_id
    res["newest_state"] = page.jobs.selected().state
    press(xi, app, "c")
    app.wait_until(lambda: not any(j.active for j in S.list_jobs(app.project.conn)), timeout=60)
    app.settle(3)
    res["cancelled"] = [j.job_id for j in S.list_jobs(app.project.conn, states=("cancelled",))]
    res["sh01_images"] = len(takes_for_shot(app.project.conn, shots[0], "image"))
    res["variations_text"] = dpg.get_value(page.jobs.variations)
    res["shot_cancelled"] = shot(app, out, "jobs_cancelled")
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
