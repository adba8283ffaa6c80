"""Pages that speak to users (issue 13), driven like a user and checked on screen and in the database."""
from __future__ import annotations

import pytest

from tests.ui.conftest import build_project, close_to, make_image, pixels, region_mean, run_scenario

RED, GREEN, BLUE, YELLOW = (200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 200, 40)

SHOTS = [
    {"name": "EXT_FOREST_DAY_010_WITH_A_VERY_LONG_NAME_THAT_NO_CARD_CAN_HOLD", "section": "Act 1",
     "images": [RED, GREEN], "videos": [1, 3], "pngs": True, "image_prompt": "a misty forest at dawn, wide"},
    {"name": "INT_OFFICE_020", "section": "Act 2", "images": [BLUE], "videos": [5]},
    {"name": "EXT_STREET_030", "section": "Act 2", "placeholders": True},
    {"name": "INT_LAB_040", "section": "Act 3", "images": [YELLOW], "videos": [2], "pngs": True},
]


@pytest.fixture
def project(tmp_path):
    return build_project(tmp_path / "proj", SHOTS)


def test_card_shows_the_first_take_that_exists_and_says_which(project, tmp_path):
    # Shot 1's take 01 file is gone: the card must show take 02 (green), not MISSING FILE.
    r = run_scenario("pages_cards", tmp_path, project=project, args={"delete": ["media/1/base_01.png"]})
    assert r["errors"] == []
    img = r["images"]
    assert img["badges"][0] == []
    assert img["rels"][0] == "media/1/base_02.png"
    assert close_to(region_mean(pixels(img["shot"]), img["rects"][0]), GREEN)
    # Take number, duration (videos) and resolution on the card, as drawn.
    assert img["details"][0] == "Take 02 · 128×72"
    assert img["drawn_detail"] == "Take 02 · 128×72"
    vid = r["videos"]
    assert vid["details"][0] == "Take 01 · 1.0 s · 160×90"
    assert vid["drawn_detail"] == "Take 01 · 1.0 s · 160×90"
    assert img["details"][2] == "Take 01 · placeholder"


def test_tooltip_star_key_toast_and_star_filter(project, tmp_path):
    r = run_scenario("pages_cards", tmp_path, project=project)
    assert r["errors"] == []
    # Card 1 of the Images page under the real mouse pointer: the tooltip has the full name,
    # the prompt and the file, and it is on screen.
    tip = r["tooltip"]
    assert tip.startswith("2. INT_OFFICE_020\nTake 01 · 128×72")
    assert "File: media/2/base_01.png" in tip
    assert r["tooltip_shown"] is True
    x0, y0, x1, y1 = r["tooltip_rect"]
    assert x1 - x0 > 100 and y1 - y0 > 30
    assert r["tooltip_after_leave"] is None
    # A long name cut short on the card is whole in the tooltip.
    assert r["images"]["titles"][0].endswith("NO_CARD_CAN_HOLD")
    # S (real key) on card 4: starred; the toast names the take and the shot.
    assert r["toast"].startswith("Starred") and " 01 of INT_LAB_040" in r["toast"]
    assert r["starred_only"] == ["4. INT_LAB_040"]
    assert r["unstarred_only"] == [t for t in r["all"] if t != "4. INT_LAB_040"]
    assert len(r["all"]) == 4
    assert r["count_text"].startswith("4 shots")


def test_right_click_menu_stars_from_the_menu_and_rows_have_menus(project, tmp_path):
    r = run_scenario("pages_context_menu", tmp_path, project=project)
    assert r["errors"] == []
    assert r["menu_open"] is True
    assert r["labels"] == ["Play", "Open shot", "Star", "Replace…", "Approve", "Lock", "Approve star", "Lock star",
                           "Reveal in folder", "Copy path", "Delete…"]  # Approve/Lock (take, shot's star): issue 12
    assert r["starred_before"] == 0
    assert r["starred_after"] == 1                       # clicked "Star" with the real mouse
    assert r["card_starred_after"] is True
    assert r["menu_open_after"] is False
    assert "INT" in r["toast"] or "EXT" in r["toast"]
    # The menu is drawn where the mouse was (pixels: the popup is not the page's background).
    img = pixels(r["menu_shot"])
    x0, y0, x1, y1 = r["star_rect"]
    assert x1 - x0 > 60
    assert r["revealed"] and r["revealed"][0].endswith("media/2")
    assert r["window_labels"] == ["Play", "Star", "Replace…", "Approve", "Lock", "Reveal in folder", "Copy path",
                                  "Delete…"]
    assert r["window_selected"] == 1
    assert r["delete_asks"] == 1                          # Delete asks first
    assert r["row_menu_open"] is True
    assert r["row_labels"] == ["Play", "Open shot", "Edit…", "Reveal in folder", "Copy path", "Delete…"]
    assert r["row_selected"] == [r["row_sid"]]
    assert img.shape[0] > 0


