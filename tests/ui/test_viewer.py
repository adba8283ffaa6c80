"""The viewer, driven like a user (its own API and real X input), checked on screen pixels."""
from __future__ import annotations

import numpy as np
import pytest

from tests.ui.conftest import build_project, close_to, pixels, region_mean, run_scenario, video_colour

RED, GREEN, BLUE, YELLOW = (200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 200, 40)
STAR = (255, 200, 40)

SHOTS = [
    {"name": "EXT_FOREST_DAY_010", "section": "Act 1", "images": [RED], "videos": [1, 3], "pngs": True,
     "description": "wide forest at dawn"},
    {"name": "INT_OFFICE_020", "section": "Act 2", "images": [GREEN, BLUE], "videos": [5],
     "description": "office, night"},
    {"name": "EXT_STREET_030", "section": "Act 2", "placeholders": True, "description": "street"},
    {"name": "INT_LAB_040", "section": "Act 3", "images": [YELLOW], "videos": [2], "pngs": True,
     "description": "forest mural in a lab"},
    {"name": "EXT_BROKEN_050", "section": "Act 3", "broken_videos": 1, "description": "a clip that won't decode"},
]


@pytest.fixture
def small_project(tmp_path):
    return build_project(tmp_path / "proj", SHOTS)


def star_pixels(img, rect) -> int:
    """Number of star-yellow pixels in the top-right corner of a poster (where the badge sits)."""
    x0, y0, x1, y1 = (int(v) for v in rect)
    w = x1 - x0
    corner = img[y0:y0 + w // 4, x1 - w // 4:x1]
    return int(np.sum(np.all(np.abs(corner - np.array(STAR)) <= 25, axis=-1)))


def test_storyboards_show_each_shots_poster_and_badges(small_project, tmp_path):
    r = run_scenario("storyboards", tmp_path, project=small_project)
    assert r["errors"] == []
    assert r["page"] == "images"
    img = pixels(r["images"]["shot"])
    rc = r["images"]["rects"]
    assert close_to(region_mean(img, rc[0]), RED)
    assert close_to(region_mean(img, rc[1]), GREEN)      # first take: nothing starred yet
    assert close_to(region_mean(img, rc[3]), YELLOW)
    ph = region_mean(img, rc[2])
    assert not any(close_to(ph, c, 40) for c in (RED, GREEN, BLUE, YELLOW))
    assert r["images"]["badges"][2] == ["placeholder"]
    vid = pixels(r["videos"]["shot"])
    rv = r["videos"]["rects"]
    assert close_to(region_mean(vid, rv[0]), video_colour(1))
    assert close_to(region_mean(vid, rv[1]), video_colour(5))
    assert close_to(region_mean(vid, rv[3]), video_colour(2))
    assert r["videos"]["badges"][1] == ["nopng"]            # clip added without a workflow PNG
    assert r["videos"]["badges"][0] == [] and r["videos"]["badges"][3] == []
    assert r["videos"]["badges"][2] == ["placeholder"]
    # An undecodable clip marks only its own card: red-striped "no preview", the rest is fine.
    assert r["videos"]["status"][4] == ["failed", "no preview"]
    broken = region_mean(vid, rv[4])
    assert broken[0] > broken[1] + 20 and broken[0] > broken[2] + 20
    assert r["images"]["status"][4] == ["empty", "no takes"]
    assert r["images"]["cards"][0] == "1. EXT_FOREST_DAY_010"
    # no star anywhere yet
    assert all(star_pixels(vid, rect) == 0 for rect in rv)


def test_star_key_and_shot_window_move_the_star_and_the_poster(small_project, tmp_path):
    r = run_scenario("star_moves", tmp_path, project=small_project)
    assert r["errors"] == []
    assert r["selected_after_click"] == 0                # real mouse click selected the card
    assert r["starred_after_s"] is True                  # real S key starred it
    before, after_s = pixels(r["before"]), pixels(r["after_s"])
    rect0 = r["rects"][0]
    assert star_pixels(before, rect0) == 0
    assert star_pixels(after_s, rect0) > 20              # the star badge appeared on the card
    assert close_to(region_mean(after_s, rect0), video_colour(1))
    # Shot window: take 1 starred, then take 2 starred -> the badge moves from cell 1 to cell 2.
    wb, wa = pixels(r["win_before"]), pixels(r["win_after"])
    c1b, c2b = r["win_rects_before"][0], r["win_rects_before"][1]
    c1a, c2a = r["win_rects_after"][0], r["win_rects_after"][1]
    assert star_pixels(wb, c1b) > 20 and star_pixels(wb, c2b) == 0
    assert star_pixels(wa, c1a) == 0 and star_pixels(wa, c2a) > 20
    assert r["win_starred"] == [False, True]
    assert close_to(region_mean(wa, c2a), video_colour(3))
    # The storyboard card now shows the newly chosen take's poster, still with a star.
    sb = pixels(r["after_window"])
    assert close_to(region_mean(sb, r["rects_after"][0]), video_colour(3))
    assert star_pixels(sb, r["rects_after"][0]) > 20
    assert r["card_rel"].endswith("video_02.mp4")


def test_hover_scrubs_the_filmstrip_and_keys_step_it(small_project, tmp_path):
    r = run_scenario("hover_scrub", tmp_path, project=small_project)
    assert r["errors"] == []
    k = r["strip_frames"]
    assert k >= 8
    frames = {f: r["hover"][f][1] for f in ("0.05", "0.5", "0.95")}
    assert all(r["hover"][f][0] == 0 for f in frames)
    assert frames["0.05"] == 0 and frames["0.95"] == k - 1 and 0 < frames["0.5"] < k - 1
    # make_video paints frame i red = 9*i: the picture under the mouse goes redder left to right
    reds = [region_mean(pixels(r["shots"][f]), r["rect"])[0] for f in ("0.05", "0.5", "0.95")]
    assert reds[0] < reds[1] < reds[2]
    assert reds[2] - reds[0] > 100
    assert r["hover_after_leave"] is None
    assert close_to(region_mean(pixels(r["left"]), r["rect"]), video_colour(1))   # poster again
    assert r["steps"] == [0, 1, 2, 1]
    stepped = region_mean(pixels(r["stepped"]), r["rect"])
    assert stepped[0] > 3                                 # a later frame than the poster (red 0)


def test_ctrl_number_keys_visit_every_page_and_storyboard_keys(small_project, tmp_path):
    from aimms_fast.ui.keys import PAGES
    r = run_scenario("keyboard_pages", tmp_path, project=small_project)
    assert r["errors"] == []
    assert r["pages"] == {p: p for p in PAGES}
    imgs = {p: pixels(s) for p, s in r["shots"].items()}
    # every page paints something different (not a blank or repeated window)
    names = list(imgs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert np.mean(np.abs(imgs[a] - imgs[b])) > 0.5, (a, b)
        assert imgs[a].std() > 10
    assert r["keymap_open"] and r["keymap_closed"]
    assert np.mean(np.abs(pixels(r["keymap"]) - imgs["routing"])) > 2
    assert r["after_right"] == 1
    assert r["after_end"] == 4 and r["after_home"] == 0
    assert r["after_down"] == min(r["cols"], 4)      # one row down (clamped to the last card)
    assert r["windows"] == [r["selected_shot"]]
    assert r["window_focused"] and r["storyboard_unchanged"]
    assert r["window_take_after_right"] == 1
    assert r["windows_after_escape"] == []
    assert r["routing"]["image"]["missing"] == 0 and r["routing"]["image"]["takes"] == 5
    assert r["unused_files"] == []
    assert r["log_lines"] > 3


def test_scrolling_recycles_a_fixed_pool_of_cards(tmp_path):
    palette = [((37 * i) % 200 + 40, (91 * i) % 200 + 30, (53 * i) % 200 + 20) for i in range(48)]
    proj = build_project(tmp_path / "many", [{"name": f"SHOT_{i:03d}", "section": f"Act {i // 16 + 1}",
                                               "images": [c]} for i, c in enumerate(palette)])
    r = run_scenario("scroll_pool", tmp_path, project=proj)
    assert r["errors"] == []
    assert r["n"] == 48
    assert r["pool_after"] == r["pool_before"]           # no widgets made while scrolling
    assert r["items_after"] == r["items_before"]          # not one widget made or lost
    assert r["selected"] == 47 and r["range"][1] == 48
    top, bottom = pixels(r["top"]), pixels(r["bottom"])
    for i, rect in enumerate(r["top_rects"]):
        assert close_to(region_mean(top, rect), palette[i]), i
    for i, rect in r["bottom_rects"].items():
        assert close_to(region_mean(bottom, rect), palette[int(i)]), i


def test_shot_window_add_placeholders_delete_undo_notes(small_project, tmp_path):
    from tests.ui.conftest import make_image
    add = [make_image(tmp_path / "new" / f"n{i}.png", size=(128, 72), color=c) for i, c in
           enumerate([(250, 120, 0), (0, 160, 160)])]
    r = run_scenario("shot_window_ops", tmp_path, project=small_project, args={"add": [str(p) for p in add]})
    assert r["errors"] == []
    assert r["initial"] == ["Take 01"]
    assert r["added"] == 2 and r["after_add"] == ["Take 01", "Take 02", "Take 03"]
    img = pixels(r["after_add_shot"])
    assert close_to(region_mean(img, r["after_add_rects"][1]), (250, 120, 0))
    assert close_to(region_mean(img, r["after_add_rects"][2]), (0, 160, 160))
    assert r["after_ph"][3:] == [["placeholder"], ["placeholder"]]
    assert r["confirm_open"] == 1
    assert r["after_delete"] == 4 and r["undo_enabled"]
    assert r["after_undo"] == 5
    assert (r["notes"], r["rating"]) == ("good light, keep", 4)
    assert r["card_count_storyboard"].endswith("5 takes")
    assert r["copied"] == "a test picture number 0"
    assert r["opened"] and r["opened"][0].endswith("media/1")


def test_long_jobs_show_a_progress_dialog_and_finish(small_project, tmp_path):
    r = run_scenario("long_jobs", tmp_path, project=small_project, args={"dest": str(tmp_path / "out")})
    assert r["errors"] == []
    assert abs(r["value_mid"] - 0.3) < 1e-6 and r["overlay_mid"] == "3 / 10"
    assert r["dialogs_mid"] == 1 and r["frames_while_running"] >= 4   # the loop kept drawing
    # the dialog is on screen: inside its rectangle the picture differs from the page around it,
    # and its bar grows (30 % -> 100 %) when the job reports more progress
    img = pixels(r["progress_shot"]).astype(int)
    x0, y0, x1, y1 = (int(v) for v in r["dialog_rect"])
    assert x1 - x0 > 300 and y1 - y0 > 60
    full = pixels(r["full_shot"]).astype(int)
    assert abs(full[y0:y1, x0:x1] - img[y0:y1, x0:x1]).mean() > 1.0
    assert r["results"] == ["slow done"] and r["dialogs_after"] == 0
    assert r["archive_finished"] and len(r["zips"]) == 1 and r["archive_dialog"] == 1
    assert r["export_finished"] and any(n.endswith(".csv") for n in r["starred_files"])


def test_video_details_and_workflow_png_regenerate(small_project, tmp_path):
    r = run_scenario("video_details", tmp_path, project=small_project)
    assert r["errors"] == []
    assert "present" in r["wf_before"]
    assert "codec: h264" in r["tech"] and "width: 160" in r["tech"]
    # shot 2's clip has no PNG: open it via the shot window of shot 2 in a second run
    r2 = run_scenario("video_details", tmp_path / "second", project=small_project, args={"card": 1})
    assert "missing" in r2["wf_before"]
    assert r2["badges_before"][0] == ["nopng"]
    assert "present" in r2["wf_after"] and r2["badges_after"][0] == []
    assert r2["storyboard_badges"] == []


def test_shots_page_search_edit_reorder_delete_csv(small_project, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("shot_name,order_number\nA_SHOT,1\n,2\nC_SHOT,three\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("shot_name,section,description\nNEW_SHOT_A,Act 4,from csv\nNEW_SHOT_B,Act 4,from csv\n",
                    encoding="utf-8")
    r = run_scenario("shots_page", tmp_path, project=small_project,
                     args={"bad_csv": str(bad), "good_csv": str(good)})
    assert r["errors"] == []
    assert r["all"] == 5
    assert r["search"] == ["EXT_FOREST_DAY_010", "INT_LAB_040"]   # name or description
    assert r["columns"] == ["order_number", "shot_name", "section", "location", "images", "videos"]
    assert r["section_rows"] == ["INT_OFFICE_020", "EXT_STREET_030"]
    assert r["section_images_cards"] == ["2. INT_OFFICE_020", "3. EXT_STREET_030"]
    assert r["selected"] == [1, 3]
    assert r["locations"]["1"] == "EXT. Harbour" and r["locations"]["3"] == "EXT. Harbour"
    assert r["locations"]["2"] in (None, "")
    assert r["order_after_move"] == [1, 2, 4, 3, 5]
    assert r["confirm_text"] == 1
    assert r["after_delete"] == [1, 4, 3, 5]
    assert r["images_cards_after_delete"] == 4
    assert "line 3" in r["bad_report"] and "line 4" in r["bad_report"] and "ERRORS" in r["bad_report"]
    assert r["after_import"][-2:] == ["NEW_SHOT_A", "NEW_SHOT_B"]
    assert r["table_rows_after_import"] == 6


def test_locked_project_opens_read_only_with_banner(small_project, tmp_path):
    from aimms_fast.project import Project
    holder = Project.open(small_project)            # another instance holds the lock
    try:
        assert not holder.readonly
        r = run_scenario("readonly", tmp_path, project=small_project)
    finally:
        holder.close()
    assert r["readonly"] is True and r["banner_shown"] is True
    assert "READ-ONLY" in r["banner_text"] and "locked" in r["banner_text"]
    img = pixels(r["shot"])
    x0, y0, x1, y1 = r["banner_rect"]          # the banner's text; its background spans the window
    banner = img[int(y0) + 2:int(y1) - 2, int(x1) + 20:r["viewport_w"] - 40].reshape(-1, 3).mean(axis=0)
    assert close_to(banner, (120, 70, 20), 20)          # the orange-brown banner is on screen
    assert any("read-only" in e for e in r["errors"])   # starring was refused with a message


def test_welcome_then_open_two_projects_without_restart(tmp_path):
    first = build_project(tmp_path / "one", [{"name": "ONE", "images": [RED]}], name="One")
    second = build_project(tmp_path / "two", [{"name": "TWO", "images": [BLUE]}], name="Two")
    r = run_scenario("welcome_and_switch", tmp_path, args={"first": str(first), "second": str(second)})
    assert r["welcome_shown"] and not r["tabs_shown"]
    assert r["open1"] and r["open2"] and not r["bad_open"]
    assert close_to(region_mean(pixels(r["first"]), r["first_rects"][0]), RED)
    assert close_to(region_mean(pixels(r["second"]), r["second_rects"][0]), BLUE)
    assert r["title_cards"] == ["1. TWO"]
    assert any("no such folder" in e for e in r["errors"])
    assert r["recent"][:2] == [str(second.resolve()), str(first.resolve())]


def test_opening_builds_every_thumbnail_in_the_background(small_project, tmp_path):
    r = run_scenario("background_sweep", tmp_path, project=small_project)
    assert r["errors"] == []
    assert r["finished"] and r["swept"] > 0 and r["saw_progress_bar"]
    # every take with media has its tiles, except the broken clip, which is marked failed
    states = r["states"]
    assert states and set(states.values()) <= {"ready", "failed"}
    assert sum(v == "failed" for v in states.values()) <= 1


def test_loop_idles_without_work_and_wakes_on_input(small_project, tmp_path):
    r = run_scenario("idle_loop", tmp_path, project=small_project)
    assert r["errors"] == []
    assert r["busy_when_idle"] is False and r["idle"] is True
    assert r["waits_for_events"] is True
    # The paced loop blocks between frames instead of spinning: a couple of frames per second
    # (a frame count, not a timing: a busy loop would draw dozens in 2 s).
    assert r["idle_frames_2s"] <= 6
    assert r["idle_after_input"] is False          # the mouse move woke it up
