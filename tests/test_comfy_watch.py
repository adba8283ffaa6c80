"""The output-folder watcher and the Inbox (issue 11) on a real folder with real timing: a VHS
pair written slowly is filed once and complete, unknown outputs wait in the Inbox, a crash mid-import
leaves no half take, and a watcher started late catches up."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.comfy import inbox as I
from aimms_fast.comfy.matcher import by_name, match
from aimms_fast.comfy.watcher import Watcher
from aimms_fast.ops.shots import add_shot
from aimms_fast.project import Project
from aimms_fast.store import comfy as S
from aimms_fast.store.takes import takes_for_shot
from tests.comfy_server import image_workflow, video_workflow
from tests.conftest import make_image, make_video

SHOTS = [(1, "SH01", "a red fox", ""), (2, "Forest Run", "", "the fox runs"), (3, "SH010", "owl", "")]


def test_matcher_rules():
    assert by_name("SH01_00001_.png", SHOTS).shot_id == 1 and by_name("SH01_00001_.png", SHOTS).confident
    assert by_name("SH010_00002.mp4", SHOTS).shot_id == 3
    assert by_name("Forest Run/ComfyUI_00001_.png", SHOTS).confident           # subfolder = shot name
    m = by_name("take_SH01_final_00003_.png", SHOTS)
    assert m.shot_id == 1 and not m.confident                                    # inside a longer name
    assert by_name("ComfyUI_00001_.png", SHOTS).shot_id is None
    raw = {"prompt": json.dumps({"6": {"class_type": "CLIPTextEncode", "inputs": {"text": " the  fox runs"}},
                                 "3": {"class_type": "KSampler", "inputs": {"positive": ["6", 0], "seed": 1}}})}
    m = match("ComfyUI_00001_.png", raw, SHOTS)
    assert (m.shot_id, m.reason, m.confident) == (2, "prompt", True)
    m = match("x_00001_.png", {"aimms_job": "J1"}, SHOTS, job_shot=lambda j: 3 if j == "J1" else None)
    assert (m.shot_id, m.reason, m.job_id) == (3, "job", "J1")


@pytest.fixture
def out(tmp_path):
    d = tmp_path / "comfy_output"
    d.mkdir()
    return d


@pytest.fixture
def shots(project, out):
    with project.db.conn:
        S.set_meta(project.conn, S.META_OUTPUT, str(out))
    return [add_shot(project, shot_name=n, image_prompt=ip, video_prompt=vp, placeholders=False)
            for _i, n, ip, vp in SHOTS]


def _vhs_chunks() -> dict:
    return {"prompt": json.dumps(video_workflow()), "workflow": "{}"}


def test_vhs_pair_written_slowly_is_filed_once_complete(project, shots, out, tmp_path):
    I.set_auto(project, True)
    src = make_video(tmp_path / "made" / "clip.mp4", frames=48, size=(160, 90))
    data = src.read_bytes()
    events = []
    w = Watcher(project, out, settle_s=0.6, on_event=events.append)
    w.start()
    try:
        make_image(out / "SH01_00001.png", text_chunks=_vhs_chunks())     # VHS: first-frame PNG first
        target = out / "SH01_00001.mp4"
        with open(target, "wb") as f:                                       # then the video, over 2 s
            for i in range(8):
                f.write(data[i * len(data) // 8:(i + 1) * len(data) // 8])
                f.flush()
                time.sleep(0.25)
                assert S.list_items(project.conn, states=("waiting", "importing", "accepted")) == []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not events:
            time.sleep(0.1)
        time.sleep(1.5)                                                     # any second filing would show now
    finally:
        w.stop()
    assert [(e.source, e.state, e.shot_id, e.reason) for e in events] == [("SH01_00001.mp4", "accepted", shots[0], "name")]
    [take] = takes_for_shot(project.conn, shots[0], "video")
    assert project.layout.abs(take.file_path).read_bytes() == data          # complete, not a prefix
    assert take.companion_path and project.layout.abs(take.companion_path).read_bytes() == (out / "SH01_00001.png").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["SH01_00001.mp4", "SH01_00001.png"]   # source untouched


def test_unknown_output_waits_in_the_inbox_then_reassign_and_ignore(project, shots, out):
    make_image(out / "ComfyUI_00001_.png", text_chunks={"prompt": json.dumps(image_workflow())})
    make_image(out / "ComfyUI_00002_.png", color=(0, 0, 200))
    make_image(out / "SH010_00001_.png")
    I.set_auto(project, False)
    events = Watcher(project, out, settle_s=0.2).run_once(project, max_wait_s=10)
    assert sorted((e.source, e.state, e.shot_id) for e in events) == [
        ("ComfyUI_00001_.png", "waiting", None), ("ComfyUI_00002_.png", "waiting", None),
        ("SH010_00001_.png", "waiting", shots[2])]                           # auto off: confident waits too
    root = project.root
    project.close()
    r = CliRunner().invoke(cli, ["inbox", str(root)])
    assert "3 item(s) waiting" in r.output and "(no shot matched)" in r.output and "-> SH010 (name, sure)" in r.output
    items = {Path(x["source"]).name: x["item_id"] for x in json.loads(CliRunner().invoke(cli, ["inbox", str(root), "--json"]).output)["items"]}
    r = CliRunner().invoke(cli, ["inbox", str(root), "--accept", str(items["ComfyUI_00001_.png"]), "--shot", "Forest Run"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["inbox", str(root), "--ignore", str(items["ComfyUI_00002_.png"])])
    r = CliRunner().invoke(cli, ["inbox", str(root), "--accept", str(items["SH010_00001_.png"])])
    assert "the Inbox is empty" in r.output
    with Project.open(root) as p:
        assert len(takes_for_shot(p.conn, shots[1], "image")) == 1 and len(takes_for_shot(p.conn, shots[2], "image")) == 1
        assert [r.source for r in S.list_items(p.conn, states=("ignored",))] == ["ComfyUI_00002_.png"]
        # nothing is offered twice
        assert Watcher(p, out, settle_s=0.1).run_once(p, max_wait_s=5) == []


CRASH_CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from aimms_fast.project import Project
    from aimms_fast.comfy.watcher import Watcher
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
    Watcher(p, Path(sys.argv[2]), auto=True, settle_s=0.1).run_once(p, max_wait_s=10)
""")


