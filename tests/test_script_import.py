"""Fountain import (issue 12): every real screenplay parses and imports, the fountain_tests cases, a
re-import of an edited script gives exactly the expected diff and keeps every take, the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.ops import script as OS
from aimms_fast.ops.script_parse import parse_file
from aimms_fast.project import Project
from tests.conftest import REALDATA, make_image

PLAYS = REALDATA / "screenplay"
BRICK = PLAYS / "Brick_&_Steel.fountain"
CASES = PLAYS / "fountain_tests"


def test_brick_and_steel_scenes_and_speakers():
    s = parse_file(BRICK)
    assert s.title == "BRICK & STEEL FULL RETIRED"
    assert [sc.heading for sc in s.scenes] == [
        "EXT. BRICK'S PATIO - DAY", "INT. TRAILER HOME - DAY", "EXT. BRICK'S POOL - DAY", "SNIPER SCOPE POV",
        "OPENING TITLES", "EXT. WOODEN SHACK - DAY", "INT. GARAGE - DAY", "EXT. PALATIAL MANSION - DAY"]
    assert s.speakers == ["BRICK", "STEEL", "JACK", "DAN", "MR. STEEL", "COGNITO", "STEGEME", "MINION",
                          "HANDSOME MAN", "character", "I LIKE CHEESE"]
    first = s.scenes[0]
    assert (first.int_ext, first.location, first.time_of_day) == ("EXT", "BRICK'S PATIO", "DAY")
    assert not any("[[" in b.text or "supposed to be gorgeous" in b.text for sc in s.scenes for b in sc.beats)
    dual = [b for b in first.beats if len(b.speakers) == 2]
    assert [b.speakers for b in dual] == [["STEEL", "BRICK"]]


def test_fountain_cases():
    nums = parse_file(CASES / "SceneNumbers.fountain").scenes
    assert [s.number for s in nums] == ["1", "1A", "1A", "A1", "I-1-A", "1.", "110A"]
    assert nums[-1].heading == "INT. HOUSE - DAY - FLASHBACK (1944)" and nums[-1].time_of_day == "DAY"
    secs = parse_file(CASES / "Sections-Complex.fountain").scenes
    assert [s.section for s in secs] == ["Act 1", "Act 2 / Sequence 1"]
    dual = parse_file(CASES / "DualDialogue.fountain").scenes[0].beats
    assert [(b.kind, b.speakers, b.text) for b in dual] == [("dialogue", ["ADAM", "EVE"], "ADAM: Yes. / EVE: No.")]
    notes = parse_file(CASES / "Notes.fountain").scenes[0].beats
    assert [b.text for b in notes] == ["A line.", "This is an  note."]
    bone = parse_file(CASES / "Boneyard.fountain").scenes[0].beats
    assert [b.text for b in bone] == ["A line of action.", "This is an  boneyard."]
    simple = parse_file(CASES / "Simple.fountain")
    assert [s.heading for s in simple.scenes] == ["", "INT. OFFICE - MORNING", "EXT. HOUSE - DAY", "FORCED SCENE HEADING"]
    assert simple.speakers == ["MAN"]
    assert not any("boneyard" in b.text.lower() or "Comment" in b.text for s in simple.scenes for b in s.beats)


@pytest.mark.parametrize("name", sorted(p.name for p in PLAYS.rglob("*.fountain")))
def test_every_script_imports(tmp_path, name):
    path = next(PLAYS.rglob(name))
    with Project.create(tmp_path / "p") as p:
        d = OS.import_script(p, path)
        n = p.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0]
        assert n == len(d.added) == len(OS.plan(parse_file(path)))
        assert OS.import_script(p, path, dry_run=True).summary() == "no changes"


def test_brick_import_fields_and_one_undo_step(tmp_path):
    from aimms_fast.ops import history
    with Project.create(tmp_path / "p") as p:
        d = OS.import_script(p, BRICK)
        rows = p.conn.execute("SELECT shot_name, section, description, dialogue, location, time_of_day FROM shots"
                              " ORDER BY order_number").fetchall()
        assert len(rows) == len(d.added)
        assert rows[0][:2] == ("SC01_010", "1 EXT. BRICK'S PATIO - DAY") and rows[0][4:] == ("BRICK'S PATIO", "DAY")
        talk = [r for r in rows if r[3]]
        assert talk[0][3] == "BRICK: Hey steel, I'm brick, and I think this is a great day to go and do stuff"
        kinds = p.conn.execute("SELECT shot_id, GROUP_CONCAT(take_type) FROM takes GROUP BY shot_id").fetchall()
        assert len(kinds) == len(rows)  # AIMMS's placeholder takes in every shot, as add_shot makes them
        assert all("base_image" in k and "final_video" in k for _, k in kinds)
        assert history.peek_undo(p).startswith("Imported script Brick_&_Steel.fountain")
        history.undo(p)
        assert p.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0] == 0
        assert p.conn.execute("SELECT COUNT(*) FROM fast_script_shots").fetchone()[0] == 0


def test_scene_granularity(tmp_path):
    with Project.create(tmp_path / "p") as p:
        d = OS.import_script(p, BRICK, granularity="scene")
        assert len(d.added) == 8
        row = p.conn.execute("SELECT description, dialogue FROM shots WHERE shot_name='SC07'").fetchone()
        assert row[0].startswith("INT. GARAGE - DAY\nBRICK and STEEL get into Mom's PORSCHE")
        assert "STEEL: (starting the engine) So much for retirement!" in row[1]


def _edit(src: Path, dst: Path) -> Path:
    """Two scenes edited (one action line in each), one deleted (the pool), one added at the end."""
    t = src.read_text(encoding="utf-8")
    t = t.replace("Steel sits.  They laugh at the dumb joke.", "Steel sits down.  They both laugh.")
    t = t.replace("COGNITO, the criminal mastermind, is SLAMMED against the wall.",
                  "COGNITO, the mastermind, is SLAMMED into the wall.")
    a = t.index("EXT. BRICK'S POOL - DAY")
    b = t.index(".SNIPER SCOPE POV")
    t = t[:a] + t[b:]
    t += "\nINT. POLICE STATION - NIGHT\n\nThe CAPTAIN reads the news.\n\nCAPTAIN\nThey're back.\n"
    dst.write_text(t, encoding="utf-8")
    return dst


def test_reimport_diff_keeps_takes(tmp_path):
    from aimms_fast.ops.takes import add_takes
    with Project.create(tmp_path / "p") as p:
        OS.import_script(p, BRICK)
        before = {r[0]: r[1:] for r in p.conn.execute("SELECT shot_id, shot_name, description FROM shots")}
        img = make_image(tmp_path / "f.png")
        for sid in before:  # a real take in every shot
            add_takes(p, sid, [img], storyboard="image")
        ntakes = {sid: p.conn.execute("SELECT COUNT(*) FROM takes WHERE shot_id=? AND file_path LIKE '%.png'",
                                      (sid,)).fetchone()[0] for sid in before}
        edited = _edit(BRICK, tmp_path / "edited.fountain")
        d = OS.import_script(p, edited, dry_run=True)
        pool = [sid for sid, r in before.items() if r[0].startswith("SC03_")]
        assert sorted(sid for sid, _ in d.removed) == sorted(pool)
        assert [(before[sid][1], c.fields["description"]) for sid, c in d.changed] == [
            ("Steel sits.  They laugh at the dumb joke.", "Steel sits down.  They both laugh."),
            ("COGNITO, the criminal mastermind, is SLAMMED against the wall.",
             "COGNITO, the mastermind, is SLAMMED into the wall.")]
        assert [a.fields["description"] for a in d.added] == ["The CAPTAIN reads the news.", "CAPTAIN: They're back."]
        assert p.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0] == len(before)  # dry run
        applied = OS.import_script(p, edited)
        after = {r[0]: r[1:] for r in p.conn.execute("SELECT shot_id, shot_name, description FROM shots")}
        assert set(before) - set(after) == set(pool)
        assert len(set(after) - set(before)) == 2
        for sid in after.keys() & before.keys():  # every kept shot kept its takes
            assert p.conn.execute("SELECT COUNT(*) FROM takes WHERE shot_id=? AND file_path LIKE '%.png'",
                                  (sid,)).fetchone()[0] == ntakes[sid]
        deleted = {r[0] for r in p.conn.execute("SELECT old_shot_id FROM deleted_shots")}
        assert deleted == set(pool)
        assert OS.import_script(p, edited, dry_run=True).summary() == "no changes"
        order = [r[0] for r in p.conn.execute("SELECT shot_name FROM shots ORDER BY order_number")]
        assert order[-2:] == [a.fields["shot_name"] for a in applied.added] == ["SC08A_010", "SC08A_020"]
        assert len(order) == len(set(order))  # the added scene did not reuse a kept shot's name


def test_cli_import_script(tmp_path):
    proj = tmp_path / "p"
    Project.create(proj).close()
    r = CliRunner().invoke(cli, ["import-script", str(proj), str(BRICK), "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["scenes"] == 8 and len(data["speakers"]) == 11 and data["dry_run"]
    r = CliRunner().invoke(cli, ["import-script", str(proj), str(BRICK)])
    assert r.exit_code == 0, r.output
    assert r.output.strip().endswith(f"{len(data['added'])} added, 0 changed, 0 removed")
    r = CliRunner().invoke(cli, ["import-script", str(proj), str(BRICK), "--dry-run"])
    assert r.exit_code == 0 and r.output.strip().endswith("would be: no changes"), r.output
    r = CliRunner().invoke(cli, ["import-script", str(proj), str(BRICK), "--granularity", "scene"])
    assert r.exit_code == 1 and "granularity" in r.output
    r = CliRunner().invoke(cli, ["import-script", str(proj), str(tmp_path / "missing.fountain")])
    assert r.exit_code == 1 and "missing.fountain" in r.output
