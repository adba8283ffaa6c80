"""Thumbnail cache and frame commands: thumbs, frame."""
from __future__ import annotations

from pathlib import Path

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, progress_bar, project_arg
from aimms_fast.errors import AimmsError, NotFoundError


@cli.command()
@project_arg
@click.option("--force", is_flag=True, help="Throw the cache away and rebuild every thumbnail.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: every core).")
@click.option("--time-limit", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              help="Seconds one file may take before its worker is stopped and the file marked failed.")
@click.option("--frames", "strip_frames", type=click.IntRange(1, 64),
              help="Frames per filmstrip (default 16; filmstrips made with another K are rebuilt).")
@click.option("--scrub-size", type=click.Choice(["128x72", "192x108", "256x144"]), default="128x72",
              show_default=True, help="Size of a hover-scrub frame (filmstrips of another size are rebuilt).")
@json_option
@handle_errors
def thumbs(path, force, workers, time_limit, strip_frames, scrub_size, as_json):
    """Build posters and filmstrips for every take of the project at PATH.

    Work already in the cache (same file size and modification time) is skipped, so an
    interrupted run continues where it stopped. Prints a summary with every file that failed
    and why; failed files do not make the command fail (exit 0).
    """
    from aimms_fast.cache.atlas import disk_usage
    from aimms_fast.cache.build import build_all, media_paths, with_workflow_png
    with open_project(path, write=False) as p:
        paths = media_paths(p.conn)
        quick = with_workflow_png(p.conn)
        root, cache = p.root, p.layout.cache
    strip_size = tuple(int(v) for v in scrub_size.split("x"))
    with progress_bar("thumbnails", len(paths), enabled=not as_json) as bar:
        s = build_all(root, cache, paths, force=force, workers=workers, time_limit=time_limit,
                      strip_frames=strip_frames, strip_size=strip_size, quick=quick, progress=bar)
    data = s.to_dict()
    data["cache_bytes"] = disk_usage(cache)
    lines = [f"{s.total} takes in {s.seconds:.1f} s ({s.takes_per_s:.1f}/s, {s.workers} workers): "
             f"{s.built} built, {s.cached} already cached, {s.placeholders} placeholders, "
             f"{len(s.failed)} failed; cache {data['cache_bytes'] / 2**20:.1f} MiB"]
    if s.quick_posters:
        lines.append(f"every card had a poster after {s.posters_seconds:.1f} s ({s.posters_pass_built} "
                     f"made first, {s.quick_posters} of them from workflow PNGs; a video's own poster "
                     f"replaces its PNG's where they differ)")
    # Files left unbuilt because building stopped for space share one reason: say it once.
    stopped = [p for p, r in s.failed if r.startswith("thumbnails stopped")]
    failed = [(p, r) for p, r in s.failed if not r.startswith("thumbnails stopped")]
    if stopped:
        lines.append(f"{len(stopped)} not built: building stopped for space (see the warning above)")
    if failed:
        lines.append("failed:")
        lines += [f"  {p}: {r}" for p, r in failed]
    emit(data, as_json, "\n".join(lines))


def _parse_size(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        w, h = (int(x) for x in value.lower().split("x"))
        if w > 0 and h > 0:
            return w, h
    except ValueError:
        pass
    raise click.BadParameter(f"'{value}' is not WIDTHxHEIGHT (e.g. 640x360)", param_hint="--size")


@cli.command()
@project_arg
@click.argument("take_id")
@click.option("--index", "index", type=int, required=True, help="Frame number, 0-based.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="PNG file to write.")
@click.option("--size", help="Output WIDTHxHEIGHT (default: the video's display size).")
@json_option
@handle_errors
def frame(path, take_id, index, out, size, as_json):
    """Write the exact frame INDEX of a video take to a PNG (decoded from the nearest keyframe)."""
    from PIL import Image
    from aimms_fast.media.frames import FrameServer
    from aimms_fast.store.takes import get_take
    wh = _parse_size(size)
    with open_project(path, write=False) as p:
        take = get_take(p.conn, take_id)
        if take is None:
            raise NotFoundError(f"no take with id '{take_id}'", path=p.root, field="take_id",
                                hint="take ids are listed by `aimms add-take --json` and the viewer")
        src = p.layout.read_path(take.file_path)  # OutsideProject: a clear error (issue 14)
    if not take.is_video:
        raise AimmsError(f"take {take_id} is a {take.take_type} take, not a video", field="take_id",
                         hint="frame works on final_video takes")
    if src.exists() and src.stat().st_size == 0:
        raise AimmsError("the take is a zero-byte placeholder: there is no video yet", path=src)
    with FrameServer(max_open=1) as fs:
        info = fs.info(src)
        n = info["frame_count"]
        if not 0 <= index < n:
            raise AimmsError(f"frame {index} does not exist", path=src, field="index",
                             hint=f"the take has {n} frames: 0..{n - 1}")
        rgba = fs.frame(src, index, size=wh)
        t = fs.decoder(src).time_of(index)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgba, "RGBA").save(out)
    data = {"take_id": take_id, "source": str(src), "index": index, "time": round(t, 4),
            "width": int(rgba.shape[1]), "height": int(rgba.shape[0]), "frame_count": n,
            "out": str(out)}
    emit(data, as_json, f"frame {index} ({t:.3f} s) of {take.file_path} -> {out}")
