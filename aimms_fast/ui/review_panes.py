"""What every review window with panes shares (compare, tournament, cut points, the player's keys).

- `PaneSet`: the takes of a window, one stream each, and the ONE `Transport` that drives them all.
  Every pane's frame index is derived from the same master position each frame, so panes can never
  drift apart; a pane whose frame is not decoded yet shows the nearest ready one and is replaced as
  soon as the exact frame arrives (`poll` says when all are exact). Panes opened at different
  frames (cut points: N's tail beside N+1's head) keep their difference as an offset, and the
  transport then runs over the union of the offset panes (`timeline_info`), so the later pane
  plays on after the earlier one has ended.
- `open_stream` / `StillStream`: videos through TakeStream, image takes as one-frame streams (a bad
  file gives an error text for its pane, never an exception).
- `fit_size`: TakeStream scales to exactly the size it is given, so panes ask for the take's aspect.
- `transport_action`: the player-style keys (keys.py `_transport`) applied to a Transport.
- `RepeatGuard`: a held key fires a one-shot action once.

Everything here runs on the UI thread; the streams decode on their own threads.
"""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg
import numpy as np

from aimms_fast.errors import AimmsError, MediaError
from aimms_fast.store.review import ReviewTake


def transport_action(tr, action: str) -> bool:
    """Apply a player-style key action (keys.py `_transport`) to a Transport; True if it was one."""
    if action == "play":
        tr.toggle()
    elif action == "pause":
        tr.pause()
    elif action.startswith("shuttle:"):
        tr.shuttle(int(action[8:]))
    elif action.startswith("step:"):
        tr.step(int(action[5:]))
    elif action.startswith("second:"):
        tr.step_seconds(float(action[7:]))
    elif action == "first":
        tr.first()
    elif action == "last":
        tr.last()
    elif action == "in":
        tr.set_in()
    elif action == "out":
        tr.set_out()
    elif action == "clear_in":
        tr.clear_in()
    elif action == "clear_out":
        tr.clear_out()
    elif action == "loop":
        tr.toggle_loop()
    else:
        return False
    return True


# Actions a held key repeats (Dear PyGui repeats a held key: after 0.275 s, then every 0.05 s).
# Everything else (play, star, modes, solo, sync, close, open …) fires once per press: a held S
# must not toggle the star twenty times a second, but N N N tapped quickly must cycle three times.
REPEATING = ("step:", "second:", "move:", "shot:", "shuttle:", "take:")


class RepeatGuard:
    """Tells a key repeat of a one-shot action from a new press by the key's state: a repeat is
    the same action again while its key has stayed down since it fired (`tick` every frame sees
    the release). UI thread."""

    _codes_by_name: dict[str, list[int]] | None = None

    def __init__(self, context: str):
        self.context = context
        self._down: tuple[str, list[int]] | None = None

    @classmethod
    def _codes(cls, context: str, action: str) -> list[int]:
        from aimms_fast.ui import keys as K
        if cls._codes_by_name is None:
            from aimms_fast.ui.app import _key_names
            by: dict[str, list[int]] = {}
            for code, name in _key_names().items():
                by.setdefault(name, []).append(code)
            cls._codes_by_name = by
        names = {s.chord.rsplit("+", 1)[-1] if not s.chord.endswith("+") else "+"
                 for s in K.SHORTCUTS if s.context == context and s.action == action}
        return [c for n in names for c in cls._codes_by_name.get(n, [])]

    def held(self, action: str) -> bool:
        """True when `action` comes from a held key that must not fire again."""
        if action.startswith(REPEATING):
            return False
        if self._down is not None and self._down[0] == action:
            return True
        self._down = (action, self._codes(self.context, action))
        return False

    def tick(self) -> None:
        """Per frame: a key seen up ends its hold (the next press fires again)."""
        if self._down is not None and not any(dpg.is_key_down(c) for c in self._down[1]):
            self._down = None


def fit_size(width: int, height: int, pane: tuple[int, int]) -> tuple[int, int]:
    """(w, h) of a width x height picture scaled to fit inside `pane`, aspect kept, at least 16 px."""
    pw, ph = max(16, int(pane[0])), max(16, int(pane[1]))
    s = min(pw / max(1, width), ph / max(1, height))
    return max(16, min(pw, round(width * s))), max(16, min(ph, round(height * s)))


