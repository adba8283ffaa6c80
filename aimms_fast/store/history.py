"""SQL of the undo/redo stack (table fast_history, see migrations/m004_history.py).

A change is recorded as row images: for each tracked table, the rows an action could touch are read
before it (a `Scope`: table -> WHERE clause, or None for the whole table) and again inside its last
transaction; only rows that differ are kept, as [primary key, row before or None, row after or
None]. Undo writes the "before" images back, redo the "after" ones, after checking that the rows are
still what the other side says (a program that changed them meanwhile makes undo refuse, not
guess). Generic on purpose: every action (star, edits, imports, restore) is undone by the same
code, so exactness is tested once for all.
"""
from __future__ import annotations

import sqlite3
import zlib
from dataclasses import dataclass

import orjson

from aimms_fast.store.db import utc_now

# Tracked tables and their keys. sqlite_sequence keeps AUTOINCREMENT counters (shots, deleted_shots,
# fast_trash) where they were, so an undone "add shot" hands out the same id again.
KEYS = {"shots": "shot_id", "deleted_shots": "id", "assets": "id_key", "takes": "take_id",
        "fast_takes": "take_id", "fast_trash": "id", "sqlite_sequence": "name",
        # the assets page's own rows (migrations/m006_assets.py)
        "fast_asset_meta": "id_key", "fast_asset_shots": "link", "fast_asset_files": "path",
        # issue 12 (m009): script beat of each shot, approvals/locks, characters and their versions
        "fast_script_shots": "shot_id", "fast_approvals": "item",
        "fast_characters": "id_key", "fast_character_versions": "id"}
# Parents before children when writing rows; children first when deleting (foreign keys are on).
WRITE_ORDER = ["shots", "deleted_shots", "assets", "fast_asset_meta", "fast_asset_shots", "fast_asset_files",
               "takes", "fast_takes", "fast_trash", "fast_script_shots", "fast_approvals",
               "fast_characters", "fast_character_versions", "sqlite_sequence"]
SEQUENCES = ("shots", "deleted_shots", "fast_trash")

Scope = dict  # table -> (where_sql, args) | None (all rows)
Changes = dict  # table -> list[[key, before_row | None, after_row | None]]
# Oldest steps beyond this are forgotten (their files are where the rows say, nothing to clean up).
KEEP = 1000


def ids_in(column: str, ids) -> tuple[str, tuple]:
    """`column IN (ids)` for any number of ids (json_each: no SQLite variable limit)."""
    return f"{column} IN (SELECT value FROM json_each(?))", (orjson.dumps(list(ids)).decode(),)


def shot_scope(shot_ids, *, shots: bool = True, takes: bool = True) -> Scope:
    """Rows of these shots: the shot rows and (takes) their takes and fast_takes rows."""
    ids = sorted({int(s) for s in shot_ids})
    scope: Scope = {}
    if shots:
        scope["shots"] = ids_in("shot_id", ids)
    if takes:
        scope["takes"] = ids_in("shot_id", ids)
        scope["fast_takes"] = ids_in("shot_id", ids)
    return scope


def _rows(conn, table: str, where: tuple[str, tuple] | None) -> dict:
    key = KEYS[table]
    sql = f"SELECT * FROM [{table}]"
    args: tuple = ()
    if table == "sqlite_sequence":
        sql += f" WHERE name IN ({','.join('?' * len(SEQUENCES))})"
        args = SEQUENCES
    elif where is not None:
        sql += f" WHERE {where[0]}"
        args = tuple(where[1])
    try:
        cur = conn.execute(sql, args)
    except sqlite3.OperationalError:
        if table == "sqlite_sequence":  # no AUTOINCREMENT table written yet
            return {}
        raise
    names = [d[0] for d in cur.description]
    return {r[names.index(key)]: dict(zip(names, r)) for r in cur.fetchall()}


def snapshot(conn, scope: Scope) -> dict:
    """{table: {key: row}} of the scope (sqlite_sequence always included)."""
    tables = dict(scope)
    tables.setdefault("sqlite_sequence", None)
    return {t: _rows(conn, t, w) for t, w in tables.items()}


