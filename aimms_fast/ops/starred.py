"""Export Starred Takes: each shot's chosen video (+ workflow PNG) and reference-slot images copied
to a folder as `{order:03d}_{shot name}`, with a manifest CSV (moved out of ops/backup.py).

Issue 14: only regular files inside the project are copied; a take whose path leaves the project
(`..`, absolute, a symlink pointing out) is listed as "outside the project" and never read. The
manifest is written spreadsheet-safe (ops/csv_safe.py).
"""
from __future__ import annotations

import stat
from pathlib import Path

from aimms_fast.errors import check_cancel
from aimms_fast.ops.backup import Progress, _os_error, _rows, safe_filename
from aimms_fast.ops.csv_io import write_rows_csv
from aimms_fast.ops.files import copy_into
from aimms_fast.errors import OutsideProject
from aimms_fast.project.layout import RECORD_TOPS
from aimms_fast.store import aimms_schema as A

MANIFEST_NAME = "starred_takes_manifest.csv"
MANIFEST_COLUMNS = ["exported_file", "kind", "slot", "order_number", "shot_id", "shot_name", "section",
                    "take_id", "take_number", "source_path", "size_bytes", "status", "notes", "rating"]


def starred_items(conn) -> list[dict]:
    """Starred takes in story order: each shot's chosen video (+ its workflow PNG) and its
    reference-slot images 1/2/3."""
    sql = (
        "SELECT s.shot_id, s.order_number, s.shot_name, s.section, t.take_id, t.take_type, t.file_path, "
        "t.starred, f.take_number, f.placeholder, f.notes, f.rating, "
        "(SELECT ct.file_path FROM fast_takes cf JOIN takes ct USING (take_id) "
        " WHERE cf.companion_of = t.take_id LIMIT 1) AS companion "
        "FROM takes t JOIN shots s ON s.shot_id = t.shot_id LEFT JOIN fast_takes f ON f.take_id = t.take_id "
        "WHERE t.starred > 0 AND t.take_type IN (?, ?) "
        "ORDER BY s.order_number, s.shot_id, CASE t.take_type WHEN ? THEN 0 ELSE 1 END, t.starred")
    return _rows(conn, sql, (A.FINAL_VIDEO, A.BASE_IMAGE, A.FINAL_VIDEO))


def export_starred(project, dest: str | Path, *, images: bool = True, progress: Progress = None, cancel=None) -> dict:
    """Copy starred media to `dest` as `{order:03d}_{shot}{ext}` (videos; the workflow PNG beside it
    with the same stem) and `{order:03d}_{shot}_slot{N}{ext}` (reference images), plus a manifest.

    Placeholders (zero-byte) and missing files are listed in the manifest but not copied.
    """
    lay = project.layout
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _os_error(e, dest, "export folder") from e
    items = [r for r in starred_items(project.conn) if images or r["take_type"] == A.FINAL_VIDEO]
    used: set[str] = set()
    manifest = []
    counts = {"copied": 0, "placeholder": 0, "missing": 0, "refused": 0}
    written: list[Path] = []
    try:
        _export_items(lay, dest, items, used, manifest, counts, written, progress, cancel)
    except BaseException:
        for w in written:  # a cancelled or failed export takes back the copies it made
            w.unlink(missing_ok=True)
        raise
    manifest_path = dest / MANIFEST_NAME
    try:
        write_rows_csv(manifest_path, MANIFEST_COLUMNS, manifest)
    except OSError as e:
        raise _os_error(e, manifest_path, "manifest") from e
    project.log.info("exported starred takes to %s: %s", dest, counts)
    return {"dest": str(dest), "manifest": str(manifest_path), "items": len(manifest), **counts}


def _export_items(lay, dest: Path, items, used, manifest, counts, written, progress, cancel) -> None:
    for i, r in enumerate(items):
        check_cancel(cancel, "export")
        order = r["order_number"] if isinstance(r["order_number"], int) else 0
        stem = f"{order:03d}_" + safe_filename(r["shot_name"], f"shot{r['shot_id']}")
        if r["take_type"] == A.BASE_IMAGE:
            stem += f"_slot{r['starred']}"
        if stem.lower() in used:  # same order and name twice: the shot id tells them apart
            stem += f"_id{r['shot_id']}"
        used.add(stem.lower())
        kind = "video" if r["take_type"] == A.FINAL_VIDEO else "image"
        pairs = [(kind, r["file_path"])]
        if kind == "video" and r["companion"]:
            pairs.append(("workflow", r["companion"]))
        for what, rel in pairs:
            src, status, size = _export_source(lay, rel)
            ext = Path(rel if isinstance(rel, str) else "").suffix.lower()
            name = f"{stem}{ext}"
            if status == "copied":
                existed = (dest / name).exists()
                copy_into(src, dest / name)
                if not existed:
                    written.append(dest / name)
            counts[status if status in counts else "refused"] += 1
            manifest.append([name if status == "copied" else "", what,
                             r["starred"] if kind == "image" else "", r["order_number"], r["shot_id"],
                             r["shot_name"], r["section"], r["take_id"], r["take_number"], rel, size, status,
                             r["notes"] or "", r["rating"] or 0])
        if progress:
            progress(i + 1, len(items))


def _export_source(lay, rel) -> tuple[Path | None, str, int | None]:
    """(path, status, size) of a starred take's file. Paths that leave the project (`..`, absolute,
    a symlink pointing out) are "outside" and never read; special files are "not a file"."""
    if not rel or not isinstance(rel, str):
        return None, "missing", None
    try:
        src = lay.read_path(rel, within=RECORD_TOPS)
    except OutsideProject:
        return None, "outside the project (not copied)", None
    try:
        st = src.stat()
    except OSError:
        return None, "missing", None
    if not stat.S_ISREG(st.st_mode):
        return None, "not a regular file (not copied)", None
    return src, ("placeholder" if st.st_size == 0 else "copied"), st.st_size
