"""Data-exchange and shot-list commands: import-csv, export-csv, backup, save, restore, archive,
export-starred, add-shot, edit-shot, delete-shot, reorder."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg
from aimms_fast.cli.core import _resolve_shot
from aimms_fast.store import aimms_schema as A

file_arg = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))


def _report_text(rep) -> str:
    lines = []
    for i in rep.errors:
        lines.append(f"error: {rep.path}, {i}")
    for i in rep.skipped:
        lines.append(f"left out: {rep.path}, {i}")
    for i in rep.warnings:
        lines.append(f"warning: {rep.path}, {i}")
    if rep.errors:
        lines.append(f"{len(rep.errors)} problem(s) found; nothing was imported."
                     + (f" {rep.valid_rows} row(s) have no problem: import just those with --valid-only."
                        if 0 < rep.valid_rows < rep.rows else ""))
    elif rep.dry_run:
        ok_rows = rep.rows - len(rep.skipped_lines)
        lines.append(f"{ok_rows} row(s) OK ({rep.encoding}, delimiter {rep.delimiter!r})"
                     + (f", {len(rep.skipped_lines)} left out" if rep.skipped_lines else "")
                     + "; dry run, nothing imported.")
    else:
        lines.append(f"imported {rep.imported} new shot(s)" + (f", updated {rep.updated}" if rep.updated else "")
                     + f" from {rep.path}"
                     + (f"; {len(rep.skipped_lines)} row(s) with problems left out" if rep.skipped_lines else ""))
    return "\n".join(lines)


@cli.command("import-csv")
@project_arg
@file_arg
@click.option("--dry-run", is_flag=True, help="Only check the file and report; change nothing.")
@click.option("--update", is_flag=True, help="Rows whose shot_id exists change that shot instead of adding one.")
@click.option("--ignore-unknown", is_flag=True, help="Skip unknown columns (default: they are an error).")
@click.option("--no-placeholders", is_flag=True, help="Do not give new shots AIMMS's placeholder takes.")
@click.option("--valid-only", is_flag=True,
              help="Import just the rows without problems (still one transaction); rows with problems "
                   "are listed and left out. Problems of the whole file still stop the import.")
@click.option("--map", "map_spec", metavar='auto|"Col=field,…"',
              help="Another tool's shot list: map its columns by header (auto), or name them "
                   "(\"Scene=section,Camera=notes,Status=-\"; unnamed columns keep the auto guess). "
                   "Tolerates chatter, ``` fences, Markdown tables and repeated headers; notes go to the description.")
@click.option("--preset", help="With --map: start from this saved mapping preset.")
@click.option("--save-preset", help="With --map: save the mapping used as this preset.")
@json_option
@handle_errors
def import_csv(path, file, dry_run, update, ignore_unknown, no_placeholders, valid_only, as_json,
               map_spec=None, preset=None, save_preset=None):
    """Import a shot list CSV (AIMMS columns) into the project at PATH.

    The whole file is checked first; problems are listed by line and column and then nothing is
    imported (or, with --valid-only, only the rows without problems are). A clean file is imported
    in one transaction, one step for `aimms undo`. Accepts UTF-8 (with or without BOM), UTF-16 and
    Windows-1252, delimiters , ; tab |, and headers like "Shot Name".
    """
    from aimms_fast.ops.csv_io import import_csv as do_import
    if map_spec is not None or preset or save_preset:
        from aimms_fast.cli.csv_map import import_with_map
        return import_with_map(path, file, map_spec or "auto", preset, save_preset, as_json, dry_run=dry_run,
                               update=update, placeholders=not no_placeholders, valid_only=valid_only,
                               report_text=_report_text)
    with open_project(path, write=not dry_run) as p:
        with progress_bar("importing", 1, enabled=not as_json and not dry_run) as bar:
            rep = do_import(p, file, dry_run=dry_run, update=update, ignore_unknown=ignore_unknown,
                            placeholders=not no_placeholders, progress=bar, valid_only=valid_only)
    if as_json:
        emit(rep.to_dict(), True)
    else:
        text = _report_text(rep)
        click.echo(text, err=bool(rep.errors))
    if rep.errors:
        sys.exit(1)


@cli.command("export-csv")
@project_arg
@click.option("--table", "tables", multiple=True, type=click.Choice(["shots", "takes", "assets", "audit"]),
              help="Table to export (repeatable; default all four: audit is the audit log, issue 12).")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the CSV files (default: data/csv/ in the project).")
@json_option
@handle_errors
def export_csv(path, tables, dest, as_json):
    """Export shots, takes, assets and the audit log as timestamped CSV files (UTF-8 with BOM: Excel-ready)."""
    from aimms_fast.ops.csv_io import EXPORT_TABLES, export_csv as do_export
    from aimms_fast.ops.audit_export import export_audit
    with open_project(path, write=False) as p:
        want = tables or (*EXPORT_TABLES, "audit")
        out = do_export(p, tables=[t for t in want if t != "audit"], dest_dir=dest) if set(want) - {"audit"} else []
        if "audit" in want:
            out.append(export_audit(p, dest))
    emit(out, as_json, "\n".join(f"{o['table']:<7} {o['rows']:>6} rows  {o['path']}" for o in out))


@cli.command()
@project_arg
@json_option
@handle_errors
def backup(path, as_json):
    """Back up data/shots.db to data/backup/shots_<UTC stamp>.db (safe while the app runs)."""
    from aimms_fast.ops.backup import backup_database
    with open_project(path, write=False) as p:
        with progress_bar("backing up", 1, enabled=not as_json) as bar:
            out = backup_database(p, progress=bar)
    emit({"path": str(out), "bytes": out.stat().st_size}, as_json, f"database backed up to {out}")


@cli.command()
@project_arg
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the save here (default: data/saves/<project>_<stamp>.aimms).")
@json_option
@handle_errors
def save(path, out_file, as_json):
    """Save all shot/take/asset file relationships to a .aimms file (restore with `aimms restore`)."""
    from aimms_fast.ops.backup import save_project
    with open_project(path, write=False) as p:
        out = save_project(p, out_file)
        counts = {t: p.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("shots", "takes", "assets")}
    emit({"path": str(out), **counts}, as_json,
         f"saved {counts['shots']} shots, {counts['takes']} takes, {counts['assets']} assets to {out}")


@cli.command()
@project_arg
@file_arg
@json_option
@handle_errors
def restore(path, file, as_json):
    """Rebuild the project's shot/take/asset records from a .aimms save.

    The current database is backed up to data/backup/ first. Media files are never moved or
    deleted: takes whose file is missing and media files the save does not know are listed.
    """
    from aimms_fast.ops.backup import restore_project
    with open_project(path) as p:
        rep = restore_project(p, file)
    lines = [f"restored {rep['shots']} shots, {rep['takes']} takes, {rep['assets']} assets from {file}",
             f"previous database kept as {rep['backup']}"]
    for m in rep["missing_files"]:
        lines.append(f"missing file: {m['file_path']} (take {m['take_id']}, shot {m['shot_id']})")
    if rep["unreferenced_files"]:
        lines.append(f"{len(rep['unreferenced_files'])} media file(s) are not in the save "
                     "(kept; see the Unused page):")
        lines += [f"  {f}" for f in rep["unreferenced_files"][:50]]
        if len(rep["unreferenced_files"]) > 50:
            lines.append(f"  … and {len(rep['unreferenced_files']) - 50} more (use --json for all)")
    lines += [f"warning: {w}" for w in rep["warnings"]]
    emit(rep, as_json, "\n".join(lines))


@cli.command()
@project_arg
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the zip (default: the folder that contains the project).")
@json_option
@handle_errors
def archive(path, dest, as_json):
    """Zip the whole project (without the regenerable cache) into one file."""
    from aimms_fast.ops.archive import archive_project
    with open_project(path, write=False) as p:
        with progress_bar("archiving (bytes)", 1, enabled=not as_json) as bar:
            out = archive_project(p, dest, progress=bar)
    emit(out, as_json, "\n".join([f"archived {out['files']} files ({out['bytes']:,} bytes) to {out['path']}",
                                   *(f"left out: {s}" for s in out["skipped"])]))


@cli.command("export-starred")
@project_arg
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--videos-only", is_flag=True, help="Leave out the starred reference images.")
@json_option
@handle_errors
def export_starred(path, dest, videos_only, as_json):
    """Copy each shot's starred takes to DEST as 001_ShotName.mp4 (+ .png), with a manifest CSV."""
    from aimms_fast.ops.starred import export_starred as do_export
    with open_project(path, write=False) as p:
        with progress_bar("exporting", 1, enabled=not as_json) as bar:
            out = do_export(p, dest, images=not videos_only, progress=bar)
    emit(out, as_json, f"copied {out['copied']} file(s) to {out['dest']} ({out['placeholder']} placeholder(s) "
                       f"and {out['missing']} missing file(s) listed only); manifest {out['manifest']}")


