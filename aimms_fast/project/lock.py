"""One writer per project: an OS file lock (released by the OS if the process dies).

Also: who else has a file open (a database locked by another program names its process), and
whether the process that wrote a temp file is still running (leftover cleanup at open).
"""
from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path


class ProjectLock:
    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def acquire(self) -> bool:
        """True if we now hold the lock; False if another instance holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a lock file planted as a symlink must not make us create or truncate a file
        # outside the project (issue 14); opening it fails instead, and the project opens read-only.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fh = os.fdopen(os.open(self.path, flags, 0o644), "a+")
        except OSError:
            return False
        try:
            _lock(fh)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid={os.getpid()} host={socket.gethostname()}\n")
        fh.flush()
        self._fh = fh
        return True

    def holder(self) -> str:
        if self.path.is_symlink():
            return "nobody: the lock file is a symlink (refused; delete data/.aimms_fast.lock)"
        try:
            return self.path.read_text().strip()
        except OSError:
            return "unknown"

    def holder_pid(self) -> int | None:
        m = re.search(r"pid=(\d+)", self.holder())
        return int(m.group(1)) if m else None

    def release(self) -> None:
        if self._fh is not None:
            try:
                _unlock(self._fh)
            finally:
                self._fh.close()
                self._fh = None


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def process_start(pid: int) -> float | None:
    """Wall-clock start time of `pid` (Linux /proc), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None
    boot = _boot_time()
    return None if boot is None else boot + ticks / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, *, made_at: float | None = None) -> bool:
    """Is the process `pid` that wrote a file at `made_at` (mtime) still running? A live pid that
    started after the file was written is a reused pid: the writer is gone."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError:
        return False
    if made_at is not None:
        started = process_start(pid)
        if started is not None and started > made_at + 1.0:  # 1 s: btime and ticks are coarse
            return False
    return True


def describe_process(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        cmd = ""
    cmd = " ".join(cmd.split())
    return f"pid {pid}" + (f" ({cmd[:120]})" if cmd else "")


def open_by(paths: list[Path], *, limit_s: float = 2.0) -> list[int]:
    """Processes (other than this one) with any of `paths` open, from a /proc/*/fd scan (what
    `fuser` does; Linux only, other systems return []). Stops after `limit_s`."""
    want = set()
    for p in paths:
        try:
            want.add(os.path.realpath(p))
        except OSError:
            pass
    me = os.getpid()
    found: list[int] = []
    deadline = time.monotonic() + limit_s
    try:
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == me or time.monotonic() > deadline:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in want:
                    found.append(pid)
                    break
            except OSError:
                continue
    return found



if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fh):
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(fh):
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fh):
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fh):
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
