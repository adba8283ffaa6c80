"""Workflow PNG of each video take: status, regenerate from the video, validate, repair."""
from __future__ import annotations

import json
import struct
import zlib

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from aimms_fast.media import png_chunks
from aimms_fast.media import workflow_png as W
from aimms_fast.media.genmeta import read_generation, read_raw
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_placeholders, add_takes
from aimms_fast.store.takes import get_take
from tests.conftest import make_image, make_video
from tests.test_genmeta import _chunk, _insert_before_iend, _vhs_mp4, _wan_prompt


def status_of(project, take_id) -> W.PngStatus:
    [st] = W.check(project, [take_id])
    return st


@pytest.fixture
def shot(project):
    return add_shot(project, shot_name="Fox run", placeholders=False)


def test_statuses(project, shot, tmp_path):
    good_png = make_image(tmp_path / "a.png", size=(64, 48), text_chunks={"prompt": "{}"})
    clip_a = make_video(tmp_path / "a.mp4", frames=4, size=(64, 48))
    [with_png] = add_takes(project, shot, [clip_a], storyboard="video")  # a.png beside it comes along
    [without] = add_takes(project, shot, [make_video(tmp_path / "b" / "b.mp4", frames=4)], storyboard="video")
    [ph] = add_placeholders(project, shot, 1, storyboard="video")
    st = status_of(project, with_png)
    assert (st.status, st.reason) == (W.PRESENT, None) and st.png.endswith("video_01.png")
    assert status_of(project, without).status == W.MISSING
    ph_st = status_of(project, ph)
    assert ph_st.status == W.PLACEHOLDER and ph_st.png.endswith("video_03.png")
    # A zero-byte PNG next to a real video is missing, not a placeholder.
    project.layout.abs(st.png).write_bytes(b"")
    assert status_of(project, with_png).reason == "workflow PNG is an empty placeholder but the video is real"
    project.layout.abs(st.png).unlink()
    gone = status_of(project, with_png)
    assert gone.status == W.MISSING and "not found" in gone.reason
    data = good_png.read_bytes()
    project.layout.abs(st.png).write_bytes(data[:data.index(b"IDAT") + 10])  # cut inside IDAT
    cut = status_of(project, with_png)
    assert cut.status == W.INVALID and "truncated" in cut.reason
    project.layout.abs(st.png).write_bytes(b"hello, I am not an image\n")
    assert status_of(project, with_png).reason == "not a PNG: the file holds text data"
    assert [s.take_id for s in W.check(project)] == [with_png, without, ph]
    with pytest.raises(Exception, match="no video take"):
        W.check(project, ["not-a-take"])


def test_validate_png_checks_structure_and_pixels(tmp_path):
    good = make_image(tmp_path / "g.png", size=(40, 30), text_chunks={"prompt": '{"a": 1}'})
    assert W.validate_png(good) == (True, None)
    data = good.read_bytes()
    idat = data.index(b"IDAT")
    flipped = bytearray(data)
    flipped[idat + 6] ^= 0xFF  # pixel data changed, CRC kept
    (tmp_path / "f.png").write_bytes(bytes(flipped))
    ok, reason = W.validate_png(tmp_path / "f.png")
    assert not ok and "CRC mismatch in IDAT" in reason
    (tmp_path / "t.png").write_bytes(data + b"garbage")
    assert W.validate_png(tmp_path / "t.png") == (True, "7 stray byte(s) after IEND (harmless; --repair removes them)")
    (tmp_path / "n.png").write_bytes(data[:-12])
    assert W.validate_png(tmp_path / "n.png") == (False, "file ends without an IEND chunk (truncated)")
    # A PNG whose image data is short (rows missing) but with correct CRCs.
    img = Image.new("RGB", (40, 30), (1, 2, 3))
    raw_rows = b"".join(b"\0" + bytes(img.tobytes()[y * 120:(y + 1) * 120]) for y in range(10))  # 10 of 30
    ihdr = struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 0)
    short = png_chunks.SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw_rows)) + _chunk(b"IEND", b"")
    (tmp_path / "s.png").write_bytes(short)
    ok, reason = W.validate_png(tmp_path / "s.png")
    assert not ok and reason == "image data is short: 1210 of 3630 bytes (truncated pixels)"


