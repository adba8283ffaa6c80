"""Re-import of an edited timeline: an edit that swaps two clips, trims one and uses another take of
a third yields exactly those three proposals; applying changes the database accordingly (one
transaction, through ops); rejecting (not applying) changes nothing. The same edit is made in the
.otio, in a Kdenlive document (as its XML), and in FCP 7 XML / FCPXML written by their adapters."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.errors import AimmsError
from aimms_fast.export import ExportOptions, export
from aimms_fast.export.reimport import apply_edit, read_edit
from aimms_fast.export.timeline import build_cut
from aimms_fast.ops.takes import star_take
from aimms_fast.project import Project
from tests.export_fixture import build_project


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_project(tmp_path_factory.mktemp("reimp") / "proj")


@pytest.fixture
def proj(built, tmp_path):
    dst = tmp_path / "proj"
    shutil.copytree(built.root, dst)
    p = Project.open(dst)
    yield p
    p.close()


def _state(p) -> dict:
    c = p.conn
    return {"shots": c.execute("SELECT shot_id, order_number FROM shots ORDER BY shot_id").fetchall(),
            "stars": c.execute("SELECT take_id, starred FROM takes ORDER BY take_id").fetchall(),
            "trims": c.execute("SELECT take_id, in_s, out_s FROM fast_take_trims ORDER BY take_id").fetchall(),
            "fast_order": c.execute("SELECT take_id, shot_order FROM fast_takes ORDER BY take_id").fetchall()}


def _file(p, take_id) -> Path:
    return p.layout.abs(p.conn.execute("SELECT file_path FROM takes WHERE take_id=?", (take_id,)).fetchone()[0])


def edit_otio_timeline(tl, p, built):
    """Swap WALK and END, trim OPEN to frames 6..29, use END's take 2 (whole file, 48 frames)."""
    import opentimelineio as otio
    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    track = tl.video_tracks()[0]
    names = [i.name for i in track]
    assert names == ["OPEN", "WALK", "TALK", "END"]
    walk, end = track[1].deepcopy(), track[3].deepcopy()
    track[1], track[3] = end, walk
    track[0].source_range = TR(RT(6, 24), RT(24, 24))
    new = _file(p, built.video_takes["END"][1])
    ref = track[1].media_reference
    ref.target_url = new.resolve().as_uri()
    ref.available_range = TR(RT(0, 24), RT(48, 24))
    track[1].source_range = TR(RT(0, 24), RT(48, 24))
    return tl


def _check_three(diff, built):
    kinds = [k for k, _ in diff.changes]
    assert sorted(kinds) == ["order", "star", "trim"], diff.to_text()
    moves = {(m.shot_name, m.old_position, m.new_position) for m in diff.order.moves}
    assert moves == {("END", 5, 2), ("WALK", 2, 5)}
    ids = built.shot_ids
    assert diff.order.new_order == [ids["OPEN"], ids["END"], ids["TALK"], ids["EMPTY"], ids["WALK"]]
    (s,) = diff.stars
    assert (s.shot_name, s.old_take_id, s.new_take_id) == ("END", built.video_takes["END"][0], built.video_takes["END"][1])
    (t,) = diff.trims
    assert t.take_id == built.video_takes["OPEN"][1] and not t.clear
    assert (t.old_in_s, t.old_out_s) == pytest.approx((0.0, 1.5))
    assert (t.new_in_s, t.new_out_s) == pytest.approx((0.25, 1.25))


def test_otio_edit_three_changes_apply(proj, built, tmp_path):
    import opentimelineio as otio
    res = export(proj, "otio", tmp_path / "cut.otio", ExportOptions(missing="skip"))
    # Nothing edited: nothing proposed.
    assert read_edit(proj, res.path).empty
    tl = edit_otio_timeline(otio.adapters.read_from_file(str(res.path)), proj, built)
    edited = tmp_path / "edited.otio"
    otio.adapters.write_to_file(tl, str(edited))
    before = _state(proj)
    diff = read_edit(proj, edited)
    _check_three(diff, built)
    text = diff.to_text()
    assert "3 proposed change(s)" in text and "- #5 END" in text and "+ #2 END" in text
    assert "+ 0.250-1.250 s" in text
    assert _state(proj) == before   # reading changes nothing
    counts = apply_edit(proj, diff)
    assert counts == {"order": 2, "stars": 1, "trims": 1}
    order = dict(proj.conn.execute("SELECT shot_id, order_number FROM shots"))
    ids = built.shot_ids
    assert [order[ids[n]] for n in ("OPEN", "END", "TALK", "EMPTY", "WALK")] == [1, 2, 3, 4, 5]
    starred = {r[0] for r in proj.conn.execute("SELECT take_id FROM takes WHERE starred=1 AND take_type='final_video'")}
    assert built.video_takes["END"][1] in starred and built.video_takes["END"][0] not in starred
    assert proj.conn.execute("SELECT in_s, out_s, source FROM fast_take_trims WHERE take_id=?",
                             (built.video_takes["OPEN"][1],)).fetchone() == (0.25, 1.25, "edited.otio")
    # fast_takes' denormalised order followed the reorder (ops.shots.reorder did it).
    assert proj.conn.execute("SELECT shot_order FROM fast_takes WHERE take_id=?",
                             (built.video_takes["WALK"][0],)).fetchone()[0] == 5
    # The cut now is the edit, and the same edit read again proposes nothing.
    cut = build_cut(proj, missing="skip")
    assert [c.shot_name for c in cut.clips] == ["OPEN", "END", "TALK", "WALK"]
    assert cut.clips[0].source_in_s == 0.25 and round(cut.clips[0].duration_s * 24) == 24
    assert cut.clips[1].take_id == built.video_takes["END"][1] and round(cut.clips[1].duration_s * 24) == 48
    assert read_edit(proj, edited).empty
    audit = proj.conn.execute("SELECT detail FROM fast_audit WHERE action='import_edit'").fetchone()
    assert json.loads(audit[0])["stars"] == 1


