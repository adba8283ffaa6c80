"""The HTML review page: one self-contained folder a client opens from disk in any browser.

    out/index.html        the page: CSS, JavaScript and the shot data inline (no server, no CDN)
    out/posters/NNN.jpg   one poster per board
    out/media/NNN_*.mp4   the starred take of each shot: the file itself when browsers play it
                          (H.264/VP8/VP9/AV1 in MP4/WebM, 4:2:0, at most `max_side` pixels), else a
                          small H.264/AAC proxy made with PyAV (the animatic renderer, one clip long)
    out/.aimms_review     marks the folder as ours, so a later export may replace it

The page shows the storyboard grid; a click opens the shot with its take playing (a trimmed take
plays its in..out range through a media fragment `#t=in,out`), its prompt, negative, seed, model,
LoRAs, description, dialogue and notes; ←/→ step between shots, Esc closes, Enter opens.
It requests nothing outside the folder.

Threads: any thread but the UI's; `progress(done, total)` per board, `cancel` polled per board and
per proxy frame. The folder is built under a temp name and renamed into place at the end.
"""
from __future__ import annotations

import dataclasses
import html
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from aimms_fast.export import register
from aimms_fast.errors import AimmsError

if TYPE_CHECKING:
    from aimms_fast.export import ExportResult

MARKER = ".aimms_review"
POSTER_PX = (480, 270)
BROWSER_CODECS = {"h264", "vp8", "vp9", "av1"}
BROWSER_CONTAINERS = {".mp4", ".m4v", ".webm"}
BROWSER_PIX = {"yuv420p", "yuvj420p"}
BROWSER_IMAGES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}

Progress = Callable[[int, int], None] | None


@dataclass
class ReviewResult:
    path: Path                 # the folder; open path / "index.html"
    boards: int
    copied: int                # media files copied as they are
    proxies: int               # media files re-encoded for browsers
    render_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.path / "index.html"


def browser_playable(path: Path, max_side: int) -> tuple[bool, str]:
    """(True, '') when browsers play the file as it is, else (False, why a proxy is made)."""
    import av
    if path.suffix.lower() not in BROWSER_CONTAINERS:
        return False, f"{path.suffix or 'no extension'} is not a browser container"
    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            if not c.streams.video:
                return False, "no video stream"
            v = c.streams.video[0]
            name, pix = v.codec_context.name, v.codec_context.pix_fmt
            if name not in BROWSER_CODECS:
                return False, f"codec {name} does not play in browsers"
            if pix not in BROWSER_PIX:
                return False, f"pixel format {pix} does not play everywhere"
            if max(v.width, v.height) > max_side:
                return False, f"{v.width}x{v.height} is larger than {max_side} px"
            for a in c.streams.audio:
                if a.codec_context.name not in ("aac", "mp3", "opus", "vorbis"):
                    return False, f"audio codec {a.codec_context.name} does not play in browsers"
    except (av.FFmpegError, OSError) as e:
        return False, f"cannot read it ({e})"
    return True, ""


def _proxy(clip, dest: Path, max_side: int, cancel) -> None:
    """A one-clip H.264/AAC proxy of the whole file (so the page's in/out fragment still applies)."""
    from aimms_fast.export.animatic import render_animatic, _even
    from aimms_fast.export.timeline import Cut
    w, h = clip.width or 1280, clip.height or 720
    s = min(1.0, max_side / max(w, h))
    whole = clip.file_duration_s or (clip.source_in_s + clip.duration_s)
    one = dataclasses.replace(clip, source_in_s=0.0, duration_s=whole)
    cut = Cut(project_name="", fps=clip.fps or 24.0, clips=[one], sections=[], total_s=whole)
    render_animatic(cut, dest, size=(_even(w * s), _even(h * s)), fps=clip.fps or 24.0, cancel=cancel)


def _safe(name: str) -> str:
    from aimms_fast.ops.backup import safe_filename
    return safe_filename(name, "shot", max_len=48)


