"""One loader for every 3D format: `load_model(path, cache_dir)` -> `Model`.

Like trimesh's loader registry, each format is one module (gltf.py, fbx.py) with `load(path) ->
(glb_bytes, info)`. Those run only in a child process (child.py) with a time limit and an
address-space limit, because the parsers meet untrusted files and ufbx 0.0.5 can segfault
(DESIGN.md): a crash, hang or runaway allocation costs that one file a `MediaError`, never the
caller. The child's normalised GLB is cached by content hash (cache.py); the next open reads the
cached GLB in-process with trimesh (milliseconds) instead of spawning (≈0.5-1 s: interpreter start
plus importing trimesh/ufbx dominates; tools/bench/models.py measures it).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aimms_fast.errors import MediaError
from aimms_fast.viewer3d.cache import ModelCache, content_key
from aimms_fast.viewer3d.model import Model, model_from_glb

FORMATS = {".glb": "aimms_fast.viewer3d.gltf", ".gltf": "aimms_fast.viewer3d.gltf",
           ".fbx": "aimms_fast.viewer3d.fbx"}
MODEL_EXTS = frozenset(FORMATS)   # == aimms_fast.viewer3d.MODEL_EXTS (checked by a test)
TIME_LIMIT = 60.0          # seconds per load; the realdata files take < 1.5 s cold
MEMORY_MB = 4096           # address space of the loader child (trimesh + numpy need ~1 GB of it idle)


def is_model(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MODEL_EXTS


def _check(path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise MediaError(f"'{path.suffix or path.name}' is not a 3D format this viewer reads", path=path,
                         hint="use .glb, .gltf or .fbx")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError("file not found", path=path) from None
    except OSError as e:
        raise MediaError(f"cannot read the file: {e.strerror or e}", path=path) from None
    if size == 0:
        raise MediaError("zero-byte file (a placeholder, no model yet)", path=path)


def _child_env() -> dict:
    import aimms_fast
    env = dict(os.environ)
    root = str(Path(aimms_fast.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # One BLAS/OpenMP thread: each reserves address space that would eat into RLIMIT_AS for nothing.
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = "1"
    return env


def run_child(path: Path, out: Path, *, time_limit: float = TIME_LIMIT, memory_mb: int = MEMORY_MB) -> dict:
    """Load `path` in a child process that writes the GLB to `out`; returns the loader's info.
    Raises MediaError for a bad file, a crash, a timeout or the memory limit. Any thread.
    An FBX whose loader crashes is tried once more without its animation (ufbx's evaluation is the
    riskiest part of 0.0.5), so a model that has a readable mesh still shows it."""
    try:
        return _run_child(path, out, time_limit=time_limit, memory_mb=memory_mb, static=False)
    except _Crashed as e:
        if path.suffix.lower() != ".fbx":
            raise e.error from None
        try:
            info = _run_child(path, out, time_limit=time_limit, memory_mb=memory_mb, static=True)
        except _Crashed as e2:
            raise e2.error from None
        info.setdefault("notes", []).append(f"its animation was left out: {e.error.message}")
        return info


class _Crashed(Exception):
    def __init__(self, error: MediaError):
        self.error = error


def _run_child(path: Path, out: Path, *, time_limit: float, memory_mb: int, static: bool) -> dict:
    env = _child_env()
    if static:
        env["AIMMS_MODEL_STATIC"] = "1"
    cmd = [sys.executable, "-m", "aimms_fast.viewer3d.child", str(path), str(out), str(int(memory_mb)),
           str(float(time_limit))]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=time_limit, env=env,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MediaError(f"loading took longer than {time_limit:g} s and was stopped", path=path,
                         hint="the file is very large or makes the loader hang") from None
    line = r.stdout.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    try:
        msg = json.loads(line[0])
    except ValueError:
        msg = None
    if r.returncode != 0 or msg is None:
        code = r.returncode
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        tail = r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        if "MemoryError" in tail[0] or code == -9:
            raise MediaError(f"the loader ran out of memory ({memory_mb} MB limit, {how})", path=path,
                             hint="the model is too large or corrupt")
        raise _Crashed(MediaError(f"the loader crashed on this file ({how}{': ' + tail[0] if tail[0] else ''})",
                                  path=path, hint="the file is probably corrupt; re-export it"))
    if not msg.get("ok"):
        raise MediaError(msg.get("error") or "cannot load the model", path=path, hint=msg.get("hint"))
    return {k: v for k, v in msg.items() if k != "ok"}


def load_glb(path: str | Path, cache_dir: str | Path | None = None, *, time_limit: float = TIME_LIMIT,
             memory_mb: int = MEMORY_MB) -> tuple[bytes, dict, bool]:
    """(normalised GLB, info, from_cache). With a cache_dir the GLB is cached by content hash;
    without one every call loads in a child. Any thread (no GL, no UI)."""
    path = Path(path)
    _check(path)
    if cache_dir is not None:
        cache = ModelCache(Path(cache_dir))
        key = content_key(path)
        hit = cache.get(key)
        if hit is not None:
            return hit[0], hit[1], True
        cache.folder.mkdir(parents=True, exist_ok=True)
        out = cache.folder / f"{key}.{os.getpid()}.{time.monotonic_ns()}.part"
        try:
            info = run_child(path, out, time_limit=time_limit, memory_mb=memory_mb)
            glb_path = cache.put_file(key, out, info)
            return glb_path.read_bytes(), info, False
        finally:
            out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="aimms-model-") as tmp:
        out = Path(tmp) / "model.glb"
        info = run_child(path, out, time_limit=time_limit, memory_mb=memory_mb)
        return out.read_bytes(), info, False


def load_model(path: str | Path, cache_dir: str | Path | None = None, *, time_limit: float = TIME_LIMIT,
               memory_mb: int = MEMORY_MB) -> Model:
    """Load any supported model file as a `Model` (see the module doc). Raises `MediaError` naming
    the file and the reason; never crashes the caller. Any thread (no GL, no UI)."""
    t0 = time.perf_counter()
    path = Path(path)
    glb, info, cached = load_glb(path, cache_dir, time_limit=time_limit, memory_mb=memory_mb)
    try:
        model = model_from_glb(glb, source=str(path), fmt=info.get("format", "GLB"),
                               version=str(info.get("version", "")), skinned=bool(info.get("skinned")),
                               notes=info.get("notes"), skin=info.get("skin"))
    except MediaError as e:
        raise MediaError(e.message, path=path, hint=e.hint) from None
    except Exception as e:        # our own GLB should always read back; say so if it does not
        raise MediaError(f"the converted model does not read back: {type(e).__name__}: {e}", path=path,
                         hint="delete .aimms_fast_cache/models and try again") from None
    model.from_cache = cached
    model.load_ms = (time.perf_counter() - t0) * 1000
    return model
