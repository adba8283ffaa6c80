"""Probe: real facts of every real file in shared/realdata, stored once, refreshed on change."""
from __future__ import annotations

import os
import shutil

import av
import numpy as np
import pytest

from aimms_fast.media.probe import (PROBE_VERSION, ensure_probed, facts, find_by_fingerprint, fingerprint,
                                    probe_file)
from tests.conftest import make_video

# What is really in each file (checked against ffprobe-equivalent PyAV reads, see README of realdata).
VIDEOS = {
    "samples/sample_1080p_23976.mp4": dict(status="ok", codec="h264", width=1920, height=1080,
                                           fps=pytest.approx(24000 / 1001, rel=1e-6), frame_count=23,
                                           keyframe_count=1, audio_streams=1, alpha=0, vfr=0,
                                           duration=pytest.approx(23 * 1001 / 24000, rel=1e-6)),
    "samples/tiny_av1.mp4": dict(status="ok", codec="av1", width=64, height=64, frame_count=1,
                                 keyframe_count=1, audio_streams=0, alpha=0),
    "samples/transparent_vp9_alpha.webm": dict(status="ok", codec="vp9", width=200, height=200, alpha=1,
                                               decoder="libvpx-vp9", pix_fmt="yuva420p", frame_count=150,
                                               keyframe_count=2, fps=pytest.approx(30.0), audio_streams=1,
                                               duration=pytest.approx(5.0)),
    "samples/chaplin.mp4": dict(status="ok", codec="h264", width=640, height=360, fps=pytest.approx(25.0),
                                frame_count=241, keyframe_count=1, audio_streams=1, vfr=0,
                                duration=pytest.approx(9.64, abs=0.01)),
    "samples/example_noaudio.mp4": dict(status="ok", codec="h264", width=640, height=480, frame_count=50,
                                        audio_streams=0, fps=pytest.approx(25.0)),
    "samples/hevc_white_frame.mp4": dict(status="ok", codec="hevc", width=640, height=480, frame_count=1),
    "samples/big_buck_bunny_432_433.webm": dict(status="ok", codec="vp8", width=1280, height=720,
                                                frame_count=24, fps=pytest.approx(24.0), audio_streams=1,
                                                duration=pytest.approx(1.0)),
    "ai_generated/animatediff__v3_animation_sunset.gif": dict(status="ok", codec="gif", width=256, height=256,
                                                              frame_count=16, alpha=0,
                                                              duration=pytest.approx(2.08)),
    "odd/-video-with-dash-.mp4": dict(status="ok", codec="h264", width=1, height=1, frame_count=5,
                                      duration=pytest.approx(5.0)),
    "odd/no_duration_mediarecorder.webm": dict(status="ok", codec="vp9", width=1280, height=720, vfr=1,
                                               frame_count=74, alpha=0, decoder=None,
                                               duration=pytest.approx(4.938, abs=0.01)),
    "odd/video_with_failing_audio.mp4": dict(status="ok", codec="h264", width=640, height=360,
                                             frame_count=280, keyframe_count=3, audio_streams=1),
    "odd/audio_only_aac_tiny.mp4": dict(status="error", reason="no video stream (1 audio stream(s))",
                                        audio_streams=1),
    "odd/empty_0_bytes.webm": dict(status="placeholder", size=0, fingerprint=None),
    "odd/truncated_header_only.mkv": dict(status="error"),
    "odd/broken.wav": dict(status="error"),
}


def test_every_real_video_is_described(realdata):
    found = sorted(p.relative_to(realdata / "video").as_posix()
                   for p in (realdata / "video").rglob("*") if p.is_file())
    assert found == sorted(VIDEOS), "a realdata video has no expectation in this test"
    for rel, want in VIDEOS.items():
        row = probe_file(realdata / "video" / rel)
        for key, value in want.items():
            assert row[key] == value, f"{rel}: {key} = {row[key]!r}, expected {value!r}"
        assert row["probe_version"] == PROBE_VERSION
        if row["status"] == "ok":
            assert row["fingerprint"] and len(row["fingerprint"]) == 32
            assert row["keyframe_interval"] == pytest.approx(row["frame_count"] / row["keyframe_count"], abs=1e-3)
            assert row["reason"] is None or "stopped" in row["reason"]
        else:
            assert row["reason"], f"{rel}: a bad file must say why"


