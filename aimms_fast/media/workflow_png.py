"""Workflow PNGs: the companion image of each video take that carries its ComfyUI recipe.

VideoHelperSuite saves `name.png` (first frame + `prompt`/`workflow` text chunks) next to each
video; AIMMS keeps it as a `video_workflow` take (`video_NN.png`, linked here by
fast_takes.companion_of). This module tells, per video take, whether that PNG is

  present      the file exists and is a sound PNG (chunks, CRCs and image data check out)
  missing      no PNG recorded, the recorded file is gone, or it is an empty placeholder while
               the video is real (regenerate it)
  invalid      the file exists but is not a decodable PNG (the reason says why)
  placeholder  the video itself is a zero-byte placeholder: nothing to expect yet

and fixes it: `regenerate` rebuilds a missing/invalid PNG from the video (first decodable frame +
the `prompt`/`workflow` the video carries in its container tags), `repair` rewrites a damaged or
mislabelled PNG keeping its pixels and text. Originals that get overwritten are kept in
data/backup/replaced/. Files are written under a temporary name and renamed (crash-safe).
"""
from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from aimms_fast.errors import AimmsError, MediaError, NotFoundError, OutsideProject
from aimms_fast.media import png_chunks
from aimms_fast.media.genmeta import loads_json, read_raw
from aimms_fast.media.probe import sniff
from aimms_fast.store import takes as TS
from aimms_fast.store.db import transaction, utc_now, utc_stamp
from aimms_fast.store.pending import pending_files, write_atomic

PRESENT, MISSING, INVALID, PLACEHOLDER = "present", "missing", "invalid", "placeholder"
ICONS = {PRESENT: "✅", MISSING: "⚠️", INVALID: "❌", PLACEHOLDER: "·"}
# Text keys carried from a video (or a damaged PNG) into the PNG we write; others are dropped
# (container housekeeping like major_brand/encoder is not a recipe).
RECIPE_KEYS = ("prompt", "workflow", "parameters", "invokeai_metadata", "fooocus_scheme")
Progress = Callable[[int, int], None] | None


@dataclass
class PngStatus:
    take_id: str
    shot_id: int
    video: str
    png: str | None
    status: str
    reason: str | None = None
    companion_id: str | None = None
    action: str | None = None   # what regenerate/repair did ('regenerated', 'repaired', ...)

    def to_dict(self) -> dict:
        return asdict(self)


# -- validation -----------------------------------------------------------------------------------

