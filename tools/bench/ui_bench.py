"""Viewer benchmark on the 600-shot / 21K-take demo project (warm thumbnail cache), under Xvfb.

    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" .venv/bin/python tools/bench/ui_bench.py [PATH]
        [--px-per-frame 24] [--out docs/bench/ui.json] [--runs 3]

--cold N adds N cold starts per size: the OS page cache is dropped before each
(`echo 3 > /proc/sys/vm/drop_caches`, as root; else posix_fadvise(DONTNEED) on the project's and
the environment's files) and only start-up is measured; cold and warm are reported side by side,
with CPU seconds and MB read from disk at each start-up phase (imports, first frame, project open,
first thumbnails).

PATH defaults to /tmp/aimms_scale (build it with `aimms demo /tmp/aimms_scale --shots 600 --takes 21000`,
then warm its cache with `aimms thumbs /tmp/aimms_scale`). Each run is a fresh process (what a user
starting `aimms PATH` gets). Measures, per run:
  first_frame_s        process start -> first frame rendered (the window paints before any loading)
  first_thumbs_s       process start -> every card on the first screen of the Images storyboard
                       shows its real poster texture
  videos_page_s        switching to the Videos page -> its first screen shows real posters
  scroll               the whole Video storyboard scrolled top to bottom at a steady
                       --px-per-frame: frame time p50/p95/max (everything one loop turn does, render
                       included, no pacing sleep), Python time per frame (our per-frame work: callbacks,
                       drained events, grid recycling, texture builds), and how many card-frames showed
                       the neutral placeholder instead of a poster (prefetch falling behind)
  rss_mb               resident memory of the viewer process at the end (and its peak)
Targets (issue 4): first frame <= 0.5 s, first thumbnails <= 1.0 s, scroll p95 <= 20 ms, Python
<= 4 ms per frame, RSS <= 500 MB; issue 15: scroll p95 <= 16.7 ms and Python p95 <= 3 ms at
1600x960 and 1920x1080, cold start first frame <= 0.5 s and first thumbnails <= 2 s. Prints JSON; writes it to --out.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"first_frame_s": 0.5, "first_thumbs_s": 1.0, "scroll_p95_ms": 16.7, "python_p95_ms": 3.0,   # issue 15
           "rss_mb": 500.0}


def _process_age_s() -> float:
    """Seconds since this process started (Linux /proc; clock-tick precision ~10 ms)."""
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def _rss_mb() -> tuple[float, float]:
    cur = peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cur, peak


def _pct(values, q) -> float:
    v = sorted(values)
    if not v:
        return 0.0
    k = min(len(v) - 1, max(0, int(round(q / 100 * (len(v) - 1)))))
    return v[k]


def drop_page_cache(path: Path) -> str:
    """Make the next start cold: the kernel's whole page cache (needs root; drops dentries and
    inodes too, so Python's own modules are read from disk again), else posix_fadvise(DONTNEED)
    on every file of the project and of the Python environment. Returns which one was used."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return "drop_caches"
    except OSError:
        pass
    roots = [path, Path(sys.prefix), ROOT / "aimms_fast"]
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                try:
                    fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
    return "fadvise"


def _io_now() -> dict:
    """CPU seconds and bytes read from disk so far by this process (counts, not wall time: a
    shared machine's load moves them far less)."""
    rd = 0
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("read_bytes:"):
                    rd = int(line.split()[1])
    except OSError:
        pass
    return {"cpu_s": round(time.process_time(), 3), "disk_read_mb": round(rd / 2**20, 1)}


