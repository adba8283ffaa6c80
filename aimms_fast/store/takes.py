"""Queries over takes (AIMMS rows + our fast_takes companion rows)."""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from aimms_fast.store import aimms_schema as A

STORYBOARD_OF_TYPE = {A.BASE_IMAGE: "image", A.FINAL_VIDEO: "video", A.VIDEO_WORKFLOW: "video",
                      A.AUDIO_VO: "audio"}
MAIN_TYPE = {"image": A.BASE_IMAGE, "video": A.FINAL_VIDEO, "audio": A.AUDIO_VO}
_NUM = re.compile(r"(\d+)(?!.*\d)")

TAKE_COLUMNS = ("t.take_id, t.shot_id, t.take_type, t.file_path, t.starred, t.created_date, "
                "f.storyboard, f.take_number, f.shot_order, f.companion_of, f.placeholder, f.notes, f.rating")


@dataclass
class Take:
    take_id: str
    shot_id: int
    take_type: str
    file_path: str
    starred: int
    created_date: str
    storyboard: str
    take_number: int
    shot_order: int
    companion_of: str | None
    placeholder: int
    notes: str
    rating: int
    companion_path: str | None = None

    @property
    def is_video(self) -> bool:
        return self.take_type == A.FINAL_VIDEO


def _row_to_take(r) -> Take:
    return Take(*r)


def take_number_from_path(file_path: str) -> int:
    stem = file_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    m = _NUM.search(stem)
    return int(m.group(1)) if m else 0


def get_take(conn: sqlite3.Connection, take_id: str) -> Take | None:
    r = conn.execute(f"SELECT {TAKE_COLUMNS} FROM takes t JOIN fast_takes f USING (take_id) "
                     "WHERE t.take_id = ?", (take_id,)).fetchone()
    if not r:
        return None
    t = _row_to_take(r)
    if t.is_video:
        t.companion_path = companion_path(conn, t.take_id)
    return t


def companion_path(conn, take_id: str) -> str | None:
    r = conn.execute("SELECT t.file_path FROM fast_takes f JOIN takes t USING (take_id) "
                     "WHERE f.companion_of = ?", (take_id,)).fetchone()
    return r[0] if r else None


def takes_for_shot(conn: sqlite3.Connection, shot_id: int, storyboard: str) -> list[Take]:
    """The takes shown in one storyboard for one shot, in take-number order (companions attached)."""
    main = MAIN_TYPE[storyboard]
    rows = conn.execute(
        f"SELECT {TAKE_COLUMNS} FROM takes t JOIN fast_takes f USING (take_id) "
        "WHERE t.shot_id = ? AND t.take_type = ? ORDER BY f.take_number, t.created_date",
        (shot_id, main)).fetchall()
    takes = [_row_to_take(r) for r in rows]
    if storyboard == "video" and takes:
        comp = dict(conn.execute(
            "SELECT f.companion_of, t.file_path FROM takes t JOIN fast_takes f USING (take_id) "
            "WHERE t.shot_id = ? AND t.take_type = ?", (shot_id, A.VIDEO_WORKFLOW)).fetchall())
        for t in takes:
            t.companion_path = comp.get(t.take_id)
    return takes


def next_take_number(conn, shot_id: int, storyboard: str) -> int:
    r = conn.execute("SELECT MAX(take_number) FROM fast_takes WHERE shot_id = ? AND storyboard = ?",
                     (shot_id, storyboard)).fetchone()
    return (r[0] or 0) + 1


def page_takes(conn, storyboard: str, after: tuple[int, int, int] | None = None, limit: int = 60
               ) -> list[tuple]:
    """Keyset page over a storyboard's takes in (shot order, shot id, take number) order.

    Returns raw tuples (take_id, shot_id, shot_order, take_number, file_path, starred); pass the
    last row's (shot_order, shot_id, take_number) as `after` for the next page.
    """
    main = MAIN_TYPE[storyboard]
    sql = ("SELECT f.take_id, f.shot_id, f.shot_order, f.take_number, t.file_path, t.starred "
           "FROM fast_takes f JOIN takes t USING (take_id) WHERE f.storyboard = ? AND t.take_type = ? ")
    args: list = [storyboard, main]
    if after is not None:
        sql += "AND (f.shot_order, f.shot_id, f.take_number) > (?, ?, ?) "
        args += list(after)
    sql += "ORDER BY f.shot_order, f.shot_id, f.take_number LIMIT ?"
    args.append(limit)
    return conn.execute(sql, args).fetchall()


