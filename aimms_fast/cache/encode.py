"""Worker jobs of the thumbnail pool: make the pictures and JPEG-encode them in the worker.

Encoding in the worker (not in the pool's one writer thread) spreads the ~0.7 ms of JPEG
encoding per video over all workers, and a worker sends ~40 KB back over its pipe instead of the
0.6 MB of raw tiles a video used to cost (pickling and copying that was the writer's main cost).

`extract_encoded(path)`: the full build (poster + filmstrip) of media/posters.extract_tiles,
encoded. `quick_poster(path)`: the poster of a video from its companion workflow PNG (ComfyUI's
VideoHelperSuite saves `name.png` beside `name.mp4`: its picture is the clip's first frame, and
the incumbent AIMMS shows exactly that). Decoding a 480x270 PNG costs ~2 ms against ~30 ms for
the clip, so a cold build can put a poster on every card first and fill in filmstrips after.
A still image's quick poster is its full build (a poster is all it gets).

Both run in worker processes and never raise (a failure is a Thumbs with state 'failed').
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aimms_fast.cache import codec
from aimms_fast.media.posters import (IMAGE_EXTS, POSTER_SIZE, STRIP_FRAMES, STRIP_SIZE, Thumbs,
                                      extract_tiles)


@dataclass
class EncodedThumbs(Thumbs):
    """Thumbs whose pictures travel as JPEG bytes (the arrays are dropped before sending)."""
    poster_jpeg: bytes | None = None
    strip_jpeg: bytes | None = None
    strip_frame_size: tuple[int, int] | None = None   # (w, h) of one filmstrip frame
    poster_from: str = "media"                        # 'media' | 'workflow_png'
    partial: bool = False                             # a quick poster: the full build is still due


def encode(th: Thumbs, *, poster_from: str = "media", partial: bool = False) -> Thumbs:
    """The same result with JPEG bytes instead of arrays (a non-ready result is returned as is)."""
    if th.state != "ready":
        return th
    fields = {k: getattr(th, k) for k in th.__dataclass_fields__}
    out = EncodedThumbs(**fields, poster_from=poster_from, partial=partial)
    if th.poster is not None:
        rect = th.poster_rect or (0, 0, th.poster.shape[1], th.poster.shape[0])
        out.poster_jpeg = codec.encode_poster(th.poster, rect)
    if th.strip is not None and th.strip_rect is not None and len(th.strip):
        out.strip_jpeg = codec.encode_strip(th.strip, th.strip_rect)
        out.strip_frame_size = (th.strip.shape[2], th.strip.shape[1])
    out.poster = out.strip = None
    return out


def extract_encoded(path: str | Path, *, strip_frames: int = STRIP_FRAMES,
                    strip_size: tuple[int, int] = STRIP_SIZE) -> Thumbs:
    """Poster + filmstrip of one media file, JPEG-encoded (the pool's default job)."""
    th = extract_tiles(path, strip_frames=strip_frames, poster_size=POSTER_SIZE,
                       strip_size=tuple(strip_size))
    try:
        return encode(th)
    except Exception as e:     # an encoder failure marks this one take, never the worker
        return Thumbs("failed", f"could not compress the thumbnail: {type(e).__name__}: {e}")


def companion_png(video: Path) -> Path | None:
    """The workflow PNG saved beside a video (the project keeps it under the same name)."""
    for ext in (".png", ".PNG"):
        p = video.with_suffix(ext)
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def quick_poster(path: str | Path, **_build_params) -> Thumbs:
    """A poster fast: a still image's full build, or a video's poster from its workflow PNG
    (`partial`: the full build replaces it later). No PNG or an unreadable one: a 'failed'
    result marked partial, which the writer ignores (the full build makes the poster)."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_EXTS:
        return extract_encoded(path, strip_frames=0)
    png = companion_png(path)
    if png is None:
        return EncodedThumbs("failed", "no workflow PNG beside the video", partial=True)
    th = extract_tiles(png, strip_frames=0, poster_size=POSTER_SIZE)
    if th.state != "ready":
        return EncodedThumbs("failed", f"workflow PNG: {th.reason}", partial=True)
    th.kind, th.strategy = "video", "workflow_png"
    th.frame_count = th.source_size = None      # the PNG's, not the video's: the full build records them
    try:
        return encode(th, poster_from="workflow_png", partial=True)
    except Exception as e:
        return EncodedThumbs("failed", f"could not compress the poster: {e}", partial=True)
