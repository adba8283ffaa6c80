"""The Unused page's bulk actions, each one undo step (ops/history.py) and one audit line in the
project log: delete placeholder takes, move orphan files to the trash, attach an orphan to a shot
as a take, regenerate missing workflow PNGs, remove empty folders of deleted shots, and empty the
trash (the one action that cannot be undone: it says what it frees, and the UI confirms first).
Thread: the project's connection thread (UI thread or a job's own project).
"""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops import history, trash
from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS, move_file
from aimms_fast.store import housekeeping as SH
from aimms_fast.store import takes as TS
from aimms_fast.store.db import transaction
from aimms_fast.store.takes import MAIN_TYPE, next_take_number


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def delete_takes(project, take_ids, *, label: str, kind: str = "takes") -> int | None:
    """Move takes (with their workflow PNG companions) and their files to the trash in one step;
    returns the trash id (None when there was nothing to delete)."""
    project.require_writable()
    conn = project.conn
    ids: list[str] = []
    for t in take_ids:
        for x in TS.with_companions(conn, t):
            if x not in ids:
                ids.append(x)
    if not ids:
        return None
    rows = TS.take_rows(conn, ids)
    if not rows.get("takes"):
        raise NotFoundError("none of these takes exists any more", path=project.root)
    files = [r["file_path"] for r in rows["takes"] if r["file_path"]]
    shot_ids = sorted({r["shot_id"] for r in rows["takes"]})
    rec = history.begin(project, label, what="takes", shot_ids=shot_ids,
                        scope={**history.shot_takes_scope(shot_ids), **trash.new_entry_scope(conn)})
    return trash.trash_files_and_rows(project, kind=kind, label=label, rows=rows, files=files,
                                      delete=lambda c: TS.delete_takes(c, ids), rec=rec)


def delete_placeholders(project, take_ids) -> int | None:
    """Zero-byte placeholder takes (and their placeholder PNGs) to the trash; one undo step."""
    return delete_takes(project, take_ids, label=f"Deleted {_plural(len(list(take_ids)), 'placeholder take')}",
                        kind="placeholders")


def trash_orphans(project, paths) -> int | None:
    """Media files no record refers to, to the trash; one undo step. Refuses a referenced path."""
    project.require_writable()
    paths = list(paths)
    if not paths:
        return None
    refs = SH.referenced_paths(project.conn)
    for p in paths:
        if p in refs:
            raise AimmsError("this file belongs to a take or asset: it is not unused", path=p,
                             hint="scan again; delete the take instead if you mean to remove it")
        q = project.layout.abs(p)   # the link itself when p is a symlink: never its target
        if not os.path.lexists(q) or (q.is_dir() and not q.is_symlink()):   # a FIFO is moved, never opened
            raise NotFoundError("the unused file is gone", path=p, hint="scan again")
    label = f"Moved {_plural(len(paths), 'unused file')} to the trash"
    rec = history.begin(project, label, what="all", scope=trash.new_entry_scope(project.conn))
    return trash.trash_files_and_rows(project, kind="orphans", label=label, rows={}, files=paths, rec=rec)


@dataclass
class Attached:
    take_id: str
    path: str
    companion: str | None
    label: str


