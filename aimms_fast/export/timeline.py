"""The starred cut: every shot in order_number order with its chosen take, as our dataclasses
(`Cut`, `CutClip`) and as an OpenTimelineIO timeline (`to_otio`), which the editor writers and the
re-import build on.

Rules (user-visible, docs/user-guide.md):
- Video storyboard: the starred video take, whole file or the in/out stored for it (fast_take_trims).
- Image storyboard: the starred image (reference slot 1; the lowest set slot when slot 1 is empty)
  held for: the hold an edit stored for it (fast_take_trims), else a `duration` column in seconds
  when the shots table has one, else Storyboarder's estimate (`estimate_duration_s`).
- A shot without a usable take (none starred, a zero-byte placeholder, a missing or undecodable
  file) is skipped, becomes a black gap, or a title card naming the shot (`missing`), and the report
  says which.
- Frame rate: `fps`, else the most common fps of the starred videos (24 when there are none).
  Clips of another rate are conformed: they keep their real-time duration, rounded to whole project
  frames, and the editor resamples their frames; each one is listed in `Cut.report`.
- Sections become markers where each section starts.

Any thread (reads the database only).
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aimms_fast.errors import AimmsError, OutsideProject
from aimms_fast.store import export as q

DEFAULT_FPS = 24.0
DEFAULT_SIZE = (1920, 1080)
# Storyboarder: a board lasts 2000 ms by default (defaultBoardTiming); its suggested dialogue
# duration is 300 ms a word + 300 ms (durationOfWords(dialogue, 300) + 300).
DEFAULT_STILL_S = 2.0
DIALOGUE_S_PER_WORD = 0.3
DIALOGUE_PAD_S = 0.3
# Our addition for the description (action) text: 200 ms a word + 500 ms, read at a faster pace
# than spoken lines.
DESCRIPTION_S_PER_WORD = 0.2
DESCRIPTION_PAD_S = 0.5
MISSING_CHOICES = ("skip", "gap", "title")
STORYBOARDS = ("video", "image")


@dataclass
class CutClip:
    shot_id: int
    shot_name: str
    section: str
    take_id: str | None
    rel: str | None          # project-relative file path as stored in takes.file_path
    path: Path | None        # absolute path
    kind: str                # 'video' | 'image' | 'gap' | 'title'
    duration_s: float        # on the timeline, a whole number of project frames
    fps: float               # the file's own rate (project fps for images, gaps, titles)
    width: int
    height: int
    has_audio: bool
    source_in_s: float       # where in the file the clip starts (a stored trim, else 0)
    metadata: dict           # prompt, negative, seed, model, loras, description, dialogue, ...
    take_number: int | None = None
    order_number: int | None = None
    file_duration_s: float | None = None   # the whole file (videos), for available ranges
    reason: str | None = None              # gap/title: why the shot has no clip


@dataclass
class Cut:
    project_name: str
    fps: float
    clips: list[CutClip]
    sections: list[tuple[str, float]]     # (section name, start seconds)
    total_s: float
    report: list[str] = field(default_factory=list)
    storyboard: str = "video"
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]

    def frames(self, seconds: float) -> int:
        """Seconds -> whole project frames."""
        return int(round(seconds * self.fps))

    @property
    def media_clips(self) -> list[CutClip]:
        return [c for c in self.clips if c.kind in ("video", "image")]


def normalize_fps(fps: float) -> float:
    """NTSC rates exactly (29.97 -> 30000/1001), so frame counts and timecodes do not drift."""
    for base in (24, 30, 48, 60, 120):
        if abs(fps - base * 1000 / 1001) < 0.005:
            return base * 1000 / 1001
    return float(round(fps)) if abs(fps - round(fps)) < 0.001 else fps


def word_count(text: str | None) -> int:
    """Storyboarder's count: runs of spaces collapse, then split on spaces (newlines count as spaces
    here so a multi-line dialogue is not one word)."""
    return len((text or "").split())


def estimate_duration_s(description: str | None, dialogue: str | None) -> float:
    """Seconds a still board is held: the longest of Storyboarder's 2 s default, its dialogue
    estimate (0.3 s a word + 0.3 s) and a description estimate (0.2 s a word + 0.5 s)."""
    d = DEFAULT_STILL_S
    if word_count(dialogue):
        d = max(d, word_count(dialogue) * DIALOGUE_S_PER_WORD + DIALOGUE_PAD_S)
    if word_count(description):
        d = max(d, word_count(description) * DESCRIPTION_S_PER_WORD + DESCRIPTION_PAD_S)
    return d


def shot_duration_s(row: dict) -> tuple[float, str]:
    """(seconds, how): a `duration` column when present and positive, else the estimate."""
    v = row.get("duration")
    try:
        f = float(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        f = None
    if f is not None and math.isfinite(f) and f > 0:
        return f, "duration column"
    return estimate_duration_s(row.get("description"), row.get("dialogue")), "estimated from words"


def _loras(text: str | None) -> list:
    if not text:
        return []
    try:
        v = json.loads(text)
    except ValueError:
        return []
    return v if isinstance(v, list) else []


def _metadata(row: dict) -> dict:
    """What travels with a clip. Prompts come from the file's generation metadata, else its
    workflow PNG's, else the shot's own prompt columns."""
    g = {k[2:]: v for k, v in row.items() if k.startswith("g_")}
    cg = {k[3:]: v for k, v in row.items() if k.startswith("cg_")}
    use, source = (g, "file") if g.get("positive") or g.get("model") else \
        (cg, "workflow PNG") if cg.get("positive") or cg.get("model") else ({}, None)
    shot_prompt = row.get("video_prompt") if row.get("take_type") != "base_image" else row.get("image_prompt")
    shot_prompt = shot_prompt or row.get("image_prompt") or row.get("video_prompt") or ""
    shot_neg = (row.get("video_negative") if row.get("take_type") != "base_image" else row.get("image_negative")) or ""
    shot_loras = [x for x in (row.get("lora_1"), row.get("lora_2"), row.get("lora_3")) if x]
    return {
        "shot_id": row["shot_id"],
        "shot_name": row.get("shot_name") or "",
        "section": row.get("section") or "",
        "order_number": row.get("order_number"),
        "take_id": row.get("take_id"),
        "take_number": row.get("take_number"),
        "file": row.get("file_path"),
        "prompt": use.get("positive") or shot_prompt,
        "negative": use.get("negative") or shot_neg,
        "seed": use.get("seed") or "",
        "model": use.get("model") or "",
        "loras": _loras(use.get("loras_json")) or shot_loras,
        "metadata_source": source or ("shot" if shot_prompt else ""),
        "description": row.get("description") or "",
        "dialogue": row.get("dialogue") or "",
    }


def _usable(row: dict, storyboard: str) -> str | None:
    """Why the row's take cannot be placed, or None."""
    if not row.get("take_id"):
        return f"no starred {storyboard} take"
    if row.get("placeholder"):
        return "the starred take is a placeholder (empty file)"
    status = row.get("m_status")
    if status in ("missing", "error", "placeholder"):
        return f"the starred file is {status}" + (f": {row['m_reason']}" if row.get("m_reason") else "")
    return None


