"""Queueing shots to ComfyUI (issue 11) against the stand-in server (tests/comfy_server.py):
templates and bindings, the runner's progress, filing results as takes, errors, cancel/retry,
a dropped WebSocket, a restart, and the CLI."""
from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.comfy import jobs as J
from aimms_fast.comfy.client import ComfyClient, ComfyUnreachable
from aimms_fast.comfy.runner import JobRunner, results_of
from aimms_fast.comfy.template import Template, find_bindings, load_template, parse_graph, storyboard_of
from aimms_fast.demo.workflows import Generation, ui_workflow
from aimms_fast.errors import AimmsError
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes
from aimms_fast.store import comfy as S
from aimms_fast.store.takes import takes_for_shot
from tests.comfy_server import FakeComfy, image_workflow, video_workflow
from tests.conftest import make_image


@pytest.fixture
def fake(tmp_path):
    f = FakeComfy(tmp_path / "comfy_output").start()
    yield f
    f.stop()


def _template(graph) -> Template:
    g = parse_graph(graph)
    return Template("wf.json", g, find_bindings(g), storyboard_of(g))


def _shots(project, n):
    return [add_shot(project, shot_name=f"SH{i:02d}", image_prompt=f"a red fox, shot {i}", section=f"Act {1 + i % 2}",
                     image_negative="blurry", video_prompt=f"the fox runs, shot {i}", lora_1="fox_v2.safetensors:0.6",
                     placeholders=False) for i in range(1, n + 1)]


def _run(project, **kw):
    events = []
    JobRunner(project, on_event=events.append, poll_s=0.5).run(project, until_idle=True, timeout=90, **kw)
    return events


def test_bindings_found_for_common_nodes():
    g = parse_graph(image_workflow())
    found = {b.text() for b in find_bindings(g)}
    assert found == {"6.text=prompt", "7.text=negative", "3.seed=seed", "10.lora_name=lora_1",
                     "9.filename_prefix=filename_prefix"}
    assert storyboard_of(parse_graph(video_workflow())) == "video"


def test_ui_format_workflow_gets_export_hint(tmp_path):
    p = tmp_path / "ui.json"
    p.write_text(json.dumps(ui_workflow(Generation("a", "b", 1))))
    with pytest.raises(AimmsError) as e:
        load_template(p)
    assert "UI format" in str(e.value) and "Export (API)" in str(e.value) and str(p) in str(e.value)


def test_edited_binding_and_bad_binding(tmp_path):
    p = tmp_path / "wf.json"
    p.write_text(json.dumps(image_workflow()))
    t = load_template(p, bindings=["7.text=prompt"])
    assert [b.text() for b in t.bindings if b.node == "7"] == ["7.text=prompt"]
    with pytest.raises(AimmsError, match="no node '99'"):
        load_template(p, bindings=["99.text=prompt"])
    with pytest.raises(AimmsError, match="unknown field"):
        load_template(p, bindings=["6.text=colour"])


def test_five_shots_become_takes_with_their_metadata(project, fake):
    ids = _shots(project, 5)
    job_ids = J.queue_shots(project, _template(image_workflow()), ids, url=fake.url)
    events = _run(project)
    jobs = [S.get_job(project.conn, j) for j in job_ids]
    assert [j.state for j in jobs] == ["done"] * 5
    assert any(e.state == "running" and 0 < e.progress < 1 for e in events)   # progress from the WebSocket
    for sid, j in zip(ids, jobs):
        [take] = takes_for_shot(project.conn, sid, "image")
        assert j.take_ids == [take.take_id]
        assert project.layout.abs(take.file_path).stat().st_size > 0
        gen = project.conn.execute("SELECT positive, negative, seed FROM fast_gen WHERE path = ?",
                                   (take.file_path,)).fetchone()
        assert gen[0] == f"a red fox, shot {ids.index(sid) + 1}" and gen[1] == "blurry" and int(gen[2]) == j.seed
    sent = fake.prompts[0]
    assert sent["10"]["inputs"]["lora_name"] == "fox_v2.safetensors" and sent["10"]["inputs"]["strength_model"] == 0.6
    assert sent["9"]["inputs"]["filename_prefix"] == "SH01"
    # the source files stay in ComfyUI's output folder, and each is recorded once in the Inbox table
    assert len(list(fake.output.glob("SH*_00001_.png"))) == 5
    assert len(S.list_items(project.conn, states=("accepted",))) == 5


