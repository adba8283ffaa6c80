"""Replace a take's media (issue 13's pair rules, issue 14's safety): keeps the take's id, number,
star, notes and rating; never overwrites a file that is not the take's own; kill -9 safe through the
swap journal of store/pending.py; a stored path outside the project is never read, backed up or
deleted. Called through ops/takes.replace_take. Thread: the connection's owner."""
from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath

import orjson

from aimms_fast.errors import AimmsError, MediaError, OutsideProject, printable_path
from aimms_fast.ops import history as _history
from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS, check_source, copy_into
from aimms_fast.ops.takes import _after_import, _companion_beside, _file_name, _require_take, _take_label
from aimms_fast.project.layout import RECORD_TOPS
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import takes as TS
from aimms_fast.store.db import utc_stamp
from aimms_fast.store.pending import STAGED_SUFFIX, journal_swap, pending_files, run_swap
from aimms_fast.store.takes import next_take_number


def _replace_names(project, t, ext: str, own: set[str]) -> tuple[str, str | None]:
    """(new file rel, new workflow PNG rel or None) for replacing take `t` with a file of suffix
    `ext`. The take's own names (in `own`) may be reused: their old files are kept in the backup
    first. Any other existing file or name another record claims is never overwritten: the next
    free number is used instead, as add-take does."""
    lay = project.layout
    conn = project.conn
    video = t.take_type == A.FINAL_VIDEO

    def free(rel: str | None) -> bool:
        if rel is None or rel in own:
            return True
        owner = TS.path_owner(conn, rel)
        return owner in (None, t.take_id) and not os.path.lexists(lay.abs(rel, within=RECORD_TOPS))

    def names(n: int) -> tuple[str, str | None]:
        return (f"media/{t.shot_id}/{_file_name(t.storyboard, n, ext)}",
                f"media/{t.shot_id}/{_file_name('video', n, '.png')}" if video else None)

    rel, crel = names(t.take_number)
    n = max(next_take_number(conn, t.shot_id, t.storyboard), t.take_number + 1)
    while not (free(rel) and free(crel)):
        rel, crel = names(n)
        n += 1
    return rel, crel


