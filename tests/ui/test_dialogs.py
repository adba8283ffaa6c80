"""A modal dialog opened over another (New project -> Browse…) stays open; the one under it comes
back when it closes. Failed before: ImGui closed the second modal at once."""
from __future__ import annotations

from tests.ui.conftest import build_project, run_scenario


def test_a_modal_over_a_modal_stays_open_and_the_first_comes_back(tmp_path):
    root = build_project(tmp_path / "proj", [{"name": "ONE", "images": [[200, 40, 40]]}])
    r = run_scenario("modal_over_modal", tmp_path, project=root)
    assert r["errors"] == []
    assert r["open_after_picker"] == 2
    assert r["picker_exists"] and r["picker_shown"]
    assert r["first_hidden"]
    assert r["key_while_picker"] is None        # keys go nowhere behind the picker
    assert r["first_back"] and r["open_after_escape"] == 1
