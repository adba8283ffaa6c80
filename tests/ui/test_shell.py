"""The app shell under real X input (issue 13): keys act on what has focus, undo/redo, jobs that
only their Cancel button stops, callbacks that cannot end the app, status bar and Help."""
from __future__ import annotations

import pytest

from tests.ui.conftest import build_project, pixels, run_scenario


def _star(root, shot_index: int, take_number: int) -> None:
    """Star a video take directly in the test project (setup, not the code under test)."""
    from aimms_fast.project import Project
    from aimms_fast.store.db import transaction
    with Project.open(root) as p:
        sid = p.conn.execute("SELECT shot_id FROM shots ORDER BY order_number LIMIT 1 OFFSET ?",
                             (shot_index,)).fetchone()[0]
        with transaction(p.db):
            p.conn.execute("UPDATE takes SET starred = 1 WHERE take_id = ("
                           "SELECT t.take_id FROM takes t JOIN fast_takes f USING (take_id) "
                           "WHERE t.shot_id = ? AND t.take_type = 'final_video' AND f.take_number = ?)",
                           (sid, take_number))


@pytest.fixture
def thirteen_shots(tmp_path):
    """14 shots on the Videos page; shot 12 has four takes, shot 13 two with take 01 starred."""
    shots = [{"name": f"SHOT_{i + 1:03d}", "videos": [i % 6]} for i in range(14)]
    shots[11]["videos"] = [1, 2, 3, 4]
    shots[12]["videos"] = [5, 6]
    root = build_project(tmp_path / "p13", shots)
    _star(root, 12, 1)
    return root


def test_keys_go_to_the_focused_window_only(thirteen_shots, tmp_path):
    r = run_scenario("keys_follow_focus", tmp_path, project=thirteen_shots)
    assert r["errors"] == []
    assert r["sb_after_click"] == 11 and r["window_opened"]
    assert r["win_after_click"] == 2                      # the real click selected Take 03
    # Right and S went to the shot window: Take 04 of shot 12 starred, shot 13 untouched.
    assert r["win_after_right"] == 3
    assert r["sb_after_right"] == 11 and r["sb_after_s"] == 11
    assert r["stars_s12_after_s"] == [0, 0, 0, 1]
    assert r["stars_s13_after_s"] == [1, 0]
    assert r["stars_after_ss"] == r["stars_before"]       # S twice: exactly as before
    # The page focused (window still open): page keys move the page, not the window.
    assert r["win_focused_after_page_click"] is False
    assert r["sb_after_page_right"] == r["free_card"] + 1
    assert r["win_unchanged_by_page_keys"]
    # A modal dialog swallows keys; Escape closes it and leaves the window open.
    assert r["dialog_open"] == 1 and r["modal_changed_nothing"]
    assert r["dialogs_after_modal_keys"] == 1
    assert r["dialogs_after_escape"] == 0 and r["window_alive_after_dialog_escape"]
    # Escape closes the focused window; then the page has the keys again.
    assert r["window_alive_after_escape"] is False
    sb, after = r["sb_left_after_close"]
    assert after == sb - 1
    # Shots page under a focused shot window: Down/Delete act in the window only.
    assert r["page"] == "shots"
    assert r["shots_sel_unchanged"] and r["w2_after_down"] == 0    # Down is not bound there: swallowed
    assert len(r["delete_dialog"]) == 1 and r["delete_dialog"][0].startswith("Delete take")
    assert r["page_after_ctrl3"] == "videos" and r["w2_alive_after_ctrl3"]
    assert r["w2_alive"] is False
    assert len(r["shots_sel_after_close"]) == 1 and r["shots_sel_after_close"] != [r["shots"][0]]
    assert r["stars_end"] == r["stars_before"]


@pytest.fixture
def four_shots(tmp_path):
    """Four shots with one image and two video takes each, and an empty undo history (as a
    project AIMMS made opens: building it here recorded the takes it added)."""
    from aimms_fast.project import Project
    from aimms_fast.store.db import transaction
    shots = [{"name": f"INT_OFFICE_{(i + 1) * 10:03d}", "images": [(40 * i + 60, 90, 160)],
              "videos": [i + 1, i + 3]} for i in range(4)]
    root = build_project(tmp_path / "p4", shots)
    with Project.open(root) as p, transaction(p.db):
        p.conn.execute("DELETE FROM fast_history")
    return root


