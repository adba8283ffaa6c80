"""Issue 14, containment at open, undo, redo and trash restore (the commands that change files:
test_hostile_paths_ops.py): no stored path makes a command read, write, move or delete outside the
project. Each test makes one record, row or link of the fixture project hostile (tests/hostile_fixture.py),
runs the command a user would, and checks that the outside tree and the other project are
byte-identical afterwards and that the command ended with a clear message (no traceback).
Every case the issue lists fails on the code before issue 14 (checked by running this file there)."""
from __future__ import annotations

from pathlib import Path

import pytest

from aimms_fast.errors import AimmsError, OutsideProject
from hostile_fixture import SECRET, assert_clear, build, files_with, run_cli, tree_state


@pytest.fixture
def h(tmp_path):
    return build(tmp_path)


# -- recovery at open ----------------------------------------------------------------------------
def test_open_refuses_trash_row_moving_a_file_out(h):
    """fast_trash state 'moving' rolls back by moving data/trash/<to> to <from>: a hostile <from>
    wrote a file outside."""
    h.in_trash("evil/payload.txt")
    tid = h.trash_row("moving", [{"from": h.rel_out("written.txt"), "to": "evil/payload.txt"}])
    before = h.world()
    r = run_cli("info", h.root)
    assert_clear(r, ok=True)
    assert h.world() == before
    assert (h.root / "data/trash/evil/payload.txt").exists()
    with h.open() as p:  # reported once, then marked so later opens do not try again
        assert p.recovery_report["refused"] == []
        from aimms_fast.ops.containment import outside_records
        rows = [x for x in outside_records(p) if x["kind"] == "trash"]
        assert [x["row_id"] for x in rows] == [tid] and "'..'" in rows[0]["reason"]
        assert p.conn.execute("SELECT state FROM fast_trash WHERE id=?", (tid,)).fetchone()[0] == "refused"


def test_open_reports_refused_rows(h):
    h.in_trash("evil/payload.txt")
    tid = h.trash_row("moving", [{"from": "/etc/../" + str(h.outside / "w.txt"), "to": "evil/payload.txt"}])
    before = h.world()
    with h.open() as p:
        rep = p.recovery_report["refused"]
    assert [(x["table"], x["id"]) for x in rep] == [("fast_trash", tid)]
    assert "absolute" in rep[0]["reason"]
    assert h.world() == before


def test_open_refuses_trash_row_restoring_an_outside_file_in(h):
    tid = h.trash_row("restoring", [{"from": h.rel_out("secret.txt"), "to": "evil/secret.txt"}])
    before = h.world()
    assert_clear(run_cli("info", h.root), ok=True)
    assert h.world() == before
    assert not (h.root / "data/trash/evil/secret.txt").exists()
    assert files_with(h.root, SECRET) == []
    with h.db() as c:
        assert c.execute("SELECT state FROM fast_trash WHERE id=?", (tid,)).fetchone()[0] == "refused"


def test_open_refuses_trash_row_with_hostile_to(h):
    """The `to` side (relative to data/trash/) must not climb out either."""
    (h.root / f"media/{h.shot_a}/base_01.png").exists()
    h.trash_row("restoring", [{"from": f"media/{h.shot_a}/base_01.png", "to": "../../../outside/stolen.png"}])
    before = h.world()
    assert_clear(run_cli("info", h.root), ok=True)
    assert h.world() == before
    assert (h.root / f"media/{h.shot_a}/base_01.png").exists()


@pytest.mark.parametrize("form", ["dotdot", "absolute", "media_dotdot"])
def test_open_refuses_pending_row_outside(h, form):
    """A fast_pending_files row pointing outside made open move that file into data/trash and
    delete the `.aimms-partial` beside it."""
    path = {"dotdot": "../outside/x.png", "absolute": str(h.outside / "x.png"),
            "media_dotdot": "media/../../outside/x.png"}[form]
    h.pending_row(path)
    before = h.world()
    r = run_cli("info", h.root, "--json")
    assert_clear(r, ok=True)
    assert h.world() == before
    with h.db() as c:
        assert c.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0] == 0


def test_open_refuses_pending_row_naming_the_database(h):
    """Inside the project but not a media file: recovery must not trash data/shots.db."""
    h.pending_row("data/shots.db")
    assert_clear(run_cli("info", h.root), ok=True)
    assert (h.root / "data/shots.db").stat().st_size > 0


