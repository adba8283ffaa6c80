"""project/logs.py: one `mutation` line per change (what, ids, UTC time) through the history
recorder and Project.audit, the UTC line format, size rotation keeping AIMMS's file name; and the
project settings saved to AIMMS's `meta` table (ops/project_meta.py)."""
from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest

from aimms_fast.errors import AimmsError
from aimms_fast.ops import history
from aimms_fast.ops.project_meta import set_project_meta
from aimms_fast.ops.shots import add_shot, edit_shots, reorder
from aimms_fast.ops.takes import add_takes, toggle_star
from aimms_fast.project import Project
from aimms_fast.project.logs import MUTATION, project_logger, close_logger
from aimms_fast.store import aimms_schema as A
from tests.conftest import make_image

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (INFO|WARNING|ERROR|DEBUG) (.*)$")


def mutation_lines(project) -> list[tuple[dt.datetime, str]]:
    for h in project.log.handlers:
        h.flush()
    out = []
    for ln in project.layout.log_file.read_text(encoding="utf-8").splitlines():
        m = LINE.match(ln)
        assert m, f"line not in the UTC format: {ln!r}"
        if m.group(3).startswith(MUTATION + " "):
            when = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
            out.append((when, m.group(3)))
    return out


def new_lines(project, before: int) -> list[str]:
    return [t for _, t in mutation_lines(project)[before:]]


def test_each_recorded_change_logs_exactly_one_line_with_its_ids_in_utc(project, media_dir):
    n0 = len(mutation_lines(project))
    sid = add_shot(project, shot_name="A_010", section="Act 1", placeholders=False)
    got = new_lines(project, n0)
    assert len(got) == 1 and f"shots=[{sid}]" in got[0] and "| Added shot A_010" in got[0]

    n = len(mutation_lines(project))
    files = [make_image(media_dir / f"i{i}.png", color=(9 * i, 1, 2)) for i in range(3)]
    ids = add_takes(project, sid, files, storyboard="image")
    got = new_lines(project, n)
    assert len(got) == 1, got                       # three files, one action, one line
    assert all(t in got[0] for t in ids) and f"shots=[{sid}]" in got[0]
    entry = int(re.search(r"entry=(\d+)", got[0]).group(1))
    assert entry == project.conn.execute("SELECT MAX(id) FROM fast_history").fetchone()[0]

    n = len(mutation_lines(project))
    before = dt.datetime.now(dt.timezone.utc)
    toggle_star(project, ids[1])
    after = dt.datetime.now(dt.timezone.utc)
    (when, text), = mutation_lines(project)[n:]
    assert ids[1] in text and ids[0] not in text and text.startswith("mutation takes entry=")
    # the stamp is UTC (not the machine's local time): within the call's window
    assert before - dt.timedelta(seconds=1) <= when <= after + dt.timedelta(seconds=1)

    n = len(mutation_lines(project))
    edit_shots(project, [sid], description="line one\nforged 2026-01-01T00:00:00.000Z INFO mutation x")
    got = new_lines(project, n)
    assert len(got) == 1 and f"shots=[{sid}]" in got[0]

    n = len(mutation_lines(project))
    edit_shots(project, [sid], description="line one\nforged 2026-01-01T00:00:00.000Z INFO mutation x")
    assert new_lines(project, n) == []               # nothing changed: no entry, no line


def test_many_ids_are_counted_not_listed(project):
    sids = [add_shot(project, shot_name=f"S{i:03d}", placeholders=False) for i in range(30)]
    n = len(mutation_lines(project))
    reorder(project, list(reversed(sids)))
    (text,) = new_lines(project, n)
    assert "+" in text.split("shots=[")[1].split("]")[0]    # 20 listed, "+N" more
    assert len(text) < 1000


def test_undo_redo_and_unrecorded_changes_log_one_line_each(project):
    sid = add_shot(project, shot_name="B_020", placeholders=False)
    n = len(mutation_lines(project))
    history.undo(project)
    history.redo(project)
    got = new_lines(project, n)
    assert [t.split()[1] for t in got] == ["undo", "redo"] and all("B_020" in t for t in got)
    assert all(f"shots=[{sid}]" in t and "entry=" in t for t in got)
    n = len(mutation_lines(project))
    set_project_meta(project, author="Ada", comfyui_URL="http://127.0.0.1:8188/")
    (text,) = new_lines(project, n)
    assert text.startswith("mutation project_settings") and "'tester' -> 'Ada'" in text
    assert sid


