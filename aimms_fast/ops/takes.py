"""Take use cases for both storyboards: add, placeholders, replace, delete (trash + undo), star."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import orjson

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops import history as _history
from aimms_fast.ops import trash
from aimms_fast.project.recovery import STAGED_SUFFIX
from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS, check_source, copy_into, create_empty, move_file
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import history as H
from aimms_fast.store.db import transaction, utc_now, utc_stamp
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


def _insert_take(conn, *, take_id, shot_id, take_type, rel, storyboard, number, order,
                 companion_of=None, placeholder=False, created=None):
    conn.execute("INSERT INTO takes(take_id, shot_id, take_type, file_path, starred, created_date) "
                 "VALUES (?, ?, ?, ?, 0, ?)", (take_id, shot_id, take_type, rel, created or utc_now()))
    conn.execute("INSERT INTO fast_takes(take_id, shot_id, storyboard, take_number, shot_order, "
                 "companion_of, placeholder, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                 (take_id, shot_id, storyboard, number, order or 0, companion_of, int(placeholder), utc_now()))


def add_takes(project, shot_id: int, files: Iterable[str | Path], *, storyboard: str,
              companions: dict[str, str | Path] | None = None, progress: Progress = None) -> list[str]:
    """Copy files into media/{shot_id}/ as new takes; returns the new take ids in order.

    Videos take a companion workflow PNG from `companions[str(src)]`, or one with the same name
    beside the video; otherwise the take is recorded without one (status: missing).
    All sources are checked before anything is copied. Files land under a temp name and are
    registered in fast_pending_files first, so a crash leaves nothing half-imported.
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
    lay = project.layout
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
        pending = [p for it in items for p in (it[3], it[4]) if p]
        with transaction(project.db):
            conn.executemany("INSERT OR REPLACE INTO fast_pending_files(path, started_at) VALUES (?, ?)",
                             [(p, utc_now()) for p in pending])
        copied = []
        try:
            for k, (src, comp, n, rel, crel) in enumerate(items):
                for s, r in ((src, rel), (comp, crel)):
                    if s is None:
                        continue
                    if lay.abs(r).exists():
                        raise AimmsError("target file already exists and is not a take of this project",
                                         path=lay.abs(r), hint="move it away (see the Unused page), then add again")
                    copy_into(s, lay.abs(r))
                    copied.append(r)
                if progress:
                    progress(start + k + 1, len(plan))
        except BaseException:
            for r in copied:
                lay.abs(r).unlink(missing_ok=True)
            with transaction(project.db):
                conn.executemany("DELETE FROM fast_pending_files WHERE path=?", [(p,) for p in pending])
            if done:
                project.log.warning("add takes to shot %s stopped after %d file(s)", shot_id, len(done))
            raise
        ids = []
        with transaction(project.db):
            for src, comp, n, rel, crel in items:
                tid = str(uuid.uuid4())
                _insert_take(conn, take_id=tid, shot_id=shot_id, take_type=MAIN_TYPE[storyboard], rel=rel,
                             storyboard=storyboard, number=n, order=shot["order_number"])
                if crel:
                    _insert_take(conn, take_id=str(uuid.uuid4()), shot_id=shot_id, take_type=A.VIDEO_WORKFLOW,
                                 rel=crel, storyboard="video", number=n, order=shot["order_number"],
                                 companion_of=tid)
                ids.append(tid)
            conn.executemany("DELETE FROM fast_pending_files WHERE path=?", [(p,) for p in pending])
            project.audit("add_takes", f"shot {shot_id} {storyboard}: {len(ids)} file(s)")
        done += ids
        _after_import(project, [it[3] for it in items] + [it[4] for it in items if it[4]])
    return done


def _after_import(project, rel_paths: list[str]) -> None:
    """Media engine hook: probe + metadata once at import, thumbnails queued (issue 3)."""
    try:
        from aimms_fast.media import ingest
    except ImportError:
        return
    ingest.after_import(project, rel_paths)


