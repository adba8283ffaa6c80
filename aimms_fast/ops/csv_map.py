"""Shot lists from other tools (issue 12): their own columns (Scene, Shot, Set, Media, Script
Reference, …) mapped onto AIMMS's shot fields, and the wrappers LLM-made lists arrive in (chatter
lines before/after the table, ``` code fences, the header repeated between chunks) removed. The
cleaned, renamed table is written as an ordinary AIMMS CSV and imported by ops/csv_io.import_csv
(same checks, one transaction, one undo step). A mapping that imported is saved as a preset for that
header, so the next list from the same tool maps the same way. Thread: the project's owner thread.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from aimms_fast.errors import AimmsError
from aimms_fast.ops.csv_io import (DELIMITERS, CsvReport, decode_bytes, import_csv, normalize_header,
                                   write_rows_csv)
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import script as SS

FIELDS = list(A.SHOT_FIELDS)
# Column names other tools use (normalized as csv_io.normalize_header does) -> AIMMS field.
SYNONYMS = {
    "scene": "section", "scene_number": "section", "sequence": "section", "act": "section", "chapter": "section",
    "shot": "shot_name", "shot_no": "shot_name", "shot_number": "shot_name", "shot_id": "shot_name", "slug": "shot_name",
    "set": "location", "loc": "location", "place": "location", "setting": "location",
    "script_reference": "dialogue", "script_ref": "dialogue", "lines": "dialogue", "dialog": "dialogue",
    "vo": "dialogue", "voiceover": "dialogue", "voice_over": "dialogue", "narration": "dialogue",
    "shot_description": "description", "action": "description", "visual": "description",
    "visuals": "description", "what_we_see": "description", "subject": "description",
    "prompt": "image_prompt", "t2i_prompt": "image_prompt", "image": "image_prompt", "still_prompt": "image_prompt",
    "motion_prompt": "video_prompt", "i2v_prompt": "video_prompt", "motion": "video_prompt",
    "animation": "video_prompt", "camera_movement": "video_prompt",
    "time": "time_of_day", "tod": "time_of_day", "day_night": "time_of_day", "lighting": "time_of_day",
    "order": "order_number", "no": "order_number", "number": "order_number", "": "order_number",
    "negative": "image_negative", "negative_prompt": "image_negative",
    "colour": "colour_scheme_image", "color": "colour_scheme_image", "palette": "colour_scheme_image",
    "lora": "lora_1",
}
DROP = None


@dataclass
class MapResult:
    mapping: dict[str, str | None]           # source column -> AIMMS field (None = dropped)
    dropped: list[str]
    chatter_lines: list[int]                 # 1-based lines of the file that were not table rows
    repeated_headers: list[int]
    preset_used: bool
    report: CsvReport | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"mapping": self.mapping, "dropped": self.dropped, "chatter_lines": self.chatter_lines,
                "repeated_headers": self.repeated_headers, "preset_used": self.preset_used,
                "report": self.report.to_dict() if self.report else None}


def propose(header: list[str]) -> dict[str, str | None]:
    """Source column -> AIMMS field by name: exact, known synonym, then closest spelling (>= 0.75);
    each field is used once (the first column that claims it)."""
    out: dict[str, str | None] = {}
    used: set[str] = set()
    for col in header:
        n = normalize_header(col).lstrip("#_") if col.strip() != "#" else ""
        cand = n if n in FIELDS else SYNONYMS.get(n)
        if cand is None:
            close = difflib.get_close_matches(n, FIELDS, n=1, cutoff=0.75)
            cand = close[0] if close else None
        if cand in used:
            cand = None
        out[col] = cand
        if cand:
            used.add(cand)
    return out


def parse_map(spec: str, header: list[str]) -> dict[str, str | None]:
    """'Scene=section, Set=location' -> mapping; columns not named are dropped."""
    out: dict[str, str | None] = {c: None for c in header}
    lower = {c.strip().lower(): c for c in header}
    for part in [p for p in spec.split(",") if p.strip()]:
        if "=" not in part:
            raise AimmsError(f"--map part '{part.strip()}' is not Column=field", field="map",
                             hint='e.g. --map "Scene=section,Set=location,Script Reference=dialogue"')
        col, fld = (x.strip() for x in part.split("=", 1))
        if col.lower() not in lower:
            raise AimmsError(f"--map names column '{col}', which the file does not have", field="map",
                             hint="columns: " + ", ".join(header))
        if fld not in FIELDS:
            raise AimmsError(f"--map: '{fld}' is not a shot field", field="map", hint="fields: " + ", ".join(FIELDS))
        out[lower[col.lower()]] = fld
    return out


def read_table(text: str) -> tuple[list[str], list[list[str]], list[int], list[int], str]:
    """(header, rows, chatter line numbers, repeated-header line numbers, delimiter) of the table inside
    `text`: the delimiter giving the most lines with the same (>= 2) number of cells wins; lines with
    another count, fences and blank lines are chatter."""
    lines = text.splitlines()
    best = None
    for d in DELIMITERS:
        parsed = []
        for k, line in enumerate(lines, 1):
            s = line.strip()
            if not s or s.startswith("```") or s.startswith("~~~"):
                continue
            try:
                cells = next(csv.reader([line], delimiter=d))
            except (csv.Error, StopIteration):
                continue
            parsed.append((k, cells))
        counts: dict[int, int] = {}
        for _, c in parsed:
            if len(c) >= 2:
                counts[len(c)] = counts.get(len(c), 0) + 1
        if not counts:
            continue
        width = max(counts, key=lambda w: (counts[w], w))
        if best is None or counts[width] > best[0]:
            best = (counts[width], d, width, parsed)
    if best is None:
        raise AimmsError("no table found in the file", field="file",
                         hint="a shot list needs a header row and rows with the same columns")
    _, delim, width, parsed = best
    table = [(k, c) for k, c in parsed if len(c) == width]
    table_lines = {k for k, _ in table}
    chatter = [k for k, line in enumerate(lines, 1) if line.strip() and k not in table_lines]
    header_line, header = table[0]
    norm = [h.strip().lower() for h in header]
    rows, repeated = [], []
    for k, c in table[1:]:
        if [x.strip().lower() for x in c] == norm:
            repeated.append(k)
        else:
            rows.append(c)
    return header, rows, chatter, repeated, delim


def _signature(header: list[str]) -> str:
    return hashlib.sha1("\x1f".join(h.strip().lower() for h in header).encode()).hexdigest()[:16]


def import_mapped(project, path: str | Path, *, map_spec: str = "auto", dry_run: bool = False,
                  placeholders: bool = True, valid_only: bool = False) -> MapResult:
    """Map, clean and import `path` (see module doc). The CsvReport's line numbers refer to the
    cleaned table (header = line 1)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise AimmsError(f"cannot read the shot list ({e.strerror or e})", path=p, hint="check the file name") from e
    rep = CsvReport(path=str(p))
    text = decode_bytes(data, rep)
    if text is None:
        raise AimmsError(str(rep.errors[0]) if rep.errors else "cannot read the file", path=p)
    header, rows, chatter, repeated, _ = read_table(text)
    preset = SS.get_preset(project.conn, _signature(header)) if map_spec == "auto" else None
    if preset and set(preset) == set(header):
        mapping, used = preset, True
    else:
        mapping, used = (propose(header) if map_spec == "auto" else parse_map(map_spec, header)), False
    if not any(mapping.values()):
        raise AimmsError("no column maps onto a shot field", path=p,
                         hint='name them with --map "Column=field,…" (fields: ' + ", ".join(FIELDS) + ")")
    if "shot_name" not in mapping.values():
        raise AimmsError("no column maps onto shot_name", path=p, field="shot_name",
                         hint='say which one does, e.g. --map "Shot=shot_name,…"')
    keep = [(i, f) for i, (col, f) in enumerate(mapping.items()) if f]
    out = MapResult(mapping, [c for c, f in mapping.items() if not f], chatter, repeated, used)
    clean = project.layout.csv / f".mapped_{p.stem}.csv"
    clean_rows = [[r[i] if i < len(r) else "" for i, _ in keep] for r in rows]
    write_rows_csv(clean, [f for _, f in keep], clean_rows)
    try:
        out.report = import_csv(project, clean, dry_run=dry_run, placeholders=placeholders, valid_only=valid_only)
    finally:
        clean.unlink(missing_ok=True)
    out.report.path = str(p)
    if not dry_run and not out.report.errors:
        from aimms_fast.store.db import transaction
        with transaction(project.db):
            SS.put_preset(project.conn, _signature(header), mapping)
    return out