def test_open_refuses_interrupted_undo_with_hostile_moves(h):
    h.history_row([{"before": h.rel_out("secret.txt"), "after": "data/trash/evil/hh.txt"}], state="undoing")
    before = h.world()
    assert_clear(run_cli("info", h.root), ok=True)
    assert h.world() == before
    assert files_with(h.root, SECRET) == []


def test_open_with_hostile_take_paths_is_clear(h):
    """Takes naming `..`, absolute, other-project and NUL paths: open works, routing-style checks
    list them, nothing outside is touched."""
    h.set_path(h.img1, h.rel_out("secret.txt"))
    h.set_path(h.img2, str(h.outside / "victim.png"))
    h.set_path(h.img_b, "../other/" + h.other_file)
    h.set_path(h.img_c, "media/3/\x00evil.png")
    before = h.world()
    assert_clear(run_cli("info", h.root), ok=True)
    assert_clear(run_cli("shots", h.root), ok=True)
    with h.open() as p:
        from aimms_fast.ops.containment import outside_records
        rows = {x["take_id"]: x for x in outside_records(p) if x["kind"] == "take"}
        from aimms_fast.store.storyboard import file_state
        assert file_state(p.layout, h.rel_out("secret.txt")) == "missing"
    assert set(rows) == {h.img1, h.img2, h.img_b, h.img_c}
    assert "'..'" in rows[h.img1]["reason"] and "absolute" in rows[h.img2]["reason"]
    assert "NUL" in rows[h.img_c]["reason"] and "\\x00" in rows[h.img_c]["path"]
    assert h.world() == before


# -- undo / redo / trash restore ------------------------------------------------------------------
def test_cli_undo_of_trash_entry_refuses_hostile_from(h):
    h.in_trash("evil/u.txt")
    tid = h.trash_row("done", [{"from": h.rel_out("undo.txt"), "to": "evil/u.txt"}])
    before = h.world()
    r = run_cli("undo", h.root, "--id", tid)
    assert_clear(r, ok=False)
    assert "outside the project" in r.stderr and "undo.txt" in r.stderr
    assert h.world() == before
    assert (h.root / "data/trash/evil/u.txt").exists()


@pytest.mark.parametrize("before_path", ["../outside/h.txt", "ABS", "media/1/../../../outside/h.txt"])
def test_cli_undo_refuses_hostile_history_moves(h, before_path):
    h.in_trash("evil/h.txt")
    before_path = str(h.outside / "h.txt") if before_path == "ABS" else before_path
    h.history_row([{"before": before_path, "after": "data/trash/evil/h.txt"}])
    before = h.world()
    r = run_cli("undo", h.root)
    assert_clear(r, ok=False)
    assert "outside the project" in r.stderr and "nothing was changed" in r.stderr
    assert h.world() == before
    assert (h.root / "data/trash/evil/h.txt").exists()


def test_cli_redo_refuses_hostile_history_moves(h):
    h.in_trash("evil/r.txt")
    h.history_row([{"before": "data/trash/evil/r.txt", "after": h.rel_out("r.txt")}], undone=1)
    before = h.world()
    r = run_cli("redo", h.root)
    assert_clear(r, ok=False)
    assert h.world() == before


def test_undo_of_damaged_history_entry_is_a_clear_error(h):
    with h.db() as c:
        c.execute("INSERT INTO fast_history(at, label, what, shot_ids, changes, files, undone, state) "
                  "SELECT at, 'Damaged', what, shot_ids, changes, '{not json', 0, 'done' FROM fast_history LIMIT 1")
    h.history_row([{"before": "x"}])  # malformed: no 'after'
    assert_clear(run_cli("undo", h.root), ok=False)


# -- the list for `aimms check` / Routing, and odd journal/trash rows --------------------------------
def test_trash_folder_linking_outside_is_never_written(h):
    """data/trash -> outside/dir: delete refuses before any change; open leaves pending files be."""
    import shutil
    shutil.rmtree(h.root / "data/trash", ignore_errors=True)
    h.link("data/trash", h.outside / "dir")
    before = h.world()
    with h.open() as p:
        from aimms_fast.ops.takes import delete_take
        with pytest.raises(OutsideProject):
            delete_take(p, h.img1)
        assert p.conn.execute("SELECT COUNT(*) FROM takes WHERE take_id=?", (h.img1,)).fetchone()[0] == 1
        assert p.conn.execute("SELECT COUNT(*) FROM fast_trash").fetchone()[0] == 0
    (h.root / f"media/{h.shot_a}/orphan.png").write_bytes(b"o")
    h.pending_row(f"media/{h.shot_a}/orphan.png")
    r = run_cli("info", h.root)
    assert_clear(r, ok=True)
    assert h.world() == before
    assert (h.root / f"media/{h.shot_a}/orphan.png").exists()


