"""Worker pool: real media through real worker processes; priorities, cancellation, crashes,
hangs, resumability, and `aimms thumbs`."""
from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from aimms_fast.cache.pool import BACKGROUND, ThumbEvent, ThumbnailPool, default_workers
from aimms_fast.cache.tiles import TileCache
from aimms_fast.cli import cli
from aimms_fast.media.posters import extract_tiles
from test_atlas import close
from test_frames import encode_clip, frame_of

WAIT = 120   # generous: workers are spawned processes on a shared 2-core machine


def faulty_extract(path, **kw):
    """Worker job for the fault tests (imported by name in the worker): files named crash_*
    kill the worker like a decoder segfault, hang_* never return; the rest are real."""
    name = Path(path).name
    if name.startswith("crash_"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if name.startswith("hang_"):
        time.sleep(3600)
    return extract_tiles(path, **kw)


def slow_extract(path, **kw):
    """Real extraction, slowed so the queue order is observable with one worker."""
    time.sleep(0.3)
    return extract_tiles(path, **kw)


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "proj"
    (r / "media").mkdir(parents=True)
    return r


def clips(root, n: int, prefix: str = "v") -> list[str]:
    rels = []
    for i in range(n):
        encode_clip(root / "media" / f"{prefix}{i:02d}.mp4", 24, gop=12, bframes=0,
                    paint=lambda j, h, w, i=i: np.full((h, w, 3), (i * 16 + 8, 128, 8), np.uint8))
        rels.append(f"media/{prefix}{i:02d}.mp4")
    return rels


def all_events(pool) -> list[ThumbEvent]:
    assert pool.wait_idle(WAIT)
    return pool.drain(10_000)


def test_builds_real_media_and_odd_files(root, realdata):
    for f in list((realdata / "video/odd").iterdir()) + [realdata / "video/samples/chaplin.mp4",
                                                         realdata / "video/samples/transparent_vp9_alpha.webm",
                                                         realdata / "comfyui/webp/wan__text_to_video_wan.webp"]:
        shutil.copy(f, root / "media" / f.name)
    rels = sorted(f"media/{p.name}" for p in (root / "media").iterdir())
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1) as pool:
        pool.request(rels + ["media/not_there.mp4"])
        events = {e.rel_path: e for e in all_events(pool)}
        assert pool.pending() == 0
    assert set(events) == set(rels) | {"media/not_there.mp4"}
    want = {"audio_only_aac_tiny.mp4": "failed", "broken.wav": "failed", "truncated_header_only.mkv": "failed",
            "empty_0_bytes.webm": "placeholder", "not_there.mp4": "failed"}
    tc = TileCache(cache, root)
    for rel, ev in events.items():
        name = rel.split("/")[-1]
        assert ev.state == want.get(name, "ready"), (rel, ev.reason)
        if ev.state == "failed":
            assert ev.reason and tc.reason(rel) == ev.reason
        assert tc.state(rel) == ev.state
    assert events["media/not_there.mp4"].reason == "file not found"
    ready = [r for r, e in events.items() if e.state == "ready"]
    posters = tc.posters(ready)
    assert set(posters) == set(ready)
    # Stored as JPEG: within the atlas tests' stated tolerance of the uncompressed poster.
    assert close(posters["media/chaplin.mp4"], extract_tiles(root / "media/chaplin.mp4").poster)
    assert tc.filmstrip("media/wan__text_to_video_wan.webp")[0].shape[0] == tc.STRIP_FRAMES


def test_onscreen_first_and_newest_request_wins(root):
    rels = clips(root, 8)
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1, extract="test_pool:slow_extract") as pool:
        pool.request(rels[:6], priority=5)            # what was on screen
        pool.request(rels[6:], priority=0)            # the user scrolled: this is on screen now
        pool.request([rels[5]], priority=1)           # asked again, sooner than before
        order = [e.rel_path for e in all_events(pool)]
    assert sorted(order) == sorted(rels)
    # One low-priority file may already have been handed out before the newer requests came.
    assert set(order[:3]) >= set(rels[6:])
    assert order.index(rels[5]) <= 3
    assert order[3:] == [r for r in rels[:5] if r in order[3:]]   # the rest in request order


