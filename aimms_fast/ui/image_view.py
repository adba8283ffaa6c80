"""Zoom and pan over a full-resolution still (image takes in the player), rendered on the CPU to
exactly the pane size, so the picture goes through the same LiveView pane as video frames.

Why the CPU: the pane texture is sized to the pane (raw textures upload in full every frame, see
DESIGN.md), so a 4K still must be cut and scaled to the pane anyway; Pillow's resize with a source
box does crop + scale in one pass (a 4096x2304 still to a 1000x560 pane: ~15 ms, only when the
zoom, pan or pane size changes, never per frame). At 100 % the box is whole pixels and the pane
shows the file's pixels exactly; above 200 % nearest-neighbour keeps pixels square for inspection.
Alpha is shown over a checkerboard. No Dear PyGui here: any thread may render; the player calls
it on the UI thread.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimms_fast.errors import MediaError

MIN_ZOOM = 1 / 64
MAX_ZOOM = 32.0
BACKGROUND = (24, 24, 24, 255)      # outside the picture
CHECKER = 8                         # checkerboard square, pane pixels
CHECKER_SHADES = (102, 153)


def checkerboard(w: int, h: int) -> np.ndarray:
    """HxWx3 uint8 grey checkerboard (what transparent parts of a picture are shown over)."""
    yy = (np.arange(h) // CHECKER)[:, None]
    xx = (np.arange(w) // CHECKER)[None, :]
    lo, hi = CHECKER_SHADES
    g = np.where((xx + yy) % 2 == 0, lo, hi).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def over_checkerboard(rgba: np.ndarray) -> np.ndarray:
    """Composite an RGBA frame over the checkerboard; returns an opaque RGBA frame. A frame whose
    alpha is all 255 comes back unchanged (the common case costs one comparison pass)."""
    a = rgba[..., 3]
    if bool((a == 255).all()):
        return rgba
    h, w = a.shape
    bg = checkerboard(w, h).astype(np.uint16)
    al = a.astype(np.uint16)[..., None]
    rgb = (rgba[..., :3].astype(np.uint16) * al + bg * (255 - al) + 127) // 255
    out = np.empty_like(rgba)
    out[..., :3] = rgb.astype(np.uint8)
    out[..., 3] = 255
    return out


def load_image(path: str | Path):
    """The still as a Pillow image in RGB or RGBA (palette/greyscale/CMYK converted, EXIF
    orientation applied), fully loaded. Raises MediaError naming the file when Pillow cannot
    read it."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.load()
            im = ImageOps.exif_transpose(im) or im   # phone JPEGs: upright, as the posters show them
            has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
            return im.convert("RGBA" if has_alpha else "RGB")
    except FileNotFoundError:
        raise MediaError("file not found", path=path, hint="the take's file was moved or deleted") from None
    except UnidentifiedImageError:
        raise MediaError("not an image Pillow can read (unknown or damaged format)", path=path,
                         hint="replace the take with a PNG, JPEG or WebP file") from None
    except (OSError, ValueError) as e:     # truncated or corrupt data inside a known format
        raise MediaError(f"the image cannot be decoded ({e})", path=path,
                         hint="the file may be truncated; replace the take") from None


@dataclass
class ViewState:
    """What the pane shows: `scale` pane pixels per image pixel, `center` the image point at
    the middle of the pane (image pixels, float)."""
    scale: float
    center: tuple[float, float]
    fit: bool