def test_log_rotates_and_keeps_aimms_file_name(tmp_path):
    log_file = tmp_path / "p" / "logs" / "project_log.log"
    log = project_logger(log_file, max_bytes=2000, backups=2)
    try:
        for i in range(200):
            log.info("line %04d %s", i, "x" * 40)
    finally:
        close_logger(log)
    names = sorted(p.name for p in log_file.parent.iterdir())
    assert names == ["project_log.log", "project_log.log.1", "project_log.log.2"]
    assert all(p.stat().st_size <= 2100 for p in log_file.parent.iterdir())
    assert log_file.read_text().splitlines()[-1].split()[-2] == "0199"   # the newest lines are current


# -- project settings in AIMMS's meta table ---------------------------------------------------
def test_meta_round_trip_reads_back_as_aimms_stores_it(project):
    ch = set_project_meta(project, project_name="Night Train", author="Ada L.", description="A short",
                          project_info="colour: teal\nlook: 35mm", comfyui_output_path="C:/ComfyUI/output",
                          comfyui_URL="http://127.0.0.1:8188/")
    assert set(ch.changed) == set(A.META_DEFAULTS) and ch.before["author"] == "tester"
    path = project.layout.db
    project.close()
    plain = sqlite3.connect(path)       # what AIMMS does: plain SELECT on meta, text values
    try:
        rows = dict(plain.execute("SELECT key, value FROM meta").fetchall())
        sql = plain.execute("SELECT sql FROM sqlite_master WHERE name='meta'").fetchone()[0]
    finally:
        plain.close()
    assert sql == A.META_SQL
    assert rows["project_name"] == "Night Train" and rows["author"] == "Ada L."
    assert rows["project_info"] == "colour: teal\nlook: 35mm"
    assert rows["comfyui_output_path"] == "C:/ComfyUI/output" and rows["comfyui_URL"] == "http://127.0.0.1:8188/"
    assert rows["schema_version"] == A.SCHEMA_VERSION    # untouched keys stay
    with Project.open(path.parent.parent) as p:
        assert p.name == "Night Train"


def test_meta_refuses_bad_values_and_unknown_keys(project):
    with pytest.raises(AimmsError, match="web address"):
        set_project_meta(project, comfyui_URL="localhost 8188")
    with pytest.raises(AimmsError, match="not a project setting"):
        set_project_meta(project, schema_version="9")
    with pytest.raises(AimmsError, match="empty"):
        set_project_meta(project, project_name="  ")
    assert set_project_meta(project, author="tester").changed == []


def test_audit_details_of_a_recorded_change_join_its_one_line(project, media_dir):
    """add_takes audits each batch; the details ride on the Recorder's single line."""
    sid = add_shot(project, shot_name="C_030", placeholders=False)
    n = len(mutation_lines(project))
    add_takes(project, sid, [make_image(media_dir / "x.png")], storyboard="image")
    (text,) = new_lines(project, n)
    assert f"| add_takes shot {sid} image: 1 file(s) |" in text and text.index("| Added") < text.index("add_takes")


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_planted_log_symlink_is_never_written_through(tmp_path, what):
    """Issue 14: logs/project_log.log (or logs/) linked outside must not make a change append there."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.log"
    victim.write_text("keep\n")
    Project.create(tmp_path / "p").close()
    logs = tmp_path / "p" / "logs"
    if what == "file":
        (logs / "project_log.log").unlink()
        (logs / "project_log.log").symlink_to(victim)
    else:
        for f in logs.iterdir():
            f.unlink()
        logs.rmdir()
        logs.symlink_to(outside)
    with Project.open(tmp_path / "p") as p:
        add_shot(p, shot_name="A")
    assert victim.read_text() == "keep\n" and sorted(x.name for x in outside.iterdir()) == ["victim.log"]
