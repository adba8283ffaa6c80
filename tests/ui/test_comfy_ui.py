"""The ComfyUI loop in the real app (issue 11 "Done when"), against the stand-in server."""
from __future__ import annotations

import json

from aimms_fast.ops.shots import edit_shots
from aimms_fast.project import Project
from aimms_fast.store import comfy as S
from aimms_fast.store.db import transaction
from tests.comfy_server import FakeComfy, image_workflow, video_workflow
from tests.ui.conftest import build_project, pixels, run_scenario


def test_queue_five_shots_and_inbox_in_the_app(tmp_path):
    root = build_project(tmp_path / "proj", [{"name": f"SH{i:02d}", "images": [], "videos": []} for i in range(1, 6)])
    fake = FakeComfy(tmp_path / "comfy_output").start()
    fake.step_s = 0.2                                   # slow enough to see progress on screen
    try:
        with Project.open(root) as p:
            edit_shots(p, [r[0] for r in p.conn.execute("SELECT shot_id FROM shots")], lora_1="fox_v2.safetensors")
            with transaction(p.db) as c:
                S.set_meta(c, S.META_URL, fake.url)
                S.set_meta(c, S.META_OUTPUT, str(fake.output))
        wf = tmp_path / "workflow_api.json"
        wf.write_text(json.dumps(image_workflow()))
        r = run_scenario("comfy_done_when", tmp_path, project=root,
                         args={"workflow": str(wf), "output": str(fake.output),
                               "vhs_prompt": json.dumps(video_workflow())})
        sent = list(fake.prompts)
    finally:
        fake.stop()
    # the one error shown is the refused binding edit, named with what to do
    assert r["errors"] == ["Could not use those bindings: field 'binding': binding 99.seed=seed: the workflow has "
                           "no node '99' (node ids: 3, 4, 5, 6, 7, 8, 9, 10)"]
    assert r["watch_note"] == f"Watching {fake.output}"
    assert r["template"] == ("template workflow_api.json (image workflow, 8 nodes) fills: filename_prefix, lora_1, "
                             "negative, prompt, seed")
    assert r["bindings"] == "6.text=prompt, 7.text=negative, 3.seed=seed, 10.lora_name=lora_1, 9.filename_prefix=filename_prefix"
    assert r["bad_binding_error"]
    assert r["bindings_after_edit"] == "6.text=prompt, 7.text=negative, 3.seed=seed, 9.filename_prefix=filename_prefix"
    assert {p["10"]["inputs"]["lora_name"] for p in sent} == {"style.safetensors"}   # not bound any more
    assert r["queued"] == 5 and r["takes_before"] == [0] * 5
    assert r["job_states"] == ["done"] * 5 and r["takes_after"] == [1] * 5
    assert "ComfyUI: 1 running (" in r["running_status"] and r["progress_shown"] > 0.3   # WebSocket progress
    assert r["inbox"] == [["handmade/my_test_00001.mp4", "video", True, None]]
    assert "Inbox 1" in r["status_with_inbox"]
    assert r["inbox_after"] == 0 and len(r["third_shot_videos"]) == 1 and r["third_shot_videos"][0][1]
    assert r["inbox2"] == [["SH05_00007_.png", "SH05", "name", True], ["ComfyUI_00042_.png", None, None, False]]
    assert r["inbox2_after"] == 0 and r["sh05_images"] == 2 and r["ignored"] == ["ComfyUI_00042_.png"]
    assert r["focus_after_tab"] == "jobs" and r["newest_state"] in ("new", "submitted")   # still waiting
    assert r["cancelled"] == [r["newest_job"]] and r["variations_text"] == 3   # no key went into a field and r["sh01_images"] == 3    # 1 + 2 of 3 variations
    img = pixels(r["shot_inbox"])
    assert img.std() > 10                                # a drawn page, not a blank frame
    # the new takes are on the Images storyboard with their real pictures (not the striped placeholder)
    assert [c.split("/")[-1] for c in r["image_cards"]] == ["base_01.png"] * 5
    board = pixels(r["shot_images_page"])
    for x0, y0, x1, y1 in r["image_rects"]:
        poster = board[int(y0) + 4:int(y1) - 4, int(x0) + 4:int(x1) - 4]
        assert poster.std() > 20                         # the stand-in's picture: scene + text
