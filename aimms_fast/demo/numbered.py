"""Clips whose every frame carries its own index in pixels, for frame-accuracy tests and benchmarks.

A frame shows a row of 12 black/white blocks across the middle of the picture: the frame index in
binary, most significant bit on the left. The blocks are a twelfth of ~88 % of the width and 28 % of
the height, so they survive H.264 and a downscale to a quarter of the width and height (a 320x180
clip read at 80x45 still has 5-pixel blocks; `read_frame_number` samples only the middle half of
each block). Behind the blocks is a colour that changes with the index, shaded by a gradient in x
and y: no row or column of a frame is flat, which is how the reader finds the picture inside a
screenshot crop (letterbox bars are flat and get trimmed).

Options cover what the playback engine must get right: GOP length (keyframe distance, exact: x264
scene-cut detection off), B-frames (decode order differs from display order), variable frame rate
(explicit presentation times), rotation (the stream's display matrix) and an audio track with a
1 kHz tone burst at the presentation time of chosen frames (audio/video sync tests). The audio is
written here with PyAV: AAC in .mp4 (the muxer's edit list hides the encoder's priming samples),
PCM s16le in .mov/.mkv (sample exact, no priming at all).

Rendering is one numpy broadcast add of two precomputed ramps: 1080p in ~3 ms, so encoding (x264)
is what a clip costs: 320x180 test clips take a fraction of a second.
"""
from __future__ import annotations

import colorsys
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

BITS = 12
MAX_FRAMES = 1 << BITS
AUDIO_RATE = 48000
TONE_HZ = 1000.0

# Layout as fractions of the picture (also what the reader samples).
_X0, _X1 = 0.06, 0.94           # the block row spans this part of the width
_Y0, _Y1 = 0.36, 0.64           # ... and this band of the height
_TIME_BASE = Fraction(1, 90000)  # VFR clips: the MPEG tick, fine enough for any frame time


def _base_colour(i: int) -> np.ndarray:
    """Mid-bright, saturated colour for index i (channels 80..210: never near black or white, so
    the blocks stand out and the gradient on top of it is never flat)."""
    r, g, b = colorsys.hsv_to_rgb((i * 0.137) % 1.0, 0.6, 0.82)
    return (np.array([r, g, b]) * 130 + 80).astype(np.uint16)


