"""Keeping a project safe: database backups, .aimms saves and restore, zip archives, and the
Export Starred Takes hand-off folder.

- backup_database: SQLite online backup -> data/backup/shots_<UTC stamp>.db (consistent while in use).
- save_project: data/saves/<project>_<stamp>.aimms, JSON of every shot/take/asset row and our take
  numbers/notes/ratings: the "which file belongs to which shot" map, without the media.
- restore_project: rebuilds those rows from a .aimms file (AIMMS itself has no restore). The
  current database is backed up first; rows are replaced in one transaction; files are never
  touched, only reported (takes whose file is gone, media files the save does not know).
- archive_project: zip of the whole folder (cache and lock left out; the db copied via the backup
  API so a live WAL database is archived consistently), written under a temp name then renamed.
- export_starred: each shot's chosen video (+ workflow PNG) and reference-slot images copied to a
  folder as `{order:03d}_{shot name}`, with a manifest CSV.
"""
from __future__ import annotations

import errno
import os
import re
import sqlite3
import stat
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import Callable

import orjson

from aimms_fast import __version__
from aimms_fast.errors import AimmsError, check_cancel
from aimms_fast.ops.csv_io import unique_path, write_rows_csv
from aimms_fast.ops.files import copy_into, move_file
from aimms_fast.project.config import write_json_atomic
from aimms_fast.project.recovery import PARTIAL_SUFFIX, STAGED_SUFFIX
from aimms_fast.store import aimms_schema as A
from aimms_fast.ops.save_check import OutsideProject, inside, path_problem, refuse_if_problems, save_problems
from aimms_fast.store.db import write_failed, backup_to, partial_name, transaction, utc_now, utc_stamp
from aimms_fast.store.takes import clear_project_rows, insert_rows, refresh_shot_order, sync_fast_takes

Progress = Callable[[int, int], None] | None

SAVE_FORMAT = "aimms_fast.save"
SAVE_FORMAT_VERSION = 1
# Our per-take data worth keeping in a save (shot_id/shot_order come from the take/shot rows).
FAST_TAKE_FIELDS = ("take_id", "storyboard", "take_number", "companion_of", "placeholder", "notes", "rating",
                    "updated_at")
# Already-compressed media: deflating them costs CPU and gains nothing.
STORED_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".webm", ".mkv", ".mov", ".glb", ".fbx",
               ".zip", ".mp3", ".m4a", ".aac", ".ogg", ".flac"}
_TEMP_SUFFIXES = (PARTIAL_SUFFIX, STAGED_SUFFIX, ".partial", ".tmp")
_CHUNK = 1024 * 1024


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


def _abs_str(root: str, rel: str) -> str:
    return os.path.join(root, *str(rel).replace("\\", "/").split("/"))


def _size_fn(layout):
    """A fast `rel -> size in bytes, or None if missing` for many stored file_paths (string joins:
    pathlib per file costs seconds on a 21K-take project; tolerates Windows backslashes)."""
    root = os.path.abspath(layout.root)

    def size_of(rel):
        if not rel or path_problem(rel):  # '..'/absolute paths are never looked at (issue 14)
            return None
        try:
            return os.stat(_abs_str(root, rel)).st_size
        except OSError:
            return None
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
                src = inside(lay, lay.rel(lay.trash) + "/" + m["to"])
                dst = inside(lay, m["from"])
            except OutsideProject as e:
                project.log.warning("trash entry %s not taken back: %s", tid, e)
                continue
            if not src.resolve().is_relative_to(lay.trash.resolve()):
                project.log.warning("trash entry %s not taken back: %r is not in the trash", tid, m["to"])
                continue
            if src.is_file() and not dst.exists() and not dst.is_symlink():
                move_file(src, dst)
                back.append(m["from"])
                moved.append(m)
                want.discard(m["from"])
                took = True
        if took and all(not (lay.trash / m["to"]).exists() for m in moves):
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


