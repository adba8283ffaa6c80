"""PDF boards: the cut as printed storyboard pages (reportlab).

rows x columns boards per page on A4 or Letter, portrait or landscape. Every page has a header
(project name, shots, boards with a picture, running time, sections, date, page n/N); every
board its picture (the starred still, or the video's poster: the first keyframe that is not blank,
via media/posters.py) letterboxed in a 16:9 box, then shot number and name, section, description,
dialogue and, when asked, the prompt. Text is DejaVu Sans embedded as a subset (export/fonts.py),
so Greek, Cyrillic, Hebrew, Arabic and accented Latin names print as text and stay searchable.

Cost choices: posters are decoded at print size (about 150 dpi for the picture box, never above
`poster_px`) and handed to reportlab as JPEG bytes, which it embeds as they are (DCTDecode)
instead of recompressing raw pixels with zlib. The same file on several boards is decoded once.
Text is wrapped with `simpleSplit` and drawn line by line (Paragraph layout costs ~10x more and
cannot clip to a box).

Threads: any thread but the UI's; `progress(done, total)` per board, `cancel` polled per board.
The PDF is written to a temp name and renamed, so a cancelled run leaves nothing.
"""
from __future__ import annotations

import io
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from aimms_fast.export import register
from aimms_fast.errors import AimmsError

if TYPE_CHECKING:
    from aimms_fast.export import ExportResult

PAPERS = ("A4", "Letter")
ORIENTATIONS = ("portrait", "landscape")
MARGIN = 28.0          # points (~10 mm)
HEADER_H = 34.0
GUTTER = 12.0
PICTURE_ASPECT = 16 / 9
JPEG_QUALITY = 85

Progress = Callable[[int, int], None] | None


@dataclass
class BoardsResult:
    path: Path
    pages: int
    boards: int
    with_picture: int
    render_s: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BoardLayout:
    """Where things go on a page, in PDF points (origin bottom left). Tests read it too."""
    page_w: float
    page_h: float
    rows: int
    columns: int
    text_lines: int

    @property
    def per_page(self) -> int:
        return self.rows * self.columns

    @property
    def cell_w(self) -> float:
        return (self.page_w - 2 * MARGIN - (self.columns - 1) * GUTTER) / self.columns

    @property
    def cell_h(self) -> float:
        return (self.page_h - 2 * MARGIN - HEADER_H - (self.rows - 1) * GUTTER) / self.rows

    def font_size(self) -> float:
        return max(5.5, min(9.0, self.cell_w / 30))

    def cell(self, slot: int) -> tuple[float, float, float, float]:
        """(x, y, w, h) of board `slot` (0-based, row-major from the top left)."""
        r, c = divmod(slot, self.columns)
        x = MARGIN + c * (self.cell_w + GUTTER)
        top = self.page_h - MARGIN - HEADER_H - r * (self.cell_h + GUTTER)
        return x, top - self.cell_h, self.cell_w, self.cell_h

    def picture_box(self, slot: int) -> tuple[float, float, float, float]:
        """The 16:9 picture box at the top of the cell, shrunk if the text needs the room."""
        x, y, w, h = self.cell(slot)
        text_h = self.text_lines * self.font_size() * 1.25 + 4
        ph = min(w / PICTURE_ASPECT, max(h * 0.35, h - text_h))
        pw = ph * PICTURE_ASPECT
        return x + (w - pw) / 2, y + h - ph, pw, ph


def page_size(paper: str, orientation: str) -> tuple[float, float]:
    from reportlab.lib.pagesizes import A4, letter, landscape, portrait
    p = {"a4": A4, "letter": letter}.get(str(paper).lower())
    if p is None:
        raise AimmsError(f"paper must be one of {', '.join(PAPERS)} (got {paper!r})", field="paper")
    if orientation not in ORIENTATIONS:
        raise AimmsError(f"orientation must be one of {', '.join(ORIENTATIONS)} (got {orientation!r})",
                         field="orientation")
    return landscape(p) if orientation == "landscape" else portrait(p)


def _register_fonts() -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from aimms_fast.export.fonts import font_path
    names = ("AimmsDejaVuSans", "AimmsDejaVuSans-Bold")
    if names[0] not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(names[0], str(font_path(False))))
        pdfmetrics.registerFont(TTFont(names[1], str(font_path(True))))
    return names


# -- pictures ------------------------------------------------------------------------------------

