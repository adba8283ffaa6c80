"""Housekeeping commands: `unused` (the Unused page's lists; --trash moves the unused files to the
project trash), `relink` (find missing files in a folder and put them back), `trash` (what the
trash holds; --empty deletes exactly that), `check` (every problem with its path and kind; exit 1
when there is one) and `routing` (takes whose file is missing, per storyboard)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg


def report_command(fn):
    """`aimms NAME PATH [--json]`: a read-only report, errors as `error: …` and exit 1."""
    return cli.command()(project_arg(json_option(handle_errors(fn))))


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


@cli.command()
@project_arg
@click.option("--trash", "to_trash", is_flag=True, help="Move the listed unused files to the project trash (undoable).")
@json_option
@handle_errors
def unused(path, to_trash, as_json):
    """List what the Unused page lists: placeholder takes, unused (orphan) files, missing files,
    videos without a workflow PNG, duplicates, empty folders of deleted shots, the trash."""
    from aimms_fast.ops import cleanup
    from aimms_fast.ops.housekeeping import unused_report
    with open_project(path, write=to_trash) as p:
        with progress_bar("hashing", 1, enabled=False) as bar:
            s = unused_report(p, progress=bar)
        data = s.to_dict()
        files = [{"path": o["path"], "size": o["size"], "mtime": o["mtime"], "zero_byte": o["size"] == 0}
                 for o in s.orphans]
        total = sum(f["size"] for f in files)
        data.update(files=files, count=len(files), total_bytes=total)
        if to_trash and files:
            data["trash_id"] = cleanup.trash_orphans(p, [f["path"] for f in files])
    lines = []
    for title, items, fmt in (
            ("placeholder takes (zero bytes)", s.placeholders, lambda x: f"  shot {x['shot_id']} {x['kind']}: {x['path']}"),
            ("unused files", s.orphans, lambda x: f"  {x['size']:>12,}  {x['path']}"
             + ("  (empty)" if not x["size"] else "")
             + (f"  (shot {x['suggested_shot']}?)" if x["suggested_shot"] else "")),
            ("records whose file is missing", s.missing, lambda x: f"  {x['kind']}: {x['path']}"),
            ("paths outside the project", s.outside, lambda x: f"  {x['kind']}: {x['path']}"),
            ("videos without a workflow PNG", s.no_png, lambda x: f"  {x['path']}: {x['reason']}"),
            ("duplicates", s.duplicates, lambda x: f"  [{x['group']}] {x['size']:>12,}  {x['path']}"),
            ("empty folders of deleted shots", s.empty_folders, lambda x: f"  {x['path']}"),
            ("trash", s.trash, lambda x: f"  {x['size']:>12,}  {x['path']}  ({x['age_s'] / 86400:.1f} days)")):
        if items:
            lines.append(f"{len(items)} {title}:")
            lines += [fmt(x) for x in items]
    lines.append(f"{len(files)} unused file(s), {_mb(total)}" if files else "no unused files under media/")
    if to_trash and files:
        lines.append(f"moved {len(files)} unused file(s) to the trash (undo: aimms undo {path})")
    emit(data, as_json, "\n".join(lines))


@cli.command()
@project_arg
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only say what would be put back.")
@json_option
@handle_errors
def relink(path, folder, dry_run, as_json):
    """Find files whose records point at nothing in FOLDER (by content, then by name and size)
    and put them back where the records expect them (moved from inside the project, copied from
    outside). One undo step."""
    from aimms_fast.ops.relink import relink as do_relink
    with open_project(path, write=not dry_run) as p:
        r = do_relink(p, folder, dry_run=dry_run)
    verb = "would put back" if dry_run else "put back"
    lines = [f"  {m.path} <- {m.found} ({m.by})" for m in r.matches]
    lines.append(f"{verb} {len(r.matches)} file(s)" + (f"; {len(r.unmatched)} not found: " + ", ".join(r.unmatched)
                                                       if r.unmatched else ""))
    emit(r.to_dict(), as_json, "\n".join(lines))


@cli.command()
@project_arg
@click.option("--empty", is_flag=True, help="Delete what the trash holds, for good (those steps can no longer be undone).")
@json_option
@handle_errors
def trash(path, empty, as_json):
    """List the project trash (data/trash/) with age and size; --empty deletes exactly that."""
    from aimms_fast.ops import cleanup
    from aimms_fast.ops.housekeeping import gather, trash_contents
    with open_project(path, write=empty) as p:
        items = trash_contents(gather(p))
        data = {"entries": items, "count": len(items), "total_bytes": sum(i["size"] for i in items)}
        if empty and items:
            e = cleanup.empty_trash(p, [i["path"] for i in items])
            data.update(emptied=e.removed, freed_bytes=e.freed, files=e.files)
    lines = [f"{i['size']:>12,}  {i['files']:>5} file(s)  {i['age_s'] / 86400:6.1f} days  {i['path']}  {i['label']}"
             for i in items]
    lines.append(f"{len(items)} trash entr{'y' if len(items) == 1 else 'ies'}, {_mb(data['total_bytes'])}"
                 if items else "the trash is empty")
    if empty and items:
        lines.append(f"emptied: freed {_mb(data['freed_bytes'])} in {data['files']} file(s)")
    emit(data, as_json, "\n".join(lines))


@cli.command()
@project_arg
@json_option
@handle_errors
def check(path, as_json):
    """Check the project: every problem with its kind and path (missing, outside, orphan, no_png,
    empty_folder). Exit 0 when healthy, 1 when a problem was found."""
    from aimms_fast.ops.check import check as run_check
    t0 = time.perf_counter()
    with open_project(path, write=False) as p:
        r = run_check(p)
    data = r.to_dict()
    data["seconds"] = round(time.perf_counter() - t0, 3)
    lines = [f"{x.kind:<13} {x.path or '(no path)'}" + (f"  ({x.detail})" if x.detail else "") for x in r.problems]
    lines.append(r.summary())
    emit(data, as_json, "\n".join(lines))
    sys.exit(0 if r.healthy else 1)


@report_command
def routing(path, as_json):
    """Check every take's file: counts per storyboard and the takes whose file is missing."""
    from aimms_fast.ops.housekeeping import routing_health
    with open_project(path, write=False) as p:
        n = p.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0]
        with progress_bar("checking", n, enabled=not as_json and n >= 2000) as bar:
            r = routing_health(p, bar)
    lines = [f"{'storyboard':<14}{'takes':>8}{'missing':>9}{'placeholders':>14}"]
    lines += [f"{k:<14}{c['takes']:>8}{c['missing']:>9}{c['placeholders']:>14}" for k, c in sorted(r["counts"].items())]
    if r["missing"]:
        lines.append(f"\n{len(r['missing'])} take(s) point at a missing file:")
        lines += [f"  shot {m['shot_id']} {m['shot_name']!r} {m['kind']}: {m['path'] or '(no path)'}"
                  + (f"  (outside the project: {m['outside']})" if m.get("outside") else "")
                  for m in r["missing"]]
    else:
        lines.append("every take's file is in place")
    emit(r, as_json, "\n".join(lines))
