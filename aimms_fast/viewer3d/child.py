"""Child-process entry of the model loader: `python -m aimms_fast.viewer3d.child SRC OUT.glb MEM_MB SECONDS`.

Runs one format loader on an untrusted file under an address-space limit (RLIMIT_AS) and a CPU-time
limit (RLIMIT_CPU), dies with its parent, writes the
normalised GLB to OUT and prints one JSON line on stdout: {"ok": true, info...} or {"ok": false,
"error": "...", "hint": "..."}. A segfault, an out-of-memory kill or a hang shows up in the parent as
an exit status or a timeout (loader.py turns those into MediaError); this process never touches GL.
"""
from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path


def _limit_memory(mb: int) -> None:
    if mb <= 0:
        return
    try:
        import resource
        lim = mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    except (ImportError, ValueError, OSError):   # not on this OS: the time limit still holds
        pass


def _limit_cpu(seconds: float) -> None:
    """The parent's timeout kills a hung load; this also stops one whose parent died first (a pool
    worker killed for its own time limit), as does the parent-death signal."""
    try:
        import resource
        if seconds > 0:
            lim = int(seconds) + 5
            resource.setrlimit(resource.RLIMIT_CPU, (lim, lim + 5))
    except (ImportError, ValueError, OSError):
        pass
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    src, dst, mem_mb = Path(argv[0]), Path(argv[1]), int(argv[2]) if len(argv) > 2 else 0
    # No cyclic GC in this short-lived process: ufbx 0.0.5 segfaults when the collector frees its
    # wrappers (measured: "Garbage-collecting" in the fault trace, after evaluate_transform).
    gc.disable()
    _limit_memory(mem_mb)
    _limit_cpu(float(argv[3]) if len(argv) > 3 else 0)
    from aimms_fast.errors import AimmsError
    from aimms_fast.viewer3d.loader import FORMATS
    try:
        mod = FORMATS[src.suffix.lower()]
        import importlib
        loader = importlib.import_module(mod)
        if os.environ.get("AIMMS_MODEL_STATIC") == "1" and mod.endswith(".fbx"):
            glb, info = loader.load(src, animate=False)
        else:
            glb, info = loader.load(src)
        tmp = dst.with_name(dst.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(glb)
        os.replace(tmp, dst)
        msg = {"ok": True, **info}
    except AimmsError as e:
        msg = {"ok": False, "error": e.message, "hint": e.hint}
    except MemoryError:
        msg = {"ok": False, "error": f"loading needs more than the {mem_mb} MB memory limit",
               "hint": "the model is too large (or corrupt) to preview"}
    except Exception as e:     # any loader failure on a bad file is that file's error, not ours
        msg = {"ok": False, "error": f"{type(e).__name__}: {e}", "hint": None}
    sys.stdout.write("\n" + json.dumps(msg) + "\n")
    sys.stdout.flush()
    # No interpreter teardown: ufbx 0.0.5 can segfault when its objects are collected (fbx.py keeps
    # them alive for that reason), and the answer is already written.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
