"""Hostile and damaged projects (issue 14): every case that used to end in a traceback now ends in
a clear message (exit 1) or works; restore refuses bad saves before touching anything; archive and
export-starred never follow a path or symlink out of the project.

CLI cases run the real `python -m aimms_fast` in a child process and look at its real stderr."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from aimms_fast.errors import AimmsError, MediaError, ProjectError
from aimms_fast.ops.backup import archive_project, export_starred, restore_project, save_project
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes, star_take
from aimms_fast.project import Project

from conftest import make_image, make_video

REPO = Path(__file__).resolve().parents[1]


def aimms(*args, env=None, timeout=60, prefix=()) -> subprocess.CompletedProcess:
    e = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([*prefix, sys.executable, "-m", "aimms_fast", *map(str, args)], cwd=REPO, env=e,
                          capture_output=True, text=True, timeout=timeout)


def clear_fail(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(("error: ", "  ")), r.stderr
    assert [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")], r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0 and "Traceback" not in r.stderr, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file's hash, but the lock (holds the last pid) and logs/ (every open logs a line)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
            and p.name != ".aimms_fast.lock" and p.relative_to(folder).parts[0] != "logs"}


@pytest.fixture
def small(tmp_path) -> Path:
    root = tmp_path / "proj"
    with Project.create(root) as p:
        add_shot(p, shot_name="A")
        add_shot(p, shot_name="B")
    return root


def poke(root: Path, *sql: str) -> None:
    c = sqlite3.connect(root / "data" / "shots.db")
    for q in sql:
        c.execute(q)
    c.commit()
    c.close()


# -- wrong-typed values in AIMMS columns -------------------------------------------------------------
def test_wrong_typed_values_are_repaired_and_reported_not_fatal(small):
    poke(small, "UPDATE takes SET file_path = CAST(file_path AS BLOB) WHERE rowid = 1",
         "UPDATE takes SET take_type = NULL WHERE rowid = 2",
         "UPDATE takes SET starred = 'yes' WHERE rowid = 3",
         "UPDATE shots SET order_number = 1e20 WHERE shot_id = 1",
         f"UPDATE shots SET order_number = {2**62} WHERE shot_id = 2",
         "UPDATE takes SET created_date = '9999-12-31T23:59:59-14:00' WHERE rowid = 4")
    for cmd in ("info", "routing", "unused", "shots", "save", "export-csv", "workflow-png"):
        ok(aimms(cmd, small))
    with Project.open(small) as p:
        c = p.conn
        assert c.execute("SELECT COUNT(*) FROM takes WHERE typeof(file_path) = 'blob' OR take_type IS NULL "
                         "OR typeof(starred) != 'integer'").fetchone()[0] == 0
        orders = [r[0] for r in c.execute("SELECT order_number FROM shots ORDER BY order_number")]
        assert all(isinstance(o, int) and abs(o) <= 2**53 for o in orders)
        assert c.execute("SELECT take_type FROM takes WHERE rowid = 2").fetchone()[0] == "unknown"
    log = (small / "logs" / "project_log.log").read_text()
    assert "wrong type" in log and "file_path is blob" in log and "take_type is null" in log
    assert "9999-12-31T23:59:59-14:00" in log and "(left as it is)" in log
    # the original values are kept in a backup taken before the repair
    (bak,) = (small / "data" / "backup").glob("shots_pre_repair_*.db")
    b = sqlite3.connect(bak)
    assert b.execute("SELECT COUNT(*) FROM takes WHERE typeof(file_path) = 'blob'").fetchone()[0] == 1
    b.close()


def test_read_only_open_repairs_only_its_snapshot(small):
    poke(small, "UPDATE takes SET take_type = NULL WHERE rowid = 1")
    before = (small / "data" / "shots.db").read_bytes()
    with Project.open(small, readonly=True) as p:
        assert p.bad_values and p.conn.execute("SELECT COUNT(*) FROM takes WHERE take_type IS NULL").fetchone()[0] == 0
    assert (small / "data" / "shots.db").read_bytes() == before


# -- missing / empty / damaged database ------------------------------------------------------------
def test_zero_byte_database_is_an_error_naming_the_newest_backup(small):
    ok(aimms("backup", small))
    time.sleep(1.1)
    ok(aimms("backup", small))
    newest = max((small / "data" / "backup").glob("shots_*.db"), key=lambda p: p.stat().st_mtime)
    (small / "data" / "shots.db").write_bytes(b"")
    for cmd in ("info", "shots", "add-shot --name X"):
        r = aimms(*cmd.split()[:1], *cmd.split()[1:], small)
        clear_fail(r, "empty (0 bytes)", newest.name)
    assert (small / "data" / "shots.db").stat().st_size == 0  # not silently re-created


def test_missing_database_is_not_a_new_project(small):
    (small / "data" / "shots.db").unlink()
    clear_fail(aimms("info", small), "database data/shots.db is missing", "backup")
    assert not (small / "data" / "shots.db").exists()


def test_garbage_database_is_a_clear_error(small):
    (small / "data" / "shots.db").write_bytes(b"this is not sqlite" * 100)
    r = aimms("info", small)
    clear_fail(r, "not a database", "data/backup")


# -- locked by another process / read-only folder ----------------------------------------------------
def test_locked_database_waits_then_names_the_process(small):
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sqlite3, sys, time\n"
                               f"c = sqlite3.connect({str(small / 'data' / 'shots.db')!r}, isolation_level=None)\n"
                               "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = aimms("add-shot", "--name", "X", small, env={"AIMMS_LOCK_WAIT_S": "1"})
        clear_fail(r, "waiting for", "still locked", f"pid {holder.pid}")
    finally:
        holder.kill()
        holder.wait()
    ok(aimms("add-shot", "--name", "X", small))  # and once it is gone, all is well


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv to drop root's override")
def test_read_only_data_folder_opens_read_only_and_says_so(small):
    # Without CAP_DAC_OVERRIDE even root gets EACCES in a 0555 folder, as a normal user would.
    drop = ("setpriv", "--bounding-set=-all", "--inh-caps=-all")
    os.chmod(small / "data", 0o555)
    try:
        out = ok(aimms("info", small, prefix=drop))
        assert "READ-ONLY" in out and "not writable" in out
        ok(aimms("routing", small, prefix=drop))
        clear_fail(aimms("add-shot", "--name", "X", small, prefix=drop), "read-only", "not writable")
    finally:
        os.chmod(small / "data", 0o755)


# -- frame size, restore of hostile saves ---------------------------------------------------------
def test_frame_size_is_capped(tmp_path, small):
    with Project.open(small) as p:
        sid = add_shot(p, shot_name="V")
        tid = add_takes(p, sid, [make_video(tmp_path / "v.mp4")], storyboard="video")[0]
    clear_fail(aimms("frame", small, tid, "--index", "0", "--out", tmp_path / "f.png", "--size", "30000x30000"),
               "30000x30000", "7680x4320")
    assert not (tmp_path / "f.png").exists()


def _hostile_save(root: Path, tmp_path: Path, mutate) -> Path:
    with Project.open(root) as p:
        src = save_project(p, tmp_path / "s.aimms")
    data = json.loads(src.read_bytes())
    mutate(data)
    src.write_text(json.dumps(data))  # the stdlib writes 2**70; orjson would refuse
    return src


def test_restore_refuses_wrong_types_listing_each_by_shot_and_take(small, tmp_path):
    def mutate(d):
        d["shots"][0]["shot_name"] = ["a", "list"]
        d["shots"][1]["order_number"] = {"x": 1}
        d["takes"][0]["starred"] = 2**70
        d["takes"][1]["file_path"] = {"evil": True}
        d["takes"][2]["created_date"] = [1]
    save = _hostile_save(small, tmp_path, mutate)
    before = tree_digest(small)
    r = aimms("restore", small, save)
    clear_fail(r, "nothing was changed", "shot 1", "shot_name is a list", "order_number is an object",
               "starred", "out of range", "file_path is an object", "created_date is a list")
    assert tree_digest(small) == before  # not even a backup was written


@pytest.mark.parametrize("path", ["../outside/x.png", "/etc/passwd", "media/../../x.png", "C:/Windows/x.png",
                                  "..\\..\\x.png", "media/1/link.png"])
def test_restore_refuses_paths_that_leave_the_project(small, tmp_path, path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.png").write_bytes(b"secret")
    (small / "media" / "1" / "link.png").symlink_to(outside / "x.png")

    def mutate(d):
        d["takes"][0]["file_path"] = path
    save = _hostile_save(small, tmp_path, mutate)
    with Project.open(small) as p:
        n_backups = len(list(p.layout.backup.iterdir()))
        with pytest.raises(AimmsError) as ei:
            restore_project(p, save)
        assert "file_path refused" in str(ei.value) and "take " in str(ei.value)
        assert len(list(p.layout.backup.iterdir())) == n_backups
    assert (outside / "x.png").read_bytes() == b"secret"


def test_restore_take_back_never_writes_outside(small, tmp_path):
    """A hostile trash row `from: ../../victim.txt` must not make restore move a file out."""
    with Project.open(small) as p:
        save = save_project(p, tmp_path / "good.aimms")
        trash = p.layout.trash / "e1"
        trash.mkdir(parents=True)
        (trash / "x.png").write_bytes(b"trash bytes")
        rel = p.conn.execute("SELECT file_path FROM takes LIMIT 1").fetchone()[0]
        p.layout.abs(rel).unlink()
        p.conn.execute("INSERT INTO fast_trash(kind, label, rows_json, deleted_at, state, files_json) VALUES "
                       "('shots', 'x', '{}', '2026-01-01T00:00:00Z', 'done', ?)",
                       (orjson.dumps([{"from": "../victim.txt", "to": "e1/x.png"},
                                      {"from": rel, "to": "../../../outside.png"}]).decode(),))
        p.conn.commit()
        rep = restore_project(p, save)
        assert rep["recovered_from_trash"] == []
    assert not (small.parent / "victim.txt").exists()
    assert (trash / "x.png").read_bytes() == b"trash bytes"


# -- archive and export-starred ---------------------------------------------------------------------
@pytest.fixture
def linked(small, tmp_path):
    """A project with a file symlink and a folder symlink pointing outside, a FIFO and a take
    whose path leaves the project."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"do not ship me")
    (outside / "dir").mkdir()
    (outside / "dir" / "inner.txt").write_bytes(b"nor me")
    media = small / "media" / "1"
    (media / "link.png").symlink_to(outside / "secret.txt")
    (media / "dirlink").symlink_to(outside / "dir")
    os.mkfifo(media / "pipe.png")
    return small, outside


