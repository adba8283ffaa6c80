"""Issue 9's Logs, Settings and Stats pages under Xvfb: screenshots and facts (scn_settings_logs.py)."""
from __future__ import annotations

import pytest

from tests.ui.conftest import build_project, pixels, run_scenario

SHOTS = [
    {"name": "EXT_FOREST_DAY_010", "section": "Act 1", "images": [(200, 30, 30), (30, 200, 30)], "videos": [1, 3]},
    {"name": "INT_OFFICE_020", "section": "Act 2", "images": [(30, 30, 200)], "videos": [5]},
    {"name": "EXT_STREET_030", "section": "Act 2", "placeholders": True},
    {"name": "INT_LAB_040", "section": "Act 3", "images": [(220, 200, 40)]},
]


@pytest.fixture
def project(tmp_path):
    from aimms_fast.ops.takes import toggle_star
    from aimms_fast.project import Project
    root = build_project(tmp_path / "proj", SHOTS)
    with Project.open(root) as p:      # shot 1: a starred video; shot 2: a starred image
        for sid, kind in ((1, "final_video"), (2, "base_image")):
            tid = p.conn.execute("SELECT take_id FROM takes WHERE shot_id = ? AND take_type = ? ORDER BY file_path",
                                 (sid, kind)).fetchone()[0]
            toggle_star(p, tid)
    return root


def test_stats_page_counts_the_project_and_recounts_after_a_change(project, tmp_path):
    r = run_scenario("stats_page", tmp_path, project=project)
    assert r["counted"] and r["errors"] == []
    assert r["shots"] == 4 and r["image_per_shot"] == [2, 1, 0, 1] and r["video_per_shot"] == [2, 1, 0, 0]
    assert r["sections"] == [["Act 1", 1, 0, 1], ["Act 2", 2, 1, 0], ["Act 3", 1, 0, 0]]
    assert r["summary"].startswith("4 shots · 4 image takes · 3 video takes")
    assert r["summary"].endswith("1 of 4 shots have a starred video")
    assert r["shots_after_add"] == 5 and r["view_menu_has_stats"]
    img = pixels(r["png"])
    assert img.std() > 10          # charts drawn, not a blank page


def test_logs_page_filters_searches_selects_copies_and_follows(project, tmp_path, monkeypatch):
    import os
    import time
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    fake = bin_dir / "xdg-open"                 # what the desktop would run: record its argument
    fake.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    r = run_scenario("logs_page", tmp_path, project=project)
    for _ in range(50):
        if opened.exists():
            break
        time.sleep(0.1)
    assert opened.read_text().strip() == str(project / "logs" / "project_log.log")
    assert r["errors"] == []
    assert r["total"] >= 10 and r["shown_all"] == r["total"]
    assert r["errors_only"] == ["could not write data/csv/shots.csv: disk full"]
    # search: every word, any case, any order
    assert r["search"] and all("starred" in s.lower() and "shot" in s.lower() for s in r["search"])
    muts = r["mutations"]
    assert muts and all(m.startswith("mutation ") for m in muts)
    assert any("Added shot EXT_FOREST_DAY_010" in m for m in muts)
    copied = r["copied"].splitlines()
    assert r["selected"] == 3 and len(copied) == 3 and all(" mutation " in c for c in copied)
    assert len(r["followed"]) == 1 and r["followed"][0].startswith("mutation takes entry=")
    assert "Starred" in r["followed"][0]
    assert r["app_log"].endswith("config/logs/app.log")         # AIMMS_CONFIG_DIR set by run_scenario
    assert any(s.startswith("aimms_fast ") and "started" in s for s in r["app_lines"])
    for png in ("png_all", "png_errors", "png_search", "png_mutations", "png_app"):
        assert pixels(r[png]).std() > 5


def test_settings_page_saves_meta_prefs_and_clears_the_cache(project, tmp_path):
    r = run_scenario("settings_page", tmp_path, project=project)
    assert r["loaded"]["project_name"] == "UI Test" and r["loaded"]["author"] == "ui tests"
    meta = r["meta"]
    assert (meta["project_name"], meta["author"]) == ("Night Train", "Ada L.")
    assert meta["project_info"] == "colour: teal\nlook: 35mm"
    assert (meta["comfyui_URL"], meta["comfyui_output_path"]) == ("http://127.0.0.1:8188/", "C:/ComfyUI/output")
    assert r["state_after_save"].startswith("saved: ")
    assert any("web address" in e for e in r["bad_url_errors"]) and r["state_after_bad"].startswith("not saved")
    assert r["prefs_file"]["scrub_size"] == "192x108" and r["prefs_file"]["workers"] == 2
    assert r["widgets"] == ["192 × 108", 2]
    assert "files in" in r["measured"]
    assert r["cleared"].startswith("Cleared ") and r["services_back"]
    assert r["cache_files_before"] > 0 and r["cache_files_after"] < r["cache_files_before"]
    assert r["title"] == "Night Train" and r["errors"] == []
    assert pixels(r["png_top"]).std() > 5 and pixels(r["png_project"]).std() > 5


def test_logs_page_reads_only_the_tail_of_a_big_log_and_keeps_a_fixed_row_pool(project, tmp_path):
    r = run_scenario("logs_big", tmp_path, project=project)
    assert r["errors"] == []
    assert r["file_bytes"] > 8_000_000 and r["read_bytes"] <= 1 << 20          # the last MiB only
    assert 0 < r["lines_loaded"] < 100_000
    assert r["rows_after_scroll"] == r["rows_final"] <= 80                   # the pool never grows
    assert r["lines_all"] >= 100_000                                         # all of it, on request
    assert r["warnings"] == 100
    assert r["search"] == ["Starred take 07 of SHOT_00025"]                 # words, any case
    print("logs_big CPU: frame median %.2f ms, filter 100K lines %.1f ms" % (r["frame_cpu_ms_median"],
                                                                            r["filter_cpu_ms"]))
