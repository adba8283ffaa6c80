"""Faults during backup, save, restore and archive (issue 14): a full disk (RLIMIT_FSIZE in a child
process: the kernel's EFBIG, the same path as ENOSPC) says "disk full" with the path, removes its
partial files and leaves the project as it was; a SIGKILL at each step leaves a project that opens
consistent, and the next open removes what the killed process left behind."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from aimms_fast.ops.backup import save_project
from aimms_fast.ops.shots import add_shot
from aimms_fast.project import Project

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def proj(tmp_path) -> Path:
    root = tmp_path / "proj"
    with Project.create(root) as p:
        for i in range(30):
            add_shot(p, shot_name=f"Shot {i}", description="x" * 2000)
        save_project(p, root / "data" / "saves" / "first.aimms")
        add_shot(p, shot_name="after the save")
    # 1.5 MB of incompressible media, so an archive outgrows a small file-size limit mid-way
    (root / "media" / "1" / "big.bin").write_bytes(os.urandom(1_500_000))
    return root


def db_digest(root: Path) -> str:
    with Project.open(root, readonly=True) as p:
        rows = p.conn.execute("SELECT shot_id, shot_name, order_number FROM shots ORDER BY shot_id").fetchall()
        rows += p.conn.execute("SELECT take_id, file_path FROM takes ORDER BY take_id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def leftovers(root: Path) -> list[str]:
    found = [str(p) for p in root.rglob("*") if p.name.endswith((".partial", ".tmp"))]
    found += [str(p) for p in root.parent.glob(".*.partial")]
    return found


def run_child(code: str, *args, kill_on: str | None = None) -> subprocess.CompletedProcess | list[str]:
    """Run `code` in a fresh interpreter. With kill_on, SIGKILL it when it prints that line and
    return what it printed (and its pid as the last item)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if kill_on is None:
        return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line.strip())
            if line.strip() == kill_on:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, seen, proc.stderr.read())
    return seen + [str(proc.pid)]


# -- disk full -------------------------------------------------------------------------------------
DISK_FULL = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from aimms_fast.errors import AimmsError
    from aimms_fast.project import Project
    from aimms_fast.ops import backup as B
    root, what, limit = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    p = Project.open(root)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead of a core-dumping signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        if what == "backup":
            B.backup_database(p)
        elif what == "save":
            B.save_project(p)
        elif what == "archive":
            B.archive_project(p)
        elif what == "restore":
            B.restore_project(p, root / "data" / "saves" / "first.aimms")
        print("NO ERROR")
    except AimmsError as e:
        print("ERROR", e)
    p.close()
""")


@pytest.mark.parametrize("what, limit", [("backup", 20_000), ("save", 2_000), ("archive", 20_000),
                                         ("archive", None), ("restore", 20_000)])
def test_disk_full_says_so_cleans_up_and_changes_nothing(proj, what, limit):
    db_size = (proj / "data" / "shots.db").stat().st_size
    zip_stage = limit is None
    if zip_stage:  # the database copy fits, the zip outgrows the limit in the middle of big.bin
        limit = db_size + 300_000
    before = db_digest(proj)
    backups = sorted(p.name for p in (proj / "data" / "backup").iterdir())
    saves = sorted(p.name for p in (proj / "data" / "saves").iterdir())
    r = run_child(DISK_FULL, proj, what, limit)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    out = r.stdout.strip()
    assert out.startswith("ERROR") and "disk full" in out, out
    # the path it was writing: the zip beside the project, or (archive's database copy) the temp folder
    assert str(proj.parent if zip_stage or what != "archive" else tempfile.gettempdir()) in out
    assert leftovers(proj) == []
    assert sorted(p.name for p in (proj / "data" / "backup").iterdir()) == backups
    assert sorted(p.name for p in (proj / "data" / "saves").iterdir()) == saves
    assert not list(proj.parent.glob("*.zip"))
    assert db_digest(proj) == before


# -- SIGKILL at each step ----------------------------------------------------------------------------
KILLED = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from aimms_fast.project import Project
    from aimms_fast.ops import backup as B
    root, what, at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    p = Project.open(root)
    calls = [0]
    def progress(done, total):
        calls[0] += 1
        if calls[0] == at:
            print("stall", flush=True)
            time.sleep(120)
    if what == "backup":
        B.backup_database(p, progress=progress)
    elif what == "archive":
        B.archive_project(p, progress=progress)
    elif what == "restore":
        B.restore_project(p, root / "data" / "saves" / "first.aimms", progress=progress)
    elif what == "save":
        B.save_project(p, progress=progress)
    print("finished", flush=True)
""")


