"""The starred cut (export/timeline.py) on a real project: order, takes, durations, gaps, sections,
conformed rates, metadata, and the OTIO timeline built from it."""
from __future__ import annotations

import shutil

import pytest

from aimms_fast.errors import AimmsError
from aimms_fast.export.timeline import build_cut, estimate_duration_s, to_otio
from aimms_fast.ops.shots import edit_shots
from aimms_fast.ops.takes import star_take
from aimms_fast.project import Project
from tests.export_fixture import build_project


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_project(tmp_path_factory.mktemp("exp") / "proj")


@pytest.fixture
def proj(built, tmp_path):
    """A private copy (tests that change the project)."""
    dst = tmp_path / "proj"
    shutil.copytree(built.root, dst)
    p = Project.open(dst)
    yield p
    p.close()


def test_video_cut_order_takes_durations_sections(built):
    with Project.open(built.root, readonly=True) as p:
        cut = build_cut(p)
    assert [c.shot_name for c in cut.clips] == ["OPEN", "WALK", "TALK", "EMPTY", "END"]
    assert [c.kind for c in cut.clips] == ["video", "video", "video", "gap", "video"]
    assert [c.take_id for c in cut.clips] == [built.video_takes["OPEN"][1], built.video_takes["WALK"][0],
                                              built.video_takes["TALK"][0], None, built.video_takes["END"][0]]
    assert cut.fps == 24.0
    assert [round(c.duration_s * 24) for c in cut.clips] == [36, 24, 24, 48, 30]
    assert cut.total_s == pytest.approx(162 / 24)
    assert cut.sections == [("Act A", 0.0), ("Act B", pytest.approx(60 / 24))]
    assert (cut.width, cut.height) == (320, 180)
    talk = cut.clips[2]
    assert talk.fps == 30.0
    assert any("conformed 1 clip(s) at 30 fps to 24 fps" in r and "TALK" in r for r in cut.report)
    assert any(r.startswith("gap for EMPTY") and "no starred video take" in r for r in cut.report)
    assert all(c.path is None or c.path.is_file() for c in cut.clips)


def test_clip_metadata_from_files_and_shots(built):
    with Project.open(built.root, readonly=True) as p:
        cut = build_cut(p)
    m = cut.clips[0].metadata
    assert m["shot_name"] == "OPEN" and m["section"] == "Act A"
    assert m["take_id"] == built.video_takes["OPEN"][1] and m["take_number"] == cut.clips[0].take_number
    assert m["file"] == cut.clips[0].rel and m["file"].startswith("media/")
    assert m["prompt"] == "open prompt take 2" and m["negative"] == "open negative"
    assert m["seed"] == str(1000 + 2 * 7 + 4) and m["model"] == "demoModel_v1.safetensors"
    assert [x["name"] for x in m["loras"]] == ["styleLora.safetensors"]
    assert m["metadata_source"] == "file"
    assert m["description"] == "open happens"
    gap = cut.clips[3].metadata   # no take: the shot's own prompt travels
    assert gap["prompt"] == "empty shot prompt" and gap["metadata_source"] == "shot" and gap["take_id"] is None


def test_missing_skip_and_title(built):
    with Project.open(built.root, readonly=True) as p:
        skip = build_cut(p, missing="skip")
        title = build_cut(p, missing="title")
    assert [c.shot_name for c in skip.clips] == ["OPEN", "WALK", "TALK", "END"]
    assert any(r.startswith("skipped EMPTY") for r in skip.report)
    assert skip.total_s == pytest.approx(114 / 24)
    assert title.clips[3].kind == "title" and title.clips[3].reason == "no starred video take"


def test_image_storyboard_holds_and_duration_rule(built):
    with Project.open(built.root, readonly=True) as p:
        cut = build_cut(p, storyboard="image")
    assert [c.kind for c in cut.clips] == ["image"] * 5   # EMPTY has a starred still
    assert [c.take_id for c in cut.clips] == [built.image_takes[n][0] for n in ("OPEN", "WALK", "TALK", "EMPTY", "END")]
    # No dialogue: Storyboarder's 2 s board; TALK's 10 words of dialogue: 10 x 0.3 + 0.3 = 3.3 s
    # (79 frames at 24 fps).
    assert [round(c.duration_s * 24) for c in cut.clips] == [48, 48, 79, 48, 48]
    assert cut.clips[2].metadata["duration_rule"] == "estimated from words"
    assert cut.fps == 24.0 and "default" in cut.report[0]


def test_estimate_rule():
    assert estimate_duration_s(None, None) == 2.0
    assert estimate_duration_s("", "a b c") == 2.0
    assert estimate_duration_s("", " ".join(["w"] * 20)) == pytest.approx(6.3)
    assert estimate_duration_s(" ".join(["w"] * 30), "") == pytest.approx(6.5)
    assert estimate_duration_s(" ".join(["w"] * 30), " ".join(["w"] * 30)) == pytest.approx(9.3)


