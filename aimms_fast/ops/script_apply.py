"""Writing a script diff (ops/script.py): added and changed shots with their fast_script_shots rows in
one transaction and one undo step (placeholder takes as AIMMS makes them, files registered as
pending first so a crash leaves nothing half-made), then the removed shots through
ops/shots.delete_shots (deleted_shots + media to the trash, a second undo step), then story order.
Thread: the project's owner thread.
"""
from __future__ import annotations

from pathlib import Path

from aimms_fast.ops import history
from aimms_fast.ops.script import ScriptDiff, script_rows
from aimms_fast.store import script as SS
from aimms_fast.store.db import utc_now


def apply_diff(project, d: ScriptDiff, *, placeholders: bool = True) -> list[int]:
    """Returns the new shot ids."""
    from aimms_fast.ops.shots import delete_shots
    from aimms_fast.ops.takes import placeholder_rows
    from aimms_fast.store.pending import pending_files
    from aimms_fast.store.shots import insert_shot, plan_shot_ids, update_shots
    from aimms_fast.store.takes import insert_takes
    conn = project.conn
    lay = project.layout
    now = utc_now()
    ids = plan_shot_ids(conn, lay, len(d.added)) if d.added else []
    # story order: the script's order for its shots; other shots keep theirs after them
    position = {id(p): n for n, p in enumerate(d.planned)}
    next_order = conn.execute("SELECT COALESCE(MAX(order_number), 0) FROM shots").fetchone()[0] + 1
    take_rows, shot_rows = [], []
    for sid, p in zip(ids, d.added):
        v = {**p.fields, "order_number": next_order + position[id(p)], "created_date": now}
        shot_rows.append((sid, v))
        if placeholders:
            take_rows += placeholder_rows(sid, v["order_number"], "image", 1, 1)
            take_rows += placeholder_rows(sid, v["order_number"], "video", 1, 1)
    changed_ids = [sid for sid, _ in d.changed]
    touched = ids + changed_ids + [sid for sid, _ in d.kept]
    name = Path(d.script.path).name
    rec = history.begin(project, f"Imported script {name} ({d.summary()})", what="all", shot_ids=ids + changed_ids,
                        scope={"shots": history.ids_in("shot_id", ids + changed_ids),
                               "takes": history.ids_in("shot_id", ids), "fast_takes": history.ids_in("shot_id", ids),
                               "fast_script_shots": history.ids_in("shot_id", touched)})
    with pending_files(project.db, lay, [t["rel"] for t in take_rows]) as pf:
        for t in take_rows:
            pf.create_empty(t["rel"])
        with pf.commit() as c:
            for sid, v in shot_rows:
                insert_shot(c, v, shot_id=sid)
            for sid, p in d.changed:
                update_shots(c, [sid], p.update_fields(d.old_headings.get(sid, p.heading)))
            insert_takes(c, take_rows)
            SS.put(c, script_rows(d, list(zip(ids, d.added)) + d.changed + d.kept))
            for t in take_rows:
                rec.created(t["rel"])
            project.audit("import_script", f"{name}: {d.summary()} ({d.granularity})")
            rec.finish()
    for sid in ids:
        lay.shot_dir(sid).mkdir(parents=True, exist_ok=True)
    if d.removed:
        delete_shots(project, [sid for sid, _ in d.removed])
    _story_order(project, d, dict(zip([id(p) for p in d.added], ids)))
    project.refresh_mapping()
    return ids


def _story_order(project, d: ScriptDiff, new_ids: dict) -> None:
    """Script shots in script order first, the project's other shots after them (one undo step,
    only when the order actually changes)."""
    from aimms_fast.ops.shots import reorder
    from aimms_fast.store.shots import shot_ids
    owner = {id(p): sid for sid, p in d.changed + d.kept}
    owner.update(new_ids)
    script_ids = [owner[id(p)] for p in d.planned if id(p) in owner]
    have = shot_ids(project.conn)
    rest = [s for s in have if s not in set(script_ids)]
    want = script_ids + rest
    if want != have:
        reorder(project, want)
