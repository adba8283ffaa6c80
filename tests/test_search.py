"""Prompt search: FTS5 over shot fields and embedded prompts of takes, kept current without
triggers on AIMMS tables, safe for any user input, usable on a read-only (locked) project."""
from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from aimms_fast.ops.shots import add_shot, delete_shots, edit_shots
from aimms_fast.ops.takes import add_takes, delete_take
from aimms_fast.project import Project
from aimms_fast.store.search import fts_query, refresh, search
from tests.test_genmeta import _vhs_mp4, _wan_prompt


def ids(results, kind="shot"):
    return [r["id"] for r in results if r["kind"] == kind]


def test_fts5_is_available_and_no_triggers_on_aimms_tables(project):
    c = project.conn
    assert c.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')").fetchone()[0] == 1
    assert c.execute("SELECT name FROM sqlite_master WHERE name = 'fast_search'").fetchone()
    on_aimms = c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                         "('shots', 'takes', 'assets', 'meta', 'deleted_shots')").fetchall()
    assert on_aimms == []


def test_every_shot_field_is_searchable(project):
    fields = {"shot_name": "aardvark", "description": "bumblebee", "image_prompt": "cormorant",
              "video_prompt": "dragonfly", "dialogue": "echidna", "section": "flamingo",
              "location": "gazelle", "image_negative": "hedgehog", "video_negative": "iguana"}
    sid = add_shot(project, **{k: f"a {v} here" for k, v in fields.items()})
    other = add_shot(project, shot_name="nothing special")
    for field, word in fields.items():
        assert ids(search(project.conn, word)) == [sid], field
    assert ids(search(project.conn, "special")) == [other]
    assert search(project.conn, "zebra") == []


def test_edits_from_anywhere_are_seen(project, tmp_path):
    sid = add_shot(project, shot_name="Harbor", description="fog over the water")
    assert ids(search(project.conn, "fog")) == [sid]
    edit_shots(project, [sid], description="sunlight over the water")
    assert search(project.conn, "fog") == []
    assert ids(search(project.conn, "sunlight")) == [sid]
    # Another program (AIMMS itself) edits shots.db directly: no trigger saw it, search still does.
    other = sqlite3.connect(str(project.layout.db))
    other.execute("UPDATE shots SET dialogue = 'we sail at midnight' WHERE shot_id = ?", (sid,))
    other.execute("INSERT INTO shots(order_number, shot_name) VALUES (99, 'Lighthouse at midnight')")
    other.commit()
    other.close()
    assert sorted(ids(search(project.conn, "midnight"))) == sorted([sid, sid + 1])
    delete_shots(project, [sid])
    assert ids(search(project.conn, "midnight")) == [sid + 1]
    # Nothing changed: the refresh writes nothing.
    assert refresh(project.conn) == {"updated_shots": 0, "removed_shots": 0, "private": False}


def test_ranking_prefers_names_over_negatives(project):
    neg = add_shot(project, shot_name="Shot one", image_negative="lantern glare")
    desc = add_shot(project, shot_name="Shot two", description="a paper lantern")
    name = add_shot(project, shot_name="Lantern festival")
    add_shot(project, shot_name="Shot four", description="unrelated crowd")
    res = search(project.conn, "lantern")
    assert ids(res) == [name, desc, neg]
    assert res[0]["rank"] <= res[1]["rank"] <= res[2]["rank"]
    assert res[0]["snippet"] == "[Lantern] festival"


def test_query_syntax_is_safe_and_useful(project):
    a = add_shot(project, shot_name="girl in a red coat", description="snow falls")
    b = add_shot(project, shot_name="girl walking", description="rain falls")
    for nasty in ['girl "in', '"', "*", "NEAR(", "a:b", "-", "OR", "AND OR NOT", "''", "girl)", "((", "^girl",
                  "title:girl", "col:", '"""', "\\", "%", "girl -", "- girl"]:
        search(project.conn, nasty)  # never raises
    assert ids(search(project.conn, 'girl "in')) == [a]  # the unbalanced quote is ignored
    assert ids(search(project.conn, '"red coat"')) == [a]
    assert search(project.conn, '"coat red"') == []
    assert sorted(ids(search(project.conn, "snow OR rain"))) == sorted([a, b])
    assert ids(search(project.conn, "girl -snow")) == [b]
    assert ids(search(project.conn, "walk")) == [b]  # last word is a prefix
    assert search(project.conn, "walk", prefix_last=False) == []
    assert search(project.conn, "") == [] and search(project.conn, "  -snow ") == []