def render_review_html(cut, out: str | Path, *, proxies: str = "auto", max_side: int = 1280,
                       prompts: bool = True, title: str | None = None, take_notes: dict | None = None,
                       progress: Progress = None, cancel: threading.Event | None = None) -> ReviewResult:
    """Write the review folder for `cut` (export.timeline.Cut) to `out`.

    proxies: 'auto' (copy what browsers play, proxy the rest), 'always', or 'never' (copy as is).
    `out` must be missing, empty, or a folder an earlier review export wrote (it is replaced).
    take_notes: take id -> (notes, rating) shown with the shot (the FORMATS writer reads them from
    the project; the cut itself carries generation metadata only).
    """
    from aimms_fast.export.boards_pdf import poster_jpeg
    from aimms_fast.ops.files import copy_into
    t0 = time.perf_counter()
    out = Path(out)
    if proxies not in ("auto", "always", "never"):
        raise AimmsError(f"proxies must be auto, always or never (got {proxies!r})", field="proxies")
    if out.exists():
        if not out.is_dir():
            raise AimmsError("the review export needs a folder, but a file has this name", path=out,
                             hint="choose a new folder name")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise AimmsError("the folder is not empty and was not written by a review export", path=out,
                             hint="choose an empty or new folder; nothing was changed")
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    notes: list[str] = []
    copied = proxied = 0
    shots = []
    try:
        (tmp / "posters").mkdir(parents=True)
        (tmp / "media").mkdir()
        done_media: dict[Path, str] = {}
        for i, clip in enumerate(cut.clips):
            if cancel is not None and cancel.is_set():
                raise AimmsError("cancelled", path=out, hint="the review export was stopped; nothing was written")
            number = clip.order_number if clip.order_number is not None else i + 1
            stem = f"{i + 1:03d}_{_safe(clip.shot_name)}"
            meta = clip.metadata or {}
            item = {"n": number, "name": clip.shot_name or "", "section": clip.section or "",
                    "kind": clip.kind, "duration": round(clip.duration_s, 3), "poster": None, "media": None,
                    "reason": clip.reason or "", "description": meta.get("description") or "",
                    "dialogue": meta.get("dialogue") or "", "notes": meta.get("notes") or "",
                    "rating": "", "take": clip.take_number}
            tn = (take_notes or {}).get(clip.take_id)
            if tn:
                item["notes"] = item["notes"] or (tn[0] or "")
                item["rating"] = "\u2605" * int(tn[1] or 0)
            if prompts:
                loras = meta.get("loras") or []
                item.update(prompt=meta.get("prompt") or "", negative=meta.get("negative") or "",
                            seed=str(meta.get("seed") or ""), model=meta.get("model") or "",
                            loras=", ".join(str(x if not isinstance(x, dict) else x.get("name", x)) for x in loras))
            if clip.kind in ("video", "image") and clip.path is not None:
                pj = poster_jpeg(clip.path, clip.kind, POSTER_PX)
                if isinstance(pj, str):
                    notes.append(f"shot {clip.shot_name!r}: no poster ({pj})")
                else:
                    (tmp / "posters" / f"{stem}.jpg").write_bytes(pj[0])
                    item["poster"] = f"posters/{stem}.jpg"
                rel = done_media.get(clip.path)
                if rel is None and item["poster"] is not None:
                    rel, how = _place_media(clip, tmp, stem, proxies, max_side, cancel, copy_into)
                    if how == "copied":
                        copied += 1
                    elif how.startswith("proxy"):
                        proxied += 1
                        notes.append(f"shot {clip.shot_name!r}: browser proxy made ({how[6:]})")
                    done_media[clip.path] = rel
                if rel:
                    item["media"] = rel
                    if clip.kind == "video":
                        whole = clip.file_duration_s
                        if clip.source_in_s > 0 or (whole and clip.duration_s < whole - 0.05):
                            item["media"] += f"#t={clip.source_in_s:.3f},{clip.source_in_s + clip.duration_s:.3f}"
            shots.append(item)
            if progress:
                progress(i + 1, len(cut.clips))
        page = _page(title or cut.project_name or "Storyboard", cut, shots)
        (tmp / "index.html").write_text(page, encoding="utf-8")
        (tmp / MARKER).write_text("written by aimms_fast review export; the folder is replaced on re-export\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReviewResult(path=out, boards=len(shots), copied=copied, proxies=proxied,
                        render_s=time.perf_counter() - t0, notes=notes)


