"""How atlas pixels are stored: JPEG (libjpeg-turbo via simplejpeg) of the picture rect only.

Why JPEG, and these settings (measured on 2 vCPU, tools/bench/thumbs.py has the numbers):
- A raw RGBA poster is 144 KiB and a raw 16-frame 128x72 filmstrip 432 KiB: 379 KiB per take
  on the 21K demo, 7.8 GiB. JPEG of the same pixels is 5-15 KiB per poster and 25-60 KiB per
  filmstrip (AI imagery at the high end), well under the 80 KiB-per-take target.
- Decoding a 256x144 poster costs ~0.1 ms with simplejpeg (libjpeg-turbo, no Pillow object or
  BytesIO on the way: Pillow's path costs ~0.25 ms for the same bytes), and it decodes straight
  into the caller's array. WebP is 40% smaller but decodes 3-4x slower; zstd over raw uint8 is
  lossless but only ~1.2x on real (noisy) pictures.
- Only the picture rect is encoded: letterbox bars are transparent (alpha 0) and rebuilt on read,
  so they cost nothing and never bleed JPEG ringing into the bars. Pictures are opaque inside the
  rect (media with alpha was already composited over a checkerboard), so no alpha is stored.
- A filmstrip is ONE JPEG: the K frame rects side by side in a grid of STRIP_COLS columns (one
  header and one decode call instead of K; the grid compresses a little better too).
- Quality 90 for posters (they are looked at), 85 for filmstrip frames (seen for a moment while
  scrubbing). Colour subsampling 4:2:0, like the video they came from (H.264 is 4:2:0 already).

Functions are pure and thread-safe (simplejpeg releases the GIL while it decodes).
"""
from __future__ import annotations

import numpy as np
import simplejpeg

CODEC = "jpeg"
POSTER_QUALITY = 90
STRIP_QUALITY = 85
STRIP_COLS = 4


def _rgb(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a[..., :3])


def encode_rect(tile: np.ndarray, rect, quality: int) -> bytes | None:
    """JPEG of the picture rect (x, y, w, h) of one RGB(A) tile; None for an empty rect."""
    x, y, w, h = rect
    if w <= 0 or h <= 0:
        return None
    return simplejpeg.encode_jpeg(_rgb(tile[y:y + h, x:x + w]), quality=quality, colorspace="RGB",
                                  colorsubsampling="420")


def encode_poster(tile: np.ndarray, rect) -> bytes | None:
    return encode_rect(tile, rect, POSTER_QUALITY)


def strip_grid_shape(k: int, rect) -> tuple[int, int]:
    """(rows, cols) of the grid a K-frame strip is stored in."""
    cols = max(1, min(k, STRIP_COLS))
    return (k + cols - 1) // cols, cols


def encode_strip(frames: np.ndarray, rect) -> bytes | None:
    """One JPEG of the K frames' picture rects in a grid (unused grid cells are black)."""
    x, y, w, h = rect
    k = len(frames)
    if k == 0 or w <= 0 or h <= 0:
        return None
    rows, cols = strip_grid_shape(k, rect)
    grid = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i in range(k):
        r, c = divmod(i, cols)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = frames[i, y:y + h, x:x + w, :3]
    return simplejpeg.encode_jpeg(grid, quality=STRIP_QUALITY, colorspace="RGB", colorsubsampling="420")


def decode_poster_into(blob: bytes, rect, out: np.ndarray) -> None:
    """Decode a poster JPEG into `out` (h, w, 4) RGBA: the picture in its rect, alpha 255 there,
    transparent (all zero) elsewhere. Raises ValueError for bytes that are not the expected JPEG."""
    x, y, w, h = rect
    th, tw = out.shape[:2]
    if (x, y, w, h) == (0, 0, tw, th) and out.flags.c_contiguous:
        simplejpeg.decode_jpeg(blob, colorspace="RGBA", buffer=out)   # libjpeg-turbo sets alpha 255
        return
    pic = simplejpeg.decode_jpeg(blob, colorspace="RGBA")
    if pic.shape[:2] != (h, w):
        raise ValueError(f"poster is {pic.shape[1]}x{pic.shape[0]}, its rect says {w}x{h}")
    out[:] = 0
    out[y:y + h, x:x + w] = pic


def decode_strip(blob: bytes, rect, k: int, frame_size: tuple[int, int]) -> np.ndarray:
    """(K, fh, fw, 4) RGBA frames from a strip JPEG: pictures in the rect, bars transparent."""
    x, y, w, h = rect
    fw, fh = frame_size
    grid = simplejpeg.decode_jpeg(blob, colorspace="RGB")
    rows, cols = strip_grid_shape(k, rect)
    if grid.shape[:2] != (rows * h, cols * w):
        raise ValueError(f"filmstrip grid is {grid.shape[1]}x{grid.shape[0]}, expected {cols * w}x{rows * h}")
    out = np.zeros((k, fh, fw, 4), np.uint8)
    cells = grid.reshape(rows, h, cols, w, 3).transpose(0, 2, 1, 3, 4).reshape(rows * cols, h, w, 3)
    out[:, y:y + h, x:x + w, :3] = cells[:k]
    out[:, y:y + h, x:x + w, 3] = 255
    return out