def test_video_job_files_take_with_workflow_png(project, fake):
    [sid] = _shots(project, 1)
    J.queue_shots(project, _template(video_workflow()), [sid], url=fake.url, variations=2)
    _run(project)
    takes = takes_for_shot(project.conn, sid, "video")
    assert len(takes) == 2 and all(t.file_path.endswith(".mp4") and t.companion_path for t in takes)
    assert fake.prompts[0]["6"]["inputs"]["text"] == "the fox runs, shot 1"
    assert fake.prompts[0]["3"]["inputs"]["seed"] != fake.prompts[1]["3"]["inputs"]["seed"]


def test_starred_base_images_are_uploaded_as_references(project, fake, tmp_path):
    from aimms_fast.ops.takes import toggle_star
    [sid] = _shots(project, 1)
    [tid] = add_takes(project, sid, [make_image(tmp_path / "ref.png", color=(10, 200, 10))], storyboard="image")
    toggle_star(project, tid)
    g = image_workflow()
    g["20"] = {"class_type": "LoadImage", "inputs": {"image": "placeholder.png", "upload": "image"}}
    J.queue_shots(project, _template(g), [sid], url=fake.url)
    _run(project)
    assert fake.uploads == ["aimms/base_01.png"]
    assert fake.prompts[0]["20"]["inputs"]["image"] == "aimms/base_01.png"


def test_node_errors_and_execution_errors_are_shown_per_job(project, fake):
    a, b = _shots(project, 2)
    bad = image_workflow()
    bad["6"]["inputs"]["text"] = 5            # the server's validation refuses a non-text prompt
    t = _template(bad)
    t.bindings = [x for x in t.bindings if x.field != "prompt"]
    [j1] = J.queue_shots(project, t, [a], url=fake.url)
    _run(project)
    j = S.get_job(project.conn, j1)
    assert j.state == "failed" and "Prompt outputs failed validation" in j.message
    assert "node 6 (CLIPTextEncode): Required input is missing: text" in j.message
    assert j.node_errors["6"]["class_type"] == "CLIPTextEncode"
    fake.fail_class = "VAEDecode"
    [j2] = J.queue_shots(project, _template(image_workflow()), [b], url=fake.url)
    _run(project)
    j = S.get_job(project.conn, j2)
    assert j.state == "failed" and j.message.startswith("node 8 (VAEDecode): RuntimeError: VAEDecode failed")
    assert takes_for_shot(project.conn, b, "image") == []
    fake.fail_class = None
    J.retry_job(project, j2)
    _run(project)
    assert S.get_job(project.conn, j2).state == "done" and len(takes_for_shot(project.conn, b, "image")) == 1


def test_dropped_websocket_recovers_from_history(project, fake):
    fake.drop_ws_after_progress = True
    fake.step_s = 0.3
    [sid] = _shots(project, 1)
    [jid] = J.queue_shots(project, _template(image_workflow()), [sid], url=fake.url)
    _run(project)
    assert fake.drop_ws_after_progress is False      # the drop happened mid-job
    assert S.get_job(project.conn, jid).state == "done"
    assert len(takes_for_shot(project.conn, sid, "image")) == 1


def test_cancel_pending_job_and_restart_picks_up_a_submitted_one(project, fake):
    fake.step_s = 0.4
    a, b = _shots(project, 2)
    ja, jb = J.queue_shots(project, _template(image_workflow()), [a, b], url=fake.url)
    JobRunner(project).submit_new(project)                      # submitted, then the "app" goes away
    assert S.get_job(project.conn, ja).state == "submitted"
    assert S.get_job(project.conn, jb).prompt_id in ComfyClient(fake.url).queued_ids()[1]
    J.cancel_job(project, jb)                                    # still pending in ComfyUI: deleted there
    assert S.get_job(project.conn, jb).state == "cancelled"
    _run(project)                                                # a new runner (restart) follows job a
    assert S.get_job(project.conn, ja).state == "done" and len(takes_for_shot(project.conn, a, "image")) == 1
    assert takes_for_shot(project.conn, b, "image") == [] and len(fake.history) == 1


