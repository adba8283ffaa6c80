"""Backups, .aimms save/restore, archive zip, Export Starred Takes, shot_name_mapping.json."""
from __future__ import annotations

import csv
import errno
import io
import os
import sqlite3
import time
import uuid
import zipfile
from pathlib import Path

import orjson
import pytest

from aimms_fast.errors import AimmsError, ReadOnlyError
from aimms_fast.ops import backup as B
from aimms_fast.ops.shots import add_shot, delete_shots, edit_shots
from aimms_fast.ops.takes import add_takes, delete_take, set_notes, star_take
from aimms_fast.project import Project
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.db import transaction

from conftest import make_image, make_video


def rows(conn, sql, args=()):
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def snapshot(conn) -> dict:
    return {"shots": rows(conn, "SELECT * FROM shots ORDER BY shot_id"),
            "takes": rows(conn, "SELECT * FROM takes ORDER BY take_id"),
            "assets": rows(conn, "SELECT * FROM assets ORDER BY id_key"),
            "fast": rows(conn, "SELECT take_id, shot_id, storyboard, take_number, shot_order, companion_of, "
                               "placeholder, notes, rating FROM fast_takes ORDER BY take_id")}


@pytest.fixture
def filled(project, media_dir):
    """Two shots with real images and videos (+ workflow PNGs), stars in both storyboards, notes,
    a rating and a character asset."""
    p = project
    s1 = add_shot(p, shot_name="INT/EXT: Office? Day", section="Act 1")
    s2 = add_shot(p, shot_name="Café  scène", section="Act 2")
    imgs = [make_image(media_dir / f"img {i}.png", color=(40 * i, 20, 20)) for i in range(3)]
    vids = [make_video(media_dir / f"clip_{i}.mp4", color_seed=i) for i in range(2)]
    make_image(media_dir / "clip_0.png", color=(1, 2, 3), text_chunks={"workflow": "{}"})  # companion
    i_ids = add_takes(p, s1, imgs, storyboard="image")
    v_ids = add_takes(p, s1, vids, storyboard="video")
    v2 = add_takes(p, s2, [make_video(media_dir / "other.webm", codec="libvpx-vp9")], storyboard="video")
    star_take(p, v_ids[0])
    star_take(p, i_ids[0], slot=1)
    star_take(p, i_ids[2], slot=3)
    star_take(p, v2[0])
    set_notes(p, v_ids[0], notes="the one", rating=5)
    char = p.layout.asset_dir("characters") / "hero.png"
    make_image(char)
    with transaction(p.db):
        p.conn.execute("INSERT INTO assets(id_key, asset_name, asset_type, file_path, starred) VALUES (?,?,?,?,1)",
                       (f"asset_{uuid.uuid4()}", "Hero", "characters", p.layout.rel(char)))
    return {"project": p, "shots": [s1, s2], "images": i_ids, "videos": v_ids, "video2": v2[0]}


# -- database backup ------------------------------------------------------------------------
def test_backup_database_is_a_consistent_copy(filled):
    p = filled["project"]
    reader = Project.open(p.root)  # a second instance reading at the same time
    try:
        out = B.backup_database(reader)
    finally:
        reader.close()
    assert out.parent == p.layout.backup and out.name.startswith("shots_") and out.suffix == ".db"
    assert not list(p.layout.backup.glob("*.partial"))
    c = sqlite3.connect(out)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert snapshot(c) == snapshot(p.conn)
    finally:
        c.close()
    assert B.backup_database(p) != out  # two backups in the same second never overwrite each other


# -- save / restore -------------------------------------------------------------------------
def test_save_writes_every_relationship(filled):
    p = filled["project"]
    path = B.save_project(p)
    assert path.parent == p.layout.saves and path.suffix == ".aimms" and path.name.startswith("Test_Project_")
    data = orjson.loads(path.read_bytes())
    assert data["format"] == B.SAVE_FORMAT and data["format_version"] == B.SAVE_FORMAT_VERSION
    snap = snapshot(p.conn)
    assert sorted(data["shots"], key=lambda r: r["shot_id"]) == snap["shots"]
    assert sorted(data["takes"], key=lambda r: r["take_id"]) == snap["takes"]
    assert data["assets"] == snap["assets"]
    fast = {f["take_id"]: f for f in data["fast_takes"]}
    assert fast[filled["videos"][0]]["notes"] == "the one" and fast[filled["videos"][0]]["rating"] == 5
    assert data["files"][f"media/{filled['shots'][0]}/video_02.mp4"] > 0
    assert data["counts"] == {"shots": 2, "takes": len(snap["takes"]), "assets": 1}


