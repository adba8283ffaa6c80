"""One undo/redo stack for every change a user makes (Ctrl+Z / Ctrl+Shift+Z, `aimms undo|redo`).

Each mutation in ops/ opens a `Recorder` before it changes anything and calls `finish()` inside its
last transaction, so the history entry commits with the change or not at all. An entry holds the
changed rows before/after (store/history.py) and the files the action moved, each as its place
before and after (project-relative). Files are never deleted: a file an action created goes, on
undo, to data/trash/history/<token>/ and comes back from there on redo; deleted files sit in
data/trash/, replaced ones in data/backup/replaced/.

Order of an undo (redo is the mirror image), recoverable at every step (project/recovery.py):
  check rows and files are as the action left them -> state 'undoing' -> move files back ->
  write the old rows + undone=1 + state 'done' (one transaction).
A crash while files move leaves the rows as they were; recovery moves the files back to match.

Thread: whichever thread owns the project's connection (the UI thread, or a job's own project).
"""
from __future__ import annotations

import contextlib
import uuid
import weakref
from dataclasses import dataclass, field

import os

from aimms_fast.errors import AimmsError, OutsideProject
from aimms_fast.ops.files import move_file
from aimms_fast.project.logs import changed_ids, log_mutation
from aimms_fast.store import audit as audit_store
from aimms_fast.store import history as H
from aimms_fast.store.db import transaction, utc_now, utc_stamp

HISTORY_DIR = "history"  # under data/trash/


@dataclass
class HistoryEntry:
    id: int
    label: str            # "Starred take 03 of INT_OFFICE_DAWN_020"
    what: str             # 'shots' | 'takes' | 'all': what the UI must reload
    shot_ids: list[int] = field(default_factory=list)


class Recorder:
    """Collects one action's row images and file moves; `finish()` writes the entry (call it inside
    the action's last transaction). Made by `begin` or `record`."""

    def __init__(self, project, label: str, *, what: str, shot_ids, scope: H.Scope):
        self.project = project
        self.label = label
        self.what = what
        self.shot_ids = list(shot_ids or [])
        self.scope = dict(scope)
        self.files: list[dict] = []
        self.token = f"{utc_stamp()}_{uuid.uuid4().hex[:8]}"
        self.before = H.snapshot(project.conn, self.scope)
        self.entry_id: int | None = None
        self.notes: list[str] = []           # Project.audit details, for finish()'s log line
        _open_recorders(project).add(self)   # project.audit leaves the log line to finish()
        self.audit_mark = audit_store.last_id(project.conn)  # issue 12: this action's audit row comes after

    def stash(self, rel: str) -> str:
        """Where a file this action created waits while the action is undone."""
        lay = self.project.layout
        return f"{lay.trash.relative_to(lay.root).as_posix()}/{HISTORY_DIR}/{self.token}/{rel}"

    def moved(self, before: str, after: str) -> None:
        """A file went from `before` to `after` (project-relative), in the order the action did it."""
        self.files.append({"before": before, "after": after})

    def created(self, rel: str) -> None:
        self.moved(self.stash(rel), rel)

    def widen(self, scope: H.Scope) -> None:
        """Track more rows (known only once the action has started); read their 'before' now."""
        extra = {t: w for t, w in scope.items() if t not in self.scope}
        self.scope.update(extra)
        self.before.update(H.snapshot(self.project.conn, extra))

    def finish(self, label: str | None = None, shot_ids=None) -> int | None:
        """Write the entry (None when nothing changed). Caller holds the transaction. Called again
        in a later transaction of the same action, it brings the entry up to date (rows read now,
        files recorded since)."""
        conn = self.project.conn
        if not conn.in_transaction:
            raise AimmsError("internal: history entries are written inside the change's transaction")
        if label:
            self.label = label
        if shot_ids is not None:
            self.shot_ids = list(shot_ids)
        changes = H.diff(self.before, H.snapshot(conn, self.scope))
        if self.entry_id is not None:
            H.update_entry(conn, self.entry_id, changes=changes, files=self.files)
        else:
            _open_recorders(self.project).discard(self)
            if not changes and not self.files:
                return None
            self.entry_id = H.add_entry(conn, label=self.label, what=self.what, shot_ids=self.shot_ids,
                                        changes=changes, files=self.files)
            log_mutation(self.project.log, self.what, label=self.label, entry=self.entry_id, notes=self.notes,
                         **changed_ids(changes, self.shot_ids))   # project/logs.py: this change's one line
        # issue 12: this action's audit row(s) get the ids, before -> after and the undo entry
        audit_store.attach(conn, self.audit_mark, utc_now(), self.label, ids=self.shot_ids,
                           changes=audit_store.summarize(changes), history_id=self.entry_id)
        return self.entry_id


def _open_recorders(project) -> "weakref.WeakSet":
    return project.__dict__.setdefault("_open_recorders", weakref.WeakSet())


