"""The column-mapping dialog on a real project (tests/ui/scn_csv_map.py): what the user reads in
it, what a changed target does, presets, the import through it, and its screenshots."""
from __future__ import annotations

import json
from pathlib import Path

from tests.ui.conftest import pixels, run_scenario

DATA = Path(__file__).resolve().parents[1] / "data" / "shotlists"


def test_mapping_dialog(tmp_path):
    from aimms_fast.project import Project
    Project.create(tmp_path / "proj", name="Map", author="me").close()
    aimms = tmp_path / "aimms.csv"
    aimms.write_text("shot_name,section\nPLAIN_A,Act 1\n", encoding="utf-8")
    prose = tmp_path / "chat.txt"
    prose.write_text("Sure! I can help with that.\nWhat kind of film is it, and how long?\n", encoding="utf-8")
    r = run_scenario("csv_map_dialog", tmp_path, project=tmp_path / "proj",
                     args={"studiobinder": str(DATA / "studiobinder_shot_list.csv"),
                           "llm": str(DATA / "llm_answer.txt"), "aimms": str(aimms),
                           "celtx": str(DATA / "celtx_shot_designer.csv"), "prose": str(prose)})
    assert r["errors"] == []
    assert r["opened"] and r["title"] == "Map the columns of studiobinder_shot_list.csv"
    assert r["summary"].startswith("studiobinder_shot_list.csv: 5 shot rows, 17 columns, csv, delimiter ','")
    rows = {row[0]: row for row in r["rows"]}
    assert rows["Scene"][1:4] == ["1", "5/5", "section"] and rows["Location"][3] == "location"
    assert rows["Lens"][3] == "notes (in description)" and rows["Lens"][4] == "a production column AIMMS has no field for"
    assert rows["Status"][3] == "(drop)" and rows["Image"][2] == "0/5" and rows["Image"][4] == "empty in every row"
    assert r["lines"] == ["none: every line of the file is a header or a shot row"]
    assert r["button"] == "Import 5 shots"
    assert "no column is mapped to shot_name" in r["problem"]
    assert r["button_blocked"] == ["Import (fix the mapping)", False]
    assert r["problem_after"] == "" and r["why_shot"] == "chosen by you"
    assert r["done_title"] == "Imported 5 shots"
    names = [s[0] for s in r["shots"]]
    assert names == ["1A", "1B", "1C", "2A", "2B"]
    desc = r["shots"][2][3]
    assert "Lens: 50mm" in desc and "Notes:" not in desc          # Notes was dropped in the dialog
    assert r["undo"] and "5" in r["undo"]
    # run_scenario gives the app AIMMS_CONFIG_DIR=tmp_path/config: the per-user preset file is there
    presets = json.loads((tmp_path / "config" / "csv_map_presets.json").read_text())["presets"]
    assert presets["StudioBinder"]["Notes"] is None and presets["StudioBinder"]["Shot"] == "shot_name"
    assert r["second_preset"] == "StudioBinder" and r["second_notes_target"] is None
    assert r["celtx_prefix"] == "Scene #-Shot # (e.g. 1-1)"
    assert r["celtx_prefix_items"] == ["as in Shot # (e.g. 1)", "Scene #-Shot # (e.g. 1-1)", "Setup-Shot # (e.g. A-1)"]
    assert r["celtx_prefix_off"] is None
    assert "inside a ``` code block" in r["llm_summary"]
    assert [x.split(":")[0] for x in r["llm_lines"]] == ["line 1", "line 8", "line 9", "line 14", "line 15"]
    assert r["prose_title"] == "No shot list found in chat.txt"
    assert r["aimms_same_dialog"] and r["aimms_title"] == "Import CSV"
    for k in ("shot_studiobinder", "shot_problem", "shot_llm", "shot_celtx"):
        assert pixels(r[k]).std() > 10, k