def diff(before: dict, after_scope_rows: dict) -> Changes:
    out: Changes = {}
    for table in before.keys() | after_scope_rows.keys():
        b, a = before.get(table, {}), after_scope_rows.get(table, {})
        ch = [[k, b.get(k), a.get(k)] for k in sorted(b.keys() | a.keys(), key=str) if b.get(k) != a.get(k)]
        if ch:
            out[table] = ch
    return out


def current(conn, table: str, keys: list) -> dict:
    if not keys:
        return {}
    if table == "sqlite_sequence":
        rows = _rows(conn, table, None)
        return {k: rows.get(k) for k in keys}
    return _rows(conn, table, ids_in(KEYS[table], keys))


def write_side(conn, changes: Changes, side: int) -> None:
    """Bring every changed row to its image on `side` (1 = before, 2 = after). Caller holds the
    transaction. Existing rows are UPDATEd, not replaced: REPLACE would delete the takes row and
    cascade to fast_takes."""
    for table in reversed(WRITE_ORDER):
        gone = [c[0] for c in changes.get(table, []) if c[side] is None]
        if gone and table != "sqlite_sequence":
            sql, args = ids_in(KEYS[table], gone)
            conn.execute(f"DELETE FROM [{table}] WHERE {sql}", args)
        elif gone:
            conn.executemany("DELETE FROM sqlite_sequence WHERE name = ?", [(k,) for k in gone])
    for table in WRITE_ORDER:
        rows = [c for c in changes.get(table, []) if c[side] is not None]
        if not rows:
            continue
        key = KEYS[table]
        have = current(conn, table, [c[0] for c in rows])
        updates: dict[tuple, list] = {}
        inserts: dict[tuple, list] = {}
        for c in rows:
            row = c[side]
            cols = tuple(row)
            if have.get(c[0]) is not None:
                updates.setdefault(cols, []).append([row[k] for k in cols if k != key] + [c[0]])
            else:
                inserts.setdefault(cols, []).append([row[k] for k in cols])
        for cols, vals in updates.items():  # executemany: a reorder undo rewrites ~20K rows
            sets = ", ".join(f"[{k}] = ?" for k in cols if k != key)
            conn.executemany(f"UPDATE [{table}] SET {sets} WHERE [{key}] = ?", vals)
        for cols, vals in inserts.items():
            conn.executemany(f"INSERT INTO [{table}] ({', '.join(f'[{k}]' for k in cols)}) "
                             f"VALUES ({', '.join('?' * len(cols))})", vals)


def mismatches(conn, changes: Changes, side: int) -> list[str]:
    """Rows that are not at their image on `side` now ('table key' each)."""
    out = []
    for table, ch in changes.items():
        have = current(conn, table, [c[0] for c in ch])
        for c in ch:
            if have.get(c[0]) != c[side]:
                out.append(f"{table} {c[0]}")
    return out


# -- entries --------------------------------------------------------------------------------------
@dataclass
class EntryRow:
    id: int
    label: str
    what: str
    shot_ids: list[int]
    changes: Changes
    files: list[dict]
    undone: int
    state: str


def encode(changes: Changes) -> bytes:
    return zlib.compress(orjson.dumps(changes), 6)


def decode(blob: bytes) -> Changes:
    return orjson.loads(zlib.decompress(blob))


def add_entry(conn, *, label: str, what: str, shot_ids, changes: Changes, files: list[dict]) -> int:
    """A new undoable action; the redo part (undone entries) is dropped, and steps older than the
    newest KEEP. Caller's transaction."""
    conn.execute("DELETE FROM fast_history WHERE undone = 1")
    cur = conn.execute("INSERT INTO fast_history(at, label, what, shot_ids, changes, files) VALUES (?,?,?,?,?,?)",
                       (utc_now(), label, what, orjson.dumps(sorted({int(s) for s in shot_ids})).decode(),
                        encode(changes), orjson.dumps(files).decode()))
    conn.execute("DELETE FROM fast_history WHERE id <= ?", (cur.lastrowid - KEEP,))
    return cur.lastrowid