# -- archive ----------------------------------------------------------------------------------
def _archive_members(project, skip: set[Path], skipped: list[str]) -> list[tuple[Path, str]]:
    """Regular files under the project (no cache, lock, live db, temp files). Symlinks are never
    followed (a link in media/ could point at ~/.ssh) and FIFOs, sockets and devices are never
    opened (reading a FIFO blocks forever): each is listed in `skipped` with the reason."""
    lay = project.layout
    root = lay.root
    prefix = root.resolve().name
    out = []
    excluded_files = {lay.lock.resolve(), *(lay.db.with_name(lay.db.name + s).resolve()
                                            for s in ("", "-wal", "-shm", "-journal"))} | skip
    cache = lay.cache.resolve()
    for dirpath, dirs, names in os.walk(root):  # followlinks=False: linked folders are not entered
        d = Path(dirpath)
        keep = []
        for x in sorted(dirs):
            if (d / x).is_symlink():
                skipped.append(f"{prefix}/{(d / x).relative_to(root).as_posix()}: symlink to a folder, not followed")
            elif (d / x).resolve() != cache:
                keep.append(x)
        dirs[:] = keep
        for n in sorted(names):
            p = d / n
            if n.endswith(_TEMP_SUFFIXES) or _PID_TEMP.search(n):
                continue
            arc = f"{prefix}/{p.relative_to(root).as_posix()}"
            try:
                st = p.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                skipped.append(f"{arc}: symlink, not followed")
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped.append(f"{arc}: not a regular file ({_file_kind(st.st_mode)}), skipped")
                continue
            if p.resolve() in excluded_files:
                continue
            out.append((p, arc))
    return out


_PID_TEMP = re.compile(r"\.\d+\.(partial|tmp)$")


def _file_kind(mode: int) -> str:
    return ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else
            "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file")


def _zip_info(path: Path, arcname: str) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo.from_file(path, arcname, strict_timestamps=False)
    zi.compress_type = zipfile.ZIP_STORED if path.suffix.lower() in STORED_EXTS else zipfile.ZIP_DEFLATED
    return zi


