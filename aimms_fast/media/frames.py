"""Exact frames of a clip, for scrubbing, playback and filmstrips.

`ClipDecoder` is one open clip: container, one decoder and the presentation-order table of packet
timestamps (one demux-only pass at open: it gives the exact frame count, where the keyframes are,
and lets us name frames by index even in VFR files). Frame N = seek back to the keyframe at or
before N, decode forward. Stepping forward reuses the running decoder: N+1 after N never seeks.

`FrameServer` keeps a few clips open (LRU) and a small LRU of decoded frames per clip, so stepping
back inside the current GOP does not re-decode it.
"""
from __future__ import annotations

import bisect
import os
import stat
from collections import OrderedDict
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from aimms_fast.errors import MediaError

# Decoding forward from the current position beats a seek unless the keyframe before the target
# lies more than this many frames ahead: a seek costs a flush + demuxer reposition, about one decode.
FORWARD_SLACK = 2


def pick_video_stream(container) -> "av.video.stream.VideoStream":
    """The first real video stream (skips cover-art 'attached picture' streams)."""
    for s in container.streams.video:
        if not (s.disposition & av.stream.Disposition.attached_pic):
            return s
    if container.streams.audio:
        raise MediaError("no video stream (audio only)", path=container.name,
                         hint="video takes need a file with a picture track")
    raise MediaError("no video stream", path=container.name)


def open_decoder(stream):
    """The stream's decoder, except VP8/VP9 with alpha: FFmpeg's native decoders drop the alpha
    plane (it travels as Matroska BlockAdditional side data); libvpx decodes it as yuva420p."""
    name = stream.codec_context.name
    if stream.metadata.get("alpha_mode") == "1" and name in ("vp8", "vp9"):
        lib = "libvpx-vp9" if name == "vp9" else "libvpx"
        try:
            return av.CodecContext.create(lib, "r")
        except (av.FFmpegError, ValueError):  # this FFmpeg build lacks libvpx: opaque frames
            pass
    return stream.codec_context


def frame_has_alpha(frame) -> bool:
    fmt = frame.format
    return fmt.has_palette or any(c.is_alpha for c in fmt.components)


def display_size(width: int, height: int, sar, rotation: int) -> tuple[int, int]:
    """Width x height as shown: sample aspect stretches the width, then rotation may swap."""
    w = width * float(sar) if sar else float(width)
    w, h = max(1, round(w)), max(1, int(height))
    return (h, w) if rotation % 180 else (w, h)


class RgbaConverter:
    """The long-lived swscale contexts `to_rgba` uses: one scales/converts the decoded frame, one
    packs rgb24 into rgba. Keep one per thread (a VideoReformatter is not thread-safe) and reuse it
    for frames alike: it keeps its swscale context (frame.reformat() builds a new one each call:
    2.4 vs 1.3 ms for 1080p -> 128x72)."""

    def __init__(self):
        self.scale = VideoReformatter()
        self.pack = VideoReformatter()


# An output frame is allocated whole (w*h*4 bytes, plus swscale's buffers): `frame --size
# 30000x30000` asked for 3.6 GB. 8K UHD is the largest picture anyone needs from a take.
MAX_FRAME_SIDE = 8192
MAX_FRAME_PIXELS = 7680 * 4320


def check_frame_size(w, h) -> None:
    """MediaError unless (w, h) is a frame size this module will make."""
    try:
        w, h = int(w), int(h)
    except (TypeError, ValueError):
        raise MediaError(f"frame size {w!r}x{h!r} is not two whole numbers") from None
    if w < 1 or h < 1 or w > MAX_FRAME_SIDE or h > MAX_FRAME_SIDE or w * h > MAX_FRAME_PIXELS:
        raise MediaError(f"frame size {w}x{h} is out of range", field="size",
                         hint=f"each side 1..{MAX_FRAME_SIDE} and at most {MAX_FRAME_PIXELS:,} pixels "
                              "(7680x4320, 8K UHD)")


