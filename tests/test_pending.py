"""store/pending.py: the one crash-safe way new files and their rows enter a project (takes, CSV
placeholders and workflow PNGs all use it)."""
from __future__ import annotations

import uuid

import pytest

from aimms_fast.errors import AimmsError
from aimms_fast.ops.shots import add_shot
from aimms_fast.project import Project
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.pending import PARTIAL_SUFFIX, STAGED_SUFFIX, pending_files, register
from aimms_fast.store.takes import insert_take

from conftest import make_image


def pending(project) -> list[str]:
    return [r[0] for r in project.conn.execute("SELECT path FROM fast_pending_files")]


def take_paths(project) -> set[str]:
    return {r[0] for r in project.conn.execute("SELECT file_path FROM takes")}


def test_files_and_rows_arrive_together(project, media_dir):
    sid = add_shot(project, shot_name="P", placeholders=False)
    src = make_image(media_dir / "a.png")
    rel = f"media/{sid}/base_01.png"
    with pending_files(project.db, project.layout, [rel]) as pf:
        assert pending(project) == [rel]  # registered (committed) before any byte is written
        pf.copy(src, rel)
        assert not project.layout.abs(rel).with_name("base_01.png" + PARTIAL_SUFFIX).exists()
        with pf.commit() as c:
            insert_take(c, take_id=str(uuid.uuid4()), shot_id=sid, take_type=A.BASE_IMAGE, rel=rel,
                        storyboard="image", number=1, order=1)
    assert pending(project) == [] and rel in take_paths(project)
    assert project.layout.abs(rel).read_bytes() == src.read_bytes()


@pytest.mark.parametrize("where", ["copying", "inserting"])
def test_a_failure_takes_back_the_files_it_wrote(project, media_dir, where):
    sid = add_shot(project, shot_name="P", placeholders=False)
    src = make_image(media_dir / "a.png")
    rels = [f"media/{sid}/base_0{i}.png" for i in (1, 2)]
    with pytest.raises(RuntimeError):
        with pending_files(project.db, project.layout, rels) as pf:
            pf.copy(src, rels[0])
            if where == "copying":
                raise RuntimeError("disk went away")
            pf.create_empty(rels[1])
            with pf.commit() as c:
                insert_take(c, take_id=str(uuid.uuid4()), shot_id=sid, take_type=A.BASE_IMAGE, rel=rels[0],
                            storyboard="image", number=1, order=1)
                raise RuntimeError("constraint failed")
    assert pending(project) == [] and take_paths(project) == set()
    assert not any(project.layout.abs(r).exists() for r in rels)


def test_an_existing_file_is_never_overwritten_or_removed(project, media_dir):
    sid = add_shot(project, shot_name="P", placeholders=False)
    rel = f"media/{sid}/base_01.png"
    stray = make_image(project.layout.abs(rel), color=(1, 1, 1))
    data = stray.read_bytes()
    with pytest.raises(AimmsError, match="already exists"):
        with pending_files(project.db, project.layout, [rel]) as pf:
            pf.copy(make_image(media_dir / "a.png"), rel)
    assert stray.read_bytes() == data and pending(project) == []


def test_staged_copy_swaps_in_over_the_old_file(project, media_dir):
    sid = add_shot(project, shot_name="P", placeholders=False)
    rel = f"media/{sid}/base_01.png"
    make_image(project.layout.abs(rel), color=(1, 1, 1))
    new = make_image(media_dir / "new.png", color=(9, 9, 9))
    with pending_files(project.db, project.layout, [rel]) as pf:
        staged = pf.copy(new, rel, staged=True)
        assert staged.name == "base_01.png" + STAGED_SUFFIX
        pf.swap_in(rel)
        with pf.commit():
            pass
    assert project.layout.abs(rel).read_bytes() == new.read_bytes() and not staged.exists()


def test_a_block_that_forgets_to_commit_is_an_error(project, media_dir):
    sid = add_shot(project, shot_name="P", placeholders=False)
    rel = f"media/{sid}/base_01.png"
    with pytest.raises(AimmsError, match="no rows committed"):
        with pending_files(project.db, project.layout, [rel]) as pf:
            pf.create_empty(rel)
    assert not project.layout.abs(rel).exists() and pending(project) == []


def test_what_a_crash_leaves_is_cleaned_at_the_next_open(tmp_path, media_dir):
    """The state a process killed between copy and commit leaves: registrations, one finished
    copy, one temp copy. Recovery trashes the finished one, deletes the temp one."""
    root = tmp_path / "p"
    with Project.create(root) as p:
        sid = add_shot(p, shot_name="P", placeholders=False)
        done, half = f"media/{sid}/base_01.png", f"media/{sid}/base_02.png"
        register(p.db, [done, half])
        make_image(p.layout.abs(done))
        partial = p.layout.abs(half).with_name("base_02.png" + PARTIAL_SUFFIX)
        partial.write_bytes(b"\x89PNG half")
    with Project.open(root) as p:
        rep = p.recovery_report
        assert rep["trashed"] == [done] and rep["partials_removed"] == 1
        assert pending(p) == [] and not p.layout.abs(done).exists() and not partial.exists()
        assert [x.name for x in p.layout.trash.rglob("*.png")] == ["base_01.png"]


def test_regenerated_workflow_png_goes_through_pending(project, media_dir):
    from aimms_fast.media import workflow_png as W
    from aimms_fast.ops.takes import add_takes
    from conftest import make_video
    sid = add_shot(project, shot_name="W", placeholders=False)
    vid = add_takes(project, sid, [make_video(media_dir / "v.mp4")], storyboard="video")[0]
    [st] = W.regenerate(project, [vid])
    assert st.action == "regenerated" and st.png == f"media/{sid}/video_01.png"
    assert pending(project) == [] and st.png in take_paths(project)