def add_placeholders(project, shot_id: int, count: int, *, storyboard: str) -> list[str]:
    """N zero-byte placeholder takes (base_NN.png, or video_NN.mp4 + video_NN.png)."""
    project.require_writable()
    if count < 1:
        raise AimmsError("placeholder count must be at least 1", field="count")
    shot = _require_shot(project, shot_id)
    conn = project.conn
    lay = project.layout
    with transaction(project.db):
        number = next_take_number(conn, shot_id, storyboard)
        ids = []
        for i in range(count):
            n = number + i
            ext = ".png" if storyboard == "image" else ".mp4"
            rel = f"media/{shot_id}/{_file_name(storyboard, n, ext)}"
            create_empty(lay.abs(rel))
            tid = str(uuid.uuid4())
            _insert_take(conn, take_id=tid, shot_id=shot_id, take_type=MAIN_TYPE[storyboard], rel=rel,
                         storyboard=storyboard, number=n, order=shot["order_number"], placeholder=True)
            if storyboard == "video":
                crel = f"media/{shot_id}/{_file_name('video', n, '.png')}"
                create_empty(lay.abs(crel))
                _insert_take(conn, take_id=str(uuid.uuid4()), shot_id=shot_id, take_type=A.VIDEO_WORKFLOW,
                             rel=crel, storyboard="video", number=n, order=shot["order_number"],
                             companion_of=tid, placeholder=True)
            ids.append(tid)
        project.audit("add_placeholders", f"shot {shot_id} {storyboard}: {count}")
    return ids


def _require_take(project, take_id: str):
    t = get_take(project.conn, take_id)
    if not t:
        raise NotFoundError(f"no take with id {take_id}", path=project.root)
    return t


def _take_rows(conn, take_ids: list[str]) -> dict[str, list[dict]]:
    q = ",".join("?" * len(take_ids))
    return {"takes": trash._rows(conn, f"SELECT * FROM takes WHERE take_id IN ({q})", take_ids),
            "fast_takes": trash._rows(conn, f"SELECT * FROM fast_takes WHERE take_id IN ({q})", take_ids)}


def _with_companion(conn, take_id: str) -> list[str]:
    return [take_id] + [r[0] for r in conn.execute("SELECT take_id FROM fast_takes WHERE companion_of=?",
                                                   (take_id,))]


def delete_take(project, take_id: str) -> int:
    """Move a take (and its workflow PNG) to the project trash; returns the trash id for undo."""
    project.require_writable()
    t = _require_take(project, take_id)
    conn = project.conn
    ids = _with_companion(conn, take_id)
    rows = _take_rows(conn, ids)
    files = [r["file_path"] for r in rows["takes"] if r["file_path"]]
    q = ",".join("?" * len(ids))
    return trash.trash_files_and_rows(
        project, kind="take", label=f"{t.file_path} (shot {t.shot_id})", rows=rows, files=files,
        delete_sql=[(f"DELETE FROM fast_takes WHERE take_id IN ({q})", tuple(ids)),
                    (f"DELETE FROM takes WHERE take_id IN ({q})", tuple(ids))])


