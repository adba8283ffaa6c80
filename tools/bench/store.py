"""Store benchmark on the 600-shot / 21,000-take demo project; prints JSON, saves docs/bench/store.json.

    .venv/bin/python tools/bench/store.py [PATH] [--shots 600 --takes 21000] [--compare-ingest]

PATH (default /tmp/aimms_scale) is built with `aimms demo` logic if it is not there, else reused;
keep it outside the repository, other benchmarks reuse it. Measures:
  build      time to build the scale project, size on disk
  open       Project.open (writable: lock, schema check, recovery scan) and read-only, median of runs
  page       keyset pages of 60 takes (store.takes.page_takes) walking each whole storyboard
  search     store.shots.list_shots(search=...) over the default columns, and a section filter
  import     ops.takes.add_takes of 1,000 small images, and of 1,000 small videos with workflow PNGs,
             into one new shot of a copy of the scale database (media of other shots not copied)
With the media engine's ingest hook present, imports are also timed with the hook switched off in
this process only (the product path always runs it), so its share is visible; --compare-ingest
does the same for a whole second scale build (PATH_no_ingest, kept for reruns).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from report import default_out, publish


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.demo import clips  # noqa: E402
from aimms_fast.demo.builder import DemoSpec, build_demo  # noqa: E402
from aimms_fast.demo.workflows import Generation, png_chunks, vhs_comment  # noqa: E402
from aimms_fast.ops import takes as ops_takes  # noqa: E402
from aimms_fast.ops.shots import add_shot  # noqa: E402
from aimms_fast.project import Project  # noqa: E402
from aimms_fast.store.shots import list_shots, sections  # noqa: E402
from aimms_fast.store.takes import page_takes  # noqa: E402

SEARCHES = ["warehouse", "maya", "_010", "rain streaks", "teal and orange", "no such words anywhere"]


def orjson_dumps(obj) -> str:
    import json
    return json.dumps(obj, indent=1, default=str)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def stats(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"median_ms": ms(statistics.median(s)), "p95_ms": ms(s[min(len(s) - 1, int(len(s) * 0.95))]),
            "min_ms": ms(s[0]), "max_ms": ms(s[-1]), "runs": len(s)}


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t, out


def progress_printer(label: str):
    last = [0.0]

    def update(done, total):
        now = time.monotonic()
        if now - last[0] > 2 or done == total:
            last[0] = now
            print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)
    return update


def disk_usage(path: Path) -> dict:
    files = size = 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            st = os.lstat(os.path.join(dirpath, n))
            files += 1
            size += st.st_blocks * 512
    db = sum(p.stat().st_size for p in (path / "data").glob("shots.db*"))
    return {"files": files, "bytes_on_disk": size, "mib_on_disk": round(size / 2 ** 20, 1),
            "db_bytes": db, "db_mib": round(db / 2 ** 20, 2)}


def ingest_present() -> bool:
    return importlib.util.find_spec("aimms_fast.media.ingest") is not None


@contextmanager
def ingest_hook_off():
    """Bench-only: skip the media engine's hook to measure its share of an import."""
    orig = ops_takes._after_import
    ops_takes._after_import = lambda project, rel_paths, **kw: None
    try:
        yield
    finally:
        ops_takes._after_import = orig


# -- measurements ------------------------------------------------------------------------------------

def bench_open(path: Path, runs: int) -> dict:
    out = {}
    for label, ro in (("writable", False), ("readonly", True)):
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            p = Project.open(path, readonly=ro)
            samples.append(time.perf_counter() - t)
            p.close()
        out[label] = stats(samples)
    return out


def bench_pages(path: Path, limit: int = 60) -> dict:
    out = {}
    with Project.open(path, readonly=True) as p:
        for storyboard in ("image", "video"):
            samples, rows, after = [], 0, None
            while True:
                t = time.perf_counter()
                page = page_takes(p.conn, storyboard, after=after, limit=limit)
                samples.append(time.perf_counter() - t)
                if not page:
                    break
                rows += len(page)
                last = page[-1]
                after = (last[2], last[1], last[3])
            out[storyboard] = {"takes": rows, "pages": len(samples) - 1, "page_size": limit, **stats(samples)}
    return out


