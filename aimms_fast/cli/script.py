"""Script and audit commands (issue 12): `import-script` (Fountain -> shots, re-import as a diff) and
`audit` (the audit log). Thin layer over ops/script.py and store/audit.py; exit 0 ok, 1 failure."""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, project_arg


@cli.command("import-script")
@project_arg
@click.argument("script", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added / changed / removed; change nothing.")
@click.option("--granularity", type=click.Choice(["beat", "scene"]), default="beat", show_default=True,
              help="beat: each scene heading a section, each action or dialogue block a shot; scene: one shot per scene.")
@json_option
@handle_errors
def import_script_cmd(path, script, dry_run, granularity, as_json):
    """Make shots from a Fountain screenplay SCRIPT. Run again on an edited script: shots of matched
    scenes keep their takes, changed ones are updated, removed ones deleted (undo with `aimms undo`)."""
    from aimms_fast.ops import script as OS
    with open_project(path, write=not dry_run) as p:
        d = OS.import_script(p, script, granularity=granularity, dry_run=dry_run)
    out = d.as_dict() | {"dry_run": dry_run}
    lines = [f"{d.script.title or script.name}: {len(d.script.scenes)} scene(s), "
             f"{len(d.script.speakers)} speaking character(s)"]
    for a in d.added:
        lines.append(f"  + {a.fields['shot_name']:<12} {a.fields['description'][:70]!r}")
    for sid, c in d.changed:
        lines.append(f"  ~ {c.fields['shot_name']:<12} (shot {sid}) {c.fields['description'][:60]!r}")
    for sid, key in d.removed:
        lines.append(f"  - shot {sid} ({key})")
    lines.append(("would be: " if dry_run else "") + d.summary())
    emit(out, as_json, "\n".join(lines))


@cli.command("audit")
@project_arg
@click.option("--since", help="Only rows at or after this UTC time (e.g. 2026-12-04 or 2026-12-04T18:00).")
@click.option("--action", help="Only actions containing this text (e.g. star, import_script).")
@click.option("--limit", type=int, default=200, show_default=True, help="At most this many rows (newest first).")
@json_option
@handle_errors
def audit_cmd(path, since, action, limit, as_json):
    """The project's audit log, newest first: when (UTC), who, what, ids and before -> after."""
    from aimms_fast.store import audit as A
    with open_project(path, write=False) as p:
        rows = A.rows(p.conn, since=since, action=action, limit=limit)
    data = [r.__dict__ for r in rows]
    lines = []
    for r in rows:
        ch = "; ".join(f"{c['table']} {c['key']} {c['field']}: {c['before']!r} -> {c['after']!r}"
                       for c in r.changes[:3])
        lines.append(f"{r.at}  {r.who or '-':<12.12} {r.action:<22.22} {r.detail[:60]}" + (f"  [{ch}]" if ch else ""))
    lines.append(f"{len(rows)} row(s)")
    emit({"audit": data, "count": len(rows)}, as_json, "\n".join(lines))
