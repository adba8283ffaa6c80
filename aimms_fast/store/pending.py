"""The one crash-safe way to put new files into a project together with the rows that reference them.

    with pending_files(project.db, project.layout, rels) as pf:   # 1. register in fast_pending_files
        pf.copy(src, rel)            # 2. temp name beside the target -> fsync -> rename
        pf.create_empty(rel)         #    (zero-byte placeholders)
        pf.write(rel, save_fn)       #    (files we encode ourselves, e.g. a workflow PNG)
        with pf.commit() as conn:    # 3. one transaction: insert/update rows ...
            insert_take(conn, ...)   #    ... and the pending registrations are cleared in it
    # an exception before commit() finished: the files this block wrote are removed again and the
    # registrations cleared, then the exception goes on.

If the process dies anywhere in between, project/recovery.py finds the registered paths at the next
open: temp copies are deleted, finished copies no take row references go to data/trash/recovered_*/.
So after a crash a file is either referenced by a committed row or out of media/, never half-there.
Used by ops/takes.py (add, placeholders, replace), ops/csv_io.py (placeholder takes of imported
shots) and media/workflow_png.py (regenerated PNGs). Thread: the connection's owner.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

from aimms_fast.errors import AimmsError
from aimms_fast.store.db import transaction, utc_now

PARTIAL_SUFFIX = ".aimms-partial"     # a copy being written (same names as project/recovery.py)
STAGED_SUFFIX = ".aimms-replacing"    # a replacement copied in, not yet swapped in


def register(db, rels: Iterable[str]) -> None:
    rels = list(rels)
    if not rels:
        return
    now = utc_now()
    with transaction(db):
        db.conn.executemany("INSERT OR REPLACE INTO fast_pending_files(path, started_at) VALUES (?, ?)",
                            [(r, now) for r in rels])


def clear(conn, rels: Iterable[str]) -> None:
    """Drop registrations (caller's transaction, or autocommit)."""
    conn.executemany("DELETE FROM fast_pending_files WHERE path = ?", [(r,) for r in rels])


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is: costs ~0.1 ms on ext4.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(dest: Path, write: Callable, *, fsync_dir: bool = False) -> None:
    """`write(file object)` into a temp name beside `dest`, fsync, rename: `dest` is absent or
    complete, never half-written. The temp file is removed on any failure."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + PARTIAL_SUFFIX)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync_dir:
        _fsync_dir(dest.parent)


def copy_bytes(src: Path, dest: Path) -> None:
    """Plain crash-safe copy (write_atomic); ops/files.copy_into adds user-facing errors."""
    def _w(fo):
        with open(src, "rb") as fi:
            shutil.copyfileobj(fi, fo, 1024 * 1024)
    write_atomic(dest, _w)


class PendingFiles:
    """Files registered as pending; see the module doc. Made by `pending_files`."""

    def __init__(self, db, layout, rels: list[str], copier: Callable[[Path, Path], None] | None):
        self.db = db
        self.layout = layout
        self.rels = list(rels)
        self._copier = copier or copy_bytes
        self.written: list[Path] = []     # files this block created (removed again on failure)
        self.committed = False

    def _target(self, rel: str, *, staged: bool = False, exist_ok: bool = False) -> Path:
        if rel not in self.rels:
            raise AimmsError(f"internal: {rel} was not registered as pending", path=rel)
        dest = self.layout.abs(rel)
        if staged:
            return dest.with_name(dest.name + STAGED_SUFFIX)
        if dest.exists() and not exist_ok:
            raise AimmsError("target file already exists and is not a take of this project", path=dest,
                             hint="move it away (see the Unused page), then add again")
        return dest

    def copy(self, src: Path, rel: str, *, staged: bool = False) -> Path:
        """Copy `src` to `rel` (or beside it under the staged name, for `swap_in` later)."""
        dest = self._target(rel, staged=staged)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._copier(Path(src), dest)
        self.written.append(dest)
        return dest

    def create_empty(self, rel: str) -> Path:
        """A zero-byte placeholder, as AIMMS makes them."""
        dest = self._target(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "xb"):
            pass
        self.written.append(dest)
        return dest

    def write(self, rel: str, write: Callable, *, replace: bool = False, staged: bool = False) -> Path:
        """Encode a file ourselves: `write(file object)`, crash-safe (`replace` overwrites a file
        the caller already kept a copy of; `staged` writes beside it for `swap_in`)."""
        dest = self._target(rel, exist_ok=replace, staged=staged)
        write_atomic(dest, write)
        if not replace:
            self.written.append(dest)
        return dest

    def swap_in(self, rel: str) -> Path:
        """Rename the staged copy of `rel` onto its final name (the old file must be out of the way)."""
        staged = self._target(rel, staged=True)
        dest = self.layout.abs(rel)
        os.replace(staged, dest)
        self.written = [dest if w == staged else w for w in self.written]
        return dest

    @contextlib.contextmanager
    def commit(self):
        """The transaction that inserts the rows; clears the registrations in it."""
        with transaction(self.db) as conn:
            yield conn
            clear(conn, self.rels)
        self.committed = True

    def _abort(self) -> None:
        for p in self.written:
            p.unlink(missing_ok=True)
        with transaction(self.db):
            clear(self.db.conn, self.rels)


@contextlib.contextmanager
def pending_files(db, layout, rels: Iterable[str], *, copier: Callable[[Path, Path], None] | None = None):
    """Register `rels` (project-relative) as pending, yield a `PendingFiles`; the caller must end
    with `commit()`. `copier(src, dest)` does the byte copy (ops passes files.copy_into for its
    user-facing errors); default `copy_bytes`."""
    pf = PendingFiles(db, layout, list(rels), copier)
    register(db, pf.rels)
    try:
        yield pf
    except BaseException:
        if not pf.committed:
            pf._abort()
        raise
    if not pf.committed:
        pf._abort()
        raise AimmsError("internal: pending files were written but no rows committed them")
