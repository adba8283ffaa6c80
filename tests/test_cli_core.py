"""The `aimms` CLI: every command documented, exit codes 0 ok / 1 failure / 2 bad usage, and every
--json output parses. Runs the project-core and data commands end to end on a real project."""
from __future__ import annotations

import os
from pathlib import Path

import click
import orjson
import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli

from conftest import make_image, make_video


def run(*args, code: int = 0):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == code, f"aimms {' '.join(map(str, args))} -> {r.exit_code}\n{r.output}"
    return r


def run_json(*args, code: int = 0):
    r = run(*args, "--json", code=code)
    return orjson.loads(r.stdout)


# -- help --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help(name):
    cmd = cli.commands[name]
    assert (cmd.help or "").strip(), f"`aimms {name}` has no help text"
    for p in cmd.params:
        if isinstance(p, click.Option) and "--help" not in p.opts:
            assert (p.help or "").strip(), f"`aimms {name} {p.opts[0]}` has no help text"
    r = run(name, "--help")
    first_words = " ".join(cmd.help.split()[:4])
    assert r.output.startswith("Usage: ") and first_words in " ".join(r.output.split())


def test_group_help_and_version():
    r = run("--help")
    for name in cli.commands:
        assert name in r.output
    assert "aimms" in run("--version").output


# -- exit codes ------------------------------------------------------------------------------
def test_exit_codes(tmp_path):
    proj = tmp_path / "p"
    run("new", proj)
    # 2: bad usage, caught by click before anything runs
    assert run("add-take", proj, "--shot", "1", "--image", "a.png", "--video", "b.mp4", code=2)
    assert run("add-take", proj, "--shot", "1", "--placeholders", "2", code=2)  # --kind missing
    assert run("import-csv", proj, code=2)                                         # FILE missing
    assert run("shots", proj, "--no-such-option", code=2)
    assert run("edit-shot", proj, "1", "--set", "camera=wide", code=2)
    assert run("reorder", proj, "1", "--to", "0", code=2)
    # 1: understood, but failed; the message names what and where
    r = run("info", tmp_path / "nowhere", code=1)
    assert "error:" in r.output and "nowhere" in r.output
    r = run("add-take", proj, "--shot", "NoSuchShot", "--placeholders", "1", "--kind", "image", code=1)
    assert "NoSuchShot" in r.output
    assert run("new", proj, code=1)  # already a project
    bad = tmp_path / "bad.csv"
    bad.write_text("shot_name,order_number\nA,1\nB,two\n")
    r = run("import-csv", proj, bad, code=1)
    assert "line 3" in r.output and "order_number" in r.output and "nothing was imported" in r.output
    assert run("restore", proj, tmp_path / "missing.aimms", code=1)
    # 0
    assert run("info", proj)


def test_json_errors_parse(tmp_path):
    data = run_json("info", tmp_path / "nowhere", code=1)
    assert "no such folder" in data["error"] and data["path"].endswith("nowhere")
    run("new", tmp_path / "p")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02binary")
    rep = run_json("import-csv", tmp_path / "p", bad, code=1)
    assert rep["ok"] is False and rep["imported"] == 0 and "binary" in rep["errors"][0]["message"]


