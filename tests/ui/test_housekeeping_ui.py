"""Issue 9 "done when": on a damaged copy of the demo project a user finds every problem on the
Routing page and fixes all of them from the Unused page without leaving the app; `aimms check`
then exits 0. Screenshots of both pages before and after (looked at; pixels checked here)."""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aimms_fast.cli import cli  # noqa: E402
from housekeeping_damage import damage, demo_copy  # noqa: E402
from tests.ui.conftest import pixels, run_scenario  # noqa: E402


def _has_colour(png, rgb, tol=30, min_px=40) -> bool:
    img = pixels(png)
    return int((np.abs(img - np.asarray(rgb)).max(axis=2) <= tol).sum()) >= min_px


def test_find_on_routing_fix_on_unused_then_check_exits_0(tmp_path):
    root = demo_copy(tmp_path / "cache", tmp_path / "proj")
    d = damage(root, tmp_path / "elsewhere")
    before = CliRunner().invoke(cli, ["check", str(root), "--json"])
    assert before.exit_code == 1
    expected = {(p["kind"], p["path"]) for p in orjson.loads(before.stdout)["problems"]}
    r = run_scenario("housekeeping_fix", tmp_path, project=root,
                     args={"outside": str(tmp_path / "elsewhere"), "stray": d["stray"]})
    assert r["errors"] == []
    rb = r["routing_before"]
    # Routing shows every problem the check finds.
    assert {tuple(p) for p in rb["problems"]} == expected
    assert rb["counts"] == {"missing": 9, "orphan": 4, "no_png": 2, "empty_folder": 1}
    assert rb["cells"]["4/images"][0] == "bad" and rb["cells"]["4/videos"][0] == "bad"
    assert rb["cells"]["1/images"][0] == "bad" and rb["cells"]["6/pngs"][0] == "bad"
    assert rb["cells"]["2/pngs"][0] == "bad" and rb["cells"]["7/images"][0] == "ok"
    assert sorted(rb["bad_shots"]) == r["problem_rows"] == [1, 2, 3, 4, 6]
    assert "media/99" in rb["not_in_rows"]
    assert r["opened_window"] == [1]
    ub = r["unused_before"]
    assert ub["missing"] == sorted([d["deleted"], d["renamed_from"], d["png_deleted"], *d["moved"]])
    assert ub["orphans"] == sorted([d["renamed_to"], d["note"], d["stray"], d["duplicate"]])
    assert ub["duplicates"] == sorted([d["duplicate"], d["duplicate_of"]])
    assert ub["empty_folders"] == [d["empty_folder"]]
    relinked = dict(r["steps"])
    assert relinked["relinked"] == [d["deleted"], d["png_deleted"]]
    assert r["regen_dialog"] == "Some workflow PNGs could not be made"
    assert len(relinked["regenerated"]) == 1          # the demo's broken video
    assert r["attach_pick_default"] == "5  INT_APARTMENT_DUSK_050"
    assert "media/5/base_" in " ".join(r["attached"])
    assert r["confirm_title"] == "Move unused files to the trash"
    assert r["orphans_after_trash"] == []
    assert r["orphans_after_undo"] == sorted([d["note"], d["duplicate"]])
    assert r["orphans_after_redo"] == []
    # The broken video's delete, the orphans, the placeholders (the missing record had no file).
    assert sorted(t[0].rsplit("_", 1)[-1] for t in r["trash_listed"]) == ["orphans", "placeholders", "takes"]
    sizes = {t[0].rsplit("_", 1)[-1]: t[1] for t in r["trash_listed"]}
    assert sizes["orphans"] == (root / d["duplicate_of"]).stat().st_size + len("todo: redo this shot\n")
    assert "freeing" in r["empty_confirm_text"]
    assert r["trash_tab_active"] is True and r["trash_rows"] == 3
    assert all(v == [] for v in r["unused_after"].values()), r["unused_after"]
    ra = r["routing_after"]
    assert ra["healthy"] is True and "no problems" in ra["summary"]
    assert not any(c[0] == "bad" for c in ra["cells"].values())
    # On screen: red problem cells before, none after; green ticks after.
    assert _has_colour(rb_png := r["shot_routing_before"], (255, 90, 80))
    assert not _has_colour(r["shot_routing_after"], (255, 90, 80))
    assert _has_colour(r["shot_routing_after"], (90, 200, 110))
    assert Path(rb_png).exists() and Path(r["shot_unused_after"]).exists()
    after = CliRunner().invoke(cli, ["check", str(root), "--json"])
    assert after.exit_code == 0, after.stdout
    assert orjson.loads(after.stdout)["healthy"] is True
    trash = orjson.loads(CliRunner().invoke(cli, ["trash", str(root), "--json"]).stdout)
    assert trash["count"] == 0


@pytest.mark.slow
def test_routing_matrix_holds_600_shots(tmp_path):
    from aimms_fast.demo.builder import DemoSpec, build_demo
    root = tmp_path / "p600"
    build_demo(root, DemoSpec(shots=600, takes=0))
    with sqlite3.connect(root / "data" / "shots.db") as c:
        ids = [r[0] for r in c.execute("SELECT DISTINCT shot_id FROM takes WHERE take_type='base_image' "
                                       "ORDER BY shot_id")]
        damaged = [ids[len(ids) // 2], ids[-1]]     # one mid-list, the last that has an image take
        gone = [r[0] for r in c.execute("SELECT file_path FROM takes WHERE shot_id IN (?, ?) "
                                        "AND take_type='base_image'", damaged)]
    for rel in gone:
        (root / rel).unlink()
    r = run_scenario("routing_600", tmp_path, project=root)
    assert r["errors"] == []
    assert r["rows"] == 600 and r["summary"].startswith("600 shots")
    assert r["bad_rows"] == damaged and damaged[-1] > 590
    assert r["last_visible"] is True
    assert _has_colour(r["shot_filtered"], (255, 90, 80))
