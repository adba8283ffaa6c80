"""Posters and filmstrips: the small pictures the storyboards show for every take.

`extract_tiles(path)` never raises: it returns a `Thumbs` whose state is 'ready' (poster, and a
filmstrip for videos and animated images), 'placeholder' (zero-byte take file) or 'failed' (with
a reason a user can act on). It runs inside the cache's worker processes.

Videos: the poster is the first keyframe that is not blank (fade-ins start black); the filmstrip
is K frames evenly spaced, the frame at the middle of each of K equal segments, chosen by exact
frame index. How to get them is decided per clip from its keyframe layout (one demux-only pass
counts them): seeking per frame when keyframes are dense, one sequential decode when they are
sparse (AI clips are often a single GOP: x264's default keyint 250 covers a 10 s clip). Rotation
(display matrix), sample aspect and alpha (over a checkerboard) are applied; every picture is
letterboxed into a fixed tile with transparent bars.

Images: Pillow, with JPEG draft mode (decodes at 1/2..1/8 scale), EXIF orientation applied.
Animated GIF/WebP get a filmstrip like videos (FFmpeg cannot decode animated WebP; Pillow can).
"""
from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

POSTER_SIZE = (256, 144)     # (w, h) of a poster tile; 16:9 like most AI video
STRIP_SIZE = (128, 72)       # (w, h) of one filmstrip frame
STRIP_FRAMES = 16            # K, frames per filmstrip (a setting; the cache records it)
POSTER_CANDIDATES = 4        # keyframes tried for a non-blank poster
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
from aimms_fast.viewer3d import MODEL_EXTS   # noqa: E402 - .glb/.gltf/.fbx get a rendered poster
SEEK_COST = 3                # a seek (flush + demuxer reposition + refill) in frame-decode units
CHECKER = 8                  # checkerboard square size in tile pixels
CHECKER_LIGHT, CHECKER_DARK = 204, 153


@dataclass
class Thumbs:
    """What a worker made for one media file (arrays are uint8 RGBA, letterboxed)."""
    state: str                                   # 'ready' | 'placeholder' | 'failed'
    reason: str | None = None
    kind: str | None = None                      # 'video' | 'image' | 'animated' | 'model'
    strategy: str | None = None                  # 'seek' | 'sequential' | 'image' | 'animated'
    source_size: tuple[int, int] | None = None   # (w, h) as displayed
    poster: np.ndarray | None = None             # (ph, pw, 4)
    poster_rect: tuple[int, int, int, int] | None = None   # picture inside the tile: x, y, w, h
    strip: np.ndarray | None = None              # (K, sh, sw, 4)
    strip_rect: tuple[int, int, int, int] | None = None
    times: list[float] = field(default_factory=list)     # seconds of each strip frame
    frame_count: int | None = None
    keyframe_count: int | None = None
    build_ms: float = 0.0


# -- geometry and pixels ---------------------------------------------------------------------

def fit_rect(src_w: float, src_h: float, box_w: int, box_h: int) -> tuple[int, int, int, int]:
    """The largest rect with the source's aspect inside the box, centred: (x, y, w, h)."""
    scale = min(box_w / max(src_w, 1e-9), box_h / max(src_h, 1e-9))
    w = int(min(box_w, max(1, round(src_w * scale))))
    h = int(min(box_h, max(1, round(src_h * scale))))
    return (box_w - w) // 2, (box_h - h) // 2, w, h


_checkers: dict[tuple[int, int], np.ndarray] = {}