def starred_take(conn, shot_id: int, storyboard: str) -> str | None:
    """The chosen take: videos starred=1; images prefer slot 1, then 2, then 3."""
    main = MAIN_TYPE[storyboard]
    r = conn.execute("SELECT take_id FROM takes WHERE shot_id = ? AND take_type = ? AND starred > 0 "
                     "ORDER BY starred LIMIT 1", (shot_id, main)).fetchone()
    return r[0] if r else None


def newest_take_synced(conn: sqlite3.Connection) -> bool:
    """True when the takes row with the highest rowid has its fast_takes row (two index look-ups).

    Why that proves no take row lacks one, whoever wrote the database since our last sync (AIMMS,
    another tool, a restore that ran its own sync): sqlite gives an inserted row a rowid above every
    row present at that moment (takes has no INTEGER PRIMARY KEY and no AUTOINCREMENT), so if any
    row inserted since then survives, the newest of them holds the highest rowid. INSERT OR
    REPLACE is a delete + insert (new rowid); deletes leave no row to index. Not seen: a lost
    fast_takes row hidden by as many orphans (fast_takes rows whose take AIMMS deleted), an UPDATE of
    take_id in place or an INSERT with an explicit rowid below the top; `sync_fast_takes(quick=False)`
    (restore, the snapshot of a read-only open) still scans everything.
    Measured at 100K takes: ~2 ms CPU against ~180 ms for the full anti-join."""
    # A fast_takes row lost on its own (another tool deleted it) shows as fewer rows than takes;
    # both counts are sqlite's b-tree count (0.05 / 1.6 ms at 100K).
    (n_takes,), (n_fast,) = (conn.execute("SELECT count(*) FROM takes").fetchone(),
                             conn.execute("SELECT count(*) FROM fast_takes").fetchone())
    if n_fast < n_takes:
        return False
    r = conn.execute("SELECT take_id FROM takes ORDER BY rowid DESC LIMIT 1").fetchone()
    if r is None:
        return True
    if r[0] is None:
        return False
    return conn.execute("SELECT 1 FROM fast_takes WHERE take_id = ?", (r[0],)).fetchone() is not None


def sync_fast_takes(conn: sqlite3.Connection, sizes=None, *, quick: bool = False) -> int:
    """Give every AIMMS take row its fast_takes row (projects made by AIMMS have none).

    Take numbers come from the file name (video_07.mp4 -> 7); companion PNGs are linked to the
    video of the same stem in the same shot. `sizes(file_path) -> int | None` marks zero-byte
    placeholders. Returns the number of rows added. Caller holds the transaction.
    `quick`: skip the full anti-join when `newest_take_synced` proves there is nothing to add
    (Project.open: ~180 ms CPU at 100K takes otherwise).
    """
    if quick and newest_take_synced(conn):
        return 0
    missing = conn.execute(
        "SELECT t.take_id, t.shot_id, t.take_type, t.file_path, COALESCE(s.order_number, 0) "
        "FROM takes t LEFT JOIN fast_takes f USING (take_id) LEFT JOIN shots s ON s.shot_id = t.shot_id "
        "WHERE f.take_id IS NULL").fetchall()
    if not missing:
        return 0
    videos: dict[tuple[int, str], str] = {}
    for take_id, shot_id, take_type, file_path in conn.execute(
            "SELECT take_id, shot_id, take_type, file_path FROM takes WHERE take_type = ?", (A.FINAL_VIDEO,)):
        videos[(shot_id, _stem(file_path))] = take_id
    rows = []
    for take_id, shot_id, take_type, file_path, order in missing:
        fp = file_path or ""
        companion = videos.get((shot_id, _stem(fp))) if take_type == A.VIDEO_WORKFLOW else None
        size = sizes(fp) if sizes else None
        rows.append((take_id, shot_id or 0, STORYBOARD_OF_TYPE.get(take_type, "other"),
                     take_number_from_path(fp), order or 0, companion, 1 if size == 0 else 0))
    conn.executemany("INSERT INTO fast_takes(take_id, shot_id, storyboard, take_number, shot_order, "
                     "companion_of, placeholder) VALUES (?,?,?,?,?,?,?)", rows)
    return len(rows)


