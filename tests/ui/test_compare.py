"""Compare view, tournament and cut points (issue 7 items 3–5), driven with real keys and mouse
under Xvfb, checked on screen pixels: frame numbers are read from each pane's picture in the
screenshot (clips made by aimms_fast.demo.numbered), colours from flat-colour clips, stars from
the database with sqlite3."""
from __future__ import annotations

import math
import sqlite3

import numpy as np
import pytest

from aimms_fast.demo.numbered import make_numbered_clip, read_frame_number
from tests.ui.conftest import build_project, close_to, pixels, region_mean, run_scenario, video_colour


def _add(root, shot_index: int, clips, *, star: int | None = None) -> list[str]:
    """Add clips as video takes of the shot_index-th shot; optionally star clip `star`."""
    from aimms_fast.ops.takes import add_takes, star_take
    from aimms_fast.project import Project
    from aimms_fast.store.shots import list_shots
    with Project.open(root) as p:
        sid = list_shots(p.conn)[shot_index]["shot_id"]
        ids = add_takes(p, sid, clips, storyboard="video")
        if star is not None:
            star_take(p, ids[star])
    return ids


def _numbers(step: dict) -> dict[int, int]:
    """Frame number read from each pane's picture in the screenshot."""
    img = pixels(step["png"]).astype("uint8")
    out = {}
    for k, (x0, y0, x1, y1) in step["pictures"]:
        crop = img[int(math.ceil(y0)) + 1:int(y1) - 1, int(math.ceil(x0)) + 1:int(x1) - 1]
        out[k] = read_frame_number(crop)
    return out


def _starred(root) -> dict[str, int]:
    with sqlite3.connect(root / "data" / "shots.db") as c:
        return dict(c.execute("SELECT take_id, starred FROM takes WHERE take_type='final_video'"))


# -- compare: frame accuracy -------------------------------------------------------------------------

@pytest.fixture
def numbered_project(tmp_path):
    root = build_project(tmp_path / "proj", [{"name": "HARBOUR_010"}, {"name": "MARKET_020"}])
    src = tmp_path / "clips"
    clips = [make_numbered_clip(src / "a.mp4", frames=48, gop=24),
             make_numbered_clip(src / "b.mp4", frames=48, gop=12, size=(256, 144)),
             make_numbered_clip(src / "c.mp4", frames=30, gop=30, bframes=0)]
    ids = _add(root, 0, clips)
    ids += _add(root, 1, [make_numbered_clip(src / "d.mp4", frames=24, gop=8),
                          make_numbered_clip(src / "e.mp4", frames=24, gop=8)])
    return root, ids


def test_compare_three_takes_show_the_same_frame_after_every_key(numbered_project, tmp_path):
    root, ids = numbered_project
    r = run_scenario("compare_frames", tmp_path, project=root, args={"take_ids": ids})
    assert r["errors"] == []
    assert r["after_add"] == ids[:3] and r["same_window"] and r["focused"]
    assert not r["focused_while_adding"]
    assert r["layout"] == "grid"
    want_master = {"open": 0, "right3": 3, "shift_right": 27, "end": 47, "left": 46, "shift_left": 22, "home": 0}
    lengths = [48, 48, 30]
    seen = {}
    for name, step in r["steps"]:
        assert step.get("settled", True), name
        got = _numbers(step)
        assert sorted(got) == [0, 1, 2], (name, got)
        m = step["index"]
        if name in want_master:
            assert m == want_master[name], (name, m)
        # frame sync: the same index in every pane, clamped to each take's length
        assert got == {k: min(m, lengths[k] - 1) for k in range(3)}, (name, m, got)
        seen[name] = m
    assert r["playing_after_space"] == 1.0
    assert 0 < seen["play_pause"] <= 47           # played from 0 for ~0.6 s, then paused
    assert r["rate_after_ll"] == 2.0 and r["rate_after_k"] == 0.0
    assert seen["shuttle"] > seen["play_pause"]


