"""Bad input and faults (issue 2): unreadable or vanishing sources, a read-only project, a full disk,
and a process killed in the middle of a bulk import. Afterwards the project must open, every take row
must point at an existing file and every media file must be referenced or in the project trash."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from aimms_fast.errors import AimmsError, ReadOnlyError
from aimms_fast.ops import files as F
from aimms_fast.ops.shots import add_shot, edit_shots
from aimms_fast.ops.takes import BATCH, add_takes, replace_take, star_take
from aimms_fast.project import Project
from aimms_fast.project.recovery import PARTIAL_SUFFIX
from aimms_fast.store.shots import list_shots

from conftest import REALDATA, make_image, make_video

REPO = Path(__file__).resolve().parents[1]
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def check_consistent(project) -> None:
    """The invariant after any fault: rows and files agree; nothing half-written is left."""
    lay = project.layout
    conn = project.conn
    paths = [r[0] for r in conn.execute("SELECT file_path FROM takes")]
    missing = [p for p in paths if not lay.abs(p).is_file()]
    assert missing == [], f"take rows without a file: {missing[:5]}"
    referenced = set(paths) | {r[0] for r in conn.execute("SELECT file_path FROM assets")}
    on_disk = {lay.rel(p) for p in lay.media.rglob("*") if p.is_file()}
    assert on_disk - referenced == set(), f"media files neither referenced nor trashed: {sorted(on_disk - referenced)[:5]}"
    assert conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM takes t LEFT JOIN fast_takes f USING (take_id) "
                        "WHERE f.take_id IS NULL").fetchone()[0] == 0
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def take_count(project, shot_id) -> int:
    return project.conn.execute("SELECT COUNT(*) FROM takes WHERE shot_id=?", (shot_id,)).fetchone()[0]


def many_images(folder: Path, n: int) -> list[Path]:
    one = make_image(folder / "src.png", size=(16, 16))
    out = []
    for i in range(n):
        p = folder / f"frame {i:04d}.png"
        shutil.copy(one, p)
        out.append(p)
    one.unlink()
    return out


# -- unreadable / vanished sources ----------------------------------------------------------
def test_unreadable_source_is_refused_before_anything_is_copied(project, media_dir, monkeypatch):
    sid = add_shot(project, shot_name="S")
    good = make_image(media_dir / "good.png")
    locked = make_image(media_dir / "locked.png")
    locked.chmod(0)
    if AS_ROOT:
        # root reads any file regardless of mode bits; emulate what the kernel tells a normal user
        real_access = os.access
        monkeypatch.setattr(F.os, "access", lambda p, mode, **kw: False if Path(p) == locked else real_access(p, mode, **kw))
    try:
        with pytest.raises(AimmsError) as ei:
            add_takes(project, sid, [good, locked], storyboard="image")
        assert "not readable" in str(ei.value) and str(locked) in str(ei.value)
        assert take_count(project, sid) == 3  # only the shot's placeholders
        check_consistent(project)
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_permission_error_while_copying_leaves_nothing(project, media_dir, monkeypatch):
    sid = add_shot(project, shot_name="S")
    srcs = many_images(media_dir, 4)
    real = F._copy_bytes
    calls = []

    def denied(src, dst, *sync):
        calls.append(src)
        if len(calls) == 3:
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        real(src, dst, *sync)
    monkeypatch.setattr(F, "_copy_bytes", denied)
    with pytest.raises(AimmsError, match="permission denied"):
        add_takes(project, sid, srcs, storyboard="image")
    assert take_count(project, sid) == 3
    check_consistent(project)


def test_source_vanishing_mid_import(project, media_dir, monkeypatch):
    """The 70th of 80 files disappears while the import runs: the first batch (64) is kept, the
    interrupted batch is rolled back completely, and the error names the file."""
    sid = add_shot(project, shot_name="S")
    srcs = many_images(media_dir, 80)
    real = F._copy_bytes

    def vanish(src, dst, *sync):
        if Path(src) == srcs[69]:
            Path(src).unlink()
        real(src, dst, *sync)
    monkeypatch.setattr(F, "_copy_bytes", vanish)
    with pytest.raises(AimmsError) as ei:
        add_takes(project, sid, srcs, storyboard="image")
    assert "vanished" in str(ei.value) and "frame 0069.png" in str(ei.value)
    assert take_count(project, sid) == 3 + BATCH
    assert not list(project.layout.media.rglob(f"*{PARTIAL_SUFFIX}"))
    check_consistent(project)
    # the rest can simply be added again
    monkeypatch.setattr(F, "_copy_bytes", real)
    add_takes(project, sid, srcs[BATCH:69] + srcs[70:], storyboard="image")
    assert take_count(project, sid) == 3 + 79
    check_consistent(project)


def test_flush_failing_before_the_rows_commit_leaves_nothing(project, media_dir, monkeypatch):
    """add_takes copies a batch without fsync and flushes it before its rows commit: a disk that
    fills up at that flush (delayed allocation) ends the import with the same clear error, the
    batch's files gone and no row naming them."""
    from aimms_fast.store import pending as P
    sid = add_shot(project, shot_name="S")
    srcs = many_images(media_dir, 5)
    synced, real_fsync = [], os.fsync
    folder = project.layout.abs(f"media/{sid}")
    before = sorted(p.name for p in folder.iterdir())     # the placeholders

    def fsync(fd):
        synced.append(fd)
        if len(synced) == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)
    monkeypatch.setattr(P.os, "fsync", fsync)
    with pytest.raises(AimmsError, match="disk full") as ei:
        add_takes(project, sid, srcs, storyboard="image")
    assert ei.value.hint and len(synced) == 5      # the flush ran after the copies, one fsync a file (concurrent)
    assert take_count(project, sid) == 3
    assert sorted(p.name for p in folder.iterdir()) == before
    check_consistent(project)
    monkeypatch.undo()
    assert len(add_takes(project, sid, srcs, storyboard="image")) == 5
    check_consistent(project)


