"""Opening shots.db: WAL, foreign keys, one transaction helper, online backups."""
from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from aimms_fast.errors import AimmsError


def utc_now() -> str:
    """UTC timestamp in AIMMS's format (`2025-12-05T08:54:08Z`)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_stamp() -> str:
    """UTC timestamp safe in file names, sortable (`20251205T085408Z`)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")[:-7] + "Z"


def connect(path: str | Path, *, readonly: bool = False, owned: bool = True) -> sqlite_utils.Database:
    """Open a project database.

    Read-only uses a `mode=ro` URI so a second instance can never write, even by mistake.
    WAL lets the viewer read while a worker writes; busy_timeout rides out short write locks.
    The connection belongs to the calling thread (`owned`), or, with owned=False, to the first
    thread that opens a transaction on it: `transaction()` refuses every other thread.
    """
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as e:
            # A WAL database in a folder we cannot write: SQLite cannot create shots.db-shm and
            # refuses even to read. With no -wal file the main file is complete on its own, so it
            # is read as immutable (no locking; the folder is not writable, so no one of our
            # kind is writing it).
            wal = path.with_name(path.name + "-wal")
            if "readonly" not in str(e) and "unable to open" not in str(e) or wal.exists():
                raise
            conn.close()
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    db = sqlite_utils.Database(conn)
    db._aimms_owner = threading.get_ident() if owned else None
    return db


def owner_thread(db) -> int | None:
    return getattr(db, "_aimms_owner", None)


def set_owner(db, thread_ident: int | None = None) -> None:
    """Hand a connection to another thread (default: the calling one) — only while no thread is
    using it, e.g. a job project opened on the UI thread and then run on a worker."""
    db._aimms_owner = threading.get_ident() if thread_ident is None else thread_ident


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database):
    """One write transaction (BEGIN IMMEDIATE so writers queue instead of failing mid-way).

    Nested use joins the outer transaction. Only the thread that owns the connection may use it
    (see connect): a worker thread must not join, commit or roll back what the UI thread has open,
    so it gets an AimmsError pointing at Project.for_job().
    """
    me = threading.get_ident()
    owner = getattr(db, "_aimms_owner", None)
    if owner is None:
        db._aimms_owner = owner = me
    if owner != me:
        raise AimmsError("this project connection belongs to another thread; a background job must "
                         "use its own connection", hint="run the job on Project.for_job()")
    conn = db.conn
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def backup_to(db: sqlite_utils.Database, dest: str | Path, progress=None, cancel=None) -> Path:
    """Copy the live database with SQLite's online backup API (consistent even while in use).

    Writes to a temporary name first and renames, so a half-written backup never looks complete.
    `cancel` (threading.Event) is checked every 256 pages; a cancelled copy leaves nothing behind.
    """
    from aimms_fast.errors import check_cancel
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # The pid in the name lets an open tell a killed backup's leftover from a running one.
    tmp = partial_name(dest)
    target = sqlite3.connect(str(tmp))
    stopped: list[BaseException] = []
    try:
        def _progress(status, remaining, total):
            if progress:
                progress(total - remaining, total)
            try:
                check_cancel(cancel, "database backup")
            except BaseException as e:
                stopped.append(e)
                raise
        try:
            db.conn.backup(target, pages=256, progress=_progress)
        except BaseException:
            if stopped:
                raise stopped[0] from None
            raise
    except sqlite3.OperationalError as e:
        target.close()
        tmp.unlink(missing_ok=True)
        if write_failed(e):  # SQLite says "database or disk is full"/"disk I/O error": an OSError to callers
            raise OSError(errno.ENOSPC, "No space left on device (or file too large)", str(dest)) from e
        raise
    except BaseException:
        target.close()
        tmp.unlink(missing_ok=True)
        raise
    target.close()
    tmp.replace(dest)
    return dest


def partial_name(dest: Path) -> Path:
    """`<dest>.<pid>.partial`: the temp name every whole-file write of ours uses before its rename."""
    return dest.with_name(f"{dest.name}.{os.getpid()}.partial")


def write_failed(e: sqlite3.Error) -> bool:
    name = getattr(e, "sqlite_errorname", "") or ""
    return name in ("SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_IOERR_TRUNCATE",
                    "SQLITE_IOERR") \
        or "disk is full" in str(e) or "disk I/O error" in str(e)
