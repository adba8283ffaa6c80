"""`aimms demo PATH`: build (or reuse) the demo project; optionally run the viewer's screenshot tour."""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, fail, handle_errors, json_option, progress_bar, project_arg


def _summary(r) -> str:
    head = (f"built demo project at {r.path} in {r.seconds:.1f} s" if r.built
            else f"reusing the demo project at {r.path} (delete the folder to build it again)")
    return (f"{head}\n{r.shots} shots in {len(r.sections)} sections; {r.image_takes} image takes, "
            f"{r.video_takes} video takes ({r.workflow_pngs} workflow PNGs, {r.missing_workflows} missing), "
            f"{r.placeholders} placeholders, {r.starred_videos} starred videos, {r.assets} assets")


def _run_tour(project_path: Path, out_dir: Path, as_json: bool) -> list[Path]:
    try:
        from aimms_fast.ui.tour import run_tour
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("aimms_fast.ui"):
            fail("the viewer is not available in this installation (aimms_fast.ui.tour is missing), "
                 "so no screenshots can be taken; the demo project itself is ready", as_json=as_json)
        fail(f"the viewer cannot start: missing module '{e.name}' (reinstall with tools/bootstrap.sh)",
             as_json=as_json)
    except ImportError as e:
        fail(f"the viewer cannot start: {e}", as_json=as_json)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        return list(run_tour(project_path, out_dir))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # noqa: BLE001 - the tour is a user-facing command: a message, not a traceback
        if hasattr(e, "to_dict"):
            raise
        fail(f"the screenshot tour failed: {type(e).__name__}: {e}", as_json=as_json)


@cli.command()
@project_arg
@click.option("--shots", type=click.IntRange(1, 100_000), default=24, show_default=True,
              help="Number of shots.")
@click.option("--takes", type=click.IntRange(0, 10_000_000), default=None,
              help="Real takes over both storyboards (images + videos; placeholders and workflow PNGs "
                   "not counted). Default: 5 per shot. Above 400 a pool of clips is reused by copy.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for names, prompts and pictures.")
@click.option("--screenshots", type=click.Path(file_okay=False, path_type=Path),
              help="After building, run the viewer's scripted tour (every page, then a keyboard-only review: "
                   "player, compare with wipe and difference, tournament, cut points, promote) and write "
                   "one screenshot per view to this folder. Needs an X display (xvfb-run works).")
@json_option
@handle_errors
def demo(path, shots, takes, seed, screenshots, as_json):
    """Build a demo project at PATH: real H.264 clips and ComfyUI workflow PNGs in an AIMMS 1.0 project.

    If PATH already holds a finished demo it is reused (only --screenshots work is done).
    `--shots 600 --takes 21000` builds the benchmark-scale project.
    """
    from aimms_fast.demo.builder import DemoSpec, build_demo, demo_status
    existing = demo_status(path)
    if existing is not None:
        report = existing
        ctx = click.get_current_context()
        given = {k: v for k, v in {"shots": shots, "takes": takes, "seed": seed}.items()
                 if ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT}
        spec = existing.spec or {}
        if any(spec.get(k) != v for k, v in given.items()):
            click.secho(f"note: {path} already holds a demo built with {spec}; your --shots/--takes/--seed "
                        "are ignored (delete the folder to rebuild)", fg="yellow", err=True)
    else:
        spec = DemoSpec(shots=shots, takes=takes, seed=seed)
        with progress_bar("building demo", 1, enabled=not as_json) as bar:
            report = build_demo(path, spec, progress=bar)
    data = report.to_dict()
    text = _summary(report)
    if screenshots is not None:
        shots_taken = _run_tour(Path(report.path), screenshots, as_json)
        data["screenshots"] = [str(p) for p in shots_taken]
        text += f"\n{len(shots_taken)} screenshots in {screenshots}"
    emit(data, as_json, text)
