"""Character and breakdown commands (issue 12): `characters` (list, --detect from the script),
`character` (rename, merge, add a version with reference images, roll back, edit shots) and
`breakdown` (per-scene report, CSV/HTML, generation order). Thin layer over ops/characters.py and
ops/breakdown.py; exit 0 ok, 1 failure."""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, project_arg


def _char_dict(ch) -> dict:
    return {"id_key": ch.id_key, "name": ch.name, "aliases": ch.aliases, "file_path": ch.file_path,
            "active_version": ch.active.number if ch.active else None, "shots": ch.shot_ids,
            "versions": [v.__dict__ for v in ch.versions]}


@cli.command("characters")
@project_arg
@click.option("--detect", is_flag=True, help="First make a character for each speaking name in the imported script.")
@json_option
@handle_errors
def characters_cmd(path, detect, as_json):
    """List PATH's characters (AIMMS assets of type characters) with versions and shots."""
    from aimms_fast.ops import characters as OC
    with open_project(path, write=detect) as p:
        new = OC.detect(p) if detect else []
        rows = [_char_dict(c) for c in OC.list_characters(p)]
    lines = [f"new: {', '.join(new)}"] if new else []
    for r in rows:
        v = r["versions"][-1] if r["versions"] else None
        lines.append(f"{r['name']:<20} {len(r['shots']):>3} shot(s)  "
                     + (f"v{r['active_version']} ({next(x['stage'] for x in r['versions'] if x['number'] == r['active_version'])})"
                        if r["active_version"] else "no version") + (f", {len(r['versions'])} version(s)" if v else ""))
    lines.append(f"{len(rows)} character(s)")
    emit({"created": new, "characters": rows}, as_json, "\n".join(lines))


@cli.command("character")
@project_arg
@click.argument("name")
@click.option("--rename", "new_name", help="New name (the old one stays as an alias).")
@click.option("--merge", "merge", multiple=True, help="Fold this character into NAME (repeatable).")
@click.option("--version", "stage", type=click.Choice(["concept", "casting", "final", "alternate"]),
              help="Add a version at this stage (with --front/--side/--back, --look, --prompt, --lora).")
@click.option("--front", type=click.Path(dir_okay=False, path_type=Path), help="Front reference image (with --version).")
@click.option("--side", type=click.Path(dir_okay=False, path_type=Path), help="Side reference image (with --version).")
@click.option("--back", type=click.Path(dir_okay=False, path_type=Path), help="Back reference image (with --version).")
@click.option("--look", default="", help="Look description.")
@click.option("--prompt", default="", help="Prompt fragment for generations.")
@click.option("--lora", multiple=True, help="LoRA name (repeatable).")
@click.option("--rollback", type=int, help="Make this version number the active one again.")
@json_option
@handle_errors
def character_cmd(path, name, new_name, merge, stage, front, side, back, look, prompt, lora, rollback, as_json):
    """Change character NAME: rename, merge others into it, add a version, or roll back."""
    from aimms_fast.ops import characters as OC
    with open_project(path) as p:
        if merge:
            OC.merge(p, name, list(merge))
        if stage:
            imgs = {k: v for k, v in (("front", front), ("side", side), ("back", back)) if v}
            OC.add_version(p, name, stage, look=look, prompt=prompt, loras=lora, images=imgs)
        if rollback is not None:
            OC.rollback(p, name, rollback)
        if new_name:
            OC.rename(p, name, new_name)
            name = new_name
        ch = _char_dict(OC.get_character(p, name))
    emit(ch, as_json, f"{ch['name']}: active version {ch['active_version']}, {len(ch['versions'])} version(s), "
                      f"{len(ch['shots'])} shot(s), aliases {', '.join(ch['aliases']) or '-'}")


@cli.command("breakdown")
@project_arg
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write this CSV.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write this HTML page.")
@json_option
@handle_errors
def breakdown_cmd(path, csv_path, html_path, as_json):
    """Per-scene breakdown of the imported script (cast, location, time of day, estimated screen time,
    shots and coverage) and the generation order grouped by location and character."""
    from aimms_fast.ops import breakdown as B
    with open_project(path, write=False) as p:
        scenes = B.breakdown(p)
        groups = B.generation_order(p, scenes)
        if csv_path:
            B.write_csv(p, csv_path)
        if html_path:
            B.write_html(p, html_path)
    lines = [f"{'#':>3} {'heading':<34} {'time':>6} {'shots':>5} {'img':>4} {'vid':>4}  cast"]
    for s in scenes:
        cast = ", ".join(s.speaking) + (f" (+ {', '.join(s.mentioned)})" if s.mentioned else "")
        lines.append(f"{s.index:>3} {s.heading[:34]:<34} {s.est_seconds:>5.0f}s {s.shots:>5} {s.with_image:>4} "
                     f"{s.with_video:>4}  {cast}")
    lines.append("generation order:")
    lines += [f"  {g.location} / {g.character or '-'}: scenes {', '.join(map(str, g.scenes))}" for g in groups]
    emit({"scenes": [s.__dict__ for s in scenes], "generation_order": [g.__dict__ for g in groups]}, as_json,
         "\n".join(lines))
