"""The animatic: the cut rendered to one H.264/AAC MP4 with PyAV.

Every clip becomes exactly the frames between its cut points (cut points are rounded from the
running time, so the file lasts round(total * fps) frames and no clip is off by more than one frame):
videos are decoded from their source in point, conformed to the animatic's rate by nearest-frame
pick (drop/repeat) and held on their last frame if they end early; stills are held; gaps are black;
title cards show the shot's name and section. Everything is scaled to one size and letterboxed.
Each clip's audio is decoded, resampled to 48 kHz stereo and cut to the clip's length; clips
without audio get silence, so picture and sound stay in sync across every cut.

Cost choices: the picture stays in YUV 4:2:0 the whole way (decode -> swscale to the fitted size
-> paste into a black canvas -> x264), with one long-lived VideoReformatter per render (a fresh
swscale context per frame costs about twice as much). Burn-in (shot, section, timecode) is drawn
by Pillow on a small strip and blended into the canvas planes only where the strip lies. x264
runs `veryfast` with its own threads; demuxing reads video and audio of a clip in one pass.

Threads: `render_animatic` runs on the calling thread (CLI main thread or a UI job thread) and
never touches the UI; `progress(done, total)` is called from that thread, `cancel` is polled every
frame. A cancelled or failed render leaves no file behind (it writes to a temp name, then renames).
"""
from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import av
import numpy as np
from av.audio.resampler import AudioResampler
from av.video.reformatter import VideoReformatter

from aimms_fast.export import register
from aimms_fast.errors import AimmsError, MediaError

if TYPE_CHECKING:
    from aimms_fast.export import ExportResult

DEFAULT_SIZE = (1280, 720)
AUDIO_RATE = 48000
AUDIO_LAYOUT = "stereo"
PROGRESS_EVERY = 12          # frames between progress callbacks (a callback may redraw a bar)
BLACK_Y, GREY_UV = 16, 128   # limited-range black in BT.601 YUV

Progress = Callable[[int, int], None] | None


@dataclass
class AnimaticResult:
    path: Path
    frames: int
    duration_s: float
    size: tuple[int, int]
    fps: float
    clips: int
    audio_clips: int                      # clips whose own sound is in the file
    render_s: float                       # wall time of the render
    notes: list[str] = field(default_factory=list)

    @property
    def speed(self) -> float:
        """Seconds of animatic per second of rendering (> 1: faster than real time)."""
        return self.duration_s / self.render_s if self.render_s > 0 else 0.0


# -- geometry ---------------------------------------------------------------------------------

def _even(v: float) -> int:
    return max(2, int(round(v / 2.0)) * 2)


def choose_size(cut, size: tuple[int, int] | None = None) -> tuple[int, int]:
    """`size` if given, else the most common size of the cut's videos (then its stills), else
    1280x720; always even (4:2:0 needs it)."""
    if size is None:
        for kinds in (("video",), ("image",)):
            sizes = Counter((c.width, c.height) for c in cut.clips
                            if c.kind in kinds and c.width and c.height)
            if sizes:
                size = sizes.most_common(1)[0][0]
                break
        else:
            size = DEFAULT_SIZE
    return _even(size[0]), _even(size[1])