class StillStream:
    """An image take behind the TakeStream interface (one frame), so pictures get the same panes,
    wipe and difference as videos. Pillow decodes once at open; each pane size is one resize."""

    def __init__(self, path, *, size: tuple[int, int]):
        from PIL import Image, ImageOps
        from aimms_fast.playback.stream import StreamInfo
        try:
            with Image.open(path) as im:
                im = ImageOps.exif_transpose(im)
                alpha = "A" in im.getbands()
                self._src = im.convert("RGBA")
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise MediaError(f"cannot read the image: {e}", path=path,
                             hint="replace the take with a readable PNG/JPEG/WebP") from None
        w, h = self._src.size
        self.info = StreamInfo(path=str(path), frame_count=1, fps=24.0, duration=1 / 24.0,
                               times=np.zeros(1), width=w, height=h, rotation=0, has_alpha=alpha,
                               has_audio=False)
        self.error = None
        self._size = None
        self._frame = None
        self.set_size(size)

    def set_size(self, size: tuple[int, int]) -> None:
        from PIL import Image
        size = (max(1, int(size[0])), max(1, int(size[1])))
        if size == self._size:
            return
        self._size = size
        w, h = self._src.size
        s = min(size[0] / w, size[1] / h)
        fit = (max(1, round(w * s)), max(1, round(h * s)))
        self._frame = np.ascontiguousarray(np.asarray(self._src.resize(fit, Image.BILINEAR)))

    def want(self, index: int, direction: int = 1, *, paused: bool = False) -> None:
        pass

    def get(self, index: int):
        return self._frame

    def wait(self, index: int, timeout: float = 2.0):
        return self._frame

    def nearest(self, index: int):
        return 0, self._frame

    def index_at(self, t: float) -> int:
        return 0

    def full_frame(self, index: int):
        return np.asarray(self._src)

    @property
    def stats(self) -> dict:
        return {"decoded": 1, "seeks": 0, "hits": 0, "misses": 0, "buffered": 1,
                "bytes": self._frame.nbytes if self._frame is not None else 0}

    def close(self) -> None:
        self._frame = None


def open_stream(project, take: ReviewTake, size: tuple[int, int], *, budget_bytes: int = 96 << 20):
    """(stream, None) or (None, error text) for one take; a bad file never raises."""
    from aimms_fast.ops.files import IMAGE_EXTS
    if take.placeholder:
        return None, "placeholder take: no media yet"
    try:
        path = project.layout.read_path(take.rel)  # issue 14: nothing outside the project is read
    except AimmsError as e:
        return None, str(e)
    try:
        if not path.is_file():
            return None, f"file missing: {take.rel}"
        if path.stat().st_size == 0:
            return None, f"empty file (placeholder): {take.rel}"
        if Path(take.rel).suffix.lower() in IMAGE_EXTS:
            return StillStream(path, size=size), None
        from aimms_fast.playback.stream import TakeStream
        return TakeStream(path, size=size, budget_bytes=budget_bytes), None
    except AimmsError as e:
        return None, str(e)
    except Exception as e:   # a decoder surprise must mark this pane only, never close the window
        project.log.exception("review: cannot open %s", take.rel)
        return None, f"cannot open {take.rel}: {type(e).__name__}: {e}"


