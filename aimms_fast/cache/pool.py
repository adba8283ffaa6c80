"""Worker pool that builds posters and filmstrips in the background.

Shape (like napari's layer slicer): the UI thread files requests and drains results; a dispatcher
thread owns the queue, the worker processes and the one atlas writer.

- Workers are processes ('spawn' context: the UI process holds GL contexts and threads, and a
  forked copy of those is undefined behaviour). cores - 1 of them, at least 1.
- A priority queue: lower number first; within a priority the newest request first, in the order
  it listed its paths (what is on screen now beats what was on screen a second ago). Asking again
  for a queued path replaces its old priority; `cancel_except` drops what scrolled away.
- Workers only decode: they send uint8 tiles back over their pipe and the dispatcher writes them
  into the atlas, so there is exactly one writer and a dead worker can never leave a half-written
  index behind.
- Each file has a time limit: a hung decode gets its process killed and replaced, and that file is
  marked failed. A worker that dies (segfault in a decoder, OOM kill) costs only its current file,
  which is retried once on a fresh worker, then marked failed.
- Resumable: finished work is in the cache; a new pool skips files whose size and mtime match the
  index, so a restart continues where the last run stopped.
"""
from __future__ import annotations

import heapq
import importlib
import logging
import multiprocessing as mp
import os
import shutil
import signal
import sqlite3
import stat
import threading
import time
from collections import deque
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import NamedTuple

from aimms_fast.errors import OutsideProject
from aimms_fast.cache.atlas import AtlasWriter
from aimms_fast.media.posters import Thumbs
from aimms_fast.project.layout import Layout
from aimms_fast.store.db import write_failed

log = logging.getLogger("aimms_fast.cache")

DEFAULT_EXTRACT = "aimms_fast.cache.encode:extract_encoded"   # tiles JPEG-encoded in the worker
QUICK_EXTRACT = "aimms_fast.cache.encode:quick_poster"        # posters from workflow PNGs first
MAX_TASKS_PER_WORKER = 400   # recycle workers now and then: decoder leaks and heap growth stay bounded
CRASH_RETRIES = 1
INLINE_BATCH = 2000          # cached/placeholder checks per loop turn, so new requests are seen soon
BACKGROUND = 100             # request priority of a whole-project sweep: stale-cancelling never drops it
WORKER_NICE = 10             # thumbnail workers yield the CPU to the viewer (decode, render) when both want it
# Issue 14: a full disk used to end the build in three tracebacks. Building stops (files are
# answered 'failed' with the reason, nothing decoded) once the cache passes its budget or the
# cache's disk has less than MIN_FREE left; checked every SPACE_CHECK_S.
DEFAULT_BUDGET_BYTES = 8 * 2**30
DEFAULT_MIN_FREE_BYTES = 2**30
SPACE_CHECK_S = 2.0


class ThumbEvent(NamedTuple):
    rel_path: str
    state: str                # 'ready' | 'placeholder' | 'failed'
    reason: str | None = None


