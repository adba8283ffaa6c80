"""Full-text search over shots and the prompts embedded in takes (SQLite FTS5, ranked by bm25).

The index lives in fast_search_doc / fast_search (migration m003). Shot rows are brought up to
date right before each search by one SQL comparison against `shots` (AIMMS, or another tool, may
have edited them; we put no triggers on AIMMS tables), so nothing has to remember to refresh it.
Prompt rows ('gen') are written by media/genmeta.py whenever it stores fast_gen.

A read-only connection cannot update the index: it builds a private copy in the temp schema
(unqualified names resolve to temp first), so searching a locked project still sees every edit.
"""
from __future__ import annotations

import re
import sqlite3
import uuid

from aimms_fast.store.migrations import m003_search as M

COLUMNS = M.COLUMNS
# bm25 weights per column (name, prompt, negative, description, dialogue, tags): a hit in a shot's
# name says more than one in a long prompt; negatives say least.
WEIGHTS = (4.0, 2.0, 0.5, 1.5, 1.5, 1.0)
SNIPPET_TOKENS = 12


def _nl_join(*exprs: str) -> str:
    # concat_ws arrived in SQLite 3.44; join non-empty parts with newlines by hand.
    return "trim(" + " || char(10) || ".join(f"coalesce({e}, '')" for e in exprs) + ", char(10))"


def _shot_exprs(conn) -> dict[str, str]:
    have = {r[1] for r in conn.execute("PRAGMA table_info(shots)")}

    def cols(*names):
        return [f"s.[{n}]" for n in names if n in have] or ["NULL"]
    return {
        "name": _nl_join(*cols("shot_name")),
        "prompt": _nl_join(*cols("image_prompt", "video_prompt")),
        "negative": _nl_join(*cols("image_negative", "video_negative")),
        "description": _nl_join(*cols("description")),
        "dialogue": _nl_join(*cols("dialogue")),
        "tags": _nl_join(*cols("section", "location", "time_of_day", "lora_1", "lora_2", "lora_3")),
    }


def _shot_sql(conn) -> tuple[str, str]:
    """(count of stale shot docs, upsert of stale shot docs)."""
    ex = _shot_exprs(conn)
    same = " AND ".join(f"d.{c} IS {ex[c]}" for c in COLUMNS)
    stale = (f"FROM shots s WHERE NOT EXISTS (SELECT 1 FROM fast_search_doc d WHERE d.kind = 'shot' "
             f"AND d.ref = CAST(s.shot_id AS TEXT) AND d.shot_id IS s.shot_id AND {same})")
    count = f"SELECT COUNT(*) {stale}"
    upsert = (f"INSERT INTO fast_search_doc(kind, ref, shot_id, {', '.join(COLUMNS)}) "
              f"SELECT 'shot', CAST(s.shot_id AS TEXT), s.shot_id, {', '.join(ex[c] for c in COLUMNS)} {stale} "
              f"ON CONFLICT(kind, ref) DO UPDATE SET shot_id = excluded.shot_id, "
              + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS))
    return count, upsert


_GONE_SHOTS = ("FROM fast_search_doc WHERE kind = 'shot' AND CAST(ref AS INTEGER) NOT IN "
               "(SELECT shot_id FROM shots)")
_GEN_DOC = M.GEN_DOC_SQL
_GEN_UPSERT = M.GEN_UPSERT_SQL


def sync_gen(conn: sqlite3.Connection, paths: list[str]) -> None:
    """Bring the prompt docs of these fast_gen paths up to date (caller holds the transaction)."""
    if not _has_doc_table(conn):
        return
    for i in range(0, len(paths), 500):
        part = paths[i:i + 500]
        q = ",".join("?" * len(part))
        conn.execute(f"DELETE FROM fast_search_doc WHERE kind = 'gen' AND ref IN ({q})", part)
        conn.execute(_GEN_UPSERT.format(select=_GEN_DOC.format(filter=f"g.path IN ({q}) AND ")), part)


def _has_doc_table(conn, schema: str = "main") -> bool:
    return bool(conn.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE type='table' AND name='fast_search_doc'")
                .fetchone())


def _has_fts(conn) -> bool:
    return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name='fast_search' UNION ALL "
                             "SELECT 1 FROM sqlite_temp_master WHERE name='fast_search'").fetchone())


# Per-connection "nothing changed since the last refresh" memo: token -> (data_version,
# total_changes). The token lives in the connection's own temp schema, so a new connection (even
# one that reuses a dead one's id()) never inherits a stale memo. data_version moves when another
# connection commits; total_changes when this one writes.
_SEEN: dict[str, tuple[int, int]] = {}


def _change_state(conn) -> tuple[str, tuple[int, int]]:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS fast_search_seen (token TEXT)")
    row = conn.execute("SELECT token FROM temp.fast_search_seen").fetchone()
    if row is None:
        own = not conn.in_transaction
        token = uuid.uuid4().hex
        conn.execute("INSERT INTO temp.fast_search_seen(token) VALUES (?)", (token,))
        if own and conn.in_transaction:
            conn.commit()  # Python's sqlite3 opened an implicit transaction for the INSERT
    else:
        token = row[0]
    return token, (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)