def replace_take(project, take_id: str, new_file: str | Path, *, companion: str | Path | None = None) -> str:
    """Replace a take's media. The old file (and its record) is kept in data/backup/replaced/;
    the take keeps its id, number, star, notes and rating. Returns the new file_path."""
    project.require_writable()
    t = _require_take(project, take_id)
    allowed = IMAGE_EXTS if t.storyboard == "image" else VIDEO_EXTS
    src = check_source(Path(new_file), allowed, "image" if t.storyboard == "image" else "video")
    comp = None
    if t.storyboard == "video":
        comp = Path(companion) if companion else _companion_beside(src)
        if comp is not None:
            comp = check_source(comp, {".png"}, "workflow PNG")
    conn = project.conn
    lay = project.layout
    new_rel = f"media/{t.shot_id}/{_file_name(t.storyboard, t.take_number, src.suffix)}"
    old_rel = t.file_path
    backup_dir = lay.replaced / f"{utc_stamp()}_{take_id}"
    backup_dir.mkdir(parents=True, exist_ok=True)
    ids = _with_companion(conn, take_id)
    (backup_dir / "record.json").write_bytes(orjson.dumps(_take_rows(conn, ids), option=orjson.OPT_INDENT_2))
    with transaction(project.db):
        conn.execute("INSERT OR REPLACE INTO fast_pending_files(path, started_at) VALUES (?, ?)",
                     (new_rel, utc_now()))
    staged = lay.abs(new_rel).with_name(lay.abs(new_rel).name + STAGED_SUFFIX)
    try:
        copy_into(src, staged)
    except BaseException:
        with transaction(project.db):
            conn.execute("DELETE FROM fast_pending_files WHERE path=?", (new_rel,))
        raise
    # Old file: copied (not moved) to the backup first, so the take never points at nothing.
    old_abs = lay.abs(old_rel)
    if old_abs.exists():
        copy_into(old_abs, backup_dir / old_abs.name)
    staged.replace(lay.abs(new_rel))
    old_comp = t.companion_path
    with transaction(project.db):
        conn.execute("UPDATE takes SET file_path=? WHERE take_id=?", (new_rel, take_id))
        conn.execute("UPDATE fast_takes SET placeholder=0, updated_at=? WHERE take_id=?", (utc_now(), take_id))
        conn.execute("DELETE FROM fast_pending_files WHERE path=?", (new_rel,))
        project.audit("replace_take", f"{take_id}: {old_rel} -> {new_rel} (old kept in {lay.rel(backup_dir)})")
    if old_rel != new_rel and old_abs.exists():
        old_abs.unlink()
    if t.storyboard == "video":
        _replace_companion(project, t, comp, old_comp, backup_dir)
    _after_import(project, [new_rel])
    return new_rel


def _replace_companion(project, t, comp: Path | None, old_comp: str | None, backup_dir: Path) -> None:
    """The old workflow PNG described the old video: back it up; use the new one if given,
    otherwise the take has none (status missing; the media engine can regenerate it)."""
    conn = project.conn
    lay = project.layout
    crel = f"media/{t.shot_id}/{_file_name('video', t.take_number, '.png')}"
    if old_comp and lay.abs(old_comp).exists():
        move_file(lay.abs(old_comp), backup_dir / Path(old_comp).name)
    if comp is not None:
        with transaction(project.db):
            conn.execute("INSERT OR REPLACE INTO fast_pending_files(path, started_at) VALUES (?, ?)",
                         (crel, utc_now()))
        copy_into(comp, lay.abs(crel))
    with transaction(project.db):
        conn.execute("DELETE FROM fast_pending_files WHERE path=?", (crel,))
        existing = conn.execute("SELECT take_id FROM fast_takes WHERE companion_of=?", (t.take_id,)).fetchone()
        if comp is None:
            if existing:
                conn.execute("DELETE FROM fast_takes WHERE take_id=?", (existing[0],))
                conn.execute("DELETE FROM takes WHERE take_id=?", (existing[0],))
        elif existing:
            conn.execute("UPDATE takes SET file_path=? WHERE take_id=?", (crel, existing[0]))
            conn.execute("UPDATE fast_takes SET placeholder=0 WHERE take_id=?", (existing[0],))
        else:
            _insert_take(conn, take_id=str(uuid.uuid4()), shot_id=t.shot_id, take_type=A.VIDEO_WORKFLOW,
                         rel=crel, storyboard="video", number=t.take_number, order=t.shot_order,
                         companion_of=t.take_id)
    if comp is not None:
        _after_import(project, [crel])


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
    project.require_writable()
    _require_take(project, take_id)
    if rating is not None and not 0 <= rating <= 5:
        raise AimmsError(f"rating must be 0..5 (got {rating})", field="rating")
    with transaction(project.db):
        if notes is not None:
            project.conn.execute("UPDATE fast_takes SET notes=?, updated_at=? WHERE take_id=?",
                                 (notes, utc_now(), take_id))
        if rating is not None:
            project.conn.execute("UPDATE fast_takes SET rating=?, updated_at=? WHERE take_id=?",
                                 (rating, utc_now(), take_id))
