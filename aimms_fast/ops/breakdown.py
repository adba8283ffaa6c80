"""Script breakdown (issue 12), per scene of the imported script: cast (speaking, and mentioned in the
action without a line), location, time of day, estimated screen time (Storyboarder's word-rate rule,
ops/script_parse.words_ms), number of shots and coverage (shots with a starred image / video); as
CSV and a self-contained HTML page; and a generation order: the shots grouped by location, then by
lead character, the AI counterpart of a shooting schedule (one look and one set at a time keeps
generations consistent). Reads only. Thread: any thread with its own connection."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from aimms_fast.errors import AimmsError
from aimms_fast.store import characters as CS
from aimms_fast.store import script as SS


@dataclass
class SceneBreakdown:
    index: int
    key: str
    heading: str
    section: str
    location: str
    time_of_day: str
    speaking: list[str] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)
    est_seconds: float = 0.0
    shots: int = 0
    with_image: int = 0
    with_video: int = 0
    shot_ids: list[int] = field(default_factory=list)


@dataclass
class GenerationGroup:
    location: str
    character: str       # lead speaker of the group's shots, '' when nobody speaks
    shot_ids: list[int]
    scenes: list[int]


def _names(conn) -> dict[str, str]:
    """Every known character spelling (upper) -> display name: script cues, character names, aliases."""
    out: dict[str, str] = {}
    for ch in CS.characters(conn):
        for n in [ch.name, *ch.aliases]:
            out[n.upper()] = ch.name
    for (sp,) in conn.execute("SELECT speakers FROM fast_script_shots"):
        for n in orjson.loads(sp):
            out.setdefault(n.upper(), n)
    return out


def breakdown(project) -> list[SceneBreakdown]:
    conn = project.conn
    rows = SS.breakdown_rows(conn)
    if not rows:
        raise AimmsError("this project has no imported script", path=project.root,
                         hint="import one first: aimms import-script PATH FILE.fountain")
    names = _names(conn)
    alias = {}
    for ch in CS.characters(conn):
        for n in [ch.name, *ch.aliases]:
            alias[n.upper()] = ch.name
    scenes: dict[int, SceneBreakdown] = {}
    texts: dict[int, list[str]] = {}
    for (idx, key, heading, section, loc, tod, sid, speakers, ms, desc, dia, img, vid) in rows:
        sc = scenes.get(idx)
        if sc is None:
            sc = scenes[idx] = SceneBreakdown(idx, key, heading, section, loc, tod)
        for n in orjson.loads(speakers):
            n = alias.get(n.upper(), n)
            if n not in sc.speaking:
                sc.speaking.append(n)
        sc.est_seconds += ms / 1000
        sc.shots += 1
        sc.with_image += int(img)
        sc.with_video += int(vid)
        sc.shot_ids.append(sid)
        texts.setdefault(idx, []).append(desc if not dia else "")
    for idx, sc in scenes.items():
        text = "\n".join(texts[idx])
        for upper, display in names.items():
            if display in sc.speaking or display in sc.mentioned or len(upper) < 3:
                continue
            if re.search(rf"(?<![A-Za-z]){re.escape(upper)}(?![A-Za-z])", text, re.IGNORECASE):
                sc.mentioned.append(display)
        sc.est_seconds = round(sc.est_seconds, 1)
    return [scenes[k] for k in sorted(scenes)]


def generation_order(project, scenes: list[SceneBreakdown] | None = None) -> list[GenerationGroup]:
    """Shots grouped by location (in order of first appearance), then by the scene's lead speaker."""
    scenes = scenes if scenes is not None else breakdown(project)
    groups: dict[tuple[str, str], GenerationGroup] = {}
    for sc in scenes:
        k = (sc.location or sc.heading, sc.speaking[0] if sc.speaking else "")
        g = groups.setdefault(k, GenerationGroup(k[0], k[1], [], []))
        g.shot_ids += sc.shot_ids
        g.scenes.append(sc.index)
    order = {}
    for sc in scenes:
        order.setdefault(sc.location or sc.heading, len(order))
    return sorted(groups.values(), key=lambda g: (order[g.location], g.scenes[0]))


COLUMNS = ["scene", "heading", "section", "location", "time_of_day", "speaking", "mentioned", "est_seconds",
           "shots", "with_starred_image", "with_starred_video"]


def _row(sc: SceneBreakdown) -> list:
    return [sc.index, sc.heading, sc.section, sc.location, sc.time_of_day, "; ".join(sc.speaking),
            "; ".join(sc.mentioned), sc.est_seconds, sc.shots, sc.with_image, sc.with_video]


def write_csv(project, path: str | Path) -> int:
    from aimms_fast.ops.csv_io import write_rows_csv
    try:
        return write_rows_csv(Path(path), COLUMNS, [_row(s) for s in breakdown(project)])
    except OSError as e:
        raise AimmsError(f"cannot write the breakdown ({e.strerror or e})", path=path,
                         hint="check the folder exists and is writable") from e


def write_html(project, path: str | Path) -> Path:
    scenes = breakdown(project)
    groups = generation_order(project, scenes)
    e = html.escape
    total = sum(s.est_seconds for s in scenes)
    rows = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in _row(s)) + "</tr>" for s in scenes)
    gl = "".join(f"<li><b>{e(g.location)}</b> — {e(g.character or 'no dialogue')}: scenes "
                 f"{', '.join(map(str, g.scenes))} ({len(g.shot_ids)} shots)</li>" for g in groups)
    name = e(project.conn.execute("SELECT value FROM meta WHERE key='project_name'").fetchone()[0] or "")
    doc = (f"<!doctype html><meta charset='utf-8'><title>Breakdown — {name}</title>"
           "<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}"
           "td,th{border:1px solid #999;padding:4px 8px;vertical-align:top}th{background:#eee}</style>"
           f"<h1>Breakdown — {name}</h1><p>{len(scenes)} scenes, about {total / 60:.1f} min "
           "(Storyboarder's word rate)</p><table><tr>" + "".join(f"<th>{c}</th>" for c in COLUMNS) + "</tr>"
           f"{rows}</table><h2>Generation order</h2><ol>{gl}</ol>")
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.partial")
        tmp.write_text(doc, encoding="utf-8")
        tmp.replace(p)
    except OSError as err:
        raise AimmsError(f"cannot write the breakdown page ({err.strerror or err})", path=p,
                         hint="check the folder exists and is writable") from err
    return p
