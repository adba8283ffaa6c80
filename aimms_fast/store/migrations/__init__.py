"""Versioned migrations of our own `fast_*` tables.

Each module defines `VERSION` (int, consecutive) and `apply(conn)`; they run in order inside one
transaction per step, and `fast_meta.schema_version` records the last applied. AIMMS tables are
never touched here (see store/schema.py for the AIMMS side).
"""
from __future__ import annotations

import sqlite3

from aimms_fast.store.migrations import m001_fast_core, m002_media, m003_search, m004_history, m005_trims
from aimms_fast.store.migrations import m006_assets, m007_housekeeping, m008_comfy, m009_script

MIGRATIONS = [m001_fast_core, m002_media, m003_search, m004_history, m005_trims, m006_assets, m007_housekeeping,
              m008_comfy, m009_script]
LATEST = MIGRATIONS[-1].VERSION


def current_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='fast_meta'").fetchone()
    if not row:
        return 0
    v = conn.execute("SELECT value FROM fast_meta WHERE key='schema_version'").fetchone()
    return int(v[0]) if v else 0


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every pending migration; returns the versions applied."""
    applied = []
    for m in MIGRATIONS:
        if current_version(conn) >= m.VERSION:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            m.apply(conn)
            conn.execute("INSERT OR REPLACE INTO fast_meta(key, value) VALUES ('schema_version', ?)",
                         (str(m.VERSION),))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(m.VERSION)
    return applied