def test_regenerate_missing_from_a_vhs_video(project, shot, realdata, tmp_path):
    prompt, workflow = _wan_prompt(realdata)
    clip = _vhs_mp4(tmp_path / "vhs.mp4", prompt, workflow)
    [vid] = add_takes(project, shot, [clip], storyboard="video")
    assert status_of(project, vid).status == W.MISSING
    [res] = W.regenerate(project, [vid])
    assert (res.status, res.action, res.reason) == (W.PRESENT, "regenerated", None)
    t = get_take(project.conn, vid)
    assert t.companion_path == res.png == t.file_path[:-4] + ".png"
    comp = project.conn.execute("SELECT t.take_type, f.companion_of, f.storyboard, f.take_number, f.placeholder "
                                "FROM takes t JOIN fast_takes f USING (take_id) WHERE t.file_path = ?",
                                (res.png,)).fetchone()
    assert comp == ("video_workflow", vid, "video", t.take_number, 0)
    png = project.layout.abs(res.png)
    assert W.validate_png(png) == (True, None)
    # Pixels: the video's first frame. Text: the video's prompt (encoded once) and workflow.
    with av.open(str(clip)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    with Image.open(png) as im:
        assert im.size == (64, 48)
        assert np.abs(np.asarray(im.convert("RGB"), dtype=int) - first).max() <= 2
    raw, _ = read_raw(png)
    assert json.loads(raw["prompt"]) == prompt and json.loads(raw["workflow"]) == workflow
    assert raw["aimms_fast"].startswith(f"regenerated from {t.file_path}")
    g = read_generation(png)
    assert (g.source, g.seed) == ("comfyui", 82628696717253)
    # Probed and indexed like an import.
    assert project.conn.execute("SELECT status FROM fast_media WHERE path = ?", (res.png,)).fetchone() == ("ok",)
    from aimms_fast.store.search import search
    assert [r["id"] for r in search(project.conn, "winter scenery")] == [vid]
    assert list(project.layout.media.rglob("*.aimms-partial")) == []
    assert project.conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0] == 0
    # Nothing left to do the second time.
    [again] = W.regenerate(project, [vid])
    assert again.action is None and again.status == W.PRESENT


