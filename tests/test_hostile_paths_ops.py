"""Issue 14, containment of the commands that change files: workflow-png, replace, delete take and
shot, add-take/add-shot, export, the 3D viewer. As in test_hostile_paths.py: the outside tree and
the other project stay byte-identical and every command ends with a clear message."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile_fixture import SECRET, assert_clear, build, files_with, find_named, run_cli
from conftest import make_image


@pytest.fixture
def h(tmp_path):
    return build(tmp_path)


# -- workflow PNG regenerate ------------------------------------------------------------------------
def test_regenerate_never_writes_through_an_outside_companion_path(h):
    """The companion PNG row pointing at an outside text file: --regenerate overwrote it with PNG bytes."""
    h.set_path(h.vid_png, h.rel_out("secret.txt"))
    before = h.world()
    r = run_cli("workflow-png", h.root, "--regenerate")
    assert_clear(r)
    assert r.returncode == 1 and "[failed]" in r.stdout and "outside the project" in r.stdout
    assert h.world() == before
    assert files_with(h.root, SECRET) == []


def test_regenerate_does_not_read_through_a_link_leading_outside(h):
    """media/A/video_01.png -> outside/secret.txt: the old 'original' was copied into the project's backup."""
    png = h.path_of(h.vid_png)
    h.link(png, h.outside / "secret.txt")
    before = h.world()
    r = run_cli("workflow-png", h.root, "--regenerate")
    assert_clear(r)
    assert h.world() == before
    assert files_with(h.root, SECRET) == []
    r = run_cli("workflow-png", h.root, "--repair")
    assert_clear(r)
    assert h.world() == before and files_with(h.root, SECRET) == []


def test_check_lists_outside_pngs_as_invalid(h):
    h.set_path(h.vid_png, "C:\\Users\\x\\video_01.png")
    with h.open() as p:
        from aimms_fast.media.workflow_png import check
        st = check(p)[0]
    assert st.status == "invalid" and "outside the project" in st.reason


# -- replace -----------------------------------------------------------------------------------------
def test_replace_of_take_in_another_project_leaves_that_file(h, tmp_path):
    h.set_path(h.img1, "../other/" + h.other_file)
    new = make_image(tmp_path / "new.png", color=(9, 9, 9))
    before = h.world()
    r = run_cli("replace", h.root, h.img1, new)
    assert_clear(r, ok=True)
    assert h.world() == before
    rel = h.path_of(h.img1)
    assert rel.startswith(f"media/{h.shot_a}/") and (h.root / rel).read_bytes() == new.read_bytes()


def test_replace_never_overwrites_another_takes_file(h, tmp_path):
    """Replace to a new extension wrote over media/A/base_01.jpg, which was image 2's file."""
    a = h.root / f"media/{h.shot_a}"
    os.rename(a / "base_02.png", a / "base_01.jpg")
    h.set_path(h.img2, f"media/{h.shot_a}/base_01.jpg")
    img2_bytes = (a / "base_01.jpg").read_bytes()
    new = make_image(tmp_path / "new.jpg", color=(9, 99, 9))
    r = run_cli("replace", h.root, h.img1, new, "--json")
    assert_clear(r, ok=True)
    assert (a / "base_01.jpg").read_bytes() == img2_bytes
    rel = h.path_of(h.img1)
    assert rel != f"media/{h.shot_a}/base_01.jpg" and (h.root / rel).read_bytes() == new.read_bytes()
    assert h.path_of(h.img2) == f"media/{h.shot_a}/base_01.jpg"


def test_replace_never_overwrites_an_unreferenced_file(h, tmp_path):
    a = h.root / f"media/{h.shot_a}"
    (a / "base_01.jpg").write_bytes(b"someone's file")
    new = make_image(tmp_path / "new.jpg", color=(9, 99, 9))
    with h.open() as p:
        from aimms_fast.ops.takes import replace_take
        rel = replace_take(p, h.img1, new)
    assert (a / "base_01.jpg").read_bytes() == b"someone's file"
    assert rel != f"media/{h.shot_a}/base_01.jpg"


def test_replace_of_a_take_whose_file_links_outside(h, tmp_path):
    h.link(h.path_of(h.img1), h.outside / "victim.png")
    new = make_image(tmp_path / "new.png", color=(9, 9, 9))
    before = h.world()
    with h.open() as p:
        from aimms_fast.ops.takes import replace_take
        replace_take(p, h.img1, new)
    assert h.world() == before
    assert not any(Path(d).name.endswith(h.img1) and any(Path(d).glob("*.png"))
                   for d in (h.root / "data/backup/replaced").iterdir())


