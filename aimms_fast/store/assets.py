"""SQL of the assets page: AIMMS's `assets` table plus our fast_asset_meta (tags, notes),
fast_asset_shots (asset <-> shot links) and fast_asset_files (a glTF's extra files); see
migrations/m006_assets.py. Use cases (undo, files, checks) are in ops/assets.py.

Thread: whichever thread owns the connection. Writes here run inside the caller's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from aimms_fast.store.db import utc_now
from aimms_fast.store.history import ids_in

KINDS = ("characters", "locations", "other")


@dataclass
class AssetRow:
    """One asset as the page shows it."""
    id_key: str
    name: str
    kind: str                     # characters | locations | other (AIMMS's asset_type)
    file_path: str                # project-relative, forward slashes
    starred: int
    created_date: str
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    shot_count: int = 0           # shots (still present) this asset is assigned to
    extra_files: list[str] = field(default_factory=list)  # a glTF's .bin buffers and textures
    media_status: str | None = None   # fast_media.status of the file (probe), None when not probed
    media_reason: str | None = None


_SELECT = """
SELECT a.id_key, a.asset_name, a.asset_type, a.file_path, a.starred, a.created_date,
       m.tags, m.notes,
       (SELECT COUNT(*) FROM fast_asset_shots l JOIN shots s ON s.shot_id = l.shot_id
         WHERE l.id_key = a.id_key),
       (SELECT json_group_array(f.path) FROM fast_asset_files f WHERE f.id_key = a.id_key),
       fm.status, fm.reason