def checkerboard(h: int, w: int) -> np.ndarray:
    key = (h, w)
    board = _checkers.get(key)
    if board is None:
        yy, xx = np.mgrid[0:h, 0:w]
        light = ((yy // CHECKER + xx // CHECKER) % 2) == 0
        board = np.where(light, CHECKER_LIGHT, CHECKER_DARK).astype(np.uint8)[..., None].repeat(3, axis=2)
        _checkers[key] = board
    return board


def over_checkerboard(rgba: np.ndarray) -> np.ndarray:
    """Composite straight-alpha RGBA over a grey checkerboard: transparency stays visible."""
    h, w = rgba.shape[:2]
    a = rgba[..., 3:4].astype(np.uint16)
    out = (rgba[..., :3].astype(np.uint16) * a + checkerboard(h, w).astype(np.uint16) * (255 - a) + 127) // 255
    return out.astype(np.uint8)


def place(tile: np.ndarray, rgb: np.ndarray, rect) -> None:
    """Write an opaque picture into its rect of an RGBA tile (bars stay transparent)."""
    x, y, w, h = rect
    tile[y:y + h, x:x + w, :3] = rgb
    tile[y:y + h, x:x + w, 3] = 255


def is_blank(rgb: np.ndarray) -> bool:
    """Near-uniform black or white (fade-in/out frames make poor posters)."""
    m = float(rgb.mean())
    return (m < 16 or m > 240) and float(rgb.std()) < 6


# -- entry point -------------------------------------------------------------------------------

def extract_tiles(path: str | Path, *, strip_frames: int = STRIP_FRAMES,
                  poster_size: tuple[int, int] = POSTER_SIZE,
                  strip_size: tuple[int, int] = STRIP_SIZE) -> Thumbs:
    """Poster (+ filmstrip) of one media file. Never raises for bad input: see the module doc."""
    t0 = time.perf_counter()
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Thumbs("failed", "file not found")
    except OSError as e:
        return Thumbs("failed", f"cannot read the file: {e.strerror or e}")
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the worker forever; a device is no picture
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode) else "a special file"
        return Thumbs("failed", f"not a regular file ({kind}); skipped")
    size = st.st_size
    if size == 0:
        return Thumbs("placeholder", "zero-byte placeholder (no media yet)")
    try:
        if path.suffix.lower() in MODEL_EXTS:      # 3D: rendered headless (viewer3d/thumbs.py)
            from aimms_fast.viewer3d.thumbs import model_tiles
            th = model_tiles(path, poster_size)
        elif path.suffix.lower() in IMAGE_EXTS:
            th = _image_thumbs(path, strip_frames, poster_size, strip_size)
        else:
            th = _video_thumbs(path, strip_frames, poster_size, strip_size)
    except MemoryError:
        th = Thumbs("failed", "out of memory while decoding")
    except Exception as e:  # a bad file marks this one take; the worker keeps going
        th = Thumbs("failed", failure_reason(e))
    th.build_ms = (time.perf_counter() - t0) * 1000
    return th


def failure_reason(e: Exception) -> str:
    """One line a user can act on, for anything the decoders throw."""
    import av
    from PIL import Image, UnidentifiedImageError
    from aimms_fast.errors import AimmsError
    if isinstance(e, AimmsError):
        return e.message + (f" ({e.hint})" if e.hint else "")
    if isinstance(e, Image.DecompressionBombError):
        return f"image too large to decode safely ({e})"
    if isinstance(e, UnidentifiedImageError):
        return "not an image Pillow can read (wrong extension or corrupt file)"
    if isinstance(e, av.error.EOFError):
        return "the file ends early (truncated: no frames)"
    if isinstance(e, av.FFmpegError):
        msg = getattr(e, "strerror", None) or str(e)
        return f"FFmpeg cannot decode it: {msg}"
    if isinstance(e, OSError):
        return f"corrupt or truncated file: {e}"
    return f"{type(e).__name__}: {e}"


# -- videos ------------------------------------------------------------------------------------

def strip_targets(frame_count: int, k: int) -> list[int]:
    """Frame index at the middle of each of k equal segments (repeats when frames < k)."""
    return [min(frame_count - 1, int((i + 0.5) * frame_count / k)) for i in range(k)]


def choose_strategy(key_index: list[int], targets: list[int]) -> str:
    """'seek' or 'sequential', by counting frame decodes each would need (both skip the
    non-reference frames nobody wants, so that saving does not change the choice)."""
    import bisect
    sequential = max(targets) + 1
    seek, pos = 0, -1
    for t in sorted(set(targets)):
        kb = key_index[max(0, bisect.bisect_right(key_index, t) - 1)]
        if pos < t and kb <= pos + 2:
            seek += t - pos                 # decoding forward from where we are
        else:
            seek += SEEK_COST + t - kb + 1  # seek back to the keyframe, decode up to t
        pos = t
    return "seek" if seek < sequential else "sequential"


class _Tiler:
    """Turns decoded frames into letterboxed tiles of one size."""

    def __init__(self, size: tuple[int, int], sar):
        from av.video.reformatter import VideoReformatter
        self.size, self.sar = size, sar
        self.rect = None
        self.reformatter = VideoReformatter()   # keeps its swscale context between frames

    def tile(self, frame, out: np.ndarray) -> tuple:
        from aimms_fast.media.frames import display_size, frame_has_alpha, to_rgba
        rot = frame.rotation or 0
        dw, dh = display_size(frame.width, frame.height, self.sar, rot)
        rect = fit_rect(dw, dh, *self.size)
        alpha = frame_has_alpha(frame)
        arr = to_rgba(frame, rect[2:], rot, fmt="rgba" if alpha else "rgb24", reformatter=self.reformatter)
        place(out, over_checkerboard(arr) if alpha else arr, rect)
        if self.rect is None:
            self.rect = rect
        return rect, alpha


def _video_thumbs(path: Path, k: int, poster_size, strip_size) -> Thumbs:
    from aimms_fast.media.frames import ClipDecoder, display_size
    pw, ph = poster_size
    sw, sh = strip_size
    with ClipDecoder(path) as dec:
        n = dec.frame_count
        poster_t = _Tiler(poster_size, dec.sample_aspect)
        strip_t = _Tiler(strip_size, dec.sample_aspect)
        poster = np.zeros((ph, pw, 4), np.uint8)
        strip = np.zeros((k, sh, sw, 4), np.uint8) if k else None
        targets = strip_targets(n, k) if k else []
        slots: dict[int, list[int]] = {}
        for j, t in enumerate(targets):
            slots.setdefault(t, []).append(j)
        half = max(0, n // 2)
        candidates = [i for i in dec.key_index[:POSTER_CANDIDATES] if i <= half] or dec.key_index[:1]
        strategy = choose_strategy(dec.key_index, targets) if targets else "seek"
        dec.want_only(set(targets) | set(candidates))
        state = {"poster": False, "tried": 0}

        def consider_poster(f) -> None:
            if state["poster"]:
                return
            rect, _ = poster_t.tile(f, poster)
            x, y, w, h = rect
            state["tried"] += 1
            if not is_blank(poster[y:y + h, x:x + w, :3]) or state["tried"] >= len(candidates):
                state["poster"] = True

        if strategy == "sequential":
            cand = set(candidates)
            for i, f in dec.frames(sorted(cand | set(targets))):
                if i in cand:
                    consider_poster(f)
                for j in slots.get(i, ()):
                    strip_t.tile(f, strip[j])
        else:
            for _, f in dec.keyframes(len(candidates), max_index=half):
                consider_poster(f)
                if state["poster"]:
                    break
            for t in sorted(slots):
                f = dec.frame(t)
                for j in slots[t]:
                    strip_t.tile(f, strip[j])
        if not state["tried"]:
            # No keyframe decoded (damaged start): the first frame that decodes is the poster.
            poster_t.tile(dec.frame(0), poster)
        rect = _content_rect(poster)
        return Thumbs("ready", kind="video", strategy=strategy,
                      source_size=display_size(dec.width, dec.height, dec.sample_aspect, dec.rotation),
                      poster=poster, poster_rect=rect, strip=strip,
                      strip_rect=strip_t.rect if strip is not None else None,
                      times=[round(dec.time_of(t), 4) for t in targets],
                      frame_count=n, keyframe_count=dec.keyframe_count)


def _content_rect(tile: np.ndarray) -> tuple[int, int, int, int]:
    """The opaque area of a letterboxed tile (the picture)."""
    ys = np.flatnonzero(tile[:, :, 3].any(axis=1))
    xs = np.flatnonzero(tile[:, :, 3].any(axis=0))
    if not len(ys):
        return 0, 0, 0, 0
    return int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1)


# -- images ------------------------------------------------------------------------------------

def _pil_rgb(im):
    """(array, has_alpha) of a Pillow image in any mode: 8-bit RGB or RGBA."""
    from PIL import Image
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        a = np.asarray(im, dtype=np.float32)
        top = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        im = Image.fromarray(np.clip(a * (255.0 / top), 0, 255).astype(np.uint8), "L")
    elif mode == "F":
        im = Image.fromarray(np.clip(np.asarray(im) * 255.0, 0, 255).astype(np.uint8), "L")
    alpha = ("A" in im.getbands()) or (im.mode == "P" and "transparency" in im.info) or im.mode == "RGBa"
    return im.convert("RGBA" if alpha else "RGB"), alpha


def _image_tile(im, size, out: np.ndarray) -> tuple:
    from PIL import Image
    f = min(im.width // (2 * size[0]), im.height // (2 * size[1]))
    if f >= 2 and im.mode in ("L", "LA", "RGB", "RGBA", "RGBa", "I", "F"):
        im = im.reduce(f)  # box-reduce first: the mode conversion below then copies a small image
    rgbim, alpha = _pil_rgb(im)
    rect = fit_rect(rgbim.width, rgbim.height, *size)
    small = rgbim.resize(rect[2:], Image.Resampling.BILINEAR, reducing_gap=2.0)
    arr = np.asarray(small)
    place(out, over_checkerboard(arr) if alpha else arr, rect)
    return rect


def _exif_orientation(im) -> int:
    try:
        return int(im.getexif().get(0x0112) or 1)
    except Exception:  # malformed EXIF must not cost the poster
        return 1


def _image_thumbs(path: Path, k: int, poster_size, strip_size) -> Thumbs:
    from PIL import Image, ImageOps
    from aimms_fast.media import image_limits as L
    pw, ph = poster_size
    if path.suffix.lower() == ".png":
        hdr = L.png_header(path)
        if L.streamable(hdr) and hdr[0] * hdr[1] > L.BANDED_FROM_PIXELS:
            # A big PNG is decoded band by band: memory stays bounded (image_limits.py)
            small, (w0, h0) = L.reduced_png(path, (2 * pw, 2 * ph))
            poster = np.zeros((ph, pw, 4), np.uint8)
            rect = _image_tile(small, poster_size, poster)
            return Thumbs("ready", kind="image", strategy="image-banded", source_size=(w0, h0),
                          poster=poster, poster_rect=rect, frame_count=1)
    with Image.open(path) as im:
        # JPEG draft decodes at down to 1/8 scale: 64x fewer pixels in memory
        L.check_pixels(path, im.width // (8 if im.format == "JPEG" else 1),
                       im.height // (8 if im.format == "JPEG" else 1), stream=False)
        n = getattr(im, "n_frames", 1) or 1
        poster = np.zeros((ph, pw, 4), np.uint8)
        if n <= 1:
            w0, h0 = im.size
            if _exif_orientation(im) in (5, 6, 7, 8):
                w0, h0 = h0, w0
            if im.format == "JPEG":
                side = max(pw, ph)      # orientation may swap the sides: ask for enough of both
                im.draft("RGB", (side, side))
            im = ImageOps.exif_transpose(im) or im
            rect = _image_tile(im, poster_size, poster)
            return Thumbs("ready", kind="image", strategy="image", source_size=(w0, h0),
                          poster=poster, poster_rect=rect, frame_count=1)
        # Animated GIF / WebP: walk the frames once (durations are only known frame by frame).
        sw, sh = strip_size
        targets = strip_targets(n, k) if k else []
        slots: dict[int, list[int]] = {}
        for j, t in enumerate(targets):
            slots.setdefault(t, []).append(j)
        strip = np.zeros((k, sh, sw, 4), np.uint8) if k else None
        starts, clock, rect, srect = [], 0.0, None, None
        last = max(targets) if targets else 0
        for i in range(last + 1):
            im.seek(i)
            starts.append(clock)
            clock += (im.info.get("duration") or 100) / 1000.0
            if i == 0:
                rect = _image_tile(im, poster_size, poster)
            for j in slots.get(i, ()):
                srect = _image_tile(im, strip_size, strip[j])
        return Thumbs("ready", kind="animated", strategy="animated", source_size=im.size,
                      poster=poster, poster_rect=rect, strip=strip, strip_rect=srect,
                      times=[round(starts[t], 4) for t in targets], frame_count=n)