class PaneSet:
    """The takes of a review window, one stream each, and the one Transport driving them all.

    Pane k shows `indices()[k]`: the transport's frame for its stream (frame sync: the master's
    index, clamped to the pane's length; time sync: the same fraction of the duration). Panes opened
    at different frames (`set_start`; cut points: N's tail beside N+1's head) keep the difference
    as `offsets[k]` (relative to the first live pane) in frame sync; the transport then runs over a
    timeline that is the union of the offset panes (`timeline`, index 0 = the earliest frame any
    pane shows), so N+1 plays on from its head after N has reached its last frame (N stays on it).
    Panes whose take cannot be opened keep their place and show the error. UI thread only."""

    def __init__(self, project, takes: list[ReviewTake], *, size=(320, 180), sync: str = "frame",
                 budget_bytes: int = 64 << 20):
        from aimms_fast.playback.transport import Transport
        self.project = project
        self.budget_bytes = int(budget_bytes)   # decoded-frame buffer of each pane's stream
        self.takes: list[ReviewTake] = []
        self.streams: list = []
        self.errors: list[str | None] = []
        self.offsets: list[int] = []
        self.sizes: list[tuple[int, int]] = []
        self.shown: list[int | None] = []      # frame index each pane shows (exact frames only)
        self._want: list[int | None] = []
        self._alpha: dict[int, tuple] = {}
        self.timeline = None        # StreamInfo of the union of offset panes, when there is one
        self._origin = 0            # timeline index of the first live pane's frame 0
        for t in takes:
            self._open(t, size)
        self.transport = Transport(self._infos() or [_empty_info()], sync=sync)

    # -- panes ---------------------------------------------------------------------------------
    def _open(self, take: ReviewTake, size) -> None:
        s, err = open_stream(self.project, take, size, budget_bytes=self.budget_bytes)
        self.takes.append(take)
        self.streams.append(s)
        self.errors.append(err)
        self.offsets.append(0)
        self.sizes.append(tuple(size))
        self.shown.append(None)
        self._want.append(None)

    def _infos(self):
        return [s.info for s in self.streams if s is not None]

    def _live(self) -> list[int]:
        return [k for k, s in enumerate(self.streams) if s is not None]

    def add(self, take: ReviewTake, size=(320, 180)) -> None:
        base = self._base_index()
        self._open(take, size)
        self._restream(base)

    def remove(self, k: int) -> None:
        live = [j for j in self._live() if j != k]
        # The pane that becomes the first live one keeps the frame it shows now (unclamped).
        base = self._base_index() + (self.offsets[live[0]] if live else 0)
        s = self.streams.pop(k)
        if s is not None:
            s.close()
        for lst in (self.takes, self.errors, self.offsets, self.sizes, self.shown, self._want):
            lst.pop(k)
        self._alpha.clear()
        live = self._live()
        if live and self.offsets[live[0]]:
            first = self.offsets[live[0]]     # offsets are relative to the first live pane
            self.offsets = [o - first for o in self.offsets]
        self._restream(base)

    def _base_index(self) -> int:
        """The first live pane's frame index at the playhead, unclamped (a timeline may run past it)."""
        return self.transport.index - self._origin

    def _make_timeline(self):
        """(StreamInfo, origin) of the union of the live panes' frames under their offsets, or
        (None, 0) when no offset is in play (or sync is by time, where offsets do not apply). The
        timeline has the first live pane's rate; frame t shows pane k's frame t - origin + offset."""
        from aimms_fast.playback.stream import StreamInfo
        live = self._live()
        if self.transport.sync != "frame" or not any(self.offsets[k] for k in live):
            return None, 0
        lo = min(-self.offsets[k] for k in live)
        hi = max(self.streams[k].info.frame_count - 1 - self.offsets[k] for k in live)
        n = hi - lo + 1
        first = self.streams[live[0]].info
        fps = first.fps if first.fps > 0 else 24.0
        info = StreamInfo(path=first.path, frame_count=n, fps=fps, duration=n / fps,
                          times=np.arange(n, dtype=np.float64) / fps, width=first.width, height=first.height,
                          rotation=first.rotation, has_alpha=False, has_audio=False)
        return info, -lo

    def _restream(self, base: int | None = None) -> None:
        """Panes, offsets or sync changed: give the transport its streams again (or the union
        timeline). With a timeline before or after, the first live pane keeps frame `base` and the
        in/out points keep their frames."""
        tr = self.transport
        old_origin, had_timeline = self._origin, self.timeline is not None
        base = self._base_index() if base is None else base
        marks = (tr.in_index, tr.out_index)
        self.timeline, self._origin = self._make_timeline()
        infos = [self.timeline] if self.timeline is not None else (self._infos() or [_empty_info()])
        tr.set_streams(infos)
        if had_timeline or self.timeline is not None:
            n = tr.master.frame_count
            tr.seek(base + self._origin)
            shift = self._origin - old_origin
            tr.in_index, tr.out_index = (v + shift if v is not None and 0 <= v + shift < n else None
                                         for v in marks)
        self._want = [None] * len(self.streams)

    def __len__(self) -> int:
        return len(self.takes)

    def set_sync(self, sync: str) -> None:
        base = self._base_index()
        self.transport.sync = sync
        self._restream(base)

    def set_start(self, start_indices: list[int]) -> None:
        """Open pane k at frame start_indices[k]: the first live pane's frame is the playhead, the
        others keep their difference as an offset while stepping and playing (frame sync), and the
        transport runs over the union of them all."""
        live = self._live()
        if not live:
            return
        base = int(start_indices[live[0]])
        for k in range(len(self.streams)):
            self.offsets[k] = int(start_indices[k]) - base if k < len(start_indices) else 0
        self._restream(base)

    def set_size(self, k: int, pane: tuple[int, int]) -> None:
        """Decode pane k's take at the largest size with its own aspect that fits `pane` (TakeStream
        scales to exactly the size it is given; LiveView centres the picture with bars)."""
        s = self.streams[k]
        size = fit_size(s.info.width, s.info.height, pane) if s is not None else tuple(pane)
        if self.sizes[k] != size:
            self.sizes[k] = size
            if self.streams[k] is not None:
                self.streams[k].set_size(size)
            self._want[k] = None

    # -- frames --------------------------------------------------------------------------------
    def indices(self) -> list[int | None]:
        """The frame index every pane should show now (None: pane without a stream)."""
        live = self._live()
        out: list[int | None] = [None] * len(self.streams)
        if self.timeline is not None:
            base = self._base_index()
            for k in live:
                n = self.streams[k].info.frame_count
                out[k] = max(0, min(n - 1, base + self.offsets[k]))
            return out
        tr_idx = self.transport.indices() if live else []
        for j, k in enumerate(live):
            out[k] = tr_idx[j] if j < len(tr_idx) else 0
        return out

    def poll(self) -> tuple[list, bool]:
        """Frames to show now (nearest ready frame while the exact one decodes) and whether every
        pane already shows its exact frame."""
        idx = self.indices()
        frames, exact = [], True
        for k, s in enumerate(self.streams):
            i = idx[k]
            if s is None:
                frames.append(None)
                continue
            if self._want[k] != i:
                # Paused, a step back (Left) reads back from there: the decode goes that way too.
                prev = self._want[k]
                back = self.transport.rate < 0 or (not self.transport.rate and prev is not None and i < prev)
                s.want(i, -1 if back else 1, paused=not self.transport.rate)
                self._want[k] = i
            f = s.get(i)
            if f is not None:
                self.shown[k] = i
                if s.info.has_alpha:
                    f = self._over_checker(k, i, f)
            elif getattr(s, "error", None):     # decoding failed later: the pane says why
                self.errors[k] = s.error
            else:
                exact = False
                near = s.nearest(i)
                f = near[1] if near is not None else None
            frames.append(f)
        return frames, exact

    def _over_checker(self, k: int, i: int, f):
        """Alpha takes over a checkerboard, made once per shown frame (LiveView rewrites a pane
        only for a new array, so the same frame must come back as the same object)."""
        from aimms_fast.ui.image_view import over_checkerboard
        key = (i, id(f))
        got = self._alpha.get(k)
        if got is None or got[0] != key:
            got = self._alpha[k] = (key, over_checkerboard(f))
        return got[1]

    def wait_exact(self, timeout: float = 5.0) -> bool:
        """Block until every pane's exact frame is decoded (tests, single steps while paused)."""
        ok = True
        for k, i in enumerate(self.indices()):
            s = self.streams[k]
            if s is not None and s.wait(i, timeout) is None:
                ok = False
        return ok

    def master_info(self):
        """What the transport runs over: the union timeline, else the first live pane's take."""
        if self.timeline is not None:
            return self.timeline
        live = self._live()
        return self.streams[live[0]].info if live else None

    def close(self) -> None:
        for s in self.streams:
            if s is not None:
                s.close()
        self.streams = [None] * len(self.streams)


def _empty_info():
    """A one-frame stand-in so a window whose every take failed still has a transport."""
    from aimms_fast.playback.stream import StreamInfo
    return StreamInfo(path="", frame_count=1, fps=24.0, duration=1 / 24.0, times=np.zeros(1),
                      width=16, height=16, rotation=0, has_alpha=False, has_audio=False)
