"""Crash recovery at open: finish or undo file moves an interrupted process left behind.

Invariant after recovery: every take row points at an existing file (or is reported), and every
file we were copying into media/ is either referenced by a take or moved to the project trash.
"""
from __future__ import annotations

import shutil

import orjson

from aimms_fast.project.layout import Layout
from aimms_fast.store.db import transaction, utc_stamp

from aimms_fast.store.pending import PARTIAL_SUFFIX, STAGED_SUFFIX  # noqa: F401 (re-exported)


def recover(db, layout: Layout, log) -> dict:
    conn = db.conn
    report = {"trashed": [], "partials_removed": 0}
    pending = [r[0] for r in conn.execute("SELECT path FROM fast_pending_files")]
    if pending:
        # A join, not `IN (?, ?, …)`: a large import can leave more paths than SQLite allows variables.
        referenced = {r[0] for r in conn.execute(
            "SELECT p.path FROM fast_pending_files p JOIN takes t ON t.file_path = p.path")}
        dest_root = layout.trash / f"recovered_{utc_stamp()}"
        for rel in pending:
            p = layout.abs(rel)
            # Temp copies are never referenced; a crash mid-copy leaves one beside the target.
            # Every copy into media/ registers its target here first, so looking only at these
            # names keeps the open fast (no walk over 20K media files).
            for suffix in (PARTIAL_SUFFIX, STAGED_SUFFIX, STAGED_SUFFIX + PARTIAL_SUFFIX):
                tmp = p.with_name(p.name + suffix)
                if tmp.exists():
                    tmp.unlink()
                    report["partials_removed"] += 1
            if rel not in referenced and p.exists():
                dest = dest_root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(p), str(dest))
                report["trashed"].append(rel)
        with transaction(db):
            conn.execute("DELETE FROM fast_pending_files")
    report["trash_rolled_back"] = _recover_trash(db, layout)
    report["history_rolled_back"] = _recover_history(db, layout, log)
    if report["trashed"] or report["partials_removed"]:
        log.warning("recovered from an interrupted import: %d file(s) moved to %s, %d partial copies removed",
                    len(report["trashed"]), layout.trash, report["partials_removed"])
    return report


def _recover_trash(db, layout: Layout) -> int:
    """Finish or undo trash moves a crash interrupted (see ops/trash.py for the order of work)."""
    conn = db.conn
    n = 0
    for tid, state, files_json in conn.execute(
            "SELECT id, state, files_json FROM fast_trash WHERE state != 'done'").fetchall():
        moves = orjson.loads(files_json)
        # Both interrupted directions end the same way: files back in media/, rows as before the
        # operation (a delete had not removed them yet; an undo had not reinserted them, so the
        # entry stays in the trash, files included).
        back_to_media = state == "moving"
        for m in moves:
            src, dst = (layout.trash / m["to"], layout.abs(m["from"])) if back_to_media else \
                       (layout.abs(m["from"]), layout.trash / m["to"])
            if src.exists() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(src), str(dst))
        with transaction(db):
            if back_to_media:
                conn.execute("DELETE FROM fast_trash WHERE id=?", (tid,))
            else:
                conn.execute("UPDATE fast_trash SET state='done' WHERE id=?", (tid,))
        n += 1
    return n


def _recover_history(db, layout: Layout, log) -> int:
    """An undo/redo interrupted while moving files left its rows untouched (see ops/history.py):
    move the files back to where those rows expect them and mark the entry done."""
    from aimms_fast.store import history as H
    n = 0
    for entry_id, state, files in H.interrupted(db.conn):
        # 'undoing': rows still at 'after' -> files to their after places; 'redoing': the mirror.
        for src, dst in H.moves_to(files, 2 if state == "undoing" else 1):
            s, d = layout.abs(src), layout.abs(dst)
            if s.exists() and not d.exists():
                d.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(s), str(d))
        with transaction(db):
            H.set_state(db.conn, entry_id, "done")
        n += 1
    if n:
        log.warning("finished %d undo/redo step(s) a crash interrupted (files put back to match the database)", n)
    return n
