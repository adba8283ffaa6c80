"""Media commands: probe, meta (generation metadata), workflow-png, search."""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg
from aimms_fast.errors import AimmsError

PROBE_FIELDS = ("kind", "container", "codec", "width", "height", "fps", "vfr", "duration", "frame_count",
                "keyframe_count", "rotation", "alpha", "audio_streams", "mode", "animated_frames")


def _probe_line(r: dict) -> str:
    if r["status"] != "ok":
        return f"{r['path']}: {r['status']}: {r['reason']}"
    bits = [f"{r['container']}/{r['codec']}", f"{r['width']}x{r['height']}"]
    if r["kind"] == "video":
        bits.append(f"{r['fps']:.3f} fps" + (" VFR" if r["vfr"] else "") if r["fps"] else "fps ?")
        bits.append(f"{r['duration']:.3f} s" if r["duration"] else "duration ?")
        bits.append(f"{r['frame_count']} frames, {r['keyframe_count']} keyframes")
        if r["rotation"]:
            bits.append(f"rotated {r['rotation']}°")
        if r["audio_streams"]:
            bits.append(f"{r['audio_streams']} audio")
    else:
        bits.append(r["mode"] or "")
        if (r["animated_frames"] or 1) > 1:
            bits.append(f"{r['animated_frames']} frames")
    if r["alpha"]:
        bits.append("alpha" + (f" (decoder {r['decoder']})" if r.get("decoder") else ""))
    text = f"{r['path']}: " + ", ".join(b for b in bits if b)
    return text + (f"  [{r['reason']}]" if r.get("reason") else "")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Project: probe again even files whose size and mtime did not change.")
@json_option
@handle_errors
def probe(paths, force, as_json):
    """Media facts of files (size, codec, fps, frames, keyframes, rotation, alpha, ...).

    PATHS are media files, or one project folder: then every take and asset file is probed and
    the facts stored (only new or changed files are read again). Exit code 1 when a file is
    missing or unreadable.
    """
    from aimms_fast.media.probe import probe_all, probe_file
    if len(paths) == 1 and paths[0].is_dir():
        with open_project(paths[0]) as p:
            total = p.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0]
            with progress_bar("probing", total, enabled=not as_json) as bar:
                rows = probe_all(p, force=force, progress=bar)
    else:
        rows = [probe_file(f) for f in paths]
    bad = [r for r in rows if r["status"] in ("error", "missing")]
    if as_json:
        emit(rows, True)
    else:
        for r in rows:
            click.echo(_probe_line(r))
        if len(rows) > 1:
            click.echo(f"{len(rows)} file(s), {len(bad)} with problems", err=True)
    if bad:
        raise SystemExit(1)


def _fmt_num(v) -> str:
    return "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def _meta_text(path, g) -> str:
    lines = [str(path), f"  source     {g.source}" + (f" ({g.app})" if g.app else "")]
    if g.error:
        lines.append(f"  error      {g.error}")

    def add(label, value):
        if value not in (None, "", []):
            text = str(value).replace("\n", "\n             ")
            lines.append(f"  {label:<10} {text}")
    add("positive", g.positive)
    add("negative", g.negative)
    add("seed", g.seed)
    add("steps", g.steps)
    add("cfg", _fmt_num(g.cfg))
    add("guidance", _fmt_num(g.guidance))
    add("denoise", _fmt_num(g.denoise))
    add("sampler", g.sampler)
    add("scheduler", g.scheduler)
    add("model", g.model)
    for lo in g.loras:
        strength = ", ".join(f"{k.split('_')[-1]} {_fmt_num(lo[k])}" for k in ("strength_model", "strength_clip")
                             if lo.get(k) is not None)
        add(lo.get("kind", "lora"), f"{lo['name']}" + (f" ({strength})" if strength else ""))
    if g.width and g.height:
        add("size", f"{g.width}x{g.height}")
    add("inputs", ", ".join(g.inputs))
    if len(g.samplers) > 1:
        add("passes", "; ".join(f"{s['class_type']} #{s['node']} seed {s['seed']} steps {s['steps']} "
                                f"denoise {_fmt_num(s.get('denoise'))}" for s in g.samplers))
    for w in g.warnings:
        add("warning", w)
    add("raw keys", ", ".join(sorted(g.raw)))
    return "\n".join(lines)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--raw", "with_raw", is_flag=True, help="With --json: include the raw metadata texts.")