def fit_even(src_w: float, src_h: float, box_w: int, box_h: int) -> tuple[int, int, int, int]:
    """Largest even-sized rect of the source's aspect inside the box, centred on even offsets."""
    scale = min(box_w / max(src_w, 1e-9), box_h / max(src_h, 1e-9))
    w = min(box_w, _even(src_w * scale))
    h = min(box_h, _even(src_h * scale))
    return ((box_w - w) // 4) * 2, ((box_h - h) // 4) * 2, w, h


def cut_frames(cut, fps: float) -> list[tuple[int, int]]:
    """(first frame, frame count) of every clip: cut points rounded from the running time."""
    out, t = [], 0.0
    for c in cut.clips:
        a = round(t * fps)
        t += max(0.0, float(c.duration_s))
        out.append((a, round(t * fps) - a))
    return out


def timecode(frame: int, fps: float) -> str:
    """HH:MM:SS:FF at the nominal integer rate (non-drop)."""
    n = max(1, round(fps))
    s, f = divmod(frame, n)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{f:02d}"


# -- the canvas (one yuv420p frame in a flat buffer) -------------------------------------------

class _Canvas:
    def __init__(self, w: int, h: int):
        self.w, self.h = w, h
        self.buf = np.empty(w * h * 3 // 2, np.uint8)
        n = w * h
        self.y = self.buf[:n].reshape(h, w)
        self.u = self.buf[n:n + n // 4].reshape(h // 2, w // 2)
        self.v = self.buf[n + n // 4:].reshape(h // 2, w // 2)

    def clear(self) -> None:
        self.y[:] = BLACK_Y
        self.u[:] = GREY_UV
        self.v[:] = GREY_UV

    def paste(self, planes: tuple[np.ndarray, np.ndarray, np.ndarray], rect) -> None:
        x, y, w, h = rect
        py, pu, pv = planes
        self.y[y:y + h, x:x + w] = py[:h, :w]
        self.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = pu[:h // 2, :w // 2]
        self.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = pv[:h // 2, :w // 2]

    def frame(self, overlay=None) -> av.VideoFrame:
        buf = self.buf
        if overlay is not None:
            buf = buf.copy()
            _blend_overlay(buf, self.w, self.h, *overlay)
        return av.VideoFrame.from_ndarray(buf.reshape(-1, self.w), format="yuv420p")


def _planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a yuv420p frame's three planes (line padding cut off)."""
    out = []
    for p in frame.planes:
        a = np.frombuffer(p, np.uint8).reshape(-1, p.line_size)
        out.append(a[:p.height, :p.width])
    return tuple(out)


def _rgb_to_yuv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited range (swscale's default for these sizes): full-res Y, 2x2-averaged U, V."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0
    h, w = y.shape
    u = u[:h - h % 2, :w - w % 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    v = v[:h - h % 2, :w - w % 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return y, u, v


def _blend_overlay(buf: np.ndarray, w: int, h: int, x0: int, y0: int, rgba: np.ndarray) -> None:
    """Alpha-blend an RGBA strip (even size, even offsets) into a flat yuv420p buffer."""
    sh, sw = rgba.shape[:2]
    n = w * h
    Y = buf[:n].reshape(h, w)
    U = buf[n:n + n // 4].reshape(h // 2, w // 2)
    V = buf[n + n // 4:].reshape(h // 2, w // 2)
    a = rgba[..., 3].astype(np.float32) / 255.0
    oy, ou, ov = _rgb_to_yuv(rgba[..., :3])
    a2 = a.reshape(sh // 2, 2, sw // 2, 2).mean(axis=(1, 3))
    ys = Y[y0:y0 + sh, x0:x0 + sw]
    ys[:] = (ys * (1 - a) + oy * a + 0.5).astype(np.uint8)
    for P, o in ((U, ou), (V, ov)):
        ps = P[y0 // 2:(y0 + sh) // 2, x0 // 2:(x0 + sw) // 2]
        ps[:] = (ps * (1 - a2) + o * a2 + 0.5).astype(np.uint8)


# -- pictures for stills, title cards, burn-in -------------------------------------------------

def _image_planes(path: Path, W: int, H: int, reformatter: VideoReformatter):
    """(rect, planes) of a still fitted into W x H (EXIF orientation applied, alpha over black)."""
    from PIL import Image, ImageOps
    with Image.open(path) as im:
        im.draft("RGB", (W, H))          # JPEG: decode at a fraction of full size when it is large
        im = ImageOps.exif_transpose(im) or im
        if "A" in im.getbands() or (im.mode == "P" and "transparency" in im.info):
            bg = Image.new("RGB", im.size, (0, 0, 0))
            bg.paste(im.convert("RGBA"), mask=im.convert("RGBA").getchannel("A"))
            im = bg
        else:
            im = im.convert("RGB")
        rect = fit_even(im.width, im.height, W, H)
        im = im.resize((rect[2], rect[3]), Image.Resampling.BILINEAR, reducing_gap=2.0)
    f = reformatter.reformat(av.VideoFrame.from_image(im), format="yuv420p")
    return rect, _planes(f)


def _title_planes(clip, w: int, h: int, reformatter: VideoReformatter):
    from PIL import Image, ImageDraw
    from aimms_fast.export.fonts import pil_font
    im = Image.new("RGB", (w, h), (12, 12, 14))
    d = ImageDraw.Draw(im)
    big, small = pil_font(max(12, h // 12), bold=True), pil_font(max(10, h // 24))
    lines = [(clip.shot_name or f"shot {clip.shot_id}", big)]
    if clip.section:
        lines.append((clip.section, small))
    desc = (clip.metadata or {}).get("description") or ""
    if desc:
        lines.append((desc if len(desc) < 90 else desc[:87] + "...", small))
    y = h // 2 - sum(f.size + h // 40 for _, f in lines) // 2
    for text, font in lines:
        tw = d.textlength(text, font=font)
        d.text(((w - tw) / 2, y), text, font=font, fill=(235, 235, 235))
        y += font.size + h // 40
    f = reformatter.reformat(av.VideoFrame.from_image(im), format="yuv420p")
    return _planes(f)


class _BurnIn:
    """Shot / section on the left, timecode on the right, white on a dark strip at the bottom."""

    def __init__(self, w: int, h: int, fps: float):
        from aimms_fast.export.fonts import pil_font
        self.w, self.fps = w, fps
        self.sh = _even(max(18, h // 16))
        self.font = pil_font(max(9, self.sh * 2 // 3))
        self.y0 = h - self.sh          # both even: the strip starts on a chroma row
        self._label_key = None
        self._base = None

    def overlay(self, clip, number: int, frame_no: int):
        from PIL import Image, ImageDraw
        key = (id(clip), number)
        if key != self._label_key:
            im = Image.new("RGBA", (self.w, self.sh), (0, 0, 0, 160))
            label = f"{number}  {clip.shot_name or ''}"
            if clip.section:
                label += f"  \u00b7  {clip.section}"
            ImageDraw.Draw(im).text((8, (self.sh - self.font.size) // 2 - 1), label,
                                    font=self.font, fill=(255, 255, 255, 255))
            self._base, self._label_key = im, key
        im = self._base.copy()
        tc = timecode(frame_no, self.fps)
        d = ImageDraw.Draw(im)
        tw = d.textlength(tc, font=self.font)
        d.rectangle((self.w - tw - 16, 0, self.w, self.sh), fill=(0, 0, 0, 160))
        d.text((self.w - tw - 8, (self.sh - self.font.size) // 2 - 1), tc, font=self.font,
               fill=(255, 255, 255, 255))
        return 0, self.y0, np.asarray(im)


# -- one clip's media ------------------------------------------------------------------------------

def _frame_time(frame, stream, origin: float) -> float:
    """Seconds from `origin` (the picture's first timestamp, so sound and picture share a clock)."""
    if frame.pts is None:
        return float(frame.time or 0.0) - origin
    return float(frame.pts * stream.time_base) - origin


def _open_source(path: Path, want_audio: bool):
    try:
        c = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError) as e:
        raise MediaError(f"cannot open the video ({e})", path=path) from None
    vs = next((s for s in c.streams.video
               if not (s.disposition & av.stream.Disposition.attached_pic)), None)
    aus = c.streams.audio[0] if want_audio and c.streams.audio else None
    if vs is None:
        c.close()
        raise MediaError("no video stream", path=path)
    return c, vs, aus


class _ClipAudio:
    """Collects one clip's audio as float32 planar stereo at 48 kHz, trimmed to [in, in + n)."""

    def __init__(self, source_in: float, n: int):
        self.resampler = AudioResampler(format="fltp", layout=AUDIO_LAYOUT, rate=AUDIO_RATE)
        self.n = n
        self.skip = 0            # samples before the in point still to drop
        self.parts: list[np.ndarray] = []
        self.have = 0
        self.source_in = source_in
        self.started = False

    def add(self, frame, stream, origin: float) -> None:
        if self.have >= self.n:
            return
        if not self.started:
            t = _frame_time(frame, stream, origin)
            self.skip = max(0, round((self.source_in - t) * AUDIO_RATE))
            lead = round((t - self.source_in) * AUDIO_RATE)
            if lead > 0:     # sound starts after the picture: keep it in sync with silence first
                self._take(np.zeros((2, min(lead, self.n)), np.float32))
            self.started = True
        frame.pts = None         # the resampler re-times; stray pts from seeks upset it
        for rf in self.resampler.resample(frame):
            self._take(rf.to_ndarray())

    def _take(self, arr: np.ndarray) -> None:
        if self.skip:
            cut = min(self.skip, arr.shape[1])
            arr, self.skip = arr[:, cut:], self.skip - cut
        if arr.shape[1]:
            self.parts.append(arr)
            self.have += arr.shape[1]

    def samples(self) -> np.ndarray:
        for rf in self.resampler.resample(None):
            self._take(rf.to_ndarray())
        out = np.zeros((2, self.n), np.float32)
        if self.parts:
            a = np.concatenate(self.parts, axis=1)[:, :self.n]
            out[:a.shape[0], :a.shape[1]] = a
        return out


# -- the render ----------------------------------------------------------------------------------

class _Writer:
    """The output container: H.264 video at `fps`, AAC audio fed in encoder-sized frames."""

    def __init__(self, path: Path, w: int, h: int, fps: float, *, crf: int, preset: str):
        self.rate = Fraction(fps).limit_denominator(1001)
        self.c = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.vs = self.c.add_stream("libx264", rate=self.rate)
        self.vs.width, self.vs.height, self.vs.pix_fmt = w, h, "yuv420p"
        self.vs.codec_context.time_base = 1 / self.rate
        self.vs.codec_context.options = {"preset": preset, "crf": str(crf)}
        # PyAV opens encoders with slice threads; x264 then runs sliced threading, which at these
        # sizes keeps the second core idle. Frame threads (ffmpeg's default) encode whole frames in
        # parallel: see tools/bench/export_media.py for the measured difference.
        self.vs.codec_context.thread_type = "FRAME"
        self.vs.codec_context.thread_count = 0
        self.aus = self.c.add_stream("aac", rate=AUDIO_RATE, layout=AUDIO_LAYOUT)
        self.aus.codec_context.time_base = Fraction(1, AUDIO_RATE)
        self.frames = 0
        self.samples = 0
        self._pending = np.zeros((2, 0), np.float32)

    def video(self, frame: av.VideoFrame) -> None:
        frame.pts = self.frames
        frame.time_base = self.vs.codec_context.time_base
        self.frames += 1
        self.c.mux(self.vs.encode(frame))

    def audio(self, samples: np.ndarray) -> None:
        size = self.aus.codec_context.frame_size or 1024
        buf = np.concatenate([self._pending, samples], axis=1) if self._pending.shape[1] else samples
        n = (buf.shape[1] // size) * size
        for i in range(0, n, size):
            self._send(buf[:, i:i + size])
        self._pending = buf[:, n:]

    def _send(self, arr: np.ndarray) -> None:
        f = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format="fltp", layout=AUDIO_LAYOUT)
        f.sample_rate = AUDIO_RATE
        f.pts = self.samples
        f.time_base = Fraction(1, AUDIO_RATE)
        self.samples += arr.shape[1]
        self.c.mux(self.aus.encode(f))

    def finish(self) -> None:
        if self._pending.shape[1]:
            self._send(self._pending)
            self._pending = np.zeros((2, 0), np.float32)
        self.c.mux(self.vs.encode(None))
        self.c.mux(self.aus.encode(None))
        self.c.close()


def render_animatic(cut, out: str | Path, *, size: tuple[int, int] | None = None,
                    fps: float | None = None, burn_in: bool = False, crf: int = 23,
                    preset: str = "veryfast", progress: Progress = None,
                    cancel: threading.Event | None = None) -> AnimaticResult:
    """Render `cut` (export.timeline.Cut) to the MP4 `out`. See the module doc for the rules.

    Raises AimmsError("cancelled") when `cancel` is set (no file is left). A clip whose media
    cannot be read becomes a title card and a note; it never stops the render.
    """
    t0 = time.perf_counter()
    out = Path(out)
    fps = float(fps or cut.fps or 24.0)
    if fps <= 0:
        raise AimmsError(f"frame rate must be positive, not {fps}", field="fps")
    W, H = choose_size(cut, size)
    spans = cut_frames(cut, fps)
    total = sum(n for _, n in spans)
    notes: list[str] = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AimmsError(f"cannot create the output folder ({e.strerror or e})", path=out.parent) from e
    tmp = out.with_name(out.name + ".partial.mp4")
    writer = _Writer(tmp, W, H, fps, crf=crf, preset=preset)
    canvas = _Canvas(W, H)
    reformatter = VideoReformatter()     # one swscale context reused across frames and clips
    burn = _BurnIn(W, H, fps) if burn_in else None
    state = {"done": 0, "audio_clips": 0}

    def emit(clip, number: int) -> None:
        if cancel is not None and cancel.is_set():
            raise AimmsError("cancelled", path=out, hint="the animatic was stopped; no file was written")
        ov = burn.overlay(clip, number, writer.frames) if burn else None
        writer.video(canvas.frame(ov))
        state["done"] += 1
        if progress and (state["done"] % PROGRESS_EVERY == 0 or state["done"] == total):
            progress(state["done"], total)

    try:
        for i, (clip, (_, n)) in enumerate(zip(cut.clips, spans)):
            number = clip.order_number if getattr(clip, "order_number", None) is not None else i + 1
            if n <= 0:
                continue
            n_samples = round((writer.frames + n) * AUDIO_RATE / fps) - writer.samples - writer._pending.shape[1]
            audio = None
            try:
                if clip.kind == "video" and clip.path is not None:
                    audio = _video_clip(clip, n, fps, n_samples, canvas, reformatter, emit, number)
                elif clip.kind == "image" and clip.path is not None:
                    canvas.clear()
                    rect, planes = _image_planes(clip.path, W, H, reformatter)
                    canvas.paste(planes, rect)
                    for _ in range(n):
                        emit(clip, number)
                else:
                    _title_or_gap(clip, canvas, W, H, reformatter)
                    for _ in range(n):
                        emit(clip, number)
            except (MediaError, av.FFmpegError, OSError, ValueError) as e:
                # A broken take costs its own picture, not the render: a card names it.
                done_here = writer.frames - spans[i][0]
                notes.append(f"shot {clip.shot_name!r}: media unreadable ({e}); a title card stands in")
                _title_or_gap(clip, canvas, W, H, reformatter, force_title=True)
                for _ in range(max(0, n - done_here)):
                    emit(clip, number)
                audio = None
            if audio is not None:
                state["audio_clips"] += 1
                writer.audio(audio)
            else:
                writer.audio(np.zeros((2, max(0, n_samples)), np.float32))
        writer.finish()
    except BaseException:
        try:
            writer.c.close()
        except Exception:  # the container may be half-open after an encoder error; the temp file goes anyway
            pass
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    if progress and total and state["done"] % PROGRESS_EVERY:
        progress(total, total)
    return AnimaticResult(path=out, frames=writer.frames, duration_s=writer.frames / fps, size=(W, H),
                          fps=fps, clips=len(cut.clips), audio_clips=state["audio_clips"],
                          render_s=time.perf_counter() - t0, notes=notes)


def _title_or_gap(clip, canvas: _Canvas, W: int, H: int, reformatter, force_title: bool = False) -> None:
    canvas.clear()
    if clip.kind == "title" or force_title:
        canvas.paste(_title_planes(clip, W, H, reformatter), (0, 0, W, H))


def _video_clip(clip, n: int, fps: float, n_samples: int, canvas: _Canvas,
                reformatter: VideoReformatter, emit, number: int) -> np.ndarray | None:
    """Emit n frames of a video clip; returns its audio samples (None if it has no audio)."""
    from aimms_fast.media.frames import display_size
    c, vs, aus = _open_source(clip.path, want_audio=True)
    with c:
        vstart = vs.start_time or 0
        origin = float(vstart * vs.time_base)
        src_in = max(0.0, float(clip.source_in_s or 0.0))
        if src_in > 0:
            c.seek(int(src_in / vs.time_base) + vstart, stream=vs, backward=True)
        src_rate = float(vs.average_rate or vs.guessed_rate or clip.fps or fps)
        tol = 0.5 / max(src_rate, 1e-6)
        audio = _ClipAudio(src_in, n_samples) if aus is not None else None
        canvas.clear()
        streams = [vs] + ([aus] if aus is not None else [])
        rect = None

        def decoded():
            for pkt in c.demux(*streams):
                try:
                    frames = pkt.decode()
                except av.error.EOFError:
                    return
                except av.FFmpegError:
                    continue   # one corrupt packet: later keyframes recover the picture
                for f in frames:
                    if pkt.stream is vs:
                        yield f
                    elif audio is not None:
                        audio.add(f, aus, origin)

        gen = decoded()
        cur = nxt = None
        shown = None
        k = 0
        nxt = next(gen, None)
        while nxt is not None and _frame_time(nxt, vs, origin) < src_in - tol:
            nxt = next(gen, None)
        while k < n:
            target = src_in + k / fps
            while nxt is not None and (cur is None or _frame_time(nxt, vs, origin) <= target + tol):
                cur, nxt = nxt, next(gen, None)
            if cur is None:
                raise MediaError("no picture decodes", path=clip.path)
            if cur is not shown:
                rot = cur.rotation or 0
                if rect is None:
                    dw, dh = display_size(cur.width, cur.height, vs.sample_aspect_ratio, rot)
                    rect = fit_even(dw, dh, canvas.w, canvas.h)
                canvas.paste(_video_planes(cur, rect, rot, reformatter), rect)
                shown = cur
            emit(clip, number)
            k += 1
        if audio is not None:
            # Read on until the clip's sound is complete (audio packets may trail the picture).
            while audio.have < audio.n and next(gen, None) is not None:
                pass
            return audio.samples()
        return None


def _video_planes(frame, rect, rot: int, reformatter: VideoReformatter):
    w, h = rect[2], rect[3]
    turns = (rot // 90) % 4
    if not turns:
        return _planes(reformatter.reformat(frame, width=w, height=h, format="yuv420p",
                                            interpolation="BILINEAR"))
    # Rotated sources (phone clips): rotate in RGB, then back to YUV. Rare, so the simple path.
    sw, sh = (h, w) if turns % 2 else (w, h)
    rgb = reformatter.reformat(frame, width=sw, height=sh, format="rgb24").to_ndarray()
    rgb = np.ascontiguousarray(np.rot90(rgb, k=turns))
    return _planes(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))


# -- FORMATS registration ----------------------------------------------------------------------

def write_animatic(project, cut, out: Path, options) -> "ExportResult":
    """FORMATS writer: options.extra may hold size=(w, h), burn_in, crf, preset."""
    from aimms_fast.export import ExportResult
    ex = options.extra or {}
    size = ex.get("size")
    if isinstance(size, str):
        try:
            a, b = size.lower().split("x")
            size = (int(a), int(b))
        except ValueError:
            raise AimmsError(f"size must look like 1280x720, not {size!r}", field="size") from None
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        out = out.with_suffix(".mp4") if not out.suffix else out
    r = render_animatic(cut, out, size=size, fps=options.fps, burn_in=bool(ex.get("burn_in")),
                        crf=int(ex.get("crf", 23)), preset=str(ex.get("preset", "veryfast")),
                        progress=options.progress, cancel=options.cancel)
    notes = list(getattr(cut, "report", []) or []) + r.notes
    notes.append(f"{r.frames} frames at {r.fps:g} fps, {r.size[0]}x{r.size[1]}, {r.duration_s:.2f} s; "
                 f"{r.audio_clips} clip(s) with sound; rendered at {r.speed:.1f}x real time")
    return ExportResult(path=r.path, format="animatic", clips=r.clips, notes=notes)


register("animatic", write_animatic, suffix=".mp4",
         description="the cut as one H.264/AAC MP4 (stills held, videos letterboxed, sound kept)")
