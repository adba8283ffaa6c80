"""Asset commands: `add-asset` (import files as characters/locations/other) and `assets` (list,
filter, search). Thin layer over ops/assets.py; exit 0 ok, 1 failure (a clear `error: …` line)."""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg
from aimms_fast.project.layout import ASSET_KINDS


def _asset_dict(p, a) -> dict:
    from aimms_fast.ops.assets import file_state, media_kind
    return {"id_key": a.id_key, "name": a.name, "type": a.kind, "file_path": a.file_path,
            "starred": a.starred, "created_date": a.created_date, "tags": a.tags, "notes": a.notes,
            "shots": a.shot_count, "extra_files": a.extra_files, "media": media_kind(a.file_path),
            "file": file_state(p, a)}


@cli.command("add-asset")
@project_arg
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--type", "kind", required=True, type=click.Choice(list(ASSET_KINDS)),
              help="Asset type: the media/<type>/ folder and AIMMS's asset_type.")
@click.option("--name", help="Asset name (one file only; default: the file name without extension).")
@click.option("--tags", help="Comma-separated tags, e.g. 'hero,act 1'.")
@click.option("--notes", default="", help="A note kept with the asset(s).")
@json_option
@handle_errors
def add_asset(path, files, kind, name, tags, notes, as_json):
    """Copy FILE... into PATH's media/<type>/ as assets (images, video, audio, .glb, .gltf with its
    .bin and textures, .fbx). One undo step (`aimms undo PATH`); all files or none."""
    from aimms_fast.ops import assets as OA
    with open_project(path) as p:
        with progress_bar("copying", len(files), enabled=not as_json and len(files) >= 20) as bar:
            ids = OA.add_assets(p, files, kind=kind, name=name, tags=tags, notes=notes, progress=bar)
        rows = [_asset_dict(p, OA.get_asset(p, i)) for i in ids]
    emit({"added": len(rows), "assets": rows}, as_json,
         "\n".join(f"added {r['type']} '{r['name']}' -> {r['file_path']}  ({r['id_key']})" for r in rows))


@cli.command("assets")
@project_arg
@click.option("--type", "kind", type=click.Choice(["all", *ASSET_KINDS]), default="all", show_default=True,
              help="Only assets of this type.")
@click.option("--search", help="Words to find in the name, file name, tags or notes (all must match).")
@click.option("--starred", is_flag=True, help="Only starred assets.")
@json_option
@handle_errors
def assets_cmd(path, kind, search, starred, as_json):
    """List PATH's assets (characters, locations, other) with file status, tags and shot count."""
    from aimms_fast.ops import assets as OA
    with open_project(path, write=False) as p:
        rows = [_asset_dict(p, a) for a in OA.list_assets(p, kind=kind, search=search, starred_only=starred)]
    lines = [f"{'type':<11}{'name':<28}{'file':<9}{'shots':>6}  path  [tags]"]
    for r in rows:
        lines.append(f"{r['type']:<11}{('★ ' if r['starred'] else '') + r['name']:<28.28}{r['file']:<9}"
                     f"{r['shots']:>6}  {r['file_path']}" + (f"  [{', '.join(r['tags'])}]" if r["tags"] else ""))
    lines.append(f"{len(rows)} asset(s)")
    emit({"assets": rows, "count": len(rows)}, as_json, "\n".join(lines))
