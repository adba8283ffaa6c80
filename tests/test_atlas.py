"""Atlas pages on disk and the TileCache read API: round trips, staleness, versioning, a deleted
or damaged cache folder, slot reuse, and that reading never decodes."""
from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from aimms_fast.cache import atlas as A
from aimms_fast.cache.atlas import AtlasWriter
from aimms_fast.cache.tiles import TileCache
from aimms_fast.media.posters import POSTER_SIZE, STRIP_FRAMES, STRIP_SIZE, Thumbs, extract_tiles


def fake_thumbs(seed: int, *, strip: bool = True) -> Thumbs:
    """Tiles with a recognisable pattern; letterboxed like real ones (transparent bars)."""
    rng = np.random.default_rng(seed)
    pw, ph = POSTER_SIZE
    sw, sh = STRIP_SIZE
    poster = np.zeros((ph, pw, 4), np.uint8)
    poster[:, 16:240, :3] = rng.integers(0, 256, (ph, 224, 3), dtype=np.uint8)
    poster[:, 16:240, 3] = 255
    th = Thumbs("ready", kind="video", strategy="seek", source_size=(1400, 900), poster=poster,
                poster_rect=(16, 0, 224, 144), frame_count=100, keyframe_count=5)
    if strip:
        s = np.zeros((STRIP_FRAMES, sh, sw, 4), np.uint8)
        s[:, :, 8:120, :3] = rng.integers(0, 256, (STRIP_FRAMES, sh, 112, 3), dtype=np.uint8)
        s[:, :, 8:120, 3] = 255
        th.strip, th.strip_rect = s, (8, 0, 112, 72)
        th.times = [i * 0.25 for i in range(STRIP_FRAMES)]
    return th


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "proj"
    (r / "media").mkdir(parents=True)
    return r


def src(root, name: str, data: bytes = b"x" * 100) -> str:
    p = root / "media" / name
    p.write_bytes(data)
    return f"media/{name}"


def put(w: AtlasWriter, root, rel: str, th: Thumbs) -> None:
    st = os.stat(root / rel)
    w.put(rel, st.st_size, st.st_mtime_ns, th)
    w.commit()


def test_round_trip_batch_across_pages(root):
    cache = root / ".aimms_fast_cache"
    n = A.POSTERS_PER_PAGE + 6                      # spills into a second poster page
    rels = [src(root, f"v{i:03d}.mp4") for i in range(n)]
    made = {}
    with_writer = AtlasWriter(cache)
    for i, rel in enumerate(rels):
        made[rel] = fake_thumbs(i, strip=i % 3 == 0)
        put(with_writer, root, rel, made[rel])
    with_writer.close()
    assert (cache / "thumbs" / "posters_00001.npy").exists()

    tc = TileCache(cache, root)
    got = tc.posters(rels[::-1] + ["media/unknown.mp4"])
    assert set(got) == set(rels)
    for rel in rels:
        assert np.array_equal(got[rel], made[rel].poster)
        assert tc.state(rel) == "ready"
    strip, times = tc.filmstrip(rels[3])
    assert strip.shape == (STRIP_FRAMES, STRIP_SIZE[1], STRIP_SIZE[0], 4)
    assert np.array_equal(strip, made[rels[3]].strip)        # alpha rebuilt from the rect
    assert times == made[rels[3]].times
    assert tc.filmstrip(rels[1]) is None                     # that one had no strip
    assert tc.info(rels[0])["src_w"] == 1400
    assert tc.STRIP_FRAMES == STRIP_FRAMES and tc.POSTER_SIZE == POSTER_SIZE
    # The page file is a plain .npy array of tiles.
    page = np.load(cache / "thumbs" / "posters_00000.npy", mmap_mode="r")
    assert page.shape == (A.POSTERS_PER_PAGE, POSTER_SIZE[1], POSTER_SIZE[0], 4)
    assert np.array_equal(page[0], made[rels[0]].poster)
    tc.close()


def test_states_reasons_and_staleness(root):
    cache = root / ".aimms_fast_cache"
    ok, ph, bad = src(root, "ok.mp4"), src(root, "ph.mp4", b""), src(root, "bad.mp4")
    w = AtlasWriter(cache)
    put(w, root, ok, fake_thumbs(1))
    put(w, root, ph, Thumbs("placeholder", "zero-byte placeholder (no media yet)"))
    put(w, root, bad, Thumbs("failed", "no video stream (audio only)"))
    tc = TileCache(cache, root)
    assert tc.states([ok, ph, bad, "media/none.mp4"]) == {
        ok: "ready", ph: "placeholder", bad: "failed", "media/none.mp4": "missing"}
    assert tc.reason(bad) == "no video stream (audio only)" and tc.reason(ok) is None
    assert tc.poster(ph) is None and tc.poster(bad) is None

    (root / ok).write_bytes(b"y" * 101)                      # replaced by another file
    assert tc.state(ok) == "stale"
    assert tc.poster(ok) is not None                         # the old poster shows until rebuilt
    os.utime(root / bad, ns=(1, 1))                          # same size, other mtime
    assert tc.state(bad) == "stale"
    (root / ph).write_bytes(b"real media now")
    assert tc.state(ph) == "stale"
    put(w, root, ok, fake_thumbs(2))
    tc.refresh()
    assert tc.state(ok) == "ready"
    assert np.array_equal(tc.poster(ok), fake_thumbs(2).poster)
    w.close()
    tc.close()


