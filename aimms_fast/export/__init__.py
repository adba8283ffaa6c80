"""Exports of the starred cut: editor timelines (OTIO, EDL, FCP 7 XML, FCPXML, Kdenlive), the
animatic MP4, PDF boards and the HTML review page.

Every format is a writer registered in FORMATS under its CLI name. A writer takes
(project, cut, out, options) and returns an ExportResult; `export()` builds the cut
(export/timeline.py) and dispatches. Writer modules register themselves when imported; `load()`
imports the ones that exist (like cli/__init__.py does for command groups), so one format's missing
optional dependency never hides the others.

Threads: writers run on whichever thread calls them (the CLI's main thread, a UI job thread); they
never touch the UI. Long writers call `options.progress(done, total)` and check
`options.cancel.is_set()`, raising AimmsError("cancelled") when set.
"""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aimms_fast.errors import AimmsError

Progress = Callable[[int, int], None] | None


@dataclass
class ExportResult:
    path: Path            # the file (or folder, for html / a handoff folder) written
    format: str           # FORMATS key
    clips: int            # clips (boards, for pdf/html) written
    notes: list[str] = field(default_factory=list)   # honest notes: conformed rates, gaps, skipped
    files: list[Path] = field(default_factory=list)  # everything written besides `path` (copied media, manifest)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "format": self.format, "clips": self.clips, "notes": list(self.notes),
                "files": [str(f) for f in self.files]}


@dataclass
class ExportOptions:
    """What every writer may read. `extra` carries format-specific options (e.g. burn-in for the
    animatic, paper size for pdf) by name; writers ignore keys they do not know."""
    storyboard: str = "video"              # 'video' | 'image'
    section: str | None = None
    missing: str = "gap"                   # 'skip' | 'gap' | 'title'
    fps: float | None = None               # None: the most common fps of the starred takes
    copy_media: Path | None = None         # editor formats: copy media here and reference the copies
    progress: Progress = None
    cancel: threading.Event | None = None
    extra: dict = field(default_factory=dict)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise AimmsError("cancelled", hint="the export was stopped; nothing complete was written")


Writer = Callable[..., ExportResult]   # (project, cut, out: Path, options: ExportOptions) -> ExportResult


@dataclass(frozen=True)
class FormatInfo:
    name: str
    suffix: str            # default file suffix ('' for a folder)
    description: str
    folder: bool = False   # `out` is a folder (html)


FORMATS: dict[str, Writer] = {}
FORMAT_INFO: dict[str, FormatInfo] = {}

# Modules that register formats (each owns its formats; one not there yet is simply absent).
FORMAT_MODULES = ["editors", "animatic", "boards_pdf", "review_html"]
_loaded = False


def register(name: str, writer: Writer, *, suffix: str, description: str, folder: bool = False) -> None:
    FORMATS[name] = writer
    FORMAT_INFO[name] = FormatInfo(name, suffix, description, folder)


def load() -> dict[str, Writer]:
    """Import every format module (each registers its writers); returns FORMATS."""
    global _loaded
    if not _loaded:
        for mod in FORMAT_MODULES:
            importlib.import_module(f"aimms_fast.export.{mod}")
        _loaded = True
    return FORMATS


def export(project, fmt: str, out: str | Path, options: ExportOptions | None = None) -> ExportResult:
    """Build the starred cut and write it as `fmt`. Any thread; no UI."""
    from aimms_fast.export.timeline import build_cut
    load()
    if fmt not in FORMATS:
        raise AimmsError(f"unknown export format {fmt!r}", field="format",
                         hint="formats: " + ", ".join(sorted(FORMATS)))
    options = options or ExportOptions()
    cut = build_cut(project, storyboard=options.storyboard, section=options.section,
                    missing=options.missing, fps=options.fps)
    return FORMATS[fmt](project, cut, Path(out), options)
