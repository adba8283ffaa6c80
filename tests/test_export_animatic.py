"""Animatic MP4: cut timing, the picture at every cut, sound where a clip had sound, burn-in,
letterboxing, cancel. Clips are real H.264/AAC files made with PyAV, each a distinct flat colour."""
from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from aimms_fast.errors import AimmsError
from aimms_fast.export.animatic import cut_frames, render_animatic, timecode
from aimms_fast.export.timeline import Cut, CutClip


def make_clip(path: Path, rgb, *, seconds: float, fps: int = 24, size=(320, 180), tone: float | None = None
              ) -> Path:
    """A flat-colour H.264 clip; with `tone` Hz, an AAC sine track of the same length."""
    w, h = size
    n = round(seconds * fps)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.codec_context.options = {"preset": "ultrafast"}
        aus = None
        if tone:
            aus = c.add_stream("aac", rate=44100, layout="mono")
        img = np.zeros((h, w, 3), np.uint8)
        img[:] = rgb
        for i in range(n):
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if aus is not None:
            total = round(seconds * 44100)
            t = np.arange(total) / 44100.0
            wave = (0.5 * np.sin(2 * np.pi * tone * t)).astype(np.float32)
            for i in range(0, total, 1024):
                f = av.AudioFrame.from_ndarray(wave[None, i:i + 1024], format="flt", layout="mono")
                f.sample_rate = 44100
                f.pts = i
                for p in aus.encode(f):
                    c.mux(p)
            for p in aus.encode():
                c.mux(p)
    return path


def make_still(path: Path, rgb, size=(400, 400)) -> Path:
    from PIL import Image
    Image.new("RGB", size, tuple(rgb)).save(path)
    return path


def clip(i: int, kind: str, path: Path | None, seconds: float, *, size=(320, 180), fps=24.0,
         audio=False, name=None, source_in=0.0) -> CutClip:
    return CutClip(shot_id=i, shot_name=name or f"S{i}", section="Act 1" if i < 3 else "Act 2",
                   take_id=f"t{i}" if path else None, rel=None, path=path, kind=kind, duration_s=seconds,
                   fps=fps, width=size[0], height=size[1], has_audio=audio, source_in_s=source_in,
                   metadata={"description": f"board {i}"}, order_number=i)


def make_cut(clips: list[CutClip], fps=24.0) -> Cut:
    return Cut(project_name="T", fps=fps, clips=clips, sections=[("Act 1", 0.0)],
               total_s=sum(c.duration_s for c in clips))


def read_video(path: Path):
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        rate = s.codec_context.sample_rate
        parts = [f.to_ndarray() for f in c.decode(audio=0)]
    return np.concatenate(parts, axis=1), rate


RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 40), (30, 40, 220), (230, 220, 40)


def near(px, rgb, tol=28) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(px, rgb))


def test_cut_timing_pictures_and_sound(tmp_path):
    a = make_clip(tmp_path / "a.mp4", RED, seconds=1.0, tone=440)
    b = make_clip(tmp_path / "b.mp4", GREEN, seconds=1.5)                       # no sound
    still = make_still(tmp_path / "c.png", BLUE)                                # square still
    d = make_clip(tmp_path / "d.mp4", YELLOW, seconds=2.0, fps=30, size=(320, 240), tone=660)
    clips = [clip(1, "video", a, 1.0, audio=True), clip(2, "video", b, 1.5),
             clip(3, "image", still, 0.8, size=(400, 400)), clip(4, "gap", None, 0.5),
             clip(5, "video", d, 1.2, fps=30, size=(320, 240), audio=True, source_in=0.5)]
    cut = make_cut(clips)
    seen = []
    out = tmp_path / "anim.mp4"
    r = render_animatic(cut, out, progress=lambda d, t: seen.append((d, t)))
    assert r.size == (320, 180)                 # the most common video size
    assert r.audio_clips == 2
    frames = read_video(out)
    spans = cut_frames(cut, 24.0)
    assert len(frames) == sum(n for _, n in spans) == r.frames
    expected_s = sum(c.duration_s for c in clips)
    assert abs(len(frames) / 24.0 - expected_s) <= len(clips) / 24.0
    for (start, n), c in zip(spans, clips):
        assert abs(n / 24.0 - c.duration_s) <= 1 / 24.0 + 1e-9
    with av.open(str(out)) as cc:
        assert cc.streams.video[0].codec_context.name == "h264"
        assert cc.streams.audio[0].codec_context.name == "aac"
        assert abs(float(cc.duration / 1e6) - expected_s) < 0.15
    colours = [RED, GREEN, BLUE, (0, 0, 0), YELLOW]
    for (start, n), rgb, c in zip(spans, colours, clips):
        for fi in (start, start + n - 1):       # the first and last frame of every clip
            f = frames[fi]
            h, w = f.shape[:2]
            assert near(f[h // 2, w // 2], rgb), (c.shot_name, fi, f[h // 2, w // 2], rgb)
    # The square still is pillarboxed, the 4:3 clip too: black bars left and right.
    sf = frames[spans[2][0]]
    assert near(sf[90, 5], (0, 0, 0), 20) and near(sf[90, 314], (0, 0, 0), 20)
    yf = frames[spans[4][0]]
    assert near(yf[90, 10], (0, 0, 0), 20) and near(yf[90, 160], YELLOW)
    # Sound where the clip had sound, silence elsewhere.
    pcm, rate = read_audio(out)
    assert rate == 48000
    mono = pcm.mean(axis=0)
    for (start, n), c in zip(spans, clips):
        a0, a1 = round(start / 24 * rate), round((start + n) / 24 * rate)
        seg = mono[a0 + 2400:a1 - 2400]        # 50 ms in from each cut (AAC priming/fades)
        rms = float(np.sqrt(np.mean(seg ** 2)))
        assert (rms > 0.1) if c.has_audio else (rms < 0.01), (c.shot_name, rms)
    assert seen[-1] == (r.frames, r.frames)
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))


