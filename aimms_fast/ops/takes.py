"""Take use cases for both storyboards: add, placeholders, replace, delete (trash), star, notes.

Every change is one undo step (ops/history.py); new files come in through store/pending.py (the
crash-safe copy). Row writes go through store/takes.py: no SQL here.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops import history as _history
from aimms_fast.ops import trash
from aimms_fast.ops.approvals import guard_take
from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS, check_source, copy_into
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import history as H
from aimms_fast.store import takes as TS
from aimms_fast.store.db import transaction
from aimms_fast.store.pending import pending_files
from aimms_fast.store.shots import get_shot
from aimms_fast.store.takes import MAIN_TYPE, get_take, next_take_number, set_star, star_slots

BATCH = 64  # files per transaction in bulk adds: progress survives a crash, rows stay consistent
Progress = Callable[[int, int], None] | None


def _file_name(storyboard: str, number: int, ext: str) -> str:
    # AIMMS names: base_01.png, video_01.mp4 (+ video_01.png); numbers simply grow past 99.
    prefix = "base" if storyboard == "image" else "video"
    return f"{prefix}_{number:02d}{ext.lower()}"


def _companion_beside(video: Path) -> Path | None:
    """ComfyUI (VideoHelperSuite) saves name.mp4 next to name.png: take it along automatically."""
    for ext in (".png", ".PNG"):
        p = video.with_suffix(ext)
        if p.is_file():
            return p
    return None


def _require_shot(project, shot_id: int) -> dict:
    shot = get_shot(project.conn, shot_id)
    if not shot:
        raise NotFoundError(f"no shot with id {shot_id}", path=project.root,
                            hint="list shots with `aimms shots PATH`")
    return shot


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def add_takes(project, shot_id: int, files: Iterable[str | Path], *, storyboard: str,
              companions: dict[str, str | Path] | None = None, progress: Progress = None) -> list[str]:
    """Copy files into media/{shot_id}/ as new takes; returns the new take ids in order.

    Videos take a companion workflow PNG from `companions[str(src)]`, or one with the same name
    beside the video; otherwise the take is recorded without one (status: missing).
    All sources are checked before anything is copied. Batches of BATCH files each go through
    store/pending (crash-safe); the whole call is one undo step (the batches that finished, if a
    later one fails).
    """
    project.require_writable()
    if storyboard not in ("image", "video"):
        raise AimmsError(f"unknown storyboard '{storyboard}'", hint="use image or video")
    shot = _require_shot(project, shot_id)
    allowed = IMAGE_EXTS if storyboard == "image" else VIDEO_EXTS
    companions = {str(k): Path(v) for k, v in (companions or {}).items()}
    plan: list[tuple[Path, Path | None]] = []
    for f in files:
        src = check_source(Path(f), allowed, "image" if storyboard == "image" else "video")
        comp = None
        if storyboard == "video":
            comp = companions.get(str(f)) or companions.get(str(src)) or _companion_beside(src)
            if comp is not None:
                comp = check_source(comp, {".png"}, "workflow PNG")
        plan.append((src, comp))
    if not plan:
        return []
    conn = project.conn
    kind = "image take" if storyboard == "image" else "video take"
    name = shot.get("shot_name") or f"shot {shot_id}"
    rec = _history.begin(project, f"Added {_plural(len(plan), kind)} to {name}", what="takes",
                         shot_ids=[shot_id], scope=_history.shot_takes_scope([shot_id]))
    done: list[str] = []
    for start in range(0, len(plan), BATCH):
        batch = plan[start:start + BATCH]
        number = next_take_number(conn, shot_id, storyboard)
        items = []
        for i, (src, comp) in enumerate(batch):
            n = number + i
            rel = f"media/{shot_id}/{_file_name(storyboard, n, src.suffix)}"
            crel = f"media/{shot_id}/{_file_name(storyboard, n, '.png')}" if comp else None
            items.append((src, comp, n, rel, crel))
        last = start + BATCH >= len(plan)
        try:
            with pending_files(project.db, project.layout, [r for it in items for r in it[3:] if r],
                               copier=copy_into, defer_sync=True) as pf:
                for k, (src, comp, n, rel, crel) in enumerate(items):
                    pf.copy(src, rel)
                    if comp is not None:
                        pf.copy(comp, crel)
                    if progress:
                        progress(start + k + 1, len(plan))
                ids, rows = [], []
                for src, comp, n, rel, crel in items:
                    tid = str(uuid.uuid4())
                    rows.append(dict(take_id=tid, shot_id=shot_id, take_type=MAIN_TYPE[storyboard], rel=rel,
                                     storyboard=storyboard, number=n, order=shot["order_number"]))
                    if crel:
                        rows.append(dict(take_id=str(uuid.uuid4()), shot_id=shot_id, take_type=A.VIDEO_WORKFLOW,
                                         rel=crel, storyboard="video", number=n, order=shot["order_number"],
                                         companion_of=tid))
                    ids.append(tid)
                with pf.commit() as c:
                    TS.insert_takes(c, rows)
                    for r in pf.rels:
                        rec.created(r)
                    project.audit("add_takes", f"shot {shot_id} {storyboard}: {len(ids)} file(s)")
                    if last:
                        rec.finish()
        except BaseException:
            if done:
                project.log.warning("add takes to shot %s stopped after %d file(s)", shot_id, len(done))
                with transaction(project.db):
                    rec.finish(f"Added {_plural(len(done), kind)} to {name} (of {len(plan)}; stopped)")
            raise
        done += ids
        # Batches but the last are probed while the next one copies; the last stores them all.
        _after_import(project, [it[3] for it in items] + [it[4] for it in items if it[4]], defer=not last)
    return done


def _after_import(project, rel_paths: list[str], defer: bool = False) -> None:
    """Media engine hook: probe + metadata once at import, thumbnails queued (issue 3)."""
    try:
        from aimms_fast.media import ingest
    except ImportError:
        return
    ingest.after_import(project, rel_paths, defer=defer)


def placeholder_rows(shot_id: int, order: int | None, storyboard: str, first: int, count: int
                     ) -> list[dict]:
    """Rows (for store.takes.insert_takes) of `count` zero-byte placeholder takes numbered from
    `first`: base_NN.png, or video_NN.mp4 + its video_NN.png workflow companion."""
    rows = []
    for n in range(first, first + count):
        ext = ".png" if storyboard == "image" else ".mp4"
        tid = str(uuid.uuid4())
        rows.append(dict(take_id=tid, shot_id=shot_id, take_type=MAIN_TYPE[storyboard], storyboard=storyboard,
                         rel=f"media/{shot_id}/{_file_name(storyboard, n, ext)}", number=n, order=order,
                         placeholder=True))
        if storyboard == "video":
            rows.append(dict(take_id=str(uuid.uuid4()), shot_id=shot_id, take_type=A.VIDEO_WORKFLOW,
                             storyboard="video", rel=f"media/{shot_id}/{_file_name('video', n, '.png')}",
                             number=n, order=order, companion_of=tid, placeholder=True))
    return rows


def add_placeholders(project, shot_id: int, count: int, *, storyboard: str) -> list[str]:
    """N zero-byte placeholder takes (base_NN.png, or video_NN.mp4 + video_NN.png); one undo step."""
    project.require_writable()
    if count < 1:
        raise AimmsError("placeholder count must be at least 1", field="count")
    if storyboard not in ("image", "video"):
        raise AimmsError(f"unknown storyboard '{storyboard}'", hint="use image or video")
    shot = _require_shot(project, shot_id)
    conn = project.conn
    rows = placeholder_rows(shot_id, shot["order_number"], storyboard,
                            next_take_number(conn, shot_id, storyboard), count)
    rec = _history.begin(project, f"Added {_plural(count, 'placeholder')} to {shot.get('shot_name') or shot_id}",
                         what="takes", shot_ids=[shot_id], scope=_history.shot_takes_scope([shot_id]))
    with pending_files(project.db, project.layout, [r["rel"] for r in rows]) as pf:
        for r in rows:
            pf.create_empty(r["rel"])
        with pf.commit() as c:
            TS.insert_takes(c, rows)
            for r in rows:
                rec.created(r["rel"])
            project.audit("add_placeholders", f"shot {shot_id} {storyboard}: {count}")
            rec.finish()
    return [r["take_id"] for r in rows if not r.get("companion_of")]


def _require_take(project, take_id: str):
    t = get_take(project.conn, take_id)
    if not t:
        raise NotFoundError(f"no take with id {take_id}", path=project.root)
    return t


def _take_label(project, t) -> str:
    kind = "image" if t.storyboard == "image" else "take"
    return f"{kind} {t.take_number:02d} of {_shot_name(project, t.shot_id)}"


def delete_take(project, take_id: str) -> int:
    """Move a take (and its workflow PNG) to the project trash; returns the trash id. One undo step."""
    project.require_writable()
    t = _require_take(project, take_id)
    guard_take(project, take_id, "delete")  # issue 12: locked takes
    conn = project.conn
    ids = TS.with_companions(conn, take_id)
    rows = TS.take_rows(conn, ids)
    files = [r["file_path"] for r in rows["takes"] if r["file_path"]]
    rec = _history.begin(project, f"Deleted {_take_label(project, t)}", what="takes", shot_ids=[t.shot_id],
                         scope={**_history.shot_takes_scope([t.shot_id]), **trash.new_entry_scope(conn)})
    return trash.trash_files_and_rows(
        project, kind="take", label=f"{t.file_path} (shot {t.shot_id})", rows=rows, files=files,
        delete=lambda c: TS.delete_takes(c, ids), rec=rec)


def replace_take(project, take_id: str, new_file: str | Path, *, companion: str | Path | None = None) -> str:
    """Replace a take's media keeping the pair whole; returns the new file_path (ops/replace.py)."""
    from aimms_fast.ops.replace import replace_take as replace
    guard_take(project, take_id, "replace")  # issue 12: locked takes
    return replace(project, take_id, new_file, companion=companion)


