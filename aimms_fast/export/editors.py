"""Editor timelines of the starred cut: OpenTimelineIO (.otio), CMX 3600 (.edl), FCP 7 XML (.xml),
FCPXML (.fcpxml) and Kdenlive/MLT (.kdenlive).

OTIO, EDL, FCP 7 XML and FCPXML are written by OpenTimelineIO's adapters from `to_otio(cut)`, with
per-format adjustments the adapters need (below). Kdenlive is our own MLT XML writer: the
`otio-kdenlive-adapter` package (0.0.3) announces itself deprecated and unmaintained when loaded,
always writes a 1920x1080 profile whatever the media, keeps no clip metadata and has no title
support; our writer sets the profile from the cut, names clips and guides, stores the metadata as
producer properties and is checked by rendering it with the real `melt` (tests).

Per format:
- EDL: one video track; reel names are 8 characters of [A-Z0-9] (`S0001T02`: event position and
  take number, unique per source), every event has `* FROM CLIP NAME:` (ASCII, 60 characters) and
  `* FROM CLIP:` with the file path; gaps and title cards are black (`BL`) events. CMX 3600 numbers
  events 001-999; more are written (4 digits, as Resolve and Premiere read) and noted.
- FCP 7 XML: metadata in each clip's `<comments>` (mastercomment1 prompt, 2 negative, 3 seed/model/
  LoRAs, 4 shot/take ids), the Master Comment columns Premiere shows; title cards are Text
  generators; sections are sequence markers.
- FCPXML: the adapter's 1.8 document, with each `<format>` given the frame size, our metadata as
  `<metadata><md>` on each asset-clip, a note with the prompt; title cards become named gaps (the
  adapter cannot write titles: noted).
- Media are referenced by absolute path (file:// URLs), or copied into `options.copy_media` with a
  manifest (`aimms_export_manifest.csv`) and referenced there.

Any thread; no UI.
"""
from __future__ import annotations

import copy
import json
import re
import tempfile
import unicodedata
from pathlib import Path
from xml.etree import ElementTree as ET

from aimms_fast import __version__
from aimms_fast.errors import AimmsError
from aimms_fast.export import ExportOptions, ExportResult, register
from aimms_fast.export.timeline import Cut, CutClip, to_otio

MANIFEST_NAME = "aimms_export_manifest.csv"
MANIFEST_COLUMNS = ["file", "shot_id", "shot_name", "section", "order_number", "take_id", "take_number",
                    "source_path", "kind", "duration_s"]
EDL_NAME_MAX = 60
EDL_TITLE_MAX = 70


# -- shared ----------------------------------------------------------------------------------
def _ascii(text: str, limit: int) -> str:
    t = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    t = re.sub(r"[\x00-\x1f\x7f]+", " ", t).strip()
    return t[:limit]


def _safe_stem(text: str) -> str:
    from aimms_fast.ops.backup import safe_filename
    return safe_filename(text, "shot", max_len=60)


def copy_media(cut: Cut, dest: Path, options: ExportOptions) -> tuple[dict[str, Path], list[Path], list[str]]:
    """Copy each clip's file into `dest` as `{pos:03d}_{shot}_t{take}{ext}` and write the manifest.
    Returns (take_id -> copied path, files written, notes)."""
    from aimms_fast.ops.backup import copy_into
    from aimms_fast.ops.csv_io import write_rows_csv
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AimmsError(f"cannot create the media folder ({e.strerror})", path=dest,
                         hint="choose a folder you can write to") from e
    mapping: dict[str, Path] = {}
    files: list[Path] = []
    rows = []
    media = cut.media_clips
    for i, c in enumerate(media):
        options.check_cancel()
        name = f"{i + 1:03d}_{_safe_stem(c.shot_name)}_t{c.take_number or 0:02d}{c.path.suffix.lower()}"
        target = dest / name
        copy_into(c.path, target)
        mapping[c.take_id] = target
        files.append(target)
        rows.append([name, c.shot_id, c.shot_name, c.section, c.order_number, c.take_id, c.take_number,
                     c.rel, c.kind, f"{c.duration_s:.6f}"])
        if options.progress:
            options.progress(i + 1, len(media) + 1)
    manifest = dest / MANIFEST_NAME
    write_rows_csv(manifest, MANIFEST_COLUMNS, rows)
    files.append(manifest)
    return mapping, files, [f"copied {len(media)} media file(s) to {dest} (manifest {MANIFEST_NAME})"]


