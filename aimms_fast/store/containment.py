"""The stored paths ops/containment.py checks against the project (issue 14): every table that
names a file. All its SQL is here. Thread: the connection's owner."""
from __future__ import annotations

import sqlite3

import orjson


def take_paths(conn) -> list[tuple]:
    """(take_id, shot_id, take_type, file_path) of every take, in story order."""
    return conn.execute(
        "SELECT t.take_id, t.shot_id, t.take_type, t.file_path FROM takes t "
        "LEFT JOIN shots s USING (shot_id) ORDER BY s.order_number, t.shot_id, t.file_path").fetchall()


def asset_paths(conn) -> list[tuple]:
    """(id_key, asset_name, file_path) of every asset."""
    return conn.execute("SELECT id_key, asset_name, file_path FROM assets ORDER BY id_key").fetchall()


def trash_rows(conn) -> list[tuple]:
    """(id, kind, label, state, files_json) of trash entries not restored (and replace journals)."""
    return conn.execute("SELECT id, kind, label, state, files_json FROM fast_trash "
                        "WHERE restored_at IS NULL ORDER BY id").fetchall()


def pending_paths(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT path FROM fast_pending_files")]


def history_files(conn) -> list[tuple[int, str, list | None]]:
    """(id, label, files or None when the stored JSON is damaged) of every history entry."""
    try:
        rows = conn.execute("SELECT id, label, files FROM fast_history ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []  # an older database not yet migrated
    out = []
    for i, label, f in rows:
        try:
            out.append((i, label, orjson.loads(f)))
        except (orjson.JSONDecodeError, TypeError):
            out.append((i, label, None))
    return out
