"""Issue 14 tried again against the commands added after it was filed (issues 9, 11, 12): unused
--trash, trash --empty, import-script, breakdown --html, character --front, export-csv --table
audit. As in test_hostile_paths*.py: the outside tree and the other project stay byte-identical,
and every command ends with a clear message."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile_fixture import assert_clear, build, run_cli


@pytest.fixture
def h(tmp_path):
    return build(tmp_path)


# -- unused --trash / trash --empty (issue 9) ------------------------------------------------------
def test_unused_trash_moves_a_link_to_an_outside_folder_as_a_link(h):
    """media/2/dirlink -> outside/dir was listed as a 4096-byte "file" (its target's stat) and then
    `unused --trash` died with "the unused file is gone" and trashed nothing."""
    link = h.link(f"media/{h.shot_b}/dirlink", h.outside / "dir")
    h.link(f"media/{h.shot_a}/out.png", h.outside / "x.png")
    before = h.world()
    r = run_cli("unused", h.root, "--trash")
    assert_clear(r, ok=True)
    assert not os.path.lexists(link)
    moved = [Path(d) / n for d, ds, fs in os.walk(h.root / "data" / "trash") for n in ds + fs if n == "dirlink"]
    assert len(moved) == 1 and moved[0].is_symlink()
    assert_clear(run_cli("undo", h.root), ok=True)
    assert link.is_symlink() and os.readlink(link) == str(h.outside / "dir")
    assert_clear(run_cli("redo", h.root), ok=True)
    assert_clear(run_cli("trash", h.root, "--empty"), ok=True)
    assert h.world() == before
    assert (h.outside / "dir" / "inner.txt").read_bytes() == b"inner outside file\n"


def test_unused_trash_moves_a_fifo_without_opening_it(h):
    """A FIFO in media/ is listed as unused; --trash said "the unused file is gone" and moved nothing."""
    fifo = h.root / "media" / str(h.shot_b) / "pipe.png"
    os.mkfifo(fifo)
    r = run_cli("unused", h.root, "--trash", timeout=60)
    assert_clear(r, ok=True)
    assert not os.path.lexists(fifo)
    assert_clear(run_cli("undo", h.root), ok=True)
    assert fifo.is_fifo()


# -- import-script (issue 12) ----------------------------------------------------------------------
def test_import_script_from_a_fifo_is_refused_not_blocking(h, tmp_path):
    fifo = tmp_path / "pipe.fountain"
    os.mkfifo(fifo)
    r = run_cli("import-script", h.root, fifo, "--dry-run", timeout=60)
    assert_clear(r, ok=False)
    assert "not a regular file" in r.stderr


@pytest.mark.parametrize("data", [os.urandom(1) + bytes(range(256)) * 200,
                                  b"INT. HOUSE - DAY\n\nBOB\nHi\x00there\n"])
def test_import_script_of_a_binary_file_is_refused(h, tmp_path, data):
    """Random bytes became shots of mojibake; NUL never occurs in a text screenplay."""
    p = tmp_path / "x.fountain"
    p.write_bytes(data)
    r = run_cli("import-script", h.root, p)
    assert_clear(r, ok=False)
    assert "not a text screenplay" in r.stderr
    assert_clear(run_cli("import-script", h.root, p, "--dry-run"), ok=False)


def test_import_script_reads_utf16_with_a_bom(h, tmp_path):
    p = tmp_path / "u16.fountain"
    p.write_bytes("INT. MAISON - JOUR\n\nZOÉ\nBonjour.\n".encode("utf-16"))
    r = run_cli("import-script", h.root, p, "--dry-run")
    assert_clear(r, ok=True)
    assert "ZOÉ: Bonjour." in r.stdout


def test_breakdown_html_escapes_script_text(h, tmp_path):
    p = tmp_path / "h.fountain"
    p.write_text("INT. <script>alert(0)</script> HOUSE - DAY\n\n<b onmouseover=x()>walks</b> in & out.\n\n"
                 "BOB\nHello </td><script>alert(3)</script>\n\n")
    assert_clear(run_cli("import-script", h.root, p), ok=True)
    out = tmp_path / "bd.html"
    assert_clear(run_cli("breakdown", h.root, "--html", out), ok=True)
    html = out.read_text().lower()
    assert "<script>alert" not in html and "</td><script>" not in html
    assert "&lt;script&gt;alert" in html


# -- character --front (issue 12) ------------------------------------------------------------------
def test_character_front_through_a_symlink_copies_bytes_never_the_link(h, tmp_path):
    """--front FILE given as a link: the bytes are copied (the user named that file); no link lands
    in media/, and a planted media/characters/<name> folder link is never written through."""
    script = tmp_path / "c.fountain"
    script.write_text("INT. HOUSE - DAY\n\nBOB\nHello.\n\n")
    assert_clear(run_cli("import-script", h.root, script), ok=True)
    assert_clear(run_cli("characters", h.root, "--detect"), ok=True)
    link = tmp_path / "front.png"
    os.symlink(h.outside / "victim.png", link)
    before = h.world()
    assert_clear(run_cli("character", h.root, "BOB", "--version", "concept", "--front", link), ok=True)
    fronts = list((h.root / "media" / "characters").rglob("v01_front.png"))
    assert len(fronts) == 1 and not fronts[0].is_symlink()
    assert fronts[0].read_bytes() == (h.outside / "victim.png").read_bytes()
    folder = fronts[0].parent
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    os.symlink(h.outside / "dir", folder)          # planted: the character's folder leads outside
    r = run_cli("character", h.root, "BOB", "--version", "casting", "--front", link)
    assert_clear(r, ok=False)
    assert "outside the project" in r.stderr
    assert h.world() == before


# -- export-csv --table audit (issue 12) -----------------------------------------------------------
def test_audit_csv_is_formula_safe(h, tmp_path):
    assert_clear(run_cli("edit-shot", h.root, "A_010", "--set", "shot_name==HYPERLINK(\"x\")"), ok=True)
    dest = tmp_path / "csv"
    assert_clear(run_cli("export-csv", h.root, "--table", "audit", "--dest", dest), ok=True)
    text = "".join(p.read_text() for p in dest.glob("*.csv"))
    assert "HYPERLINK" in text
    for cell in text.replace("\n", ",").split(","):
        assert not cell.strip('"').startswith(("=", "+", "@")), cell


# -- relink (issue 9) ------------------------------------------------------------------------------
def _lose(h, take_id: str, rel: str) -> None:
    h.set_path(take_id, rel)   # a recorded file that is not there: what relink looks for


def test_relink_skips_a_fifo_instead_of_blocking(h, tmp_path):
    _lose(h, h.vid, f"media/{h.shot_a}/gone_02.mp4")
    folder = tmp_path / "found"
    folder.mkdir()
    os.mkfifo(folder / "gone_02.mp4")
    r = run_cli("relink", h.root, folder, timeout=60)
    assert_clear(r, ok=True)
    assert "not found: media/" in r.stdout


def test_relink_never_follows_a_link_inside_the_project_out_of_it(h):
    """A planted media/9/gone_01.png -> outside/secret.txt, relinking from the project itself:
    the secret was copied in as the lost take's file."""
    _lose(h, h.img2, f"media/{h.shot_a}/gone_01.png")
    h.link("media/9/gone_01.png", h.outside / "secret.txt")
    before = h.world()
    r = run_cli("relink", h.root, h.root)
    assert_clear(r, ok=True)
    assert not (h.root / "media" / str(h.shot_a) / "gone_01.png").exists()
    assert h.world() == before


# -- ComfyUI outputs (issue 11) --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../outside/secret.txt", "/etc/passwd", "..", "a\\..\\b.png", "x\x00.png", ""])
def test_comfy_download_refuses_an_output_name_with_a_folder(tmp_path, name):
    """The runner downloads into cache/comfy_downloads/<tmp>/<filename>: a history naming
    '../../x' would have written outside that folder. Refused before any request."""
    from aimms_fast.comfy.client import ComfyClient
    from aimms_fast.errors import AimmsError
    c = ComfyClient("http://127.0.0.1:9")   # nothing listens: a request would be ComfyUnreachable
    with pytest.raises(AimmsError, match="not a plain file name"):
        c.download(name, "", "output", tmp_path / "dl" / "x")
    assert list(tmp_path.iterdir()) == []


def test_inbox_accept_refuses_a_source_climbing_out_of_its_folder(h, tmp_path):
    """A shared project's Inbox row naming '../outside/victim.png' under a real output folder (or a
    link there) was copied in as a take on --accept."""
    import sqlite3
    out = tmp_path / "comfy_out"
    out.mkdir()
    os.symlink(h.outside / "x.png", out / "A_010_00002_.png")
    with sqlite3.connect(h.root / "data" / "shots.db") as c:
        have = c.execute("SELECT 1 FROM sqlite_master WHERE name='fast_comfy_inbox'").fetchone()
    if not have:   # m008 runs at open
        assert_clear(run_cli("info", h.root), ok=True)
    with sqlite3.connect(h.root / "data" / "shots.db") as c:
        for src in ("../outside/victim.png", "A_010_00002_.png"):
            c.execute("INSERT INTO fast_comfy_inbox(source, folder, kind, shot_id, state, added_at) "
                      "VALUES (?, ?, 'image', ?, 'waiting', '2026-01-01')", (src, str(out), h.shot_a))
        ids = [r[0] for r in c.execute("SELECT item_id FROM fast_comfy_inbox ORDER BY item_id")]
    before = h.world()
    takes = len(list((h.root / "media" / str(h.shot_a)).iterdir()))
    for i in ids:
        r = run_cli("inbox", h.root, "--accept", i)
        assert_clear(r, ok=False)
        assert "outside its output folder" in r.stderr
    assert len(list((h.root / "media" / str(h.shot_a)).iterdir())) == takes
    assert h.world() == before


# -- routing (issue 14 Build 1: a refused path is shown as outside the project) --------------------
def test_routing_says_outside_the_project_not_just_missing(h):
    h.set_path(h.img1, "../outside/secret.txt")
    h.set_path(h.img_b, str(h.outside / "victim.png"))
    h.link(f"media/{h.shot_c}/out.png", h.outside / "x.png")
    h.set_path(h.img_c, f"media/{h.shot_c}/out.png")
    r = run_cli("routing", h.root)
    assert_clear(r, ok=True)
    lines = [ln for ln in r.stdout.splitlines() if "outside the project" in ln]
    assert len(lines) == 3, r.stdout
    import json
    j = json.loads(run_cli("routing", h.root, "--json").stdout)
    assert sum(1 for m in j["missing"] if m.get("outside")) == 3


def test_queue_workflow_from_a_fifo_is_refused_not_blocking(h, tmp_path):
    fifo = tmp_path / "wf.json"
    os.mkfifo(fifo)
    r = run_cli("queue", h.root, "--workflow", fifo, "--shots", "A_010", "--url", "http://127.0.0.1:9", timeout=60)
    assert_clear(r, ok=False)
    assert "not a regular file" in r.stderr