def test_compare_from_the_storyboard_with_keys_only(numbered_project, tmp_path):
    root, ids = numbered_project
    r = run_scenario("compare_keyboard_flow", tmp_path, project=root, args={"take_ids": ids})
    assert r["errors"] == []
    assert r["after_first_c"] == [ids[0]] and not r["compare_focused_1"]
    assert r["storyboard_selected"] == 1
    assert r["after_second_c"] == [ids[0], ids[3]] and not r["compare_focused_2"]
    assert r["compare_focused_3"]
    assert r["layouts"] == ["stack", "grid", "side"]
    assert r["after_full"] == [ids[0], ids[3], ids[1], ids[2]]   # 4 panes max: the fifth was refused
    assert r["after_remove"] == [ids[0], ids[3], ids[1]]
    assert r["mode_w"] == "wipe" and r["mode_d"] == "difference" and r["closed"]


def test_compare_time_sync_maps_the_same_fraction_of_each_duration(tmp_path):
    root = build_project(tmp_path / "proj", [{"name": "ONE"}])
    src = tmp_path / "clips"
    # (fps, frames): 2.0 s master, 2.5 s at 12 fps, 1.5 s at 30 fps
    spec = [(24.0, 48), (12.0, 30), (30.0, 45)]
    ids = _add(root, 0, [make_numbered_clip(src / f"t{i}.mp4", fps=fps, frames=n, gop=12)
                         for i, (fps, n) in enumerate(spec)])
    r = run_scenario("compare_time_sync", tmp_path, project=root, args={"take_ids": ids})
    assert r["errors"] == []
    assert r["sync"] == "time" and r["sync_after"] == "frame"
    dur = [n / fps for fps, n in spec]
    want_master = {"r5": 5, "shift_right": 29, "end": 47, "left": 46}

    def expected(i):
        frac = (i / 24.0) / dur[0]
        return {k: min(n - 1, int(math.floor(frac * dur[k] * fps + 1e-6))) for k, (fps, n) in enumerate(spec)}
    for name, step in r["steps"]:
        assert step["settled"], name
        assert step["index"] == want_master[name]
        got = _numbers(step)
        assert got == expected(step["index"]), (name, got, expected(step["index"]))
    assert expected(29) == {0: 29, 1: 18, 2: 27}   # the rule, spelled out once
    back = _numbers(r["frame_step"])
    assert back == {0: 46, 1: 29, 2: 44}           # frame sync again: same index, clamped


# -- compare: wipe, difference, blend, A/B, star --------------------------------------------------------

@pytest.mark.parametrize("backend", ["gl", "numpy"])
def test_compare_modes_give_the_expected_pixels(tmp_path, monkeypatch, backend):
    monkeypatch.setenv("AIMMS_LIVE_BACKEND", backend)
    root = build_project(tmp_path / "proj", [{"name": "COLOURS", "videos": [0, 3]}])
    from aimms_fast.project import Project
    from aimms_fast.store.takes import takes_for_shot
    with Project.open(root) as p:
        ids = [t.take_id for t in takes_for_shot(p.conn, 1, "video")]
    r = run_scenario("compare_modes", tmp_path, project=root, args={"take_ids": ids})
    assert r["errors"] == []
    if backend == "numpy":
        assert r["backend"] == "numpy"
    A, B = video_colour(0), video_colour(3)          # (0, 0, 255) and (0, 120, 255) at frame 0

    def at(step, fx0, fx1):
        img = pixels(step["png"])
        (_, (x0, y0, x1, y1)), = step["pictures"]
        w, h = x1 - x0, y1 - y0
        return region_mean(img, (x0 + fx0 * w, y0 + 0.3 * h, x0 + fx1 * w, y0 + 0.9 * h), inset=0.1)

    img = pixels(r["panes"]["png"])
    (ka, ra), (kb, rb) = r["panes"]["pictures"]
    assert close_to(region_mean(img, ra), A) and close_to(region_mean(img, rb), B)
    assert r["mode_w"] == "wipe" and r["wipe"]["param"] == 0.5
    assert close_to(at(r["wipe"], 0.05, 0.45), A) and close_to(at(r["wipe"], 0.55, 0.95), B)
    # the divider dragged with the mouse to a quarter
    assert abs(r["wipe_drag"]["param"] - 0.25) < 0.03
    assert close_to(at(r["wipe_drag"], 0.03, 0.2), A) and close_to(at(r["wipe_drag"], 0.32, 0.95), B)
    assert r["under_mouse_wipe_right"] == 1            # right of the divider is B
    assert r["mode_d"] == "difference"
    assert close_to(at(r["difference"], 0.05, 0.95), (0, 120, 0), tol=20)
    assert close_to(at(r["difference2"], 0.05, 0.95), (0, 240, 0), tol=24)
    assert close_to(at(r["blend"], 0.05, 0.95), (0, 90, 255), tol=16)   # A*0.25 + B*0.75
    assert r["mode_after_bb"] == "panes"
    assert r["solo"] == 1 and r["solo_again"] is None
    (k, rect), = r["solo_b"]["pictures"]
    assert k == 1 and close_to(region_mean(pixels(r["solo_b"]["png"]), rect), B)
    assert (rect[2] - rect[0]) > 1.5 * (rb[2] - rb[0])  # full size, not a half pane
    assert len(r["all_again"]["pictures"]) == 2
    assert r["under_mouse"] == 1
    assert "COLOURS" in r["tooltip"] and "take 02" in r["tooltip"]
    assert r["labels_after_star"] == [0, 1]
    assert _starred(root) == {ids[0]: 0, ids[1]: 1}
    with sqlite3.connect(root / "data" / "shots.db") as c:     # the held S starred once
        assert c.execute("SELECT COUNT(*) FROM fast_audit WHERE action IN ('star', 'unstar')").fetchone()[0] == 1