@pytest.fixture
def browse_folder(tmp_path):
    f = tmp_path / "browse"
    (f / "sub").mkdir(parents=True)
    (f / ".hiddendir").mkdir()
    (f / "pics").mkdir()
    for name in ("a.csv", "B.CSV", "notes.txt", "table.tsv", ".hidden.csv", "clip.mp4"):
        (f / name).write_text("x\n")
    make_image(f / "pics" / "one.png", size=(64, 48), color=RED)
    make_image(f / "pics" / "two.png", size=(64, 48), color=GREEN)
    make_image(f / "pics" / "three.jpg", size=(64, 48), color=BLUE)
    (f / "pics" / "readme.md").write_text("not an image\n")
    return f


def test_file_browser_lists_and_filters_as_stated(project, tmp_path, browse_folder):
    r = run_scenario("pages_file_browser", tmp_path, project=project, args={"folder": str(browse_folder)})
    assert r["errors"] == []
    assert r["is_browser"] is True
    # CSV picker: folders first, then only CSV files; hidden names and other types left out.
    assert r["csv_names"] == ["pics", "sub", "a.csv", "B.CSV"]
    assert r["filters"][0] == "CSV files (.csv)"
    assert r["csv_hidden_names"] == [".hiddendir", "pics", "sub", ".hidden.csv", "a.csv", "B.CSV"]
    assert r["table_names"] == ["pics", "sub", "a.csv", "B.CSV", "notes.txt", "table.tsv"]
    assert r["file_name_field"] == str(browse_folder)          # no "File Name: ." oddity
    assert r["picked_csv"] == [[str(browse_folder / "a.csv")]]
    assert r["dialogs_after"] == 0
    # Media picker: images only, each with its thumbnail on screen (the RED one first).
    assert r["media_names"] == ["one.png", "three.jpg", "two.png"]
    img = pixels(r["media_shot"])
    assert close_to(region_mean(img, r["thumb_rect"], inset=0.35), RED, tol=30)
    assert r["multi"] == ["one.png", "two.png"]                 # shift range 0..2, ctrl drops 1
    assert r["picked_media"] == [["one.png", "two.png"]]
    assert r["folder_names"] == ["pics", "sub"]
    assert r["picked_folder"] == [str(browse_folder / "sub")]
    assert r["escape_closed"] is True
    assert "Home" in r["shortcuts"] and any(s.startswith("Project:") for s in r["shortcuts"])


def test_theme_contrast_meets_wcag_aa():
    from aimms_fast.ui import theme as T
    bad = [(what, round(T.contrast(fg, bg), 2)) for what, fg, bg in T.contrast_pairs() if T.contrast(fg, bg) < 4.5]
    assert bad == []
    # The light theme's take header (it was pale blue on white: 1.9:1).
    assert T.contrast(T.PALETTES["light"]["heading"], T.PALETTES["light"]["window_bg"]) >= 4.5