def test_regenerate_invalid_keeps_the_original_and_handles_plain_videos(project, shot, tmp_path):
    clip = make_video(tmp_path / "p.mp4", frames=6, size=(32, 24), color_seed=2)
    make_image(tmp_path / "p.png", size=(32, 24))
    [vid] = add_takes(project, shot, [clip], storyboard="video")
    png_rel = get_take(project.conn, vid).companion_path
    project.layout.abs(png_rel).write_bytes(b"\x89PNG\r\n\x1a\n broken beyond repair")
    assert status_of(project, vid).status == W.INVALID
    [res] = W.regenerate(project, [vid])
    assert (res.status, res.png) == (W.PRESENT, png_rel)
    assert res.reason == "the video carries no workflow: the PNG holds its first frame only"
    kept = list(project.layout.replaced.rglob("video_01.png"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"\x89PNG\r\n\x1a\n broken beyond repair"
    n_rows = project.conn.execute("SELECT COUNT(*) FROM fast_takes WHERE companion_of = ?", (vid,)).fetchone()[0]
    assert n_rows == 1  # the row was reused, not duplicated
    # A placeholder video is left alone; a broken video fails cleanly with its reason.
    [ph] = add_placeholders(project, shot, 1, storyboard="video")
    assert W.regenerate(project, [ph])[0].status == W.PLACEHOLDER
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    [bv] = add_takes(project, shot, [bad], storyboard="video")
    [res] = W.regenerate(project, [bv])
    assert res.action == "failed" and res.status == W.MISSING and "cannot decode the video" in res.reason


def test_regenerate_registers_a_sound_png_that_lacks_its_row(project, shot, tmp_path):
    clip = make_video(tmp_path / "q.mp4", frames=4)
    [vid] = add_takes(project, shot, [clip], storyboard="video")
    t = get_take(project.conn, vid)
    stray = project.layout.abs(t.file_path[:-4] + ".png")
    make_image(stray, size=(160, 90), text_chunks={"workflow": '{"nodes": []}'})
    before = stray.read_bytes()
    [res] = W.regenerate(project, [vid])
    assert res.action == "registered" and stray.read_bytes() == before
    assert get_take(project.conn, vid).companion_path == t.file_path[:-4] + ".png"


def test_repair_broken_crc_and_wrong_format(project, shot, realdata, tmp_path):
    # 1) A real ComfyUI PNG with a trailing text chunk whose CRC is broken.
    src = (realdata / "comfyui/png/lora__lora_multiple.png").read_bytes()
    damaged = _insert_before_iend(src, _chunk(b"tEXt", b"note\0hand edited", crc=0x12345678))
    damaged += b"\0\0junk after the end"
    (tmp_path / "r1.png").write_bytes(damaged)
    [v1] = add_takes(project, shot, [make_video(tmp_path / "r1.mp4", frames=4)], storyboard="video")
    # 2) A JPEG saved under the .png name.
    Image.new("RGB", (48, 32), (10, 200, 30)).save(tmp_path / "as_jpeg.jpg", quality=95)
    (tmp_path / "r2.png").write_bytes((tmp_path / "as_jpeg.jpg").read_bytes())
    [v2] = add_takes(project, shot, [make_video(tmp_path / "r2.mp4", frames=4)], storyboard="video")
    # 3) Present and sound: nothing to do.
    make_image(tmp_path / "r3.png")
    [v3] = add_takes(project, shot, [make_video(tmp_path / "r3.mp4", frames=4)], storyboard="video")
    s1, s2 = status_of(project, v1), status_of(project, v2)
    assert s1.status == W.INVALID and "CRC mismatch in tEXt" in s1.reason
    assert (s2.status, s2.reason) == (W.INVALID, "not a PNG: the file holds JPEG data")

    r1, r2, r3 = W.repair(project, [v1, v2, v3])
    assert (r1.status, r1.action) == (W.PRESENT, "repaired") and "tEXt 'note'" in r1.reason
    assert (r2.status, r2.action) == (W.PRESENT, "repaired")
    assert (r3.action, r3.reason) == ("skipped", "nothing to repair")
    # Pixels and the workflow survive the rewrite.
    png1 = project.layout.abs(r1.png)
    with Image.open(png1) as a, Image.open(realdata / "comfyui/png/lora__lora_multiple.png") as b:
        assert a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b))
    g = read_generation(png1)
    assert (g.seed, g.positive, len(g.loras)) == (513173432917412, "masterpiece best quality girl", 2)
    assert "note" not in read_raw(png1)[0]
    with Image.open(project.layout.abs(r2.png)) as im:
        assert im.format == "PNG" and im.size == (48, 32)
        assert np.abs(np.asarray(im, dtype=int) - [10, 200, 30]).max() <= 3
    assert len(list(project.layout.replaced.rglob("*.png"))) == 2  # both originals kept


def test_repair_refuses_damaged_pixels(project, shot, tmp_path):
    img = make_image(tmp_path / "z.png", size=(64, 48))
    data = bytearray(img.read_bytes())
    i = data.index(b"IDAT")
    data[i + 8] ^= 0xFF  # damage the image data itself
    img.write_bytes(bytes(data))
    [v] = add_takes(project, shot, [make_video(tmp_path / "z.mp4", frames=4, size=(64, 48))], storyboard="video")
    [res] = W.repair(project, [v])
    assert res.action == "failed" and res.status == W.INVALID
    assert "regenerate it from the video instead" in res.reason
    [res] = W.regenerate(project, [v])
    assert (res.status, res.action) == (W.PRESENT, "regenerated")


def test_cli_workflow_png(project, shot, tmp_path):
    [ok_vid] = add_takes(project, shot, [make_video(tmp_path / "c1.mp4", frames=4)], storyboard="video")
    make_image(tmp_path / "c2" / "c2.png")
    [miss_vid] = add_takes(project, shot, [make_video(tmp_path / "c3.mp4", frames=4)], storyboard="video")
    root = project.root
    project.close()
    from aimms_fast.cli import cli
    r = CliRunner().invoke(cli, ["workflow-png", str(root), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["counts"] == {"present": 0, "missing": 2, "invalid": 0, "placeholder": 0}
    r = CliRunner().invoke(cli, ["workflow-png", str(root), "--regenerate"])
    assert r.exit_code == 0, r.output
    assert r.output.count("[regenerated]") == 2 and "2 present" in r.output
    r = CliRunner().invoke(cli, ["workflow-png", str(root), "--check", "--problems"])
    assert r.exit_code == 0 and "✅" not in r.output and "2 present, 0 missing" in r.output
    r = CliRunner().invoke(cli, ["workflow-png", str(root), "--repair", "--take", "nope"])
    assert r.exit_code == 1 and "no video take with id nope" in r.output
    assert ok_vid and miss_vid
