"""Model thumbnails: a lit, framed three-quarter view rendered headless (EGL).

`model_thumbnail(path, size)` is what the thumbnail pool's workers call for .glb/.gltf/.fbx (through
media/posters.extract_tiles -> `model_tiles`), and what `aimms render-model` uses. The model is
loaded through loader.load_model (child process + GLB cache); the GL context is one EGL context per
thread, made on first use and kept (≈30 ms to create, then a few ms per picture under llvmpipe).

Threads: any thread EXCEPT the one running Dear PyGui (EGL next to Dear PyGui's GLX on one thread
breaks both: DESIGN.md). The pool's workers are separate processes, the CLI has no Dear PyGui.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from aimms_fast.errors import MediaError

THUMB_VIEW = "three_quarter"
_local = threading.local()


def find_cache_dir(path: Path) -> Path | None:
    """The project cache folder of a file inside a project (media/characters/x.glb -> <root>/
    .aimms_fast_cache), or None outside a project."""
    from aimms_fast.project.layout import Layout
    for parent in Path(path).resolve().parents:
        lay = Layout(parent)
        if lay.db.is_file():
            return lay.cache
    return None


def _renderer():
    r = getattr(_local, "renderer", None)
    if r is None:
        from aimms_fast.viewer3d.render import Renderer, standalone_context
        r = _local.renderer = Renderer(standalone_context())
    return r


def render_model(model, size: tuple[int, int], *, view: str = THUMB_VIEW, settings=None) -> np.ndarray:
    """(h, w, 4) uint8 RGBA picture of a loaded Model, framed from `view`. EGL, this thread."""
    from aimms_fast.viewer3d.render import Camera
    w, h = int(size[0]), int(size[1])
    r = _renderer()
    r.set_model(model)
    try:
        cam = Camera()
        cam.view(view)
        cam.fit(model.bounds, aspect=w / h)
        return r.render(cam, (w, h), settings=settings)
    finally:
        r.set_model(None)


def model_thumbnail(path: str | Path, size: tuple[int, int] = (256, 144), *,
                    cache_dir: str | Path | None = "auto", view: str = THUMB_VIEW) -> np.ndarray:
    """Load (child process, cached) and render one model file. Raises MediaError for a bad file.
    cache_dir "auto": the project's cache when the file is inside a project, else none."""
    path = Path(path)
    if cache_dir == "auto":
        cache_dir = find_cache_dir(path)
    from aimms_fast.viewer3d.loader import load_model
    return render_model(load_model(path, cache_dir), size, view=view)


def model_tiles(path: Path, poster_size: tuple[int, int]):
    """A posters.Thumbs for a model file (the pool's per-file entry; never raises for bad input)."""
    from aimms_fast.media.posters import Thumbs
    t0 = time.perf_counter()
    try:
        img = model_thumbnail(path, poster_size)
        pw, ph = poster_size
        th = Thumbs("ready", kind="model", strategy="model", source_size=(pw, ph), poster=img,
                    poster_rect=(0, 0, pw, ph), frame_count=1)
    except MediaError as e:
        th = Thumbs("failed", e.message + (f" ({e.hint})" if e.hint else ""))
    except Exception as e:     # a GL failure in this worker: that file fails, the worker lives on
        th = Thumbs("failed", f"could not render the model: {type(e).__name__}: {e}")
    th.build_ms = (time.perf_counter() - t0) * 1000
    return th