def _stem(file_path: str | None) -> str:
    return (file_path or "").replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]


def refresh_shot_order(conn, shot_ids=None) -> None:
    """Copy shots.order_number into fast_takes.shot_order (after reorders)."""
    sql = ("UPDATE fast_takes SET shot_order = COALESCE((SELECT order_number FROM shots s "
           "WHERE s.shot_id = fast_takes.shot_id), 0)")
    if shot_ids is None:
        conn.execute(sql)
    else:
        conn.executemany(sql + " WHERE shot_id = ?", [(int(s),) for s in shot_ids])


# -- writes (the one place take rows are written; ops/ and media/ call these) -------------------
def insert_take(conn, *, take_id: str, shot_id: int, take_type: str, rel: str, storyboard: str,
                number: int, order: int | None, companion_of: str | None = None,
                placeholder: bool = False, created: str | None = None) -> None:
    """One AIMMS `takes` row and its `fast_takes` companion row (caller holds the transaction)."""
    from aimms_fast.store.db import utc_now
    now = utc_now()
    conn.execute("INSERT INTO takes(take_id, shot_id, take_type, file_path, starred, created_date) "
                 "VALUES (?, ?, ?, ?, 0, ?)", (take_id, shot_id, take_type, rel, created or now))
    conn.execute("INSERT INTO fast_takes(take_id, shot_id, storyboard, take_number, shot_order, "
                 "companion_of, placeholder, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                 (take_id, shot_id, storyboard, number, order or 0, companion_of, int(placeholder), now))


def insert_takes(conn, rows: list[dict]) -> None:
    """Many `insert_take` rows at once (executemany; CSV import writes thousands)."""
    from aimms_fast.store.db import utc_now
    now = utc_now()
    conn.executemany("INSERT INTO takes(take_id, shot_id, take_type, file_path, starred, created_date) "
                     "VALUES (?, ?, ?, ?, 0, ?)",
                     [(r["take_id"], r["shot_id"], r["take_type"], r["rel"], r.get("created") or now)
                      for r in rows])
    conn.executemany("INSERT INTO fast_takes(take_id, shot_id, storyboard, take_number, shot_order, "
                     "companion_of, placeholder, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                     [(r["take_id"], r["shot_id"], r["storyboard"], r["number"], r.get("order") or 0,
                       r.get("companion_of"), int(r.get("placeholder", False)), now) for r in rows])


def set_take_file(conn, take_id: str, rel: str, *, placeholder: bool = False) -> None:
    """Point a take at a new file (replace, regenerate); it stops (or starts) being a placeholder."""
    from aimms_fast.store.db import utc_now
    conn.execute("UPDATE takes SET file_path = ? WHERE take_id = ?", (rel, take_id))
    conn.execute("UPDATE fast_takes SET placeholder = ?, updated_at = ? WHERE take_id = ?",
                 (int(placeholder), utc_now(), take_id))


def set_placeholder(conn, take_id: str, placeholder: bool) -> None:
    from aimms_fast.store.db import utc_now
    conn.execute("UPDATE fast_takes SET placeholder = ?, updated_at = ? WHERE take_id = ?",
                 (int(placeholder), utc_now(), take_id))


def delete_takes(conn, take_ids: list[str]) -> None:
    """Remove takes and their fast_takes rows (companions are not followed: pass their ids too)."""
    conn.executemany("DELETE FROM fast_takes WHERE take_id = ?", [(t,) for t in take_ids])
    conn.executemany("DELETE FROM takes WHERE take_id = ?", [(t,) for t in take_ids])


def owners_of(conn, rel: str) -> list[str]:
    """Take ids and asset id_keys whose file_path is `rel` (issue 14: a file another record still
    uses is never trashed with a deleted one, and replace never takes a claimed name)."""
    return [r[0] for r in conn.execute("SELECT take_id FROM takes WHERE file_path = ? UNION ALL "
                                       "SELECT CAST(id_key AS TEXT) FROM assets WHERE file_path = ?", (rel, rel))]


def path_owner(conn, rel: str) -> str | None:
    """The first take id (or asset id_key) whose file_path is `rel`, or None."""
    owners = owners_of(conn, rel)
    return owners[0] if owners else None


def companion_id(conn, take_id: str) -> str | None:
    r = conn.execute("SELECT take_id FROM fast_takes WHERE companion_of = ?", (take_id,)).fetchone()
    return r[0] if r else None