@json_option
@handle_errors
def meta(file, with_raw, as_json):
    """Generation metadata of a media file: prompt, seed, model, LoRAs, size, inputs.

    Reads ComfyUI (PNG text, WebP EXIF, VideoHelperSuite video comment), AUTOMATIC1111/Forge,
    Fooocus, InvokeAI and NovelAI metadata; nothing in the file is executed. Exit code 1 when the
    file cannot be read or its metadata is damaged; 0 with "no generation metadata" otherwise.
    """
    from aimms_fast.media.genmeta import read_generation
    if not file.exists():
        raise AimmsError("file not found", path=file)
    g = read_generation(file)
    if g is None:
        emit({"path": str(file), "source": None}, as_json, f"{file}: no generation metadata")
        return
    emit({"path": str(file), **g.to_dict(raw=with_raw)}, as_json, _meta_text(file, g))
    if g.source == "error":
        raise SystemExit(1)


@cli.command("workflow-png")
@project_arg
@click.option("--check", "mode", flag_value="check", default=True, help="Report each video's workflow PNG (default).")
@click.option("--regenerate", "mode", flag_value="regenerate",
              help="Rebuild missing/invalid PNGs from the videos (first frame + embedded workflow).")
@click.option("--repair", "mode", flag_value="repair",
              help="Rewrite damaged PNGs keeping their pixels and text.")
@click.option("--take", "take_ids", multiple=True, help="Only this video take (repeatable).")
@click.option("--problems", is_flag=True, help="List only videos whose PNG is not present.")
@json_option
@handle_errors
def workflow_png(path, mode, take_ids, problems, as_json):
    """Workflow PNG of each video take: present ✅, missing ⚠️, invalid ❌ (· = placeholder video).

    --regenerate and --repair keep any file they overwrite in data/backup/replaced/.
    Exit code 1 when a regenerate/repair failed.
    """
    from aimms_fast.media import workflow_png as W
    with open_project(path, write=mode != "check") as p:
        ids = list(take_ids) or None
        total = len(ids) if ids else p.conn.execute(
            "SELECT COUNT(*) FROM takes WHERE take_type='final_video'").fetchone()[0]
        fn = {"check": W.check, "regenerate": W.regenerate, "repair": W.repair}[mode]
        with progress_bar(mode, total, enabled=not as_json and total > 1) as bar:
            results = fn(p, ids, progress=bar)
    shown = [r for r in results if not problems or r.status != W.PRESENT]
    counts = {s: sum(1 for r in results if r.status == s) for s in (W.PRESENT, W.MISSING, W.INVALID, W.PLACEHOLDER)}
    failed = [r for r in results if r.action == "failed"]
    lines = []
    for r in shown:
        act = f" [{r.action}]" if r.action and r.action != "skipped" else ""
        why = f"  ({r.reason})" if r.reason else ""
        lines.append(f"{W.ICONS[r.status]} {r.status:<11} shot {r.shot_id:<5} {r.video} -> {r.png or '-'}{act}{why}")
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()) + (f"; {len(failed)} failed" if failed else ""))
    emit({"mode": mode, "counts": counts, "failed": len(failed), "results": [r.to_dict() for r in shown]},
         as_json, "\n".join(lines))
    if failed:
        raise SystemExit(1)


@cli.command()
@project_arg
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True, help="Most results to show.")
@click.option("--kind", "kinds", type=click.Choice(["shot", "take"]), multiple=True,
              help="Only shots or only takes (default both).")
@json_option
@handle_errors
def search(path, query, limit, kinds, as_json):
    """Search shots (name, prompts, negatives, description, dialogue, section, location) and the
    prompts embedded in takes, best match first.

    All words must match; "quoted phrases", OR and -word (exclude) work; the last word also
    matches as a prefix.
    """
    from aimms_fast.store.search import search as run
    with open_project(path, write=False) as p:
        rows = run(p.conn, query, limit, kinds=tuple(kinds) or ("shot", "take"))
        names = dict(p.conn.execute("SELECT shot_id, shot_name FROM shots").fetchall())
    for r in rows:
        r["shot_name"] = names.get(r["shot_id"])
    lines = []
    for r in rows:
        what = f"shot {r['id']}" if r["kind"] == "shot" else f"take {r['file_path']}"
        snip = " ".join((r["snippet"] or "").split())
        lines.append(f"{r['rank']:8.2f}  {what:<34} {r['shot_name'] or '':<24} {snip}")
    emit(rows, as_json, "\n".join(lines) if lines else f"no matches for {query!r}")