def test_source_missing_before_import(project, tmp_path):
    sid = add_shot(project, shot_name="S")
    with pytest.raises(AimmsError, match="file not found") as ei:
        add_takes(project, sid, [tmp_path / "gone.mp4"], storyboard="video")
    assert ei.value.hint and "gone.mp4" in str(ei.value)


# -- disk full ------------------------------------------------------------------------------
def test_disk_full_while_copying(project, media_dir, monkeypatch):
    sid = add_shot(project, shot_name="S")
    srcs = many_images(media_dir, 5)
    vid = make_video(media_dir / "v.mp4")
    tid = add_takes(project, sid, [vid], storyboard="video")[0]
    star_take(project, tid)
    before = project.layout.abs(f"media/{sid}/video_02.mp4").read_bytes()

    def full(src, dst, *sync):
        with open(dst, "wb") as f:  # half a file reaches the disk, then the disk is full
            f.write(Path(src).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))
    monkeypatch.setattr(F, "_copy_bytes", full)
    with pytest.raises(AimmsError) as ei:
        add_takes(project, sid, srcs, storyboard="image")
    assert "disk full" in str(ei.value) and ei.value.hint
    assert take_count(project, sid) == 4
    with pytest.raises(AimmsError, match="disk full"):
        replace_take(project, tid, make_video(media_dir / "new.mp4", color_seed=3))
    # the take being replaced is untouched
    assert project.layout.abs(f"media/{sid}/video_02.mp4").read_bytes() == before
    assert project.conn.execute("SELECT starred FROM takes WHERE take_id=?", (tid,)).fetchone()[0] == 1
    from aimms_fast.ops.backup import export_starred
    with pytest.raises(AimmsError, match="disk full"):
        export_starred(project, media_dir / "out")
    assert not list(project.layout.root.rglob(f"*{PARTIAL_SUFFIX}"))
    assert not list((media_dir / "out").glob(f"*{PARTIAL_SUFFIX}"))
    check_consistent(project)
    # and after space is freed it all works
    monkeypatch.undo()
    assert len(add_takes(project, sid, srcs, storyboard="image")) == 5
    check_consistent(project)