def validate_png(path: str | Path) -> tuple[bool, str | None]:
    """(sound, reason). Sound = PNG signature, IHDR first, every CRC right, IEND present and the
    image data inflates to the size IHDR promises. A few stray bytes after IEND are noted, not
    fatal (every decoder ignores them)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        return False, f"cannot read ({e.strerror or e})"
    if size == 0:
        return False, "empty file"
    what = sniff(path)
    if what != "PNG":
        return False, f"not a PNG: the file holds {what} data"
    s = png_chunks.scan(path, check_crc=True, inflate_idat=True)
    if s.problems:
        return False, "; ".join(s.problems)
    if s.trailing_bytes:
        return True, f"{s.trailing_bytes} stray byte(s) after IEND (harmless; --repair removes them)"
    return True, None


# -- status ---------------------------------------------------------------------------------------

def _video_takes(conn, take_ids=None) -> list[tuple]:
    sql = ("SELECT t.take_id, t.shot_id, t.file_path, COALESCE(f.placeholder, 0), f.take_number, "
           "c.take_id, c.file_path, COALESCE(cf.placeholder, 0) "
           "FROM takes t LEFT JOIN fast_takes f USING (take_id) "
           "LEFT JOIN fast_takes cf ON cf.companion_of = t.take_id "
           "LEFT JOIN takes c ON c.take_id = cf.take_id "
           "WHERE t.take_type = 'final_video'")
    args: list = []
    if take_ids:
        sql += f" AND t.take_id IN ({','.join('?' * len(take_ids))})"
        args = list(take_ids)
    sql += " ORDER BY COALESCE(f.shot_order, 0), t.shot_id, f.take_number"
    return conn.execute(sql, args).fetchall()


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


RECORD_TOPS = ("media", "assets")  # = project.layout.RECORD_TOPS


def _status_of(project, row) -> PngStatus:
    take_id, shot_id, video, v_placeholder, _num, comp_id, png, _c_placeholder = row
    lay = project.layout
    for label, rel in (("video", video), ("workflow PNG", png)):
        if rel is None and label == "workflow PNG":
            continue
        reason = lay.outside_reason(rel, within=RECORD_TOPS)
        if reason:  # issue 14: nothing is read or written through it; regenerate/repair refuse it
            return PngStatus(take_id=take_id, shot_id=shot_id, video=_shown(video), png=_shown(png),
                             status=INVALID, companion_id=comp_id,
                             reason=f"{label} path is outside the project ({reason})")
    vsize = _size(lay.read_path(video)) if video else None
    video_is_placeholder = bool(v_placeholder) or vsize == 0
    st = PngStatus(take_id=take_id, shot_id=shot_id, video=video, png=png, status=PRESENT,
                   companion_id=comp_id)
    if png is None:
        if video_is_placeholder:
            st.status, st.reason = PLACEHOLDER, "placeholder video: no workflow PNG expected yet"
        else:
            st.status, st.reason = MISSING, "no workflow PNG recorded for this video"
        return st
    psize = _size(lay.read_path(png))
    if psize is None:
        st.status, st.reason = MISSING, f"recorded workflow PNG not found: {png}"
    elif psize == 0:
        if video_is_placeholder:
            st.status, st.reason = PLACEHOLDER, "placeholder video and placeholder PNG"
        else:
            st.status, st.reason = MISSING, "workflow PNG is an empty placeholder but the video is real"
    else:
        ok, reason = validate_png(lay.read_path(png))
        st.status, st.reason = (PRESENT if ok else INVALID), reason
    return st


def _shown(rel):
    from aimms_fast.errors import printable_path
    return rel if rel is None or isinstance(rel, str) else printable_path(rel)


def _outside(project, st: PngStatus) -> PngStatus | None:
    """A failed result when the video's or PNG's stored path is outside the project (issue 14)."""
    lay = project.layout
    for rel in (st.video, st.png):
        if rel is None:
            continue
        reason = lay.outside_reason(rel, within=RECORD_TOPS)
        if reason:
            return PngStatus(**{**asdict(st), "action": "failed",
                                "reason": f"{rel} is outside the project ({reason}); nothing was written"})
    return None


def check(project, take_ids: list[str] | None = None, progress: Progress = None) -> list[PngStatus]:
    """Status of the workflow PNG of every video take (or of `take_ids`)."""
    rows = _video_takes(project.conn, take_ids)
    if take_ids:
        _require_all(rows, take_ids, project)
    out = []
    for i, row in enumerate(rows):
        out.append(_status_of(project, row))
        if progress:
            progress(i + 1, len(rows))
    return out


def _require_all(rows, take_ids, project) -> None:
    found = {r[0] for r in rows}
    for t in take_ids:
        if t not in found:
            raise NotFoundError(f"no video take with id {t}", path=project.root,
                                hint="workflow PNGs belong to video takes (final_video)")


# -- writing --------------------------------------------------------------------------------------

def png_writer(pixels, text: dict[str, str]):
    """A `write(file object)` that saves pixels (a PIL image) + text chunks as PNG (for
    store.pending's crash-safe writes)."""
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    for k, v in text.items():
        info.add_text(k, v)  # Pillow writes iTXt when the text is not Latin-1

    def write(f):
        pixels.save(f, format="PNG", pnginfo=info, compress_level=4)
    return write


def _write_png(dest: Path, pixels, text: dict[str, str]) -> None:
    """Write pixels + text chunks to dest atomically (temp name, fsync, rename)."""
    write_atomic(dest, png_writer(pixels, text))


def png_writer_for_video(video: Path, *, source_label: str | None = None):
    """The workflow PNG VideoHelperSuite would have saved beside `video`: its first decodable frame
    plus the recipe its container tags carry. Returns a `write(file object)`; raises MediaError when
    no frame decodes. Used by regenerate and by ops/takes.replace_take."""
    image = first_frame(video)
    raw, _warn = read_raw(video)
    text = recipe_text(raw)
    text["aimms_fast"] = f"regenerated from {source_label or video.name} (first frame) on {utc_now()}"
    return png_writer(image, text)


def _keep_original(project, rel: str, take_id: str) -> str | None:
    """Copy a file about to be overwritten into data/backup/replaced/ (returns where)."""
    src = project.layout.read_path(rel, within=RECORD_TOPS)
    if not src.exists() or src.stat().st_size == 0:
        return None
    dest_dir = project.layout.replaced / f"{utc_stamp()}_{take_id}"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    shutil.copy2(src, dest)
    return project.layout.rel(dest)


def first_frame(video: Path):
    """The first decodable frame of a video as a PIL image (RGB, or RGBA when it has alpha).
    Pixels as encoded, no display rotation: like the PNG VideoHelperSuite writes."""
    import av
    from aimms_fast.media.frames import frame_has_alpha, open_decoder, pick_video_stream
    try:
        with av.open(str(video)) as c:
            vs = pick_video_stream(c)
            dec = open_decoder(vs)
            frame = None
            budget = 256
            for pkt in c.demux(vs):
                if pkt.size == 0:
                    continue
                try:
                    out = dec.decode(pkt)
                except av.error.FFmpegError:
                    out = []  # a damaged packet: keep looking for the first good frame
                if out:
                    frame = out[0]
                    break
                budget -= 1
                if budget <= 0:
                    break
            if frame is None:
                out = dec.decode(None)
                frame = out[0] if out else None
            if frame is None:
                raise MediaError("no decodable frame in the video", path=video,
                                 hint="the video may be damaged; replace the take")
            if not frame_has_alpha(frame):
                return frame.to_image()
            # Not frame.reformat("rgba"): swscale's packed rgba writer garbles some widths
            # (media/frames.to_rgba says which); to_rgba goes through planar gbrap.
            from PIL import Image
            from aimms_fast.media.frames import to_rgba
            return Image.fromarray(to_rgba(frame, (frame.width, frame.height), 0), "RGBA")
    except av.error.FFmpegError as e:
        raise MediaError(f"cannot decode the video ({e.strerror or e})", path=video,
                         hint="the video may be damaged; replace the take") from e


def recipe_text(raw: dict[str, str]) -> dict[str, str]:
    """The metadata texts worth carrying into a PNG, prompt graph decoded to plain JSON text."""
    out = {}
    for k in RECIPE_KEYS:
        v = raw.get(k)
        if isinstance(v, str) and v:
            if k == "prompt":
                # VHS stores the prompt JSON-encoded twice; PNG readers expect it once.
                data, err = loads_json(v)
                if err is None and isinstance(data, dict):
                    v = json.dumps(data)
            out[k] = v
    return out


def _companion_rel(video_rel: str) -> str:
    p = PurePosixPath(video_rel.replace("\\", "/"))
    return str(p.with_suffix(".png"))


def regenerate(project, take_ids: list[str] | None = None, *, progress: Progress = None,
               only_broken: bool = True) -> list[PngStatus]:
    """Rebuild missing/invalid workflow PNGs from their videos (all video takes, or `take_ids`).
    Present and placeholder ones are left alone (only_broken). Returns the status after the work,
    with `action` and, on failure, status unchanged and `reason` saying why."""
    project.require_writable()
    before = check(project, take_ids)
    out = []
    for i, st in enumerate(before):
        if st.status in (PRESENT, PLACEHOLDER) and only_broken:
            out.append(st)
        else:
            out.append(_regenerate_one(project, st))
        if progress:
            progress(i + 1, len(before))
    return out


def _regenerate_one(project, st: PngStatus) -> PngStatus:
    lay = project.layout
    if st.status == PLACEHOLDER:
        return PngStatus(**{**asdict(st), "action": "skipped", "reason": "placeholder video"})
    refused = _outside(project, st)
    if refused:
        return refused
    video = lay.read_path(st.video, within=RECORD_TOPS)
    try:
        image = first_frame(video)
        raw, _warn = read_raw(video)
    except AimmsError as e:
        return PngStatus(**{**asdict(st), "action": "failed", "reason": e.message})
    text = recipe_text(raw)
    text["aimms_fast"] = f"regenerated from {st.video} (first frame) on {utc_now()}"
    rel = st.png or _companion_rel(st.video)
    try:
        target = lay.read_path(rel, within=RECORD_TOPS)  # written by rename: a link is replaced, never written through
    except OutsideProject as e:
        return PngStatus(**{**asdict(st), "action": "failed", "reason": f"{e.message}; nothing was written"})
    conn = project.conn
    new_row = st.companion_id is None
    registered = False
    if new_row and _size(target):
        owner = conn.execute("SELECT take_id FROM takes WHERE file_path = ?", (rel,)).fetchone()
        if owner:
            return PngStatus(**{**asdict(st), "action": "failed",
                                "reason": f"{rel} belongs to another take ({owner[0]})"})
        # A sound PNG is already there, only its take row is missing: record it, keep the file.
        registered = validate_png(target)[0]
    kept = None if registered else _keep_original(project, rel, st.take_id)
    if new_row:
        # A new file and its new rows: the crash-safe path (store/pending.py).
        with pending_files(project.db, lay, [rel]) as pf:
            if not registered:
                pf.write(rel, png_writer(image, text), replace=target.exists())
            with pf.commit() as c:
                comp_id = str(uuid.uuid4())
                vt = conn.execute("SELECT take_number, shot_order FROM fast_takes WHERE take_id = ?",
                                  (st.take_id,)).fetchone() or (0, 0)
                TS.insert_take(c, take_id=comp_id, shot_id=st.shot_id, take_type="video_workflow", rel=rel,
                               storyboard="video", number=vt[0], order=vt[1], companion_of=st.take_id)
                project.audit("register_workflow_png" if registered else "regenerate_workflow_png",
                              f"{rel} from {st.video}" + (f" (old file kept in {kept})" if kept else ""))
    else:
        comp_id = st.companion_id
        _write_png(target, image, text)  # the old one is in data/backup/replaced (kept above)
        with transaction(project.db):
            TS.set_placeholder(conn, comp_id, False)
            project.audit("regenerate_workflow_png",
                          f"{rel} from {st.video}" + (f" (old file kept in {kept})" if kept else ""))
    _after_write(project, rel)
    if registered:
        return PngStatus(take_id=st.take_id, shot_id=st.shot_id, video=st.video, png=rel, status=PRESENT,
                         companion_id=comp_id, action="registered",
                         reason="a sound PNG was already there; recorded it as the workflow PNG")
    has_recipe = "prompt" in text or "workflow" in text
    return PngStatus(take_id=st.take_id, shot_id=st.shot_id, video=st.video, png=rel, status=PRESENT,
                     companion_id=comp_id, action="regenerated",
                     reason=None if has_recipe else "the video carries no workflow: the PNG holds its first frame only")


def _after_write(project, rel: str) -> None:
    from aimms_fast.media.ingest import after_import
    after_import(project, [rel])


def repair(project, take_ids: list[str] | None = None, *, progress: Progress = None) -> list[PngStatus]:
    """Rewrite damaged workflow PNGs keeping pixels and text: broken CRCs in ancillary chunks,
    stray bytes after IEND, a missing IEND, or another image format saved under a .png name.
    Present PNGs without flaws are left alone; missing ones need `regenerate`."""
    project.require_writable()
    before = check(project, take_ids)
    out = []
    for i, st in enumerate(before):
        if st.status == INVALID or (st.status == PRESENT and st.reason):
            out.append(_repair_one(project, st))
        else:
            note = "nothing to repair" if st.status == PRESENT else \
                "missing: use regenerate" if st.status == MISSING else st.reason
            out.append(PngStatus(**{**asdict(st), "action": "skipped", "reason": note}))
        if progress:
            progress(i + 1, len(before))
    return out


def _repair_one(project, st: PngStatus) -> PngStatus:
    refused = _outside(project, st)
    if refused:
        return refused
    path = project.layout.read_path(st.png, within=RECORD_TOPS)
    try:
        image, text, dropped = recover_png(path)
    except AimmsError as e:
        return PngStatus(**{**asdict(st), "action": "failed",
                            "reason": f"{e.message}; regenerate it from the video instead"})
    kept = _keep_original(project, st.png, st.take_id)
    _write_png(path, image, text)
    with transaction(project.db):
        TS.set_placeholder(project.conn, st.companion_id, False)
        project.audit("repair_workflow_png", f"{st.png}: {st.reason}" + (f" (original kept in {kept})" if kept else ""))
    _after_write(project, st.png)
    ok, reason = validate_png(path)
    note = f"dropped unreadable chunk(s): {', '.join(dropped)}" if dropped else None
    return PngStatus(take_id=st.take_id, shot_id=st.shot_id, video=st.video, png=st.png,
                     status=PRESENT if ok else INVALID, companion_id=st.companion_id, action="repaired",
                     reason=reason or note)


def recover_png(path: Path):
    """(PIL image with pixels loaded, text chunks to keep, names of chunks dropped).

    PNG: the chunk stream is rebuilt from the chunks whose CRC is right (critical chunks must be
    right; a text chunk with a bad CRC is kept only when its JSON still parses), up to IEND.
    Other formats: decoded by Pillow; their recipe (WebP/JPEG EXIF) becomes PNG text.
    Raises MediaError when the pixels cannot be recovered."""
    import io
    from PIL import Image
    what = sniff(path)
    dropped: list[str] = []
    if what != "PNG":
        try:
            with Image.open(path) as im:
                im.load()
                image = im.copy()
        except Exception as e:
            raise MediaError(f"cannot decode the {what} data ({e})", path=path) from e
        raw, _ = read_raw(path)
        return image, recipe_text(raw), dropped
    s = png_chunks.scan(path, check_crc=True, keep_data=True)
    out = io.BytesIO()
    out.write(png_chunks.SIGNATURE)
    text: dict[str, str] = {}
    with open(path, "rb") as f:
        for ch in s.chunks:
            name = ch.type.decode("latin-1", errors="replace")
            critical = not (ch.type[0] & 0x20)
            if ch.type in png_chunks.TEXT_TYPES:
                try:
                    key, value = png_chunks.decode_text(ch.type, ch.data or b"")
                except Exception:
                    dropped.append(name)
                    continue
                if ch.crc_ok or _json_ok(value):
                    text.setdefault(key, value)
                else:
                    dropped.append(f"{name} '{key}'")
                continue
            if ch.type == b"IEND":
                break
            if not ch.crc_ok and not critical:
                dropped.append(name)
                continue
            f.seek(ch.offset)
            out.write(f.read(12 + ch.length))  # original bytes, CRC included
    out.write(b"\x00\x00\x00\x00IEND\xaeB`\x82")
    try:
        with Image.open(io.BytesIO(out.getvalue())) as im:
            im.load()
            image = im.copy()
    except Exception as e:
        raise MediaError(f"the image data is damaged ({e})", path=path) from e
    return image, text, dropped


def _json_ok(value: str) -> bool:
    try:
        json.loads(value)
        return True
    except ValueError:
        return False
