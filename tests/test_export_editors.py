"""Editor exports read by real consumers: OpenTimelineIO re-reads every format; the EDL also by an
independent parser written here; the FCPXML/FCP 7 XML structure is checked with ElementTree; the
Kdenlive export is rendered by the real MLT engine (`melt`) and its frames compared with the
source clips' frames (decoded with PyAV) at every cut."""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

import av
import numpy as np
import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.export import FORMATS, ExportOptions, export, load
from aimms_fast.export.editors import MANIFEST_NAME, fps_fraction
from aimms_fast.project import Project
from tests.export_fixture import build_project

EXPECT_NAMES = ["OPEN", "WALK", "TALK", "EMPTY", "END"]
EXPECT_FRAMES = [36, 24, 24, 48, 30]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_project(tmp_path_factory.mktemp("exped") / "proj")


def _export(built, fmt, out, **kw):
    with Project.open(built.root, readonly=True) as p:
        return export(p, fmt, out, ExportOptions(**kw))


def _otio_read(path, **kw):
    import opentimelineio as otio
    return otio.adapters.read_from_file(str(path), **kw)


def test_formats_registered():
    load()
    assert {"otio", "edl", "fcp7", "fcpx", "kdenlive"} <= set(FORMATS)


@pytest.mark.parametrize("fmt,suffix", [("otio", ".otio"), ("fcp7", ".xml"), ("fcpx", ".fcpxml")])
def test_reread_with_opentimelineio(built, tmp_path, fmt, suffix):
    import opentimelineio as otio
    res = _export(built, fmt, tmp_path / f"cut{suffix}", missing="gap")
    assert res.path.is_file() and res.clips == 5
    tl = _otio_read(res.path)
    track = tl.video_tracks()[0]
    items = list(track)
    assert [i.source_range.duration.value for i in items] == EXPECT_FRAMES
    assert all(i.source_range.duration.rate == 24 for i in items)
    clips = [i for i in items if isinstance(i, otio.schema.Clip)]
    assert [c.name for c in clips] == ["OPEN", "WALK", "TALK", "END"]
    assert isinstance(items[3], otio.schema.Gap)
    with Project.open(built.root, readonly=True) as p:
        rels = {n: p.layout.abs(p.conn.execute("SELECT file_path FROM takes WHERE take_id=?", (built.video_takes[n][i],)
                                              ).fetchone()[0]).resolve().as_uri()
                for n, i in (("OPEN", 1), ("WALK", 0), ("TALK", 0), ("END", 0))}
    assert [c.media_reference.target_url for c in clips] == [rels[n] for n in ("OPEN", "WALK", "TALK", "END")]
    # Metadata survives in each format's own place.
    if fmt == "otio":
        m = clips[0].metadata["aimms"]
        assert (m["prompt"], m["negative"], m["model"], m["take_id"]) == (
            "open prompt take 2", "open negative", "demoModel_v1.safetensors", built.video_takes["OPEN"][1])
        assert m["seed"] == "1018" and m["loras"][0]["name"] == "styleLora.safetensors"
        assert [(mk.name, mk.marked_range.start_time.value) for mk in track.markers] == [("Act A", 0), ("Act B", 60)]
    elif fmt == "fcp7":
        c = clips[0].metadata["fcp_xml"]["comments"]
        assert c["mastercomment1"] == "open prompt take 2" and c["mastercomment2"] == "open negative"
        assert "seed 1018" in c["mastercomment3"] and "demoModel_v1.safetensors" in c["mastercomment3"]
        assert "styleLora.safetensors:0.5" in c["mastercomment3"]
        assert f"take_id={built.video_takes['OPEN'][1]}" in c["mastercomment4"]
        assert [(mk.name, mk.marked_range.start_time.value) for mk in tl.tracks.markers] == [("Act A", 0), ("Act B", 60)]
    else:
        md = {k: v for d in clips[0].media_reference.metadata["fcpx"]["metadata"] for k, v in d.items()}
        assert md["aimms.prompt"] == "open prompt take 2" and md["aimms.seed"] == "1018"
        assert md["aimms.take_id"] == built.video_takes["OPEN"][1]


