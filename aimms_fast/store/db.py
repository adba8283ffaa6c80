"""Opening shots.db: WAL, foreign keys, one transaction helper, online backups."""
from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils


def utc_now() -> str:
    """UTC timestamp in AIMMS's format (`2025-12-05T08:54:08Z`)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_stamp() -> str:
    """UTC timestamp safe in file names, sortable (`20251205T085408Z`)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")[:-7] + "Z"


def connect(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open a project database.

    Read-only uses a `mode=ro` URI so a second instance can never write, even by mistake.
    WAL lets the viewer read while a worker writes; busy_timeout rides out short write locks.
    """
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    return sqlite_utils.Database(conn)


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database):
    """One write transaction (BEGIN IMMEDIATE so writers queue instead of failing mid-way).

    Nested use joins the outer transaction.
    """
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


def backup_to(db: sqlite_utils.Database, dest: str | Path, progress=None) -> Path:
    """Copy the live database with SQLite's online backup API (consistent even while in use).

    Writes to a temporary name first and renames, so a half-written backup never looks complete.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    target = sqlite3.connect(str(tmp))
    try:
        def _progress(status, remaining, total):
            if progress:
                progress(total - remaining, total)
        db.conn.backup(target, pages=256, progress=_progress)
    finally:
        target.close()
    tmp.replace(dest)
    return dest
