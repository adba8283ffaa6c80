"""Asset use cases (issue 8): import, rename, star, delete (trash), tags and notes, assign to shots.

Assets live where AIMMS keeps them: `media/<characters|locations|other>/<original file name>` and a
row in AIMMS's `assets` table (id_key `asset_<uuid4>`, asset_type, project-relative file_path). A
name already taken gets `_2`, `_3` … before the extension (as our CSV/backup files do). A .gltf
that refers to external files (.bin buffers, textures) is copied with them into its own folder
`media/<kind>/<stem>/`, relative layout kept, so the model still loads; those extra files are
listed in fast_asset_files (migrations/m006_assets.py) so delete, undo and the Unused page know them.

Every change is one undo step (ops/history.py); files come in through store/pending.py (the one
crash-safe copy); deletes go to the project trash (ops/trash.py). Rows are written by
store/assets.py: no SQL here. Thread: whichever thread owns `project`'s connection.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable
from urllib.parse import unquote

import orjson

from aimms_fast.errors import AimmsError, NotFoundError, OutsideProject
from aimms_fast.ops import history as _history
from aimms_fast.ops import trash
from aimms_fast.ops.approvals import guard_asset
from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS, check_source, copy_into
from aimms_fast.project.layout import ASSET_KINDS
from aimms_fast.store import assets as AS
from aimms_fast.store.assets import AssetRow
from aimms_fast.store.pending import pending_files
from aimms_fast.store.shots import find_shots, get_shot

AUDIO_EXTS = {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac"}
MODEL_EXTS = {".glb", ".gltf", ".fbx"}
ASSET_EXTS = IMAGE_EXTS | VIDEO_EXTS | AUDIO_EXTS | MODEL_EXTS
Progress = Callable[[int, int], None] | None


def media_kind(path: str | Path) -> str:
    """'image' | 'video' | 'audio' | 'model' | 'other' by extension (what the page shows for it)."""
    ext = Path(str(path)).suffix.lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    if ext in AUDIO_EXTS:
        return "audio"
    if ext in MODEL_EXTS:
        return "model"
    return "other"


def _check_kind(kind: str) -> str:
    if kind not in ASSET_KINDS:
        raise AimmsError(f"unknown asset type '{kind}'", field="type", hint="use " + ", ".join(ASSET_KINDS))
    return kind


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    """'a, b,,a' or ['a', ' b'] -> ['a', 'b']: trimmed, empty and repeated (case-insensitive) dropped."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    out, seen = [], set()
    for t in tags:
        t = " ".join(str(t).split())
        if t and t.lower() not in seen:
            seen.add(t.lower())
            out.append(t)
    return out


# -- glTF companions ------------------------------------------------------------------------------
def gltf_resources(path: Path) -> list[str]:
    """Relative URIs (decoded, forward slashes) of the external buffers and images a .gltf uses.
    Embedded `data:` URIs need nothing. Raises AimmsError naming the file for broken JSON, an
    absolute or escaping URI, or a resource that is not there."""
    try:
        doc = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise AimmsError(f"not a readable glTF file ({e})", path=path,
                         hint="export it again as .gltf or .glb") from e
    if not isinstance(doc, dict):
        raise AimmsError("not a glTF file (no JSON object at the top)", path=path)
    out: list[str] = []
    for key in ("buffers", "images"):
        for i, item in enumerate(doc.get(key) or []):
            uri = item.get("uri") if isinstance(item, dict) else None
            if not uri or uri.startswith("data:"):
                continue
            rel = unquote(uri).replace("\\", "/")
            pp = PurePosixPath(rel)
            if pp.is_absolute() or ".." in pp.parts or ":" in pp.parts[0]:
                raise AimmsError(f"{key}[{i}] refers to '{uri}' outside the model's folder", path=path,
                                 hint="keep the .bin and textures beside the .gltf, or export a .glb")
            src = Path(path).parent / Path(*pp.parts)
            if not src.is_file():
                raise AimmsError(f"{key}[{i}] file '{uri}' is missing", path=src,
                                 hint="copy it next to the .gltf (or export a .glb, which holds everything)")
            if pp.as_posix() not in out:
                out.append(pp.as_posix())
    return out