def test_restore_rebuilds_rows_and_reports_files(filled, media_dir):
    p = filled["project"]
    s1, s2 = filled["shots"]
    save = B.save_project(p)
    saved = snapshot(p.conn)
    # Work after the save: delete a take (file to the trash), add one, rename, move a star,
    # delete a shot, add a shot.
    gone = p.conn.execute("SELECT file_path FROM takes WHERE take_id=?", (filled["images"][1],)).fetchone()[0]
    delete_take(p, filled["images"][1])
    new_take = add_takes(p, s1, [make_image(media_dir / "late.png")], storyboard="image")[0]
    new_file = p.conn.execute("SELECT file_path FROM takes WHERE take_id=?", (new_take,)).fetchone()[0]
    edit_shots(p, [s1], shot_name="renamed")
    lost = f"media/{s1}/video_03.mp4"
    os.unlink(p.layout.abs(lost))  # removed outside the app: cannot come back
    star_take(p, filled["videos"][1])
    delete_shots(p, [s2])
    s3 = add_shot(p, shot_name="after the save")
    after = snapshot(p.conn)

    rep = B.restore_project(p, save)
    assert snapshot(p.conn) == saved
    # the database as it was just before the restore is kept
    with sqlite3.connect(rep["backup"]) as c:
        assert snapshot(c) == after
    assert Path(rep["backup"]).parent == p.layout.backup
    assert [m["file_path"] for m in rep["missing_files"]] == [lost]
    # files a later delete moved to the project trash are put back where the save expects them
    s2_files = sorted(r["file_path"] for r in saved["takes"] if r["shot_id"] == s2)
    assert rep["recovered_from_trash"] == sorted([gone, *s2_files])
    assert all(p.layout.abs(f).exists() for f in [gone, *s2_files])
    assert p.conn.execute("SELECT COUNT(*) FROM fast_trash WHERE restored_at IS NULL").fetchone()[0] == 0
    assert new_file in rep["unreferenced_files"]
    assert f"media/{s3}/base_01.png" in rep["unreferenced_files"]
    assert p.layout.abs(new_file).exists()  # nothing is deleted by a restore
    assert rep["shots_removed"] == [s3]
    deleted = {r[0] for r in p.conn.execute("SELECT old_shot_id FROM deleted_shots")}
    assert s3 in deleted and s2 not in deleted
    mapping = orjson.loads(p.layout.mapping.read_bytes())
    assert mapping == {str(s1): "INT/EXT: Office? Day", str(s2): "Café  scène"}
    assert p.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # Restoring again is idempotent (and still backs up first).
    rep2 = B.restore_project(p, save)
    assert snapshot(p.conn) == saved and rep2["backup"] != rep["backup"]


def test_restore_minimal_save_rebuilds_take_numbers(project, tmp_path):
    sid = add_shot(project, shot_name="A")
    take = project.conn.execute("SELECT * FROM takes WHERE shot_id=? AND take_type=?", (sid, A.BASE_IMAGE)).fetchone()
    save = tmp_path / "hand.aimms"
    save.write_bytes(orjson.dumps({"shots": [{"shot_id": sid, "shot_name": "A", "order_number": 1,
                                              "camera_angle": "wide"}],
                                   "takes": [{"take_id": take[0], "shot_id": sid, "take_type": A.BASE_IMAGE,
                                              "file_path": take[3], "starred": 2}]}))
    rep = B.restore_project(project, save)
    assert rep["fast_takes_rebuilt"] == 1
    assert any("camera_angle" in w for w in rep["warnings"]) and any("format" in w for w in rep["warnings"])
    f = project.conn.execute("SELECT take_number, placeholder, storyboard FROM fast_takes").fetchall()
    assert f == [(1, 1, "image")]
    assert project.conn.execute("SELECT starred FROM takes").fetchone()[0] == 2


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG not json", "bad JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"format": "something.else", "shots": [], "takes": []}', "unknown save format"),
    (b'{"format": "aimms_fast.save", "format_version": 99, "shots": [], "takes": []}', "newer"),
    (b'{"format": "aimms_fast.save", "shots": []}', "'takes'"),
    (b'{"shots": [{"shot_id": 1}], "takes": [{"take_id": "t", "shot_id": 2}]}', "does not contain"),
    (b'{"shots": [{"shot_id": 1}, {"shot_id": 1}], "takes": []}', "twice"),
])
def test_restore_rejects_bad_saves_without_touching_anything(filled, tmp_path, content, words):
    p = filled["project"]
    before = snapshot(p.conn)
    backups = set(p.layout.backup.iterdir())
    bad = tmp_path / "bad.aimms"
    bad.write_bytes(content)
    with pytest.raises(AimmsError) as ei:
        B.restore_project(p, bad)
    assert words in str(ei.value) and "bad.aimms" in str(ei.value)
    assert snapshot(p.conn) == before and set(p.layout.backup.iterdir()) == backups