def build_cut(project, *, storyboard: str = "video", section: str | None = None, missing: str = "gap",
              fps: float | None = None) -> Cut:
    """The starred cut of `storyboard` (see the module docstring for the rules). Any thread."""
    if storyboard not in STORYBOARDS:
        raise AimmsError(f"storyboard must be one of {', '.join(STORYBOARDS)} (got {storyboard!r})",
                         field="storyboard")
    if missing not in MISSING_CHOICES:
        raise AimmsError(f"missing must be one of {', '.join(MISSING_CHOICES)} (got {missing!r})",
                         field="missing")
    if fps is not None and not (fps > 0 and math.isfinite(fps)):
        raise AimmsError(f"fps must be a positive number (got {fps!r})", field="fps")
    conn = project.conn
    lay = project.layout
    rows = q.cut_rows(conn, storyboard, section=section)
    if section is not None and not rows:
        from aimms_fast.store.shots import sections as all_sections
        raise AimmsError(f"no shots in section {section!r}", field="section",
                         hint="sections: " + ", ".join(all_sections(conn)))
    report: list[str] = []
    # Probe facts may be absent for files imported before probing existed: probe those now (one
    # file each, cheap) so durations are real, and never guess a video's length.
    usable = []
    for r in rows:
        why = _usable(r, storyboard)
        if why is None and r.get("m_status") in (None, "pending") and r.get("file_path"):
            _probe_into(project, r)
            why = _usable(r, storyboard)
        if why is None and lay.outside_reason(r["file_path"]):
            why = f"the starred file is outside the project ({lay.outside_reason(r['file_path'])})"
        elif why is None and not lay.read_path(r["file_path"]).exists():
            why = "the starred file is missing"
        usable.append(why)

    video_rates = [round(float(r["m_fps"]), 3) for r, why in zip(rows, usable)
                   if why is None and storyboard == "video" and r.get("m_fps")]
    if fps is None:
        # Most clips at that rate; a tie goes to the rate with more running time.
        seconds: Counter = Counter()
        for r, why in zip(rows, usable):
            if why is None and storyboard == "video" and r.get("m_fps"):
                seconds[round(float(r["m_fps"]), 3)] += float(r.get("m_duration") or 0)
        counts = Counter(video_rates)
        fps = max(counts, key=lambda k: (counts[k], seconds[k])) if video_rates else DEFAULT_FPS
        how = "most common rate of the starred takes" if video_rates else "default: no starred videos"
    else:
        how = "chosen"
    fps = normalize_fps(float(fps))
    sizes = Counter((int(r["m_width"]), int(r["m_height"])) for r, why in zip(rows, usable)
                    if why is None and r.get("m_width") and r.get("m_height"))
    width, height = sizes.most_common(1)[0][0] if sizes else DEFAULT_SIZE
    report.append(f"{fps:g} fps ({how}), {width}x{height}")

    def quantize(seconds: float) -> float:
        return max(1, int(round(seconds * fps))) / fps

    clips: list[CutClip] = []
    sections: list[tuple[str, float]] = []
    t = 0.0
    last_section = None
    conformed: dict[float, list[str]] = {}
    for r, why in zip(rows, usable):
        name = r.get("shot_name") or f"shot {r['shot_id']}"
        sec = r.get("section") or ""
        meta = _metadata(r)
        base = dict(shot_id=int(r["shot_id"]), shot_name=name, section=sec, order_number=r.get("order_number"))
        if why is not None:
            if missing == "skip":
                report.append(f"skipped {name}: {why}")
                continue
            d, _ = shot_duration_s(r)
            report.append(f"{missing} for {name} ({quantize(d):.2f} s): {why}")
            clip = CutClip(**base, take_id=None, rel=None, path=None, kind=missing, duration_s=quantize(d),
                           fps=fps, width=width, height=height, has_audio=False, source_in_s=0.0,
                           metadata=meta, reason=why)
        elif storyboard == "video" and (r.get("m_kind") or "video") == "video":
            clip_fps = float(r.get("m_fps") or fps)
            file_d = _file_duration(r, clip_fps)
            tin, tout = r.get("trim_in"), r.get("trim_out")
            if tin is not None and tout is not None:
                tin = max(0.0, float(tin))
                tout = min(float(tout), file_d) if file_d else float(tout)
                if tout <= tin:
                    report.append(f"{name}: stored trim {tin:.3f}-{r['trim_out']:.3f} s is outside the "
                                  f"file ({file_d:.3f} s); using the whole file")
                    tin, tout = 0.0, file_d
            else:
                tin, tout = 0.0, file_d
            if abs(clip_fps - fps) > 0.01:
                conformed.setdefault(round(clip_fps, 3), []).append(name)
            clip = CutClip(**base, take_id=r["take_id"], rel=r["file_path"], path=lay.read_path(r["file_path"]),
                           kind="video", duration_s=quantize(tout - tin), fps=clip_fps,
                           width=int(r.get("m_width") or width), height=int(r.get("m_height") or height),
                           has_audio=bool(r.get("m_audio_streams")), source_in_s=tin, metadata=meta,
                           take_number=r.get("take_number"), file_duration_s=file_d)
        else:
            d, how_d = shot_duration_s(r)
            if r.get("trim_in") is not None and r.get("trim_out") is not None:
                d, how_d = float(r["trim_out"]) - float(r["trim_in"]), "stored hold (edit)"
            clip = CutClip(**base, take_id=r["take_id"], rel=r["file_path"], path=lay.read_path(r["file_path"]),
                           kind="image", duration_s=quantize(d), fps=fps,
                           width=int(r.get("m_width") or width), height=int(r.get("m_height") or height),
                           has_audio=False, source_in_s=0.0, metadata={**meta, "duration_rule": how_d},
                           take_number=r.get("take_number"))
        if sec and sec != last_section:
            sections.append((sec, t))
        last_section = sec or last_section
        clips.append(clip)
        t += clip.duration_s
    for rate, names in sorted(conformed.items()):
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        report.append(f"conformed {len(names)} clip(s) at {rate:g} fps to {fps:g} fps (real-time "
                      f"duration kept, frames resampled by the editor): {shown}")
    if not clips:
        report.append("the cut is empty: no shot has a usable starred take" +
                      (" (use missing='gap' or 'title' to lay out every shot)" if missing == "skip" else ""))
    # Sum of whole frames, so total_s matches what a frame-counting editor shows.
    total = sum(int(round(c.duration_s * fps)) for c in clips) / fps
    return Cut(project_name=project.name, fps=fps, clips=clips, sections=sections, total_s=total,
               report=report, storyboard=storyboard, width=width, height=height)