# -- tournament -----------------------------------------------------------------------------------

def test_tournament_number_keys_star_and_tab_walks_shots(tmp_path):
    root = build_project(tmp_path / "proj", [
        {"name": "FIRST", "videos": [1, 2, 3]},
        {"name": "NO_VIDEO", "images": [(200, 30, 30)]},
        {"name": "THIRD", "videos": [4, 5]},
    ])
    from aimms_fast.project import Project
    from aimms_fast.store.shots import list_shots
    from aimms_fast.store.takes import takes_for_shot
    with Project.open(root) as p:
        shots = [s["shot_id"] for s in list_shots(p.conn)]
        v1 = [t.take_id for t in takes_for_shot(p.conn, shots[0], "video")]
        v3 = [t.take_id for t in takes_for_shot(p.conn, shots[2], "video")]
        i2 = [t.take_id for t in takes_for_shot(p.conn, shots[1], "image")]
    r = run_scenario("tournament_keys", tmp_path, project=root,
                     args={"shot_id": shots[0], "image_shot_id": shots[1]})
    assert r["errors"] == []
    assert r["shot0"] == shots[0] and r["takes0"] == v1 and r["focused"]
    assert r["playing"] == 1.0                         # the grid plays in sync at once
    img = pixels(r["grid"])
    for k, rect in r["rects0"]:                        # each pane shows its own take's colour family
        c = region_mean(img, rect, inset=0.35)
        assert abs(c[1] - video_colour(k + 1)[1]) < 16, (k, c)
    assert r["after_2"] == {"starred_index": 2, "card_take": v1[1], "card_starred": True}
    starred = pixels(r["starred_shot"])

    def gold_frame(rect) -> int:       # gold pixels on the pane's left edge (the star mark)
        x0, y0, x1, y1 = (int(v) for v in rect)
        edge = starred[y0 + 40:y1 - 10, x0 + 1:x0 + 6]
        return int(np.sum(np.all(np.abs(edge - np.array((255, 200, 40))) <= 30, axis=-1)))
    assert gold_frame(r["rects0"][1][1]) > 100
    assert gold_frame(r["rects0"][0][1]) == 0 and gold_frame(r["rects0"][2][1]) == 0
    assert r["shot1"] == shots[2] and r["takes1"] == v3   # Tab skipped the shot without videos
    assert r["after_tab_1"] == {"starred_index": 1, "card_take": v3[0], "card_starred": True}
    assert r["shot_after_last_tab"] == shots[2]           # no shot after the last: stays
    assert r["shot_after_shift_tab"] == shots[0] and r["starred_back"] == 2
    assert r["after_9"] == 2
    assert r["image"] == {"same_window": True, "storyboard": "image", "shot": shots[1], "takes": i2,
                          "starred_index": 1}
    with sqlite3.connect(root / "data" / "shots.db") as c:       # image takes star into slot 1
        assert c.execute("SELECT starred FROM takes WHERE take_id = ?", (i2[0],)).fetchone()[0] == 1
    assert r["closed"]
    db = _starred(root)
    assert [db[t] for t in v1] == [0, 1, 0] and [db[t] for t in v3] == [1, 0]


