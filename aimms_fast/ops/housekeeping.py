"""Housekeeping survey: one pass over the records and the media folders that every report is cut
from: the Unused page's lists (placeholders, orphans, missing files, videos without a workflow PNG,
duplicates, empty shot folders, trash), the Routing matrix and `aimms check` (ops/check.py).

Each report has two halves so the viewer keeps sqlite on its own thread: `gather` reads the
connection, `survey` is pure file-system work safe on a worker thread (it walks media/ once with
scandir, so every file costs one stat; referenced files under media/ need no second stat).
Fingerprints (duplicates) are hashed only for files that share their size with another file, and
cached by size+mtime in fast_fingerprints (store/housekeeping.py): a warm survey reads no content.
"""
from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from aimms_fast.errors import OutsideProject
from aimms_fast.project.layout import RECORD_TOPS, Layout
from aimms_fast.project.recovery import PARTIAL_SUFFIX, STAGED_SUFFIX
from aimms_fast.store import housekeeping as SH
from aimms_fast.store.housekeeping import referenced_paths, take_file_rows  # noqa: F401  (re-exported)

# Our own in-flight copies (see project/recovery.py): never "unused", recovery owns them.
TEMP_SUFFIXES = (PARTIAL_SUFFIX, STAGED_SUFFIX)
# Storyboard label per take_type, as the viewer names them.
KIND = {"base_image": "image", "final_video": "video", "video_workflow": "workflow PNG", "audio_vo": "audio"}


def _norm(rel: str) -> str:
    """A stored path as the walk names files: forward slashes (AIMMS on Windows may have stored
    backslashes), no './' or doubled slashes."""
    rel = rel.replace("\\", "/")
    if "./" in rel or "//" in rel:
        rel = str(PurePosixPath(rel))
    return rel


def abs_path(layout, rel: str) -> Path | None:
    """File-system path of a take's or asset's stored path (Layout's containment rule, issue 14),
    or None when it points outside the project: never read through."""
    try:
        return layout.read_path(rel, within=RECORD_TOPS)
    except OutsideProject:
        return None


def scan_roots(layout) -> list[Path]:
    """media/ (shot folders and media/<asset kind>/) and the older layout's assets/ folder."""
    return [d for d in (layout.media, layout.legacy_assets) if d.is_dir()]


# -- the file walk --------------------------------------------------------------------------------
@dataclass
class Files:
    """Every file under the scan roots: rel -> (size, mtime_ns); folders with no file below them."""
    stats: dict = field(default_factory=dict)
    empty_dirs: list = field(default_factory=list)


def walk(root: Path, dirs: list[Path]) -> Files:
    """One scandir pass (a file that vanishes mid-walk is skipped). Worker-safe."""
    out = Files()
    root = Path(root)
    rlen = len(str(root)) + 1

    def visit(d: str) -> int:
        n = 0
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return 1   # unreadable: not "empty"
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    n += visit(e.path)
                    continue
                if e.name.endswith(TEMP_SUFFIXES):
                    n += 1
                    continue
                st = e.stat()
                if e.is_symlink() and not stat.S_ISREG(st.st_mode):
                    # A link to a folder (maybe outside) is one entry, never walked: list the link.
                    st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            out.stats[e.path[rlen:].replace(os.sep, "/")] = (st.st_size, st.st_mtime_ns)
            n += 1
        if n == 0:
            out.empty_dirs.append(d[rlen:].replace(os.sep, "/"))
        return n
    for top in dirs:
        visit(str(top))
    return out


def stat_of(layout, files: Files, rel: str):
    """(size, mtime_ns) of a stored path, None when missing, 'outside' when it leaves the project."""
    rel = _norm(rel)
    if rel in files.stats:
        return files.stats[rel]
    p = abs_path(layout, rel)
    if p is None:
        return "outside"
    try:
        st = p.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if p.is_file() else None


# -- compatibility: the first, read-only reports --------------------------------------------------
def scan_unused(root: Path, dirs: list[Path], refs: set[str]) -> list[dict]:
    """Files under `dirs` not in `refs`, sorted by path: {path, size, mtime, zero_byte}. Worker-safe."""
    out = []
    for rel, (size, mtime_ns) in walk(root, dirs).stats.items():
        if rel not in refs:
            out.append({"path": rel, "size": size, "mtime": mtime_ns / 1e9, "zero_byte": size == 0})
    return out


