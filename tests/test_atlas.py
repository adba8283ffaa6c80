"""The atlas on disk (format 2: JPEG pictures in the index database) and the TileCache read API:
round trips within a stated error, staleness, versioning (a format-1 cache is never read and gets
rebuilt), a deleted or damaged cache folder, scrub sizes, and that reading never opens media.

Tolerance: JPEG at quality 90 (posters) / 85 (filmstrips), 4:2:0. On the real samples in
../shared/realdata the mean absolute error inside the picture is 0-5.1/255 for posters and
0-6.7/255 for filmstrips (the busiest: 1080p film grain, comic line art at 7.5). We assert
MAX_MAE = 8/255 per picture: above codec noise on every sample, far below what a wrong read gives
(swapped channels, a shifted rect or another frame cost 20-100/255; the tests check that too).
Alpha is exact: bars are rebuilt from the stored rect, never compressed."""
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


MAX_MAE = 8.0


def smooth(seed: int, h: int, w: int) -> np.ndarray:
    """A picture that depends on the seed: gradients and a disc, like real frames (not noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = rng.integers(20, 235, 3), rng.integers(20, 235, 3)
    t = (xx / max(w - 1, 1))[..., None]
    img = c0 * (1 - t) + c1 * t
    cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(h // 6, h // 2)
    img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(0, 256, 3)
    return img.astype(np.uint8)


def mae(a: np.ndarray, b: np.ndarray) -> float:
    """Mean abs error of the colour where b is opaque."""
    m = b[..., 3] > 0
    return float(np.abs(a[..., :3].astype(np.int16) - b[..., :3])[m].mean())


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a[..., 3], b[..., 3]) and mae(a, b) <= MAX_MAE


def fake_thumbs(seed: int, *, strip: bool = True) -> Thumbs:
    """Tiles with a recognisable pattern; letterboxed like real ones (transparent bars)."""
    pw, ph = POSTER_SIZE
    sw, sh = STRIP_SIZE
    poster = np.zeros((ph, pw, 4), np.uint8)
    poster[:, 16:240, :3] = smooth(seed, ph, 224)
    poster[:, 16:240, 3] = 255
    th = Thumbs("ready", kind="video", strategy="seek", source_size=(1400, 900), poster=poster,
                poster_rect=(16, 0, 224, 144), frame_count=100, keyframe_count=5)
    if strip:
        s = np.zeros((STRIP_FRAMES, sh, sw, 4), np.uint8)
        for k in range(STRIP_FRAMES):
            s[k, :, 8:120, :3] = smooth(seed * 100 + k, sh, 112)
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


def test_round_trip_batch(root):
    cache = root / ".aimms_fast_cache"
    n = 70
    rels = [src(root, f"v{i:03d}.mp4") for i in range(n)]
    made = {}
    with_writer = AtlasWriter(cache)
    for i, rel in enumerate(rels):
        made[rel] = fake_thumbs(i, strip=i % 3 == 0)
        put(with_writer, root, rel, made[rel])
    with_writer.close()

    tc = TileCache(cache, root)
    got = tc.posters(rels[::-1] + ["media/unknown.mp4"])     # two decode threads (>= 12 posters)
    assert set(got) == set(rels)
    for rel in rels:
        assert close(got[rel], made[rel].poster), rel
        assert not got[rel][:, :16].any()                    # bars: transparent black, exactly
        assert tc.state(rel) == "ready"
    # A wrong read would not pass the tolerance: another take's poster, or swapped channels.
    assert mae(got[rels[1]], made[rels[0]].poster) > 3 * MAX_MAE
    assert mae(got[rels[0]][..., [2, 1, 0, 3]], made[rels[0]].poster) > 3 * MAX_MAE
    strip, times = tc.filmstrip(rels[3])
    assert strip.shape == (STRIP_FRAMES, STRIP_SIZE[1], STRIP_SIZE[0], 4)
    assert all(close(strip[k], made[rels[3]].strip[k]) for k in range(STRIP_FRAMES))
    assert mae(strip[1], made[rels[3]].strip[0]) > 3 * MAX_MAE   # frames keep their order
    assert times == made[rels[3]].times
    assert tc.filmstrip(rels[1]) is None                     # that one had no strip
    assert tc.info(rels[0])["src_w"] == 1400
    assert tc.POSTER_SIZE == POSTER_SIZE
    # One poster + its filmstrip is a few KiB (raw it was 144 + 432 KiB).
    info = tc.info(rels[3])
    assert info["poster_bytes"] < 16_000 and info["strip_bytes"] < 60_000
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
    assert close(tc.poster(ok), fake_thumbs(2).poster)
    w.close()
    tc.close()


def test_rewrites_replace_pictures_and_failures_drop_them(root):
    cache = root / ".aimms_fast_cache"
    a, b = src(root, "a.mp4"), src(root, "b.mp4")
    w = AtlasWriter(cache)
    count = lambda t: w.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
    put(w, root, a, fake_thumbs(1))
    put(w, root, a, fake_thumbs(2))                          # rebuilt: replaced, not added
    assert (count("posters"), count("strips")) == (1, 1)
    put(w, root, a, Thumbs("failed", "now broken"))          # its pictures are dropped
    assert (count("posters"), count("strips")) == (0, 0)
    put(w, root, b, fake_thumbs(3))
    assert w.prune({b}) == 1
    assert w.known().keys() == {b}
    assert (count("tiles"), count("posters"), count("strips")) == (1, 1, 1)
    w.close()


def write_format1_cache(cache, rel: str, size: int, mtime_ns: int) -> None:
    """A cache as release 1 wrote it (raw RGBA .npy pages + its index), for a take we know."""
    folder = cache / "thumbs"
    folder.mkdir(parents=True)
    (folder / "FORMAT.json").write_text(json.dumps({
        "version": 1, "poster_size": [256, 144], "strip_size": [128, 72], "strip_frames": 16,
        "posters_per_page": 64, "strips_per_page": 32}))
    page = np.lib.format.open_memmap(folder / "posters_00000.npy", mode="w+", dtype=np.uint8,
                                     shape=(64, 144, 256, 4))
    page[0] = (255, 0, 255, 255)                             # magenta: must never be shown
    page.flush()
    del page
    with sqlite3.connect(folder / "index.sqlite") as c:
        c.execute("CREATE TABLE tiles (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
                  " state TEXT NOT NULL, reason TEXT, kind TEXT, strategy TEXT, src_w INTEGER, src_h INTEGER,"
                  " poster_tile INTEGER, px INTEGER, py INTEGER, pw INTEGER, ph INTEGER, strip_tile INTEGER,"
                  " sx INTEGER, sy INTEGER, sw INTEGER, sh INTEGER, times TEXT, frame_count INTEGER,"
                  " keyframe_count INTEGER, build_ms REAL, built_at REAL)")
        c.execute("CREATE TABLE free_tiles (kind TEXT NOT NULL, tile INTEGER NOT NULL, PRIMARY KEY (kind, tile))")
        c.execute("CREATE TABLE counters (kind TEXT PRIMARY KEY, next INTEGER NOT NULL)")
        c.execute("INSERT INTO tiles VALUES (?,?,?,'ready',NULL,'video','seek',256,144,0,0,0,256,144,"
                  "NULL,NULL,NULL,NULL,NULL,NULL,10,1,1.0,0)", (rel, size, mtime_ns))


def test_format1_cache_is_never_read_and_is_rebuilt(root):
    """An older release's cache (raw pages): readers see nothing (never its bytes as JPEG, never
    a wrong poster); the pool's writer wipes it and the take is built again."""
    from aimms_fast.cache.pool import ThumbnailPool
    from test_frames import encode_clip
    cache = root / ".aimms_fast_cache"
    rel = "media/v.mp4"
    encode_clip(root / rel, 12, gop=12, bframes=0,
                paint=lambda j, h, w: np.full((h, w, 3), (20, 200, 40), np.uint8))
    st = os.stat(root / rel)
    write_format1_cache(cache, rel, st.st_size, st.st_mtime_ns)
    tc = TileCache(cache, root)
    assert tc.state(rel) == "missing" and tc.poster(rel) is None and tc.filmstrip(rel) is None
    with ThumbnailPool(root, cache, workers=1) as pool:      # what the UI's request does
        pool.request([rel])
        assert pool.wait_idle(120)
        assert [e.state for e in pool.drain()] == ["ready"]
    assert not list((cache / "thumbs").glob("*.npy"))        # the old pages are gone
    assert json.loads((cache / "thumbs" / "FORMAT.json").read_text())["version"] == A.FORMAT_VERSION
    tc.refresh()
    assert tc.state(rel) == "ready"
    px = tc.poster(rel)[72, 128]
    assert tuple(px[:3].astype(int)) == pytest.approx((20, 200, 40), abs=8) and px[3] == 255
    tc.close()