def test_archive_skips_symlinks_and_fifos_without_hanging(linked, tmp_path):
    root, outside = linked
    with Project.open(root) as p:
        rep = archive_project(p, tmp_path / "zips")
    names = zipfile.ZipFile(rep["path"]).namelist()
    assert not any("link" in n or "pipe" in n or "inner" in n for n in names)
    with zipfile.ZipFile(rep["path"]) as z:
        assert not any(b"do not ship me" in z.read(n) for n in names)
    joined = "\n".join(rep["skipped"])
    assert "link.png: symlink, not followed" in joined and "dirlink: symlink to a folder" in joined
    assert "pipe.png: not a regular file (FIFO)" in joined
    assert not list((tmp_path / "zips").glob(".*partial"))


def test_archive_names_the_right_cause_for_an_unreadable_file(small, tmp_path, monkeypatch):
    import aimms_fast.ops.archive as B
    bad = small / "media" / "1" / "locked.png"
    make_image(bad)
    real = B._open_regular

    def deny(p):
        if Path(p) == bad:
            raise PermissionError(13, "Permission denied", str(p))
        return real(p)
    monkeypatch.setattr(B, "_open_regular", deny)
    with Project.open(small) as p:
        rep = archive_project(p, tmp_path / "zips")
    assert any("locked.png: cannot read it (permission denied)" in s for s in rep["skipped"])