def unused_files(project) -> list[dict]:
    """Media files under media/ (and the older assets/) that no take or asset refers to."""
    return scan_unused(project.root, scan_roots(project.layout), referenced_paths(project.conn))


def check_take_files(root: Path, rows, progress=None) -> dict:
    """Per storyboard: {takes, missing, placeholders}; and the takes whose file is missing.
    Worker-safe. `progress(done, total)` every 500 takes."""
    lay = Layout(Path(root))
    counts: dict[str, dict[str, int]] = {}
    missing = []
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
            m = {"take_id": take_id, "shot_id": shot_id, "shot_name": shot_name or "",
                 "kind": kind, "take_type": take_type, "path": rel or None}
            # issue 14: a refused path is "outside the project" (with why), not merely missing
            why = lay.outside_reason(rel, within=RECORD_TOPS) if rel else None
            if why:
                m["outside"] = why
            missing.append(m)
    return {"counts": counts, "missing": missing}


def routing_health(project, progress=None) -> dict:
    return check_take_files(project.root, take_file_rows(project.conn), progress)


# -- the survey -----------------------------------------------------------------------------------
@dataclass
class Inputs:
    """What the survey needs from the connection (read by `gather` on its thread)."""
    root: Path
    dirs: list
    rows: SH.CheckRows
    refs: set
    shots: dict            # shot_id -> name
    fingerprints: dict     # path -> (size, mtime_ns, fp) cached
    trash: list            # store trash_entries rows
    trash_dir: Path


def gather(project) -> Inputs:
    conn = project.conn
    return Inputs(project.root, scan_roots(project.layout), SH.check_rows(conn), SH.referenced_paths(conn),
                  SH.live_shot_ids(conn), SH.cached_fingerprints(conn), SH.trash_entries(conn),
                  project.layout.trash)


@dataclass
class Survey:
    """The lists of the Unused page; `ops/check.py` turns them into problems and the matrix."""
    placeholders: list = field(default_factory=list)  # {take_id, shot_id, shot_name, kind, path}
    orphans: list = field(default_factory=list)       # {path, size, mtime, suggested_shot}
    missing: list = field(default_factory=list)       # {take_id|asset, shot_id, shot_name, kind, path}
    outside: list = field(default_factory=list)       # same fields: stored path leaves the project
    no_png: list = field(default_factory=list)        # {take_id, shot_id, shot_name, path, reason}
    duplicates: list = field(default_factory=list)    # {path, size, group, take_id, shot_id}
    empty_folders: list = field(default_factory=list)  # {path}
    trash: list = field(default_factory=list)         # {path, size, files, age_s, label, trash_id}
    per_shot: dict = field(default_factory=dict)      # shot_id -> counters (ops/check.py)
    new_fingerprints: list = field(default_factory=list)  # rows for store.save_fingerprints
    files: int = 0
    hashed: int = 0

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("placeholders", "orphans", "missing", "outside", "no_png",
                                              "duplicates", "empty_folders", "trash")}


def _shot_counters() -> dict:
    return {"images": 0, "image_placeholders": 0, "videos": 0, "video_placeholders": 0, "pngs": 0,
            "pngs_needed": 0, "starred_images": 0, "starred_videos": 0, "assets": 0, "missing": 0,
            "missing_assets": 0, "no_png": 0, "outside": 0}


