"""Jobs on their own connection (Project.for_job), transaction() owned by one thread, and long
operations that roll back cleanly when cancelled (errors.Cancelled)."""
from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest

from aimms_fast.errors import AimmsError, Cancelled
from aimms_fast.ops import backup as B
from aimms_fast.ops.csv_io import import_csv
from aimms_fast.ops.shots import add_shot, edit_shots
from aimms_fast.ops.takes import add_takes, toggle_star
from aimms_fast.store.db import transaction

from conftest import make_image, make_video


def content(project) -> dict:
    """Every table's rows (the database's content, whatever its pages look like)."""
    conn = project.conn
    out = {}
    for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'fast_search%' "
                             "ORDER BY name"):
        out[t] = sorted(conn.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr)
    return out


def tree(root) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "logs" not in p.parts
            and not p.name.startswith("shots.db")}  # the database is compared by content


class CancelAt:
    """progress callback that sets `cancel` once `done` reaches `at`."""

    def __init__(self, at: int):
        self.at, self.cancel, self.calls = at, threading.Event(), 0

    def __call__(self, done, total):
        self.calls += 1
        if done >= self.at:
            self.cancel.set()


@pytest.fixture
def filled(project, media_dir):
    sid = add_shot(project, shot_name="A")
    make_image(media_dir / "v.png")
    vids = add_takes(project, sid, [make_video(media_dir / "v.mp4")], storyboard="video")
    toggle_star(project, vids[0])
    return project


def test_cancel_mid_import_leaves_the_database_content_identical(filled, tmp_path):
    p = filled
    f = tmp_path / "big.csv"
    f.write_text("shot_name,section\n" + "".join(f"S{i},X\n" for i in range(400)))
    before_rows, before_files = content(p), tree(p.root)
    stop = CancelAt(300)
    with pytest.raises(Cancelled):
        import_csv(p, f, progress=stop, cancel=stop.cancel)
    assert stop.calls > 1
    assert content(p) == before_rows
    assert tree(p.root) == before_files  # placeholder files taken back, empty shot folders too
    rep = import_csv(p, f)  # and it works afterwards
    assert rep.ok and rep.imported == 400


def test_cancel_restore_backup_save_archive_export(filled, tmp_path):
    p = filled
    save = B.save_project(p)
    edit_shots(p, [1], description="after the save")
    before = content(p)
    ev = threading.Event()
    ev.set()
    for fn in (lambda: B.restore_project(p, save, cancel=ev),
               lambda: B.backup_database(p, cancel=ev),
               lambda: B.save_project(p, tmp_path / "x.aimms", cancel=ev),
               lambda: B.archive_project(p, tmp_path / "zips", cancel=ev),
               lambda: B.export_starred(p, tmp_path / "export", cancel=ev)):
        files_before = tree(tmp_path)
        with pytest.raises(Cancelled):
            fn()
        assert content(p) == before
        assert tree(tmp_path) == files_before
    # restore cancelled after the backup, inside the swap: still rolled back
    stop = CancelAt(3)
    with pytest.raises(Cancelled):
        B.restore_project(p, save, progress=stop, cancel=stop.cancel)
    assert content(p) == before
    # not cancelled: they run
    assert B.restore_project(p, save, progress=lambda d, t: None, cancel=threading.Event())["shots"] == 1


def test_transaction_from_another_thread_is_refused(project):
    errors = []

    def worker():
        try:
            with transaction(project.db):
                pass
        except AimmsError as e:
            errors.append(e)
        try:
            edit_shots(project, [], shot_name="x")  # no-op: no transaction needed
            add_shot(project, shot_name="from a thread")
        except AimmsError as e:
            errors.append(e)
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert len(errors) == 2 and all("belongs to another thread" in str(e) for e in errors)
    assert "for_job" in errors[0].hint
    assert project.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0] == 0


def test_a_job_on_its_own_connection_does_not_block_ui_readers(filled):
    p = filled
    holding, release, result = threading.Event(), threading.Event(), {}

    def job():
        with p.for_job() as jp:
            assert jp.db is not p.db and jp.root == p.root and jp.log is p.log
            with transaction(jp.db):
                jp.conn.execute("UPDATE shots SET description = 'job was here'")
                holding.set()
                release.wait(10)  # a long job holding its write transaction open
            result["ok"] = True
    t = threading.Thread(target=job)
    t.start()
    assert holding.wait(10)
    try:
        # the UI thread keeps reading (WAL: the committed state, not the job's open change)
        assert p.conn.execute("SELECT description FROM shots").fetchone()[0] is None
        # and a UI write waits for the job's transaction instead of joining it; here it would
        # wait busy_timeout, so try it without waiting
        p.conn.execute("PRAGMA busy_timeout=0")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            with transaction(p.db):
                pass
        p.conn.execute("PRAGMA busy_timeout=5000")
    finally:
        release.set()
        t.join(10)
    assert result == {"ok": True}
    assert p.conn.execute("SELECT description FROM shots").fetchone()[0] == "job was here"
    # the job's project closed only its own connection: the UI's still works and still writes
    edit_shots(p, [1], description="ui")
    assert not p.readonly and p._lock is not None


def test_a_job_project_refuses_the_ui_thread_once_the_job_uses_it(filled):
    p = filled
    box = {}

    def job():
        cm = p.for_job()
        jp = cm.__enter__()
        with transaction(jp.db):
            pass
        box["jp"], box["cm"] = jp, cm
    t = threading.Thread(target=job)
    t.start()
    t.join()
    with pytest.raises(AimmsError, match="another thread"):
        with transaction(box["jp"].db):
            pass
    box["cm"].__exit__(None, None, None)
