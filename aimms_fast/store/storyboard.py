"""The storyboard query: one row per shot with the take its card shows and what the card says about
that take. The rule of which take represents a shot lives here, not in a page:

1. the starred take (images: the lowest reference slot), even when its file is gone (the user chose
   it; the card must say that the chosen take is missing);
2. else the first take, in take-number order, whose file exists and is not a placeholder;
3. else the first placeholder whose (empty) file exists;
4. else the first take (shown as MISSING FILE: every file of the shot is gone).

Step 2 needs the file system (`exists(rel)`), so the rule runs in Python over a query ordered by
rank: the stat stops at the first take that exists, one stat per shot in the usual case. The
facts the card shows (take number, duration, resolution, prompt, file, companion workflow PNG) come
in a second query for just the chosen takes. Any thread may call these with its own connection.
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Callable

from aimms_fast.errors import OutsideProject
from aimms_fast.store.takes import MAIN_TYPE


@dataclass
class ShotCardRow:
    shot_id: int
    order: int
    name: str
    section: str
    takes: int                         # takes of this storyboard in the shot
    take_id: str | None                # the representative take (None: the shot has no takes)
    rel: str | None                    # its file, project-relative
    starred: int
    placeholder: int
    companion: str | None              # videos: the workflow PNG beside the take
    companion_placeholder: int
    take_number: int | None = None
    width: int | None = None           # as displayed (rotation applied)
    height: int | None = None
    duration: float | None = None      # seconds (videos)
    prompt: str = ""                   # the take's embedded prompt, else the shot's own

    @property
    def resolution(self) -> str:
        return f"{self.width}×{self.height}" if self.width and self.height else ""


_CANDIDATES_SQL = """
SELECT t.shot_id, t.take_id, t.file_path, t.starred, f.placeholder, f.take_number
FROM takes t JOIN fast_takes f USING (take_id)
WHERE t.take_type = ? {take_filter}
ORDER BY t.shot_id, (t.starred > 0) DESC, CASE WHEN t.starred > 0 THEN t.starred ELSE 99 END,
         f.placeholder, f.take_number, t.created_date
"""

_SHOTS_SQL = """
SELECT s.shot_id, s.order_number, s.shot_name, s.section, s.{prompt_col}
FROM shots s {shot_filter}
ORDER BY s.order_number, s.shot_id {window}
"""

# The shots of one window of the storyboard (load_storyboard's limit/offset): the candidates query
# then looks takes up per shot (idx_takes_shot_type) instead of reading every take of the type.
_WINDOW_SQL = "SELECT shot_id FROM shots ORDER BY order_number, shot_id LIMIT ? OFFSET ?"

_DETAILS_SQL = """
SELECT t.take_id, m.width, m.height, m.rotation, m.duration, g.positive, ct.file_path,
       COALESCE(cf.placeholder, 0), cg.positive
