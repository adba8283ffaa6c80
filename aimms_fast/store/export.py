"""Queries behind the exports (export/timeline.py builds the cut from these) and the per-take
trims an edited timeline brings back (fast_take_trims, migration m005).

One query returns every shot in story order with its chosen take, the take's probe facts
(fast_media) and generation metadata (fast_gen, and the workflow PNG's when the video has none):
at 600 shots / 21 000 takes it runs in a few milliseconds, so export needs no per-shot queries.
"""
from __future__ import annotations

import sqlite3

from aimms_fast.store import aimms_schema as A
from aimms_fast.store.db import utc_now
from aimms_fast.store.takes import MAIN_TYPE

_GEN = ("positive", "negative", "seed", "model", "loras_json", "source")
_MEDIA = ("kind", "status", "reason", "fps", "width", "height", "duration", "frame_count",
          "audio_streams", "rotation")


def cut_rows(conn: sqlite3.Connection, storyboard: str, *, section: str | None = None) -> list[dict]:
    """Every shot (optionally one section) in order_number order with its chosen take.

    The chosen take is the starred one (video storyboard: starred=1; image storyboard: the lowest
    reference slot, so slot 1 when set). Keys: the shot's columns, `take_id`, `take_type`,
    `file_path`, `take_number`, `placeholder`, `companion_path`, `m_<probe fact>`, `g_<gen field>`
    (the take's), `cg_<gen field>` (its workflow PNG's), `trim_in`, `trim_out`. Take keys are None
    for a shot with no starred take.
    """
    main = MAIN_TYPE[storyboard]
    media = ", ".join(f"m.{c} AS m_{c}" for c in _MEDIA)
    gen = ", ".join(f"g.{c} AS g_{c}" for c in _GEN)
    cgen = ", ".join(f"cg.{c} AS cg_{c}" for c in _GEN)
    sql = (
        f"WITH chosen AS (SELECT shot_id, take_id FROM (SELECT shot_id, take_id, ROW_NUMBER() OVER "
        f"(PARTITION BY shot_id ORDER BY starred, created_date, take_id) AS rn FROM takes "
        f"WHERE take_type = ? AND starred > 0) WHERE rn = 1) "
        f"SELECT s.*, t.take_id AS take_id, t.take_type AS take_type, t.file_path AS file_path, "
        f"t.starred AS starred, f.take_number AS take_number, f.placeholder AS placeholder, "
        f"ct.file_path AS companion_path, tr.in_s AS trim_in, tr.out_s AS trim_out, "
        f"{media}, {gen}, {cgen} "
        f"FROM shots s LEFT JOIN chosen c ON c.shot_id = s.shot_id "
        f"LEFT JOIN takes t ON t.take_id = c.take_id "
        f"LEFT JOIN fast_takes f ON f.take_id = t.take_id "
        f"LEFT JOIN fast_takes cf ON cf.companion_of = t.take_id "
        f"LEFT JOIN takes ct ON ct.take_id = cf.take_id "
        f"LEFT JOIN fast_media m ON m.path = t.file_path "
        f"LEFT JOIN fast_gen g ON g.path = t.file_path "
        f"LEFT JOIN fast_gen cg ON cg.path = ct.file_path "
        f"LEFT JOIN fast_take_trims tr ON tr.take_id = t.take_id ")
    args: list = [main]
    if section is not None:
        sql += "WHERE s.section = ? "
        args.append(section)
    sql += "GROUP BY s.shot_id ORDER BY s.order_number, s.shot_id"
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


_TAKE_COLUMNS = "t.take_id, t.shot_id, t.take_type, t.file_path, t.starred, f.take_number"


def _take_rows_where(conn, column: str, values: list[str], extra: str = "", extra_args=()) -> list[dict]:
    """Take rows whose `column` is one of `values`, in chunks of 500 (SQLite's variable limit)."""
    rows = []
    values = list(dict.fromkeys(values))
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        cur = conn.execute(
            f"SELECT {_TAKE_COLUMNS} FROM takes t LEFT JOIN fast_takes f USING (take_id) "
            f"WHERE {extra}{column} IN ({', '.join('?' * len(chunk))})", [*extra_args, *chunk])
        names = [d[0] for d in cur.description]
        rows += [dict(zip(names, r)) for r in cur.fetchall()]
    return rows


def take_rows(conn: sqlite3.Connection, take_ids: list[str]) -> dict[str, dict]:
    """take_id -> {take_id, shot_id, take_type, file_path, starred, take_number} for the given ids."""
    return {r["take_id"]: r for r in _take_rows_where(conn, "t.take_id", take_ids)}


def takes_by_path(conn: sqlite3.Connection, file_paths: list[str]) -> dict[str, dict]:
    """file_path -> take row (main storyboard types only), for timelines that lost our take ids."""
    return {r["file_path"]: r for r in _take_rows_where(conn, "t.file_path", file_paths, "t.take_type IN (?, ?) AND ",
                                                        (A.FINAL_VIDEO, A.BASE_IMAGE))}


def media_seconds(conn: sqlite3.Connection, rel: str) -> float | None:
    """A file's length from its probe facts (frames / fps when known), None when never probed."""
    r = conn.execute("SELECT frame_count, fps, duration FROM fast_media WHERE path = ?", (rel,)).fetchone()
    if not r:
        return None
    if r[0] and r[1]:
        return r[0] / r[1]
    return r[2]


def shot_order(conn: sqlite3.Connection) -> list[tuple[int, int | None]]:
    """(shot_id, order_number) of every shot in story order."""
    return conn.execute("SELECT shot_id, order_number FROM shots ORDER BY order_number, shot_id").fetchall()


def get_trims(conn: sqlite3.Connection, take_ids: list[str] | None = None) -> dict[str, tuple[float, float]]:
    """take_id -> (in_s, out_s)."""
    if take_ids is None:
        return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT take_id, in_s, out_s FROM fast_take_trims")}
    out = {}
    for tid in take_ids:
        r = conn.execute("SELECT in_s, out_s FROM fast_take_trims WHERE take_id = ?", (tid,)).fetchone()
        if r:
            out[tid] = (r[0], r[1])
    return out


def set_trim(conn: sqlite3.Connection, take_id: str, in_s: float, out_s: float, source: str | None) -> None:
    """Store a take's in/out (caller holds the transaction)."""
    conn.execute("INSERT INTO fast_take_trims(take_id, in_s, out_s, source, updated_at) VALUES (?,?,?,?,?) "
                 "ON CONFLICT(take_id) DO UPDATE SET in_s=excluded.in_s, out_s=excluded.out_s, "
                 "source=excluded.source, updated_at=excluded.updated_at",
                 (take_id, float(in_s), float(out_s), source, utc_now()))


def clear_trim(conn: sqlite3.Connection, take_id: str) -> None:
    conn.execute("DELETE FROM fast_take_trims WHERE take_id = ?", (take_id,))