def test_words_for_users_light_header_labels_and_esc_clears_search(project, tmp_path):
    from aimms_fast.ui import theme as T
    r = run_scenario("pages_words", tmp_path, project=project)
    assert r["errors"] == []
    assert T.contrast(r["head_colour"], r["window_bg"]) >= 4.5
    assert r["head_text"].startswith("Take 01")
    labels = r["edit_labels"]
    assert labels["colour_scheme_image"] == "Colour scheme"
    assert labels["lora_1"] == "LoRA 1"
    assert labels["image_negative"] == "Image negative prompt"
    assert not any("_" in v for v in labels.values())
    assert "Shot name" in r["column_headers"] and "shot_name" not in r["column_headers"]
    assert r["typed"] == "forest" and r["shown_typed"] == 1
    assert r["after_escape"] == "" and r["shown_after_escape"] == r["all_rows"]
    words = " ".join(r["settings_words"])
    for jargon in ("float32", "RGBA", "atlas", "texture"):
        assert jargon not in words
    assert "Memory for thumbnails (MB)" in words
    assert "ComfyUI output folder" in words


def test_files_dropped_from_the_desktop_become_takes(project, tmp_path):
    from tests.ui.conftest import make_video
    src = tmp_path / "desk"
    a = make_image(src / "dropped one.png", size=(128, 72), color=YELLOW)
    b = make_image(src / "dropped_two.jpg", size=(128, 72), color=GREEN)
    v = make_video(src / "render.mp4", color_seed=4)
    wf = make_image(src / "render.png", size=(160, 90))          # the video's workflow PNG
    note = src / "notes.txt"
    note.write_text("not media\n")
    r = run_scenario("pages_drop", tmp_path, project=project,
                     args={"files": [str(p) for p in (a, b, v, wf, note)]})
    assert r["errors"] == []
    assert r["status_accepted"] is True and r["finished"] is True      # the XDND exchange completed
    assert r["handled"][0] == ["card", r["card_shot"], 3]
    assert r["images_after"] == 2                                       # both images, not render.png
    assert r["videos_after"] == 2                                       # shot 2 had one video; + render.mp4
    assert r["card_subtitle"].endswith("3 takes")
    assert r["window_handled"] == [["shot window", r["window_shot"], 1]]
    assert r["window_takes_added"] == 1


# -- native pickers: the portal over a real DBus daemon, zenity/kdialog as real processes -------------

@pytest.fixture
def session_bus(tmp_path, monkeypatch):
    """A private dbus-daemon (the machine's own, as a desktop session runs it)."""
    import shutil
    import subprocess
    if not shutil.which("dbus-daemon"):
        pytest.fail("dbus-daemon is needed for the portal test (apt-get install dbus)")
    p = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                         stdout=subprocess.PIPE, text=True)
    addr = p.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", addr)
    yield addr
    p.terminate()
    p.wait(10)


def _fake_portal(addr: str, answer: list[str], code: int = 0):
    """org.freedesktop.portal.Desktop's FileChooser.OpenFile as xdg-desktop-portal answers it:
    a request handle, then the Request.Response signal on it. Returns (thread, calls seen)."""
    import threading
    from jeepney import DBusAddress, HeaderFields, MessageType, message_bus, new_method_return, new_signal
    from jeepney.io.blocking import open_dbus_connection
    conn = open_dbus_connection(bus=addr)
    conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.portal.Desktop"))
    calls = []

    def serve():
        while True:
            msg = conn.receive(timeout=20)
            f = msg.header.fields
            if msg.header.message_type == MessageType.method_call and f.get(HeaderFields.member) == "OpenFile":
                parent, title, opts = msg.body
                calls.append({"parent": parent, "title": title, "opts": opts, "iface": f.get(HeaderFields.interface)})
                sender = f[HeaderFields.sender].lstrip(":").replace(".", "_")
                path = f"/org/freedesktop/portal/desktop/request/{sender}/{opts['handle_token'][1]}"
                conn.send(new_method_return(msg, "o", (path,)))
                conn.send(new_signal(DBusAddress(path, interface="org.freedesktop.portal.Request"), "Response",
                                     "ua{sv}", (code, {"uris": ("as", answer)})))
                conn.close()
                return
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t, calls


