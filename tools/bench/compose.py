"""Compare compositing: numpy against the GL shaders (wipe, difference, blend) at 1080p.

    .venv/bin/python tools/bench/compose.py [--backend egl|default] [--out F]

Standalone moderngl context (EGL by default: no display needed; run it on a GPU machine to see the
GL path on real hardware). For each mode: the largest difference between GL and numpy pixels, and
median times of compose_numpy, GLCompositor.compose (render + read back) and compose_to (render
into a texture, what the viewer does: the picture stays on the GPU). Prints JSON and writes
docs/bench/compose.json.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.playback.compose import compose_numpy  # noqa: E402
from aimms_fast.ui.gl_compose import GLCompositor  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="egl", choices=["egl", "default"])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    import moderngl
    kw = {"backend": "egl"} if args.backend == "egl" else {}
    ctx = moderngl.create_context(standalone=True, require=330, **kw)
    out = {"bench": "compose", "renderer": ctx.info["GL_RENDERER"], "version": ctx.info["GL_VERSION"],
           "machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "size": [1920, 1080]}
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (1080, 1920, 4), dtype=np.uint8)
    b = rng.integers(0, 256, (1080, 1920, 4), dtype=np.uint8)
    a[..., 3] = b[..., 3] = 255
    g = GLCompositor(ctx)
    target = ctx.texture((1920, 1080), 4)
    for mode, p in (("wipe", 0.37), ("difference", 4.0), ("blend", 0.5)):
        diff = int(np.abs(compose_numpy(a, b, mode, p).astype(int) - g.compose(a, b, mode, p).astype(int)).max())
        tn, tg, tt = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter(); compose_numpy(a, b, mode, p); tn.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); g.compose(a, b, mode, p); tg.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); g.compose_to(a, b, mode, p, target); ctx.finish()
            tt.append(time.perf_counter() - t0)
        out[mode] = {"max_abs_diff_vs_numpy": diff, "numpy_ms": round(1000 * float(np.median(tn)), 2),
                     "gl_readback_ms": round(1000 * float(np.median(tg)), 2),
                     "gl_to_texture_ms": round(1000 * float(np.median(tt)), 2)}
    publish(out, args.out or default_out("compose"))


if __name__ == "__main__":
    main()
