"""Import hook: every imported file is probed and its metadata read once; bad media never fails
an import; a video is opened once for both."""
from __future__ import annotations


import av

from aimms_fast.media import genmeta, ingest, probe_pool
from aimms_fast.media.probe_pool import ProbePool, probe_one
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


def counting_probe(abs_path):
    """Probe job for the open-count test (runs in a probe worker): logs every av.open."""
    import os
    real_open = av.open

    def counting_open(file, *a, **k):
        with open(os.environ["AIMMS_TEST_OPEN_LOG"], "a") as f:
            f.write(f"{file}\n")
        return real_open(file, *a, **k)
    av.open = counting_open
    try:
        return probe_one(abs_path)
    finally:
        av.open = real_open


def faulty_probe(abs_path):
    """Probe job for the fault test: hang_* never returns, crash_* dies like a segfault."""
    import os
    import signal
    import time
    name = os.path.basename(abs_path)
    if name.startswith("hang_"):
        time.sleep(3600)
    if name.startswith("crash_"):
        os.kill(os.getpid(), signal.SIGSEGV)
    return probe_one(abs_path)


def test_a_video_is_opened_once_per_import(project, realdata, tmp_path, monkeypatch):
    prompt, workflow = _wan_prompt(realdata)
    clips = [_vhs_mp4(tmp_path / f"v{i}.mp4", prompt, workflow) for i in range(3)]
    shot = add_shot(project, shot_name="Opens", placeholders=False)
    opened_here = []
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda f, *a, **k: opened_here.append(f) or real_open(f, *a, **k))
    log = tmp_path / "opens.log"
    monkeypatch.setenv("AIMMS_TEST_OPEN_LOG", str(log))
    pool = ProbePool(workers=1, job="test_ingest:counting_probe")
    monkeypatch.setattr(probe_pool, "shared_pool", lambda: pool)
    try:
        ids = add_takes(project, shot, clips, storyboard="video")
    finally:
        pool.close()
    assert opened_here == []                     # probing ran in the worker, not on this thread
    assert len(log.read_text().splitlines()) == 3  # the probe's open serves the metadata reader too
    for tid in ids:
        row = genmeta.stored(project.conn, get_take(project.conn, tid).file_path)
        assert (row["source"], row["seed"]) == ("comfyui", "82628696717253")


def test_probe_workers_time_limit_and_crash_mark_one_file(project, tmp_path):
    from PIL import Image
    rels = []
    for name in ("good_1.png", "hang_me.png", "crash_me.png", "good_2.png"):
        rel = f"media/9/{name}"
        project.layout.abs(rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 18), (1, 2, 3)).save(project.layout.abs(rel))
        rels.append(rel)
    pool = ProbePool(workers=1, time_limit=3, job="test_ingest:faulty_probe")
    try:
        report = ingest.after_import(project, rels, pool=pool)
    finally:
        pool.close()
    assert report["probed"] == 4
    rows = {r: facts(project.conn, r) for r in rels}
    assert rows["media/9/good_1.png"]["status"] == rows["media/9/good_2.png"]["status"] == "ok"
    assert rows["media/9/good_2.png"]["width"] == 32
    assert rows["media/9/hang_me.png"]["status"] == "error"
    assert "longer than 3 s" in rows["media/9/hang_me.png"]["reason"]
    assert rows["media/9/crash_me.png"]["status"] == "error"
    assert "crashed" in rows["media/9/crash_me.png"]["reason"]
    assert pool.stats["timeouts"] == 1 and pool.stats["crashes"] == 1


def test_bulk_add_probes_batches_while_copying_and_stores_all(project, tmp_path):
    from PIL import Image
    from aimms_fast.ops.takes import BATCH
    src = tmp_path / "in"
    src.mkdir()
    files = []
    for i in range(BATCH + 3):                   # two batches: the first is deferred
        files.append(src / f"img_{i:03d}.png")
        Image.new("RGB", (40, 20), (i, 0, 0)).save(files[-1])
    shot = add_shot(project, shot_name="Bulk", placeholders=False)
    ids = add_takes(project, shot, files, storyboard="image")
    assert not ingest._deferred.get(project)     # nothing left waiting
    for tid in ids:
        row = facts(project.conn, get_take(project.conn, tid).file_path)
        assert row["status"] == "ok" and row["width"] == 40


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


def test_workers_that_cannot_start_fall_back_to_probing_here(project):
    from PIL import Image
    rel = "media/9/still.png"
    project.layout.abs(rel).parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (30, 20), (9, 9, 9)).save(project.layout.abs(rel))
    pool = ProbePool(workers=1, job="no_such_module_anywhere:probe")   # dies before its hello
    try:
        report = ingest.after_import(project, [rel], pool=pool)
    finally:
        pool.close()
    assert report["probed"] == 1 and facts(project.conn, rel)["width"] == 30
    assert pool.stats["workers_started"] == 1                # no respawn storm
    assert "probe workers failed" in project.layout.log_file.read_text()