def test_unreachable_server_is_one_clear_line(project, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ComfyUnreachable, match=f"cannot reach ComfyUI at {url}"):
        ComfyClient(url).queue()
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(image_workflow()))
    _shots(project, 1)
    root = project.root
    project.close()
    r = CliRunner().invoke(cli, ["queue", str(root), "--workflow", str(wf), "--url", url])
    assert r.exit_code == 1
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach ComfyUI at {url}")


def test_cli_queue_wait_and_jobs(project, fake, tmp_path):
    ids = _shots(project, 3)
    with project.db.conn:
        S.set_meta(project.conn, S.META_URL, fake.url)
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(image_workflow()))
    root = project.root
    project.close()
    r = CliRunner().invoke(cli, ["queue", str(root), "--workflow", str(wf), "--shots", "SH01,SH03",
                                 "--variations", "2", "--wait", "--timeout", "90"])
    assert r.exit_code == 0, r.output
    assert "4 job(s): 4 done; 4 take(s) filed" in r.output
    r = CliRunner().invoke(cli, ["jobs", str(root), "--json"])
    data = json.loads(r.output)
    assert sorted(j["shot_name"] for j in data["jobs"]) == ["SH01", "SH01", "SH03", "SH03"]
    r = CliRunner().invoke(cli, ["queue", str(root), "--wait", "--timeout", "90"])   # saved template; shots w/o star
    assert r.exit_code == 0, r.output
    assert "3 job(s): 3 done" in r.output
    r = CliRunner().invoke(cli, ["queue", str(root), "--section", "Act 2", "--json", "--wait"])
    assert r.exit_code == 0, r.output
    assert [j["shot_name"] for j in json.loads(r.output)["jobs"]] == ["SH01", "SH03"]


def test_results_of_history_outputs():
    outputs = {"9": {"gifs": [{"filename": "a_00001.mp4", "subfolder": "s", "type": "output",
                               "workflow": "a_00001.png"}]},
               "12": {"images": [{"filename": "p.png", "subfolder": "", "type": "temp"},
                                 {"filename": "b_00001_.png", "subfolder": "", "type": "output"}]}}
    got = results_of(outputs)
    assert [(m["filename"], c and c["filename"]) for m, c in got] == [("a_00001.mp4", "a_00001.png"),
                                                                      ("b_00001_.png", None)]


RUNNER_CRASH = """
import os, signal, sys
from pathlib import Path
from aimms_fast.project import Project
from aimms_fast.comfy.runner import JobRunner
import aimms_fast.ops.takes as takes

def copy_half_then_die(src, dest, **_):
    data = Path(src).read_bytes()
    with open(dest, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        os.fsync(f.fileno())
    os.kill(os.getpid(), signal.SIGKILL)
takes.copy_into = copy_half_then_die
p = Project.open(sys.argv[1])
JobRunner(p, poll_s=0.5).run(p, until_idle=True, timeout=60)
"""


