"""PDF boards read by real consumers: poppler's pdftoppm renders page 1 (the board pictures must be
at their boxes, in their colours) and pdftotext reads the text layer (shot names in several scripts)."""
from __future__ import annotations

import math
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aimms_fast.errors import AimmsError
from aimms_fast.export.boards_pdf import BoardLayout, page_size, render_boards_pdf
from aimms_fast.export.timeline import Cut, CutClip
from tests.test_export_animatic import make_clip, make_still

DPI = 100
COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220), (230, 220, 40), (200, 40, 200), (40, 200, 200)]
NAMES = ["Opening", "Ωμέγα", "Привет мир", "Café Åsa", "Ünïcödé", "Ящик"]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} not installed (apt-get install poppler-utils; tools/bootstrap.sh does it)")
    return path


def board(i: int, kind: str, path: Path | None, *, name: str, prompt="a red fox at dawn") -> CutClip:
    return CutClip(shot_id=i, shot_name=name, section="Act I" if i < 4 else "Act II", take_id=f"t{i}" if path else None,
                   rel=None, path=path, kind=kind, duration_s=2.0, fps=24.0, width=320, height=180,
                   has_audio=False, source_in_s=0.0,
                   metadata={"description": f"Board {i}: the camera pans across the valley.",
                             "dialogue": "Где мы?" if i == 2 else "", "prompt": f"{prompt} #{i}"},
                   order_number=i, reason=None if path else "no starred video take")


def make_boards(tmp_path: Path, n: int = 6) -> list[CutClip]:
    clips = []
    for i in range(n):
        rgb = COLOURS[i % len(COLOURS)]
        if i % 2 == 0:
            p = make_clip(tmp_path / f"v{i}.mp4", rgb, seconds=0.5, size=(320, 180))
            clips.append(board(i + 1, "video", p, name=NAMES[i % len(NAMES)]))
        else:
            p = make_still(tmp_path / f"s{i}.png", rgb, size=(320, 180))
            clips.append(board(i + 1, "image", p, name=NAMES[i % len(NAMES)]))
    return clips


def cut_of(clips) -> Cut:
    return Cut(project_name="Fox Film – Проект", fps=24.0, clips=clips, sections=[("Act I", 0.0)],
               total_s=2.0 * len(clips))


def render_page(pdf: Path, tmp_path: Path, page: int = 1) -> np.ndarray:
    prefix = tmp_path / f"page{page}"
    subprocess.run([need("pdftoppm"), "-r", str(DPI), "-f", str(page), "-l", str(page), "-png",
                    "-singlefile", str(pdf), str(prefix)], check=True, timeout=60)
    return np.asarray(Image.open(f"{prefix}.png").convert("RGB"))


def test_boards_pictures_and_text(tmp_path):
    (tmp_path / "media").mkdir()
    clips = make_boards(tmp_path / "media", 6) + [board(7, "gap", None, name="Missing shot")]
    out = tmp_path / "boards.pdf"
    seen = []
    r = render_boards_pdf(cut_of(clips), out, rows=2, columns=3, paper="A4", orientation="landscape",
                          prompts=True, progress=lambda d, t: seen.append(d))
    assert (r.pages, r.boards, r.with_picture) == (2, 7, 6)
    assert seen == list(range(1, 8))
    img = render_page(out, tmp_path)
    pw, ph = page_size("A4", "landscape")
    assert img.shape[:2] == (math.ceil(ph * DPI / 72), math.ceil(pw * DPI / 72))   # pdftoppm rounds up
    lay = BoardLayout(pw, ph, 2, 3, 7)
    for slot in range(6):
        x, y, w, h = lay.picture_box(slot)
        # The 16:9 picture fills its 16:9 box: sample the middle and near the corners.
        for fx, fy in ((0.5, 0.5), (0.1, 0.15), (0.9, 0.85)):
            px = img[round((ph - (y + h * fy)) * DPI / 72), round((x + w * fx) * DPI / 72)]
            assert all(abs(int(a) - int(b)) < 30 for a, b in zip(px, COLOURS[slot])), (slot, px)
    text = subprocess.run([need("pdftotext"), "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    for name in NAMES + ["Missing shot", "Fox Film – Проект", "Где мы?", "Prompt: a red fox at dawn #1",
                         "7 shots", "page 1/2", "no starred video take"]:
        assert name in text, name
    Image.fromarray(img).save(tmp_path / "page1.png")


def test_letter_portrait_without_prompts(tmp_path):
    clips = make_boards(tmp_path, 4)
    out = tmp_path / "b.pdf"
    render_boards_pdf(cut_of(clips), out, rows=4, columns=1, paper="Letter", orientation="portrait")
    img = render_page(out, tmp_path)
    pw, ph = page_size("Letter", "portrait")
    assert (pw, ph) == (612.0, 792.0)
    lay = BoardLayout(pw, ph, 4, 1, 5)
    for slot in range(4):
        x, y, w, h = lay.picture_box(slot)
        px = img[round((ph - (y + h / 2)) * DPI / 72), round((x + w / 2) * DPI / 72)]
        assert all(abs(int(a) - int(b)) < 30 for a, b in zip(px, COLOURS[slot])), (slot, px)
    text = subprocess.run([need("pdftotext"), str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Prompt:" not in text and "Opening" in text


def test_broken_media_is_a_note_and_bad_options_are_named(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    clips = [board(1, "video", bad, name="Broken")]
    r = render_boards_pdf(cut_of(clips), tmp_path / "b.pdf")
    assert r.with_picture == 0 and "Broken" in r.notes[0]
    with pytest.raises(AimmsError, match="paper"):
        render_boards_pdf(cut_of(clips), tmp_path / "c.pdf", paper="A3")
    stop = threading.Event()
    stop.set()
    with pytest.raises(AimmsError, match="cancelled"):
        render_boards_pdf(cut_of(clips), tmp_path / "d.pdf", cancel=stop)
    assert not (tmp_path / "d.pdf").exists() and not (tmp_path / "d.pdf.partial").exists()


def test_project_boards_through_formats(tmp_path):
    """The image storyboard of a real project through the registered 'pdf' writer: every shot's
    name, its prompt (from the file's generation metadata) and the header are in the text layer."""
    from aimms_fast import export as ex
    from aimms_fast.export.timeline import build_cut
    from aimms_fast.project import Project
    from tests.export_fixture import SHOTS, build_project
    built = build_project(tmp_path / "proj")
    with Project.open(built.root) as p:
        ex.load()
        cut = build_cut(p, storyboard="image")
        r = ex.FORMATS["pdf"](p, cut, tmp_path / "boards", ex.ExportOptions(
            storyboard="image", extra={"rows": "2", "columns": "3", "prompts": True, "paper": "Letter"}))
    assert r.path == tmp_path / "boards.pdf" and r.clips == len(SHOTS)
    text = subprocess.run([need("pdftotext"), str(r.path), "-"], capture_output=True, text=True, check=True).stdout
    for name, *_ in SHOTS:
        assert name in text
    assert "Export Test" in text and "open prompt take 1" in text
    img = render_page(r.path, tmp_path)
    pw, ph = page_size("Letter", "landscape")
    lay = BoardLayout(pw, ph, 2, 3, 7)
    x, y, w, h = lay.picture_box(0)
    board0 = img[round((ph - y - h) * DPI / 72) + 2:round((ph - y) * DPI / 72) - 2,
                 round(x * DPI / 72) + 2:round((x + w) * DPI / 72) - 2]
    assert board0.std() > 20           # the demo still (a scene), not an empty grey box
