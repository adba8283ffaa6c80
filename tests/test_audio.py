"""Audio/video sync of the player's audio: where each sample is scheduled, not what a speaker does.

Clips from demo.tone carry a 1 kHz burst starting at the presentation time of known video frames.
We find the bursts in the decoded PCM (energy onset) and check that the sample AudioTrack schedules
for that frame's time (ClipDecoder.time_of, the times the player shows frames at) is the onset.

Tolerance: PCM is exact (0 samples: the burst is a cosine, full amplitude from its first sample).
AAC allows AAC_TOLERANCE = 48 samples (1 ms): the encoder's 1024 priming samples (21.3 ms) are
hidden by the container (mp4 edit list, Matroska codec delay), but only to its timing granularity:
Matroska ticks are 1 ms, and for an AAC track starting 0.25 s after the video FFmpeg's mp4 muxer
writes an empty edit of 228 ms (250 - 21.33, floored to the 1 ms movie timescale) followed by the
priming itself, so the file really plays the burst 32 samples (0.67 ms) early and we honour it
(measured with PyAV 18.1 / FFmpeg 8.1). A priming bug (delay not hidden, or hidden twice) shows
as about 1024 samples and fails.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

from aimms_fast.demo.numbered import make_numbered_clip, read_frame_number
from aimms_fast.demo.tone import make_tone_clip
from aimms_fast.errors import MediaError
from aimms_fast.media.frames import ClipDecoder
from aimms_fast.playback import audio
from aimms_fast.playback.audio import RESYNC_S, AudioFollower, AudioOut, AudioTrack, has_audio
from tests.conftest import make_video

AAC_TOLERANCE = 48
SR = 48000


def onsets(pcm: np.ndarray, threshold: float = 0.1, gap: int = 500) -> list[int]:
    """First sample of each burst: loud after at least `gap` quiet samples."""
    loud = np.flatnonzero(np.abs(pcm[:, 0]) > threshold)
    if not len(loud):
        return []
    return [int(loud[0])] + [int(b) for a, b in zip(loud, loud[1:]) if b - a > gap]


def video_times(path) -> list[float]:
    with ClipDecoder(path) as d:
        return [d.time_of(i) for i in range(d.frame_count)]


CASES = [  # suffix, audio codec, fps, audio start offset (s), tone frames, tolerance (samples)
    (".mp4", "aac", 24.0, 0.0, [5, 17, 40], AAC_TOLERANCE),
    (".mov", "pcm_s16le", 24.0, 0.0, [5, 17, 40], 0),
    (".mp4", "aac", 30.0, 0.25, [10, 17, 40], AAC_TOLERANCE),
    (".mov", "pcm_s16le", 30.0, 0.25, [10, 17, 40], 0),
    (".mkv", "aac", 30.0, -0.25, [5, 17, 40], AAC_TOLERANCE),
]


@pytest.mark.parametrize("suffix,codec,fps,offset,tones,tol", CASES,
                         ids=[f"{c[1]}{c[0]}-{c[2]:g}fps-offset{c[3]:g}" for c in CASES])
def test_bursts_are_scheduled_at_their_frames_time(tmp_path, suffix, codec, fps, offset, tones, tol):
    path = make_tone_clip(tmp_path / f"tone{suffix}", frames=48, fps=fps, tone_frames=tones,
                          audio_start_offset_s=offset, audio_codec=codec)
    track = AudioTrack(path)
    times = video_times(path)
    assert len(times) == 48
    assert track.sample_rate == SR and track.pcm.dtype == np.float32 and track.pcm.shape[1] == 2
    if codec == "aac":
        # offset_s is where pcm[0] plays: for a delayed AAC track in mp4 that is the priming's
        # start (0.228 s for 0.25 s, see above); the sample positions below are what must be right.
        assert offset - (1024 + tol) / SR <= track.offset_s <= offset + tol / SR
    else:
        assert track.offset_s == offset
    found = onsets(track.pcm)
    assert len(found) == len(tones), f"bursts at {found}, expected {len(tones)}"
    for frame, onset in zip(tones, found):
        scheduled = track.sample_at(times[frame])
        assert abs(scheduled - onset) <= tol, (frame, scheduled, onset)
    with ClipDecoder(path) as d:   # the burst frames are the frames the player shows then
        assert read_frame_number(d.frame(tones[1]).to_ndarray(format="rgb24")) == tones[1]


@pytest.mark.parametrize("suffix,tol", [(".mov", 0), (".mp4", AAC_TOLERANCE)])
def test_engine_numbered_clips_with_tone_are_in_sync(tmp_path, suffix, tol):
    # demo.numbered's clips (mono audio, B-frames) are what the player tests and benchmark use.
    # Their burst is a sine from phase 0: the first loud sample is the one after the burst start.
    path = make_numbered_clip(tmp_path / f"n{suffix}", frames=48, fps=24.0, size=(160, 90),
                              audio_tone_frames=[5, 17, 40])
    track, times = AudioTrack(path), video_times(path)
    found = onsets(track.pcm, threshold=0.01)
    assert len(found) == 3
    for frame, onset in zip([5, 17, 40], found):
        assert abs(track.sample_at(times[frame]) + 1 - onset) <= tol, (frame, onset)


def test_schedule_gives_the_burst_where_expected_and_silence_outside(tmp_path):
    path = make_tone_clip(tmp_path / "tone.mov", frames=48, fps=30.0, tone_frames=[10, 17, 40],
                          audio_start_offset_s=0.25, audio_codec="pcm_s16le")
    track, times = AudioTrack(path), video_times(path)
    # 10 ms before frame 17: 480 silent samples, then the burst (cosine: 0.5 at its first sample).
    block = track.schedule(times[17] - 0.010, 2400)
    assert block.shape == (2400, 2)
    assert not block[:480].any()
    assert block[480, 0] == pytest.approx(0.5, abs=1e-4) and block[480, 1] == block[480, 0]
    burst = 1600   # one 30 fps frame at 48 kHz
    assert np.abs(block[480:480 + burst]).max() == pytest.approx(0.5, abs=1e-3)
    assert not block[480 + burst:].any()
    # Before the audio starts (0.25 s into the video) and after it ends: silence, full length.
    assert track.sample_at(0.0) == -12000
    assert not track.schedule(0.0, 4800).any() and track.schedule(0.0, 4800).shape == (4800, 2)
    straddle = track.schedule(0.24, 960)   # 480 samples before the start, 480 of audio
    assert straddle.shape == (960, 2) and not straddle.any()   # the audio starts silent
    end = track.duration_s + track.offset_s
    assert not track.schedule(end - 0.001, 4800)[48:].any()
    assert track.schedule(end + 5.0, 100).shape == (100, 2)


class FakeClock:
    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def pcm_track(tmp_path_factory):
    path = make_tone_clip(tmp_path_factory.mktemp("tone") / "tone.mov", frames=48, fps=24.0,
                          tone_frames=[5, 17, 40], audio_codec="pcm_s16le")
    return AudioTrack(path), video_times(path)


def test_follower_plays_from_the_video_clock_and_free_runs(pcm_track):
    track, times = pcm_track
    clock = FakeClock()
    f = AudioFollower(track, clock=clock)
    out = np.empty((1024, 2), np.float32)
    assert f.fill(out) is None and not out.any()       # never synced: silence
    f.sync(times[17], 1.0, False)
    start = f.fill(out)
    assert start == track.sample_at(times[17]) == 34000
    assert out[0, 0] == pytest.approx(0.5, abs=1e-4)    # the burst of frame 17 plays now
    # The device asks again one block later: contiguous samples, no resync.
    clock.t += 1024 / SR
    assert f.fill(out) == start + 1024 and f.resyncs == 1
    # The UI keeps reporting the (drift-free) transport position: anchor kept, still contiguous.
    clock.t += 1024 / SR
    f.sync(times[17] + 2048 / SR, 1.0, False)
    assert f.fill(out) == start + 2048 and f.resyncs == 1
    # The device clock runs 30 ms ahead of the video clock: under RESYNC_S, audio keeps running.
    clock.t += 1024 / SR + 0.030
    assert f.fill(out) == start + 3072 and f.resyncs == 1
    # 30 + 20 ms: over RESYNC_S, audio jumps to where the video is.
    clock.t += 1024 / SR + 0.020
    expected = track.sample_at(times[17] + (clock.t - 100.0))
    assert f.fill(out) == expected and f.resyncs == 2


def test_follower_output_latency_seek_mute_and_rates(pcm_track):
    track, times = pcm_track
    clock = FakeClock()
    f = AudioFollower(track, clock=clock)
    out = np.empty((512, 2), np.float32)
    f.sync(times[5], 1.0, False)
    # The block is heard 50 ms from now: it must hold the samples for video time + 50 ms.
    assert f.fill(out, dac_delay=0.050) == track.sample_at(times[5] + 0.050)
    # A seek while playing (the transport jumped to frame 40): the next block follows at once.
    clock.t += 0.010
    f.sync(times[40], 1.0, False)
    assert f.fill(out) == track.sample_at(times[40]) == 80000
    assert out[0, 0] == pytest.approx(0.5, abs=1e-4)
    # Muted: zeros, but the clock keeps going; unmuting resumes in sync.
    clock.t += 0.5
    f.sync(times[40] + 0.5, 1.0, True)
    out.fill(1.0)
    assert f.fill(out) is None and not out.any()
    clock.t += 0.1
    f.sync(times[40] + 0.6, 1.0, False)
    assert f.fill(out) == track.sample_at(times[40] + 0.6)
    # Paused, 2x, reverse: silence (the picture shuttles, the sound waits).
    for rate in (0.0, 2.0, -1.0, 0.5):
        f.sync(times[17], rate, False)
        out.fill(1.0)
        assert f.fill(out) is None and not out.any(), rate
    # Play again from frame 17 after the pause: starts exactly on the burst.
    clock.t += 1.0
    f.sync(times[17], 1.0, False)
    assert f.fill(out) == 34000


def test_audio_out_without_a_device_is_a_silent_no_op(pcm_track, monkeypatch, caplog):
    track, times = pcm_track
    sd, no_portaudio = audio._sounddevice()
    has_device = False
    if sd is not None:
        try:
            sd.query_devices(kind="output")
            has_device = True
        except sd.PortAudioError:
            pass
    monkeypatch.setattr(audio, "_said", set())
    with caplog.at_level(logging.WARNING, logger="aimms_fast.playback.audio"):
        outs = [AudioOut(track), AudioOut(track)]
    try:
        for out in outs:
            assert out.available is has_device
            if has_device:   # a workstation with sound: the stream follows the clock (muted)
                out.sync(times[17], 1.0, True)
                assert out.follower.video_time_at(out.follower.clock()) >= times[17]
            else:            # this headless machine: a reason, said once, and sync does nothing
                assert out.reason == no_portaudio if sd is None else out.reason.startswith(
                    "no audio output device")
                out.sync(times[17], 1.0, False)
                assert out.follower.video_time_at(0.0) is None
        said = [r for r in caplog.records if "audio plays silently" in r.getMessage()]
        assert len(said) == (0 if has_device else 1)
    finally:
        for out in outs:
            out.close()
            out.close()   # twice is fine
    none = AudioOut(None)
    assert not none.available and none.reason == "the take has no audio track"
    none.sync(1.0, 1.0, False)
    none.close()


def test_has_audio_and_errors(tmp_path, pcm_track):
    silent = make_video(tmp_path / "silent.mp4", frames=6)
    assert has_audio(silent) is False
    assert has_audio(pcm_track[0].path) is True
    with pytest.raises(MediaError, match="no audio stream"):
        AudioTrack(silent)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(MediaError) as e:
        AudioTrack(broken)
    assert e.value.path == str(broken)
    with pytest.raises(MediaError):
        has_audio(broken)
    with pytest.raises(MediaError, match="file not found"):
        AudioTrack(tmp_path / "missing.mp4")


def test_a_truncated_file_plays_what_is_left(tmp_path):
    path = make_tone_clip(tmp_path / "tone.mkv", frames=48, fps=24.0, tone_frames=[5, 40])
    cut = tmp_path / "cut.mkv"
    data = path.read_bytes()
    cut.write_bytes(data[:len(data) // 2])          # a download that stopped halfway
    whole, part = AudioTrack(path), AudioTrack(cut)
    assert 0.3 < part.duration_s < whole.duration_s
    assert onsets(part.pcm) == onsets(whole.pcm)[:1]  # frame 5's burst survives, in place
    assert part.offset_s == whole.offset_s


def test_long_audio_is_cut_at_max_seconds(pcm_track):
    track = AudioTrack(pcm_track[0].path, max_seconds=0.5)
    assert track.truncated and track.pcm.shape == (SR // 2, 2)
    assert not pcm_track[0].truncated


STREAM_SCRIPT = r"""
import sys, time
import numpy as np
from aimms_fast.playback.audio import AudioOut, AudioTrack
from aimms_fast.media.frames import ClipDecoder
path = sys.argv[1]
track = AudioTrack(path)
with ClipDecoder(path) as d:
    t17 = d.time_of(17)