def poster_jpeg(path: Path, kind: str, max_px: tuple[int, int]) -> tuple[bytes, tuple[int, int]] | str:
    """(JPEG bytes, (w, h)) of a still or a video poster fitted into max_px, or a reason string
    when the file cannot be read (never raises for bad media)."""
    import numpy as np
    from PIL import Image
    if kind == "video":
        from aimms_fast.media.posters import extract_tiles
        th = extract_tiles(path, strip_frames=0, poster_size=max_px)
        if th.state != "ready" or th.poster is None:
            return th.reason or th.state
        x, y, w, h = th.poster_rect
        im = Image.fromarray(np.ascontiguousarray(th.poster[y:y + h, x:x + w, :3]))
    else:
        from PIL import ImageOps
        try:
            with Image.open(path) as src:
                src.draft("RGB", max_px)
                src = ImageOps.exif_transpose(src) or src
                if "A" in src.getbands() or (src.mode == "P" and "transparency" in src.info):
                    rgba = src.convert("RGBA")
                    im = Image.new("RGB", rgba.size, (255, 255, 255))
                    im.paste(rgba, mask=rgba.getchannel("A"))
                else:
                    im = src.convert("RGB")
                im.thumbnail(max_px, Image.Resampling.BILINEAR, reducing_gap=2.0)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            from aimms_fast.media.posters import failure_reason
            return failure_reason(e)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue(), im.size


# -- text ----------------------------------------------------------------------------------------

