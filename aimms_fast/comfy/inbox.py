"""The Inbox: ComfyUI outputs the watcher found, waiting for one decision each (accept into the
suggested shot, reassign to another shot, or ignore). Accepting files the output through
comfy/filing.py (the crash-safe add path); the source folder is never changed.

Also the two project settings the watcher needs: the output folder (AIMMS meta
`comfyui_output_path`) and whether confident matches become takes without asking (auto-add).
"""
from __future__ import annotations

from pathlib import Path

from aimms_fast.comfy import filing
from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.store import comfy as S
from aimms_fast.store.db import transaction, utc_now
from aimms_fast.store.shots import get_shot

AUTO_KEY = "auto_add"


def output_folder(project, folder: str | Path | None = None) -> Path:
    """`folder`, else the project's comfyui_output_path; AimmsError when neither is a folder."""
    text = str(folder) if folder else S.get_meta(project.conn, S.META_OUTPUT)
    if not text:
        raise AimmsError("no ComfyUI output folder set", field="comfyui_output_path",
                         hint="set it in Settings or pass --folder PATH")
    path = Path(text).expanduser()
    if not path.is_dir():
        raise AimmsError("the ComfyUI output folder does not exist", path=path, field="comfyui_output_path",
                         hint="check the path in Settings (ComfyUI's output/ folder)")
    return path


def auto_enabled(project) -> bool:
    return bool(S.get_setting(project.conn, AUTO_KEY, False))


def set_auto(project, on: bool) -> None:
    project.require_writable()
    with transaction(project.db) as c:
        S.set_setting(c, AUTO_KEY, bool(on))


def waiting(project) -> list[S.InboxRow]:
    """Items waiting for a decision; a result of a job still active is left out (its job files it
    again after an interrupted import)."""
    out = []
    for r in S.list_items(project.conn, states=("waiting",)):
        j = S.get_job(project.conn, r.job_id) if r.job_id else None
        if j is None or not j.active:
            out.append(r)
    return out


def _require(project, item_id: int) -> S.InboxRow:
    row = S.get_item(project.conn, item_id)
    if row is None:
        raise NotFoundError(f"no Inbox item {item_id}", path=project.root, hint="list them with `aimms inbox PATH`")
    return row


def accept(project, item_id: int, shot_id: int | None = None) -> filing.Filed:
    """File a waiting item into `shot_id` (default: the suggested shot) as a new take."""
    row = _require(project, item_id)
    if row.state != "waiting":
        raise AimmsError(f"Inbox item {item_id} is {row.state}, not waiting")
    sid = shot_id if shot_id is not None else row.shot_id
    if sid is None:
        raise AimmsError(f"no shot suggested for {row.source}", hint="reassign it to a shot")
    if get_shot(project.conn, sid) is None:
        raise NotFoundError(f"no shot with id {sid}", path=project.root)
    main = Path(row.folder) / row.source
    try:
        # The row is stored in the project: a source climbing out of its folder ('../x', '/x',
        # or a link there) is a hostile record, never read (issue 14).
        main.resolve().relative_to(Path(row.folder).resolve())
    except (ValueError, OSError):
        raise AimmsError(f"Inbox item {item_id} names a file outside its output folder", path=main,
                         hint="ignore this item") from None
    if not main.is_file():
        raise AimmsError("the file is gone from the output folder", path=main, hint="ignore this item")
    comp = Path(row.companion) if row.companion and Path(row.companion).is_file() else None
    return filing.file_result(project, shot_id=sid, storyboard=row.kind, main=main, companion=comp,
                              source=row.source, folder=row.folder, reason=row.reason or "manual",
                              job_id=row.job_id, item_id=item_id)


def reassign(project, item_id: int, shot_id: int) -> filing.Filed:
    """File a waiting item into another shot than the suggested one."""
    return accept(project, item_id, shot_id)


def ignore(project, item_id: int) -> None:
    """Leave the file where it is and stop offering it."""
    project.require_writable()
    row = _require(project, item_id)
    if row.state != "waiting":
        raise AimmsError(f"Inbox item {item_id} is {row.state}, not waiting")
    with transaction(project.db) as c:
        S.update_item(c, item_id, state="ignored", decided_at=utc_now())
