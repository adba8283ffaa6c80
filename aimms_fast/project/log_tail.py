"""Incremental reading of a growing, rotating log file for the Logs page (no Dear PyGui).

A log may be 100 MB after years of work: `LogTail` reads only its last `chunk` bytes at first, then
on each `poll()` one stat and only the bytes appended since (follow mode), and older chunks only
when the user asks (`load_older`). A rotation (the file replaced or shrunk) reloads the tail.
Each line's level is parsed once; lines that carry none (a traceback's) take the level of the line
they continue, so filtering by level keeps a whole error together.

Thread: the owner's only (the UI thread polls it a few times a second at most).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL = {name: i for i, name in enumerate(LEVELS)}
# Our UTC lines ("2026-12-04T18:20:01.123Z INFO …") and the older local ones
# ("2026-12-04 15:53:13,790 INFO [aimms.project./x] …").
_HEAD = re.compile(r"^\d{4}-\d\d-\d\d[T ][\d:.,]+Z? (DEBUG|INFO|WARNING|ERROR|CRITICAL) (?:\[[^\]]*\] )?")
CHUNK = 1 << 20            # bytes read at open and per "load older"
MAX_APPEND = 8 << 20       # more new bytes than this at one poll: reload the tail instead
MAX_LINES = 100_000        # lines kept in memory (oldest dropped first)


@dataclass
class Line:
    text: str
    level: int             # index into LEVELS
    mutation: bool         # a project change (project/logs.py `mutation` line)


@dataclass
class LogTail:
    path: Path
    chunk: int = CHUNK
    max_lines: int = MAX_LINES
    lines: list[Line] = field(default_factory=list)
    start: int = 0          # file offset of lines[0]
    end: int = 0            # file offset just after the last whole line read
    _ident: tuple | None = None
    _offsets: list[int] = field(default_factory=list)

    # -- reading ---------------------------------------------------------------------------------
    def load(self) -> int:
        """(Re)read the last `chunk` bytes; returns the number of lines."""
        self.lines, self._offsets = [], []
        self.start = self.end = 0
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                self._ident = (st.st_dev, st.st_ino)
                begin = max(0, st.st_size - self.chunk)
                f.seek(begin)
                data = f.read(st.st_size - begin)
        except OSError:
            self._ident = None
            return 0
        if begin > 0:                  # the first line is probably cut: start after it
            cut = data.find(b"\n")
            data, begin = (data[cut + 1:], begin + cut + 1) if cut >= 0 else (b"", begin + len(data))
        self.start = self.end = begin
        self._append(data)
        return len(self.lines)

    def poll(self) -> int:
        """New whole lines since the last read (0: none; -1: the file was rotated or truncated and
        the tail reloaded). One stat when nothing changed."""
        try:
            st = os.stat(self.path)
        except OSError:
            if self.lines or self._ident is not None:
                self.load()
                return -1
            return 0
        if self._ident != (st.st_dev, st.st_ino) or st.st_size < self.end:
            self.load()
            return -1
        if st.st_size == self.end:
            return 0
        if st.st_size - self.end > MAX_APPEND:
            self.load()
            return -1
        try:
            with open(self.path, "rb") as f:
                f.seek(self.end)
                data = f.read(st.st_size - self.end)
        except OSError:
            return 0
        return self._append(data)

    def load_older(self) -> int:
        """Prepend the `chunk` bytes before the first line read; returns the lines added."""
        if self.start <= 0:
            return 0
        begin = max(0, self.start - self.chunk)
        try:
            with open(self.path, "rb") as f:
                f.seek(begin)
                data = f.read(self.start - begin)
        except OSError:
            return 0
        if begin > 0:
            cut = data.find(b"\n")
            if cut < 0:
                return 0
            data, begin = data[cut + 1:], begin + cut + 1
        older, offs = self._parse(data, begin, self.lines[0].level if self.lines else 1)
        self.lines[:0] = older
        self._offsets[:0] = offs
        self.start = begin
        return len(older)

    @property
    def has_older(self) -> bool:
        return self.start > 0

    # -- parsing ---------------------------------------------------------------------------------
    def _append(self, data: bytes) -> int:
        last = data.rfind(b"\n")
        if last < 0:
            return 0                      # a line still being written: wait for its newline
        whole = data[:last + 1]
        new, offs = self._parse(whole, self.end, self.lines[-1].level if self.lines else 1)
        self.lines += new
        self._offsets += offs
        self.end += len(whole)
        extra = len(self.lines) - self.max_lines
        if extra > 0:
            del self.lines[:extra]
            del self._offsets[:extra]
            self.start = self._offsets[0] if self._offsets else self.end
        return len(new)

    @staticmethod
    def _parse(data: bytes, base: int, level: int) -> tuple[list[Line], list[int]]:
        out, offs = [], []
        pos = base
        for raw in data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"):
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            m = _HEAD.match(text)
            mutation = False
            if m:
                level = _LEVEL[m.group(1)]
                mutation = text.startswith("mutation ", m.end())
            out.append(Line(text, level, mutation))
            offs.append(pos)
            pos += len(raw) + 1
        return out, offs


def matching(lines: list[Line], *, min_level: int = 0, query: str = "", mutations_only: bool = False,
             start: int = 0) -> list[int]:
    """Indexes (from `start`) of the lines that pass the Logs page's filters; the text search is
    case-insensitive and every word must appear."""
    words = query.lower().split()
    out = []
    for i in range(start, len(lines)):
        ln = lines[i]
        if ln.level < min_level or (mutations_only and not ln.mutation):
            continue
        if words:
            low = ln.text.lower()
            if not all(w in low for w in words):
                continue
        out.append(i)
    return out
