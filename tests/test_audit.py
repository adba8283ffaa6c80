"""Audit log (issue 12): every mutation path writes exactly one fast_audit row in its own transaction
(who = the project's author, ids, before -> after), a failed mutation writes none; `aimms audit`."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.ops import assets as OA
from aimms_fast.ops import history
from aimms_fast.ops import shots as OS
from aimms_fast.ops import takes as OT
from aimms_fast.project import Project
from aimms_fast.store import audit as A
from tests.conftest import make_image


def _count(p) -> int:
    return p.conn.execute("SELECT COUNT(*) FROM fast_audit").fetchone()[0]


@pytest.fixture
def proj(tmp_path):
    p = Project.create(tmp_path / "p", author="Ana Ortiz")
    yield p
    p.close()


def test_every_mutation_writes_one_row(proj, tmp_path):
    p = proj
    img = make_image(tmp_path / "a.png")
    img2 = make_image(tmp_path / "b.png", color=(10, 200, 10))
    state = {}
    steps = [
        ("add_shot", lambda: state.__setitem__("sid", OS.add_shot(p, shot_name="S1", description="first"))),
        ("edit_shots", lambda: OS.edit_shots(p, [state["sid"]], description="second")),
        ("add_takes", lambda: state.__setitem__("tid", OT.add_takes(p, state["sid"], [img], storyboard="image")[0])),
        ("star", lambda: OT.star_take(p, state["tid"], on=True)),
        ("replace_take", lambda: OT.replace_take(p, state["tid"], img2)),
        ("Edited notes", lambda: OT.set_notes(p, state["tid"], notes="nice")),
        ("undo", lambda: history.undo(p)),
        ("redo", lambda: history.redo(p)),
        ("add_assets", lambda: state.__setitem__("aid", OA.add_assets(p, [img], kind="characters", name="Brick")[0])),
        ("rename_asset", lambda: OA.rename_asset(p, state["aid"], "Brick B.")),
        ("star_asset", lambda: OA.star_asset(p, state["aid"], on=True)),
        ("assign_asset", lambda: OA.assign_to_shots(p, [state["aid"]], [state["sid"]])),
        ("delete_asset", lambda: OA.delete_assets(p, [state["aid"]])),
        ("delete_take", lambda: OT.delete_take(p, state["tid"])),
        ("add_shot", lambda: state.__setitem__("sid2", OS.add_shot(p, shot_name="S2"))),
        ("reorder", lambda: OS.move_shot(p, state["sid2"], 0)),
        ("delete_shot", lambda: OS.delete_shots(p, [state["sid2"]])),
    ]
    for action, fn in steps:
        n = _count(p)
        fn()
        assert _count(p) == n + 1, action
        row = A.rows(p.conn, limit=1)[0]
        assert action in row.action or action in row.detail, (action, row)
        assert row.who == "Ana Ortiz"
    edit = next(r for r in A.rows(p.conn, action="edit_shots"))
    assert edit.ids == [state["sid"]] and edit.history_id
    assert {"table": "shots", "key": state["sid"], "field": "description", "before": "first",
            "after": "second"} in edit.changes
    star = A.rows(p.conn, action="star")[-1]
    assert any(c["field"] == "starred" and c["after"] for c in star.changes)


def test_failed_mutation_writes_none(proj, monkeypatch):
    p = proj
    sid = OS.add_shot(p, shot_name="S1")
    n = _count(p)

    def boom(*a, **k):
        raise RuntimeError("disk gone")
    monkeypatch.setattr("aimms_fast.store.shots.update_shots", boom)
    monkeypatch.setattr(OS.S, "update_shots", boom)
    with pytest.raises(RuntimeError):
        OS.edit_shots(p, [sid], description="x")
    assert _count(p) == n
    with pytest.raises(Exception):
        OS.edit_shots(p, [sid], nonsense="x")
    assert _count(p) == n


def test_recorder_writes_row_when_action_has_no_audit_call(proj):
    """set_notes records history but calls no project.audit: the recorder writes its row."""
    p = proj
    sid = OS.add_shot(p, shot_name="S1")
    tid = OT.add_placeholders(p, sid, 1, storyboard="image")[0]
    n = _count(p)
    OT.set_notes(p, tid, rating=4)
    assert _count(p) == n + 1
    r = A.rows(p.conn, limit=1)[0]
    assert r.action.startswith("Edited rating") and r.who == "Ana Ortiz"
    assert any(c["field"] == "rating" and c["after"] == 4 for c in r.changes)


def test_cli_audit(proj, tmp_path):
    p = proj
    OS.add_shot(p, shot_name="S1")
    OS.add_shot(p, shot_name="S2")
    root = p.root
    p.close()
    r = CliRunner().invoke(cli, ["audit", str(root), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert [x["action"] for x in data["audit"][:2]] == ["add_shot", "add_shot"]
    assert data["audit"][0]["who"] == "Ana Ortiz"
    r = CliRunner().invoke(cli, ["audit", str(root), "--since", "2999-01-01"])
    assert r.exit_code == 0 and r.output.strip().endswith("0 row(s)")
    r = CliRunner().invoke(cli, ["audit", str(root), "--action", "add_shot"])
    assert r.exit_code == 0 and "Ana Ortiz" in r.output and r.output.strip().endswith("2 row(s)")
    with Project.open(root) as p2:
        from aimms_fast.ops.audit_export import export_audit
        out = export_audit(p2, tmp_path / "csv")
        text = (tmp_path / "csv" / out["path"].split("/")[-1]).read_text(encoding="utf-8-sig")
        assert out["rows"] == 2 and "Ana Ortiz" in text and text.startswith("id,at,who,action")
