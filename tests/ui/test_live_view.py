"""LiveView on screen, for both backends: known flat colours in 1/2/4 panes and composed, checked on
the screenshot pixels inside pane_rect / picture_rect (viewport pixels)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.ui.conftest import close_to, pixels, region_mean, run_scenario
from tests.ui.scn_live_view import A, B, C, D

BG = (14, 14, 16)
WHITE = (255, 255, 255)
ERROR_RED = (255, 90, 90)


@pytest.fixture(params=["gl", "numpy"])
def backend(request, monkeypatch):
    monkeypatch.setenv("AIMMS_LIVE_BACKEND", request.param)
    return request.param


def count_near(img, rect, rgb, tol=40) -> int:
    x0, y0, x1, y1 = (int(v) for v in rect)
    sub = img[y0:y1, x0:x1]
    return int(np.sum(np.all(np.abs(sub - np.array(rgb)) <= tol, axis=-1)))


def test_live_view_panes_and_composed_modes(backend, tmp_path):
    r = run_scenario("live_view_panes", tmp_path, args={})
    assert r["errors"] == []
    assert r["backend"] == backend, r.get("gl_failure")
    if backend == "gl":
        assert r["gl_failure"] is None
    cases = r["cases"]
    assert all(c["backend"] == backend for c in cases.values())

    # one pane: the whole pane is the picture, with its label top-left
    c = cases["one"]
    img = pixels(c["shot"])
    assert c["pictures"][0] == c["panes"][0]
    assert close_to(region_mean(img, c["panes"][0]), A, tol=2)
    x0, y0 = c["panes"][0][:2]
    assert count_near(img, (x0 + 4, y0 + 4, x0 + 60, y0 + 24), (235, 235, 235), tol=60) > 10   # "take A"

    # resized pane: the picture follows
    c = cases["resized"]
    x0, y0, x1, y1 = c["panes"][0]
    assert (x1 - x0, y1 - y0) == (900, 500)
    assert c["pictures"][0] == c["panes"][0]
    assert close_to(region_mean(pixels(c["shot"]), c["panes"][0]), D, tol=2)
    # GL reuses its rounded-up texture (only UVs change); numpy makes an exact-size raw one
    assert r["resize_textures_made"] == (0 if backend == "gl" else 1)

    # 4:3 in a 16:9 pane: aspect kept, dark bars left and right
    c = cases["letterbox"]
    img = pixels(c["shot"])
    (px0, py0, px1, py1), (x0, y0, x1, y1) = c["pictures"][0], c["panes"][0]
    assert (px1 - px0) / (py1 - py0) == pytest.approx(4 / 3, abs=0.01)
    assert py0 == y0 and py1 == y1 and px0 - x0 == pytest.approx(x1 - px1, abs=1)
    assert close_to(region_mean(img, c["pictures"][0]), B, tol=2)
    assert close_to(region_mean(img, (x0, y0, px0, y1)), BG, tol=3)
    assert close_to(region_mean(img, (px1, y0, x1, y1)), BG, tol=3)

    # a frame twice the pane size is scaled down whole: blue left half, yellow right half
    c = cases["big"]
    img = pixels(c["shot"])
    px0, py0, px1, py1 = c["pictures"][0]
    mid = (px0 + px1) / 2
    assert close_to(region_mean(img, (px0, py0, mid, py1)), C, tol=3)
    assert close_to(region_mean(img, (mid, py0, px1, py1)), D, tol=3)

    # 2 side by side, 4 in a grid: each pane its own colour, panes tile the view without overlap
    c = cases["two"]
    img = pixels(c["shot"])
    assert c["panes"][0][2] < c["panes"][1][0]
    assert c["panes"][0][1] == c["panes"][1][1]
    for rect, want in zip(c["panes"], (A, B)):
        assert close_to(region_mean(img, rect), want, tol=2)
    c = cases["four"]
    img = pixels(c["shot"])
    p = c["panes"]
    assert p[0][2] < p[1][0] and p[0][3] < p[2][1] and p[3][0] == p[1][0] and p[3][1] == p[2][1]
    for rect, want in zip(p, (A, B, C, D)):
        assert close_to(region_mean(img, rect), want, tol=2)
    assert r["sizes4"] == [[int(q[2] - q[0]), int(q[3] - q[1])] for q in p]

    # None keeps the last picture; an error replaces the picture with red text
    c = cases["four_err"]
    img = pixels(c["shot"])
    p = c["panes"]
    assert close_to(region_mean(img, p[0]), A, tol=2)
    assert count_near(img, p[1], B, tol=20) == 0
    assert count_near(img, p[1], ERROR_RED, tol=50) > 200
    assert close_to(region_mean(img, p[2]), C, tol=2) and close_to(region_mean(img, p[3]), D, tol=2)

    # wipe at 0.25 of a 960 px picture shown 1:1: A left of column 240, white divider at 240, B right
    c = cases["wipe"]
    img = pixels(c["shot"])
    px0, py0, px1, py1 = (int(v) for v in c["pictures"][0])
    assert px1 - px0 == 960
    split = px0 + 240
    rows = slice(py0 + 40, py1 - 10)
    for x, want in ((split - 2, A), (split - 1, A), (split, WHITE), (split + 1, B), (split + 2, B)):
        col = img[rows, x]
        assert (np.abs(col - np.array(want)) <= 2).all(), (x - px0, want, col[:3].tolist())
    assert close_to(region_mean(img, (px0, py0, split - 1, py1)), A, tol=2)
    assert close_to(region_mean(img, (split + 1, py0, px1, py1)), B, tol=2)

    # difference (gain 1 and 4, clipped) and blend (0.5, 0): the rule of playback/compose.py, ±1
    for name, want in (("difference", (160, 140, 20)), ("difference4", (255, 255, 80)),
                       ("blend", (120, 110, 50)), ("blend0", B)):
        c = cases[name]
        assert close_to(region_mean(pixels(c["shot"]), c["pictures"][0]), want, tol=1.5), name

    # the same frame objects again are not written again
    assert r["writes_unchanged"] == 0


def test_live_view_falls_back_to_numpy_when_gl_textures_cannot_be_found(tmp_path, monkeypatch):
    monkeypatch.setenv("AIMMS_LIVE_BACKEND", "gl")
    r = run_scenario("live_view_fallback", tmp_path)
    assert r["errors"] == []
    assert r["backend_at_start"] == "gl"
    assert r["backend"] == "numpy"
    assert "could not find the GL name" in r["gl_failure"]
    assert "GL path off" in r["_stderr"]                   # said once, on stderr
    img = pixels(r["two"]["shot"])
    for rect, want in zip(r["two"]["panes"], (A, B)):
        assert close_to(region_mean(img, rect), want, tol=2)
    c = r["wipe"]
    img = pixels(c["shot"])
    px0, py0, px1, py1 = (int(v) for v in c["pictures"][0])
    split = px0 + 480
    assert (np.abs(img[py0 + 40:py1 - 10, split] - np.array(WHITE)) <= 2).all()
    assert close_to(region_mean(img, (px0, py0, split - 1, py1)), A, tol=2)
    assert close_to(region_mean(img, (split + 1, py0, px1, py1)), B, tol=2)
