"""`aimms demo PATH --screenshots DIR`: the tour walks a new user's review session with the keys
alone (issue 7's "done when") and shows issue 13's desktop features, one finished screenshot per
view. Checked on the pixels: the review windows' pictures are there (not black, not empty), wipe and
difference differ from the plain panes, the tournament marks the starred take in gold, the Assets grid
shows its thumbnails and the 3D viewer the demo crate's texture colours, and the tour leaves the
demo project as it found it (its own changes undone)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.demo.builder import CRATE_AMBER, CRATE_TEAL
from aimms_fast.ui.tournament import STAR_GOLD
from aimms_fast.viewer3d.render import VIEWS
from tests.ui.conftest import pixels, region_mean, run_scenario

WORDS = ["player", "compare", "wipe", "difference", "tournament", "cutpoints", "promote",
         "context_menu", "edit_menu_undo", "file_browser", "assets_grid", "model3d"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("tour") / "demo"
    r = CliRunner().invoke(cli, ["demo", str(path), "--shots", "4", "--seed", "1", "--json"])
    assert r.exit_code == 0, r.output
    return path


def _takes(path: Path) -> list[tuple]:
    from aimms_fast.project import Project
    with Project.open(path, readonly=True) as p:
        return p.conn.execute("SELECT take_id, shot_id, file_path, starred FROM takes ORDER BY take_id").fetchall()


def _one(r: dict, view: str) -> tuple[str, dict]:
    """The screenshot NN_<view>.png and the facts recorded when it was taken."""
    hits = [p for p in r["paths"] if Path(p).name.split("_", 1)[-1] == f"{view}.png"]
    assert len(hits) == 1, (view, [Path(p).name for p in r["paths"]])
    return hits[0], r["seen"].get(Path(hits[0]).name, {})


def _picture(img: np.ndarray, rect) -> np.ndarray:
    x0, y0, x1, y1 = (int(round(v)) for v in rect)
    assert x1 - x0 > 40 and y1 - y0 > 30, f"picture too small: {rect}"
    return img[y0 + 2:y1 - 2, x0 + 2:x1 - 2]


def _not_empty(img: np.ndarray, rect, what: str) -> None:
    """A decoded demo frame: far from black, and with a picture in it (sky, buildings, text)."""
    sub = _picture(img, rect)
    assert sub.mean() > 40, f"{what}: picture is (nearly) black, mean {sub.mean():.0f}"
    assert sub.std() > 20, f"{what}: picture is flat (std {sub.std():.1f}): no frame drawn"


def _share(img: np.ndarray, colour, tol: float = 0.12) -> float:
    """Share of pixels with `colour`'s hue: lighting scales a texel's brightness, so compare the
    chromaticity (RGB / sum) and ask for real saturation, which background and grid lack."""
    px = img.reshape(-1, img.shape[-1])[:, :3].astype(np.float64)
    s = px.sum(1, keepdims=True)
    chroma = px / np.maximum(s, 1)
    want = np.asarray(colour, np.float64) / sum(colour)
    near = np.abs(chroma - want).max(1) < tol * want.max()
    return float((near & (px.max(1) - px.min(1) > 40)).mean())


def test_tour_walks_the_review_windows_with_keys(demo, tmp_path):
    before = _takes(demo)
    r = run_scenario("tour_review_walk", tmp_path, project=demo, timeout=300)
    names = [Path(p).name for p in r["paths"]]
    for w in WORDS:
        assert any(w in n for n in names), (w, names)
    for p in r["paths"]:
        assert Path(p).stat().st_size > 10_000, p

    # player: a paused, exactly decoded frame after Right x5, I, L L ... K, O; the window has the keys
    path, f = _one(r, "player")
    assert f["window"] == "player" and f["focused"] == "player"
    assert f["kind"] == "exact" and f["index"] == f["at"] and f["index"] > 5     # L played on from 5
    assert f["inout"] == [5, f["index"]]                                          # I at 5, O after K
    img = pixels(path)
    _not_empty(img, f["pictures"][0], "player")

    # compare: three takes added with C, every pane on its exact frame and showing a picture
    path, f = _one(r, "compare")
    assert f["window"] == "compare" and f["focused"] == "compare"
    assert f["panes"] == 3 and f["mode"] == "panes" and f["settled"]
    plain = pixels(path)
    means = []
    for k, rect in enumerate(f["pictures"]):
        _not_empty(plain, rect, f"compare pane {k + 1}")
        means.append(region_mean(plain, rect))
    assert max(np.abs(means[0] - m).max() for m in means[1:]) > 8, "the panes show different takes"

    # wipe: A on the left of the divider, B on the right; difference: |A-B| amplified
    path, f = _one(r, "compare_wipe")
    assert f["mode"] == "wipe" and f["settled"] and len(f["pictures"]) == 1
    wipe = pixels(path)
    _not_empty(wipe, f["pictures"][0], "wipe")
    x0, y0, x1, y1 = f["pictures"][0]
    left = region_mean(wipe, (x0, y0, (x0 + x1) / 2, y1))
    right = region_mean(wipe, ((x0 + x1) / 2, y0, x1, y1))
    assert np.abs(left - right).max() > 8, "the two sides of the wipe show different takes"
    path, f = _one(r, "compare_difference")
    assert f["mode"] == "difference" and f["settled"]
    diff = _picture(pixels(path), f["pictures"][0])
    assert diff.std() > 20 and np.abs(diff.reshape(-1, 3).mean(0) - left).max() > 8

    # tournament: the number key starred a take; its pane wears the gold frame
    path, f = _one(r, "tournament")
    assert f["window"] == "tournament" and f["starred"] is not None
    img = pixels(path)
    x0, y0, x1, y1 = (int(round(v)) for v in f["star_rect"])
    edge = np.concatenate([img[y0 + 3, x0 + 10:x1 - 10], img[y1 - 4, x0 + 10:x1 - 10]])
    gold = np.all(np.abs(edge - np.array(STAR_GOLD[:3])) <= 30, axis=1).mean()
    assert gold > 0.8, f"gold frame on {gold:.0%} of the starred pane's edge"
    for k, rect in enumerate(f["pictures"]):
        _not_empty(img, rect, f"tournament pane {k + 1}")

    # cut points: both sides of a cut decoded (last frame of N, first of N+1); Enter: compare
    path, f = _one(r, "cutpoints")
    assert f["window"] == "cutpoints" and f["gap"] is False
    assert f["shown"] == f["indices"] and f["indices"][1] == 0 and f["indices"][0] > 0
    img = pixels(path)
    for k, rect in enumerate(f["pictures"]):
        _not_empty(img, rect, f"cut side {k + 1}")
    path, f = _one(r, "cutpoints_compare")
    assert f["window"] == "compare" and f["panes"] == 2 and f["settled"]

    # promote: the frame became an image take of the shot, shown in its shot window
    path, f = _one(r, "promote")
    assert f["window"] == "shot"

    # issue 13: a card's menu, the Edit menu naming the step Ctrl+Z undoes, our file browser
    _, f = _one(r, "context_menu")
    assert {"Play", "Open shot", "Reveal in folder", "Copy path", "Delete…"} <= set(f["menu"])
    _, f = _one(r, "edit_menu_undo")
    assert f["edit"][0].startswith("Undo Starred take")

    # issue 8: the Assets grid with every thumbnail (the 3D prop's rendered in the worker pool)
    path, f = _one(r, "assets_grid")
    assert f["page"] == "assets" and f["window"] is None and f["cards"] == 4, f
    assert all(f["resident"]), f"every asset card has its thumbnail: {f['resident']}"
    assert f["media"][f["selected"]] == "model" and f["panel_model"]
    img = pixels(path)
    for k, rect in enumerate(f["posters"]):
        _not_empty(img, rect, f"asset card {f['first'] + k + 1}")
    crate = _picture(img, f["posters"][f["selected"] - f["first"]])
    assert _share(crate, CRATE_AMBER) > 0.05 and _share(crate, CRATE_TEAL) > 0.03, "the crate's thumbnail"

    # shot windows list the shot's assets (Maya is in the first three demo shots) with thumbnails
    lists = [f for f in r["seen"].values() if f.get("window") == "shot" and f.get("assets")]
    assert lists, "no shot window screenshot shows an assigned asset"
    for f in lists:
        assert all(f["asset_pictures"]), f"a shot window's Assets list lacks a thumbnail: {f}"

    # the 3D viewer on the textured crate, after 3, 9 and a drag: its texture's colours on screen
    path, f = _one(r, "model3d")
    assert f["window"] == "model" and f["focused"] == "model" and f["model"] and not f["error"], f
    assert f["textured"] and not f["fast"] and not f["dirty"] and f["renders"] >= 2
    view = _picture(pixels(path), f["pictures"][0])
    amber, teal = _share(view, CRATE_AMBER), _share(view, CRATE_TEAL)
    assert amber > 0.05 and teal > 0.02, f"texture colours in the viewport: amber {amber:.1%}, teal {teal:.1%}"
    yaw, pitch = f["yaw_pitch"]
    assert abs(yaw - VIEWS["iso"][0]) > 5 and abs(pitch - VIEWS["iso"][1]) > 1, "the drag orbited from iso"

    # the tour undid its own changes (the promoted take, the star): the demo is as it was
    assert _takes(demo) == before
    assert r["_stderr"].count("Traceback") == 0, r["_stderr"][-3000:]


@pytest.mark.slow
def test_demo_cli_writes_the_review_screenshots(demo, tmp_path):
    """The same through the command a user types (no scenario machinery): names and a JSON list."""
    import os
    import subprocess
    import sys
    out = tmp_path / "shots"
    env = dict(os.environ, AIMMS_CONFIG_DIR=str(tmp_path / "cfg"))
    proc = subprocess.run([sys.executable, "-m", "aimms_fast", "demo", str(demo), "--screenshots", str(out),
                           "--json"], capture_output=True, text=True, timeout=300, env=env,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr[-3000:]
    listed = [Path(p).name for p in orjson.loads(proc.stdout)["screenshots"]]
    assert listed == sorted(p.name for p in out.glob("*.png"))
    for w in WORDS:
        assert any(w in n for n in listed), (w, listed)
