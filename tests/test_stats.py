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


# -- the Stats page's figures (project_stats) ----------------------------------------------------
def test_project_stats_against_a_hand_built_project(project, media_dir):
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_placeholders, add_takes, toggle_star
    from aimms_fast.store.stats import histogram, project_stats
    a, b = _fill(project, media_dir)          # A: 3 images; B: 2 videos + 2 placeholders, 1 starred; C: none
    d = add_shot(project, shot_name="D_040", section="Act 1", placeholders=False)
    ids = add_takes(project, d, [make_image(media_dir / "d.png", color=(1, 2, 3))], storyboard="image")
    toggle_star(project, ids[0])
    add_placeholders(project, d, 1, storyboard="image")
    # one take added "yesterday" (AIMMS stamps created_date in UTC ISO)
    with transaction(project.db):
        project.conn.execute("UPDATE takes SET created_date = '2026-01-02T10:00:00Z' WHERE take_id = ?", (ids[0],))
        # a file the media sweep has not measured yet
        project.conn.execute("DELETE FROM fast_media WHERE path = (SELECT file_path FROM takes WHERE take_id = ?)",
                             (ids[0],))
    st = project_stats(project.conn)
    order = [r[0] for r in project.conn.execute("SELECT shot_id FROM shots ORDER BY order_number")]
    assert order[:2] == [a, b] and st.shots == 4
    assert st.image_takes_per_shot == [3, 0, 0, 1] and st.video_takes_per_shot == [0, 2, 0, 0]
    assert st.placeholders == 3                                  # 2 video + 1 image placeholders
    secs = {s.section: s for s in st.sections}
    assert [s.section for s in st.sections] == ["Act 1", "Act 2"]
    assert (secs["Act 1"].shots, secs["Act 1"].shots_with_image, secs["Act 1"].starred_image) == (2, 2, 1)
    assert (secs["Act 2"].shots, secs["Act 2"].shots_with_video, secs["Act 2"].starred_video) == (2, 1, 1)
    assert secs["Act 1"].starred_video == secs["Act 2"].starred_image == 0
    assert st.files_by_kind["base_image"] == 4 and st.files_by_kind["final_video"] == 2
    # sizes: what fast_media measured; the unmeasured file counts as 0 and is reported
    sizes = {rel: project.layout.abs(rel).stat().st_size for (rel,) in project.conn.execute(
        "SELECT t.file_path FROM takes t JOIN fast_takes f USING (take_id) WHERE f.placeholder = 0")}
    measured = dict(project.conn.execute("SELECT path, size FROM fast_media").fetchall())
    assert all(measured[p] == sizes[p] for p in measured if p in sizes)
    kinds = dict(project.conn.execute("SELECT file_path, take_type FROM takes").fetchall())
    want: dict = {}
    for p, n in measured.items():
        if p in kinds:
            want[kinds[p]] = want.get(kinds[p], 0) + n
    assert {k: v for k, v in st.bytes_by_kind.items() if v} == want
    assert st.unmeasured_files == sum(1 for p in sizes if p not in measured) == 1   # the one deleted above
    assert sum(s.bytes for s in st.sections) == st.total_bytes == sum(want.values())
    today = project.conn.execute("SELECT substr(MAX(created_date), 1, 10) FROM takes").fetchone()[0]
    assert st.takes_per_day == [("2026-01-02", 1), (today, 5)]
    assert histogram(st.image_takes_per_shot) == ([0, 1, 2, 3], [2, 1, 0, 1])
    assert histogram([]) == ([], [])
    assert histogram(list(range(100)), max_bins=10)[0][:3] == [0, 10, 20]


def test_project_stats_of_an_empty_project(project):
    from aimms_fast.store.stats import project_stats
    st = project_stats(project.conn)
    assert (st.shots, st.sections, st.total_bytes, st.takes_per_day) == (0, [], 0, [])
