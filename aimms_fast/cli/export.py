"""Export commands: `aimms export` (every format in export.FORMATS) and `aimms import-edit`.

The format list is fixed here so `aimms --help` stays fast (no format module is imported until a
command runs); a format whose module is missing reports that with exit code 1.
"""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg
from aimms_fast.errors import AimmsError

FORMAT_NAMES = ["otio", "edl", "fcp7", "fcpx", "kdenlive", "animatic", "pdf", "html"]


def _extra(pairs: tuple[str, ...]) -> dict:
    out = {}
    for p in pairs:
        if "=" not in p:
            raise click.BadParameter(f"{p!r} is not KEY=VALUE", param_hint="--set")
        k, v = p.split("=", 1)
        low = v.lower()
        out[k.strip()] = True if low in ("true", "yes", "on") else False if low in ("false", "no", "off") else v
    return out


@cli.command("export")
@project_arg
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), required=True,
              help="otio, edl (CMX 3600), fcp7 (FCP 7 XML), fcpx (FCPXML), kdenlive, animatic (MP4), pdf, html.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="File to write (for html: a folder).")
@click.option("--storyboard", type=click.Choice(["video", "image"]), default="video", show_default=True,
              help="Which storyboard's starred takes make the cut.")
@click.option("--section", default=None, help="Only the shots of this section.")
@click.option("--missing", type=click.Choice(["skip", "gap", "title"]), default="gap", show_default=True,
              help="A shot without a usable starred take: leave it out, a black gap, or a title card.")
@click.option("--fps", type=float, default=None,
              help="Timeline frame rate (default: the most common rate of the starred takes).")
@click.option("--copy-media", "copy_media", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Copy the media into this folder (with a manifest) and reference the copies.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="A format-specific option (repeatable), e.g. --set burn_in=true for the animatic.")
@json_option
@handle_errors
def export_cmd(path, fmt, out, storyboard, section, missing, fps, copy_media, sets, as_json):
    """Export the starred cut: editor timelines, animatic, PDF boards or an HTML review page.

    Shots come in story order with their starred take (image storyboard: the slot-1 image held for
    the shot's duration). The report lists gaps, conformed frame rates and anything left out.
    Exit code 1 when the export fails, 2 for bad options.
    """
    from aimms_fast import export as ex
    from aimms_fast.export.timeline import build_cut
    ex.load()
    if fmt not in ex.FORMATS:
        raise AimmsError(f"the {fmt} export is not available in this build", field="format",
                         hint="available: " + ", ".join(sorted(ex.FORMATS)))
    with open_project(path, write=False) as p:
        cut = build_cut(p, storyboard=storyboard, section=section, missing=missing, fps=fps)
        with progress_bar(f"export {fmt}", max(1, len(cut.clips)), enabled=not as_json) as bar:
            opts = ex.ExportOptions(storyboard=storyboard, section=section, missing=missing, fps=fps,
                                    copy_media=copy_media, progress=bar, extra=_extra(sets))
            result = ex.FORMATS[fmt](p, cut, out, opts)
    data = {**result.to_dict(), "fps": cut.fps, "duration_s": round(cut.total_s, 6), "report": cut.report}
    lines = [f"wrote {result.path} ({fmt}, {result.clips} clips, {cut.total_s:.2f} s at {cut.fps:g} fps)"]
    lines += [f"  {n}" for n in result.notes]
    emit(data, as_json, "\n".join(lines))


@cli.command("import-edit")
@project_arg
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--apply", "do_apply", is_flag=True, help="Apply every proposed change (one transaction).")
@click.option("--storyboard", type=click.Choice(["video", "image"]), default=None,
              help="Storyboard the edit belongs to (default: read from the file or its takes).")
@json_option
@handle_errors
def import_edit(path, file, do_apply, storyboard, as_json):
    """Read an edited timeline (.otio, FCP 7 .xml, .fcpxml, .edl, .kdenlive) and show what changed.

    New clip order -> shot order, a different take -> star change, trimmed in/out -> stored per
    take. Nothing changes unless --apply is given; then all changes are applied together.
    """
    from aimms_fast.export.reimport import apply_edit, read_edit
    with open_project(path, write=do_apply) as p:
        diff = read_edit(p, file, storyboard=storyboard)
        applied = apply_edit(p, diff) if do_apply and not diff.empty else None
    data = {**diff.to_dict(), "applied": applied}
    text = diff.to_text()
    if do_apply:
        text += "\napplied." if applied else "\nnothing to apply."
    elif not diff.empty:
        text += "\n(run again with --apply to make these changes)"
    emit(data, as_json, text)
