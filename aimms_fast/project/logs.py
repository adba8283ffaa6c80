"""Project log: logs/project_log.log (AIMMS's file name for the current file), one logger per open
project, rotated by size so a project worked on for years never grows a 1 GB log
(project_log.log.1 … .5 are the older ones, the Logs page reads the current file).

Every line starts with its time in UTC (ISO 8601 with a trailing Z, the format AIMMS stores dates
in) and its level. A change to the project writes exactly one `mutation` line (`log_mutation`):
what was done, the ids it touched and the undo entry it made, so a user can tell from the log alone
what happened to a shot and when. ops/history.py's Recorder writes it for every recorded action;
Project.audit writes it for changes that keep no undo history (undo/redo themselves, project
settings, workflow PNGs, edits read back from a timeline). The line is written inside the change's
last transaction, just before its COMMIT: a COMMIT that then fails (disk full) leaves a line for a
change that did not happen, never a change without a line.

Threads: logging is thread-safe; any thread may call these. Two processes on one project (the viewer
and `aimms` in a shell) both append; rotation by one of them may make the other keep writing to the
renamed file until it reopens the project (logging's known multi-process limit; nothing is lost).
"""
from __future__ import annotations

import logging
import logging.handlers
import time
from pathlib import Path

# Rotation: 10 MiB per file, five old files kept (60 MiB at most per project).
MAX_BYTES = 10 * 2**20
BACKUPS = 5
MUTATION = "mutation"          # the word after the level on every mutation line (Logs page filter)
MAX_IDS = 20                   # ids listed per kind on one line; more are counted ("… +580")
MAX_NOTE = 600                 # characters of audit detail on one line


class UTCFormatter(logging.Formatter):
    """`2026-12-04T18:20:01.123Z INFO message`: UTC whatever the machine's time zone."""

    converter = time.gmtime

    def formatTime(self, record, datefmt=None) -> str:  # noqa: N802 (logging's name)
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"


FORMAT = "%(asctime)s %(levelname)s %(message)s"


def formatter() -> logging.Formatter:
    return UTCFormatter(FORMAT)


def rotating_handler(log_file: Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> logging.Handler:
    """A size-rotated UTF-8 file handler writing our line format (raises OSError if it cannot open)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    h = logging.handlers.RotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=backups,
                                             encoding="utf-8", delay=False)
    h.setFormatter(formatter())
    return h


def project_logger(log_file: Path, *, readonly: bool = False, max_bytes: int = MAX_BYTES,
                   backups: int = BACKUPS) -> logging.Logger:
    name = f"aimms.project.{log_file.parent.parent.resolve()}"
    log = logging.getLogger(name)
    log.setLevel(logging.INFO)
    log.propagate = False
    if not log.handlers:
        handler: logging.Handler
        try:
            if readonly:
                raise PermissionError
            _refuse_links(log_file)
            handler = rotating_handler(log_file, max_bytes=max_bytes, backups=backups)
        except OSError:
            handler = logging.NullHandler()
        log.addHandler(handler)
    return log


def _refuse_links(log_file: Path) -> None:
    """A project must not make us append to a file outside it (issue 14): logs/ or one of the log
    files planted as a symlink means no project log for this session (PermissionError)."""
    root = log_file.parent.parent
    if log_file.parent.is_symlink() or any(
            log_file.with_name(log_file.name + sfx).is_symlink() for sfx in ("", *(f".{i}" for i in range(1, BACKUPS + 1)))):
        raise PermissionError(f"{log_file}: a symlink; the project log is not written through it")
    if log_file.parent.exists() and not log_file.parent.resolve().is_relative_to(root.resolve()):
        raise PermissionError(f"{log_file.parent}: outside the project")


def close_logger(log: logging.Logger) -> None:
    for h in list(log.handlers):
        h.close()
        log.removeHandler(h)


def _ids(name: str, ids) -> str:
    ids = list(dict.fromkeys(ids or ()))
    more = f" +{len(ids) - MAX_IDS}" if len(ids) > MAX_IDS else ""
    return f"{name}=[{','.join(str(i) for i in ids[:MAX_IDS])}{more}]"


def _fold(text: str, limit: int = MAX_NOTE) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def mutation_line(action: str, *, label: str = "", entry: int | None = None, notes=(), shots=(), takes=(),
                  assets=()) -> str:
    """`mutation <action> [entry=N] | <label> [| <notes>] | shots=[..] takes=[..] assets=[..]`
    (empty parts left out; one line: whitespace is folded so a shot name cannot forge a second
    line; notes, the audit details of the change, are capped at MAX_NOTE characters)."""
    parts = [MUTATION, action.replace(" ", "_") or "change"]
    if entry is not None:
        parts.append(f"entry={entry}")
    text = " ".join(parts)
    if label:
        text += " | " + _fold(label)
    if notes:
        text += " | " + _fold("; ".join(notes))
    ids = [_ids(name, v) for name, v in (("shots", shots), ("takes", takes), ("assets", assets)) if v]
    if ids:
        text += " | " + " ".join(ids)
    return text


def changed_ids(changes: dict, shot_ids=()) -> dict:
    """shots/takes/assets ids an undo entry's row changes touch (store/history.py's Changes:
    table -> [[key, before, after]]), the action's own shot ids first."""
    shots = [*shot_ids, *(k for k, *_ in changes.get("shots", ()))]
    shots += [r.get("shot_id") for _, b, a in changes.get("takes", ()) for r in (b, a) if r and r.get("shot_id")]
    return {"shots": sorted(set(shots), key=shots.index),
            "takes": [k for k, *_ in changes.get("takes", ())],
            "assets": [k for k, *_ in changes.get("assets", ())]}


def log_mutation(log: logging.Logger | None, action: str, **kw) -> str:
    """Write one mutation line to the project log (its time is the UTC stamp at the line's start)."""
    line = mutation_line(action, **kw)
    if log is not None:
        log.info(line)
    return line


APP_LOGGER = "aimms.app"


def attach_app_log(log_file: Path) -> logging.Handler | None:
    """The app's own log (start-up, what happens with no project open, and every warning of the
    `aimms_fast` loggers): a rotated file in the user's log folder (ui/prefs.app_log_file). Once
    per process; None when the folder cannot be written (the app runs without it)."""
    app = logging.getLogger(APP_LOGGER)
    for h in app.handlers:
        if getattr(h, "baseFilename", None) == str(Path(log_file).absolute()):
            return h
    try:
        h = rotating_handler(Path(log_file), max_bytes=2 * 2**20, backups=3)
    except OSError:
        return None
    app.setLevel(logging.INFO)
    app.propagate = False
    app.addHandler(h)
    pkg = logging.getLogger("aimms_fast")
    pkg.addHandler(h)
    if pkg.level == logging.NOTSET or pkg.level > logging.WARNING:
        pkg.setLevel(logging.WARNING)
    return h


def start_app_log(log_file: Path) -> logging.Handler | None:
    """attach_app_log, then one 'started' line (version, pid) so each session is easy to find."""
    import os

    from aimms_fast import __version__
    h = attach_app_log(log_file)
    if h is not None:
        logging.getLogger(APP_LOGGER).info("aimms_fast %s started (pid %d)", __version__, os.getpid())
    return h