def test_reject_changes_nothing_and_stale_diff_refused(proj, built, tmp_path):
    import opentimelineio as otio
    res = export(proj, "otio", tmp_path / "cut.otio", ExportOptions(missing="skip"))
    tl = edit_otio_timeline(otio.adapters.read_from_file(str(res.path)), proj, built)
    edited = tmp_path / "edited.otio"
    otio.adapters.write_to_file(tl, str(edited))
    before = _state(proj)
    diff = read_edit(proj, edited)
    assert len(diff.changes) == 3
    del diff   # rejected: never applied
    assert _state(proj) == before
    # A diff the project moved past is refused whole: nothing of it is written.
    diff = read_edit(proj, edited)
    star_take(proj, built.video_takes["END"][0], on=False)
    moved = _state(proj)
    with pytest.raises(AimmsError, match="starred take changed since the edit was read"):
        apply_edit(proj, diff)
    assert _state(proj) == moved


def test_kdenlive_edit(proj, built, tmp_path):
    res = export(proj, "kdenlive", tmp_path / "cut.kdenlive", ExportOptions(missing="skip"))
    assert read_edit(proj, res.path).empty
    tree = ET.parse(res.path)
    root = tree.getroot()
    pl = root.find("playlist[@id='playlist_v1']")
    entries = pl.findall("entry")
    prods = {p.get("id"): p for p in root.findall("producer")}
    names = [prods[e.get("producer")].find("property[@name='kdenlive:clipname']").text for e in entries]
    assert names == ["OPEN", "WALK", "TALK", "END"]
    # Swap WALK and END, trim OPEN, relink END to its take 2 (as Kdenlive's "replace clip" does).
    walk, end = entries[1], entries[3]
    i1, i3 = list(pl).index(walk), list(pl).index(end)
    pl.remove(walk)
    pl.remove(end)
    pl.insert(i1, end)
    pl.insert(i3, walk)
    entries[0].set("in", "6")
    entries[0].set("out", "29")
    endp = prods[end.get("producer")]
    endp.find("property[@name='resource']").text = str(_file(proj, built.video_takes["END"][1]))
    endp.find("property[@name='length']").text = "48"
    endp.set("out", "47")
    end.set("in", "0")
    end.set("out", "47")
    edited = tmp_path / "edited.kdenlive"
    tree.write(edited, encoding="utf-8", xml_declaration=True)
    diff = read_edit(proj, edited)
    assert diff.format == "mlt" and diff.storyboard == "video"
    _check_three(diff, built)


@pytest.mark.parametrize("adapter,suffix", [("fcp_xml", ".xml"), ("fcpx_xml", ".fcpxml")])
def test_xml_edits(proj, built, tmp_path, adapter, suffix):
    """The edit made in the editor's own format (written by OpenTimelineIO's adapter)."""
    import opentimelineio as otio
    fmt = {"fcp_xml": "fcp7", "fcpx_xml": "fcpx"}[adapter]
    res = export(proj, fmt, tmp_path / f"cut{suffix}", ExportOptions(missing="skip"))
    assert read_edit(proj, res.path).empty
    tl = otio.adapters.read_from_file(str(res.path), adapter_name=adapter)
    tl = edit_otio_timeline(tl, proj, built)
    edited = tmp_path / f"edited{suffix}"
    otio.adapters.write_to_file(tl, str(edited), adapter_name=adapter)
    _check_three(read_edit(proj, edited), built)


def test_handoff_copies_match_through_manifest(proj, built, tmp_path):
    import opentimelineio as otio
    res = export(proj, "otio", tmp_path / "cut.otio", ExportOptions(missing="skip", copy_media=tmp_path / "media"))
    tl = otio.adapters.read_from_file(str(res.path))
    for c in tl.video_tracks()[0]:
        c.metadata.pop("aimms")   # an editor that drops our metadata: the manifest still names the takes
    plain = tmp_path / "plain.otio"
    otio.adapters.write_to_file(tl, str(plain))
    diff = read_edit(proj, plain)
    assert diff.empty and diff.clips_read == 4 and not any("not a take" in n for n in diff.notes)


