"""Image bombs and odd files (issue 14): bounded memory for huge PNGs (measured in a child
process), a pixel limit with a clear reason, FIFOs never opened, the thumbnail cache stopping at
its budget / when free space runs low, and the frame size cap."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aimms_fast.cache.pool import ThumbnailPool
from aimms_fast.errors import AimmsError
from aimms_fast.media import image_limits as L
from aimms_fast.media.posters import extract_tiles
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes

from conftest import make_image

REPO = Path(__file__).resolve().parents[1]


def write_png(path: Path, w: int, h: int, *, ctype: int = 2, depth: int = 8, rows: bool = True) -> Path:
    """A real PNG of w x h (a gradient row repeated, so the file stays ~1 MB however big the
    picture); with rows=False only the header and an empty IDAT (enough for a size check)."""
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype] * depth // 8

    def chunk(f, kind, data):
        f.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        chunk(f, b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
        if rows:
            row = b"\x00" + bytes((i * 7) % 256 for i in range(w * bpp))
            c = zlib.compressobj(1)
            buf = bytearray()
            for _ in range(h):
                buf += c.compress(row)
                if len(buf) > 1 << 20:
                    chunk(f, b"IDAT", bytes(buf))
                    buf.clear()
            buf += c.flush()
            chunk(f, b"IDAT", bytes(buf))
        else:
            chunk(f, b"IDAT", zlib.compress(b""))
        chunk(f, b"IEND", b"")
    return path


# The child's own peak is VmHWM: ru_maxrss keeps the pytest parent's RSS across fork+exec on
# Linux (CI failed with the parent's 384 MB after ~400 tests).
MEASURE = textwrap.dedent("""
    import json, sys
    from aimms_fast.media.posters import extract_tiles
    th = extract_tiles(sys.argv[1])
    print(json.dumps({"state": th.state, "reason": th.reason, "strategy": th.strategy,
                      "size": th.source_size, "rss_mb": int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))) / 1024,
                      "poster_mean": float(th.poster[..., :3].mean()) if th.poster is not None else None}))