def clear(conn) -> int:
    """Forget every undo and redo step: a project handed over as new (the demo builder), whose
    first Ctrl+Z must not undo how it was made. Caller's transaction; returns the steps dropped."""
    return conn.execute("DELETE FROM fast_history").rowcount


def update_entry(conn, entry_id: int, *, changes: Changes | None = None, files: list[dict] | None = None) -> None:
    if changes is not None:
        conn.execute("UPDATE fast_history SET changes = ? WHERE id = ?", (encode(changes), entry_id))
    if files is not None:
        conn.execute("UPDATE fast_history SET files = ? WHERE id = ?", (orjson.dumps(files).decode(), entry_id))


def _entry(r) -> EntryRow:
    return EntryRow(id=r[0], label=r[1], what=r[2], shot_ids=orjson.loads(r[3]), changes=decode(r[4]),
                    files=_files_or_none(r[5]), undone=r[6], state=r[7])


_COLS = "id, label, what, shot_ids, changes, files, undone, state"


def top_undo(conn) -> EntryRow | None:
    r = conn.execute(f"SELECT {_COLS} FROM fast_history WHERE undone = 0 ORDER BY id DESC LIMIT 1").fetchone()
    return _entry(r) if r else None


def top_redo(conn) -> EntryRow | None:
    r = conn.execute(f"SELECT {_COLS} FROM fast_history WHERE undone = 1 ORDER BY id LIMIT 1").fetchone()
    return _entry(r) if r else None


def peek_label(conn, *, undone: int) -> str | None:
    order = "DESC" if undone == 0 else "ASC"
    r = conn.execute(f"SELECT label FROM fast_history WHERE undone = ? ORDER BY id {order} LIMIT 1",
                     (undone,)).fetchone()
    return r[0] if r else None


def last_unstarred_value(conn, take_id: str, shot_id: int, *, look_back: int = 50) -> int:
    """The starred value `take_id` had before its most recent recorded unstar (0: none found among
    the newest `look_back` take actions of its shot). Lets S put an image back in its slot."""
    rows = conn.execute("SELECT changes FROM fast_history WHERE undone = 0 AND what = 'takes' AND EXISTS "
                        "(SELECT 1 FROM json_each(shot_ids) WHERE value = ?) ORDER BY id DESC LIMIT ?",
                        (int(shot_id), look_back)).fetchall()
    for (blob,) in rows:
        for key, before, after in decode(blob).get("takes", []):
            if key == take_id and before and after:
                if before.get("starred") and not after.get("starred"):
                    return int(before["starred"])
                if after.get("starred"):
                    return 0  # starred again since: the later value is what counts
    return 0


def set_state(conn, entry_id: int, state: str, *, undone: int | None = None) -> None:
    if undone is None:
        conn.execute("UPDATE fast_history SET state = ? WHERE id = ?", (state, entry_id))
    else:
        conn.execute("UPDATE fast_history SET state = ?, undone = ? WHERE id = ?", (state, undone, entry_id))


def interrupted(conn) -> list[tuple[int, str, list[dict]]]:
    """(id, state, files) of entries an undo/redo left mid-way ('undoing'/'redoing')."""
    try:
        rows = conn.execute("SELECT id, state, files FROM fast_history WHERE state != 'done'").fetchall()
    except sqlite3.OperationalError:
        return []  # an older database not yet migrated
    return [(i, s, _files_or_none(f)) for i, s, f in rows]


def _files_or_none(blob):
    """An entry's file list, or None when the stored JSON is damaged (recovery reports it)."""
    try:
        return orjson.loads(blob)
    except (orjson.JSONDecodeError, TypeError):
        return None


def moves_to(files: list[dict], side: int) -> list[tuple[str, str]]:
    """(from, to) file moves, in the order to perform them, that bring an entry's files to `side`
    (1 = where they were before the action, 2 = after it)."""
    if side == 1:
        return [(m["after"], m["before"]) for m in reversed(files)]
    return [(m["before"], m["after"]) for m in files]
