"""Generation metadata ("the recipe") embedded in media files: read, summarise, store in fast_gen.

Where each generator puts it (docs/metadata.md has the user-facing table):
- PNG text chunks (tEXt/zTXt/iTXt): ComfyUI `prompt` (API graph JSON) + `workflow` (UI graph JSON);
  A1111/Forge `parameters` (infotext); Fooocus `parameters` (JSON) + `fooocus_scheme`;
  InvokeAI `invokeai_metadata` (JSON; 2.x `sd-metadata`); NovelAI Description/Comment/Source.
- WebP EXIF: ComfyUI writes `workflow:{json}` into 0x010F (Make) and `prompt:{json}` into 0x0110
  (Model); A1111 writes infotext into UserComment.
- JPEG EXIF UserComment (A1111, Fooocus), with its 8-byte charset prefix (UNICODE/ASCII/JIS).
- MP4/MKV/WebM container tags: VideoHelperSuite writes `comment` = JSON {"prompt": "<JSON text>",
  "workflow": {...}} (the prompt is JSON encoded twice); ComfyUI's own SaveVideo writes `prompt`
  and `workflow` tags.

Safety: everything is parsed as data (json, never eval/pickle); pixels are never decoded here;
each text is capped at png_chunks.MAX_TEXT_CHUNK (16 MiB), EXIF blocks and video tags too.
"""
from __future__ import annotations

import json
import logging
import struct
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import orjson

from aimms_fast.errors import OutsideProject
from aimms_fast.media import genmeta_apps as apps
from aimms_fast.media import genmeta_comfy as comfy
from aimms_fast.media import png_chunks
from aimms_fast.store.db import transaction, utc_now

log = logging.getLogger(__name__)

READ_VERSION = 1
MAX_TEXT = png_chunks.MAX_TEXT_CHUNK
MAX_JSON_DEPTH = 3  # VideoHelperSuite encodes the prompt twice; allow one more layer, no more

GEN_COLUMNS = ("path", "size", "mtime_ns", "source", "positive", "negative", "seed", "steps", "cfg",
               "guidance", "denoise", "sampler", "scheduler", "model", "loras_json", "width", "height",
               "inputs_json", "raw_z", "error", "read_version", "read_at")


@dataclass
class GenSummary:
    """What made a file. `source` names the generator format; `raw` keeps every metadata text
    exactly as found (key -> text); `samplers` lists each sampling pass of a ComfyUI graph."""
    source: str
    positive: str | None = None
    negative: str | None = None
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    guidance: float | None = None
    denoise: float | None = None
    sampler: str | None = None
    scheduler: str | None = None
    model: str | None = None
    loras: list[dict] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    inputs: list[str] = field(default_factory=list)
    samplers: list[dict] = field(default_factory=list)
    app: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)

    def to_dict(self, *, raw: bool = True) -> dict:
        d = asdict(self)
        if not raw:
            d["raw"] = sorted(self.raw)
        return d


# -- reading the containers -----------------------------------------------------------------------