def _file_duration(row: dict, fps: float) -> float:
    if row.get("m_frame_count") and fps:
        return int(row["m_frame_count"]) / fps
    if row.get("m_duration"):
        return float(row["m_duration"])
    return DEFAULT_STILL_S


def _probe_into(project, row: dict) -> None:
    """Probe one file whose facts were never stored and copy them into the row."""
    from aimms_fast.media.probe import probe_file
    try:
        path = project.layout.read_path(row["file_path"])
    except OutsideProject as e:  # issue 14: never probed; _usable then reports the status
        row["m_status"], row["m_reason"] = "error", f"outside the project ({e.reason})"
        return
    d = probe_file(path)
    for k in ("kind", "status", "reason", "fps", "width", "height", "duration", "frame_count", "audio_streams"):
        if k in d:
            row[f"m_{k}"] = d[k]


# -- OpenTimelineIO ---------------------------------------------------------------------------
SECTION_MARKER_COLOR = "GREEN"


def otio_meta(clip: CutClip) -> dict:
    """JSON-safe metadata stored under metadata['aimms'] on each OTIO clip."""
    m = dict(clip.metadata)
    m.update(kind=clip.kind, source_fps=clip.fps, source_in_s=clip.source_in_s)
    if clip.reason:
        m["reason"] = clip.reason
    return json.loads(json.dumps(m, default=str))


