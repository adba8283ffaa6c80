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
    """Star a take (toggle, like S in the viewer). Videos: one per shot. Base images: slots 1/2/3.

    Toggling a starred take unstars it; an unstarred image takes --slot, else the slot it had last,
    else the lowest free one. Each change is one step for `aimms undo`.
    """
    from aimms_fast.ops.takes import star_take, toggle_star
    with open_project(path) as p:
        if off:
            value = star_take(p, take_id, on=False)
            label = f"{take_id}: not starred"
        else:
            r = toggle_star(p, take_id, slot=slot)
            value, label = r.starred, r.label
        emit({"take_id": take_id, "starred": value, "label": label}, as_json, label)


def _entry_json(p, e) -> dict:
    from aimms_fast.ops import history
    return {"done": None if e is None else {"id": e.id, "label": e.label, "what": e.what, "shot_ids": e.shot_ids},
            "next_undo": history.peek_undo(p), "next_redo": history.peek_redo(p)}


@cli.command()
@project_arg
@click.option("--id", "trash_id", type=int,
              help="Instead: restore this entry of the project trash (see the Trash page); that is itself a step.")
@json_option
@handle_errors
def undo(path, trash_id, as_json):
    """Undo the last change (star, edit, reorder, delete, replace, add takes, CSV import, restore...).

    Rows and files come back exactly as they were (files never deleted: undone additions wait in
    data/trash/history/). Nothing to undo prints so and exits 0; a change that cannot be undone
    exactly (the project was changed by another program since) exits 1 and changes nothing.
    `aimms redo PATH` redoes it, until a new change is made.
    """
    from aimms_fast.ops import history
    with open_project(path) as p:
        if trash_id is not None:
            from aimms_fast.ops.trash import undo as restore_trash
            r = restore_trash(p, trash_id)
            emit(r, as_json, f"restored {r['kind']} {r['label']}")
            return
        e = history.undo(p)
        emit(_entry_json(p, e), as_json, "nothing to undo" if e is None else f"undone: {e.label}")


@cli.command()
@project_arg
@json_option
@handle_errors
def redo(path, as_json):
    """Redo the change `aimms undo` undid last (exits 0 with "nothing to redo" when there is none)."""
    from aimms_fast.ops import history
    with open_project(path) as p:
        e = history.redo(p)
        emit(_entry_json(p, e), as_json, "nothing to redo" if e is None else f"redone: {e.label}")


@cli.command()
@project_arg
@click.argument("take_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              help="Workflow PNG of the new video (default: the same-named PNG beside it, else one "
                   "regenerated from the video).")
@json_option
@handle_errors
def replace(path, take_id, file, png, as_json):
    """Replace a take's file with FILE, keeping its id, number, star, notes and rating.

    A video keeps its workflow PNG pair whole; the old file and its old PNG are kept in
    data/backup/replaced/. One step for `aimms undo`.
    """
    from aimms_fast.ops.takes import replace_take
    from aimms_fast.store.takes import get_take
    with open_project(path) as p:
        replace_take(p, take_id, file, companion=png)
        t = get_take(p.conn, take_id)
        emit(vars(t), as_json, f"{t.take_id}  {t.file_path}" + (f"  (+ {t.companion_path})" if t.companion_path else ""))
