"""ComfyUI commands (issue 11): `queue` shots to a ComfyUI server, list/cancel/retry `jobs`,
`watch` the output folder, and the `inbox` of outputs waiting for a shot."""
from __future__ import annotations

import signal
import time

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, project_arg


def _job_line(j) -> str:
    pct = f"{j.progress * 100:3.0f}%" if j.state in ("running", "fetching") else "    "
    extra = j.message or (f"{len(j.take_ids)} take(s)" if j.state == "done" else (j.node or ""))
    return f"{j.job_id[:8]}  {(j.shot_name or str(j.shot_id))[:24]:<24} v{j.variation:<2} {j.state:<9} {pct} {extra}"


def _job_dict(j) -> dict:
    return {"job_id": j.job_id, "prompt_id": j.prompt_id, "shot_id": j.shot_id, "shot_name": j.shot_name,
            "variation": j.variation, "seed": j.seed, "state": j.state, "progress": j.progress,
            "message": j.message, "node_errors": j.node_errors, "take_ids": j.take_ids, "url": j.url}


def _follow(p, *, timeout: float | None, quiet: bool) -> None:
    from aimms_fast.comfy.runner import JobRunner
    last: dict[str, str] = {}

    def show(ev):
        if quiet or ev.state == "new" or last.get(ev.job_id) == ev.state:
            return
        last[ev.job_id] = ev.state
        tail = ev.message or (f"{len(ev.take_ids)} take(s) filed" if ev.state == "done" else "")
        click.echo(f"{ev.job_id[:8]}  {ev.shot_name or ev.shot_id}: {ev.state} {tail}".rstrip(), err=True)
    JobRunner(p, on_event=show).run(p, until_idle=True, fail_unreachable=True, timeout=timeout)


def _summary(jobs) -> str:
    counts: dict[str, int] = {}
    for j in jobs:
        counts[j.state] = counts.get(j.state, 0) + 1
    takes = sum(len(j.take_ids) for j in jobs)
    return f"{len(jobs)} job(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f"; {takes} take(s) filed"


@cli.command()
@project_arg
@click.option("--workflow", "workflow", type=click.Path(dir_okay=False, exists=True),
              help="API-format workflow JSON (ComfyUI: Workflow > Export (API)); kept as the project's template.")
@click.option("--url", help="ComfyUI server (default: the project's comfyui_URL).")
@click.option("--shots", help="Shot names or ids, comma-separated.")
@click.option("--section", help="Every shot of this section.")
@click.option("--missing", is_flag=True, help="Every shot without a starred take (the default with no --shots/--section).")
@click.option("--variations", default=1, show_default=True, type=click.IntRange(1, 100), help="Jobs per shot.")
@click.option("--seed", "seed_policy", default="random", show_default=True,
              type=click.Choice(["random", "template", "increment"]), help="Seed of each variation.")
@click.option("--bind", "binds", multiple=True, metavar="NODE.INPUT=FIELD",
              help="Set or change a binding (fields: prompt, negative, seed, lora_1..3, ref_1..3, filename_prefix).")
@click.option("--wait", is_flag=True, help="Return when every job has filed its takes or failed.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after this many seconds.")
@json_option
@handle_errors
def queue(path, workflow, url, shots, section, missing, variations, seed_policy, binds, wait, timeout, as_json):
    """Queue shots to ComfyUI with a workflow template; results become takes of their shots."""
    from aimms_fast.comfy import jobs as J
    from aimms_fast.comfy.client import ComfyClient
    from aimms_fast.comfy.runner import JobRunner
    from aimms_fast.comfy.template import load_template, merge_bindings, Binding
    from aimms_fast.errors import AimmsError
    from aimms_fast.store import comfy as S
    with open_project(path) as p:
        if workflow:
            t = load_template(workflow, bindings=list(binds))
        else:
            t = J.saved_template(p)
            if t is None:
                raise AimmsError("no workflow template yet", hint="pass --workflow W.json (exported with "
                                                                  "Workflow > Export (API))")
            if binds:
                t.bindings = merge_bindings(t.bindings, [Binding.parse(b) for b in binds], t.graph)
        server = J.project_url(p, url)
        ComfyClient(server).queue()          # one clear line now if nobody answers there
        if shots:
            ids = J.resolve_shots(p, shots.split(","))
        elif section:
            ids = S.shots_in_section(p.conn, section)
        else:
            ids = J.without_star(p, t.storyboard)
        J.save_template(p, t)
        job_ids = J.queue_shots(p, t, ids, variations=variations, url=server, seed_policy=seed_policy)
        if not as_json:
            click.echo(f"queued {len(job_ids)} job(s) for {len(ids)} shot(s) at {server} "
                       f"({', '.join(b.text() for b in t.bindings)})", err=True)
        if wait:
            _follow(p, timeout=timeout, quiet=as_json)
        else:
            JobRunner(p).submit_new(p)
        jobs = [S.get_job(p.conn, j) for j in job_ids]
        emit({"jobs": [_job_dict(j) for j in jobs]}, as_json,
             "\n".join([_job_line(j) for j in jobs] + [_summary(jobs)] +
                       ([] if wait else ["results are filed while the app is open, or by `aimms jobs PATH --wait`"])))
        if wait and any(j.state == "failed" for j in jobs):
            raise SystemExit(1)


