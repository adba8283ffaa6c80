"""The output-folder watcher: new ComfyUI outputs -> the Inbox (or straight into their shot).

watchdog reports file events from the OS (inotify/FSEvents/ReadDirectoryChangesW) on its own
thread; they only mark paths dirty. The watcher's loop (its own thread, or the caller's for
`run_once`) groups files into outputs and handles an output only when it is complete:
- every file's size and mtime unchanged for `settle_s` (ComfyUI writes in place, no temp name),
  and its structure whole where the format says so (comfy/complete.py: PNG IEND, MP4 `moov`);
- a VideoHelperSuite set is complete: `name_00001.png` (written first, with the workflow) waits for
  `name_00001.mp4`, and for `name_00001-audio.mp4` when its graph feeds audio into Video Combine;
  a PNG that looks like a VHS first frame but gets no video within `pair_timeout_s` is an image.
Then it is matched (comfy/matcher.py), claimed in the Inbox (store/comfy: one row per file,
so never twice), and, with auto-add on and a confident match, filed as a take.

Catch-up: the newest mtime handled is kept per folder; a watcher that starts looks again at every
file at least that new (minus a margin for coarse clocks), so outputs written while it was off
arrive; the Inbox key makes the overlap harmless. Files of a job still running are left to the
job runner.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aimms_fast.comfy import filing
from aimms_fast.comfy.complete import looks_complete
from aimms_fast.comfy import inbox as inbox_ops
from aimms_fast.comfy.matcher import match
from aimms_fast.errors import AimmsError
from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS
from aimms_fast.store import comfy as S
from aimms_fast.store.db import transaction

log = logging.getLogger(__name__)
CATCH_UP_MARGIN_NS = 2_000_000_000


@dataclass
class WatchEvent:
    """One output handled: `state` waiting (in the Inbox) / accepted (filed) / skipped."""
    source: str
    state: str
    shot_id: int | None = None
    reason: str | None = None
    item_id: int | None = None
    take_ids: list[str] = field(default_factory=list)
    message: str | None = None


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float       # monotonic time the (size, mtime) pair was first seen


def _graph_of(raw: dict) -> dict:
    from aimms_fast.media.genmeta import loads_json
    g, _ = loads_json(raw.get("prompt")) if raw.get("prompt") else (None, None)
    return g if isinstance(g, dict) else {}


def _vhs(raw: dict) -> tuple[bool, bool]:
    """(made by Video Combine, with audio) from a PNG's embedded prompt graph."""
    nodes = [n for n in _graph_of(raw).values() if isinstance(n, dict) and n.get("class_type") == "VHS_VideoCombine"]
    audio = any(isinstance((n.get("inputs") or {}).get("audio"), list) for n in nodes)
    return bool(nodes), audio