def test_unknown_clip_and_bad_files(proj, tmp_path):
    import opentimelineio as otio
    tl = otio.schema.Timeline(name="x")
    tr = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    tl.tracks.append(tr)
    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    tr.append(otio.schema.Clip(name="stranger", media_reference=otio.schema.ExternalReference(
        target_url=(tmp_path / "other.mp4").as_uri()), source_range=TR(RT(0, 24), RT(24, 24))))
    f = tmp_path / "stranger.otio"
    otio.adapters.write_to_file(tl, str(f))
    diff = read_edit(proj, f)
    assert diff.empty and any("stranger" in n and "not a take" in n for n in diff.notes)
    bad = tmp_path / "bad.xml"
    bad.write_text("<xmeml><nonsense")
    with pytest.raises(AimmsError, match="cannot read this timeline"):
        read_edit(proj, bad)
    with pytest.raises(AimmsError, match="unknown timeline type"):
        read_edit(proj, tmp_path / "stranger.mov") if (tmp_path / "stranger.mov").write_text("x") else None
    notmlt = tmp_path / "x.kdenlive"
    notmlt.write_text("<root/>")
    with pytest.raises(AimmsError, match="not an MLT document"):
        read_edit(proj, notmlt)


def test_cli_import_edit(built, tmp_path):
    import opentimelineio as otio
    root = tmp_path / "proj"
    shutil.copytree(built.root, root)
    runner = CliRunner()
    r = runner.invoke(cli, ["export", str(root), "--format", "otio", "--out", str(tmp_path / "c.otio"),
                            "--missing", "skip"])
    assert r.exit_code == 0, r.output
    with Project.open(root) as p:
        tl = edit_otio_timeline(otio.adapters.read_from_file(str(tmp_path / "c.otio")), p, built)
        before = _state(p)
    otio.adapters.write_to_file(tl, str(tmp_path / "e.otio"))
    r = runner.invoke(cli, ["import-edit", str(root), str(tmp_path / "e.otio"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["changes"] == 3 and data["applied"] is None
    with Project.open(root) as p:
        assert _state(p) == before
    r = runner.invoke(cli, ["import-edit", str(root), str(tmp_path / "e.otio")])
    assert r.exit_code == 0 and "--apply" in r.output and "3 proposed change(s)" in r.output
    r = runner.invoke(cli, ["import-edit", str(root), str(tmp_path / "e.otio"), "--apply"])
    assert r.exit_code == 0 and r.output.rstrip().endswith("applied.")
    with Project.open(root) as p:
        assert _state(p) != before
        assert [c.shot_name for c in build_cut(p, missing="skip").clips] == ["OPEN", "END", "TALK", "WALK"]
    r = runner.invoke(cli, ["import-edit", str(root), str(tmp_path / "missing.otio")])
    assert r.exit_code == 1 and "no such file" in r.output


def test_image_storyboard_edit(proj, built, tmp_path):
    """Stills: a longer hold is stored as the image's hold; another image becomes slot 1."""
    import opentimelineio as otio
    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    res = export(proj, "otio", tmp_path / "img.otio", ExportOptions(storyboard="image", missing="skip"))
    assert read_edit(proj, res.path).empty
    tl = otio.adapters.read_from_file(str(res.path))
    track = tl.video_tracks()[0]
    assert [c.name for c in track] == ["OPEN", "WALK", "TALK", "EMPTY", "END"]
    track[0].source_range = TR(RT(0, 24), RT(72, 24))
    track[4].media_reference.target_url = _file(proj, built.image_takes["END"][1]).resolve().as_uri()
    edited = tmp_path / "img_edit.otio"
    otio.adapters.write_to_file(tl, str(edited))
    diff = read_edit(proj, edited)
    assert diff.storyboard == "image" and diff.order is None
    assert [(s.shot_name, s.new_take_id) for s in diff.stars] == [("END", built.image_takes["END"][1])]
    assert [(t.shot_name, t.new_in_s, t.new_out_s) for t in diff.trims] == [("OPEN", 0.0, 3.0)]
    apply_edit(proj, diff)
    slot = dict(proj.conn.execute("SELECT take_id, starred FROM takes WHERE shot_id=? AND take_type='base_image'",
                                  (built.shot_ids["END"],)))
    assert slot[built.image_takes["END"][1]] == 1 and slot[built.image_takes["END"][0]] == 0
    cut = build_cut(proj, storyboard="image")
    assert round(cut.clips[0].duration_s * 24) == 72 and cut.clips[0].metadata["duration_rule"] == "stored hold (edit)"
    assert cut.clips[4].take_id == built.image_takes["END"][1]
    assert read_edit(proj, edited).empty