def to_otio(cut: Cut, *, media_paths: dict[str, Path] | None = None, audio: bool = True):
    """The cut as an `otio.schema.Timeline`: video track V1, sections as markers on it, our
    metadata under `metadata['aimms']` on every item, and (when `audio` and a clip has sound) an
    audio track A1 holding the sound of those clips in step with V1 (gaps elsewhere).
    `media_paths` maps take ids to the path to reference instead of the original (handoff copies)."""
    import opentimelineio as otio
    fps = cut.fps
    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    tl = otio.schema.Timeline(name=cut.project_name)
    tl.global_start_time = RT(0, fps)
    tl.metadata["aimms"] = {"fps": fps, "storyboard": cut.storyboard, "width": cut.width,
                            "height": cut.height, "report": list(cut.report)}
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    for c in cut.clips:
        n = max(1, cut.frames(c.duration_s))
        meta = {"aimms": otio_meta(c)}
        if c.kind == "gap":
            track.append(otio.schema.Gap(name=f"{c.shot_name} (gap)", source_range=TR(RT(0, fps), RT(n, fps)),
                                         metadata=meta))
            continue
        if c.kind == "title":
            ref = otio.schema.GeneratorReference(
                name=c.shot_name, generator_kind="SolidColor",
                parameters={"color": "black", "title": c.shot_name},
                available_range=TR(RT(0, fps), RT(n, fps)))
            track.append(otio.schema.Clip(name=c.shot_name, media_reference=ref,
                                          source_range=TR(RT(0, fps), RT(n, fps)), metadata=meta))
            continue
        path = (media_paths or {}).get(c.take_id, c.path)
        if c.kind == "video":
            avail = max(n, int(round((c.file_duration_s or c.duration_s) * fps)))
            start = cut.frames(c.source_in_s)
            avail_range = TR(RT(0, fps), RT(avail, fps))
        else:
            start = 0
            avail_range = TR(RT(0, fps), RT(n, fps))
        ref = otio.schema.ExternalReference(target_url=Path(path).resolve().as_uri(), available_range=avail_range)
        ref.name = Path(path).name
        ref.metadata["aimms"] = {"width": c.width, "height": c.height, "fps": c.fps, "has_audio": c.has_audio,
                                 "kind": c.kind}
        track.append(otio.schema.Clip(name=c.shot_name, media_reference=ref,
                                      source_range=TR(RT(start, fps), RT(n, fps)), metadata=meta))
    if audio and any(c.has_audio for c in cut.clips):
        a1 = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
        for c, item in zip(cut.clips, track):
            if c.kind == "video" and c.has_audio:
                ref = item.media_reference
                aref = otio.schema.ExternalReference(target_url=ref.target_url, available_range=ref.available_range)
                aref.name = ref.name
                a1.append(otio.schema.Clip(name=c.shot_name, media_reference=aref, source_range=item.source_range,
                                           metadata={"aimms": {"take_id": c.take_id, "shot_id": c.shot_id}}))
            else:
                a1.append(otio.schema.Gap(source_range=TR(RT(0, fps), item.source_range.duration)))
        tl.tracks.append(a1)
    for name, start in cut.sections:
        track.markers.append(otio.schema.Marker(
            name=name, marked_range=TR(RT(cut.frames(start), fps), RT(0, fps)),
            color=SECTION_MARKER_COLOR, metadata={"aimms": {"section": name}}))
    return tl