@pytest.mark.parametrize("what, at", [("backup", 1), ("archive", 1), ("archive", 2), ("save", 2),
                                      ("restore", 1), ("restore", 2), ("restore", 4), ("restore", 7)])
def test_killed_mid_operation_leaves_a_consistent_project_and_no_leftovers(proj, what, at):
    with Project.open(proj) as p:
        old_ids = {r[0] for r in p.conn.execute("SELECT shot_id FROM shots")}
    seen = run_child(KILLED, proj, what, at, kill_on="stall")
    pid = int(seen[-1])
    tmp_dirs = list(Path(tempfile.gettempdir()).glob(f"aimms_archive_{pid}_*"))
    if what == "archive":
        assert tmp_dirs and list(proj.parent.glob(f".*.zip.{pid}.partial"))  # what a kill leaves
    with Project.open(proj) as p:
        assert not p.readonly
        removed = p.leftovers.removed
        ids = {r[0] for r in p.conn.execute("SELECT shot_id FROM shots")}
        # all or nothing: the old shots, or exactly the saved ones (the save predates the last shot)
        assert ids == old_ids or ids == old_ids - {max(old_ids)}
        assert p.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert p.conn.execute("SELECT COUNT(*) FROM takes t LEFT JOIN fast_takes f USING (take_id) "
                              "WHERE f.take_id IS NULL").fetchone()[0] == 0
    assert leftovers(proj) == [], (removed, leftovers(proj))
    assert not [d for d in tmp_dirs if d.exists()]
    if what in ("backup", "archive"):
        assert removed  # the open found and removed the killed process's temp files


def test_leftovers_of_a_live_process_are_kept_and_read_only_opens_only_report(proj):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = proj / "data" / "backup" / f"shots_x.db.{sleeper.pid}.partial"
        alive.write_bytes(b"being written")
        dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                  capture_output=True, text=True).stdout.strip()
        dead = proj / "data" / "saves" / f".p.aimms.{dead_pid}.tmp"
        dead.write_bytes(b"{")
        with Project.open(proj, readonly=True) as p:
            assert str(dead) in p.leftovers.reported and dead.exists()
        with Project.open(proj) as p:
            assert str(dead) in p.leftovers.removed
        assert alive.exists() and not dead.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    with Project.open(proj) as p:  # its writer is gone now
        assert str(alive) in p.leftovers.removed


def test_disk_full_inside_the_restore_transaction_rolls_back(proj, monkeypatch):
    """SQLite reports a full disk as SQLITE_FULL on a page write inside the row swap."""
    import sqlite3
    import aimms_fast.ops.backup as B
    from aimms_fast.errors import AimmsError
    before = db_digest(proj)
    calls = [0]
    real = B.insert_rows

    def full(conn, table, rows):
        calls[0] += 1
        if calls[0] == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(conn, table, rows)
    monkeypatch.setattr(B, "insert_rows", full)
    with Project.open(proj) as p:
        with pytest.raises(AimmsError, match="disk full while restoring; the project is as it was"):
            B.restore_project(p, proj / "data" / "saves" / "first.aimms")
    assert db_digest(proj) == before and leftovers(proj) == []
