"""An open AIMMS project: folder layout, database, lock, log."""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from aimms_fast.errors import ProjectError, ReadOnlyError
from aimms_fast.project.config import read_config, write_json_atomic
from aimms_fast.project.layout import Layout
from aimms_fast.project.leftovers import clean_leftovers
from aimms_fast.project.lock import ProjectLock, describe_process, open_by
from aimms_fast.project.logs import close_logger, log_mutation, project_logger
from aimms_fast.project.mapping import write_mapping
from aimms_fast.project import recovery
from aimms_fast.store import db as store_db
from aimms_fast.store import migrations
from aimms_fast.store.record_check import (clean_mark_matches, db_fingerprint, find_bad_values, repair_bad_values,
                                          write_clean_mark)
from aimms_fast.store.schema import ensure_schema, pending_aimms_changes
from aimms_fast.store.takes import sync_fast_takes
from aimms_fast import AIMMS_APP_VERSION, __version__


class Project:
    """Use `Project.open(path)` / `Project.create(path)`; close() or use as a context manager."""

    def __init__(self, root: Path, db, *, readonly: bool, readonly_reason: str | None, lock, log):
        self.root = root
        self.layout = Layout(root)
        self.db = db
        self.readonly = readonly
        self.readonly_reason = readonly_reason
        self._lock = lock
        self.log = log
        self.schema_report = None
        self.recovery_report = None
        self.bad_values = []          # store.record_check.BadValue found (and repaired) at open
        self.leftovers = None         # project.leftovers.Leftovers removed at open
        self._snapshot_dir: Path | None = None
        self._job_of: "Project | None" = None   # set on projects made by for_job()

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, name: str | None = None, author: str | None = None,
               description: str | None = None) -> "Project":
        root = Path(path).expanduser()
        layout = Layout(root)
        if layout.db.exists():
            raise ProjectError("a project already exists here", path=root,
                               hint="open it with `aimms open`, or choose an empty folder")
        if root.exists() and any(p for p in root.iterdir() if not p.name.startswith(".")):
            raise ProjectError("folder is not empty", path=root, hint="choose an empty or new folder")
        try:
            for d in layout.required_dirs():
                d.mkdir(parents=True, exist_ok=True)
        except PermissionError as e:
            raise ProjectError(f"cannot create the project folder ({e.strerror})", path=root,
                               hint="choose a folder you can write to") from e
        name = name or root.name
        cfg = {"project_name": name, "author": author or "", "description": description or "",
               "created_at": store_db.utc_now(), "app_version": AIMMS_APP_VERSION,
               "created_with": f"aimms_fast {__version__}"}
        write_json_atomic(layout.config, cfg)
        p = cls._open(root, create=True, name=name, author=author)
        if description:
            with store_db.transaction(p.db):
                p.db.conn.execute("UPDATE meta SET value = ? WHERE key = 'description'", (description,))
        p.log.info("project created: %s", name)
        return p

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> "Project":
        root = Path(path).expanduser()
        layout = Layout(root)
        if not root.is_dir():
            raise ProjectError("no such folder", path=root, hint="check the path, or create a project with `aimms new`")
        if not layout.db.exists():
            if layout.config.exists() or layout.backup.is_dir():
                raise ProjectError("the project's database data/shots.db is missing", path=root,
                                   hint=_restore_hint(layout))
            raise ProjectError("not an AIMMS project (data/shots.db is missing)", path=root,
                               hint="create one with `aimms new PATH`")
        try:
            empty = layout.db.stat().st_size == 0
        except OSError as e:
            raise ProjectError(f"cannot read the database ({e.strerror})", path=layout.db) from e
        if empty:
            # SQLite would happily treat 0 bytes as a new database: a silently empty project.
            raise ProjectError("the database is empty (0 bytes): it was truncated or never finished",
                               path=layout.db, hint=_restore_hint(layout))
        return cls._open(root, create=False, readonly=readonly)

    @classmethod
    def _open(cls, root: Path, *, create: bool, readonly: bool = False, name=None, author=None) -> "Project":
        layout = Layout(root)
        reason = "opened read-only on request" if readonly else None
        lock = ProjectLock(layout.lock)
        if not readonly:
            if not os.access(layout.data, os.W_OK) or (layout.db.exists() and not os.access(layout.db, os.W_OK)) \
                    or not _can_create_in(layout.data):
                readonly, reason = True, f"{layout.data} is not writable (permission denied)"
            else:
                try:
                    got = lock.acquire()
                except PermissionError:
                    got, readonly, reason = False, True, "the project folder is not writable (permission denied)"
                if not got and not readonly:
                    readonly = True
                    reason = f"locked by another aimms instance ({lock.holder()})"
        log = project_logger(layout.log_file, readonly=readonly)
        try:
            _wait_for_database(layout, lock, readonly=readonly, log=log)
            db = store_db.connect(layout.db, readonly=readonly)
        except ProjectError:
            lock.release()
            close_logger(log)
            raise
        except Exception as e:
            lock.release()
            close_logger(log)
            raise ProjectError(f"cannot open the database ({e})", path=layout.db,
                               hint=_restore_hint(layout)) from e
        p = cls(root, db, readonly=readonly, readonly_reason=reason, lock=lock, log=log)
        try:
            p._open_checked(create=create, name=name, author=author)
        except sqlite3.DatabaseError as e:
            p.close()
            if "locked" in str(e) or "busy" in str(e):
                raise ProjectError(f"the database is locked by another program ({_holders(layout, lock)})",
                                   path=layout.db, hint="close that program and try again") from e
            raise ProjectError(f"the database is damaged or not an AIMMS database ({e})", path=layout.db,
                               hint=_restore_hint(layout)) from e
        except BaseException:
            p.close()
            raise
        if p.readonly:
            log.info("opened read-only: %s", p.readonly_reason)
        return p

    def _open_checked(self, *, create: bool, name=None, author=None) -> None:
        p, db, layout, log, readonly = self, self.db, self.layout, self.log, self.readonly
        p.leftovers = clean_leftovers(layout, writable=not readonly, have_lock=not readonly, log=log)
        if readonly:
            missing_tables, missing_cols, _ = pending_aimms_changes(db.conn)
            fp = db_fingerprint(layout.db)
            bad = [] if clean_mark_matches(fp, self._clean_mark) else find_bad_values(db.conn)
            if any(b.fix for b in bad) or missing_tables or missing_cols or migrations.current_version(db.conn) < migrations.LATEST:
                p._view_snapshot()
            if bad:
                p._repair_values(bad, backup=False)
        else:
            p.schema_report = ensure_schema(db.conn, project_name=name, author=author,
                                            backup=lambda: p._pre_upgrade_backup())
            fp = db_fingerprint(layout.db)  # before the scan: see write_clean_mark
            bad = [] if clean_mark_matches(fp, self._clean_mark) else find_bad_values(db.conn)
            if bad:
                p._repair_values(bad, backup=any(b.fix for b in bad))
            rep = p.schema_report
            if rep.backup:
                log.info("upgraded AIMMS schema (added columns %s, tables %s); original saved as %s",
                         rep.added_columns, rep.added_tables, rep.backup)
            for d in layout.required_dirs():
                d.mkdir(parents=True, exist_ok=True)
            p.recovery_report = recovery.recover(db, layout, log)
            with store_db.transaction(db):
                added = sync_fast_takes(db.conn, sizes=p._size_of, quick=True)
            if added:
                log.info("indexed %d takes made by another app", added)
            if create or not layout.mapping.exists():
                write_mapping(db, layout.mapping)
            if not bad:  # the next open skips the scan if nothing writes the file in between
                write_clean_mark(layout.db, self._clean_mark, fp)

    @property
    def _clean_mark(self) -> Path:
        return self.layout.cache / "clean_values.json"

    def _repair_values(self, bad, *, backup: bool) -> None:
        """Wrong-typed values (store/record_check.py): back up, fix, report each one in the log.
        Read-only opens fix their private snapshot only."""
        where = "the read-only view" if self.readonly else "the database"
        if backup:
            saved = store_db.backup_to(self.db, self.layout.backup / f"shots_pre_repair_{store_db.utc_stamp()}.db")
            where = f"the database (original kept as {self.layout.rel(saved)})"
        n = 0
        if any(b.fix for b in bad):
            with store_db.transaction(self.db):
                n = repair_bad_values(self.db.conn, bad)
        self.bad_values = bad
        self.log.warning("%d value(s) of the wrong type in AIMMS columns; %d repaired in %s:\n  %s",
                         len(bad), n, where, "\n  ".join(b.describe() for b in bad[:200]))

    def _view_snapshot(self) -> None:
        """Read-only, but the database lacks what we need (never opened by aimms_fast with write
        access, or an older AIMMS/aimms_fast wrote it): view an upgraded private copy in a temp
        folder. The project's own files are never touched; writes stay refused (readonly)."""
        if self._snapshot_dir is not None:
            return
        # The pid in the name lets a later open remove the folder of a killed process.
        self._snapshot_dir = Path(tempfile.mkdtemp(prefix=f"aimms_readonly_{os.getpid()}_"))
        snap = self._snapshot_dir / "shots.db"
        store_db.backup_to(self.db, snap)
        self.db.conn.close()
        self.db = store_db.connect(snap)
        ensure_schema(self.db.conn)
        with store_db.transaction(self.db):
            sync_fast_takes(self.db.conn, sizes=self._size_of)
        self.readonly_reason = f"{self.readonly_reason}; showing a snapshot of the database taken at opening"

    def _pre_upgrade_backup(self) -> Path:
        return store_db.backup_to(self.db, self.layout.backup / f"shots_pre_upgrade_{store_db.utc_stamp()}.db")

    def _size_of(self, rel: str):
        return self.layout.size_of(rel)  # None for missing or outside-the-project paths (issue 14)

    @contextlib.contextmanager
    def for_job(self):
        """A Project for one background job: same root, layout, log, lock and read-only state, but its
        OWN sqlite connection (WAL: one writer at a time, readers never blocked), closed at exit.

        Call it on the thread that runs the job: the connection belongs to the first thread that
        opens a transaction on it, so the job's transaction can never be joined, committed or
        rolled back by the UI thread, and the UI's by the job. No schema work or recovery runs (the
        UI's open did it). A read-only project viewing a snapshot gives the job a connection to the
        same snapshot file.
        """
        if self.db is None:
            raise ProjectError("the project is closed", path=self.root)
        db_path = self._snapshot_dir / "shots.db" if self._snapshot_dir is not None else self.layout.db
        db = store_db.connect(db_path, readonly=self.readonly and self._snapshot_dir is None, owned=False)
        job = Project(self.root, db, readonly=self.readonly, readonly_reason=self.readonly_reason,
                      lock=self._lock, log=self.log)
        job._job_of = self
        try:
            yield job
        finally:
            job.close()

    def close(self) -> None:
        if self._job_of is not None:  # a job's project: only its connection is its own
            if self.db is not None:
                self.db.conn.close()
                self.db = None
            return
        try:
            if self.db is not None:
                if not self.readonly:
                    try:
                        self.db.conn.execute("PRAGMA optimize")
                    except Exception:
                        pass
                self.db.conn.close()
                self.db = None
        finally:
            if self._snapshot_dir is not None:
                shutil.rmtree(self._snapshot_dir, ignore_errors=True)
                self._snapshot_dir = None
            self._lock.release()
            close_logger(self.log)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- helpers used by ops ---------------------------------------------------------------
    def require_writable(self) -> None:
        if self.readonly:
            raise ReadOnlyError(f"project is read-only: {self.readonly_reason}", path=self.root,
                                hint="close the other aimms instance, or check folder permissions")

    @property
    def conn(self):
        return self.db.conn

    @property
    def name(self) -> str:
        r = self.conn.execute("SELECT value FROM meta WHERE key='project_name'").fetchone()
        return (r[0] if r else None) or read_config(self.layout.config).get("project_name") or self.root.name

    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def audit(self, action: str, detail: str | None = None, **ids) -> None:
        """Record a mutation (caller's transaction) and log it: its one `mutation` line, unless an
        undo-history Recorder is open on this project (ops/history.py then writes that line with
        the ids and this detail). `ids`: entry=, shots=, takes=, assets= for
        that line (project/logs.mutation_line)."""
        from aimms_fast.store import audit as audit_store  # issue 12: who + the history hook's ids
        audit_store.write(self.conn, store_db.utc_now(), action, detail)
        recorders = self.__dict__.get("_open_recorders")
        if recorders:
            for rec in recorders:
                rec.notes.append(f"{action} {detail or ''}".strip())
        else:
            log_mutation(self.log, action, label=detail or "", **ids)

    def refresh_mapping(self) -> None:
        write_mapping(self.db, self.layout.mapping, self.layout.backup)


