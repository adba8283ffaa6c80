"""store/review.py: takes with their shot, playable takes of a shot, shots with takes in story
order, and the starred sequence the cut-points view walks — on a real project with real clips."""
from __future__ import annotations

from aimms_fast.ops.shots import add_shot, move_shot
from aimms_fast.ops.takes import add_takes, delete_take, star_take
from aimms_fast.store.review import (CutShot, ReviewTake, review_shots, review_take, review_takes,
                                     shot_review_takes, starred_sequence)

from conftest import make_image, make_video


def _project(project, media_dir):
    """Four shots: A (3 videos + placeholder), B (placeholder only), C (1 video, 2 images), D (2 videos, Act 2)."""
    a = add_shot(project, shot_name="A", section="Act 1")
    b = add_shot(project, shot_name="B", section="Act 1")
    c = add_shot(project, shot_name="C", section="Act 1")
    d = add_shot(project, shot_name="D", section="Act 2")
    va = add_takes(project, a, [make_video(media_dir / f"a{i}.mp4", frames=4, color_seed=i) for i in range(3)],
                   storyboard="video")
    vc = add_takes(project, c, [make_video(media_dir / "c0.mp4", frames=4)], storyboard="video")
    ic = add_takes(project, c, [make_image(media_dir / f"c{i}.png") for i in range(2)], storyboard="image")
    vd = add_takes(project, d, [make_video(media_dir / f"d{i}.mp4", frames=4) for i in range(2)], storyboard="video")
    return (a, b, c, d), va, vc, ic, vd


def test_review_takes_keep_order_and_name_the_shot(project, media_dir):
    (a, b, c, d), va, vc, ic, vd = _project(project, media_dir)
    got = review_takes(project.conn, [vd[1], va[0], "no-such-take", vc[0]])
    assert [t.take_id for t in got] == [vd[1], va[0], vc[0]]
    t = got[0]
    assert isinstance(t, ReviewTake)
    assert (t.shot_id, t.shot_name, t.shot_order, t.section, t.take_number, t.storyboard) == (d, "D", 4, "Act 2", 3, "video")
    assert t.rel == f"media/{d}/video_03.mp4"
    assert t.label == "4. D · take 03"
    assert not t.placeholder and t.starred == 0
    assert review_take(project.conn, "nope") is None
    assert review_takes(project.conn, []) == []


def test_companion_png_is_attached(project, media_dir):
    s = add_shot(project, shot_name="S", placeholders=False)
    v = make_video(media_dir / "w.mp4", frames=3)
    make_image(v.with_suffix(".png"))
    tid = add_takes(project, s, [v], storyboard="video")[0]
    assert review_take(project.conn, tid).companion_rel == f"media/{s}/video_01.png"


def test_shot_review_takes_skip_placeholders_unless_asked(project, media_dir):
    (a, b, c, d), va, vc, ic, vd = _project(project, media_dir)
    assert [t.take_id for t in shot_review_takes(project.conn, a, "video")] == va
    allv = shot_review_takes(project.conn, a, "video", include_placeholders=True)
    assert len(allv) == 4 and allv[0].placeholder and allv[0].take_number == 1
    assert [t.take_id for t in shot_review_takes(project.conn, c, "image")] == ic
    assert shot_review_takes(project.conn, b, "video") == []


def test_review_shots_in_story_order_skip_shots_without_takes(project, media_dir):
    (a, b, c, d), *_ = _project(project, media_dir)
    assert review_shots(project.conn, "video") == [a, c, d]
    assert review_shots(project.conn, "image") == [c]
    assert review_shots(project.conn, "video", section="Act 2") == [d]
    move_shot(project, d, 0)
    assert review_shots(project.conn, "video") == [d, a, c]


def test_starred_sequence(project, media_dir):
    (a, b, c, d), va, vc, ic, vd = _project(project, media_dir)
    star_take(project, va[1])
    star_take(project, vd[0])
    seq = starred_sequence(project.conn, "video")
    assert all(isinstance(x, CutShot) for x in seq)
    assert [(x.shot_id, x.takes, x.starred.take_id if x.starred else None) for x in seq] == \
        [(a, 3, va[1]), (b, 0, None), (c, 1, None), (d, 2, vd[0])]
    assert seq[0].starred.take_number == 3 and seq[0].shot_name == "A"
    # moving the star follows; deleting the starred take leaves a gap
    star_take(project, va[2])
    delete_take(project, vd[0])
    seq = starred_sequence(project.conn, "video")
    assert [x.starred.take_id if x.starred else None for x in seq] == [va[2], None, None, None]
    assert [x.shot_id for x in starred_sequence(project.conn, "video", section="Act 2")] == [d]
    # images: the lowest starred slot
    star_take(project, ic[1], slot=2)
    star_take(project, ic[0], slot=3)
    img = {x.shot_id: x for x in starred_sequence(project.conn, "image")}
    assert img[c].starred.take_id == ic[1]
