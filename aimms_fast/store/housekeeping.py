"""SQL of the housekeeping pages (Unused, Routing, `aimms check`, relink): which paths records
refer to, the per-take facts the routing matrix and the check need, and the content-fingerprint
cache (fast_fingerprints, migrations/m007_housekeeping.py). Callers hold the connection's thread."""
from __future__ import annotations

from dataclasses import dataclass

from aimms_fast.store.db import utc_now


def _norm(rel: str) -> str:
    """A stored path as the walk names files: forward slashes (AIMMS on Windows may have stored
    backslashes), no './' or doubled slashes."""
    rel = rel.replace("\\", "/")
    if "./" in rel or "//" in rel:
        from pathlib import PurePosixPath
        rel = str(PurePosixPath(rel))
    return rel


def referenced_paths(conn) -> set[str]:
    """Every project-relative path a take or asset row refers to, plus files being imported now
    (registered in fast_pending_files before their take row exists)."""
    refs: set[str] = set()
    for sql in ("SELECT file_path FROM takes WHERE file_path IS NOT NULL",
                "SELECT file_path FROM assets WHERE file_path IS NOT NULL",
                "SELECT path FROM fast_asset_files",  # a glTF asset's .bin buffers and textures
                "SELECT path FROM fast_pending_files"):
        refs.update(_norm(r[0]) for r in conn.execute(sql))
    return refs


def take_file_rows(conn) -> list[tuple]:
    """(take_id, shot_id, shot_name, take_type, file_path, placeholder) in story order."""
    return conn.execute(
        "SELECT t.take_id, t.shot_id, s.shot_name, t.take_type, t.file_path, COALESCE(f.placeholder, 0) "
        "FROM takes t LEFT JOIN shots s USING (shot_id) LEFT JOIN fast_takes f USING (take_id) "
        "ORDER BY s.order_number, t.shot_id, t.take_type, t.file_path").fetchall()


@dataclass
class CheckRows:
    """Everything `ops/check.py` needs, read in one pass on the connection's thread."""
    shots: list[tuple]        # (shot_id, shot_name, order_number) in story order
    takes: list[tuple]        # (take_id, shot_id, take_type, file_path, placeholder, starred, companion_of)
    assets: list[tuple]       # (id_key, asset_name, file_path)
    asset_links: list[tuple]  # (shot_id, id_key)
    sizes: dict               # path -> size recorded when the file was last seen (fast_media/fingerprints)


def check_rows(conn) -> CheckRows:
    shots = conn.execute("SELECT shot_id, COALESCE(shot_name, ''), COALESCE(order_number, 0) FROM shots "
                         "ORDER BY order_number, shot_id").fetchall()
    takes = conn.execute(
        "SELECT t.take_id, t.shot_id, t.take_type, t.file_path, COALESCE(f.placeholder, 0), "
        "COALESCE(t.starred, 0), f.companion_of FROM takes t LEFT JOIN fast_takes f USING (take_id) "
        "ORDER BY t.shot_id, t.take_type, f.take_number, t.file_path").fetchall()
    assets = conn.execute("SELECT id_key, COALESCE(asset_name, ''), file_path FROM assets "
                          "ORDER BY id_key").fetchall()
    links = conn.execute("SELECT l.shot_id, l.id_key FROM fast_asset_shots l "
                         "JOIN assets a USING (id_key)").fetchall()
    return CheckRows(shots, takes, assets, links, {})


def live_shot_ids(conn) -> dict[int, str]:
    """shot_id -> shot name of every shot (attach suggestions, empty-folder check)."""
    return {r[0]: r[1] or f"shot {r[0]}" for r in
            conn.execute("SELECT shot_id, shot_name FROM shots ORDER BY order_number, shot_id")}


def take_ids_for_paths(conn, paths) -> dict[str, tuple]:
    """path -> (take_id, shot_id, take_type, companion_of) for takes recorded at these paths."""
    import orjson
    rows = conn.execute(
        "SELECT t.file_path, t.take_id, t.shot_id, t.take_type, f.companion_of FROM takes t "
        "LEFT JOIN fast_takes f USING (take_id) WHERE t.file_path IN (SELECT value FROM json_each(?))",
        (orjson.dumps(list(paths)).decode(),)).fetchall()
    return {_norm(r[0]): tuple(r[1:]) for r in rows}


# -- fingerprint cache ----------------------------------------------------------------------------
def cached_fingerprints(conn) -> dict[str, tuple[int, int, str]]:
    """path -> (size, mtime_ns, fingerprint) of every file hashed so far."""
    return {r[0]: (r[1], r[2], r[3]) for r in
            conn.execute("SELECT path, size, mtime_ns, fingerprint FROM fast_fingerprints")}


def save_fingerprints(conn, rows) -> None:
    """rows: (path, size, mtime_ns, fingerprint). Caller holds the transaction."""
    now = utc_now()
    conn.executemany("INSERT OR REPLACE INTO fast_fingerprints(path, size, mtime_ns, fingerprint, hashed_at) "
                     "VALUES (?, ?, ?, ?, ?)", [(*r, now) for r in rows])


def known_fingerprints(conn, paths) -> dict[str, tuple[int | None, str | None]]:
    """path -> (size, fingerprint) last seen for these paths, from our cache or the probe's
    fast_media row (which keeps a vanished file's facts): what relink searches for."""
    import orjson
    arg = (orjson.dumps(list(paths)).decode(),)
    out: dict[str, tuple] = {}
    for path, size, fp in conn.execute(
            "SELECT path, size, fingerprint FROM fast_media WHERE path IN (SELECT value FROM json_each(?))", arg):
        out[path] = (size, fp)
    for path, size, fp in conn.execute(
            "SELECT path, size, fingerprint FROM fast_fingerprints WHERE path IN (SELECT value FROM json_each(?))",
            arg):
        out[path] = (size, fp)  # ours is at least as fresh: hashed at the last scan
    return out


def record_sizes(conn) -> dict[str, int]:
    """path -> size recorded by the probe (fast_media), for the size column of missing files."""
    return {r[0]: r[1] for r in conn.execute("SELECT path, size FROM fast_media WHERE size IS NOT NULL")}


# -- trash ----------------------------------------------------------------------------------------
def trash_entries(conn) -> list[tuple]:
    """(id, kind, label, deleted_at, restored_at, files_json) of every project-trash entry."""
    return conn.execute("SELECT id, kind, label, deleted_at, restored_at, files_json FROM fast_trash "
                        "ORDER BY id").fetchall()


def forget_trash_entries(conn, ids) -> None:
    """Drop trash entries whose files were emptied (they can no longer be restored). Caller's
    transaction."""
    conn.executemany("DELETE FROM fast_trash WHERE id = ?", [(i,) for i in ids])
