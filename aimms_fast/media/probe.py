"""Probe media files once (at import) and keep the facts in fast_media.

`av.open` on 1080p costs 30-70 ms (DESIGN.md), so nothing else should ever open a file just to
learn its size, fps or keyframe layout: it reads `facts()` instead. Rows are refreshed when the
file's size or mtime changes, or when PROBE_VERSION grows.

What one probe costs: one container open, a demux-only pass over the video packets (no decoding;
skipped for MP4/MOV whose sample index already lists every frame with its keyframe flag) and the
decode of the first frame (for the display rotation on frames and the real alpha of VP9).
"""
from __future__ import annotations

import hashlib
import logging
import re
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Iterable

from aimms_fast.errors import OutsideProject
from aimms_fast.store.db import transaction, utc_now

log = logging.getLogger(__name__)

PROBE_VERSION = 1
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
VIDEO_EXTS = {".mp4", ".webm", ".mkv", ".mov", ".gif", ".m4v", ".avi"}
FINGERPRINT_BLOCK = 64 * 1024

COLUMNS = ("path", "size", "mtime_ns", "fingerprint", "kind", "status", "reason", "container", "codec",
           "decoder", "pix_fmt", "width", "height", "sample_aspect", "rotation", "fps", "vfr", "duration",
           "frame_count", "keyframe_count", "keyframe_interval", "audio_streams", "alpha", "mode",
           "animated_frames", "probe_version", "probed_at")

# Pixel formats that carry an alpha channel (FFmpeg names).
_ALPHA_PIX = re.compile(r"^(yuva|gbrap|ya\d|rgba|bgra|argb|abgr|rgb32|bgr32)")