def bench_search(path: Path, runs: int) -> dict:
    out = {"terms": {}}
    with Project.open(path, readonly=True) as p:
        all_samples = []
        for term in SEARCHES:
            samples = []
            for _ in range(runs):
                dt, hits = timed(list_shots, p.conn, search=term)
                samples.append(dt)
            all_samples += samples
            out["terms"][term] = {"hits": len(hits), "median_ms": ms(statistics.median(samples))}
        out["search_all_terms"] = stats(all_samples)
        secs = sections(p.conn)
        samples = []
        for s in secs:
            for _ in range(runs):
                samples.append(timed(list_shots, p.conn, section=s)[0])
        out["section_filter"] = {"sections": len(secs), **stats(samples)}
        samples = [timed(list_shots, p.conn)[0] for _ in range(runs)]
        out["all_shots"] = stats(samples)
    return out


def copy_of_database(src: Path, dest: Path) -> Path:
    """A project folder holding a consistent copy of src's database (online backup), no media."""
    for d in ("data", "media", "logs"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "project_config.json", dest / "project_config.json")
    a = sqlite3.connect(f"{(src / 'data' / 'shots.db').resolve().as_uri()}?mode=ro", uri=True)
    b = sqlite3.connect(dest / "data" / "shots.db")
    a.backup(b)
    a.close()
    b.close()
    return dest


def stage_sources(stage: Path, n: int) -> tuple[list[Path], list[Path], dict[str, Path]]:
    """n small images and n small videos (+ workflow PNGs), each its own file, like a render folder."""
    g_img = Generation("bench image", "blurry", seed=1)
    g_vid = Generation("bench video", "flicker", seed=2, frames=24)
    img = clips.save_png(stage / "src_image.png", clips.still("bench image", seed=1, size=(160, 90)),
                         png_chunks(g_img))
    spec = clips.ClipSpec("bench clip", seconds=1.0, size=(160, 90), gop=24, seed=2, comment=vhs_comment(g_vid))
    vid = clips.make_clip(stage / "src_clip.mp4", spec)
    png = clips.save_png(stage / "src_clip_wf.png", clips.first_frame(spec), png_chunks(g_vid))
    images, videos, comps = [], [], {}
    for i in range(n):
        images.append(stage / f"ComfyUI_{i:05d}_.png")
        shutil.copyfile(img, images[-1])
        v = stage / f"AnimateDiff_{i:05d}.mp4"
        shutil.copyfile(vid, v)
        c = stage / f"AnimateDiff_{i:05d}_wf.png"
        shutil.copyfile(png, c)
        videos.append(v)
        comps[str(v)] = c
    return images, videos, comps


def bench_import(scale: Path, n: int, *, hook: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="aimms_bench_import_") as tmp:
        tmp = Path(tmp)
        images, videos, comps = stage_sources(tmp / "incoming", n)
        proj = copy_of_database(scale, tmp / "project")
        with Project.open(proj) as p:
            sid_i = add_shot(p, shot_name="BENCH_IMPORT_IMAGES", placeholders=False)
            sid_v = add_shot(p, shot_name="BENCH_IMPORT_VIDEOS", placeholders=False)
            from aimms_fast.media import probe_pool
            workers_cpu0 = probe_pool._shared.stats["worker_cpu_s"] if probe_pool._shared else 0.0
            cpu0 = time.process_time()
            with (ingest_hook_off() if not hook else _nothing()):
                t_img, ids_i = timed(ops_takes.add_takes, p, sid_i, images, storyboard="image")
                t_vid, ids_v = timed(ops_takes.add_takes, p, sid_v, videos, storyboard="video", companions=comps)
            cpu = time.process_time() - cpu0
            workers_cpu = (probe_pool._shared.stats["worker_cpu_s"] if probe_pool._shared else 0.0) - workers_cpu0
            assert len(ids_i) == len(ids_v) == n
        # CPU (this process: copy, rows, storing probe results; probe workers: probe + metadata,
        # issue 15 item 4) says more than wall time on a shared machine.
        return {"takes": n, "ingest_hook": hook,
                "images_s": round(t_img, 3), "images_per_take_ms": ms(t_img / n),
                "videos_with_workflow_png_s": round(t_vid, 3), "videos_per_take_ms": ms(t_vid / n),
                "cpu_s_importing_process": round(cpu, 3), "cpu_s_probe_workers": round(workers_cpu, 3)}


@contextmanager
def _nothing():
    yield


# -- main --------------------------------------------------------------------------------------------

