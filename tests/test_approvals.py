"""Approvals and locks (issue 12): a locked take refuses replace, delete and star changes in ops and
the CLI; locked assets and stars; who/when from the author; per-section summary; undo and audit."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.errors import AimmsError
from aimms_fast.ops import approvals as AP
from aimms_fast.ops import assets as OA
from aimms_fast.ops import history
from aimms_fast.ops import shots as OS
from aimms_fast.ops import takes as OT
from aimms_fast.project import Project
from tests.conftest import make_image


@pytest.fixture
def setup(tmp_path):
    p = Project.create(tmp_path / "p", author="Ana Ortiz")
    sid = OS.add_shot(p, shot_name="S1", section="Act 1")
    a = make_image(tmp_path / "a.png")
    b = make_image(tmp_path / "b.png", color=(0, 200, 0))
    t1, t2 = OT.add_takes(p, sid, [a, b], storyboard="image")
    yield p, sid, t1, t2, a, b
    p.close()


def test_locked_take_refuses_replace_delete_star(setup):
    p, sid, t1, t2, a, b = setup
    st = AP.lock(p, "take", t1)
    assert st.locked and st.approved and st.locked_by == "Ana Ortiz" and st.locked_at
    before = p.conn.execute("SELECT file_path, starred FROM takes WHERE take_id=?", (t1,)).fetchone()
    for fn, verb in ((lambda: OT.replace_take(p, t1, b), "replace"), (lambda: OT.delete_take(p, t1), "delete"),
                     (lambda: OT.toggle_star(p, t1), "star"), (lambda: OS.delete_shots(p, [sid]), "delete")):
        with pytest.raises(AimmsError) as e:
            fn()
        assert "locked (by Ana Ortiz" in str(e.value) and "unlock" in e.value.hint, verb
    assert p.conn.execute("SELECT file_path, starred FROM takes WHERE take_id=?", (t1,)).fetchone() == before
    OT.toggle_star(p, t2)  # the other take is not locked
    AP.lock(p, "take", t1, on=False)
    OT.delete_take(p, t1)  # unlocked: allowed again


def test_locked_star_and_asset(setup, tmp_path):
    p, sid, t1, t2, a, b = setup
    OT.toggle_star(p, t1)
    AP.lock(p, "star", f"{sid}:image")
    with pytest.raises(AimmsError, match="star is locked"):
        OT.toggle_star(p, t1)
    with pytest.raises(AimmsError, match="star is locked"):
        OT.toggle_star(p, t2)
    aid = OA.add_assets(p, [a], kind="characters", name="Brick")[0]
    AP.lock(p, "asset", aid)
    with pytest.raises(AimmsError, match="locked"):
        OA.delete_assets(p, [aid])
    with pytest.raises(AimmsError, match="locked"):
        OA.star_asset(p, aid)
    with pytest.raises(AimmsError, match="no asset"):
        AP.approve(p, "asset", "nope")


def test_undo_audit_and_summary(setup):
    p, sid, t1, t2, a, b = setup
    n = p.conn.execute("SELECT COUNT(*) FROM fast_audit").fetchone()[0]
    AP.approve(p, "take", t2)
    assert p.conn.execute("SELECT COUNT(*) FROM fast_audit").fetchone()[0] == n + 1
    row = p.conn.execute("SELECT action, who FROM fast_audit ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("approve_take", "Ana Ortiz")
    [s] = AP.section_summary(p)
    assert (s.section, s.shots, s.takes, s.approved, s.locked) == ("Act 1", 1, 2, 1, 0)
    history.undo(p)
    assert AP.state(p, "take", t2) is None
    history.redo(p)
    assert AP.state(p, "take", t2).approved


def test_cli_lock_refuses_delete(setup):
    p, sid, t1, t2, a, b = setup
    root = p.root
    p.close()
    r = CliRunner().invoke(cli, ["lock", str(root), f"take:{t1}", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["locked"] and json.loads(r.output)["by"] == "Ana Ortiz"
    r = CliRunner().invoke(cli, ["delete-shot", str(root), str(sid)])
    assert r.exit_code == 1 and "locked (by Ana Ortiz" in r.output, r.output
    r = CliRunner().invoke(cli, ["approvals", str(root)])
    assert r.exit_code == 0 and f"take:{t1}: locked by Ana Ortiz" in r.output
    r = CliRunner().invoke(cli, ["lock", str(root), "bogus"])
    assert r.exit_code == 1 and "not an item" in r.output
    r = CliRunner().invoke(cli, ["lock", str(root), f"take:{t1}", "--off"])
    assert r.exit_code == 0
    r = CliRunner().invoke(cli, ["delete-shot", str(root), str(sid)])
    assert r.exit_code == 0, r.output


def test_star_approval_counts_in_the_summary_and_badges(setup):
    from aimms_fast.store.approvals import star_states
    p, sid, t1, t2, a, b = setup
    [s] = AP.section_summary(p)
    assert s.shots_with_approved_star == 0
    AP.approve(p, "star", f"{sid}:video")
    assert star_states(p.conn, "video") == {sid: "star_approved"} and star_states(p.conn, "image") == {}
    [s] = AP.section_summary(p)
    assert s.shots_with_approved_star == 1
    AP.lock(p, "star", f"{sid}:video")
    assert star_states(p.conn, "video") == {sid: "star_locked"}
    AP.lock(p, "star", f"{sid}:video", on=False)
    AP.approve(p, "star", f"{sid}:video", on=False)
    assert star_states(p.conn, "video") == {}


def test_character_version_approve_and_lock(setup, tmp_path):
    from aimms_fast.ops import characters as OC
    p, *_ = setup
    OC.create(p, "Maya")
    vid = OC.add_version(p, "Maya", "final", prompt="maya", images={"front": make_image(tmp_path / "m.png")})
    n = p.conn.execute("SELECT COUNT(*) FROM fast_audit").fetchone()[0]
    st = AP.lock(p, "charver", vid)
    assert st.approved and st.locked and st.locked_by == "Ana Ortiz"
    acts = [r[0] for r in p.conn.execute("SELECT action FROM fast_audit WHERE id > (SELECT MAX(id) - 2 FROM fast_audit)"
                                         " ORDER BY id")]
    assert p.conn.execute("SELECT COUNT(*) FROM fast_audit").fetchone()[0] == n + 2 and acts == ["approve_charver",
                                                                                              "lock_charver"]
    with pytest.raises(AimmsError, match="no charver"):
        AP.lock(p, "charver", 99999)
    # the locked active version stays active: no new active version, no rollback, until unlocked
    with pytest.raises(AimmsError, match="Maya's version 1 is locked \\(by Ana Ortiz"):
        OC.add_version(p, "Maya", "alternate", prompt="maya, blue coat")
    with pytest.raises(AimmsError, match="is locked"):
        OC.rollback(p, "Maya", 1)
    v2 = OC.add_version(p, "Maya", "alternate", prompt="maya, blue coat", activate=False)  # kept aside: allowed
    assert OC.get_character(p, "Maya").active_version == vid
    AP.lock(p, "charver", vid, on=False)
    OC.rollback(p, "Maya", 2)
    assert OC.get_character(p, "Maya").active_version == v2
