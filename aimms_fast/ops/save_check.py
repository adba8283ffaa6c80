"""Checking a .aimms save before restore touches anything (issue 14).

A save is a JSON file anyone can write: a list where a shot name belongs, 2**70 as a take's
`starred`, or a take path `../../home/me/.bashrc`. restore_project() calls `save_problems()` after
the structural checks in load_save() and before the database backup; any problem refuses the whole
restore, listing each one by shot/take, so the project is left exactly as it was.

Stored paths are checked with the one containment rule, project/layout.Layout (issue 14).
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from aimms_fast.errors import AimmsError
from aimms_fast.project.layout import RECORD_TOPS

MAX_PROBLEMS_SHOWN = 30
INT_LIMIT = 2 ** 63 - 1          # SQLite INTEGER range; beyond it insert raises OverflowError
SMALL_INT_LIMIT = 2 ** 53        # order_number / starred / take_number: also used in float maths
SMALL_INT_COLUMNS = {"order_number", "starred", "take_number", "rating", "placeholder"}
_DRIVE = re.compile(r"^[A-Za-z]:")


def path_problem(rel) -> str | None:
    """Why a stored project-relative path is not acceptable as written, or None."""
    if not isinstance(rel, str):
        return f"path is a {type(rel).__name__}, not text"
    if not rel:
        return None
    if "\x00" in rel:
        return "path contains a NUL character"
    s = rel.replace("\\", "/")
    if s.startswith("/") or _DRIVE.match(s):
        return "absolute path (must be relative to the project folder)"
    if ".." in PurePosixPath(s).parts:
        return "path goes up with '..' (leaves the project folder)"
    return None


def _declared(conn, table: str) -> dict[str, str]:
    return {r[1]: (r[2] or "").upper() for r in conn.execute(f"PRAGMA table_info([{table}])")}


def _value_problem(col: str, decl: str, v) -> str | None:
    if v is None:
        return None
    if isinstance(v, (list, dict)):
        return f"{col} is {'a list' if isinstance(v, list) else 'an object'}, not a single value"
    if isinstance(v, bool):
        return None if "INT" in decl else f"{col} is true/false, not text"
    if isinstance(v, int):
        limit = SMALL_INT_LIMIT if col in SMALL_INT_COLUMNS else INT_LIMIT
        if abs(v) > limit:
            return f"{col} = {v} is out of range (at most {limit})"
        return None
    if isinstance(v, float):
        if "INT" in decl and v == v and abs(v) > SMALL_INT_LIMIT:
            return f"{col} = {v!r} is out of range (at most {SMALL_INT_LIMIT})"
        if "INT" in decl and (v != v or v != int(v)):
            return f"{col} = {v!r} is not a whole number"
        return None
    if isinstance(v, str):
        if "INT" in decl:
            return f"{col} = {v[:40]!r} is text, not a whole number"
        return None
    return f"{col} has an unsupported value {type(v).__name__}"


def _who(table: str, row: dict) -> str:
    if table == "shots":
        return f"shot {row.get('shot_id')!r} ({str(row.get('shot_name'))[:40]!r})"
    if table in ("takes", "fast_takes"):
        return f"take {row.get('take_id')!r} of shot {row.get('shot_id')!r}"
    return f"asset {row.get('id_key')!r}"


def save_problems(data: dict, conn, layout) -> list[str]:
    """Every value of a save that restore would refuse, as `shot 3 ('Intro'): …` lines.
    Reads only (no file is created, moved or written)."""
    out: list[str] = []
    for table in ("shots", "takes", "fast_takes", "assets"):
        decl = _declared(conn, table)
        for row in data.get(table) or []:
            if not isinstance(row, dict):
                out.append(f"{table}: an entry is a {type(row).__name__}, not an object")
                continue
            for col, v in row.items():
                if col not in decl:
                    continue  # left out by restore (reported as a warning there)
                why = _value_problem(col, decl[col], v)
                if why:
                    out.append(f"{_who(table, row)}: {why}")
            if table in ("takes", "assets") and row.get("file_path") not in (None, ""):
                fp = row["file_path"]
                if isinstance(fp, str):
                    why = path_problem(fp) or layout.outside_reason(fp, within=RECORD_TOPS)
                    if why:
                        out.append(f"{_who(table, row)}: file_path refused: {fp!r}: {why}")
    files = data.get("files")
    if files is not None and not isinstance(files, dict):
        out.append("'files' is not an object of path -> size")
    return out


def refuse_if_problems(problems: list[str], save_path) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = f"\n  … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    err = AimmsError(f"the save has {len(problems)} value(s) restore refuses; nothing was changed:\n  "
                     + "\n  ".join(shown) + more, path=save_path,
                     hint="fix those entries in the save or pick another save from data/saves/")
    err.problems = problems
    raise err