# -- import ---------------------------------------------------------------------------------------
@dataclass
class _Plan:
    src: Path
    name: str
    rel: str                       # assets.file_path
    extras: list[tuple[Path, str]]  # (source, project-relative target) of a glTF's other files
    id_key: str


def _unique(base_dir: str, name: str, taken, *, folder: bool = False) -> str:
    """base_dir/name, or base_dir/stem_2.ext … when taken (on disk, by a row, or earlier in the batch)."""
    p = PurePosixPath(name)
    stem, ext = (name, "") if folder else (p.stem, p.suffix)
    n = 1
    while True:
        cand = f"{base_dir}/{stem}{'' if n == 1 else f'_{n}'}{ext}"
        if not taken(cand):
            return cand
        n += 1


def add_assets(project, files: Iterable[str | Path], *, kind: str, name: str | None = None,
               tags: Iterable[str] | str | None = None, notes: str = "",
               progress: Progress = None) -> list[str]:
    """Copy files into media/<kind>/ as new assets; returns their id_keys in order. One undo step.

    `name` (only with one file) names the asset, else the file's stem. Every source (and a glTF's
    buffers/textures) is checked before anything is copied; the copies and rows go through
    store/pending in one transaction: all or nothing.
    """
    project.require_writable()
    _check_kind(kind)
    srcs = [check_source(Path(f), ASSET_EXTS, "asset file") for f in files]
    if not srcs:
        return []
    if name is not None and len(srcs) > 1:
        raise AimmsError("--name needs exactly one file", field="name",
                         hint="import several files without a name (each is named after its file)")
    if name is not None and not name.strip():
        raise AimmsError("asset name is empty", field="name")
    tags = clean_tags(tags)
    conn = project.conn
    lay = project.layout
    base = lay.rel(lay.asset_dir(kind)) if lay.asset_dir(kind).exists() else f"media/{kind}"
    used = AS.taken_paths(conn)
    batch: set[str] = set()

    def taken(rel: str) -> bool:
        return rel in used or rel in batch or os.path.lexists(lay.abs(rel)) or any(b.startswith(rel + "/") for b in batch)

    plans: list[_Plan] = []
    for src in srcs:
        extras: list[tuple[Path, str]] = []
        res = gltf_resources(src) if src.suffix.lower() == ".gltf" else []
        if res:
            folder = _unique(base, src.stem, taken, folder=True)
            rel = f"{folder}/{src.name}"
            extras = [(src.parent / Path(*PurePosixPath(r).parts), f"{folder}/{r}") for r in res]
        else:
            rel = _unique(base, src.name, taken)
        batch.add(rel)
        batch.update(t for _, t in extras)
        plans.append(_Plan(src=src, name=(name.strip() if name else src.stem), rel=rel, extras=extras,
                           id_key=f"asset_{uuid.uuid4()}"))
    ids = [p.id_key for p in plans]
    label = (f"Imported {plans[0].name} ({kind})" if len(plans) == 1
             else f"Imported {_plural(len(plans), 'asset')} ({kind})")
    rec = _history.begin(project, label, what="assets", scope=AS.asset_scope(ids))
    rels = [r for p in plans for r in [p.rel] + [t for _, t in p.extras]]
    total = len(rels)
    with pending_files(project.db, lay, rels, copier=copy_into) as pf:
        k = 0
        for p in plans:
            for src, rel in [(p.src, p.rel)] + p.extras:
                pf.copy(src, rel)
                k += 1
                if progress:
                    progress(k, total)
        with pf.commit() as c:
            for p in plans:
                AS.insert_asset(c, id_key=p.id_key, name=p.name, kind=kind, rel=p.rel, tags=tags, notes=notes,
                                extra_files=[t for _, t in p.extras])
            for r in rels:
                rec.created(r)
            project.audit("add_assets", f"{kind}: " + ", ".join(p.rel for p in plans))
            rec.finish()
    _after_import(project, [p.rel for p in plans if media_kind(p.rel) in ("image", "video", "audio")])
    return ids


