"""Approvals and locks (issue 12): a take, a shot's star (per storyboard), a character version or an
asset can be approved and locked by the project's author (AIMMS meta 'author', the Settings name),
with the time. A locked item refuses replace, delete and star changes with an AimmsError naming
who locked it and how to unlock; the guards below are the one place that rule lives (ops/takes.py,
ops/shots.py, ops/assets.py call them first thing). Each approve/lock is one undo step and one
audit row. Thread: the project's owner thread.
"""
from __future__ import annotations

from dataclasses import dataclass

from aimms_fast.errors import AimmsError
from aimms_fast.ops import history
from aimms_fast.store import approvals as AP
from aimms_fast.store import audit as audit_store
from aimms_fast.store.db import utc_now

KINDS = ("take", "star", "asset", "charver")


def item_key(kind: str, ident) -> str:
    if kind not in KINDS:
        raise AimmsError(f"cannot approve a '{kind}'", field="kind", hint="one of: " + ", ".join(KINDS))
    return f"{kind}:{ident}"


def parse_item(text: str) -> tuple[str, str]:
    """'take:abc' -> ('take', 'abc'); 'star:12:video' -> ('star', '12:video')."""
    kind, sep, ident = text.partition(":")
    if not sep or kind not in KINDS or not ident:
        raise AimmsError(f"'{text}' is not an item to approve", field="item",
                         hint="take:<take id>, star:<shot id>:image|video, asset:<id_key>, charver:<version id>")
    return kind, ident


def _set(project, kind: str, ident, flag: str, on: bool) -> AP.Approval | None:
    project.require_writable()
    item = item_key(kind, ident)
    _require_exists(project, kind, str(ident))
    who = audit_store.author(project.conn) or "someone"
    verb = {("approved", True): "Approved", ("approved", False): "Unapproved",
            ("locked", True): "Locked", ("locked", False): "Unlocked"}[(flag, on)]
    shot_ids = _shot_of(project, kind, str(ident))
    with history.record(project, f"{verb} {kind} {ident}", what="takes", shot_ids=shot_ids,
                        scope={"fast_approvals": history.ids_in("item", [item])}):
        AP.set_flag(project.conn, item, kind, flag, on, who, utc_now())
        project.audit(f"{'' if on else 'un'}{'approve' if flag == 'approved' else 'lock'}_{kind}", f"{ident} by {who}")
    return AP.get(project.conn, item)


def approve(project, kind: str, ident, on: bool = True) -> AP.Approval | None:
    return _set(project, kind, ident, "approved", on)


def lock(project, kind: str, ident, on: bool = True) -> AP.Approval | None:
    """Locking also approves (a locked, unapproved item would be a contradiction)."""
    if on:
        a = AP.get(project.conn, item_key(kind, ident))
        if not (a and a.approved):
            approve(project, kind, ident)
    return _set(project, kind, ident, "locked", on)


def state(project, kind: str, ident) -> AP.Approval | None:
    return AP.get(project.conn, item_key(kind, ident))


def _require_exists(project, kind: str, ident: str) -> None:
    conn = project.conn
    if kind == "take":
        ok = conn.execute("SELECT 1 FROM takes WHERE take_id = ?", (ident,)).fetchone()
    elif kind == "star":
        sid, _, board = ident.partition(":")
        ok = board in ("image", "video") and sid.isdigit() and \
            conn.execute("SELECT 1 FROM shots WHERE shot_id = ?", (int(sid),)).fetchone()
    elif kind == "asset":
        ok = conn.execute("SELECT 1 FROM assets WHERE id_key = ?", (ident,)).fetchone()
    else:
        try:
            ok = conn.execute("SELECT 1 FROM fast_character_versions WHERE id = ?", (int(ident),)).fetchone()
        except Exception:
            ok = None
    if not ok:
        raise AimmsError(f"no {kind} '{ident}' to approve or lock", field=kind, path=project.root)


def _shot_of(project, kind: str, ident: str) -> list[int]:
    if kind == "take":
        r = project.conn.execute("SELECT shot_id FROM takes WHERE take_id = ?", (ident,)).fetchone()
        return [r[0]] if r else []
    if kind == "star":
        return [int(ident.partition(":")[0])]
    return []


def _refuse(project, what: str, verb: str, a: AP.Approval) -> None:
    raise AimmsError(f"{what} is locked (by {a.locked_by or 'someone'} at {a.locked_at}): cannot {verb} it",
                     path=project.root, hint=f"unlock it first: {_where(a.item)}, or `aimms lock PATH {a.item} --off`")


def _where(item: str) -> str:
    if item.startswith("charver:"):
        return "Unlock version on the Script page"
    if item.startswith("star:"):
        return "Unlock star in the storyboard card's right-click menu"
    return "Unlock in its right-click menu"


# -- guards: call first thing in an op that would replace, delete or change a star ----------------
def guard_take(project, take_id: str, verb: str) -> None:
    """Refuse to `verb` ('replace', 'delete', 'star') a locked take, or change a locked star."""
    conn = project.conn
    items = [f"take:{take_id}"]
    if verb == "star":
        r = conn.execute("SELECT t.shot_id, f.storyboard FROM takes t JOIN fast_takes f USING (take_id) "
                         "WHERE t.take_id = ?", (take_id,)).fetchone()
        if r:
            items.append(f"star:{r[0]}:{r[1]}")
    for item in AP.locked_items(conn, items):
        _refuse(project, "the shot's star" if item.startswith("star:") else f"take {take_id}", 
                "change" if item.startswith("star:") else verb, AP.get(conn, item))


def guard_shots(project, shot_ids, verb: str = "delete") -> None:
    """Refuse to delete shots holding a locked take or a locked star."""
    import orjson
    conn = project.conn
    ids = [int(s) for s in shot_ids]
    takes = [r[0] for r in conn.execute("SELECT take_id FROM takes WHERE shot_id IN (SELECT value FROM json_each(?))",
                                        (orjson.dumps(ids).decode(),))]
    items = [f"take:{t}" for t in takes] + [f"star:{s}:{b}" for s in ids for b in ("image", "video")]
    locked = AP.locked_items(conn, items)
    if locked:
        _refuse(project, f"shot {locked[0].split(':')[1]}'s {locked[0].split(':')[0]}", verb, AP.get(conn, locked[0]))


def guard_asset(project, id_key: str, verb: str) -> None:
    a = AP.get(project.conn, f"asset:{id_key}")
    if a and a.locked:
        from aimms_fast.store.assets import get_asset
        row = get_asset(project.conn, id_key)
        _refuse(project, f"asset '{row.name}'" if row and row.name else f"asset {id_key}", verb, a)


def guard_character(project, ch, verb: str) -> None:
    """Refuse to change which version of character `ch` (store.characters.Character) is active
    while that version is locked: its look is the approved one until someone unlocks it."""
    if ch.active_version is None:
        return
    a = AP.get(project.conn, f"charver:{ch.active_version}")
    if a and a.locked:
        n = ch.active.number if ch.active else "?"
        _refuse(project, f"{ch.name}'s version {n}", verb, a)


@dataclass
class SectionApproval:
    section: str
    shots: int
    takes: int
    approved: int
    locked: int
    shots_with_approved_star: int


def section_summary(project) -> list[SectionApproval]:
    return [SectionApproval(*r) for r in AP.section_summary(project.conn)]
