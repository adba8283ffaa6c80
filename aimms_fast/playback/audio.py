"""A take's audio, played in sync with the player's video clock.

Three parts, so that sync can be tested without a sound card:

- `AudioTrack`: the first audio stream decoded once, whole, to 48 kHz stereo float32 (PyAV's
  AudioResampler), plus `offset_s`, where the audio starts relative to the first video frame.
  AI takes are seconds long: 10 s of PCM is 3.8 MB, and decoding it whole makes every seek and
  every scheduled block a slice instead of a seek in the file.
- `AudioFollower`: the clock logic. The UI thread reports the video position; the audio thread asks
  which samples to play next. The audio free-runs from its own position (no clicks) and jumps to
  the video clock only after a seek or when the two drift more than `RESYNC_S` (40 ms: about one
  frame, below what viewers notice as lip-sync error, ITU-R BT.1359 puts it at +45/-125 ms).
  It plays only at rate 1 forward (like most NLEs at J/L speeds it stays silent rather than
  play chipmunk or reversed sound) and writes zeros when muted or paused.
- `AudioOut`: a sounddevice output stream whose callback asks an AudioFollower for each block.

Why sounddevice (PortAudio) and not miniaudio (pyminiaudio), measured on this headless Debian 12
machine without a sound card: both install from PyPI (sounddevice is pure Python + cffi; its
Windows/macOS wheels bundle PortAudio, on Linux it needs the tiny `libportaudio2` package).
With no device, sounddevice imports in 18 ms and opening an output fails at once with a clean
`PortAudioError` (no device), printing nothing. pyminiaudio fails with an opaque code
("failed to init device", -401) and libasound prints ~70 lines of ALSA errors to stderr on every
attempt; its device list offers a "discard all samples" null device that would look like success.
sounddevice is also the more widely used of the two (numpy-native callbacks, maintained by the
spatialaudio group; 0.5.6 here), and its callback reports when the block will reach the DAC
(`outputBufferDacTime`), which is exactly the latency the sync needs.

Threads: `AudioTrack` may be built on any thread (better off the UI thread: decoding costs about
1.3 ms per second of audio here, 70-80 ms and 23 MB for 60 s of 44.1 or 48 kHz AAC).
`AudioOut.sync`/`AudioFollower.sync` are called on the UI thread every frame; `AudioFollower.fill`
runs on the audio library's callback thread. They share one immutable `SyncState`, swapped by a
single attribute assignment (atomic under the GIL), so neither locks.
No dearpygui here.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

import av
import numpy as np

from aimms_fast.errors import MediaError

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
CHANNELS = 2
RESYNC_S = 0.040
# 10 minutes of 48 kHz stereo float32 is 220 MB; longer audio is cut there (and says so in
# `truncated`) rather than filling memory: review takes are seconds to a few minutes long.
MAX_SECONDS = 600.0


def _open(path) -> "av.container.InputContainer":
    try:
        return av.open(str(path))
    except FileNotFoundError as e:
        raise MediaError("file not found", path=path, hint="the take's file was moved or deleted") from e
    except (av.FFmpegError, OSError, ValueError) as e:
        raise MediaError(f"cannot open as media ({e})", path=path,
                         hint="the file is damaged or not audio/video; re-export it") from e


def has_audio(path) -> bool:
    """Whether the file has an audio stream. Any thread. Raises MediaError when it cannot be opened
    (a damaged file is an error to show, not a silent 'no audio')."""
    with _open(path) as c:
        return bool(c.streams.audio)


def _video_start(c) -> float:
    """Presentation time of the first video frame in seconds (0 for audio-only files): the
    stream's start_time, else the smallest pts among its first packets (decode order is not
    presentation order when B-frames are present; 32 packets cover any reorder depth H.264 allows)."""
    streams = [s for s in c.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
    if not streams:
        return 0.0
    vs = streams[0]
    if vs.start_time is not None:
        return float(vs.start_time * vs.time_base)
    pts = []
    for pkt in c.demux(vs):
        if pkt.pts is not None:
            pts.append(pkt.pts)
        if len(pts) >= 32:
            break
    c.seek(0)
    return float(min(pts) * vs.time_base) if pts else 0.0


class AudioTrack:
    """Decoded PCM of a take's first audio stream: `pcm` is float32 (n, 2) at 48 kHz.

    `offset_s` is the audio start minus the video start (from the first decoded frame's pts, which
    is where sample 0 really plays; the stream's start_time, then the first packet's pts, when the
    frames carry none). `sample_at(t)` maps video time t (seconds from the first video frame, as
    StreamInfo.times) to the index in `pcm` that plays then; it may lie outside the PCM, where
    `schedule` gives silence. Raises MediaError when the file cannot be read or has no audio.
    """

    def __init__(self, path, *, max_seconds: float = MAX_SECONDS):
        self.path = str(path)
        self.sample_rate = SAMPLE_RATE
        self.truncated = False          # cut at max_seconds
        self.error: str | None = None   # set when a damaged tail stopped decoding early
        with _open(path) as c:
            if not c.streams.audio:
                raise MediaError("no audio stream", path=path, hint="check has_audio() first")
            video_start = _video_start(c)
            stream = c.streams.audio[0]
            self.codec = stream.codec_context.name
            self.source_rate = stream.codec_context.sample_rate or stream.rate or SAMPLE_RATE
            audio_start, chunks = self._decode(c, stream, max_seconds)
        self.pcm = np.concatenate(chunks) if chunks else np.zeros((0, CHANNELS), np.float32)
        self.offset_s = audio_start - video_start

    def _decode(self, c, stream, max_seconds: float) -> tuple[float, list[np.ndarray]]:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=SAMPLE_RATE)
        limit = int(max_seconds * SAMPLE_RATE)
        chunks, count, start = [], 0, None
        try:
            for frame in c.decode(stream):
                if start is None and frame.pts is not None:
                    start = float(frame.pts * frame.time_base)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, CHANNELS))
                    count += chunks[-1].shape[0]
                if count >= limit:
                    self.truncated = True
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1, CHANNELS))
        except (av.FFmpegError, ValueError) as e:
            if not chunks:
                raise MediaError(f"audio cannot be decoded ({e})", path=self.path,
                                 hint="the audio track is damaged; re-export the take") from e
            # A damaged tail: play what decoded (silence after it), as probe keeps a damaged
            # clip's readable frames; the player may show `error`.
            self.error = f"audio decoding stopped after {count / SAMPLE_RATE:.2f} s ({e})"
            log.warning("%s: %s", self.path, self.error)
        if start is None:
            if stream.start_time is not None:
                start = float(stream.start_time * stream.time_base)
            else:
                start = self._first_packet_time(c, stream)
        if self.truncated:
            chunks = [np.concatenate(chunks)[:limit]]
        return start, chunks

    @staticmethod
    def _first_packet_time(c, stream) -> float:
        c.seek(0)
        for pkt in c.demux(stream):
            if pkt.pts is not None:
                return float(pkt.pts * stream.time_base)
        return 0.0

    @property
    def duration_s(self) -> float:
        return self.pcm.shape[0] / self.sample_rate

    def sample_at(self, video_time: float) -> int:
        """Index in `pcm` of the sample that plays at `video_time` (may be < 0 or >= len)."""
        return int(math.floor((video_time - self.offset_s) * self.sample_rate + 0.5))

    def samples(self, start: int, n: int) -> np.ndarray:
        """`pcm[start:start+n]` as a new (n, 2) array, zeros where it lies outside the PCM."""
        out = np.zeros((n, CHANNELS), np.float32)
        a, b = max(0, start), min(self.pcm.shape[0], start + n)
        if b > a:
            out[a - start:b - start] = self.pcm[a:b]
        return out

    def schedule(self, video_time: float, n: int) -> np.ndarray:
        """The n samples (n, 2) to play from `video_time` on: silence before the audio starts
        and after it ends."""
        return self.samples(self.sample_at(video_time), n)


@dataclass(frozen=True)
class SyncState:
    """What the UI thread last said: the video was at `video_time` at monotonic time `t`."""
    video_time: float
    t: float
    rate: float
    muted: bool
    epoch: int          # bumped on every seek or rate change: the audio must jump, not drift back


class AudioFollower:
    """Keeps an audio read position aligned with the video clock (device-free; AudioOut drives it).

    The video clock between two `sync` calls is extrapolated from the last one (the Transport itself
    is a wall clock times a rate, so this is exact). Pass the transport's continuous position, not
    the start time of the frame on screen: that lags by up to a frame, and at low frame rates the
    lag alone exceeds RESYNC_S and would count as a seek.
    """

    def __init__(self, track: AudioTrack, *, clock: Callable[[], float] = time.monotonic,
                 resync_s: float = RESYNC_S):
        self.track = track
        self.clock = clock
        self.resync_s = resync_s
        self._state: SyncState | None = None
        self._pos: int | None = None       # audio thread only: next sample to play; None = silent
        self._epoch = -1                   # audio thread only: the epoch _pos was aligned to
        self.resyncs = 0                   # audio thread only (read for stats/tests)
        self.last_start: int | None = None  # audio thread only: first sample of the last block played

    def sync(self, video_time: float, rate: float, muted: bool) -> None:
        """UI thread, every frame. A jump away from the extrapolated clock by more than resync_s,
        or a change of rate, is a seek: the audio jumps with it at its next block."""
        now = self.clock()
        old = self._state
        if old is not None and old.rate == rate:
            predicted = old.video_time + (now - old.t) * old.rate
            if abs(video_time - predicted) <= self.resync_s:
                if old.muted != muted:
                    self._state = SyncState(old.video_time, old.t, rate, muted, old.epoch)
                return   # keep the anchor: re-anchoring on every call would add the UI's jitter
        epoch = old.epoch + 1 if old is not None else 0
        self._state = SyncState(video_time, now, rate, muted, epoch)

    def video_time_at(self, t: float) -> float | None:
        st = self._state
        return None if st is None else st.video_time + (t - st.t) * st.rate

    def fill(self, out: np.ndarray, dac_delay: float = 0.0) -> int | None:
        """Audio thread: write the next len(out) samples into `out` (n, 2) float32. `dac_delay`:
        seconds from now until the block's first sample is heard. Returns the first sample index
        played, or None when it wrote silence (paused, muted, not at rate 1, or never synced)."""
        st = self._state
        if st is None or st.rate != 1.0 or st.muted:
            out.fill(0.0)
            self._pos = None
            self.last_start = None
            return None
        target = self.track.sample_at(st.video_time + (self.clock() + dac_delay - st.t) * st.rate)
        if (self._pos is None or st.epoch != self._epoch
                or abs(self._pos - target) > self.resync_s * self.track.sample_rate):
            self._pos, self._epoch = target, st.epoch
            self.resyncs += 1
        start = self._pos
        out[:] = self.track.samples(start, out.shape[0])
        self._pos = start + out.shape[0]
        self.last_start = start
        return start


_said: set[str] = set()


def _say_once(reason: str) -> None:
    if reason not in _said:
        _said.add(reason)
        log.warning("audio plays silently: %s", reason)


def _sounddevice():
    """The sounddevice module, or (None, why). Importing it loads PortAudio (about 18 ms)."""
    try:
        import sounddevice
    except OSError as e:   # the Python package is there but libportaudio is not
        return None, f"PortAudio library not found ({e}); install libportaudio2"
    except ImportError as e:
        return None, f"sounddevice is not installed ({e})"
    return sounddevice, None


class AudioOut:
    """Plays an AudioTrack through the default output device, following `sync` calls.

    `available` is False (and `reason` says why, logged once per process) when there is no track,
    no PortAudio or no output device; then every method is a cheap no-op and the take plays
    silently. The stream runs from construction to `close()` (writing zeros while paused) so that
    pressing play costs nothing on the UI thread. Build it on any thread (with its AudioTrack, off
    the UI thread: opening a device can take tens of milliseconds); `sync` and `close` on the UI
    thread.
    """

    def __init__(self, track: AudioTrack | None, *, device=None):
        self.track = track
        self.available = False
        self.reason: str | None = None
        self.underflows = 0
        self._stream = None
        self._follower = AudioFollower(track) if track is not None else None
        if track is None:
            self.reason = "the take has no audio track"
            return
        sd, why = _sounddevice()
        if sd is None:
            self.reason = why
            _say_once(why)
            return
        try:
            sd.query_devices(device, kind="output")   # raises when there is no (default) output
            self._stream = sd.OutputStream(samplerate=track.sample_rate, channels=CHANNELS,
                                           dtype="float32", device=device, callback=self._callback)
            self._latency = float(self._stream.latency)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            self.reason = f"no audio output device ({e})"
            _say_once(self.reason)
            self.close()
            return
        self.available = True

    @property
    def follower(self) -> AudioFollower | None:
        return self._follower

    def _callback(self, outdata, frames, time_info, status) -> None:
        # The audio library's thread. Host APIs that cannot time the DAC report 0: use the
        # stream's nominal output latency instead.
        if status.output_underflow:
            self.underflows += 1
        delay = time_info.outputBufferDacTime - time_info.currentTime
        if not 0.0 <= delay < 1.0 or time_info.outputBufferDacTime == 0.0:
            delay = self._latency
        self._follower.fill(outdata, delay)

    def sync(self, video_time: float, rate: float, muted: bool) -> None:
        """UI thread, every frame: the video is at `video_time` (seconds from its first frame)
        playing at `rate`. Audio plays only at rate 1; `muted` writes zeros."""
        if self.available:
            self._follower.sync(video_time, rate, muted)

    def close(self) -> None:
        """UI thread. Stops and closes the stream (then `available` is False); safe twice."""
        stream, self._stream = self._stream, None
        self.available = False
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # the device vanished under us; nothing is left to release
                log.exception("closing the audio stream failed")
