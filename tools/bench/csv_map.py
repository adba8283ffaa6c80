"""Mapped shot-list import cost: CPU seconds to map and to dry-run/import a StudioBinder-style
file of N rows (issue 12, item 1).

    .venv/bin/python tools/bench/csv_map.py [--rows 20000]

Measures process CPU time (time.process_time), not wall clock: the numbers compare runs on a busy
machine. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    a = ap.parse_args()
    from aimms_fast.ops import csv_map as M
    from aimms_fast.project import Project
    src = (ROOT / "tests" / "data" / "shotlists" / "studiobinder_shot_list.csv").read_text().splitlines()
    body = src[1:]
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "big.csv"
        rows = [src[0]] + [body[i % len(body)].replace(body[i % len(body)].split(",")[1], f"S{i}", 1)
                           for i in range(a.rows)]
        f.write_text("\n".join(rows) + "\n", encoding="utf-8")
        out = {"rows": a.rows, "bytes": f.stat().st_size}
        t = time.process_time()
        plan = M.plan_mapping(f)
        out["plan_cpu_s"] = round(time.process_time() - t, 3)
        p = Project.create(Path(tmp) / "proj", name="bench", author="bench")
        try:
            t = time.process_time()
            res = M.import_mapped(p, f, plan, dry_run=True)
            out["dry_run_cpu_s"] = round(time.process_time() - t, 3)
            t = time.process_time()
            res = M.import_mapped(p, f, plan, placeholders=False)
            out["import_cpu_s"] = round(time.process_time() - t, 3)
            out["imported"] = res.report.imported
        finally:
            p.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