@pytest.mark.parametrize("steps", [
    [{"op": "rename", "staged": "../outside/secret.txt", "final": "media/1/base_09.png"}],
    [{"op": "rename", "staged": "media/1/base_01.png.aimms-replacing", "final": "../outside/secret.txt"}],
    [{"op": "rename", "staged": "media/1/base_02.png", "final": "media/1/base_01.png"}],  # not our staged copy
    [{"op": "remove", "path": "../outside/secret.txt", "kept": "data/backup/x"}],
    [{"op": "remove", "path": "media/1/base_01.png", "kept": "../outside/secret.txt"}],
    [{"op": "format-disk"}],
])
def test_open_refuses_hostile_replace_journal(h, steps):
    (h.root / "media/1/base_01.png.aimms-replacing").write_bytes(b"staged")
    tid = h.trash_row("swapping", steps, kind="replace")
    media_before = tree_state(h.root / "media")
    before = h.world()
    assert_clear(run_cli("info", h.root), ok=True)
    assert h.world() == before
    assert tree_state(h.root / "media") == media_before
    with h.db() as c:
        assert c.execute("SELECT state FROM fast_trash WHERE id=?", (tid,)).fetchone()[0] == "refused"


# -- the list for `aimms check` / Routing ---------------------------------------------------------------
def test_outside_records_lists_every_kind(h):
    h.set_path(h.img1, "../other/" + h.other_file)
    h.set_path(h.img2, b"\x89PNG binary path")
    h.link(h.path_of(h.img_b), h.outside / "victim.png")
    h.trash_row("done", [{"from": "/etc/passwd", "to": "x/passwd"}])
    h.pending_row("\\\\server\\share\\x.png")
    h.history_row([{"before": "C:/x.png", "after": "data/trash/x.png"}])
    with h.db() as c:
        c.execute("INSERT INTO assets(id_key, asset_name, asset_type, file_path) VALUES ('a1', 'A', 'other', 'logs/x.png')")
    with h.open() as p:
        from aimms_fast.ops.containment import outside_records
        rows = outside_records(p)
        refused = p.recovery_report["refused"]  # the pending row was refused (and cleared) at open
    assert [x["table"] for x in refused] == ["fast_pending_files"] and "UNC" in refused[0]["reason"]
    kinds = sorted(x["kind"] for x in rows)
    assert kinds == ["asset", "history", "take", "take", "take", "trash"], rows
    by_take = {x["take_id"]: x["reason"] for x in rows if x["kind"] == "take"}
    # The BLOB path was turned into text at open (store/record_check, with a backup); as text it is
    # not under media/ or assets/.
    assert "not under" in by_take[h.img2] and "symlink" in by_take[h.img_b] and "'..'" in by_take[h.img1]


def test_outside_records_empty_for_a_sound_project(h):
    with h.open() as p:
        from aimms_fast.ops.containment import outside_records
        assert outside_records(p) == []


def test_outside_project_error_names_path_and_what_to_do(h):
    with h.open() as p:
        with pytest.raises(OutsideProject) as ei:
            p.layout.abs("../outside/secret.txt")
    e = ei.value
    assert isinstance(e, AimmsError)
    assert "'../outside/secret.txt'" in str(e) and "outside the project" in str(e) and "relink" in str(e)


def test_linked_records_detects_a_link_to_another_takes_file(h):
    b_rel = h.path_of(h.img_b)
    h.link(h.path_of(h.img1), f"../{h.shot_b}/{Path(b_rel).name}")
    with h.open() as p:
        from aimms_fast.ops.containment import linked_records, outside_records
        links = linked_records(p)
        assert outside_records(p) == []
    assert [(x["take_id"], x["target"], x["owners"]) for x in links] == [(h.img1, b_rel, [h.img_b])]
