"""SQL of the characters' own rows (m009). A character IS an AIMMS asset of type 'characters' (the
`assets` row; its file_path is the active version's front image, '' until there is one), so AIMMS
still lists it; its shots are the assets page's links (fast_asset_shots). Here: aliases and the
active version (fast_characters), and versions (fast_character_versions: stage, look, prompt
fragment, LoRA names, front/side/back reference images, project-relative). Both tables are tracked
by the undo stack (store/history.py KEYS)."""
from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from aimms_fast.store.history import ids_in

STAGES = ("concept", "casting", "final", "alternate")
SLOTS = ("front", "side", "back")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS fast_characters (
        id_key TEXT PRIMARY KEY,
        aliases TEXT NOT NULL DEFAULT '[]',
        active_version INTEGER,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fast_character_versions (
        id INTEGER PRIMARY KEY,
        id_key TEXT NOT NULL,
        number INTEGER NOT NULL,
        stage TEXT NOT NULL,
        look TEXT NOT NULL DEFAULT '',
        prompt TEXT NOT NULL DEFAULT '',
        loras TEXT NOT NULL DEFAULT '[]',
        front TEXT NOT NULL DEFAULT '',
        side TEXT NOT NULL DEFAULT '',
        back TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fast_character_versions_char ON fast_character_versions(id_key, number)",
]


@dataclass
class Version:
    id: int
    id_key: str
    number: int
    stage: str
    look: str
    prompt: str
    loras: list[str]
    images: dict[str, str]   # slot -> project-relative path ('' = empty slot)
    note: str
    created_at: str


@dataclass
class Character:
    id_key: str
    name: str
    file_path: str
    aliases: list[str]
    active_version: int | None
    versions: list[Version] = field(default_factory=list)
    shot_ids: list[int] = field(default_factory=list)

    @property
    def active(self) -> Version | None:
        return next((v for v in self.versions if v.id == self.active_version), None)


def scope(id_keys) -> dict:
    ids = sorted(set(id_keys))
    return {"fast_characters": ids_in("id_key", ids), "fast_character_versions": ids_in("id_key", ids)}


def insert(conn, id_key: str, aliases: list[str], now: str) -> None:
    conn.execute("INSERT INTO fast_characters(id_key, aliases, updated_at) VALUES (?,?,?)",
                 (id_key, orjson.dumps(aliases).decode(), now))


def set_aliases(conn, id_key: str, aliases: list[str], now: str) -> None:
    conn.execute("UPDATE fast_characters SET aliases = ?, updated_at = ? WHERE id_key = ?",
                 (orjson.dumps(aliases).decode(), now, id_key))


def set_active(conn, id_key: str, version_id: int | None, now: str) -> None:
    conn.execute("UPDATE fast_characters SET active_version = ?, updated_at = ? WHERE id_key = ?",
                 (version_id, now, id_key))


def next_version_id(conn) -> int:
    return conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM fast_character_versions").fetchone()[0]


def insert_version(conn, v: dict) -> None:
    conn.execute("INSERT INTO fast_character_versions(id, id_key, number, stage, look, prompt, loras, front, side,"
                 " back, note, created_at) VALUES (:id, :id_key, :number, :stage, :look, :prompt, :loras, :front,"
                 " :side, :back, :note, :created_at)", v)


def delete(conn, id_key: str) -> None:
    conn.execute("DELETE FROM fast_character_versions WHERE id_key = ?", (id_key,))
    conn.execute("DELETE FROM fast_characters WHERE id_key = ?", (id_key,))


def versions(conn, id_key: str) -> list[Version]:
    return [Version(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), dict(zip(SLOTS, r[7:10])), r[10], r[11])
            for r in conn.execute("SELECT id, id_key, number, stage, look, prompt, loras, front, side, back, note,"
                                  " created_at FROM fast_character_versions WHERE id_key = ? ORDER BY number",
                                  (id_key,))]


def characters(conn, name: str | None = None) -> list[Character]:
    sql = ("SELECT a.id_key, a.asset_name, a.file_path, c.aliases, c.active_version FROM assets a"
           " JOIN fast_characters c USING (id_key) WHERE a.asset_type = 'characters'")
    args: tuple = ()
    if name is not None:
        sql += " AND (a.asset_name = ? COLLATE NOCASE OR a.id_key = ?)"
        args = (name, name)
    out = []
    for r in conn.execute(sql + " ORDER BY a.asset_name COLLATE NOCASE", args):
        ch = Character(r[0], r[1], r[2] or "", orjson.loads(r[3]), r[4])
        ch.versions = versions(conn, ch.id_key)
        ch.shot_ids = [s[0] for s in conn.execute(
            "SELECT l.shot_id FROM fast_asset_shots l JOIN shots s USING (shot_id) WHERE l.id_key = ?"
            " ORDER BY s.order_number", (ch.id_key,))]
        out.append(ch)
    return out


def character_names(conn) -> list[str]:
    """Names for a filter menu ([] for a project not yet migrated to m009, e.g. opened read-only)."""
    import sqlite3
    try:
        return [r[0] for r in conn.execute("SELECT a.asset_name FROM assets a JOIN fast_characters USING (id_key)"
                                           " ORDER BY a.asset_name COLLATE NOCASE")]
    except sqlite3.OperationalError:
        return []
