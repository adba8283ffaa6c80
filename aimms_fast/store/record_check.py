"""Wrong-typed values in AIMMS columns (issue 14): found at open, reported per record, repaired.

SQLite stores any type in any column, so a project from another tool (or a hostile one) can hold a
`takes.file_path` BLOB, a NULL `take_type`, a REAL 1e20 `order_number` or a text `starred`. Every
reader in aimms_fast expects the declared types; one such value used to end each command in a
traceback. The check is a handful of `typeof()` queries (milliseconds on a 21K-take project); the
repair makes each bad value the nearest valid one, and the caller backs the database up first and
reports every change, so nothing is silently lost:

- TEXT column holding a BLOB -> the bytes decoded as UTF-8 (undecodable bytes become U+FFFD);
- INTEGER column holding text/real/blob -> the integral value when there is one, else NULL
  (order_number: placed after the last shot; starred: 0);
- take_type NULL or not text -> 'unknown' (AIMMS routes by take_type, so such a take was
  invisible to it before and stays so; aimms_fast lists it instead of crashing on NULL);
- INTEGER beyond ±2**53 in order_number/starred -> as above (Python is fine with big ints, but
  float maths, numpy int32 arrays and JSON for JavaScript are not).

Dates are checked too (created_date not an ISO-8601 time in years 1..9999 once moved to UTC) and
reported only: they are shown as text and never computed with.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# table -> (key column, TEXT columns, INTEGER columns). Only AIMMS's own columns: ours are
# written by aimms_fast alone.
AIMMS_COLUMNS = {
    "shots": ("shot_id", ("shot_name", "section", "description", "image_prompt", "colour_scheme_image",
                          "time_of_day", "location", "country", "year", "video_prompt", "created_date",
                          "dialogue", "image_negative", "video_negative", "lora_1", "lora_2", "lora_3"),
              ("order_number",)),
    "takes": ("take_id", ("take_type", "file_path", "created_date"), ("shot_id", "starred")),
    "assets": ("id_key", ("asset_name", "asset_type", "file_path", "created_date"), ("starred",)),
    "deleted_shots": ("id", ("shot_name", "created_date"), ("old_shot_id",)),
}
BIG = 2 ** 53
UNKNOWN_TAKE_TYPE = "unknown"


@dataclass
class BadValue:
    table: str
    key: object          # the record's key (shot_id, take_id, id_key, id), as stored
    column: str
    stored_type: str     # SQLite typeof()
    value: str           # short repr of what was stored
    fix: str | None      # what the repair sets, described; None: reported only
    rowid: int = 0       # where the repair writes (the key itself may be the bad value)

    def describe(self) -> str:
        text = f"{self.table} {self.key!r}: {self.column} is {self.stored_type} {self.value}"
        return text + (f" -> {self.fix}" if self.fix else " (left as it is)")


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _columns(conn, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")}


def _text_bad(table: str, col: str) -> str:
    extra = f" OR typeof([{col}]) = 'null'" if (table, col) == ("takes", "take_type") else ""
    return f"(typeof([{col}]) NOT IN ('text', 'null'){extra})"


def _int_bad(col: str) -> str:
    return (f"(typeof([{col}]) NOT IN ('integer', 'null') "
            f"OR (typeof([{col}]) = 'integer' AND abs([{col}]) > {BIG}))")


def _date_odd(col: str = "created_date") -> str:
    # AIMMS writes `YYYY-MM-DDTHH:MM:SSZ`: 20 characters ending in Z are taken as that (a cheap
    # test: 4 ms on 21K takes, a GLOB of the full pattern costs 7); other spellings are parsed.
    return f"(typeof([{col}]) = 'text' AND (length([{col}]) != 20 OR substr([{col}], 20) != 'Z'))"


def find_bad_values(conn) -> list[BadValue]:
    """Every wrong-typed value in AIMMS's columns (read-only; any thread owning `conn`).
    One scan per table finds the suspect rows (21K takes + 2K shots: ~10 ms CPU); only those are
    looked at column by column."""
    out: list[BadValue] = []
    for table, (key, texts, ints) in AIMMS_COLUMNS.items():
        have = _columns(conn, table)
        if not have:
            continue
        texts = [c for c in texts if c in have]
        ints = [c for c in ints if c in have]
        conds = [_text_bad(table, c) for c in texts] + [_int_bad(c) for c in ints]
        if "created_date" in have:
            conds.append(_date_odd())
        suspects = [r for (r,) in conn.execute(f"SELECT rowid FROM [{table}] WHERE {' OR '.join(conds)}")]
        for rowid in suspects:
            out += _bad_in_row(conn, table, key, texts, ints, rowid, "created_date" in have)
    return out


# -- skipping the scan when nobody wrote the file since a clean one (issue 15: ~137 ms CPU at 100K) --
# What any write by any program (AIMMS, another tool, us) changes: a commit appends to the -wal
# file (its size and ctime), a checkpoint writes the database file (its ctime), a restore or a copy
# is a new inode. ctime cannot be set by a program (only by the kernel, on a write), and an inode
# + ctime cannot be shipped inside a hostile project, so a mark in the regenerable cache folder
# cannot be forged by one. A file changed within RACY_S of the mark is not trusted (coarse kernel
# timestamps: a second write in the same tick would keep the ctime), the same rule git uses.
RACY_S = 2.0


def db_fingerprint(db_file: Path) -> str | None:
    """Identity + last change of the database and its non-empty -wal, or None when unknown or
    changed too recently to trust (any thread)."""
    parts, newest = [], 0
    try:
        st = os.stat(db_file)
    except OSError:
        return None
    parts.append([st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns])
    newest = st.st_ctime_ns
    try:
        w = os.stat(f"{db_file}-wal")
        if w.st_size:  # an empty -wal (created by any connection's open) holds no change
            parts.append([w.st_ino, w.st_size, w.st_mtime_ns, w.st_ctime_ns])
            newest = max(newest, w.st_ctime_ns)
    except OSError:
        pass
    if time.time_ns() - newest < RACY_S * 1e9:
        return None
    return json.dumps(parts)


def clean_mark_matches(fingerprint: str | None, mark_file: Path) -> bool:
    """True when `mark_file` says find_bad_values found nothing in the file with this
    `fingerprint` (db_fingerprint, taken just before; None never matches)."""
    if fingerprint is None:
        return False
    try:
        return json.loads(Path(mark_file).read_text(encoding="utf-8")).get("fingerprint") == fingerprint
    except (OSError, ValueError, AttributeError):
        return False


def write_clean_mark(db_file: Path, mark_file: Path, scanned: str | None) -> bool:
    """Record that the file holds no wrong-typed value. `scanned`: db_fingerprint taken just
    BEFORE the clean find_bad_values; the mark is written only if the file is still exactly that
    (nobody, us included, wrote since), so a write landing during the scan is never covered. A mark
    that cannot be written just means the next open scans again."""
    fp = db_fingerprint(db_file)
    if fp is None or fp != scanned:
        return False
    mark_file = Path(mark_file)
    try:
        mark_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = mark_file.with_name(mark_file.name + ".tmp")
        tmp.write_text(json.dumps({"fingerprint": fp}), encoding="utf-8")
        os.replace(tmp, mark_file)
        return True
    except OSError:
        return False


def _bad_in_row(conn, table, key, texts, ints, rowid, has_date) -> list[BadValue]:
    out = []
    cols = [*texts, *ints]
    sel = ", ".join(f"[{c}], typeof([{c}])" for c in cols)
    row = conn.execute(f"SELECT [{key}], {sel} FROM [{table}] WHERE rowid = ?", (rowid,)).fetchone()
    k = row[0]
    for i, col in enumerate(cols):
        v, t = row[1 + 2 * i], row[2 + 2 * i]
        if col in texts:
            if (table, col) == ("takes", "take_type") and t in ("null", "integer", "real"):
                out.append(BadValue(table, k, col, t, _short(v), f"'{UNKNOWN_TAKE_TYPE}'", rowid))
            elif t not in ("text", "null"):
                fix = "text decoded from the bytes" if t == "blob" else "the same value as text"
                out.append(BadValue(table, k, col, t, _short(v), fix, rowid))
            elif col == "created_date" and has_date and t == "text" and not _date_ok(v):
                out.append(BadValue(table, k, col, t, _short(v), None, rowid))
        elif t not in ("integer", "null") or (t == "integer" and abs(v) > BIG):
            out.append(BadValue(table, k, col, t, _short(v), _int_fix(table, col, v), rowid))
    return out


def _int_fix(table: str, col: str, v) -> str:
    n = _as_int(v)
    if n is not None:
        return str(n)
    if col == "order_number":
        return "after the last shot"
    if col == "starred":
        return "0"
    return "NULL"


def _as_int(v) -> int | None:
    if isinstance(v, bytes):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    if f != f or abs(f) > BIG or f != int(f):
        return None
    return int(f)


def _date_ok(v: str) -> bool:
    """ISO-8601 date/time whose UTC equivalent exists (`9999-12-31T23:59:59-14:00` does not)."""
    try:
        d = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        if d.tzinfo is not None:
            d.astimezone(timezone.utc)
        return True
    except (ValueError, OverflowError):
        return False


def repair_bad_values(conn, bad: list[BadValue]) -> int:
    """Apply the fixes find_bad_values described (caller's transaction; back the db up first).
    Returns how many values changed."""
    n = 0
    for b in bad:
        if b.fix is None:
            continue
        where = "rowid = ?"
        (cur,) = conn.execute(f"SELECT [{b.column}] FROM [{b.table}] WHERE {where}", (b.rowid,)).fetchone() \
            or (None,)
        if (b.table, b.column) == ("takes", "take_type") and b.stored_type != "blob":
            new = UNKNOWN_TAKE_TYPE
        elif b.column in AIMMS_COLUMNS[b.table][1]:
            new = cur.decode("utf-8", "replace") if isinstance(cur, bytes) else str(cur)
            if (b.table, b.column) == ("takes", "take_type") and not new:
                new = UNKNOWN_TAKE_TYPE
        else:
            new = _as_int(cur)
            if new is None and b.column == "starred":
                new = 0
            elif new is None and b.column == "order_number":
                new = (conn.execute("SELECT MAX(order_number) FROM shots WHERE typeof(order_number) = 'integer' "
                                    f"AND abs(order_number) <= {BIG}").fetchone()[0] or 0) + 1
        conn.execute(f"UPDATE [{b.table}] SET [{b.column}] = ? WHERE {where}", (new, b.rowid))
        n += 1
    return n