FROM assets a
LEFT JOIN fast_asset_meta m ON m.id_key = a.id_key
LEFT JOIN fast_media fm ON fm.path = REPLACE(a.file_path, '\\', '/')
"""


def _row(r) -> AssetRow:
    extra = [p for p in orjson.loads(r[9] or "[]") if p]
    return AssetRow(id_key=r[0], name=r[1] or "", kind=r[2] or "", file_path=(r[3] or "").replace("\\", "/"),
                    starred=int(r[4] or 0), created_date=r[5] or "", tags=orjson.loads(r[6]) if r[6] else [],
                    notes=r[7] or "", shot_count=int(r[8] or 0), extra_files=sorted(extra),
                    media_status=r[10], media_reason=r[11])


def list_assets(conn, *, kind: str | None = None, search: str | None = None,
                starred_only: bool = False) -> list[AssetRow]:
    """Assets in page order (type, name, id). `search` matches name, file name, tags and notes,
    case-insensitively, every word somewhere."""
    where, args = [], []
    if kind and kind != "all":
        where.append("a.asset_type = ?")
        args.append(kind)
    if starred_only:
        where.append("a.starred != 0")
    for word in (search or "").split():
        like = f"%{word.lower()}%"
        where.append("(LOWER(COALESCE(a.asset_name,'')) LIKE ? OR LOWER(COALESCE(a.file_path,'')) LIKE ? "
                     "OR LOWER(COALESCE(m.tags,'')) LIKE ? OR LOWER(COALESCE(m.notes,'')) LIKE ?)")
        args += [like] * 4
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY a.asset_type, LOWER(COALESCE(a.asset_name,'')), a.id_key"
    return [_row(r) for r in conn.execute(sql, args)]


def count_assets(conn) -> int:
    """All assets of the project (the Assets page's "N of M")."""
    return conn.execute("SELECT COUNT(*) FROM assets").fetchone()[0]


def get_asset(conn, id_key: str) -> AssetRow | None:
    r = conn.execute(_SELECT + " WHERE a.id_key = ?", (id_key,)).fetchone()
    return _row(r) if r else None


def taken_paths(conn) -> set[str]:
    """Every path an asset row or a glTF extra file holds (new names must avoid them)."""
    out = {r[0].replace("\\", "/") for r in conn.execute("SELECT file_path FROM assets WHERE file_path IS NOT NULL")}
    out |= {r[0] for r in conn.execute("SELECT path FROM fast_asset_files")}
    return out


def insert_asset(conn, *, id_key: str, name: str, kind: str, rel: str, starred: int = 0,
                 created: str | None = None, tags: list[str] | None = None, notes: str = "",
                 extra_files: list[str] = ()) -> None:
    conn.execute("INSERT INTO assets(id_key, asset_name, asset_type, file_path, starred, created_date) "
                 "VALUES (?,?,?,?,?,?)", (id_key, name, kind, rel, int(starred), created or _aimms_now()))
    if tags or notes:
        set_meta(conn, id_key, tags=tags or [], notes=notes)
    conn.executemany("INSERT INTO fast_asset_files(path, id_key) VALUES (?, ?)", [(p, id_key) for p in extra_files])


def _aimms_now() -> str:
    return utc_now()


def set_name(conn, id_key: str, name: str) -> None:
    conn.execute("UPDATE assets SET asset_name = ? WHERE id_key = ?", (name, id_key))


def set_starred(conn, id_key: str, starred: int) -> None:
    conn.execute("UPDATE assets SET starred = ? WHERE id_key = ?", (int(starred), id_key))


def set_kind_and_path(conn, id_key: str, kind: str, rel: str) -> None:
    conn.execute("UPDATE assets SET asset_type = ?, file_path = ? WHERE id_key = ?", (kind, rel, id_key))


def set_meta(conn, id_key: str, *, tags: list[str] | None = None, notes: str | None = None) -> None:
    """Tags and/or notes (None keeps the current value); an asset with neither loses its row."""
    cur = conn.execute("SELECT tags, notes FROM fast_asset_meta WHERE id_key = ?", (id_key,)).fetchone()
    old_tags = orjson.loads(cur[0]) if cur else []
    old_notes = cur[1] if cur else ""
    tags = old_tags if tags is None else list(tags)
    notes = old_notes if notes is None else notes
    if not tags and not notes:
        conn.execute("DELETE FROM fast_asset_meta WHERE id_key = ?", (id_key,))
        return
    conn.execute("INSERT INTO fast_asset_meta(id_key, tags, notes, updated_at) VALUES (?,?,?,?) "
                 "ON CONFLICT(id_key) DO UPDATE SET tags = excluded.tags, notes = excluded.notes, "
                 "updated_at = excluded.updated_at",
                 (id_key, orjson.dumps(tags).decode(), notes, utc_now()))


def all_tags(conn) -> list[str]:
    """Every tag in use, sorted case-insensitively (for the page's tag suggestions)."""
    tags = set()
    for (t,) in conn.execute("SELECT tags FROM fast_asset_meta"):
        tags.update(orjson.loads(t))
    return sorted(tags, key=str.lower)


# -- asset <-> shot -------------------------------------------------------------------------------
def link_key(id_key: str, shot_id: int) -> str:
    return f"{id_key}/{int(shot_id)}"


def link(conn, id_key: str, shot_ids) -> int:
    """Assign the asset to these shots (already assigned ones are kept); returns how many are new."""
    now = utc_now()
    cur = conn.executemany("INSERT OR IGNORE INTO fast_asset_shots(link, id_key, shot_id, added_at) VALUES (?,?,?,?)",
                           [(link_key(id_key, s), id_key, int(s), now) for s in shot_ids])
    return cur.rowcount


def unlink(conn, id_key: str, shot_ids) -> int:
    sql, args = ids_in("link", [link_key(id_key, s) for s in shot_ids])
    return conn.execute(f"DELETE FROM fast_asset_shots WHERE {sql}", args).rowcount


def shots_of_asset(conn, id_key: str) -> list[dict]:
    """Shots (still present) an asset is assigned to, in story order: {shot_id, shot_name, order_number}."""
    return [dict(shot_id=r[0], shot_name=r[1] or "", order_number=r[2]) for r in conn.execute(
        "SELECT s.shot_id, s.shot_name, s.order_number FROM fast_asset_shots l JOIN shots s ON s.shot_id = l.shot_id "
        "WHERE l.id_key = ? ORDER BY s.order_number, s.shot_id", (id_key,))]


def shot_ids_with_asset(conn, id_key: str) -> set[int]:
    return {r[0] for r in conn.execute("SELECT shot_id FROM fast_asset_shots WHERE id_key = ?", (id_key,))}


def assets_of_shot(conn, shot_id: int) -> list[AssetRow]:
    """Assets assigned to a shot, in page order."""
    return [_row(r) for r in conn.execute(
        _SELECT + " WHERE a.id_key IN (SELECT id_key FROM fast_asset_shots WHERE shot_id = ?) "
        "ORDER BY a.asset_type, LOWER(COALESCE(a.asset_name,'')), a.id_key", (int(shot_id),))]


# -- rows of an asset (trash record, undo scope) --------------------------------------------------
def asset_scope(id_keys) -> dict:
    """Undo-history scope (store/history.py) of these assets' rows in every asset table."""
    ids = sorted(set(id_keys))
    return {"assets": ids_in("id_key", ids), "fast_asset_meta": ids_in("id_key", ids),
            "fast_asset_shots": ids_in("id_key", ids), "fast_asset_files": ids_in("id_key", ids)}


def asset_rows(conn, id_keys) -> dict[str, list[dict]]:
    """{table: [row dict]} of these assets, for the trash record."""
    out = {}
    for table, (sql, args) in asset_scope(id_keys).items():
        cur = conn.execute(f"SELECT * FROM [{table}] WHERE {sql}", args)
        names = [d[0] for d in cur.description]
        out[table] = [dict(zip(names, r)) for r in cur.fetchall()]
    return out


def delete_assets(conn, id_keys) -> None:
    for table, (sql, args) in asset_scope(id_keys).items():
        conn.execute(f"DELETE FROM [{table}] WHERE {sql}", args)