def attach_orphan(project, path: str, shot_id: int) -> Attached:
    """Make an unused file a take of `shot_id`: moved to media/<shot>/base_NN.ext (or video_NN.ext,
    taking a same-name unused PNG beside a video along as its workflow PNG); one undo step."""
    from aimms_fast.store.shots import get_shot
    project.require_writable()
    conn = project.conn
    lay = project.layout
    shot = get_shot(conn, shot_id)
    if not shot:
        raise NotFoundError(f"no shot with id {shot_id}", path=project.root)
    refs = SH.referenced_paths(conn)
    if path in refs:
        raise AimmsError("this file already belongs to a take or asset", path=path)
    src = lay.abs(path)
    if not src.is_file():
        raise NotFoundError("the unused file is gone", path=path, hint="scan again")
    ext = src.suffix.lower()
    storyboard = "image" if ext in IMAGE_EXTS else "video" if ext in VIDEO_EXTS else None
    if storyboard is None:
        raise AimmsError(f"'{ext or '(none)'}' files cannot be takes", path=path,
                         hint="supported: " + ", ".join(sorted(IMAGE_EXTS | VIDEO_EXTS)))
    n = next_take_number(conn, shot_id, storyboard)
    prefix = "base" if storyboard == "image" else "video"
    rel = f"media/{shot_id}/{prefix}_{n:02d}{ext}"
    comp_src = None
    crel = None
    if storyboard == "video":
        beside = path.rsplit(".", 1)[0] + ".png"
        if beside not in refs and lay.abs(beside).is_file():
            comp_src, crel = beside, f"media/{shot_id}/video_{n:02d}.png"
    for r in (rel, crel):
        if r and lay.abs(r).exists():
            raise AimmsError("a file already stands where the new take would go", path=r,
                             hint="move it away (it is listed as unused), then attach again")
    name = shot.get("shot_name") or f"shot {shot_id}"
    label = f"Attached {path.rsplit('/', 1)[-1]} to {name} as {'image' if storyboard == 'image' else 'take'} {n:02d}"
    rec = history.begin(project, label, what="takes", shot_ids=[shot_id],
                        scope=history.shot_takes_scope([shot_id]))
    tid = str(uuid.uuid4())
    rows = [dict(take_id=tid, shot_id=shot_id, take_type=MAIN_TYPE[storyboard], rel=rel, storyboard=storyboard,
                 number=n, order=shot.get("order_number"))]
    if crel:
        rows.append(dict(take_id=str(uuid.uuid4()), shot_id=shot_id, take_type="video_workflow", rel=crel,
                         storyboard="video", number=n, order=shot.get("order_number"), companion_of=tid))
    moves = [(path, rel)] + ([(comp_src, crel)] if crel else [])
    done = []
    try:
        for a, b in moves:
            move_file(lay.abs(a), lay.abs(b))
            done.append((a, b))
        with transaction(project.db):
            TS.insert_takes(conn, rows)
            for a, b in moves:
                rec.moved(a, b)
            project.audit("attach_orphan", f"{path} -> {rel} (shot {shot_id})" + (f", {comp_src} -> {crel}" if crel else ""))
            rec.finish()
    except BaseException:
        for a, b in reversed(done):   # rows did not commit: the files go back where they were
            move_file(lay.abs(b), lay.abs(a))
        raise
    try:
        from aimms_fast.media.ingest import after_import
        after_import(project, [rel] + ([crel] if crel else []))
    except Exception:
        project.log.warning("attach %s: probing the new take failed", rel, exc_info=True)
    return Attached(tid, rel, crel, label)