def to_rgba(frame, size: tuple[int, int], rotation: int, *, fmt: str = "rgba",
            reformatter: RgbaConverter | VideoReformatter | None = None) -> np.ndarray:
    """Scale + convert one decoded frame to an array of exactly `size` (w, h) as displayed.

    Rotation is applied after scaling (cheaper: the rotate copies a small array). Rotation is
    counter-clockwise degrees, as PyAV reports `frame.rotation`. Pass a long-lived `RgbaConverter`
    (or a VideoReformatter) when converting many frames alike.

    fmt="rgba" never asks swscale for rgba straight from the decoded format: with this FFmpeg (8.1)
    its packed 32-bit writers (rgba, bgra) put garbage into the last 2-4 columns when the width
    leaves 2 or 4 over a multiple of 16 (180, 196, 212 ...), and with slice threads now and then
    into the first 4-8 columns (854, 1100; scaled too), for yuv and yuva sources alike. rgb24 and
    planar gbrap are right at every width (tests/test_frames.py sweeps them). So opaque frames go
    yuv -> rgb24 -> rgba (the second pass is a plain byte shuffle, correct at every width) and
    frames with alpha go to gbrap, which PyAV returns as (h, w, 4) RGBA. Measured cost (2 cores,
    median of 40): 1080p -> 960x540 1.37 ms (was 1.01), 1080p 1:1 1.07 ms (was 0.51), 960x540 1:1
    0.25 ms (was 0.15); gbrap (alpha only): 1.9 / 6.3 / 1.4 ms.
    """
    w, h = size
    turns = (rotation // 90) % 4
    sw, sh = (h, w) if turns % 2 else (w, h)
    if isinstance(reformatter, RgbaConverter):
        scale, pack = reformatter.scale, reformatter.pack
    else:
        scale, pack = reformatter or VideoReformatter(), None
    if fmt != "rgba":
        arr = scale.reformat(frame, width=sw, height=sh, format=fmt).to_ndarray()
    elif frame_has_alpha(frame):
        arr = scale.reformat(frame, width=sw, height=sh, format="gbrap").to_ndarray()
    else:
        rgb = scale.reformat(frame, width=sw, height=sh, format="rgb24")
        arr = (pack or VideoReformatter()).reformat(rgb, format="rgba").to_ndarray()
    if turns:
        arr = np.ascontiguousarray(np.rot90(arr, k=turns))
    return arr


class ClipDecoder:
    """One open clip; `frame(i)` returns the exact decoded frame i (presentation order)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        try:
            mode = os.stat(self.path).st_mode
        except OSError as e:
            raise MediaError(f"cannot read the file ({e.strerror or e})", path=self.path) from None
        if not stat.S_ISREG(mode):  # FFmpeg would block forever reading a FIFO
            raise MediaError("not a regular file (a FIFO, device or folder)", path=self.path)
        try:
            self._c = av.open(self.path, metadata_errors="ignore")
        except av.FFmpegError as e:
            raise MediaError(f"not a video FFmpeg can read ({_ffmpeg_reason(e)})", path=self.path) from None
        try:
            self._s = pick_video_stream(self._c)
            self._ctx = open_decoder(self._s)
            self.alpha_decoder = self._ctx is not self._s.codec_context
            self._build_table()
        except BaseException:
            self._c.close()
            raise
        self.time_base = self._s.time_base
        self.width, self.height = self._s.width, self._s.height
        self.sample_aspect = self._s.sample_aspect_ratio
        self.rotation = 0          # known for sure once a frame was decoded (frame.rotation)
        self.seeks = 0             # counters for tests and benchmarks
        self.decoded = 0
        self._gen = None           # running decode generator (None: next access seeks)
        self._pos = -1             # index of the last frame the generator produced

    # -- the timestamp table ----------------------------------------------------------------
    def _build_table(self) -> None:
        pts: list[int] = []
        keys: list[int] = []
        ordinal = False
        last = (None, 0)                          # (pts, duration) of the last frame shown
        for pkt in self._c.demux(self._s):
            if pkt.size == 0 or pkt.is_discard:   # EOF flush packet / frames the decoder drops
                continue
            p = pkt.pts if pkt.pts is not None else pkt.dts
            if p is None:
                ordinal = True
                p = len(pts)
            elif last[0] is None or p > last[0]:
                last = (p, pkt.duration or 0)
            pts.append(p)
            if pkt.is_keyframe:
                keys.append(p)
        if not pts:
            raise MediaError("no video frames (the file is truncated or holds only headers)",
                             path=self.path, hint="re-export or re-download the clip")
        uniq = sorted(set(pts))
        # Without distinct timestamps frames can only be counted in decode-output order.
        self.ordinal = ordinal or len(uniq) != len(pts)
        self.pts = uniq if not self.ordinal else list(range(len(pts)))
        # How long the last frame is shown (time_base units; 0 = the container does not say).
        self.last_duration = last[1] if not self.ordinal else 0
        self._index_of = {p: i for i, p in enumerate(self.pts)}
        if self.ordinal:
            self.key_index = [0]
        else:
            self.key_index = sorted({self._index_of[k] for k in keys}) or [0]
        self._gen = None
        self._pos = -1

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    @property
    def keyframe_count(self) -> int:
        return len(self.key_index)

    @property
    def has_audio(self) -> bool:
        """The container also holds an audio track (the player then plays it in sync)."""
        return bool(self._c.streams.audio)

    def time_of(self, index: int) -> float:
        """Seconds from the first frame."""
        if self.ordinal:
            fps = float(self._s.average_rate or self._s.guessed_rate or 25)
            return index / fps
        return float((self.pts[index] - self.pts[0]) * self.time_base)

    @property
    def duration(self) -> float:
        n = self.frame_count
        if n < 2:
            return 0.0
        return self.time_of(n - 1) * n / (n - 1)

    @property
    def fps(self) -> float:
        d = self.duration
        if d > 0:
            return self.frame_count / d
        return float(self._s.average_rate or self._s.guessed_rate or 0)

    def key_before(self, index: int) -> int:
        return self.key_index[max(0, bisect.bisect_right(self.key_index, index) - 1)]

    # -- decoding ---------------------------------------------------------------------------
    def _decode_all(self):
        ctx = self._ctx
        for pkt in self._c.demux(self._s):
            policy = self._skip_policy
            if policy is not None:
                ctx.skip_frame = policy(pkt)
            try:
                frames = ctx.decode(pkt)
            except av.error.EOFError:
                return
            except av.FFmpegError:
                continue  # one corrupt packet: skip it, later keyframes recover the picture
            for f in frames:
                self.decoded += 1
                yield f

    _skip_policy = None

    def _index(self, frame) -> int:
        if not self.ordinal and frame.pts is not None:
            i = self._index_of.get(frame.pts)
            if i is not None:
                return i
            return bisect.bisect_left(self.pts, frame.pts)
        return self._pos + 1

    def _seek_to(self, index: int) -> None:
        if self._gen is not None:
            self._gen.close()
        if index <= 0 or self.ordinal:
            self._c.seek(self.pts[0] if not self.ordinal else 0, stream=None if self.ordinal else self._s,
                         backward=True, any_frame=False)
            index = 0
        else:
            self._c.seek(self.pts[index], stream=self._s, backward=True, any_frame=False)
        self._ctx.flush_buffers()
        self.seeks += 1
        self._gen = self._decode_all()
        self._pos = index - 1

    def frame(self, index: int, on_decoded=None, keep: int | None = None):
        """The exact frame `index` as an av.VideoFrame. `on_decoded(i, frame)` sees every frame
        decoded on the way (the frame server caches them). `keep`: only the last `keep` frames
        before `index` need a picture (a cache of that size would drop older ones anyway), so
        older non-reference frames are skipped: long-GOP jumps get cheaper."""
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} out of range 0..{self.frame_count - 1}")
        kb = self.key_before(index)
        if self._gen is None or not (self._pos < index and kb <= self._pos + FORWARD_SLACK):
            self._seek_to(kb)
        temporary = keep is not None and self._skip_policy is None and not self.ordinal
        if temporary:
            lo, where = index - keep, self._index_of
            self._skip_policy = lambda pkt: ("NONREF" if pkt.pts is not None and where.get(pkt.pts, lo) < lo
                                             else "DEFAULT")
        try:
            for attempt in range(2):
                first = True
                for f in self._gen:
                    i = self._index(f)
                    if first and i > index and attempt == 0 and kb > 0:
                        break                     # the demuxer landed after the keyframe: bad index
                    first = False
                    self._pos = i
                    self.rotation = f.rotation or 0
                    if on_decoded is not None:
                        on_decoded(i, f)
                    if i >= index:
                        return f
                else:
                    self._gen = None
                    raise MediaError(f"frame {index} could not be decoded (the file ends early)",
                                     path=self.path)
                self._seek_to(0)                   # retry from the very start
            raise MediaError(f"frame {index}: seeking in this file does not work", path=self.path)
        finally:
            if temporary:
                self._skip_policy = None
                self._ctx.skip_frame = "DEFAULT"

    def want_only(self, indices) -> None:
        """From now on let the decoder skip non-reference frames that are not in `indices`
        (None: decode everything again). Skipping cannot break the picture of later frames
        (nothing refers to a non-reference frame) and saves a large part of the work on
        B-frame-rich clips when only a few frames are wanted (filmstrips)."""
        if indices is None or self.ordinal:
            self._skip_policy = None
            self._ctx.skip_frame = "DEFAULT"
            return
        need = {self.pts[i] for i in indices}
        self._skip_policy = lambda pkt: "DEFAULT" if (pkt.pts is None or pkt.pts in need) else "NONREF"

    def frames(self, wanted: list[int]):
        """Yield (index, frame) for each wanted index (ascending) in one sequential decode from
        the start (a frame the decoder cannot produce is stood in for by the next one)."""
        want = sorted(set(wanted))
        if not want:
            return
        self._seek_to(0)
        j = 0
        for f in self._gen:
            i = self._index(f)
            self._pos = i
            self.rotation = f.rotation or 0
            while j < len(want) and want[j] <= i:
                yield want[j], f
                j += 1
            if j == len(want):
                return

    def keyframes(self, limit: int, max_index: int | None = None):
        """Up to `limit` keyframes from the start (none past `max_index`), decoding nothing else
        (skip_frame NONKEY: 2-3 ms per 288p poster, 17-19 ms at 1080p)."""
        ctx = self._ctx
        saved, self._skip_policy = self._skip_policy, None
        try:
            self._seek_to(0)
            ctx.skip_frame = "NONKEY"
            n = 0
            for f in self._gen:
                i = self._index(f)
                self._pos = i
                if n and max_index is not None and i > max_index:
                    return
                if n and not f.key_frame:
                    continue  # decoders that ignore skip_frame (libvpx) still give us all frames
                self.rotation = f.rotation or 0
                yield i, f
                n += 1
                if n >= limit:
                    return
        finally:
            ctx.skip_frame = "DEFAULT"
            self._skip_policy = saved
            self._gen = None

    def close(self) -> None:
        if self._gen is not None:
            self._gen.close()
            self._gen = None
        self._c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _ffmpeg_reason(e: Exception) -> str:
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg).split(":")[0].strip() if msg else type(e).__name__


class _OpenTake:
    def __init__(self, path: str, lru_frames: int, lru_bytes: int):
        self.dec = ClipDecoder(path)
        frame_bytes = max(1, self.dec.width * self.dec.height * 3 // 2)  # yuv420p
        self.cap = max(2, min(lru_frames, lru_bytes // frame_bytes))
        self.frames: OrderedDict[int, object] = OrderedDict()
        self.reformatter = RgbaConverter()

    def remember(self, i: int, f) -> None:
        self.frames[i] = f
        self.frames.move_to_end(i)
        while len(self.frames) > self.cap:
            self.frames.popitem(last=False)


class FrameServer:
    """Exact frames of a few open takes, for the player and scrubbing. Not thread-safe: use it
    from one thread (the UI's player) or one per thread.

    Each open take holds one decoder and an LRU of up to `lru_frames` decoded frames (kept in the
    decoder's own pixel format: a 1080p yuv420p frame is 3 MB, so the count is also capped by
    `lru_bytes` per take)."""

    def __init__(self, max_open: int = 4, lru_frames: int = 32, lru_bytes: int = 128 << 20):
        self.max_open = max(1, max_open)
        self.lru_frames = max(1, lru_frames)
        self.lru_bytes = lru_bytes
        self._open: OrderedDict[str, _OpenTake] = OrderedDict()

    def _take(self, abs_path) -> _OpenTake:
        key = str(abs_path)
        t = self._open.get(key)
        if t is None:
            if not Path(key).is_file():
                raise MediaError("file not found", path=key)
            t = _OpenTake(key, self.lru_frames, self.lru_bytes)
            self._open[key] = t
            while len(self._open) > self.max_open:
                _, old = self._open.popitem(last=False)
                old.dec.close()
        self._open.move_to_end(key)
        return t

    def decoder(self, abs_path) -> ClipDecoder:
        """The open decoder of a take (stats: `.seeks`, `.decoded`)."""
        return self._take(abs_path).dec

    def info(self, abs_path) -> dict:
        t = self._take(abs_path)
        d = t.dec
        if d.rotation == 0 and not t.frames:
            self.frame(abs_path, 0, size=(16, 16))  # rotation is only certain on decoded frames
        w, h = display_size(d.width, d.height, d.sample_aspect, d.rotation)
        return {"frame_count": d.frame_count, "fps": d.fps, "width": w, "height": h,
                "coded_width": d.width, "coded_height": d.height, "rotation": d.rotation,
                "duration": d.duration, "keyframe_count": d.keyframe_count}

    def frame(self, abs_path, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """Frame `index` as (h, w, 4) RGBA uint8 at `size` (w, h), default the display size.
        A `size` beyond MAX_FRAME_SIDE / MAX_FRAME_PIXELS is refused (MediaError) before decoding."""
        if size is not None:
            check_frame_size(*size)
        t = self._take(abs_path)
        f = t.frames.get(index)
        if f is None:
            f = t.dec.frame(index, on_decoded=t.remember, keep=t.cap)
        else:
            t.frames.move_to_end(index)
        rot = f.rotation or 0
        if size is None:
            size = display_size(f.width, f.height, t.dec.sample_aspect, rot)
        return to_rgba(f, (int(size[0]), int(size[1])), rot, reformatter=t.reformatter)

    def close(self) -> None:
        for t in self._open.values():
            t.dec.close()
        self._open.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
