"""Transport: the wall-clock playhead. A fake clock drives time; J/K/L, steps, seeks, in/out/loop,
ends, sync rules across takes of different fps and length, and dropped-frame counting."""
from __future__ import annotations

import numpy as np
import pytest

from aimms_fast.demo.numbered import make_numbered_clip, read_frame_number
from aimms_fast.playback.stream import StreamInfo, TakeStream
from aimms_fast.playback.transport import Transport


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


def info(n: int, fps: float, times=None, path="x.mp4") -> StreamInfo:
    """What TakeStream reports for a clip of n frames at fps (or at explicit VFR times)."""
    if times is None:
        times, duration = np.arange(n, dtype=np.float64) / fps, n / fps
    else:
        times = np.asarray(times, np.float64)
        duration = float(times[-1]) * n / (n - 1)
    return StreamInfo(path=path, frame_count=n, fps=n / duration, duration=duration, times=times,
                      width=320, height=180, rotation=0, has_alpha=False, has_audio=False)


def run(tr: Transport, clock: FakeClock, ticks: int, dt: float, show: bool = False) -> list[bool]:
    changed = []
    for _ in range(ticks):
        clock.advance(dt)
        changed.append(tr.tick())
        if show:
            tr.note_shown(tr.index)
    return changed


@pytest.fixture
def clock():
    return FakeClock()


def test_play_advances_one_frame_per_frame_time(clock):
    tr = Transport([info(240, 24)], clock=clock)
    tr.play()
    assert run(tr, clock, 30, 1 / 24) == [True] * 30
    assert tr.index == 30 and tr.rate == 1.0
    tr.pause()
    run(tr, clock, 10, 1 / 24)
    assert tr.index == 30 and not tr.playing


def test_never_drifts_with_irregular_ticks(clock):
    tr = Transport([info(2400, 24)], clock=clock)
    tr.play()
    rng = np.random.default_rng(3)
    total = 0.0
    for dt in rng.uniform(0.001, 0.09, 1500):
        clock.advance(dt)
        total += dt
        tr.tick()
    assert tr.index == int(total * 24 + 1e-6)
    assert tr.position == pytest.approx(total)


def test_shuttle_L_doubles_to_8x_and_J_mirrors(clock):
    tr = Transport([info(2400, 24)], clock=clock)
    tr.shuttle(+1)
    assert tr.rate == 1.0
    run(tr, clock, 10, 1 / 24)
    assert tr.index == 10
    tr.shuttle(+1)
    assert tr.rate == 2.0
    run(tr, clock, 10, 1 / 24)
    assert tr.index == 30
    tr.shuttle(+1)
    tr.shuttle(+1)
    tr.shuttle(+1)                      # a fifth L stays at 8x
    assert tr.rate == 8.0
    run(tr, clock, 10, 1 / 24)
    assert tr.index == 110
    tr.shuttle(-1)                      # J while going forward: 1x reverse
    assert tr.rate == -1.0
    run(tr, clock, 10, 1 / 24)
    assert tr.index == 100
    tr.shuttle(-1)
    assert tr.rate == -2.0
    run(tr, clock, 10, 1 / 24)
    assert tr.index == 80
    tr.shuttle(+1)                      # L while reversing: 1x forward
    assert tr.rate == 1.0
    run(tr, clock, 4, 1 / 24)
    assert tr.index == 84
    tr.pause()                          # K
    assert tr.rate == 0.0 and tr.index == 84


def test_direction_tells_the_decoders_where_to_read_ahead(clock):
    tr = Transport([info(100, 24)], clock=clock)
    assert tr.direction == 1
    tr.shuttle(-1)
    assert tr.direction == -1
    tr.pause()
    assert tr.direction == -1           # paused after J: the last move went back
    tr.step(1)
    assert tr.direction == 1
    tr.step(-1)
    assert tr.direction == -1
    tr.play()
    assert tr.direction == 1


def test_J_from_the_start_plays_back_from_the_end(clock):
    tr = Transport([info(48, 24)], clock=clock)
    tr.shuttle(-1)
    assert tr.index == 47 and tr.rate == -1.0
    run(tr, clock, 7, 1 / 24)
    assert tr.index == 40


def test_ends_stop_when_not_looping(clock):
    tr = Transport([info(48, 24)], clock=clock)
    tr.seek(40)
    tr.play()
    run(tr, clock, 20, 1 / 24)
    assert tr.index == 47 and tr.rate == 0.0
    tr.play()                           # at the end: Space starts over
    assert tr.index == 0 and tr.rate == 1.0
    tr.seek(5)
    tr.shuttle(-1)
    tr.shuttle(-1)
    run(tr, clock, 10, 1 / 24)
    assert tr.index == 0 and tr.rate == 0.0


