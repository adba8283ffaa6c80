"""fast_media: probe facts per media file (keyed by project-relative path, refreshed when size or
mtime change), and fast_gen: generation metadata summary per file. Owned by the media engine
(media/probe.py writes fast_media, media/genmeta.py writes fast_gen; docs/metadata.md explains the
fields)."""
VERSION = 2

STATEMENTS = [
    # status: 'ok' | 'placeholder' (zero-byte file) | 'error' (reason says why) | 'missing'.
    # kind: 'video' | 'image'. rotation is the display rotation in degrees as PyAV's
    # frame.rotation reports it; keyframe_interval is the mean GOP length in frames;
    # decoder names a decoder other than FFmpeg's default that must be used (VP9 alpha needs
    # libvpx-vp9). probe_version lets a newer probe refresh rows an older one wrote.
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
        decoder TEXT,
        pix_fmt TEXT,
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
        probe_version INTEGER,
        probed_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS fast_media_fingerprint ON fast_media(fingerprint)",
    # source: 'comfyui' | 'comfyui-workflow' (UI graph only) | 'a1111' | 'fooocus' | 'invokeai'
    # | 'novelai' | 'none' (read, nothing found) | 'error' (found but unreadable: see error).
    # seed is TEXT: ComfyUI seeds go up to 2**64-1, beyond SQLite's signed INTEGER.
    """CREATE TABLE IF NOT EXISTS fast_gen (
        path TEXT PRIMARY KEY,
        size INTEGER,
        mtime_ns INTEGER,
        source TEXT,
        positive TEXT,
        negative TEXT,
        seed TEXT,
        steps INTEGER,
        cfg REAL,
        guidance REAL,
        denoise REAL,
        sampler TEXT,
        scheduler TEXT,
        model TEXT,
        loras_json TEXT,
        width INTEGER,
        height INTEGER,
        inputs_json TEXT,
        raw_z BLOB,  -- raw metadata texts as zlib-compressed JSON (genmeta.stored_raw)
        error TEXT,
        read_version INTEGER,
        read_at TEXT
    )""",
]


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)
