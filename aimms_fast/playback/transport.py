"""The playhead of one player / compare / tournament view: position = anchor + (now - t_anchor) * rate.

Why wall-clock anchored: a playhead advanced by "one frame per UI frame" or by "+= dt" drifts and
slows down when the UI is late; here the position is always computed from the clock, so a late UI
frame simply shows a later frame (and `dropped` counts the frames it skipped). Every change of rate
or position re-anchors (anchor = the position now, t_anchor = now), so nothing accumulates.

Position is in seconds of the master stream (pane A, `infos[0]`); its frame index is the last
frame whose presentation time is <= the position (VFR honoured through `StreamInfo.times`). The
other panes follow a sync rule: "frame" = the same frame index (clamped to each take's length),
"time" = the same fraction of the duration, mapped to each take's own frame by its timestamps.

Shuttle (J/K/L, as in NLEs and xStudio): L starts 1x forward, L again doubles up to 8x; J the same
in reverse; L while reversing (or J while going forward) restarts at 1x the other way; K pauses.
In/out points bound playback when set; at the end of the range playback stops (on the last frame,
or the first when reversing) unless loop is on, then it wraps.

Thread use: the UI thread only (it owns the view that owns the transport). The clock is injectable
so tests drive time by hand.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

from aimms_fast.playback.stream import StreamInfo

RATES = (1.0, 2.0, 4.0, 8.0)
SYNC_MODES = ("frame", "time")
# Positions built from clock arithmetic land a hair below a frame's exact time; a microsecond of
# slack keeps "1 s at 24 fps" on frame 24, not 23 (no real frame is that short).
EPS = 1e-6


class Transport:
    """The playhead of one player / compare / tournament: a wall clock times a rate, in seconds of
    the master stream (pane A); never drifts (position = anchor + (now - t_anchor) * rate)."""

    def __init__(self, infos: Sequence[StreamInfo], *, sync: str = "frame",
                 clock: Callable[[], float] = time.monotonic):
        if not infos:
            raise ValueError("a transport needs at least one stream")
        self._clock = clock
        self._infos: list[StreamInfo] = list(infos)
        self.sync = sync
        self.rate = 0.0
        self.loop = False
        self.in_index: int | None = None
        self.out_index: int | None = None
        self.dropped = 0
        self._apos = 0.0                    # master seconds at the anchor ...
        self._t0 = clock()                  # ... and the clock then
        self._pos = 0.0                     # master seconds as of the last tick / move
        self._index = 0
        self._shown: int | None = None      # last master index the UI said it showed (this run)
        self.last_shown: int | None = None  # last master index the UI said it showed (any rate)
        self._step_dir = 1                  # direction of the last step or play (see direction)

    # -- facts -------------------------------------------------------------------------------------
    @property
    def sync(self) -> str:
        return self._sync

    @sync.setter
    def sync(self, mode: str) -> None:
        if mode not in SYNC_MODES:
            raise ValueError(f"sync must be one of {SYNC_MODES}, not {mode!r}")
        self._sync = mode

    @property
    def master(self) -> StreamInfo:
        return self._infos[0]

    @property
    def infos(self) -> list[StreamInfo]:
        return list(self._infos)

    @property
    def index(self) -> int:
        """Master frame index as of the last tick() or move."""
        return self._index

    @property
    def position(self) -> float:
        """Master seconds from its first frame as of the last tick() or move (audio follows this)."""
        return self._pos

    @property
    def playing(self) -> bool:
        return self.rate != 0.0

    @property
    def direction(self) -> int:
        """+1 or -1: where the decode threads should read ahead. Playing: the way it plays;
        paused: the way the last step went (stepping back reads back), forward at first."""
        if self.rate:
            return 1 if self.rate > 0 else -1
        return self._step_dir

    def indices(self) -> list[int]:
        """Frame index of every stream now, the sync rule applied (index 0 is the master's)."""
        out = [self._index]
        m = self.master
        for info in self._infos[1:]:
            if self._sync == "frame":
                out.append(min(self._index, info.frame_count - 1))
            else:
                frac = self._pos / m.duration if m.duration > 0 else 0.0
                out.append(info.index_at(frac * info.duration + EPS))
        return out

    # -- range ---------------------------------------------------------------------------------------
    def _range(self) -> tuple[int, int]:
        last = self.master.frame_count - 1
        lo = 0 if self.in_index is None else min(self.in_index, last)
        hi = last if self.out_index is None else min(self.out_index, last)
        return (lo, hi) if lo <= hi else (0, last)

    def _time(self, i: int) -> float:
        return float(self.master.times[i])

    def _end_time(self, i: int) -> float:
        """When frame i stops being shown: the next frame's time, or the clip's end."""
        m = self.master
        return float(m.times[i + 1]) if i + 1 < m.frame_count else max(m.duration, self._time(i))

    def _index_of(self, pos: float) -> int:
        return self.master.index_at(pos + EPS)

    # -- moves ---------------------------------------------------------------------------------------
    def _anchor(self, pos: float, now: float | None = None) -> None:
        self._apos = self._pos = pos
        self._t0 = self._clock() if now is None else now
        self._index = self._index_of(pos)

    def _place(self, index: int) -> None:
        """Put the playhead exactly on frame `index` (clamped to the clip), keeping the rate."""
        index = min(max(int(index), 0), self.master.frame_count - 1)
        self._anchor(self._time(index))
        self._shown = None                  # a jump is not a dropped frame

    def _set_rate(self, rate: float) -> None:
        now = self._clock()
        self._advance(now)
        if rate == 0.0:
            self._anchor(self._time(self._index), now)   # paused on the frame shown, exactly
        else:
            self._anchor(self._pos, now)
        if (rate > 0) != (self.rate > 0) or rate == 0.0:
            self._shown = None
        if rate:
            self._step_dir = 1 if rate > 0 else -1
        self.rate = float(rate)

    def play(self) -> None:
        """Play forward at 1x (from the range start when at or past its end)."""
        lo, hi = self._range()
        if self.rate == 0.0 and not lo <= self._index < hi:
            self._place(lo)
        self._set_rate(1.0)

    def pause(self) -> None:
        self._set_rate(0.0)

    def toggle(self) -> None:
        if self.rate:
            self.pause()
        else:
            self.play()

    def shuttle(self, direction: int) -> None:
        """L (+1) / J (-1): start at 1x that way; again doubles to 8x; the other way from playing
        restarts at 1x that way."""
        d = 1.0 if direction >= 0 else -1.0
        if self.rate * d > 0:
            speed = min(abs(self.rate) * 2.0, RATES[-1])
        else:
            speed = 1.0
            lo, hi = self._range()
            if self.rate == 0.0 and (d > 0 and not lo <= self._index < hi
                                     or d < 0 and not lo < self._index <= hi):
                self._place(lo if d > 0 else hi)
        self._set_rate(d * speed)

    def step(self, n: int) -> None:
        """Pause and move n master frames (clamped to the clip)."""
        self.pause()
        if n:
            self._step_dir = 1 if n > 0 else -1
        self._place(self._index + int(n))

    def step_seconds(self, s: float) -> None:
        """Pause and move s seconds of master time (clamped), landing on a frame's exact time."""
        self.pause()
        if s:
            self._step_dir = 1 if s > 0 else -1
        t = self._time(self._index) + float(s)
        self._place(self._index_of(min(max(t, 0.0), self.master.duration)))

    def seek(self, index: int) -> None:
        """Jump to master frame `index` (clamped); playing goes on from there."""
        self._place(index)

    def first(self) -> None:
        self.seek(0)

    def last(self) -> None:
        self.seek(self.master.frame_count - 1)

    # -- in / out / loop -------------------------------------------------------------------------------
    def set_in(self) -> None:
        self.in_index = self._index
        if self.out_index is not None and self.out_index < self._index:
            self.out_index = None

    def set_out(self) -> None:
        self.out_index = self._index
        if self.in_index is not None and self.in_index > self._index:
            self.in_index = None

    def clear_in(self) -> None:
        self.in_index = None

    def clear_out(self) -> None:
        self.out_index = None

    def toggle_loop(self) -> None:
        self.loop = not self.loop

    # -- time passing ----------------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        """Move the position to `now` along the rate, applying the range ends."""
        if self.rate == 0.0:
            return
        pos = self._apos + (now - self._t0) * self.rate
        lo, hi = self._range()
        start, end = self._time(lo), self._end_time(hi)
        span = end - start
        if self.rate > 0 and pos >= end - EPS:
            if self.loop and span > 0:
                self._note_wrap(hi, lo)
                off = (pos - start) % span
                self._anchor(start + (0.0 if off >= span - EPS else off), now)
            else:
                self.rate = 0.0
                self._anchor(self._time(hi), now)
            return
        if self.rate < 0 and pos < start - EPS:
            if self.loop and span > 0:
                self._note_wrap(lo, hi)
                off = (start - pos) % span
                self._anchor(end - max(off, 2 * EPS), now)   # just under the end: frame hi
            else:
                self.rate = 0.0
                self._anchor(start, now)
            return
        # Between ends only the position moves; the anchor stays, so nothing accumulates.
        self._pos = pos
        self._index = self._index_of(pos)

    def next_change_at(self) -> float | None:
        """Clock time at which the master index changes next while playing (None when paused):
        the UI renders then instead of at its own rate, so each video frame gets one UI frame and
        no render is spent on a picture that has not changed."""
        if self.rate == 0.0:
            return None
        if self.last_shown != self._index:        # this frame is not on screen yet (decoding)
            return self._clock()
        i = self._index
        if self.rate > 0:
            boundary = self._end_time(i)          # frame i+1 starts (or the clip ends)
        else:
            boundary = self._time(i) - EPS        # frame i-1 starts when going back
        return self._t0 + (boundary - self._apos) / self.rate

    def tick(self) -> bool:
        """Advance to the clock's now; honours in/out/loop/ends (stops at the end when not
        looping). True if the master index changed."""
        before = self._index
        self._advance(self._clock())
        return self._index != before

    def set_streams(self, infos: Sequence[StreamInfo]) -> None:
        """Panes added or removed. If the master changed, its playhead keeps the same frame index
        ("frame" sync) or the same fraction of the duration ("time" sync)."""
        if not infos:
            raise ValueError("a transport needs at least one stream")
        self._advance(self._clock())
        old = self.master
        frac = self._pos / old.duration if old.duration > 0 else 0.0
        self._infos = list(infos)
        if infos[0] is old:
            return
        n = self.master.frame_count
        if self._sync == "frame":
            idx = min(self._index, n - 1)
        else:
            idx = self.master.index_at(frac * self.master.duration + EPS)
        for name in ("in_index", "out_index"):
            v = getattr(self, name)
            if v is not None and v >= n:
                setattr(self, name, None)
        self._place(idx)

    # -- dropped frames --------------------------------------------------------------------------------
    def note_shown(self, index: int) -> None:
        """The UI says which master index it actually put on screen this frame. While playing at
        |rate| <= 1, every frame of the run should be shown; each one passed over counts in
        `dropped` (a late UI frame, or a frame not decoded in time). Faster rates skip frames on
        purpose; seeks, steps, rate changes and loop wraps start a new run."""
        self.last_shown = index
        if self.rate == 0.0 or abs(self.rate) > 1.0:
            self._shown = None
            return
        if self._shown is not None:
            gap = (index - self._shown) * (1 if self.rate > 0 else -1)
            if gap > 1:
                self.dropped += gap - 1
        self._shown = index

    def _note_wrap(self, end_index: int, restart_index: int) -> None:
        """Loop wrap at |rate| <= 1: frames between the last shown one and the range end were
        never shown; the next run starts just before the restart frame."""
        if self._shown is not None and abs(self.rate) <= 1.0:
            self.dropped += max(0, abs(end_index - self._shown))
        step = 1 if self.rate > 0 else -1
        self._shown = restart_index - step if abs(self.rate) <= 1.0 else None