class Watcher:
    def __init__(self, project, folder: Path, *, auto: bool | None = None, settle_s: float = 1.0,
                 pair_timeout_s: float = 60.0, on_event: Callable[[WatchEvent], None] | None = None):
        self._project = project
        self.folder = Path(folder)
        self.auto = auto
        self.settle_s = settle_s
        self.pair_timeout_s = pair_timeout_s
        self.on_event = on_event
        self._dirty: set[Path] = set()
        self._lock = threading.Lock()
        self._seen: dict[Path, _Seen] = {}
        self._defer: dict[Path, float] = {}     # main file -> look again after (a job's own result)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._observer = None
        self._thread: threading.Thread | None = None

    # -- thread / watchdog (any thread) ----------------------------------------------------------
    def start(self) -> None:
        """Watch in the background: watchdog for events, a thread (own connection) for the rest."""
        self.observe()
        self._thread = threading.Thread(target=self._main, name="comfy-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def observe(self) -> None:
        """Start watchdog's observer (its own thread) marking changed paths; `tick` handles them."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.is_directory:
                    return
                for p in (getattr(event, "src_path", None), getattr(event, "dest_path", None)):
                    if p:
                        watcher.mark(Path(p if isinstance(p, str) else p.decode()))

        self._observer = Observer()
        self._observer.schedule(Handler(), str(self.folder), recursive=True)
        self._observer.start()

    def mark(self, path: Path) -> None:
        """A path changed (watchdog's thread)."""
        with self._lock:
            self._dirty.add(path)
        self._wake.set()

    def _main(self) -> None:
        try:
            with self._project.for_job() as p:
                filing.recover(p)
                self.catch_up(p)
                while not self._stop.is_set():
                    self.tick(p)
                    self._wake.wait(min(0.5, self.settle_s / 2) if self._seen else 5.0)
                    self._wake.clear()
        except Exception:   # a bug, not bad input (bad files are handled per file): log, keep the app
            log.exception("ComfyUI folder watcher stopped")

    # -- the loop (the thread that owns `p`) -----------------------------------------------------
    def run_once(self, p, *, max_wait_s: float = 30.0) -> list[WatchEvent]:
        """One catch-up pass: every output newer than last seen, waiting (up to max_wait_s) for
        files still being written; returns what was handled."""
        events: list[WatchEvent] = []
        filing.recover(p)
        self.catch_up(p)
        end = time.monotonic() + max_wait_s
        while True:
            events += self.tick(p)
            if not self._seen or time.monotonic() > end:
                break
            time.sleep(min(0.25, self.settle_s / 2))
        return events

    def catch_up(self, p) -> int:
        last = S.get_setting(p.conn, self._last_key(), 0)
        since = max(0, int(last) - CATCH_UP_MARGIN_NS)
        n = 0
        for f in self.folder.rglob("*"):
            try:
                if f.is_file() and f.stat().st_mtime_ns >= since:
                    self.mark(f)
                    n += 1
            except OSError:
                continue
        return n

    def _last_key(self) -> str:
        return f"last_seen:{self.folder.resolve()}"

    def tick(self, p) -> list[WatchEvent]:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        now = time.monotonic()
        for f in dirty:
            if f.name.startswith(".") or f.suffix.lower() not in IMAGE_EXTS | VIDEO_EXTS:
                continue
            try:
                st = f.stat()
            except OSError:
                self._seen.pop(f, None)
                continue
            old = self._seen.get(f)
            if old is None or (old.size, old.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._seen[f] = _Seen(st.st_size, st.st_mtime_ns, now)
        # a path with no new event may still be growing: look at each once per tick
        for f, s in list(self._seen.items()):
            try:
                st = f.stat()
            except OSError:
                del self._seen[f]
                continue
            if (st.st_size, st.st_mtime_ns) != (s.size, s.mtime_ns):
                self._seen[f] = _Seen(st.st_size, st.st_mtime_ns, now)
        events = []
        for group in self._groups():
            ev = self._handle(p, group, now)
            if ev is not None:
                events.append(ev)
                if self.on_event:
                    self.on_event(ev)
        return events

    def _groups(self) -> list[list[Path]]:
        groups: dict[tuple[Path, str], list[Path]] = {}
        for f in self._seen:
            stem = f.stem[:-len("-audio")] if f.stem.endswith("-audio") else f.stem
            groups.setdefault((f.parent, stem), []).append(f)
        return list(groups.values())

    def _stable(self, files: list[Path], now: float) -> bool:
        """Unchanged for settle_s and structurally whole; a file that stays cut short is taken
        after pair_timeout_s anyway (a broken take is marked as such, never lost)."""
        for f in files:
            s = self._seen[f]
            if s.size == 0 or now - s.since < self.settle_s:
                return False
            if now - s.since < self.pair_timeout_s and not looks_complete(f):
                return False
        return True

    def _handle(self, p, files: list[Path], now: float) -> WatchEvent | None:
        from aimms_fast.media.genmeta import read_raw
        if not self._stable(files, now) or any(self._defer.get(f, 0) > now for f in files):
            return None
        videos = sorted((f for f in files if f.suffix.lower() in VIDEO_EXTS), key=lambda f: "-audio" not in f.stem)
        pngs = [f for f in files if f.suffix.lower() == ".png"]
        images = [f for f in files if f.suffix.lower() in IMAGE_EXTS]
        try:
            raw = read_raw(pngs[0])[0] if pngs else {}
        except Exception as e:   # an unreadable PNG is still an output; it just has no metadata
            log.info("no metadata from %s (%s)", pngs[0], e)
            raw = {}
        vhs, audio = _vhs(raw) if pngs else (False, False)
        pair_name = bool(pngs) and not pngs[0].stem.endswith("_")
        age = now - min(self._seen[f].since for f in files)
        if not videos and vhs and pair_name and age < self.pair_timeout_s:
            return None                  # VHS wrote its first-frame PNG; the video follows
        if videos and audio and not any("-audio" in v.stem for v in videos) and age < self.pair_timeout_s:
            return None                  # the muxed -audio.mp4 comes after the silent one
        if videos:
            main, comp, kind = videos[0], (pngs[0] if pngs else None), "video"
            try:
                vraw = read_raw(main)[0]
            except Exception:
                vraw = {}
            raw = {**vraw, **raw}
        else:
            main, comp, kind = images[0], None, "image"
        rel = main.relative_to(self.folder).as_posix()
        conn = p.conn
        if S.known_sources(conn, [rel]):
            self._forget(files)
            return None
        shots = S.shots_for_matching(conn)

        def job_shot(job_id):
            j = S.get_job(conn, job_id)
            return j.shot_id if j else None
        m = match(rel, raw, shots, job_shot=job_shot)
        if m.reason == "job":
            j = S.get_job(conn, m.job_id)
            if j is not None and j.active:
                self._defer[main] = now + 2.0
                return None              # the job runner files its own results
        st = main.stat()
        with transaction(p.db) as c:
            item = S.claim_source(c, source=rel, folder=str(self.folder), kind=kind,
                                  companion=str(comp) if comp else None, size=st.st_size, mtime_ns=st.st_mtime_ns,
                                  shot_id=m.shot_id, reason=m.reason, confident=m.confident, job_id=m.job_id)
            last = S.get_setting(c, self._last_key(), 0)
            newest = max(self._seen[f].mtime_ns for f in files)
            if newest > int(last):
                S.set_setting(c, self._last_key(), newest)
        self._forget(files)
        if item is None:
            return None
        auto = self.auto if self.auto is not None else inbox_ops.auto_enabled(p)
        if auto and m.confident and m.shot_id is not None:
            try:
                filed = inbox_ops.accept(p, item)
                return WatchEvent(rel, "accepted", m.shot_id, m.reason, item, filed.take_ids)
            except AimmsError as e:
                log.warning("auto-add of %s failed: %s", rel, e)
                return WatchEvent(rel, "waiting", m.shot_id, m.reason, item, message=str(e))
        return WatchEvent(rel, "waiting", m.shot_id, m.reason, item)

    def _forget(self, files: list[Path]) -> None:
        for f in files:
            self._seen.pop(f, None)
            self._defer.pop(f, None)
