"""Keeping a project safe: database backups, .aimms saves and restore, zip archives, and the
Export Starred Takes hand-off folder.

- backup_database: SQLite online backup -> data/backup/shots_<UTC stamp>.db (consistent while in use).
- save_project: data/saves/<project>_<stamp>.aimms, JSON of every shot/take/asset row and our take
  numbers/notes/ratings: the "which file belongs to which shot" map, without the media.
- restore_project: rebuilds those rows from a .aimms file (AIMMS itself has no restore). The
  current database is backed up first; rows are replaced in one transaction; files are never
  touched, only reported (takes whose file is gone, media files the save does not know).
- archive_project (ops/archive.py) and export_starred (ops/starred.py), importable from here too.

Issue 14: restore checks every value and path of a save before touching anything
(ops/save_check.py); its take-back from the trash never moves a file from or to outside the
project; a full disk says "disk full" with the path and leaves no partial file.
"""
from __future__ import annotations

import errno
import os
import re
import sqlite3
import unicodedata
from pathlib import Path
from typing import Callable

import orjson

from aimms_fast import __version__
from aimms_fast.errors import AimmsError, check_cancel
from aimms_fast.ops.csv_io import unique_path
from aimms_fast.ops.files import copy_into, move_file  # noqa: F401 (copy_into: export/editors.py imports it from here)
from aimms_fast.project.config import write_json_atomic
from aimms_fast.project.recovery import PARTIAL_SUFFIX, STAGED_SUFFIX
from aimms_fast.errors import OutsideProject
from aimms_fast.ops.save_check import refuse_if_problems, save_problems
from aimms_fast.project.layout import RECORD_TOPS
from aimms_fast.store.db import write_failed, backup_to, partial_name, transaction, utc_now, utc_stamp
from aimms_fast.store.takes import clear_project_rows, insert_rows, refresh_shot_order, sync_fast_takes

Progress = Callable[[int, int], None] | None

SAVE_FORMAT = "aimms_fast.save"
SAVE_FORMAT_VERSION = 1
# Our per-take data worth keeping in a save (shot_id/shot_order come from the take/shot rows).
FAST_TAKE_FIELDS = ("take_id", "storyboard", "take_number", "companion_of", "placeholder", "notes", "rating",
                    "updated_at")
_TEMP_SUFFIXES = (PARTIAL_SUFFIX, STAGED_SUFFIX, ".partial", ".tmp")


def _os_error(e: OSError, path, what: str) -> AimmsError:
    if e.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return AimmsError(f"disk full while writing the {what}", path=path,
                          hint="free some space and try again; nothing half-written was left behind")
    if isinstance(e, PermissionError):
        return AimmsError(f"permission denied while writing the {what}", path=path,
                          hint="choose a folder you can write to")
    return AimmsError(f"cannot write the {what} ({e.strerror or e})", path=path)


def safe_filename(name: str | None, fallback: str = "untitled", max_len: int = 80) -> str:
    """A file-name part that is valid on Windows, macOS and Linux: no separators or reserved
    characters, no control characters, spaces as underscores, no trailing dots."""
    s = unicodedata.normalize("NFC", name or "")
    s = re.sub(r'[<>:"/\\|?*\x00-\x1f\x7f]', "_", s)
    s = re.sub(r"\s+", "_", s.strip())
    s = re.sub(r"_+", "_", s).strip("._ ")
    return s[:max_len].rstrip("._ ") or fallback


def _rows(conn, sql: str, args=()) -> list[dict]:
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")]


# -- database backup --------------------------------------------------------------------------
def backup_database(project, *, progress: Progress = None, cancel=None) -> Path:
    """Consistent copy of shots.db (works while the app or another reader uses it). `cancel` stops
    it (errors.Cancelled) leaving no file behind."""
    dest = unique_path(project.layout.backup / f"shots_{utc_stamp()}.db")
    try:
        out = backup_to(project.db, dest, progress=progress, cancel=cancel)
    except OSError as e:
        partial_name(dest).unlink(missing_ok=True)
        raise _os_error(e, dest, "database backup") from e
    project.log.info("database backed up to %s", out)
    return out


# -- .aimms save ------------------------------------------------------------------------------
def build_save(project) -> dict:
    conn = project.conn
    lay = project.layout
    takes = _rows(conn, "SELECT * FROM takes ORDER BY shot_id, take_type, file_path")
    assets = _rows(conn, "SELECT * FROM assets ORDER BY asset_type, asset_name, id_key")
    fast = _rows(conn, f"SELECT {', '.join(FAST_TAKE_FIELDS)} FROM fast_takes ORDER BY shot_id, take_number")
    size_of = _size_fn(lay)
    files = {}
    for r in [*takes, *assets]:
        fp = r.get("file_path")
        if fp and fp not in files:
            files[fp] = size_of(fp)
    shots = _rows(conn, "SELECT * FROM shots ORDER BY order_number, shot_id")
    return {
        "format": SAVE_FORMAT, "format_version": SAVE_FORMAT_VERSION,
        "saved_at": utc_now(), "saved_by": f"aimms_fast {__version__}",
        "project_name": project.name, "meta": project.meta(),
        "counts": {"shots": len(shots), "takes": len(takes), "assets": len(assets)},
        "shots": shots, "takes": takes, "fast_takes": fast, "assets": assets,
        "files": files,  # file_path -> size in bytes at save time (None: missing then)
    }