def _place_media(clip, tmp: Path, stem: str, proxies: str, max_side: int, cancel, copy_into) -> tuple[str, str]:
    if clip.kind == "image":
        if clip.path.suffix.lower() in BROWSER_IMAGES:
            name = f"{stem}{clip.path.suffix.lower()}"
            copy_into(clip.path, tmp / "media" / name)
            return f"media/{name}", "copied"
        return "", "poster only"   # e.g. TIFF: the poster (a JPEG) stands for it
    ok, why = (False, "always") if proxies == "always" else browser_playable(clip.path, max_side)
    if ok or proxies == "never":
        name = f"{stem}{clip.path.suffix.lower()}"
        copy_into(clip.path, tmp / "media" / name)
        return f"media/{name}", "copied"
    name = f"{stem}.mp4"
    _proxy(clip, tmp / "media" / name, max_side, cancel)
    return f"media/{name}", f"proxy {why}"


def _page(title: str, cut, shots: list[dict]) -> str:
    data = json.dumps({"title": title, "fps": cut.fps, "total": round(cut.total_s, 2), "shots": shots},
                      ensure_ascii=False).replace("</", "<\\/")
    return (_TEMPLATE.replace("%TITLE%", html.escape(title))
            .replace("%DATA%", data).replace("%CSS%", _CSS).replace("%JS%", _JS))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self' 'unsafe-inline' data: blob:">
<title>%TITLE%</title>
<style>%CSS%</style></head>
<body>
<header><h1>%TITLE%</h1><p id="stats"></p><p class="help">Click a board to play it · ← → next/previous · Esc closes</p></header>
<main id="grid"></main>
<div id="viewer" hidden>
  <div class="stage" id="stage"></div>
  <aside id="info"></aside>
  <button id="close" title="Close (Esc)">×</button>
  <button id="prev" title="Previous (←)">‹</button><button id="next" title="Next (→)">›</button>
