"""`aimms open [PATH]` (the default command: `aimms PATH`): the desktop viewer."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import fail


def _display_problem() -> str | None:
    """Dear PyGui aborts the whole process (SIGABRT) when it cannot open a window, so say it first."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return ("no display to open a window on (DISPLAY is not set). Run it in a desktop session, "
                "or under `xvfb-run -a aimms open PATH`; `aimms demo PATH --screenshots DIR` "
                "takes screenshots without a screen")
    return None


@cli.command("open")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--readonly", is_flag=True, help="Open without changing anything (no lock taken).")
def open_cmd(path, readonly):
    """Open the project at PATH in the viewer.

    Without PATH, the last project opened (or a welcome page with New / Open / Recent).
    """
    if path is not None and not (path / "data" / "shots.db").exists():
        if not path.exists():
            fail(f"{path}: no such folder (create a project with `aimms new {path}` or `aimms demo {path}`)")
        fail(f"{path}: not an AIMMS project (data/shots.db is missing); create one with `aimms new`")
    problem = _display_problem()
    if problem:
        fail(problem)
    from aimms_fast.ui.app import run_viewer
    sys.exit(run_viewer(path, readonly=readonly))