# -- permission denied on the project -------------------------------------------------------
def test_unwritable_project_opens_read_only(tmp_path, media_dir, monkeypatch):
    root = tmp_path / "ro project"
    with Project.create(root) as p:
        sid = add_shot(p, shot_name="S")
    for d in [root, *[x for x in root.rglob("*") if x.is_dir()]]:
        d.chmod(0o555)
    (root / "data" / "shots.db").chmod(0o444)
    if AS_ROOT:
        # root bypasses mode bits; emulate the denial a normal user gets (Project checks os.access)
        import aimms_fast.project.project as project_mod
        real_access = os.access
        monkeypatch.setattr(project_mod.os, "access", lambda path, mode, **kw:
                            False if (mode & os.W_OK and Path(path).resolve().is_relative_to(root.resolve()))
                            else real_access(path, mode, **kw))
    try:
        with Project.open(root) as p:
            assert p.readonly and "permission denied" in p.readonly_reason
            assert [r["shot_name"] for r in list_shots(p.conn)] == ["S"]  # reading works
            img = make_image(media_dir / "i.png")
            for write in (lambda: add_shot(p, shot_name="x"), lambda: edit_shots(p, [sid], section="a"),
                          lambda: add_takes(p, sid, [img], storyboard="image")):
                with pytest.raises(ReadOnlyError) as ei:
                    write()
                assert "read-only" in str(ei.value) and ei.value.hint
            from aimms_fast.ops.csv_io import import_csv
            csv_file = tmp_path / "s.csv"
            csv_file.write_text("shot_name\nA\n")
            with pytest.raises(ReadOnlyError):
                import_csv(p, csv_file)
        from aimms_fast.cli import cli
        r = CliRunner().invoke(cli, ["add-shot", "--name", "x", str(root)])
        assert r.exit_code == 1 and "read-only" in r.output
    finally:
        for d in [root, *[x for x in root.rglob("*") if x.is_dir()]]:
            d.chmod(0o755)
        (root / "data" / "shots.db").chmod(0o644)


# -- killed in the middle of a bulk import ----------------------------------------------------
CHILD_ADD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from aimms_fast.project import Project
    from aimms_fast.ops.takes import add_takes
    root, src, shot = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    stall = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if stall:
        # Freeze inside the copy of file number `stall`, half of it written, so the kill lands
        # mid-copy for certain (the parent waits for "stalled").
        import time
        from aimms_fast.ops import files as F
        real, count = F._copy_bytes, [0]
        def slow(s, d, *sync):
            count[0] += 1
            if count[0] == stall:
                with open(d, "wb") as f:
                    f.write(Path(s).read_bytes()[:50])
                    f.flush()
                print("stalled", flush=True)
                time.sleep(120)
            real(s, d, *sync)
        F._copy_bytes = slow
    p = Project.open(root)
    assert not p.readonly, p.readonly_reason
    files = sorted(src.glob("*.png"))
    add_takes(p, shot, files, storyboard="image", progress=lambda d, t: print(d, flush=True))
    print("finished", flush=True)
""")

CHILD_CSV = textwrap.dedent("""
    import sys
    from aimms_fast.project import Project
    from aimms_fast.ops.csv_io import import_csv
    p = Project.open(sys.argv[1])
    rep = import_csv(p, sys.argv[2], progress=lambda d, t: print(d, flush=True))
    assert rep.ok, rep.errors
    print("finished", flush=True)
""")


def run_and_kill(code: str, args: list[str], kill_at: int | None) -> list[str]:
    """Run `code` in a fresh interpreter, SIGKILL it once it reports progress >= kill_at (or, with
    kill_at None, once it says "stalled")."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env=env)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line.strip())
            if (kill_at is None and line.strip() == "stalled") or \
                    (kill_at is not None and line.strip().isdigit() and int(line) >= kill_at):
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr.read())
    assert "finished" not in seen
    return seen