def refresh(conn: sqlite3.Connection) -> dict:
    """Make the index current; returns {'updated_shots', 'removed_shots', 'private'}.

    Free when nothing was committed since the last call on this connection; otherwise one SQL
    comparison of shots against their docs (about 5 ms per 1000 shots with long prompts), and
    writes only for shots that changed."""
    token, state = _change_state(conn)
    private = _has_doc_table(conn, "temp")
    if _SEEN.get(token) == state:
        return {"updated_shots": 0, "removed_shots": 0, "private": private}
    if not private and not _has_doc_table(conn):
        result = _build_private(conn)
    else:
        count_sql, upsert_sql = _shot_sql(conn)  # unqualified names: the temp copy when there is one
        stale = conn.execute(count_sql).fetchone()[0]
        gone = conn.execute(f"SELECT COUNT(*) {_GONE_SHOTS}").fetchone()[0]
        result = {"updated_shots": stale, "removed_shots": gone, "private": private}
        if stale or gone:
            try:
                _write(conn, upsert_sql, False, immediate=not private)
            except sqlite3.OperationalError as e:
                if private or "readonly" not in str(e).lower():
                    raise
                result = _build_private(conn)
    if len(_SEEN) > 256:  # one entry per connection ever searched: keep it small
        _SEEN.clear()
    _SEEN[token] = _change_state(conn)[1]
    return result


def _build_private(conn) -> dict:
    """A read-only connection: a private index in the temp schema, built from shots and fast_gen."""
    M.create(conn, "temp.")
    count_sql, upsert_sql = _shot_sql(conn)
    stale = conn.execute(count_sql).fetchone()[0]
    _write(conn, upsert_sql, True, immediate=False)  # gen docs too: copied from fast_gen
    return {"updated_shots": stale, "removed_shots": 0, "private": True}


def _write(conn, upsert_sql: str, with_gen: bool, *, immediate: bool) -> None:
    own = not conn.in_transaction
    if own:
        # Temp-only writes must not ask for the main database's write lock (read-only connection).
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        conn.execute(f"DELETE {_GONE_SHOTS}")
        conn.execute(upsert_sql)
        if with_gen:
            conn.execute("DELETE FROM fast_search_doc WHERE kind = 'gen' AND ref NOT IN "
                         "(SELECT path FROM fast_gen)")
            conn.execute(_GEN_UPSERT.format(select=_GEN_DOC.format(filter="")))
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")


# -- queries ------------------------------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str, *, prefix_last: bool = True) -> str:
    """User text -> a safe FTS5 query. Words and "quoted phrases" must all match; `OR` between
    terms and a leading `-` (exclude) are understood; every term is quoted, so FTS5 syntax in the
    input (unbalanced quotes, `*`, `:`, `NEAR(`) can never cause an error. The last bare word
    matches as a prefix (search as you type)."""
    text = text or ""
    if text.count('"') % 2:
        text = text.replace('"', " ")  # an unbalanced quote: treat quotes as plain spaces
    terms: list[tuple[str, str]] = []  # (op, phrase)
    pending_or = False
    last_bare = None
    for m in _TOKEN.finditer(text):
        quoted, bare = m.group(1), m.group(2)
        if bare == "OR" and terms:
            pending_or = True
            continue
        neg = bare is not None and bare.startswith("-") and len(bare) > 1
        words = _WORD.findall(quoted if quoted is not None else (bare[1:] if neg else bare))
        if not words:
            continue
        phrase = '"' + " ".join(w.replace('"', '""') for w in words) + '"'
        op = "NOT" if neg else ("OR" if pending_or else "AND")
        pending_or = False
        terms.append((op, phrase))
        last_bare = len(terms) - 1 if quoted is None and not neg else None
    positives = [t for t in terms if t[0] != "NOT"]
    if not positives:
        return ""
    if prefix_last and last_bare is not None:
        op, phrase = terms[last_bare]
        terms[last_bare] = (op, phrase + " *")
    out = ""
    for op, phrase in terms:
        if op == "NOT":
            continue
        out = phrase if not out else f"{out} {op} {phrase}"
    nots = [p for op, p in terms if op == "NOT"]
    if nots:
        out = f"({out})" + "".join(f" NOT {p}" for p in nots)
    return out


