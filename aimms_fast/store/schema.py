"""Creating and upgrading the AIMMS side of shots.db, then our own fast_* migrations.

A new database gets `shots` in AIMMS 1.2's column order (aimms_schema.SHOTS_12_SQL); a 1.0/1.1
database keeps its table and gets the 1.2 columns appended (ALTER TABLE), as AIMMS upgrades it."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aimms_fast import AIMMS_APP_VERSION
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import migrations
from aimms_fast.store.db import utc_now


@dataclass
class SchemaReport:
    created: bool = False
    added_columns: list[str] = field(default_factory=list)
    added_tables: list[str] = field(default_factory=list)
    added_indexes: list[str] = field(default_factory=list)
    fast_migrations: list[int] = field(default_factory=list)
    backup: Path | None = None


def _tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")]


def pending_aimms_changes(conn: sqlite3.Connection) -> tuple[list[str], list[str], list[str]]:
    """(missing tables, missing shots 1.2 columns, missing indexes) of an existing database."""
    tables = _tables(conn)
    missing_tables = [t for t in A.AIMMS_TABLES if t not in tables]
    missing_cols = []
    if "shots" in tables:
        have = set(_columns(conn, "shots"))
        missing_cols = [c for c in A.SHOTS_12_COLUMNS if c not in have]
    idx = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    missing_idx = [i for i in A.AIMMS_INDEXES if i not in idx]
    return missing_tables, missing_cols, missing_idx


def ensure_schema(conn: sqlite3.Connection, *, project_name: str | None = None,
                  author: str | None = None,
                  backup: Callable[[], Path] | None = None) -> SchemaReport:
    """Bring a database to AIMMS schema 1.2 plus our latest fast_* version.

    An existing database that lacks AIMMS pieces is first copied with `backup()` (the caller puts it
    in data/backup/) so the user's original is never lost; then everything is added in one
    transaction.
    """
    rep = SchemaReport()
    tables = _tables(conn)
    rep.created = "shots" not in tables and "takes" not in tables
    missing_tables, missing_cols, missing_idx = pending_aimms_changes(conn)
    needs_meta = _meta_needs_update(conn) if "meta" in tables else True
    if not rep.created and (missing_tables or missing_cols or missing_idx or needs_meta) and backup:
        rep.backup = backup()
    if missing_tables or missing_cols or missing_idx or needs_meta:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for t in missing_tables:
                # A shots table we create is AIMMS 1.2's own shape; one that exists keeps its order.
                conn.execute(A.SHOTS_12_SQL if t == "shots" else A.AIMMS_TABLES[t])
                rep.added_tables.append(t)
            for c in pending_aimms_changes(conn)[1]:
                conn.execute(f"ALTER TABLE shots ADD COLUMN {c} TEXT")
                rep.added_columns.append(c)
            for name in pending_aimms_changes(conn)[2]:
                conn.execute(A.AIMMS_INDEXES[name])
                rep.added_indexes.append(name)
            _ensure_meta(conn, created=rep.created, project_name=project_name, author=author,
                         migrated=bool(rep.added_columns or (rep.added_tables and not rep.created)))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    rep.fast_migrations = migrations.migrate(conn)
    return rep


def _version_tuple(v: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in str(v).split("."))
    except ValueError:
        return (0,)


def _meta_needs_update(conn) -> bool:
    keys = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    required = {"schema_version", "app_version", "created_at", *A.META_DEFAULTS}
    if not required <= keys.keys():
        return True
    return _version_tuple(keys.get("schema_version")) < _version_tuple(A.SCHEMA_VERSION)


def _ensure_meta(conn, *, created: bool, project_name, author, migrated: bool) -> None:
    keys = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    now = utc_now()
    put = lambda k, v: conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (k, v))
    # Never lower a newer schema_version written by a later AIMMS.
    if _version_tuple(keys.get("schema_version")) < _version_tuple(A.SCHEMA_VERSION):
        put("schema_version", A.SCHEMA_VERSION)
        if not created:
            put("migration_date", now)
    if "app_version" not in keys:
        put("app_version", AIMMS_APP_VERSION)
    if "created_at" not in keys:
        put("created_at", now)
    if created:
        put("migration_date", now)
    defaults = dict(A.META_DEFAULTS)
    if project_name:
        defaults["project_name"] = project_name
    if author:
        defaults["author"] = author
    for k, v in defaults.items():
        if k not in keys:
            put(k, v)
