"""`aimms` command line: a thin layer over ops/ (every command documented; --json where it reports).

Exit codes: 0 ok, 1 failure, 2 bad usage. `aimms PATH` is `aimms open PATH`.
Command groups live one module each in this package and register themselves on `cli`.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys

import click
from click_default_group import DefaultGroup

from aimms_fast import __version__

# Modules that add commands (each owns its commands; missing ones are simply not there yet).
COMMAND_MODULES = ["core", "data", "media", "cache", "viewer", "demo", "housekeeping", "export",
                   "assets",  # add-asset, assets (issue 8)
                   "models",  # render-model (issue 8)
                   "comfy",  # queue, jobs, watch, inbox (issue 11)
                   "script",  # import-script, audit (issue 12)
                   "approvals",  # approve, lock, approvals (issue 12)
                   "characters",  # characters, character, breakdown (issue 12)
                   ]


@click.group(cls=DefaultGroup, default="open", default_if_no_args=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aimms")
def cli():
    """aimms_fast: storyboards for AI filmmakers, in the AIMMS 1.0 project format.

    `aimms PATH` opens the project at PATH in the viewer.
    """


def _load() -> None:
    for name in COMMAND_MODULES:
        mod = f"aimms_fast.cli.{name}"
        if importlib.util.find_spec(mod) is not None:
            importlib.import_module(mod)


_load()


def main(argv=None) -> None:
    try:
        cli.main(args=argv, prog_name="aimms", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("interrupted", err=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - safety net (issue 14): one line, traceback in the log
        from aimms_fast.cli.common import log_unexpected, unexpected_message
        click.secho(f"error: {unexpected_message(e, log_unexpected(e, None, argv))}", fg="red", err=True)
        sys.exit(1)