def search(conn: sqlite3.Connection, query: str, limit: int = 50, *, kinds=("shot", "take"),
           prefix_last: bool = True) -> list[dict]:
    """Shots and takes matching `query`, best first: [{kind: 'shot'|'take', id, shot_id, rank,
    snippet, file_path}]. rank is bm25 (lower is better). A take matches through the prompts
    embedded in its file (a video's workflow PNG counts for the video)."""
    q = fts_query(query, prefix_last=prefix_last)
    if not q:
        return []
    refresh(conn)
    if not _has_fts(conn):
        return _substring_search(conn, query, limit, kinds)
    weights = ", ".join(str(w) for w in WEIGHTS)
    # Rank first (cheap), snippets only for the rows shown: snippet() costs as much as the match.
    only = ""
    if set(kinds) != {"shot", "take"}:
        only = "AND rowid IN (SELECT rowid FROM fast_search_doc WHERE kind = '%s') " % (
            "shot" if "shot" in kinds else "gen")
    hits = conn.execute(f"SELECT rowid, bm25(fast_search, {weights}) AS r FROM fast_search "
                        f"WHERE fast_search MATCH ? {only}ORDER BY r LIMIT ?", (q, max(limit * 4, 50))).fetchall()
    docs = _docs(conn, [h[0] for h in hits])
    rows = [(h[0], *docs[h[0]], h[1]) for h in hits if h[0] in docs]
    results = _resolve(conn, rows, limit, kinds)
    if results:
        ids = [r.pop("_rowid") for r in results]
        snips = dict(conn.execute(
            f"SELECT rowid, snippet(fast_search, -1, '[', ']', '…', {SNIPPET_TOKENS}) FROM fast_search "
            f"WHERE fast_search MATCH ? AND rowid IN ({','.join('?' * len(ids))})", (q, *ids)).fetchall())
        for r, rowid in zip(results, ids):
            r["snippet"] = snips.get(rowid)
    return results


def _docs(conn, rowids: list[int]) -> dict[int, tuple]:
    out = {}
    for i in range(0, len(rowids), 500):
        part = rowids[i:i + 500]
        for rowid, kind, ref, shot_id in conn.execute(
                f"SELECT rowid, kind, ref, shot_id FROM fast_search_doc WHERE rowid IN ({','.join('?' * len(part))})",
                part):
            out[rowid] = (kind, ref, shot_id)
    return out


def _resolve(conn, rows, limit, kinds) -> list[dict]:
    """rows: (doc rowid, kind, ref, shot_id, rank) best first -> result dicts, one per shot/take."""
    out: dict[tuple, dict] = {}
    gen_paths = [r[2] for r in rows if r[1] == "gen"]
    takes = _takes_for_paths(conn, gen_paths) if "take" in kinds else {}
    for rowid, kind, ref, shot_id, rank in rows:
        if kind == "shot":
            if "shot" not in kinds:
                continue
            key = ("shot", int(ref))
            item = {"kind": "shot", "id": int(ref), "shot_id": shot_id, "rank": rank, "snippet": None,
                    "file_path": None, "_rowid": rowid}
        else:
            t = takes.get(ref)
            if t is None:
                continue  # a file no take uses (deleted take, asset): not a result
            key = ("take", t[0])
            item = {"kind": "take", "id": t[0], "shot_id": t[1], "rank": rank, "snippet": None,
                    "file_path": t[2], "_rowid": rowid}
        if key not in out or rank < out[key]["rank"]:
            out[key] = item
    return sorted(out.values(), key=lambda r: r["rank"])[:limit]


def _takes_for_paths(conn, paths: list[str]) -> dict[str, tuple]:
    """file path -> (take id, shot id, take file path); a workflow PNG maps to its video."""
    out = {}
    for i in range(0, len(paths), 500):
        part = paths[i:i + 500]
        q = ",".join("?" * len(part))
        for path, tid, sid, ttype, comp_of, video_path in conn.execute(
                "SELECT t.file_path, t.take_id, t.shot_id, t.take_type, f.companion_of, v.file_path "
                "FROM takes t LEFT JOIN fast_takes f USING (take_id) "
                "LEFT JOIN takes v ON v.take_id = f.companion_of "
                f"WHERE t.file_path IN ({q})", part):
            if ttype == "video_workflow" and comp_of:
                out[path] = (comp_of, sid, video_path)
            else:
                out[path] = (tid, sid, path)
    return out


def _substring_search(conn, query, limit, kinds) -> list[dict]:
    """Fallback without FTS5: every word must occur (case-insensitive) in the doc text."""
    words = [w.lower() for w in _WORD.findall(query)]
    if not words:
        return []
    text = " || ' ' || ".join(f"coalesce({c}, '')" for c in COLUMNS)
    where = " AND ".join(f"instr(lower({text}), ?) > 0" for _ in words)
    rows = conn.execute(f"SELECT rowid, kind, ref, shot_id, 0.0, substr(coalesce(prompt, description, name, ''), 1, 80) "
                        f"FROM fast_search_doc WHERE {where} LIMIT ?", (*words, limit * 4)).fetchall()
    snips = {r[0]: r[5] for r in rows}
    results = _resolve(conn, [r[:5] for r in rows], limit, kinds)
    for r in results:
        r["snippet"] = snips.get(r.pop("_rowid"))
    return results
