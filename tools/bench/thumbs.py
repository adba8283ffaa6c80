"""Thumbnail benchmark: our cold poster + filmstrip build versus one ffmpeg process per thumbnail
(the incumbent's method), on the same clips in one run; and warm reads of 60-poster pages.

    .venv/bin/python tools/bench/thumbs.py [--runs 3] [--reads 300] [--keep DIR]

Prints JSON and writes docs/bench/thumbs.json. Needs /usr/bin/ffmpeg (apt) for the comparison
only. Clips are made with the demo's renderer (a scene, moving shapes, text; H.264 veryfast
crf 26, B-frames) in a temp folder:
  1080p 2 s (48 frames) GOP 250 x2, GOP 24 x1;  480p 4 s (96 frames) GOP 250 x2, GOP 24 x1;
  480p 20 s GOP 24 (20 keyframes: the seek strategy).

ours      extract_tiles (poster + 16-frame filmstrip) + writing both into the atlas, per clip,
          in one long-lived process (what a pool worker does), median of --runs.
ffmpeg    per clip: 17 processes (1 poster at 0 s + 16 strip frames at the same times we pick),
          each `ffmpeg -ss T -i CLIP -frames:v 1 -vf scale=... -y out.jpg`.
pool      ThumbnailPool end to end on all clips with a fresh cache (worker spawn included).
read      TileCache.posters() of 60 posters from an atlas of 640 (format 2: JPEG in the index
          database, decoded on two threads), page cache warm: a storyboard page (60 consecutive
          takes) and 60 random takes; p50/p95/max wall over --reads calls, and CPU per call
          (process_time: both decode threads); a filmstrip read at each scrub size.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import default_out, publish


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.cache.atlas import AtlasWriter  # noqa: E402
from aimms_fast.cache.pool import ThumbnailPool  # noqa: E402
from aimms_fast.cache.tiles import TileCache  # noqa: E402
from aimms_fast.demo.clips import ClipSpec, make_clip  # noqa: E402
from aimms_fast.media.frames import ClipDecoder  # noqa: E402
from aimms_fast.media.posters import POSTER_SIZE, STRIP_FRAMES, STRIP_SIZE, extract_tiles, strip_targets  # noqa: E402

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
CLIPS = [  # name, size, seconds, gop, seed
    ("c1080_g250_a", (1920, 1080), 2.0, 250, 1), ("c1080_g250_b", (1920, 1080), 2.0, 250, 2),
    ("c1080_g24", (1920, 1080), 2.0, 24, 3),
    ("c480_g250_a", (854, 480), 4.0, 250, 4), ("c480_g250_b", (854, 480), 4.0, 250, 5),
    ("c480_g24", (854, 480), 4.0, 24, 6),
    ("c480_20s_g24", (854, 480), 20.0, 24, 7),     # dense keyframes over a long clip: seek strategy
]


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def ms(x: float) -> float:
    return round(x * 1000, 2)


def make_clips(folder: Path) -> list[Path]:
    out = []
    for name, size, seconds, gop, seed in CLIPS:
        p = folder / "media" / f"{name}.mp4"
        if not p.exists():
            make_clip(p, ClipSpec(label=name, seconds=seconds, size=size, gop=gop, seed=seed))
        out.append(p)
    return out


def ours(clip: Path, writer: AtlasWriter, rel: str) -> float:
    t = time.perf_counter()
    th = extract_tiles(clip)
    st = os.stat(clip)
    writer.put(rel, st.st_size, st.st_mtime_ns, th)
    writer.commit()
    assert th.state == "ready", th.reason
    return time.perf_counter() - t


def ffmpeg_thumbnails(clip: Path, out_dir: Path) -> tuple[float, int]:
    with ClipDecoder(clip) as d:   # same times as our strip (not timed)
        times = [0.0] + [d.time_of(i) for i in strip_targets(d.frame_count, STRIP_FRAMES)]
    sizes = [POSTER_SIZE] + [STRIP_SIZE] * STRIP_FRAMES
    t = time.perf_counter()
    for k, (ts, (w, h)) in enumerate(zip(times, sizes)):
        subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-ss", f"{ts:.4f}", "-i", str(clip),
                        "-frames:v", "1", "-vf", f"scale={w}:{h}:force_original_aspect_ratio=decrease",
                        "-q:v", "3", "-y", str(out_dir / f"{clip.stem}_{k:02d}.jpg")],
                       check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t, len(times)


def warm_reads(folder: Path, clips: list[Path], reads: int) -> dict:
    """An atlas of 640 posters (the real ones, repeated) and 60-tile reads from it."""
    root = folder / "readproj"
    (root / "media").mkdir(parents=True, exist_ok=True)
    cache = root / ".aimms_fast_cache"
    shutil.rmtree(cache, ignore_errors=True)
    made = [extract_tiles(c) for c in clips]
    w = AtlasWriter(cache)
    rels = []
    for i in range(640):
        rel = f"media/take_{i:04d}.mp4"
        w.put(rel, 1, 1, made[i % len(made)])
        rels.append(rel)
    w.commit()
    w.close()
    tc = TileCache(cache, root)
    tc.posters(rels)                       # warm: pages in the OS cache, files open
    rng = random.Random(7)
    page_t, rand_t, page_cpu = [], [], []
    for i in range(reads):
        start = rng.randrange(0, len(rels) - 60)
        t, c = time.perf_counter(), time.process_time()
        got = tc.posters(rels[start:start + 60])
        page_t.append(time.perf_counter() - t)
        page_cpu.append(time.process_time() - c)
        assert len(got) == 60
        pick = rng.sample(rels, 60)
        t = time.perf_counter()
        got = tc.posters(pick)
        rand_t.append(time.perf_counter() - t)
        assert len(got) == 60
    # The UI's path while scrolling: the look-ahead rows were handed to the loader thread
    # (TileCache.prefetch) a few frames before they are read.
    pre_t = []
    for i in range(min(reads, 100)):
        start = rng.randrange(0, len(rels) - 60)
        page = rels[start:start + 60]
        tc.prefetch(page)
        end = time.monotonic() + 5
        while any(tc._loader.get(r, None) is None and r not in tc._loader._lru for r in page) \
                and time.monotonic() < end:
            time.sleep(0.002)
        t = time.perf_counter()
        got = tc.posters(page)
        pre_t.append(time.perf_counter() - t)
        assert len(got) == 60
    t = time.perf_counter()
    for _ in range(50):
        tc.filmstrip(rels[rng.randrange(len(rels))])
    strip_ms = (time.perf_counter() - t) / 50
    tc.close()
    strips_by_size = {}
    for size in ((128, 72), (192, 108), (256, 144)):
        c2 = folder / f"strip_cache_{size[0]}"
        shutil.rmtree(c2, ignore_errors=True)
        w = AtlasWriter(c2, strip_size=size)
        for i, clip in enumerate(clips):
            w.put(f"media/take_{i:04d}.mp4", 1, 1, extract_tiles(clip, strip_size=size))
        w.commit()
        kib = w.conn.execute("SELECT AVG(strip_bytes) FROM tiles").fetchone()[0] / 1024
        w.close()
        tc2 = TileCache(c2, root)
        t = time.perf_counter()
        for _ in range(20):
            for i in range(len(clips)):
                tc2.filmstrip(f"media/take_{i:04d}.mp4")
        strips_by_size[f"{size[0]}x{size[1]}"] = {"read_ms_mean": ms((time.perf_counter() - t) / (20 * len(clips))),
                                                  "kib_per_filmstrip": round(kib, 1)}
        tc2.close()
    import sqlite3
    with sqlite3.connect(cache / "thumbs" / "index.sqlite") as c:
        pkib = c.execute("SELECT AVG(poster_bytes) FROM tiles").fetchone()[0] / 1024
    return {"tiles_in_atlas": len(rels),
            "page_of_60_ms": {"p50": ms(pct(page_t, .5)), "p95": ms(pct(page_t, .95)), "max": ms(max(page_t))},
            "random_60_ms": {"p50": ms(pct(rand_t, .5)), "p95": ms(pct(rand_t, .95)), "max": ms(max(rand_t))},
            "page_of_60_cpu_ms": {"p50": ms(pct(page_cpu, .5)), "p95": ms(pct(page_cpu, .95))},
            "page_of_60_prefetched_ms": {"p50": ms(pct(pre_t, .5)), "p95": ms(pct(pre_t, .95)), "max": ms(max(pre_t))},
            "filmstrip_read_ms_mean": ms(strip_ms), "poster_kib_mean": round(pkib, 1),
            "filmstrips_by_scrub_size": strips_by_size,
            "target_page_of_60_p95_ms": 5.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs of our build per clip (median)")
    ap.add_argument("--reads", type=int, default=300, help="60-tile reads measured")
    ap.add_argument("--keep", type=Path, help="folder for the clips (kept; default a temp folder)")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="aimms_bench_thumbs_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        clips = make_clips(folder)
        encode_s = time.perf_counter() - t
        for c in clips:                    # both sides read from the OS cache
            c.read_bytes()
        jpgs = folder / "ffmpeg_out"
        jpgs.mkdir(exist_ok=True)
        per_clip = []
        for c in clips:
            runs = []
            for r in range(args.runs):
                cache = folder / f"cache_run{r}"
                w = AtlasWriter(cache)
                runs.append(ours(c, w, f"media/{c.name}"))
                w.close()
            ff, n = ffmpeg_thumbnails(c, jpgs)
            with ClipDecoder(c) as d:
                facts = {"frames": d.frame_count, "keyframes": d.keyframe_count}
            strategy = extract_tiles(c).strategy
            per_clip.append({"clip": c.stem, **facts, "strategy": strategy,
                             "ours_ms": ms(statistics.median(runs)), "ffmpeg_ms": ms(ff),
                             "ffmpeg_processes": n, "ratio": round(ff / statistics.median(runs), 1)})
        ours_med = statistics.median(p["ours_ms"] for p in per_clip)
        ff_med = statistics.median(p["ffmpeg_ms"] for p in per_clip)
        total_ours = sum(p["ours_ms"] for p in per_clip)
        total_ff = sum(p["ffmpeg_ms"] for p in per_clip)

        pool_root = folder
        pool_cache = folder / ".aimms_fast_cache"
        shutil.rmtree(pool_cache, ignore_errors=True)
        t = time.perf_counter()
        with ThumbnailPool(pool_root, pool_cache) as pool:
            pool.request([f"media/{c.name}" for c in clips])
            assert pool.wait_idle(600)
            events = pool.drain(1000)
            workers = pool.n_workers
        pool_s = time.perf_counter() - t
        assert all(e.state == "ready" for e in events)

        result = {
            "bench": "thumbs",
            "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()[0], "python": platform.python_version(),
                        "ffmpeg": subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.split("\n")[0]},
            "clips_encode_s": round(encode_s, 1),
            "per_clip": per_clip,
            "cold_build": {"ours_median_ms_per_clip": round(ours_med, 1), "ffmpeg_median_ms_per_clip": round(ff_med, 1),
                           "ratio_of_medians": round(ff_med / ours_med, 1),
                           "ratio_of_totals": round(total_ff / total_ours, 1),
                           "ours_ms_per_thumbnail": round(total_ours / (len(clips) * (STRIP_FRAMES + 1)), 2),
                           "ffmpeg_ms_per_thumbnail": round(total_ff / (len(clips) * (STRIP_FRAMES + 1)), 2),
                           "target_ratio": 5.0},
            "pool_end_to_end": {"clips": len(clips), "workers": workers, "seconds": round(pool_s, 2)},
            "warm_read": warm_reads(folder, clips, args.reads),
        }
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    publish(result, default_out("thumbs"))


if __name__ == "__main__":
    main()
