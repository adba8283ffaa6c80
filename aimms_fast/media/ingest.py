"""The media engine's import hook (called by ops/takes.py after files land in the project).

Probe + generation metadata, once per file, in the probe workers (media/probe_pool.py: every
core, a per-file time limit, a hung or crashing file marks only its own row): the container tags
the probe read are handed to the metadata reader in the same worker, so a video is opened once
(an open is the main cost of both). The rows of a batch are stored in one transaction.
Thumbnails need nothing from here: the cache builds whatever fast_media lists without a cache
entry. Never raises for a bad media file: the file's fast_media row says what is wrong.

A bulk add calls `after_import(..., defer=True)` for each batch but the last: the batch goes to
the workers and the call returns, so the next batch is copied while this one is probed; the
last call (defer=False) waits for every deferred batch of the project and stores all their rows
in one transaction. Call from the thread that owns the project connection.
"""
from __future__ import annotations

import logging
import os
import weakref
from typing import Iterable

from aimms_fast.media.genmeta import ensure_gen
from aimms_fast.media.probe import _is_current, ensure_probed, facts_of
from aimms_fast.project.layout import OutsideProject
from aimms_fast.store.db import transaction

log = logging.getLogger(__name__)

# project -> [(rels, Future of the workers' results)] submitted with defer=True, not stored yet
_deferred: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _needs_probe(project, rels: list[str]) -> list[tuple[str, str]]:
    """(rel, path to read) of the files whose stored probe row is missing or out of date (the
    workers' work). Missing and refused files are left to ensure_probed, which records them."""
    stored = facts_of(project.conn, rels)
    out = []
    for rel in rels:
        try:
            path = project.layout.read_path(rel)   # issue 14: nothing outside the project is read
            st = os.stat(path)
        except (OSError, OutsideProject):
            continue
        if not _is_current(stored.get(rel), st):
            out.append((rel, str(path)))
    return out


def _submit(project, rels: list[str], pool):
    """The workers' Future for the files that need probing (None: nothing to probe)."""
    todo = _needs_probe(project, rels)
    if not todo:
        return None
    from aimms_fast.media.probe_pool import shared_pool
    return (pool or shared_pool()).submit(todo)


def after_import(project, rel_paths: Iterable[str], *, defer: bool = False, pool=None) -> dict:
    """Probe and read metadata of newly imported files. Returns {'probed', 'errors', 'with_metadata'}
    (with `defer`: {'deferred': n}, stored by the next call without defer); problems are logged to
    the project log, never raised (the import itself has succeeded). `pool`: a
    media.probe_pool.ProbePool (default: the process's shared one)."""
    rels = [r for r in rel_paths if r]
    report = {"probed": 0, "errors": [], "with_metadata": 0}
    if project.readonly:
        return report
    batches = _deferred.setdefault(project, [])
    if rels:
        try:
            batches.append((rels, _submit(project, rels, pool)))
        except Exception:  # no workers (spawn failed...): probe here, as before
            project.log.exception("probe workers failed; probing imported files in this process")
            batches.append((rels, None))
    if defer:
        return {"deferred": sum(len(r) for r, _ in batches)}
    _deferred.pop(project, None)
    if not batches:
        return report
    rels, made = [], {}
    for part, fut in batches:
        rels += part
        if fut is None:
            continue
        try:
            made.update(fut.result())
        except Exception:
            project.log.exception("probe workers failed; probing imported files in this process")
    tags: dict[str, dict] = {}
    try:
        with transaction(project.db):      # probe rows, metadata rows and search entries at once
            rows = ensure_probed(project, rels, tags_out=tags,
                                 probed={r: (v[0], v[1]) for r, v in made.items()})
            report["probed"] = len(rows)
            report["errors"] = [(r["path"], r["reason"]) for r in rows if r["status"] == "error"]
            # Placeholders (zero bytes) and files that failed to probe carry no metadata worth a read.
            readable = [r["path"] for r in rows if r["status"] == "ok"]
            try:
                gens = ensure_gen(project, readable, tags=tags,
                                  read={r: (v[2], v[0]["size"], v[0]["mtime_ns"])
                                        for r, v in made.items() if v[0].get("status") == "ok"})
                report["with_metadata"] = sum(1 for g in gens if g["source"] not in ("none", "error"))
            except Exception:
                project.log.exception("reading generation metadata of imported files failed")
    except Exception:  # a store problem must not turn a finished import into a failure
        project.log.exception("probing imported files failed")
    return report
