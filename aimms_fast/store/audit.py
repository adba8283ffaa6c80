"""SQL of the audit log `fast_audit` (made in m001; who/ids/changes/history_id added by m009).

One row per mutation, written in the mutation's own transaction: `project.audit()` writes the
row (action, detail, who), and the history recorder (ops/history.py `Recorder.finish`) fills the
same row's ids, before -> after of small fields and the undo entry id — or writes the row itself
when the action called no `project.audit`. A rolled-back mutation therefore leaves no row.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import orjson

SCHEMA = ["CREATE INDEX IF NOT EXISTS fast_audit_at ON fast_audit(at)"]
NEW_COLUMNS = [("who", "TEXT"), ("ids", "TEXT"), ("changes", "TEXT"), ("history_id", "INTEGER")]
SMALL = 120  # longer values (prompts, descriptions) are shown as '…' in before -> after
MAX_CHANGES = 40


def add_columns(conn) -> None:
    have = {r[1] for r in conn.execute("PRAGMA table_info(fast_audit)")}
    for name, typ in NEW_COLUMNS:
        if name not in have:
            conn.execute(f"ALTER TABLE fast_audit ADD COLUMN {name} {typ}")


def _has_columns(conn) -> bool:
    return "who" in {r[1] for r in conn.execute("PRAGMA table_info(fast_audit)")}


def author(conn) -> str:
    """The author name from AIMMS's meta table (Settings), '' when unset."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'author'").fetchone()
    except sqlite3.OperationalError:
        return ""
    v = (row[0] if row else "") or ""
    return "" if v == "your name here" else v


def last_id(conn) -> int:
    return conn.execute("SELECT COALESCE(MAX(id), 0) FROM fast_audit").fetchone()[0]


def write(conn, at: str, action: str, detail: str | None, *, ids=None, changes=None,
          history_id: int | None = None) -> int:
    """Insert one row (caller's transaction)."""
    if not _has_columns(conn):  # a project opened read-only before m009 ran
        return conn.execute("INSERT INTO fast_audit(at, action, detail) VALUES (?, ?, ?)",
                            (at, action, detail)).lastrowid
    return conn.execute(
        "INSERT INTO fast_audit(at, action, detail, who, ids, changes, history_id) VALUES (?,?,?,?,?,?,?)",
        (at, action, detail, author(conn), orjson.dumps(list(ids or [])).decode(),
         orjson.dumps(changes or []).decode(), history_id)).lastrowid


def attach(conn, since_id: int, at: str, action: str, *, ids, changes, history_id: int) -> int:
    """Fill the row this action wrote after `since_id` with ids/changes/history_id, or write one."""
    if not _has_columns(conn):
        return write(conn, at, action, None)
    row = conn.execute("SELECT id FROM fast_audit WHERE id > ? AND (history_id IS NULL OR history_id = ?)"
                       " ORDER BY id DESC LIMIT 1", (since_id, history_id)).fetchone()
    if row is None:
        return write(conn, at, action, None, ids=ids, changes=changes, history_id=history_id)
    conn.execute("UPDATE fast_audit SET ids = ?, changes = ?, history_id = ?, who = COALESCE(who, ?) WHERE id = ?",
                 (orjson.dumps(list(ids or [])).decode(), orjson.dumps(changes or []).decode(), history_id,
                  author(conn), row[0]))
    return row[0]


def _short(v):
    if isinstance(v, str) and len(v) > SMALL:
        return v[:SMALL] + "…"
    return v


def summarize(changes: dict) -> list[dict]:
    """Before -> after of the fields that changed, from an undo entry's row images (store/history.py).
    [{'table', 'key', 'field', 'before', 'after'}]; added/removed rows as field '*'."""
    out: list[dict] = []
    for table, rows in sorted(changes.items()):
        if table == "sqlite_sequence":
            continue
        for key, before, after in rows:
            if before is None or after is None:
                out.append({"table": table, "key": key, "field": "*",
                            "before": None if before is None else "row", "after": None if after is None else "row"})
                continue
            for f in after:
                if before.get(f) != after.get(f):
                    out.append({"table": table, "key": key, "field": f,
                                "before": _short(before.get(f)), "after": _short(after.get(f))})
            if len(out) >= MAX_CHANGES:
                return out[:MAX_CHANGES]
    return out


@dataclass
class AuditRow:
    id: int
    at: str
    who: str
    action: str
    detail: str
    ids: list
    changes: list
    history_id: int | None


def rows(conn, *, since: str | None = None, action: str | None = None, search: str | None = None,
         limit: int = 5000) -> list[AuditRow]:
    """Newest first. `since` is an ISO UTC time prefix ('2026-12-04' or '2026-12-04T18:00')."""
    where, args = [], []
    if since:
        where.append("at >= ?")
        args.append(since)
    if action:
        where.append("action LIKE ?")
        args.append(f"%{action}%")
    if search:
        where.append("(COALESCE(detail,'') || ' ' || COALESCE(ids,'') || ' ' || COALESCE(who,'')) LIKE ?")
        args.append(f"%{search}%")
    cols = "id, at, COALESCE(who,''), action, COALESCE(detail,'')"
    extra = ", ids, changes, history_id" if _has_columns(conn) else ", NULL, NULL, NULL"
    sql = f"SELECT {cols}{extra} FROM fast_audit" + (f" WHERE {' AND '.join(where)}" if where else "")
    out = []
    for r in conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)):
        out.append(AuditRow(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5]) if r[5] else [],
                            orjson.loads(r[6]) if r[6] else [], r[7]))
    return out
