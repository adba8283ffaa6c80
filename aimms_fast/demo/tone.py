"""Clips with a known audio/video relation: silence with a 1 kHz burst on chosen video frames.

They are what the audio-sync tests (and anyone checking sync by ear) play: each burst begins at the
presentation time of one listed video frame and lasts exactly one frame, so "the burst starts at
the sample `AudioTrack.sample_at(times[frame])`" is the whole sync claim.

The burst is a cosine, so its first sample is at full amplitude: an onset detector then finds the
exact sample in PCM tracks (a sine would start at 0 and cross any threshold a sample or two late).
An optional audio start offset makes the audio stream begin later (> 0) or earlier (< 0) than the
video stream, as clips cut from a longer recording often do; the player must honour it.

The pictures are demo.numbered's (each frame shows its index in binary blocks, so a screenshot
says which frame was on screen when a burst sounded). Video is H.264 in mp4/mov/mkv (the suffix
of `path` picks the container); audio is AAC (the common case, with its encoder priming) or PCM
(bit-exact positions). Timestamps are written in 1/90000 s for video and 1/sample_rate for audio,
so mp4 and mov keep them exactly; Matroska rounds every timestamp to 1 ms.
"""
from __future__ import annotations

import fractions
from pathlib import Path

import av
import numpy as np

from aimms_fast.demo.numbered import render_numbered_frame

TONE_HZ = 1000.0
TONE_AMPLITUDE = 0.5
VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
AUDIO_CODECS = ("aac", "pcm_s16le")


def burst_pcm(*, frames: int, fps: float, tone_frames: list[int], sample_rate: int = 48000,
              audio_start_offset_s: float = 0.0) -> tuple[np.ndarray, float, float]:
    """Mono float32 PCM of the audio stream, and the start times (video_start_s, audio_start_s)
    both streams get so that the audio begins `audio_start_offset_s` after the video (the earlier
    stream starts at 0). The audio runs to the end of the last video frame; a burst on a frame
    before the audio starts is cut where the audio begins."""
    video_start = max(0.0, -audio_start_offset_s)
    audio_start = max(0.0, audio_start_offset_s)
    end = video_start + frames / fps
    n = max(0, int(round((end - audio_start) * sample_rate)))
    pcm = np.zeros(n, np.float32)
    length = int(round(sample_rate / fps))
    phase = 2 * np.pi * TONE_HZ * np.arange(length) / sample_rate
    tone = (TONE_AMPLITUDE * np.cos(phase)).astype(np.float32)
    for f in tone_frames:
        if not 0 <= f < frames:
            raise ValueError(f"tone frame {f} is outside the clip's {frames} frames")
        at = int(round((float(_frame_pts(f, fps, video_start) * VIDEO_TIME_BASE) - audio_start)
                       * sample_rate))
        a, b = max(0, at), min(n, at + length)
        if b > a:
            pcm[a:b] = tone[a - at:b - at]
    return pcm, video_start, audio_start


def _frame_pts(index: int, fps: float, video_start: float) -> int:
    # The burst is placed at the frame's *written* timestamp (rounded to the time base), so the
    # file's own pts, not the ideal i/fps, is what the sync test compares with.
    return int(round((video_start + index / fps) / VIDEO_TIME_BASE))


def make_tone_clip(path, *, frames: int, fps: float, tone_frames: list[int],
                   size: tuple[int, int] = (160, 90), sample_rate: int = 48000,
                   audio_start_offset_s: float = 0.0, audio_codec: str = "aac") -> Path:
    """Write an H.264 clip of `frames` frames at `fps` with an audio track (`audio_codec` "aac" or
    "pcm_s16le", stereo, `sample_rate`) that is silent except a 1 kHz burst one frame long
    starting at the presentation time of each frame in `tone_frames`. Returns the path."""
    path = Path(path)
    fmt = CONTAINERS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: tone clips are .mp4, .mov or .mkv")
    if audio_codec not in AUDIO_CODECS:
        raise ValueError(f"audio_codec must be one of {AUDIO_CODECS}, not {audio_codec!r}")
    pcm, video_start, audio_start = burst_pcm(frames=frames, fps=fps, tone_frames=tone_frames,
                                              sample_rate=sample_rate,
                                              audio_start_offset_s=audio_start_offset_s)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=fmt) as c:
        v = c.add_stream("libx264", rate=fractions.Fraction(fps).limit_denominator(100000))
        v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
        v.time_base = v.codec_context.time_base = VIDEO_TIME_BASE
        a = c.add_stream(audio_codec, rate=sample_rate)
        a.layout = "stereo"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(render_numbered_frame(i, size), format="rgb24")
            frame.pts, frame.time_base = _frame_pts(i, fps, video_start), VIDEO_TIME_BASE
            for p in v.encode(frame):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        _write_audio(c, a, pcm, audio_start, sample_rate)
    return path


def _write_audio(c, stream, pcm: np.ndarray, start_s: float, sample_rate: int) -> None:
    fmt = stream.codec_context.format.name
    # AAC takes frame_size (1024) samples per frame (a shorter last one is allowed); PCM any count.
    step = stream.codec_context.frame_size or 1024
    first = int(round(start_s * sample_rate))
    tb = fractions.Fraction(1, sample_rate)
    for pos in range(0, len(pcm), step):
        chunk = pcm[pos:pos + step]
        if fmt == "fltp":
            arr = np.stack([chunk, chunk])
        elif fmt == "s16":
            arr = np.round(np.repeat(chunk, 2) * 32767).astype(np.int16)[None, :]
        else:  # an encoder default we have not met: fail loudly instead of writing noise
            raise ValueError(f"unexpected sample format {fmt} for {stream.codec_context.name}")
        frame = av.AudioFrame.from_ndarray(arr, format=fmt, layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = sample_rate, first + pos, tb
        for p in stream.encode(frame):
            c.mux(p)
    for p in stream.encode():
        c.mux(p)