def test_bad_video_reasons_are_specific(realdata):
    assert "truncated" in probe_file(realdata / "video/odd/truncated_header_only.mkv")["reason"]
    assert probe_file(realdata / "video/odd/empty_0_bytes.webm")["reason"].startswith("empty file")
    text_mp4 = realdata / "notes.mp4"
    text_mp4.write_text("these are my shot notes, not a video\n" * 20)
    row = probe_file(text_mp4)
    assert row["status"] == "error" and "text file" in row["reason"]
    missing = probe_file(realdata / "nope.mp4")
    assert missing["status"] == "missing" and missing["reason"] == "file not found"


def test_truncated_mp4_keeps_a_clear_status(tmp_path):
    clip = make_video(tmp_path / "full.mp4", frames=48, gop=12)
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # moov at the end (PyAV default): index lost
    row = probe_file(cut)
    assert row["status"] == "error" and "no 'moov' index" in row["reason"]
    head = tmp_path / "head.mp4"
    head.write_bytes(data[:100])
    assert probe_file(head)["status"] == "error"


def test_images_sd_metadata_and_comfyui(realdata):
    sizes = {
        "sd_metadata/AUTOMATIC1111__automatic1111_cropped.jpg": (1, 1, "RGB"),
        "sd_metadata/Fooocus__fooocus1_cropped.png": (1, 1, "RGB"),
        "sd_metadata/bad__empty_image.png": (1, 1, "1"),
        "comfyui/png/chroma__fennec_girl_hug.png": (1280, 704, "RGB"),
        "comfyui/png/2_pass_txt2img__hiresfix_latent_workflow.png": (3235, 1292, "RGBA"),
        "comfyui/png/lora__lora_multiple.png": (2324, 799, "RGB"),
        "comfyui/webp/flux__flux_kontext_example_comic.webp": (2048, 3072, "RGB"),
    }
    for rel, (w, h, mode) in sizes.items():
        row = probe_file(realdata / rel)
        assert (row["status"], row["kind"], row["width"], row["height"], row["mode"]) == ("ok", "image", w, h, mode), rel
    wan = probe_file(realdata / "comfyui/webp/wan__text_to_video_wan.webp")
    assert (wan["width"], wan["height"], wan["animated_frames"], wan["alpha"]) == (832, 480, 33, 1)
    assert probe_file(realdata / "comfyui/png/2_pass_txt2img__hiresfix_latent_workflow.png")["alpha"] == 1
    empty = probe_file(realdata / "sd_metadata/bad__empty_file.png")
    assert empty["status"] == "placeholder"
    # Every image in the metadata folders gives facts or a clear status.
    for p in list((realdata / "sd_metadata").iterdir()) + list((realdata / "comfyui").rglob("*.*")):
        row = probe_file(p)
        assert row["status"] in ("ok", "placeholder", "error")
        if row["status"] == "error":
            assert p.suffix == ".json" and "text file" in row["reason"]


def test_rotation_read_from_decoded_frames(tmp_path):
    path = tmp_path / "rot.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 64, 32, "yuv420p"
        s.set_display_rotation(90)
        for _ in range(6):
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.zeros((32, 64, 3), np.uint8), format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    row = probe_file(path)
    assert row["rotation"] == 90
    assert (row["width"], row["height"]) == (64, 32)  # coded size; the viewer rotates


def test_vfr_and_keyframes_of_a_made_clip(tmp_path):
    cfr = probe_file(make_video(tmp_path / "cfr.mp4", frames=24, gop=6))
    assert (cfr["frame_count"], cfr["keyframe_count"], cfr["vfr"]) == (24, 4, 0)
    assert cfr["fps"] == pytest.approx(24.0) and cfr["keyframe_interval"] == 6.0
    path = tmp_path / "vfr.mkv"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=1000)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        s.codec_context.time_base = __import__("fractions").Fraction(1, 1000)
        s.codec_context.options = {"bf": "0"}
        t = 0
        for i in range(12):
            f = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 20, np.uint8), format="rgb24")
            f.pts = t
            f.time_base = s.codec_context.time_base
            t += 40 if i % 2 else 100  # 25 fps and 10 fps alternating
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    vfr = probe_file(path)
    assert vfr["status"] == "ok" and vfr["vfr"] == 1 and vfr["frame_count"] == 12
    assert vfr["fps"] == pytest.approx(12 / vfr["duration"], rel=1e-3)


