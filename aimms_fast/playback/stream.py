"""One open take for playback: a decode thread fills a buffer of pane-sized RGBA frames around the
playhead.

Why a thread per take: PyAV releases the GIL while decoding and scaling, so the UI thread keeps
drawing while each open take decodes ahead of its playhead; the UI only ever picks ready frames
(`get`/`nearest`) and never waits on a decoder while playing. Single steps may `wait`.

The exact-frame work (timestamp table from one demux pass, frame N = seek to the keyframe at or
before N and decode forward, rotation / sample aspect / alpha) is `media.frames.ClipDecoder`; this
module adds the scheduling around it:

- The buffer is a dict index -> (h, w, 4) uint8 RGBA at the pane size, bounded by a memory budget
  (`budget_bytes // (w*h*4)` frames, at least 2). A quarter of it is kept *behind* the playhead
  (so stepping back inside it costs no decode, xStudio-style; half of it while paused, when a
  user steps back and forth with the arrows) and the rest *ahead* in the play direction (Open RV notes a larger look-ahead buys nothing; the budget caps it anyway).
  Over budget, the frames farthest outside that window go first.
- The decode thread always works on the first missing frame from the playhead in the play
  direction. Forward that continues the running decoder (no seek). Backwards (J) it decodes GOP
  chunks: the keyframe at or before the missing frame up to it, keeping every frame of the chunk
  that lies in the window, then the chunk before — one seek per GOP, not one per frame.
- Frames decoded on the way to a target are converted only if they fall inside the window; older
  non-reference frames are not decoded at all (ClipDecoder `keep`), which makes long-GOP jumps
  cheaper.
- When the playhead jumps, the running chunk is abandoned at the next decoded frame if it no
  longer leads to a frame we want; during plain playback (playhead +1 per frame) it goes on.

Scaling uses one long-lived RgbaConverter per thread (it keeps its swscale contexts;
frame.reformat() builds a new one per call: 2.4 vs 1.3 ms for 1080p -> 128x72). RGBA goes through
rgb24 (or gbrap for alpha): swscale's direct rgba writer is wrong at some widths (media/frames.py).
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from aimms_fast.errors import MediaError
from aimms_fast.media.frames import ClipDecoder, RgbaConverter, display_size, frame_has_alpha, to_rgba

log = logging.getLogger(__name__)

MIN_FRAMES = 2          # the buffer holds at least this many frames whatever the budget says
BEHIND_SHARE = 4        # 1/BEHIND_SHARE of the buffer stays behind the playhead while playing
PAUSED_BEHIND_SHARE = 2  # paused (stepping with the arrows): half of it, as back is as likely as on

STEP_SETTLE_S = 0.04    # paused: refills wait this long after a step while the near frames are buffered
SETTLE_NEAR = 2         # ... i.e. the playhead's frame and SETTLE_NEAR frames each side of it
DECODE_NICE = 5   # look-ahead decode runs below the UI thread, which must present each frame on time


def _lower_priority() -> None:
    """Lower this decode thread's CPU priority (Linux: nice applies per thread). The ring buffer
    absorbs a late decode; a late UI frame is a dropped frame. Linux only: elsewhere a thread id
    is not a valid `setpriority` target (it could name another process)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), DECODE_NICE)
    except (AttributeError, OSError):
        pass


