"""Shared CLI plumbing: opening projects, errors -> exit 1 with a clear message, JSON, progress."""
from __future__ import annotations

import datetime
import functools
import os
import sys
import tempfile
import traceback
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


def crash_log_path(project_path: Path | None) -> Path:
    """Where an unexpected error's traceback goes: the project's logs/ when it is writable (the
    user sends that folder with a bug report), else a per-user folder that is always writable."""
    if project_path is not None:
        logs = Path(project_path) / "logs"
        if logs.is_dir() and os.access(logs, os.W_OK):
            return logs / "aimms_fast_errors.log"
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "aimms_fast" / "logs"
    try:
        base.mkdir(parents=True, exist_ok=True)
        return base / "aimms_fast_errors.log"
    except OSError:
        return Path(tempfile.gettempdir()) / "aimms_fast_errors.log"


def log_unexpected(exc: BaseException, project_path: Path | None, argv: list[str] | None = None) -> Path | None:
    """Append the full traceback of `exc` to the crash log; returns its path (None if even that failed)."""
    path = crash_log_path(project_path)
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"--- {datetime.datetime.now().isoformat(timespec='seconds')} "
                    f"aimms {' '.join(argv if argv is not None else sys.argv[1:])}\n")
            f.write("".join(traceback.format_exception(exc)))
        return path
    except OSError:
        return None


def unexpected_message(exc: BaseException, log_path: Path | None) -> str:
    """One line for an error nobody anticipated: what happened, and where the traceback is."""
    what = str(exc).splitlines()[0][:300] if str(exc) else ""
    text = f"unexpected {type(exc).__name__}" + (f": {what}" if what else "")
    if log_path is not None:
        text += f" (details in {log_path}; please report it)"
    return text


def _os_message(e: OSError) -> str:
    import errno
    where = f"{e.filename}: " if e.filename else ""
    if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"{where}disk full ({e.strerror}); free some space and try again"
    if isinstance(e, PermissionError):
        return f"{where}permission denied; check the folder's permissions"
    return f"{where}{e.strerror or e}"


def handle_errors(fn):
    """AimmsError (and OS errors) become `error: …` on stderr and exit code 1, never a traceback.
    Anything else is a bug: one line on stderr, the traceback in the crash log, exit code 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        as_json = kwargs.get("as_json", False)
        try:
            return fn(*args, **kwargs)
        except AimmsError as e:
            fail(str(e), as_json=as_json, data=e.to_dict())
        except OSError as e:
            fail(_os_message(e), as_json=as_json)
        except (KeyboardInterrupt, SystemExit, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:  # noqa: BLE001 - the safety net: a bug must not print a traceback
            path = kwargs.get("path")
            log_path = log_unexpected(e, path if isinstance(path, Path) else None)
            fail(unexpected_message(e, log_path), as_json=as_json)
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
    notes = []
    if p.bad_values:
        fixed = sum(1 for b in p.bad_values if b.fix)
        notes.append(f"{len(p.bad_values)} value(s) of the wrong type in the AIMMS tables"
                     + (f", {fixed} repaired" + (" in a read-only view" if p.readonly else
                                                 " (original database in data/backup/)") if fixed else "")
                     + f"; listed in {p.layout.log_file}")
    if p.leftovers is not None and p.leftovers.removed:
        notes.append(f"removed {len(p.leftovers.removed)} temp file(s) left by a stopped aimms process")
    for n in notes:
        click.secho(f"note: {n}", fg="yellow", err=True)
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