@cli.command()
@project_arg
@click.option("--wait", is_flag=True, help="Follow the active jobs until each has filed its takes or failed.")
@click.option("--cancel", "cancel_id", metavar="JOB", help="Cancel a job (id or its first characters).")
@click.option("--retry", "retry_id", metavar="JOB", help="Queue a failed or cancelled job again.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after this many seconds.")
@json_option
@handle_errors
def jobs(path, wait, cancel_id, retry_id, timeout, as_json):
    """List ComfyUI jobs (state, progress, errors per node); cancel, retry, or follow them."""
    from aimms_fast.comfy import jobs as J
    from aimms_fast.comfy.client import node_errors_text
    from aimms_fast.errors import AimmsError
    from aimms_fast.store import comfy as S
    with open_project(path, write=bool(wait or cancel_id or retry_id)) as p:
        def find(prefix):
            got = [j for j in S.list_jobs(p.conn) if j.job_id.startswith(prefix)]
            if len(got) != 1:
                raise AimmsError(f"{'no' if not got else 'more than one'} job starts with '{prefix}'",
                                 hint="see `aimms jobs PATH`")
            return got[0].job_id
        if cancel_id:
            J.cancel_job(p, find(cancel_id))
        if retry_id:
            J.retry_job(p, find(retry_id))
        if wait or retry_id:
            _follow(p, timeout=timeout, quiet=as_json) if wait else None
        rows = S.list_jobs(p.conn)
        lines = []
        for j in rows:
            lines.append(_job_line(j))
            lines += [f"          {e}" for e in node_errors_text(j.node_errors) if e not in (j.message or "")]
        lines.append(_summary(rows) if rows else "no ComfyUI jobs")
        emit({"jobs": [_job_dict(j) for j in rows]}, as_json, "\n".join(lines))


@cli.command()
@project_arg
@click.option("--folder", type=click.Path(file_okay=False), help="Folder to watch (default: comfyui_output_path).")
@click.option("--once", is_flag=True, help="One catch-up pass over the folder, then exit.")
@click.option("--auto", is_flag=True, help="Confident matches become takes without the Inbox.")
@click.option("--settle", type=float, default=1.0, show_default=True, help="Seconds a file must stay unchanged.")
@json_option
@handle_errors
def watch(path, folder, once, auto, settle, as_json):
    """Watch ComfyUI's output folder: new outputs go to the Inbox, or with --auto into their shots."""
    from aimms_fast.comfy.inbox import output_folder
    from aimms_fast.comfy.watcher import Watcher
    with open_project(path) as p:
        where = output_folder(p, folder)
        shown = []

        def show(ev):
            shown.append(ev)
            if not as_json:
                to = f" -> shot {ev.shot_id} ({ev.reason})" if ev.shot_id else " (no shot matched)"
                click.echo(f"{ev.state:<9} {ev.source}{to}{': ' + ev.message if ev.message else ''}")
        w = Watcher(p, where, auto=True if auto else None, settle_s=settle, on_event=show)
        if once:
            w.run_once(p)
        else:
            click.echo(f"watching {where} (Ctrl+C to stop)", err=True)
            w.observe()
            stop = []
            signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
            try:
                w.catch_up(p)
                while not stop:
                    w.tick(p)
                    time.sleep(0.25)
            except KeyboardInterrupt:
                pass
            finally:
                w.stop()
        emit({"events": [ev.__dict__ for ev in shown]}, as_json,
             f"{sum(e.state == 'accepted' for e in shown)} filed, {sum(e.state == 'waiting' for e in shown)} "
             "in the Inbox")


@cli.command()
@project_arg
@click.option("--accept", "accept_id", type=int, metavar="ITEM", help="File an item into its suggested shot.")
@click.option("--shot", help="With --accept: file into this shot instead (name or id).")
@click.option("--ignore", "ignore_id", type=int, metavar="ITEM", help="Stop offering an item.")
@json_option
@handle_errors
def inbox(path, accept_id, shot, ignore_id, as_json):
    """ComfyUI outputs waiting for a shot: list them, accept (or reassign with --shot), ignore."""
    from aimms_fast.comfy import inbox as I
    from aimms_fast.comfy.jobs import resolve_shots
    with open_project(path, write=bool(accept_id or ignore_id)) as p:
        if accept_id:
            sid = resolve_shots(p, [shot])[0] if shot else None
            f = I.accept(p, accept_id, sid)
            click.echo(f"filed item {accept_id} into shot {f.shot_id}: {len(f.take_ids)} take(s)", err=True)
        if ignore_id:
            I.ignore(p, ignore_id)
        rows = I.waiting(p)
        lines = [f"{r.item_id:>5}  {r.kind:<5} {r.source:<48} "
                 f"{('-> ' + (r.shot_name or str(r.shot_id)) + ' (' + (r.reason or '') + (', sure' if r.confident else '') + ')') if r.shot_id else '(no shot matched)'}"
                 for r in rows]
        lines.append(f"{len(rows)} item(s) waiting" if rows else "the Inbox is empty")
        emit({"items": [r.__dict__ for r in rows]}, as_json, "\n".join(lines))
