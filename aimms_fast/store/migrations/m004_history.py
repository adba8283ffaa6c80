"""fast_history: the one undo/redo stack (ops/history.py). Each row is one user action: the rows it
changed (before and after, per table and primary key, zlib-compressed JSON) and the files it moved
(each file's place before and after, project-relative). `undone` = 1 rows form the redo part;
`state` is 'undoing'/'redoing' while an undo/redo moves files (project/recovery.py finishes or rolls
back an interrupted one). AIMMS tables are not touched."""
VERSION = 4

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS fast_history (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        label TEXT NOT NULL,
        what TEXT NOT NULL DEFAULT 'all',
        shot_ids TEXT NOT NULL DEFAULT '[]',
        changes BLOB NOT NULL,
        files TEXT NOT NULL DEFAULT '[]',
        undone INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'done'
    )""",
    "CREATE INDEX IF NOT EXISTS fast_history_undone ON fast_history(undone, id)",
]


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)