def test_in_out_loop(clock):
    tr = Transport([info(100, 24)], clock=clock)
    tr.seek(10)
    tr.set_in()
    tr.seek(19)
    tr.set_out()
    assert (tr.in_index, tr.out_index) == (10, 19)
    tr.toggle_loop()
    tr.seek(10)
    tr.play()
    seen = []
    for _ in range(25):
        clock.advance(1 / 24)
        tr.tick()
        seen.append(tr.index)
    assert seen == [11, 12, 13, 14, 15, 16, 17, 18, 19] + list(range(10, 20)) + [10, 11, 12, 13, 14, 15]
    tr.shuttle(-1)                      # looping backwards wraps to the out point
    run(tr, clock, 8, 1 / 24)
    assert tr.index == 17
    tr.toggle_loop()                    # loop off: stops at the in point
    run(tr, clock, 30, 1 / 24)
    assert tr.index == 10 and tr.rate == 0.0
    tr.play()
    run(tr, clock, 30, 1 / 24)
    assert tr.index == 19 and tr.rate == 0.0
    tr.clear_in()
    tr.clear_out()
    tr.seek(50)
    tr.play()
    run(tr, clock, 30, 1 / 24)
    assert tr.index == 80


def test_setting_in_after_out_clears_out(clock):
    tr = Transport([info(100, 24)], clock=clock)
    tr.seek(30)
    tr.set_out()
    tr.seek(60)
    tr.set_in()
    assert (tr.in_index, tr.out_index) == (60, None)


def test_step_and_seek_clamp_and_step_pauses(clock):
    tr = Transport([info(48, 24)], clock=clock)
    tr.play()
    run(tr, clock, 3, 1 / 24)
    tr.step(1)
    assert tr.index == 4 and tr.rate == 0.0
    tr.step(-100)
    assert tr.index == 0
    tr.step(+100)
    assert tr.index == 47
    tr.seek(-3)
    assert tr.index == 0
    tr.seek(1000)
    assert tr.index == 47
    tr.first()
    tr.step_seconds(1.0)
    assert tr.index == 24
    tr.step_seconds(-10)
    assert tr.index == 0
    tr.last()
    assert tr.index == 47
    tr.step_seconds(5)
    assert tr.index == 47


def test_variable_frame_rate_master(clock):
    times = [0.0, 0.03, 0.1, 0.12, 0.3, 0.31, 0.5]
    tr = Transport([info(7, 24, times)], clock=clock)
    tr.play()
    got = []
    for dt in (0.02, 0.02, 0.05, 0.02, 0.1, 0.1, 0.005, 0.15):   # t = .02 .04 .09 .11 .21 .31 .315 .465
        clock.advance(dt)
        tr.tick()
        got.append(tr.index)
    assert got == [0, 1, 1, 2, 3, 5, 5, 5]
    tr.step(-1)
    assert tr.index == 4 and tr.position == pytest.approx(0.3)


def test_sync_frame_clamps_to_each_length(clock):
    a, b, c = info(48, 24), info(30, 30), info(100, 12)
    tr = Transport([a, b, c], clock=clock)
    tr.seek(20)
    assert tr.indices() == [20, 20, 20]
    tr.seek(40)
    assert tr.indices() == [40, 29, 40]
    tr.play()
    run(tr, clock, 5, 1 / 24)
    assert tr.indices() == [45, 29, 45]


def test_sync_time_maps_the_same_fraction(clock):
    a = info(48, 24)           # 2 s
    b = info(60, 30)           # 2 s at 30 fps
    c = info(120, 30)          # 4 s
    d = info(25, 12.5)         # 2 s at 12.5 fps
    tr = Transport([a, b, c, d], sync="time", clock=clock)
    tr.seek(24)                # 1.0 s = half of A
    assert tr.indices() == [24, 30, 60, 12]
    tr.seek(47)
    assert tr.indices() == [47, 58, 117, 24]
    tr.sync = "frame"
    assert tr.indices() == [47, 47, 47, 24]
    with pytest.raises(ValueError):
        tr.sync = "fraction"


def test_set_streams_keeps_the_playhead(clock):
    a, b = info(48, 24), info(96, 48)
    tr = Transport([a, b], sync="time", clock=clock)
    tr.seek(12)                          # 0.5 s of 2 s
    tr.set_streams([a, b, info(10, 10)])
    assert tr.index == 12
    tr.set_streams([b])                  # A closed: B is master, same fraction
    assert tr.index == 24 and tr.indices() == [24]
    tr.sync = "frame"
    tr.set_streams([info(10, 24), b])
    assert tr.index == 9


