"""fast_take_trims: the in/out points an editor gave a take (read back from an edited timeline by
export/reimport.py); the exported cut and the player use them instead of the whole file."""
VERSION = 5

STATEMENTS = [
    # in_s/out_s: seconds into the take's file (out exclusive). source names the timeline file the
    # trim came from, so the user can see where it was set.
    """CREATE TABLE IF NOT EXISTS fast_take_trims (
        take_id TEXT PRIMARY KEY REFERENCES takes(take_id) ON DELETE CASCADE,
        in_s REAL NOT NULL,
        out_s REAL NOT NULL,
        source TEXT,
        updated_at TEXT NOT NULL,
        CHECK (in_s >= 0 AND out_s > in_s)
    )""",
]


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)
