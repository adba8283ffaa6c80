"""Project and take commands: new, info, shots, add-take, star, undo."""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg
from aimms_fast.errors import AimmsError, NotFoundError


@cli.command()
@project_arg
@click.option("--name", help="Project name (default: the folder name).")
@click.option("--author", help="Author written to the project meta.")
@click.option("--description", help="Short project description.")
@json_option
@handle_errors
def new(path, name, author, description, as_json):
    """Create an empty AIMMS 1.0 project at PATH."""
    from aimms_fast.project import Project
    with Project.create(path, name=name, author=author, description=description) as p:
        emit({"path": str(p.root), "name": p.name}, as_json, f"created project '{p.name}' at {p.root}")


@cli.command()
@project_arg
@json_option
@handle_errors
def info(path, as_json):
    """Summary of a project: meta, counts, schema, read-only state."""
    from aimms_fast.project import Project
    with Project.open(path) as p:
        from aimms_fast.store.stats import project_counts
        data = {
            "path": str(p.root), "name": p.name, "readonly": p.readonly, "readonly_reason": p.readonly_reason,
            "meta": p.meta(), **project_counts(p.conn).to_dict(),
        }
        lines = [f"{data['name']}  ({data['path']})"]
        if p.readonly:
            lines.append(f"READ-ONLY: {p.readonly_reason}")
        lines.append(f"schema {data['meta'].get('schema_version')}  author {data['meta'].get('author')}")
        lines.append(f"{data['shots']} shots in {data['sections']} sections; {data['image_takes']} image takes, "
                     f"{data['video_takes']} video takes ({data['workflow_pngs']} workflow PNGs), "
                     f"{data['placeholders']} placeholders, {data['starred_videos']} starred videos, "
                     f"{data['assets']} assets")
        emit(data, as_json, "\n".join(lines))


@cli.command()
@project_arg
@click.option("--section", help="Only shots of this section.")
@click.option("--search", help="Case-insensitive text to look for.")
@click.option("--columns", help="Comma-separated columns to search (default: names, prompts, "
                                "description, dialogue, location).")
@json_option
@handle_errors
def shots(path, section, search, columns, as_json):
    """List shots in story order."""
    from aimms_fast.store.shots import list_shots
    with open_project(path, write=False) as p:
        cols = [c.strip() for c in columns.split(",")] if columns else None
        try:
            rows = list_shots(p.conn, section=section, search=search, columns=cols)
        except ValueError as e:
            raise AimmsError(str(e), field="columns") from None
        counts = dict(p.conn.execute("SELECT shot_id, COUNT(*) FROM takes WHERE take_type IN "
                                     "('base_image','final_video') GROUP BY shot_id").fetchall())
        text = "\n".join(f"{r['order_number']:>5}  {r['shot_id']:>5}  {r['shot_name'] or '':<32} "
                         f"{r['section'] or '':<20} {counts.get(r['shot_id'], 0)} takes" for r in rows)
        emit(rows, as_json, text or "(no shots)")


def _resolve_shot(p, ref: str) -> int:
    from aimms_fast.store.shots import find_shots
    found = find_shots(p.conn, ref)
    if not found:
        raise NotFoundError(f"no shot named or numbered '{ref}'", path=p.root, field="shot",
                            hint="see `aimms shots PATH`")
    if len(found) > 1 and not ref.isdigit():
        raise AimmsError(f"{len(found)} shots are named '{ref}' (ids {[r['shot_id'] for r in found]})",
                         field="shot", hint="pass the shot id instead")
    return found[0]["shot_id"]


@cli.command("add-take")
@project_arg
@click.option("--shot", "shot_ref", required=True, help="Shot name or id.")
@click.option("--image", "images", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Image file to add as a base-image take (repeatable).")
@click.option("--video", "videos", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Video file to add as a video take (repeatable).")
@click.option("--png", "pngs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Workflow PNG for the --video of the same position (default: same-named PNG beside it).")
@click.option("--placeholders", type=int, help="Add N zero-byte placeholder takes instead of files.")
@click.option("--kind", type=click.Choice(["image", "video"]), help="Storyboard for --placeholders.")
@json_option
@handle_errors
def add_take(path, shot_ref, images, videos, pngs, placeholders, kind, as_json):
    """Add takes to a shot: files (copied in and renamed base_NN / video_NN) or placeholders."""
    from aimms_fast.ops import takes as T
    modes = sum(bool(x) for x in (images, videos, placeholders))
    if modes != 1:
        raise click.UsageError("give exactly one of --image, --video or --placeholders N --kind image|video")
    if placeholders is not None and not kind:
        raise click.UsageError("--placeholders needs --kind image|video")
    if pngs and len(pngs) > len(videos):
        raise click.UsageError("more --png than --video")
    with open_project(path) as p:
        sid = _resolve_shot(p, shot_ref)
        if placeholders:
            ids = T.add_placeholders(p, sid, placeholders, storyboard=kind)
        else:
            files = list(images or videos)
            comps = {str(v): png for v, png in zip(videos, pngs)}
            with progress_bar("copying", len(files), enabled=len(files) > 1 and not as_json) as bar:
                ids = T.add_takes(p, sid, files, storyboard="image" if images else "video",
                                  companions=comps, progress=bar)
        from aimms_fast.store.takes import get_take
        rows = [vars(get_take(p.conn, i)) for i in ids]
        emit(rows, as_json, "\n".join(f"{r['take_id']}  {r['file_path']}" for r in rows))


@cli.command()
@project_arg
@click.argument("take_id")
@click.option("--slot", type=click.IntRange(1, 3), help="Base images: reference slot 1/2/3 (first/middle/last).")
@click.option("--off", is_flag=True, help="Remove the star instead of toggling.")
@json_option
@handle_errors
def star(path, take_id, slot, off, as_json):
    """Star a take (toggle). Videos: one per shot. Base images: slots 1/2/3."""
    from aimms_fast.ops.takes import star_take
    with open_project(path) as p:
        value = star_take(p, take_id, slot=slot, on=False if off else None)
        emit({"take_id": take_id, "starred": value}, as_json,
             f"{take_id}: {'starred ' + str(value) if value else 'not starred'}")


@cli.command()
@project_arg
@click.option("--id", "trash_id", type=int, help="Trash entry to restore (default: the newest).")
@json_option
@handle_errors
def undo(path, trash_id, as_json):
    """Undo the last delete (restores the take or shot and its files from the project trash)."""
    from aimms_fast.ops.trash import undo as do_undo
    with open_project(path) as p:
        r = do_undo(p, trash_id)
        emit(r, as_json, f"restored {r['kind']} {r['label']}")