def test_rewrites_reuse_tiles_and_failures_free_them(root):
    cache = root / ".aimms_fast_cache"
    a, b = src(root, "a.mp4"), src(root, "b.mp4")
    w = AtlasWriter(cache)
    put(w, root, a, fake_thumbs(1))
    first = w.conn.execute("SELECT poster_tile, strip_tile FROM tiles WHERE path = ?", (a,)).fetchone()
    put(w, root, a, fake_thumbs(2))                          # rebuilt in place
    assert w.conn.execute("SELECT poster_tile, strip_tile FROM tiles WHERE path = ?", (a,)).fetchone() == first
    put(w, root, a, Thumbs("failed", "now broken"))          # its tiles go back to the free list
    put(w, root, b, fake_thumbs(3))
    assert w.conn.execute("SELECT poster_tile, strip_tile FROM tiles WHERE path = ?", (b,)).fetchone() == first
    assert w.prune({b}) == 1
    assert w.known().keys() == {b}
    w.close()


def test_restart_and_version_change(root):
    cache = root / ".aimms_fast_cache"
    rel = src(root, "a.mp4")
    w = AtlasWriter(cache)
    put(w, root, rel, fake_thumbs(1))
    w.close()
    assert not AtlasWriter(cache).open()                     # same format: kept
    assert TileCache(cache, root).state(rel) == "ready"      # a new process reads it back

    fmt = json.loads((cache / "thumbs" / "FORMAT.json").read_text())
    fmt["version"] = A.FORMAT_VERSION + 1                    # written by another release
    (cache / "thumbs" / "FORMAT.json").write_text(json.dumps(fmt))
    assert TileCache(cache, root).state(rel) == "missing"    # readers don't trust it
    w = AtlasWriter(cache)                                   # the writer rebuilds from empty
    assert w.known() == {}
    assert json.loads((cache / "thumbs" / "FORMAT.json").read_text())["version"] == A.FORMAT_VERSION
    w.close()
    w = AtlasWriter(cache, strip_frames=8)                   # a different K setting: rebuilt too
    assert w.geo.shape["strip"][0] == 8 and w.known() == {}
    put(w, root, rel, fake_thumbs(1, strip=False))
    w.close()
    tc = TileCache(cache, root)
    assert tc.STRIP_FRAMES == 8 and tc.state(rel) == "ready"
    w = AtlasWriter(cache)                                   # no K given: the cache's K is kept
    assert w.strip_frames == 8 and rel in w.known()
    w.close()


def test_deleted_cache_folder_while_running(root):
    import shutil
    cache = root / ".aimms_fast_cache"
    rel = src(root, "a.mp4")
    w = AtlasWriter(cache)
    put(w, root, rel, fake_thumbs(1))
    tc = TileCache(cache, root)
    assert tc.state(rel) == "ready"
    shutil.rmtree(cache)
    tc.refresh()
    assert tc.state(rel) == "missing" and tc.poster(rel) is None
    assert w.ensure_present()                                # the writer notices and starts over
    put(w, root, rel, fake_thumbs(5))
    tc.refresh()
    assert np.array_equal(tc.poster(rel), fake_thumbs(5).poster)
    assert not w.ensure_present()
    w.close()


def test_damaged_index_is_rebuilt(root):
    cache = root / ".aimms_fast_cache"
    rel = src(root, "a.mp4")
    w = AtlasWriter(cache)
    put(w, root, rel, fake_thumbs(1))
    w.close()
    (cache / "thumbs" / "index.sqlite").write_bytes(b"garbage" * 100)
    tc = TileCache(cache, root)
    assert tc.state(rel) == "missing"                        # unreadable: nothing, no exception
    w = AtlasWriter(cache)
    assert w.known() == {}
    put(w, root, rel, fake_thumbs(1))
    w.close()
    tc.refresh()
    assert tc.state(rel) == "ready"
    with sqlite3.connect(cache / "thumbs" / "index.sqlite") as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_reading_never_decodes(root, monkeypatch, realdata):
    import av
    import PIL.Image
    cache = root / ".aimms_fast_cache"
    real = root / "media" / "chaplin.mp4"
    real.write_bytes((realdata / "video/samples/chaplin.mp4").read_bytes())
    rel = "media/chaplin.mp4"
    w = AtlasWriter(cache)
    th = extract_tiles(real)
    put(w, root, rel, th)
    w.close()

    def no_decoding(*a, **k):
        raise AssertionError("the read path decoded media")
    monkeypatch.setattr(av, "open", no_decoding)
    monkeypatch.setattr(PIL.Image, "open", no_decoding)
    tc = TileCache(cache, root)
    assert np.array_equal(tc.poster(rel), th.poster)
    frames, times = tc.filmstrip(rel)
    assert np.array_equal(frames, th.strip) and times == th.times
    assert tc.state(rel) == "ready"


def test_cache_is_sparse_on_disk(root):
    cache = root / ".aimms_fast_cache"
    rel = src(root, "a.mp4")
    w = AtlasWriter(cache)
    put(w, root, rel, fake_thumbs(1))
    w.close()
    page = cache / "thumbs" / "posters_00000.npy"
    assert page.stat().st_size > 9 * 2**20                   # 64 slots addressable...
    assert A.disk_usage(cache) < 3 * 2**20                   # ...one poster + one strip written
