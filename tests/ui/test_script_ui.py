"""Issue 12 in the viewer: Script page (breakdown, characters, per-section approvals), the import
preview dialog, a locked take refusing delete with the reason shown, the Audit page."""
from __future__ import annotations

import shutil

from aimms_fast.ops import approvals as AP
from aimms_fast.ops import characters as OC
from aimms_fast.ops import script as OS
from aimms_fast.ops import takes as OT
from aimms_fast.project import Project
from tests.test_script_import import BRICK, _edit
from tests.ui.conftest import make_image, pixels, run_scenario


def test_script_audit_and_lock_ui(tmp_path):
    root = tmp_path / "proj"
    with Project.create(root, author="Stu M") as p:
        OS.import_script(p, BRICK)
        OC.detect(p)
        OC.add_version(p, "Brick", "final", images={"front": make_image(tmp_path / "f.png")})
        sid = p.conn.execute("SELECT shot_id FROM shots WHERE shot_name='SC01_010'").fetchone()[0]
        tid = OT.add_takes(p, sid, [make_image(tmp_path / "t.png", color=(30, 200, 30))], storyboard="image")[0]
        AP.lock(p, "take", tid)
        cast_shot = p.conn.execute("SELECT shot_id FROM shots WHERE dialogue LIKE 'STEEL: Beer%'").fetchone()[0]
    edited = _edit(BRICK, tmp_path / "edited.fountain")
    alt = make_image(tmp_path / "alt.png", color=(200, 200, 30))
    r = run_scenario("script_pages", tmp_path, project=root, args={"edited": str(edited), "locked_take": tid,
                                                                  "shot_id": sid,
                                                                  "alt_front": str(alt), "cast_shot": cast_shot})
    assert len(r["scenes"]) == 8 and r["scenes"][0][2] == ["Brick", "Steel"]
    assert ("Brick", ["final"]) in [tuple(x) for x in r["characters"]] and len(r["characters"]) == 11
    assert ["1 EXT. BRICK'S PATIO - DAY", 1, 1] in r["sections"]
    assert r["brick_after_add"][0] == 2 and r["brick_after_add"][1].endswith("v02_front.png")
    assert r["brick_after_rollback"][0] == 1 and r["brick_after_rollback"][1].endswith("v01_front.png")
    assert r["preview_counts"] == [2, 2, 2] and r["rows_before_import"]
    assert r["preview_summary"].endswith("2 added, 2 changed, 2 removed, 43 kept")
    assert r["shots_after"] == 47 and r["dialog_shown_after"] is False
    assert r["locked_take_exists"] == 1
    assert any("locked (by Stu M" in e for e in r["errors_shown"])
    assert {"import_script", "delete_shot", "unlock_take", "lock_take"} <= set(r["audit_actions"])
    assert [tuple(x) for x in r["audit_lock_rows"]] == [("unlock_take", "Stu M"), ("lock_take", "Stu M")]
    assert r["card_badges"].get(tid) == ["locked"]
    assert r["cast"] == ["Steel"]
    assert "Unlock" in r["menu_labels"] and "Approve" not in r["menu_labels"]
    assert r["badges_after_unlock"] == ["approved"]
    assert r["char_items"][0] == "All characters" and "Cognito" in r["char_items"]
    assert [t.split(". ", 1)[1] for t in r["cognito_cards"]] == ["SC06_020", "SC06_040", "SC06_070"]  # names kept by the re-import
    for k in ("shot_script", "shot_preview", "shot_locked_error", "shot_audit", "shot_badges"):
        assert pixels(r[k]).std() > 5, k  # something drawn


def test_approve_and_lock_star_asset_and_character_version_from_the_ui(tmp_path):
    root = tmp_path / "proj"
    with Project.create(root, author="Stu M") as p:
        OS.import_script(p, BRICK)
        OC.detect(p)
        OC.add_version(p, "Brick", "final", images={"front": make_image(tmp_path / "f.png")})
        sid = p.conn.execute("SELECT shot_id FROM shots WHERE shot_name='SC01_010'").fetchone()[0]
        tid = OT.add_takes(p, sid, [make_image(tmp_path / "t.png", color=(30, 200, 30))], storyboard="image")[0]
        names = [c.name for c in OC.list_characters(p)]
    pick = make_image(tmp_path / "pick" / "side_on.png", color=(20, 20, 220))
    shutil.copy(BRICK, pick.parent / "brick.fountain")
    assert "Steel" in names
    other = next(n for n in names if n not in ("Brick", "Steel"))
    r = run_scenario("script_approvals", tmp_path, project=root,
                     args={"shot_id": sid, "take_id": tid, "rename_from": "Steel", "rename_to": "Mr Steel",
                           "merge_from": other, "pick_dir": str(pick.parent), "pick_name": pick.name,
                           "script_name": "brick.fountain"})
    assert r["card_labels"][4:8] == ["Approve", "Lock", "Approve star", "Lock star"]
    assert r["star_state"] == [True, True, "Stu M"]
    assert "Unlock star" in r["labels_after_lock"] and r["star_card_badges"] == ["star_locked"]
    assert r["starred_after_refused"] == 0
    assert any("the shot's star is locked (by Stu M" in e for e in r["star_errors"]), r["star_errors"]
    assert r["asset_labels"][4:6] == ["Approve", "Lock"] and r["asset_locked"]
    assert r["brick_still_there"] and any("asset 'Brick' is locked (by Stu M" in e for e in r["asset_errors"]), r["asset_errors"]
    assert "Unlock" in r["asset_labels_locked"] and r["asset_after_unlock"] == [True, False]
    assert r["charver_locked"] == [1, True, True] and r["lock_btn"] == "Unlock version"
    assert any("Brick's version 1 is locked (by Stu M" in e for e in r["charver_errors"]), r["charver_errors"]
    assert r["brick_versions"] == [1] and any("Unlock version on the Script page" in e for e in r["charver_errors"])
    assert "Mr Steel" in r["names_after_rename"] and "Steel" not in r["names_after_rename"]
    assert r["after_merge"][0] == len(names) - 1 and {"Steel", other} <= set(r["after_merge"][1])
    assert r["front_slot"].endswith("side_on.png")
    assert r["script_path"].endswith("brick.fountain") and r["preview_shown"]
    assert "no changes, 47 kept" in r["preview_summary"], r["preview_summary"]  # the same script again
    assert {"lock_star", "lock_asset", "lock_charver", "rename_character", "merge_characters"} <= set(r["audit"])
    for k in ("shot_star_refused", "shot_asset_refused", "shot_charver_locked", "shot_script_controls"):
        assert pixels(r[k]).std() > 5, k