def test_fts_query_quoting():
    assert fts_query('girl "in') == '"girl" AND "in" *'
    assert fts_query('"red coat" x', prefix_last=False) == '"red coat" AND "x"'
    assert fts_query('say "hi') == '"say" AND "hi" *'
    assert fts_query("a OR b -c") == '("a" OR "b") NOT "c"'  # the last word typed is -c: no prefix
    # Words joined by punctuation stay a phrase ("fennec-ears" -> "fennec ears"); syntax is inert.
    assert fts_query("NEAR(a b)") == '"NEAR a" AND "b" *'
    assert fts_query("fennec-ears") == '"fennec ears" *'
    assert fts_query("-x") == "" and fts_query("***") == ""


def test_takes_found_by_embedded_prompts(project, realdata, tmp_path):
    sid = add_shot(project, shot_name="Winter")
    other = add_shot(project, shot_name="Field")
    add_takes(project, other, [realdata / "comfyui/png/flux__girl_in_field.png"], storyboard="image")
    prompt, workflow = _wan_prompt(realdata)
    clip = _vhs_mp4(tmp_path / "fox.mp4", prompt, workflow)
    [vid] = add_takes(project, sid, [clip], storyboard="video")
    res = search(project.conn, "fox winter scenery")
    assert [(r["kind"], r["id"], r["shot_id"]) for r in res] == [("take", vid, sid)]
    from aimms_fast.store.takes import get_take
    assert "[fox]" in res[0]["snippet"] and res[0]["file_path"] == get_take(project.conn, vid).file_path
    assert ids(search(project.conn, "rice paddy"), "take") != []
    assert search(project.conn, "rice paddy", kinds=("shot",)) == []
    # Model and LoRA names are searchable too.
    assert ids(search(project.conn, "wan2"), "take") == [vid]
    # A workflow PNG's prompt finds its video take (once, not twice).
    png_only = tmp_path / "clip2.png"
    from tests.conftest import make_image, make_video
    make_image(png_only, text_chunks={"prompt": json.dumps({"6": {"class_type": "CLIPTextEncode",
                                                                   "inputs": {"text": "a quokka smiling"}}})})
    clip2 = make_video(tmp_path / "clip2.mp4", frames=4)
    [vid2] = add_takes(project, sid, [clip2], storyboard="video")  # takes clip2.png along
    assert [(r["kind"], r["id"]) for r in search(project.conn, "quokka")] == [("take", vid2)]
    delete_take(project, vid2)
    assert search(project.conn, "quokka") == []


def test_read_only_project_searches_a_private_index(project):
    sid = add_shot(project, shot_name="Desert", description="dunes at noon")
    assert ids(search(project.conn, "dunes")) == [sid]
    ro = Project.open(project.root)  # the first instance holds the lock: this one is read-only
    try:
        assert ro.readonly
        edit_shots(project, [sid], description="dunes under the moon")
        res = search(ro.conn, "moon")
        assert ids(res) == [sid]
        assert refresh(ro.conn)["private"] is True
        assert ids(search(ro.conn, "noon")) == []
    finally:
        ro.close()


def test_cli_search(project, tmp_path):
    sid = add_shot(project, shot_name="Canyon chase", dialogue="hold on tight")
    root = project.root
    project.close()  # the CLI opens it itself (closing twice is harmless)
    from aimms_fast.cli import cli
    r = CliRunner().invoke(cli, ["search", str(root), "hold tight", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [(x["kind"], x["id"], x["shot_name"]) for x in rows] == [("shot", sid, "Canyon chase")]
    r = CliRunner().invoke(cli, ["search", str(root), 'chase "'])
    assert r.exit_code == 0 and "Canyon chase" in r.output
    r = CliRunner().invoke(cli, ["search", str(root), "nothing-here"])
    assert r.exit_code == 0 and "no matches" in r.output
    r = CliRunner().invoke(cli, ["search", str(tmp_path / "nope"), "x"])
    assert r.exit_code == 1