def _open_regular(p: Path):
    """Open for reading without following a symlink or blocking on a FIFO that appeared since
    the walk (O_NOFOLLOW | O_NONBLOCK, then fstat says whether it is still a regular file)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(p, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(errno.EINVAL, "not a regular file", str(p))
    return os.fdopen(fd, "rb")


def archive_project(project, dest_dir: str | Path | None = None, *, progress: Progress = None, cancel=None) -> dict:
    """Zip the whole project to `dest_dir` (default: beside the project folder).

    Leaves out the regenerable cache and the lock; the database goes in as an online-backup copy
    (a live WAL database copied byte-wise can be inconsistent). Progress is reported in bytes.
    Symlinks, FIFOs and other special files, and files this user cannot read, are left out and
    listed in "skipped" with the reason. On any failure (disk full included) the partial zip and
    the temp database copy are removed.
    """
    lay = project.layout
    dest_dir = Path(dest_dir) if dest_dir else lay.root.resolve().parent
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _os_error(e, dest_dir, "archive") from e
    dest = unique_path(dest_dir / f"{safe_filename(lay.root.resolve().name, 'project')}_{utc_stamp()}.zip")
    # pid in both temp names: an open after a kill -9 removes them (project/leftovers.py)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    skipped: list[str] = []
    done = 0
    try:
        with tempfile.TemporaryDirectory(prefix=f"aimms_archive_{os.getpid()}_") as td:
            db_copy = backup_to(project.db, Path(td) / "shots.db", cancel=cancel)
            members = [(db_copy, f"{lay.root.resolve().name}/data/shots.db")]
            members += _archive_members(project, {tmp.resolve(), dest.resolve()}, skipped)
            total = sum(p.stat().st_size for p, _ in members if p.exists()) or 1
            written = 0
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                for p, arc in members:
                    try:
                        fi = _open_regular(p)
                    except FileNotFoundError:
                        skipped.append(f"{arc}: deleted while archiving")
                        continue
                    except PermissionError:
                        skipped.append(f"{arc}: cannot read it (permission denied), left out")
                        continue
                    except OSError as e:
                        skipped.append(f"{arc}: cannot read it ({e.strerror or e}), left out")
                        continue
                    with fi:
                        zi = _zip_info(p, arc)
                        with zf.open(zi, "w", force_zip64=zi.file_size > 2**31) as fo:
                            while chunk := fi.read(_CHUNK):
                                check_cancel(cancel, "archive")
                                fo.write(chunk)
                                done += len(chunk)
                                if progress:
                                    progress(done, total)
                    written += 1
            tmp.replace(dest)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise _os_error(e, e.filename or dest, "archive") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if progress:
        progress(total, total)
    for sk in skipped:
        project.log.warning("archive: %s", sk)
    project.log.info("archived %d files (%d bytes) to %s", written, done, dest)
    return {"path": str(dest), "files": written, "bytes": done,
            "zip_bytes": dest.stat().st_size, "skipped": skipped}


# -- export starred takes ---------------------------------------------------------------------
MANIFEST_NAME = "starred_takes_manifest.csv"
MANIFEST_COLUMNS = ["exported_file", "kind", "slot", "order_number", "shot_id", "shot_name", "section",
                    "take_id", "take_number", "source_path", "size_bytes", "status", "notes", "rating"]


def starred_items(conn) -> list[dict]:
    """Starred takes in story order: each shot's chosen video (+ its workflow PNG) and its
    reference-slot images 1/2/3."""
    sql = (
        "SELECT s.shot_id, s.order_number, s.shot_name, s.section, t.take_id, t.take_type, t.file_path, "
        "t.starred, f.take_number, f.placeholder, f.notes, f.rating, "
        "(SELECT ct.file_path FROM fast_takes cf JOIN takes ct USING (take_id) "
        " WHERE cf.companion_of = t.take_id LIMIT 1) AS companion "
        "FROM takes t JOIN shots s ON s.shot_id = t.shot_id LEFT JOIN fast_takes f ON f.take_id = t.take_id "
        "WHERE t.starred > 0 AND t.take_type IN (?, ?) "
        "ORDER BY s.order_number, s.shot_id, CASE t.take_type WHEN ? THEN 0 ELSE 1 END, t.starred")
    return _rows(conn, sql, (A.FINAL_VIDEO, A.BASE_IMAGE, A.FINAL_VIDEO))


def export_starred(project, dest: str | Path, *, images: bool = True, progress: Progress = None, cancel=None) -> dict:
    """Copy starred media to `dest` as `{order:03d}_{shot}{ext}` (videos; the workflow PNG beside it
    with the same stem) and `{order:03d}_{shot}_slot{N}{ext}` (reference images), plus a manifest.

    Placeholders (zero-byte) and missing files are listed in the manifest but not copied.
    """
    lay = project.layout
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _os_error(e, dest, "export folder") from e
    items = [r for r in starred_items(project.conn) if images or r["take_type"] == A.FINAL_VIDEO]
    used: set[str] = set()
    manifest = []
    counts = {"copied": 0, "placeholder": 0, "missing": 0, "refused": 0}
    written: list[Path] = []
    try:
        _export_items(lay, dest, items, used, manifest, counts, written, progress, cancel)
    except BaseException:
        for w in written:  # a cancelled or failed export takes back the copies it made
            w.unlink(missing_ok=True)
        raise
    manifest_path = dest / MANIFEST_NAME
    try:
        write_rows_csv(manifest_path, MANIFEST_COLUMNS, manifest)
    except OSError as e:
        raise _os_error(e, manifest_path, "manifest") from e
    project.log.info("exported starred takes to %s: %s", dest, counts)
    return {"dest": str(dest), "manifest": str(manifest_path), "items": len(manifest), **counts}


def _export_items(lay, dest: Path, items, used, manifest, counts, written, progress, cancel) -> None:
    for i, r in enumerate(items):
        check_cancel(cancel, "export")
        order = r["order_number"] if isinstance(r["order_number"], int) else 0
        stem = f"{order:03d}_" + safe_filename(r["shot_name"], f"shot{r['shot_id']}")
        if r["take_type"] == A.BASE_IMAGE:
            stem += f"_slot{r['starred']}"
        if stem.lower() in used:  # same order and name twice: the shot id tells them apart
            stem += f"_id{r['shot_id']}"
        used.add(stem.lower())
        kind = "video" if r["take_type"] == A.FINAL_VIDEO else "image"
        pairs = [(kind, r["file_path"])]
        if kind == "video" and r["companion"]:
            pairs.append(("workflow", r["companion"]))
        for what, rel in pairs:
            src, status, size = _export_source(lay, rel)
            ext = Path(rel if isinstance(rel, str) else "").suffix.lower()
            name = f"{stem}{ext}"
            if status == "copied":
                existed = (dest / name).exists()
                copy_into(src, dest / name)
                if not existed:
                    written.append(dest / name)
            counts[status if status in counts else "refused"] += 1
            manifest.append([name if status == "copied" else "", what,
                             r["starred"] if kind == "image" else "", r["order_number"], r["shot_id"],
                             r["shot_name"], r["section"], r["take_id"], r["take_number"], rel, size, status,
                             r["notes"] or "", r["rating"] or 0])
        if progress:
            progress(i + 1, len(items))


def _export_source(lay, rel) -> tuple[Path | None, str, int | None]:
    """(path, status, size) of a starred take's file. Paths that leave the project (`..`, absolute,
    a symlink pointing out) are "outside" and never read; special files are "not a file"."""
    if not rel or not isinstance(rel, str):
        return None, "missing", None
    try:
        src = inside(lay, rel)
    except OutsideProject:
        return None, "outside the project (not copied)", None
    try:
        st = src.stat()
    except OSError:
        return None, "missing", None
    if not stat.S_ISREG(st.st_mode):
        return None, "not a regular file (not copied)", None
    return src, ("placeholder" if st.st_size == 0 else "copied"), st.st_size
