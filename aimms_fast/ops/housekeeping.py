"""Housekeeping reports: media files no row refers to (unused) and takes whose file is gone (routing).

Each report has two halves so the viewer can keep sqlite on its own thread: a query on the
connection (`referenced_paths`, `take_file_rows`) and a pure file-system scan that is safe on a
worker thread (`scan_unused`, `check_take_files`). `unused_files` / `routing_health` join them.
"""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from aimms_fast.project.layout import Layout
from aimms_fast.project.recovery import PARTIAL_SUFFIX, STAGED_SUFFIX

# Our own in-flight copies (see project/recovery.py): never "unused", recovery owns them.
TEMP_SUFFIXES = (PARTIAL_SUFFIX, STAGED_SUFFIX)
# Storyboard label per take_type, as the viewer names them.
KIND = {"base_image": "image", "final_video": "video", "video_workflow": "workflow PNG", "audio_vo": "audio"}


def _norm(rel: str) -> str:
    return rel.replace("\\", "/")  # AIMMS on Windows may have stored backslashes


# -- unused ---------------------------------------------------------------------------------------
def referenced_paths(conn) -> set[str]:
    """Every project-relative path a take or asset row refers to, plus files being imported now
    (registered in fast_pending_files before their take row exists)."""
    refs: set[str] = set()
    for sql in ("SELECT file_path FROM takes WHERE file_path IS NOT NULL",
                "SELECT file_path FROM assets WHERE file_path IS NOT NULL",
                "SELECT path FROM fast_asset_files",  # a glTF asset's .bin buffers and textures
                "SELECT path FROM fast_pending_files"):
        refs.update(_norm(r[0]) for r in conn.execute(sql))
    return refs


def scan_roots(layout) -> list[Path]:
    """media/ (shot folders and media/<asset kind>/) and the older layout's assets/ folder."""
    return [d for d in (layout.media, layout.legacy_assets) if d.is_dir()]


def scan_unused(root: Path, dirs: list[Path], refs: set[str]) -> list[dict]:
    """Files under `dirs` not in `refs`, sorted by path: {path, size, mtime, zero_byte}.
    Pure file-system work: safe on a worker thread. A file that vanishes mid-scan is skipped."""
    out = []
    root = Path(root)
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith(TEMP_SUFFIXES):
                    continue
                p = Path(dirpath) / fn
                rel = PurePosixPath(p.relative_to(root)).as_posix()
                if rel in refs:
                    continue
                try:
                    st = p.stat()
                except OSError:
                    continue
                out.append({"path": rel, "size": st.st_size, "mtime": st.st_mtime, "zero_byte": st.st_size == 0})
    return out


def unused_files(project) -> list[dict]:
    """Media files under media/ (and the older assets/) that no take or asset refers to."""
    return scan_unused(project.root, scan_roots(project.layout), referenced_paths(project.conn))


# -- routing --------------------------------------------------------------------------------------
def take_file_rows(conn) -> list[tuple]:
    """(take_id, shot_id, shot_name, take_type, file_path, placeholder) in story order."""
    return conn.execute(
        "SELECT t.take_id, t.shot_id, s.shot_name, t.take_type, t.file_path, COALESCE(f.placeholder, 0) "
        "FROM takes t LEFT JOIN shots s USING (shot_id) LEFT JOIN fast_takes f USING (take_id) "
        "ORDER BY s.order_number, t.shot_id, t.take_type, t.file_path").fetchall()


def check_take_files(root: Path, rows, progress=None) -> dict:
    """Per storyboard: {takes, missing, placeholders}; and the takes whose file is missing
    ({take_id, shot_id, shot_name, kind, take_type, path}; path None when none is recorded).
    Pure file-system work: safe on a worker thread. `progress(done, total)` every 500 takes."""
    counts: dict[str, dict[str, int]] = {}
    missing = []
    root = Path(root)
    lay = Layout(root)
    for i, (take_id, shot_id, shot_name, take_type, rel, placeholder) in enumerate(rows, 1):
        if progress is not None and (i % 500 == 0 or i == len(rows)):
            progress(i, len(rows))
        kind = KIND.get(take_type, take_type)
        c = counts.setdefault(kind, {"takes": 0, "missing": 0, "placeholders": 0})
        c["takes"] += 1
        if placeholder:
            c["placeholders"] += 1
        # Layout.size_of: None also for a path outside the project (issue 14), never read through.
        if not rel or lay.size_of(rel) is None:
            c["missing"] += 1
            missing.append({"take_id": take_id, "shot_id": shot_id, "shot_name": shot_name or "",
                            "kind": kind, "take_type": take_type, "path": rel or None})
    return {"counts": counts, "missing": missing}


def routing_health(project, progress=None) -> dict:
    """Takes per storyboard, how many point at a missing file, how many are placeholders,
    and the list of the missing ones."""
    return check_take_files(project.root, take_file_rows(project.conn), progress)