def regenerate_pngs(project, take_ids, *, progress=None) -> list:
    """Rebuild the workflow PNGs of these video takes from their first frames (media/workflow_png);
    one undo step covering every PNG made. Returns the PngStatus list (failures say why)."""
    from aimms_fast.media import workflow_png as W
    project.require_writable()
    take_ids = list(take_ids)
    if not take_ids:
        return []
    conn = project.conn
    shot_ids = sorted({t.shot_id for t in (TS.get_take(conn, x) for x in take_ids) if t})
    lay = project.layout
    before = {st.take_id: st for st in W.check(project, take_ids)}
    rec = history.begin(project, f"Regenerated {_plural(len(take_ids), 'workflow PNG')}", what="takes",
                        shot_ids=shot_ids, scope=history.shot_takes_scope(shot_ids))
    # An empty placeholder PNG beside a real video is set aside first (undo puts it back), so
    # every PNG made here is a new file that undo can take away whole.
    aside = {}
    for tid, st in before.items():
        if st.png and lay.abs(st.png).is_file() and lay.abs(st.png).stat().st_size == 0:
            aside[tid] = (st.png, rec.stash(f"replaced/{st.png}"))
            move_file(lay.abs(st.png), lay.abs(aside[tid][1]))
    try:
        out = W.regenerate(project, take_ids, progress=progress)
    except BaseException:
        for png, kept in aside.values():
            move_file(lay.abs(kept), lay.abs(png))
        raise
    made = [st for st in out if st.action == "regenerated"]
    for st in out:
        if st.take_id in aside and st.action != "regenerated":
            move_file(lay.abs(aside.pop(st.take_id)[1]), lay.abs(st.png or before[st.take_id].png))
    with transaction(project.db):
        for png, kept in aside.values():
            rec.moved(png, kept)
        for st in made:
            rec.created(st.png)
        project.audit("regenerate_pngs", f"{len(made)} of {len(take_ids)} regenerated"
                      + "".join(f"; {st.video}: {st.reason}" for st in out if st.action == "failed"))
        rec.finish(f"Regenerated {_plural(len(made), 'workflow PNG')}")
    return out


def remove_empty_folders(project, paths) -> int:
    """Remove media/<n>/ folders of deleted shots that hold no file (nothing to undo: no data).
    A folder that gained a file meanwhile is left alone."""
    project.require_writable()
    shots = SH.live_shot_ids(project.conn)
    n = 0
    for rel in paths:
        parts = rel.split("/")
        if len(parts) != 2 or parts[0] != "media" or not parts[1].isdigit() or int(parts[1]) in shots:
            raise AimmsError("not an empty folder of a deleted shot", path=rel)
        d = project.layout.abs(rel)
        if not d.is_dir() or any(f for _dp, _dn, f in os.walk(d)):
            continue
        shutil.rmtree(d)
        n += 1
    if n:
        with transaction(project.db):
            project.audit("remove_empty_folders", ", ".join(paths))
    return n


@dataclass
class Emptied:
    removed: list          # project-relative paths removed
    freed: int             # bytes
    files: int


def empty_trash(project, paths) -> Emptied:
    """Delete these entries of data/trash/ (as the Unused page listed them) for good: their steps
    can no longer be undone. Entries not under data/trash/ are refused."""
    project.require_writable()
    lay = project.layout
    tdir = lay.trash.resolve()
    targets = []
    for rel in paths:
        p = lay.abs(rel)
        try:
            p.resolve().relative_to(tdir)
        except ValueError:
            raise AimmsError("only entries of the project trash can be emptied", path=rel) from None
        if p.resolve() == tdir:
            raise AimmsError("name the trash entries to empty, not the trash folder", path=rel)
        targets.append((rel, p))
    removed, freed, nfiles = [], 0, 0
    for rel, p in targets:
        if not p.exists():
            continue
        if p.is_dir():
            for dp, _dn, fns in os.walk(p):
                for fn in fns:
                    try:
                        freed += os.stat(os.path.join(dp, fn)).st_size
                    except OSError:
                        pass
                    nfiles += 1
            shutil.rmtree(p)
        else:
            freed += p.stat().st_size
            nfiles += 1
            p.unlink()
        removed.append(rel)
    gone = {Path(r).relative_to(lay.trash.relative_to(lay.root)).parts[0] for r in removed}
    import orjson
    dead = [tid for tid, _k, _l, _d, restored, fj in SH.trash_entries(project.conn)
            if not restored and {m["to"].split("/")[0] for m in orjson.loads(fj or "[]")} & gone]
    with transaction(project.db):
        SH.forget_trash_entries(project.conn, dead)
        project.audit("empty_trash", f"{len(removed)} entr{'y' if len(removed) == 1 else 'ies'}, "
                      f"{nfiles} file(s), {freed} bytes: " + ", ".join(removed))
    return Emptied(removed, freed, nfiles)
