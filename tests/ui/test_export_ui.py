"""The Export dialog and the edited-timeline dialog on a real project with real clips
(tests/export_fixture.py): what the user sees (the dialog's text items, screenshots) and what is
written (files, database)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.export_fixture import build_project
from tests.ui.conftest import pixels, run_scenario


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_project(tmp_path_factory.mktemp("xui") / "proj")


@pytest.fixture
def proj(built, tmp_path):
    dst = tmp_path / "proj"
    shutil.copytree(built.root, dst)
    return dst


def _not_blank(png) -> None:
    img = pixels(png)
    assert img.std() > 10, f"{png} looks blank"


def _take_numbers(root, take_ids) -> list[int]:
    from aimms_fast.project import Project
    with Project.open(root) as p:
        return [p.conn.execute("SELECT take_number FROM fast_takes WHERE take_id = ?", (t,)).fetchone()[0]
                for t in take_ids]


def test_export_dialog_preview_and_exports(proj, built, tmp_path):
    dest = tmp_path / "exports"
    v = built.video_takes
    numbers = _take_numbers(proj, [v["OPEN"][1], v["WALK"][0], v["TALK"][0], v["END"][0]])
    r = run_scenario("export_dialog", tmp_path, project=proj, args={"dest": str(dest)})
    assert r["errors"] == []
    assert r["opened_from_menu"] and r["opened_by_keys"]
    assert r["menu_shortcut"] == "Ctrl+Shift+E"
    # The preview, as the dialog's table cells read: the starred cut in story order; EMPTY has no
    # starred video (a gap by default); TALK is 30 fps conformed to 24.
    rows = r["rows"]
    assert [row[1] for row in rows] == ["OPEN", "WALK", "TALK", "EMPTY", "END"]
    assert [row[4] for row in rows] == ["video", "video", "video", "gap", "video"]
    takes = [f"take {n}" for n in numbers]
    assert [row[3] for row in rows] == takes[:3] + ["no starred video take"] + takes[3:]
    assert [row[2] for row in rows] == ["Act A", "Act A", "Act B", "Act B", "Act B"]
    assert rows[0][5:] == ["0:00.00", "1.50 s (36 f)"] and rows[1][5] == "0:01.50"
    assert rows[3][6] == "2.00 s (48 f)"      # no words: Storyboarder's 2 s
    assert r["summary"].startswith("Preview: 5 clips (4 videos, 1 gap), 0:06.75 in all (6.75 s) at 24 fps")
    notes = "\n".join(r["notes"])
    assert "conformed 1 clip(s) at 30 fps to 24 fps" in notes and "gap for EMPTY" in notes
    for label in ("Format", "Storyboard", "Section", "Shots with no take", "Frame rate", "Save to"):
        assert label in r["form_texts"]
    assert r["default_out"].endswith("proj_exports/Export_Test_video.edl")
    _not_blank(r["dark"])

    # EDL written through the dialog (real click on Export).
    edl = dest / "cut.edl"
    assert r["edl_result"] == str(edl)
    text = r["edl_text_first"]
    assert text.startswith("TITLE: Export Test")
    assert [ln.split("CLIP NAME:")[1].strip() for ln in text.splitlines() if "CLIP NAME:" in ln] == \
        ["OPEN", "WALK", "TALK", "EMPTY", "END"]
    assert "004  BL " in text                     # the gap is black
    assert f"/proj/media/1/video_{numbers[0]:02d}.mp4" in text
    assert r["edl_status"] == f"Wrote {edl}" and r["open_button_shown"]
    assert r["edl_toast"].startswith("exported cut.edl")
    assert not r["replace_job_without_asking"] and r["replace_dialog"] == "Replace the file?" and r["replaced"]
    handoff = dest / "handoff"
    assert (handoff / "aimms_export_manifest.csv").is_file()
    assert handoff.resolve().as_uri() in edl.read_text()     # the EDL now points at the copies

    # PDF: its own options shown (and the editor's handoff row hidden), title cards in the preview.
    assert r["pdf_rows_shown"] == {"editor": False, "animatic": False, "pdf": True, "html": False}
    assert [row[4] for row in r["pdf_rows"]] == ["video", "video", "video", "title", "video"]
    pdf = dest / "boards.pdf"
    assert r["pdf_result"] == str(pdf) and pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+2$", info, re.M)          # 5 boards at 2 x 2
    w, h = (float(x) for x in re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups())
    assert h > w                                  # portrait
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    for name in ("OPEN", "WALK", "TALK", "EMPTY", "END", "open prompt take 2"):
        assert name in words
    _not_blank(r["pdf_dark"])
    _not_blank(r["pdf_light"])

    # Image storyboard preview: one still per shot (EMPTY has one too), TALK held 3.3 s for its words.
    assert [row[4] for row in r["image_rows"]] == ["image"] * 5
    assert r["image_rows"][2][6] == "3.29 s (79 f)"
    # HTML: a folder with index.html that names the shots.
    # the typed boards.pdf becomes the folder boards/ when the format writes a folder
    assert r["html_default_out"] == str(dest / "boards")
    index = dest / "review" / "index.html"
    assert r["html_result"] == str(dest / "review") and "WALK" in index.read_text(encoding="utf-8")

    # Animatic cancelled once frames were being written: no file, no partial file.
    assert r["animatic_started"] and r["progress_before_cancel"][0] > 0
    assert r["animatic_cancelled"] and not r["animatic_exists"] and r["animatic_leftovers"] == []
    assert "cancelled" in r["cancel_toast"] and not r["result_after_cancel"]


def _edited_otio(root, tmp_path, built):
    import opentimelineio as otio
    from aimms_fast.export import ExportOptions, export
    from aimms_fast.project import Project
    from tests.test_reimport import edit_otio_timeline
    with Project.open(root) as p:
        # Ids are the same in the copy: the fixture's take ids name the same rows.
        res = export(p, "otio", tmp_path / "cut.otio", ExportOptions(missing="skip"))
        tl = edit_otio_timeline(otio.adapters.read_from_file(str(res.path)), p, built)
    edited = tmp_path / "edits" / "edited.otio"
    shutil.copy(res.path, tmp_path / "plain.otio")
    edited.parent.mkdir()
    otio.adapters.write_to_file(tl, str(edited))
    return edited


def test_edit_import_dialog_reject_then_apply(proj, built, tmp_path):
    edited = _edited_otio(proj, tmp_path, built)
    v = built.video_takes
    end1, end2, open2 = _take_numbers(proj, [v["END"][0], v["END"][1], v["OPEN"][1]])
    r = run_scenario("edit_import_dialog", tmp_path, project=proj,
                     args={"edited": str(edited), "plain": str(tmp_path / "plain.otio")})
    assert r["errors"] == []
    # Exactly the three changes of the edit: the swap (two moves of one reorder), the take, the trim.
    assert r["lines"] == [
        ["order", "END: moves from #5 to #2"],
        ["order", "WALK: moves from #2 to #5"],
        ["take", f"END: take {end1} -> take {end2}"],
        ["trim", f"OPEN take {open2}: in/out 0.000-1.500 s -> 0.250-1.250 s (1.00 s)"],
    ]
    texts = r["texts"]
    assert texts[0] == "edited.otio: 4 clips read (otio_json, video storyboard, 24 fps): 3 proposed changes"
    for line in ("END: moves from #5 to #2", f"END: take {end1} -> take {end2}", "Shot order (2)",
                 "Takes (star moves to another take) (1)", "In/out points (1)"):
        assert line in texts
    assert "Apply 3 changes" in r["buttons"] and "Reject" in r["buttons"]
    _not_blank(r["dark"])
    _not_blank(r["light"])
    assert r["closed_after_reject"] and r["unchanged_after_reject"]
    assert r["bad_no_dialog"] and "cannot read this timeline" in r["bad_error"] and "broken.xml" in r["bad_error"]
    assert r["plain_texts"][0].endswith("it matches the project, nothing to change")
    assert r["plain_buttons"] == ["Close"]
    assert r["second_is_new"]
    assert r["applied"] == {"order": 2, "stars": 1, "trims": 1}
    assert r["changed_after_apply"]
    assert r["order_after"] == ["OPEN", "END", "TALK", "EMPTY", "WALK"]
    assert r["trims_after"] == [[built.video_takes["OPEN"][1], 0.25, 1.25]]
    assert r["toast"].startswith("applied the edit: 2 shot(s) moved, 1 take(s) starred, 1 in/out change(s)")
    assert r["undo_label"]   # the star change is on the undo stack
    # Two Ctrl+Z: the star change, then the reorder, are taken back; the trim is not on the stack.
    assert r["undo_restores_order_and_stars"]
    assert r["trims_after_undo"] == r["trims_after"]
