"""Every SQL statement of the ComfyUI loop (issue 11): jobs, the Inbox, settings, and the two
AIMMS meta keys (`comfyui_URL`, `comfyui_output_path`, spelled as AIMMS spells them).

Rows come back as dataclasses (`JobRow`, `InboxRow`). Callers own the transaction
(store.db.transaction) for writes; reads need none.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields

from aimms_fast.store.db import utc_now

META_URL = "comfyui_URL"
META_OUTPUT = "comfyui_output_path"
ACTIVE_JOB_STATES = ("new", "submitted", "running", "fetching")
FINAL_JOB_STATES = ("done", "failed", "cancelled")


@dataclass
class JobRow:
    job_id: str
    prompt_id: str | None
    shot_id: int
    storyboard: str
    variation: int
    seed: int | None
    url: str
    workflow_name: str
    graph_json: str
    state: str
    progress: float
    node: str | None
    message: str | None
    node_errors_json: str | None
    outputs_json: str | None
    take_ids_json: str | None
    attempts: int
    created_at: str
    updated_at: str
    shot_name: str | None = None

    @property
    def take_ids(self) -> list[str]:
        return json.loads(self.take_ids_json) if self.take_ids_json else []

    @property
    def node_errors(self) -> dict:
        return json.loads(self.node_errors_json) if self.node_errors_json else {}

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_JOB_STATES


@dataclass
class InboxRow:
    item_id: int
    source: str
    folder: str
    companion: str | None
    kind: str
    size: int | None
    mtime_ns: int | None
    shot_id: int | None
    reason: str | None
    confident: int
    job_id: str | None
    state: str
    take_ids_json: str | None
    message: str | None
    added_at: str
    decided_at: str | None
    shot_name: str | None = None


_JOB_COLS = [f.name for f in fields(JobRow) if f.name != "shot_name"]
_INBOX_COLS = [f.name for f in fields(InboxRow) if f.name != "shot_name"]


# -- AIMMS meta -------------------------------------------------------------------------------------

def get_meta(conn: sqlite3.Connection, key: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return (row[0] or "").strip() if row else ""


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                 "excluded.value", (key, value))


# -- settings ---------------------------------------------------------------------------------------

def get_setting(conn: sqlite3.Connection, key: str, default=None):
    row = conn.execute("SELECT value FROM fast_comfy_settings WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def set_setting(conn: sqlite3.Connection, key: str, value) -> None:
    conn.execute("INSERT INTO fast_comfy_settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                 "SET value = excluded.value", (key, json.dumps(value)))


# -- jobs -------------------------------------------------------------------------------------------

def insert_job(conn: sqlite3.Connection, *, job_id: str, shot_id: int, storyboard: str, variation: int,
               seed: int | None, url: str, workflow_name: str, graph_json: str) -> None:
    now = utc_now()
    conn.execute("INSERT INTO fast_comfy_jobs(job_id, shot_id, storyboard, variation, seed, url, "
                 "workflow_name, graph_json, state, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?)",
                 (job_id, shot_id, storyboard, variation, seed, url, workflow_name, graph_json, now, now))


_JOB_UPDATABLE = {"prompt_id", "state", "progress", "node", "message", "node_errors_json", "outputs_json",
                  "take_ids_json", "attempts", "graph_json", "seed", "url"}


def update_job(conn: sqlite3.Connection, job_id: str, *, only_if_active: bool = False, **values) -> bool:
    """Set columns of one job; `only_if_active` leaves a job another thread has just cancelled
    (or otherwise finished) alone. True when the row changed."""
    bad = set(values) - _JOB_UPDATABLE
    if bad:
        raise ValueError(f"not a job column: {sorted(bad)}")
    if not values:
        return False
    sets = ", ".join(f"{k} = ?" for k in values)
    cond = f" AND state IN ({', '.join(repr(s) for s in ACTIVE_JOB_STATES)})" if only_if_active else ""
    cur = conn.execute(f"UPDATE fast_comfy_jobs SET {sets}, updated_at = ? WHERE job_id = ?{cond}",
                       (*values.values(), utc_now(), job_id))
    return cur.rowcount > 0


def _jobs(conn, where: str = "", args=()) -> list[JobRow]:
    cols = ", ".join(f"j.{c}" for c in _JOB_COLS)
    rows = conn.execute(f"SELECT {cols}, s.shot_name FROM fast_comfy_jobs j LEFT JOIN shots s "
                        f"ON s.shot_id = j.shot_id {where} ORDER BY j.created_at, j.rowid", args).fetchall()
    return [JobRow(*r) for r in rows]


def get_job(conn: sqlite3.Connection, job_id: str) -> JobRow | None:
    got = _jobs(conn, "WHERE j.job_id = ?", (job_id,))
    return got[0] if got else None


def job_by_prompt(conn: sqlite3.Connection, prompt_id: str) -> JobRow | None:
    got = _jobs(conn, "WHERE j.prompt_id = ?", (prompt_id,))
    return got[0] if got else None


def list_jobs(conn: sqlite3.Connection, *, states: tuple[str, ...] | None = None, limit: int | None = None
              ) -> list[JobRow]:
    where, args = "", ()
    if states:
        where = f"WHERE j.state IN ({', '.join('?' * len(states))})"
        args = tuple(states)
    jobs = _jobs(conn, where, args)
    return jobs[-limit:] if limit else jobs


def job_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT state, COUNT(*) FROM fast_comfy_jobs GROUP BY state").fetchall())


def running_progress(conn: sqlite3.Connection) -> float:
    """Mean progress (0..1) of the running jobs (0 when none)."""
    return conn.execute("SELECT COALESCE(AVG(progress), 0) FROM fast_comfy_jobs WHERE state IN "
                        "('running', 'fetching')").fetchone()[0]


# -- inbox ------------------------------------------------------------------------------------------

def claim_source(conn: sqlite3.Connection, *, source: str, folder: str, kind: str, companion: str | None,
                 size: int | None, mtime_ns: int | None, shot_id: int | None, reason: str | None,
                 confident: bool, job_id: str | None, state: str = "waiting") -> int | None:
    """Insert an Inbox row for `source` unless one exists; returns the new item_id or None."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO fast_comfy_inbox(source, folder, companion, kind, size, mtime_ns, shot_id, "
        "reason, confident, job_id, state, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (source, folder, companion, kind, size, mtime_ns, shot_id, reason, int(bool(confident)), job_id,
         state, utc_now()))
    return cur.lastrowid if cur.rowcount else None


