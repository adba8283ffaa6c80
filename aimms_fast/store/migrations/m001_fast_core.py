"""fast_* core tables: take numbering and sort keys, notes/rating, trash (undo), pending file moves,
audit log."""
VERSION = 1


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)


STATEMENTS = [
    "CREATE TABLE IF NOT EXISTS fast_meta (key TEXT PRIMARY KEY, value TEXT)",
    # One row per AIMMS take. storyboard: 'image' | 'video' | 'audio'; companion_of links a
    # video_workflow PNG row to its final_video take. shot_order is denormalised from
    # shots.order_number so keyset pages need no join (see DESIGN.md, SQLite).
    """CREATE TABLE IF NOT EXISTS fast_takes (
        take_id TEXT PRIMARY KEY REFERENCES takes(take_id) ON DELETE CASCADE,
        shot_id INTEGER NOT NULL,
        storyboard TEXT NOT NULL,
        take_number INTEGER NOT NULL,
        shot_order INTEGER NOT NULL DEFAULT 0,
        companion_of TEXT,
        placeholder INTEGER NOT NULL DEFAULT 0,
        notes TEXT NOT NULL DEFAULT '',
        rating INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS fast_takes_page ON fast_takes(storyboard, shot_order, shot_id, take_number)",
    "CREATE INDEX IF NOT EXISTS fast_takes_shot ON fast_takes(shot_id, storyboard, take_number)",
    "CREATE INDEX IF NOT EXISTS fast_takes_companion ON fast_takes(companion_of)",
    # Deleted takes/shots, kept for undo: the row(s) as JSON and where the files went.
    """CREATE TABLE IF NOT EXISTS fast_trash (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        label TEXT,
        rows_json TEXT NOT NULL,
        files_json TEXT NOT NULL,
        deleted_at TEXT NOT NULL,
        restored_at TEXT,
        -- 'moving' while files go to the trash, 'done' after; 'restoring' during undo.
        -- Recovery at open rolls an interrupted move back (or an interrupted undo forward).
        state TEXT NOT NULL DEFAULT 'done'
    )""",
    # Files being copied into media/: written before the copy, cleared in the transaction that
    # inserts the take row. Recovery at open moves leftovers to the trash (crash-safe imports).
    """CREATE TABLE IF NOT EXISTS fast_pending_files (
        path TEXT PRIMARY KEY,
        started_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fast_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT
    )""",
]