def _kind(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(png_chunks.SIGNATURE):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"\xff\xd8":
        return "jpeg"
    if head[:4] == b"GIF8":
        return "gif"
    if not head:
        return "empty"
    if head.lstrip()[:1] in (b"{", b"[") and path.suffix.lower() == ".json":
        return "json"
    return "video"


def read_raw(path: str | Path, *, tags: dict | None = None) -> tuple[dict[str, str], list[str]]:
    """Every metadata text of a file that could describe its generation: ({key: text}, warnings).
    `tags` are container tags a caller already read (probe), to avoid opening a video twice."""
    path = Path(path)
    warnings: list[str] = []
    kind = _kind(path)
    raw: dict[str, str] = {}
    if kind == "png":
        s = png_chunks.read_text(path)
        raw.update(s.text)
        warnings += s.warnings
        if s.exif:
            raw.update({k: v for k, v in _exif_texts(s.exif, warnings).items() if k not in raw})
    elif kind == "webp":
        exif = _riff_chunk(path, b"EXIF", warnings)
        if exif:
            raw.update(_exif_texts(exif, warnings))
    elif kind == "jpeg":
        exif, comment = _jpeg_segments(path, warnings)
        if exif:
            raw.update(_exif_texts(exif, warnings))
        if comment and "parameters" not in raw and apps.looks_like_a1111(comment):
            raw["parameters"] = comment
    elif kind == "video":
        raw.update(_video_texts(path, tags, warnings))
    elif kind == "json":  # a saved ComfyUI workflow (UI format) or API prompt
        if path.stat().st_size > MAX_TEXT:
            warnings.append(f"JSON file larger than {MAX_TEXT} bytes refused")
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
            data, _ = loads_json(text)
            raw["prompt" if comfy.is_graph(data) else "workflow"] = text
    return raw, warnings


def _riff_chunk(path: Path, fourcc: bytes, warnings: list) -> bytes | None:
    with open(path, "rb") as f:
        head = f.read(12)
        end = 8 + struct.unpack("<I", head[4:8])[0]
        pos = 12
        while pos + 8 <= end:
            f.seek(pos)
            h = f.read(8)
            if len(h) < 8:
                break
            cc, size = h[:4], struct.unpack("<I", h[4:])[0]
            if cc == fourcc:
                if size > MAX_TEXT:
                    warnings.append(f"{fourcc.decode()} chunk of {size} bytes refused (limit {MAX_TEXT})")
                    return None
                return f.read(size)
            pos += 8 + size + (size & 1)
    return None


def _jpeg_segments(path: Path, warnings: list) -> tuple[bytes | None, str | None]:
    """(EXIF APP1 payload, COM text) from the markers before the image data (no decoding)."""
    exif = comment = None
    with open(path, "rb") as f:
        if f.read(2) != b"\xff\xd8":
            return None, None
        while True:
            b = f.read(1)
            if not b:
                break
            if b != b"\xff":
                continue
            marker = f.read(1)
            while marker == b"\xff":
                marker = f.read(1)
            if not marker or marker == b"\xda" or marker == b"\xd9":  # start of scan / end
                break
            if marker[0] in range(0xD0, 0xD8) or marker == b"\x01":
                continue
            size_b = f.read(2)
            if len(size_b) < 2:
                break
            size = struct.unpack(">H", size_b)[0] - 2
            if size < 0:
                break
            if marker == b"\xe1" and exif is None:
                data = f.read(size)
                if data.startswith(b"Exif\0\0"):
                    exif = data[6:]
            elif marker == b"\xfe" and comment is None:
                comment = f.read(size).decode("utf-8", errors="replace")
            else:
                f.seek(size, 1)
    return exif, comment


def decode_user_comment(data: bytes) -> str:
    """EXIF UserComment: an 8-byte charset prefix then the text. A1111 writes UNICODE as UTF-16
    in the byte order of its choice (big-endian in practice): guess it from where the zero bytes
    of ASCII characters fall."""
    if isinstance(data, str):
        return data
    prefix, body = data[:8], data[8:]
    if prefix.startswith(b"UNICODE"):
        if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
            return body.decode("utf-16")
        even_zeros = body[0::2].count(0)
        odd_zeros = body[1::2].count(0)
        return body.decode("utf-16-be" if even_zeros >= odd_zeros else "utf-16-le", errors="replace")
    if prefix.startswith(b"ASCII"):
        return body.decode("ascii", errors="replace").rstrip("\0")
    if prefix.startswith(b"JIS"):
        return body.decode("shift_jis", errors="replace").rstrip("\0")
    return (body if prefix == b"\0" * 8 else data).decode("utf-8", errors="replace").rstrip("\0")


def _exif_texts(exif: bytes, warnings: list) -> dict[str, str]:
    """ComfyUI `key:{json}` strings in IFD0 tags (0x010F Make, 0x0110 Model, and the tags below
    them for extra keys) and the UserComment (as `parameters`)."""
    from PIL import Image
    out: dict[str, str] = {}
    if len(exif) > MAX_TEXT:
        warnings.append(f"EXIF block of {len(exif)} bytes refused (limit {MAX_TEXT})")
        return out
    try:
        ex = Image.Exif()
        ex.load(exif if exif.startswith(b"Exif\0\0") else b"Exif\0\0" + exif)
    except Exception as e:
        warnings.append(f"EXIF unreadable ({type(e).__name__}: {e})")
        return out
    for tag, v in ex.items():
        if isinstance(v, bytes):
            v = v.decode("utf-8", errors="replace")
        if isinstance(v, str) and 0x0100 <= tag <= 0x0132:
            key, sep, rest = v.partition(":")
            if sep and key.isidentifier() and rest.lstrip()[:1] in ("{", "["):
                out[key] = rest.rstrip("\0")
    try:
        uc = ex.get_ifd(0x8769).get(0x9286)
    except Exception:
        uc = None
    if uc:
        text = decode_user_comment(uc).strip("\0").strip()
        if text:
            out.setdefault("parameters", text)
    return out


def _video_texts(path: Path, tags: dict | None, warnings: list) -> dict[str, str]:
    if tags is None:
        import av
        try:
            with av.open(str(path), metadata_errors="ignore") as c:
                tags = dict(c.metadata)
        except Exception as e:
            warnings.append(f"cannot open as video ({type(e).__name__}: {e})")
            return {}
    out: dict[str, str] = {}
    lower = {k.lower(): v for k, v in tags.items() if not k.startswith("stream:")}
    for key in ("prompt", "workflow"):
        v = lower.get(key)
        if isinstance(v, str) and v:
            out[key] = v
    comment = lower.get("comment")
    if isinstance(comment, str) and comment:
        if len(comment) > MAX_TEXT:
            warnings.append(f"comment tag of {len(comment)} bytes refused (limit {MAX_TEXT})")
        else:
            out.setdefault("comment", comment)
            data = loads_json(comment)[0]
            if isinstance(data, dict):  # VideoHelperSuite: {"prompt": "<json text>", "workflow": {...}}
                for k, v in data.items():
                    if k not in out and isinstance(k, str):
                        out[k] = v if isinstance(v, str) else json.dumps(v)
    return out


# -- summarising ----------------------------------------------------------------------------------

def loads_json(text) -> tuple[object, str | None]:
    """json.loads, unwrapping JSON-encoded-as-string layers (VHS); (value, error)."""
    value = text
    for _ in range(MAX_JSON_DEPTH):
        if not isinstance(value, str):
            break
        s = value.strip()
        if not s or s[0] not in "{[\"":
            break
        try:
            value = json.loads(s)
        except (ValueError, RecursionError) as e:
            return None, _json_error(e)
    return value, None


def _json_error(e) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"line {e.lineno}, column {e.colno}: {e.msg}"
    return str(e)


def summarize_raw(raw: dict[str, str], warnings: list[str] | None = None) -> GenSummary | None:
    """The summary of a file's metadata texts, or None when none of them is generation data."""
    warnings = list(warnings or [])
    fields = None
    source = None
    errors: list[str] = []
    if "prompt" in raw or "workflow" in raw:
        prompt, perr = loads_json(raw.get("prompt")) if "prompt" in raw else (None, None)
        if perr:
            errors.append(f"ComfyUI 'prompt' is not valid JSON ({perr})")
        if comfy.is_graph(prompt):
            fields, source = comfy.summarize(prompt), "comfyui"
        else:
            wf, werr = loads_json(raw.get("workflow")) if "workflow" in raw else (None, None)
            if werr:
                errors.append(f"ComfyUI 'workflow' is not valid JSON ({werr})")
            if isinstance(wf, dict) and isinstance(wf.get("nodes"), list):
                graph = comfy.workflow_to_prompt(wf)
                if graph:
                    fields, source = comfy.summarize(graph), "comfyui-workflow"
            if fields is None and isinstance(prompt, str) and not perr and "prompt" in raw:
                fields, source = {"positive": prompt}, "text"
    for key, parse, what in (("invokeai_metadata", apps.parse_invokeai, "metadata"),
                             ("sd-metadata", apps.parse_invokeai_legacy, "sd-metadata")):
        if fields is None and key in raw:
            data, err = loads_json(raw[key])
            if isinstance(data, dict):
                fields, source = parse(data), "invokeai"
            else:
                errors.append(f"InvokeAI {what} is not valid JSON ({err or 'not an object'})")
    if fields is None and "parameters" in raw:
        text = raw["parameters"]
        if text.lstrip().startswith("{"):
            data, err = loads_json(text)
            if apps.is_fooocus(data):
                fields, source = apps.parse_fooocus(data), "fooocus"
            elif err:
                errors.append(f"'parameters' is not valid JSON ({err})")
        elif text.strip():
            fields = apps.parse_a1111(text)
            source = "forge" if str(fields.get("app") or "").startswith("f") else "a1111"
            if raw.get("fooocus_scheme") == "a1111":
                source = "fooocus"
    if fields is None and (raw.get("Software") == "NovelAI" or "Comment" in raw and "Description" in raw):
        data, err = loads_json(raw.get("Comment", "{}"))
        if isinstance(data, dict):
            fields, source = apps.parse_novelai(raw, data), "novelai"
        else:
            errors.append(f"NovelAI Comment is not valid JSON ({err or 'not an object'})")
    if fields is None:
        if not errors:
            return None
        return GenSummary(source="error", error="; ".join(errors), warnings=warnings, raw=dict(raw))
    fields = dict(fields)
    fields.pop("params", None)
    known = GenSummary.__dataclass_fields__
    g = GenSummary(source=source, raw=dict(raw), warnings=warnings + errors,
                   **{k: v for k, v in fields.items() if k in known and k not in ("source", "raw")})
    g.loras = g.loras or []
    g.inputs = g.inputs or []
    _sanitize(g)
    return g


def _sanitize(g: GenSummary) -> None:
    """Metadata is untrusted: a list where text belongs, or numbers no generator writes (a
    100-digit step count) would break SQLite or JSON writers downstream. Texts are coerced to
    text; out-of-range numbers are dropped with a warning."""
    for name in ("positive", "negative", "sampler", "scheduler", "model", "app"):
        v = getattr(g, name)
        if v is not None and not isinstance(v, str):
            setattr(g, name, "\n".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v))
    g.inputs = [str(x) for x in g.inputs if x is not None]
    g.loras = [dict(lo, name=str(lo.get("name"))) for lo in g.loras if isinstance(lo, dict)]
    limits = {"seed": (-2**63, 2**64 - 1), "steps": (0, 2**31 - 1), "width": (0, 2**31 - 1),
              "height": (0, 2**31 - 1)}
    for name, (lo, hi) in limits.items():
        v = getattr(g, name)
        if v is not None and (not isinstance(v, int) or not lo <= v <= hi):
            g.warnings.append(f"{name} {str(v)[:40]!r} is out of range: ignored")
            setattr(g, name, None)
    for name in ("cfg", "guidance", "denoise"):
        v = getattr(g, name)
        if v is not None and (not isinstance(v, (int, float)) or v != v or abs(v) > 1e9):
            g.warnings.append(f"{name} {str(v)[:40]!r} is out of range: ignored")
            setattr(g, name, None)