FROM takes t
LEFT JOIN fast_media m ON m.path = t.file_path
LEFT JOIN fast_gen g ON g.path = t.file_path
LEFT JOIN fast_takes cf ON cf.companion_of = t.take_id
LEFT JOIN takes ct ON ct.take_id = cf.take_id
LEFT JOIN fast_gen cg ON cg.path = ct.file_path
WHERE t.take_id IN (SELECT value FROM json_each(?))
"""


def _always(_rel: str) -> bool:
    return True


def pick_representative(cands: list[tuple], exists: Callable[[str], bool]) -> tuple | None:
    """The rule above over one shot's candidates (take_id, file_path, starred, placeholder,
    take_number), already in rank order (starred first, then non-placeholders, by number)."""
    if not cands:
        return None
    if cands[0][2] > 0:
        return cands[0]
    first_placeholder = None
    for c in cands:
        if not c[1] or not exists(c[1]):
            continue
        if not c[3]:
            return c
        if first_placeholder is None:
            first_placeholder = c
    if first_placeholder is not None:
        return first_placeholder
    return min(cands, key=lambda c: c[4] or 0)


def load_storyboard(conn: sqlite3.Connection, storyboard: str, shot_id: int | None = None, *,
                    exists: Callable[[str], bool] | None = None, limit: int | None = None,
                    offset: int = 0) -> list[ShotCardRow]:
    """One row per shot in shot order (or just `shot_id`'s): the representative take (see the
    module docstring; `exists(rel)` says whether a take's file is on disk, default: assume it is),
    the number of takes, and what the card shows about the take.

    `limit`/`offset`: only that window of shots in shot order (the first screen first). The whole
    storyboard reads every take of the type (100K-take project: ~0.2 s CPU in sqlite alone, growing
    with the project); a window of 60 shots reads only their takes. Same rows as the matching
    slice of the whole list."""
    exists = exists or _always
    main = MAIN_TYPE[storyboard]
    args: list = [main]
    take_filter = ""
    window, wargs = "", []
    if shot_id is not None:
        take_filter = "AND t.shot_id = ?"
        args.append(shot_id)
    elif limit is not None:
        take_filter = f"AND t.shot_id IN ({_WINDOW_SQL})"
        window, wargs = "LIMIT ? OFFSET ?", [int(limit), int(offset)]
        args += wargs
    by_shot: dict[int, list[tuple]] = {}
    for sid, tid, rel, starred, ph, num in conn.execute(_CANDIDATES_SQL.format(take_filter=take_filter), args):
        by_shot.setdefault(sid, []).append((tid, rel, starred or 0, ph or 0, num))
    chosen = {sid: pick_representative(c, exists) for sid, c in by_shot.items()}
    details: dict[str, tuple] = {}
    ids = [c[0] for c in chosen.values() if c is not None]
    if ids:
        for r in conn.execute(_DETAILS_SQL, (json.dumps(ids),)):
            details[r[0]] = r[1:]
    prompt_col = "video_prompt" if storyboard == "video" else "image_prompt"
    shot_filter, sargs = ("WHERE s.shot_id = ?", [shot_id]) if shot_id is not None else ("", [])
    out = []
    for sid, order, name, section, shot_prompt in conn.execute(
            _SHOTS_SQL.format(prompt_col=prompt_col, shot_filter=shot_filter, window=window), sargs + wargs):
        c = chosen.get(sid)
        row = ShotCardRow(sid, order or 0, name or "", section or "", len(by_shot.get(sid, ())),
                          None, None, 0, 0, None, 0, prompt=shot_prompt or "")
        if c is not None:
            tid, rel, starred, ph, num = c
            row.take_id, row.rel, row.starred, row.placeholder, row.take_number = tid, rel, starred, ph, num
            d = details.get(tid)
            if d is not None:
                w, h, rot, dur, pos, comp, comp_ph, comp_pos = d
                if rot in (90, 270, -90, -270) and w and h:
                    w, h = h, w
                row.width, row.height, row.duration = w, h, dur
                row.companion, row.companion_placeholder = comp, comp_ph
                row.prompt = pos or comp_pos or row.prompt
        out.append(row)
    return out


def file_state(layout, rel: str | None) -> str:
    """'ok' | 'empty' (zero bytes: a placeholder) | 'missing'."""
    if not rel:
        return "missing"
    try:
        return "empty" if os.stat(layout.read_path(rel)).st_size == 0 else "ok"
    except (OSError, OutsideProject):  # outside the project (issue 14): shown as missing, never read
        return "missing"


def project_exists(project) -> Callable[[str], bool]:
    """`exists` for load_storyboard: the take's file is on disk in this project."""
    layout = project.layout

    def exists(rel: str) -> bool:
        try:
            os.stat(layout.read_path(rel))
            return True
        except (OSError, OutsideProject):
            return False
    return exists


@dataclass
class MediaLine:
    width: int | None
    height: int | None
    duration: float | None
    prompt: str


def media_lines(conn: sqlite3.Connection, rels: list[str]) -> dict[str, MediaLine]:
    """What take cards show about their files (the shot window's takes): display size, duration,
    embedded prompt. Files not probed yet are absent from the result."""
    out: dict[str, MediaLine] = {}
    if not rels:
        return out
    for path, w, h, rot, dur, pos in conn.execute(
            "SELECT m.path, m.width, m.height, m.rotation, m.duration, g.positive FROM fast_media m "
            "LEFT JOIN fast_gen g ON g.path = m.path WHERE m.path IN (SELECT value FROM json_each(?))",
            (json.dumps(list(rels)),)):
        if rot in (90, 270, -90, -270) and w and h:
            w, h = h, w
        out[path] = MediaLine(w, h, dur, pos or "")
    return out


def take_counts(conn: sqlite3.Connection) -> dict[int, dict[str, int]]:
    """{shot_id: {"images": n, "videos": n}} for the Shots table's count columns."""
    out: dict[int, dict[str, int]] = {}
    for sid, tt, n in conn.execute("SELECT shot_id, take_type, COUNT(*) FROM takes "
                                   "WHERE take_type IN (?, ?) GROUP BY shot_id, take_type",
                                   (MAIN_TYPE["image"], MAIN_TYPE["video"])):
        out.setdefault(sid, {})["images" if tt == MAIN_TYPE["image"] else "videos"] = n
    return out
