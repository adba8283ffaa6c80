"""store/stats.py: the project counts the CLI and the viewer share, and the sweep's take list read
from one snapshot on its own connection."""
from __future__ import annotations

from aimms_fast.store.db import transaction
from aimms_fast.store.stats import ProjectCounts, project_counts, sweep_paths
from tests.conftest import make_image, make_video


def _fill(project, media_dir):
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_placeholders, add_takes, toggle_star
    a = add_shot(project, shot_name="A_010", section="Act 1", placeholders=False)
    b = add_shot(project, shot_name="B_020", section="Act 2", placeholders=False)
    add_shot(project, shot_name="C_030", section="Act 2", placeholders=False)
    imgs = [make_image(media_dir / f"i{i}.png", color=(10 * i, 20, 30)) for i in range(3)]
    vids = [make_video(media_dir / f"v{i}.mp4", color_seed=i, frames=4) for i in range(2)]
    add_takes(project, a, imgs, storyboard="image")
    ids = add_takes(project, b, vids, storyboard="video")
    add_placeholders(project, b, 2, storyboard="video")
    toggle_star(project, ids[1])
    return a, b


def test_project_counts_are_exact(project, media_dir):
    _fill(project, media_dir)
    c = project_counts(project.conn)
    assert isinstance(c, ProjectCounts)
    assert (c.shots, c.sections, c.image_takes, c.video_takes) == (3, 2, 3, 4)
    assert (c.placeholders, c.starred_videos, c.assets) == (2, 1, 0)
    assert c.takes == 7
    assert c.to_dict()["video_takes"] == 4


def test_sweep_reads_one_snapshot_whatever_the_app_writes_meanwhile(project, media_dir):
    """A restore deleting and re-inserting every take while the sweep is half-way used to cut the
    sweep short (its cursor was on the same connection); its own snapshot lists every take."""
    _fill(project, media_dir)
    want = [r[0] for r in project.conn.execute(
        "SELECT t.file_path FROM fast_takes f JOIN takes t USING (take_id) WHERE f.placeholder = 0 "
        "AND t.take_type IN ('base_image', 'final_video') ORDER BY f.storyboard, f.shot_order, "
        "f.shot_id, f.take_number")]
    assert len(want) == 5
    sweep = sweep_paths(project.layout.db, batch=2)
    got = next(sweep)
    with transaction(project.db):                  # what a restore does on the UI's connection
        project.conn.execute("DELETE FROM takes")
    for chunk in sweep:
        got += chunk
    assert got == want
    assert list(sweep_paths(project.layout.db)) == []   # a new sweep sees the database as it is now


def test_sweep_closes_its_connection_when_stopped_early(project, media_dir):
    import sqlite3
    _fill(project, media_dir)
    sweep = sweep_paths(project.layout.db, batch=1)
    next(sweep)
    frame_locals = sweep.gi_frame.f_locals
    conn = frame_locals["db"].conn
    sweep.close()
    try:
        conn.execute("SELECT 1")
        closed = False
    except sqlite3.ProgrammingError:
        closed = True
    assert closed
