"""Review polish (wave 2): player look-ahead budget, cut pairs in compare, "Save take as…", editor
trims in the player. Real keys, frame numbers read from screenshot pixels."""
from __future__ import annotations

import pytest

from tests.ui.conftest import run_scenario


def _project(root, *, sizes=((1280, 720),), frames=48):
    from aimms_fast.demo.numbered import make_numbered_clip
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    src = root.parent / "src"
    src.mkdir(parents=True, exist_ok=True)
    clips = [make_numbered_clip(src / f"c{k}.mp4", frames=frames, gop=12, size=s) for k, s in enumerate(sizes)]
    with Project.create(root, name="Review 2", author="tests") as p:
        ids = []
        for k, c in enumerate(clips):
            sid = add_shot(p, shot_name=f"SHOT_{k + 1}", section="Act 1", placeholders=False)
            ids += add_takes(p, sid, [c], storyboard="video")
    return ids


def test_player_budget_keeps_steps_back_in_the_buffer(tmp_path):
    from aimms_fast.ui.player import PLAYER_BUDGET
    [take] = _project(tmp_path / "proj")
    r = run_scenario("review2_player_budget", tmp_path, project=tmp_path / "proj", args={"take": take})
    assert r["errors"] == []
    assert r["budget"] == PLAYER_BUDGET == 48 << 20
    assert r["capacity"] == PLAYER_BUDGET // r["frame_bytes"]
    assert set(range(5, 9)) <= set(r["buffered"])           # the frames behind the playhead stayed
    for b in r["back"]:
        assert (b["screen"], b["ready_before"], b["misses"]) == (b["want"], True, 0), b
        assert b["hits"] >= 1, b


def test_cut_pair_steps_move_the_head_of_the_next_shot(tmp_path):
    """Opened as a cut (N at its last frame beside N+1 at its first), Right x3 leaves N on its
    last frame and shows N+1's frame 3 (read from the screen); the transport covers both."""
    out_take, in_take = _project(tmp_path / "proj", sizes=((320, 180), (320, 180)), frames=30)[:2]
    r = run_scenario("review2_cut_pair", tmp_path, project=tmp_path / "proj",
                     args={"take_ids": [out_take, in_take], "frames_out": 30})
    assert r["errors"] == []
    assert r["offsets"] == [0, -29]
    assert r["frame_count"] == 30 + 30 - 1             # the union: N's 30 frames, then N+1's 29 more
    assert r["open"]["numbers"] == {"0": 29, "1": 0}
    assert r["right3"]["numbers"] == {"0": 29, "1": 3}
    assert r["end"]["numbers"] == {"0": 29, "1": 29}
    assert r["home"]["numbers"] == {"0": 0, "1": 0}
    assert r["again"]["numbers"] == {"0": 29, "1": 0}
    played = r["played"]["numbers"]
    assert played["0"] == 29 and played["1"] >= 6


def test_save_take_as_from_the_player_and_the_shot_window(tmp_path):
    from aimms_fast.project import Project
    from aimms_fast.store.takes import get_take
    root = tmp_path / "proj"
    [take] = _project(root, sizes=((320, 180),), frames=12)
    with Project.open(root) as p:
        t = get_take(p.conn, take)
        src = p.layout.abs(t.file_path)
        shot_id = t.shot_id
    dest = tmp_path / "out"
    dest.mkdir()
    r = run_scenario("review2_save_as", tmp_path, project=root,
                     args={"take": take, "dest": str(dest), "shot_id": shot_id})
    assert r["errors"] == []
    name = f"SHOT_1_{src.name}"
    d = r["player_default"]
    assert d["browser"] and d["offered"] == name and d["new_files"] == [name]
    assert str(dest / name) in d["toast"]
    c = r["player_custom"]                      # typed "hero shot": made safe for every file system
    assert c["new_files"] == [f"hero_shot{src.suffix}"] and str(dest / f"hero_shot{src.suffix}") in c["toast"]
    s = r["shot_window"]
    numbered = f"SHOT_1_{src.stem}_2{src.suffix}"
    assert s["offered"] == name and s["new_files"] == [numbered] and str(dest / numbered) in s["toast"]
    for f in (name, f"hero_shot{src.suffix}", numbered):
        assert (dest / f).read_bytes() == src.read_bytes()


def test_player_opens_an_edited_take_with_its_trim(tmp_path):
    import numpy as np
    from aimms_fast.project import Project
    from aimms_fast.store import export as q
    from aimms_fast.store.takes import get_take
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.demo.numbered import make_numbered_clip
    from aimms_fast.ui.scrub_bar import TRIM_COLOUR
    from tests.ui.conftest import pixels
    root = tmp_path / "proj"
    [take] = _project(root, sizes=((320, 180),), frames=48)
    with Project.open(root) as p:
        shot_id = get_take(p.conn, take).shot_id
        [plain] = add_takes(p, shot_id, [make_numbered_clip(tmp_path / "src" / "plain.mp4", frames=24)],
                            storyboard="video")
        with p.conn:
            q.set_trim(p.conn, take, 10 / 24, 31 / 24, "edit.otio")     # frames 10..30 (out exclusive)
    r = run_scenario("review2_trim", tmp_path, project=root, args={"take": take})
    assert r["errors"] == []
    o = r["open"]
    assert (o["screen"], o["index"], o["in"], o["out"], o["loop"]) == (10, 10, 10, 30, False)
    assert "in 10 out 30" in o["status"] and "editor trim 10-30" in o["status"]
    # The brackets on the scrub bar: TRIM_COLOUR columns at the in and out frames' edges.
    img = pixels(tmp_path / "out_review2_trim" / "trim_open.png")
    x0, y0, x1, y1 = o["scrub"]
    w, n = x1 - x0, o["frames"]
    band = img[int(y0) + 12:int(y1) - 12]
    def green_at(x):
        cols = band[:, int(x) - 2:int(x) + 3].reshape(-1, 3)
        return bool((np.abs(cols - np.array(TRIM_COLOUR)).max(axis=1) <= 40).mean() > 0.15)
    assert green_at(x0 + w * 10 / n + 1) and green_at(x0 + w * 31 / n - 1)
    assert not green_at(x0 + w * 20 / n)
    assert r["played"] == {"screen": 30, "index": 30}                # stopped on the out point
    nx = r["next"]
    assert nx["take"] == plain and (nx["in"], nx["out"]) == (None, None) and "editor trim" not in nx["status"]
    assert nx["screen"] == 0
