"""Housekeeping reports: `unused` (media files no take or asset refers to) and `routing` (takes
whose file is missing). Read-only: they report, the user decides what to move or relink."""
from __future__ import annotations

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg


def report_command(fn):
    """`aimms NAME PATH [--json]`: a read-only report, errors as `error: …` and exit 1."""
    return cli.command()(project_arg(json_option(handle_errors(fn))))


@report_command
def unused(path, as_json):
    """List media files under media/ (and the older assets/) that no take or asset refers to."""
    from aimms_fast.ops.housekeeping import unused_files
    with open_project(path, write=False) as p:
        files = unused_files(p)
    total = sum(f["size"] for f in files)
    lines = [f"{f['size']:>12,}  {f['path']}{'  (empty)' if f['zero_byte'] else ''}" for f in files]
    lines.append(f"{len(files)} unused file(s), {total / 2**20:.1f} MB" if files else "no unused files under media/")
    emit({"files": files, "count": len(files), "total_bytes": total}, as_json, "\n".join(lines))


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
                  for m in r["missing"]]
    else:
        lines.append("every take's file is in place")
    emit(r, as_json, "\n".join(lines))
