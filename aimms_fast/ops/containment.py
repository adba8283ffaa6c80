"""Records whose stored path leaves the project (issue 14), for `aimms check` and the Routing page.

`outside_records(project)` applies the Layout containment rule (project/layout.py) to every path
the database stores: take and asset files (media/ or the older assets/ only, symlink targets
resolved), trash entries (their from/to moves), pending copies and history moves. A listed record
is "outside the project": no command reads, writes, moves or deletes through it; the user relinks
it (or deletes the record, which leaves the outside file alone). Read only. Cost: a few lstat
calls per record (20K takes: ~0.2 s). Thread: the connection's owner.
"""
from __future__ import annotations

from aimms_fast.errors import OutsideProject, printable_path
from aimms_fast.project.layout import RECORD_TOPS
from aimms_fast.project.recovery import trash_moves
from aimms_fast.store import containment as Q
from aimms_fast.store.pending import SWAP_KIND, checked_swap_steps


def _row(kind: str, path, reason: str, **ids) -> dict:
    return {"kind": kind, "take_id": None, "asset_id": None, "shot_id": None, "row_id": None,
            **ids, "path": path if isinstance(path, str) and path.isprintable() else printable_path(path),
            "reason": reason}


def outside_records(project) -> list[dict]:
    """One dict per refused record: kind ('take' | 'asset' | 'trash' | 'pending' | 'history'),
    take_id / asset_id / shot_id (takes and assets) or row_id (the other tables), path (as stored;
    control characters escaped, binary values described) and reason (why it is refused). Empty for a sound project."""
    lay = project.layout
    conn = project.conn
    out: list[dict] = []
    for take_id, shot_id, take_type, rel in Q.take_paths(conn):
        why = lay.outside_reason(rel, within=RECORD_TOPS)
        if why and rel is not None:  # no path at all is "missing" (routing), not outside
            out.append(_row("take", rel, why, take_id=take_id, shot_id=shot_id))
    for id_key, _name, rel in Q.asset_paths(conn):
        why = lay.outside_reason(rel, within=RECORD_TOPS)
        if why and rel is not None:
            out.append(_row("asset", rel, why, asset_id=id_key))
    for tid, _kind, _label, _state, files_json in Q.trash_rows(conn):
        try:
            if _kind == SWAP_KIND:
                checked_swap_steps(lay, files_json)
            else:
                trash_moves(lay, files_json)
        except OutsideProject as e:
            out.append(_row("trash", e.stored, e.reason, row_id=tid))
    for rel in Q.pending_paths(conn):
        why = lay.outside_reason(rel, follow=False, within=RECORD_TOPS)
        if why:
            out.append(_row("pending", rel, why))
    for hid, _label, files in Q.history_files(conn):
        bad = _history_problem(lay, files)
        if bad:
            out.append(_row("history", bad[0], bad[1], row_id=hid))
    return out


def linked_records(project) -> list[dict]:
    """Takes and assets whose file is a symlink to another file inside the project: kind, take_id /
    asset_id / shot_id, path, target (project-relative) and owners (the records whose own file the
    target is; empty when none). Not refused (reads follow such a link), but a delete or trash
    moves only the link, and `aimms check` says where it points. Links leading outside are in
    `outside_records` instead."""
    import os
    lay = project.layout
    conn = project.conn
    from aimms_fast.store.takes import owners_of
    out = []
    rows = [("take", dict(take_id=t, shot_id=s), rel) for t, s, _tt, rel in Q.take_paths(conn)] + \
           [("asset", dict(asset_id=i), rel) for i, _n, rel in Q.asset_paths(conn)]
    for kind, ids, rel in rows:
        try:
            if not os.path.islink(lay.abs(rel, within=RECORD_TOPS)):
                continue
            target = lay.link_target(rel)
        except OutsideProject:
            continue
        mine = set(ids.values())
        owners = [o for o in owners_of(conn, target) if o not in mine]
        out.append({**_row(kind, rel, "a symlink to another file of the project", **ids),
                    "target": target, "owners": owners})
    return out


def _history_problem(lay, files) -> tuple | None:
    if not isinstance(files, list):
        return files, "the entry's file list is damaged"
    for m in files:
        if not isinstance(m, dict):
            return m, "the entry's file list is malformed"
        for key in ("before", "after"):
            why = lay.outside_reason(m.get(key), follow=False)
            if why:
                return m.get(key), why
    return None
