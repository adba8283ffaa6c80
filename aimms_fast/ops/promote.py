"""Promote a frame: the exact frame of a video take becomes a new image take (a full-resolution PNG)
of the same shot or of the next one, as the start frame for the next generation.

The PNG carries where it came from in tEXt chunks (AIMMS_SOURCE_KEYS: source take id, source file,
frame index and time, and the source's generation prompt) plus the source's own generation recipe
texts (ComfyUI prompt/workflow, A1111 parameters …), so the new image take shows the same generation
summary in the shot window and ComfyUI can load it. It enters the project through ops.takes.add_takes
like every other take (pending-file record, temp name, fsync, rename, rows): a crash leaves nothing
half-imported. Nothing is written before the frame index is checked and the frame decoded.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimms_fast.errors import AimmsError, MediaError, NotFoundError, OutsideProject
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.db import transaction
from aimms_fast.store.shots import get_shot, list_shots
from aimms_fast.store.takes import get_take

KEY_TAKE = "aimms_source_take"
KEY_FILE = "aimms_source_file"
KEY_FRAME = "aimms_source_frame"
KEY_TIME = "aimms_source_time"
KEY_PROMPT = "aimms_source_prompt"
KEY_PROMPT_FROM = "aimms_source_prompt_from"
AIMMS_SOURCE_KEYS = (KEY_TAKE, KEY_FILE, KEY_FRAME, KEY_TIME, KEY_PROMPT, KEY_PROMPT_FROM)


@dataclass
class SourcePrompt:
    """The generation prompt behind a take and where it was found: 'metadata' (the video's own),
    'workflow PNG' (its companion), 'shot video_prompt' (the storyboard's text), or '' (none)."""
    text: str
    origin: str
    recipe: dict[str, str]     # the source's raw recipe texts to carry into the PNG


def next_shot_id(project, shot_id: int) -> int | None:
    """The shot after `shot_id` in story order, None for the last shot."""
    shots = list_shots(project.conn)
    ids = [s["shot_id"] for s in shots]
    if shot_id not in ids:
        raise NotFoundError(f"no shot with id {shot_id}", path=project.root)
    k = ids.index(shot_id)
    return ids[k + 1] if k + 1 < len(ids) else None


def source_prompt(project, take) -> SourcePrompt:
    """The take's generation prompt, looked up the way the shot window does: the file's own
    metadata (fast_gen, read now if the import did not), else its workflow PNG's, else the shot's
    video prompt."""
    from aimms_fast.media import genmeta
    from aimms_fast.media.workflow_png import recipe_text
    for rel, origin in ((take.file_path, "metadata"), (take.companion_path, "workflow PNG")):
        if not rel:
            continue
        row = genmeta.stored(project.conn, rel)
        raw = genmeta.stored_raw(project.conn, rel) if row else None
        positive = row.get("positive") if row else None
        if row is None:       # not read at import (older project): it is one file, read it now
            try:
                g = genmeta.read_generation(project.layout.read_path(rel))
            except OutsideProject:  # issue 14: nothing outside the project is read
                g = None
            if g is not None and g.source != "error":
                positive, raw = g.positive, g.raw
        if positive or raw:
            return SourcePrompt(positive or "", origin, recipe_text(raw or {}))
    shot = get_shot(project.conn, take.shot_id) or {}
    text = shot.get("video_prompt") or ""
    return SourcePrompt(text, "shot video_prompt" if text else "", {})


def decode_frame(path: str | Path, frame_index: int) -> tuple[np.ndarray, float]:
    """The exact frame `frame_index` at full display resolution (sample aspect and rotation
    applied) and its time in seconds from the first frame: HxWx3 uint8 RGB, HxWx4 RGBA when the
    clip has alpha. Raises AimmsError for an index outside the clip, MediaError if undecodable."""
    from aimms_fast.media.frames import ClipDecoder, display_size, frame_has_alpha, to_rgba
    with ClipDecoder(path) as dec:
        _check_index(path, frame_index, dec.frame_count)
        f = dec.frame(frame_index)
        rot = f.rotation or 0
        size = display_size(f.width, f.height, dec.sample_aspect, rot)
        return to_rgba(f, size, rot, fmt="rgba" if frame_has_alpha(f) else "rgb24"), dec.time_of(frame_index)


def _check_index(path, frame_index: int, count: int) -> None:
    if not 0 <= frame_index < count:
        raise AimmsError(f"frame {frame_index} is out of range: the clip has {count} frames (0..{count - 1})",
                         path=path, field="frame_index", hint="promote a frame inside the clip")


def _png_image(frame: np.ndarray):
    from PIL import Image
    a = np.ascontiguousarray(frame)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] not in (3, 4):
        raise AimmsError(f"a frame must be HxWx3 or HxWx4 uint8 (got {a.dtype} {a.shape})", field="frame")
    if a.shape[2] == 4 and bool((a[..., 3] == 255).all()):
        a = np.ascontiguousarray(a[..., :3])     # opaque: RGB is the same picture, a quarter smaller
    return Image.fromarray(a, "RGBA" if a.shape[2] == 4 else "RGB")


def write_png(dest: Path, frame: np.ndarray, text: dict[str, str]) -> None:
    """Frame + text chunks to a PNG, fsynced (add_takes copies it into the project)."""
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    for k, v in text.items():
        info.add_text(k, v)       # tEXt; Pillow writes iTXt for text that is not Latin-1
    with open(dest, "wb") as f:
        _png_image(frame).save(f, format="PNG", pnginfo=info, compress_level=4)
        f.flush()
        os.fsync(f.fileno())


def promote_frame(project, take_id: str, frame_index: int, *, to_shot_id: int | None = None,
                  frame: np.ndarray | None = None) -> str:
    """Save frame `frame_index` of video take `take_id` as a new image take of its shot (or of
    `to_shot_id`); returns the new take id.

    `frame`: the caller's already decoded exact frame at full display resolution (the player's
    TakeStream.full_frame); without it the frame is decoded here. Raises NotFoundError for an
    unknown take/shot, AimmsError for a take that is not a video or an index outside the clip,
    MediaError when the clip cannot be decoded; in every such case nothing is written.
    Called from the UI thread (one frame decode, one PNG encode: ~50 ms at 1080p) or a job.
    """
    from aimms_fast.ops.takes import add_takes
    project.require_writable()
    t = get_take(project.conn, take_id)
    if t is None:
        raise NotFoundError(f"no take with id {take_id}", path=project.root)
    if t.take_type != A.FINAL_VIDEO:
        raise AimmsError(f"only video takes have frames to promote ({t.file_path} is {t.take_type})",
                         path=t.file_path, field="take_type")
    dest_shot = t.shot_id if to_shot_id is None else int(to_shot_id)
    if get_shot(project.conn, dest_shot) is None:
        raise NotFoundError(f"no shot with id {dest_shot}", path=project.root, field="to_shot_id")
    if isinstance(frame_index, bool) or not isinstance(frame_index, (int, np.integer)):
        raise AimmsError(f"frame index must be a whole number (got {frame_index!r})", field="frame_index")
    frame_index = int(frame_index)
    path = project.layout.read_path(t.file_path)  # OutsideProject: a clear error (issue 14)
    if not path.is_file() or path.stat().st_size == 0:
        raise MediaError("the take has no video to take a frame from (missing file or placeholder)",
                         path=path, hint="replace the take with its video first")
    if frame is None:
        frame, seconds = decode_frame(path, frame_index)
    else:
        from aimms_fast.media.frames import ClipDecoder
        with ClipDecoder(path) as dec:     # one demux pass: the frame count and the frame's time
            _check_index(path, frame_index, dec.frame_count)
            seconds = dec.time_of(frame_index)
    sp = source_prompt(project, t)
    text = dict(sp.recipe)
    text.update({KEY_TAKE: t.take_id, KEY_FILE: t.file_path, KEY_FRAME: str(frame_index),
                 KEY_TIME: f"{seconds:.6f}", KEY_PROMPT: sp.text, KEY_PROMPT_FROM: sp.origin})
    stem = Path(t.file_path).stem
    with tempfile.TemporaryDirectory(prefix="aimms_promote_") as tmp:
        src = Path(tmp) / f"{stem}_frame{frame_index:05d}.png"
        write_png(src, frame, text)
        ids = add_takes(project, dest_shot, [src], storyboard="image")
    with transaction(project.db):
        project.audit("promote_frame", f"{t.file_path} frame {frame_index} -> take {ids[0]} (shot {dest_shot})")
    return ids[0]
