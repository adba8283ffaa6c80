"""store/storyboard.py: which take represents a shot on its storyboard card, and what the card says
about it (take number, duration, resolution, prompt, file). Real project, real media."""
from __future__ import annotations

from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes, star_take
from aimms_fast.store.storyboard import load_storyboard, project_exists
from tests.conftest import make_image, make_video


def _shot_with_images(project, media_dir, name, colours):
    sid = add_shot(project, shot_name=name, section="Act 1", image_prompt=f"prompt of {name}",
                   placeholders=False)
    files = [make_image(media_dir / f"{name}_{i}.png", size=(96, 54), color=c) for i, c in enumerate(colours)]
    ids = add_takes(project, sid, files, storyboard="image")
    return sid, ids


def _row(rows, sid):
    return next(r for r in rows if r.shot_id == sid)


def test_first_take_missing_falls_back_to_the_first_take_whose_file_exists(project, media_dir):
    sid, ids = _shot_with_images(project, media_dir, "INT_HALL_010", [(200, 0, 0), (0, 200, 0), (0, 0, 200)])
    first = _row(load_storyboard(project.conn, "image", exists=project_exists(project)), sid)
    assert first.take_id == ids[0] and first.take_number == 1
    # The first take's file disappears (moved away by hand, a failed sync...): the card must show
    # take 02, not a MISSING FILE card, because the shot has good takes.
    project.layout.abs(first.rel).unlink()
    row = _row(load_storyboard(project.conn, "image", exists=project_exists(project)), sid)
    assert row.take_id == ids[1]
    assert row.take_number == 2
    assert row.rel.endswith("base_02.png")
    assert row.takes == 3


def test_starred_take_wins_even_over_earlier_takes(project, media_dir):
    sid, ids = _shot_with_images(project, media_dir, "EXT_ROAD_020", [(1, 2, 3), (4, 5, 6), (7, 8, 9)])
    star_take(project, ids[2], slot=1)
    row = _row(load_storyboard(project.conn, "image", exists=project_exists(project)), sid)
    assert (row.take_id, row.starred, row.take_number) == (ids[2], 1, 3)


def test_all_files_missing_shows_the_first_take_and_no_takes_shows_none(project, media_dir):
    sid, ids = _shot_with_images(project, media_dir, "EXT_GONE_030", [(9, 9, 9), (8, 8, 8)])
    empty = add_shot(project, shot_name="EXT_EMPTY_040", placeholders=False)
    for n in (1, 2):
        project.layout.abs(f"media/{sid}/base_{n:02d}.png").unlink()
    rows = load_storyboard(project.conn, "image", exists=project_exists(project))
    assert _row(rows, sid).take_id == ids[0]          # nothing exists: the first take (shown MISSING)
    e = _row(rows, empty)
    assert (e.take_id, e.rel, e.takes, e.take_number) == (None, None, 0, None)


def test_rows_carry_duration_resolution_prompt_and_companion(project, media_dir):
    sid = add_shot(project, shot_name="INT_LAB_050", video_prompt="a slow dolly into the lab",
                   placeholders=False)
    v = make_video(media_dir / "clip.mp4", frames=48, size=(160, 90), fps=24)
    make_image(v.with_suffix(".png"), size=(160, 90))
    (tid,) = add_takes(project, sid, [v], storyboard="video")
    row = _row(load_storyboard(project.conn, "video", exists=project_exists(project)), sid)
    assert row.take_id == tid and row.take_number == 1
    assert (row.width, row.height) == (160, 90)
    assert abs(row.duration - 2.0) < 0.05
    assert row.prompt == "a slow dolly into the lab"      # no embedded prompt: the shot's own
    assert row.companion is not None and row.companion.endswith("video_01.png")
    assert row.rel.endswith("video_01.mp4")
    one = load_storyboard(project.conn, "video", shot_id=sid, exists=project_exists(project))
    assert [r.shot_id for r in one] == [sid]


def test_a_real_take_beats_the_placeholder_aimms_starts_a_shot_with(project, media_dir):
    sid = add_shot(project, shot_name="EXT_NEW_060")            # AIMMS-style: placeholder take 01
    (real,) = add_takes(project, sid, [make_image(media_dir / "real.png")], storyboard="image")
    rows = load_storyboard(project.conn, "image", exists=project_exists(project))
    row = _row(rows, sid)
    assert (row.take_id, row.placeholder, row.takes) == (real, 0, 2)
    empty_only = add_shot(project, shot_name="EXT_NEW_070")
    ph = _row(load_storyboard(project.conn, "image", exists=project_exists(project)), empty_only)
    assert ph.placeholder == 1 and ph.take_number == 1


def test_order_and_counts_follow_the_shot_list(project, media_dir):
    a, _ = _shot_with_images(project, media_dir, "A_010", [(1, 1, 1)])
    b, _ = _shot_with_images(project, media_dir, "B_020", [(2, 2, 2), (3, 3, 3)])
    rows = load_storyboard(project.conn, "image")
    assert [(r.shot_id, r.takes) for r in rows] == [(a, 1), (b, 2)]
    assert [r.name for r in rows] == ["A_010", "B_020"]


def test_media_lines_for_the_shot_windows_takes(project, media_dir):
    from aimms_fast.store.storyboard import media_lines
    sid = add_shot(project, shot_name="INT_X_080", placeholders=False)
    v = make_video(media_dir / "c.mp4", frames=24, size=(160, 90), fps=24)
    (tid,) = add_takes(project, sid, [v], storyboard="video")
    rel = f"media/{sid}/video_01.mp4"
    got = media_lines(project.conn, [rel, "media/none.mp4"])
    assert list(got) == [rel]
    assert (got[rel].width, got[rel].height) == (160, 90) and abs(got[rel].duration - 1.0) < 0.05
