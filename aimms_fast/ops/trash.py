"""Project trash (data/trash/): deleted takes and shots with their rows, so a delete can be undone.

Deletes are also steps of the one undo/redo stack (ops/history.py: Ctrl+Z puts a delete back through
that stack); `undo(project, trash_id)` here restores one chosen trash entry and is itself recorded
as a step.

Order of work (recoverable at every step, see project/recovery.py):
  delete: record state='moving' -> move files to trash -> delete rows + state='done' (one transaction)
  undo:   state='restoring' -> move files back -> insert rows + restored_at (one transaction)
"""
from __future__ import annotations

import os

import orjson

from aimms_fast.errors import AimmsError, NotFoundError, OutsideProject
from aimms_fast.ops.files import move_file
from aimms_fast.project.layout import RECORD_TOPS
from aimms_fast.project.recovery import trash_moves
from aimms_fast.store.db import transaction, utc_now, utc_stamp
from aimms_fast.store.takes import owners_of


def _rows(conn, sql, args) -> list[dict]:
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def new_entry_scope(conn) -> dict:
    """History scope (store/history.py) covering trash entries made from now on, and the
    deleted_shots rows (small) a shot delete adds."""
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM fast_trash").fetchone()[0]
    return {"fast_trash": ("id > ?", (top,)), "deleted_shots": None}


def trash_files_and_rows(project, *, kind: str, label: str, rows: dict[str, list[dict]],
                         files: list[str], delete_sql: list[tuple[str, tuple]] = (),
                         delete=None, rec=None, finish: bool = True) -> int:
    """Move `files` (project-relative) to the trash and delete the rows (`delete(conn)` and/or
    `delete_sql`), recoverably.

    `rows` maps table name -> row dicts to reinsert on undo. Returns the trash id. With `rec` (an
    ops/history Recorder) the moves are recorded, and with `finish` the history entry is written
    in the transaction that deletes the rows.

    A file whose stored path is outside the project (errors.OutsideProject) is left where it is and
    logged: its record is deleted, nothing outside is moved in. A symlink is moved itself, never
    its target (a link to another take's file is logged: that file stays with its take).
    """
    lay = project.layout
    conn = project.conn
    folder = stamp = f"{utc_stamp()}_{kind}"
    n = 2
    while (lay.trash / folder).exists():   # two deletes in one second: each its own entry (i9a)
        folder, n = f"{stamp}_{n}", n + 1
    leaving = {str(r.get("take_id")) for r in rows.get("takes", [])} | \
              {str(r.get("id_key")) for r in rows.get("assets", [])}
    moves = []
    for rel in files:
        try:
            path = lay.abs(rel, within=RECORD_TOPS)
        except OutsideProject as e:
            project.log.warning("delete %s: file not moved, %s", label, e)
            continue
        others = [o for o in owners_of(conn, rel) if o not in leaving]
        if others:
            project.log.warning("delete %s: %s stays, record %s still uses it", label, rel, others[0])
            continue
        if os.path.islink(path):
            try:
                target = lay.link_target(rel)
            except OutsideProject:
                target = "a file outside the project"
            project.log.warning("delete %s: %s is a symlink to %s; only the link goes to the trash",
                                label, rel, target)
        if os.path.lexists(path):
            norm = "/".join(lay.check_rel(rel))
            lay.trash_path(f"{folder}/{norm}")  # data/trash/ leading out: refused before any change
            moves.append({"from": rel, "to": f"{folder}/{norm}"})
    with transaction(project.db):
        cur = conn.execute(
            "INSERT INTO fast_trash(kind, label, rows_json, files_json, deleted_at, state) "
            "VALUES (?, ?, ?, ?, ?, 'moving')",
            (kind, label, orjson.dumps(rows).decode(), orjson.dumps(moves).decode(), utc_now()))
        trash_id = cur.lastrowid
    for m in moves:
        move_file(lay.abs(m["from"], within=RECORD_TOPS), lay.trash_path(m["to"]))
    with transaction(project.db):
        if delete is not None:
            delete(conn)
        for sql, args in delete_sql:
            conn.execute(sql, args)
        conn.execute("UPDATE fast_trash SET state='done' WHERE id=?", (trash_id,))
        project.audit(f"delete_{kind}", label)
        if rec is not None:
            for m in moves:
                rec.moved(m["from"], lay.trash_rel(m["to"]))
            if finish:
                rec.finish()
    return trash_id


