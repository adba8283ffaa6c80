"""Undo/redo (ops/history.py) and the exact star toggle: every undoable action undone and redone
gives back the database rows and the files exactly; nothing to undo is None; a new change after an
undo drops the redo part."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aimms_fast.errors import AimmsError

from aimms_fast.ops import history
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes, star_take, toggle_star
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.takes import get_take, takes_for_shot

from conftest import make_image, make_video

# What "the project" is for exactness: AIMMS tables, our take rows and the trash index. Left out:
# fast_history (the stack itself), fast_audit (a log), fast_media/fast_gen/fast_search* (caches
# keyed by path, refreshed when a file changes).
TABLES = ["shots", "takes", "assets", "deleted_shots", "meta", "fast_takes", "fast_trash", "sqlite_sequence"]


def dump(project) -> dict:
    out = {}
    for t in TABLES:
        cur = project.conn.execute(f"SELECT * FROM [{t}]")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        if t == "sqlite_sequence":
            rows = [r for r in rows if r["name"] in ("shots", "deleted_shots", "fast_trash")]
        out[t] = sorted(rows, key=lambda r: repr(sorted(r.items())))
    return out


def files(project) -> dict:
    """Every file under media/ with its hash (the user's media, placeholders included)."""
    root = project.layout.media
    return {p.relative_to(project.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def state(project):
    return dump(project), files(project)


def check_undo_redo(project, action):
    """Run `action`, then undo it and redo it: each side must match exactly."""
    before = state(project)
    action()
    after = state(project)
    assert after != before, "the action changed nothing"
    e = history.undo(project)
    assert e is not None
    assert state(project) == before
    assert history.peek_redo(project) == e.label
    r = history.redo(project)
    assert r is not None and r.id == e.id
    assert state(project) == after
    return e


@pytest.fixture
def shot_with_videos(project, media_dir):
    sid = add_shot(project, shot_name="INT_OFFICE_DAWN_020")
    make_image(media_dir / "v0.png", color=(1, 2, 3))
    vids = add_takes(project, sid, [make_video(media_dir / f"v{i}.mp4", color_seed=i) for i in range(3)],
                     storyboard="video")
    imgs = add_takes(project, sid, [make_image(media_dir / f"i{i}.png", color=(i * 40, 9, 9)) for i in range(4)],
                     storyboard="image")
    return sid, vids, imgs


# -- the S key: an exact toggle ---------------------------------------------------------------------
def test_s_twice_on_a_starred_image_in_slot_2_changes_nothing(project, shot_with_videos):
    """Old star_take(project, id) (what S calls) moved a slot-2 image to slot 1, then unstarred it."""
    sid, _, imgs = shot_with_videos
    star_take(project, imgs[1], slot=2)
    before = dump(project)
    first = star_take(project, imgs[1])           # S
    assert first == 0 and get_take(project.conn, imgs[1]).starred == 0
    star_take(project, imgs[1])                   # S again
    assert dump(project) == before


def test_toggle_star_videos_and_labels(project, shot_with_videos):
    sid, vids, _ = shot_with_videos
    before = dump(project)
    r = toggle_star(project, vids[1])
    assert (r.take_id, r.starred, r.shot_id, r.unstarred) == (vids[1], 1, sid, [])
    assert r.label == "Starred take 03 of INT_OFFICE_DAWN_020"  # take 01 is the shot's placeholder
    r2 = toggle_star(project, vids[1])
    assert r2.starred == 0 and r2.label == "Unstarred take 03 of INT_OFFICE_DAWN_020"
    assert dump(project) == before  # S twice: no change
    toggle_star(project, vids[0])
    r3 = toggle_star(project, vids[2])  # the star moves (one chosen video per shot, as in AIMMS)
    assert r3.unstarred == [vids[0]]
    assert [get_take(project.conn, v).starred for v in vids] == [0, 0, 1]
    before = dump(project)
    toggle_star(project, vids[2])
    toggle_star(project, vids[2])
    assert dump(project) == before


def test_toggle_star_images_take_the_lowest_free_slot(project, shot_with_videos):
    sid, _, imgs = shot_with_videos
    assert [toggle_star(project, i).starred for i in imgs[:3]] == [1, 2, 3]
    assert toggle_star(project, imgs[2]).label == "Unstarred image 04 of INT_OFFICE_DAWN_020"
    assert toggle_star(project, imgs[2]).label == "Starred image 04 of INT_OFFICE_DAWN_020 as reference 3 (last frame)"
    with pytest.raises(AimmsError, match="all three reference slots"):
        toggle_star(project, imgs[3])
    assert toggle_star(project, imgs[1]).starred == 0    # frees slot 2
    assert toggle_star(project, imgs[3]).starred == 2
    assert toggle_star(project, imgs[3], slot=1).starred == 1  # the slot picker moves it; slot 1's holder loses it
    assert [get_take(project.conn, i).starred for i in imgs] == [0, 0, 3, 1]
    assert toggle_star(project, imgs[3], slot=1).starred == 0  # the same slot again: off


def test_star_is_undoable(project, shot_with_videos):
    sid, vids, _ = shot_with_videos
    toggle_star(project, vids[0])
    e = check_undo_redo(project, lambda: toggle_star(project, vids[2]))
    assert e.label == "Starred take 04 of INT_OFFICE_DAWN_020" and e.what == "takes" and e.shot_ids == [sid]


def test_nothing_to_undo_or_redo_is_none(project):
    assert history.undo(project) is None and history.redo(project) is None
    assert history.peek_undo(project) is None and history.peek_redo(project) is None


def test_a_new_change_after_undo_clears_redo(project, shot_with_videos):
    sid, vids, _ = shot_with_videos
    toggle_star(project, vids[0])
    history.undo(project)
    assert history.peek_redo(project)
    toggle_star(project, vids[1])
    assert history.peek_redo(project) is None and history.redo(project) is None
    assert history.peek_undo(project) == "Starred take 03 of INT_OFFICE_DAWN_020"


# -- every undoable action: undo and redo restore rows and files exactly ---------------------------
from aimms_fast.ops import trash as trash_ops  # noqa: E402
from aimms_fast.ops.shots import delete_shots, edit_shots, move_shot, reorder  # noqa: E402
from aimms_fast.ops.takes import add_placeholders, delete_take, replace_take, set_notes  # noqa: E402


def test_undo_redo_add_shot(project):
    add_shot(project, shot_name="first")
    e = check_undo_redo(project, lambda: add_shot(project, shot_name="second", section="B"))
    assert e.label == "Added shot second" and e.what == "shots"


def test_undo_redo_add_takes_with_companions(project, shot_with_videos, media_dir):
    sid, _, _ = shot_with_videos
    make_image(media_dir / "new" / "n0.png", color=(5, 5, 5))
    vids = [make_video(media_dir / "new" / f"n{i}.mp4", color_seed=7 + i) for i in range(2)]
    e = check_undo_redo(project, lambda: add_takes(project, sid, vids, storyboard="video"))
    assert e.label == "Added 2 video takes to INT_OFFICE_DAWN_020"
    # the undone files waited in the trash, not deleted
    history.undo(project)
    stash = [p.name for p in (project.layout.trash / "history").rglob("*") if p.is_file()]
    assert sorted(stash) == ["video_05.mp4", "video_05.png", "video_06.mp4"]


def test_undo_redo_add_placeholders(project, shot_with_videos):
    sid, _, _ = shot_with_videos
    check_undo_redo(project, lambda: add_placeholders(project, sid, 2, storyboard="video"))


def test_undo_redo_edit_one_and_many(project, shot_with_videos):
    sid, _, _ = shot_with_videos
    other = add_shot(project, shot_name="B")
    check_undo_redo(project, lambda: edit_shots(project, [sid], shot_name="RENAMED", description="x"))
    check_undo_redo(project, lambda: edit_shots(project, [sid, other], section="ACT 2", order_number=9))


def test_undo_redo_reorder(project):
    ids = [add_shot(project, shot_name=n) for n in "ABCD"]
    check_undo_redo(project, lambda: reorder(project, list(reversed(ids))))
    check_undo_redo(project, lambda: move_shot(project, ids[0], 2))


def test_undo_redo_delete_take(project, shot_with_videos):
    sid, vids, _ = shot_with_videos
    toggle_star(project, vids[0])
    e = check_undo_redo(project, lambda: delete_take(project, vids[0]))
    assert e.label == "Deleted take 02 of INT_OFFICE_DAWN_020"


def test_undo_redo_delete_shots(project, shot_with_videos):
    sid, _, _ = shot_with_videos
    other = add_shot(project, shot_name="B")
    e = check_undo_redo(project, lambda: delete_shots(project, [sid, other]))
    assert e.label == "Deleted 2 shots" and e.what == "shots"


def test_undo_redo_replace_video_keeps_pair(project, shot_with_videos, media_dir):
    sid, vids, _ = shot_with_videos
    toggle_star(project, vids[0])
    new = make_video(media_dir / "r" / "new.webm", codec="libvpx-vp9", color_seed=3)
    make_image(media_dir / "r" / "new.png", color=(7, 70, 7))
    check_undo_redo(project, lambda: replace_take(project, vids[0], new))
    # without a PNG beside it: regenerated from the video; undo/redo still exact
    bare = make_video(media_dir / "bare" / "b.mp4", color_seed=4)
    check_undo_redo(project, lambda: replace_take(project, vids[1], bare))


def test_undo_redo_notes(project, shot_with_videos):
    sid, vids, _ = shot_with_videos
    check_undo_redo(project, lambda: set_notes(project, vids[0], notes="good", rating=4))


def test_trash_restore_is_a_step_too(project, shot_with_videos):
    sid, vids, _ = shot_with_videos
    tid = delete_take(project, vids[1])
    check_undo_redo(project, lambda: trash_ops.undo(project, tid))
    # and the whole chain unwinds: restore undone, then the delete undone
    first = state(project)
    history.undo(project)
    history.undo(project)
    assert get_take(project.conn, vids[1]) is not None
    history.redo(project)
    history.redo(project)
    assert state(project) == first


def test_undo_refuses_when_the_project_changed_outside_the_history(project, shot_with_videos):
    sid, vids, _ = shot_with_videos
    toggle_star(project, vids[0])
    project.conn.execute("UPDATE takes SET starred = 0 WHERE take_id = ?", (vids[0],))  # another program
    with pytest.raises(AimmsError, match="changed outside the undo history"):
        history.undo(project)
    project.conn.execute("UPDATE takes SET starred = 1 WHERE take_id = ?", (vids[0],))
    delete_take(project, vids[1])
    moved = next(p for p in project.layout.trash.rglob("video_03.mp4"))
    moved.rename(moved.with_name("elsewhere.mp4"))
    before = state(project)
    with pytest.raises(AimmsError, match="no longer where the change left it"):
        history.undo(project)
    assert state(project) == before  # nothing half-done


def test_an_undo_killed_while_moving_files_is_finished_at_open(tmp_path, media_dir):
    """Simulates the crash window: state 'undoing' written, one of two files moved back."""
    from aimms_fast.project import Project
    from aimms_fast.store import history as H
    root = tmp_path / "p"
    with Project.create(root) as p:
        sid = add_shot(p, shot_name="K")
        make_image(media_dir / "k.png")
        vid = add_takes(p, sid, [make_video(media_dir / "k.mp4")], storyboard="video")[0]
        delete_take(p, vid)
        after = state(p)
        e = H.top_undo(p.conn)
        with p.db.conn:
            H.set_state(p.conn, e.id, "undoing")
        src, dst = H.moves_to(e.files, 1)[0]
        p.layout.abs(dst).parent.mkdir(parents=True, exist_ok=True)
        p.layout.abs(src).rename(p.layout.abs(dst))
    with Project.open(root) as p:
        assert p.recovery_report["history_rolled_back"] == 1
        assert state(p) == after  # files back where the (unchanged) rows expect them
        assert history.undo(p) is not None and get_take(p.conn, vid) is not None


# -- replace keeps the pair whole ----------------------------------------------------------------
def test_replace_without_a_png_beside_regenerates_it_and_backs_up_the_old_pair(project, shot_with_videos, media_dir):
    """Old replace_take dropped the companion row when the new video came without a PNG (NO PNG)."""
    from aimms_fast.media import workflow_png as W
    sid, vids, _ = shot_with_videos
    old = get_take(project.conn, vids[0])
    old_png = project.layout.abs(old.companion_path).read_bytes()
    bare = make_video(media_dir / "bare" / "b.mp4", color_seed=4)
    replace_take(project, vids[0], bare)
    t = get_take(project.conn, vids[0])
    assert t.companion_path == f"media/{sid}/video_02.png"
    assert project.layout.abs(t.companion_path).stat().st_size > 0
    assert W.validate_png(project.layout.abs(t.companion_path))[0]
    [st] = W.check(project, [vids[0]])
    assert st.status == W.PRESENT
    [backup] = list(project.layout.replaced.iterdir())
    assert (backup / "video_02.png").read_bytes() == old_png  # old PNG kept with the old video
    assert (backup / "video_02.mp4").exists()


def test_replace_picks_up_the_png_beside_the_new_video(project, shot_with_videos, media_dir):
    sid, vids, _ = shot_with_videos
    new = make_video(media_dir / "r" / "new.mp4", color_seed=3)
    png = make_image(media_dir / "r" / "new.png", color=(7, 70, 7))
    replace_take(project, vids[1], new)
    t = get_take(project.conn, vids[1])
    assert project.layout.abs(t.companion_path).read_bytes() == png.read_bytes()


# -- CSV import and restore are steps too ---------------------------------------------------------
def test_undo_redo_csv_import_new_and_updated_shots(project, shot_with_videos, tmp_path):
    from aimms_fast.ops.csv_io import import_csv
    sid, _, _ = shot_with_videos
    f = tmp_path / "list.csv"
    f.write_text(f"shot_id,shot_name,section,order_number\n{sid},RENAMED,ACT 1,5\n,NEW_A,ACT 2,\n,NEW_B,,\n")
    e = check_undo_redo(project, lambda: import_csv(project, f, update=True))
    assert e.label == "Imported 3 shots from list.csv" and e.what == "all"


def test_undo_redo_restore_with_files_back_from_the_trash(project, shot_with_videos, tmp_path):
    from aimms_fast.ops.backup import restore_project, save_project
    sid, vids, _ = shot_with_videos
    save = save_project(project)
    delete_take(project, vids[0])          # its files go to the trash; the save still has it
    edit_shots(project, [sid], description="changed after the save")
    add_shot(project, shot_name="later")
    e = check_undo_redo(project, lambda: restore_project(project, save))
    assert e.what == "all" and e.label.startswith("Restored ")
    assert get_take(project.conn, vids[0]) is not None


def test_valid_only_imports_just_the_valid_rows_in_one_step(project, tmp_path):
    from aimms_fast.ops.csv_io import import_csv
    f = tmp_path / "mixed.csv"
    f.write_text("shot_name,order_number\nGOOD_1,1\n,2\nGOOD_2,x\nGOOD_3,4\n")
    rep = import_csv(project, f)
    assert not rep.ok and rep.imported == 0 and rep.valid_rows == 2
    dry = import_csv(project, f, valid_only=True, dry_run=True)
    assert dry.ok and dry.skipped_lines == [3, 4] and dry.imported == 0
    before = state(project)
    rep = import_csv(project, f, valid_only=True)
    assert rep.ok and rep.imported == 2 and rep.skipped_lines == [3, 4]
    assert [i.column for i in rep.skipped] == ["shot_name", "order_number"]
    assert sorted(r[0] for r in project.conn.execute("SELECT shot_name FROM shots")) == ["GOOD_1", "GOOD_3"]
    assert history.peek_undo(project) == "Imported 2 shots from mixed.csv"
    history.undo(project)
    assert state(project) == before
    # a problem of the whole file still blocks
    bad = tmp_path / "bad.csv"
    bad.write_text("shot_name,shot nmae\nA,b\n")
    assert not import_csv(project, bad, valid_only=True).ok


# -- the CLI -------------------------------------------------------------------------------------
def test_cli_undo_redo_replace_and_valid_only(tmp_path, media_dir):
    import orjson
    from click.testing import CliRunner
    from aimms_fast.cli import cli
    from aimms_fast.project import Project

    def run(*args, code=0):
        r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert r.exit_code == code, r.output
        return r

    proj = tmp_path / "p"
    run("new", proj)
    assert "nothing to undo" in run("undo", proj).output
    assert orjson.loads(run("redo", proj, "--json").stdout) == {"done": None, "next_undo": None, "next_redo": None}
    csv = tmp_path / "l.csv"
    csv.write_text("shot_name,order_number\nA,1\nB,zz\n")
    out = run("import-csv", proj, csv, code=1).output
    assert "1 row(s) have no problem: import just those with --valid-only" in out
    rep = orjson.loads(run("import-csv", proj, csv, "--valid-only", "--json").stdout)
    assert rep["imported"] == 1 and rep["skipped_lines"] == [3]
    with Project.open(proj) as p:
        vid = add_takes(p, 1, [make_video(media_dir / "v.mp4")], storyboard="video")[0]
        before = state(p)
    new = make_video(media_dir / "n" / "n.mp4", color_seed=2)
    png = make_image(media_dir / "other.png", color=(3, 3, 3))
    t = orjson.loads(run("replace", proj, vid, new, "--png", png, "--json").stdout)
    assert t["file_path"] == "media/1/video_02.mp4" and t["companion_path"] == "media/1/video_02.png"
    u = orjson.loads(run("undo", proj, "--json").stdout)
    assert u["done"]["label"] == "Replaced take 02 of A" and u["next_redo"] == "Replaced take 02 of A"
    with Project.open(proj) as p:
        assert state(p) == before
    assert "redone: Replaced take 02 of A" in run("redo", proj).output
    s = orjson.loads(run("star", proj, vid, "--json").stdout)
    assert s == {"take_id": vid, "starred": 1, "label": "Starred take 02 of A"}
    run("replace", proj, "no-such-take", new, code=1)


def test_s_twice_on_an_unstarred_video_gives_the_star_back(project, shot_with_videos):
    """S on another video moves the shot's star to it (AIMMS); S again must not leave the shot with
    no star: S twice is no change (issue 13)."""
    sid, vids, _ = shot_with_videos
    toggle_star(project, vids[0])
    before = dump(project)
    assert toggle_star(project, vids[1]).unstarred == [vids[0]]
    r = toggle_star(project, vids[1])
    assert r.starred == 0 and r.label.endswith("(take 02 has the star again)")
    assert dump(project) == before
    assert [get_take(project.conn, v).starred for v in vids] == [1, 0, 0]
