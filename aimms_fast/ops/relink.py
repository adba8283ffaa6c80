"""Relink: put back files whose records point at nothing, by searching a folder the user picks.

A missing file is matched by content first (the fingerprint recorded when the file was last seen:
fast_fingerprints or the probe's fast_media row; only candidates of the same size are hashed), then
by name and size, then (size never recorded) by a name found exactly once. So a file renamed by hand
is found by content, a moved folder by either. A match inside the project is moved back to the
recorded path; one outside is copied in (the user's folder is left as it was). Records never
change: the files come back to where AIMMS expects them. One undo step (ops/history.py).
Thread: the project's connection thread (UI thread or a job's own project).
"""
from __future__ import annotations

import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aimms_fast.errors import AimmsError
from aimms_fast.ops import history
from aimms_fast.ops import housekeeping as HK
from aimms_fast.ops.files import copy_into, move_file
from aimms_fast.store import housekeeping as SH
from aimms_fast.store.db import transaction


@dataclass
class Match:
    path: str            # the recorded (missing) path
    found: str           # where the file was found (absolute)
    by: str              # 'fingerprint' | 'name+size' | 'name'
    take_id: str | None = None
    shot_id: int | None = None


@dataclass
class RelinkResult:
    folder: str
    matches: list = field(default_factory=list)    # Match
    unmatched: list = field(default_factory=list)  # recorded paths nothing was found for
    dry_run: bool = False
    moved: int = 0
    copied: int = 0

    def to_dict(self) -> dict:
        return {"folder": self.folder, "dry_run": self.dry_run, "moved": self.moved, "copied": self.copied,
                "matches": [asdict(m) for m in self.matches], "unmatched": self.unmatched}


def _inside(root: Path, p: Path) -> str | None:
    try:
        return Path(p).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return None


def find_matches(project, folder, *, paths=None, progress=None) -> RelinkResult:
    """Which file of `folder` belongs at each missing recorded path (all, or `paths`)."""
    from aimms_fast.media.probe import fingerprint
    folder = Path(folder)
    if not folder.is_dir():
        raise AimmsError("the folder to search does not exist", path=folder, hint="pick an existing folder")
    inp = HK.gather(project)
    s = HK.survey(inp, duplicates=False, trash=False)
    missing = [m for m in s.missing if m["path"] and (paths is None or m["path"] in set(paths))]
    res = RelinkResult(folder=str(folder))
    if not missing:
        return res
    known = SH.known_fingerprints(project.conn, [m["path"] for m in missing])
    refs = inp.refs
    by_size: dict[int, list[str]] = {}
    by_name: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    lex_root = os.path.abspath(project.root) + os.sep
    for dp, dn, fns in os.walk(folder):
        dn.sort()
        for fn in sorted(fns):
            if fn.endswith(HK.TEMP_SUFFIXES):
                continue
            p = os.path.join(dp, fn)
            rel = _inside(project.root, Path(p))
            if rel is not None and rel in refs:
                continue  # a live take's own file: never taken for another record
            try:
                st = os.lstat(p)
                if stat.S_ISLNK(st.st_mode):
                    if lex_root and os.path.abspath(p).startswith(lex_root):
                        continue  # a link inside the project is never followed out of it (issue 14)
                    st = os.stat(p)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue  # a FIFO or device: copying it would block forever (issue 14)
            size = st.st_size
            sizes[p] = size
            by_size.setdefault(size, []).append(p)
            by_name.setdefault(fn, []).append(p)
    fps: dict[str, str] = {}
    used: set[str] = set()

    def fp_of(p: str) -> str | None:
        if p not in fps:
            try:
                fps[p] = fingerprint(p, sizes[p])
            except OSError:
                fps[p] = None
        return fps[p]
    for i, m in enumerate(missing, 1):
        rel = m["path"]
        size, fp = known.get(rel, (None, None))
        name = rel.rsplit("/", 1)[-1]
        hit = by = None
        if fp and size:
            hit = next((p for p in by_size.get(size, []) if p not in used and fp_of(p) == fp), None)
            by = "fingerprint"
        if hit is None and size is not None:
            hit = next((p for p in by_name.get(name, []) if p not in used and sizes[p] == size), None)
            by = "name+size"
        if hit is None and size is None:
            cands = [p for p in by_name.get(name, []) if p not in used]
            hit, by = (cands[0], "name") if len(cands) == 1 else (None, None)
        if hit is None:
            res.unmatched.append(rel)
        else:
            used.add(hit)
            res.matches.append(Match(rel, hit, by, m.get("take_id"), m.get("shot_id")))
        if progress:
            progress(i, len(missing))
    return res


def relink(project, folder, *, paths=None, dry_run: bool = False, progress=None) -> RelinkResult:
    """Find (see `find_matches`) and, unless `dry_run`, put each found file back; one undo step."""
    res = find_matches(project, folder, paths=paths, progress=progress)
    res.dry_run = dry_run
    if dry_run or not res.matches:
        return res
    project.require_writable()
    lay = project.layout
    shot_ids = sorted({m.shot_id for m in res.matches if m.shot_id is not None})
    rec = history.begin(project, f"Relinked {len(res.matches)} file(s) from {Path(folder).name}",
                        what="takes", shot_ids=shot_ids, scope={})
    done = []
    try:
        for m in res.matches:
            target = lay.abs(m.path)
            if target.exists():
                continue  # put back meanwhile (by hand): nothing to do
            src_rel = _inside(project.root, Path(m.found))
            if src_rel is not None:
                move_file(Path(m.found), target)
                rec.moved(src_rel, m.path)
                res.moved += 1
            else:
                copy_into(Path(m.found), target)
                rec.created(m.path)
                res.copied += 1
            done.append(m)
    finally:
        if done:
            with transaction(project.db):
                project.audit("relink", f"{len(done)} file(s) from {folder}: "
                              + "; ".join(f"{m.path} <- {m.found} ({m.by})" for m in done[:50]))
                rec.finish()
    return res