@pytest.mark.parametrize("kill_at, stall", [(3, 0), (70, 0), (200, 0), (None, 100)])
def test_killed_during_bulk_add_takes(tmp_path, kill_at, stall):
    root = tmp_path / "proj"
    with Project.create(root) as p:
        sid = add_shot(p, shot_name="bulk")
    src = tmp_path / "incoming files"
    src.mkdir()
    many_images(src, 300)
    run_and_kill(CHILD_ADD, [str(root), str(src), str(sid), str(stall)], kill_at)
    with Project.open(root) as p:
        assert not p.readonly  # the dead process's lock went with it
        check_consistent(p)
        n = take_count(p, sid) - 3
        assert n < 300 and n % BATCH == 0  # whole batches only
        rec = p.recovery_report
        # the interrupted batch's files were moved to the trash or were never completed
        trashed = [x for x in p.layout.trash.rglob("*") if x.is_file()] if p.layout.trash.exists() else []
        assert len(trashed) == len(rec["trashed"])
        if stall:  # killed inside the copy of file 100: batch 2 (65..128) had 35 complete copies
            assert n == BATCH
            assert rec["partials_removed"] == 1 and len(rec["trashed"]) == stall - 1 - BATCH
        nums = sorted(t for (t,) in p.conn.execute(
            "SELECT take_number FROM fast_takes WHERE shot_id=? AND storyboard='image'", (sid,)))
        assert nums == list(range(1, n + 2))
        # and the import can be finished afterwards
        done = add_takes(p, sid, sorted(src.glob("*.png"))[n:], storyboard="image")
        assert len(done) == 300 - n
        check_consistent(p)


def test_killed_during_csv_import_is_all_or_nothing(tmp_path):
    root = tmp_path / "proj"
    Project.create(root).close()
    csv_file = tmp_path / "big list.csv"
    csv_file.write_text("shot_name,section\n" + "".join(f"SHOT_{i},S{i % 7}\n" for i in range(2000)))
    run_and_kill(CHILD_CSV, [str(root), str(csv_file)], 1500)
    with Project.open(root) as p:
        check_consistent(p)
        assert p.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0] in (0, 2000)
        from aimms_fast.ops.csv_io import import_csv
        rep = import_csv(p, csv_file)
        assert rep.ok
        check_consistent(p)


# -- odd paths through the real CLI -----------------------------------------------------------
def test_cli_paths_with_dashes_spaces_and_unicode(tmp_path):
    work = tmp_path / "wörk dir"
    work.mkdir()
    shutil.copy(REALDATA / "video/odd/-video-with-dash-.mp4", work / "-video-with-dash-.mp4")
    make_image(work / "-ïmg with space.png")

    def aimms(*args):
        r = subprocess.run([sys.executable, "-m", "aimms_fast", *args], cwd=work, capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
        return r
    assert aimms("new", "--name", "-Dash Prøject", "--", "-proj ect").returncode == 0
    assert aimms("add-shot", "--name", "-shot one", "--", "-proj ect").returncode == 0
    r = aimms("add-take", "--shot", "-shot one", "--video", "-video-with-dash-.mp4", "--", "-proj ect")
    assert r.returncode == 0, r.stderr
    r = aimms("add-take", "./-proj ect", "--shot", "1", "--image=-ïmg with space.png")
    assert r.returncode == 0, r.stderr
    with Project.open(work / "-proj ect") as p:
        paths = sorted(x for (x,) in p.conn.execute("SELECT file_path FROM takes WHERE shot_id=1"))
        assert "media/1/video_02.mp4" in paths and "media/1/base_02.png" in paths
        assert p.layout.abs("media/1/video_02.mp4").read_bytes() == (work / "-video-with-dash-.mp4").read_bytes()
        check_consistent(p)


def test_recovery_copes_with_more_pending_files_than_sqlite_variables(tmp_path, monkeypatch):
    """A crash during a very large import leaves thousands of pending paths; recovery must not build
    a query with one variable per path (SQLite builds may allow only 32766, here forced to 999)."""
    import sqlite3
    import aimms_fast.project.project as project_mod
    from aimms_fast.store.db import transaction
    root = tmp_path / "p"
    with Project.create(root) as p:
        sid = add_shot(p, shot_name="S")
        with transaction(p.db):
            p.conn.executemany("INSERT INTO fast_pending_files(path, started_at) VALUES (?, 'x')",
                               [(f"media/{sid}/base_{i:04d}.png",) for i in range(2, 1502)])
        for i in range(2, 12):  # a few of them reached the disk before the crash
            (p.layout.shot_dir(sid) / f"base_{i:04d}.png").write_bytes(b"png")
    real_connect = project_mod.store_db.connect

    def small_limit(path, **kw):
        db = real_connect(path, **kw)
        db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return db
    monkeypatch.setattr(project_mod.store_db, "connect", small_limit)
    with Project.open(root) as p:
        assert len(p.recovery_report["trashed"]) == 10
        check_consistent(p)