</div>
<script id="data" type="application/json">%DATA%</script>
<script>%JS%</script>
</body></html>
"""

_CSS = """
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;
background:#16171a;color:#e6e6e6}header{padding:16px 24px 4px}h1{margin:0;font-size:22px}
#stats,.help{margin:4px 0;color:#9a9ca3}.help{font-size:12px}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:16px;padding:16px 24px}
.card{background:#23252a;border-radius:6px;overflow:hidden;cursor:pointer;border:2px solid transparent}
.card:hover,.card.sel{border-color:#e0b84a}.card .pic{aspect-ratio:16/9;background:#0c0c0d;display:flex;
align-items:center;justify-content:center;color:#777}.card img{width:100%;height:100%;object-fit:contain;display:block}
.card .t{padding:6px 10px}.card .n{font-weight:600}.card .s{color:#9a9ca3;font-size:12px}
.sec{grid-column:1/-1;margin:8px 0 -6px;color:#e0b84a;font-weight:600;font-size:15px}
#viewer{position:fixed;inset:0;background:rgba(8,8,10,.96);display:grid;grid-template-columns:1fr 340px}
#viewer[hidden]{display:none}.stage{display:flex;align-items:center;justify-content:center;padding:24px}
.stage video,.stage img{width:100%;max-height:calc(100vh - 48px);object-fit:contain;background:#000}
#info{padding:48px 20px 20px;overflow:auto;background:#1d1f23}#info h2{margin:0 0 4px;font-size:18px}
#info dt{color:#9a9ca3;font-size:12px;margin-top:10px}#info dd{margin:2px 0 0;white-space:pre-wrap;word-break:break-word}
#viewer button{position:absolute;background:#2c2f35;color:#eee;border:0;border-radius:4px;font-size:24px;
width:40px;height:40px;cursor:pointer}#close{top:8px;right:8px}#prev{left:8px;top:50%}#next{right:352px;top:50%}
.missing{padding:40px;color:#999;text-align:center}
"""

_JS = r"""
(function(){
const D = JSON.parse(document.getElementById('data').textContent);
const grid = document.getElementById('grid'), viewer = document.getElementById('viewer');
const stage = document.getElementById('stage'), info = document.getElementById('info');
let cur = 0;
const fmt = s => { s = Math.round(s); return Math.floor(s/60) + ':' + String(s%60).padStart(2,'0'); };
const withPic = D.shots.filter(s => s.poster).length;
document.getElementById('stats').textContent =
  D.shots.length + ' shots · ' + withPic + ' with a take · ' + fmt(D.total);
function el(tag, cls, text){ const e = document.createElement(tag); if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text; return e; }
let lastSec = null;
D.shots.forEach((s, i) => {
  if (s.section && s.section !== lastSec) { grid.appendChild(el('div', 'sec', s.section)); lastSec = s.section; }
  const c = el('div', 'card'); c.dataset.i = i; c.tabIndex = 0;
  const p = el('div', 'pic');
  if (s.poster) { const im = el('img'); im.src = s.poster; im.alt = s.name; p.appendChild(im); }
  else p.textContent = s.reason || 'no take';
  const t = el('div', 't'); t.appendChild(el('div', 'n', s.n + '. ' + s.name));
  t.appendChild(el('div', 's', (s.section ? s.section + ' · ' : '') + s.duration.toFixed(1) + ' s'));
  c.appendChild(p); c.appendChild(t);
  c.addEventListener('click', () => open(i));
  grid.appendChild(c);
});
function select(i){ document.querySelectorAll('.card.sel').forEach(c => c.classList.remove('sel'));
  const c = grid.querySelector('.card[data-i="' + i + '"]'); if (c) { c.classList.add('sel'); c.scrollIntoView({block:'nearest'}); } }
function open(i){
  cur = Math.max(0, Math.min(D.shots.length - 1, i)); const s = D.shots[cur]; select(cur);
  stage.innerHTML = ''; info.innerHTML = '';
  if (s.media && s.kind === 'video') {
    const v = el('video'); v.controls = true; v.playsInline = true; v.src = s.media;
    if (s.poster) v.poster = s.poster; stage.appendChild(v);
    const p = v.play(); if (p && p.catch) p.catch(() => {});
  } else if (s.media || s.poster) { const im = el('img'); im.src = s.media || s.poster; stage.appendChild(im); }
  else stage.appendChild(el('div', 'missing', s.reason || 'no take'));
  info.appendChild(el('h2', '', s.n + '. ' + s.name));
  const dl = el('dl');
  [['Section', s.section], ['Take', s.take], ['Duration', s.duration ? s.duration.toFixed(2) + ' s' : ''],
   ['Rating', s.rating], ['Description', s.description], ['Dialogue', s.dialogue], ['Notes', s.notes], ['Prompt', s.prompt],
   ['Negative prompt', s.negative], ['Seed', s.seed], ['Model', s.model], ['LoRAs', s.loras]]
    .forEach(([k, v]) => { if (v !== undefined && v !== null && v !== '') { dl.appendChild(el('dt', '', k)); dl.appendChild(el('dd', '', String(v))); } });
  info.appendChild(dl);
  viewer.hidden = false; document.body.dataset.shot = String(cur);
}
function close(){ stage.querySelectorAll('video').forEach(v => v.pause()); stage.innerHTML = ''; viewer.hidden = true; }
document.getElementById('close').onclick = close;
document.getElementById('prev').onclick = () => open(cur - 1);
document.getElementById('next').onclick = () => open(cur + 1);
document.addEventListener('keydown', e => {
  if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
    const n = cur + (e.key === 'ArrowRight' ? 1 : -1);
    if (viewer.hidden) { cur = Math.max(0, Math.min(D.shots.length - 1, n)); select(cur); } else open(n);
    e.preventDefault();
  } else if (e.key === 'Escape') close();
  else if (e.key === 'Enter' && viewer.hidden) open(cur);
});
})();
"""


# -- FORMATS registration ----------------------------------------------------------------------

def write_review_html(project, cut, out: Path, options) -> "ExportResult":
    """FORMATS writer (`out` is a folder): options.extra may hold proxies, max_side, prompts, title."""
    from aimms_fast.export import ExportResult
    from aimms_fast.store.takes import get_take
    ex = options.extra or {}
    notes_of = {}
    for c in cut.clips:
        t = get_take(project.conn, c.take_id) if c.take_id else None
        if t is not None and (t.notes or t.rating):
            notes_of[c.take_id] = (t.notes, t.rating)
    r = render_review_html(cut, out, proxies=str(ex.get("proxies", "auto")), max_side=int(ex.get("max_side", 1280)),
                           prompts=bool(ex.get("prompts", True)), title=ex.get("title"), take_notes=notes_of,
                           progress=options.progress, cancel=options.cancel)
    notes = list(getattr(cut, "report", []) or []) + r.notes
    notes.append(f"{r.boards} boards; {r.copied} file(s) copied, {r.proxies} proxy(ies); open {r.index}")
    files = sorted(p for p in r.path.rglob("*") if p.is_file())
    return ExportResult(path=r.path, format="html", clips=r.boards, notes=notes, files=files)


register("html", write_review_html, suffix="", folder=True,
         description="a self-contained review folder (index.html, posters, playable takes)")