def test_restore_needs_a_writable_project(filled):
    save = B.save_project(filled["project"])
    ro = Project.open(filled["project"].root)
    try:
        with pytest.raises(ReadOnlyError):
            B.restore_project(ro, save)
    finally:
        ro.close()


# -- archive --------------------------------------------------------------------------------
def test_archive_zips_the_project_consistently(filled, tmp_path):
    p = filled["project"]
    (p.layout.cache / "atlas").mkdir(parents=True)
    (p.layout.cache / "atlas" / "page_0.bin").write_bytes(b"x" * 1000)
    odd = p.layout.asset_dir("other") / "ünï cödé -dash.png"
    make_image(odd)
    # A write that may still sit in the WAL: the archived db must contain it.
    with transaction(p.db):
        p.conn.execute("UPDATE shots SET description='written last' WHERE shot_id=?", (filled["shots"][0],))
    seen = []
    out = B.archive_project(p, progress=lambda d, t: seen.append((d, t)))
    zpath = Path(out["path"])
    assert zpath.parent == p.root.resolve().parent and zpath.suffix == ".zip"
    assert not list(zpath.parent.glob(".*.partial"))
    assert seen and seen[-1][0] == seen[-1][1] and all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    with zipfile.ZipFile(zpath) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        pre = "proj/"
        assert all(n.startswith(pre) for n in names)
        assert not any(".aimms_fast_cache" in n for n in names)
        assert pre + "data/.aimms_fast.lock" not in names
        assert not any(n.endswith(("-wal", "-shm")) for n in names)
        for need in ["project_config.json", "data/shots.db", "data/shot_name_mapping.json",
                     "logs/project_log.log", f"media/{filled['shots'][0]}/video_02.mp4",
                     f"media/{filled['shots'][0]}/video_02.png", "media/other/ünï cödé -dash.png"]:
            assert pre + need in names, need
        info = z.getinfo(pre + f"media/{filled['shots'][0]}/video_02.mp4")
        assert info.compress_type == zipfile.ZIP_STORED
        assert z.getinfo(pre + "project_config.json").compress_type == zipfile.ZIP_DEFLATED
        z.extract(pre + "data/shots.db", tmp_path / "x")
        assert z.read(pre + f"media/{filled['shots'][0]}/video_02.mp4") == \
            p.layout.abs(f"media/{filled['shots'][0]}/video_02.mp4").read_bytes()
    with sqlite3.connect(tmp_path / "x" / "proj" / "data" / "shots.db") as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT description FROM shots WHERE shot_id=?",
                         (filled["shots"][0],)).fetchone()[0] == "written last"
    assert out["files"] == len(names)


def test_archive_to_chosen_folder_and_disk_full(filled, tmp_path, monkeypatch):
    p = filled["project"]
    dest = tmp_path / "my archives"
    out = B.archive_project(p, dest)
    assert Path(out["path"]).parent == dest
    # Archiving into the project folder itself must not zip its own partial output.
    inside = B.archive_project(p, p.root)
    with zipfile.ZipFile(inside["path"]) as z:
        assert not any(n.endswith(".partial") or n.endswith(Path(inside["path"]).name) for n in z.namelist())

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(zipfile._ZipWriteFile, "write", full)
    with pytest.raises(AimmsError) as ei:
        B.archive_project(p, tmp_path / "full")
    assert "disk full" in str(ei.value)
    assert list((tmp_path / "full").iterdir()) == []