# -- delete -------------------------------------------------------------------------------------------
def test_delete_take_with_outside_path_moves_nothing_in(h):
    h.set_path(h.img2, h.rel_out("secret.txt"))
    before = h.world()
    with h.open() as p:
        from aimms_fast.ops import history
        from aimms_fast.ops.takes import delete_take
        delete_take(p, h.img2)
        assert p.conn.execute("SELECT COUNT(*) FROM takes WHERE take_id=?", (h.img2,)).fetchone()[0] == 0
        history.undo(p)   # the record comes back; still nothing moved
        assert p.conn.execute("SELECT file_path FROM takes WHERE take_id=?", (h.img2,)).fetchone()[0] \
            == h.rel_out("secret.txt")
        history.redo(p)
    assert h.world() == before
    assert files_with(h.root, SECRET) == []


def test_delete_take_whose_file_is_a_link_moves_the_link_only(h):
    h.link(h.path_of(h.img2), h.outside / "secret.txt")
    before = h.world()
    with h.open() as p:
        from aimms_fast.ops.takes import delete_take
        from aimms_fast.ops.trash import undo
        tid = delete_take(p, h.img2)
        trashed = find_named(h.root / "data/trash", "base_02.png")
        assert len(trashed) == 1 and trashed[0].is_symlink()
        undo(p, tid)
    assert h.world() == before
    assert (h.root / h.path_of(h.img2)).is_symlink()


def test_delete_shot_does_not_trash_another_shots_file_through_a_link(h):
    """delete-shot A with media/A/alias.png -> ../B/base_01.png moved shot B's file to the trash."""
    b_file = h.root / h.path_of(h.img_b)
    data = b_file.read_bytes()
    h.link(f"media/{h.shot_a}/alias.png", f"../{h.shot_b}/{b_file.name}")
    r = run_cli("delete-shot", h.root, str(h.shot_a))
    assert_clear(r, ok=True)
    assert b_file.is_file() and not b_file.is_symlink() and b_file.read_bytes() == data
    links = find_named(h.root / "data/trash", "alias.png")
    assert len(links) == 1 and links[0].is_symlink()
    assert_clear(run_cli("undo", h.root), ok=True)
    assert (h.root / f"media/{h.shot_a}/alias.png").is_symlink() and b_file.read_bytes() == data


def test_delete_shot_keeps_a_file_another_shot_uses(h):
    """A take of shot B naming shot A's file: deleting A must not take that file away from B."""
    shared = h.path_of(h.img1)
    h.set_path(h.img_b, shared)
    with h.open() as p:
        from aimms_fast.ops.shots import delete_shots
        delete_shots(p, [h.shot_a])
    assert (h.root / shared).is_file()


def test_delete_shot_over_folder_link_outside_is_a_clear_error(h):
    import shutil
    shutil.rmtree(h.root / f"media/{h.shot_c}")
    h.link(f"media/{h.shot_c}", h.outside / "dir")
    before = h.world()
    r = run_cli("delete-shot", h.root, str(h.shot_c))
    assert_clear(r, ok=False)
    assert "symlink" in r.stderr and f"media/{h.shot_c}" in r.stderr
    assert h.world() == before
    with h.db() as c:  # nothing deleted
        assert c.execute("SELECT COUNT(*) FROM shots WHERE shot_id=?", (h.shot_c,)).fetchone()[0] == 1


def test_delete_shot_with_link_to_a_folder_outside_inside_its_folder(h):
    h.link(f"media/{h.shot_a}/sub", h.outside / "dir")
    before = h.world()
    assert_clear(run_cli("delete-shot", h.root, str(h.shot_a)), ok=True)
    assert h.world() == before
    assert [p for p in find_named(h.root / "data/trash", "sub") if p.is_symlink()]


# -- adding files ---------------------------------------------------------------------------------------
def test_add_take_into_a_shot_folder_linking_outside_is_refused(h, tmp_path):
    import shutil
    shutil.rmtree(h.root / f"media/{h.shot_c}")
    h.link(f"media/{h.shot_c}", h.outside / "dir")
    new = make_image(tmp_path / "n.png")
    before = h.world()
    r = run_cli("add-take", h.root, "--shot", str(h.shot_c), "--image", new)
    assert_clear(r, ok=False)
    assert "outside the project" in r.stderr
    assert h.world() == before


def test_add_shot_never_writes_placeholders_through_a_linked_folder(h):
    nxt = max(h.shot_a, h.shot_b, h.shot_c) + 1
    (h.outside / "empty").mkdir()
    h.link(f"media/{nxt}", h.outside / "empty")
    before = h.world()
    r = run_cli("add-shot", h.root, "--name", "NEW_040")
    assert_clear(r)
    assert h.world() == before