def test_export_starred_never_copies_outside_files(linked, tmp_path):
    root, outside = linked
    with Project.open(root) as p:
        sid = add_shot(p, shot_name="S")
        tid = add_takes(p, sid, [make_video(tmp_path / "v.mp4")], storyboard="video")[0]
        star_take(p, tid)
        p.conn.execute("UPDATE takes SET file_path = 'media/1/link.png' WHERE take_id = ?", (tid,))
        sid2 = add_shot(p, shot_name="T")
        tid2 = add_takes(p, sid2, [make_video(tmp_path / "w.mp4")], storyboard="video")[0]
        star_take(p, tid2)
        p.conn.execute("UPDATE takes SET file_path = '../outside/secret.txt' WHERE take_id = ?", (tid2,))
        p.conn.commit()
        rep = export_starred(p, tmp_path / "out")
    assert rep["refused"] == 2 and rep["copied"] == 0
    for f in (tmp_path / "out").iterdir():
        assert b"do not ship me" not in f.read_bytes()
    manifest = (tmp_path / "out" / "starred_takes_manifest.csv").read_text(encoding="utf-8-sig")
    assert "outside the project" in manifest


# -- the safety net -----------------------------------------------------------------------------------
def test_unexpected_error_is_one_line_and_the_traceback_goes_to_the_log(small, monkeypatch):
    import aimms_fast.store.stats as stats
    monkeypatch.setattr(stats, "project_counts", lambda conn: 1 / 0)
    from aimms_fast.cli import cli
    r = CliRunner().invoke(cli, ["info", str(small)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "unexpected ZeroDivisionError" in lines[0]
    log = small / "logs" / "aimms_fast_errors.log"
    assert str(log) in lines[0] and "Traceback" in log.read_text() and "ZeroDivisionError" in log.read_text()


def test_cli_media_errors_are_clear(tmp_path):
    from aimms_fast.media.frames import check_frame_size
    with pytest.raises(MediaError, match="out of range"):
        check_frame_size(30000, 30000)
    check_frame_size(7680, 4320)
    with pytest.raises(ProjectError):
        Project.open(tmp_path)


def test_restore_from_a_fifo_is_refused_not_blocking(small, tmp_path):
    fifo = tmp_path / "save.aimms"
    os.mkfifo(fifo)
    clear_fail(aimms("restore", small, fifo, timeout=30), "not a regular file")


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv to drop root's override")
def test_archive_of_a_really_unreadable_file_names_permission_denied(small, tmp_path):
    bad = make_image(small / "media" / "1" / "locked.png")
    bad.chmod(0)
    try:
        r = aimms("archive", small, "--dest", tmp_path / "zips",
                  prefix=("setpriv", "--bounding-set=-all", "--inh-caps=-all"))
        out = ok(r)
        assert "left out: proj/media/1/locked.png: cannot read it (permission denied)" in out, out
    finally:
        bad.chmod(0o644)
