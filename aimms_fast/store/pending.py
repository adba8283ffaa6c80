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

Swaps (replace): files staged beside their final names are renamed into place only after the rows
that name them committed. `journal_swap(conn, …)`, in that same transaction, writes the renames
and removals still to do as a fast_trash row (kind 'replace', state 'swapping'); `run_swap`
performs them and deletes the row. A crash in between: `recover_swaps` (at open) finishes them, so
a take and its workflow PNG always match the rows. Every path is checked by the Layout
containment rule (a pending target outside media/ or assets/ is refused before anything is written).
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import orjson

from aimms_fast.errors import AimmsError, OutsideProject
from aimms_fast.store.db import transaction, utc_now

SWAP_KIND = "replace"   # fast_trash.kind of a swap journal row (never shown as a trash item)
RECORD_TOPS = ("media", "assets")  # = project.layout.RECORD_TOPS (store/ does not import project/)

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


def open_new(path: Path):
    """Open a temp file of ours for writing, never through a symlink: whatever stands at `path`
    (a leftover temp, or a link a shared project planted there) is removed first, then the file is
    created exclusively (O_EXCL also refuses a link that appears in between)."""
    if os.path.lexists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    return os.fdopen(fd, "wb")


def write_atomic(dest: Path, write: Callable, *, fsync_dir: bool = False) -> None:
    """`write(file object)` into a temp name beside `dest`, fsync, rename: `dest` is absent or
    complete, never half-written. The temp file is removed on any failure."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + PARTIAL_SUFFIX)
    try:
        with open_new(tmp) as f:
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


def move_path(src: Path, dest: Path) -> None:
    """Move one file, or a symlink itself (never its target), to `dest`; refuses to overwrite
    anything standing there. Both paths must come from Layout.abs (checked)."""
    if os.path.lexists(dest):
        raise AimmsError("a file already stands where this one has to go", path=dest,
                         hint="move that file away, then try again")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dest)  # same file system (inside the project): atomic, moves a link itself
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        shutil.move(str(src), str(dest))  # across devices it recreates a link, never copies its target


# -- swap journal (replace) ------------------------------------------------------------------------
def journal_swap(conn, label: str, renames: list[tuple[str, str]], removes: list[tuple[str, str]]) -> int:
    """Inside the caller's transaction (the one that commits the new rows): record that `renames`
    (staged rel, final rel) and `removes` (rel, rel of the copy kept in data/backup) are still to do.
    Returns the journal id for `run_swap`."""
    steps = [{"op": "rename", "staged": a, "final": b} for a, b in renames] + \
            [{"op": "remove", "path": a, "kept": b} for a, b in removes]
    cur = conn.execute("INSERT INTO fast_trash(kind, label, rows_json, files_json, deleted_at, state) "
                       "VALUES (?, ?, '{}', ?, ?, 'swapping')",
                       (SWAP_KIND, label, orjson.dumps(steps).decode(), utc_now()))
    return cur.lastrowid


def checked_swap_steps(layout, files_json) -> list[tuple[str, Path, Path]]:
    """('rename', staged, final) / ('remove', path, kept) with every path through the containment
    rule; OutsideProject for a hostile or malformed journal."""
    try:
        steps = orjson.loads(files_json)
    except (orjson.JSONDecodeError, TypeError):
        raise OutsideProject(files_json, "the replace journal is not valid JSON") from None
    if not isinstance(steps, list) or not all(isinstance(x, dict) for x in steps):
        raise OutsideProject(files_json, "the replace journal is malformed")
    out = []
    for x in steps:
        if x.get("op") == "rename":
            final = layout.abs(x.get("final"), within=RECORD_TOPS)
            staged = layout.abs(x.get("staged"), within=RECORD_TOPS)
            if staged.parent != final.parent or staged.name != final.name + STAGED_SUFFIX:
                raise OutsideProject(x.get("staged"), "a replace journal rename that is not our staged copy")
            out.append(("rename", staged, final))
        elif x.get("op") == "remove":
            out.append(("remove", layout.abs(x.get("path"), within=RECORD_TOPS),
                        layout.abs(x.get("kept"), within=("data/backup",))))
        else:
            raise OutsideProject(files_json, "the replace journal has an unknown step")
    return out


def _do_steps(steps) -> None:
    # Idempotent: a step already done (staged copy gone / old file gone) is skipped.
    for op, a, b in steps:
        if op == "rename":
            if os.path.lexists(a):
                os.replace(a, b)  # b is the take's own old file (its copy is kept) or a free name
        elif os.path.lexists(a) and b.is_file():
            a.unlink()  # removes a link itself, never its target; only once the kept copy exists


def run_swap(db, layout, journal_id: int) -> None:
    """Perform a journalled swap, then delete its journal row."""
    row = db.conn.execute("SELECT files_json FROM fast_trash WHERE id=?", (journal_id,)).fetchone()
    if row is None:
        return
    _do_steps(checked_swap_steps(layout, row[0]))
    with transaction(db):
        db.conn.execute("DELETE FROM fast_trash WHERE id=? AND kind=?", (journal_id, SWAP_KIND))


def recover_swaps(db, layout, log, refused: list | None = None) -> int:
    """At open: finish swaps a crash interrupted after their rows committed. A journal naming a path
    outside the project is refused (nothing done), reported in `refused` and marked 'refused'."""
    conn = db.conn
    n = 0
    for jid, files_json in conn.execute("SELECT id, files_json FROM fast_trash WHERE kind=? AND state='swapping'",
                                        (SWAP_KIND,)).fetchall():
        try:
            steps = checked_swap_steps(layout, files_json)
        except OutsideProject as e:
            if refused is not None:
                from aimms_fast.errors import printable_path
                refused.append({"table": "fast_trash", "id": jid, "path": printable_path(e.stored), "reason": e.reason})
            log.warning("recovery refused replace journal %s: %s", jid, e)
            with transaction(db):
                conn.execute("UPDATE fast_trash SET state='refused' WHERE id=?", (jid,))
            continue
        _do_steps(steps)
        with transaction(db):
            conn.execute("DELETE FROM fast_trash WHERE id=?", (jid,))
        n += 1
    if n:
        log.warning("finished %d replace(s) a crash interrupted (new files put in place)", n)
    return n


def _fsync_path(p: Path) -> tuple[Path, OSError] | None:
    """fsync one file (never through a symlink); the error instead of raising it (a pool thread)."""
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        return p, e
    return None


class PendingFiles:
    """Files registered as pending; see the module doc. Made by `pending_files`."""

    def __init__(self, db, layout, rels: list[str], copier: Callable[[Path, Path], None] | None,
                 defer_sync: bool = False):
        self.db = db
        self.layout = layout
        self.rels = list(rels)
        self._copier = copier or copy_bytes
        self._defer_sync = defer_sync
        self._registered = set(self.rels)
        self._unsynced: list[Path] = []   # copied without fsync: flushed in commit(), before the rows
        self.written: list[Path] = []     # files this block created (removed again on failure)
        self.committed = False

    def _target(self, rel: str, *, staged: bool = False, exist_ok: bool = False) -> Path:
        if rel not in self._registered:
            raise AimmsError(f"internal: {rel} was not registered as pending", path=rel)
        # checked again now, not only at registration: a folder may have been replaced by a link since
        dest = self.layout.abs(rel, within=RECORD_TOPS)
        if staged:
            return dest.with_name(dest.name + STAGED_SUFFIX)
        if os.path.lexists(dest) and not exist_ok:
            raise AimmsError("target file already exists and is not a take of this project", path=dest,
                             hint="move it away (see the Unused page), then add again")
        return dest

    def copy(self, src: Path, rel: str, *, staged: bool = False) -> Path:
        """Copy `src` to `rel` (or beside it under the staged name, for `swap_in` later)."""
        dest = self._target(rel, staged=staged)     # the copier makes the folder
        if self._defer_sync:
            self._copier(Path(src), dest, sync=False)
            self._unsynced.append(dest)
        else:
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
        dest = self.layout.abs(rel, within=RECORD_TOPS)
        os.replace(staged, dest)
        self.written = [dest if w == staged else w for w in self.written]
        return dest

    def _flush(self) -> None:
        """fsync the files copied with the flush deferred, several at once. One pass after the batch
        instead of an fsync after each copy: on ext4 each inline fsync is a journal commit that also
        slowed the next file's create; concurrent fsyncs share journal commits (128 files: 33 ms one
        by one, 12 ms on 8 threads; see docs/performance.md, import)."""
        if not self._unsynced:
            return
        with ThreadPoolExecutor(min(8, len(self._unsynced)), thread_name_prefix="aimms-fsync") as ex:
            errors = [e for e in ex.map(_fsync_path, self._unsynced) if e is not None]
        self._unsynced.clear()
        if errors:
            p, e = errors[0]
            if e.errno == errno.ENOSPC:
                raise AimmsError("disk full while copying into the project", path=p,
                                 hint="free some space and add the files again; nothing was half-written") from e
            raise AimmsError(f"could not write the copied file to disk ({e.strerror or e})", path=p) from e

    @contextlib.contextmanager
    def commit(self):
        """The transaction that inserts the rows; clears the registrations in it. Every copied
        file is on disk before the rows naming it commit."""
        self._flush()
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
def pending_files(db, layout, rels: Iterable[str], *, copier: Callable[[Path, Path], None] | None = None,
                  defer_sync: bool = False):
    """Register `rels` (project-relative) as pending, yield a `PendingFiles`; the caller must end
    with `commit()`. `copier(src, dest)` does the byte copy (ops passes files.copy_into for its
    user-facing errors); default `copy_bytes`. defer_sync=True (a copier taking `sync=`): copies
    are flushed together in commit() instead of one by one."""
    pf = PendingFiles(db, layout, list(rels), copier, defer_sync)
    for r in pf.rels:  # refuse before registering: recovery would refuse the row anyway
        layout.abs(r, within=RECORD_TOPS)
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
