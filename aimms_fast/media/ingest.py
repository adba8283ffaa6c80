"""The media engine's import hook (called by ops/takes.py after files land in the project).

Probe + generation metadata, once per file: the container tags the probe already read are handed
to the metadata reader, so a video is opened once (an open is the main cost of both). Thumbnails
need nothing from here: the cache builds whatever fast_media lists without a cache entry.
Never raises for a bad media file: the file's fast_media row says what is wrong.
"""
from __future__ import annotations

import logging
from typing import Iterable

from aimms_fast.media.genmeta import ensure_gen
from aimms_fast.media.probe import ensure_probed

log = logging.getLogger(__name__)


def after_import(project, rel_paths: Iterable[str]) -> dict:
    """Probe and read metadata of newly imported files. Returns {'probed', 'errors', 'with_metadata'};
    problems are logged to the project log, never raised (the import itself has succeeded)."""
    rels = [r for r in rel_paths if r]
    report = {"probed": 0, "errors": [], "with_metadata": 0}
    if not rels or project.readonly:
        return report
    tags: dict[str, dict] = {}
    try:
        rows = ensure_probed(project, rels, tags_out=tags)
        report["probed"] = len(rows)
        report["errors"] = [(r["path"], r["reason"]) for r in rows if r["status"] == "error"]
    except Exception:  # a store problem must not turn a finished import into a failure
        project.log.exception("probing imported files failed")
        return report
    try:
        # Placeholders (zero bytes) and files that failed to probe carry no metadata worth a read.
        readable = [r["path"] for r in rows if r["status"] == "ok"]
        gens = ensure_gen(project, readable, tags=tags)
        report["with_metadata"] = sum(1 for g in gens if g["source"] not in ("none", "error"))
    except Exception:
        project.log.exception("reading generation metadata of imported files failed")
    return report