def save_project(project, dest: str | Path | None = None, *, progress: Progress = None, cancel=None) -> Path:
    """Write data/saves/<project>_<stamp>.aimms (or `dest`); returns its path. A cancel before the
    file is renamed into place leaves nothing."""
    if progress:
        progress(0, 2)
    data = build_save(project)
    check_cancel(cancel, "save")
    if progress:
        progress(1, 2)
    path = Path(dest) if dest else unique_path(
        project.layout.saves / f"{safe_filename(project.name, 'project')}_{utc_stamp()}.aimms")
    try:
        write_json_atomic(path, data)
        if progress:
            progress(2, 2)
    except OSError as e:
        # write_json_atomic's temp name; a full disk must not leave half a save behind
        path.with_name(f".{path.name}.{os.getpid()}.tmp").unlink(missing_ok=True)
        raise _os_error(e, path, "save file") from e
    project.log.info("saved relationships of %d shots, %d takes, %d assets to %s",
                     len(data["shots"]), len(data["takes"]), len(data["assets"]), path)
    return path


def load_save(path: str | Path) -> dict:
    """Read and check a .aimms save; every problem names the file and the row."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block the read forever
        raise AimmsError("not a regular file", path=path, hint="pick a .aimms file from data/saves/")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AimmsError("save file not found", path=path, hint="saves are in data/saves/") from None
    except OSError as e:
        raise AimmsError(f"cannot read the save file ({e.strerror})", path=path) from e
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        try:  # orjson refuses integers beyond 64 bits; the stdlib reads them and the checks name them
            import json
            data = json.loads(raw)
        except ValueError:
            raise AimmsError(f"not a valid .aimms save (bad JSON: {e})", path=path,
                             hint="pick another save from data/saves/") from e
    if not isinstance(data, dict):
        raise AimmsError("not a valid .aimms save (expected a JSON object)", path=path)
    fmt = data.get("format")
    if fmt is not None and fmt != SAVE_FORMAT:
        raise AimmsError(f"unknown save format '{fmt}'", path=path, field="format")
    version = data.get("format_version", SAVE_FORMAT_VERSION)
    if not isinstance(version, int) or version > SAVE_FORMAT_VERSION:
        raise AimmsError(f"save format version {version!r} is newer than this aimms_fast understands "
                         f"({SAVE_FORMAT_VERSION})", path=path, field="format_version", hint="update aimms_fast")
    for key in ("shots", "takes"):
        if not isinstance(data.get(key), list):
            raise AimmsError(f"the save has no '{key}' list", path=path, field=key)
    for key in ("fast_takes", "assets"):
        if not isinstance(data.setdefault(key, []), list):
            raise AimmsError(f"'{key}' must be a list", path=path, field=key)
    shot_ids = set()
    for i, s in enumerate(data["shots"]):
        if not isinstance(s, dict) or not isinstance(s.get("shot_id"), int):
            raise AimmsError(f"shots[{i}] has no whole-number shot_id", path=path, field="shots")
        if s["shot_id"] in shot_ids:
            raise AimmsError(f"shot_id {s['shot_id']} appears twice", path=path, field="shots")
        shot_ids.add(s["shot_id"])
    take_ids = set()
    for i, t in enumerate(data["takes"]):
        if not isinstance(t, dict) or not isinstance(t.get("take_id"), str) or not t["take_id"]:
            raise AimmsError(f"takes[{i}] has no take_id", path=path, field="takes")
        if t["take_id"] in take_ids:
            raise AimmsError(f"take_id {t['take_id']} appears twice", path=path, field="takes")
        if not isinstance(t.get("shot_id"), int) or t["shot_id"] not in shot_ids:
            raise AimmsError(f"take {t['take_id']} belongs to shot {t.get('shot_id')!r}, which the save "
                             "does not contain", path=path, field="takes")
        take_ids.add(t["take_id"])
    asset_ids = set()
    for i, a in enumerate(data["assets"]):
        if not isinstance(a, dict) or not isinstance(a.get("id_key"), str) or a["id_key"] in asset_ids:
            raise AimmsError(f"assets[{i}] has no (unique) id_key", path=path, field="assets")
        asset_ids.add(a["id_key"])
    return data


def _fit_rows(rows: list[dict], columns: list[str], table: str, warnings: list[str]) -> list[dict]:
    """Keep the keys the table has; a save from a newer schema may carry more (reported once)."""
    extra = sorted({k for r in rows for k in r} - set(columns))
    if extra:
        warnings.append(f"{table}: column(s) {', '.join(extra)} are not in this database and were left out")
    keep = set(columns)
    return [{k: v for k, v in r.items() if k in keep} for r in rows]


def media_files(layout) -> list[str]:
    """Project-relative paths of every file under media/ (and the older assets/ folder).
    Plain os.walk and string joins: pathlib per file costs seconds on a 21K-take project."""
    out = []
    root = os.path.abspath(layout.root)
    for base in (layout.media, layout.legacy_assets):
        base = os.path.abspath(base)
        if not os.path.isdir(base):
            continue
        for dirpath, _dirs, names in os.walk(base):
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            out += [f"{rel_dir}/{n}" for n in names if not n.endswith(_TEMP_SUFFIXES)]
    return sorted(out)


def _size_fn(layout):
    """`rel -> size in bytes, or None if missing or outside the project` (Layout.size_of: ~9 µs a
    call, 0.2 s for a 21K-take save)."""
    def size_of(rel):
        return layout.size_of(rel, within=RECORD_TOPS) if rel else None
    return size_of


def restore_project(project, save_path: str | Path, *, progress: Progress = None, cancel=None) -> dict:
    """Replace shots/takes/assets (and our take numbers/notes/ratings) with a .aimms save.

    Order: check the save -> back up the current database -> one transaction that swaps the rows
    (and records the undo step) -> files the save references that a delete had put in the trash
    come back. Other files are not moved or deleted; the report lists takes whose file is missing
    and media files the save does not reference (find them on the Unused page). `cancel` stops it
    with errors.Cancelled before the swap commits: the project stays as it was.
    """
    project.require_writable()
    data = load_save(save_path)
    conn = project.conn
    lay = project.layout
    # Every type and path is checked before anything is backed up, written or moved.
    refuse_if_problems(save_problems(data, conn, lay), save_path)
    warnings: list[str] = []
    if data.get("format") is None:
        warnings.append("the save has no 'format' key; read as an aimms_fast save")
    shots = _fit_rows(data["shots"], _columns(conn, "shots"), "shots", warnings)
    takes = _fit_rows(data["takes"], _columns(conn, "takes"), "takes", warnings)
    assets = _fit_rows(data["assets"], _columns(conn, "assets"), "assets", warnings)
    take_shot = {t["take_id"]: t["shot_id"] for t in takes}
    order = {s["shot_id"]: s.get("order_number") or 0 for s in shots}
    fast_cols = set(_columns(conn, "fast_takes"))
    fast = []
    for f in data["fast_takes"]:
        if not isinstance(f, dict) or not isinstance(f.get("take_id"), str) or f["take_id"] not in take_shot:
            continue  # notes of a take the save no longer has: nothing to attach them to
        row = {k: v for k, v in f.items() if k in fast_cols and k not in ("shot_id", "shot_order")}
        if not {"storyboard", "take_number"} <= row.keys():
            continue  # rebuilt from the file name by sync_fast_takes below
        row["shot_id"] = take_shot[f["take_id"]]
        row["shot_order"] = order.get(row["shot_id"], 0)
        fast.append(row)
    before_names = dict(conn.execute("SELECT shot_id, shot_name FROM shots").fetchall())
    before = set(before_names)
    saved_ids = set(order)
    from aimms_fast.ops import history
    steps = 7
    tick = (lambda k: progress(k, steps)) if progress else (lambda k: None)
    tick(0)
    backup = backup_database(project, cancel=cancel)
    tick(1)

    size_of = _size_fn(lay)

    now = utc_now()
    # Whole tables (restore changes everything); only rows that differ are kept in the step.
    rec = history.begin(project, f"Restored {Path(save_path).name}", what="all", shot_ids=[],
                        scope={t: None for t in ("shots", "takes", "fast_takes", "assets", "deleted_shots",
                                                 "fast_trash")})
    try:
        with transaction(project.db):
            clear_project_rows(conn)
            check_cancel(cancel, "restore")
            for k, (table, rows) in enumerate((("shots", shots), ("takes", takes), ("fast_takes", fast),
                                               ("assets", assets)), start=2):
                insert_rows(conn, table, rows)
                check_cancel(cancel, "restore")
                tick(k)
            rebuilt = sync_fast_takes(conn, sizes=size_of)
            refresh_shot_order(conn)
            # Shots the save brings back are no longer deleted; shots it drops are now deleted.
            conn.executemany("DELETE FROM deleted_shots WHERE old_shot_id = ?", [(i,) for i in saved_ids])
            removed = sorted(before - saved_ids)
            conn.executemany("INSERT INTO deleted_shots(old_shot_id, shot_name, created_date) VALUES (?, ?, ?)",
                             [(i, before_names.get(i), now) for i in removed])
            project.audit("restore", f"{save_path}: {len(shots)} shots, {len(takes)} takes, {len(assets)} assets "
                                     f"(previous database kept as {lay.rel(backup)})")
            rec.finish()
            check_cancel(cancel, "restore")  # last chance: the swap has not committed
    except sqlite3.OperationalError as e:
        if write_failed(e):  # rolled back: the rows are as they were
            raise AimmsError("disk full while restoring; the project is as it was", path=lay.db,
                             hint="free some space and restore again") from e
        raise
    tick(6)
    project.refresh_mapping()
    referenced = {r["file_path"] for r in [*takes, *assets] if r.get("file_path")}
    exists = lambda rel: size_of(rel) is not None  # noqa: E731
    recovered = _take_back_from_trash(project, [fp for fp in referenced if not exists(fp)], rec)
    tick(7)
    missing = [{"take_id": t["take_id"], "shot_id": t["shot_id"], "file_path": t.get("file_path")}
               for t in takes if not exists(t.get("file_path"))]
    missing_assets = [{"id_key": a["id_key"], "file_path": a.get("file_path")}
                      for a in assets if not exists(a.get("file_path"))]
    saved_sizes = data.get("files") if isinstance(data.get("files"), dict) else {}
    changed = [fp for fp, size in saved_sizes.items()
               if size is not None and fp in referenced and size_of(fp) not in (None, size)]
    unreferenced = [p for p in media_files(lay) if p not in referenced]
    report = {"save": str(save_path), "backup": str(backup), "shots": len(shots), "takes": len(takes),
              "assets": len(assets), "fast_takes_rebuilt": rebuilt, "shots_removed": removed,
              "recovered_from_trash": recovered,
              "missing_files": missing, "missing_asset_files": missing_assets, "changed_files": changed,
              "unreferenced_files": unreferenced, "warnings": warnings}
    project.log.info("restored %s: %d shots, %d takes; %d take files missing, %d media files not in the save",
                     save_path, len(shots), len(takes), len(missing), len(unreferenced))
    return report


def _take_back_from_trash(project, missing: list[str], rec=None) -> list[str]:
    """Files the save references that a later delete moved to the project trash go back to their
    place (the rows referencing them were just restored). A trash entry whose files all came back
    is marked restored, so `undo` does not try it again. Runs after the row swap committed: a crash
    here leaves takes reported missing whose files are still in the trash (restore again)."""
    if not missing:
        return []
    lay = project.layout
    conn = project.conn
    want = set(missing)
    back: list[str] = []
    moved: list[dict] = []
    done_entries = []
    for tid, files_json in conn.execute("SELECT id, files_json FROM fast_trash WHERE restored_at IS NULL "
                                        "AND state = 'done' ORDER BY id DESC").fetchall():
        try:
            moves = [m for m in orjson.loads(files_json) if isinstance(m, dict)
                     and isinstance(m.get("from"), str) and isinstance(m.get("to"), str)]
        except orjson.JSONDecodeError:
            continue
        took = False
        for m in moves:
            if m["from"] not in want:
                continue
            try:  # a hostile trash row must not move a file in from, or out to, anywhere else
                src = lay.trash_path(m["to"])
                dst = lay.abs(m["from"], within=RECORD_TOPS)
            except OutsideProject as e:
                project.log.warning("trash entry %s not taken back: %s", tid, e)
                continue
            if src.is_file() and not dst.exists() and not dst.is_symlink():
                move_file(src, dst)
                back.append(m["from"])
                moved.append(m)
                want.discard(m["from"])
                took = True
        if took and all(not lay.trash_path(m["to"]).exists() for m in moves):
            done_entries.append(tid)
    if back:
        trash_rel = lay.trash.relative_to(lay.root).as_posix()
        with transaction(project.db):
            conn.executemany("UPDATE fast_trash SET restored_at = ? WHERE id = ?",
                             [(utc_now(), t) for t in done_entries])
            project.audit("restore_from_trash", f"{len(back)} file(s)")
            if rec is not None and rec.entry_id is not None:  # the restore's undo step gains the moves
                for m in moved:
                    rec.moved(f"{trash_rel}/{m['to']}", m["from"])
                rec.finish()
    return sorted(back)


# Archive and Export Starred Takes live in ops/archive.py and ops/starred.py (this file passed 600
# lines); their old import path keeps working without importing them here (no import cycle).
_MOVED = {"archive_project": "archive", "STORED_EXTS": "archive",
          "export_starred": "starred", "starred_items": "starred", "MANIFEST_NAME": "starred",
          "MANIFEST_COLUMNS": "starred"}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib
        return getattr(importlib.import_module(f"aimms_fast.ops.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