# -- cut points -----------------------------------------------------------------------------------

def test_cutpoints_show_tail_and_head_and_open_compare(tmp_path):
    root = build_project(tmp_path / "proj", [{"name": "OUT_010"}, {"name": "IN_020"}, {"name": "GAP_030"}])
    src = tmp_path / "clips"
    a = _add(root, 0, [make_numbered_clip(src / "a0.mp4", frames=24, gop=24),
                       make_numbered_clip(src / "a1.mp4", frames=30, gop=10)], star=1)
    b = _add(root, 1, [make_numbered_clip(src / "b0.mp4", frames=20, gop=20)], star=0)
    _add(root, 2, [make_numbered_clip(src / "c0.mp4", frames=12)])   # not starred: a gap
    r = run_scenario("cutpoints_pairs", tmp_path, project=root)
    assert r["errors"] == []
    assert r["cuts"] == 2 and r["focused"]
    first = r["first"]
    assert first["indices"] == [29, 0]
    assert _numbers(first) == {0: 29, 1: 0}            # last frame of N, first of N+1, from pixels
    second = r["second"]
    assert second["selected"] == 1 and second["indices"][0] == 19
    img = pixels(second["png"])
    pics = dict((k, rect) for k, rect in second["pictures"])
    x0, y0, x1, y1 = pics[0]
    assert read_frame_number(img[int(y0) + 1:int(y1) - 1, int(x0) + 1:int(x1) - 1].astype("uint8")) == 19
    assert second["errors"][1] and "GAP_030" in second["errors"][1] and "none is starred" in second["errors"][1]
    assert "GAP_030" in second["note"]
    assert r["still_second"] == 1
    assert r["back"]["selected"] == 0
    assert r["compare_open"] == 1
    cmp = r["compare"]
    assert cmp["takes"] == [a[1], b[0]] and cmp["offsets"] == [0, -29]
    assert _numbers(cmp) == {0: 29, 1: 0}
    assert _numbers(r["compare_left"]) == {0: 28, 1: 0}


# -- images and a broken take ----------------------------------------------------------------------------

def test_compare_images_and_an_undecodable_take(tmp_path):
    RED, GREEN = (200, 30, 30), (30, 200, 30)
    root = build_project(tmp_path / "proj", [{"name": "STILLS", "images": [RED, GREEN], "videos": [2],
                                              "broken_videos": 1}])
    from aimms_fast.project import Project
    from aimms_fast.store.takes import takes_for_shot
    with Project.open(root) as p:
        imgs = [t.take_id for t in takes_for_shot(p.conn, 1, "image")]
        vids = [t.take_id for t in takes_for_shot(p.conn, 1, "video")]
    r = run_scenario("compare_images_and_broken", tmp_path, project=root, args={"take_ids": imgs + [vids[1]]})
    assert r["errors"] == []
    e = r["errors_panes"]
    assert e[0] is None and e[1] is None and e[2] and "video_02.mp4" in e[2]
    img = pixels(r["panes"]["png"])
    pics = dict((k, rect) for k, rect in r["panes"]["pictures"])
    assert close_to(region_mean(img, pics[0]), RED) and close_to(region_mean(img, pics[1]), GREEN)
    (_, (x0, y0, x1, y1)), = r["wipe"]["pictures"]
    img = pixels(r["wipe"]["png"])
    w = x1 - x0
    assert close_to(region_mean(img, (x0, y0, x0 + 0.45 * w, y1)), RED)
    assert close_to(region_mean(img, (x0 + 0.55 * w, y0, x1, y1)), GREEN)
    assert r["closed"]
    assert r["c_opened"] == [[vids[0]]]          # C on the first video card: its shown take
