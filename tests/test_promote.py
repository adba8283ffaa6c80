"""Promote frame (issue 7 item 6): the exact frame of a real numbered clip becomes a PNG image take
whose pixels equal the decoded frame and whose text chunks name the source; a bad index writes nothing."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from aimms_fast.demo.numbered import make_numbered_clip, read_frame_number
from aimms_fast.demo.workflows import Generation, png_chunks
from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.media.frames import FrameServer
from aimms_fast.media.png_chunks import scan
from aimms_fast.ops import promote as P
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes
from aimms_fast.store.takes import get_take, takes_for_shot
from tests.conftest import make_image

PROMPT = "a lighthouse keeper climbs the spiral stairs at dusk"


@pytest.fixture
def setup(project, tmp_path):
    """Two shots; shot 1 has a 48-frame numbered clip (GOP 24) with a ComfyUI workflow PNG."""
    clip = make_numbered_clip(tmp_path / "src" / "clip.mp4", frames=48, gop=24, size=(320, 180))
    make_image(clip.with_suffix(".png"), size=(32, 18),
               text_chunks=png_chunks(Generation(positive=PROMPT, negative="blurry", seed=1234)))
    s1 = add_shot(project, shot_name="Stairs", section="Act 1", description="", image_prompt="",
                  placeholders=False)
    s2 = add_shot(project, shot_name="Lamp room", section="Act 1", description="", image_prompt="",
                  placeholders=False)
    [vid] = add_takes(project, s1, [clip], storyboard="video")
    return project, s1, s2, vid


def _media_files(project) -> set[str]:
    root = project.layout.media
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


def test_promoted_png_is_the_exact_frame_with_its_source(setup):
    project, s1, s2, vid = setup
    src = get_take(project.conn, vid)
    new = P.promote_frame(project, vid, 30)
    t = get_take(project.conn, new)
    assert (t.shot_id, t.storyboard, t.take_type, t.placeholder) == (s1, "image", "base_image", 0)
    assert [x.take_id for x in takes_for_shot(project.conn, s1, "image")] == [new]
    png = project.layout.abs(t.file_path)
    img = np.asarray(Image.open(png))
    with FrameServer() as fs:   # an independent decode of the same frame (the frame server's path)
        want = fs.frame(project.layout.abs(src.file_path), 30)
    assert img.shape == (180, 320, 3)
    assert np.array_equal(img, want[..., :3])
    assert read_frame_number(img) == 30
    s = scan(png, keep_data=False)
    kinds = {c.type for c in s.chunks}
    assert b"tEXt" in kinds and b"iTXt" not in kinds
    text = Image.open(png).text
    assert text[P.KEY_TAKE] == vid
    assert text[P.KEY_FILE] == src.file_path
    assert text[P.KEY_FRAME] == "30"
    assert float(text[P.KEY_TIME]) == pytest.approx(30 / 24, abs=1e-3)
    assert text[P.KEY_PROMPT] == PROMPT
    assert text[P.KEY_PROMPT_FROM] == "workflow PNG"
    assert "prompt" in text and "workflow" in text       # the recipe travels: ComfyUI can load it
    # The import hook read it like any other take: the new image's generation summary is the source's.
    from aimms_fast.media import genmeta
    assert genmeta.stored(project.conn, t.file_path)["positive"] == PROMPT


def test_promote_to_next_shot(setup):
    project, s1, s2, vid = setup
    assert P.next_shot_id(project, s1) == s2
    assert P.next_shot_id(project, s2) is None
    new = P.promote_frame(project, vid, 0, to_shot_id=s2)
    t = get_take(project.conn, new)
    assert t.shot_id == s2 and t.file_path == f"media/{s2}/base_01.png"
    assert read_frame_number(np.asarray(Image.open(project.layout.abs(t.file_path)))) == 0
    assert takes_for_shot(project.conn, s1, "image") == []
    # A second promote on the same shot numbers on.
    again = P.promote_frame(project, vid, 47, to_shot_id=s2)
    assert get_take(project.conn, again).file_path == f"media/{s2}/base_02.png"


def test_caller_frame_is_saved_as_given(setup):
    """The player passes its stream's full frame (RGBA); an opaque one is saved as RGB."""
    project, s1, s2, vid = setup
    with FrameServer() as fs:
        rgba = fs.frame(project.layout.abs(get_take(project.conn, vid).file_path), 5)
    new = P.promote_frame(project, vid, 5, frame=rgba)
    img = Image.open(project.layout.abs(get_take(project.conn, new).file_path))
    assert img.mode == "RGB"
    assert np.array_equal(np.asarray(img), rgba[..., :3])


@pytest.mark.parametrize("bad", [48, -1, 1000])
def test_bad_frame_index_writes_nothing(setup, bad):
    project, s1, s2, vid = setup
    before_files = _media_files(project)
    before_rows = project.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0]
    with pytest.raises(AimmsError) as e:
        P.promote_frame(project, vid, bad)
    assert e.value.field == "frame_index"
    assert f"frame {bad} is out of range" in str(e.value) and "48 frames" in str(e.value)
    assert _media_files(project) == before_files
    assert project.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == before_rows
    assert project.conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0] == 0


def test_bad_requests_say_what_is_wrong(setup):
    project, s1, s2, vid = setup
    with pytest.raises(NotFoundError):
        P.promote_frame(project, "no-such-take", 0)
    with pytest.raises(NotFoundError) as e:
        P.promote_frame(project, vid, 0, to_shot_id=999)
    assert e.value.field == "to_shot_id"
    img = P.promote_frame(project, vid, 1)
    with pytest.raises(AimmsError, match="only video takes"):
        P.promote_frame(project, img, 0)
    with pytest.raises(AimmsError, match="whole number"):
        P.promote_frame(project, vid, 2.5)


def test_rotated_clip_is_promoted_as_displayed(project, tmp_path):
    clip = make_numbered_clip(tmp_path / "rot.mp4", frames=24, gop=12, size=(320, 180), rotation=90)
    sid = add_shot(project, shot_name="Turned", section="", description="", image_prompt="",
                   placeholders=False)
    [vid] = add_takes(project, sid, [clip], storyboard="video")
    new = P.promote_frame(project, vid, 13)
    img = np.asarray(Image.open(project.layout.abs(get_take(project.conn, new).file_path)))
    import av
    with av.open(str(clip)) as c:             # stored turned back, 180 wide, with a display matrix
        assert (c.streams.video[0].width, c.streams.video[0].height) == (180, 320)
    assert img.shape[:2] == (180, 320)          # shown as displayed: the matrix was applied
    assert read_frame_number(img) == 13        # (without it the number would not read)
    # Independently: the coded picture as RGB, turned by the stream's rotation (counter-clockwise).
    from aimms_fast.media.frames import ClipDecoder
    with ClipDecoder(project.layout.abs(get_take(project.conn, vid).file_path)) as dec:
        f = dec.frame(13)
        want = np.rot90(f.to_ndarray(format="rgb24"), k=(f.rotation // 90) % 4)
    assert np.array_equal(img, want)
    # No metadata anywhere, no shot prompt: the prompt is recorded as empty, not invented.
    text = Image.open(project.layout.abs(get_take(project.conn, new).file_path)).text
    assert text[P.KEY_PROMPT] == "" and text[P.KEY_PROMPT_FROM] == ""
