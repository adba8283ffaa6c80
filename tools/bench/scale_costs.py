"""How the viewer's per-project costs grow with the project: CPU seconds (and wall) of each step the
viewer runs when it opens a project and sweeps it, for one or more projects side by side.

    .venv/bin/python tools/bench/scale_costs.py /tmp/aimms_scale /tmp/i15_100k [--runs 3]

Steps (each the product's own call, warm page cache, median of --runs):
  open            Project.open (writable: lock, schema check, recovery scan), nothing written since
                  the last open (the clean-values mark matches, the newest take is synced)
  open_rescan     the same after another program wrote the file: the mark is removed before each
                  run, so find_bad_values scans every AIMMS table (before issue 15's round 2: every open)
  bad_values_scan store.record_check.find_bad_values alone
  sync_quick      store.takes.newest_take_synced: what the open now pays to know nothing is unsynced
  sync_full       the full fast_takes anti-join (sync_fast_takes without quick; every open before)
  counts          store.stats.project_counts (the status bar)
  storyboard_*    store.storyboard.load_storyboard for one storyboard plus the file_state stat of
                  every shown take and companion (what StoryboardPage._load does)
  first60_*       load_storyboard(limit=60): the first screen's shots only (the same rows as the
                  first 60 of the whole storyboard), with the same stats
  sweep_list      store.stats.sweep_paths: every storyboard take's path, as the background sweep
                  reads it (500 a frame in the app)
  sweep_stat      one os.stat per swept path: what the workers' dispatcher pays to skip a take the
                  cache already has
  tile_states     TileCache.states of every shown take (the grid asks for a screenful at a time;
                  this is the whole storyboard)
Prints JSON with per-step CPU ms and, per project, takes and shots, so cost per take can be read.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _timed(fn, runs: int) -> tuple[dict, object]:
    cpu, wall, out = [], [], None
    for _ in range(runs):
        c, t = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
    return {"cpu_ms": round(statistics.median(cpu) * 1000, 1), "wall_ms": round(statistics.median(wall) * 1000, 1)}, out


def measure(path: Path, runs: int) -> dict:
    from aimms_fast.project import Project
    from aimms_fast.store.stats import project_counts, sweep_paths
    from aimms_fast.store.storyboard import file_state, load_storyboard
    from aimms_fast.cache.tiles import TileCache
    out: dict = {"project": str(path)}
    steps: dict = {}

    def open_close():
        Project.open(path).close()
    Project.open(path).close()   # settle: a first open may sync/checkpoint, the next one marks
    open_close()
    steps["open"], _ = _timed(open_close, runs)
    mark = path / ".aimms_fast_cache" / "clean_values.json"

    def open_rescan():
        mark.unlink(missing_ok=True)
        open_close()
    steps["open_rescan"], _ = _timed(open_rescan, runs)
    open_close()   # leave the mark as the product would
    p = Project.open(path, readonly=True)
    try:
        from aimms_fast.store.record_check import find_bad_values
        from aimms_fast.store.takes import newest_take_synced, sync_fast_takes
        steps["bad_values_scan"], _ = _timed(lambda: find_bad_values(p.conn), runs)
        steps["sync_quick"], _ = _timed(lambda: newest_take_synced(p.conn), runs)
        steps["sync_full"], n = _timed(lambda: sync_fast_takes(p.conn), runs)
        assert n == 0, "the project had unsynced takes: sync_full measured an insert"
        steps["counts"], c = _timed(lambda: project_counts(p.conn), runs)
        out["shots"], out["takes"] = c.shots, c.takes
        rels = []
        for sb in ("image", "video"):
            def load(sb=sb):
                files: dict = {}

                def exists(rel):
                    st = files.get(rel)
                    if st is None:
                        st = files[rel] = file_state(p.layout, rel)
                    return st != "missing"
                rows = load_storyboard(p.conn, sb, exists=exists)
                for r in rows:
                    for rel in (r.rel, r.companion):
                        if rel and rel not in files:
                            files[rel] = file_state(p.layout, rel)
                return rows
            steps[f"storyboard_{sb}"], rows = _timed(load, runs)

            def first(sb=sb):
                rows = load_storyboard(p.conn, sb, limit=60, exists=lambda rel: file_state(p.layout, rel) != "missing")
                for r in rows:
                    for rel in (r.rel, r.companion):
                        if rel:
                            file_state(p.layout, rel)
                return rows
            steps[f"first60_{sb}"], _ = _timed(first, runs)
            rels += [r.rel for r in rows if r.rel]
        steps["sweep_list"], swept = _timed(lambda: [r for batch in sweep_paths(p.layout.db) for r in batch], runs)
        out["swept_paths"] = len(swept)

        def stat_all():
            for rel in swept:
                try:
                    os.stat(p.layout.abs(rel))
                except OSError:
                    pass
        steps["sweep_stat"], _ = _timed(stat_all, runs)
        tiles = TileCache(p.layout.cache, p.root)
        steps["tile_states"], _ = _timed(lambda: tiles.states(rels), runs)
        tiles.close()
    finally:
        p.close()
    out["steps"] = steps
    out["cpu_us_per_take"] = {k: round(v["cpu_ms"] * 1000 / max(1, out["takes"]), 2) for k, v in steps.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    res = {"bench": "scale_costs", "load_avg_1m": os.getloadavg()[0],
           "projects": [measure(p, a.runs) for p in a.paths]}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
