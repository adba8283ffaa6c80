"""Queries behind the review windows (compare, tournament, cut points): a take with the shot it
belongs to, the playable takes of a shot, the shots that have any, and the starred take of every
shot in story order.

Shot order is read from `shots.order_number` (the live value), not from the denormalised
`fast_takes.shot_order` copy, so a reorder that has not been copied yet still reviews in the order
the Shots page shows. Placeholder takes (AIMMS's empty files) are never playable, so the review
queries leave them out unless asked."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from aimms_fast.store.takes import MAIN_TYPE

_COLUMNS = ("t.take_id, t.shot_id, COALESCE(s.shot_name, ''), COALESCE(s.order_number, 0), "
            "COALESCE(s.section, ''), f.take_number, f.storyboard, t.file_path, t.starred, f.placeholder, "
            "(SELECT ct.file_path FROM fast_takes cf JOIN takes ct USING (take_id) "
            " WHERE cf.companion_of = t.take_id LIMIT 1)")
_FROM = "FROM takes t JOIN fast_takes f USING (take_id) LEFT JOIN shots s ON s.shot_id = t.shot_id "


@dataclass(frozen=True)
class ReviewTake:
    """One take as a review pane shows it."""
    take_id: str
    shot_id: int
    shot_name: str
    shot_order: int
    section: str
    take_number: int
    storyboard: str          # "image" | "video"
    rel: str                 # project-relative media file
    starred: int
    placeholder: bool
    companion_rel: str | None  # the video's workflow PNG

    @property
    def label(self) -> str:
        """'3. Harbour at dawn · take 02' (what a pane's caption says)."""
        return f"{self.shot_order}. {self.shot_name} · take {self.take_number:02d}"


@dataclass(frozen=True)
class CutShot:
    """A shot in story order with its starred take (None: nothing starred, or only placeholders)."""
    shot_id: int
    shot_order: int
    shot_name: str
    section: str
    takes: int               # playable takes of the storyboard in this shot
    starred: ReviewTake | None


def _row(r) -> ReviewTake:
    return ReviewTake(r[0], int(r[1] or 0), r[2], int(r[3]), r[4], int(r[5] or 0), r[6], r[7] or "",
                      int(r[8] or 0), bool(r[9]), r[10])


def review_takes(conn: sqlite3.Connection, take_ids: list[str]) -> list[ReviewTake]:
    """The named takes in the order given; ids that do not exist (deleted meanwhile) are left out."""
    if not take_ids:
        return []
    q = ",".join("?" * len(take_ids))
    rows = {r[0]: _row(r) for r in conn.execute(f"SELECT {_COLUMNS} {_FROM} WHERE t.take_id IN ({q})",
                                                list(take_ids))}
    return [rows[t] for t in take_ids if t in rows]


def review_take(conn: sqlite3.Connection, take_id: str) -> ReviewTake | None:
    got = review_takes(conn, [take_id])
    return got[0] if got else None


def shot_review_takes(conn: sqlite3.Connection, shot_id: int, storyboard: str, *,
                      include_placeholders: bool = False) -> list[ReviewTake]:
    """A shot's takes of one storyboard in take-number order (the order the shot window shows)."""
    sql = (f"SELECT {_COLUMNS} {_FROM} WHERE t.shot_id = ? AND t.take_type = ? "
           + ("" if include_placeholders else "AND f.placeholder = 0 ")
           + "ORDER BY f.take_number, t.created_date")
    return [_row(r) for r in conn.execute(sql, (int(shot_id), MAIN_TYPE[storyboard]))]


def review_shots(conn: sqlite3.Connection, storyboard: str, *, section: str | None = None) -> list[int]:
    """Ids of the shots that have at least one playable take of `storyboard`, in shot order
    (what Tab / Shift+Tab walk through in the tournament)."""
    sql = ("SELECT s.shot_id FROM shots s WHERE EXISTS (SELECT 1 FROM takes t JOIN fast_takes f "
           "USING (take_id) WHERE t.shot_id = s.shot_id AND t.take_type = ? AND f.placeholder = 0) ")
    args: list = [MAIN_TYPE[storyboard]]
    if section is not None:
        sql += "AND s.section = ? "
        args.append(section)
    sql += "ORDER BY s.order_number, s.shot_id"
    return [r[0] for r in conn.execute(sql, args)]


def starred_sequence(conn: sqlite3.Connection, storyboard: str = "video", *,
                     section: str | None = None) -> list[CutShot]:
    """Every shot in story order with its starred take of `storyboard` (images: the lowest starred
    slot, as the storyboard card shows). A starred placeholder counts as nothing starred."""
    main = MAIN_TYPE[storyboard]
    sql = ("SELECT s.shot_id, COALESCE(s.order_number, 0), COALESCE(s.shot_name, ''), COALESCE(s.section, ''), "
           "(SELECT COUNT(*) FROM takes t JOIN fast_takes f USING (take_id) "
           " WHERE t.shot_id = s.shot_id AND t.take_type = ? AND f.placeholder = 0), "
           "(SELECT t.take_id FROM takes t JOIN fast_takes f USING (take_id) "
           " WHERE t.shot_id = s.shot_id AND t.take_type = ? AND t.starred > 0 AND f.placeholder = 0 "
           " ORDER BY t.starred, f.take_number LIMIT 1) "
           "FROM shots s ")
    args: list = [main, main]
    if section is not None:
        sql += "WHERE s.section = ? "
        args.append(section)
    sql += "ORDER BY s.order_number, s.shot_id"
    rows = conn.execute(sql, args).fetchall()
    takes = {t.take_id: t for t in review_takes(conn, [r[5] for r in rows if r[5]])}
    return [CutShot(r[0], int(r[1]), r[2], r[3], int(r[4]), takes.get(r[5]) if r[5] else None) for r in rows]