def test_app_killed_while_filing_a_result_files_it_once_after_restart(project, fake):
    import subprocess
    import sys
    from pathlib import Path
    [sid] = _shots(project, 1)
    [jid] = J.queue_shots(project, _template(image_workflow()), [sid], url=fake.url)
    root = project.root
    project.close()
    r = subprocess.run([sys.executable, "-c", RUNNER_CRASH, str(root)], cwd=Path(__file__).parents[1],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr                     # SIGKILL in the middle of the copy
    from aimms_fast.project import Project
    with Project.open(root) as p:                            # recovery at open: no half take
        assert takes_for_shot(p.conn, sid, "image") == []
        assert S.get_job(p.conn, jid).state == "fetching"
        shot_dir = p.layout.shot_dir(sid)
        assert not shot_dir.exists() or list(shot_dir.iterdir()) == []
        _run(p)                                              # the restarted runner fetches again
        j = S.get_job(p.conn, jid)
        [take] = takes_for_shot(p.conn, sid, "image")
        assert j.state == "done" and j.take_ids == [take.take_id]
        assert [x.state for x in S.list_items(p.conn, states=("waiting", "importing", "accepted"))] == ["accepted"]
        assert p.layout.abs(take.file_path).read_bytes() == (fake.output / "SH01_00001_.png").read_bytes()
    assert len(fake.history) == 1                            # ComfyUI ran it once


def test_cancel_a_running_job_interrupts_comfyui(project, fake):
    import time
    fake.step_s = 0.5
    [sid] = _shots(project, 1)
    [jid] = J.queue_shots(project, _template(image_workflow()), [sid], url=fake.url)
    runner = JobRunner(project, poll_s=0.3)
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and S.get_job(project.conn, jid).state != "running":
            time.sleep(0.05)
        assert S.get_job(project.conn, jid).state == "running"
        J.cancel_job(project, jid)                                 # UI thread: POST /interrupt
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not fake.history:
            time.sleep(0.05)
        time.sleep(1.0)                                            # the runner sees the interruption
    finally:
        runner.stop()
    [h] = fake.history.values()
    assert h["status"]["status_str"] == "error" and h["status"]["messages"][-1][0] == "execution_interrupted"
    j = S.get_job(project.conn, jid)
    assert (j.state, j.message) == ("cancelled", "cancelled")     # not overwritten by the runner
    assert takes_for_shot(project.conn, sid, "image") == []


def test_a_shots_characters_add_their_prompt_fragment_and_front_image(project, fake, tmp_path):
    """Issue 12: the active version's prompt fragment follows the shot's prompt; the first reference
    slot without a starred base image gets the character's front image, uploaded like a star."""
    from aimms_fast.ops import characters as OC
    from aimms_fast.ops.takes import toggle_star
    a, b, c = _shots(project, 3)
    [tid] = add_takes(project, a, [make_image(tmp_path / "ref.png", color=(10, 200, 10))], storyboard="image")
    toggle_star(project, tid)
    OC.create(project, "Maya")
    OC.add_version(project, "Maya", "concept", prompt="old look", images={"front": make_image(tmp_path / "old.png")})
    OC.add_version(project, "Maya", "final", prompt="maya, red coat, short black hair",
                   images={"front": make_image(tmp_path / "maya.png", color=(200, 10, 10))})
    OC.set_shots(project, "Maya", [a, b])
    g = image_workflow()
    g["20"] = {"class_type": "LoadImage", "inputs": {"image": "placeholder.png", "upload": "image"}}
    g["21"] = {"class_type": "LoadImage", "inputs": {"image": "placeholder.png", "upload": "image"}}
    J.queue_shots(project, _template(g), [a, b, c], url=fake.url)
    _run(project)
    by_prefix = {p["9"]["inputs"]["filename_prefix"]: p for p in fake.prompts}
    pa, pb, pc = by_prefix["SH01"], by_prefix["SH02"], by_prefix["SH03"]
    assert pa["6"]["inputs"]["text"] == "a red fox, shot 1, maya, red coat, short black hair"
    assert pc["6"]["inputs"]["text"] == "a red fox, shot 3"                 # no character: untouched
    # SH01: slot 1 is its starred base image, slot 2 Maya's active (final) front; SH02: Maya in slot 1
    assert pa["20"]["inputs"]["image"] == "aimms/base_01.png"
    assert pa["21"]["inputs"]["image"].endswith("v02_front.png")
    assert pb["20"]["inputs"]["image"].endswith("v02_front.png") and pb["21"]["inputs"]["image"] == "placeholder.png"
    assert pc["20"]["inputs"]["image"] == pc["21"]["inputs"]["image"] == "placeholder.png"
    assert sorted(fake.uploads) == sorted(["aimms/base_01.png", pa["21"]["inputs"]["image"],
                                           pb["20"]["inputs"]["image"]])


def test_character_fragment_without_a_shot_prompt_keeps_the_templates_text():
    from aimms_fast.store.characters import Version
    t = _template(image_workflow())
    v = Version(1, "k", 1, "final", "", "maya, red coat", [], {"front": ""}, "", "")
    own = t.graph["6"]["inputs"]["text"]
    assert J.with_fragments(t, None, [v]) == f"{own}, maya, red coat"
    assert J.with_fragments(t, "a fox", []) == "a fox"
    assert J.character_refs(t, {}, [v]) == {}           # the template binds no reference slot