out = AudioOut(track)
assert out.available, out.reason
f = out.follower
time.sleep(0.05)
assert f.last_start is None                       # running, but silent until synced
t0 = time.monotonic()
out.sync(t17, 1.0, False)
time.sleep(0.1)
start, now = f.last_start, time.monotonic()
target = track.sample_at(t17 + (now - t0))
print("playing", start, target, f.resyncs, out.underflows)
out.sync(t17 + (time.monotonic() - t0), 1.0, True)
time.sleep(0.05)
print("muted", f.last_start)
out.close()
"""


def test_audio_out_drives_a_real_portaudio_stream(tmp_path, pcm_track):
    # ALSA's null plugin as the default device (through a private ~/.asoundrc): a real PortAudio
    # stream and callback thread on any machine, and no sound. It consumes samples as fast as the
    # callback makes them, so the audio position keeps running ahead and is pulled back each
    # time it leads by more than RESYNC_S: a busy loop for the 0.2 s this runs, and a good test of
    # the resync rule.
    import subprocess
    import sys
    from pathlib import Path
    if audio._sounddevice()[0] is None:
        pytest.fail("sounddevice/PortAudio missing: tools/bootstrap.sh installs libportaudio2")
    (tmp_path / ".asoundrc").write_text("pcm.!default {\n  type null\n}\n")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, pcm_track[0].path], env=env,
                       cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    start, target, resyncs, _ = (int(x) for x in lines["playing"].split())
    assert abs(start - target) <= RESYNC_S * SR + 4096, (start, target)
    assert resyncs > 1
    assert lines["muted"] == "None"
