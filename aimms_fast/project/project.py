"""An open AIMMS project: folder layout, database, lock, log."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from aimms_fast.errors import ProjectError, ReadOnlyError
from aimms_fast.project.config import read_config, write_json_atomic
from aimms_fast.project.layout import Layout
from aimms_fast.project.lock import ProjectLock
from aimms_fast.project.logs import close_logger, project_logger
from aimms_fast.project.mapping import write_mapping
from aimms_fast.project import recovery
from aimms_fast.store import db as store_db
from aimms_fast.store import migrations
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
            raise ProjectError("not an AIMMS project (data/shots.db is missing)", path=root,
                               hint="create one with `aimms new PATH`")
        return cls._open(root, create=False, readonly=readonly)

    @classmethod
    def _open(cls, root: Path, *, create: bool, readonly: bool = False, name=None, author=None) -> "Project":
        layout = Layout(root)
        reason = "opened read-only on request" if readonly else None
        lock = ProjectLock(layout.lock)
        if not readonly:
            if not os.access(layout.data, os.W_OK) or (layout.db.exists() and not os.access(layout.db, os.W_OK)):
                readonly, reason = True, "the project folder is not writable (permission denied)"
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
            db = store_db.connect(layout.db, readonly=readonly)
        except Exception as e:
            lock.release()
            close_logger(log)
            raise ProjectError(f"cannot open the database ({e})", path=layout.db,
                               hint="restore a copy from data/backup/ or run `aimms restore`") from e
        p = cls(root, db, readonly=readonly, readonly_reason=reason, lock=lock, log=log)
        try:
            if readonly:
                missing_tables, missing_cols, _ = pending_aimms_changes(db.conn)
                if missing_tables or missing_cols or migrations.current_version(db.conn) < migrations.LATEST:
                    p._view_snapshot()
            else:
                p.schema_report = ensure_schema(db.conn, project_name=name, author=author,
                                                backup=lambda: p._pre_upgrade_backup())
                rep = p.schema_report
                if rep.backup:
                    log.info("upgraded AIMMS schema (added columns %s, tables %s); original saved as %s",
                             rep.added_columns, rep.added_tables, rep.backup)
                for d in layout.required_dirs():
                    d.mkdir(parents=True, exist_ok=True)
                p.recovery_report = recovery.recover(db, layout, log)
                with store_db.transaction(db):
                    added = sync_fast_takes(db.conn, sizes=p._size_of)
                if added:
                    log.info("indexed %d takes made by another app", added)
                if create or not layout.mapping.exists():
                    write_mapping(db, layout.mapping)
        except BaseException:
            p.close()
            raise
        if readonly:
            log.info("opened read-only: %s", reason)
        return p

    def _view_snapshot(self) -> None:
        """Read-only, but the database lacks what we need (never opened by aimms_fast with write
        access, or an older AIMMS/aimms_fast wrote it): view an upgraded private copy in a temp
        folder. The project's own files are never touched; writes stay refused (readonly)."""
        self._snapshot_dir = Path(tempfile.mkdtemp(prefix="aimms_readonly_"))
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
        try:
            return self.layout.abs(rel).stat().st_size
        except OSError:
            return None

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

    def audit(self, action: str, detail: str | None = None) -> None:
        """Record a mutation (caller's transaction) and log it."""
        from aimms_fast.store import audit as audit_store  # issue 12: who + the history hook's ids
        audit_store.write(self.conn, store_db.utc_now(), action, detail)
        self.log.info("%s %s", action, detail or "")

    def refresh_mapping(self) -> None:
        write_mapping(self.db, self.layout.mapping, self.layout.backup)