class ImageView:
    """One still with a zoom and a pan. `render(size)` gives the pane's pixels."""

    def __init__(self, image):
        self.image = image                       # PIL RGB / RGBA, full resolution
        self.width, self.height = image.size
        self.has_alpha = image.mode == "RGBA"
        self.fit_mode = True
        self.zoom = 1.0                          # used when not fitting
        self.center = (self.width / 2, self.height / 2)
        self._cache: tuple | None = None

    @classmethod
    def open(cls, path: str | Path) -> "ImageView":
        return cls(load_image(path))

    # -- zoom and pan --------------------------------------------------------------------------
    def fit_scale(self, size: tuple[int, int]) -> float:
        w, h = size
        return max(MIN_ZOOM, min(w / self.width, h / self.height))

    def state(self, size: tuple[int, int]) -> ViewState:
        if self.fit_mode:
            return ViewState(self.fit_scale(size), (self.width / 2, self.height / 2), True)
        return ViewState(self.zoom, self.center, False)

    def fit(self) -> None:
        self.fit_mode = True
        self.center = (self.width / 2, self.height / 2)

    def actual_size(self) -> None:
        """100 %: one image pixel per pane pixel, centred where the view is now."""
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float) -> None:
        self.fit_mode = False
        self.zoom = float(min(MAX_ZOOM, max(MIN_ZOOM, zoom)))
        self._clamp()

    def zoom_at(self, factor: float, px: float, py: float, size: tuple[int, int]) -> None:
        """Zoom by `factor` keeping the image point under pane pixel (px, py) where it is
        (the mouse wheel)."""
        st = self.state(size)
        w, h = size
        ix = st.center[0] + (px - w / 2) / st.scale
        iy = st.center[1] + (py - h / 2) / st.scale
        new = float(min(MAX_ZOOM, max(MIN_ZOOM, st.scale * factor)))
        self.fit_mode = False
        self.zoom = new
        self.center = (ix - (px - w / 2) / new, iy - (py - h / 2) / new)
        self._clamp()

    def pan(self, dx: float, dy: float, size: tuple[int, int]) -> None:
        """Drag by (dx, dy) pane pixels: the picture follows the mouse."""
        st = self.state(size)
        if st.fit:
            self.fit_mode = False
            self.zoom = st.scale
        self.center = (st.center[0] - dx / st.scale, st.center[1] - dy / st.scale)
        self._clamp()

    def _clamp(self) -> None:
        # The centre stays on the picture: it can be pushed to an edge, never lost off screen.
        cx = min(max(self.center[0], 0.0), float(self.width))
        cy = min(max(self.center[1], 0.0), float(self.height))
        self.center = (cx, cy)

    # -- pixels --------------------------------------------------------------------------------
    def image_point(self, px: float, py: float, size: tuple[int, int]) -> tuple[float, float]:
        """The image pixel under pane pixel (px, py)."""
        st = self.state(size)
        return (st.center[0] + (px - size[0] / 2) / st.scale, st.center[1] + (py - size[1] / 2) / st.scale)

    def render(self, size: tuple[int, int]) -> np.ndarray:
        """HxWx4 uint8 RGBA of exactly `size` (w, h): the visible part of the picture at the
        current zoom and pan, background outside it, alpha over a checkerboard. Cached: the same
        view twice costs nothing."""
        from PIL import Image
        w, h = max(1, int(size[0])), max(1, int(size[1]))
        st = self.state((w, h))
        key = (w, h, st.scale, st.center)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        out = np.empty((h, w, 4), np.uint8)
        out[:] = BACKGROUND
        s = st.scale
        # Pane rectangle covered by the picture, in pane pixels (whole pixels so 100 % is exact).
        # Whole pane pixels (a shift under one pixel): at 100 % the box is then whole image
        # pixels too, and the pane shows the file's pixels exactly instead of resampled ones.
        left = math.floor(w / 2 - st.center[0] * s + 0.5)
        top = math.floor(h / 2 - st.center[1] * s + 0.5)
        dx0, dy0 = max(0, int(np.floor(left + 1e-6))), max(0, int(np.floor(top + 1e-6)))
        dx1 = min(w, int(np.ceil(left + self.width * s - 1e-6)))
        dy1 = min(h, int(np.ceil(top + self.height * s - 1e-6)))
        if dx1 > dx0 and dy1 > dy0:
            box = ((dx0 - left) / s, (dy0 - top) / s, (dx1 - left) / s, (dy1 - top) / s)
            box = (max(0.0, box[0]), max(0.0, box[1]), min(float(self.width), box[2]), min(float(self.height), box[3]))
            resample = Image.NEAREST if s >= 2 or abs(s - 1) < 1e-9 else (Image.BILINEAR if s > 1 else Image.BOX)
            part = self.image.resize((dx1 - dx0, dy1 - dy0), resample, box=box)
            arr = np.asarray(part.convert("RGBA"))
            if self.has_alpha:
                bg = checkerboard(dx1 - dx0, dy1 - dy0)
                al = arr[..., 3:4].astype(np.uint16)
                arr = np.concatenate([((arr[..., :3].astype(np.uint16) * al + bg * (255 - al) + 127) // 255)
                                      .astype(np.uint8), np.full_like(arr[..., :1], 255)], axis=2)
            out[dy0:dy1, dx0:dx1] = arr
        self._cache = (key, out)
        return out

    def zoom_text(self, size: tuple[int, int]) -> str:
        st = self.state(size)
        return f"{st.scale * 100:.0f} %" + (" (fit)" if st.fit else "")