def fingerprint(path: str | Path, size: int | None = None) -> str:
    """Fast content fingerprint for relinking moved files: blake2b of the size and the first,
    middle and last 64 KiB (the whole file when smaller). Reads at most 192 KiB."""
    path = Path(path)
    if size is None:
        size = path.stat().st_size
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    with open(path, "rb") as f:
        if size <= 3 * FINGERPRINT_BLOCK:
            h.update(f.read())
        else:
            for offset in (0, size // 2 - FINGERPRINT_BLOCK // 2, size - FINGERPRINT_BLOCK):
                f.seek(offset)
                h.update(f.read(FINGERPRINT_BLOCK))
    return h.hexdigest()


def media_kind(path: str | Path) -> str:
    return "image" if Path(path).suffix.lower() in IMAGE_EXTS else "video"


def _empty_row(path, kind) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(path=str(path), kind=kind, status="ok", probe_version=PROBE_VERSION, probed_at=utc_now())
    return row


def probe_file(abs_path: str | Path) -> dict:
    """Facts about one media file as a fast_media row (path = the given path). Never raises for a
    bad file: status 'placeholder' (zero bytes), 'missing' or 'error' with a reason."""
    return _probe(Path(abs_path))[0]


def _probe(path: Path) -> tuple[dict, dict]:
    """(row, container tags). Tags are handed to the metadata reader so an import opens each
    video once (see media/ingest.py)."""
    row = _empty_row(path, media_kind(path))
    tags: dict = {}
    try:
        st = path.stat()
    except FileNotFoundError:
        row.update(status="missing", reason="file not found")
        return row, tags
    except OSError as e:
        row.update(status="error", reason=f"cannot read file ({e.strerror or e})")
        return row, tags
    row.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    if not path.is_file():
        row.update(status="error", reason="not a regular file")
        return row, tags
    if st.st_size == 0:
        row.update(status="placeholder", reason="empty file (zero-byte placeholder)")
        return row, tags
    try:
        row["fingerprint"] = fingerprint(path, st.st_size)
        if row["kind"] == "image":
            _probe_image(path, row)
        else:
            tags = _probe_video(path, row)
    except PermissionError as e:
        row.update(status="error", reason=f"permission denied ({e.filename or path})")
    except Exception as e:  # a bad file marks its row; it never stops an import
        log.debug("probe failed for %s", path, exc_info=True)
        row.update(status="error", reason=_reason(path, e))
    return row, tags


# -- video ------------------------------------------------------------------------------------

def _reason(path: Path, e: Exception) -> str:
    import av
    if isinstance(e, av.error.EOFError):
        return "truncated file: it ends before any video data (FFmpeg: end of file)"
    if isinstance(e, av.error.InvalidDataError):
        what = sniff(path)
        if what == "text":
            return "this is a text file, not media (FFmpeg: invalid data)"
        if what == "MP4/MOV" and not _mp4_has_index(path):
            return "incomplete MP4/MOV: no 'moov' index (the file was cut off or is still being written)"
        if what != "unknown data":
            return f"damaged or unsupported {what} data (FFmpeg: invalid data)"
        return "not a readable media file (FFmpeg: invalid data found when processing input)"
    if isinstance(e, av.error.FFmpegError):
        return f"FFmpeg cannot read it: {e.strerror or e}"
    return f"{type(e).__name__}: {e}"


def sniff(path: str | Path) -> str:
    """What a file really holds, from its first bytes (names lie: a JPEG saved as .png, a text
    file named .mp4)."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:2] == b"\xff\xd8":
        return "JPEG"
    if head[:4] == b"RIFF":
        return {b"WEBP": "WebP", b"WAVE": "WAV audio", b"AVI ": "AVI video"}.get(head[8:12], "RIFF")
    if head[:4] == b"GIF8":
        return "GIF"
    if head[4:8] == b"ftyp":
        return "MP4/MOV"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "Matroska/WebM"
    if _looks_like_text(path):
        return "text"
    return "unknown data"


def _mp4_has_index(path: Path) -> bool:
    """Walk the top-level MP4 boxes for 'moov' (headers only)."""
    import struct
    size = path.stat().st_size
    with open(path, "rb") as f:
        pos = 0
        while pos + 8 <= size:
            f.seek(pos)
            n, kind = struct.unpack(">I4s", f.read(8))
            if kind == b"moov":
                return True
            if n == 1:
                n = struct.unpack(">Q", f.read(8))[0]
            elif n == 0:
                break
            if n < 8:
                break
            pos += n
    return False


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head or b"\0" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return printable >= 0.95 * len(text)


def _short_container(format_name: str, path: Path) -> str:
    # FFmpeg names demuxers by family ('mov,mp4,m4a,3gp,3g2,mj2'); keep the member the file is.
    names = format_name.split(",")
    ext = path.suffix.lower().lstrip(".")
    return ext if ext in names else names[0]


def _f(x) -> float | None:
    return float(x) if x else None


def _open_video(path: Path):
    """av.open; a file named .mp4/.mov/.m4v is first opened with that demuxer named, which skips
    format detection (0.31 against 0.41 ms a small clip). A file whose name lies fails that open
    and is opened again with detection."""
    import av
    if path.suffix.lower() in (".mp4", ".mov", ".m4v"):
        try:
            return av.open(str(path), format="mp4", metadata_errors="ignore")
        except av.error.FFmpegError:
            pass
    return av.open(str(path), metadata_errors="ignore")


def _probe_video(path: Path, row: dict) -> dict:
    import av
    with _open_video(path) as c:
        tags = {k: v for k, v in c.metadata.items()}
        row["container"] = _short_container(c.format.name, path)
        row["audio_streams"] = len(c.streams.audio)
        # Cover art in MP4/MKV is a video stream flagged 'attached picture': not the clip.
        videos = [s for s in c.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
        if not videos:
            what = f"{len(c.streams.audio)} audio stream(s)" if c.streams.audio else "no streams"
            row.update(status="error", reason=f"no video stream ({what})")
            return tags
        vs = videos[0]
        cc = vs.codec_context
        # One decoding thread: only the first frame is decoded, and FFmpeg's default (a thread per
        # core + 1) cost more to start than that decode (0.33 ms of ~2 ms a small clip); the
        # probe workers already use every core.
        cc.thread_count = 1
        tags.update({f"stream:{k}": v for k, v in vs.metadata.items()})
        row.update(codec=cc.codec.canonical_name, width=cc.width or None, height=cc.height or None,
                   pix_fmt=cc.pix_fmt)
        sar = vs.sample_aspect_ratio or cc.sample_aspect_ratio
        row["sample_aspect"] = f"{sar.numerator}:{sar.denominator}" if sar else "1:1"
        # VP8/VP9 keep alpha in a side channel only libvpx decodes (FFmpeg's own decoders drop it).
        alpha_decoder = None
        if str(vs.metadata.get("alpha_mode", "")) == "1":
            alpha_decoder = {"vp9": "libvpx-vp9", "vp8": "libvpx"}.get(cc.codec.canonical_name)
        first = _FirstFrame(vs, alpha_decoder)
        timing = _index_timing(c, vs)
        if timing is None:
            timing = _demux_timing(c, vs, first)
        else:
            first.run(c)
        _fill_timing(vs, c, row, timing)
        if timing.get("error"):
            row["reason"] = timing["error"]
        frame, alpha_frame = first.frame, first.alpha_frame
        if frame is None:
            err = f" ({first.error})" if first.error else ""
            row.update(status="error", reason=f"no decodable video frames{err}")
        else:
            row["rotation"] = int(getattr(frame, "rotation", 0) or 0) or _tag_rotation(vs)
            row["width"] = row["width"] or frame.width
            row["height"] = row["height"] or frame.height
        if row["codec"] == "gif":
            row["alpha"] = int(_gif_has_transparency(path))
        elif alpha_decoder:
            row["alpha"] = int(alpha_frame is not None and bool(_ALPHA_PIX.match(alpha_frame.format.name)))
            if row["alpha"]:
                row.update(decoder=alpha_decoder, pix_fmt=alpha_frame.format.name)
        else:
            row["alpha"] = int(bool(_ALPHA_PIX.match(row["pix_fmt"] or "")))
        if row["frame_count"] == 0 and row["status"] == "ok":
            row.update(status="error", reason="no video frames in the file")
    return tags


def _tag_rotation(vs) -> int:
    # Older FFmpeg builds exposed the display matrix as a 'rotate' tag; PyAV 18 does not expose
    # the stream's coded side data for reading, so the decoded frame is the main source.
    try:
        return int(float(vs.metadata.get("rotate", 0))) % 360
    except ValueError:
        return 0


def _index_timing(c, vs) -> dict | None:
    """MP4/MOV list every sample with its keyframe flag in the index: no packet reading at all.
    Other containers (Matroska cues, fragmented MP4) index only some frames: demux instead."""
    entries = vs.index_entries
    n = len(entries)
    if not n or vs.frames != n or "mp4" not in c.format.name:
        return None
    keys = 0
    stamps = []
    for e in entries:
        keys += e.is_keyframe
        stamps.append(e.timestamp)  # DTS: its steps are the frame durations
    return {"frames": n, "keys": keys, "stamps": stamps}


def _demux_timing(c, vs, first: "_FirstFrame") -> dict:
    """One pass over the video packets (no decoding, except the first frame on the way)."""
    frames = keys = 0
    stamps = []
    end = None
    error = None
    try:
        for pkt in c.demux(vs):
            if pkt.size == 0:
                continue  # flush packet
            frames += 1
            keys += pkt.is_keyframe
            if pkt.pts is not None:
                stamps.append(pkt.pts)
                if pkt.duration:
                    end = max(end or 0, pkt.pts + pkt.duration)
            first.feed(pkt)
    except Exception as e:  # a damaged tail: keep what was read, say where it stopped
        import av
        if not isinstance(e, av.error.FFmpegError):
            raise
        error = f"reading stopped after {frames} frame(s): {e.strerror or e}"
    first.finish()
    return {"frames": frames, "keys": keys, "stamps": sorted(stamps), "end": end, "error": error}


class _FirstFrame:
    """Decodes packets until the first frame comes out (and the first libvpx frame for VP8/VP9
    with alpha), then stops decoding; errors are kept, not raised."""

    def __init__(self, vs, alpha_decoder: str | None):
        import av
        self.vs = vs
        self.frame = None
        self.alpha_frame = None
        self.error = None
        self.alpha_dec = None
        if alpha_decoder:
            try:
                self.alpha_dec = av.CodecContext.create(alpha_decoder, "r")
            except (av.error.FFmpegError, ValueError):  # a build without libvpx: alpha unknown, 0
                pass
        self.budget = 64  # packets: a stream that yields nothing by then is not decodable

    def feed(self, pkt) -> None:
        if self.done:
            return
        self.budget -= 1
        try:
            if self.frame is None:
                out = self.vs.decode(pkt)
                if not out and pkt.is_keyframe:
                    # A keyframe decodes alone: drain it now rather than feed the frames a B-frame
                    # reorder delay holds it back for (1 decode instead of 3: 0.15 ms less a bench
                    # clip, 1.3 ms less a realdata one). If it gave nothing, reset and go on.
                    try:
                        out = self.vs.decode(None)
                    finally:
                        if not out:
                            self.vs.codec_context.flush_buffers()
                if out:
                    self.frame = out[0]
            if self.alpha_dec is not None and self.alpha_frame is None:
                out = self.alpha_dec.decode(pkt)
                if out:
                    self.alpha_frame = out[0]
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"

    @property
    def done(self) -> bool:
        return self.budget <= 0 or (self.frame is not None
                                    and (self.alpha_dec is None or self.alpha_frame is not None))

    def run(self, c) -> None:
        """Decode from the start of a container nothing was read from yet."""
        for pkt in c.demux(self.vs):
            if pkt.size:
                self.feed(pkt)
                if self.done:
                    break
        self.finish()

    def finish(self) -> None:
        if self.frame is None and self.budget > 0:
            try:  # drain: short streams (1 frame) may only emit on flush
                out = self.vs.decode(None)
                self.frame = out[0] if out else None
            except Exception as e:
                self.error = self.error or f"{type(e).__name__}: {e}"
        if self.alpha_dec is not None and self.alpha_frame is None:
            try:
                out = self.alpha_dec.decode(None)
                self.alpha_frame = out[0] if out else None
            except Exception:
                pass


def _fill_timing(vs, c, row, t) -> None:
    tb = vs.time_base or Fraction(1, 1)
    frames, stamps = t["frames"], t["stamps"]
    row["frame_count"] = frames or (vs.frames or 0)
    row["keyframe_count"] = t["keys"]
    row["keyframe_interval"] = round(frames / t["keys"], 3) if t["keys"] else None
    deltas = [b - a for a, b in zip(stamps, stamps[1:]) if b > a]
    vfr = False
    if len(deltas) >= 2:
        lo, hi = min(deltas), max(deltas)
        med = sorted(deltas)[len(deltas) // 2]
        # Coarse time bases (1/1000 in WebM) round 30 fps to 33/34 ticks: allow 2 ticks of jitter.
        vfr = (hi - lo) > max(2, 0.01 * med)
    row["vfr"] = int(vfr)
    duration = None
    if vs.duration:
        duration = float(vs.duration * tb)
    elif c.duration:
        duration = c.duration / 1_000_000
    elif stamps:
        end = t.get("end") or (stamps[-1] + (deltas[-1] if deltas else 0))
        duration = float((end - stamps[0]) * tb)
    row["duration"] = round(duration, 6) if duration else None
    fps = None
    if not vfr:
        fps = _f(vs.average_rate) or _f(vs.guessed_rate)
    if fps is None and duration and frames:
        fps = frames / duration
    row["fps"] = round(fps, 6) if fps else None


def _gif_has_transparency(path: Path) -> bool:
    """Walk the GIF blocks (no decoding). FFmpeg always decodes GIF as bgra, so the pixel format
    says nothing. Encoders mark later frames transparent just to keep the previous frame's pixels
    (delta frames, disposal 0/1): that composes to opaque. Real transparency is a transparent
    first frame, or a frame that restores to background (disposal 2) with a transparent index."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"GIF" or len(data) < 13:
        return False
    pos = 13
    flags = data[10]
    if flags & 0x80:
        pos += 3 * (2 << (flags & 7))
    n = len(data)
    first_image = True
    while pos < n:
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            label = data[pos + 1] if pos + 1 < n else 0
            if label == 0xF9 and pos + 3 < n:
                packed = data[pos + 3]
                if packed & 1 and (first_image or (packed >> 2) & 7 == 2):
                    return True
            pos += 2
        elif block == 0x2C:  # image descriptor (+ local colour table), LZW code size, sub-blocks
            if pos + 10 > n:
                break
            first_image = False
            lflags = data[pos + 9]
            pos += 10
            if lflags & 0x80:
                pos += 3 * (2 << (lflags & 7))
            pos += 1
        else:
            break
        while pos < n and data[pos]:
            pos += data[pos] + 1
        pos += 1
    return False


# -- images -----------------------------------------------------------------------------------

def _probe_image(path: Path, row: dict) -> None:
    """Header-only facts via Pillow (no pixel decode)."""
    from PIL import Image
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except Image.DecompressionBombError as e:
            row.update(status="error", reason=f"image too large to decode safely ({e})")
            return
        except Exception as e:
            what = sniff(path)
            if what == "text":
                reason = "this is a text file, not an image"
            elif what in ("MP4/MOV", "Matroska/WebM", "WAV audio", "AVI video"):
                reason = f"the file holds {what} data, not an image"
            else:
                reason = f"not a readable image ({type(e).__name__}: {e})"
            row.update(status="error", reason=reason)
            return
    if any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught):
        row["reason"] = (f"very large image ({im.width}x{im.height} pixels, over Pillow's decoding "
                         "limit): previews may refuse it")
    with im:
        row.update(container=(im.format or "").lower() or None, width=im.width, height=im.height,
                   mode=im.mode)
        ext = path.suffix.lower().lstrip(".")
        if row["container"] and ext not in (row["container"], "jpg" if row["container"] == "jpeg" else ""):
            row["reason"] = f"{im.format} data in a .{ext} file"
        row["codec"] = row["container"]
        try:
            n = int(getattr(im, "n_frames", 1) or 1)
        except Exception:
            n = 1
        row["animated_frames"] = n
        row["frame_count"] = n
        row["alpha"] = int(im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info)
        if n > 1 and im.info.get("duration"):
            row["fps"] = round(1000.0 / float(im.info["duration"]), 6)


