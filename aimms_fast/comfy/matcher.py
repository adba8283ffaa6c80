"""Which shot a ComfyUI output belongs to.

Three signals, strongest first:
1. our own job: files made by a job we queued carry its id (`aimms_job`, sent as ComfyUI
   `extra_pnginfo`, which SaveImage writes as a PNG text chunk and Video Combine into the video's
   comment) -> that job's shot;
2. the shot name in the file name or a subfolder (SaveImage/VHS `filename_prefix` may hold a
   subfolder): the name before ComfyUI's counter equal to a shot name, or a folder named like
   one, is confident; a shot name found inside a longer file name is only a suggestion;
3. the prompt embedded in the file equal (after collapsing whitespace) to one shot's image or video
   prompt; several shots with that prompt make it a suggestion.
Pure functions: the caller reads the metadata (media/genmeta.read_raw) and the shots (store/comfy).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from aimms_fast.comfy.jobs import prefix_for

COUNTER = re.compile(r"(?:_\d{5}_?)(?:-audio)?$")   # SaveImage name_00001_, VHS name_00001(-audio)


@dataclass
class Match:
    shot_id: int | None = None
    reason: str | None = None          # 'job' | 'name' | 'prompt'
    confident: bool = False
    job_id: str | None = None
    candidates: list[int] = field(default_factory=list)


def _norm(text: str) -> str:
    return " ".join(prefix_for(text).split()).casefold()


def _prompt_norm(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def name_parts(rel: str) -> tuple[str, list[str]]:
    """(file name without extension and ComfyUI counter, subfolder names), both normalised."""
    p = PurePosixPath(rel)
    stem = COUNTER.sub("", p.stem)
    return _norm(stem), [_norm(x) for x in p.parts[:-1]]


def by_name(rel: str, shots: list[tuple[int, str, str, str]]) -> Match:
    stem, folders = name_parts(rel)
    names: dict[str, list[int]] = {}
    for sid, name, _ip, _vp in shots:
        if name.strip():
            names.setdefault(_norm(name), []).append(sid)
    for key in [stem] + folders[::-1]:
        ids = names.get(key)
        if ids:
            return Match(ids[0], "name", len(ids) == 1, candidates=list(ids))
    found = []
    for n, ids in names.items():
        if len(n) >= 3 and re.search(rf"(?<![0-9a-z]){re.escape(n)}(?![0-9a-z])", stem):
            found.append((len(n), n, ids))
    if found:
        found.sort(reverse=True)
        ids = [i for _l, _n, ids in found for i in ids]
        return Match(ids[0], "name", False, candidates=list(dict.fromkeys(ids)))
    return Match()


def by_prompt(positive: str | None, shots: list[tuple[int, str, str, str]]) -> Match:
    want = _prompt_norm(positive or "")
    if not want:
        return Match()
    ids = [sid for sid, _n, ip, vp in shots if want in (_prompt_norm(ip), _prompt_norm(vp))]
    if not ids:
        return Match()
    return Match(ids[0], "prompt", len(ids) == 1, candidates=ids)


def match(rel: str, raw: dict[str, str], shots: list[tuple[int, str, str, str]], *,
          job_shot=None) -> Match:
    """The best match of the output at `rel` (relative to the watched folder) with metadata
    texts `raw`. `job_shot(job_id) -> shot_id | None` resolves our own jobs."""
    job_id = (raw.get("aimms_job") or "").strip().strip('"') or None
    if job_id and job_shot is not None:
        sid = job_shot(job_id)
        if sid is not None:
            return Match(sid, "job", True, job_id=job_id, candidates=[sid])
    m = by_name(rel, shots)
    if m.confident:
        return m
    positive = None
    if "prompt" in raw or "workflow" in raw:
        from aimms_fast.media.genmeta import summarize_raw
        try:
            g = summarize_raw(raw)
            positive = g.positive if g else None
        except Exception:   # untrusted metadata of a shape the summariser rejects: no prompt signal
            positive = None
    mp = by_prompt(positive, shots)
    if mp.confident:
        return mp
    best = m if m.shot_id is not None else mp
    best.candidates = list(dict.fromkeys(m.candidates + mp.candidates))
    return best
