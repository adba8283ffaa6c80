"""`aimms render-model FILE --out F.png`: render a 3D model headless (EGL), for scripts and tests.

Exit 0 with the PNG written, or exit 1 with one line naming the file and the reason (a corrupt FBX,
a missing texture buffer, no EGL on this machine). No Dear PyGui in this process, so EGL is safe here.
"""
from __future__ import annotations

import re
from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, fail, handle_errors, json_option

VIEW_CHOICES = ["iso", "front", "right", "top", "back", "left", "bottom", "three_quarter"]


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text or "")
    if not m or not (0 < int(m[1]) <= 8192 and 0 < int(m[2]) <= 8192):
        raise click.BadParameter(f"'{text}' is not WxH (e.g. 800x600, each side 1..8192)")
    return int(m[1]), int(m[2])


@cli.command("render-model")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="PNG to write.")
@click.option("--size", "size", default="800x600", show_default=True, help="Image size WxH.")
@click.option("--view", type=click.Choice(VIEW_CHOICES), default="iso", show_default=True,
              help="Camera direction (Blender's numpad: 1 front, 3 right, 7 top, 9 iso).")
@click.option("--wireframe", is_flag=True, help="Draw the triangle edges over the shading.")
@click.option("--no-grid", is_flag=True, help="Leave out the ground grid.")
@json_option
@handle_errors
def render_model_cmd(file, out, size, view, wireframe, no_grid, as_json):
    """Render FILE (.glb, .gltf, .fbx) to a PNG: lit, framed to fit, from VIEW.

    The model is parsed in a child process with time and memory limits; inside a project the
    converted model is cached in .aimms_fast_cache/models/.
    """
    w, h = _size(size)
    from aimms_fast.viewer3d.loader import load_model
    from aimms_fast.viewer3d.render import RenderSettings
    from aimms_fast.viewer3d.thumbs import find_cache_dir, render_model
    model = load_model(file, find_cache_dir(file))
    try:
        img = render_model(model, (w, h), view=view,
                           settings=RenderSettings(wireframe=wireframe, grid=not no_grid))
    except Exception as e:     # no usable GL here: one line, exit 1 (the model itself was fine)
        fail(f"{file}: could not render (no usable OpenGL 3.3 / EGL: {type(e).__name__}: {e})",
             as_json=as_json)
    from PIL import Image
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img, "RGBA").save(out)
    s = model.stats
    emit({"file": str(file), "out": str(out), "size": [w, h], "view": view, "format": s.format,
          "version": s.version, "vertices": s.vertices, "faces": s.faces, "materials": s.materials,
          "bounds_m": s.bounds, "notes": s.notes, "cached": model.from_cache},
         as_json, f"{out}: {w}x{h} {view} view of {file.name} ({s.format} {s.version}, "
                  f"{s.vertices} vertices, {s.faces} faces)")
