"""Temp files a killed process left behind (issue 14), found and removed at open.

Only names of our own making are touched, and only when the process that wrote them is gone:
- `<name>.<pid>.partial` (database backups, archives, CSV exports) and `.<name>.<pid>.tmp`
  (atomic JSON writes: .aimms saves, config, mapping) in data/ and its backup/, saves/, csv/;
- `.<project>_<stamp>.zip.<pid>.partial` archives in the folder beside the project (archive's
  default destination);
- `aimms_archive_<pid>_*` (the archive's database copy, as large as shots.db) and
  `aimms_readonly_<pid>_*` (read-only snapshots) folders in the system temp folder.
Older names without a pid (`*.partial` in data/) are removed only when this process holds the
project's write lock (no other writer can be running). "Gone" means no such process, or one that
started after the file was written (a reused pid). A read-only open reports what it would remove.
Media partials (`*.aimms-partial`) stay with recovery.py, which knows which imports were pending.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aimms_fast.project.lock import process_alive

_PID_FILE = re.compile(r"\.(\d+)\.(partial|tmp)$")
_PID_DIR = re.compile(r"^aimms_(archive|readonly)_(\d+)_")


@dataclass
class Leftovers:
    removed: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)   # stale, but we may not remove them
    bytes_freed: int = 0


def _size(p: Path) -> int:
    try:
        if p.is_dir() and not p.is_symlink():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())
        return p.lstat().st_size
    except OSError:
        return 0


def _stale(p: Path, pid: int | None, *, have_lock: bool) -> bool:
    try:
        mtime = p.lstat().st_mtime
    except OSError:
        return False
    if pid is None:
        return have_lock
    return not process_alive(pid, made_at=mtime)


def _candidates(layout) -> list[tuple[Path, int | None]]:
    out: list[tuple[Path, int | None]] = []
    for folder in (layout.data, layout.backup, layout.saves, layout.csv, layout.root):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if not e.is_file(follow_symlinks=False):
                continue
            m = _PID_FILE.search(e.name)
            if m:
                out.append((Path(e.path), int(m.group(1))))
            elif e.name.endswith(".partial") and folder != layout.root:
                out.append((Path(e.path), None))
    parent = layout.root.resolve().parent
    try:
        prefix = "." + layout.root.resolve().name
        for e in os.scandir(parent):
            m = _PID_FILE.search(e.name)
            if m and e.name.startswith(prefix) and ".zip." in e.name and e.is_file(follow_symlinks=False):
                out.append((Path(e.path), int(m.group(1))))
    except OSError:
        pass
    try:
        for e in os.scandir(tempfile.gettempdir()):
            m = _PID_DIR.match(e.name)
            if m and e.is_dir(follow_symlinks=False):
                out.append((Path(e.path), int(m.group(2))))
    except OSError:
        pass
    return out


def clean_leftovers(layout, *, writable: bool, have_lock: bool, log=None) -> Leftovers:
    """Remove (writable) or list (read-only) stale temp files; never raises."""
    rep = Leftovers()
    for p, pid in _candidates(layout):
        if not _stale(p, pid, have_lock=have_lock):
            continue
        inside = p.resolve().is_relative_to(layout.root.resolve())
        if inside and not writable:
            rep.reported.append(str(p))
            continue
        size = _size(p)
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        except OSError:
            rep.reported.append(str(p))
            continue
        rep.removed.append(str(p))
        rep.bytes_freed += size
    if log is not None and rep.removed:
        log.warning("removed %d temp file(s) left by a stopped process (%d bytes): %s",
                    len(rep.removed), rep.bytes_freed, ", ".join(rep.removed[:10]))
    if log is not None and rep.reported:
        log.warning("temp files left by a stopped process that this read-only open cannot remove: %s",
                    ", ".join(rep.reported[:10]))
    return rep
