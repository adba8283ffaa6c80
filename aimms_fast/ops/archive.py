"""Zip archive of a whole project (moved out of ops/backup.py).

The cache and the lock are left out; the database goes in as an online-backup copy (a live WAL
database copied byte-wise can be inconsistent). Issue 14: symlinks are never followed, FIFOs,
sockets and devices never opened, unreadable files left out with the right reason; temp names
carry the pid so an open after a kill -9 removes them (project/leftovers.py).
"""
from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import zipfile
from pathlib import Path

from aimms_fast.errors import check_cancel
from aimms_fast.ops.backup import _TEMP_SUFFIXES, Progress, _os_error, safe_filename
from aimms_fast.ops.csv_io import unique_path
from aimms_fast.store.db import backup_to, utc_stamp

# Already-compressed media: deflating them costs CPU and gains nothing.
STORED_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".webm", ".mkv", ".mov", ".glb", ".fbx",
               ".zip", ".mp3", ".m4a", ".aac", ".ogg", ".flac"}
_CHUNK = 1024 * 1024


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
