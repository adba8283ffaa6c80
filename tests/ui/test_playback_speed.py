"""The playback speed work (issue 7): warm-up, pooled GL pane textures, letterbox bars, the main
window's background. Real GL under Xvfb; frame numbers read from the screen."""
from __future__ import annotations

import os

import pytest

from tests.ui.conftest import run_scenario
from tests.ui.test_player import _project


@pytest.fixture
def proj(tmp_path):
    root = tmp_path / "proj"
    return root, _project(root)


def test_warmup_pool_reuse_shows_the_new_take_not_the_old_picture(proj, tmp_path, monkeypatch):
    monkeypatch.delenv("AIMMS_LIVE_BACKEND", raising=False)       # the default backend: GL
    root, ids = proj
    r = run_scenario("playback_pool_and_warmup", tmp_path, project=root, args=ids)
    assert r["errors"] == []
    assert r["warmed"] and r["verified"] is True
    assert len(r["pool_after_warmup"]) == 1               # the new player's canvas, made and verified
    # The first player of the session took the warmed texture: no texture made, exact frame 0.
    assert r["first_ready"] and r["first"]["number"] == 0
    assert r["first_textures_made"] == 0 and r["reused_after_first"] == 1
    assert r["stepped"]["number"] == 5
    assert r["pool_after_close"] == 1                     # given back when the player closed
    # The second player reuses it and shows its own frame 0 (the texture held frame 5).
    assert r["second_ready"] and r["second"]["number"] == 0
    assert r["second_textures_made"] == 0 and r["reused_after_second"] == 2
    assert r["narrow"]["number"] == 0                      # resized: the frame is redrawn and reads the same
    # Bars beside the picture are the pane background; the main window is the clear colour.
    assert r["bar_mean"] is not None
    assert max(abs(a - b) for a, b in zip(r["bar_mean"], r["bar_expected"])) <= 2
    assert max(abs(a - b) for a, b in zip(r["corner"], r["window_bg"])) <= 2


@pytest.mark.skipif(os.environ.get("AIMMS_LIVE_BACKEND") == "numpy", reason="GL pool only")
def test_pool_is_bounded():
    from aimms_fast.ui.live_gl import POOL_BYTES, _Tex, tex_bytes
    assert tex_bytes(_Tex(0, 960, 576, "gl")) * 4 <= POOL_BYTES