def item_by_source(conn: sqlite3.Connection, source: str) -> InboxRow | None:
    got = _items(conn, "WHERE i.source = ?", (source,))
    return got[0] if got else None


def known_sources(conn: sqlite3.Connection, sources: list[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(sources), 500):
        chunk = sources[i:i + 500]
        out.update(r[0] for r in conn.execute(
            f"SELECT source FROM fast_comfy_inbox WHERE source IN ({', '.join('?' * len(chunk))})", chunk))
    return out


_INBOX_UPDATABLE = {"state", "shot_id", "take_ids_json", "message", "decided_at", "reason", "confident"}


def update_item(conn: sqlite3.Connection, item_id: int, **values) -> None:
    bad = set(values) - _INBOX_UPDATABLE
    if bad:
        raise ValueError(f"not an inbox column: {sorted(bad)}")
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE fast_comfy_inbox SET {sets} WHERE item_id = ?", (*values.values(), item_id))


def _items(conn, where: str, args=()) -> list[InboxRow]:
    cols = ", ".join(f"i.{c}" for c in _INBOX_COLS)
    rows = conn.execute(f"SELECT {cols}, s.shot_name FROM fast_comfy_inbox i LEFT JOIN shots s "
                        f"ON s.shot_id = i.shot_id {where} ORDER BY i.item_id", args).fetchall()
    return [InboxRow(*r) for r in rows]


def get_item(conn: sqlite3.Connection, item_id: int) -> InboxRow | None:
    got = _items(conn, "WHERE i.item_id = ?", (item_id,))
    return got[0] if got else None


def list_items(conn: sqlite3.Connection, *, states: tuple[str, ...] = ("waiting",)) -> list[InboxRow]:
    return _items(conn, f"WHERE i.state IN ({', '.join('?' * len(states))})", tuple(states))


def inbox_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM fast_comfy_inbox WHERE state = 'waiting'").fetchone()[0]


# -- matching data ----------------------------------------------------------------------------------

def shots_for_matching(conn: sqlite3.Connection) -> list[tuple[int, str, str, str]]:
    """(shot_id, shot_name, image_prompt, video_prompt) of every shot."""
    return [(r[0], r[1] or "", r[2] or "", r[3] or "") for r in conn.execute(
        "SELECT shot_id, shot_name, image_prompt, video_prompt FROM shots ORDER BY order_number, shot_id")]


def shots_without_star(conn: sqlite3.Connection, take_type: str) -> list[int]:
    """Shots with no starred take of `take_type` (AIMMS type: base_image / final_video)."""
    return [r[0] for r in conn.execute(
        "SELECT shot_id FROM shots s WHERE NOT EXISTS (SELECT 1 FROM takes t WHERE t.shot_id = s.shot_id "
        "AND t.take_type = ? AND t.starred > 0) ORDER BY order_number, shot_id", (take_type,))]


def shots_in_section(conn: sqlite3.Connection, section: str) -> list[int]:
    return [r[0] for r in conn.execute(
        "SELECT shot_id FROM shots WHERE section = ? ORDER BY order_number, shot_id", (section,))]


def main_takes_since(conn: sqlite3.Connection, shot_id: int, since: str) -> list[tuple[str, str]]:
    """(take_id, file_path) of main takes of a shot created at or after `since` (recovery of an
    import that committed its rows but not its Inbox state)."""
    return conn.execute("SELECT take_id, file_path FROM takes WHERE shot_id = ? AND created_date >= ? "
                        "AND take_type IN ('base_image', 'final_video')", (shot_id, since)).fetchall()
