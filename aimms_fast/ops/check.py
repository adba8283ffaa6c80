"""`aimms check` and the Routing matrix: the survey (ops/housekeeping.py) without hashing, turned
into a list of problems (kind + path) and one row per shot with a state per column.

Problems (exit 1): 'missing' (a take or asset whose file is gone), 'outside' (a stored path that
leaves the project), 'orphan' (a media file no record refers to), 'no_png' (a real video take
without a usable workflow PNG), 'empty_folder' (media/<n>/ of a shot that no longer exists, with
no files). Not problems: zero-byte placeholders (AIMMS's planned takes), duplicates among takes
(the same picture used twice is legitimate) and the trash; the Unused page lists those.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from aimms_fast.ops import housekeeping as HK

OK, WARN, BAD, NONE = "ok", "warn", "bad", "none"
COLUMNS = ("images", "videos", "pngs", "starred", "assets")
COLUMN_TITLES = {"images": "image takes", "videos": "video takes", "pngs": "workflow PNGs",
                 "starred": "starred", "assets": "assets"}


@dataclass
class Problem:
    kind: str
    path: str | None
    detail: str = ""
    shot_id: int | None = None
    take_id: str | None = None


@dataclass
class Cell:
    state: str     # ok | warn | bad | none
    text: str      # what the cell shows ("3", "2 missing", "–")


@dataclass
class ShotRow:
    shot_id: int
    shot_name: str
    cells: dict    # column -> Cell

    @property
    def bad(self) -> bool:
        return any(c.state == BAD for c in self.cells.values())


@dataclass
class CheckResult:
    problems: list = field(default_factory=list)   # Problem
    rows: list = field(default_factory=list)       # ShotRow in story order
    counts: dict = field(default_factory=dict)     # kind -> n
    files: int = 0
    storyboards: dict = field(default_factory=dict)  # image/video/workflow PNG -> {takes, missing, placeholders}

    @property
    def healthy(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        shots = len(self.rows)
        if self.healthy:
            return f"{shots} shots, {self.files} files: no problems"
        bad = sum(1 for r in self.rows if r.bad)
        kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self.counts.items()))
        return f"{shots} shots, {self.files} files: {len(self.problems)} problem(s) in {bad} shot(s) ({kinds})"

    def to_dict(self) -> dict:
        return {"healthy": self.healthy, "summary": self.summary(), "counts": self.counts,
                "problems": [asdict(p) for p in self.problems]}


def _cells(c: dict) -> dict:
    img = (Cell(BAD, f"{c['missing_images']} missing") if c.get("missing_images") else
           Cell(OK, str(c["images"])) if c["images"] else
           Cell(WARN, f"{c['image_placeholders']} empty") if c["image_placeholders"] else Cell(WARN, "0"))
    vid = (Cell(BAD, f"{c['missing_videos']} missing") if c.get("missing_videos") else
           Cell(OK, str(c["videos"])) if c["videos"] else
           Cell(WARN, f"{c['video_placeholders']} empty") if c["video_placeholders"] else Cell(WARN, "0"))
    png = (Cell(BAD, f"{c['no_png']} of {c['pngs_needed']} missing") if c["no_png"] else
           Cell(OK, f"{c['pngs']}/{c['pngs_needed']}") if c["pngs_needed"] else Cell(NONE, "-"))
    n_star = c["starred_images"] + c["starred_videos"]
    star = (Cell(OK, f"{c['starred_images']} img, {c['starred_videos']} vid")
            if c["starred_videos"] or (c["starred_images"] and not c["videos"]) else
            Cell(WARN, f"{c['starred_images']} img, 0 vid") if n_star else
            Cell(WARN, "none") if c["images"] or c["videos"] else Cell(NONE, "-"))
    ast = (Cell(BAD, f"{c['missing_assets']} missing") if c["missing_assets"] else
           Cell(OK, str(c["assets"])) if c["assets"] else Cell(NONE, "-"))
    return {"images": img, "videos": vid, "pngs": png, "starred": star, "assets": ast}


def result_from(inp: HK.Inputs, s: HK.Survey) -> CheckResult:
    """Problems and matrix rows from a survey. Worker-safe."""
    r = CheckResult(files=s.files)
    per = s.per_shot
    for m in s.missing:
        r.problems.append(Problem("missing", m["path"], m["kind"], m["shot_id"], m.get("take_id")))
        if m["shot_id"] in per:
            key = {"image": "missing_images", "video": "missing_videos"}.get(m["kind"])
            if key:
                per[m["shot_id"]][key] = per[m["shot_id"]].get(key, 0) + 1
    for m in s.outside:
        r.problems.append(Problem("outside", m["path"], m["kind"], m["shot_id"], m.get("take_id")))
        if m["shot_id"] in per:
            key = {"image": "missing_images", "video": "missing_videos"}.get(m["kind"])
            if key:
                per[m["shot_id"]][key] = per[m["shot_id"]].get(key, 0) + 1
    for m in s.no_png:
        r.problems.append(Problem("no_png", m["path"], m["reason"], m["shot_id"], m["take_id"]))
    for o in s.orphans:
        r.problems.append(Problem("orphan", o["path"], f"{o['size']} bytes", o["suggested_shot"]))
    for d in s.empty_folders:
        r.problems.append(Problem("empty_folder", d["path"], "folder of a deleted shot, no files"))
    # A missing companion PNG is both a missing record and a video without a PNG: the missing
    # record stands for both (one damage, one problem).
    gone = {p.path for p in r.problems if p.kind in ("missing", "outside")}
    pngs = {m["take_id"]: m.get("png") for m in s.no_png}
    r.problems = [p for p in r.problems if not (p.kind == "no_png" and pngs.get(p.take_id) in gone)]
    for p in r.problems:
        r.counts[p.kind] = r.counts.get(p.kind, 0) + 1
    gone_ids = {m.get("take_id") for m in s.missing + s.outside}
    for take_id, _sid, take_type, _rel, placeholder, _st, _c in inp.rows.takes:
        c = r.storyboards.setdefault(HK.KIND.get(take_type, take_type), {"takes": 0, "missing": 0, "placeholders": 0})
        c["takes"] += 1
        c["missing"] += take_id in gone_ids
        c["placeholders"] += bool(placeholder)
    for sid, name in inp.shots.items():
        r.rows.append(ShotRow(sid, name, _cells(per.get(sid) or HK._shot_counters())))
    return r


def check(project) -> CheckResult:
    """The whole check on the project's connection (no hashing: stat only)."""
    inp = HK.gather(project)
    r = result_from(inp, HK.survey(inp, duplicates=False, trash=False))
    add_outside_rows(project, r)
    return r


def add_outside_rows(project, r: CheckResult) -> None:
    """Trash, pending and history rows whose paths leave the project (issue 14; takes and assets
    are already in the survey): problems of kind 'outside', never acted on."""
    from aimms_fast.ops.containment import outside_records
    for o in outside_records(project):
        if o["kind"] in ("take", "asset"):
            continue
        r.problems.append(Problem("outside", o["path"], f"{o['kind']} row {o.get('row_id')}: {o['reason']}"))
        r.counts["outside"] = r.counts.get("outside", 0) + 1
