"""Issue 12 'Done when', as a new user would through the CLI: import Brick & Steel into a new project,
read the breakdown, see the characters with their scenes, give one a final version with reference
images, approve and lock a few takes, and find every one of those actions in the audit log."""
from __future__ import annotations

import json

from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.project import Project
from tests.conftest import make_image
from tests.test_script_import import BRICK


def _run(*args) -> dict:
    r = CliRunner().invoke(cli, [*map(str, args), "--json"])
    assert r.exit_code == 0, (args, r.output)
    return json.loads(r.output)


def test_done_when(tmp_path):
    root = tmp_path / "brick"
    Project.create(root, author="Stu M").close()
    imp = _run("import-script", root, BRICK)
    assert imp["scenes"] == 8 and len(imp["speakers"]) == 11
    bd = _run("breakdown", root, "--html", tmp_path / "bd.html")
    assert [s["location"] for s in bd["scenes"]][:2] == ["BRICK'S PATIO", "TRAILER HOME"]
    assert (tmp_path / "bd.html").read_text(encoding="utf-8").count("<tr>") == 9
    chars = _run("characters", root, "--detect")["characters"]
    by_name = {c["name"]: c for c in chars}
    scene_of = {sid: s["index"] for s in bd["scenes"] for sid in s["shot_ids"]}
    assert sorted({scene_of[s] for s in by_name["Brick"]["shots"]}) == [1, 7]
    assert sorted({scene_of[s] for s in by_name["Cognito"]["shots"]}) == [6]
    imgs = {k: make_image(tmp_path / f"{k}.png", color=c) for k, c in
            (("front", (200, 0, 0)), ("side", (0, 200, 0)), ("back", (0, 0, 200)))}
    ch = _run("character", root, "Brick", "--version", "final", "--front", imgs["front"], "--side", imgs["side"],
              "--back", imgs["back"], "--prompt", "brick braddock, retired cop")
    assert ch["active_version"] == 1 and ch["versions"][0]["stage"] == "final"
    with Project.open(root) as p:
        assert all(p.layout.abs(ch["versions"][0]["images"][k]).exists() for k in ("front", "side", "back"))
    # takes for the first two shots of scene 1, then approve one and lock two
    first = bd["scenes"][0]["shot_ids"][:2]
    takes = []
    for sid in first:
        r = CliRunner().invoke(cli, ["add-take", str(root), "--shot", str(sid), "--image", str(imgs["front"]),
                                     "--json"])
        assert r.exit_code == 0, r.output
        takes += [t["take_id"] for t in json.loads(r.output)]
    _run("approve", root, f"take:{takes[0]}")
    _run("lock", root, f"take:{takes[0]}")
    _run("lock", root, f"take:{takes[1]}")
    r = CliRunner().invoke(cli, ["delete-shot", str(root), str(first[0])])
    assert r.exit_code == 1 and "locked (by Stu M" in r.output
    audit = _run("audit", root, "--limit", "1000")["audit"]
    actions = [a["action"] for a in reversed(audit)]
    for want in ("import_script", "detect_characters", "character_version", "add_takes", "approve_take",
                 "lock_take"):
        assert want in actions, (want, actions)
    assert actions.count("lock_take") == 2 and all(a["who"] == "Stu M" for a in audit)
    imp_row = next(a for a in audit if a["action"] == "import_script")
    assert len(imp_row["ids"]) == len(imp["added"]) and imp_row["history_id"]
