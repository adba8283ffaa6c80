"""Import hook: every imported file is probed and its metadata read once; bad media never fails
an import; a video is opened once for both."""
from __future__ import annotations


import av

from aimms_fast.media import genmeta, ingest
from aimms_fast.media.probe import facts
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes, replace_take
from aimms_fast.project import Project
from aimms_fast.store.takes import get_take
from tests.test_genmeta import _vhs_mp4, _wan_prompt


def test_import_probes_and_reads_every_real_file(project, realdata):
    shot = add_shot(project, shot_name="Real files", placeholders=False)
    videos = sorted(p for p in (realdata / "video").rglob("*") if p.suffix in (".mp4", ".webm", ".mkv", ".gif"))
    vids = add_takes(project, shot, videos, storyboard="video")  # bad ones included: never raises
    images = sorted(p for p in (realdata / "comfyui").rglob("*") if p.suffix in (".png", ".webp")) + \
        sorted(p for p in (realdata / "sd_metadata").iterdir() if p.suffix in (".png", ".jpg"))
    imgs = add_takes(project, shot, images, storyboard="image")
    by_src = {}
    for tid, src in zip(vids + imgs, videos + images):
        rel = get_take(project.conn, tid).file_path
        row = facts(project.conn, rel)
        assert row is not None, src
        by_src[src.name] = (row, genmeta.stored(project.conn, rel))
    assert by_src["sample_1080p_23976.mp4"][0]["width"] == 1920
    assert by_src["audio_only_aac_tiny.mp4"][0]["reason"] == "no video stream (1 audio stream(s))"
    assert by_src["empty_0_bytes.webm"][0]["status"] == "placeholder"
    assert by_src["truncated_header_only.mkv"][0]["status"] == "error"
    assert by_src["transparent_vp9_alpha.webm"][0]["alpha"] == 1
    lora = by_src["lora__lora_multiple.png"][1]
    assert (lora["source"], lora["seed"], lora["model"]) == ("comfyui", "513173432917412", "v1-5-pruned-emaonly.ckpt")
    assert by_src["wan__text_to_video_wan.webp"][1]["positive"].startswith("a fox moving quickly")
    assert by_src["AUTOMATIC1111__automatic1111_cropped.jpg"][1]["source"] == "a1111"
    assert by_src["controlnet__input_scribble_example.png"][1]["source"] == "none"
    assert by_src["bad__empty_file.png"][1] is None  # placeholder: nothing to read
    # Problems went to the project log, one line per file.
    log = project.layout.log_file.read_text()
    assert "media problem: " in log and "no video stream" in log


def test_a_video_is_opened_once_per_import(project, realdata, tmp_path, monkeypatch):
    prompt, workflow = _wan_prompt(realdata)
    clips = [_vhs_mp4(tmp_path / f"v{i}.mp4", prompt, workflow) for i in range(3)]
    shot = add_shot(project, shot_name="Opens", placeholders=False)
    opened = []
    real_open = av.open

    def counting_open(file, *a, **k):
        opened.append(str(file))
        return real_open(file, *a, **k)
    monkeypatch.setattr(av, "open", counting_open)
    ids = add_takes(project, shot, clips, storyboard="video")
    assert len(opened) == 3  # the probe's open serves the metadata reader too
    for tid in ids:
        row = genmeta.stored(project.conn, get_take(project.conn, tid).file_path)
        assert (row["source"], row["seed"]) == ("comfyui", "82628696717253")


def test_hook_never_raises(project, tmp_path, monkeypatch):
    shot = add_shot(project, shot_name="Robust", placeholders=False)
    from tests.conftest import make_video

    def boom(*a, **k):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(ingest, "ensure_gen", boom)
    [tid] = add_takes(project, shot, [make_video(tmp_path / "x.mp4", frames=4)], storyboard="video")
    rel = get_take(project.conn, tid).file_path
    assert facts(project.conn, rel)["status"] == "ok"  # the probe still landed
    assert "reading generation metadata of imported files failed" in project.layout.log_file.read_text()
    report = ingest.after_import(project, ["media/404/none.mp4"])
    assert report["probed"] == 1 and facts(project.conn, "media/404/none.mp4")["status"] == "missing"
    monkeypatch.setattr(ingest, "ensure_probed", boom)
    assert ingest.after_import(project, [rel]) == {"probed": 0, "errors": [], "with_metadata": 0}


def test_replace_take_reprobes(project, tmp_path):
    from tests.conftest import make_video
    shot = add_shot(project, shot_name="Replace", placeholders=False)
    [tid] = add_takes(project, shot, [make_video(tmp_path / "a.mp4", frames=12)], storyboard="video")
    rel = get_take(project.conn, tid).file_path
    assert facts(project.conn, rel)["frame_count"] == 12
    replace_take(project, tid, make_video(tmp_path / "b" / "a.mp4", frames=30))
    assert facts(project.conn, get_take(project.conn, tid).file_path)["frame_count"] == 30


def test_read_only_project_is_left_alone(project, tmp_path):
    from tests.conftest import make_video
    rel = "media/1/video_01.mp4"
    make_video(project.layout.abs(rel), frames=4)
    ro = Project.open(project.root)
    try:
        assert ro.readonly
        assert ingest.after_import(ro, [rel]) == {"probed": 0, "errors": [], "with_metadata": 0}
    finally:
        ro.close()
    assert facts(project.conn, rel) is None
