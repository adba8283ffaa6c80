"""Hostile-input costs (issue 14): peak memory of a thumbnail of an image bomb, and what the checks
added to every open cost.

    .venv/bin/python tools/bench/hostile.py [--side 12000] [--takes 21000]

bomb      a --side x --side RGB PNG (a repeated gradient row: ~1.7 MB on disk for 12000) made
          in a temp folder; extract_tiles runs in a fresh child process per mode and reports its
          peak RSS (getrusage) and CPU time: "banded" is what workers do now; "whole" forces
          Pillow's whole decode (the code before issue 14) for comparison.
open      store/record_check.find_bad_values on a database with --takes takes and takes/10
          shots (CPU ms, median of 5), and project/leftovers.clean_leftovers on an empty project.
Prints JSON and writes docs/bench/hostile.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys, time  # peak = VmHWM: ru_maxrss would include the parent's RSS from before exec
from aimms_fast.media import image_limits as L
if sys.argv[2] == "whole":
    L.BANDED_FROM_PIXELS = 10**12          # never banded
    L.FULL_DECODE_MAX_PIXELS = 10**12      # and no limit: the old behaviour
from aimms_fast.media.posters import extract_tiles
t = time.process_time()
th = extract_tiles(sys.argv[1])
print(json.dumps({"state": th.state, "strategy": th.strategy, "reason": th.reason,
                  "cpu_s": round(time.process_time() - t, 2),
                  "peak_rss_mb": round(int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))) / 1024, 1)}))
"""


def make_png(path: Path, w: int, h: int) -> None:
    row = b"\x00" + bytes((i * 7) % 256 for i in range(w * 3))
    c = zlib.compressobj(1)

    def chunk(f, kind, data):
        f.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        chunk(f, b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        buf = bytearray()
        for _ in range(h):
            buf += c.compress(row)
            if len(buf) > 1 << 20:
                chunk(f, b"IDAT", bytes(buf))
                buf.clear()
        chunk(f, b"IDAT", bytes(buf + c.flush()))
        chunk(f, b"IEND", b"")


def bomb(side: int, folder: Path) -> dict:
    png = folder / "bomb.png"
    make_png(png, side, side)
    out = {"side": side, "file_bytes": png.stat().st_size}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for mode in ("banded", "whole"):
        r = subprocess.run([sys.executable, "-c", CHILD, str(png), mode], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=600)
        out[mode] = json.loads(r.stdout) if r.returncode == 0 else {"error": r.stderr[-500:]}
    return out


def open_checks(n_takes: int, folder: Path) -> dict:
    from aimms_fast.project import Project
    from aimms_fast.project.leftovers import clean_leftovers
    from aimms_fast.store.record_check import find_bad_values
    root = folder / "proj"
    Project.create(root).close()
    c = sqlite3.connect(root / "data" / "shots.db")
    n_shots = max(1, n_takes // 10)
    c.executemany("INSERT INTO shots(order_number, shot_name, description, created_date) VALUES (?,?,?,?)",
                  [(i, f"s{i}", "d" * 200, "2025-01-01T00:00:00Z") for i in range(n_shots)])
    c.executemany("INSERT INTO takes(take_id, shot_id, take_type, file_path, starred, created_date) "
                  "VALUES (?,?,?,?,?,?)",
                  [(str(uuid.uuid4()), i % n_shots + 1, "base_image", f"media/{i % n_shots}/base_{i:02d}.png", 0,
                    "2025-01-01T00:00:00Z") for i in range(n_takes)])
    c.commit()
    times = []
    for _ in range(5):
        t = time.process_time()
        find_bad_values(c)
        times.append((time.process_time() - t) * 1000)
    from aimms_fast.project.layout import Layout
    lt = []
    for _ in range(5):
        t = time.process_time()
        clean_leftovers(Layout(root), writable=True, have_lock=True)
        lt.append((time.process_time() - t) * 1000)
    c.close()
    return {"takes": n_takes, "shots": n_shots, "find_bad_values_cpu_ms": round(statistics.median(times), 2),
            "clean_leftovers_cpu_ms": round(statistics.median(lt), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=12000)
    ap.add_argument("--takes", type=int, default=21000)
    ap.add_argument("--out", default=str(default_out("hostile")))
    a = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aimms_bench_hostile_"))
    try:
        result = {"bomb": bomb(a.side, folder), "open": open_checks(a.takes, folder)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    publish(result, a.out)


if __name__ == "__main__":
    main()