# AIMMS tables first so foreign keys hold while reinserting.
_INSERT_ORDER = ["shots", "takes", "fast_takes", "deleted_shots",
                 "assets", "fast_asset_meta", "fast_asset_shots", "fast_asset_files"]  # ops/assets.py deletes


def undo(project, trash_id: int | None = None) -> dict:
    """Restore the newest (or the given) trashed item: files back in place, rows reinserted."""
    project.require_writable()
    conn = project.conn
    if trash_id is None:
        r = conn.execute("SELECT id FROM fast_trash WHERE restored_at IS NULL AND state='done' "
                         "ORDER BY id DESC LIMIT 1").fetchone()
        if not r:
            raise NotFoundError("nothing to undo", path=project.root)
        trash_id = r[0]
    rec = conn.execute("SELECT kind, label, rows_json, files_json, restored_at, state FROM fast_trash "
                       "WHERE id=?", (trash_id,)).fetchone()
    if not rec:
        raise NotFoundError(f"no trash entry {trash_id}", path=project.root)
    kind, label, rows_json, files_json, restored_at, state = rec
    if restored_at:
        raise AimmsError(f"trash entry {trash_id} was already restored", path=project.root)
    lay = project.layout
    try:
        checked = trash_moves(lay, files_json)
    except OutsideProject as e:
        raise OutsideProject(e.stored, f"{e.reason}; trash entry {trash_id} ({label}) was not restored") from None
    for _frm, _to, media_p, _trash_p in checked:
        if os.path.lexists(media_p):
            raise AimmsError("cannot restore: a file now stands where it was", path=media_p,
                             hint="move that file away, then undo again")
    moves = [{"from": f, "to": t} for f, t, _m, _t in checked]
    rows = orjson.loads(rows_json)
    from aimms_fast.ops import history
    shot_ids = sorted({r["shot_id"] for t in ("shots", "takes") for r in rows.get(t, []) if r.get("shot_id")})
    hrec = history.begin(project, f"Restored {label} from the trash", what="shots" if kind == "shot" else "takes",
                        shot_ids=shot_ids, scope={**history.shot_scope(shot_ids), "deleted_shots": None,
                                                  "fast_trash": ("id = ?", (trash_id,)),
                                                  **_asset_scope(rows)})
    with transaction(project.db):
        conn.execute("UPDATE fast_trash SET state='restoring' WHERE id=?", (trash_id,))
    for _frm, _to, media_p, trash_p in checked:
        move_file(trash_p, media_p)
    with transaction(project.db):
        for table in _INSERT_ORDER:
            for row in rows.get(table, []):
                cols = list(row)
                conn.execute(f"INSERT OR REPLACE INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) "
                             f"VALUES ({', '.join('?' * len(cols))})", [row[c] for c in cols])
        if kind == "shot":
            ids = [r["shot_id"] for r in rows.get("shots", [])]
            conn.executemany("DELETE FROM deleted_shots WHERE old_shot_id=?", [(i,) for i in ids])
        conn.execute("UPDATE fast_trash SET restored_at=?, state='done' WHERE id=?", (utc_now(), trash_id))
        project.audit(f"undo_delete_{kind}", label)
        for m in moves:
            hrec.moved(lay.trash_rel(m["to"]), m["from"])
        hrec.finish()
    if kind == "shot":
        project.refresh_mapping()
    return {"trash_id": trash_id, "kind": kind, "label": label, "files": len(moves)}


def _asset_scope(rows: dict) -> dict:
    """Undo scope of the asset rows a trashed asset brings back (none for takes and shots)."""
    ids = [r["id_key"] for r in rows.get("assets", [])]
    if not ids:
        return {}
    from aimms_fast.store.assets import asset_scope
    return asset_scope(ids)


def list_trash(project) -> list[dict]:
    # kind 'replace' rows are replace journals (store/pending.py), not trash items.
    return _rows(project.conn, "SELECT id, kind, label, deleted_at, restored_at FROM fast_trash "
                 "WHERE kind != 'replace' ORDER BY id DESC", ())
