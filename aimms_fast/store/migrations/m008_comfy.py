"""ComfyUI in the loop (issue 11): jobs we queued on a ComfyUI server, the Inbox of files the
output-folder watcher found, and small per-project settings (the workflow template, its bindings,
the watcher's last-seen mtime, auto-add).

Jobs survive a restart: every state change is a row update, and a job that was on the server when
the app stopped is picked up again from `/history/{prompt_id}`. Inbox rows are keyed by the file's
path relative to the watched folder (`source`), so a file is filed at most once whichever of the
watcher and the job runner sees it first.
"""
VERSION = 8

STATEMENTS = [
    # state: new -> submitted -> running -> fetching -> done | failed | cancelled.
    # graph_json: the API graph as sent (bindings applied), kept for retry and for the record.
    """CREATE TABLE IF NOT EXISTS fast_comfy_jobs (
        job_id TEXT PRIMARY KEY,
        prompt_id TEXT,
        shot_id INTEGER NOT NULL,
        storyboard TEXT NOT NULL,
        variation INTEGER NOT NULL DEFAULT 1,
        seed INTEGER,
        url TEXT NOT NULL,
        workflow_name TEXT NOT NULL DEFAULT '',
        graph_json TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'new',
        progress REAL NOT NULL DEFAULT 0,
        node TEXT,
        message TEXT,
        node_errors_json TEXT,
        outputs_json TEXT,
        take_ids_json TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fast_comfy_jobs_state ON fast_comfy_jobs(state)",
    "CREATE INDEX IF NOT EXISTS fast_comfy_jobs_prompt ON fast_comfy_jobs(prompt_id)",
    # state: waiting (in the Inbox) | importing (a copy under way) | accepted | ignored.
    # source: path relative to the watched folder, forward slashes (the dedup key).
    """CREATE TABLE IF NOT EXISTS fast_comfy_inbox (
        item_id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL UNIQUE,
        folder TEXT NOT NULL,
        companion TEXT,
        kind TEXT NOT NULL,
        size INTEGER,
        mtime_ns INTEGER,
        shot_id INTEGER,
        reason TEXT,
        confident INTEGER NOT NULL DEFAULT 0,
        job_id TEXT,
        state TEXT NOT NULL DEFAULT 'waiting',
        take_ids_json TEXT,
        message TEXT,
        added_at TEXT NOT NULL,
        decided_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS fast_comfy_inbox_state ON fast_comfy_inbox(state)",
    """CREATE TABLE IF NOT EXISTS fast_comfy_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
]


def apply(conn):
    for sql in STATEMENTS:
        conn.execute(sql)