def _restore_hint(layout) -> str:
    """Point at the newest database backup (a copy that opens), or at the saves."""
    try:
        backups = sorted((p for p in layout.backup.glob("shots_*.db") if p.stat().st_size > 0),
                         key=lambda p: p.stat().st_mtime)
    except OSError:
        backups = []
    if backups:
        return (f"restore the newest backup: copy {layout.rel(backups[-1])} to data/shots.db "
                f"(or an older one from data/backup/)")
    saves = sorted(layout.saves.glob("*.aimms")) if layout.saves.is_dir() else []
    if saves:
        return f"no database backup found; create a project with `aimms new` and `aimms restore` {saves[-1]}"
    return "restore a copy of data/shots.db from data/backup/ or your own backups; `aimms new` creates a new project"


def _holders(layout, lock) -> str:
    pids = open_by([layout.db, layout.db.with_name(layout.db.name + "-wal"),
                    layout.db.with_name(layout.db.name + "-journal")])
    ours = lock.holder_pid() if lock._fh is None else None
    if ours and ours not in pids and ours != os.getpid():
        pids.append(ours)
    return ", ".join(describe_process(pid) for pid in pids) or "process unknown"


LOCK_WAIT_S = 10.0  # seconds; AIMMS_LOCK_WAIT_S overrides (tests)