def test_portal_file_chooser_over_dbus(session_bus, tmp_path):
    from aimms_fast.ui.file_dialog import filters_for, portal_pick
    f = tmp_path / "shot list.csv"
    f.write_text("a\n")
    t, calls = _fake_portal(session_bus, [f.as_uri()])
    got = portal_pick("Import shots from CSV", filters_for([".csv", ".tsv"]), multiple=False, directory=False,
                      start=tmp_path, parent="x11:1a2b")
    t.join(5)
    assert got == [f]                                            # file:// URI with a space, decoded
    c = calls[0]
    assert c["iface"] == "org.freedesktop.portal.FileChooser" and c["title"] == "Import shots from CSV"
    assert c["parent"] == "x11:1a2b"
    assert c["opts"]["multiple"] == ("b", False) and c["opts"]["directory"] == ("b", False)
    sig, filters = c["opts"]["filters"]
    assert sig == "a(sa(us))"
    assert filters[0] == ("CSV files (.csv)", [(0, "*.csv")])
    assert c["opts"]["current_folder"] == ("ay", bytes(tmp_path) + b"\0")


def test_portal_cancel_and_absent_portal(session_bus, tmp_path):
    from aimms_fast.ui.file_dialog import Unavailable, filters_for, portal_pick
    t, _ = _fake_portal(session_bus, [], code=1)                  # the user pressed Cancel
    assert portal_pick("x", filters_for([".png"]), multiple=True, directory=False, start=None) is None
    t.join(5)
    # Nobody owns the portal name on this bus: the next backend is tried, nothing hangs.
    with pytest.raises(Unavailable):
        portal_pick("x", filters_for([".png"]), multiple=True, directory=True, start=None)


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """zenity and kdialog stand-ins on PATH: they log their arguments and answer like the real
    ones (paths on stdout, exit 1 on cancel)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("zenity", "kdialog"):
        script = bin_dir / tool
        script.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$FAKE_TOOL_LOG\"\n"
                          "[ -n \"$FAKE_TOOL_CANCEL\" ] && exit 1\nsleep \"${FAKE_TOOL_SLEEP:-0}\"\n"
                          "printf '%s' \"$FAKE_TOOL_ANSWER\"\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("FAKE_TOOL_LOG", str(tmp_path / "tool_args.txt"))
    return tmp_path / "tool_args.txt"


def test_zenity_and_kdialog_arguments_and_answers(fake_tools, tmp_path, monkeypatch):
    from aimms_fast.ui.file_dialog import filters_for, kdialog_args, tool_pick, zenity_args
    a, b = tmp_path / "a.png", tmp_path / "b c.png"
    monkeypatch.setenv("FAKE_TOOL_ANSWER", f"{a}\n{b}\n")
    got = tool_pick(zenity_args("Add image takes", filters_for([".png", ".jpg"]), multiple=True,
                                directory=False, start=tmp_path))
    assert got == [a, b]
    args = fake_tools.read_text().splitlines()
    assert args[:2] == ["--file-selection", "--title=Add image takes"]
    assert "--multiple" in args and f"--filename={tmp_path}/" in args
    assert "--file-filter=Images (.jpg, .png) | *.jpg *.JPG *.png *.PNG" in args
    tool_pick(kdialog_args("Pick", filters_for([".csv"]), multiple=False, directory=False, start=tmp_path))
    assert fake_tools.read_text().splitlines() == ["--title", "Pick", "--getopenfilename", str(tmp_path),
                                                   "*.csv|CSV files (.csv)"]
    monkeypatch.setenv("FAKE_TOOL_CANCEL", "1")
    assert tool_pick(zenity_args("x", [], multiple=False, directory=True, start=None)) is None


def test_native_picker_answers_on_the_ui_thread(project, tmp_path, fake_tools, monkeypatch):
    picked = tmp_path / "shots.csv"
    picked.write_text("shot_name\nA\n")
    monkeypatch.setenv("FAKE_TOOL_ANSWER", f"{picked}\n")
    monkeypatch.setenv("AIMMS_FILE_DIALOG", "zenity")
    monkeypatch.setenv("FAKE_TOOL_SLEEP", "1")          # the user takes a second to pick
    r = run_scenario("pages_native_dialog", tmp_path, project=project, args={"start": str(tmp_path)})
    assert r["errors"] == []
    assert r["frames_while_open"] >= 10                 # the app kept drawing while zenity was up
    assert r["got"] == [[str(picked)]]
    assert r["on_ui_thread"] == [True] and r["waiter"] == "_NativePick"
    assert "--file-filter=CSV files (.csv) | *.csv *.CSV" in fake_tools.read_text().splitlines()