def begin(project, label: str, *, what: str = "takes", shot_ids=(), scope: H.Scope) -> Recorder:
    """Start recording an action that spans several transactions (read 'before' now)."""
    return Recorder(project, label, what=what, shot_ids=shot_ids, scope=scope)


@contextlib.contextmanager
def record(project, label: str, *, what: str = "takes", shot_ids=(), scope: H.Scope):
    """One-transaction action: BEGIN, read 'before', run the body, write the entry, COMMIT."""
    with transaction(project.db):
        rec = Recorder(project, label, what=what, shot_ids=shot_ids, scope=scope)
        try:
            yield rec
            rec.finish()
        finally:   # a failed body must not leave later audits waiting for this line
            _open_recorders(project).discard(rec)


def shot_takes_scope(shot_ids) -> H.Scope:
    return H.shot_scope(shot_ids, shots=False, takes=True)


shot_scope = H.shot_scope
ids_in = H.ids_in


# -- undo / redo ----------------------------------------------------------------------------------
def peek_undo(project) -> str | None:
    """Label of what Ctrl+Z would undo (Edit menu), or None."""
    return H.peek_label(project.conn, undone=0)


def peek_redo(project) -> str | None:
    return H.peek_label(project.conn, undone=1)


def undo(project) -> HistoryEntry | None:
    """Undo the newest action; None when there is nothing to undo."""
    project.require_writable()
    e = H.top_undo(project.conn)
    if e is None:
        return None
    _apply(project, e, side=1)
    return HistoryEntry(e.id, e.label, e.what, e.shot_ids)


def redo(project) -> HistoryEntry | None:
    """Redo the action undone last; None when there is nothing to redo (or a new change cleared it)."""
    project.require_writable()
    e = H.top_redo(project.conn)
    if e is None:
        return None
    _apply(project, e, side=2)
    return HistoryEntry(e.id, e.label, e.what, e.shot_ids)


_moves = H.moves_to


def _check_moves(project, moves: list[tuple[str, str]], verb: str, label: str) -> list[tuple]:
    """Every path through the containment rule (a hostile entry is refused before anything moves),
    then each source where the change left it and each destination free. Returns the moves as
    file system paths."""
    lay = project.layout
    paths = []
    for src, dst in moves:
        try:
            paths.append((lay.abs(src), lay.abs(dst)))
        except OutsideProject as e:
            raise OutsideProject(e.stored, f"{e.reason}; cannot {verb} '{label}', nothing was changed") from None
    there: dict = {}
    exists = lambda p: there[p] if p in there else os.path.lexists(p)  # noqa: E731
    for s, d in paths:
        if not exists(s):
            raise AimmsError(f"cannot {verb} '{label}': the file is no longer where the change left it",
                             path=s, hint="put the file back (see data/trash and data/backup), then try again")
        if exists(d):
            raise AimmsError(f"cannot {verb} '{label}': a file now stands where it has to go",
                             path=d, hint="move that file away, then try again")
        there[s], there[d] = False, True
    return paths


def _apply(project, e: H.EntryRow, side: int) -> None:
    conn = project.conn
    verb = "undo" if side == 1 else "redo"
    bad = H.mismatches(conn, e.changes, 3 - side)
    if bad:
        raise AimmsError(f"cannot {verb} '{e.label}': the project changed outside the undo history since "
                         f"({', '.join(bad[:3])}{' …' if len(bad) > 3 else ''})", path=project.root,
                         hint="the change cannot be reverted exactly; edit the shot or take by hand")
    if not isinstance(e.files, list):
        raise OutsideProject(e.files, f"the entry's file list is damaged; cannot {verb} '{e.label}'")
    try:
        moves = _moves(e.files, side)
    except (KeyError, TypeError, AttributeError):
        raise OutsideProject(e.files, f"the entry's file list is malformed; cannot {verb} '{e.label}'") from None
    paths = _check_moves(project, moves, verb, e.label)
    if moves:
        with transaction(project.db):
            H.set_state(conn, e.id, "undoing" if side == 1 else "redoing")
    done: list[tuple] = []
    try:
        for src, dst in paths:
            move_file(src, dst)
            done.append((src, dst))
        with transaction(project.db):
            H.write_side(conn, e.changes, side)
            H.set_state(conn, e.id, "done", undone=1 if side == 1 else 0)
            project.audit(verb, e.label, entry=e.id, **changed_ids(e.changes, e.shot_ids))
    except BaseException as exc:
        for src, dst in reversed(done):  # put files back where the rows (unchanged) expect them
            move_file(dst, src)
        with transaction(project.db):
            H.set_state(conn, e.id, "done")
        if isinstance(exc, AimmsError) or not isinstance(exc, Exception):
            raise
        raise AimmsError(f"cannot {verb} '{e.label}' ({exc})", path=project.root,
                         hint="nothing was changed") from exc
    if "shots" in e.changes:
        project.refresh_mapping()
