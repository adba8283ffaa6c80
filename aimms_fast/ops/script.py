"""Screenplay -> shot list (issue 12): plan the shots a Fountain script makes, compare them with the
shots an earlier import made (re-import), and apply the difference.

Granularity 'beat': each scene heading becomes a section and each action beat or dialogue block
one shot; 'scene': each scene one shot (description = its action, dialogue = its lines). Scenes are
matched across re-imports by a stable key (the scene number '#12#' when the script has them, else
heading + occurrence), then by heading + text similarity for scenes whose heading was edited; beats
inside a matched scene by position. Kept shots keep their takes; changed ones get only the script's
fields rewritten; removed ones are deleted like any shot (deleted_shots, media to the trash).

Added and changed shots are written in one transaction (one undo step, ops/history.py); removed
shots are a second undo step through ops/shots.delete_shots (it moves their media folders).
Thread: the project's owner thread (UI thread or a CLI).
"""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from aimms_fast.errors import AimmsError
from aimms_fast.ops.script_parse import Scene, Script, parse_file
from aimms_fast.store import script as SS
from aimms_fast.store.db import utc_now

GRANULARITIES = ("beat", "scene")
SIMILAR = 0.6  # heading+text ratio above which an unmatched old scene is the same scene edited
FIELDS = ("shot_name", "section", "description", "dialogue", "location", "time_of_day")
# What a re-import compares and rewrites: a kept shot keeps its name and section even when scenes
# before it were removed or added (the script's numbering moved, the shot did not).
CONTENT = ("description", "dialogue", "location", "time_of_day")


@dataclass
class PlannedShot:
    scene_key: str
    scene_index: int
    beat: int
    heading: str
    speakers: list[str]
    fields: dict          # shot columns from FIELDS
    ms: int = 0           # estimated screen time of the beat(s)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha1(orjson.dumps([self.fields.get(f) or "" for f in CONTENT] + [self.heading])).hexdigest()

    def update_fields(self, old_heading: str) -> dict:
        """The columns a re-import rewrites on this kept shot."""
        out = {f: self.fields.get(f) or "" for f in CONTENT}
        if old_heading != self.heading:
            out["section"] = self.fields["section"]
        return out


@dataclass
class ScriptDiff:
    script: Script
    granularity: str
    planned: list[PlannedShot]
    added: list[PlannedShot] = field(default_factory=list)
    changed: list[tuple[int, PlannedShot]] = field(default_factory=list)   # (shot_id, new plan)
    removed: list[tuple[int, str]] = field(default_factory=list)           # (shot_id, scene key)
    kept: list[tuple[int, PlannedShot]] = field(default_factory=list)
    first_import: bool = True
    old_headings: dict = field(default_factory=dict)   # shot_id -> heading at the last import

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def summary(self) -> str:
        if self.empty:
            return "no changes"
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"

    def as_dict(self) -> dict:
        return {"script": self.script.path, "title": self.script.title, "granularity": self.granularity,
                "scenes": len(self.script.scenes), "speakers": self.script.speakers,
                "summary": self.summary(),
                "added": [p.fields | {"scene": p.scene_key} for p in self.added],
                "changed": [{"shot_id": sid, **p.update_fields(self.old_headings.get(sid, p.heading))}
                            for sid, p in self.changed],
                "removed": [{"shot_id": sid, "scene": key} for sid, key in self.removed],
                "kept": len(self.kept)}


def scene_keys(scenes: list[Scene]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for s in scenes:
        base = f"#{s.number}" if s.number else (s.heading.upper() or "(before the first scene)")
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 and s.number else f"{base}@{seen[base]}")
    return out


def plan(script: Script, granularity: str = "beat") -> list[PlannedShot]:
    if granularity not in GRANULARITIES:
        raise AimmsError(f"unknown granularity '{granularity}'", field="granularity", hint="use beat or scene")
    out = []
    for s, key in zip(script.scenes, scene_keys(script.scenes)):
        token = f"SC{s.number or f'{s.index:02d}'}"
        common = {"location": s.location, "time_of_day": s.time_of_day}
        if granularity == "scene":
            action = "\n".join(b.text for b in s.beats if b.kind == "action")
            dialogue = "\n".join(b.text for b in s.beats if b.kind == "dialogue")
            out.append(PlannedShot(key, s.index, 0, s.heading, s.speakers, {
                "shot_name": token, "section": s.section, "description": "\n".join(x for x in (s.heading, action) if x),
                "dialogue": dialogue, **common}, sum(b.ms for b in s.beats)))
            continue
        beats = s.beats or [None]
        for k, b in enumerate(beats):
            out.append(PlannedShot(key, s.index, k, s.heading, b.speakers if b else [], {
                "shot_name": f"{token}_{(k + 1) * 10:03d}", "section": s.label,
                "description": b.text if b else s.heading, "dialogue": b.dialogue_line() if b else "", **common},
                b.ms if b else 0))
    return out


