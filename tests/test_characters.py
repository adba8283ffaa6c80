"""Characters (issue 12): detected from the script's cues as AIMMS 'characters' assets, merge and
rename, versions with front/side/back reference images copied into the project, rollback restores a
version's images, undo, locks."""
from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.errors import AimmsError
from aimms_fast.ops import approvals as AP
from aimms_fast.ops import characters as OC
from aimms_fast.ops import history
from aimms_fast.ops import script as OS
from aimms_fast.project import Project
from tests.conftest import make_image
from tests.test_script_import import BRICK


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def proj(tmp_path):
    p = Project.create(tmp_path / "p", author="Ana Ortiz")
    OS.import_script(p, BRICK)
    yield p
    p.close()


def test_detect_as_aimms_assets(proj):
    p = proj
    new = OC.detect(p)
    assert len(new) == 11 and new[:2] == ["BRICK", "STEEL"]
    rows = p.conn.execute("SELECT asset_name, asset_type, file_path FROM assets ORDER BY asset_name").fetchall()
    assert len(rows) == 11 and all(r[1] == "characters" for r in rows)  # AIMMS lists them as characters
    brick = OC.get_character(p, "Brick")
    names = [p.conn.execute("SELECT shot_name FROM shots WHERE shot_id=?", (s,)).fetchone()[0] for s in brick.shot_ids]
    assert {n.split("_")[0] for n in names} == {"SC01", "SC07"}
    assert OC.detect(p) == []  # nothing new the second time
    OC.merge(p, "Steel", ["Mr. Steel"])
    steel = OC.get_character(p, "Steel")
    assert "MR. STEEL" in steel.aliases and len(OC.list_characters(p)) == 10
    assert any(p.conn.execute("SELECT shot_name FROM shots WHERE shot_id=?", (s,)).fetchone()[0].startswith("SC04")
               for s in steel.shot_ids)
    OC.rename(p, "Steel", "Dick Steel")
    assert OC.get_character(p, "Dick Steel").aliases[-1] == "Steel"
    history.undo(p)
    history.undo(p)
    assert len(OC.list_characters(p)) == 11 and OC.get_character(p, "Mr. Steel")


def test_versions_and_rollback_restore_images(proj, tmp_path):
    p = proj
    OC.detect(p)
    f1 = make_image(tmp_path / "c_front.png", color=(200, 0, 0))
    s1 = make_image(tmp_path / "c_side.png", color=(0, 200, 0))
    f2 = make_image(tmp_path / "f_front.png", color=(0, 0, 200))
    b2 = make_image(tmp_path / "f_back.jpg", color=(90, 90, 0))
    OC.add_version(p, "Brick", "concept", look="grey beard", images={"front": f1, "side": s1})
    OC.add_version(p, "Brick", "final", look="grey beard, aviators", prompt="brick braddock, 60yo",
                   loras=["brick_v3"], images={"front": f2, "back": b2})
    ch = OC.get_character(p, "Brick")
    assert [v.stage for v in ch.versions] == ["concept", "final"] and ch.active.number == 2
    assert ch.file_path == ch.active.images["front"]  # AIMMS shows the active front image
    assert _md5(p.layout.abs(ch.file_path)) == _md5(f2)
    assert ch.active.loras == ["brick_v3"] and ch.active.images["side"] == ""
    v1 = OC.rollback(p, "Brick", 1)
    ch = OC.get_character(p, "Brick")
    assert ch.active.number == 1 and ch.file_path == v1.images["front"]
    assert _md5(p.layout.abs(ch.active.images["front"])) == _md5(f1)
    assert _md5(p.layout.abs(ch.active.images["side"])) == _md5(s1)
    assert ch.active.look == "grey beard"
    history.undo(p)  # undo the rollback: version 2 again
    assert OC.get_character(p, "Brick").active.number == 2
    history.undo(p)  # undo version 2: its files go to the history stash, the rows go
    ch = OC.get_character(p, "Brick")
    assert [v.number for v in ch.versions] == [1]
    with pytest.raises(AimmsError, match="unknown stage"):
        OC.add_version(p, "Brick", "sketch")
    with pytest.raises(AimmsError, match="slot"):
        OC.add_version(p, "Brick", "final", images={"top": f1})


def test_locked_character_and_version(proj, tmp_path):
    p = proj
    OC.detect(p)
    vid = OC.add_version(p, "Dan", "final", images={"front": make_image(tmp_path / "d.png")})
    AP.lock(p, "charver", vid)
    assert AP.state(p, "charver", vid).locked
    key = OC.get_character(p, "Dan").id_key
    AP.lock(p, "asset", key)
    with pytest.raises(AimmsError, match="locked"):
        OC.add_version(p, "Dan", "alternate")
    with pytest.raises(AimmsError, match="locked"):
        OC.rollback(p, "Dan", 1)


def test_cli_characters(proj, tmp_path):
    root = proj.root
    proj.close()
    r = CliRunner().invoke(cli, ["characters", str(root), "--detect", "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["characters"]) == 11
    front = make_image(tmp_path / "front.png")
    r = CliRunner().invoke(cli, ["character", str(root), "Cognito", "--version", "final", "--front", str(front),
                                 "--lora", "cog_v1", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["active_version"] == 1 and data["versions"][0]["loras"] == ["cog_v1"]
    r = CliRunner().invoke(cli, ["character", str(root), "Nobody", "--rollback", "1"])
    assert r.exit_code == 1 and "no character 'Nobody'" in r.output
