"""Shots (add/edit/delete/undo/reorder/search/sections) and takes in both storyboards (add, numbering
past 99, placeholders, replace, delete/undo, stars, companion PNGs), with real media files."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import orjson
import pytest

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops.shots import add_shot, delete_shots, edit_shots, move_shot, reorder
from aimms_fast.ops.takes import add_placeholders, add_takes, delete_take, replace_take, set_notes, star_take
from aimms_fast.ops.trash import undo
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.shots import get_shot, list_shots, sections
from aimms_fast.store.takes import get_take, starred_take, takes_for_shot

from conftest import REALDATA, make_image, make_video


def names(project) -> list[str]:
    return [r["shot_name"] for r in list_shots(project.conn)]


def files_of(project, shot_id) -> list[str]:
    d = project.layout.shot_dir(shot_id)
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def trash_files(project) -> list[Path]:
    return [p for p in project.layout.trash.rglob("*") if p.is_file()] if project.layout.trash.exists() else []


# -- shots ---------------------------------------------------------------------------------
def test_add_shot_makes_placeholders_folder_and_mapping(project):
    a = add_shot(project, shot_name="Opening", section="Act 1", dialogue="Hello")
    b = add_shot(project, shot_name="Second")
    assert [get_shot(project.conn, i)["order_number"] for i in (a, b)] == [1, 2]
    assert files_of(project, a) == ["base_01.png", "video_01.mp4", "video_01.png"]
    assert all((project.layout.shot_dir(a) / n).stat().st_size == 0 for n in files_of(project, a))
    img = takes_for_shot(project.conn, a, "image")
    vid = takes_for_shot(project.conn, a, "video")
    assert len(img) == len(vid) == 1 and img[0].placeholder == vid[0].placeholder == 1
    assert vid[0].companion_path == f"media/{a}/video_01.png"
    assert orjson.loads(project.layout.mapping.read_bytes()) == {str(a): "Opening", str(b): "Second"}
    with pytest.raises(AimmsError, match="shot_name is required"):
        add_shot(project, shot_name="  ")
    with pytest.raises(AimmsError, match="unknown shot field"):
        add_shot(project, shot_name="x", camera="wide")
    with pytest.raises(AimmsError, match="whole number"):
        add_shot(project, shot_name="x", order_number="first")
    assert names(project) == ["Opening", "Second"]


def test_edit_many_at_once_is_all_or_nothing(project):
    ids = [add_shot(project, shot_name=f"s{i}") for i in range(4)]
    assert edit_shots(project, ids[:3], section="Act 2", lora_1="style.safetensors") == 3
    rows = list_shots(project.conn)
    assert [r["section"] for r in rows] == ["Act 2", "Act 2", "Act 2", None]
    assert {r["lora_1"] for r in rows[:3]} == {"style.safetensors"}
    with pytest.raises(NotFoundError):
        edit_shots(project, [ids[3], 9999], section="never")
    assert get_shot(project.conn, ids[3])["section"] is None  # the good id was not changed either
    with pytest.raises(AimmsError, match="cannot be empty"):
        edit_shots(project, [ids[0]], shot_name="")
    edit_shots(project, [ids[0]], order_number="10")
    assert get_shot(project.conn, ids[0])["order_number"] == 10
    assert {t.shot_order for t in takes_for_shot(project.conn, ids[0], "image")} == {10}


def test_delete_shot_records_trashes_media_and_undo_restores(project, media_dir):
    a = add_shot(project, shot_name="keep")
    b = add_shot(project, shot_name="doomed")
    add_takes(project, b, [make_image(media_dir / "x.png")], storyboard="image")
    before = project.conn.execute("SELECT * FROM takes WHERE shot_id=? ORDER BY take_id", (b,)).fetchall()
    content = (project.layout.shot_dir(b) / "base_02.png").read_bytes()
    delete_shots(project, [b])
    assert names(project) == ["keep"]
    assert project.conn.execute("SELECT old_shot_id, shot_name FROM deleted_shots").fetchall() == [(b, "doomed")]
    assert project.conn.execute("SELECT COUNT(*) FROM takes WHERE shot_id=?", (b,)).fetchone()[0] == 0
    assert not project.layout.shot_dir(b).exists()
    trashed = trash_files(project)
    assert sorted(p.name for p in trashed) == ["base_01.png", "base_02.png", "video_01.mp4", "video_01.png"]
    assert all(project.layout.trash in p.parents for p in trashed)
    assert orjson.loads(project.layout.mapping.read_bytes()) == {str(a): "keep"}
    r = undo(project)
    assert r["kind"] == "shot" and names(project) == ["keep", "doomed"]
    assert project.conn.execute("SELECT * FROM takes WHERE shot_id=? ORDER BY take_id", (b,)).fetchall() == before
    assert (project.layout.shot_dir(b) / "base_02.png").read_bytes() == content
    assert project.conn.execute("SELECT COUNT(*) FROM deleted_shots").fetchone()[0] == 0
    assert trash_files(project) == []
    with pytest.raises(NotFoundError, match="nothing to undo"):
        undo(project)


def test_reorder_and_move(project):
    ids = [add_shot(project, shot_name=n) for n in "ABCD"]
    reorder(project, [ids[3], ids[1], ids[0], ids[2]])
    assert names(project) == list("DBAC")
    assert [get_shot(project.conn, i)["order_number"] for i in (ids[3], ids[1], ids[0], ids[2])] == [1, 2, 3, 4]
    move_shot(project, ids[2], 0)
    assert names(project) == list("CDBA")
    # the denormalised sort key our keyset pages use follows
    assert {t.shot_order for t in takes_for_shot(project.conn, ids[2], "video")} == {1}
    with pytest.raises(AimmsError, match="every shot exactly once"):
        reorder(project, ids[:3])
    with pytest.raises(NotFoundError):
        move_shot(project, 999, 0)


def test_search_and_section_filter(project):
    add_shot(project, shot_name="INT_OFFICE_DAY", section="Act 1", image_prompt="A desk, warm LIGHT")
    add_shot(project, shot_name="EXT_STREET", section="Act 2", dialogue="Where's the light?")
    add_shot(project, shot_name="INT_CAR", section="Act 1", location="Highway")
    add_shot(project, shot_name="Credits")
    assert sections(project.conn) == ["Act 1", "Act 2"]
    assert [r["shot_name"] for r in list_shots(project.conn, section="Act 1")] == ["INT_OFFICE_DAY", "INT_CAR"]
    assert [r["shot_name"] for r in list_shots(project.conn, search="light")] == ["INT_OFFICE_DAY", "EXT_STREET"]
    assert [r["shot_name"] for r in list_shots(project.conn, search="LIGHT", columns=["dialogue"])] == ["EXT_STREET"]
    assert [r["shot_name"] for r in list_shots(project.conn, search="int_", section="Act 1")] == \
        ["INT_OFFICE_DAY", "INT_CAR"]
    assert list_shots(project.conn, search="nowhere") == []
    with pytest.raises(ValueError):
        list_shots(project.conn, search="x", columns=["no_such_column"])


# -- takes ---------------------------------------------------------------------------------
def test_add_many_takes_uuid_ids_and_relative_paths(project, media_dir):
    sid = add_shot(project, shot_name="S")
    srcs = [make_image(media_dir / f"img {i} é.png", color=(i * 20, 0, 0)) for i in range(5)]
    srcs.append(make_image(media_dir / "photo.JPG"))
    srcs.append(Path(REALDATA / "comfyui/webp/flux__flux_kontext_example_comic.webp"))
    progress = []
    ids = add_takes(project, sid, srcs, storyboard="image", progress=lambda d, t: progress.append((d, t)))
    assert progress[-1] == (7, 7)
    takes = takes_for_shot(project.conn, sid, "image")
    assert [t.take_number for t in takes] == list(range(1, 9))
    assert [t.file_path for t in takes[1:]] == [f"media/{sid}/base_{n:02d}.{e}" for n, e in
                                                 zip(range(2, 9), ["png"] * 5 + ["jpg", "webp"])]
    for tid, src in zip(ids, srcs):
        t = get_take(project.conn, tid)
        assert str(uuid.UUID(tid)) == tid and t.take_type == A.BASE_IMAGE and t.placeholder == 0
        assert "\\" not in t.file_path and not os.path.isabs(t.file_path)
        assert project.layout.abs(t.file_path).read_bytes() == src.read_bytes()
    with pytest.raises(AimmsError, match="unsupported image type"):
        add_takes(project, sid, [REALDATA / "video/odd/broken.wav"], storyboard="image")
    with pytest.raises(AimmsError, match="unsupported video type"):
        add_takes(project, sid, [srcs[0]], storyboard="video")


def test_video_formats_and_companion_png(project, media_dir):
    sid = add_shot(project, shot_name="V")
    beside = make_video(media_dir / "comfy_00001.mp4")
    make_image(media_dir / "comfy_00001.png", text_chunks={"workflow": '{"nodes": []}'})
    explicit_png = make_image(media_dir / "wf for gif.png", text_chunks={"prompt": "{}"})
    gif = REALDATA / "video/ai_generated/animatediff__v3_animation_sunset.gif"
    webm = REALDATA / "video/samples/transparent_vp9_alpha.webm"
    mkv = make_video(media_dir / "x.mkv")
    mov = make_video(media_dir / "y.mov")
    ids = add_takes(project, sid, [beside, gif, webm, mkv, mov], storyboard="video", companions={str(gif): explicit_png})
    takes = {t.take_id: t for t in takes_for_shot(project.conn, sid, "video")}
    assert takes[ids[0]].file_path == f"media/{sid}/video_02.mp4"
    assert takes[ids[0]].companion_path == f"media/{sid}/video_02.png"  # picked up beside the video
    assert project.layout.abs(takes[ids[0]].companion_path).read_bytes() == (media_dir / "comfy_00001.png").read_bytes()
    assert takes[ids[1]].file_path.endswith("video_03.gif") and takes[ids[1]].companion_path.endswith("video_03.png")
    assert project.layout.abs(takes[ids[1]].companion_path).read_bytes() == explicit_png.read_bytes()
    assert [takes[i].companion_path for i in ids[2:]] == [None, None, None]  # recorded as missing
    assert [Path(takes[i].file_path).suffix for i in ids[2:]] == [".webm", ".mkv", ".mov"]
    wf = project.conn.execute("SELECT COUNT(*) FROM takes WHERE shot_id=? AND take_type=?",
                              (sid, A.VIDEO_WORKFLOW)).fetchone()[0]
    assert wf == 3  # the placeholder's + two real ones


def test_numbers_continue_past_99_and_placeholders_are_zero_bytes(project, media_dir):
    sid = add_shot(project, shot_name="many")
    ids = add_placeholders(project, sid, 99, storyboard="image")
    assert len(ids) == 99
    d = project.layout.shot_dir(sid)
    assert (d / "base_99.png").stat().st_size == 0 and (d / "base_100.png").stat().st_size == 0
    real = add_takes(project, sid, [make_image(media_dir / "r.png")], storyboard="image")[0]
    t = get_take(project.conn, real)
    assert t.take_number == 101 and t.file_path == f"media/{sid}/base_101.png" and t.placeholder == 0
    assert [x.take_number for x in takes_for_shot(project.conn, sid, "image")] == list(range(1, 102))
    vids = add_placeholders(project, sid, 2, storyboard="video")
    for v in vids:
        vt = get_take(project.conn, v)
        assert vt.placeholder == 1 and project.layout.abs(vt.file_path).stat().st_size == 0
        assert project.layout.abs(vt.companion_path).stat().st_size == 0
    assert sorted(p.name for p in d.glob("video_*")) == [f"video_0{n}.{e}" for n in (1, 2, 3) for e in ("mp4", "png")]
    with pytest.raises(AimmsError, match="at least 1"):
        add_placeholders(project, sid, 0, storyboard="image")


def test_replace_keeps_identity_star_notes_and_backs_up_old(project, media_dir):
    sid = add_shot(project, shot_name="R")
    old_src = make_video(media_dir / "old.mp4", color_seed=1)
    make_image(media_dir / "old.png", color=(9, 9, 9))
    tid = add_takes(project, sid, [old_src], storyboard="video")[0]
    star_take(project, tid)
    set_notes(project, tid, notes="good motion", rating=4)
    before = get_take(project.conn, tid)
    new_src = make_video(media_dir / "new take.webm", codec="libvpx-vp9", color_seed=5)
    new_png = make_image(media_dir / "new wf.png", color=(1, 1, 1))
    new_rel = replace_take(project, tid, new_src, companion=new_png)
    t = get_take(project.conn, tid)
    assert new_rel == f"media/{sid}/video_02.webm" == t.file_path
    assert (t.take_id, t.take_number, t.starred, t.notes, t.rating) == (tid, 2, 1, "good motion", 4)
    assert project.layout.abs(t.file_path).read_bytes() == new_src.read_bytes()
    assert project.layout.abs(t.companion_path).read_bytes() == new_png.read_bytes()
    assert not project.layout.abs(before.file_path).exists()  # video_02.mp4 left media/
    backups = list(project.layout.replaced.iterdir())
    assert len(backups) == 1 and backups[0].name.endswith(tid)
    assert (backups[0] / "video_02.mp4").read_bytes() == old_src.read_bytes()
    assert (backups[0] / "video_02.png").read_bytes() == (media_dir / "old.png").read_bytes()
    record = orjson.loads((backups[0] / "record.json").read_bytes())
    rec_take = {r["take_id"]: r for r in record["takes"]}[tid]
    rec_fast = {r["take_id"]: r for r in record["fast_takes"]}[tid]
    assert rec_take["file_path"] == before.file_path and rec_take["starred"] == 1
    assert rec_fast["notes"] == "good motion" and rec_fast["rating"] == 4
    # a placeholder replaced by a real image stops being a placeholder
    ph = takes_for_shot(project.conn, sid, "image")[0]
    replace_take(project, ph.take_id, make_image(media_dir / "filled.jpg"))
    assert get_take(project.conn, ph.take_id).placeholder == 0
    assert get_take(project.conn, ph.take_id).file_path == f"media/{sid}/base_01.jpg"


def test_delete_take_to_trash_and_undo(project, media_dir):
    sid = add_shot(project, shot_name="D")
    make_image(media_dir / "v.png")
    tid = add_takes(project, sid, [make_video(media_dir / "v.mp4")], storyboard="video")[0]
    t = get_take(project.conn, tid)
    delete_take(project, tid)
    assert get_take(project.conn, tid) is None
    assert not project.layout.abs(t.file_path).exists() and not project.layout.abs(t.companion_path).exists()
    assert sorted(p.name for p in trash_files(project)) == ["video_02.mp4", "video_02.png"]
    undo(project)
    back = get_take(project.conn, tid)
    assert back is not None and back.companion_path == t.companion_path
    assert project.layout.abs(t.file_path).read_bytes() == (media_dir / "v.mp4").read_bytes()
    assert trash_files(project) == []


def test_star_rules(project, media_dir):
    sid = add_shot(project, shot_name="S")
    other = add_shot(project, shot_name="other")
    v = add_takes(project, sid, [make_video(media_dir / f"v{i}.mp4") for i in range(2)], storyboard="video")
    ov = takes_for_shot(project.conn, other, "video")[0].take_id
    assert star_take(project, v[0]) == 1 and star_take(project, ov) == 1
    assert star_take(project, v[1]) == 1  # the star moves: one per shot
    assert get_take(project.conn, v[0]).starred == 0 and starred_take(project.conn, sid, "video") == v[1]
    assert get_take(project.conn, ov).starred == 1  # other shots keep theirs
    assert star_take(project, v[1]) == 0  # toggle off right after: the star it took goes back
    assert starred_take(project.conn, sid, "video") == v[0]
    assert star_take(project, v[0]) == 0  # toggle off a star that moved nowhere: the shot has none
    assert starred_take(project.conn, sid, "video") is None
    i = add_takes(project, sid, [make_image(media_dir / f"i{k}.png") for k in range(3)], storyboard="image")
    assert [star_take(project, x, slot=s) for x, s in zip(i, (1, 2, 3))] == [1, 2, 3]
    assert star_take(project, i[0], slot=3) == 3  # slot 3 moves to i[0]
    assert [get_take(project.conn, x).starred for x in i] == [3, 2, 0]
    assert starred_take(project.conn, sid, "image") == i[1]  # lowest slot first
    with pytest.raises(AimmsError, match="1, 2 or 3"):
        star_take(project, i[1], slot=4)
    wf = project.conn.execute("SELECT take_id FROM takes WHERE take_type=? LIMIT 1", (A.VIDEO_WORKFLOW,)).fetchone()[0]
    with pytest.raises(AimmsError, match="cannot be starred"):
        star_take(project, wf)
    with pytest.raises(NotFoundError):
        star_take(project, str(uuid.uuid4()))


def test_paths_with_spaces_unicode_and_leading_dashes(project, tmp_path):
    sid = add_shot(project, shot_name="-dash shot ✓")
    odd_dir = tmp_path / "my folder ünï" / "-sub dir"
    odd_dir.mkdir(parents=True)
    dash = odd_dir / "-video-with-dash-.mp4"
    dash.write_bytes((REALDATA / "video/odd/-video-with-dash-.mp4").read_bytes())
    img = make_image(odd_dir / "-ïmage with space.webp")
    v = add_takes(project, sid, [dash], storyboard="video")[0]
    i = add_takes(project, sid, [img], storyboard="image")[0]
    assert project.layout.abs(get_take(project.conn, v).file_path).read_bytes() == dash.read_bytes()
    assert re.fullmatch(rf"media/{sid}/base_02\.webp", get_take(project.conn, i).file_path)
    # a project folder with spaces/unicode/dash in its path works the same
    from aimms_fast.project import Project
    with Project.create(tmp_path / "-proj ëct dir") as p2:
        s2 = add_shot(p2, shot_name="x")
        t2 = add_takes(p2, s2, [dash], storyboard="video")[0]
        assert p2.layout.abs(get_take(p2.conn, t2).file_path).is_file()