# -- end to end with --json -----------------------------------------------------------------------
def test_all_core_and_data_commands_json(tmp_path):
    proj = tmp_path / "my project"
    src = tmp_path / "src"
    out = run_json("new", proj, "--name", "CLI Test", "--author", "me")
    assert out["name"] == "CLI Test"

    csv_file = tmp_path / "shots.csv"
    csv_file.write_text("Shot Name;Section;Image Prompt\nOpening;Act 1;\"two\nlines\"\nTwins;Act 1;\nTwins;Act 2;\n",
                        encoding="utf-8-sig")
    rep = run_json("import-csv", proj, csv_file, "--dry-run")
    assert rep["ok"] and rep["dry_run"] and rep["rows"] == 3 and rep["imported"] == 0
    rep = run_json("import-csv", proj, csv_file)
    assert rep["imported"] == 3 and rep["delimiter"] == ";" and rep["warnings"][0]["line"] == 5  # line 2 holds a two-line field

    shot = run_json("add-shot", proj, "--name", "Closing", "--set", "section=Act 2", "--set", "dialogue=Bye")
    assert shot["section"] == "Act 2" and shot["order_number"] == 4
    dup = run_json("add-shot", proj, "--name", "Opening")
    assert dup["duplicate_of"] == [1]

    shots = run_json("shots", proj)
    assert [s["shot_name"] for s in shots] == ["Opening", "Twins", "Twins", "Closing", "Opening"]
    assert [s["shot_name"] for s in run_json("shots", proj, "--section", "Act 2")] == ["Twins", "Closing"]
    assert [s["shot_name"] for s in run_json("shots", proj, "--search", "LINES")] == ["Opening"]

    imgs = [make_image(src / f"i{i}.png") for i in range(2)]
    vid = make_video(src / "v.mp4")
    make_image(src / "v.png")
    takes = run_json("add-take", proj, "--shot", "Closing", "--image", imgs[0], "--image", imgs[1])
    assert [t["file_path"] for t in takes] == ["media/4/base_02.png", "media/4/base_03.png"]
    vt = run_json("add-take", proj, "--shot", "4", "--video", vid)
    assert vt[0]["file_path"] == "media/4/video_02.mp4" and vt[0]["companion_path"] == "media/4/video_02.png"
    ph = run_json("add-take", proj, "--shot", "4", "--placeholders", "2", "--kind", "video")
    assert [t["placeholder"] for t in ph] == [1, 1]
    assert run("add-take", proj, "--shot", "Twins", "--placeholders", "1", "--kind", "image", code=1)  # ambiguous

    assert run_json("star", proj, vt[0]["take_id"])["starred"] == 1
    assert run_json("star", proj, takes[0]["take_id"], "--slot", "2")["starred"] == 2
    assert run_json("edit-shot", proj, "2", "3", "--set", "lora_1=x.safetensors")["changed"] == 2
    assert run_json("reorder", proj, "Closing", "--to", "1")["order"][0] == 4
    info = run_json("info", proj)
    assert info["shots"] == 5 and info["starred_videos"] == 1 and info["readonly"] is False

    exported = run_json("export-csv", proj)
    assert [e["table"] for e in exported] == ["shots", "takes", "assets", "fast_audit"]  # audit: issue 12
    assert all(Path(e["path"]).parent == proj / "data" / "csv" for e in exported)
    only = run_json("export-csv", proj, "--table", "shots", "--dest", tmp_path / "csv out")
    assert len(only) == 1 and Path(only[0]["path"]).exists()

    b = run_json("backup", proj)
    assert Path(b["path"]).parent == proj / "data" / "backup" and b["bytes"] > 0
    s = run_json("save", proj)
    assert s["path"].endswith(".aimms") and s["shots"] == 5

    d = run_json("delete-shot", proj, "5")
    assert d["shot_ids"] == [5]
    u = run_json("undo", proj)
    assert u["done"]["what"] == "shots" and u["done"]["label"].startswith("Deleted shot")
    run_json("delete-shot", proj, "5")
    r = run_json("restore", proj, s["path"])
    assert r["shots"] == 5 and r["missing_files"] == [] and Path(r["backup"]).exists()
    assert r["recovered_from_trash"]  # shot 5's placeholders came back from the trash

    a = run_json("archive", proj, "--dest", tmp_path / "zips")
    assert Path(a["path"]).parent == tmp_path / "zips" and a["files"] > 10
    e = run_json("export-starred", proj, tmp_path / "hand off")
    assert e["copied"] == 3 and Path(e["manifest"]).exists()  # video + its workflow PNG + slot-2 image
    assert sorted(os.listdir(tmp_path / "hand off")) == sorted(
        ["001_Closing.mp4", "001_Closing.png", "001_Closing_slot2.png", "starred_takes_manifest.csv"])
    v = run_json("export-starred", proj, tmp_path / "videos", "--videos-only")
    assert v["copied"] == 2


def test_readonly_second_instance_refuses_writes(tmp_path):
    from aimms_fast.project import Project
    proj = tmp_path / "p"
    run("new", proj)
    with Project.open(proj):  # the first instance holds the lock
        r = run("add-shot", proj, "--name", "x", code=1)
        assert "read-only" in r.output and "locked" in r.output
        assert run_json("shots", proj) == []  # reading still works
        assert Path(run_json("backup", proj)["path"]).exists()
