"""Crash recovery at open: finish or undo file moves an interrupted process left behind.

Invariant after recovery: every take row points at an existing file (or is reported), and every
file we were copying into media/ is either referenced by a take or moved to the project trash.

Every path comes from the database, which a shared project may have been given by anyone: each
goes through the Layout containment rule (project/layout.py). A pending, trash or history row
with a path outside the project is refused as a whole (none of its files is moved), reported in
`report["refused"]` and logged; the row itself is cleared (pending), marked state 'refused'
(trash) or closed (history) so the next open does not try again.
"""
from __future__ import annotations

import os

import orjson

from aimms_fast.errors import OutsideProject, printable_path
from aimms_fast.project.layout import RECORD_TOPS, Layout
from aimms_fast.store.db import transaction, utc_stamp

from aimms_fast.store import pending as P
from aimms_fast.store.pending import PARTIAL_SUFFIX, STAGED_SUFFIX  # noqa: F401 (re-exported)


def recover(db, layout: Layout, log) -> dict:
    conn = db.conn
    report = {"trashed": [], "partials_removed": 0, "refused": []}
    pending = [r[0] for r in conn.execute("SELECT path FROM fast_pending_files")]
    if pending:
        # A join, not `IN (?, ?, …)`: a large import can leave more paths than SQLite allows variables.
        referenced = {r[0] for r in conn.execute(
            "SELECT p.path FROM fast_pending_files p JOIN takes t ON t.file_path = p.path")}
        dest_root = f"recovered_{utc_stamp()}"
        for rel in pending:
            try:
                p = layout.abs(rel, within=RECORD_TOPS)
            except OutsideProject as e:
                _refused(report, log, "fast_pending_files", rel, rel, e)
                continue
            # Temp copies are never referenced; a crash mid-copy leaves one beside the target.
            # Every copy into media/ registers its target here first, so looking only at these
            # names keeps the open fast (no walk over 20K media files).
            for suffix in (PARTIAL_SUFFIX, STAGED_SUFFIX, STAGED_SUFFIX + PARTIAL_SUFFIX):
                tmp = p.with_name(p.name + suffix)
                if os.path.lexists(tmp):
                    tmp.unlink()   # a link is removed itself, never its target
                    report["partials_removed"] += 1
            if rel not in referenced and os.path.lexists(p):
                try:
                    dest = layout.trash_path(f"{dest_root}/{'/'.join(layout.check_rel(rel))}")
                except OutsideProject as e:  # data/trash/ itself leads out: leave the file, say so
                    _refused(report, log, "fast_pending_files", rel, rel, e)
                    continue
                P.move_path(p, dest)
                report["trashed"].append(rel)
        with transaction(db):
            conn.execute("DELETE FROM fast_pending_files")
    report["swaps_finished"] = P.recover_swaps(db, layout, log, report["refused"])
    report["trash_rolled_back"] = _recover_trash(db, layout, log, report)
    report["history_rolled_back"] = _recover_history(db, layout, log, report)
    if report["trashed"] or report["partials_removed"]:
        log.warning("recovered from an interrupted import: %d file(s) moved to %s, %d partial copies removed",
                    len(report["trashed"]), layout.trash, report["partials_removed"])
    return report


def _refused(report: dict, log, table: str, row_id, path, err: OutsideProject) -> None:
    report["refused"].append({"table": table, "id": row_id, "path": printable_path(path), "reason": err.reason})
    log.warning("recovery refused %s row %s: %s", table, printable_path(row_id), err)


def trash_moves(layout: Layout, files_json) -> list[tuple[str, str, "os.PathLike", "os.PathLike"]]:
    """The moves of a fast_trash row as (from, to, media path, trash path), every path checked.
    Raises OutsideProject for the first path outside the project (or a malformed list)."""
    try:
        moves = orjson.loads(files_json)
    except (orjson.JSONDecodeError, TypeError):
        raise OutsideProject(files_json, "the trash entry's file list is not valid JSON") from None
    if not isinstance(moves, list) or not all(isinstance(m, dict) for m in moves):
        raise OutsideProject(files_json, "the trash entry's file list is malformed")
    out = []
    for m in moves:
        frm, to = m.get("from"), m.get("to")
        out.append((frm, to, layout.abs(frm, within=RECORD_TOPS), layout.trash_path(to)))
    return out


def _recover_trash(db, layout: Layout, log, report: dict) -> int:
    """Finish or undo trash moves a crash interrupted (see ops/trash.py for the order of work)."""
    conn = db.conn
    n = 0
    for tid, state, files_json in conn.execute(
            "SELECT id, state, files_json FROM fast_trash WHERE state IN ('moving', 'restoring')").fetchall():
        try:
            moves = trash_moves(layout, files_json)
        except OutsideProject as e:
            _refused(report, log, "fast_trash", tid, e.stored, e)
            with transaction(db):
                conn.execute("UPDATE fast_trash SET state='refused' WHERE id=?", (tid,))
            continue
        # Both interrupted directions end the same way: files back in media/, rows as before the
        # operation (a delete had not removed them yet; an undo had not reinserted them, so the
        # entry stays in the trash, files included).
        back_to_media = state == "moving"
        for _frm, _to, media_p, trash_p in moves:
            src, dst = (trash_p, media_p) if back_to_media else (media_p, trash_p)
            if os.path.lexists(src) and not os.path.lexists(dst):
                P.move_path(src, dst)
        with transaction(db):
            if back_to_media:
                conn.execute("DELETE FROM fast_trash WHERE id=?", (tid,))
            else:
                conn.execute("UPDATE fast_trash SET state='done' WHERE id=?", (tid,))
        n += 1
    return n


def _recover_history(db, layout: Layout, log, report: dict) -> int:
    """An undo/redo interrupted while moving files left its rows untouched (see ops/history.py):
    move the files back to where those rows expect them and mark the entry done."""
    from aimms_fast.store import history as H
    n = 0
    for entry_id, state, files in H.interrupted(db.conn):
        # 'undoing': rows still at 'after' -> files to their after places; 'redoing': the mirror.
        try:
            if not isinstance(files, list):
                raise TypeError("files")
            moves = [(layout.abs(src), layout.abs(dst)) for src, dst in H.moves_to(files, 2 if state == "undoing" else 1)]
        except (OutsideProject, AttributeError, TypeError, KeyError) as e:
            err = e if isinstance(e, OutsideProject) else OutsideProject(files, "the history entry's file list is malformed")
            _refused(report, log, "fast_history", entry_id, err.stored, err)
            moves = None
        for s, d in moves or ():
            if os.path.lexists(s) and not os.path.lexists(d):
                P.move_path(s, d)
        with transaction(db):
            H.set_state(db.conn, entry_id, "done")
        if moves is not None:
            n += 1
    if n:
        log.warning("finished %d undo/redo step(s) a crash interrupted (files put back to match the database)", n)
    return n
