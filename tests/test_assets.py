"""Assets (issue 8): import into media/<kind>/ as AIMMS keeps them, rename, star, tags/notes, delete
to the trash, assign to shots; every step undone and redone gives back the tables and the files
exactly (table dumps and file hashes). CLI add-asset / assets."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops import assets as OA
from aimms_fast.ops import history, trash
from aimms_fast.ops.housekeeping import unused_files
from aimms_fast.ops.shots import add_shot

from tests.conftest import REALDATA, make_image, make_video

TABLES = ["assets", "fast_asset_meta", "fast_asset_shots", "fast_asset_files", "fast_trash", "shots"]


def dump(project) -> dict:
    out = {}
    for t in TABLES:
        cur = project.conn.execute(f"SELECT * FROM [{t}]")
        names = [d[0] for d in cur.description]
        out[t] = sorted((dict(zip(names, r)) for r in cur.fetchall()), key=lambda r: repr(sorted(r.items())))
    return out


def files(project) -> dict:
    root = project.layout.media
    return {p.relative_to(project.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def state(project):
    return dump(project), files(project)


def check_undo_redo(project, action):
    before = state(project)
    result = action()
    after = state(project)
    assert after != before, "the action changed nothing"
    e = history.undo(project)
    assert e is not None and e.what == "assets"
    assert state(project) == before
    r = history.redo(project)
    assert r is not None and r.id == e.id
    assert state(project) == after
    return result


@pytest.fixture
def fox(tmp_path) -> Path:
    """The Khronos Fox: a .gltf with an external .bin and a PNG texture."""
    src = REALDATA / "3d" / "gltf" / "Fox"
    dst = tmp_path / "fox_src"
    shutil.copytree(src, dst)
    return dst / "Fox.gltf"


def test_import_keeps_names_rows_and_undo(project, media_dir):
    img = make_image(media_dir / "Maya sheet.png", color=(10, 200, 30))
    vid = make_video(media_dir / "turnaround.mp4", frames=6)
    ids = check_undo_redo(project, lambda: OA.add_assets(project, [img, vid], kind="characters", tags="hero, act 1"))
    rows = {a.id_key: a for a in OA.list_assets(project)}
    assert set(rows) == set(ids) and all(i.startswith("asset_") and len(i) == 6 + 36 for i in ids)
    a, b = rows[ids[0]], rows[ids[1]]
    assert (a.name, a.kind, a.file_path) == ("Maya sheet", "characters", "media/characters/Maya sheet.png")
    assert b.file_path == "media/characters/turnaround.mp4" and b.tags == ["hero", "act 1"]
    assert (project.root / a.file_path).read_bytes() == img.read_bytes()
    # AIMMS's own row shape: created_date UTC …Z, starred 0
    r = project.conn.execute("SELECT asset_type, starred, created_date FROM assets WHERE id_key=?", (ids[0],)).fetchone()
    assert r[0] == "characters" and r[1] == 0 and r[2].endswith("Z")
    # a second file with the same name gets _2, the first is untouched
    again = OA.add_assets(project, [img], kind="characters", name="Maya (v2)")
    assert OA.get_asset(project, again[0]).file_path == "media/characters/Maya sheet_2.png"
    assert OA.get_asset(project, again[0]).name == "Maya (v2)"
    # images/videos were probed at import (thumbnails come from fast_media like takes)
    st = project.conn.execute("SELECT status FROM fast_media WHERE path=?", (b.file_path,)).fetchone()
    assert st and st[0] == "ok"
    assert not project.conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0]


def test_gltf_brings_its_buffers_and_textures(project, fox):
    ids = check_undo_redo(project, lambda: OA.add_assets(project, [fox], kind="other"))
    a = OA.get_asset(project, ids[0])
    assert a.file_path == "media/other/Fox/Fox.gltf"
    assert a.extra_files == ["media/other/Fox/Fox.bin", "media/other/Fox/Texture.png"]
    for rel in [a.file_path, *a.extra_files]:
        assert (project.root / rel).read_bytes() == (fox.parent / Path(rel).name).read_bytes()
    # the model loads from its new place with everything it refers to
    import trimesh
    scene = trimesh.load(project.root / a.file_path)
    assert sum(len(g.vertices) for g in scene.geometry.values()) > 1000
    # the extras are referenced: the Unused page leaves them alone
    assert not [f for f in unused_files(project) if f["path"].startswith("media/other/Fox/")]
    # a second Fox goes to its own folder
    b = OA.get_asset(project, OA.add_assets(project, [fox], kind="other")[0])
    assert b.file_path == "media/other/Fox_2/Fox.gltf" and len(b.extra_files) == 2


def test_gltf_with_a_missing_buffer_is_refused_naming_it(project, fox):
    (fox.parent / "Fox.bin").unlink()
    before = state(project)
    with pytest.raises(AimmsError) as ei:
        OA.add_assets(project, [fox], kind="other")
    assert "Fox.bin" in str(ei.value) and "missing" in str(ei.value)
    assert state(project) == before


def test_bad_inputs_are_clear_and_change_nothing(project, media_dir):
    txt = media_dir / "notes.txt"
    txt.write_text("hello")
    img = make_image(media_dir / "a.png")
    before = state(project)
    with pytest.raises(AimmsError, match="unsupported asset file type '.txt'"):
        OA.add_assets(project, [img, txt], kind="characters")
    with pytest.raises(AimmsError, match="unknown asset type 'props'"):
        OA.add_assets(project, [img], kind="props")
    with pytest.raises(AimmsError, match="file not found"):
        OA.add_assets(project, [media_dir / "gone.png"], kind="other")
    with pytest.raises(AimmsError, match="exactly one file"):
        OA.add_assets(project, [img, img], kind="other", name="x")
    with pytest.raises(NotFoundError):
        OA.rename_asset(project, "asset_nope", "x")
    assert state(project) == before


def test_rename_star_tags_notes_each_one_undo_step(project, media_dir):
    (aid,) = OA.add_assets(project, [make_image(media_dir / "office.png")], kind="locations")
    r = check_undo_redo(project, lambda: OA.rename_asset(project, aid, "  INT. OFFICE  "))
    assert r.label == "Renamed asset office to INT. OFFICE" and OA.get_asset(project, aid).name == "INT. OFFICE"
    assert OA.get_asset(project, aid).file_path == "media/locations/office.png"   # file keeps its name
    check_undo_redo(project, lambda: OA.star_asset(project, aid))
    assert OA.get_asset(project, aid).starred == 1
    assert OA.star_asset(project, aid).value == 0
    check_undo_redo(project, lambda: OA.set_asset_meta(project, aid, tags="night, rain,night", notes="wet floor"))
    a = OA.get_asset(project, aid)
    assert a.tags == ["night", "rain"] and a.notes == "wet floor"
    check_undo_redo(project, lambda: OA.add_tags(project, [aid], "act 2"))
    assert OA.get_asset(project, aid).tags == ["night", "rain", "act 2"]
    # search by name, tag and notes, case-insensitive; every word must match
    assert [x.id_key for x in OA.list_assets(project, search="RAIN")] == [aid]
    assert [x.id_key for x in OA.list_assets(project, search="office wet")] == [aid]
    assert OA.list_assets(project, search="office sunny") == []
    assert OA.list_assets(project, kind="characters") == []
    with pytest.raises(AimmsError, match="name is empty"):
        OA.rename_asset(project, aid, "   ")


def test_delete_to_trash_and_undo_brings_everything_back(project, media_dir, fox):
    sid = add_shot(project, shot_name="SHOT_010")
    (img,) = OA.add_assets(project, [make_image(media_dir / "theo.png")], kind="characters", tags="x", notes="n")
    (model,) = OA.add_assets(project, [fox], kind="other")
    OA.assign_to_shots(project, [img, model], [sid])
    before = state(project)
    check_undo_redo(project, lambda: OA.delete_assets(project, [img, model]))
    history.undo(project)
    assert state(project) == before
    history.redo(project)
    # gone from media/ and the tables; in the trash with its rows
    assert OA.list_assets(project) == []
    assert not [f for f in files(project) if f.startswith(("media/other/", "media/characters/"))]
    assert OA.assets_of_shot(project, sid) == []
    entry = trash.list_trash(project)[0]
    assert entry["kind"] == "asset"
    # restoring that trash entry (the Trash list's way) also brings back rows, links and files
    trash.undo(project, entry["id"])
    assert {a.id_key for a in OA.list_assets(project)} == {img, model}
    assert {a.id_key for a in OA.assets_of_shot(project, sid)} == {img, model}
    assert files(project) == before[1]
    assert OA.get_asset(project, img).notes == "n"


def test_assign_to_shots_and_back(project, media_dir):
    s1 = add_shot(project, shot_name="SHOT_010")
    s2 = add_shot(project, shot_name="SHOT_020")
    s3 = add_shot(project, shot_name="SHOT_030")
    (maya,) = OA.add_assets(project, [make_image(media_dir / "maya.png")], kind="characters")
    sids = OA.resolve_shots(project, ["SHOT_010", str(s3)])
    assert sids == [s1, s3]
    r = check_undo_redo(project, lambda: OA.assign_to_shots(project, [maya], sids))
    assert r.value == 2 and r.label == "Assigned maya to 2 shots"
    assert [s["shot_id"] for s in OA.shots_of_asset(project, maya)] == [s1, s3]
    assert [a.id_key for a in OA.assets_of_shot(project, s3)] == [maya]
    assert OA.assets_of_shot(project, s2) == [] and OA.shot_ids_with_asset(project, maya) == {s1, s3}
    assert OA.get_asset(project, maya).shot_count == 2
    assert OA.assign_to_shots(project, [maya], [s1]).value == 0   # already assigned: no new link
    check_undo_redo(project, lambda: OA.assign_to_shots(project, [maya], [s1], on=False))
    assert [s["shot_id"] for s in OA.shots_of_asset(project, maya)] == [s3]
    with pytest.raises(NotFoundError, match="no shot named or numbered 'NOPE'"):
        OA.resolve_shots(project, ["NOPE"])


# -- CLI ------------------------------------------------------------------------------------------
def run(*args, code: int = 0):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == code, r.output
    return r


def test_cli_add_asset_and_list(project, media_dir):
    root = project.root
    project.close()
    img = make_image(media_dir / "maya.png")
    glb = REALDATA / "3d" / "gltf" / "Duck.glb"
    out = json.loads(run("add-asset", root, img, "--type", "characters", "--name", "Maya", "--tags", "hero,lead",
                         "--json").output)
    assert out["added"] == 1 and out["assets"][0]["file_path"] == "media/characters/maya.png"
    assert out["assets"][0]["name"] == "Maya" and out["assets"][0]["tags"] == ["hero", "lead"]
    r = run("add-asset", root, glb, "--type", "other")
    assert "added other 'Duck' -> media/other/Duck.glb" in r.output
    listing = json.loads(run("assets", root, "--json").output)
    assert listing["count"] == 2 and {a["media"] for a in listing["assets"]} == {"image", "model"}
    assert all(a["file"] == "ok" for a in listing["assets"])
    only = json.loads(run("assets", root, "--type", "characters", "--search", "lead", "--json").output)
    assert [a["name"] for a in only["assets"]] == ["Maya"]
    assert "2 asset(s)" in run("assets", root).output
    # errors: exit 1 with one clear line; bad usage: exit 2
    r = run("add-asset", root, media_dir / "gone.png", "--type", "other", code=1)
    assert "file not found" in r.output
    run("add-asset", root, img, "--type", "props", code=2)
    (media_dir / "x.txt").write_text("x")
    assert "unsupported asset file type" in run("add-asset", root, media_dir / "x.txt", "--type", "other",
                                                code=1).output


def test_disk_full_on_the_second_file_leaves_nothing_half_imported(project, media_dir, fox, monkeypatch):
    """The crash-safe copy: a failure mid-import removes what this import copied, writes no row."""
    import errno

    from aimms_fast.ops import files as F
    before = state(project)
    real, calls = F._copy_bytes, []

    def full(src, dst, *sync):
        calls.append(src)
        if len(calls) == 3:          # a.png, Fox.gltf, then Fox.bin: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst, *sync)
    monkeypatch.setattr(F, "_copy_bytes", full)
    with pytest.raises(AimmsError, match="disk full"):
        OA.add_assets(project, [make_image(media_dir / "a.png"), fox], kind="other")
    assert state(project) == before
    assert not project.conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0]
    assert not [p for p in project.layout.media.rglob("*") if p.is_file()]
    assert history.peek_undo(project) is None


def test_cancel_during_the_copy_rolls_everything_back(project, media_dir, fox):
    """What the UI's import job does when Cancel is pressed: progress raises Cancelled mid-copy."""
    from aimms_fast.errors import Cancelled
    before = state(project)
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done == 2:
            raise Cancelled()
    with pytest.raises(Cancelled):
        OA.add_assets(project, [make_image(media_dir / "a.png"), fox], kind="other", progress=progress)
    assert seen[0] == (1, 4)        # a.png, then the glTF and its two files
    assert state(project) == before and history.peek_undo(project) is None