def diff(project, script: Script, granularity: str = "beat") -> ScriptDiff:
    """What importing `script` would change in `project` (reads only)."""
    planned = plan(script, granularity)
    d = ScriptDiff(script, granularity, planned)
    old = SS.script_shots(project.conn)
    if not old:
        d.added = list(planned)
        return d
    d.first_import = False
    grans = {o.granularity for o in old}
    if grans != {granularity}:
        raise AimmsError(f"this project's shots were imported one per {grans.pop()}; re-import with the same "
                         f"--granularity", field="granularity", hint="or import into a new project")
    by_scene: dict[str, dict[int, SS.ScriptShot]] = {}
    for o in old:
        by_scene.setdefault(o.scene_key, {})[o.beat] = o
    new_scenes: dict[str, list[PlannedShot]] = {}
    for p in planned:
        new_scenes.setdefault(p.scene_key, []).append(p)
    # heading edited: pair leftover old and new scenes by heading + text similarity
    rename: dict[str, str] = {}
    old_left = [k for k in by_scene if k not in new_scenes]
    new_left = [k for k in new_scenes if k not in by_scene]
    old_text = {k: _old_text(project, by_scene[k]) for k in old_left}
    for nk in new_left:
        ntext = "\n".join([new_scenes[nk][0].heading] + [p.fields["description"] for p in new_scenes[nk]])
        best = max(old_left, key=lambda ok: difflib.SequenceMatcher(None, old_text[ok], ntext).ratio(), default=None)
        if best and difflib.SequenceMatcher(None, old_text[best], ntext).ratio() >= SIMILAR:
            rename[nk] = best
            old_left.remove(best)
    matched_old: set[str] = set()
    for key, shots in new_scenes.items():
        okey = key if key in by_scene else rename.get(key)
        olds = by_scene.get(okey, {}) if okey else {}
        if okey:
            matched_old.add(okey)
        for p in shots:
            o = olds.get(p.beat)
            if o is None:
                d.added.append(p)
            elif o.fingerprint != p.fingerprint or o.scene_key != p.scene_key:
                d.changed.append((o.shot_id, p))
            else:
                d.kept.append((o.shot_id, p))
        for beat, o in sorted(olds.items()):
            if beat >= len(shots):
                d.removed.append((o.shot_id, o.scene_key))
    for key, olds in by_scene.items():
        if key not in matched_old:
            d.removed += [(o.shot_id, key) for _, o in sorted(olds.items())]
    d.old_headings = {o.shot_id: o.heading for o in old}
    _rename_clashes(project, d)
    return d


def _rename_clashes(project, d: ScriptDiff) -> None:
    """A scene added between kept ones would reuse a kept shot's name (SC08_010): add a letter."""
    from aimms_fast.store.shots import ids_named
    gone = {sid for sid, _ in d.removed}
    taken = lambda n: any(i not in gone for i in ids_named(project.conn, n))  # noqa: E731
    for a in d.added:
        name = a.fields["shot_name"]
        if not taken(name):
            continue
        head, _, tail = name.partition("_")
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            cand = f"{head}{letter}_{tail}" if tail else f"{head}{letter}"
            if not taken(cand):
                a.fields["shot_name"] = cand
                break


def _old_text(project, olds: dict) -> str:
    from aimms_fast.store.shots import get_shot
    first = next(iter(olds.values()))
    parts = [first.heading]
    for _, o in sorted(olds.items()):
        parts.append((get_shot(project.conn, o.shot_id) or {}).get("description") or "")
    return "\n".join(parts)


def preview(project, path: str | Path, granularity: str = "beat") -> ScriptDiff:
    return diff(project, parse_file(path), granularity)


def import_script(project, path: str | Path, *, granularity: str = "beat", dry_run: bool = False,
                  placeholders: bool = True) -> ScriptDiff:
    """Parse, compare and (unless dry_run) apply. Returns the diff that was (or would be) applied."""
    project.require_writable() if not dry_run else None
    d = preview(project, path, granularity)
    if dry_run or d.empty:
        return d
    from aimms_fast.ops.script_apply import apply_diff
    apply_diff(project, d, placeholders=placeholders)
    return d


def script_rows(d: ScriptDiff, pairs: list[tuple[int, PlannedShot]]) -> list[dict]:
    now = utc_now()
    name = Path(d.script.path).name
    return [{"shot_id": sid, "script": name, "scene_key": p.scene_key, "scene_index": p.scene_index,
             "beat": p.beat, "granularity": d.granularity, "heading": p.heading,
             "speakers": orjson.dumps(p.speakers).decode(), "fingerprint": p.fingerprint, "imported_at": now, "est_ms": p.ms}
            for sid, p in pairs]
