"""SQL of fast_script_shots: the script beat each imported shot came from (migrations/m009_script.py).

`scene_key` is the stable id of a scene across re-imports: its scene number when the script has one
('#12A#'), else the heading plus its occurrence ('INT. GARAGE - DAY@1'). `beat` is the position of
the shot inside its scene (0 for one-shot-per-scene). `fingerprint` is the text the shot was made
from, so a re-import knows which shots changed. Tracked by the undo stack (store/history.py KEYS).
"""
from __future__ import annotations

from dataclasses import dataclass


SCHEMA = [
    """CREATE TABLE IF NOT EXISTS fast_script_shots (
        shot_id INTEGER PRIMARY KEY,
        script TEXT NOT NULL,
        scene_key TEXT NOT NULL,
        scene_index INTEGER NOT NULL,
        beat INTEGER NOT NULL,
        granularity TEXT NOT NULL,
        heading TEXT NOT NULL DEFAULT '',
        speakers TEXT NOT NULL DEFAULT '[]',
        fingerprint TEXT NOT NULL,
        est_ms INTEGER NOT NULL DEFAULT 0,
        imported_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fast_script_shots_scene ON fast_script_shots(scene_key, beat)",
]


@dataclass
class ScriptShot:
    shot_id: int
    scene_key: str
    scene_index: int
    beat: int
    granularity: str
    heading: str
    speakers: str
    fingerprint: str


def script_shots(conn, script: str | None = None) -> list[ScriptShot]:
    """Rows of shots that still exist (a deleted shot's row is ignored: the shot is gone)."""
    sql = ("SELECT f.shot_id, scene_key, scene_index, beat, granularity, heading, speakers, fingerprint "
           "FROM fast_script_shots f JOIN shots s ON s.shot_id = f.shot_id")
    args: tuple = ()
    if script is not None:
        sql += " WHERE script = ?"
        args = (script,)
    return [ScriptShot(*r) for r in conn.execute(sql + " ORDER BY scene_index, beat", args)]


def put(conn, rows: list[dict]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO fast_script_shots(shot_id, script, scene_key, scene_index, beat, granularity,"
        " heading, speakers, fingerprint, est_ms, imported_at) VALUES (:shot_id, :script, :scene_key,"
        " :scene_index, :beat, :granularity, :heading, :speakers, :fingerprint, :est_ms, :imported_at)", rows)


def breakdown_rows(conn) -> list[tuple]:
    """(scene_index, scene_key, heading, section, location, time_of_day, shot_id, speakers, est_ms,
    description, dialogue, has starred image, has starred video) for every script shot, script order."""
    return conn.execute(
        "SELECT f.scene_index, f.scene_key, f.heading, COALESCE(s.section,''), COALESCE(s.location,''),"
        " COALESCE(s.time_of_day,''), s.shot_id, f.speakers, f.est_ms, COALESCE(s.description,''),"
        " COALESCE(s.dialogue,''),"
        " EXISTS(SELECT 1 FROM takes t WHERE t.shot_id = s.shot_id AND t.take_type = 'base_image' AND t.starred > 0),"
        " EXISTS(SELECT 1 FROM takes t WHERE t.shot_id = s.shot_id AND t.take_type = 'final_video' AND t.starred > 0)"
        " FROM fast_script_shots f JOIN shots s USING (shot_id) ORDER BY f.scene_index, f.beat").fetchall()
