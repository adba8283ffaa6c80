"""Read an edited timeline back: the editor's changes as a diff the user applies or rejects.

An `.otio`, FCP 7 `.xml`, `.fcpxml`, `.edl` (read by OpenTimelineIO's adapters) or `.kdenlive`/
`.mlt` (our reader below) is read into clips; each clip is matched to a take by its file (project
path, or a handoff copy through the export manifest beside it), else by the take id our export
stored in its metadata. Against the project that gives three kinds of proposal:

- order: the shots' new order. Shots the edit does not contain keep their places; the edit's shots
  fill the places they held, in the edit's order (applying renumbers order_number 1..N, as every
  reorder does);
- star: a clip uses a different take of its shot than the starred one;
- trim: a clip's in/out differs from the take's current range (stored trim, else the whole file);
  stored per take in fast_take_trims (stills: the hold duration).

Nothing changes until `apply_edit`, which writes every proposal in one transaction through ops
(ops.shots.reorder, ops.takes.star_take) and refuses a diff the project has moved past.
Any thread; `apply_edit` needs the writer connection (the UI runs it as a job).
"""
from __future__ import annotations

import csv
import json
import re
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from aimms_fast.errors import AimmsError, OutsideProject
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import export as q
from aimms_fast.store.db import transaction
from aimms_fast.store.takes import starred_take

READERS = {".otio": "otio_json", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml", ".edl": "cmx_3600",
           ".kdenlive": "mlt", ".mlt": "mlt"}


@dataclass
class EditClip:
    """One clip as the edit has it (times in seconds)."""
    name: str
    path: Path | None
    in_s: float
    duration_s: float
    rate: float
    take_hint: str | None = None    # take id our export stored in the clip's metadata


@dataclass
class ShotMove:
    shot_id: int
    shot_name: str
    old_position: int   # 1-based places in story order
    new_position: int


@dataclass
class OrderChange:
    moves: list[ShotMove]
    new_order: list[int]   # every shot id, in the proposed order


@dataclass
class StarChange:
    shot_id: int
    shot_name: str
    old_take_id: str | None
    old_take_number: int | None
    new_take_id: str
    new_take_number: int | None


@dataclass
class TrimChange:
    take_id: str
    shot_id: int
    shot_name: str
    take_number: int | None
    old_in_s: float
    old_out_s: float
    new_in_s: float
    new_out_s: float
    clear: bool = False   # the edit uses the whole file again: drop the stored trim


