"""Posters and filmstrips from real encoded media and the real odd files."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from aimms_fast.media import posters as P
from aimms_fast.media.posters import POSTER_SIZE, STRIP_SIZE, extract_tiles, fit_rect, strip_targets
from test_frames import code_colour, encode_clip, frame_of


def picture(tile, rect):
    x, y, w, h = rect
    return tile[y:y + h, x:x + w]


def test_fit_rect_letterboxes_and_pillarboxes():
    assert fit_rect(1920, 1080, 256, 144) == (0, 0, 256, 144)
    assert fit_rect(640, 480, 256, 144) == (32, 0, 192, 144)
    assert fit_rect(1080, 1920, 256, 144) == (87, 0, 81, 144)
    assert fit_rect(2000, 100, 256, 144) == (0, 65, 256, 13)
    assert fit_rect(1, 1, 256, 144) == (56, 0, 144, 144)


def test_strip_targets_are_segment_middles():
    assert strip_targets(160, 16) == [5 + 10 * i for i in range(16)]
    assert strip_targets(4, 8) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_strategy_follows_keyframe_density():
    targets = strip_targets(240, 16)
    assert P.choose_strategy([0], targets) == "sequential"                   # one GOP (x264 keyint 250)
    assert P.choose_strategy(list(range(0, 240, 5)), targets) == "seek"      # dense keyframes
    assert P.choose_strategy([0, 188], targets) == "sequential"   # a seek would save nothing
    assert P.choose_strategy([0, 200], targets) == "seek"          # it skips 188..199


@pytest.mark.parametrize("gop,strategy", [(4, "seek"), (250, "sequential")])
def test_video_poster_and_filmstrip_are_the_right_frames(tmp_path, gop, strategy):
    clip = encode_clip(tmp_path / "c.mp4", 96, gop=gop, size=(320, 180))
    th = extract_tiles(clip)
    assert th.state == "ready" and th.kind == "video" and th.strategy == strategy
    assert th.frame_count == 96 and th.source_size == (320, 180)
    assert th.poster.shape == (POSTER_SIZE[1], POSTER_SIZE[0], 4)
    assert th.poster_rect == (0, 0, 256, 144) and th.poster[..., 3].min() == 255
    assert frame_of(th.poster[..., :3]) == 0
    assert th.strip.shape == (16, STRIP_SIZE[1], STRIP_SIZE[0], 4)
    want = strip_targets(96, 16)
    assert [frame_of(f[..., :3]) for f in th.strip] == want
    assert th.times == pytest.approx([i / 24 for i in want], abs=1e-3)


def test_both_strategies_give_the_same_filmstrip(tmp_path, monkeypatch):
    clip = encode_clip(tmp_path / "c.mp4", 72, gop=12)
    strips = {}
    for s in ("seek", "sequential"):
        monkeypatch.setattr(P, "choose_strategy", lambda key_index, targets, s=s: s)
        th = extract_tiles(clip)
        assert th.strategy == s
        strips[s] = th.strip.astype(int)
    assert np.abs(strips["seek"] - strips["sequential"]).max() <= 2


def test_blank_first_keyframe_is_skipped(tmp_path):
    def fade_in(i, h, w):
        return np.zeros((h, w, 3), np.uint8) if i < 12 else np.broadcast_to(
            np.array(code_colour(i), np.uint8), (h, w, 3)).copy()
    clip = encode_clip(tmp_path / "fade.mp4", 48, gop=12, paint=fade_in, bframes=0)
    th = extract_tiles(clip)
    assert frame_of(th.poster[..., :3]) == 12          # the second keyframe, the first with a picture
    all_black = encode_clip(tmp_path / "black.mp4", 24, gop=12, bframes=0,
                            paint=lambda i, h, w: np.zeros((h, w, 3), np.uint8))
    th = extract_tiles(all_black)
    assert th.state == "ready" and th.poster[..., :3].max() < 20   # nothing better: black it is


def test_rotation_and_sample_aspect_are_applied(tmp_path):
    def halves(i, h, w):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, : w // 2] = (255, 0, 0)
        img[:, w // 2:] = (0, 0, 255)
        return img
    th = extract_tiles(encode_clip(tmp_path / "rot.mp4", 8, gop=8, rotation=90, paint=halves, bframes=0))
    assert th.source_size == (90, 160)
    x, y, w, h = th.poster_rect
    assert h == 144 and w == 81                       # portrait, pillarboxed
    pic = picture(th.poster, th.poster_rect)
    assert pic[5, w // 2, 2] > 200 and pic[5, w // 2, 0] < 60     # blue on top
    assert pic[-5, w // 2, 0] > 200 and pic[-5, w // 2, 2] < 60   # red at the bottom
    assert th.poster[:, :x, 3].max() == 0             # transparent bars
    th = extract_tiles(encode_clip(tmp_path / "sar.mp4", 8, gop=8, sar=Fraction(3, 1), bframes=0))
    assert th.source_size == (480, 90) and th.poster_rect[2:] == (256, 48)


def test_vp9_alpha_is_composited_over_a_checkerboard(realdata):
    th = extract_tiles(realdata / "video/samples/transparent_vp9_alpha.webm")
    assert th.state == "ready"
    pic = picture(th.poster, th.poster_rect)
    assert th.poster_rect[2:] == (144, 144)
    assert pic[..., 3].min() == 255
    greys = pic[(pic[..., 0] == pic[..., 1]) & (pic[..., 1] == pic[..., 2])][:, 0]
    assert {P.CHECKER_LIGHT, P.CHECKER_DARK} <= set(greys.tolist())   # transparent area shows checks
    red = (pic[..., 0] > 180) & (pic[..., 1] < 60) & (pic[..., 2] < 60)
    assert 10 < red.sum() < 2000                                      # the small red ball


def test_jpeg_poster_uses_exif_orientation(tmp_path):
    from PIL import Image
    img = Image.new("RGB", (1600, 1200), (255, 0, 0))
    img.paste((0, 0, 255), (800, 0, 1600, 1200))     # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6                                 # "rotate 90 CW to display"
    path = tmp_path / "photo.jpg"
    img.save(path, exif=exif, quality=90)
    th = extract_tiles(path)
    assert th.state == "ready" and th.kind == "image" and th.source_size == (1200, 1600)
    x, y, w, h = th.poster_rect
    assert (w, h) == (108, 144)
    pic = picture(th.poster, th.poster_rect)
    assert pic[5, w // 2, 0] > 200 and pic[5, w // 2, 2] < 60     # left edge went to the top
    assert pic[-5, w // 2, 2] > 200 and pic[-5, w // 2, 0] < 60
    assert th.strip is None


def test_png_alpha_and_16_bit_images(tmp_path):
    from PIL import Image
    rgba = np.zeros((90, 160, 4), np.uint8)
    rgba[:, :80] = (0, 255, 0, 255)                  # left opaque green, right fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    pic = picture(*(lambda t: (t.poster, t.poster_rect))(extract_tiles(tmp_path / "a.png")))
    assert pic[70, 20, 1] == 255 and pic[70, 20, 0] == 0
    assert {int(pic[70, 200, 0]), int(pic[70, 208, 0])} == {P.CHECKER_LIGHT, P.CHECKER_DARK}
    deep = Image.fromarray(np.full((40, 40), 50000, np.uint16))
    deep.save(tmp_path / "deep.png")
    th = extract_tiles(tmp_path / "deep.png")
    assert th.state == "ready"
    assert abs(int(picture(th.poster, th.poster_rect)[10, 10, 0]) - 50000 * 255 // 65535) <= 2


def test_animated_gif_and_webp_get_filmstrips(realdata):
    gif = extract_tiles(realdata / "video/ai_generated/animatediff__v3_animation_sunset.gif")
    assert gif.state == "ready" and gif.kind == "animated" and gif.frame_count == 16
    assert gif.strip.shape[0] == 16 and gif.times == sorted(gif.times) and gif.times[-1] > 1.5
    webp = extract_tiles(realdata / "comfyui/webp/wan__text_to_video_wan.webp")
    assert webp.state == "ready" and webp.frame_count == 33 and webp.source_size == (832, 480)
    frames = webp.strip[..., :3].astype(int)
    assert np.abs(frames[0] - frames[-1]).mean() > 3          # the strip moves through the clip
    still = extract_tiles(realdata / "comfyui/webp/flux__flux_kontext_example_comic.webp")
    assert still.kind == "image" and still.strip is None and still.source_size == (2048, 3072)


ODD = {
    "-video-with-dash-.mp4": ("ready", None),
    "audio_only_aac_tiny.mp4": ("failed", "audio only"),
    "broken.wav": ("failed", "FFmpeg can read"),
    "empty_0_bytes.webm": ("placeholder", "zero-byte"),
    "no_duration_mediarecorder.webm": ("ready", None),
    "truncated_header_only.mkv": ("failed", "End of file"),
    "video_with_failing_audio.mp4": ("ready", None),
}


def test_every_odd_file_gives_a_poster_or_a_clear_state(realdata):
    odd = realdata / "video/odd"
    assert sorted(p.name for p in odd.iterdir()) == sorted(ODD)
    for name, (state, words) in ODD.items():
        th = extract_tiles(odd / name)
        assert th.state == state, (name, th.reason)
        if words:
            assert words in th.reason, (name, th.reason)
        if state == "ready":
            assert th.poster is not None and th.poster[..., 3].max() == 255
            assert th.strip is not None and len(th.times) == 16
        else:
            assert th.poster is None
    dash = extract_tiles(odd / "-video-with-dash-.mp4")
    assert tuple(picture(dash.poster, dash.poster_rect)[0, 0, :3].astype(int)) == pytest.approx((254, 0, 0), abs=3)


def test_real_samples_give_posters(realdata):
    sizes = {"big_buck_bunny_432_433.webm": (1280, 720), "chaplin.mp4": (640, 360),
             "example_noaudio.mp4": (640, 480), "hevc_white_frame.mp4": (640, 480),
             "sample_1080p_23976.mp4": (1920, 1080), "tiny_av1.mp4": (64, 64),
             "transparent_vp9_alpha.webm": (200, 200)}
    for name, size in sizes.items():
        th = extract_tiles(realdata / "video/samples" / name)
        assert th.state == "ready" and th.source_size == size, (name, th.reason)
        assert picture(th.poster, th.poster_rect)[..., :3].std() > 0 or name == "hevc_white_frame.mp4"
    white = extract_tiles(realdata / "video/samples/hevc_white_frame.mp4")
    assert picture(white.poster, white.poster_rect)[..., :3].min() > 240


def test_text_file_named_mp4_and_missing_file(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20)
    th = extract_tiles(fake)
    assert th.state == "failed" and "FFmpeg" in th.reason
    fake_png = tmp_path / "notes.png"
    fake_png.write_text("nope")
    assert "not an image" in extract_tiles(fake_png).reason
    assert extract_tiles(tmp_path / "gone.mp4").reason == "file not found"