# -- shot list ------------------------------------------------------------------------------
def _parse_sets(sets: tuple[str, ...]) -> dict:
    fields = {}
    for s in sets:
        if "=" not in s:
            raise click.UsageError(f"--set needs FIELD=VALUE (got {s!r})")
        k, v = s.split("=", 1)
        k = k.strip()
        if k not in A.SHOT_FIELDS:
            raise click.UsageError(f"unknown shot field {k!r}; fields: {', '.join(A.SHOT_FIELDS)}")
        fields[k] = v if v != "" else None
    return fields


set_option = click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
                          help="Shot field to set (repeatable), e.g. --set section='Act 1'.")


@cli.command("add-shot")
@project_arg
@click.option("--name", required=True, help="Shot name.")
@set_option
@click.option("--no-placeholders", is_flag=True, help="Do not create the placeholder takes.")
@json_option
@handle_errors
def add_shot(path, name, sets, no_placeholders, as_json):
    """Add a shot (at the end unless --set order_number=N), with one placeholder take per storyboard."""
    from aimms_fast.ops.shots import add_shot as do_add, duplicate_names
    fields = _parse_sets(sets)
    fields["shot_name"] = name
    with open_project(path) as p:
        dups = duplicate_names(p.conn, name)
        sid = do_add(p, placeholders=not no_placeholders, **fields)
        from aimms_fast.store.shots import get_shot
        row = get_shot(p.conn, sid)
    if dups and not as_json:
        click.echo(f"warning: shot name '{name}' is also used by shot(s) {dups} (allowed)", err=True)
    emit({**row, "duplicate_of": dups}, as_json, f"added shot {sid} '{name}' at order {row['order_number']}")


