"""Queries over shots."""
from __future__ import annotations

import sqlite3

from aimms_fast.store import aimms_schema as A

SEARCHABLE_DEFAULT = ["shot_name", "section", "description", "image_prompt", "video_prompt",
                      "dialogue", "location"]


def shot_columns(conn: sqlite3.Connection) -> list[str]:
    return [r[1] for r in conn.execute("PRAGMA table_info(shots)")]


def list_shots(conn: sqlite3.Connection, *, section: str | None = None, search: str | None = None,
               columns: list[str] | None = None) -> list[dict]:
    """All shots in story order; optionally one section and a case-insensitive substring search
    over `columns` (default: names, prompts, description, dialogue, location)."""
    cols = shot_columns(conn)
    where, args = [], []
    if section is not None:
        where.append("section = ?")
        args.append(section)
    if search:
        look = [c for c in (columns or SEARCHABLE_DEFAULT) if c in cols]
        if not look:
            raise ValueError(f"none of the search columns exist: {columns}")
        where.append("(" + " OR ".join(f"instr(lower(COALESCE([{c}], '')), ?) > 0" for c in look) + ")")
        args += [search.lower()] * len(look)
    sql = "SELECT * FROM shots"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY order_number, shot_id"
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def get_shot(conn, shot_id: int) -> dict | None:
    cur = conn.execute("SELECT * FROM shots WHERE shot_id = ?", (int(shot_id),))
    r = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], r)) if r else None


def find_shots(conn, name_or_id: str | int) -> list[dict]:
    """Shots matching an id or an exact name (names may repeat, AIMMS allows it)."""
    s = str(name_or_id)
    rows = []
    if s.isdigit():
        r = get_shot(conn, int(s))
        if r:
            rows.append(r)
    cur = conn.execute("SELECT * FROM shots WHERE shot_name = ? ORDER BY order_number", (s,))
    names = [d[0] for d in cur.description]
    rows += [dict(zip(names, r)) for r in cur.fetchall() if not rows or r[0] != rows[0]["shot_id"]]
    return rows


def sections(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT section FROM shots WHERE section IS NOT NULL AND section != '' "
        "GROUP BY section ORDER BY MIN(order_number)")]


def take_counts(conn, storyboard_type: str) -> dict[int, int]:
    return dict(conn.execute("SELECT shot_id, COUNT(*) FROM takes WHERE take_type = ? GROUP BY shot_id",
                             (storyboard_type,)).fetchall())


def next_order_number(conn) -> int:
    r = conn.execute("SELECT MAX(order_number) FROM shots").fetchone()
    return (r[0] or 0) + 1


FIELDS = A.SHOT_FIELDS