@lru_cache(maxsize=4)
def _ramps(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The shade 0.45..1.0 rising to the right and down, as the sum of an x ramp and a y ramp
    (additive, so a frame is one broadcast add of two small arrays: 1080p in ~3 ms, where
    multiplying a full gradient by the colour took ~45 ms)."""
    return (0.45 + 0.3 * np.linspace(0.0, 1.0, w))[None, :, None], (0.25 * np.linspace(0.0, 1.0, h))[:, None, None]


def _block_edges(n: int, lo: float, hi: float, count: int) -> np.ndarray:
    return np.round(np.linspace(lo * n, hi * n, count + 1)).astype(int)


def render_numbered_frame(i: int, size: tuple[int, int]) -> np.ndarray:
    """The RGB picture (h, w, 3) uint8 of frame i at size (w, h)."""
    if not 0 <= i < MAX_FRAMES:
        raise ValueError(f"frame index {i} does not fit in {BITS} bits")
    w, h = size
    xr, yr = _ramps(w, h)
    c = _base_colour(i)
    img = np.empty((h, w, 3), np.uint8)
    np.add(np.round(xr * c).astype(np.uint8), np.round(yr * c).astype(np.uint8), out=img)
    xs = _block_edges(w, _X0, _X1, BITS)
    y0, y1 = int(round(_Y0 * h)), int(round(_Y1 * h))
    for k in range(BITS):
        bit = (i >> (BITS - 1 - k)) & 1
        img[y0:y1, xs[k]:xs[k + 1]] = 255 if bit else 0
    return img


def read_frame_number(rgb: np.ndarray) -> int:
    """The frame index drawn in a decoded frame (RGB or RGBA, any size the blocks survive, also a
    screenshot crop with flat letterbox bars around the picture). Raises ValueError when the
    picture holds no readable number (a blank or half-drawn pane)."""
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] < 3:
        raise ValueError(f"expected an (h, w, 3|4) image, got shape {a.shape}")
    luma = a[..., :3].astype(np.float32).mean(axis=2)
    colour = a[..., :3].astype(np.float32)
    # Trim flat border rows/columns (letterbox, pane background): picture rows never are flat.
    rows = np.flatnonzero(colour.std(axis=1).max(axis=1) > 2.5)
    cols = np.flatnonzero(colour.std(axis=0).max(axis=1) > 2.5)
    if len(rows) < 8 or len(cols) < 2 * BITS:
        raise ValueError("no numbered frame in this image (it is flat or too small)")
    luma = luma[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = luma.shape
    xs = _block_edges(w, _X0, _X1, BITS).astype(float)
    # Sample the middle of each block only: edges blur under H.264 and scaling.
    y0 = int(round((_Y0 + (_Y1 - _Y0) * 0.25) * h))
    y1 = max(y0 + 1, int(round((_Y1 - (_Y1 - _Y0) * 0.25) * h)))
    value = 0
    for k in range(BITS):
        bw = xs[k + 1] - xs[k]
        x0 = int(round(xs[k] + bw * 0.25))
        x1 = max(x0 + 1, int(round(xs[k + 1] - bw * 0.25)))
        m = float(luma[y0:y1, x0:x1].mean())
        if 70.0 < m < 185.0:
            raise ValueError(f"block {k} is neither black nor white (mean {m:.0f}): not a numbered frame")
        value = (value << 1) | (m >= 128.0)
    return value


def _tone_pcm(times: list[float], tone_frames: list[int], frame_len: list[float], total_s: float
              ) -> np.ndarray:
    """Mono float32 PCM at AUDIO_RATE: silence, and a 1 kHz sine burst from the presentation time
    of each listed frame for that frame's duration (the burst starts at phase 0: its first
    non-zero sample is the sample after the burst's start)."""
    n = int(np.ceil(total_s * AUDIO_RATE))
    pcm = np.zeros(n, np.float32)
    for f in tone_frames:
        start = int(round(times[f] * AUDIO_RATE))
        length = max(1, int(round(frame_len[f] * AUDIO_RATE)))
        t = np.arange(length, dtype=np.float64) / AUDIO_RATE
        burst = (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
        pcm[start:start + length] = burst[:max(0, n - start)]
    return pcm


def tone_start_sample(times: list[float], frame: int) -> int:
    """The PCM sample (from the start of the video) where the burst of `frame` begins."""
    return int(round(times[frame] * AUDIO_RATE))


def make_numbered_clip(path, *, frames: int = 48, fps: float = 24.0, size: tuple[int, int] = (320, 180),
                       gop: int = 24, codec: str = "libx264", vfr_times: list[float] | None = None,
                       rotation: int = 0, audio_tone_frames: list[int] | None = None,
                       bframes: int = 2, preset: str = "veryfast", crf: int = 23) -> Path:
    """Encode a clip whose frame i shows the number i (see the module docstring).

    `gop`: frames from one keyframe to the next, exactly (libx264; other encoders get gop_size).
    `vfr_times`: presentation time in seconds of each frame (strictly increasing); it sets the
    frame count and makes the clip variable-rate (`fps` is then only the nominal rate the encoder
    is told). `rotation`: degrees (multiple of 90, counter-clockwise as PyAV's frame.rotation)
    written as the stream's display matrix, as phones do; the picture is stored turned back, so it
    reads upright at `size` only when the player applies the rotation. `audio_tone_frames`: add a 48 kHz mono audio track, silent except a
    1 kHz burst one frame long starting at the presentation time of each listed frame.
    `bframes`, `preset`, `crf`: libx264 settings (B-frames make decode order differ from display
    order, as in real camera and AI-generator files)."""
    path = Path(path)
    w, h = int(size[0]), int(size[1])
    if w % 2 or h % 2:
        raise ValueError(f"size {w}x{h}: width and height must be even (yuv420p)")
    if vfr_times is not None:
        times = [float(t) for t in vfr_times]
        if not times or any(b <= a for a, b in zip(times, times[1:])) or times[0] < 0:
            raise ValueError("vfr_times must be non-negative and strictly increasing")
        frames = len(times)
    else:
        times = [i / fps for i in range(frames)]
    if not 0 < frames <= MAX_FRAMES:
        raise ValueError(f"frames={frames}: between 1 and {MAX_FRAMES}")
    # Each frame lasts until the next; the last one a nominal frame.
    frame_len = [b - a for a, b in zip(times, times[1:])] + [1.0 / fps]
    rate = Fraction(fps).limit_denominator(1001)
    turns = (rotation // 90) % 4
    if rotation % 90:
        raise ValueError(f"rotation {rotation}: a multiple of 90 degrees")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=rate)
        # `size` is the size as displayed: a rotated clip stores the picture turned back, so a
        # player that honours the display matrix shows the number upright (and one that ignores
        # it shows it sideways, unreadable).
        s.width, s.height = (h, w) if turns % 2 else (w, h)
        s.pix_fmt = "yuv420p"
        s.codec_context.gop_size = gop
        if vfr_times is not None:
            s.codec_context.time_base = _TIME_BASE
            s.time_base = _TIME_BASE
        if codec == "libx264":
            # scenecut=0 / min-keyint: otherwise x264 puts keyframes where it likes and the GOP is
            # not the one the test or benchmark asked for.
            s.codec_context.options = {
                "preset": preset, "crf": str(crf), "bf": str(bframes),
                "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        if rotation % 360:
            s.set_display_rotation(rotation)
        a = None
        if audio_tone_frames:
            bad = [f for f in audio_tone_frames if not 0 <= f < frames]
            if bad:
                raise ValueError(f"audio_tone_frames {bad} outside 0..{frames - 1}")
            acodec = "aac" if path.suffix.lower() in (".mp4", ".m4v") else "pcm_s16le"
            a = c.add_stream(acodec, rate=AUDIO_RATE, layout="mono")
        for i in range(frames):
            img = render_numbered_frame(i, (w, h))
            if turns:
                img = np.ascontiguousarray(np.rot90(img, k=-turns))   # undone by the display matrix
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            if vfr_times is not None:
                vf.pts = int(round(times[i] / _TIME_BASE))
                vf.time_base = _TIME_BASE
            for pkt in s.encode(vf):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
        if a is not None:
            _write_audio(c, a, _tone_pcm(times, sorted(set(audio_tone_frames)), frame_len,
                                         times[-1] + frame_len[-1]))
    return path


def _write_audio(container, stream, pcm: np.ndarray) -> None:
    fmt = "fltp" if stream.codec_context.name == "aac" else "s16"
    chunk = stream.codec_context.frame_size or 1024
    pts = 0
    for start in range(0, len(pcm), chunk):
        part = pcm[start:start + chunk]
        if fmt == "s16":
            data = (np.clip(part, -1, 1) * 32767).astype(np.int16)[None, :]
        else:
            if len(part) < chunk:                 # the AAC encoder takes whole frames only
                part = np.pad(part, (0, chunk - len(part)))
            data = part[None, :]
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout="mono")
        af.sample_rate = AUDIO_RATE
        af.pts = pts
        af.time_base = Fraction(1, AUDIO_RATE)
        pts += data.shape[1]
        for pkt in stream.encode(af):
            container.mux(pkt)
    for pkt in stream.encode():
        container.mux(pkt)