def survey(inp: Inputs, *, duplicates: bool = True, trash: bool = True, progress=None, cancel=None) -> Survey:
    """Classify every record and file. Worker-safe (no sqlite). `duplicates` hashes files that share
    a size (cached ones are not read again); `progress(done, total)` while hashing."""
    lay = Layout(inp.root)
    files = walk(inp.root, inp.dirs)
    s = Survey(files=len(files.stats))
    shots = inp.shots
    per = s.per_shot = {sid: _shot_counters() for sid in shots}
    rows = inp.rows
    companion_of_video: dict[str, tuple] = {}
    for take_id, shot_id, take_type, rel, placeholder, starred, comp_of in rows.takes:
        if comp_of:
            companion_of_video[comp_of] = (take_id, rel)
    name = lambda sid: shots.get(sid, f"shot {sid}")  # noqa: E731
    for take_id, shot_id, take_type, rel, placeholder, starred, comp_of in rows.takes:
        c = per.setdefault(shot_id, _shot_counters())
        kind = KIND.get(take_type, take_type)
        item = {"take_id": take_id, "shot_id": shot_id, "shot_name": name(shot_id), "kind": kind,
                "path": _norm(rel) if rel else None}
        st = stat_of(lay, files, rel) if rel else None
        if st == "outside":
            s.outside.append(item)
            c["outside"] += 1
            continue
        if st is None:
            s.missing.append(item)
            c["missing"] += 1
            continue
        empty = st[0] == 0
        if empty and not comp_of:
            s.placeholders.append({**item, "flagged": bool(placeholder)})
        if take_type == "base_image":
            c["image_placeholders" if empty else "images"] += 1
            if starred and not empty:
                c["starred_images"] += 1
        elif take_type == "final_video":
            c["video_placeholders" if empty else "videos"] += 1
            if starred and not empty:
                c["starred_videos"] += 1
            if not empty:
                c["pngs_needed"] += 1
                comp = companion_of_video.get(take_id)
                reason = None
                if comp is None:
                    reason = "no workflow PNG recorded"
                else:
                    cst = stat_of(lay, files, comp[1]) if comp[1] else None
                    if cst is None or cst == "outside":
                        reason = "recorded workflow PNG not found"
                    elif cst[0] == 0:
                        reason = "workflow PNG is an empty placeholder but the video is real"
                    else:
                        c["pngs"] += 1
                if reason:
                    s.no_png.append({**item, "reason": reason, "png": _norm(comp[1]) if comp and comp[1] else None})
                    c["no_png"] += 1
    asset_missing: set = set()
    for id_key, asset_name, rel in rows.assets:
        if not rel:
            continue
        st = stat_of(lay, files, rel)
        if st is None or st == "outside":
            asset_missing.add(id_key)
            (s.outside if st == "outside" else s.missing).append(
                {"asset": id_key, "shot_id": None, "shot_name": "", "kind": f"asset {asset_name}".strip(),
                 "path": _norm(rel), "take_id": None})
    for shot_id, id_key in rows.asset_links:
        c = per.setdefault(shot_id, _shot_counters())
        c["assets"] += 1
        if id_key in asset_missing:
            c["missing_assets"] += 1
    # Orphans and empty shot folders.
    for rel, (size, mtime_ns) in files.stats.items():
        if rel in inp.refs:
            continue
        parts = rel.split("/")
        sug = int(parts[1]) if len(parts) > 2 and parts[0] == "media" and parts[1].isdigit() \
            and int(parts[1]) in shots else None
        s.orphans.append({"path": rel, "size": size, "mtime": mtime_ns / 1e9, "suggested_shot": sug,
                          "suggested_name": shots.get(sug, "") if sug else ""})
    for d in files.empty_dirs:
        parts = d.split("/")
        if len(parts) == 2 and parts[0] == "media" and parts[1].isdigit() and int(parts[1]) not in shots:
            s.empty_folders.append({"path": d})
    if duplicates:
        _duplicates(inp, files, s, progress, cancel)
    if trash:
        s.trash = trash_contents(inp)
    return s