SLOT_NAMES = {1: "first frame", 2: "middle frame", 3: "last frame"}


@dataclass
class StarResult:
    """What `toggle_star` did. `label` is the toast line ("Starred take 03 of SHOT_020")."""
    take_id: str
    starred: int                  # the take's new value: 0, 1 (videos) or the slot 1/2/3 (images)
    label: str
    shot_id: int = 0
    unstarred: list[str] = field(default_factory=list)  # takes of the shot that lost their star


def _shot_name(project, shot_id: int) -> str:
    s = get_shot(project.conn, shot_id)
    return (s or {}).get("shot_name") or f"shot {shot_id}"


def toggle_star(project, take_id: str, *, slot: int | None = None) -> StarResult:
    """S on a take: an exact toggle of THAT take (any thread owning project's connection).

    A starred take is unstarred (nothing else changes, so S twice on a starred take is no change).
    An unstarred take is starred: a video becomes the shot's chosen take (starred=1; the star moves
    from the shot's other video, as in AIMMS); a base image gets reference slot `slot`, or without
    one the slot it had when last unstarred (from the history) if free, else the lowest free slot 1/2/3
    (first/middle/last frame), refusing when all three are taken.
    With `slot` given for an image starred in another slot, the image moves to that slot (the
    shot window's slot picker); the slot's previous holder loses it.
    """
    project.require_writable()
    t = _require_take(project, take_id)
    guard_take(project, take_id, "star")  # issue 12: locked takes and stars
    conn = project.conn
    if t.take_type not in (A.FINAL_VIDEO, A.BASE_IMAGE):
        raise AimmsError(f"takes of type {t.take_type} cannot be starred", field="take_type",
                         hint="star the video or base image take instead")
    if slot is not None and (t.take_type != A.BASE_IMAGE or slot not in (1, 2, 3)):
        if t.take_type != A.BASE_IMAGE:
            slot = None  # videos have one star value; a slot picked for an image does not apply
        else:
            raise AimmsError(f"image star slot must be 1, 2 or 3 (got {slot})", field="slot")
    if t.starred and (slot is None or slot == t.starred):
        value = 0
    elif t.take_type == A.FINAL_VIDEO:
        value = 1
    elif slot is not None:
        value = slot
    else:
        used = star_slots(conn, t.shot_id, t.take_type)
        free = [s for s in (1, 2, 3) if s not in used]
        last = H.last_unstarred_value(conn, take_id, t.shot_id)
        if last in free:  # S on a starred image, then S again: back in the same slot
            free = [last]
        if not free:
            raise AimmsError(f"all three reference slots of shot '{_shot_name(project, t.shot_id)}' are taken",
                             field="slot", hint="unstar one of its images first, or pick a slot in the shot window")
        value = free[0]
    name = _shot_name(project, t.shot_id)
    kind = "take" if t.take_type == A.FINAL_VIDEO else "image"
    if value == 0 and t.take_type == A.FINAL_VIDEO and \
            _history.peek_undo(project) == f"Starred take {t.take_number:02d} of {name}":
        # S right after S on this video: take the first S back exactly, so the video it took the
        # star from has it again (S twice = no change, issue 13), rather than leaving no star.
        _history.undo(project)
        back = [x for x in TS.takes_for_shot(conn, t.shot_id, "video") if x.starred]
        again = f" (take {back[0].take_number:02d} has the star again)" if back else ""
        return StarResult(take_id=take_id, starred=0, shot_id=t.shot_id, unstarred=[],
                          label=f"Unstarred take {t.take_number:02d} of {name}{again}")
    if value == 0:
        label = f"Unstarred {kind} {t.take_number:02d} of {name}"
    elif t.take_type == A.FINAL_VIDEO:
        label = f"Starred take {t.take_number:02d} of {name}"
    else:
        label = f"Starred image {t.take_number:02d} of {name} as reference {value} ({SLOT_NAMES[value]})"
    with _history.record(project, label, what="takes", shot_ids=[t.shot_id],
                         scope=_history.shot_takes_scope([t.shot_id])):
        with transaction(project.db):
            lost = set_star(conn, t, value, one_per_shot=t.take_type == A.FINAL_VIDEO)
            project.audit("star" if value else "unstar", f"{take_id} ({t.file_path}) = {value}"
                          + (f"; unstarred {', '.join(lost)}" if lost else ""))
    return StarResult(take_id=take_id, starred=value, label=label, shot_id=t.shot_id, unstarred=lost)