@dataclass
class EditDiff:
    source: Path
    format: str
    storyboard: str
    fps: float
    clips_read: int
    order: OrderChange | None = None
    stars: list[StarChange] = field(default_factory=list)
    trims: list[TrimChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = [("order", self.order)] if self.order else []
        out += [("star", s) for s in self.stars] + [("trim", t) for t in self.trims]
        return out

    @property
    def empty(self) -> bool:
        return not self.changes

    def to_dict(self) -> dict:
        return {"source": str(self.source), "format": self.format, "storyboard": self.storyboard,
                "fps": self.fps, "clips_read": self.clips_read,
                "order": asdict(self.order) if self.order else None,
                "stars": [asdict(s) for s in self.stars], "trims": [asdict(t) for t in self.trims],
                "notes": list(self.notes), "changes": len(self.changes)}

    def to_text(self) -> str:
        """The diff as a reader sees it: `-` what is, `+` what the edit proposes."""
        lines = [f"edit {self.source.name} ({self.format}, {self.clips_read} clips, {self.storyboard} storyboard): "
                 f"{len(self.changes)} proposed change(s)"]
        if self.order:
            lines.append(f"order: {len(self.order.moves)} shot(s) move")
            for m in self.order.moves:
                lines.append(f"  - #{m.old_position} {m.shot_name}")
                lines.append(f"  + #{m.new_position} {m.shot_name}")
        for s in self.stars:
            lines.append(f"take: {s.shot_name}")
            lines.append(f"  - take {s.old_take_number if s.old_take_id else '(none starred)'}")
            lines.append(f"  + take {s.new_take_number}")
        for t in self.trims:
            lines.append(f"trim: {t.shot_name} take {t.take_number}")
            lines.append(f"  - {t.old_in_s:.3f}-{t.old_out_s:.3f} s")
            lines.append(f"  + {t.new_in_s:.3f}-{t.new_out_s:.3f} s" + (" (whole file)" if t.clear else ""))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# -- reading ---------------------------------------------------------------------------------
def _url_path(url: str | None) -> Path | None:
    if not url:
        return None
    if url.startswith("file:"):
        p = urllib.parse.urlparse(url)
        path = urllib.parse.unquote(p.path)
        if re.match(r"^/[A-Za-z]:/", path):   # file:///C:/... on Windows
            path = path[1:]
        return Path(path)
    return Path(urllib.parse.unquote(url)) if "://" not in url else None


def _hint_from_meta(md: dict) -> str | None:
    a = md.get("aimms") or {}
    if isinstance(a, dict) and a.get("take_id"):
        return str(a["take_id"])
    comments = (md.get("fcp_xml") or {}).get("comments") or {}
    m = re.search(r"take_id=([0-9A-Za-z-]+)", str(comments.get("mastercomment4") or ""))
    if m:
        return m.group(1)
    for d in (md.get("fcpx") or {}).get("metadata") or []:   # the FCPXML adapter: [{key: value}, ...]
        if isinstance(d, dict) and d.get("aimms.take_id"):
            return d["aimms.take_id"]
    return None


def read_otio_clips(path: Path, adapter: str) -> tuple[list[EditClip], float, dict]:
    import opentimelineio as otio
    try:
        kw = {"rate": 24} if adapter == "cmx_3600" else {}
        tl = otio.adapters.read_from_file(str(path), adapter_name=adapter, **kw)
    except Exception as e:   # adapters raise many types on malformed input
        raise AimmsError(f"cannot read this timeline: {e}", path=path,
                         hint="export it again from the editor as .otio, FCP 7 XML, FCPXML or .kdenlive") from e
    if not isinstance(tl, otio.schema.Timeline):
        found = list(tl.find_children(descended_from_type=otio.schema.Timeline)) if hasattr(tl, "find_children") else []
        if not found:
            raise AimmsError("the file holds no timeline", path=path)
        tl = found[0]
    tracks = list(tl.video_tracks())
    if not tracks:
        raise AimmsError("the timeline has no video track", path=path)
    clips, rate = [], None
    for item in tracks[0]:
        if not isinstance(item, otio.schema.Clip):
            continue
        ref = item.media_reference
        if isinstance(ref, otio.schema.GeneratorReference):
            continue   # title cards / generators carry no take
        sr = item.source_range or item.available_range()
        r = sr.start_time.rate
        start = sr.start_time
        if isinstance(ref, otio.schema.ExternalReference) and ref.available_range is not None:
            start = start - ref.available_range.start_time.rescaled_to(r)
        rate = rate or r
        md = dict(item.metadata)
        if ref is not None:
            md.setdefault("fcpx", (ref.metadata or {}).get("fcpx") or {})
        clips.append(EditClip(name=item.name or "", path=_url_path(getattr(ref, "target_url", None)),
                              in_s=start.to_seconds(), duration_s=sr.duration.to_seconds(), rate=r,
                              take_hint=_hint_from_meta(md)))
    meta = dict(tl.metadata.get("aimms") or {})
    return clips, float(rate or meta.get("fps") or 24.0), meta


def _mlt_time(value: str | None, fps: float) -> int:
    """MLT times: frames ('72'), or clock time ('00:00:03.042' / '00:00:03:01' frames)."""
    v = (value or "0").strip()
    if ":" not in v:
        return int(float(v))
    parts = v.split(":")
    if len(parts) == 4:   # HH:MM:SS:FF
        h, m, s, f = (int(x) for x in parts)
        return int(round((h * 3600 + m * 60 + s) * fps)) + f
    h, m, s = parts[0], parts[1], parts[2]
    return int(round((int(h) * 3600 + int(m) * 60 + float(s)) * fps))


def read_mlt_clips(path: Path) -> tuple[list[EditClip], float, dict]:
    """Kdenlive/MLT XML: the first video track of the main tractor (Kdenlive nests each track in
    its own tractor of two playlists; older documents put playlists straight in the tractor)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        raise AimmsError(f"cannot read this Kdenlive/MLT file: {e}", path=path) from e
    if root.tag != "mlt":
        raise AimmsError("not an MLT document (the root element is not <mlt>)", path=path)
    prof = root.find("profile")
    fps = 25.0
    if prof is not None and prof.get("frame_rate_num"):
        fps = int(prof.get("frame_rate_num")) / int(prof.get("frame_rate_den") or 1)
    props = {}
    by_id: dict[str, ET.Element] = {}
    for el in root:
        if el.get("id"):
            by_id[el.get("id")] = el
    for el in list(by_id.values()):
        props[el.get("id")] = {p.get("name"): (p.text or "") for p in el.findall("property")}

    def playlists(eid: str, seen: set) -> list[ET.Element]:
        el = by_id.get(eid)
        if el is None or eid in seen:
            return []
        seen.add(eid)
        if el.tag == "playlist":
            return [el]
        if el.tag == "tractor":
            if props[eid].get("kdenlive:audio_track") == "1":
                return []
            out = []
            for t in el.findall("track"):
                out += playlists(t.get("producer"), seen)
            return out
        return []

    tractors = [e for e in root if e.tag == "tractor"]
    main = next((t for t in tractors if props.get(t.get("id"), {}).get("kdenlive:projectTractor") == "1"),
                tractors[-1] if tractors else None)
    if main is None:
        raise AimmsError("the MLT document has no tractor (no timeline)", path=path)
    meta = {k[6:]: v for k, v in props.get("main_bin", {}).items() if k.startswith("aimms:")}
    for pl in playlists(main.get("id"), set()):
        entries = pl.findall("entry")
        if not entries:
            continue
        clips = []
        for e in entries:
            pid = e.get("producer")
            p = props.get(pid, {})
            if p.get("mlt_service") in ("color", "colour", "kdenlivetitle", "qtext", "pango"):
                continue
            a, b = _mlt_time(e.get("in"), fps), _mlt_time(e.get("out"), fps)
            res = p.get("resource") or ""
            rp = Path(res) if res else None
            if rp is not None and not rp.is_absolute():
                rp = (path.parent / rp)
            clips.append(EditClip(name=p.get("kdenlive:clipname") or (rp.name if rp else pid), path=rp,
                                  in_s=a / fps, duration_s=(b - a + 1) / fps, rate=fps,
                                  take_hint=p.get("aimms:take_id") or None))
        # Kdenlive's first video track from the top is what the eye sees; tracks are listed bottom
        # up, but an exported cut has one track, and an edit that added tracks is noted below.
        return clips, fps, meta
    return [], fps, meta


def read_clips(path: str | Path) -> tuple[list[EditClip], float, str, dict]:
    path = Path(path)
    if not path.is_file():
        raise AimmsError("no such file", path=path, hint="give the edited timeline file")
    fmt = READERS.get(path.suffix.lower())
    if fmt is None:
        raise AimmsError(f"unknown timeline type {path.suffix!r}", path=path,
                         hint="read: " + ", ".join(sorted(READERS)))
    if fmt == "mlt":
        clips, fps, meta = read_mlt_clips(path)
    else:
        clips, fps, meta = read_otio_clips(path, fmt)
    return clips, fps, fmt, meta


# -- matching and the diff -------------------------------------------------------------------
def _manifest_take(path: Path, cache: dict) -> str | None:
    """A handoff copy: the export manifest beside it names the take."""
    folder = path.parent
    if folder not in cache:
        m = {}
        mf = folder / "aimms_export_manifest.csv"
        if mf.is_file():
            with open(mf, newline="", encoding="utf-8-sig") as f:
                for row in csv.DictReader(f):
                    m[row.get("file") or ""] = row.get("take_id") or ""
        cache[folder] = m
    return cache[folder].get(path.name) or None


def _fcpx_ntsc(path: Path) -> bool:
    """True when the FCPXML's formats have frame durations that are not 1/N s (NTSC rates)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return False
    for f in root.iter("format"):
        fd = (f.get("frameDuration") or "").rstrip("s")
        if "/" in fd and not fd.startswith("1/") and not fd.startswith("100/"):
            num, den = fd.split("/", 1)
            if int(den) % int(num):
                return True
    return False


def read_edit(project, file: str | Path, *, storyboard: str | None = None) -> EditDiff:
    """Read an edited timeline and compare it with the project. Changes nothing."""
    from aimms_fast.export.timeline import shot_duration_s
    file = Path(file)
    clips, fps, fmt, meta = read_clips(file)
    conn = project.conn
    notes: list[str] = []
    mcache: dict = {}
    by_path = {}
    rels = []
    for c in clips:
        rel = None
        if c.path is not None:
            try:
                rel = project.layout.rel(c.path)
            except (ValueError, OutsideProject):
                rel = None
        rels.append(rel)
    by_path = q.takes_by_path(conn, [r for r in rels if r])
    hints = q.take_rows(conn, [h for h in (c.take_hint for c in clips) if h] +
                        [t for t in (_manifest_take(c.path, mcache) for c, r in zip(clips, rels)
                                     if c.path is not None and r is None) if t])
    matched: list[tuple[EditClip, dict]] = []
    for c, rel in zip(clips, rels):
        take = by_path.get(rel) if rel else None
        if take is None and c.path is not None and rel is None:
            tid = _manifest_take(c.path, mcache)
            take = hints.get(tid) if tid else None
        if take is None and c.take_hint:
            take = hints.get(c.take_hint)
            if take is not None and c.path is not None and rel is not None:
                notes.append(f"{c.name}: {c.path} is not a take of this project; matched by the take id "
                             "in its metadata")
        if take is None:
            notes.append(f"{c.name or c.path}: not a take of this project (ignored)")
            continue
        matched.append((c, take))
    sb = storyboard or meta.get("storyboard")
    if sb not in ("video", "image"):
        sb = "video" if any(t["take_type"] == A.FINAL_VIDEO for _, t in matched) or not matched else "image"
    main = A.FINAL_VIDEO if sb == "video" else A.BASE_IMAGE
    kept = []
    for c, t in matched:
        if t["take_type"] != main:
            notes.append(f"{c.name}: a {t['take_type']} take in a {sb} storyboard edit (ignored)")
        else:
            kept.append((c, t))
    matched = kept
    diff = EditDiff(source=file, format=fmt, storyboard=sb, fps=fps, clips_read=len(clips), notes=notes)
    if not matched:
        notes.append("no clip of the edit matches a take of this project")
        return diff

    trims_ok = not (fmt == "fcpx_xml" and _fcpx_ntsc(file))
    if not trims_ok:
        notes.append("trims not read: OpenTimelineIO's FCPXML reader rounds NTSC frame rates "
                     "(1001/30000 s frames read as 29 fps); order and takes are read")
    rows = {r["shot_id"]: r for r in q.cut_rows(conn, sb)}
    # order
    seq: list[int] = []
    for _, t in matched:
        if t["shot_id"] in seq:
            notes.append(f"shot {rows.get(t['shot_id'], {}).get('shot_name')} appears more than once; "
                         "its first place counts")
        else:
            seq.append(t["shot_id"])
    current = [sid for sid, _ in q.shot_order(conn)]
    pos = {sid: i for i, sid in enumerate(current)}
    places = sorted(pos[s] for s in seq if s in pos)
    new = list(current)
    for k, p in enumerate(places):
        new[p] = seq[k]
    if new != current:
        npos = {sid: i for i, sid in enumerate(new)}
        moves = [ShotMove(sid, rows[sid].get("shot_name") or "", pos[sid] + 1, npos[sid] + 1)
                 for sid in new if npos[sid] != pos[sid]]
        diff.order = OrderChange(moves=moves, new_order=new)
    exported = [sid for sid, r in rows.items() if r.get("take_id")]
    missing = [rows[s].get("shot_name") for s in exported if s not in seq]
    if missing:
        notes.append(f"{len(missing)} shot(s) with a starred take are not in the edit (nothing proposed: "
                     f"shots are never deleted from an edit): " + ", ".join(missing[:8]) +
                     (" ..." if len(missing) > 8 else ""))
    # stars and trims
    trims = q.get_trims(conn, [t["take_id"] for _, t in matched])
    half = 0.5 / fps
    seen_shots = set()
    for c, t in matched:
        sid = t["shot_id"]
        if sid in seen_shots:
            continue
        seen_shots.add(sid)
        r = rows[sid]
        name = r.get("shot_name") or ""
        if t["take_id"] != r.get("take_id"):
            diff.stars.append(StarChange(sid, name, r.get("take_id"), r.get("take_number"), t["take_id"],
                                         t.get("take_number")))
        if not trims_ok:
            continue
        if sb == "video":
            whole = q.media_seconds(conn, t["file_path"])
            cur_in, cur_out = trims.get(t["take_id"], (0.0, whole if whole is not None else c.in_s + c.duration_s))
        else:
            whole = None
            cur_in, cur_out = trims.get(t["take_id"], (0.0, shot_duration_s(r)[0]))
        new_in, new_out = (c.in_s, c.in_s + c.duration_s) if sb == "video" else (0.0, c.duration_s)
        if abs(new_in - cur_in) > half or abs(new_out - cur_out) > half:
            clear = whole is not None and new_in <= half and abs(new_out - whole) <= half
            diff.trims.append(TrimChange(t["take_id"], sid, name, t.get("take_number"), cur_in, cur_out,
                                         round(new_in, 6), round(new_out, 6), clear=clear))
    return diff


def apply_edit(project, diff: EditDiff) -> dict:
    """Write every proposal of `diff` in one transaction (all or nothing). Refuses when the project
    changed since the diff was read (a star or the set of shots differs). Returns counts."""
    from aimms_fast.ops.shots import reorder
    from aimms_fast.ops.takes import star_take
    project.require_writable()
    conn = project.conn
    main = A.FINAL_VIDEO if diff.storyboard == "video" else A.BASE_IMAGE
    with transaction(project.db):
        for s in diff.stars:
            if starred_take(conn, s.shot_id, diff.storyboard) != s.old_take_id:
                raise AimmsError(f"shot {s.shot_name}: its starred take changed since the edit was read",
                                 path=diff.source, hint="read the edit again")
        if diff.order:
            current = {sid for sid, _ in q.shot_order(conn)}
            if current != set(diff.order.new_order):
                raise AimmsError("shots were added or deleted since the edit was read", path=diff.source,
                                 hint="read the edit again")
            reorder(project, diff.order.new_order)
        for s in diff.stars:
            if main == A.BASE_IMAGE:
                star_take(project, s.new_take_id, slot=1, on=True)
            else:
                star_take(project, s.new_take_id, on=True)
        for t in diff.trims:
            if t.clear:
                q.clear_trim(conn, t.take_id)
            else:
                q.set_trim(conn, t.take_id, t.new_in_s, t.new_out_s, diff.source.name)
        project.audit("import_edit", json.dumps({"file": str(diff.source), "order": bool(diff.order),
                                                 "stars": len(diff.stars), "trims": len(diff.trims)}))
    project.log.info("applied edit %s: order %s, %d star(s), %d trim(s)", diff.source,
                     "changed" if diff.order else "unchanged", len(diff.stars), len(diff.trims))
    return {"order": len(diff.order.moves) if diff.order else 0, "stars": len(diff.stars),
            "trims": len(diff.trims)}