def _duplicates(inp: Inputs, files: Files, s: Survey, progress, cancel) -> None:
    from aimms_fast.media.probe import fingerprint
    by_size: dict[int, list[str]] = {}
    for rel, (size, _m) in files.stats.items():
        if size > 0:
            by_size.setdefault(size, []).append(rel)
    todo = [rel for rels in by_size.values() if len(rels) > 1 for rel in rels]
    cache = inp.fingerprints
    fps: dict[str, str] = {}
    need = []
    for rel in todo:
        size, mtime_ns = files.stats[rel]
        c = cache.get(rel)
        if c and c[0] == size and c[1] == mtime_ns:
            fps[rel] = c[2]
        else:
            need.append(rel)
    for i, rel in enumerate(need, 1):
        if cancel is not None and cancel.is_set():
            break
        size, mtime_ns = files.stats[rel]
        try:
            fp = fingerprint(Path(inp.root) / rel, size)
        except OSError:
            continue
        fps[rel] = fp
        s.new_fingerprints.append((rel, size, mtime_ns, fp))
        if progress is not None and (i % 50 == 0 or i == len(need)):
            progress(i, len(need))
    s.hashed = len(s.new_fingerprints)
    groups: dict[str, list[str]] = {}
    for rel, fp in fps.items():
        groups.setdefault(fp, []).append(rel)
    takes_by_path = {_norm(t[3]): (t[0], t[1]) for t in inp.rows.takes if t[3]}
    g = 0
    for fp, rels in sorted(groups.items(), key=lambda kv: sorted(kv[1])[0]):
        if len(rels) < 2:
            continue
        g += 1
        for rel in sorted(rels):
            tid, sid = takes_by_path.get(rel, (None, None))
            s.duplicates.append({"path": rel, "size": files.stats[rel][0], "group": g, "fingerprint": fp,
                                 "referenced": rel in inp.refs, "take_id": tid, "shot_id": sid})


def trash_contents(inp: Inputs) -> list[dict]:
    """Each entry of data/trash/ (one per delete, one per undone addition under history/):
    size, file count, age; the trash entry's label when the project trash knows it."""
    import orjson
    tdir = Path(inp.trash_dir)
    if not tdir.is_dir():
        return []
    labels: dict[str, tuple] = {}
    for tid, kind, label, deleted_at, restored_at, files_json in inp.trash:
        for m in orjson.loads(files_json or "[]"):
            labels.setdefault(m["to"].split("/")[0], (tid, label, restored_at))
    root = Path(inp.root)
    now = time.time()
    tops = []
    for e in sorted(os.scandir(tdir), key=lambda e: e.name):
        if e.name == "history" and e.is_dir():
            tops += [(x, f"history/{x.name}") for x in sorted(os.scandir(e.path), key=lambda x: x.name)]
        else:
            tops.append((e, e.name))
    out = []
    for e, name in tops:
        size = n = 0
        newest = 0.0
        if e.is_dir(follow_symlinks=False):
            for dp, _dn, fns in os.walk(e.path):
                for fn in fns:
                    try:
                        st = os.stat(os.path.join(dp, fn))
                    except OSError:
                        continue
                    size += st.st_size
                    n += 1
                    newest = max(newest, st.st_mtime)
            newest = newest or e.stat().st_mtime
        else:
            st = e.stat()
            size, n, newest = st.st_size, 1, st.st_mtime
        tid, label, restored = labels.get(name, (None, "", None))
        out.append({"path": Path(e.path).relative_to(root).as_posix(), "size": size, "files": n,
                    "age_s": max(0.0, now - os.stat(e.path).st_mtime), "label": label or name,
                    "trash_id": tid, "restored": bool(restored)})
    return out


def unused_report(project, *, progress=None, cancel=None) -> Survey:
    """The whole Unused survey on one connection (CLI, jobs): gather, survey, cache fingerprints."""
    s = survey(gather(project), progress=progress, cancel=cancel)
    save_survey_fingerprints(project, s)
    return s


def save_survey_fingerprints(project, s: Survey) -> None:
    """Cache what the survey hashed (a cache, not a user change: no undo step). Connection thread."""
    if s.new_fingerprints and not project.readonly:
        from aimms_fast.store.db import transaction
        with transaction(project.db):
            SH.save_fingerprints(project.conn, s.new_fingerprints)


def survey_in_job(project, *, duplicates: bool = True, trash: bool = True, progress=None, cancel=None
                  ) -> tuple[Inputs, Survey]:
    """The whole survey on a job's own connection (`project.for_job()`), so a page's scan keeps
    even the reading of 32K take rows (~0.13 s CPU on the 21K project) off the UI thread. Call it
    on the worker thread; it caches what it hashed on that connection."""
    with project.for_job() as q:
        inp = gather(q)
        s = survey(inp, duplicates=duplicates, trash=trash, progress=progress, cancel=cancel)
        save_survey_fingerprints(q, s)
    return inp, s
