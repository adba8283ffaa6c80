"""Shot lists from other tools (issue 12): header-similarity mapping, chatter lines and code fences
around the CSV, repeated header rows, explicit --map, the saved preset, the CLI report."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.errors import AimmsError
from aimms_fast.ops import csv_map as M
from aimms_fast.project import Project

LLM = """Sure! Here is the shot list you asked for:

```csv
Scene,Shot,Set,Media,Script Reference,Shot Description,Camera
1,1A,Brick's patio,image,"BRICK: Hey steel","Wide on the patio, sun shining",static
1,1B,Brick's patio,video,"STEEL: Beer's ready!","Screen door slides open",dolly in
Scene,Shot,Set,Media,Script Reference,Shot Description,Camera
2,2A,Trailer home,image,,"The boy band counts money",handheld
```

Let me know if you want more shots!
"""


def test_propose():
    m = M.propose(["Scene", "Shot", "Set", "Media", "Script Reference", "Shot Description", "Camera"])
    assert m == {"Scene": "section", "Shot": "shot_name", "Set": "location", "Media": None,
                 "Script Reference": "dialogue", "Shot Description": "description", "Camera": None}
    assert M.propose(["Shot Name", "Time Of Day", "Image Promt"]) == {
        "Shot Name": "shot_name", "Time Of Day": "time_of_day", "Image Promt": "image_prompt"}


def test_llm_wrapped_import(tmp_path):
    f = tmp_path / "llm.csv"
    f.write_text(LLM, encoding="utf-8")
    with Project.create(tmp_path / "p") as p:
        dry = M.import_mapped(p, f, dry_run=True)
        assert dry.report.rows == 3 and not dry.report.errors
        assert dry.chatter_lines == [1, 3, 9, 11] and dry.repeated_headers == [7]  # fences count as chatter
        assert dry.dropped == ["Media", "Camera"]
        res = M.import_mapped(p, f)
        rows = p.conn.execute("SELECT section, shot_name, location, dialogue, description FROM shots"
                              " ORDER BY order_number").fetchall()
        assert rows == [("1", "1A", "Brick's patio", "BRICK: Hey steel", "Wide on the patio, sun shining"),
                        ("1", "1B", "Brick's patio", "STEEL: Beer's ready!", "Screen door slides open"),
                        ("2", "2A", "Trailer home", None, "The boy band counts money")]  # csv_io: empty = NULL
        assert not res.preset_used
        assert M.import_mapped(p, f, dry_run=True).preset_used  # saved for this header


def test_explicit_map_and_errors(tmp_path):
    f = tmp_path / "list.csv"
    f.write_text("Scene;Shot;Set\n1;A;Roof\n", encoding="utf-8")
    with Project.create(tmp_path / "p") as p:
        r = M.import_mapped(p, f, map_spec="Shot=shot_name, Set=description")
        assert r.mapping == {"Scene": None, "Shot": "shot_name", "Set": "description"}
        assert p.conn.execute("SELECT shot_name, description, section FROM shots").fetchone() == ("A", "Roof", None)
        with pytest.raises(AimmsError, match="does not have"):
            M.import_mapped(p, f, map_spec="Lens=description")
        with pytest.raises(AimmsError, match="not a shot field"):
            M.import_mapped(p, f, map_spec="Shot=lens")
        with pytest.raises(AimmsError, match="shot_name"):
            M.import_mapped(p, f, map_spec="Set=location")


def test_cli_map(tmp_path):
    f = tmp_path / "llm.csv"
    f.write_text(LLM, encoding="utf-8")
    root = tmp_path / "p"
    Project.create(root).close()
    r = CliRunner().invoke(cli, ["import-csv", str(root), str(f), "--map", "auto"])
    assert r.exit_code == 0, r.output
    assert "Script Reference -> dialogue" in r.output and "dropped: Media, Camera" in r.output
    assert "repeated header" in r.output
    r = CliRunner().invoke(cli, ["import-csv", str(root), str(f), "--map", "auto", "--dry-run", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["preset_used"]
