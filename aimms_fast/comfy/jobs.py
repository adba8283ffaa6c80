"""Queueing shots to ComfyUI: the project's template, job rows, cancel and retry.

A job is one shot x one variation. A shot's characters (issue 12, ops/characters.py) take part: the
prompt gets each one's active version's prompt fragment, and the first reference slots with no
starred base image get their front images (uploaded like the starred ones). `queue_shots` only writes rows (state `new`, graph bound to the
shot's fields, seed chosen); the runner (comfy/runner.py) submits them, follows their progress and
files their results. Rows live in `fast_comfy_jobs`, so queued work survives a restart.
"""
from __future__ import annotations

import json
import random
import re
import uuid

from aimms_fast.comfy.client import ComfyClient, normalize_url
from aimms_fast.comfy.template import Template, bind, shot_values
from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ops.characters import list_characters
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import comfy as S
from aimms_fast.store.db import transaction
from aimms_fast.store.shots import find_shots, get_shot
from aimms_fast.store.takes import get_take, star_slots

SEED_POLICIES = ("random", "template", "increment")
TEMPLATE_KEY = "template"


def project_url(project, url: str | None = None) -> str:
    """`url`, else the project's comfyui_URL (AIMMS meta)."""
    return normalize_url(url or S.get_meta(project.conn, S.META_URL))


def save_template(project, template: Template) -> None:
    project.require_writable()
    with transaction(project.db) as c:
        S.set_setting(c, TEMPLATE_KEY, template.to_json())


def saved_template(project) -> Template | None:
    d = S.get_setting(project.conn, TEMPLATE_KEY)
    return Template.from_json(d) if d else None


