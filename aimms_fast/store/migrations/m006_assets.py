"""Our side of the assets page (issue 8): tags and notes of an asset, the shots an asset is used in,
and the extra files a glTF brought along (its .bin buffers and textures).

No foreign keys on purpose: a shot delete (ops/shots.py) records only shot/take rows in its undo
entry, so a cascade here would lose the links on undo. A link to a deleted shot simply stays and is
hidden by the join with `shots`; restoring the shot (same shot_id) brings it back. Asset deletes
remove their own rows here in the same transaction (ops/assets.py) and record them for undo.
"""
VERSION = 6

STATEMENTS = [
    # tags: JSON array of strings as the user typed them (trimmed, duplicates dropped, order kept).
    """CREATE TABLE IF NOT EXISTS fast_asset_meta (
        id_key TEXT PRIMARY KEY,
        tags TEXT NOT NULL DEFAULT '[]',
        notes TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL
    )""",
    # link = '<id_key>/<shot_id>': one text key, so the undo stack (store/history.py KEYS) can track it.
    """CREATE TABLE IF NOT EXISTS fast_asset_shots (
        link TEXT PRIMARY KEY,
        id_key TEXT NOT NULL,
        shot_id INTEGER NOT NULL,
        added_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fast_asset_shots_shot ON fast_asset_shots(shot_id)",
    "CREATE INDEX IF NOT EXISTS fast_asset_shots_asset ON fast_asset_shots(id_key)",
    # path: project-relative, forward slashes (as assets.file_path). Referenced, so the Unused page
    # does not offer a glTF's buffers and textures for cleanup.
    """CREATE TABLE IF NOT EXISTS fast_asset_files (
        path TEXT PRIMARY KEY,
        id_key TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fast_asset_files_asset ON fast_asset_files(id_key)",
]


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)
