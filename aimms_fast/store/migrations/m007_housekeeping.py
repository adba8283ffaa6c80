"""fast_fingerprints: content fingerprints of media files for the Unused page (duplicates) and
relink (a file moved or renamed by hand is found by content). One row per project-relative path;
a row is current while the file's size and mtime are unchanged, so each file is hashed once.
The hash is media/probe.py's `fingerprint` (blake2b of the size and the first, middle and last
64 KiB), the same value fast_media keeps for probed takes, so either table can answer a relink."""
VERSION = 7

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS fast_fingerprints (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        hashed_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fast_fingerprints_fp ON fast_fingerprints(fingerprint)",
]


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)