def test_fcp7_structure(built, tmp_path):
    res = _export(built, "fcp7", tmp_path / "cut.xml", missing="title")
    root = ET.parse(res.path).getroot()
    assert root.tag == "xmeml"
    seq = root.find(".//sequence")
    sc = seq.find("media/video/format/samplecharacteristics")
    assert (sc.findtext("width"), sc.findtext("height")) == ("320", "180")
    items = seq.findall("media/video/track/*")
    kinds = [(e.tag, e.findtext("name")) for e in items if e.tag in ("clipitem", "generatoritem")]
    assert kinds == [("clipitem", "OPEN"), ("clipitem", "WALK"), ("clipitem", "TALK"),
                     ("generatoritem", "EMPTY"), ("clipitem", "END")]
    gen = [e for e in items if e.tag == "generatoritem"][0]
    assert gen.find("effect/effecttype").text == "generator"
    assert gen.find("effect/parameter/value").text == "EMPTY"
    assert [int(e.findtext("end")) - int(e.findtext("start")) for e in items] == EXPECT_FRAMES


def test_fcpxml_structure(built, tmp_path):
    res = _export(built, "fcpx", tmp_path / "cut.fcpxml", missing="gap")
    text = res.path.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>')
    root = ET.fromstring(text.split("\n", 2)[2])
    assert root.tag == "fcpxml" and root.get("version")
    fmts = {f.get("id"): f for f in root.iter("format")}
    assert fmts and all(f.get("width") == "320" and f.get("height") == "180" for f in fmts.values())
    assert all(Fraction(f.get("frameDuration")[:-1]) == Fraction(1, 24) for f in fmts.values())
    assets = {a.get("id"): a for a in root.find("resources").iter("asset")}
    for a in assets.values():
        assert a.get("format") in fmts and a.get("hasVideo") == "1"
        assert Path(a.get("src").removeprefix("file://")).is_file()
    spine = root.find("project/sequence/spine")
    assert root.find("project").get("name") == "Export Test"
    kids = list(spine)
    assert [k.tag for k in kids] == ["clip", "clip", "clip", "gap", "clip"]
    assert [k.get("name") for k in kids if k.tag == "clip"] == ["OPEN", "WALK", "TALK", "END"]
    assert [Fraction(k.get("duration")[:-1]) * 24 for k in kids] == EXPECT_FRAMES
    offsets = [Fraction(k.get("offset")[:-1]) * 24 for k in kids]
    assert offsets == [0, 36, 60, 84, 132]
    for k in kids:
        if k.tag == "clip":
            assert k.find("video").get("ref") in assets
    markers = [(m.get("value"), k.get("name")) for k in kids for m in k.findall("marker")]
    assert markers == [("Act A", "OPEN"), ("Act B", "TALK")]
    md = {m.get("key"): m.get("value") for m in root.find("asset-clip/metadata")}
    assert md["aimms.prompt"] == "open prompt take 2" and md["aimms.model"] == "demoModel_v1.safetensors"


_TC = r"(\d\d:\d\d:\d\d[:;]\d\d)"
_EVENT = re.compile(rf"^(\d{{3,4}})\s+(\S+)\s+(V|A|B|AA)\s+(C)\s+{_TC}\s+{_TC}\s+{_TC}\s+{_TC}\s*$")


def _tc_frames(tc: str, fps: int) -> int:
    h, m, s, f = (int(x) for x in re.split("[:;]", tc))
    return ((h * 60 + m) * 60 + s) * fps + f