def read_generation(abs_path: str | Path, *, tags: dict | None = None) -> GenSummary | None:
    """The generation summary of one file, or None when it carries none (or is empty/unreadable
    as media). Never raises for a bad file: unreadable metadata gives source 'error'."""
    path = Path(abs_path)
    try:
        if path.stat().st_size == 0:
            return None
        raw, warnings = read_raw(path, tags=tags)
    except OSError as e:
        return GenSummary(source="error", error=f"cannot read file ({e.strerror or e})")
    except Exception as e:
        log.debug("metadata read failed for %s", path, exc_info=True)
        return GenSummary(source="error", error=f"{type(e).__name__}: {e}")
    if not raw:
        return None
    try:
        return summarize_raw(raw, warnings)
    except Exception as e:  # a graph shape nobody anticipated: keep the raw text, say so
        log.debug("metadata summary failed for %s", path, exc_info=True)
        return GenSummary(source="error", error=f"cannot summarise metadata ({type(e).__name__}: {e})",
                          raw=raw, warnings=warnings)


# -- store ---------------------------------------------------------------------------------------

def gen_row(rel: str, g: GenSummary | None, size: int | None, mtime_ns: int | None) -> dict:
    row = dict.fromkeys(GEN_COLUMNS)
    row.update(path=rel, size=size, mtime_ns=mtime_ns, read_version=READ_VERSION, read_at=utc_now(),
               source="none")
    if g is None:
        return row
    row.update(source=g.source, positive=g.positive, negative=g.negative,
               seed=str(g.seed) if g.seed is not None else None, steps=g.steps, cfg=g.cfg,
               guidance=g.guidance, denoise=g.denoise, sampler=g.sampler, scheduler=g.scheduler,
               model=g.model, loras_json=json.dumps(g.loras) if g.loras else None,
               width=g.width, height=g.height, inputs_json=json.dumps(g.inputs) if g.inputs else None,
               raw_z=getattr(g, "raw_z", None) or pack_raw(g.raw),   # probe workers pack it (probe_pool)
               error=g.error or ("; ".join(g.warnings) if g.warnings else None))
    return row


