"""Characters as first-class assets (issue 12): detected from the script's dialogue cues, merged and
renamed by the user, with versions (concept -> casting -> final -> alternate) that each keep their
own look, prompt fragment, LoRA names and front/side/back reference images. Rolling back makes an
older version the active one again: its images were never overwritten (each version copies into its
own files under media/characters/), and the asset's file_path follows the active front image so
AIMMS shows it. Each call is one undo step and one audit row. Thread: the project's owner thread.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import orjson

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops import history
from aimms_fast.ops.approvals import guard_asset, guard_character
from aimms_fast.ops.files import IMAGE_EXTS, check_source, copy_into
from aimms_fast.store import assets as AS
from aimms_fast.store import characters as CS
from aimms_fast.store.db import utc_now
from aimms_fast.store.pending import pending_files

STAGES = CS.STAGES
SLOTS = CS.SLOTS


def list_characters(project) -> list[CS.Character]:
    return CS.characters(project.conn)


def get_character(project, name_or_id: str) -> CS.Character:
    found = CS.characters(project.conn, name_or_id)
    if not found:
        raise NotFoundError(f"no character '{name_or_id}'", path=project.root,
                            hint="list them with `aimms characters PATH`")
    return found[0]


def _scope(id_keys) -> dict:
    return {**AS.asset_scope(id_keys), **CS.scope(id_keys)}


def script_speakers(project) -> dict[str, list[int]]:
    """Speaking names from imported script shots (fast_script_shots.speakers) -> their shot ids."""
    out: dict[str, list[int]] = {}
    for sid, sp in project.conn.execute("SELECT f.shot_id, f.speakers FROM fast_script_shots f JOIN shots s"
                                        " USING (shot_id) ORDER BY s.order_number"):
        for name in orjson.loads(sp):
            out.setdefault(name, []).append(sid)
    return out


def detect(project) -> list[str]:
    """Make a character for every speaking name not known yet (name or alias), linked to the shots it
    speaks in; link new shots of known ones. Returns the names created. One undo step."""
    project.require_writable()
    speakers = script_speakers(project)
    known = {}
    for ch in CS.characters(project.conn):
        for n in [ch.name, *ch.aliases]:
            known[n.upper()] = ch.id_key
    new = [n for n in speakers if n.upper() not in known]
    ids = {n: f"asset_{uuid.uuid4()}" for n in new}
    links = {**{k: [] for k in known.values()}, **{ids[n]: [] for n in new}}
    for n, sids in speakers.items():
        links[known.get(n.upper()) or ids[n]] += sids
    todo = {k: v for k, v in links.items() if v}
    if not todo:
        return []
    now = utc_now()
    with history.record(project, f"Detected {len(new)} character(s) from the script", what="assets",
                        scope=_scope(list(todo))) as rec:
        c = project.conn
        for n in new:
            AS.insert_asset(c, id_key=ids[n], name=n.title() if n.isupper() else n, kind="characters", rel="")
            CS.insert(c, ids[n], [n], now)
        for k, sids in todo.items():
            AS.link(c, k, sids)
        project.audit("detect_characters", ", ".join(new) or "links only")
        rec.shot_ids = sorted({s for v in todo.values() for s in v})
    return new


def create(project, name: str) -> str:
    project.require_writable()
    if not name.strip():
        raise AimmsError("character name is empty", field="name")
    key = f"asset_{uuid.uuid4()}"
    with history.record(project, f"Added character {name}", what="assets", scope=_scope([key])):
        AS.insert_asset(project.conn, id_key=key, name=name.strip(), kind="characters", rel="")
        CS.insert(project.conn, key, [], utc_now())
        project.audit("add_character", name)
    return key


def rename(project, name_or_id: str, new_name: str) -> None:
    project.require_writable()
    ch = get_character(project, name_or_id)
    if not new_name.strip():
        raise AimmsError("character name is empty", field="name")
    with history.record(project, f"Renamed character {ch.name} to {new_name}", what="assets", scope=_scope([ch.id_key])):
        AS.set_name(project.conn, ch.id_key, new_name.strip())
        CS.set_aliases(project.conn, ch.id_key, list(dict.fromkeys([*ch.aliases, ch.name])), utc_now())
        project.audit("rename_character", f"{ch.id_key}: {ch.name!r} -> {new_name!r}")


def merge(project, keep: str, others: list[str]) -> None:
    """Fold `others` into `keep` (STEEL and MR. STEEL): their shots, aliases and versions move over,
    their asset rows go. One undo step."""
    project.require_writable()
    k = get_character(project, keep)
    rest = [get_character(project, o) for o in others]
    if any(r.id_key == k.id_key for r in rest):
        raise AimmsError("cannot merge a character into itself", field="others")
    ids = [k.id_key] + [r.id_key for r in rest]
    for r in rest:
        guard_asset(project, r.id_key, "delete")
    with history.record(project, f"Merged {', '.join(r.name for r in rest)} into {k.name}", what="assets",
                        scope=_scope(ids)):
        c = project.conn
        aliases = list(k.aliases)
        n = max([v.number for v in k.versions], default=0)
        for r in rest:
            AS.link(c, k.id_key, r.shot_ids)
            aliases += [a for a in [r.name, *r.aliases] if a not in aliases]
            for v in r.versions:
                n += 1
                c.execute("UPDATE fast_character_versions SET id_key = ?, number = ? WHERE id = ?", (k.id_key, n, v.id))
            CS.delete(c, r.id_key)
            AS.delete_assets(c, [r.id_key])
        CS.set_aliases(c, k.id_key, aliases, utc_now())
        project.audit("merge_characters", f"{[r.name for r in rest]} -> {k.name}")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "character"


def add_version(project, name_or_id: str, stage: str, *, look: str = "", prompt: str = "", loras=(),
                images: dict | None = None, note: str = "", activate: bool = True) -> int:
    """A new version (stage one of STAGES) with reference images {slot: file} copied (crash-safe:
    registered as pending, then committed with the rows) to media/characters/<name>/v<N>_<slot>.<ext>.
    Slots not given are empty. Returns the version id. One undo step."""
    project.require_writable()
    if stage not in STAGES:
        raise AimmsError(f"unknown stage '{stage}'", field="stage", hint="one of: " + ", ".join(STAGES))
    ch = get_character(project, name_or_id)
    guard_asset(project, ch.id_key, "replace")
    if activate:
        guard_character(project, ch, "replace")
    images = dict(images or {})
    bad = set(images) - set(SLOTS)
    if bad:
        raise AimmsError(f"unknown image slot(s): {', '.join(sorted(bad))}", field="images", hint="front, side, back")
    srcs = {s: check_source(Path(p), IMAGE_EXTS, "image") for s, p in images.items()}
    number = max([v.number for v in ch.versions], default=0) + 1
    lay = project.layout
    base = f"{lay.rel(lay.asset_dir('characters'))}/{_safe(ch.name)}_{ch.id_key[-6:]}"
    rels = {s: f"{base}/v{number:02d}_{s}{src.suffix.lower()}" for s, src in srcs.items()}
    vid = CS.next_version_id(project.conn)
    now = utc_now()
    row = {"id": vid, "id_key": ch.id_key, "number": number, "stage": stage, "look": look, "prompt": prompt,
           "loras": orjson.dumps([x for x in loras if x]).decode(), "note": note, "created_at": now,
           **{s: rels.get(s, "") for s in SLOTS}}
    rec = history.begin(project, f"{ch.name}: version {number} ({stage})", what="assets", scope=_scope([ch.id_key]))
    with pending_files(project.db, lay, list(rels.values()), copier=copy_into) as pf:
        for s, src in srcs.items():
            pf.copy(src, rels[s])
        with pf.commit() as c:
            CS.insert_version(c, row)
            if activate:
                _activate(c, ch.id_key, row, now)
            for r in rels.values():
                rec.created(r)
            project.audit("character_version", f"{ch.name} v{number} {stage}: " + ", ".join(rels.values()))
            rec.finish()
    return vid


def _activate(c, id_key: str, v: dict, now: str) -> None:
    CS.set_active(c, id_key, v["id"], now)
    AS.set_kind_and_path(c, id_key, "characters", v.get("front") or "")


def rollback(project, name_or_id: str, version: int) -> CS.Version:
    """Make version number `version` the active one again (its images and texts). One undo step."""
    project.require_writable()
    ch = get_character(project, name_or_id)
    guard_asset(project, ch.id_key, "replace")
    guard_character(project, ch, "replace")
    v = next((x for x in ch.versions if x.number == version), None)
    if v is None:
        raise NotFoundError(f"{ch.name} has no version {version}", path=project.root,
                            hint="versions: " + ", ".join(str(x.number) for x in ch.versions))
    for slot, rel in v.images.items():
        if rel and not project.layout.abs(rel).exists():
            raise AimmsError(f"version {version}'s {slot} image is missing", path=project.layout.abs(rel),
                             hint="put the file back (see data/trash), then roll back again")
    with history.record(project, f"{ch.name}: back to version {version} ({v.stage})", what="assets",
                        scope=_scope([ch.id_key])):
        _activate(project.conn, ch.id_key, {"id": v.id, "front": v.images["front"]}, utc_now())
        project.audit("character_rollback", f"{ch.name} -> v{version}")
    return v


def set_shots(project, name_or_id: str, shot_ids, *, on: bool = True) -> None:
    """Edit a character's shots (the script's links are only a start)."""
    project.require_writable()
    ch = get_character(project, name_or_id)
    sids = [int(s) for s in shot_ids]
    with history.record(project, f"{'Added' if on else 'Removed'} {ch.name} {'to' if on else 'from'} "
                        f"{len(sids)} shot(s)", what="assets", shot_ids=sids, scope=_scope([ch.id_key])):
        (AS.link if on else AS.unlink)(project.conn, ch.id_key, sids)
        project.audit("character_shots", f"{ch.name} {'+' if on else '-'}{sids}")


def characters_of_shot(project, shot_id: int) -> list[CS.Character]:
    return [c for c in CS.characters(project.conn) if shot_id in c.shot_ids]