# -- store ------------------------------------------------------------------------------------

def _row_dict(cur, r) -> dict:
    return dict(zip([d[0] for d in cur.description], r))


def facts(conn, rel: str) -> dict | None:
    """The stored probe row of a project-relative path, or None when never probed."""
    cur = conn.execute("SELECT * FROM fast_media WHERE path = ?", (rel,))
    r = cur.fetchone()
    return _row_dict(cur, r) if r else None


def facts_of(conn, rels: list[str]) -> dict[str, dict]:
    """{rel: stored probe row} of the paths that have one (one query per 500 paths)."""
    out = {}
    for i in range(0, len(rels), 500):
        part = rels[i:i + 500]
        cur = conn.execute(f"SELECT * FROM fast_media WHERE path IN ({','.join('?' * len(part))})", part)
        out.update((r["path"], r) for r in (_row_dict(cur, x) for x in cur.fetchall()))
    return out


def find_by_fingerprint(conn, fp: str) -> list[str]:
    """Paths of probed files with this content fingerprint (to relink a moved file)."""
    return [r[0] for r in conn.execute("SELECT path FROM fast_media WHERE fingerprint = ?", (fp,))]


def _stat(path: Path):
    try:
        return path.stat()
    except OSError:
        return None


def _is_current(row: dict | None, st) -> bool:
    return bool(row and st and row["size"] == st.st_size and row["mtime_ns"] == st.st_mtime_ns
                and (row.get("probe_version") or 0) >= PROBE_VERSION and row["status"] != "missing")