@dataclass(frozen=True, eq=False)
class StreamInfo:
    """Facts about an open take (eq=False: it holds an array; compare fields, not objects)."""
    path: str
    frame_count: int
    fps: float                 # nominal (average) rate: frame_count / duration
    duration: float            # seconds, first frame to the end of the last
    times: np.ndarray          # float64 seconds of each frame index from the first frame (VFR honoured)
    width: int                 # display size: sample aspect and rotation applied
    height: int
    rotation: int              # degrees counter-clockwise, as PyAV reports frame.rotation
    has_alpha: bool
    has_audio: bool

    def index_at(self, t: float) -> int:
        """The frame shown at t seconds from the first frame (last i with times[i] <= t), clamped."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return min(max(i, 0), self.frame_count - 1)


class _Abort(Exception):
    """Raised inside a decode when the playhead moved away from what it was decoding for."""


def _clean_size(size) -> tuple[int, int]:
    w, h = int(size[0]), int(size[1])
    if w < 1 or h < 1:
        raise ValueError(f"pane size {w}x{h}: both sides must be at least 1 pixel")
    return w, h


class TakeStream:
    """One open take. A decode thread (PyAV releases the GIL) fills a ring buffer of decoded frames
    around the playhead, sized by a memory budget; frames are converted to the pane size.

    Thread use: every public method may be called from any thread (the UI thread normally); they
    only take a short lock, except `wait`, `wait_idle` and `full_frame`, which block."""

    def __init__(self, path, *, size: tuple[int, int], budget_bytes: int = 96 << 20):
        self.path = str(path)
        size = _clean_size(size)
        if not Path(self.path).is_file():
            raise MediaError("file not found", path=self.path, hint="the take's file was moved or deleted")
        dec = ClipDecoder(self.path)            # raises MediaError for what FFmpeg cannot read
        try:
            f0 = dec.frame(0)                   # decodable at all? also gives rotation and alpha
            rotation = int(f0.rotation or 0) % 360    # PyAV says -90 for 270
            n = dec.frame_count
            times = np.array([dec.time_of(i) for i in range(n)], dtype=np.float64)
            # The end of the last frame: its packet duration where the container gives one (exact
            # for VFR), else ClipDecoder's even-spacing estimate.
            if dec.last_duration > 0:
                duration = float(times[-1] + float(dec.last_duration * dec.time_base))
            else:
                duration = dec.duration
            if duration <= 0:                   # a single frame: one nominal frame long
                duration = 1.0 / (dec.fps or 25.0)
            w, h = display_size(dec.width, dec.height, dec.sample_aspect, rotation)
            self.info = StreamInfo(
                path=self.path, frame_count=n, fps=n / duration, duration=duration, times=times,
                width=w, height=h, rotation=rotation, has_alpha=frame_has_alpha(f0),
                has_audio=dec.has_audio)
            self._ref = RgbaConverter()         # decode thread only (and here, before it starts)
            first = to_rgba(f0, size, rotation, reformatter=self._ref)
        except MediaError:
            dec.close()
            raise
        except (av.FFmpegError, ValueError, OSError) as e:
            dec.close()
            raise MediaError(f"the first frame cannot be decoded ({e})", path=self.path) from None
        self._dec = dec
        self.budget_bytes = int(budget_bytes)
        self.error: str | None = None
        self._cond = threading.Condition()
        self._size = size
        self._cap = self._cap_for(size)
        self._buf: dict[int, np.ndarray] = {0: first}
        self._bytes = first.nbytes
        self._play, self._dir = 0, 1
        self._paused = False
        self._stepped_at = 0.0                  # monotonic time of the last want() (see _settle_wait)
        self._gen = 0                           # bumped by want(): the decode checks it per frame
        self._size_gen = 0                      # bumped by set_size(): frames in flight are stale
        self._full_q: list[tuple[int, Future]] = []
        self._closing = False
        self._idle = False
        self._hits = self._misses = 0
        self._thread = threading.Thread(target=self._run, name=f"decode {Path(self.path).name}",
                                        daemon=True)
        self._thread.start()

    # -- UI side ------------------------------------------------------------------------------
    def _cap_for(self, size: tuple[int, int]) -> int:
        return max(MIN_FRAMES, self.budget_bytes // (size[0] * size[1] * 4))

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def set_size(self, size: tuple[int, int]) -> None:
        """Frames from now on are converted to `size` (w, h); the buffer is dropped (its frames
        have the old size) and the playhead frame is decoded again first."""
        size = _clean_size(size)
        with self._cond:
            if size == self._size:
                return
            self._size = size
            self._cap = self._cap_for(size)
            self._buf.clear()
            self._bytes = 0
            self._size_gen += 1
            self._gen += 1
            self._idle = False
            self._cond.notify_all()

    def want(self, index: int, direction: int = 1, *, paused: bool = False) -> None:
        """The playhead moved to `index`, playing towards `direction` (+1 forward, -1 back): decode
        that frame first (if not buffered), then ahead of it in that direction. `paused`: the user
        steps frame by frame, so half the buffer (not a quarter) is kept behind the playhead."""
        index = self._clamp(index)
        d = 1 if direction >= 0 else -1
        paused = bool(paused)
        with self._cond:
            if index == self._play and d == self._dir and paused == self._paused:
                return
            self._play, self._dir, self._paused = index, d, paused
            self._stepped_at = time.monotonic()
            self._gen += 1
            self._idle = False
            self._cond.notify_all()

    def get(self, index: int) -> np.ndarray | None:
        """Frame `index` as (h, w, 4) uint8 RGBA at the pane size, or None if not decoded yet.
        The array is never written again: the UI may keep it."""
        with self._cond:
            arr = self._buf.get(index)
            if arr is None:
                self._misses += 1
            else:
                self._hits += 1
            return arr

    def wait(self, index: int, timeout: float = 2.0) -> np.ndarray | None:
        """Move the playhead to `index` (same direction as before) and block until that frame is
        ready; None on timeout, on a decode error (see `error`) or after close()."""
        index = self._clamp(index)
        self.want(index, self._dir, paused=self._paused)
        with self._cond:
            arr = self._buf.get(index)
            if arr is not None:
                self._hits += 1
                return arr
            self._misses += 1
            self._cond.wait_for(lambda: index in self._buf or self.error is not None or self._closing,
                                timeout)
            return self._buf.get(index)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until the decode thread has filled the window around the playhead (tests,
        benchmarks). False on timeout; True also when the thread stopped on an error."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._idle or self.error is not None or not self._thread.is_alive(), timeout)

    def nearest(self, index: int) -> tuple[int, np.ndarray] | None:
        """The best ready frame at or before `index` (what to show while `index` decodes)."""
        with self._cond:
            best = max((i for i in self._buf if i <= index), default=None)
            return None if best is None else (best, self._buf[best])

    def buffered(self) -> list[int]:
        """Indices decoded and ready, ascending (tests, the scrub bar)."""
        with self._cond:
            return sorted(self._buf)

    def index_at(self, t: float) -> int:
        """Frame shown at t seconds from the first frame (last i with times[i] <= t), clamped."""
        return self.info.index_at(t)

    def full_frame(self, index: int, timeout: float = 30.0) -> np.ndarray:
        """The exact frame `index` at full display resolution (h, w, 4) uint8 RGBA (promote).
        Served by the decode thread ahead of its look-ahead work; if that thread has stopped (error,
        close) a private decoder is opened for it. Raises MediaError."""
        index = self._clamp(index)
        fut: Future = Future()
        with self._cond:
            alive = self._thread.is_alive() and not self._closing and self.error is None
            if alive:
                self._full_q.append((index, fut))
                self._idle = False
                self._cond.notify_all()
        if not alive:
            with ClipDecoder(self.path) as dec:
                if index >= dec.frame_count:          # the file changed since it was opened
                    raise MediaError(f"frame {index} is no longer in the file ({dec.frame_count} frames)",
                                     path=self.path)
                return self._full(dec.frame(index))
        try:
            return fut.result(timeout)
        except TimeoutError:
            raise MediaError(f"frame {index} took over {timeout:.0f} s to decode", path=self.path) from None

    @property
    def stats(self) -> dict:
        """decoded (frames out of the decoder), seeks, hits / misses (get and wait calls that found
        their frame ready or not), buffered (frames held), bytes (their size), capacity (frames)."""
        with self._cond:
            return {"decoded": self._dec.decoded, "seeks": self._dec.seeks, "hits": self._hits,
                    "misses": self._misses, "buffered": len(self._buf), "bytes": self._bytes,
                    "capacity": self._cap}

    def close(self) -> None:
        """Stop the decode thread (it abandons its current frame) and close the file. Idempotent."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if self._thread.is_alive():
            log.warning("decode thread of %s did not stop within 10 s", self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _clamp(self, index: int) -> int:
        return min(max(int(index), 0), self.info.frame_count - 1)

    # -- buffer window (callers hold the lock) ---------------------------------------------------
    def _window(self) -> tuple[int, int]:
        """Inclusive index range the buffer should hold around the playhead."""
        behind = self._cap // (PAUSED_BEHIND_SHARE if self._paused else BEHIND_SHARE)
        ahead = self._cap - behind - 1
        p, last = self._play, self.info.frame_count - 1
        if self._dir > 0:
            return max(0, p - behind), min(last, p + ahead)
        return max(0, p - ahead), min(last, p + behind)

    def _next_task(self) -> int | None:
        lo, hi = self._window()
        i = self._play
        while lo <= i <= hi:
            if i not in self._buf:
                return i
            i += self._dir
        return None

    def _settle_wait(self, task: int | None) -> float:
        """Seconds to hold a refill back right after a frame step (paused), so that the step's
        render has the CPU to itself (a GOP decode behind the playhead is ~100 ms of CPU at 1080p).
        Never when the playhead's own frame, or one of its near neighbours, is missing."""
        if task is None or not self._paused:
            return 0.0
        left = STEP_SETTLE_S - (time.monotonic() - self._stepped_at)
        if left <= 0:
            return 0.0
        p = self._play
        if any(self._clamp(p + k) not in self._buf for k in range(-SETTLE_NEAR, SETTLE_NEAR + 1)):
            return 0.0
        return left

    def _store(self, i: int, arr: np.ndarray, size_gen: int) -> None:
        if size_gen != self._size_gen or i in self._buf:
            return
        lo, hi = self._window()
        if not lo <= i <= hi:
            return
        self._buf[i] = arr
        self._bytes += arr.nbytes
        while len(self._buf) > self._cap:
            far = max(self._buf, key=lambda k: lo - k if k < lo else k - hi)
            if lo <= far <= hi:
                break                       # cannot happen (window <= cap); never drop wanted frames
            self._bytes -= self._buf.pop(far).nbytes
        self._cond.notify_all()

    def _still_useful(self, pos: int, target: int) -> bool:
        """After a want(): does decoding on towards `target` (now at `pos`) still serve?"""
        lo, hi = self._window()
        if not lo <= target <= hi:
            return False
        p = self._play
        return p in self._buf or pos < p <= target

    # -- decode thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        dec = self._dec
        _lower_priority()
        try:
            while True:
                with self._cond:
                    while True:
                        if self._closing:
                            return
                        if self._full_q:
                            job = ("full", *self._full_q.pop(0))
                            break
                        task = self._next_task()
                        wait = self._settle_wait(task)
                        if wait > 0:
                            self._cond.wait(wait)
                            continue
                        if task is not None:
                            lo, _ = self._window()
                            job = ("frame", task, task - lo, self._gen, self._size_gen, self._size)
                            break
                        self._idle = True
                        self._cond.notify_all()
                        self._cond.wait()
                    self._idle = False
                if job[0] == "full":
                    _, index, fut = job
                    if fut.set_running_or_notify_cancel():
                        try:
                            fut.set_result(self._full(dec.frame(index)))
                        except Exception as e:      # the caller's result() re-raises it
                            fut.set_exception(e)
                    continue
                try:
                    self._decode_to(*job[1:])
                except _Abort:
                    continue
        except MediaError as e:
            self._fail(str(e))
        except Exception as e:  # noqa: BLE001 - any decode failure marks this take, never the app
            log.exception("decode thread of %s failed", self.path)
            self._fail(f"decoding failed: {type(e).__name__}: {e}")
        finally:
            with self._cond:
                pending, self._full_q = self._full_q, []
                self._idle = True
                self._cond.notify_all()
            for _, fut in pending:
                if fut.set_running_or_notify_cancel():
                    fut.set_exception(MediaError(self.error or "the take was closed", path=self.path))
            dec.close()

    def _fail(self, message: str) -> None:
        with self._cond:
            self.error = message
            self._cond.notify_all()

    def _decode_to(self, target: int, keep: int, gen: int, size_gen: int, size) -> None:
        ref = self._ref
        seen = [gen]

        def on_decoded(i, f):
            with self._cond:
                if self._closing or self._full_q or self._size_gen != size_gen:
                    raise _Abort
                if self._gen != seen[0]:
                    if not self._still_useful(i, target):
                        raise _Abort
                    seen[0] = self._gen
                lo, hi = self._window()
                if i in self._buf or not lo <= i <= hi:
                    return
            arr = to_rgba(f, size, f.rotation or 0, reformatter=ref)   # outside the lock: ~1 ms
            with self._cond:
                self._store(i, arr, size_gen)

        f = self._dec.frame(target, on_decoded=on_decoded, keep=max(0, keep))
        with self._cond:
            lo, hi = self._window()
            missing = target not in self._buf and lo <= target <= hi
        if missing:
            # The decoder never produced `target` itself (a frame lost in a damaged file): the next
            # frame stands in for it, or the thread would decode towards it forever.
            arr = to_rgba(f, size, f.rotation or 0, reformatter=ref)
            with self._cond:
                self._store(target, arr, size_gen)

    def _full(self, frame) -> np.ndarray:
        rot = frame.rotation or 0
        w, h = display_size(frame.width, frame.height, self._dec.sample_aspect, rot)
        return to_rgba(frame, (w, h), rot)   # no shared reformatter: rare, and any thread may call