def replace_take(project, take_id: str, new_file: str | Path, *, companion: str | Path | None = None) -> str:
    """Replace a take's media, keeping the pair whole; returns the new file_path. One undo step.

    The take keeps its id, number, star, notes and rating. A video take gets the new video's workflow
    PNG: `companion`, else the PNG beside the new file (as add-take does), else one regenerated from
    the new video (media/workflow_png); only a video with no decodable frame is left without one.
    The old file and its old PNG are kept together in data/backup/replaced/<stamp>_<take id>/ with
    record.json (the old rows). No other file is ever overwritten (see `_replace_names`).

    Order (kill -9 safe at every step): new files staged beside their names (registered pending)
    -> old files copied to the backup -> one transaction: new rows + history + the swap journal
    (store/pending.journal_swap) -> staged files renamed into place, old files removed -> journal
    row deleted. A crash before the transaction: recovery removes the staged copies (old pair
    intact); after it: recovery finishes the renames (new pair). A stored path outside the project
    (errors.OutsideProject) is never read, backed up or deleted: the take is simply pointed at the
    new file."""
    project.require_writable()
    t = _require_take(project, take_id)
    allowed = IMAGE_EXTS if t.storyboard == "image" else VIDEO_EXTS
    src = check_source(Path(new_file), allowed, "image" if t.storyboard == "image" else "video")
    comp = None
    if t.take_type == A.FINAL_VIDEO:
        comp = Path(companion) if companion else _companion_beside(src)
        if comp is not None:
            comp = check_source(comp, {".png"}, "workflow PNG")
    conn = project.conn
    lay = project.layout
    old: list[str] = []       # the take's own files inside the project (backed up, then replaced)
    for r in (t.file_path, t.companion_path):
        if not r:
            continue
        try:
            p = lay.read_path(r, within=RECORD_TOPS)  # a link leading outside is refused too
        except OutsideProject as e:
            project.log.warning("replace %s: old file left alone, %s", take_id, e)
            continue
        if os.path.lexists(p):
            old.append(r)
    new_rel, new_crel = _replace_names(project, t, src.suffix, set(old))
    stamp = f"{utc_stamp()}_{take_id}"
    backup_dir = lay.replaced / stamp
    backup_dir.mkdir(parents=True, exist_ok=True)
    ids = TS.with_companions(conn, take_id)
    (backup_dir / "record.json").write_bytes(orjson.dumps(TS.take_rows(conn, ids), option=orjson.OPT_INDENT_2))
    rec = _history.begin(project, f"Replaced {_take_label(project, t)}", what="takes", shot_ids=[t.shot_id],
                         scope=_history.shot_takes_scope([t.shot_id]))
    png_note = None
    with pending_files(project.db, lay, [r for r in (new_rel, new_crel) if r], copier=copy_into) as pf:
        pf.copy(src, new_rel, staged=True)
        has_png = False
        if new_crel and comp is not None:
            pf.copy(comp, new_crel, staged=True)
            has_png = True
        elif new_crel:
            has_png, png_note = _regenerated_png(pf, src, new_crel)
        # Old files: copied (not moved) to the backup first, so the take never points at nothing;
        # the originals leave media/ only after the new rows committed.
        removes = []
        for r in old:
            kept = f"{lay.rel(backup_dir)}/{_backup_name(r)}"
            copy_into(lay.read_path(r, within=RECORD_TOPS), lay.abs(kept))
            rec.moved(r, kept)
            if r not in (new_rel, new_crel):
                removes.append((r, kept))
        renames = [(new_rel + STAGED_SUFFIX, new_rel)] + ([(new_crel + STAGED_SUFFIX, new_crel)] if has_png else [])
        rec.created(new_rel)
        if has_png:
            rec.created(new_crel)
        with pf.commit() as c:
            TS.set_take_file(c, take_id, new_rel)
            existing = TS.companion_id(c, take_id)
            if new_crel and has_png:
                if existing:
                    TS.set_take_file(c, existing, new_crel)
                else:
                    TS.insert_take(c, take_id=str(uuid.uuid4()), shot_id=t.shot_id, take_type=A.VIDEO_WORKFLOW,
                                   rel=new_crel, storyboard="video", number=t.take_number, order=t.shot_order,
                                   companion_of=take_id)
            elif existing:
                TS.delete_takes(c, [existing])  # the old PNG described the old video (kept in the backup)
            journal = journal_swap(c, f"replace {take_id}", renames, removes)
            project.audit("replace_take", f"{take_id}: {printable_path(t.file_path)} -> {new_rel} "
                          f"(old kept in {lay.rel(backup_dir)})" + (f"; workflow PNG: {png_note}" if png_note else ""))
            rec.finish()
    run_swap(project.db, lay, journal)
    if png_note:
        project.log.warning("replace %s: %s", take_id, png_note)
    _after_import(project, [new_rel] + ([new_crel] if has_png else []))
    return new_rel


def _backup_name(rel: str) -> str:
    return "/".join(PurePosixPath(rel.replace("\\", "/")).parts[-1:])


def _regenerated_png(pf, src: Path, crel: str) -> tuple[bool, str | None]:
    """Write a workflow PNG for a replacement video that came without one (staged beside `crel`).
    (written, note): a video without a decodable frame gets none, and the note says why."""
    from aimms_fast.media import workflow_png as W
    try:
        write = W.png_writer_for_video(src)
    except (MediaError, AimmsError) as e:
        return False, f"no workflow PNG: {e.message}"
    pf.write(crel, write, staged=True)
    return True, "regenerated from the new video (no PNG came with it)"
