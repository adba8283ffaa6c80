"""`aimms thumbs` / build_all: posters first from the workflow PNGs, filmstrips after; the video's
own poster replaces the PNG's only where it differs; scrub sizes; every core by default."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from aimms_fast.cache.build import all_cores, build_all, media_paths, with_workflow_png
from aimms_fast.cache.pool import ThumbnailPool
from aimms_fast.cache.tiles import TileCache
from aimms_fast.cli import cli
from test_frames import encode_clip

GREEN, RED, BLUE = (20, 200, 40), (220, 30, 30), (30, 40, 210)


def _flat(colour):
    return lambda j, h, w: np.full((h, w, 3), colour, np.uint8)


@pytest.fixture
def proj(tmp_path):
    """Shot 1: a green clip whose workflow PNG is its first frame, a red clip whose PNG is blue
    (a PNG that does not match the video), a blue clip with no PNG; shot 2: a still image."""
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    inc = tmp_path / "in"
    same = encode_clip(inc / "same.mp4", 24, gop=24, bframes=0, size=(320, 180), paint=_flat(GREEN))
    Image.new("RGB", (320, 180), GREEN).save(inc / "same.png")
    other = encode_clip(inc / "other.mp4", 24, gop=24, bframes=0, size=(320, 180), paint=_flat(RED))
    Image.new("RGB", (320, 180), BLUE).save(inc / "other.png")
    lone = encode_clip(inc / "lone.mp4", 24, gop=24, bframes=0, size=(320, 180), paint=_flat(BLUE))
    still = inc / "still.jpg"
    Image.new("RGB", (640, 360), RED).save(still)
    root = tmp_path / "proj"
    with Project.create(root, name="Build") as p:
        s1 = add_shot(p, shot_name="one", placeholders=False)
        s2 = add_shot(p, shot_name="two", placeholders=False)
        add_takes(p, s1, [same, other, lone], storyboard="video")
        add_takes(p, s2, [still], storyboard="image")
        paths = media_paths(p.conn)
        quick = with_workflow_png(p.conn)
    return root, paths, quick


def centre(tc, rel):
    return tuple(tc.poster(rel)[72, 128, :3].astype(int))


def test_quick_pass_gives_posters_from_workflow_pngs_first(proj):
    root, paths, quick = proj
    assert quick == {"media/1/video_01.mp4", "media/1/video_02.mp4"}
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1, quick=True) as pool:
        pool.request(paths)
        assert pool.wait_idle(120)
        states = {e.rel_path: e.state for e in pool.drain(100)}
    assert states["media/1/video_03.mp4"] == "failed"      # no PNG: not written, the full pass does it
    tc = TileCache(cache, root)
    assert tc.state("media/1/video_03.mp4") == "missing"
    assert centre(tc, "media/1/video_02.mp4") == pytest.approx(BLUE, abs=8)   # the PNG's picture
    assert tc.filmstrip("media/1/video_02.mp4") is None                       # filmstrip still to come
    assert tc.info("media/1/video_02.mp4")["complete"] == 0
    assert tc.info("media/2/base_01.jpg")["complete"] == 1                   # a still is done
    # The full pass rebuilds the poster-only rows (and only those and the missing one).
    with ThumbnailPool(root, cache, workers=1) as pool:
        pool.request(paths)
        assert pool.wait_idle(120)
        assert pool.stats["decoded"] == 3 and pool.stats["cached"] == 1
    tc.refresh()
    assert centre(tc, "media/1/video_02.mp4") == pytest.approx(RED, abs=8)    # the video's own
    assert tc.info("media/1/video_02.mp4")["poster_from"] == "media"
    assert tc.info("media/1/video_01.mp4")["poster_from"] == "workflow_png"   # same picture: kept
    assert tc.filmstrip("media/1/video_01.mp4")[0].shape == (16, 72, 128, 4)
    tc.close()


def test_build_all_runs_both_passes_on_every_core(proj):
    root, paths, quick = proj
    cache = root / ".aimms_fast_cache"
    seen = []
    s = build_all(root, cache, paths, quick=quick, progress=lambda d, t: seen.append((d, t)))
    assert s.workers == all_cores()
    assert s.quick_posters == 2 and s.total == 4 and not s.failed
    assert s.built == 3 and s.cached == 1                   # the still was built in the first pass
    assert seen[-1] == (7, 7)                               # 3 quick + 4 full results
    tc = TileCache(cache, root)
    assert all(tc.info(p)["complete"] == 1 for p in paths)
    assert centre(tc, "media/1/video_03.mp4") == pytest.approx(BLUE, abs=8)
    tc.close()


def test_cli_scrub_size_rebuilds_only_filmstrips(proj):
    root, paths, _ = proj
    r = CliRunner().invoke(cli, ["thumbs", str(root), "--json", "--workers", "1"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["quick_posters"] == 2 and data["cache_bytes"] > 0
    r = CliRunner().invoke(cli, ["thumbs", str(root), "--json", "--workers", "1", "--scrub-size", "192x108"])
    data = json.loads(r.output)
    assert data["built"] == 3 and data["cached"] == 1       # the still keeps its poster
    tc = TileCache(root / ".aimms_fast_cache", root)
    frames, times = tc.filmstrip("media/1/video_02.mp4")
    assert frames.shape == (16, 108, 192, 4) and len(times) == 16
    assert tuple(frames[3, 54, 96, :3].astype(int)) == pytest.approx(RED, abs=8)
    tc.close()
    bad = CliRunner().invoke(cli, ["thumbs", str(root), "--scrub-size", "100x50"])
    assert bad.exit_code == 2 and "100x50" in bad.output


def test_parse_scrub_size():
    from aimms_fast.cache.atlas import parse_scrub_size
    assert parse_scrub_size("192x108") == (192, 108) and parse_scrub_size((256, 144)) == (256, 144)
    assert parse_scrub_size(None) is None and parse_scrub_size("100x50") is None
    assert parse_scrub_size("junk") is None


def test_media_services_build_filmstrips_at_the_settings_size(proj):
    from aimms_fast.project import Project
    from aimms_fast.ui.services import MediaServices
    root, paths, _ = proj
    video = "media/1/video_02.mp4"
    with Project.open(root) as p:
        ms = MediaServices(p, workers=1, strip_size=(256, 144))
        try:
            ms.request([video], [])
            assert ms._pool.wait_idle(120)
            ms.drain()
            assert ms.tiles.filmstrip(video)[0].shape == (16, 144, 256, 4)
            ms.set_scrub_size((128, 72))                      # Settings changed: the sweep rebuilds
            while ms.sweep_tick():
                pass
            assert ms._pool.wait_idle(120)
            ms.drain()
            assert ms.tiles.filmstrip(video)[0].shape == (16, 72, 128, 4)
        finally:
            ms.close()
