"""`aimms import-csv PATH FILE --map auto|"Col=field,…"` (issue 12, item 1): the mapped import's
CLI side, called by cli/data.py's import-csv. Prints the mapping (every column and where it went,
every line left out and why) before csv_io's own report; presets live in the user's config
folder (ui/prefs.config_dir, no Dear PyGui there)."""
from __future__ import annotations

import sys

import click

from aimms_fast.cli.common import emit, fail, open_project, progress_bar


def import_with_map(path, file, spec: str, preset: str | None, save_preset: str | None, as_json: bool, *,
                    dry_run: bool, update: bool, placeholders: bool, valid_only: bool, report_text) -> None:
    from aimms_fast.ops.csv_map import import_mapped, load_presets, plan_mapping, save_preset as store
    from aimms_fast.ui.prefs import config_dir
    presets = load_presets(config_dir())
    if preset and preset not in presets:
        fail(f"no mapping preset named '{preset}'"
             + (f"; saved presets: {', '.join(sorted(presets))}" if presets else " (none saved yet)"),
             as_json=as_json)
    plan = plan_mapping(file, spec, preset=presets.get(preset) if preset else None, preset_name=preset)
    if save_preset and plan.ok:
        store(config_dir(), save_preset, plan)
    with open_project(path, write=not dry_run) as p:
        with progress_bar("importing", 1, enabled=not as_json and not dry_run) as bar:
            res = import_mapped(p, file, plan, dry_run=dry_run, update=update, placeholders=placeholders,
                                progress=bar, valid_only=valid_only)
    if as_json:
        emit(res.to_dict(), True)
    else:
        click.echo("\n".join(["mapping:", *plan.report_lines()[:-len(plan.problems) or None]]))
        if save_preset and plan.ok:
            click.echo(f"saved as preset '{save_preset}'")
        click.echo(report_text(res.report), err=bool(res.report.errors))
    if res.report.errors:
        sys.exit(1)