def test_restart_version_change_and_strip_geometry(root):
    cache = root / ".aimms_fast_cache"
    rel = src(root, "a.mp4")
    still = src(root, "b.png")
    w = AtlasWriter(cache)
    put(w, root, rel, fake_thumbs(1))
    put(w, root, still, fake_thumbs(2, strip=False))
    w.close()
    assert not AtlasWriter(cache).open()                     # same format: kept
    assert TileCache(cache, root).state(rel) == "ready"      # a new process reads it back

    # Another filmstrip K or scrub size: the filmstrip is rebuilt, the still's poster is kept,
    # and the old filmstrip still reads (correct pixels at its own size) meanwhile.
    w = AtlasWriter(cache, strip_frames=8)
    assert set(w.known()) == {still}
    w.close()
    w = AtlasWriter(cache, strip_size=(192, 108))
    assert set(w.known()) == {still}
    big = fake_thumbs(3)
    big.strip = np.zeros((STRIP_FRAMES, 108, 192, 4), np.uint8)
    for k in range(STRIP_FRAMES):
        big.strip[k, :, 12:180, :3] = smooth(k, 108, 168)
    big.strip[:, :, 12:180, 3] = 255
    big.strip_rect = (12, 0, 168, 108)
    tc = TileCache(cache, root)
    assert tc.filmstrip(rel)[0].shape == (STRIP_FRAMES, 72, 128, 4)
    put(w, root, rel, big)
    assert set(w.known()) == {rel, still}
    frames, _ = tc.filmstrip(rel)
    assert frames.shape == (STRIP_FRAMES, 108, 192, 4) and close(frames[5], big.strip[5])
    w.close()
    with pytest.raises(ValueError, match="not one of 128x72, 192x108, 256x144"):
        AtlasWriter(cache, strip_size=(100, 50))

    fmt = json.loads((cache / "thumbs" / "FORMAT.json").read_text())
    fmt["version"] = A.FORMAT_VERSION + 1                    # written by another release
    (cache / "thumbs" / "FORMAT.json").write_text(json.dumps(fmt))
    tc.refresh()
    assert TileCache(cache, root).state(rel) == "missing"    # readers don't trust it
    w = AtlasWriter(cache)                                   # the writer rebuilds from empty
    assert w.known() == {}
    assert json.loads((cache / "thumbs" / "FORMAT.json").read_text())["version"] == A.FORMAT_VERSION
    w.close()
    tc.close()


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
    assert close(tc.poster(rel), fake_thumbs(5).poster)
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