def test_star_changes_and_section_filter_and_fps_override(proj, built):
    star_take(proj, built.video_takes["END"][1], on=True)
    star_take(proj, built.video_takes["OPEN"][1], on=False)
    cut = build_cut(proj, section="Act B", missing="skip", fps=30)
    assert [c.shot_name for c in cut.clips] == ["TALK", "END"]
    assert cut.clips[1].take_id == built.video_takes["END"][1]
    assert cut.fps == 30.0 and "chosen" in cut.report[0]
    assert [round(c.duration_s * 30) for c in cut.clips] == [30, 60]
    assert cut.sections == [("Act B", 0.0)]
    edit_shots(proj, [built.shot_ids["END"]], order_number=0)
    assert build_cut(proj, missing="skip").clips[0].shot_name == "END"


def test_trim_is_used(proj, built):
    from aimms_fast.store import export as q
    from aimms_fast.store.db import transaction
    tid = built.video_takes["OPEN"][1]
    with transaction(proj.db):
        q.set_trim(proj.conn, tid, 0.25, 1.0, "test")
    c = build_cut(proj).clips[0]
    assert c.source_in_s == 0.25 and round(c.duration_s * 24) == 18


def test_bad_options_are_clear(built):
    with Project.open(built.root, readonly=True) as p:
        with pytest.raises(AimmsError, match="missing must be one of"):
            build_cut(p, missing="black")
        with pytest.raises(AimmsError, match="storyboard must be one of"):
            build_cut(p, storyboard="audio")
        with pytest.raises(AimmsError, match="no shots in section 'Nope'"):
            build_cut(p, section="Nope")
        with pytest.raises(AimmsError, match="fps must be a positive"):
            build_cut(p, fps=0)


def test_to_otio(built):
    import opentimelineio as otio
    with Project.open(built.root, readonly=True) as p:
        cut = build_cut(p, missing="title")
    tl = to_otio(cut)
    track = tl.tracks[0]
    assert track.kind == otio.schema.TrackKind.Video and len(tl.tracks) == 1
    assert [i.name for i in track] == ["OPEN", "WALK", "TALK", "EMPTY", "END"]
    assert [i.source_range.duration.value for i in track] == [36, 24, 24, 48, 30]
    assert tl.duration().value == 162 and tl.duration().rate == 24
    assert isinstance(track[3].media_reference, otio.schema.GeneratorReference)
    ref = track[0].media_reference
    assert ref.target_url == cut.clips[0].path.resolve().as_uri()
    assert ref.available_range.duration.value == 36
    assert track[0].metadata["aimms"]["prompt"] == "open prompt take 2"
    # TALK (30 fps, 1 s) is conformed: 24 frames on a 24 fps timeline.
    assert track[2].source_range.duration.rate == 24 and track[2].metadata["aimms"]["source_fps"] == 30.0
    assert [(m.name, m.marked_range.start_time.value) for m in track.markers] == [("Act A", 0), ("Act B", 60)]


def test_broken_or_vanished_starred_file_becomes_a_gap(proj, built, tmp_path):
    from aimms_fast.demo.clips import make_broken_video
    from aimms_fast.ops.takes import add_takes
    bad = make_broken_video(tmp_path / "broken.mp4")
    (tid,) = add_takes(proj, built.shot_ids["WALK"], [bad], storyboard="video")
    star_take(proj, tid, on=True)
    rel = proj.conn.execute("SELECT file_path FROM takes WHERE take_id=?", (built.video_takes["END"][0],)).fetchone()[0]
    proj.layout.abs(rel).unlink()
    cut = build_cut(proj)
    walk, end = cut.clips[1], cut.clips[4]
    assert walk.kind == "gap" and walk.reason.startswith("the starred file is error")
    assert end.kind == "gap" and end.reason == "the starred file is missing"
    assert any(r.startswith("gap for WALK") for r in cut.report)


def test_unicode_names_and_paths(proj, built, tmp_path):
    """Names outside ASCII: kept in OTIO/FCP/Kdenlive, folded to ASCII in the EDL (CMX 3600 is ASCII)."""
    import opentimelineio as otio
    from aimms_fast.export import ExportOptions, export
    edit_shots(proj, [built.shot_ids["OPEN"]], shot_name="Café — Nacht 1")
    edl = export(proj, "edl", tmp_path / "ü cut.edl", ExportOptions(missing="skip")).path
    assert "* FROM CLIP NAME:  Cafe  Nacht 1" in edl.read_text(encoding="ascii")
    o = export(proj, "otio", tmp_path / "ü cut.otio", ExportOptions(missing="skip", copy_media=tmp_path / "hand off ü")).path
    tl = otio.adapters.read_from_file(str(o))
    first = tl.tracks[0][0]
    assert first.name == "Café — Nacht 1"
    url = first.media_reference.target_url
    assert url == (tmp_path / "hand off ü" / "001_Café_—_Nacht_1_t03.mp4").as_uri()
    assert "hand%20off%20%C3%BC" in url
    from aimms_fast.export.reimport import read_edit
    assert read_edit(proj, o).empty