def prefix_for(shot_name: str) -> str:
    """A SaveImage/VHS filename_prefix from a shot name: path separators and characters file
    systems refuse become '_' (the matcher compares names the same way)."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", shot_name.strip()) or "shot"


def resolve_shots(project, names: list[str]) -> list[int]:
    out = []
    for n in names:
        got = find_shots(project.conn, n.strip())
        if not got:
            raise NotFoundError(f"no shot named '{n}'", path=project.root, hint="list shots with `aimms shots PATH`")
        out += [s["shot_id"] for s in got if s["shot_id"] not in out]
    return out


def without_star(project, storyboard: str) -> list[int]:
    return S.shots_without_star(project.conn, A.BASE_IMAGE if storyboard == "image" else A.FINAL_VIDEO)


def _seed(template: Template, policy: str, variation: int, rng: random.Random) -> int | None:
    base = next((template.graph[b.node]["inputs"].get(b.input) for b in template.bindings if b.field == "seed"), None)
    if policy == "template":
        return None
    if policy == "increment" and isinstance(base, int):
        return base + variation - 1
    return rng.randrange(0, 2**48)   # ComfyUI's seed widget allows 0..2^64-1; 48 bits print readably


def queue_shots(project, template: Template, shot_ids: list[int], *, variations: int = 1, url: str | None = None,
                seed_policy: str = "random") -> list[str]:
    """Job rows (state `new`) for every shot x variation; returns the job ids in order."""
    project.require_writable()
    if variations < 1:
        raise AimmsError("variations must be at least 1", field="variations")
    if seed_policy not in SEED_POLICIES:
        raise AimmsError(f"unknown seed policy '{seed_policy}'", field="seed", hint="use " + ", ".join(SEED_POLICIES))
    if not shot_ids:
        raise AimmsError("no shots to queue", hint="name shots, a section, or use --missing")
    url = project_url(project, url)
    rng = random.Random()
    conn = project.conn
    rows = []
    chars = list_characters(project)     # once: the per-shot filter below is a list scan
    for sid in shot_ids:
        shot = get_shot(conn, sid)
        if not shot:
            raise NotFoundError(f"no shot with id {sid}", path=project.root)
        refs = {slot: tid for slot, tid in star_slots(conn, sid, A.BASE_IMAGE).items() if slot in (1, 2, 3)}
        ref_rels = {slot: get_take(conn, tid).file_path for slot, tid in refs.items()}
        cast = [c.active for c in chars if sid in c.shot_ids and c.active is not None]
        ref_rels.update(character_refs(template, ref_rels, cast))
        for v in range(1, variations + 1):
            seed = _seed(template, seed_policy, v, rng)
            values = shot_values(shot, template.storyboard, seed=seed, refs={},
                                 prefix=prefix_for(shot.get("shot_name") or f"shot_{sid}"))
            values["prompt"] = with_fragments(template, values.get("prompt"), cast)
            graph = bind(template, values)
            ref_bind = [{"node": b.node, "input": b.input, "rel": ref_rels[int(b.field[-1])]}
                        for b in template.bindings if b.field.startswith("ref_") and int(b.field[-1]) in ref_rels]
            rows.append(dict(job_id=str(uuid.uuid4()), shot_id=sid, storyboard=template.storyboard, variation=v,
                             seed=seed, url=url, workflow_name=template.name,
                             graph_json=json.dumps({"graph": graph, "refs": ref_bind})))
    with transaction(project.db) as c:
        for r in rows:
            S.insert_job(c, **r)
        project.audit("comfy_queue", f"{len(rows)} job(s) for {len(shot_ids)} shot(s) with {template.name}")
    return [r["job_id"] for r in rows]


def with_fragments(template: Template, prompt: str | None, cast) -> str | None:
    """The shot's prompt (else the template's own prompt text) followed by each character's
    prompt fragment, comma-separated; unchanged when no character has one."""
    frags = [v.prompt.strip() for v in cast if (v.prompt or "").strip()]
    if not frags:
        return prompt
    if prompt is None:
        b = next((b for b in template.bindings if b.field == "prompt"), None)
        own = template.graph.get(b.node, {}).get("inputs", {}).get(b.input) if b else None
        prompt = own if isinstance(own, str) else ""
    return ", ".join([p for p in [prompt.strip().rstrip(",")] if p] + frags)


def character_refs(template: Template, taken: dict[int, str], cast) -> dict[int, str]:
    """Reference slots (bound in the template, with no starred base image) -> a character's front
    image (project-relative), one character per slot in cast order."""
    free = sorted({int(b.field[-1]) for b in template.bindings if b.field.startswith("ref_")} - set(taken))
    fronts = [v.images.get("front") for v in cast if v.images.get("front")]
    return dict(zip(free, fronts))


def _require_job(project, job_id: str) -> S.JobRow:
    j = S.get_job(project.conn, job_id)
    if not j:
        raise NotFoundError(f"no ComfyUI job {job_id}", path=project.root, hint="list jobs with `aimms jobs PATH`")
    return j


def cancel_job(project, job_id: str) -> S.JobRow:
    """Stop a job: removed from ComfyUI's queue if still pending there, interrupted if running.
    An unreachable server does not stop the cancel (the job is marked cancelled here)."""
    project.require_writable()
    j = _require_job(project, job_id)
    if not j.active:
        return j
    note = "cancelled"
    if j.prompt_id and j.state in ("submitted", "running", "new"):
        try:
            client = ComfyClient(j.url)
            running, pending = client.queued_ids()
            if j.prompt_id in pending:
                client.delete_queued([j.prompt_id])
            elif j.prompt_id in running:
                client.interrupt(j.prompt_id)
        except AimmsError as e:
            note = f"cancelled here; ComfyUI not told ({e.message})"
    with transaction(project.db) as c:
        S.update_job(c, job_id, state="cancelled", message=note)
    return S.get_job(project.conn, job_id)


def retry_job(project, job_id: str) -> S.JobRow:
    """Queue a failed or cancelled job again (same graph and seed, a new prompt id)."""
    project.require_writable()
    j = _require_job(project, job_id)
    if j.state not in ("failed", "cancelled"):
        raise AimmsError(f"job {job_id[:8]} is {j.state}; only failed or cancelled jobs can be retried")
    with transaction(project.db) as c:
        S.update_job(c, job_id, state="new", prompt_id=None, progress=0.0, node=None, message=None,
                     node_errors_json=None, outputs_json=None, attempts=j.attempts + 1)
    return S.get_job(project.conn, job_id)