def test_undo_and_redo_from_the_keyboard_and_the_edit_menu(four_shots, tmp_path):
    r = run_scenario("undo_redo_keys", tmp_path, project=four_shots)
    assert r["errors"] == []
    assert r["edit_before"] == ["Undo (nothing to undo)", "Redo (nothing to redo)"]
    before, after = r["stars_before"], r["stars_after_s"]
    changed = [k for k in before if before[k] != after[k]]
    assert len(changed) == 1 and after[changed[0]] == 1
    assert r["toast_after_s"] == "Starred take 01 of INT_OFFICE_020 · Ctrl+Z to undo"
    assert r["edit_after_s"] == ["Undo Starred take 01 of INT_OFFICE_020", "Redo (nothing to redo)"]
    assert r["typing"] and r["typing_ctrl_z_kept_star"]
    assert r["stars_after_undo"] == before and r["card_starred_after_undo"] is False
    assert r["toast_after_undo"].startswith("Undone: Starred take 01 of INT_OFFICE_020")
    assert r["edit_after_undo"] == ["Undo (nothing to undo)", "Redo Starred take 01 of INT_OFFICE_020"]
    assert r["stars_after_redo"] == after and r["card_starred_after_redo"] is True
    # nothing to undo: a quiet line in the status bar, no dialog
    assert r["dialogs_before_nothing"] == 0 and r["dialogs_after_nothing"] == 0
    assert "Nothing to undo" in r["status_nothing"]
    assert r["stars_end"] == before


def test_a_job_runs_on_its_own_connection_and_only_cancel_stops_it(four_shots, tmp_path):
    r = run_scenario("job_isolation", tmp_path, project=four_shots)
    assert r["errors"] == []
    assert r["starred_first"] is True
    assert r["seen"]["own_project"] is True and r["seen"]["thread"] != "MainThread"
    assert r["dialog_no_close"] is True                      # no title-bar X
    assert r["ui_reads_while_job_writes"] == r["desc_before"]
    assert r["dialog_after_escape"] is True                  # Escape did not close it
    assert r["stars_after_ctrl_z"] and r["stars_after_s"]    # Ctrl+Z and S refused
    assert "Test job is running" in r["status_after_ctrl_z"]
    assert r["dialogs_after_ctrl_o"] == 1                    # no file dialog opened over it
    assert r["refused_op"] and r["still_running"]
    assert r["cancel_set"]
    assert r["after_cancel_desc"] == r["desc_before"]        # rolled back
    assert r["after_cancel_toast"] == "Test job cancelled, nothing changed"
    assert r["after_cancel_dialogs"] == 0
    assert r["after_done_desc"] == "changed by the job" and r["results"] == ["job done"]
    assert r["undo_after_jobs"] is False                     # Ctrl+Z works again afterwards


def test_no_callback_can_end_the_app(four_shots, tmp_path):
    r = run_scenario("callback_guard", tmp_path, project=four_shots)
    assert r["alive"] and r["frames_advanced"] >= 5 and r["frames_after_errors"] >= 5
    assert r["dialogs"] == ["Something went wrong"]
    text = "\n".join(r["dialog_texts"])
    assert "RuntimeError: injected failure in Copy prompt" in text and "project_log.log" in text
    assert r["dialogs_after_escape"] == 0
    assert r["key_error_dialogs"] == ["Something went wrong"]
    assert r["deferred_dialogs"] == ["Something went wrong"]
    log = r["log"]
    assert "RuntimeError: injected failure in Copy prompt" in log and "Traceback" in log
    assert "KeyError: 'injected failure for move:+1'" in log and "ZeroDivisionError" in log
    assert r["tick_dialogs"] == ["Something went wrong"]
    assert log.count('raise ValueError("injected failure in every frame")') == 1   # one traceback
    # the error dialog is on screen: its box differs from the same box once closed
    img = pixels(r["error_shot"])
    x0, y0, x1, y1 = (int(v) for v in r["dialog_rect"])
    assert x1 - x0 > 300 and img[y0:y1, x0:x1].std() > 10
    # Open folder with no xdg-open, gio or file manager: says what to do
    assert r["open_dialogs"] == ["Could not open the folder"]
    msg = "\n".join(r["open_texts"])
    assert "xdg-open: not installed" in msg and "gio: not installed" in msg and "Settings" in msg


