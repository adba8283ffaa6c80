"""The player (issue 7), driven with real keys; the frame on screen is read from screenshot pixels."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from tests.ui.conftest import pixels, run_scenario

FRAMES = 48


def _project(root):
    """Shot 1: two numbered clips (48 frames, GOP 24, 24 fps) and an undecodable 'clip'; shot 2:
    two image takes (a 1600x900 noise picture whose pixels are all distinct enough to compare
    exactly, and a flat green one)."""
    from aimms_fast.demo.numbered import make_numbered_clip
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    src = root.parent / "src"
    src.mkdir(parents=True, exist_ok=True)
    a = make_numbered_clip(src / "a.mp4", frames=FRAMES, gop=24, size=(320, 180))
    b = make_numbered_clip(src / "b.mp4", frames=FRAMES, gop=24, size=(320, 180))
    bad = src / "broken.mp4"
    bad.write_text("this is a text file, not a video\n")
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (900, 1600, 3), dtype=np.uint8)
    Image.fromarray(noise).save(src / "noise.png")
    Image.new("RGB", (640, 360), (30, 200, 30)).save(src / "green.png")
    sound = make_numbered_clip(src / "sound.mp4", frames=FRAMES, gop=24, size=(320, 180), audio_tone_frames=[0, 24])
    bad_png = src / "bad.png"
    bad_png.write_bytes(b"not a PNG at all")
    with Project.create(root, name="Player test", author="tests") as p:
        s1 = add_shot(p, shot_name="Stairs", section="Act 1", description="", image_prompt="", placeholders=False)
        s2 = add_shot(p, shot_name="Lamp", section="Act 1", description="", image_prompt="", placeholders=False)
        take, take2, broken, sound_take = add_takes(p, s1, [a, b, bad, sound], storyboard="video")
        image, image2, bad_image = add_takes(p, s2, [src / "noise.png", src / "green.png", bad_png],
                                             storyboard="image")
    return {"take": take, "take2": take2, "broken": broken, "good": take, "image": image, "image2": image2,
            "noise": str(src / "noise.png"), "sound": sound_take, "bad_image": bad_image}


@pytest.fixture
def proj(tmp_path):
    root = tmp_path / "proj"
    ids = _project(root)
    return root, ids


def test_steps_land_on_the_exact_frame_read_from_the_screen(proj, tmp_path):
    root, ids = proj
    r = run_scenario("player_steps", tmp_path, project=root, args=ids)
    assert r["errors"] == []
    assert r["first_ready"] and r["focused"]
    assert r["open"]["number"] == 0
    want = [1, 2, 3, 2, 26, 27, FRAMES - 1, FRAMES - 2, 0]     # Shift+Right: one second = 24 frames
    assert [s["number"] for s in r["steps"]] == want, r["steps"]
    assert [s["state"] for s in r["steps"]] == want
    # Held Right repeats (Dear PyGui key repeat): several frames, still exact on screen.
    assert r["held"]["number"] == r["held"]["state"] and r["held"]["number"] >= 3
    # L plays at 1x until K: the distance is the time between the keys times 24 fps, within the
    # time the key presses themselves took, and the screen shows where the transport stopped.
    lk = r["lk"]
    assert r["rate_while_playing"] == 1.0 and lk["rate_after_k"] == 0
    moved = lk["number"] - lk["start"]
    assert lk["number"] == lk["state"]
    assert math.floor(lk["min_s"] * lk["fps"]) - 1 <= moved <= math.ceil(lk["max_s"] * lk["fps"]) + 1, lk
    assert moved >= 10
    jk = r["jk"]
    assert r["rate_reverse"] == -1.0
    back = jk["start"] - jk["number"]
    assert jk["number"] == jk["state"]
    assert math.floor(jk["min_s"] * 24) - 1 <= back <= math.ceil(jk["max_s"] * 24) + 1, jk
    assert back >= 6
    assert "fps" in r["status"] and "frame" in r["status"] and "dropped" in r["status"]


def test_undecodable_take_shows_its_error_and_the_app_keeps_running(proj, tmp_path):
    root, ids = proj
    r = run_scenario("player_broken", tmp_path, project=root, args=ids)
    assert "video_03.mp4" in r["error"]
    assert r["kind"] == "error"
    assert r["red_text_pixels"] > 50                    # the error text is in the pane, in red
    assert r["frames_rendered"] >= 10
    assert r["good_ready"] and r["good_step"] and r["good"]["number"] == 1
    assert r["broken_still_open"] and r["windows"] == 4
    assert r["errors"] == []                             # no dialog: the pane says it
    # A still Pillow cannot read: the same, in its own player.
    assert "base_03.png" in r["bad_image_error"] and "not an image" in r["bad_image_error"]
    assert r["bad_image_kind"] == "error"
    # A clip with sound plays (with or without an output device, which it then names once).
    assert r["sound_has_audio"] and r["sound_played_to"] > 5
    assert "sound" in r["sound_status"] and "muted" not in r["sound_status"]
    assert "muted" in r["sound_status_muted"]


def test_star_promote_and_next_take_from_the_keyboard(proj, tmp_path):
    root, ids = proj
    r = run_scenario("player_star_promote", tmp_path, project=root, args=ids)
    assert r["errors"] == []
    assert r["starred_db"] == 1
    assert r["card_starred"] == [True]
    assert "starred" in r["status_after_star"]
    assert r["after_click_plus_second"] == 24 and r["after_clicks"]["number"] == 5   # buttons, clicked
    promoted = [row for row in r["images_after_promote"]
                if row[0] not in (ids["image"], ids["image2"], ids["bad_image"])]
    assert len(promoted) == 1        # F was held 0.7 s: key repeat must not promote again
    assert r["focused_after_promote"]  # the job's dialog gave the keyboard back
    take_id, rel, shot_id = promoted[0]
    assert rel == "media/1/base_01.png" and shot_id == 1
    from aimms_fast.demo.numbered import read_frame_number
    png = Image.open(root / rel)
    assert read_frame_number(np.asarray(png.convert("RGB"))) == 5
    assert png.text["aimms_source_take"] == ids["take"] and png.text["aimms_source_frame"] == "5"
    # Scrub bar: the playhead follows the mouse (frame 36's slot, then 24's); the screen ends on
    # the exact frame.
    assert r["scrub_kinds"][2][0] == 36 and r["scrub_kinds"][-1][0] == 24, r["scrub_kinds"]
    assert r["scrub"]["number"] == 24 == r["scrub"]["state"]
    # A smaller window: smaller pane, frames decoded at that size, still exact.
    pw, ph = r["pane_size_after_resize"]
    sw, sh = r["stream_size_after_resize"]
    assert pw < 760 and sw <= pw and sh <= ph and abs(sw / sh - 320 / 180) < 0.01   # fitted, aspect kept
    assert r["resized"]["pane"][2] - r["resized"]["pane"][0] < 760
    assert r["resized"]["number"] == 24 and r["resized_step"]["number"] == 25
    assert r["after_next_take"] == ids["take2"]
    assert r["next_take_screen"]["number"] == 0
    assert r["after_prev_take"] == ids["take"]
    assert r["compare_takes"] == [ids["take"]]            # C: this take in the compare view
    assert r["player_focused_after_c"]                    # ... and the keyboard stays here
    assert r["closed"]


def test_image_take_zoom_and_pan(proj, tmp_path):
    root, ids = proj
    r = run_scenario("player_image", tmp_path, project=root, args=ids)
    assert r["errors"] == []
    assert r["kind"] == "image" and r["size"] == [1600, 900]
    assert r["fit_zoom"].endswith("(fit)")
    assert r["zoom_100"] == "100 %"
    # 100 %: the middle of the pane shows the file's own pixels, exactly.
    noise = np.asarray(Image.open(ids["noise"]).convert("RGB")).astype(int)
    shot100 = pixels(r["actual"])
    x0, y0, x1, y1 = (int(round(v)) for v in r["pane"])
    pw, ph = x1 - x0, y1 - y0
    cx, cy = r["center_100"]
    ix0, iy0 = -math.floor(pw / 2 - cx + 0.5), -math.floor(ph / 2 - cy + 0.5)   # pane (0, 0) in the image
    crop = shot100[y0 + 20:y1 - 20, x0 + 20:x1 - 20]
    want = noise[iy0 + 20:iy0 + ph - 20, ix0 + 20:ix0 + pw - 20]
    assert crop.shape == want.shape
    assert np.array_equal(crop, want)
    assert r["zoom_wheel"] == "125 %"
    # The drag moved the picture with the mouse, not the window.
    dx = r["center_before_drag"][0] - r["center_after_drag"][0]
    assert dx == pytest.approx(60 / r["scale_drag"], abs=2.5)
    assert r["center_before_drag"][1] == pytest.approx(r["center_after_drag"][1], abs=0.5)
    assert r["zoom_fit_again"].endswith("(fit)")
    assert r["next_take"] == ids["image2"] and r["next_kind"] == "image"
    nxt = pixels(r["next"])
    mid = nxt[(y0 + y1) // 2 - 10:(y0 + y1) // 2 + 10, (x0 + x1) // 2 - 10:(x0 + x1) // 2 + 10]
    assert np.all(np.abs(mid - np.array([30, 200, 30])) <= 2)


def test_image_view_math():
    """ImageView without a window: 100 % is exact pixels, zoom keeps the point under the mouse,
    alpha sits on a checkerboard."""
    from aimms_fast.ui.image_view import ImageView, checkerboard
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    v = ImageView(Image.fromarray(a))
    assert v.zoom_text((200, 100)) == "33 % (fit)"
    v.actual_size()
    out = v.render((200, 100))
    assert out.shape == (100, 200, 4) and np.array_equal(out[..., :3], a[100:200, 150:350])
    before = v.image_point(30, 40, (200, 100))
    v.zoom_at(2.0, 30, 40, (200, 100))
    assert v.image_point(30, 40, (200, 100)) == pytest.approx(before)
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:8, :, 3] = 255                     # top half opaque red, bottom half transparent
    t = ImageView(Image.fromarray(rgba, "RGBA"))
    t.actual_size()
    o = t.render((16, 16))
    assert np.all(o[:8, :, :3] == [255, 0, 0])
    assert np.array_equal(o[8:, :, :3], checkerboard(16, 16)[8:])


def test_timecode_and_alpha_over_checkerboard():
    from aimms_fast.ui.image_view import checkerboard, over_checkerboard
    from aimms_fast.ui.player import timecode
    assert timecode(0.0, 24.0) == "00:00:00:00"
    assert timecode(29 / 24, 24.0) == "00:00:01:05"
    assert timecode(3723 + 23 / 24, 24.0) == "01:02:03:23"
    assert timecode(2 + 1 / 29.97, 29.97) == "00:00:02:01"
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[..., 1] = 200
    rgba[..., 3] = 255
    assert over_checkerboard(rgba) is rgba                 # opaque frames pass untouched
    rgba[:, 10:, 3] = 0                                     # right half transparent
    rgba[:, :5, 3] = 128                                    # a half-transparent strip
    out = over_checkerboard(rgba)
    board = checkerboard(20, 10).astype(int)
    assert np.array_equal(out[:, 10:, :3], board[:, 10:])
    assert np.array_equal(out[:, 5:10, :3], np.broadcast_to([0, 200, 0], (10, 5, 3)))
    half = (np.array([0, 200, 0]) * 128 + board[:, :5] * 127 + 127) // 255
    assert np.array_equal(out[:, :5, :3], half) and np.all(out[..., 3] == 255)


def test_still_loads_upright_and_unreadable_names_the_file(tmp_path):
    from aimms_fast.errors import MediaError
    from aimms_fast.ui.image_view import ImageView
    im = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6                                   # orientation: rotate 90° clockwise to show
    im.save(tmp_path / "phone.jpg", exif=exif)
    v = ImageView.open(tmp_path / "phone.jpg")
    assert (v.width, v.height) == (20, 40)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(MediaError) as e:
        ImageView.open(tmp_path / "bad.png")
    assert "bad.png" in str(e.value) and "not an image" in str(e.value)


def test_keys_go_to_the_player_clicked_last(proj, tmp_path):
    root, ids = proj
    r = run_scenario("player_two", tmp_path, project=root, args=ids)
    assert r["errors"] == []
    assert r["a_focused"] and not r["b_focused"]
    assert r["a_focused_2"] and not r["b_focused_2"]
    assert (r["a"], r["b"]) == (2, 0) and r["a_screen"] == 2
    # I / O / P / Space: 0.8 s of play (about four passes over 2..5) never leaves the loop.
    assert set(r["loop_seen"]) <= {2, 3, 4, 5} and len(r["loop_seen"]) >= 3, r["loop_seen"]
    assert "in 2 out 5" in r["loop_status"] and "loop" in r["loop_status"]
    assert r["cleared"] == [None, None]


def test_scrub_shows_the_filmstrip_frame_then_the_exact_one(tmp_path):
    """A 240-frame clip with one keyframe: frame 200 takes 200 decodes, the filmstrip is at hand."""
    from aimms_fast.demo.numbered import make_numbered_clip
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    clip = make_numbered_clip(tmp_path / "src" / "long.mp4", frames=240, gop=240, size=(640, 360))
    with Project.create(tmp_path / "proj", name="Scrub", author="tests") as p:
        sid = add_shot(p, shot_name="Long", section="", description="", image_prompt="", placeholders=False)
        [take] = add_takes(p, sid, [clip], storyboard="video")
    r = run_scenario("player_scrub_filmstrip", tmp_path, project=tmp_path / "proj",
                     args={"take": take, "target": 200})
    assert r["errors"] == [] and r["strip_ready"]
    assert r["kind_at_once"] == "filmstrip"
    # The filmstrip has a frame every 240/16 = 15 frames: the nearest one is on screen at once.
    assert isinstance(r["at_once"]["number"], int) and abs(r["at_once"]["number"] - 200) <= 8, r["at_once"]
    assert r["exact_arrived"] and r["exact"]["number"] == 200


def test_player_on_the_numpy_live_view_backend(proj, tmp_path, monkeypatch):
    """Where GL fails LiveView draws with numpy: the player shows the same exact frames."""
    root, ids = proj
    monkeypatch.setenv("AIMMS_LIVE_BACKEND", "numpy")
    r = run_scenario("player_quick", tmp_path, project=root, args=ids)
    assert r["errors"] == [] and r["backend"] == "numpy" and r["first"]
    assert r["numbers"] == [1, FRAMES - 1, FRAMES - 2]