def _after_import(project, rels: list[str]) -> None:
    """Probe images/videos/audio once at import (thumbnails follow from fast_media, as for takes).
    3D models are loaded by viewer3d in child processes, not probed with PyAV."""
    if not rels:
        return
    try:
        from aimms_fast.media import ingest
    except ImportError:
        return
    ingest.after_import(project, rels)


# -- edits ----------------------------------------------------------------------------------------
def _require(project, id_key: str) -> AssetRow:
    a = AS.get_asset(project.conn, id_key)
    if a is None:
        raise NotFoundError(f"no asset with id {id_key}", path=project.root, field="id_key",
                            hint="list assets with `aimms assets PATH`")
    return a


def get_asset(project, id_key: str) -> AssetRow:
    return _require(project, id_key)


def list_assets(project, *, kind: str | None = None, search: str | None = None,
                starred_only: bool = False) -> list[AssetRow]:
    """Assets of a type ('all'/None: every type) matching `search` (name, file, tags, notes)."""
    if kind not in (None, "all"):
        _check_kind(kind)
    return AS.list_assets(project.conn, kind=kind, search=search, starred_only=starred_only)


@dataclass
class AssetResult:
    """What an edit did; `label` is the toast line (App.run_op shows it with the Ctrl+Z hint)."""
    id_key: str
    label: str
    value: object = None


def rename_asset(project, id_key: str, name: str) -> AssetResult:
    """Change the asset's name (asset_name); its file keeps its name, as in AIMMS. One undo step."""
    project.require_writable()
    a = _require(project, id_key)
    name = " ".join((name or "").split())
    if not name:
        raise AimmsError("asset name is empty", field="name", hint="type a name")
    label = f"Renamed asset {a.name} to {name}"
    if name == a.name:
        return AssetResult(id_key, label, name)
    with _history.record(project, label, what="assets", scope=AS.asset_scope([id_key])):
        AS.set_name(project.conn, id_key, name)
        project.audit("rename_asset", f"{id_key}: {a.name!r} -> {name!r}")
    return AssetResult(id_key, label, name)


def star_asset(project, id_key: str, on: bool | None = None) -> AssetResult:
    """Toggle (on=None) or set the asset's star. One undo step."""
    project.require_writable()
    a = _require(project, id_key)
    guard_asset(project, id_key, "star")  # issue 12: locked assets
    value = int(not a.starred) if on is None else int(bool(on))
    label = f"{'Starred' if value else 'Unstarred'} asset {a.name}"
    if value == (1 if a.starred else 0):
        return AssetResult(id_key, label, value)
    with _history.record(project, label, what="assets", scope=AS.asset_scope([id_key])):
        AS.set_starred(project.conn, id_key, value)
        project.audit("star_asset" if value else "unstar_asset", id_key)
    return AssetResult(id_key, label, value)


def set_asset_meta(project, id_key: str, *, tags: Iterable[str] | str | None = None,
                   notes: str | None = None) -> AssetResult:
    """Replace the asset's tags and/or notes (None keeps them). One undo step."""
    project.require_writable()
    a = _require(project, id_key)
    new_tags = None if tags is None else clean_tags(tags)
    what = "tags" if notes is None else "notes" if tags is None else "tags and notes"
    label = f"Edited {what} of asset {a.name}"
    with _history.record(project, label, what="assets", scope=AS.asset_scope([id_key])):
        AS.set_meta(project.conn, id_key, tags=new_tags, notes=notes)
        project.audit("asset_meta", f"{id_key}: {what}")
    return AssetResult(id_key, label)


def add_tags(project, id_keys: Iterable[str], tags: Iterable[str] | str) -> AssetResult:
    """Add tags to several assets (kept ones stay). One undo step."""
    project.require_writable()
    ids = list(dict.fromkeys(id_keys))
    add = clean_tags(tags)
    rows = [_require(project, i) for i in ids]
    label = f"Tagged {_plural(len(ids), 'asset')} {', '.join(add)}"
    with _history.record(project, label, what="assets", scope=AS.asset_scope(ids)):
        for a in rows:
            AS.set_meta(project.conn, a.id_key, tags=clean_tags(a.tags + add))
        project.audit("asset_tags", f"{len(ids)} asset(s) +{add}")
    return AssetResult(ids[0] if ids else "", label, add)


