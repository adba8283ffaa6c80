"""Shot lists from other tools (issue 12, item 1): header mapping, wrapper-tolerant reading, what
was mapped and dropped, presets, and the import through csv_io's own validation and transaction.

The inputs in tests/data/shotlists/ are written the way the tools write them: a StudioBinder-style
export (picture and status columns, quoted quotes), a Celtx / Shot Designer-style one (everything
quoted, Set / Media / Script Reference), an LLM answer (chatter, ```csv fence, a bold heading
line, the header repeated, notes after), a Markdown table from an LLM, and a German
semicolon-separated Excel file with a BOM and a `sep=;` line. (../shared/realdata has no CSV
shot lists to add.)"""
from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.ops import csv_map as M
from aimms_fast.ops.csv_io import export_csv, import_csv
from aimms_fast.ops.csv_table import extract_table
from aimms_fast.ops.csv_vocab import NOTES, guesses, phrase

DATA = Path(__file__).parent / "data" / "shotlists"


def shots(project) -> list[dict]:
    cur = project.conn.execute("SELECT * FROM shots ORDER BY order_number, shot_id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def targets(plan) -> dict:
    return {c.label: c.target for c in plan.columns}


def copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copy(DATA / name, dst)
    return dst


# -- vocabulary -----------------------------------------------------------------------------------
@pytest.mark.parametrize("header,field", [
    ("Scene", "section"), ("Scene #", "section"), ("Shot", "shot_name"), ("Shot #", "shot_name"),
    ("Set", "location"), ("Media", NOTES), ("Script Reference", NOTES), ("Description", "description"),
    ("Camera", NOTES), ("Lens", NOTES), ("Dialogue", "dialogue"), ("Duration", NOTES),
    ("Shot Description", "description"), ("Descripton", "description"), ("Lokation", "location"),
    ("Time-of-Day", "time_of_day"), ("TOD", "time_of_day"), ("Beschreibung", "description"),
    ("Tageszeit", "time_of_day"), ("Drehort", "location"), ("Einstellung", "shot_name"),
    ("Einstellungsgröße", NOTES), ("Szene", "section"), ("Nr.", "order_number"), ("Plano", "shot_name"),
    ("Descripción", "description"), ("Negative Prompt", "image_negative"), ("Video Prompt", "video_prompt"),
    ("Image Prompt (Midjourney)", "image_prompt"), ("LoRA 2", "lora_2"), ("colour_scheme_image", "colour_scheme_image"),
    ("Voice-Over", "dialogue"), ("INT/EXT", NOTES),
])
def test_headers_in_tools_words_and_languages(header, field):
    g = guesses(header)
    assert g and g[0].target == field, (header, g[:3])


def test_phrase_and_short_words_match_exactly():
    assert phrase("Shot #") == "shot number" and phrase(" Einstellungsgröße ") == "einstellungsgrosse"
    assert phrase("Time-of-Day (INT/EXT)") == "time of day int ext"
    # one letter apart at four letters is another word: Lens is not Lines (dialogue)
    assert guesses("Lens")[0].target == NOTES
    assert not [g for g in guesses("Sure") if g.score >= 0.84]


# -- the five kinds of file -------------------------------------------------------------------------
def test_studiobinder_export_maps_and_imports(project, tmp_path):
    f = copy("studiobinder_shot_list.csv", tmp_path)
    plan = M.plan_mapping(f)
    assert plan.ok and plan.rows == 5 and plan.delimiter == "," and plan.dropped_lines == []
    t = targets(plan)
    assert t["Scene"] == "section" and t["Shot"] == "shot_name" and t["Location"] == "location"
    assert t["Time of Day"] == "time_of_day" and t["Description"] == "description"
    for col in ("Shot Size", "Camera Angle", "Camera Movement", "Lens", "Equipment", "Subject", "INT/EXT",
                "Est. Time", "Sound", "Notes"):
        assert t[col] == NOTES, col
    assert t["Image"] is None and t["Status"] is None          # empty / a checkbox: dropped, with reasons
    why = {c.label: c.why for c in plan.columns}
    assert why["Image"] == "empty in every row" and "checkbox" in why["Status"]
    res = M.import_mapped(project, f, plan)
    assert res.report.ok and res.report.imported == 5, res.report.errors
    rows = shots(project)
    assert [r["shot_name"] for r in rows] == ["1A", "1B", "1C", "2A", "2B"]
    assert [r["section"] for r in rows] == ["1", "1", "1", "2", "2"]
    assert rows[0]["location"] == "Harbour Docks" and rows[3]["time_of_day"] == "Day"
    assert rows[2]["description"].startswith("Mara's face: she spots the container, \"BRICK & STEEL\" stencilled on it.\n\n")
    assert "Shot Size: CU\nCamera Angle: Eye Level\nCamera Movement: Handheld\nLens: 50mm" in rows[2]["description"]
    assert "Notes: Match eyeline with 1B" in rows[2]["description"] and "Done" not in rows[2]["description"]
    assert "Notes:" not in rows[1]["description"]              # an empty value adds no line
    assert [r["order_number"] for r in rows] == [1, 2, 3, 4, 5]
    # AIMMS's placeholder takes, as any CSV import gives them
    assert project.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == 15


def test_celtx_shot_designer_export(project, tmp_path):
    f = copy("celtx_shot_designer.csv", tmp_path)
    plan = M.plan_mapping(f)
    t = targets(plan)
    assert (t["Scene #"], t["Shot #"], t["Set"], t["Dialogue"]) == ("section", "shot_name", "location", "dialogue")
    assert t["Script Reference"] == NOTES and t["Media"] == NOTES and t["Setup"] == NOTES
    # shot numbers start again in scene 2: names become "<scene>-<shot>", and the plan says so
    assert plan.columns[plan.name_prefix].label == "Scene #"
    assert "shot names: '<Scene #>-<Shot #>'" in "\n".join(plan.report_lines())
    assert "Scene #+Shot #=shot_name" in plan.spec()
    res = M.import_mapped(project, f, plan)
    assert res.report.imported == 3, res.report.errors
    assert [r["shot_name"] for r in shots(project)] == ["1-1", "1-2", "2-1"]
    r = shots(project)[2]
    assert (r["section"], r["shot_name"], r["location"], r["dialogue"]) == ("2", "2-1", "Warehouse", "JONAS: You're late.")
    assert r["description"].splitlines()[0] == "Jonas counts money, looks up."
    assert "Script Reference: p.2 sc.2" in r["description"] and "Media:" not in r["description"]  # empty cell


def test_llm_answer_with_chatter_fence_heading_and_repeated_header(project, tmp_path):
    f = copy("llm_answer.txt", tmp_path)
    plan = M.plan_mapping(f)
    assert plan.ok and plan.fenced and plan.rows == 4 and plan.header_line == 4
    why = {i.line: i.message for i in plan.dropped_lines}
    assert sorted(why) == [1, 8, 9, 14, 15]
    assert why[1].startswith("text outside the ``` code block") and "Sure! Here's a shot list" in why[1]
    assert "heading or note" in why[8] and "Scene 2" in why[8]
    assert why[9] == "the header row again (repeated inside the data)"
    assert "Let me know" in why[15]
    res = M.import_mapped(project, f, "auto")
    assert res.report.imported == 4, res.report.errors
    rows = shots(project)
    assert [r["shot_name"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[3]["dialogue"] == "JONAS: You're late." and rows[3]["video_prompt"] == "subtle rack focus"
    assert rows[0]["image_prompt"].startswith("cinematic wide shot of a harbour at dawn")
    assert rows[0]["description"] == "Harbour at dawn, cranes against a red sky\n\nShot Type: Wide"


def test_markdown_table_from_an_llm(project, tmp_path):
    f = copy("llm_markdown.md", tmp_path)
    plan = M.plan_mapping(f)
    assert plan.ok and plan.format == "markdown" and plan.rows == 3
    assert [i.line for i in plan.dropped_lines] == [1, 9]
    res = M.import_mapped(project, f, plan)
    assert res.report.imported == 3, res.report.errors
    rows = shots(project)
    assert rows[0]["shot_name"] == "HARBOUR_WIDE"                  # **bold** taken off
    assert rows[0]["description"] == "Harbour at dawn, cranes | red sky"   # \| is a pipe in a cell
    assert rows[1]["description"] == "Mara walks the pier\ncoat flapping"  # <br> is a line break
    assert [r["order_number"] for r in rows] == [1, 2, 3] and rows[2]["dialogue"] == "JONAS: You're late."


def test_german_semicolon_file_with_bom_and_sep_line(project, tmp_path):
    f = copy("german_semicolon_bom.csv", tmp_path)
    plan = M.plan_mapping(f)
    assert plan.ok and plan.encoding == "utf-8-sig" and plan.delimiter == ";" and plan.header_line == 2
    t = targets(plan)
    assert t == {"Nr.": "order_number", "Szene": "section", "Einstellung": "shot_name", "Einstellungsgröße": NOTES,
                 "Beschreibung": "description", "Drehort": "location", "Tageszeit": "time_of_day",
                 "Dialog": "dialogue", "Kamerabewegung": NOTES, "Dauer": NOTES, "Bemerkungen": NOTES}
    res = M.import_mapped(project, f, plan)
    assert res.report.imported == 3 and res.report.delimiter == ";", res.report.errors
    rows = shots(project)
    assert rows[1]["description"] == ("Mara geht über den Pier; der Mantel flattert.\n\nEinstellungsgröße: Halbnah\n"
                                      "Kamerabewegung: Dolly\nDauer: 8 s\nBemerkungen: Wind!")
    assert rows[2]["dialogue"] == "JONAS: Du bist spät." and rows[2]["shot_name"] == "2.1"


# -- validation and transaction are csv_io's --------------------------------------------------------
LLM_BAD = ("Here you go:\n\n```\n#,Shot,Description\n1,A,first\ntwo,B,second\n3,C,third\n```\nEnjoy!\n")


def test_errors_name_the_files_own_lines_and_nothing_is_imported(project, tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text(LLM_BAD)
    res = M.import_mapped(project, f, "auto")
    assert not res.report.ok and res.report.imported == 0
    e = res.report.errors[0]
    assert (e.line, e.column) == (6, "order_number") and "'two'" in e.message
    assert shots(project) == []
    assert project.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == 0
    # valid_only: the good rows, still in one transaction; the bad line listed
    res = M.import_mapped(project, f, "auto", valid_only=True)
    assert res.report.imported == 2 and res.report.skipped_lines == [6]
    assert [r["shot_name"] for r in shots(project)] == ["A", "C"]


def test_dry_run_and_undo_are_import_csvs(project, tmp_path):
    from aimms_fast.ops import history
    f = copy("llm_answer.txt", tmp_path)
    res = M.import_mapped(project, f, "auto", dry_run=True)
    assert res.report.ok and res.report.dry_run and res.report.rows == 4 and shots(project) == []
    M.import_mapped(project, f, "auto")
    assert len(shots(project)) == 4
    entry = history.undo(project)
    assert entry is not None and "Imported 4 shots" in entry.label
    assert shots(project) == []


def test_aimms_export_imports_the_same_through_auto_mapping(project, tmp_path):
    f = tmp_path / "in.csv"
    f.write_text("Shot Name,Order Number,Section,Description,Image Prompt,Dialogue,LoRA_1\n"
                 "A,1,Act 1,\"two\nlines\",p1,hi,style.safetensors\nB,2,Act 2,=1+1,,,\n")
    import_csv(project, f)
    out = export_csv(project, tables=("shots",), dest_dir=tmp_path / "exp")[0]["path"]
    before = [{k: v for k, v in r.items() if k != "shot_id"} for r in shots(project)]
    plan = M.plan_mapping(out)
    t = targets(plan)
    assert all(t[c] == c for c in t if c != "shot_id") and t["shot_id"] == "shot_id"
    assert not any(v == NOTES for v in t.values())
    project.conn.execute("DELETE FROM takes")
    project.conn.execute("DELETE FROM shots")
    res = M.import_mapped(project, out, plan)
    assert res.report.imported == 2, res.report.errors
    assert [{k: v for k, v in r.items() if k != "shot_id"} for r in shots(project)] == before
    assert shots(project)[1]["description"] == "=1+1"          # the export's formula guard undone once


def test_notes_keep_formula_text_as_text(project, tmp_path):
    f = tmp_path / "f.csv"
    f.write_text("Shot,Description,Camera\nA,'=quoted,=HYPERLINK(\"http://x\")\nB,,@cam\n")
    M.import_mapped(project, f, "auto").report.raise_for_errors()
    rows = shots(project)
    assert rows[0]["description"] == "=quoted\n\nCamera: =HYPERLINK(\"http://x\")"
    assert rows[1]["description"] == "Camera: @cam"          # no description: the notes alone


# -- --map text and problems -----------------------------------------------------------------------
def test_map_spec_overrides_and_unknown_names(tmp_path):
    f = copy("celtx_shot_designer.csv", tmp_path)
    plan = M.plan_mapping(f, 'Scene #=-, Setup = shot_name,"Shot #"=order_number,Media=notes')
    t = targets(plan)
    assert (t["Scene #"], t["Setup"], t["Shot #"], t["Set"]) == (None, "shot_name", "order_number", "location")
    assert {c.label: c.how for c in plan.columns}["Setup"] == "map" and plan.ok
    bad = M.plan_mapping(f, "Foo=section,Lens=lens,Camera")
    msgs = [p.message for p in bad.problems]
    assert any("no column 'Foo'" in m and "Script Reference" in m for m in msgs)
    assert any("'lens' is not a shot field" in m for m in msgs) and any("'Camera' is not Column=field" in m for m in msgs)
    dup = M.plan_mapping(f, "Setup=shot_name")
    assert any("'Shot #' and 'Setup' both map to shot_name" in p.message for p in dup.problems)
    none = M.plan_mapping(f, "Shot #=notes")
    assert any("no column is mapped to shot_name" in p.message for p in none.problems)


def test_shot_name_prefix_on_and_off_by_spec(project, tmp_path):
    f = copy("celtx_shot_designer.csv", tmp_path)
    assert M.plan_mapping(f, "Shot #=shot_name").name_prefix is None       # plain: as the file says
    plan = M.plan_mapping(f, "Setup+Shot #=shot_name")
    assert plan.columns[plan.name_prefix].label == "Setup" and plan.ok
    M.import_mapped(project, f, plan).report.raise_for_errors()
    assert [r["shot_name"] for r in shots(project)] == ["A-1", "B-2", "A-1"]
    # StudioBinder's names are unique already ("1A", "1B"): no prefix proposed
    assert M.plan_mapping(copy("studiobinder_shot_list.csv", tmp_path)).name_prefix is None


def test_user_edit_is_checked_at_once(tmp_path):
    plan = M.plan_mapping(copy("llm_markdown.md", tmp_path))
    shot = next(c.index for c in plan.columns if c.label == "Shot")
    plan.set_target(shot, None)
    assert not plan.ok and "shot_name" in plan.problems[0].message
    plan.set_target(shot, "shot_name")
    assert plan.ok
    with pytest.raises(Exception, match="not a shot field"):
        plan.set_target(shot, "lens")


def test_file_changed_after_mapping_is_refused(project, tmp_path):
    f = copy("llm_markdown.md", tmp_path)
    plan = M.plan_mapping(f)
    f.write_text(f.read_text().replace("| Dialogue |", "| Lines |"))
    res = M.import_mapped(project, f, plan)
    assert not res.report.ok and "columns changed since the mapping was made" in res.report.errors[0].message
    assert shots(project) == []


@pytest.mark.parametrize("content,expect", [
    ("Sure! I can help with that.\nWhat kind of film is it?\n", "no table found"),
    (b"", "empty"),
    ("Shot,Description\n", "header but no rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
])
def test_no_table_is_a_clear_problem(project, tmp_path, content, expect):
    f = tmp_path / "x.csv"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    res = M.import_mapped(project, f, "auto")
    assert not res.report.ok and expect in res.report.errors[0].message and shots(project) == []


def test_unrecognised_column_with_values_goes_to_notes_and_says_so(tmp_path):
    f = tmp_path / "u.csv"
    f.write_text("Shot,Wetter,Leer\nA,Regen,\n")
    plan = M.plan_mapping(f)
    c = {c.label: c for c in plan.columns}
    assert c["Wetter"].target == NOTES and "kept in notes so nothing is lost" in c["Wetter"].why
    assert c["Leer"].target is None and c["Leer"].why == "empty in every row"
    assert "Wetter -> notes" in "\n".join(plan.report_lines()).replace("  ", " ")


def test_unfenced_chatter_with_commas_before_and_after(project, tmp_path):
    f = tmp_path / "chat.txt"
    f.write_text("Sure, here's the shot list, as requested:\n\nShot,Description,Location\nA,one,Here\n"
                 "B,two,There\n\nLet me know, if anything.\nCheers\n")
    plan = M.plan_mapping(f)
    assert plan.header_line == 3 and plan.rows == 2 and [i.line for i in plan.dropped_lines] == [1, 7, 8]
    assert "text after the table" in plan.dropped_lines[1].message
    assert M.import_mapped(project, f, plan).report.imported == 2
    assert [r["shot_name"] for r in shots(project)] == ["A", "B"]


def test_tab_separated_paste_and_a_second_description_column(project, tmp_path):
    f = tmp_path / "sheet.tsv"
    f.write_text("Shot\tDescription\tShot Description\tLens\nA\tone, two\tmore\t35mm\n")
    plan = M.plan_mapping(f)
    c = {c.label: c for c in plan.columns}
    assert plan.delimiter == "\t" and c["Description"].target == "description"
    assert c["Shot Description"].target == NOTES
    assert c["Shot Description"].why == "description is taken by 'Description'; kept in notes"
    M.import_mapped(project, f, plan).report.raise_for_errors()
    assert shots(project)[0]["description"] == "one, two\n\nShot Description: more\nLens: 35mm"


def test_extract_keeps_line_numbers_with_multiline_cells():
    t = extract_table('Intro line\n\nShot,Description\nA,"one\ntwo"\nB,three\n')
    assert t.header_line == 3 and [ln for ln, _ in t.rows] == [4, 6]


# -- presets ---------------------------------------------------------------------------------------
def test_presets_round_trip_and_match_the_same_tools_files(tmp_path):
    cfg = tmp_path / "cfg"
    f = copy("celtx_shot_designer.csv", tmp_path)
    plan = M.plan_mapping(f, "Media=-,Setup=notes")
    path = M.save_preset(cfg, "Celtx", plan)
    assert path == cfg / M.PRESETS_FILE
    assert M.load_presets(cfg)["Celtx"]["Media"] is None
    assert M.load_presets(cfg)["Celtx"][M.PREFIX_KEY] == "Scene #"
    again = M.plan_mapping(f, preset=M.load_presets(cfg)["Celtx"], preset_name="Celtx")
    assert targets(again) == targets(plan) and again.preset == "Celtx" and again.name_prefix == plan.name_prefix
    assert M.matching_preset(cfg, again) == "Celtx"
    assert M.matching_preset(cfg, M.plan_mapping(copy("llm_markdown.md", tmp_path))) is None
    (cfg / M.PRESETS_FILE).write_text("{not json")
    assert M.load_presets(cfg) == {}


# -- CLI -------------------------------------------------------------------------------------------
def test_cli_import_csv_with_map(tmp_path, monkeypatch):
    monkeypatch.setenv("AIMMS_CONFIG_DIR", str(tmp_path / "cfg"))
    proj = tmp_path / "p"
    r = CliRunner().invoke(cli, ["new", str(proj), "--name", "T", "--author", "me"])
    assert r.exit_code == 0, r.output
    f = copy("llm_answer.txt", tmp_path)
    r = CliRunner().invoke(cli, ["import-csv", str(proj), str(f), "--map", "auto,Shot Type=-", "--dry-run",
                                 "--save-preset", "chat"])
    assert r.exit_code == 0, r.output
    assert "Shot Type    -> dropped  [dropped by --map]" in r.output and "line 9: the header row again" in r.output
    assert "saved as preset 'chat'" in r.output and "dry run, nothing imported" in r.output
    r = CliRunner().invoke(cli, ["import-csv", str(proj), str(f), "--preset", "chat", "--json"])
    assert r.exit_code == 0, r.output
    out = orjson.loads(r.stdout)
    assert out["imported"] == 4 and out["mapping"]["preset"] == "chat"
    assert {c["header"]: c["target"] for c in out["mapping"]["columns"]}["Shot Type"] is None
    assert [d["line"] for d in out["mapping"]["dropped_lines"]] == [1, 8, 9, 14, 15]
    r = CliRunner().invoke(cli, ["import-csv", str(proj), str(f), "--preset", "nope"])
    assert r.exit_code == 1 and "no mapping preset named 'nope'" in r.output
    r = CliRunner().invoke(cli, ["import-csv", str(proj), str(f), "--map", "Bogus=shot_name"])
    assert r.exit_code == 1 and "the file has no column 'Bogus'" in r.output


# -- hostile text ----------------------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

_pieces = st.sampled_from(["Shot", "Description", ",", ";", "|", "\n", "\"", "```csv", "```", "|---|---|",
                           "Sure!", " ", "Scene", "1", "x", "\t", "**", "<br>", "\\|", "sep=;", "\r\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_pieces, st.text(max_size=6)), max_size=40))
def test_any_text_gives_a_table_or_a_table_error(parts):
    from aimms_fast.ops.csv_table import TableError
    text = "".join(parts)
    try:
        t = extract_table(text)
    except TableError as e:
        assert str(e)
        return
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert t.rows and 1 <= t.header_line <= len(lines)
    for line, _ in t.rows:
        assert t.header_line < line <= len(lines)
    for i in t.dropped:
        assert 1 <= i.line <= len(lines) and i.line not in {ln for ln, _ in t.rows}
