"""Enter or a double-click on a take in the shot window opens the player on that take."""
from __future__ import annotations

from tests.ui.conftest import build_project, run_scenario


def test_double_click_and_enter_on_a_take_open_the_player(tmp_path):
    root = build_project(tmp_path / "proj", [{"name": "RUN", "videos": [1, 2, 3]}])
    r = run_scenario("shot_window_plays", tmp_path, project=root)
    assert r["errors"] == []
    assert r["after_double"] == [r["take_ids"][1]]
    assert r["after_enter"] == [r["take_ids"][0]]