def star_take(project, take_id: str, *, slot: int | None = None, on: bool | None = None) -> int:
    """Older entry point (returns the new `starred` value). `on=None` is `toggle_star`; `on=True`
    stars (slot or 1) whatever the current value, `on=False` unstars."""
    if on is None:
        return toggle_star(project, take_id, slot=slot).starred
    t = _require_take(project, take_id)
    if on and t.take_type == A.BASE_IMAGE and (slot or 1) not in (1, 2, 3):
        raise AimmsError(f"image star slot must be 1, 2 or 3 (got {slot})", field="slot")
    want = (slot or 1) if on and t.take_type == A.BASE_IMAGE else int(bool(on))
    if t.starred == want:
        return want
    if want == 0:
        return toggle_star(project, take_id).starred
    return toggle_star(project, take_id, slot=want if t.take_type == A.BASE_IMAGE else None).starred


def set_notes(project, take_id: str, *, notes: str | None = None, rating: int | None = None) -> None:
    """A take's notes and/or rating (0..5); one undo step."""
    project.require_writable()
    t = _require_take(project, take_id)
    if rating is not None and not 0 <= rating <= 5:
        raise AimmsError(f"rating must be 0..5 (got {rating})", field="rating")
    what = "notes" if rating is None else "rating" if notes is None else "notes and rating"
    with _history.record(project, f"Edited {what} of {_take_label(project, t)}", what="takes",
                         shot_ids=[t.shot_id], scope={"fast_takes": H.ids_in("take_id", [take_id])}):
        TS.set_notes(project.conn, take_id, notes=notes, rating=rating)