# -- export starred takes ---------------------------------------------------------------------
def read_manifest(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def test_export_starred_copies_renamed_with_manifest(filled, tmp_path):
    p = filled["project"]
    s1, s2 = filled["shots"]
    dest = tmp_path / "hand off"
    seen = []
    out = B.export_starred(p, dest, progress=lambda d, t: seen.append((d, t)))
    files = sorted(f.name for f in dest.iterdir())
    assert files == sorted([
        "001_INT_EXT_Office_Day.mp4", "001_INT_EXT_Office_Day.png",     # chosen video + workflow PNG
        "001_INT_EXT_Office_Day_slot1.png", "001_INT_EXT_Office_Day_slot3.png",
        "002_Café_scène.webm", B.MANIFEST_NAME])
    assert (dest / "001_INT_EXT_Office_Day.mp4").read_bytes() == \
        p.layout.abs(f"media/{s1}/video_02.mp4").read_bytes()  # video_01 is the shot's placeholder
    assert (dest / "001_INT_EXT_Office_Day.png").read_bytes() == \
        p.layout.abs(f"media/{s1}/video_02.png").read_bytes()
    assert (dest / "001_INT_EXT_Office_Day_slot3.png").read_bytes() == \
        p.layout.abs(f"media/{s1}/base_04.png").read_bytes()  # base_01 is the shot's placeholder
    man = read_manifest(dest / B.MANIFEST_NAME)
    assert [m["exported_file"] for m in man][:2] == ["001_INT_EXT_Office_Day.mp4", "001_INT_EXT_Office_Day.png"]
    assert man[0]["kind"] == "video" and man[0]["notes"] == "the one" and man[0]["rating"] == "5"
    assert {m["slot"] for m in man if m["kind"] == "image"} == {"1", "3"}
    assert out["copied"] == 5 and out["placeholder"] == 0 and out["missing"] == 0
    assert seen[-1] == (4, 4)  # two videos and two reference images


def test_export_starred_placeholders_missing_and_duplicates(project, tmp_path, media_dir):
    a = add_shot(project, shot_name="Same", order_number=1)
    b = add_shot(project, shot_name="Same", order_number=1)
    c = add_shot(project, shot_name="-lead")
    for sid in (a, c):
        vid = project.conn.execute("SELECT take_id FROM takes WHERE shot_id=? AND take_type=?",
                                   (sid, A.FINAL_VIDEO)).fetchone()[0]
        star_take(project, vid)
    real = add_takes(project, b, [make_video(media_dir / "b.mp4")], storyboard="video")[0]
    star_take(project, real)
    os.unlink(project.layout.abs(f"media/{c}/video_01.mp4"))
    out = B.export_starred(project, tmp_path / "out", images=False)
    assert (out["copied"], out["placeholder"], out["missing"]) == (1, 3, 1)
    man = read_manifest(tmp_path / "out" / B.MANIFEST_NAME)
    assert [(m["shot_id"], m["kind"], m["status"]) for m in man] == [
        (str(a), "video", "placeholder"), (str(a), "workflow", "placeholder"),
        (str(b), "video", "copied"),
        (str(c), "video", "missing"), (str(c), "workflow", "placeholder")]
    # same order and name twice: the shot id keeps the second one apart
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == [f"001_Same_id{b}.mp4", B.MANIFEST_NAME]


def test_safe_filename():
    assert B.safe_filename('INT/EXT: "Office"? Day*') == "INT_EXT_Office_Day"
    assert B.safe_filename("  ...  ", "shot7") == "shot7"
    assert B.safe_filename("a\x00b\tc") == "a_b_c"
    assert B.safe_filename("-video-with-dash-") == "-video-with-dash-"
    assert len(B.safe_filename("x" * 300)) == 80


# -- shot_name_mapping.json -----------------------------------------------------------------
def test_mapping_stays_current_with_dated_copies_and_retention(project):
    lay = project.layout
    a = add_shot(project, shot_name="Alpha")
    b = add_shot(project, shot_name="Beta")
    assert orjson.loads(lay.mapping.read_bytes()) == {str(a): "Alpha", str(b): "Beta"}
    edit_shots(project, [b], shot_name="Beta 2")
    assert orjson.loads(lay.mapping.read_bytes()) == {str(a): "Alpha", str(b): "Beta 2"}
    dated = sorted(lay.backup.glob("shot_name_mapping_*.json"))
    assert len(dated) == 1 and orjson.loads(dated[0].read_bytes())[str(b)] == "Beta 2"
    old = lay.backup / "shot_name_mapping_20000101.json"
    recent = lay.backup / "shot_name_mapping_20000102.json"
    for f, days in ((old, 31), (recent, 29)):
        f.write_text("{}")
        t = time.time() - days * 86400
        os.utime(f, (t, t))
    delete_shots(project, [a])
    assert not old.exists() and recent.exists()
    assert orjson.loads(lay.mapping.read_bytes()) == {str(b): "Beta 2"}
