"""Demo media: short H.264 clips (PyAV) and stills (Pillow) with their label drawn in.

Each picture is a small made-up scene (sky, horizon, buildings, a sun) whose colours come from a
seed, so takes look different at thumbnail size. Clips scroll the scene and move a shape across
it, with the label and a frame counter drawn in, so seeking and scrubbing are visible. Rendering
is numpy on a precomputed background: a 480x270 3 s clip encodes in about 0.1 s.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

DEFAULT_SIZE = (480, 270)


@dataclass(frozen=True)
class ClipSpec:
    label: str
    seconds: float = 3.0
    fps: int = 24
    size: tuple[int, int] = DEFAULT_SIZE
    gop: int = 24
    seed: int = 0
    comment: str | None = None   # container `comment` tag (VideoHelperSuite's metadata JSON)

    @property
    def frames(self) -> int:
        return max(1, round(self.seconds * self.fps))


@lru_cache(maxsize=8)
def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType: the fixed bitmap font has no sizes
        return ImageFont.load_default()


def _scene(w: int, h: int, seed: int) -> np.ndarray:
    """A horizontally tileable scene (so scrolling by np.roll has no seam)."""
    rng = random.Random(seed)
    top = np.array([rng.randint(10, 90), rng.randint(20, 120), rng.randint(90, 220)], np.float32)
    low = np.array([rng.randint(150, 255), rng.randint(90, 200), rng.randint(60, 160)], np.float32)
    horizon = int(h * rng.uniform(0.55, 0.7))
    t = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    img = np.empty((h, w, 3), np.float32)
    img[:horizon] = (top * (1 - t) + low * t)[:, None, :]
    ground = np.array([rng.randint(20, 80), rng.randint(30, 90), rng.randint(20, 60)], np.float32)
    g = np.linspace(1.0, 0.45, h - horizon, dtype=np.float32)[:, None]
    img[horizon:] = (ground * g)[:, None, :]
    # Sun/moon.
    yy, xx = np.ogrid[:h, :w]
    cx, cy, r = rng.randint(w // 5, 4 * w // 5), rng.randint(h // 8, horizon // 2), rng.randint(h // 14, h // 7)
    disk = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    img[disk] = (255, 240, 190)
    # Buildings (wrapping around the right edge keeps the picture tileable).
    shade = np.array([rng.randint(15, 60)] * 3, np.float32)
    x = 0
    while x < w:
        bw, bh = rng.randint(w // 24, w // 8), rng.randint(h // 10, horizon * 2 // 3)
        cols = np.arange(x, x + bw) % w
        img[horizon - bh:horizon, cols] = shade + rng.randint(0, 30)
        x += bw + rng.randint(0, w // 16)
    return img.clip(0, 255).astype(np.uint8)


def _text_layer(w: int, text: str, height: int, font_size: int) -> tuple[np.ndarray, np.ndarray]:
    """White text on a dark bar: (rgb, alpha) arrays for alpha blending onto frames."""
    layer = Image.new("RGBA", (w, height), (0, 0, 0, 150))
    ImageDraw.Draw(layer).text((8, (height - font_size) // 2 - 1), text, fill=(255, 255, 255, 255),
                               font=_font(font_size))
    a = np.asarray(layer, np.float32) / 255.0
    return a[..., :3] * 255.0, a[..., 3:4]


def _blend(dst: np.ndarray, rgb: np.ndarray, alpha: np.ndarray) -> None:
    dst[...] = (dst * (1.0 - alpha) + rgb * alpha).astype(np.uint8)


class _Renderer:
    """Frames of one clip: scene scrolled by i, a bouncing shape, label bar, frame counter."""

    def __init__(self, spec: ClipSpec):
        self.spec = spec
        w, h = spec.size
        self.scene = _scene(w, h, spec.seed)
        self.bar_h = max(18, h // 8)
        self.label = _text_layer(w, spec.label, self.bar_h, max(10, self.bar_h * 2 // 3))
        rng = random.Random(spec.seed * 7 + 1)
        self.colour = np.array([rng.randint(180, 255), rng.randint(60, 255), rng.randint(0, 120)], np.uint8)
        self.r = max(6, h // 10)
        yy, xx = np.ogrid[-self.r:self.r + 1, -self.r:self.r + 1]
        self.disk = xx * xx + yy * yy <= self.r * self.r

    def frame(self, i: int) -> np.ndarray:
        s = self.spec
        w, h = s.size
        img = np.roll(self.scene, -(i * 3) % w, axis=1)
        # Shape: left to right over the clip, bouncing, so every frame differs.
        t = i / max(1, s.frames - 1)
        x = int(self.r + t * (w - 2 * self.r - 1))
        y = int(h * 0.7 - abs(np.sin(i / s.fps * np.pi * 2)) * h * 0.35)
        y = min(max(y, self.r), h - self.bar_h - self.r - 1)
        patch = img[y - self.r:y + self.r + 1, x - self.r:x + self.r + 1]
        patch[self.disk] = self.colour
        _blend(img[h - self.bar_h:], *self.label)
        counter = _text_layer(max(60, w // 5), f"{i + 1:03d}/{s.frames:03d}", self.bar_h,
                              max(9, self.bar_h // 2))
        cw = counter[0].shape[1]
        _blend(img[:self.bar_h, w - cw:], *counter)
        return img


def make_clip(path: Path, spec: ClipSpec) -> Path:
    """Encode the clip as H.264 MP4 with exactly `spec.gop` frames between keyframes."""
    w, h = spec.size
    render = _Renderer(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        if spec.comment:
            c.metadata["comment"] = spec.comment   # the mp4 muxer writes it as the ©cmt atom
        s = c.add_stream("libx264", rate=spec.fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.gop_size = spec.gop
        # scenecut=0: otherwise x264 adds keyframes where it sees a cut and the GOP is not what the
        # demo promises (the media engine picks its filmstrip strategy by keyframe density).
        s.codec_context.options = {"preset": "veryfast", "crf": "26",
                                   "x264-params": f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0"}
        for i in range(spec.frames):
            for pkt in s.encode(av.VideoFrame.from_ndarray(render.frame(i), format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def first_frame(spec: ClipSpec) -> Image.Image:
    """The clip's first frame, as VideoHelperSuite saves it next to the video."""
    return Image.fromarray(_Renderer(spec).frame(0))


def save_png(path: Path, img: Image.Image, chunks: dict[str, str] | None = None) -> Path:
    """PNG with tEXt chunks (ComfyUI's `prompt`/`workflow`)."""
    info = PngImagePlugin.PngInfo()
    for k, v in (chunks or {}).items():
        info.add_text(k, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    # compress_level 1: the scenes are smooth, so this is nearly as small and several times faster.
    img.save(path, pnginfo=info, compress_level=1)
    return path


def still(label: str, *, seed: int, size: tuple[int, int] = DEFAULT_SIZE, subtitle: str | None = None
          ) -> Image.Image:
    """A base image: a scene with the label bar (and an optional second line)."""
    w, h = size
    img = _scene(w, h, seed)
    bar_h = max(18, h // 8)
    _blend(img[h - bar_h:], *_text_layer(w, label, bar_h, max(10, bar_h * 2 // 3)))
    if subtitle:
        _blend(img[:bar_h], *_text_layer(w, subtitle, bar_h, max(9, bar_h // 2)))
    return Image.fromarray(img)


def make_broken_video(path: Path) -> Path:
    """A text file with a video name: the app must show it as failed, not crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("This is not a video. The demo adds it so the failed state is visible.\n")
    return path