def parse_edl(text: str, fps: int) -> tuple[str, list[dict]]:
    """An independent CMX 3600 reader (not OpenTimelineIO's): TITLE, events, their comments."""
    title, events = None, []
    for line in text.splitlines():
        if line.startswith("TITLE:"):
            title = line[6:].strip()
            continue
        m = _EVENT.match(line)
        if m:
            events.append({"num": int(m.group(1)), "reel": m.group(2), "track": m.group(3),
                           "src_in": _tc_frames(m.group(5), fps), "src_out": _tc_frames(m.group(6), fps),
                           "rec_in": _tc_frames(m.group(7), fps), "rec_out": _tc_frames(m.group(8), fps),
                           "comments": {}})
        elif line.startswith("*") and events:
            k, _, v = line[1:].partition(":")
            events[-1]["comments"][k.strip()] = v.strip()
        elif line.strip():
            raise AssertionError(f"unexpected EDL line: {line!r}")
    return title, events


def test_edl_two_readers(built, tmp_path):
    res = _export(built, "edl", tmp_path / "cut.edl", missing="gap")
    text = res.path.read_text()
    title, events = parse_edl(text, 24)
    assert title == "Export Test"
    assert [e["num"] for e in events] == [1, 2, 3, 4, 5]
    assert all(e["track"] == "V" for e in events)
    reels = [e["reel"] for e in events]
    assert reels[3] == "BL"
    media_reels = [r for r in reels if r != "BL"]
    assert len(set(media_reels)) == 4 and all(len(r) <= 8 and re.fullmatch(r"[A-Z0-9]+", r) for r in media_reels)
    assert [e["comments"].get("FROM CLIP NAME") for e in events] == ["OPEN", "WALK", "TALK", "EMPTY", "END"]
    assert "FROM CLIP" not in events[3]["comments"]
    assert [e["rec_out"] - e["rec_in"] for e in events] == EXPECT_FRAMES
    assert [e["src_out"] - e["src_in"] for e in events] == EXPECT_FRAMES
    assert all(a["rec_out"] == b["rec_in"] for a, b in zip(events, events[1:]))
    for e in events:
        if e["reel"] != "BL":
            assert Path(e["comments"]["FROM CLIP"].removeprefix("file://")).is_file()
    # The second reader: OpenTimelineIO's CMX 3600 adapter agrees.
    import opentimelineio as otio
    tl = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=24)
    items = list(tl.tracks[0])
    assert [i.source_range.duration.value for i in items] == EXPECT_FRAMES
    assert [i.name for i in items] == EXPECT_NAMES
    assert [i.metadata["cmx_3600"]["reel"] for i in items] == reels


def test_copy_media_with_manifest(built, tmp_path):
    handoff = tmp_path / "handoff"
    res = _export(built, "otio", tmp_path / "cut.otio", missing="skip", copy_media=handoff)
    copies = sorted(p.name for p in handoff.iterdir() if p.suffix == ".mp4")
    assert copies == ["001_OPEN_t03.mp4", "002_WALK_t02.mp4", "003_TALK_t02.mp4", "004_END_t02.mp4"]
    with open(handoff / MANIFEST_NAME, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["take_id"] for r in rows] == [built.video_takes[n][i] for n, i in
                                            (("OPEN", 1), ("WALK", 0), ("TALK", 0), ("END", 0))]
    tl = _otio_read(res.path)
    urls = [c.media_reference.target_url for c in tl.video_tracks()[0]]
    assert urls == [(handoff / n).resolve().as_uri() for n in copies]
    with Project.open(built.root, readonly=True) as p:
        src = p.layout.abs(rows[0]["source_path"])
    assert (handoff / copies[0]).read_bytes() == src.read_bytes()
    assert set(res.files) == {handoff / n for n in copies} | {handoff / MANIFEST_NAME}


def test_fps_fraction():
    assert fps_fraction(24) == (24, 1)
    assert fps_fraction(23.976) == (24000, 1001)
    assert fps_fraction(29.97) == (30000, 1001)
    assert fps_fraction(12.5) == (25, 2)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]