@cli.command("edit-shot")
@project_arg
@click.argument("shots", nargs=-1, required=True)
@set_option
@json_option
@handle_errors
def edit_shot(path, shots, sets, as_json):
    """Set fields on one or many shots (SHOTS: names or ids) in one transaction."""
    from aimms_fast.ops.shots import edit_shots
    fields = _parse_sets(sets)
    if not fields:
        raise click.UsageError("give at least one --set FIELD=VALUE")
    with open_project(path) as p:
        ids = [_resolve_shot(p, s) for s in shots]
        n = edit_shots(p, ids, **fields)
    emit({"shot_ids": ids, "changed": n, "fields": fields}, as_json, f"changed {n} shot(s): {', '.join(fields)}")


@cli.command("delete-shot")
@project_arg
@click.argument("shots", nargs=-1, required=True)
@json_option
@handle_errors
def delete_shot(path, shots, as_json):
    """Delete shots (names or ids): recorded in deleted_shots, media moved to the trash (`aimms undo`)."""
    from aimms_fast.ops.shots import delete_shots
    with open_project(path) as p:
        ids = [_resolve_shot(p, s) for s in shots]
        trash_ids = delete_shots(p, ids)
    emit({"shot_ids": ids, "trash_ids": trash_ids}, as_json,
         f"deleted {len(ids)} shot(s); undo with `aimms undo` (trash ids {trash_ids})")


@cli.command()
@project_arg
@click.argument("shot")
@click.option("--to", "position", type=click.IntRange(min=1), required=True,
              help="New position in story order (1 = first).")
@json_option
@handle_errors
def reorder(path, shot, position, as_json):
    """Move SHOT (name or id) to a position; order_number is renumbered 1..N."""
    from aimms_fast.ops.shots import move_shot
    with open_project(path) as p:
        sid = _resolve_shot(p, shot)
        move_shot(p, sid, position - 1)
        order = [r[0] for r in p.conn.execute("SELECT shot_id FROM shots ORDER BY order_number, shot_id")]
    emit({"shot_id": sid, "position": order.index(sid) + 1, "order": order}, as_json,
         f"shot {sid} is now at position {order.index(sid) + 1}")

