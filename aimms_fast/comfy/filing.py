"""Filing a ComfyUI result as takes of a shot, once, through the crash-safe add path.

Both the watcher's Inbox and the job runner come here. The Inbox row keyed by the file's path
relative to the output folder (`source`) is the dedup record: it goes to `importing` (with the time)
in one transaction, ops.takes.add_takes copies the files (store/pending: temp name, fsync, rename,
rows, all or nothing), then the row goes to `accepted` with the new take ids. A crash between
the two leaves `importing`; `recover(project)` (run before the watcher or runner starts) looks for
takes the interrupted import committed (same shot, made since, same size) and either marks the row
accepted or puts it back in the Inbox, so a file is never filed twice and never half.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aimms_fast.errors import AimmsError
from aimms_fast.ops import takes as take_ops
from aimms_fast.store import comfy as S
from aimms_fast.store.db import transaction, utc_now


@dataclass
class Filed:
    item_id: int | None
    shot_id: int
    take_ids: list[str]


def file_result(project, *, shot_id: int, storyboard: str, main: Path, companion: Path | None, source: str,
                folder: str, reason: str, job_id: str | None = None, item_id: int | None = None) -> Filed:
    """Copy `main` (+ its workflow PNG `companion` for a video) into shot `shot_id` as a new take.

    `item_id`: the Inbox row being accepted; otherwise a row for `source` is claimed here. When
    one exists: filed already -> that result (nothing copied); waiting and made by the same job
    (an import a crash interrupted) -> imported now; otherwise an AimmsError (it waits in the Inbox).
    Call on the thread that owns `project`'s connection.
    """
    project.require_writable()
    size = main.stat().st_size
    with transaction(project.db) as c:
        if item_id is None:
            item_id = S.claim_source(c, source=source, folder=folder, kind=storyboard,
                                     companion=str(companion) if companion else None, size=size,
                                     mtime_ns=main.stat().st_mtime_ns, shot_id=shot_id, reason=reason,
                                     confident=True, job_id=job_id, state="importing")
        if item_id is None:
            row = S.item_by_source(c, source)
            if row.state == "accepted":
                return Filed(row.item_id, row.shot_id, json.loads(row.take_ids_json or "[]"))
            if not (row.state == "waiting" and job_id and row.job_id == job_id):
                raise AimmsError(f"{source} is {row.state} in the Inbox already", path=main,
                                 hint="accept, reassign or ignore it there")
            item_id = row.item_id
        S.update_item(c, item_id, state="importing", shot_id=shot_id, decided_at=utc_now(), message=None)
    try:
        companions = {str(main): companion} if companion is not None and storyboard == "video" else None
        ids = take_ops.add_takes(project, shot_id, [main], storyboard=storyboard, companions=companions)
    except BaseException as e:
        with transaction(project.db) as c:
            S.update_item(c, item_id, state="waiting", message=str(e)[:500] if isinstance(e, Exception) else None)
        raise
    with transaction(project.db) as c:
        S.update_item(c, item_id, state="accepted", take_ids_json=json.dumps(ids))
    return Filed(item_id, shot_id, ids)


def recover(project) -> int:
    """Settle Inbox rows left `importing` by a crash; returns how many were settled."""
    if project.readonly:
        return 0
    rows = S.list_items(project.conn, states=("importing",))
    for r in rows:
        found = []
        if r.shot_id is not None and r.decided_at:
            for tid, rel in S.main_takes_since(project.conn, r.shot_id, r.decided_at):
                try:
                    if project.layout.abs(rel).stat().st_size == r.size:
                        found.append(tid)
                except (OSError, AimmsError):  # AimmsError: OutsideProject (issue 14), a path leaving the project
                    continue
        with transaction(project.db) as c:
            if found:
                S.update_item(c, r.item_id, state="accepted", take_ids_json=json.dumps(found[-1:]))
            else:
                S.update_item(c, r.item_id, state="waiting", message="import interrupted; nothing was added")
    return len(rows)