def with_companions(conn, take_id: str) -> list[str]:
    """The take and its companion workflow PNG take(s), the take first."""
    return [take_id] + [r[0] for r in conn.execute("SELECT take_id FROM fast_takes WHERE companion_of = ?",
                                                   (take_id,))]


def set_notes(conn, take_id: str, *, notes: str | None = None, rating: int | None = None) -> None:
    from aimms_fast.store.db import utc_now
    if notes is not None:
        conn.execute("UPDATE fast_takes SET notes = ?, updated_at = ? WHERE take_id = ?", (notes, utc_now(), take_id))
    if rating is not None:
        conn.execute("UPDATE fast_takes SET rating = ?, updated_at = ? WHERE take_id = ?", (rating, utc_now(), take_id))


def star_slots(conn, shot_id: int, take_type: str) -> dict[int, str]:
    """starred value -> take_id for one shot and take type (videos: {1: id}; images: slots 1/2/3)."""
    return {r[0]: r[1] for r in conn.execute(
        "SELECT starred, take_id FROM takes WHERE shot_id = ? AND take_type = ? AND starred > 0 "
        "ORDER BY starred, take_id", (shot_id, take_type))}


def set_star(conn, take: "Take", value: int, *, one_per_shot: bool) -> list[str]:
    """Give `take` the starred value `value` (0 clears). Starring takes the value away from the
    other take(s) of the shot holding it (videos: any star at all, `one_per_shot`). Returns the
    ids of the takes that lost their star. Caller holds the transaction."""
    lost: list[str] = []
    if value:
        if one_per_shot:
            sql, args = ("SELECT take_id FROM takes WHERE shot_id = ? AND take_type = ? AND starred > 0 "
                         "AND take_id != ?", (take.shot_id, take.take_type, take.take_id))
        else:
            sql, args = ("SELECT take_id FROM takes WHERE shot_id = ? AND take_type = ? AND starred = ? "
                         "AND take_id != ?", (take.shot_id, take.take_type, value, take.take_id))
        lost = [r[0] for r in conn.execute(sql, args)]
        conn.executemany("UPDATE takes SET starred = 0 WHERE take_id = ?", [(t,) for t in lost])
    conn.execute("UPDATE takes SET starred = ? WHERE take_id = ?", (value, take.take_id))
    return lost



def _dict_rows(conn, sql: str, args) -> list[dict]:
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def take_rows(conn, take_ids: list[str]) -> dict[str, list[dict]]:
    """The full `takes` and `fast_takes` rows of some takes (what the trash and backups keep)."""
    import orjson
    arg = (orjson.dumps(list(take_ids)).decode(),)
    where = "WHERE take_id IN (SELECT value FROM json_each(?))"
    return {"takes": _dict_rows(conn, f"SELECT * FROM takes {where}", arg),
            "fast_takes": _dict_rows(conn, f"SELECT * FROM fast_takes {where}", arg)}


def shot_rows(conn, shot_id: int) -> dict[str, list[dict]]:
    """The full rows of one shot and its takes (what the trash keeps of a deleted shot)."""
    return {"shots": _dict_rows(conn, "SELECT * FROM shots WHERE shot_id = ?", (shot_id,)),
            "takes": _dict_rows(conn, "SELECT * FROM takes WHERE shot_id = ?", (shot_id,)),
            "fast_takes": _dict_rows(conn, "SELECT * FROM fast_takes WHERE shot_id = ?", (shot_id,))}


def clear_project_rows(conn) -> None:
    """Delete every shot, take and asset row (restore swaps them for a save's; caller's transaction)."""
    for table in ("fast_takes", "takes", "shots", "assets"):
        conn.execute(f"DELETE FROM [{table}]")


def insert_rows(conn, table: str, rows: list[dict]) -> None:
    """Insert row dicts as they are (restore), grouped by their column sets for executemany."""
    if table not in ("shots", "takes", "fast_takes", "assets"):
        raise ValueError(f"insert_rows: not a project table: {table}")
    by_cols: dict[tuple, list] = {}
    for r in rows:
        by_cols.setdefault(tuple(r), []).append(tuple(r.values()))
    for cols, values in by_cols.items():
        conn.executemany(f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) "
                         f"VALUES ({', '.join('?' * len(cols))})", values)
