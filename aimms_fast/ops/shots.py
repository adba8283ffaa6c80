"""Shot use cases: add (with AIMMS's placeholder takes), edit one or many, delete (to the trash),
reorder."""
from __future__ import annotations

from typing import Iterable

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops import trash
from aimms_fast.ops.takes import add_placeholders
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.db import transaction, utc_now
from aimms_fast.store.shots import get_shot, next_order_number
from aimms_fast.store.takes import refresh_shot_order

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


def add_shot(project, *, placeholders: bool = True, **fields) -> int:
    """New shot; like AIMMS, it starts with one placeholder take in each storyboard."""
    project.require_writable()
    fields = _clean(fields)
    if not (fields.get("shot_name") or "").strip():
        raise AimmsError("shot_name is required", field="shot_name")
    conn = project.conn
    with transaction(project.db):
        if fields.get("order_number") in (None, ""):
            fields["order_number"] = next_order_number(conn)
        cols = list(fields)
        cur = conn.execute(f"INSERT INTO shots ({', '.join(cols)}, created_date) VALUES "
                           f"({', '.join('?' * len(cols))}, ?)", [fields[c] for c in cols] + [utc_now()])
        shot_id = cur.lastrowid
        project.layout.shot_dir(shot_id).mkdir(parents=True, exist_ok=True)
        if placeholders:
            add_placeholders(project, shot_id, 1, storyboard="image")
            add_placeholders(project, shot_id, 1, storyboard="video")
        project.audit("add_shot", f"{shot_id} {fields['shot_name']}")
    project.refresh_mapping()
    return shot_id


def duplicate_names(conn, name: str, exclude: int | None = None) -> list[int]:
    """Shot ids already using `name` (AIMMS allows duplicates; we warn)."""
    return [r[0] for r in conn.execute("SELECT shot_id FROM shots WHERE shot_name = ? AND shot_id IS NOT ?",
                                       (name, exclude))]


def edit_shots(project, shot_ids: Iterable[int], **fields) -> int:
    """Set the same fields on one or many shots in one transaction; returns rows changed."""
    project.require_writable()
    fields = _clean(fields)
    ids = [int(i) for i in shot_ids]
    if not fields or not ids:
        return 0
    if "shot_name" in fields and not (fields["shot_name"] or "").strip():
        raise AimmsError("shot_name cannot be empty", field="shot_name")
    conn = project.conn
    with transaction(project.db):
        missing = [i for i in ids if not get_shot(conn, i)]
        if missing:
            raise NotFoundError(f"no shot with id {missing[0]}", path=project.root)
        sets = ", ".join(f"[{c}] = ?" for c in fields)
        conn.executemany(f"UPDATE shots SET {sets} WHERE shot_id = ?", [[*fields.values(), i] for i in ids])
        if "order_number" in fields:
            refresh_shot_order(conn, ids)
        project.audit("edit_shots", f"{ids}: {sorted(fields)}")
    if "shot_name" in fields:
        project.refresh_mapping()
    return len(ids)


def delete_shots(project, shot_ids: Iterable[int]) -> list[int]:
    """Delete shots: recorded in deleted_shots, media/{id}/ moved to the trash (undo restores)."""
    project.require_writable()
    conn = project.conn
    trash_ids = []
    for sid in [int(i) for i in shot_ids]:
        shot = get_shot(conn, sid)
        if not shot:
            raise NotFoundError(f"no shot with id {sid}", path=project.root)
        rows = {"shots": trash._rows(conn, "SELECT * FROM shots WHERE shot_id=?", (sid,)),
                "takes": trash._rows(conn, "SELECT * FROM takes WHERE shot_id=?", (sid,)),
                "fast_takes": trash._rows(conn, "SELECT * FROM fast_takes WHERE shot_id=?", (sid,))}
        shot_dir = project.layout.shot_dir(sid)
        files = [project.layout.rel(p) for p in sorted(shot_dir.rglob("*")) if p.is_file()] if shot_dir.exists() else []
        trash_ids.append(trash.trash_files_and_rows(
            project, kind="shot", label=f"{sid} {shot['shot_name']}", rows=rows, files=files,
            delete_sql=[("DELETE FROM fast_takes WHERE shot_id=?", (sid,)),
                        ("DELETE FROM takes WHERE shot_id=?", (sid,)),
                        ("DELETE FROM shots WHERE shot_id=?", (sid,)),
                        ("INSERT INTO deleted_shots(old_shot_id, shot_name, created_date) VALUES (?,?,?)",
                         (sid, shot["shot_name"], utc_now()))]))
        if shot_dir.exists() and not any(shot_dir.iterdir()):
            shot_dir.rmdir()
    project.refresh_mapping()
    return trash_ids


def reorder(project, shot_ids_in_order: list[int]) -> None:
    """Renumber order_number 1..N in the given order (all shots must be named once)."""
    project.require_writable()
    conn = project.conn
    ids = [int(i) for i in shot_ids_in_order]
    have = {r[0] for r in conn.execute("SELECT shot_id FROM shots")}
    if set(ids) != have or len(ids) != len(have):
        raise AimmsError("reorder needs every shot exactly once", field="shot_ids")
    with transaction(project.db):
        conn.executemany("UPDATE shots SET order_number=? WHERE shot_id=?",
                         [(n, sid) for n, sid in enumerate(ids, start=1)])
        refresh_shot_order(conn)
        project.audit("reorder", f"{len(ids)} shots")
    project.refresh_mapping()


def move_shot(project, shot_id: int, new_index: int) -> None:
    """Move one shot to position `new_index` (0-based) in story order."""
    ids = [r[0] for r in project.conn.execute("SELECT shot_id FROM shots ORDER BY order_number, shot_id")]
    if shot_id not in ids:
        raise NotFoundError(f"no shot with id {shot_id}", path=project.root)
    ids.remove(shot_id)
    ids.insert(max(0, min(new_index, len(ids))), shot_id)
    reorder(project, ids)
