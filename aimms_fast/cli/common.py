"""Shared CLI plumbing: opening projects, errors -> exit 1 with a clear message, JSON, progress."""
from __future__ import annotations

import functools
import sys
from contextlib import contextmanager
from pathlib import Path

import click
import orjson

from aimms_fast.errors import AimmsError


def fail(message: str, *, as_json: bool = False, data: dict | None = None) -> None:
    if as_json:
        click.echo(orjson.dumps(data or {"error": message}).decode())
    else:
        click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def handle_errors(fn):
    """AimmsError (and OS errors) become `error: …` on stderr and exit code 1, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        as_json = kwargs.get("as_json", False)
        try:
            return fn(*args, **kwargs)
        except AimmsError as e:
            fail(str(e), as_json=as_json, data=e.to_dict())
        except OSError as e:
            fail(f"{e.filename or ''}: {e.strerror or e}", as_json=as_json)
    return wrapper


def emit(data, as_json: bool, text: str | None = None) -> None:
    if as_json:
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
                                default=str).decode())
    elif text is not None:
        click.echo(text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
project_arg = click.argument("path", type=click.Path(file_okay=False, path_type=Path))


@contextmanager
def open_project(path: Path, *, write: bool = True):
    from aimms_fast.project import Project
    p = Project.open(path)
    try:
        if write and p.readonly:
            raise AimmsError(f"project is read-only: {p.readonly_reason}", path=path,
                             hint="close the other aimms instance or fix permissions")
        yield p
    finally:
        p.close()


@contextmanager
def progress_bar(label: str, total: int, *, enabled: bool = True):
    """A click progress bar on stderr; yields `update(done, total)` for ops' progress callbacks."""
    if not enabled or total <= 0:
        yield lambda done, tot: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
                           show_eta=True) as bar:
        state = {"done": 0}

        def update(done, tot):
            if tot != bar.length:
                bar.length = tot
            bar.update(max(0, done - state["done"]))
            state["done"] = done
        yield update
