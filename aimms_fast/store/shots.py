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


# -- writes (caller holds the transaction) ------------------------------------------------------
def plan_shot_ids(conn, layout, n: int) -> list[int]:
    """Ids AUTOINCREMENT would hand out next, skipping any whose media folder already holds files
    (left by another app): imports write placeholder files there before the rows exist."""
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='shots'").fetchone()
    top = max(seq[0] if seq else 0, conn.execute("SELECT COALESCE(MAX(shot_id), 0) FROM shots").fetchone()[0])
    ids = []
    sid = top
    while len(ids) < n:
        sid += 1
        d = layout.shot_dir(sid)
        if d.exists() and any(d.iterdir()):
            continue
        ids.append(sid)
    return ids


def top_shot_id(conn) -> int:
    """The highest shot id ever handed out (rows or AUTOINCREMENT counter)."""
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='shots'").fetchone()
    return max(seq[0] if seq else 0, conn.execute("SELECT COALESCE(MAX(shot_id), 0) FROM shots").fetchone()[0])


def insert_shot(conn, fields: dict, *, shot_id: int | None = None) -> int:
    cols = (["shot_id"] if shot_id is not None else []) + list(fields)
    vals = ([shot_id] if shot_id is not None else []) + list(fields.values())
    cur = conn.execute(f"INSERT INTO shots ({', '.join(f'[{c}]' for c in cols)}) VALUES ({', '.join('?' * len(cols))})",
                       vals)
    return shot_id if shot_id is not None else cur.lastrowid


def update_shots(conn, shot_ids, fields: dict) -> None:
    sets = ", ".join(f"[{c}] = ?" for c in fields)
    conn.executemany(f"UPDATE shots SET {sets} WHERE shot_id = ?", [[*fields.values(), int(i)] for i in shot_ids])


def set_order(conn, shot_ids_in_order) -> None:
    """order_number 1..N in the given order."""
    conn.executemany("UPDATE shots SET order_number = ? WHERE shot_id = ?",
                     [(n, int(sid)) for n, sid in enumerate(shot_ids_in_order, start=1)])


def delete_shot(conn, shot_id: int, shot_name: str | None, deleted_at: str) -> None:
    """Remove a shot with its takes and record it in AIMMS's deleted_shots."""
    conn.execute("DELETE FROM fast_takes WHERE shot_id = ?", (shot_id,))
    conn.execute("DELETE FROM takes WHERE shot_id = ?", (shot_id,))
    conn.execute("DELETE FROM shots WHERE shot_id = ?", (shot_id,))
    conn.execute("INSERT INTO deleted_shots(old_shot_id, shot_name, created_date) VALUES (?,?,?)",
                 (shot_id, shot_name, deleted_at))


def shot_ids(conn) -> list[int]:
    return [r[0] for r in conn.execute("SELECT shot_id FROM shots ORDER BY order_number, shot_id")]


def ids_named(conn, name: str, exclude: int | None = None) -> list[int]:
    return [r[0] for r in conn.execute("SELECT shot_id FROM shots WHERE shot_name = ? AND shot_id IS NOT ?",
                                       (name, exclude))]