def default_workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, n - 1)


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the app dies, even mid-decode (no orphaned decoders).
    Elsewhere the worker still exits at its next read from the closed pipe."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_main(conn, extract_spec: str, params: dict) -> None:
    """Worker process: receive (rel, abs_path), send back ('done', rel, Thumbs)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C belongs to the parent, which stops us
    _die_with_parent()
    try:   # background work: below the viewer's UI and playback threads (idle cores: no cost)
        os.nice(WORKER_NICE)
    except (AttributeError, OSError):
        pass
    mod, _, name = extract_spec.partition(":")
    extract = getattr(importlib.import_module(mod), name)
    conn.send(("hello", os.getpid()))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        rel, abs_path = task
        try:
            th = extract(abs_path, **params)
        except Exception as e:        # extract_tiles never raises; a plug-in extract might
            th = Thumbs("failed", f"{type(e).__name__}: {e}")
        try:
            conn.send(("done", rel, th))
        except (BrokenPipeError, EOFError, OSError):
            return


class _Worker:
    def __init__(self, ctx, extract_spec: str, params: dict):
        parent, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, extract_spec, params),
                                name="aimms-thumbs", daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.ready = False
        self.task: tuple[str, int, int] | None = None   # (rel, size, mtime_ns)
        # A second task already in the pipe: the worker starts it without waiting for the
        # dispatcher to store the first (short files were bound by that round trip).
        self.next: tuple[str, int, int] | None = None
        self.created = time.monotonic()
        self.since: float | None = None                  # when the current task started to count
        self.tasks_done = 0

    def send(self, rel: str, abs_path: str, size: int, mtime_ns: int) -> None:
        if self.task is None:
            self.task = (rel, size, mtime_ns)
            self.since = time.monotonic() if self.ready else None
        else:
            self.next = (rel, size, mtime_ns)
        self.conn.send((rel, abs_path))

    def stop(self, kill: bool = False) -> None:
        if kill or self.task is not None or self.next is not None:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                self.proc.kill()
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


class ThumbnailPool:
    """Builds the atlas in worker processes. Thread-safe public methods; see the module doc."""

    def __init__(self, project_root: Path, cache_dir: Path, workers: int | None = None,
                 time_limit: float = 30.0, *, strip_frames: int | None = None,
                 strip_size: tuple[int, int] | None = None, quick: bool = False,
                 extract: str | None = None, budget_bytes: int = DEFAULT_BUDGET_BYTES,
                 min_free_bytes: int = DEFAULT_MIN_FREE_BYTES):
        """`strip_size`: filmstrip frame (w, h), one of atlas.SCRUB_SIZES (None: 128x72).
        `quick`: a poster pass (job QUICK_EXTRACT): videos get their workflow PNG's picture,
        and entries that have a poster count as done (`aimms thumbs` runs it first).
        `budget_bytes` / `min_free_bytes`: building stops (space_problem) past the cache budget or
        when the disk runs low (issue 14)."""
        self.layout = Layout(Path(project_root))
        self.budget_bytes, self.min_free_bytes = budget_bytes, min_free_bytes
        self.space_problem: str | None = None   # set once building stopped for space (a message)
        self._space_checked = -SPACE_CHECK_S
        self.cache_dir = Path(cache_dir)
        self.n_workers = max(1, workers or default_workers())
        self.time_limit = float(time_limit)
        self.strip_frames = strip_frames  # None: STRIP_FRAMES
        self.strip_size = strip_size      # None: STRIP_SIZE
        self.quick = quick
        # "module:function" so a spawned worker can import it
        self.extract = extract or (QUICK_EXTRACT if quick else DEFAULT_EXTRACT)
        self.stats = {"decoded": 0, "cached": 0, "placeholders": 0, "failed": 0, "crashes": 0,
                      "timeouts": 0, "workers_started": 0}
        self._ctx = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._heap: list = []
        self._queued: dict[str, tuple] = {}
        self._force: set[str] = set()
        self._urgent: set[str] = set()   # queued below BACKGROUND: what cancel_except may drop
        self._background: set[str] = set()  # asked for by a background sweep, not built yet
        self._running: set[str] = set()
        self._attempts: dict[str, int] = {}
        self._seq = 0
        self._events: deque[ThumbEvent] = deque()   # published: drain() reads these
        self._staged: deque[ThumbEvent] = deque()   # made this loop turn, published after commit
        self._closing = False
        self._busy = False
        self._workers: list[_Worker] = []
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)   # a full pipe already means "wake up": never block
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="aimms-thumbs-dispatch", daemon=True)
        self._thread.start()

    # -- public API (any thread) --------------------------------------------------------------
    def request(self, rel_paths: list[str], priority: int = 0, *, force: bool = False) -> None:
        """Queue paths (lower priority number = sooner; newest request first). `force` rebuilds
        even when the cache is up to date."""
        background = priority >= BACKGROUND
        with self._lock:
            self._seq += 1
            for i, rel in enumerate(rel_paths):
                if rel in self._running:
                    continue
                old = self._queued.get(rel)
                if background:
                    self._background.add(rel)
                    if old is not None and old[0] < priority:
                        continue        # already wanted sooner (on screen): keep that place
                else:
                    self._urgent.add(rel)
                key = (priority, -self._seq, i)
                self._queued[rel] = key
                heapq.heappush(self._heap, (key, rel))
                if force:
                    self._force.add(rel)
            self._compact()
        self._wake()

    def cancel_except(self, keep: set[str]) -> None:
        """Drop queued paths not in `keep` (they scrolled off screen). Running ones finish.
        Paths a background sweep also asked for go back to the end of the line instead; the
        sweep itself (priority >= BACKGROUND) is never dropped. Only on-screen-class requests
        are looked at, so this stays cheap with a 21K-take sweep queued."""
        with self._lock:
            self._seq += 1
            for rel in [r for r in self._urgent if r not in keep]:
                self._urgent.discard(rel)
                if rel not in self._queued:
                    continue
                if rel in self._background:
                    key = (BACKGROUND, -self._seq, 0)
                    self._queued[rel] = key
                    heapq.heappush(self._heap, (key, rel))
                else:
                    del self._queued[rel]
                    self._force.discard(rel)
            self._compact()
            self._idle.notify_all()

    def drain(self, max_events: int = 200) -> list[ThumbEvent]:
        """Results so far, without blocking (call once per UI frame, then TileCache.refresh())."""
        out = []
        ev = self._events
        while ev and len(out) < max_events:
            out.append(ev.popleft())
        return out

    def pending(self, *, urgent_only: bool = False) -> int:
        """Files queued or being built; `urgent_only` leaves out the background sweep's queue
        (the viewer draws at full rate only while on-screen work is outstanding)."""
        with self._lock:
            if urgent_only:
                return len(self._urgent) + len(self._running)
            return len(self._queued) + len(self._running)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending (tests, CLI). True if idle, False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._queued or self._running or self._busy:
                if self._error is not None:
                    raise RuntimeError("thumbnail dispatcher stopped") from self._error
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(0.5 if left is None else min(left, 0.5))
            return True

    def describe(self) -> dict:
        """The pool's state, for diagnostics (a stalled build reports it)."""
        with self._lock:
            return {"queued": len(self._queued), "running": sorted(self._running), "busy": self._busy,
                    "workers": [{"pid": w.proc.pid, "alive": w.proc.is_alive(), "ready": w.ready,
                                 "task": w.task[0] if w.task else None} for w in list(self._workers)],
                    "dispatcher_alive": self._thread.is_alive(), "error": repr(self._error) if self._error else None,
                    "stats": dict(self.stats)}

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in list(self._workers) if w.proc.pid]

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._wake()
        self._thread.join(30)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals ------------------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    def _compact(self) -> None:
        if len(self._heap) > 4 * len(self._queued) + 1024:
            self._heap = [(k, r) for k, r in self._heap if self._queued.get(r) == k]
            heapq.heapify(self._heap)

    def _peek(self) -> str | None:
        """Next queued path (caller holds the lock); drops stale heap entries."""
        while self._heap:
            key, rel = self._heap[0]
            if self._queued.get(rel) == key:
                return rel
            heapq.heappop(self._heap)
        return None

    def _take(self, rel: str) -> bool:
        heapq.heappop(self._heap)
        del self._queued[rel]
        self._urgent.discard(rel)
        self._background.discard(rel)
        forced = rel in self._force
        self._force.discard(rel)
        return forced

    def _run(self) -> None:
        try:
            self._writer = AtlasWriter(self.cache_dir, strip_frames=self.strip_frames,
                                       strip_size=self.strip_size)
            self.strip_frames = self._writer.strip_frames
            self.strip_size = self._writer.strip_size
            self._known = self._writer.known(partial_ok=self.quick)
            self._loop()
        except BaseException as e:   # never silently: wait_idle re-raises, the log has the trace
            log.exception("thumbnail dispatcher failed")
            self._error = e
        finally:
            for w in self._workers:
                w.stop(kill=w.task is not None)
            self._workers.clear()
            if getattr(self, "_writer", None) is not None:
                self._writer.close()
            with self._lock:
                self._running.clear()
                self._busy = False
                self._idle.notify_all()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                # Busy from taking work until its events are published (wait_idle's contract).
                self._busy = bool(self._queued or self._running)
            if self._writer.ensure_present():
                self._known = {}          # the cache folder was deleted: everything is new again
            pending = self._dispatch()
            self._commit()
            waits = [self._wake_r]
            for w in self._workers:
                waits += [w.conn, w.proc.sentinel]
            # Sleep until woken, a worker reports or a time limit runs out; at most 1 s, so the
            # loop re-checks its state (and the cache folder) even if a wake-up got lost.
            deadline = self._next_deadline()
            timeout = 0 if pending else min(1.0, deadline if deadline is not None else 1.0)
            ready = mp_wait(waits, timeout)
            if self._wake_r in ready:
                try:
                    while os.read(self._wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
            for w in list(self._workers):
                if w.conn in ready or w.proc.sentinel in ready:
                    self._collect(w)
            self._check_time_limits()
            self._commit()                # pixels first, then the rows, then the events
            with self._lock:
                self._publish()
                if not self._queued and not self._running:
                    self._busy = False
                    self._idle.notify_all()

    def _publish(self) -> None:
        while self._staged:
            self._events.append(self._staged.popleft())

    def _stage(self, rel: str, state: str, reason: str | None, stat_key: str) -> None:
        self.stats[stat_key] += 1
        self._staged.append(ThumbEvent(rel, state, reason))

    def _next_deadline(self) -> float | None:
        """Seconds until the next time limit runs out; None (sleep until woken) when idle."""
        now = time.monotonic()
        t = None
        for w in self._workers:
            if w.task is not None:
                left = w.since + self.time_limit - now if w.since is not None else 1.0
                t = max(0.0, left) if t is None else min(t, max(0.0, left))
        return t

    def _dispatch(self) -> bool:
        """Answer what needs no decoding, hand the rest to idle workers. True if queued work
        remains that could run now (then the caller does not sleep)."""
        inline = 0
        while True:
            with self._lock:
                rel = self._peek()
                if rel is None:
                    return False
                forced = rel in self._force
            why = "file not found"
            try:
                abs_path = self.layout.read_path(rel)  # issue 14: never decode a file outside the project
                st = os.stat(abs_path)
                size, mtime = st.st_size, st.st_mtime_ns
            except OutsideProject as e:
                st, size, mtime, why = None, -1, 0, f"outside the project ({e.reason})"
            except OSError:
                st, size, mtime = os.stat_result((stat.S_IFREG,) + (0,) * 9), -1, 0
            known = self._known.get(rel)
            idle = next((w for w in self._workers if w.task is None), None)
            if known is not None and not forced and (known[1], known[2]) == (size, mtime):
                with self._lock:
                    if self._peek() != rel:
                        continue
                    # Nobody is looking at a path only the sweep asked for: no event to drain.
                    quiet = rel in self._background and rel not in self._urgent
                    self._take(rel)
                if quiet:
                    self.stats["cached"] += 1
                else:
                    self._stage(rel, known[0], known[3], "cached")
            elif size <= 0 or not stat.S_ISREG(st.st_mode):  # a FIFO would block a worker: never opened
                th = Thumbs("failed", why) if size < 0 else \
                    Thumbs("placeholder", "zero-byte placeholder (no media yet)") if stat.S_ISREG(st.st_mode) else \
                    Thumbs("failed", "not a regular file (FIFO, device or folder); skipped")
                with self._lock:
                    if self._peek() != rel:
                        continue
                    self._take(rel)
                self._store(rel, size, mtime, th)
            elif self._check_space():
                with self._lock:
                    if self._peek() != rel:
                        continue
                    self._take(rel)
                self._stage(rel, "failed", self.space_problem, "failed")
            else:
                if idle is None and len(self._workers) < self.n_workers:
                    idle = self._start_worker()
                if idle is None:   # every worker busy: queue one more behind its current file
                    idle = next((w for w in self._workers if w.next is None and w.ready
                                 and w.tasks_done < MAX_TASKS_PER_WORKER - 2), None)
                if idle is None:
                    return False
                with self._lock:
                    if self._peek() != rel:
                        continue
                    self._take(rel)
                    self._running.add(rel)
                try:
                    idle.send(rel, str(abs_path), size, mtime)
                except (BrokenPipeError, OSError):
                    self._worker_died(idle, "its pipe broke")
            inline += 1
            if inline >= INLINE_BATCH:
                return True

    def _start_worker(self) -> _Worker:
        params = {"strip_frames": self.strip_frames, "strip_size": self.strip_size}
        w = _Worker(self._ctx, self.extract, params)
        self._workers.append(w)
        self.stats["workers_started"] += 1
        return w

    def _check_space(self) -> str | None:
        """The reason building stopped for space, or None (dispatcher thread; every SPACE_CHECK_S)."""
        now = time.monotonic()
        if self.space_problem or now - self._space_checked < SPACE_CHECK_S:
            return self.space_problem
        self._space_checked = now
        try:
            free = shutil.disk_usage(self.cache_dir).free
            used = sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(self.cache_dir)
                       for n in names)
        except OSError:
            return None
        if free < self.min_free_bytes:
            self._stop_for_space(f"thumbnails stopped: only {free / 2**20:.0f} MiB free on the disk of "
                                 f"{self.cache_dir} (keeping {self.min_free_bytes / 2**20:.0f} MiB free)")
        elif used > self.budget_bytes:
            self._stop_for_space(f"thumbnails stopped: the cache reached its size budget "
                                 f"({used / 2**20:.0f} MiB of {self.budget_bytes / 2**20:.0f} MiB)")
        return self.space_problem

    def _stop_for_space(self, message: str) -> None:
        if not self.space_problem:
            log.warning("%s; free space or delete %s (it is rebuilt on demand)", message, self.cache_dir)
            self.space_problem = message

    def _commit(self) -> None:
        try:
            self._writer.commit()
        except (OSError, sqlite3.Error) as e:  # disk full: stop building, keep the viewer running
            if isinstance(e, sqlite3.Error) and not write_failed(e):
                raise
            why = getattr(e, "strerror", None) or e
            if isinstance(e, sqlite3.Error):  # SQLite says "disk I/O error" for EFBIG and ENOSPC alike
                why = f"disk full or file size limit reached: {e}"
            self._stop_for_space(f"thumbnails stopped: cannot write the cache ({why})")

    def _store(self, rel: str, size: int, mtime: int, th: Thumbs) -> None:
        if self.space_problem and th.state == "ready":
            self._stage(rel, "failed", self.space_problem, "failed")
            return
        try:
            self._writer.put(rel, size, mtime, th)
        except (OSError, ValueError, sqlite3.Error) as e:
            if isinstance(e, OSError) and e.errno in (28, 27, 122) or \
                    isinstance(e, sqlite3.Error) and write_failed(e):  # ENOSPC, EFBIG, EDQUOT
                why = getattr(e, "strerror", None) or e
                if isinstance(e, sqlite3.Error):  # SQLite says "disk I/O error" for EFBIG and ENOSPC alike
                    why = f"disk full or file size limit reached: {e}"
                self._stop_for_space(f"thumbnails stopped: cannot write the cache ({why})")
            else:
                log.error("cache write failed for %s: %s", rel, e)
            th = Thumbs("failed", self.space_problem or f"could not write the cache: {e}")
        self._known[rel] = (th.state, size, mtime, th.reason)
        key = {"ready": "decoded", "placeholder": "placeholders"}.get(th.state, "failed")
        self._stage(rel, th.state, th.reason, key)

    def _collect(self, w: _Worker) -> None:
        try:
            while w.conn.poll():
                msg = w.conn.recv()
                if msg[0] == "hello":
                    w.ready = True
                    if w.task is not None:
                        w.since = time.monotonic()
                elif msg[0] == "done":
                    _, rel, th = msg
                    rel0, size, mtime = w.task
                    w.task, w.next = w.next, None
                    w.since = time.monotonic() if w.task is not None else None
                    w.tasks_done += 1
                    with self._lock:
                        self._running.discard(rel0)
                    self._attempts.pop(rel0, None)
                    self._store(rel0, size, mtime, th)
                    if w.tasks_done >= MAX_TASKS_PER_WORKER and w.task is None:
                        self._workers.remove(w)
                        w.stop()
                        return
        except (EOFError, OSError):
            self._worker_died(w, "it exited")
            return
        if not w.proc.is_alive():
            self._worker_died(w, "it exited")

    def _worker_died(self, w: _Worker, how: str) -> None:
        if w in self._workers:
            self._workers.remove(w)
        w.proc.join(1)
        code = w.proc.exitcode
        task = w.task
        self._requeue(w.next)             # queued behind the file that killed it: not its fault
        w.task = w.next = None
        w.stop(kill=True)
        if task is None:
            return
        rel, size, mtime = task
        self.stats["crashes"] += 1
        with self._lock:
            self._running.discard(rel)
        n = self._attempts.get(rel, 0) + 1
        self._attempts[rel] = n
        log.warning("thumbnail worker died on %s (%s, exit code %s)", rel, how, code)
        if n <= CRASH_RETRIES:
            with self._lock:               # once more, first in line, on a fresh worker
                self._seq += 1
                key = (-(1 << 30), -self._seq, 0)
                self._queued[rel] = key
                heapq.heappush(self._heap, (key, rel))
            return
        self._attempts.pop(rel, None)
        sig = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        self._store(rel, size, mtime, Thumbs("failed", f"the decoder crashed on this file ({sig})"))

    def _requeue(self, task) -> None:
        """Put a task that never ran (a pipelined one of a dead worker) first in line again."""
        if task is None:
            return
        rel = task[0]
        with self._lock:
            self._running.discard(rel)
            self._seq += 1
            key = (-(1 << 30), -self._seq, 0)
            self._queued[rel] = key
            heapq.heappush(self._heap, (key, rel))

    def _check_time_limits(self) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if w.task is not None and not w.ready and now - w.created > self.time_limit + 60:
                self._worker_died(w, "it never started")
                continue
            if w.task is not None and w.since is not None and now - w.since > self.time_limit:
                rel, size, mtime = w.task
                log.warning("thumbnail of %s took over %.0f s: killing its worker", rel, self.time_limit)
                self._workers.remove(w)
                self._requeue(w.next)
                w.task = w.next = None
                w.stop(kill=True)
                with self._lock:
                    self._running.discard(rel)
                self.stats["timeouts"] += 1
                self._store(rel, size, mtime, Thumbs(
                    "failed", f"decoding took longer than {self.time_limit:g} s and was stopped "
                              "(hung decoder or a very long file)"))