def test_dropped_counts_frames_the_ui_showed_late(clock):
    tr = Transport([info(480, 24)], clock=clock)
    tr.play()
    run(tr, clock, 24, 1 / 24, show=True)      # on time: nothing dropped
    assert tr.dropped == 0
    tr.note_shown(tr.index)                     # the same frame shown twice (60 Hz UI): fine
    assert tr.dropped == 0
    clock.advance(3 / 24)                       # one UI frame came 2 frames late
    tr.tick()
    tr.note_shown(tr.index)
    assert tr.dropped == 2
    clock.advance(1 / 24)                       # a frame not decoded in time: the UI keeps
    tr.tick()                                   # showing the previous one ...
    tr.note_shown(tr.index - 1)
    assert tr.dropped == 2
    clock.advance(1 / 24)                       # ... and the frame it never showed counts
    tr.tick()
    tr.note_shown(tr.index)
    assert tr.dropped == 3
    tr.seek(300)                                # jumps are not drops
    run(tr, clock, 2, 1 / 24, show=True)
    assert tr.dropped == 3
    tr.shuttle(+1)                              # 2x skips frames on purpose
    run(tr, clock, 10, 1 / 24, show=True)
    assert tr.dropped == 3
    tr.shuttle(-1)                              # 1x backwards counts again
    run(tr, clock, 5, 1 / 24, show=True)
    clock.advance(4 / 24)
    tr.tick()
    tr.note_shown(tr.index)
    assert tr.dropped == 6


def test_dropped_across_a_loop_wrap(clock):
    tr = Transport([info(20, 24)], clock=clock)
    tr.toggle_loop()
    tr.play()
    run(tr, clock, 19, 1 / 24, show=True)       # 1..19 shown
    clock.advance(1 / 24)                        # wraps to 0
    tr.tick()
    tr.note_shown(tr.index)
    assert tr.index == 0 and tr.dropped == 0
    run(tr, clock, 17, 1 / 24, show=True)        # up to 17
    clock.advance(4 / 24)                        # late: 18, 19 and 0 never shown, 1 shown
    tr.tick()
    tr.note_shown(tr.index)
    assert tr.index == 1 and tr.dropped == 3


def test_sync_with_real_takes_of_different_fps_and_length(tmp_path, clock):
    """Frame sync on real clips: after seeks and play/pause every pane decodes the frame the
    transport names (clamped for the shorter take)."""
    a = make_numbered_clip(tmp_path / "a.mp4", frames=48, fps=24, size=(160, 90), gop=12)
    b = make_numbered_clip(tmp_path / "b.mp4", frames=30, fps=30, size=(160, 90), gop=10)
    with TakeStream(a, size=(80, 46)) as sa, TakeStream(b, size=(80, 46)) as sb:
        tr = Transport([sa.info, sb.info], clock=clock)
        for move in (lambda: tr.seek(10), lambda: tr.seek(40), tr.play,
                     lambda: run(tr, clock, 3, 1 / 24), tr.pause, lambda: tr.step(-20)):
            move()
            want = tr.indices()
            got = [read_frame_number(s.wait(i)) for s, i in zip((sa, sb), want)]
            assert got == want
        tr.sync = "time"
        tr.seek(24)                                  # 1.0 s of 2 s -> B at 0.5 s = frame 15
        assert tr.indices() == [24, 15]
        assert [read_frame_number(s.wait(i)) for s, i in zip((sa, sb), tr.indices())] == [24, 15]


def test_next_change_at_is_when_the_next_frame_is_due(clock):
    # The UI loop sleeps until then: each video frame gets exactly one render.
    tr = Transport([info(240, 24)], clock=clock)
    assert tr.next_change_at() is None                       # paused: nothing is due
    tr.play()
    tr.note_shown(tr.index)
    t_play = clock.t
    assert tr.next_change_at() == pytest.approx(t_play + 1 / 24)
    clock.t = tr.next_change_at() + 1e-4
    assert tr.tick() and tr.index == 1
    assert tr.next_change_at() == clock.t                    # frame 1 is not on screen yet: due now
    tr.note_shown(1)
    assert tr.next_change_at() == pytest.approx(t_play + 2 / 24)
    tr.shuttle(+1)                                           # 2x: frames come twice as fast
    tr.note_shown(tr.index)
    t2 = clock.t
    assert tr.next_change_at() == pytest.approx(t2 + (2 / 24 - (t2 - t_play)) / 2)
    tr.pause()
    tr.seek(100)
    tr.shuttle(-1)                       # J from frame 100: frame 99 is due at once going back ...
    tr.note_shown(tr.index)
    assert tr.next_change_at() == pytest.approx(clock.t, abs=1e-5)
    clock.advance(1e-4)
    assert tr.tick() and tr.index == 99
    tr.note_shown(99)                    # ... and frame 98 one frame time later
    assert tr.next_change_at() == pytest.approx(clock.t - 1e-4 + 1 / 24, abs=1e-5)