def test_real_media_reads_back_within_tolerance_and_never_decodes(root, monkeypatch, realdata):
    """Real clips and images through the worker job (JPEG made in the worker), read back with
    media decoding switched off: within MAX_MAE of the uncompressed tiles, alpha exact."""
    import av
    import PIL.Image
    from aimms_fast.cache.encode import extract_encoded
    cache = root / ".aimms_fast_cache"
    names = ["video/samples/chaplin.mp4", "video/samples/sample_1080p_23976.mp4",
             "video/samples/transparent_vp9_alpha.webm", "comfyui/webp/wan__text_to_video_wan.webp",
             "comfyui/png/chroma__fennec_girl_hug.png"]
    w = AtlasWriter(cache)
    raw = {}
    for name in names:
        real = root / "media" / name.split("/")[-1]
        real.write_bytes((realdata / name).read_bytes())
        rel = f"media/{real.name}"
        raw[rel] = extract_tiles(real)
        put(w, root, rel, extract_encoded(real))
    w.close()

    def no_decoding(*a, **k):
        raise AssertionError("the read path decoded media")
    monkeypatch.setattr(av, "open", no_decoding)
    monkeypatch.setattr(PIL.Image, "open", no_decoding)
    tc = TileCache(cache, root)
    got = tc.posters(list(raw))
    for rel, th in raw.items():
        assert close(got[rel], th.poster), (rel, mae(got[rel], th.poster))
        if th.strip is not None:
            frames, times = tc.filmstrip(rel)
            assert frames.shape == th.strip.shape and times == th.times
            assert all(close(frames[k], th.strip[k]) for k in range(len(frames))), rel
        assert tc.state(rel) == "ready"
    total = A.disk_usage(cache)
    assert total < len(raw) * 80 * 1024 + 64 * 1024          # the 80 KiB-per-take budget, index included


def test_prefetched_posters_come_from_the_loader_and_never_stale(root):
    import time
    cache = root / ".aimms_fast_cache"
    rels = [src(root, f"p{i:02d}.mp4") for i in range(20)]
    w = AtlasWriter(cache)
    for i, rel in enumerate(rels):
        put(w, root, rel, fake_thumbs(i, strip=False))
    w.close()                                                # no writer running (app after `aimms thumbs`)
    tc = TileCache(cache, root)
    tc.prefetch(rels)
    end = time.monotonic() + 20
    while tc._loader.decoded < len(rels) and time.monotonic() < end:
        time.sleep(0.02)
    assert tc._loader.decoded == len(rels)
    got = tc.posters(rels)
    assert all(close(got[r], fake_thumbs(i, strip=False).poster) for i, r in enumerate(rels))
    assert not got[rels[0]].flags.writeable                  # shared with the LRU: read-only
    assert tc._loader.decoded == len(rels)                   # nothing decoded twice
    w = AtlasWriter(cache)
    put(w, root, rels[0], fake_thumbs(99, strip=False))      # rebuilt: the decoded copy is stale
    tc.refresh()
    assert close(tc.poster(rels[0]), fake_thumbs(99, strip=False).poster)
    w.close()
    tc.close()