def test_crash_mid_import_leaves_no_half_take(project, shots, out, tmp_path):
    clip = make_video(out / "SH01_00001.mp4", frames=24)
    make_image(out / "SH01_00001.png", text_chunks=_vhs_chunks())
    root = project.root
    project.close()
    r = subprocess.run([sys.executable, "-c", CRASH_CHILD, str(root), str(out)], cwd=Path(__file__).parents[1],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr                                      # SIGKILL mid-copy
    with Project.open(root) as p:                                             # recovery at open
        assert takes_for_shot(p.conn, shots[0], "video") == []
        shot_dir = p.layout.shot_dir(shots[0])
        assert not shot_dir.exists() or list(shot_dir.iterdir()) == []        # no half file, no temp file
        assert Watcher(p, out, auto=True, settle_s=0.1).run_once(p, max_wait_s=5) == []
        [row] = S.list_items(p.conn)
        assert row.state == "waiting" and "interrupted" in row.message
        filed = I.accept(p, row.item_id)
        [take] = takes_for_shot(p.conn, shots[0], "video")
        assert filed.take_ids == [take.take_id]
        assert p.layout.abs(take.file_path).read_bytes() == clip.read_bytes()


def test_restart_catches_up_by_mtime(project, shots, out):
    I.set_auto(project, True)
    old = make_image(out / "SH01_00001_.png")
    first = Watcher(project, out, settle_s=0.1).run_once(project, max_wait_s=5)
    assert [(e.source, e.state) for e in first] == [("SH01_00001_.png", "accepted")]
    # while no watcher runs: one new output, and one old file copied in with its old mtime kept
    make_image(out / "Forest Run" / "Forest Run_00001_.png")
    stale = make_image(out / "SH010_00009_.png")
    past = old.stat().st_mtime - 3600
    os.utime(stale, (past, past))
    again = Watcher(project, out, settle_s=0.1).run_once(project, max_wait_s=5)
    assert [(e.source, e.state, e.shot_id) for e in again] == [("Forest Run/Forest Run_00001_.png", "accepted", shots[1])]
    assert len(takes_for_shot(project.conn, shots[0], "image")) == 1


def test_watch_cli_once_auto(project, shots, out):
    make_image(out / "SH01_00001_.png")
    root = project.root
    project.close()
    r = CliRunner().invoke(cli, ["watch", str(root), "--once", "--auto", "--settle", "0.1"])
    assert r.exit_code == 0, r.output
    assert "accepted  SH01_00001_.png -> shot 1 (name)" in r.output and "1 filed, 0 in the Inbox" in r.output
    r = CliRunner().invoke(cli, ["watch", str(root), "--once", "--folder", str(out / "nope")])
    assert r.exit_code == 1 and "does not exist" in r.output


def test_vhs_with_audio_waits_for_the_muxed_file_and_job_results_are_left_to_the_runner(project, shots, out, tmp_path):
    from aimms_fast.comfy import jobs as J
    from aimms_fast.comfy.template import Template, find_bindings, parse_graph, storyboard_of
    I.set_auto(project, True)
    g = video_workflow()
    g["30"] = {"class_type": "LoadAudio", "inputs": {"audio": "x.wav"}}
    g["9"]["inputs"]["audio"] = ["30", 0]
    make_image(out / "SH01_00001.png", text_chunks={"prompt": json.dumps(g)})
    make_video(out / "SH01_00001.mp4", frames=12)
    w = Watcher(project, out, settle_s=0.1, pair_timeout_s=30)
    assert w.run_once(project, max_wait_s=1.0) == []                  # waits for SH01_00001-audio.mp4
    make_video(out / "SH01_00001-audio.mp4", frames=12, color_seed=2)
    [ev] = w.run_once(project, max_wait_s=5)
    assert (ev.source, ev.state) == ("SH01_00001-audio.mp4", "accepted")
    [take] = takes_for_shot(project.conn, shots[0], "video")
    assert take.file_path.endswith(".mp4") and take.companion_path
    # an output carrying the id of a job still running is the runner's to file, not the watcher's
    gr = parse_graph(video_workflow())
    [jid] = J.queue_shots(project, Template("wf", gr, find_bindings(gr), storyboard_of(gr)), [shots[1]],
                          url="http://127.0.0.1:1")
    make_image(out / "SH010_00001_.png", text_chunks={"aimms_job": json.dumps(jid)})
    assert Watcher(project, out, settle_s=0.1).run_once(project, max_wait_s=1.0) == []
    assert S.known_sources(project.conn, ["SH010_00001_.png"]) == set()


def test_a_paused_writer_is_not_mistaken_for_a_finished_file(project, shots, out, tmp_path):
    """Size-stable for longer than settle_s but cut short (ffmpeg writes the MP4 index last):
    not filed until the rest arrives."""
    from aimms_fast.comfy.complete import looks_complete
    I.set_auto(project, True)
    data = make_video(tmp_path / "full.mp4", frames=24).read_bytes()
    png = make_image(tmp_path / "full.png")
    assert looks_complete(tmp_path / "full.mp4") and looks_complete(png)
    cut = out / "SH01_00001_.png"
    cut.write_bytes(png.read_bytes()[:-12])
    (out / "SH010_00001.mp4").write_bytes(data[: len(data) - 300])
    assert not looks_complete(cut) and not looks_complete(out / "SH010_00001.mp4")
    w = Watcher(project, out, settle_s=0.1, pair_timeout_s=30)
    assert w.run_once(project, max_wait_s=1.0) == []
    cut.write_bytes(png.read_bytes())
    (out / "SH010_00001.mp4").write_bytes(data)
    got = w.run_once(project, max_wait_s=5)
    assert sorted((e.source, e.state) for e in got) == [("SH010_00001.mp4", "accepted"), ("SH01_00001_.png", "accepted")]


def test_watch_cli_live_until_sigterm(project, shots, out):
    """`aimms watch PATH --auto`: watchdog events while it runs, then a clean stop on SIGTERM."""
    import signal
    root = project.root
    project.close()
    proc = subprocess.Popen([sys.executable, "-m", "aimms_fast", "watch", str(root), "--auto", "--settle", "0.2"],
                            cwd=Path(__file__).parents[1], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()                       # "watching … (Ctrl+C to stop)": observer is up
        assert line.startswith(f"watching {out}")
        make_image(out / "Forest Run" / "shot_00001_.png")
        got = proc.stdout.readline()
        assert got.startswith("accepted  Forest Run/shot_00001_.png -> shot 2 (name)")
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "1 filed, 0 in the Inbox" in rest
    with Project.open(root) as p:
        assert len(takes_for_shot(p.conn, shots[1], "image")) == 1