def test_cancel_except_drops_stale_requests(root):
    rels = clips(root, 6)
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1, extract="test_pool:slow_extract") as pool:
        pool.request(rels)
        pool.cancel_except({rels[4], rels[5]})
        done = {e.rel_path for e in all_events(pool)}
    assert {rels[4], rels[5]} <= done
    assert len(done) <= 3                              # plus at most the one already running
    tc = TileCache(cache, root)
    assert sum(tc.state(r) == "missing" for r in rels[:4]) >= 3


def test_background_sweep_survives_stale_cancelling(root):
    """The viewer queues the whole project at BACKGROUND priority when it opens; scrolling cancels
    stale on-screen requests but never the sweep, and a cancelled on-screen path that the sweep
    also wants goes back in line instead of being lost."""
    rels = clips(root, 6)
    extra = clips(root, 1, prefix="screen_only")[0]
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1, extract="test_pool:slow_extract") as pool:
        pool.request(rels[:5], priority=BACKGROUND)        # the sweep (rels[5] is not in it)
        pool.request([rels[4], rels[5], extra], priority=0)  # on screen now
        pool.cancel_except(set())                           # scrolled away: all stale
        done = {e.rel_path for e in all_events(pool)}
        # A second sweep over a built cache is answered by the dispatcher without events.
        cached0 = pool.stats["cached"]
        pool.request(rels[:5], priority=BACKGROUND)
        assert all_events(pool) == [] and pool.stats["cached"] == cached0 + 5
    assert set(rels[:5]) <= done                            # the sweep finished, rels[4] included
    # rels[5] and extra were only on screen: dropped, except at most the one already running
    assert len(done - set(rels[:5])) <= 1
    tc = TileCache(cache, root)
    assert all(tc.state(r) == "ready" for r in rels[:5])


def test_crash_and_hang_mark_one_file_and_the_pool_goes_on(root):
    good = clips(root, 3)
    for name in ("crash_me.mp4", "hang_me.mp4"):
        shutil.copy(root / good[0], root / "media" / name)
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1, time_limit=3, extract="test_pool:faulty_extract") as pool:
        pool.request([good[0], "media/crash_me.mp4", good[1], "media/hang_me.mp4", good[2]])
        events = {e.rel_path: e for e in all_events(pool)}
        assert pool.stats["crashes"] == 2                 # tried twice, on fresh workers
        assert pool.stats["timeouts"] == 1
        assert all(events[g].state == "ready" for g in good)
        assert events["media/crash_me.mp4"].state == "failed"
        assert "crashed" in events["media/crash_me.mp4"].reason
        assert "signal 11" in events["media/crash_me.mp4"].reason
        assert events["media/hang_me.mp4"].state == "failed"
        assert "longer than 3 s" in events["media/hang_me.mp4"].reason
        # Still serving after losing two workers.
        extra = clips(root, 1, prefix="late")
        pool.request(extra)
        assert [e.state for e in all_events(pool)] == ["ready"]
    tc = TileCache(cache, root)
    assert tc.state("media/hang_me.mp4") == "failed" and tc.poster(good[2]) is not None