def store_row(conn, row: dict) -> None:
    cols = ", ".join(COLUMNS)
    conn.execute(f"INSERT OR REPLACE INTO fast_media({cols}) VALUES ({', '.join('?' * len(COLUMNS))})",
                 [row.get(c) for c in COLUMNS])


def ensure_probed(project, rel_paths: Iterable[str], force: bool = False, *,
                  tags_out: dict | None = None, probed: dict | None = None) -> list[dict]:
    """Probe the files that are new or changed (size/mtime) and store their rows; returns one row
    per path, in order. A file that vanished keeps its old facts (and fingerprint, for relinking)
    with status 'missing'. `tags_out`, when given, receives {rel: container tags} of the files
    probed now (see media/ingest.py). `probed` {rel: (row, tags)}: results already made (by the
    probe workers of media/probe_pool.py) for files that need probing."""
    conn = project.conn
    out: list[dict] = []
    pending: list[dict] = []
    for rel in rel_paths:
        if probed and rel in probed:   # probed just now, from the path ingest checked
            row, tags = probed[rel]
            row["path"] = rel
            if tags_out is not None:
                tags_out[rel] = tags
            out.append(row)
            pending.append(row)
            continue
        try:
            path = project.layout.read_path(rel)  # issue 14: nothing outside the project is probed
        except OutsideProject as e:
            if isinstance(rel, str):
                row = dict(_empty_row(Path(rel), media_kind(Path(rel))), path=rel, status="error",
                           reason=f"outside the project ({e.reason})", probed_at=utc_now())
                out.append(row)
                pending.append(row)
            continue
        old = facts(conn, rel)
        st = _stat(path)
        if not force and _is_current(old, st):
            out.append(old)
            continue
        if st is None and old:
            row = dict(old, status="missing", reason="file not found", probed_at=utc_now())
        else:
            row, tags = _probe(path)
            row["path"] = rel
            if tags_out is not None:
                tags_out[rel] = tags
        out.append(row)
        pending.append(row)
    if pending and not project.readonly:
        with transaction(project.db):
            for row in pending:
                store_row(conn, row)
        bad = [r for r in pending if r["status"] == "error"]
        for r in bad:
            project.log.warning("media problem: %s: %s", r["path"], r["reason"])
    return out


def probe_all(project, force: bool = False, progress=None) -> list[dict]:
    """Probe every take and asset file of the project (new or changed ones only)."""
    rels = [r[0] for r in project.conn.execute(
        "SELECT file_path FROM takes WHERE file_path IS NOT NULL AND file_path != '' "
        "UNION SELECT file_path FROM assets WHERE file_path IS NOT NULL AND file_path != ''")]
    out = []
    step = 32
    for i in range(0, len(rels), step):
        out += ensure_probed(project, rels[i:i + step], force=force)
        if progress:
            progress(min(i + step, len(rels)), len(rels))
    return out

