"""Copying files into the project crash-safely: a temp name next to the target, fsync, rename."""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from aimms_fast.errors import AimmsError
from aimms_fast.project.recovery import PARTIAL_SUFFIX
from aimms_fast.store.pending import move_path, open_new

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_EXTS = {".mp4", ".webm", ".mkv", ".mov", ".gif"}


def _copy_bytes(src: Path, dst: Path, sync: bool = True) -> None:
    # One place that moves bytes, so tests can simulate a full disk here.
    with open(src, "rb") as fi, open_new(dst) as fo:   # never writes through a planted symlink
        shutil.copyfileobj(fi, fo, 1024 * 1024)
        fo.flush()
        if sync:
            os.fsync(fo.fileno())


def check_source(src: Path, allowed: set[str], what: str) -> Path:
    """Fail early, naming the file, if it cannot be imported."""
    src = Path(src)
    if src.suffix.lower() not in allowed:
        raise AimmsError(f"unsupported {what} type '{src.suffix or '(none)'}'", path=src,
                         hint="supported: " + ", ".join(sorted(allowed)))
    if not src.exists():
        raise AimmsError("file not found", path=src, hint="check the path; it may have been moved or deleted")
    if not src.is_file():
        raise AimmsError("not a regular file", path=src)
    if not os.access(src, os.R_OK):
        raise AimmsError("file is not readable (permission denied)", path=src,
                         hint="fix its permissions or copy it somewhere readable")
    return src


def copy_into(src: Path, dest: Path, *, sync: bool = True) -> None:
    """Copy src to dest atomically: dest either doesn't exist or is complete. sync=False leaves
    the flush to disk to the caller (store/pending.PendingFiles flushes a batch before its rows
    commit; the pending registration covers a crash before that)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + PARTIAL_SUFFIX)
    try:
        _copy_bytes(src, tmp, sync)
        os.replace(tmp, dest)
    except FileNotFoundError as e:
        tmp.unlink(missing_ok=True)
        raise AimmsError("file vanished while copying", path=src,
                         hint="the source was moved or deleted during the import; add it again") from e
    except PermissionError as e:
        tmp.unlink(missing_ok=True)
        raise AimmsError(f"permission denied ({e.filename})", path=src,
                         hint="check permissions of the source file and the project folder") from e
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if e.errno == errno.ENOSPC:
            raise AimmsError("disk full while copying into the project", path=src,
                             hint="free some space and add the file again; nothing was half-written") from e
        raise AimmsError(f"copy failed ({e.strerror or e})", path=src) from e


def create_empty(dest: Path) -> None:
    """Zero-byte placeholder file, as AIMMS makes them."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "xb"):
        pass


def move_file(src: Path, dest: Path) -> None:
    """Move a file, or a symlink itself (never its target); never overwrites (store/pending.move_path).
    Both paths must come from Layout.abs / trash_path (the containment rule)."""
    move_path(src, dest)