def test_status_bar_in_user_words_and_the_guide_formatted(four_shots, tmp_path):
    r = run_scenario("status_and_help", tmp_path, project=four_shots)
    assert r["errors"] == []
    status = r["status"]
    assert "4 shots" in status and "12 takes" in status
    assert "textures" not in status and "ms/frame" not in status and not r["perf_shown"]
    perf, shown, checked = r["perf_on"]
    assert shown and checked and "textures" in perf and "MB" in perf
    assert r["perf_off"] == ["", False]
    assert r["guide_title"] == "User guide"
    texts = r["guide_texts"]
    assert "aimms_fast user guide" in texts and "Start" in texts
    assert not any(t.lstrip().startswith("#") for t in texts)
    assert not any("**" in t for t in texts)
    assert "Shots" in texts and r["guide_tables"] >= 1
    assert texts.count("•") >= 5


def test_tour_screenshots_show_finished_storyboards(four_shots, tmp_path):
    from tests.ui.conftest import close_to, region_mean, video_colour
    r = run_scenario("tour_finished_screens", tmp_path, project=four_shots)
    names = [p.rsplit("/", 1)[-1] for p in r["paths"]]
    assert "02_images_storyboard.png" in names and "03_videos_storyboard.png" in names
    images, videos = r["seen"]["02_images_storyboard.png"], r["seen"]["03_videos_storyboard.png"]
    assert images["page"] == "images" and videos["page"] == "videos"
    assert videos["hover"] is None and images["hover"] is None
    img = pixels(next(p for p in r["paths"] if p.endswith("02_images_storyboard.png")))
    for i, rect in enumerate(images["rects"]):
        assert close_to(region_mean(img, rect), (40 * i + 60, 90, 160)), i
    vid = pixels(next(p for p in r["paths"] if p.endswith("03_videos_storyboard.png")))
    for i, rect in enumerate(videos["rects"]):
        assert close_to(region_mean(vid, rect), video_colour(i + 1)), i


def test_csv_with_bad_rows_offers_to_import_the_valid_ones(four_shots, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("shot_name,order_number\nA_SHOT,1\n,2\nC_SHOT,three\nD_SHOT,4\n", encoding="utf-8")
    r = run_scenario("csv_valid_rows", tmp_path, project=four_shots, args={"csv": str(bad)})
    assert r["errors"] == []
    assert r["title"].startswith("CSV has problems: nothing imported")
    assert r["buttons"] == ["Import the 2 valid rows", "Copy", "Close"]
    assert r["after_report"]                                  # nothing imported by the report
    assert r["added"] == ["A_SHOT", "D_SHOT"]
    assert r["done_title"] == "Imported 2 shots"
    assert r["edit_undo"] and "2" in r["edit_undo"]           # one undo step names the import


def test_open_folder_falls_back_to_gio_then_the_file_manager_from_settings(tmp_path, monkeypatch):
    from aimms_fast.ui.desktop import open_file, open_folder
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"

    def fake(name):
        exe = bin_dir / name
        exe.write_text(f"#!/bin/sh\necho {name} \"$@\" >> {calls}\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    target = tmp_path / "folder"
    target.mkdir()
    r = open_folder(target)
    assert not r.ok and r.title == "Could not open the folder"
    assert "xdg-open: not installed" in r.message and "gio: not installed" in r.message
    assert "Settings" in r.message and r.tried == ["xdg-open", "gio open"]
    fake("myfm")
    r = open_folder(target, file_manager="myfm --new-window")
    assert r.ok and r.command == ["myfm", "--new-window", str(target)]
    fake("gio")
    r = open_folder(target, file_manager="myfm")
    assert r.ok and r.command == ["gio", "open", str(target)]          # gio comes before Settings
    fake("xdg-open")
    doc = tmp_path / "guide.md"
    doc.write_text("# guide\n")
    r = open_file(doc)
    assert r.ok and r.command == ["xdg-open", str(doc)]
    r = open_file(tmp_path / "gone.md")
    assert not r.ok and "does not exist" in r.message
    import time
    end = time.monotonic() + 10
    while time.monotonic() < end and len(calls.read_text().splitlines() if calls.exists() else []) < 3:
        time.sleep(0.05)
    assert sorted(calls.read_text().splitlines()) == sorted([
        f"myfm --new-window {target}", f"gio open {target}", f"xdg-open {doc}"])