def delete_assets(project, id_keys: Iterable[str]) -> int:
    """Move assets' files (and a glTF's extra files) to the project trash and drop their rows
    (tags, notes, shot links included); returns the trash id. One undo step (Ctrl+Z brings all back)."""
    project.require_writable()
    ids = list(dict.fromkeys(id_keys))
    if not ids:
        raise AimmsError("no asset to delete", field="id_key")
    rows_ = [_require(project, i) for i in ids]
    for i in ids:
        guard_asset(project, i, "delete")  # issue 12: locked assets
    conn = project.conn
    rows = AS.asset_rows(conn, ids)
    files = [r for a in rows_ for r in [a.file_path] + a.extra_files if r]
    label = (f"asset {rows_[0].name} ({rows_[0].file_path})" if len(ids) == 1
             else f"{_plural(len(ids), 'asset')}")
    rec = _history.begin(project, f"Deleted {label}", what="assets",
                         scope={**AS.asset_scope(ids), **trash.new_entry_scope(conn)})
    return trash.trash_files_and_rows(project, kind="asset", label=label, rows=rows, files=files,
                                      delete=lambda c: AS.delete_assets(c, ids), rec=rec)


# -- assets <-> shots -----------------------------------------------------------------------------
def resolve_shots(project, refs: Iterable[str | int]) -> list[int]:
    """Shot ids from ids or exact names (a name several shots share assigns all of them)."""
    out: list[int] = []
    for ref in refs:
        found = find_shots(project.conn, ref)
        if not found:
            raise NotFoundError(f"no shot named or numbered '{ref}'", path=project.root, field="shot",
                                hint="see `aimms shots PATH`")
        for s in found:
            if s["shot_id"] not in out:
                out.append(s["shot_id"])
    return out


def assign_to_shots(project, id_keys: Iterable[str], shot_ids: Iterable[int], *, on: bool = True) -> AssetResult:
    """Assign (on) or unassign assets to/from shots. One undo step; `value` is how many links changed."""
    project.require_writable()
    ids = list(dict.fromkeys(id_keys))
    sids = list(dict.fromkeys(int(s) for s in shot_ids))
    if not ids or not sids:
        raise AimmsError("pick at least one asset and one shot", field="shot")
    rows_ = [_require(project, i) for i in ids]
    shots = []
    for s in sids:
        row = get_shot(project.conn, s)
        if row is None:
            raise NotFoundError(f"no shot with id {s}", path=project.root, field="shot")
        shots.append(row.get("shot_name") or f"shot {s}")
    what = rows_[0].name if len(ids) == 1 else _plural(len(ids), "asset")
    where = shots[0] if len(shots) == 1 else _plural(len(shots), "shot")
    label = f"Assigned {what} to {where}" if on else f"Removed {what} from {where}"
    n = 0
    with _history.record(project, label, what="assets", shot_ids=sids, scope=AS.asset_scope(ids)):
        for i in ids:
            n += AS.link(project.conn, i, sids) if on else AS.unlink(project.conn, i, sids)
        project.audit("assign_asset" if on else "unassign_asset", f"{ids} -> shots {sids}")
    return AssetResult(ids[0], label, n)


def shots_of_asset(project, id_key: str) -> list[dict]:
    """Shots (story order) this asset is assigned to: {shot_id, shot_name, order_number}."""
    _require(project, id_key)
    return AS.shots_of_asset(project.conn, id_key)


def assets_of_shot(project, shot_id: int) -> list[AssetRow]:
    return AS.assets_of_shot(project.conn, shot_id)


def shot_ids_with_asset(project, id_key: str) -> set[int]:
    return AS.shot_ids_with_asset(project.conn, id_key)


def file_state(project, a: AssetRow) -> str:
    """'ok' | 'missing' | 'empty' (zero bytes) | 'error' (probe could not read it)."""
    try:
        size = project.layout.read_path(a.file_path).stat().st_size if a.file_path else None
    except (OSError, OutsideProject):  # outside the project (issue 14): never read
        return "missing"
    if size is None:
        return "missing"
    if size == 0:
        return "empty"
    if a.media_status == "error":
        return "error"
    return "ok"
