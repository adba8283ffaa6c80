"""fast_media: probe facts per media file (keyed by project-relative path, refreshed when size or
mtime change), and fast_gen: generation metadata summary per file. Owned by the media engine."""
VERSION = 2

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS fast_media (
        path TEXT PRIMARY KEY,
        size INTEGER,
        mtime_ns INTEGER,
        fingerprint TEXT,
        kind TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        reason TEXT,
        container TEXT,
        codec TEXT,
        width INTEGER,
        height INTEGER,
        sample_aspect TEXT,
        rotation INTEGER,
        fps REAL,
        vfr INTEGER,
        duration REAL,
        frame_count INTEGER,
        keyframe_count INTEGER,
        keyframe_interval REAL,
        audio_streams INTEGER,
        alpha INTEGER,
        mode TEXT,
        animated_frames INTEGER,
        probed_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS fast_media_fingerprint ON fast_media(fingerprint)",
    """CREATE TABLE IF NOT EXISTS fast_gen (
        path TEXT PRIMARY KEY,
        source TEXT,
        positive TEXT,
        negative TEXT,
        seed TEXT,
        steps INTEGER,
        cfg REAL,
        sampler TEXT,
        scheduler TEXT,
        model TEXT,
        loras_json TEXT,
        width INTEGER,
        height INTEGER,
        inputs_json TEXT,
        raw_json TEXT,
        read_at TEXT
    )""",
]


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)