@pytest.mark.parametrize("missing", ["title", "gap"])
def test_kdenlive_renders_in_melt(built, tmp_path, missing):
    """The real MLT engine renders the export; every cut shows the starred take's right frame."""
    melt = shutil.which("melt")
    assert melt, "melt is not installed (tools/bootstrap.sh installs the Debian package)"
    res = _export(built, "kdenlive", tmp_path / "cut.kdenlive", missing=missing)
    out = tmp_path / "render.mp4"
    r = subprocess.run([melt, "-quiet", str(res.path), "-consumer", f"avformat:{out}", "vcodec=libx264",
                        "crf=12", "preset=ultrafast", "an=1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and out.is_file(), r.stderr[-2000:]
    frames = _frames(out)
    assert len(frames) == sum(EXPECT_FRAMES)
    assert frames[0].shape == (180, 320, 3)
    with Project.open(built.root, readonly=True) as p:
        from aimms_fast.export.timeline import build_cut
        cut = build_cut(p, missing=missing)
    sources = {c.take_id: _frames(c.path) for c in cut.clips if c.kind == "video"}
    start = 0
    for c, n in zip(cut.clips, EXPECT_FRAMES):
        for k in (0, n // 2, n - 1):
            got = frames[start + k]
            if c.kind == "gap":   # a blank in the playlist renders black
                assert got.max() < 30, (k, got.max())
                continue
            if c.kind == "title":
                # Black card with the shot name in white near the middle.
                assert (got < 40).all(axis=2).mean() > 0.85
                assert (got > 200).all(axis=2)[60:120].sum() > 50
                continue
            t = c.source_in_s + k / cut.fps
            idx = int(round(t * c.fps))
            own = sources[c.take_id]
            best_own = min(np.abs(got - own[j]).mean() for j in range(max(0, idx - 1), min(len(own), idx + 2)))
            others = [np.abs(got - f).mean() for tid, fr in sources.items() if tid != c.take_id for f in fr[::4]]
            assert best_own < 6, (c.shot_name, k, best_own)
            assert best_own * 3 < min(others), (c.shot_name, k, best_own, min(others))
        start += n


def test_cli_export_and_errors(built, tmp_path):
    runner = CliRunner()
    out = tmp_path / "c.otio"
    r = runner.invoke(cli, ["export", str(built.root), "--format", "otio", "--out", str(out), "--json",
                            "--section", "Act B", "--missing", "skip"])
    assert r.exit_code == 0, r.output
    import json
    data = json.loads(r.output)
    assert data["format"] == "otio" and data["clips"] == 2 and data["fps"] == 24.0
    assert any("conformed" in n for n in data["report"])
    assert out.is_file()
    r = runner.invoke(cli, ["export", str(built.root), "--format", "edl", "--out", str(tmp_path / "x.edl"),
                            "--section", "Nope"])
    assert r.exit_code == 1 and "no shots in section 'Nope'" in r.output
    r = runner.invoke(cli, ["export", str(built.root), "--format", "mov", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    r = runner.invoke(cli, ["export", "--help"])
    assert r.exit_code == 0 and "--copy-media" in r.output


def test_ntsc_rate_is_exact_in_every_format(built, tmp_path):
    """29.97 means 30000/1001 everywhere: MLT profile, FCPXML frame duration, OTIO rate, EDL timecode."""
    with Project.open(built.root, readonly=True) as p:
        from aimms_fast.export.timeline import build_cut
        assert build_cut(p, fps=29.97).fps == 30000 / 1001
        outs = {f: export(p, f, tmp_path / f"n.{f}", ExportOptions(fps=29.97, missing="gap")).path
                for f in ("kdenlive", "fcpx", "otio", "edl")}
    prof = ET.parse(outs["kdenlive"]).getroot().find("profile")
    assert (prof.get("frame_rate_num"), prof.get("frame_rate_den")) == ("30000", "1001")
    fx = ET.fromstring(outs["fcpx"].read_text().split("\n", 2)[2])
    assert {f.get("frameDuration") for f in fx.iter("format")} == {"1001/30000s"}
    spine = fx.find("project/sequence/spine")
    # OPEN is 1.5 s: 45 frames of 1001/30000 s.
    assert Fraction(spine[0].get("duration")[:-1]) == Fraction(45 * 1001, 30000)
    tl = _otio_read(outs["otio"])
    assert [i.source_range.duration.value for i in tl.tracks[0]] == [45, 30, 30, 60, 37]
    _, events = parse_edl(outs["edl"].read_text(), 30)
    assert [e["rec_out"] - e["rec_in"] for e in events] == [45, 30, 30, 60, 37]


def test_kdenlive_image_storyboard_renders_in_melt(built, tmp_path):
    """Stills held for their durations (2 s, or 3.3 s for the shot with dialogue), in order."""
    from PIL import Image
    melt = shutil.which("melt")
    assert melt, "melt is not installed (tools/bootstrap.sh installs the Debian package)"
    res = _export(built, "kdenlive", tmp_path / "img.kdenlive", storyboard="image")
    out = tmp_path / "img.mp4"
    r = subprocess.run([melt, "-quiet", str(res.path), "-consumer", f"avformat:{out}", "vcodec=libx264",
                        "crf=12", "preset=ultrafast", "an=1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and out.is_file(), r.stderr[-2000:]
    frames = _frames(out)
    lengths = [48, 48, 79, 48, 48]
    assert len(frames) == sum(lengths)
    with Project.open(built.root, readonly=True) as p:
        stills = [np.asarray(Image.open(p.layout.abs(p.conn.execute(
            "SELECT file_path FROM takes WHERE take_id=?", (built.image_takes[n][0],)).fetchone()[0])).convert("RGB"),
            np.int16) for n in EXPECT_NAMES]
    start = 0
    for i, n in enumerate(lengths):
        for k in (0, n - 1):
            diffs = [np.abs(frames[start + k] - s).mean() for s in stills]
            assert int(np.argmin(diffs)) == i and diffs[i] < 6, (EXPECT_NAMES[i], k, diffs)
        start += n


def test_sound_goes_on_a1(built, tmp_path):
    """A take with sound: A1 in OTIO and FCP 7 XML in step with V1; FCPXML marks the asset hasAudio;
    the EDL stays one video track."""
    import opentimelineio as otio
    from aimms_fast.ops.takes import add_takes, star_take
    from tests.export_fixture import make_av_clip
    root = tmp_path / "proj"
    shutil.copytree(built.root, root)
    with Project.open(root) as p:
        (tid,) = add_takes(p, built.shot_ids["WALK"], [make_av_clip(tmp_path / "walk_av.mp4", "WALK av")],
                           storyboard="video")
        star_take(p, tid, on=True)
        from aimms_fast.export.timeline import build_cut
        assert build_cut(p).clips[1].has_audio
        outs = {f: export(p, f, tmp_path / f"s.{f}", ExportOptions(missing="gap")).path for f in ("otio", "fcp7", "fcpx", "edl")}
    for f, ad in (("otio", "otio_json"), ("fcp7", "fcp_xml")):
        tl = otio.adapters.read_from_file(str(outs[f]), adapter_name=ad)
        (a1,) = tl.audio_tracks()
        items = list(a1)
        clips = [i for i in items if isinstance(i, otio.schema.Clip)]
        assert [c.name for c in clips] == ["WALK"], f
        # In step with V1: WALK starts after OPEN's 36 frames and lasts 24 (FCP 7 drops the
        # trailing gap of a track, OTIO keeps it).
        assert a1.range_of_child(clips[0]).start_time.value == 36
        assert clips[0].source_range.duration.value == 24
        assert clips[0].media_reference.target_url.endswith(".mp4")
    fx = ET.fromstring(outs["fcpx"].read_text().split("\n", 2)[2])
    flags = {a.get("src"): a.get("hasAudio") for a in fx.find("resources").iter("asset")}
    assert sorted(flags.values()) == ["0", "0", "0", "1"]
    _, events = parse_edl(outs["edl"].read_text(), 24)
    assert {e["track"] for e in events} == {"V"} and len(events) == 5