def _begin(cut: Cut, out: Path, options: ExportOptions, suffix: str):
    out = Path(out)
    if not out.suffix:
        out = out.with_name(out.name + suffix)
    if out.exists() and out.is_dir():
        raise AimmsError("the output is a folder; give a file name", path=out, field="out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AimmsError(f"cannot create the output folder ({e.strerror})", path=out.parent) from e
    mapping, files, notes = ({}, [], [])
    if options.copy_media:
        mapping, files, notes = copy_media(cut, options.copy_media, options)
    return out, mapping, files, list(cut.report) + notes


def _atomic_write(out: Path, text: str) -> None:
    """Write under a temp name, then rename: an interrupted export never leaves half a timeline."""
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".", suffix=".partial", dir=out.parent)
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        Path(tmp).replace(out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _done(options: ExportOptions) -> None:
    if options.progress:
        options.progress(1, 1)


# -- OTIO ------------------------------------------------------------------------------------
def write_otio(project, cut: Cut, out: Path, options: ExportOptions) -> ExportResult:
    import opentimelineio as otio
    out, mapping, files, notes = _begin(cut, out, options, ".otio")
    options.check_cancel()
    tl = to_otio(cut, media_paths=mapping)
    _atomic_write(out, otio.adapters.write_to_string(tl, adapter_name="otio_json"))
    _done(options)
    return ExportResult(out, "otio", len(cut.clips), notes, files)


# -- CMX 3600 EDL ----------------------------------------------------------------------------
def edl_reel(position: int, take_number: int | None) -> str:
    """8 characters, letters and digits only, unique per event (one source file per event)."""
    return f"S{position:04d}T{(take_number or 0) % 100:02d}"


def write_edl(project, cut: Cut, out: Path, options: ExportOptions) -> ExportResult:
    import opentimelineio as otio
    out, mapping, files, notes = _begin(cut, out, options, ".edl")
    options.check_cancel()
    tl = to_otio(cut, media_paths=mapping, audio=False)   # one video track (sound rides with the source)
    tl.name = _ascii(cut.project_name, EDL_TITLE_MAX) or "aimms"
    track = tl.tracks[0]
    track.markers.clear()   # CMX 3600 has no timeline markers; sections are in each clip's name comment
    for i, item in enumerate(list(track)):
        c = cut.clips[i]
        name = _ascii(c.shot_name, EDL_NAME_MAX) or f"SHOT {c.shot_id}"
        if isinstance(item, otio.schema.Gap) or c.kind == "title":
            # An explicit black event (not a jump in record time) so every shot is an event with
            # its name, and readers that ignore record time keep the timing.
            track[i] = otio.schema.Clip(name=name, source_range=item.source_range,
                                        metadata={"cmx_3600": {"reel": "BL"}})
            continue
        item.name = name
        item.metadata["cmx_3600"] = {"reel": edl_reel(i + 1, c.take_number)}
    text = otio.adapters.write_to_string(tl, adapter_name="cmx_3600", rate=cut.fps)
    events = len(cut.clips)
    if events > 999:
        notes.append(f"{events} events: CMX 3600 numbers up to 999; later events have 4-digit numbers, "
                     "which Resolve and Premiere read but strict CMX readers may not")
    _atomic_write(out, text)
    _done(options)
    return ExportResult(out, "edl", len(cut.clips), notes, files)


# -- FCP 7 XML -------------------------------------------------------------------------------
def _fcp_comments(c: CutClip) -> dict:
    m = c.metadata
    loras = ", ".join(_lora_text(x) for x in m.get("loras") or [])
    tech = "; ".join(x for x in (f"seed {m['seed']}" if m.get("seed") else "",
                                 f"model {m['model']}" if m.get("model") else "",
                                 f"LoRAs {loras}" if loras else "") if x)
    ids = f"shot_id={c.shot_id}; take_id={c.take_id or ''}; take={c.take_number or ''}; section={c.section}"
    return {"mastercomment1": m.get("prompt") or "", "mastercomment2": m.get("negative") or "",
            "mastercomment3": tech, "mastercomment4": ids}


def _lora_text(x) -> str:
    if isinstance(x, dict):
        s = x.get("strength_model", x.get("strength"))
        return f"{x.get('name')}:{s}" if s is not None else str(x.get("name"))
    return str(x)


def write_fcp7(project, cut: Cut, out: Path, options: ExportOptions) -> ExportResult:
    import opentimelineio as otio
    out, mapping, files, notes = _begin(cut, out, options, ".xml")
    options.check_cancel()
    tl = to_otio(cut, media_paths=mapping)
    for i, item in enumerate(tl.tracks[0]):
        c = cut.clips[i]
        if isinstance(item, otio.schema.Gap):
            continue
        item.metadata["fcp_xml"] = {"comments": _fcp_comments(c)}
        if c.kind == "title":
            ref = item.media_reference
            ref.generator_kind = "Text"
            ref.metadata["fcp_xml"] = {"effecttype": "generator", "mediatype": "video", "effectcategory": "Text",
                                       "parameter": {"parameterid": "str", "name": "Text", "value": c.shot_name}}
    # FCP 7 keeps markers on the sequence; the adapter writes the top stack's markers there.
    tl.tracks.markers.extend(copy.deepcopy(list(tl.tracks[0].markers)))
    tl.tracks[0].markers.clear()
    text = otio.adapters.write_to_string(tl, adapter_name="fcp_xml")
    text = _fcp7_sequence_format(text, cut)
    _atomic_write(out, text)
    _done(options)
    return ExportResult(out, "fcp7", len(cut.clips), notes, files)


def _fcp7_sequence_format(text: str, cut: Cut) -> str:
    """The adapter leaves the sequence without a frame size; Premiere then guesses from the first
    clip. Give it the cut's size."""
    root = ET.fromstring(text.encode())
    for seq in root.iter("sequence"):
        media = seq.find("media")
        video = media.find("video") if media is not None else None
        if video is None:
            continue
        fmt = video.find("format")
        if fmt is None:
            fmt = ET.Element("format")
            video.insert(0, fmt)
        sc = fmt.find("samplecharacteristics")
        if sc is None:
            sc = ET.SubElement(fmt, "samplecharacteristics")
        for tag, val in (("width", cut.width), ("height", cut.height), ("pixelaspectratio", "square")):
            e = sc.find(tag)
            if e is None:
                e = ET.SubElement(sc, tag)
            e.text = str(val)
        rate = sc.find("rate")
        if rate is None:
            rate = ET.SubElement(sc, "rate")
            tb, ntsc = _fcp_rate(cut.fps)
            ET.SubElement(rate, "timebase").text = str(tb)
            ET.SubElement(rate, "ntsc").text = ntsc
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + ET.tostring(root, encoding="unicode")


def _fcp_rate(fps: float) -> tuple[int, str]:
    tb = round(fps)
    return tb, "TRUE" if abs(fps - tb) > 0.001 else "FALSE"


# -- FCPXML ----------------------------------------------------------------------------------
def write_fcpx(project, cut: Cut, out: Path, options: ExportOptions) -> ExportResult:
    import opentimelineio as otio
    out, mapping, files, notes = _begin(cut, out, options, ".fcpxml")
    options.check_cancel()
    # No A1: the adapter would write each sound as a gap with an audio lane; Final Cut plays an
    # asset-clip's own sound, so the assets with sound are marked hasAudio instead (_fcpx_fix).
    tl = to_otio(cut, media_paths=mapping, audio=False)
    track = tl.tracks[0]
    titles = 0
    for i, item in enumerate(list(track)):
        c = cut.clips[i]
        if c.kind == "title":   # the adapter writes no titles: a named gap keeps the timing
            gap = otio.schema.Gap(name=c.shot_name, source_range=item.source_range, metadata=item.metadata)
            track[i] = gap
            titles += 1
            continue
        if isinstance(item, otio.schema.Gap):
            continue
        m = c.metadata
        md = [{"aimms.shot_id": str(c.shot_id)}, {"aimms.take_id": c.take_id or ""},
              {"aimms.take_number": str(c.take_number or "")}, {"aimms.section": c.section},
              {"aimms.prompt": m.get("prompt") or ""}, {"aimms.negative": m.get("negative") or ""},
              {"aimms.seed": str(m.get("seed") or "")}, {"aimms.model": m.get("model") or ""},
              {"aimms.loras": ", ".join(_lora_text(x) for x in m.get("loras") or [])}]
        item.media_reference.metadata["fcpx"] = {"note": m.get("prompt") or "", "metadata": md}
    if titles:
        notes.append(f"FCPXML: {titles} title card(s) written as named gaps (the FCPXML adapter has no titles)")
    text = otio.adapters.write_to_string(tl, adapter_name="fcpx_xml")
    text = _fcpx_fix(text, cut, {Path(mapping.get(c.take_id, c.path)).resolve().as_uri()
                                 for c in cut.clips if c.kind == "video" and c.has_audio})
    _atomic_write(out, text)
    _done(options)
    return ExportResult(out, "fcpx", len(cut.clips), notes, files)


def _fcpx_fix(text: str, cut: Cut, with_audio: set[str] = frozenset()) -> str:
    """Frame size on every <format> (Final Cut needs one for the project), hasAudio on the assets
    with sound, and the sections as markers on the first spine item of each section (the adapter
    drops track markers)."""
    body = re.sub(r"^<\?xml[^>]*\?>\s*(<!DOCTYPE fcpxml>)?\s*", "", text)
    root = ET.fromstring(body.encode())
    for a in root.iter("asset"):
        if a.get("src") in with_audio:
            a.set("hasAudio", "1")
            a.set("audioSources", "1")
    frame = _fcpx_time(1, cut.fps)
    code = f"{cut.fps:.2f}".rstrip("0").rstrip(".").replace(".", "")
    for fmt in root.iter("format"):
        # The adapter's frame-duration table lacks NTSC rates given as floats (it writes ""): set
        # it from the cut's exact rate.
        fmt.set("frameDuration", frame)
        fmt.set("width", str(cut.width))
        fmt.set("height", str(cut.height))
        fmt.set("name", f"FFVideoFormat{cut.height}p{code}")
    spine = root.find(".//sequence/spine")
    if spine is not None and cut.sections:
        items = list(spine)
        starts, t = [], 0
        for c in cut.clips:
            starts.append(t)
            t += cut.frames(c.duration_s)
        for name, start in cut.sections:
            f = cut.frames(start)
            if f in starts and starts.index(f) < len(items):
                el = items[starts.index(f)]
                ET.SubElement(el, "marker", start=el.get("start", "0s"), duration=frame, value=name)
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + ET.tostring(root, encoding="unicode")


def _fcpx_time(frames: int, fps: float) -> str:
    from fractions import Fraction
    v = Fraction(frames) / Fraction(fps).limit_denominator(1001)
    return f"{v.numerator}/{v.denominator}s" if v.denominator != 1 else f"{v.numerator}s"


# -- Kdenlive / MLT XML ----------------------------------------------------------------------
def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def fps_fraction(fps: float) -> tuple[int, int]:
    """24 -> (24, 1); 23.976 -> (24000, 1001); 29.97 -> (30000, 1001); else a /1000 fraction."""
    for base in (24, 30, 60, 48, 120):
        if abs(fps - base * 1000 / 1001) < 0.005:
            return base * 1000, 1001
    if abs(fps - round(fps)) < 1e-6:
        return int(round(fps)), 1
    num, den = int(round(fps * 1000)), 1000
    g = _gcd(num, den)
    return num // g, den // g


def _prop(parent: ET.Element, name: str, value) -> None:
    e = ET.SubElement(parent, "property", name=name)
    e.text = "" if value is None else str(value)


def _title_xml(text: str, w: int, h: int, frames: int) -> str:
    """A Kdenlive title (kdenlivetitle producer): white centred text on black."""
    root = ET.Element("kdenlivetitle", duration=str(frames), LC_NUMERIC="C", width=str(w), height=str(h),
                      out=str(frames - 1))
    item = ET.SubElement(root, "item", type="QGraphicsTextItem", **{"z-index": "0"})
    size = max(12, h // 12)
    pos = ET.SubElement(item, "position", x=str(w // 10), y=str(h // 2 - size))
    ET.SubElement(pos, "transform").text = "1,0,0,0,1,0,0,0,1"
    content = ET.SubElement(item, "content", **{
        "font": "DejaVu Sans", "font-pixel-size": str(size), "font-weight": "700", "font-italic": "0",
        "font-underline": "0", "font-color": "255,255,255,255", "alignment": "4", "box-width": str(w * 8 // 10),
        "box-height": str(size * 2), "line-spacing": "0", "shadow": "0;#64000000;3;3;3",
        "typewriter": "0;2;1;0;0"})
    content.text = text
    ET.SubElement(root, "startviewport", rect=f"0,0,{w},{h}")
    ET.SubElement(root, "endviewport", rect=f"0,0,{w},{h}")
    ET.SubElement(root, "background", color="0,0,0,255")
    return ET.tostring(root, encoding="unicode")


def mlt_document(cut: Cut, mapping: dict[str, Path] | None = None) -> ET.Element:
    """The cut as an MLT XML document Kdenlive opens and `melt` renders: one profile from the cut,
    a producer per clip (avformat for video, qimage for stills, kdenlivetitle for title cards),
    playlist V1 with blanks for gaps over Kdenlive's black background track, a tractor, section
    guides, metadata as `aimms:*` properties."""
    num, den = fps_fraction(cut.fps)
    w, h = cut.width, cut.height
    g = _gcd(w, h) or 1
    root = ET.Element("mlt", LC_NUMERIC="C", version="7.12.0", title=cut.project_name, producer="main_bin")
    ET.SubElement(root, "profile", description=f"{w}x{h} {cut.fps:g} fps", width=str(w), height=str(h),
                  progressive="1", sample_aspect_num="1", sample_aspect_den="1",
                  display_aspect_num=str(w // g), display_aspect_den=str(h // g),
                  frame_rate_num=str(num), frame_rate_den=str(den), colorspace="709")
    producers = []
    entries: list[tuple[str, object]] = []   # ('blank', frames) | ('entry', (id, in, out))
    for i, c in enumerate(cut.clips):
        n = max(1, cut.frames(c.duration_s))
        if c.kind == "gap":
            entries.append(("blank", n))
            continue
        pid = f"producer{i}"
        p = ET.Element("producer", id=pid)
        if c.kind == "title":
            length = n
            _prop(p, "length", length)
            _prop(p, "eof", "pause")
            _prop(p, "resource", "")
            _prop(p, "mlt_service", "kdenlivetitle")
            _prop(p, "xmldata", _title_xml(c.shot_name, w, h, n))
            _prop(p, "kdenlive:clip_type", 2)
            start = 0
        else:
            path = Path((mapping or {}).get(c.take_id, c.path)).resolve()
            if c.kind == "video":
                length = max(n, int(round((c.file_duration_s or c.duration_s) * cut.fps)))
                _prop(p, "length", length)
                _prop(p, "eof", "pause")
                _prop(p, "resource", str(path))
                _prop(p, "mlt_service", "avformat")
                _prop(p, "seekable", 1)
                start = cut.frames(c.source_in_s)
            else:
                length = n
                _prop(p, "length", length)
                _prop(p, "eof", "pause")
                _prop(p, "resource", str(path))
                _prop(p, "ttl", 25)
                _prop(p, "mlt_service", "qimage")
                _prop(p, "kdenlive:clip_type", 5)
                start = 0
        p.set("in", "0")
        p.set("out", str(length - 1))
        _prop(p, "kdenlive:clipname", c.shot_name)
        _prop(p, "kdenlive:id", i + 2)
        _prop(p, "kdenlive:folderid", -1)
        _prop(p, "kdenlive:description", c.metadata.get("prompt") or "")
        for k, v in _flat_meta(c).items():
            _prop(p, f"aimms:{k}", v)
        producers.append(p)
        entries.append(("entry", (pid, start, start + n - 1)))
    # Kdenlive's black background track: blanks in V1 show it (MLT renders a bare blank as its
    # test card, white).
    total = sum(v if k == "blank" else v[2] - v[1] + 1 for k, v in entries)
    black = ET.Element("producer", id="black_track", **{"in": "0", "out": str(max(0, total - 1))})
    _prop(black, "length", max(1, total))
    _prop(black, "eof", "continue")
    _prop(black, "resource", "black")
    _prop(black, "aspect_ratio", 1)
    _prop(black, "mlt_service", "color")
    _prop(black, "kdenlive:playlistid", "black_track")
    _prop(black, "set.test_audio", 0)
    root.append(black)
    for p in producers:
        root.append(p)
    # The bin (Kdenlive's project clips) and the document properties Kdenlive reads, guides included.
    bin_ = ET.SubElement(root, "playlist", id="main_bin")
    _prop(bin_, "kdenlive:docproperties.version", "0.98")
    _prop(bin_, "kdenlive:docproperties.decimalPoint", ".")
    _prop(bin_, "xml_retain", 1)
    guides = [{"comment": name, "pos": cut.frames(start), "type": 0} for name, start in cut.sections]
    _prop(bin_, "kdenlive:docproperties.guides", json.dumps(guides))
    _prop(bin_, "aimms:exported_by", f"aimms_fast {__version__}")
    _prop(bin_, "aimms:storyboard", cut.storyboard)
    for p in producers:
        ET.SubElement(bin_, "entry", producer=p.get("id"), **{"in": "0", "out": p.get("out")})
    track = ET.SubElement(root, "playlist", id="playlist_v1")
    _prop(track, "kdenlive:track_name", "V1")
    for kind, v in entries:
        if kind == "blank":
            ET.SubElement(track, "blank", length=str(v))
        else:
            pid, a, b = v
            ET.SubElement(track, "entry", producer=pid, **{"in": str(a), "out": str(b)})
    tractor = ET.SubElement(root, "tractor", id="maintractor", **{"in": "0", "out": str(max(0, total - 1))})
    _prop(tractor, "kdenlive:projectTractor", 1)
    ET.SubElement(tractor, "track", producer="black_track")
    ET.SubElement(tractor, "track", producer="playlist_v1")
    return root


def _flat_meta(c: CutClip) -> dict:
    m = c.metadata
    return {"shot_id": c.shot_id, "shot_name": c.shot_name, "section": c.section, "take_id": c.take_id or "",
            "take_number": c.take_number or "", "kind": c.kind, "file": c.rel or "",
            "prompt": m.get("prompt") or "", "negative": m.get("negative") or "", "seed": m.get("seed") or "",
            "model": m.get("model") or "", "loras": json.dumps(m.get("loras") or [], ensure_ascii=False),
            "source_fps": f"{c.fps:g}"}


def write_kdenlive(project, cut: Cut, out: Path, options: ExportOptions) -> ExportResult:
    out, mapping, files, notes = _begin(cut, out, options, ".kdenlive")
    options.check_cancel()
    root = mlt_document(cut, mapping)
    ET.indent(root)
    titles = sum(1 for c in cut.clips if c.kind == "title")
    if titles:
        notes.append(f"{titles} title card(s) as Kdenlive titles (kdenlivetitle producer)")
    _atomic_write(out, '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
    _done(options)
    return ExportResult(out, "kdenlive", len(cut.clips), notes, files)


register("otio", write_otio, suffix=".otio", description="OpenTimelineIO timeline (.otio)")
register("edl", write_edl, suffix=".edl", description="CMX 3600 EDL, one video track (.edl)")
register("fcp7", write_fcp7, suffix=".xml", description="Final Cut Pro 7 XML for Premiere and Resolve (.xml)")
register("fcpx", write_fcpx, suffix=".fcpxml", description="FCPXML for Final Cut Pro and Resolve (.fcpxml)")
register("kdenlive", write_kdenlive, suffix=".kdenlive", description="Kdenlive project / MLT XML (.kdenlive)")