def test_resumes_from_the_cache_and_rebuilds_changed_files(root):
    rels = clips(root, 4)
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1) as pool:
        pool.request(rels[:2])                         # a first run that stopped half way
        all_events(pool)
    with ThumbnailPool(root, cache, workers=1) as pool:
        pool.request(rels)
        events = all_events(pool)
        assert {e.state for e in events} == {"ready"} and len(events) == 4
        assert pool.stats["decoded"] == 2 and pool.stats["cached"] == 2
    # Replace one take's file: it is stale, then rebuilt with the new picture.
    encode_clip(root / rels[0], 24, gop=12, bframes=0,
                paint=lambda j, h, w: np.full((h, w, 3), (200, 20, 20), np.uint8))
    tc = TileCache(cache, root)
    assert tc.state(rels[0]) == "stale"
    with ThumbnailPool(root, cache, workers=1) as pool:
        pool.request(rels)
        all_events(pool)
        assert pool.stats["decoded"] == 1 and pool.stats["workers_started"] == 1
    tc.refresh()
    assert tc.state(rels[0]) == "ready"
    assert tuple(tc.poster(rels[0])[72, 128, :3].astype(int)) == pytest.approx((200, 20, 20), abs=6)
    # A deleted cache folder is rebuilt on demand.
    shutil.rmtree(cache)
    tc.refresh()
    assert tc.state(rels[1]) == "missing"
    with ThumbnailPool(root, cache, workers=1) as pool:
        pool.request(rels)
        all_events(pool)
        assert pool.stats["decoded"] == 4
    tc.refresh()
    assert all(tc.state(r) == "ready" for r in rels)


def test_nothing_pending_when_idle_and_close_is_prompt(root):
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1) as pool:
        assert pool.wait_idle(5) and pool.pending() == 0 and pool.drain() == []
        t = time.monotonic()
    assert time.monotonic() - t < 5
    assert default_workers() >= 1


def _project_with_takes(tmp_path):
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_placeholders, add_takes
    from aimms_fast.project import Project
    inc = tmp_path / "in"
    v1 = encode_clip(inc / "a.mp4", 24, gop=12, bframes=0)
    bad = inc / "bad.mp4"
    bad.write_text("not a video at all\n")
    from PIL import Image
    img = inc / "still.jpg"
    Image.new("RGB", (640, 360), (10, 200, 10)).save(img)
    root = tmp_path / "proj"
    with Project.create(root, name="Thumbs") as p:
        s1 = add_shot(p, shot_name="one")
        s2 = add_shot(p, shot_name="two", placeholders=False)
        add_takes(p, s1, [v1, bad], storyboard="video")
        add_takes(p, s2, [img], storyboard="image")
        add_placeholders(p, s2, 1, storyboard="video")
    return root


def test_cli_thumbs_builds_everything_and_reports_failures(tmp_path):
    root = _project_with_takes(tmp_path)
    r = CliRunner().invoke(cli, ["thumbs", str(root), "--json", "--workers", "1"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    # shot one: 2 placeholders from add_shot + 2 videos; shot two: 1 image + 1 placeholder
    assert data["total"] == 6 and data["failed"] == 1 and data["placeholders"] == 3
    assert data["built"] == 2
    [fail] = data["failures"]
    assert fail["path"] == "media/1/video_03.mp4" and "FFmpeg" in fail["reason"]
    assert data["cache_bytes"] > 0
    tc = TileCache(root / ".aimms_fast_cache", root)
    from aimms_fast.project import Project
    with Project.open(root, readonly=True) as p:
        paths = dict(p.conn.execute("SELECT file_path, take_type FROM takes "
                                         "WHERE take_type IN ('base_image', 'final_video')"))
    states = tc.states(list(paths))
    assert sorted(states.values()) == ["failed", "placeholder", "placeholder", "placeholder", "ready", "ready"]
    assert frame_of(tc.poster("media/1/video_02.mp4")[..., :3]) == 0
    assert tuple(tc.poster("media/2/base_01.jpg")[72, 128, :3].astype(int)) == pytest.approx((10, 200, 10), abs=4)

    again = CliRunner().invoke(cli, ["thumbs", str(root), "--json", "--workers", "1"])
    assert json.loads(again.output)["cached"] == 6                    # resumable: nothing rebuilt
    text = CliRunner().invoke(cli, ["thumbs", str(root), "--force", "--workers", "1"])
    assert text.exit_code == 0 and "failed:" in text.output and "media/1/video_03.mp4" in text.output
    assert "2 built" in text.output