""")


def measure(path: Path) -> dict:
    r = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=REPO, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_12000_square_png_thumbnail_stays_under_300_mb(tmp_path):
    bomb = write_png(tmp_path / "bomb.png", 12000, 12000)
    assert bomb.stat().st_size < 5_000_000  # a few MB on disk, 576 MB as a Pillow image
    got = measure(bomb)
    assert got["state"] == "ready" and got["strategy"] == "image-banded" and got["size"] == [12000, 12000]
    assert got["rss_mb"] <= 300, got           # measured 184 MB (was 1.7 GB with a whole decode)
    assert got["poster_mean"] > 50             # a real picture, not an empty tile


def test_banded_decode_equals_pillow_for_every_filter_and_mode(tmp_path, monkeypatch):
    """Pillow's encoder picks Sub/Up/Average/Paeth per row: the banded decode must give the same
    pixels as a whole decode reduced by the same factor, across many band boundaries."""
    monkeypatch.setattr(L, "BAND_BYTES", 40_000)  # dozens of bands in a small picture
    rng = np.random.default_rng(3)
    for mode, ch in (("RGB", 3), ("RGBA", 4), ("L", 1), ("LA", 2)):
        base = rng.integers(0, 255, (30, 40, ch), dtype=np.uint8)
        a = np.kron(base, np.ones((37, 31, 1), dtype=np.uint8)) + rng.integers(0, 3, (1110, 1240, ch), dtype=np.uint8)
        path = tmp_path / f"{mode}.png"
        Image.fromarray(a.squeeze() if ch == 1 else a, mode).save(path)
        for target in ((100, 60), (1240, 1110)):       # reduced by 11, and full size
            small, (w, h) = L.reduced_png(path, target)
            with Image.open(path) as ref:
                f = max(1, min(w // target[0], h // target[1]))
                ref = ref.reduce(f) if f > 1 else ref.copy()
                assert np.array_equal(np.asarray(small), np.asarray(ref)), (mode, target)


def test_pixel_limits_give_a_clear_reason_and_mark_the_take_failed(tmp_path):
    big16 = write_png(tmp_path / "deep.png", 9000, 9000, depth=16, rows=False)   # not streamable: whole decode
    huge = write_png(tmp_path / "huge.png", 40000, 30000, rows=False)          # streamable, past 1 Gpx
    for p, limit in ((big16, "50 Mpx"), (huge, "1000 Mpx")):
        got = measure(p)
        assert got["state"] == "failed" and "too large for a thumbnail" in got["reason"] and limit in got["reason"]
        assert got["rss_mb"] < 300


def test_truncated_bomb_fails_cleanly(tmp_path):
    bomb = write_png(tmp_path / "b.png", 6000, 6000)
    data = bomb.read_bytes()
    bomb.write_bytes(data[: len(data) // 2])
    th = extract_tiles(bomb)
    assert th.state == "failed" and ("truncated" in th.reason or "corrupt" in th.reason)


def test_fifo_is_skipped_by_thumbs_and_refused_by_add_take(project, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    th = extract_tiles(fifo)  # would block forever if it opened the FIFO
    assert th.state == "failed" and "not a regular file (a FIFO)" in th.reason
    sid = add_shot(project, shot_name="S")
    with pytest.raises(AimmsError, match="not a regular file"):
        add_takes(project, sid, [fifo], storyboard="image")
    # a FIFO inside the project, where a take points
    inside = project.layout.media / str(sid) / "base_09.png"
    os.mkfifo(inside)
    with ThumbnailPool(project.root, project.layout.cache, workers=1, time_limit=20) as pool:
        pool.request([project.layout.rel(inside)])
        assert pool.wait_idle(60)
        ev = pool.drain()
    assert ev and ev[0].state == "failed" and "not a regular file" in ev[0].reason
    assert pool.stats["workers_started"] == 0  # never handed to a worker


def _takes(project, tmp_path, n: int) -> list[str]:
    sid = add_shot(project, shot_name="S")
    srcs = [make_image(tmp_path / f"i{i}.png", size=(320, 180), color=(i * 20, 50, 90)) for i in range(n)]
    add_takes(project, sid, srcs, storyboard="image")
    return [project.layout.rel(p) for p in sorted((project.layout.media / str(sid)).glob("base_*.png"))
            if p.stat().st_size > 0]


def test_low_free_space_stops_the_cache_with_one_message(project, tmp_path, caplog):
    rels = _takes(project, tmp_path, 4)
    with ThumbnailPool(project.root, project.layout.cache, workers=1, min_free_bytes=2**62) as pool:
        pool.request(rels)
        assert pool.wait_idle(60)
        ev = pool.drain()
    assert {e.state for e in ev} == {"failed"} and len(ev) == len(rels)
    assert all("only" in e.reason and "MiB free" in e.reason for e in ev)
    assert pool.stats["workers_started"] == 0
    warnings = [r for r in caplog.records if "thumbnails stopped" in r.getMessage()]
    assert len(warnings) == 1 and not [r for r in caplog.records if r.exc_info]


def test_cache_budget_stops_building(project, tmp_path):
    rels = _takes(project, tmp_path, 4)
    with ThumbnailPool(project.root, project.layout.cache, workers=1, budget_bytes=1) as pool:
        pool.request(rels)
        assert pool.wait_idle(60)
        ev = pool.drain()
    assert pool.space_problem and "size budget" in pool.space_problem
    assert any(e.state == "failed" and "size budget" in (e.reason or "") for e in ev)


def test_thumbs_on_a_full_disk_is_one_message_not_tracebacks(project, tmp_path):
    """`aimms thumbs` with a 64 KB file-size limit (EFBIG, like a full disk) on the cache."""
    _takes(project, tmp_path, 6)
    project.close()
    code = ("import os, resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
            "os.execv(sys.executable, [sys.executable, '-m', 'aimms_fast', 'thumbs', sys.argv[1]])\n")
    r = subprocess.run([sys.executable, "-c", code, str(project.root)], cwd=REPO, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    out = r.stdout + r.stderr
    assert "Traceback" not in out, out
    # The cache is one SQLite file (format 2): SQLite reports EFBIG as a disk I/O error.
    assert out.count("thumbnails stopped: cannot write the cache (") == 1, out
    assert "free space or delete" in out and "not built: building stopped for space" in out, out


def test_frame_source_refuses_a_fifo_instead_of_blocking(tmp_path):
    from aimms_fast.errors import MediaError
    from aimms_fast.media.frames import ClipDecoder
    fifo = tmp_path / "v.mp4"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match="not a regular file"):
        ClipDecoder(fifo)