def test_fingerprint_reads_head_middle_tail(tmp_path):
    big = tmp_path / "big.bin"
    data = bytearray(os.urandom(1024 * 1024))
    big.write_bytes(data)
    fp = fingerprint(big)
    copy = tmp_path / "moved" / "same.bin"
    copy.parent.mkdir()
    shutil.copy(big, copy)
    assert fingerprint(copy) == fp
    data[len(data) // 2] ^= 0xFF  # the middle block is sampled
    big.write_bytes(data)
    assert fingerprint(big) != fp
    data[len(data) // 2] ^= 0xFF
    data[300 * 1024] ^= 0xFF  # outside the sampled blocks: same fingerprint (it is a fast one)
    big.write_bytes(data)
    assert fingerprint(big) == fp


def test_ensure_probed_stores_skips_and_refreshes(project, tmp_path):
    lay = project.layout
    rel_a, rel_b = "media/1/video_01.mp4", "media/1/video_02.mp4"
    make_video(lay.abs(rel_a), frames=24, gop=12)
    make_video(lay.abs(rel_b), frames=12, gop=12, color_seed=3)
    rows = ensure_probed(project, [rel_a, rel_b])
    assert [r["path"] for r in rows] == [rel_a, rel_b]
    stored = facts(project.conn, rel_a)
    assert stored["frame_count"] == 24 and stored["keyframe_count"] == 2 and stored["status"] == "ok"
    # Unchanged: not probed again (the stored row comes back as it was).
    project.conn.execute("UPDATE fast_media SET probed_at = 'sentinel' WHERE path = ?", (rel_a,))
    assert ensure_probed(project, [rel_a])[0]["probed_at"] == "sentinel"
    # Changed content: probed again.
    make_video(lay.abs(rel_a).with_name("tmp.mp4"), frames=36, gop=12)
    os.replace(lay.abs(rel_a).with_name("tmp.mp4"), lay.abs(rel_a))
    again = ensure_probed(project, [rel_a])[0]
    assert again["frame_count"] == 36 and again["probed_at"] != "sentinel"
    assert facts(project.conn, rel_a)["frame_count"] == 36
    # force=True probes even unchanged files.
    project.conn.execute("UPDATE fast_media SET probed_at = 'sentinel' WHERE path = ?", (rel_b,))
    assert ensure_probed(project, [rel_b], force=True)[0]["probed_at"] != "sentinel"
    # A moved file: its old row says missing and keeps the fingerprint, which finds the new place.
    fp = facts(project.conn, rel_b)["fingerprint"]
    new_rel = "media/2/video_01.mp4"
    lay.abs(new_rel).parent.mkdir(parents=True)
    shutil.move(lay.abs(rel_b), lay.abs(new_rel))
    gone = ensure_probed(project, [rel_b])[0]
    assert gone["status"] == "missing" and gone["fingerprint"] == fp and gone["frame_count"] == 12
    ensure_probed(project, [new_rel])
    assert sorted(find_by_fingerprint(project.conn, fp)) == sorted([rel_b, new_rel])
    assert facts(project.conn, "media/9/none.mp4") is None


def test_cli_probe(realdata, tmp_path):
    from click.testing import CliRunner
    from aimms_fast.cli import cli
    import json
    r = CliRunner().invoke(cli, ["probe", str(realdata / "video/samples/tiny_av1.mp4"), "--json"])
    assert r.exit_code == 0, r.output
    row = json.loads(r.output)[0]
    assert (row["codec"], row["width"], row["height"]) == ("av1", 64, 64)
    r = CliRunner().invoke(cli, ["probe", str(realdata / "video/odd/audio_only_aac_tiny.mp4")])
    assert r.exit_code == 1 and "no video stream" in r.output


def test_huge_declared_images_are_not_decoded(tmp_path):
    import struct
    import zlib

    def png(w, h):
        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    (tmp_path / "bomb.png").write_bytes(png(20000, 20000))  # 400 MP: Pillow refuses to open it
    row = probe_file(tmp_path / "bomb.png")
    assert row["status"] == "error" and row["reason"].startswith("image too large to decode safely")
    (tmp_path / "big.png").write_bytes(png(10000, 10000))  # 100 MP: opens with a warning
    row = probe_file(tmp_path / "big.png")
    assert (row["status"], row["width"], row["height"]) == ("ok", 10000, 10000)
    assert row["reason"].startswith("very large image (10000x10000 pixels")


def test_images_whose_name_lies(tmp_path):
    from PIL import Image
    from tests.conftest import make_video
    Image.new("RGB", (8, 6)).save(tmp_path / "photo.jpg")
    (tmp_path / "photo.png").write_bytes((tmp_path / "photo.jpg").read_bytes())
    row = probe_file(tmp_path / "photo.png")
    assert (row["status"], row["container"], row["reason"]) == ("ok", "jpeg", "JPEG data in a .png file")
    assert probe_file(tmp_path / "photo.jpg")["reason"] is None
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    (tmp_path / "clip.png").write_bytes(clip.read_bytes())
    assert probe_file(tmp_path / "clip.png")["reason"] == "the file holds MP4/MOV data, not an image"


def test_videos_whose_name_lies(tmp_path):
    """.mp4/.mov files are opened with the MP4 demuxer named (no detection); one that holds
    something else is opened again with detection and probes as it does under its true name."""
    webm = make_video(tmp_path / "true.webm", frames=6, codec="libvpx")
    mkv = tmp_path / "true.mkv"
    with av.open(str(webm)) as src, av.open(str(mkv), "w") as dst:   # same packets, Matroska
        s = dst.add_stream_from_template(src.streams.video[0])
        for pkt in src.demux(src.streams.video[0]):
            if pkt.dts is not None:
                pkt.stream = s
                dst.mux(pkt)
    for true, liar in ((webm, "webm_named.mp4"), (mkv, "mkv_named.mov")):
        (tmp_path / liar).write_bytes(true.read_bytes())
        want, got = probe_file(true), probe_file(tmp_path / liar)
        assert (got["status"], got["codec"], got["container"]) == ("ok", "vp8", "matroska"), liar
        same = ("codec", "width", "height", "frame_count", "keyframe_count", "fps", "duration")
        assert {k: got[k] for k in same} == {k: want[k] for k in same}, liar


def test_first_keyframe_that_gives_nothing_resets_the_decoder(tmp_path):
    """The probe drains the first keyframe at once; when even the drain gives no frame, the real
    decoder (now at end of stream) is reset and the following packets still find one."""
    from aimms_fast.media.probe import _FirstFrame
    clip = make_video(tmp_path / "c.mp4", frames=24, gop=12)

    class FirstKeyframeGivesNothing:          # the real stream; its first keyframe's output is lost
        def __init__(self, vs):
            self.vs, self.codec_context, self.calls = vs, vs.codec_context, 0

        def decode(self, pkt):
            self.calls += 1
            out = self.vs.decode(pkt)
            return [] if self.calls <= 2 else out   # the keyframe packet and its drain

    with av.open(str(clip)) as c:
        vs = c.streams.video[0]
        vs.codec_context.thread_count = 1
        proxy = FirstKeyframeGivesNothing(vs)
        first = _FirstFrame(proxy, None)
        for pkt in c.demux(vs):               # what _FirstFrame.run does, with the proxy
            if pkt.size:
                first.feed(pkt)
                if first.done:
                    break
        first.finish()
    assert proxy.calls > 2 and first.frame is not None and first.error is None


@pytest.mark.parametrize("codec,decoder", [("libvpx-vp9", "libvpx-vp9"), ("libvpx", "libvpx")])
def test_vp8_vp9_alpha_needs_libvpx(tmp_path, codec, decoder):
    path = tmp_path / "alpha.webm"
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=10)
        s.width, s.height, s.pix_fmt, s.bit_rate = 32, 32, "yuva420p", 200_000
        if codec == "libvpx":
            s.codec_context.options = {"auto-alt-ref": "0"}  # VP8 alt-ref frames cannot carry alpha
        for _ in range(5):
            rgba = np.zeros((32, 32, 4), np.uint8)
            rgba[..., 0], rgba[..., 3] = 200, 128
            for pkt in s.encode(av.VideoFrame.from_ndarray(rgba, format="rgba")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    row = probe_file(path)
    assert (row["alpha"], row["decoder"], row["pix_fmt"], row["frame_count"]) == (1, decoder, "yuva420p", 5)
    opaque = probe_file(make_video(tmp_path / "opaque.webm", frames=5, codec="libvpx-vp9"))
    assert (opaque["alpha"], opaque["decoder"], opaque["codec"]) == (0, None, "vp9")