@pytest.mark.parametrize("cmd", ["add-take", "replace"])
def test_planted_temp_name_link_is_never_written_through(h, tmp_path, cmd):
    """A shared project can hold `base_03.png.aimms-partial -> outside file` where our next copy
    writes its temp file: the copy must replace the link, not write into its target."""
    a = f"media/{h.shot_a}"
    for name in ("base_03.png.aimms-partial", "base_01.png.aimms-replacing.aimms-partial",
                 "base_03.png.aimms-replacing.aimms-partial"):
        h.link(f"{a}/{name}", h.outside / "secret.txt")
    new = make_image(tmp_path / "n.png", color=(7, 7, 7))
    before = h.world()
    if cmd == "add-take":
        r = run_cli("add-take", h.root, "--shot", str(h.shot_a), "--image", new)
    else:
        r = run_cli("replace", h.root, h.img1, new)
    assert_clear(r, ok=True)
    assert h.world() == before
    assert (h.outside / "secret.txt").read_bytes() == SECRET


def test_html_export_never_copies_outside_files(h, tmp_path):
    """Starred takes whose path climbs out, or whose file is a link leading out: the export says
    why and leaves a gap; no byte of the outside files lands in the export."""
    h.set_path(h.img_b, h.rel_out("victim.png"))
    h.link(h.path_of(h.img1), h.outside / "victim.png")
    with h.db() as c:
        c.executemany("UPDATE takes SET starred=1 WHERE take_id=?", [(h.img1,), (h.img_b,), (h.img_c,)])
    victim = (h.outside / "victim.png").read_bytes()
    before = h.world()
    out = tmp_path / "review"
    r = run_cli("export", h.root, "--format", "html", "--out", out, "--storyboard", "image")
    assert_clear(r, ok=True)
    assert "outside the project" in r.stdout + r.stderr
    assert h.world() == before
    assert [p for p in out.rglob("*") if p.is_file() and p.read_bytes() == victim] == []


def test_take_naming_the_database_through_a_folder_link_cannot_trash_it(h):
    """media/lnk -> ../data and a take `media/lnk/shots.db`: deleting the take moved the database."""
    h.link("media/lnk", "../data")
    h.set_path(h.img2, "media/lnk/shots.db")
    with h.open() as p:
        from aimms_fast.ops.containment import outside_records
        assert [x["take_id"] for x in outside_records(p)] == [h.img2]
        from aimms_fast.ops.takes import delete_take
        delete_take(p, h.img2)
    assert (h.root / "data/shots.db").is_file() and not (h.root / "data/shots.db").is_symlink()
    assert_clear(run_cli("info", h.root), ok=True)


@pytest.mark.parametrize("uri", ["../../../outside/secret.txt", "ABS", "sub%2F..%2F..%2F..%2F..%2Foutside%2Fsecret.txt",
                                 "link.bin"])
def test_gltf_model_cannot_make_the_viewer_read_outside(h, uri):
    """A .gltf in a shared project naming a buffer outside its folder (or a link leading out)."""
    import json
    from aimms_fast.errors import MediaError
    from aimms_fast.viewer3d import cache, gltf
    d = h.root / "media/other"
    d.mkdir(parents=True, exist_ok=True)
    if uri == "ABS":
        uri = str(h.outside / "secret.txt")
    if uri == "link.bin":
        os.symlink(h.outside / "secret.txt", d / "link.bin")
    model = d / "m.gltf"
    model.write_text(json.dumps({"asset": {"version": "2.0"}, "buffers": [{"uri": uri, "byteLength": 10}]}))
    with pytest.raises(MediaError, match="outside its folder"):
        gltf.side_file(model, uri)
    with pytest.raises(MediaError, match="outside its folder"):
        gltf.load(model)
    # the cache key does not read it either: the key is the same as for a missing sidecar
    k1 = cache.content_key(model)
    (h.outside / "secret.txt").write_bytes(b"changed")
    assert cache.content_key(model) == k1


def test_replace_with_a_new_name_undoes_and_redoes(h, tmp_path):
    """The next free name replace picked (base_01.jpg was taken) comes and goes with undo/redo."""
    a = h.root / f"media/{h.shot_a}"
    (a / "base_01.jpg").write_bytes(b"someone's file")
    old = (a / "base_01.png").read_bytes()
    new = make_image(tmp_path / "new.jpg", color=(9, 99, 9))
    with h.open() as p:
        from aimms_fast.ops import history
        from aimms_fast.ops.takes import replace_take
        rel = replace_take(p, h.img1, new)
        assert not (a / "base_01.png").exists()
        history.undo(p)
        assert h.path_of(h.img1) == f"media/{h.shot_a}/base_01.png" and (a / "base_01.png").read_bytes() == old
        assert not (h.root / rel).exists()
        history.redo(p)
        assert h.path_of(h.img1) == rel and (h.root / rel).read_bytes() == new.read_bytes()
    assert (a / "base_01.jpg").read_bytes() == b"someone's file"