def build_or_reuse(path: Path, shots: int, takes: int, *, hook: bool = True) -> dict:
    print(f"scale project: {path}", file=sys.stderr)
    hook = hook and ingest_present()
    with (ingest_hook_off() if not hook else _nothing()):
        report = build_demo(path, DemoSpec(shots=shots, takes=takes), progress=progress_printer("build"))
    return {"path": str(path), "built_now": report.built, "build_s": report.seconds,
            "build_phases_s": report.phases, "shots": report.shots, "image_takes": report.image_takes,
            "video_takes": report.video_takes, "workflow_pngs": report.workflow_pngs,
            "placeholders": report.placeholders, "pooled_media": report.pooled,
            "ingest_hook": hook if report.built else None, "media_rows_probed": probed_rows(path),
            **disk_usage(path)}


def build_storyboard_thumbs(path: Path) -> dict:
    """Tiles of the take each storyboard card shows (not the other takes), through the product's
    thumbnail pool."""
    from aimms_fast.cache.build import build_all
    from aimms_fast.store.storyboard import load_storyboard, project_exists
    with Project.open(path, readonly=True) as p:
        rels = sorted({r.rel for sb in ("image", "video")
                       for r in load_storyboard(p.conn, sb, exists=project_exists(p)) if r.rel})
        cache = p.layout.cache
    s = build_all(path, cache, rels, prune=False, progress=progress_printer("storyboard thumbnails"))
    return {"takes": len(rels), "built": s.built, "cached": s.cached, "failed": len(s.failed),
            "seconds": round(s.seconds, 1)}


def probed_rows(path: Path) -> int | None:
    """fast_media rows: how many files the ingest hook saw at import (None: no such table)."""
    with Project.open(path, readonly=True) as p:
        try:
            return p.conn.execute("SELECT COUNT(*) FROM fast_media").fetchone()[0]
        except sqlite3.OperationalError:
            return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", default="/tmp/aimms_scale", type=Path)
    ap.add_argument("--shots", type=int, default=None, help="default: 600, or --size's share")
    ap.add_argument("--takes", type=int, default=21000)
    ap.add_argument("--size", type=int, default=None, metavar="TAKES",
                    help="a project of this many takes at the scale project's density (35 takes a shot): "
                         "--size 100000 builds 2,857 shots; media come from the builder's pool of 96 clips "
                         "and 96 images, copied per take as every large demo does")
    ap.add_argument("--only-build", action="store_true", help="build (or reuse) PATH and stop")
    ap.add_argument("--storyboard-thumbs", action="store_true",
                    help="with --only-build: also build the thumbnails of the takes both storyboards show "
                         "(what ui_bench.py --no-sweep needs; building all 100K takes' tiles is a ~40 min job)")
    ap.add_argument("--runs", type=int, default=7, help="repetitions for open/search medians")
    ap.add_argument("--import-count", type=int, default=1000)
    ap.add_argument("--compare-ingest", action="store_true",
                    help="also build a second scale project with the ingest hook off (bench only)")
    ap.add_argument("--out", type=Path, default=default_out("store"))
    args = ap.parse_args(argv)
    if args.size is not None:
        args.takes = args.size
        if args.shots is None:
            args.shots = max(1, round(args.size * 600 / 21000))
    if args.shots is None:
        args.shots = 600

    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "sqlite": sqlite3.sqlite_version},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "ingest_hook_present": ingest_present(),
    }
    result["build"] = build_or_reuse(args.path, args.shots, args.takes)
    if args.only_build:
        if args.storyboard_thumbs:
            result["storyboard_thumbs"] = build_storyboard_thumbs(args.path)
        print(orjson_dumps(result))
        return 0
    if args.compare_ingest and ingest_present():
        # Kept (like PATH) so a rerun reuses it; delete it when done comparing.
        other = args.path.with_name(args.path.name + "_no_ingest")
        result["build_without_ingest_hook"] = build_or_reuse(other, args.shots, args.takes, hook=False)
    print("open…", file=sys.stderr)
    result["open"] = bench_open(args.path, args.runs)
    print("pages…", file=sys.stderr)
    result["page_60"] = bench_pages(args.path)
    print("search…", file=sys.stderr)
    result["shot_search"] = bench_search(args.path, args.runs)
    print("import…", file=sys.stderr)
    result["import_1000"] = bench_import(args.path, args.import_count, hook=True)
    if ingest_present():
        result["import_1000_without_ingest_hook"] = bench_import(args.path, args.import_count, hook=False)
    publish(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
