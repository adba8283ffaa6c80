"""Breakdown report (issue 12): per scene cast, location, time of day, Storyboarder's screen-time rule,
shots and coverage; CSV, HTML and the generation order; the CLI."""
from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.ops import breakdown as B
from aimms_fast.ops import characters as OC
from aimms_fast.ops import script as OS
from aimms_fast.ops import takes as OT
from aimms_fast.ops.script_parse import words_ms
from aimms_fast.project import Project
from tests.conftest import make_image
from tests.test_script_import import BRICK


def test_storyboarder_word_rate():
    assert words_ms("action", "Beer  flies.") == 2 * 200 + 500
    assert words_ms("dialogue", "To retirement.") == 2 * 300 + 1000
    assert words_ms("centered", "THE END") == 2000


def test_breakdown_brick(tmp_path):
    with Project.create(tmp_path / "p") as p:
        OS.import_script(p, BRICK)
        OC.detect(p)
        scenes = B.breakdown(p)
        assert len(scenes) == 8
        s3 = scenes[2]
        assert (s3.heading, s3.location, s3.time_of_day, s3.speaking, s3.shots) == (
            "EXT. BRICK'S POOL - DAY", "BRICK'S POOL", "DAY", ["Steel"], 2)
        # "Steel, in the middle of a heated phone call:" (9 words) + STEEL's three lines (6 + 5 + 3 words)
        # and two '(pause)' parentheticals (1 word each) -> 9*200+500 + 14*300+3*1000 + 2*(300+1000)
        assert s3.est_seconds == round((9 * 200 + 500 + 14 * 300 + 3000 + 2 * 1300) / 1000, 1) == 12.1
        assert scenes[5].mentioned == ["Brick"] and "Steel" in scenes[5].speaking
        assert scenes[4].speaking == [] and scenes[4].mentioned == ["Brick", "Steel"]
        sid = scenes[0].shot_ids[0]
        tid = OT.add_takes(p, sid, [make_image(tmp_path / "a.png")], storyboard="image")[0]
        OT.toggle_star(p, tid)
        assert (B.breakdown(p)[0].with_image, B.breakdown(p)[0].with_video) == (1, 0)
        n = B.write_csv(p, tmp_path / "b.csv")
        with open(tmp_path / "b.csv", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert n == 8 and rows[2]["speaking"] == "Steel" and rows[0]["with_starred_image"] == "1"
        page = B.write_html(p, tmp_path / "b.html").read_text(encoding="utf-8")
        assert "EXT. BRICK&#x27;S POOL - DAY" in page and "Generation order" in page
        groups = B.generation_order(p)
        assert [g.location for g in groups][:3] == ["BRICK'S PATIO", "TRAILER HOME", "BRICK'S POOL"]
        assert sum(len(g.shot_ids) for g in groups) == sum(s.shots for s in scenes)


def test_cli_breakdown(tmp_path):
    root = tmp_path / "p"
    Project.create(root).close()
    r = CliRunner().invoke(cli, ["breakdown", str(root)])
    assert r.exit_code == 1 and "no imported script" in r.output
    CliRunner().invoke(cli, ["import-script", str(root), str(BRICK)])
    r = CliRunner().invoke(cli, ["breakdown", str(root), "--csv", str(tmp_path / "x.csv"), "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["scenes"]) == 8 and (tmp_path / "x.csv").exists()
