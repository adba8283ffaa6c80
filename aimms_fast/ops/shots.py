"""Shot use cases: add (with AIMMS's placeholder takes), edit one or many, delete (to the trash),
reorder. Each call is one step of the undo/redo stack (ops/history.py)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from aimms_fast.errors import AimmsError, NotFoundError, OutsideProject
from aimms_fast.ops import history, trash
from aimms_fast.ops.approvals import guard_shots
from aimms_fast.ops.takes import placeholder_rows
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import shots as S
from aimms_fast.store.db import transaction, utc_now
from aimms_fast.store.pending import pending_files
from aimms_fast.store.shots import get_shot, next_order_number
from aimms_fast.store.takes import insert_takes, refresh_shot_order, shot_rows

EDITABLE = set(A.SHOT_FIELDS)


def _clean(fields: dict) -> dict:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise AimmsError(f"unknown shot field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0],
                         hint="fields: " + ", ".join(A.SHOT_FIELDS))
    out = dict(fields)
    if "order_number" in out and out["order_number"] not in (None, ""):
        try:
            out["order_number"] = int(out["order_number"])
        except (TypeError, ValueError):
            raise AimmsError(f"order_number must be a whole number (got {out['order_number']!r})",
                             field="order_number") from None
    return out


def _name(shot: dict | None, sid) -> str:
    return (shot or {}).get("shot_name") or f"shot {sid}"


def add_shot(project, *, placeholders: bool = True, **fields) -> int:
    """New shot; like AIMMS, it starts with one placeholder take in each storyboard. One undo step."""
    project.require_writable()
    fields = _clean(fields)
    if not (fields.get("shot_name") or "").strip():
        raise AimmsError("shot_name is required", field="shot_name")
    conn = project.conn
    lay = project.layout
    top = S.top_shot_id(conn)
    sid = S.plan_shot_ids(conn, lay, 1)[0]
    if fields.get("order_number") in (None, ""):
        fields["order_number"] = next_order_number(conn)
    rows = []
    if placeholders:
        rows = placeholder_rows(sid, fields["order_number"], "image", 1, 1) + \
            placeholder_rows(sid, fields["order_number"], "video", 1, 1)
    newer = ("shot_id > ?", (top,))
    rec = history.begin(project, f"Added shot {fields['shot_name']}", what="shots", shot_ids=[sid],
                        scope={"shots": newer, "takes": newer, "fast_takes": newer})
    with pending_files(project.db, lay, [r["rel"] for r in rows]) as pf:
        for r in rows:
            pf.create_empty(r["rel"])
        with pf.commit() as c:
            S.insert_shot(c, {**fields, "created_date": utc_now()}, shot_id=sid)
            insert_takes(c, rows)
            for r in rows:
                rec.created(r["rel"])
            project.audit("add_shot", f"{sid} {fields['shot_name']}")
            rec.finish()
    lay.shot_dir(sid).mkdir(parents=True, exist_ok=True)
    project.refresh_mapping()
    return sid


def duplicate_names(conn, name: str, exclude: int | None = None) -> list[int]:
    """Shot ids already using `name` (AIMMS allows duplicates; we warn)."""
    return S.ids_named(conn, name, exclude)


def edit_shots(project, shot_ids: Iterable[int], **fields) -> int:
    """Set the same fields on one or many shots in one transaction (one undo step); returns rows changed."""
    project.require_writable()
    fields = _clean(fields)
    ids = [int(i) for i in shot_ids]
    if not fields or not ids:
        return 0
    if "shot_name" in fields and not (fields["shot_name"] or "").strip():
        raise AimmsError("shot_name cannot be empty", field="shot_name")
    conn = project.conn
    missing = [i for i in ids if not get_shot(conn, i)]
    if missing:
        raise NotFoundError(f"no shot with id {missing[0]}", path=project.root)
    label = f"Edited {_name(get_shot(conn, ids[0]), ids[0])}" if len(ids) == 1 else f"Edited {len(ids)} shots"
    scope = history.shot_scope(ids, takes="order_number" in fields)
    with history.record(project, label, what="shots", shot_ids=ids, scope=scope):
        S.update_shots(conn, ids, fields)
        if "order_number" in fields:
            refresh_shot_order(conn, ids)
        project.audit("edit_shots", f"{ids}: {sorted(fields)}")
    if "shot_name" in fields:
        project.refresh_mapping()
    return len(ids)


def delete_shots(project, shot_ids: Iterable[int]) -> list[int]:
    """Delete shots: recorded in deleted_shots, media/{id}/ moved to the trash. One undo step for
    all of them (and `ops.trash.undo` still restores one trash entry)."""
    project.require_writable()
    conn = project.conn
    sids = [int(i) for i in shot_ids]
    shots = {}
    for sid in sids:
        shot = get_shot(conn, sid)
        if not shot:
            raise NotFoundError(f"no shot with id {sid}", path=project.root)
        shots[sid] = shot
    files_of = {sid: shot_files(project.layout, sid) for sid in sids}  # refuses before anything moves
    if not sids:
        return []
    guard_shots(project, sids)  # issue 12: locked takes and stars
    label = f"Deleted shot {_name(shots[sids[0]], sids[0])}" if len(sids) == 1 else f"Deleted {len(sids)} shots"
    rec = history.begin(project, label, what="shots", shot_ids=sids,
                        scope={**history.shot_scope(sids), **trash.new_entry_scope(conn)})
    trash_ids = []
    for k, sid in enumerate(sids):
        shot = shots[sid]
        rows = shot_rows(conn, sid)
        shot_dir = project.layout.shot_dir(sid)
        files = files_of[sid]
        try:
            trash_ids.append(trash.trash_files_and_rows(
                project, kind="shot", label=f"{sid} {shot['shot_name']}", rows=rows, files=files,
                delete=lambda c, sid=sid, shot=shot: S.delete_shot(c, sid, shot["shot_name"], utc_now()),
                rec=rec, finish=k == len(sids) - 1))
        except BaseException:
            if trash_ids:  # the shots deleted so far stay deleted: still one undo step
                with transaction(project.db):
                    rec.finish(f"Deleted {len(trash_ids)} of {len(sids)} shots (stopped)")
            raise
        if shot_dir.exists() and not any(shot_dir.iterdir()):
            shot_dir.rmdir()
    project.refresh_mapping()
    return trash_ids


def shot_files(layout, shot_id: int) -> list[str]:
    """The entries of media/<shot_id>/ to move to the trash with the shot: files and symlinks (a
    link is moved itself, never followed: a link to another shot's file leaves that file alone).
    Raises OutsideProject when the folder itself is a symlink leading outside the project."""
    rel_dir = f"media/{int(shot_id)}"
    folder = layout.abs(rel_dir)
    if os.path.islink(folder):
        target = layout.link_target(rel_dir)  # OutsideProject when it leads outside
        raise OutsideProject(rel_dir, f"the shot folder is a symlink to {target}; a shot folder must be a "
                                      "real folder", hint="replace the link by a real folder (or remove it), "
                                                          "then delete the shot again")
    if not folder.is_dir():
        return []
    out = []
    for dirpath, dirs, names in os.walk(folder):  # followlinks=False: links to folders are not entered
        d = Path(dirpath)
        for n in sorted(names) + sorted(x for x in dirs if os.path.islink(os.path.join(dirpath, x))):
            out.append(layout.rel(d / n))
        dirs[:] = sorted(x for x in dirs if not os.path.islink(os.path.join(dirpath, x)))
    return sorted(out)


def reorder(project, shot_ids_in_order: list[int]) -> None:
    """Renumber order_number 1..N in the given order (all shots must be named once). One undo step."""
    project.require_writable()
    conn = project.conn
    ids = [int(i) for i in shot_ids_in_order]
    have = set(S.shot_ids(conn))
    if set(ids) != have or len(ids) != len(have):
        raise AimmsError("reorder needs every shot exactly once", field="shot_ids")
    # Whole tables: only the rows whose order changes are kept in the entry.
    with history.record(project, "Reordered shots", what="shots", shot_ids=[],
                        scope={"shots": None, "fast_takes": None}):
        S.set_order(conn, ids)
        refresh_shot_order(conn)
        project.audit("reorder", f"{len(ids)} shots")
    project.refresh_mapping()


def move_shot(project, shot_id: int, new_index: int) -> None:
    """Move one shot to position `new_index` (0-based) in story order."""
    ids = S.shot_ids(project.conn)
    if shot_id not in ids:
        raise NotFoundError(f"no shot with id {shot_id}", path=project.root)
    ids.remove(shot_id)
    ids.insert(max(0, min(new_index, len(ids))), shot_id)
    reorder(project, ids)
