"""A take's generation metadata as the review windows show it (prompt, seed, model, LoRAs …).

One lookup for the shot window's details pane and the compare view's hover text: the metadata stored
at import (`genmeta.stored`), else — for a file imported before metadata was read — the file itself;
a video without any takes its workflow PNG's (where ComfyUI video workflows usually keep the
prompt). Plain functions of the project and the file states the caller already knows, so no window
has to lend its methods to another. No dearpygui here; called on the UI thread (a file read is one
small file).
"""
from __future__ import annotations

import json
import logging
import sqlite3

from aimms_fast.store.storyboard import file_state

log = logging.getLogger(__name__)


def generation_of(project, rel: str, state: str | None) -> dict | None:
    """The generation dict of one file (`rel`), `state` its file_state ("ok", "empty", "missing");
    None when nothing is known. A file that cannot be parsed gives {"error": why}."""
    from aimms_fast.media import genmeta
    try:
        row = genmeta.stored(project.conn, rel)
    except sqlite3.Error:   # a project without the fast_gen table yet: read the file instead
        row = None
    if row is not None and row.get("source") not in (None, "none") or state != "ok":
        if row is not None:
            row = dict(row)
            row["loras"] = json.loads(row["loras_json"]) if row.get("loras_json") else []
            row["inputs"] = json.loads(row["inputs_json"]) if row.get("inputs_json") else []
        return row
    try:   # not read at import (older project): read it now, it is one file
        g = genmeta.read_generation(project.layout.read_path(rel))  # OutsideProject: said, not read
    except Exception as e:   # noqa: BLE001 - metadata is a convenience: say why, never fail the view
        return {"error": str(e)}
    return g.to_dict(raw=False) if g is not None else row


def take_generation(project, take, files: dict[str, str]) -> dict | None:
    """The take's own metadata; for a video without any, its workflow PNG's. `take` has file_path
    and companion_path; `files` maps rel -> file_state for them (missing entries count as
    not present)."""
    g = generation_of(project, take.file_path, files.get(take.file_path))
    if (not g or g.get("source") in (None, "none", "error")) and take.companion_path:
        cg = generation_of(project, take.companion_path, files.get(take.companion_path))
        if cg and cg.get("source") not in (None, "none"):
            cg["source"] = f"{cg['source']} (from workflow PNG)"
            return cg
    return g


def generation_text(g: dict | None) -> str:
    """Lines for a generation dict: source, prompt, negative, seed/steps/cfg, model, LoRAs …"""
    if not g:
        return "No generation metadata in this file."
    if g.get("source") in (None, "none") and not g.get("positive"):
        return "No generation metadata in this file." + (f"\n{g['error']}" if g.get("error") else "")
    lines = [f"source: {g.get('source')}"]
    if g.get("positive"):
        lines.append(f"prompt: {g['positive']}")
    if g.get("negative"):
        lines.append(f"negative: {g['negative']}")
    nums = [f"{k} {g[k]}" for k in ("seed", "steps", "cfg", "sampler", "scheduler") if g.get(k) not in (None, "")]
    if nums:
        lines.append(" · ".join(nums))
    if g.get("model"):
        lines.append(f"model: {g['model']}")
    for lo in g.get("loras") or []:
        if isinstance(lo, dict):
            lines.append(f"LoRA: {lo.get('name')}  {lo.get('strength_model', lo.get('strength', ''))}")
        else:
            lines.append(f"LoRA: {lo}")
    if g.get("width") and g.get("height"):
        lines.append(f"size: {g['width']}×{g['height']}")
    for i in g.get("inputs") or []:
        lines.append(f"input image: {i}")
    if g.get("error"):
        lines.append(f"note: {g['error']}")
    return "\n".join(lines)


def generation_summary(project, take) -> str:
    """Label, file and generation text of a review take (`store.review.ReviewTake`): the hover text
    of a compare pane."""
    from aimms_fast.store.takes import get_take
    t = get_take(project.conn, take.take_id)
    if t is None:
        return "take deleted"
    files = {rel: file_state(project.layout, rel) for rel in (t.file_path, t.companion_path) if rel}
    try:
        gen = take_generation(project, t, files)
    except Exception as e:   # noqa: BLE001 - metadata is a convenience: a bad chunk must not break hovering
        log.exception("generation summary failed for %s", t.file_path)
        return f"{take.label}\n{take.rel}\ngeneration metadata unreadable: {e}"
    return f"{take.label}\n{take.rel}\n" + generation_text(gen)
