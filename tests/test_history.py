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