def pack_raw(raw: dict | None) -> bytes | None:
    """The raw metadata texts, zlib-compressed: workflow JSON is ~10 KB a file and compresses
    ~5x, which keeps shots.db small at 21K takes (uncompressed it was a third of the database).
    orjson + level 3: 0.037 ms a file against 0.108 ms for json + level 6, for 9 % more bytes
    (1,590 against 1,461 on the bench's workflows); stored_raw reads either."""
    return zlib.compress(orjson.dumps(raw), 3) if raw else None


def stored_raw(conn, rel: str) -> dict | None:
    """The raw metadata texts (key -> text) kept for a file, or None."""
    r = conn.execute("SELECT raw_z FROM fast_gen WHERE path = ?", (rel,)).fetchone()
    return json.loads(zlib.decompress(r[0])) if r and r[0] else None


def stored(conn, rel: str) -> dict | None:
    cur = conn.execute("SELECT * FROM fast_gen WHERE path = ?", (rel,))
    r = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], r)) if r else None


def ensure_gen(project, rel_paths: Iterable[str], *, force: bool = False,
               tags: dict[str, dict] | None = None, read: dict | None = None) -> list[dict]:
    """Read and store the generation metadata of new or changed files (fast_gen rows, and their
    search entries); returns one row per path. `tags` maps paths to container tags already read;
    `read` maps paths to (GenSummary or None, size, mtime_ns) read just now, from a checked path
    (media/probe_pool.py): stored as they are."""
    from aimms_fast.store import search
    conn = project.conn
    out, pending = [], []
    for rel in rel_paths:
        if read is not None and rel in read:
            row = gen_row(rel, *read[rel])
            out.append(row)
            pending.append(row)
            continue
        old = stored(conn, rel)
        try:
            path = project.layout.read_path(rel)  # issue 14: nothing outside the project is read
            st = path.stat()
        except (OSError, OutsideProject):
            if old:
                out.append(old)
            continue
        if (not force and old and old["size"] == st.st_size and old["mtime_ns"] == st.st_mtime_ns
                and (old["read_version"] or 0) >= READ_VERSION):
            out.append(old)
            continue
        g = read_generation(path, tags=(tags or {}).get(rel))
        row = gen_row(rel, g, st.st_size, st.st_mtime_ns)
        out.append(row)
        pending.append(row)
    if pending and not project.readonly:
        cols = ", ".join(GEN_COLUMNS)
        with transaction(project.db):
            conn.executemany(f"INSERT OR REPLACE INTO fast_gen({cols}) VALUES ({', '.join('?' * len(GEN_COLUMNS))})",
                             [[r[c] for c in GEN_COLUMNS] for r in pending])
            search.sync_gen(conn, [r["path"] for r in pending])
        for r in pending:
            if r["source"] == "error":
                project.log.warning("metadata problem: %s: %s", r["path"], r["error"])
    return out
