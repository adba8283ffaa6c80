"""fast_search: full-text index (SQLite FTS5) over shot fields and the prompts embedded in takes.

fast_search_doc holds one row per searchable thing (kind 'shot': ref = shot id; kind 'gen': ref =
a media file's project path, from fast_gen) and is the external content of the FTS5 table, kept in
step by triggers on fast_search_doc itself. AIMMS tables get no triggers: store/search.py brings
shot rows up to date before each search (a cheap SQL comparison), media/genmeta.py writes gen rows
when it reads a file. Without FTS5 in the SQLite build only the doc table is made and search falls
back to substring matching.
"""
import sqlite3

VERSION = 3

COLUMNS = ("name", "prompt", "negative", "description", "dialogue", "tags")
_cols = ", ".join(COLUMNS)
_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)

DOC_SQL = f"""CREATE TABLE IF NOT EXISTS {{schema}}fast_search_doc (
    rowid INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    shot_id INTEGER,
    {', '.join(c + ' TEXT' for c in COLUMNS)},
    UNIQUE (kind, ref)
)"""
FTS_SQL = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {{schema}}fast_search USING fts5({_cols}, "
           "content='fast_search_doc', content_rowid='rowid', "
           "tokenize='unicode61 remove_diacritics 2', prefix='2 3')")
TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS {{schema}}fast_search_doc_ai AFTER INSERT ON fast_search_doc BEGIN
        INSERT INTO fast_search(rowid, {_cols}) VALUES (new.rowid, {_new});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {{schema}}fast_search_doc_ad AFTER DELETE ON fast_search_doc BEGIN
        INSERT INTO fast_search(fast_search, rowid, {_cols}) VALUES ('delete', old.rowid, {_old});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {{schema}}fast_search_doc_au AFTER UPDATE ON fast_search_doc BEGIN
        INSERT INTO fast_search(fast_search, rowid, {_cols}) VALUES ('delete', old.rowid, {_old});
        INSERT INTO fast_search(rowid, {_cols}) VALUES (new.rowid, {_new});
    END""",
]


# A prompt doc per fast_gen row with text: prompt, negative, and model + LoRA names as tags.
GEN_DOC_SQL = ("SELECT 'gen', g.path, NULL, NULL, g.positive, g.negative, NULL, NULL, "
               "trim(coalesce(g.model, '') || char(10) || coalesce((SELECT group_concat(json_extract(value, '$.name'), "
               "char(10)) FROM json_each(CASE WHEN json_valid(g.loras_json) THEN g.loras_json ELSE '[]' END)), ''), "
               "char(10)) FROM fast_gen g WHERE {filter}((g.positive IS NOT NULL AND g.positive != '') "
               "OR (g.negative IS NOT NULL AND g.negative != ''))")
GEN_UPSERT_SQL = (f"INSERT INTO fast_search_doc(kind, ref, shot_id, {_cols}) {{select}} "
                  "ON CONFLICT(kind, ref) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS))


def has_fts5(conn) -> bool:
    try:
        return bool(conn.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')").fetchone()[0])
    except sqlite3.DatabaseError:
        return False


def create(conn, schema: str = "") -> bool:
    """Create the doc table, and the FTS table with its triggers when FTS5 exists.
    `schema` is '' (main) or 'temp.' (a private index for a read-only connection)."""
    conn.execute(DOC_SQL.format(schema=schema))
    if not has_fts5(conn):
        return False
    conn.execute(FTS_SQL.format(schema=schema))
    for t in TRIGGERS:
        conn.execute(t.format(schema=schema))
    return True


def apply(conn):
    create(conn)
    # Prompts read before this version existed get their docs now (shots are synced lazily).
    conn.execute(GEN_UPSERT_SQL.format(select=GEN_DOC_SQL.format(filter="")))