def test_source_in_point_and_conform(tmp_path):
    """A 30 fps clip whose frames change colour each second, cut from 1.0 s: the animatic (24 fps)
    starts on the second colour."""
    path = tmp_path / "steps.mp4"
    w, h = 160, 96
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.codec_context.options = {"preset": "ultrafast"}
        for i in range(90):
            img = np.zeros((h, w, 3), np.uint8)
            img[:] = (RED, GREEN, BLUE)[i // 30]
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    cut = make_cut([clip(1, "video", path, 1.5, size=(w, h), fps=30.0, source_in=1.0)])
    r = render_animatic(cut, tmp_path / "o.mp4")
    frames = read_video(r.path)
    assert len(frames) == 36
    assert near(frames[0][48, 80], GREEN) and near(frames[23][48, 80], GREEN)
    assert near(frames[24][48, 80], BLUE) and near(frames[35][48, 80], BLUE)


def test_burn_in_and_title_card(tmp_path):
    a = make_clip(tmp_path / "a.mp4", BLUE, seconds=1.0)
    cut = make_cut([clip(1, "video", a, 1.0, name="Ωμέγα"), clip(2, "title", None, 0.5, name="Missing one")])
    plain = read_video(render_animatic(cut, tmp_path / "p.mp4").path)
    burnt = read_video(render_animatic(cut, tmp_path / "b.mp4", burn_in=True).path)
    h = plain[0].shape[0]
    strip = slice(h - h // 16 + 2, h)
    # The strip at the bottom darkens the blue and carries white text; the top is untouched.
    assert np.abs(burnt[0][:h // 2].astype(int) - plain[0][:h // 2].astype(int)).max() < 12
    assert burnt[0][strip].max(axis=2).max() > 200 and plain[0][strip].max() < 240
    # The timecode changes from frame to frame (right end of the strip).
    assert np.abs(burnt[0][strip, -100:].astype(int) - burnt[12][strip, -100:].astype(int)).max() > 60
    # Title card: light text on a dark card.
    t = plain[24]
    assert t.mean() < 60 and t.max() > 200
    from PIL import Image
    Image.fromarray(burnt[5]).save(tmp_path / "burnt.png")


def test_unreadable_media_becomes_a_card(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    ok = make_clip(tmp_path / "ok.mp4", RED, seconds=0.5)
    cut = make_cut([clip(1, "video", bad, 0.5, name="Broken"), clip(2, "video", ok, 0.5)])
    r = render_animatic(cut, tmp_path / "o.mp4")
    frames = read_video(r.path)
    assert len(frames) == 24
    assert any("Broken" in n for n in r.notes)
    assert near(frames[12][90, 160], RED)


def test_cancel_leaves_no_file(tmp_path):
    a = make_clip(tmp_path / "a.mp4", RED, seconds=1.0)
    cut = make_cut([clip(i, "video", a, 1.0) for i in range(1, 4)])
    stop = threading.Event()

    def progress(done, total):
        if done >= 24:
            stop.set()
    out = tmp_path / "o.mp4"
    with pytest.raises(AimmsError, match="cancelled"):
        render_animatic(cut, out, progress=progress, cancel=stop)
    assert not out.exists()
    assert list(tmp_path.glob("o.mp4*")) == []


def test_timecode():
    assert timecode(0, 24) == "00:00:00:00"
    assert timecode(24 * 61 + 5, 24) == "00:01:01:05"
    assert timecode(30 * 3600, 29.97) == "01:00:00:00"


def test_project_animatic_through_formats(tmp_path):
    """The real pipeline: a project with demo-labelled takes (tests/export_fixture.py), its starred
    cut, the registered 'animatic' writer. Each cut's first frame is the starred take's own frame
    at its in point (it matches that file and no other take)."""
    from aimms_fast import export as ex
    from aimms_fast.export.timeline import build_cut
    from aimms_fast.project import Project
    from tests.export_fixture import build_project
    built = build_project(tmp_path / "proj")
    with Project.open(built.root) as p:
        ex.load()
        assert {"animatic", "pdf", "html"} <= set(ex.FORMATS)
        cut = build_cut(p)
        r = ex.FORMATS["animatic"](p, cut, tmp_path / "cut.mp4", ex.ExportOptions())
    assert r.format == "animatic" and r.path == tmp_path / "cut.mp4"
    frames = read_video(r.path)
    spans = cut_frames(cut, cut.fps)
    assert len(frames) == round(cut.total_s * cut.fps)
    assert abs(len(frames) / cut.fps - sum(c.duration_s for c in cut.clips)) <= len(cut.clips) / cut.fps

    def first_frame(path, at):
        with av.open(str(path)) as c:
            for f in c.decode(video=0):
                if f.time >= at - 1e-3:
                    return f.to_ndarray(format="rgb24")

    sources = {c.take_id: first_frame(c.path, c.source_in_s) for c in cut.clips if c.kind == "video"}
    for (start, n), c in zip(spans, cut.clips):
        got = frames[start].astype(int)
        if c.kind != "video":
            assert got.mean() < 40, c.shot_name        # the gap is black
            continue
        diffs = {tid: float(np.abs(got - src.astype(int)).mean()) for tid, src in sources.items()}
        assert min(diffs, key=diffs.get) == c.take_id, (c.shot_name, diffs)
        assert diffs[c.take_id] < 8, (c.shot_name, diffs)


def test_sound_starting_late_stays_in_sync(tmp_path):
    """A clip whose sound begins 0.5 s after its picture: silence first, then the tone."""
    path = tmp_path / "late.mp4"
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=24)
        vs.width, vs.height, vs.pix_fmt = 160, 96, "yuv420p"
        aus = c.add_stream("aac", rate=48000, layout="mono")
        img = np.full((96, 160, 3), 128, np.uint8)
        for i in range(48):
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        wave = (0.5 * np.sin(2 * np.pi * 440 * np.arange(72000) / 48000)).astype(np.float32)
        for i in range(0, 72000, 1024):
            f = av.AudioFrame.from_ndarray(wave[None, i:i + 1024], format="flt", layout="mono")
            f.sample_rate = 48000
            f.pts = 24000 + i                      # starts at 0.5 s
            for p in aus.encode(f):
                c.mux(p)
        for p in aus.encode():
            c.mux(p)
    with av.open(str(path)) as c:
        first = next(c.decode(audio=0))
        assert abs(first.time - 0.5) < 0.05       # the file really starts its sound late
    r = render_animatic(make_cut([clip(1, "video", path, 2.0, size=(160, 96), audio=True)]), tmp_path / "o.mp4")
    pcm, rate = read_audio(r.path)
    mono = pcm.mean(axis=0)
    rms = lambda a, b: float(np.sqrt(np.mean(mono[int(a * rate):int(b * rate)] ** 2)))  # noqa: E731
    assert rms(0.05, 0.45) < 0.01 and rms(0.6, 1.9) > 0.1


def test_cli_exports_animatic_with_burn_in(tmp_path):
    """`aimms export PATH --format animatic --set burn_in=true --set size=640x360 --json`."""
    import json as _json
    from click.testing import CliRunner
    from aimms_fast.cli import cli
    from tests.export_fixture import build_project
    built = build_project(tmp_path / "proj")
    out = tmp_path / "cut.mp4"
    r = CliRunner().invoke(cli, ["export", str(built.root), "--format", "animatic", "--out", str(out),
                                 "--set", "burn_in=true", "--set", "size=640x360", "--json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    data = _json.loads(r.stdout)
    assert data["format"] == "animatic" and data["path"] == str(out)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.width, v.height) == (640, 360)
        assert abs(float(c.duration / 1e6) - data["duration_s"]) < 0.1
    r = CliRunner().invoke(cli, ["export", str(built.root), "--format", "animatic", "--out", str(out),
                                 "--set", "size=big"], catch_exceptions=False)
    assert r.exit_code == 1 and "size must look like 1280x720" in r.output