def _wait_for_database(layout, lock, *, readonly: bool, log) -> None:
    """Another program (AIMMS, the sqlite3 shell, a sync tool) may hold a write lock on shots.db.
    Probe without waiting; if locked, say so on stderr, wait up to LOCK_WAIT_S, then name the
    process that holds it (ProjectError) instead of a `database is locked` traceback."""
    uri = f"{layout.db.resolve().as_uri()}?mode=ro"
    wait_s = float(os.environ.get("AIMMS_LOCK_WAIT_S", LOCK_WAIT_S))
    deadline = None
    while True:
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=0) if readonly else \
                sqlite3.connect(str(layout.db), timeout=0)
            try:
                if readonly:
                    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                else:
                    # Fails at once while another connection holds the write lock (or, without
                    # WAL, any lock); then we say so instead of waiting silently and failing later.
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("ROLLBACK")
            finally:
                conn.close()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                return  # other problems are reported by the real open with their own message
        now = time.monotonic()
        if deadline is None:
            deadline = now + wait_s
            print(f"waiting for {layout.db}: locked by another program ({_holders(layout, lock)})…",
                  file=sys.stderr, flush=True)
            log.warning("database locked by another program; waiting up to %.0f s", wait_s)
        if now >= deadline:
            raise ProjectError(f"the database is still locked after {wait_s:.0f} s by another program "
                               f"({_holders(layout, lock)})", path=layout.db,
                               hint="close that program (or wait for it to finish) and try again")
        time.sleep(0.25)


def _can_create_in(folder: Path) -> bool:
    """Can this process create a file in `folder`? os.access() answers yes for root (and for
    ACLs or read-only mounts it can be wrong); SQLite must create shots.db-wal and -shm there, so
    ask the file system itself."""
    probe = folder / f".aimms_fast_write_probe.{os.getpid()}.tmp"  # .pid.tmp: a killed one is cleaned at open
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    except OSError:
        return False
    os.close(fd)
    try:
        probe.unlink()
    except OSError:
        pass
    return True
