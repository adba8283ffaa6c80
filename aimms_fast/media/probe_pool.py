"""Probe + generation metadata of imported files in worker processes, with a per-file time limit.

Why: importing 1,000 videos with their workflow PNGs spent two thirds of its time probing and
reading metadata, one file after another on the importing thread, and a file that hangs a
demuxer hung the import (the in-process probe had no time limit). Here each file goes to one of
`workers` processes; a file that takes longer than `time_limit` gets its worker killed (and
replaced) and an error row ("probing took longer than ... s"); a worker that dies costs only its
file. The caller stores all results in one transaction (media/ingest.py).

Workers are 'spawn' processes (the UI process has GL contexts and threads), started on first use
and kept (module-level pool) so later imports pay no start-up (~0.3 s of imports per worker);
an idle worker exits after IDLE_EXIT_S. `submit` queues a batch and returns a Future at once
(an import copies its next batch of files while the workers probe this one); one dispatcher
thread runs the batches in order. Any thread may call submit / probe_many.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import wait as mp_wait
from pathlib import Path

log = logging.getLogger(__name__)

TIME_LIMIT_S = 20.0     # per file; a healthy 4K clip probes in well under a second
IN_FLIGHT = 8           # files handed to a worker at once: it never waits for us between files
                        # (one round trip per file cost more than the probe on a busy machine)
IDLE_EXIT_S = 120.0


def probe_one(abs_path: str) -> tuple[dict, dict, object]:
    """(fast_media row, container tags, GenSummary or None) of one file. Never raises. With
    metadata read, the tags (needed only to read it) and the raw texts (sent packed) stay here:
    half the bytes the importing process unpickles."""
    from aimms_fast.media.genmeta import read_generation
    from aimms_fast.media.probe import _probe
    path = Path(abs_path)
    row, tags = _probe(path)
    gen = None
    if row.get("status") == "ok":
        try:
            gen = read_generation(path, tags=tags)
            if gen is not None and gen.raw:
                # zlib of the workflow JSON (~0.2 ms a file) here, not on the importing thread
                from aimms_fast.media.genmeta import pack_raw
                gen.raw_z = pack_raw(gen.raw)
                gen.raw = {}
            if gen is not None:
                tags = {}
        except Exception as e:   # read_generation reports problems in its result; be safe anyway
            log.debug("metadata read failed for %s: %s", path, e)
    return row, tags, gen


DEFAULT_JOB = "aimms_fast.media.probe_pool:probe_one"


def _worker_main(conn, job_spec: str) -> None:
    import importlib
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG: die with the app
    except (OSError, AttributeError):
        pass
    mod, _, name = job_spec.partition(":")
    job = getattr(importlib.import_module(mod), name)
    conn.send(("hello", os.getpid()))
    while True:
        if not conn.poll(IDLE_EXIT_S):
            return
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        for key, abs_path in task:
            c0 = time.process_time()
            result = job(abs_path)
            try:
                conn.send(("done", key, result, time.process_time() - c0))
            except (BrokenPipeError, OSError):
                return


class _Worker:
    def __init__(self, ctx, job: str):
        parent, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, job), name="aimms-probe", daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.ready = False                              # said hello: it can start at all
        self.tasks: deque[tuple[str, str]] = deque()   # in flight, in the worker's order
        self.since = 0.0                                # when the first of them started

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(2)
        self.conn.close()


def _error_row(abs_path: str, reason: str) -> tuple[dict, dict, None]:
    from aimms_fast.media.probe import _empty_row, media_kind
    row = _empty_row(abs_path, media_kind(abs_path))
    try:
        st = os.stat(abs_path)
        row.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    except OSError:
        pass
    row.update(status="error", reason=reason)
    return row, {}, None


class ProbePool:
    def __init__(self, workers: int | None = None, time_limit: float = TIME_LIMIT_S, *,
                 job: str = DEFAULT_JOB):
        """`job` "module:function" (abs_path) -> (row, tags, gen), imported in the worker
        (tests give one that hangs or crashes on chosen names)."""
        self.job = job
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
        self.n_workers = max(1, workers or cores)
        self.time_limit = float(time_limit)
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.stats = {"files": 0, "timeouts": 0, "crashes": 0, "workers_started": 0, "worker_cpu_s": 0.0}

    def submit(self, items: list[tuple[str, str]]) -> Future:
        """Queue (key, absolute path) items; the Future's result is {key: (row, tags, gen)}."""
        fut: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="aimms-probe-dispatch", daemon=True)
                self._thread.start()
            self._jobs.put((list(items), fut))
        return fut

    def probe_many(self, items: list[tuple[str, str]]) -> dict[str, tuple[dict, dict, object]]:
        """{key: (row, tags, gen)} for (key, absolute path) items, probed in the workers."""
        return self.submit(items).result()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            items, fut = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(self._run(items))
            except BaseException as e:    # the caller sees it (and probes in its own process)
                fut.set_exception(e)

    def _run(self, todo: list[tuple[str, str]]) -> dict:
        out: dict = {}
        todo.reverse()                       # pop() from the end keeps the caller's order
        for w in [w for w in self._workers if not w.proc.is_alive()]:    # idle-exited
            w.kill()
            self._workers.remove(w)
        want = min(self.n_workers, len(todo))
        while len(self._workers) < want:
            self._workers.append(_Worker(self._ctx, self.job))
            self.stats["workers_started"] += 1
        while todo or any(w.tasks for w in self._workers):
            for w in list(self._workers):
                if len(w.tasks) < IN_FLIGHT // 2 and todo:
                    send = [todo.pop() for _ in range(min(len(todo), IN_FLIGHT - len(w.tasks)))]
                    if not w.tasks:
                        w.since = time.monotonic()
                    w.tasks.extend(send)
                    try:
                        w.conn.send(send)
                    except (BrokenPipeError, OSError):
                        self._lost(w, out, todo, "the prober stopped")
            busy = [w for w in self._workers if w.tasks]
            if not busy:
                continue
            left = min(w.since + self.time_limit for w in busy) - time.monotonic()
            ready = mp_wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], max(0.0, left))
            for w in list(busy):
                if w.conn in ready:
                    try:
                        while w.conn.poll():
                            msg = w.conn.recv()
                            if msg[0] == "hello":
                                w.ready = True
                                w.since = time.monotonic()    # start-up is not the file's time
                            elif msg[0] == "done":
                                out[msg[1]] = msg[2]
                                if w.tasks and w.tasks[0][0] == msg[1]:
                                    w.tasks.popleft()
                                w.since = time.monotonic()     # the next file starts now
                                self.stats["files"] += 1
                                self.stats["worker_cpu_s"] += msg[3]
                    except (EOFError, OSError):
                        self._lost(w, out, todo, "the prober crashed on this file")
                        continue
                if w.tasks and not w.proc.is_alive():
                    self._lost(w, out, todo, f"the prober crashed on this file (exit code {w.proc.exitcode})")
                elif w.tasks and time.monotonic() - w.since > self.time_limit:
                    self.stats["timeouts"] += 1
                    self._lost(w, out, todo, f"probing took longer than {self.time_limit:g} s and was "
                                             "stopped (a damaged or hostile file?)")
        return out

    def _lost(self, w: _Worker, out: dict, todo: list, reason: str) -> None:
        """The worker's current file gets an error row; the files queued behind it go back to
        `todo` for another worker."""
        if not w.ready:
            # It never said hello: workers cannot start here (no usable interpreter, a job or
            # __main__ that cannot be imported...). Not this file's fault.
            w.proc.join(1)
            w.kill()
            self._workers.remove(w)
            raise RuntimeError(f"probe workers cannot start (exit code {w.proc.exitcode})")
        key, abs_path = w.tasks.popleft()
        log.warning("probe of %s failed: %s", abs_path, reason)
        out[key] = _error_row(abs_path, reason)
        self.stats["crashes"] += "crashed" in reason
        todo.extend(reversed(w.tasks))
        w.tasks.clear()
        w.kill()
        self._workers.remove(w)
        self._workers.append(_Worker(self._ctx, self.job))
        self.stats["workers_started"] += 1

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join(30)
                self._thread = None
            for w in self._workers:
                try:
                    w.conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
                w.proc.join(2)
                if w.proc.is_alive():
                    w.kill()
            self._workers.clear()


_shared: ProbePool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> ProbePool:
    """The process's probe pool (started on first use, kept for later imports)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ProbePool()
        return _shared