def child(path: str, px: int, size: tuple[int, int], scroll: bool = True, sweep: bool = True) -> dict:
    """One viewer session, in this (fresh) process. sweep=False: the background sweep is not
    started (a project whose cache holds only the storyboards' takes, see store.py
    --storyboard-thumbs; otherwise the workers would decode the rest during the scroll)."""
    age0 = _process_age_s()
    t0 = time.perf_counter() - age0           # perf_counter value at process start
    sys.path.insert(0, str(ROOT))
    from aimms_fast.ui.app import App
    from aimms_fast.ui.prefs import Prefs
    from aimms_fast.ui.tour import visible_ready
    imported = time.perf_counter() - t0
    io_imported = _io_now()
    app = App(prefs=Prefs(), vsync=False, width=size[0], height=size[1], persist_prefs=False)
    if not sweep:
        from aimms_fast.ui.services import MediaServices
        MediaServices.begin_sweep = lambda self: None
    app.start(Path(path))
    # The frame was on screen when the app drew it; start() then builds the pages' tabs (hidden
    # until the project opens), so the counts below are taken after that.
    first_frame = app.first_frame_at - t0
    io_first_frame = _io_now()
    opened = [None]
    io_opened = [None]

    def ready(grid) -> bool:
        lo, hi = grid._range
        return bool(grid.cards) and hi > lo and visible_ready(app, grid)

    def run_until(pred, timeout=60.0) -> bool:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            app.iterate(pace=False)
            if opened[0] is None and app.project is not None:
                opened[0] = time.perf_counter() - t0
                io_opened[0] = _io_now()
            if app.project is not None and app.current_page is not None and pred():
                return True
        return False

    ok = run_until(lambda: ready(app.pages["images"].grid))
    first_thumbs = time.perf_counter() - t0
    phases = {"imports_s": round(imported, 3), "project_open_s": round(opened[0] or 0.0, 3),
              "first_thumbs_frames": app.frames, "tiles_built": app.textures.stats.built_tiles,
              "counts_at": {"imported": io_imported, "first_frame": io_first_frame, "project_open": io_opened[0],
                            "first_thumbs": _io_now()}}
    if not scroll:
        rss, peak = _rss_mb()
        out = {"first_frame_s": round(first_frame, 3), "first_frame_in_app_s": round(app.first_frame_s, 3),
               "first_thumbs_s": round(first_thumbs, 3), "first_thumbs_ok": ok, "phases": phases,
               "rss_mb": round(rss, 1), "errors": app.errors}
        app.shutdown()
        return out
    t = time.perf_counter()
    app.show_page("videos")
    g = app.pages["videos"].grid
    ok_v = run_until(lambda: ready(g))
    videos_page = time.perf_counter() - t
    app.settle(5)
    pool_started = app.services.pool_running
    # -- steady scroll, top to bottom --------------------------------------------------------------
    frames, python, python_cpu, frame_cpu, blank = [], [], [], [], 0
    y = 0.0
    g.scroll_to(0)
    app.settle(3)
    total = g.scroll_max()
    while y < total:
        y = min(total, y + px)
        g.scroll_to(y)
        t, c = time.perf_counter(), time.process_time()
        app.iterate(pace=False)
        frames.append((time.perf_counter() - t) * 1000)
        frame_cpu.append((time.process_time() - c) * 1000)   # all threads: llvmpipe's included
        python.append(app.last_python_s * 1000)
        python_cpu.append(app.last_python_cpu_s * 1000)
        vis_lo = int(max(0, (g.scroll_y() - 12)) // g.row_height) * g.cols
        vis_hi = min(len(g.cards), vis_lo + (int(size[1] // g.row_height) + 1) * g.cols)
        blank += sum(1 for i in range(vis_lo, vis_hi) if g.cards[i].rel and not g.cards[i].placeholder
                     and not app.textures.resident(g.cards[i].rel))
    if not frames:
        raise SystemExit(f"{path}: the Video storyboard fits on one screen ({len(g.cards)} shots); "
                         "benchmark a bigger project")
    rss, peak = _rss_mb()
    st = app.textures.stats
    out = {
        "first_frame_s": round(first_frame, 3),
        "first_frame_in_app_s": round(app.first_frame_s, 3),
        "first_thumbs_s": round(first_thumbs, 3), "first_thumbs_ok": ok, "phases": phases,
        "videos_page_s": round(videos_page, 3), "videos_page_ok": ok_v,
        "shots": len(g.cards), "columns": g.cols, "storyboard_height_px": round(total),
        "scroll_px_per_frame": px, "scroll_frames": len(frames),
        "frame_ms": {"p50": round(statistics.median(frames), 2), "p95": round(_pct(frames, 95), 2),
                     "max": round(max(frames), 2), "mean": round(statistics.fmean(frames), 2)},
        "python_ms": {"p50": round(statistics.median(python), 3), "p95": round(_pct(python, 95), 3),
                      "max": round(max(python), 3), "mean": round(statistics.fmean(python), 3)},
        "frame_cpu_ms": {"p50": round(statistics.median(frame_cpu), 2), "p95": round(_pct(frame_cpu, 95), 2)},
        "python_cpu_ms": {"p50": round(statistics.median(python_cpu), 3), "p95": round(_pct(python_cpu, 95), 3)},
        "blank_card_frames": blank,
        "textures": {"tiles_built": st.built_tiles, "build_ms_total": round(st.build_seconds * 1000, 1),
                     "resident_mb": round(st.resident_bytes / 2**20, 1), "evicted_pages": st.evicted_pages,
                     "budget_mb": app.prefs.texture_budget_mb},
        "thumbnail_workers_started": pool_started,
        "rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1),
        "errors": app.errors,
    }
    app.shutdown()
    return out


def _summary(runs: list[dict]) -> dict:
    med = lambda key: statistics.median(r[key] for r in runs)
    summary = {
        "first_frame_s": med("first_frame_s"), "first_thumbs_s": med("first_thumbs_s"),
        "videos_page_s": med("videos_page_s"),
        "scroll_p50_ms": statistics.median(r["frame_ms"]["p50"] for r in runs),
        "scroll_p95_ms": statistics.median(r["frame_ms"]["p95"] for r in runs),
        "scroll_max_ms": max(r["frame_ms"]["max"] for r in runs),
        "python_p50_ms": statistics.median(r["python_ms"]["p50"] for r in runs),
        "python_p95_ms": statistics.median(r["python_ms"]["p95"] for r in runs),
        "python_mean_ms": statistics.median(r["python_ms"]["mean"] for r in runs),
        "frame_cpu_p95_ms": statistics.median(r["frame_cpu_ms"]["p95"] for r in runs),
        "python_cpu_p95_ms": statistics.median(r["python_cpu_ms"]["p95"] for r in runs),
        "blank_card_frames": max(r["blank_card_frames"] for r in runs),
        "rss_mb": med("rss_mb"), "peak_rss_mb": med("peak_rss_mb"), "runs": len(runs),
    }
    summary["meets_targets"] = {k: summary[k] <= v for k, v in TARGETS.items()}
    return summary


def _cache_warmth(path: Path) -> dict:
    import sqlite3
    idx = path / ".aimms_fast_cache" / "thumbs" / "index.sqlite"
    db = sqlite3.connect(f"file:{path / 'data' / 'shots.db'}?mode=ro", uri=True)
    takes = db.execute("SELECT COUNT(*) FROM takes WHERE take_type IN ('base_image','final_video')").fetchone()[0]
    shots = db.execute("SELECT COUNT(*) FROM shots").fetchone()[0]
    db.close()
    built = 0
    if idx.exists():
        c = sqlite3.connect(f"file:{idx}?mode=ro", uri=True)
        built = c.execute("SELECT COUNT(*) FROM tiles").fetchone()[0]
        c.close()
    return {"shots": shots, "takes": takes, "tiles_in_cache": built}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default="/tmp/aimms_scale")
    ap.add_argument("--px-per-frame", type=int, default=24,
                    help="scroll speed (24 px/frame = 1440 px/s at 60 fps, about 6 card rows a second)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="1600x960,1920x1080",
                    help="window sizes to measure, comma-separated (software GL cost grows with pixels)")
    ap.add_argument("--cold", type=int, default=0, metavar="N",
                    help="also N cold starts per size (page cache dropped before each; start-up only, "
                         "no scroll), reported next to the warm ones")
    ap.add_argument("--out", default=str(default_out("ui")))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-scroll", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-sweep", action="store_true",
                    help="don't start the background thumbnail sweep (cache holds the storyboards' takes only)")
    a = ap.parse_args()
    if a.child:
        w, h = (int(v) for v in a.sizes.split(",")[0].split("x"))
        print(json.dumps(child(a.path, a.px_per_frame, (w, h), scroll=not a.no_scroll, sweep=not a.no_sweep)))
        return
    if not os.environ.get("DISPLAY"):
        sys.exit("ui_bench needs an X display: run it under xvfb-run (see the module docstring)")
    path = Path(a.path)
    if not (path / "data" / "shots.db").exists():
        sys.exit(f"{path}: no project; build it with `aimms demo {path} --shots 600 --takes 21000` "
                 f"and warm it with `aimms thumbs {path}`")
    # An installed app has its bytecode compiled (pip does it); this environment may set
    # PYTHONDONTWRITEBYTECODE, and compiling ~90 modules from source cost ~0.1 s of CPU before the
    # first frame and more at project open. Compile once so every run starts like an installed app.
    import compileall
    compileall.compile_dir(str(ROOT / "aimms_fast"), quiet=1)
    configs = {}
    for size in a.sizes.split(","):
        runs = []
        for i in range(a.runs):
            p = subprocess.run([sys.executable, __file__, str(path), "--child", "--px-per-frame", str(a.px_per_frame),
                                "--sizes", size] + (["--no-sweep"] if a.no_sweep else []),
                               capture_output=True, text=True, cwd=ROOT)
            if p.returncode != 0:
                sys.exit(f"{size} run {i + 1} failed:\n{p.stderr[-4000:]}")
            run = json.loads(p.stdout.strip().splitlines()[-1])
            run["load_avg_1m_after"] = round(os.getloadavg()[0], 2)   # shared machine: other work skews frames
            runs.append(run)
        configs[size] = {"summary": _summary(runs), "runs": runs}
        if a.cold:
            cold, how = [], None
            for i in range(a.cold):
                how = drop_page_cache(path)
                p = subprocess.run([sys.executable, __file__, str(path), "--child", "--no-scroll",
                                    "--sizes", size] + (["--no-sweep"] if a.no_sweep else []),
                                   capture_output=True, text=True, cwd=ROOT)
                if p.returncode != 0:
                    sys.exit(f"{size} cold run {i + 1} failed:\n{p.stderr[-4000:]}")
                cold.append(json.loads(p.stdout.strip().splitlines()[-1]))
            med = lambda key, rs: statistics.median(r[key] for r in rs)
            configs[size]["cold"] = {
                "how": how, "runs": cold,
                "side_by_side": {
                    "first_frame_s": {"cold": med("first_frame_s", cold), "warm": med("first_frame_s", runs)},
                    "first_thumbs_s": {"cold": med("first_thumbs_s", cold), "warm": med("first_thumbs_s", runs)},
                    "project_open_s": {"cold": statistics.median(r["phases"]["project_open_s"] for r in cold),
                                       "warm": statistics.median(r["phases"]["project_open_s"] for r in runs)},
                    "imports_s": {"cold": statistics.median(r["phases"]["imports_s"] for r in cold),
                                  "warm": statistics.median(r["phases"]["imports_s"] for r in runs)}},
                "targets": {"first_frame_s": 0.5, "first_thumbs_s": 2.0}}
    result = {
        "bench": "ui", "project": str(path), "cache": _cache_warmth(path), "sweep": not a.no_sweep,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "display": "Xvfb + Mesa llvmpipe (software GL)", "load_avg_1m": os.getloadavg()[0]},
        "scroll_px_per_frame": a.px_per_frame, "targets": TARGETS, "configs": configs,
    }
    publish(result, a.out)


if __name__ == "__main__":
    main()
