"""SQL of AIMMS's `meta` table (key TEXT PRIMARY KEY, value TEXT): read all keys, write some.

AIMMS writes each key with `INSERT OR REPLACE INTO meta(key, value)`; we do the same, so a project
edited here reads back in AIMMS unchanged (same table, same keys, text values). Caller's thread and
transaction."""
from __future__ import annotations

import sqlite3

from aimms_fast.store import aimms_schema as A

# What the Settings page edits, in AIMMS's own key spelling (aimms-meta-entries.json).
EDITABLE_KEYS = ("project_name", "author", "description", "project_info", "comfyui_output_path", "comfyui_URL")


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def write_meta(conn: sqlite3.Connection, values: dict[str, str]) -> list[str]:
    """Write the given keys (EDITABLE_KEYS only); returns the keys whose value changed."""
    bad = [k for k in values if k not in EDITABLE_KEYS]
    if bad:
        raise KeyError(f"not an editable meta key: {', '.join(bad)}")
    have = read_meta(conn)
    changed = [k for k, v in values.items() if have.get(k) != v]
    conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                     [(k, "" if values[k] is None else str(values[k])) for k in changed])
    return changed


assert set(EDITABLE_KEYS) == set(A.META_DEFAULTS)