def _lines(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    from reportlab.lib.utils import simpleSplit
    if max_lines <= 0 or not text:
        return []
    out: list[str] = []
    for para in str(text).replace("\r", "").split("\n"):
        out += simpleSplit(para, font, size, width) or [""]
        if len(out) > max_lines:
            break
    if len(out) > max_lines:
        from reportlab.pdfbase.pdfmetrics import stringWidth
        last = out[max_lines - 1]
        while last and stringWidth(last + "\u2026", font, size) > width:
            last = last[:-1]
        out = out[:max_lines - 1] + [last + "\u2026"]
    return out


def _fmt_time(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# -- the document --------------------------------------------------------------------------------

def render_boards_pdf(cut, out: str | Path, *, rows: int = 3, columns: int = 3, paper: str = "A4",
                      orientation: str = "landscape", prompts: bool = False, title: str | None = None,
                      poster_px: int = 640, progress: Progress = None,
                      cancel: threading.Event | None = None) -> BoardsResult:
    """Write the boards of `cut` (export.timeline.Cut) to the PDF `out`. See the module doc."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as rl_canvas

    t0 = time.perf_counter()
    out = Path(out)
    if not (1 <= int(rows) <= 12 and 1 <= int(columns) <= 12):
        raise AimmsError(f"rows and columns must be 1..12 (got {rows} x {columns})", field="rows")
    pw, ph = page_size(paper, orientation)
    text_lines = 5 + (2 if prompts else 0)
    lay = BoardLayout(pw, ph, int(rows), int(columns), text_lines)
    font, bold = _register_fonts()
    boards = list(cut.clips)
    n_pages = max(1, -(-len(boards) // lay.per_page))
    title = title or cut.project_name or "Storyboard"
    with_media = sum(1 for c in boards if c.kind in ("video", "image"))
    sections = len({c.section for c in boards if c.section})
    stats = (f"{len(boards)} shots \u00b7 {with_media} with a picture \u00b7 {_fmt_time(cut.total_s)} \u00b7 "
             f"{sections} section{'s' if sections != 1 else ''} \u00b7 {getattr(cut, 'storyboard', 'video')} "
             f"storyboard \u00b7 {datetime.now().strftime('%Y-%m-%d')}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AimmsError(f"cannot create the output folder ({e.strerror or e})", path=out.parent) from e
    tmp = out.with_name(out.name + ".partial")
    c = rl_canvas.Canvas(str(tmp), pagesize=(pw, ph), pageCompression=1)
    c.setTitle(title)
    c.setCreator("aimms_fast")
    _, _, bw, bh = lay.picture_box(0)
    # ~150 dpi for the box, capped: enough for print, small enough to decode 600 posters quickly.
    max_px = (min(poster_px, int(bw / 72 * 150)), min(int(poster_px / PICTURE_ASPECT), int(bh / 72 * 150)))
    cache: dict[Path, tuple | str] = {}
    notes: list[str] = []
    pictures = 0
    fs = lay.font_size()
    try:
        for i, clip in enumerate(boards):
            if cancel is not None and cancel.is_set():
                raise AimmsError("cancelled", path=out, hint="the PDF was stopped; no file was written")
            slot = i % lay.per_page
            if slot == 0:
                if i:
                    c.showPage()
                _header(c, lay, title, stats, i // lay.per_page + 1, n_pages, font, bold)
            x, y, w, h = lay.picture_box(slot)
            c.setFillColorRGB(0.93, 0.93, 0.93)
            c.rect(x, y, w, h, stroke=0, fill=1)
            pic = None
            if clip.kind in ("video", "image") and clip.path is not None:
                if clip.path not in cache:
                    cache[clip.path] = poster_jpeg(clip.path, clip.kind, max_px)
                pic = cache[clip.path]
                if isinstance(pic, str):
                    notes.append(f"shot {clip.shot_name!r}: no picture ({pic})")
                    pic = None
            if pic is not None:
                data, (iw, ih) = pic
                s = min(w / iw, h / ih)
                dw, dh = iw * s, ih * s
                c.drawImage(ImageReader(io.BytesIO(data)), x + (w - dw) / 2, y + (h - dh) / 2, dw, dh)
                pictures += 1
            else:
                c.setFillColorRGB(0.45, 0.45, 0.45)
                c.setFont(font, fs)
                msg = clip.reason or ("no take" if clip.kind in ("gap", "title") else "picture unavailable")
                for k, line in enumerate(_lines(msg, font, fs, w - 8, 3)):
                    c.drawCentredString(x + w / 2, y + h / 2 + fs * (0.5 - k * 1.3), line)
            c.setStrokeColorRGB(0.6, 0.6, 0.6)
            c.setLineWidth(0.5)
            c.rect(x, y, w, h, stroke=1, fill=0)
            _board_text(c, lay, slot, clip, i, prompts, font, bold)
            if progress:
                progress(i + 1, len(boards))
        if not boards:
            _header(c, lay, title, stats, 1, 1, font, bold)
        c.save()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BoardsResult(path=out, pages=n_pages, boards=len(boards), with_picture=pictures,
                        render_s=time.perf_counter() - t0, notes=notes)


def _header(c, lay: BoardLayout, title: str, stats: str, page: int, pages: int, font: str, bold: str) -> None:
    top = lay.page_h - MARGIN
    c.setFillColorRGB(0.1, 0.1, 0.1)
    c.setFont(bold, 14)
    c.drawString(MARGIN, top - 14, title)
    c.setFont(font, 8)
    c.setFillColorRGB(0.35, 0.35, 0.35)
    c.drawString(MARGIN, top - 27, stats)
    c.drawRightString(lay.page_w - MARGIN, top - 14, f"page {page}/{pages}")
    c.setStrokeColorRGB(0.75, 0.75, 0.75)
    c.setLineWidth(0.6)
    c.line(MARGIN, top - HEADER_H + 4, lay.page_w - MARGIN, top - HEADER_H + 4)


def _board_text(c, lay: BoardLayout, slot: int, clip, index: int, prompts: bool, font: str, bold: str) -> None:
    x, y, w, _ = lay.cell(slot)
    _, py, _, _ = lay.picture_box(slot)
    fs = lay.font_size()
    lead = fs * 1.25
    budget = int((py - y - 3) // lead)
    cy = py - 3 - fs
    number = clip.order_number if getattr(clip, "order_number", None) is not None else index + 1
    meta = clip.metadata or {}
    blocks = [(f"{number}. {clip.shot_name or ''}", bold, (0.05, 0.05, 0.05), 1)]
    if clip.section:
        blocks.append((clip.section, font, (0.4, 0.4, 0.4), 1))
    if meta.get("description"):
        blocks.append((meta["description"], font, (0.1, 0.1, 0.1), 3))
    if meta.get("dialogue"):
        blocks.append(("\u201c" + meta["dialogue"] + "\u201d", font, (0.15, 0.15, 0.35), 2))
    if prompts and meta.get("prompt"):
        blocks.append(("Prompt: " + meta["prompt"], font, (0.4, 0.4, 0.4), 3))
    for text, f, rgb, most in blocks:
        if budget <= 0:
            break
        lines = _lines(text, f, fs, w, min(most, budget))
        c.setFont(f, fs)
        c.setFillColorRGB(*rgb)
        for line in lines:
            c.drawString(x, cy, line)
            cy -= lead
        budget -= len(lines)


# -- FORMATS registration ----------------------------------------------------------------------

def write_boards_pdf(project, cut, out: Path, options) -> "ExportResult":
    """FORMATS writer: options.extra may hold rows, columns, paper, orientation, prompts, title."""
    from aimms_fast.export import ExportResult
    ex = options.extra or {}
    out = Path(out)
    if not out.suffix:
        out = out.with_suffix(".pdf")
    r = render_boards_pdf(cut, out, rows=int(ex.get("rows", 3)), columns=int(ex.get("columns", 3)),
                          paper=str(ex.get("paper", "A4")), orientation=str(ex.get("orientation", "landscape")),
                          prompts=bool(ex.get("prompts", False)), title=ex.get("title"),
                          progress=options.progress, cancel=options.cancel)
    notes = list(getattr(cut, "report", []) or []) + r.notes
    notes.append(f"{r.boards} boards on {r.pages} page(s), {r.with_picture} with a picture, "
                 f"{r.render_s:.1f} s")
    return ExportResult(path=r.path, format="pdf", clips=r.boards, notes=notes)


register("pdf", write_boards_pdf, suffix=".pdf",
         description="storyboard pages: rows x columns boards with picture, name, section, text")
