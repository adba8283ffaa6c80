"""Import shot lists made by other tools: map their columns to AIMMS fields (issue 12, item 1).

`plan_mapping(path, "auto")` reads the file (any encoding/delimiter csv_io reads, wrappers set aside
by ops/csv_table.py), proposes a field for every column by its header (ops/csv_vocab.py) and
says why; "Col=field,…" or a saved preset overrides the proposal per column. A column can go to an
AIMMS field, to NOTES ("Col: value" lines appended to the shot's description: AIMMS shots have no
notes column, and a lens or a cast list is worth keeping), or be dropped. The plan lists what went
where and every line left out, with reasons.

`import_mapped(project, path, plan)` hands the plan to csv_io.import_csv as its `mapping`: the
plan turns the file into rows in AIMMS columns, keeping the file's line numbers, and csv_io checks
and writes them exactly as it does any CSV (validation first, all rows or none, one transaction,
one undo step, spreadsheet-safe cells). The plan re-reads the file at import time and refuses it
if its header changed since the user saw the mapping.

Presets (ops/csv_presets.py, re-exported here): per user, `csv_map_presets.json` in the app's
config folder (the caller passes the folder: ui.prefs.config_dir()).

Any thread (no UI); import_mapped mutates the project like import_csv (same thread rules).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from aimms_fast.errors import AimmsError
from aimms_fast.ops.csv_io import CsvReport, Issue, import_csv, normalize_header, read_text
from aimms_fast.ops.csv_safe import escape_cell, unescape_cell
from aimms_fast.ops.csv_table import RECOGNISED, Table, TableError, extract_table
from aimms_fast.ops.csv_vocab import NOTES, guesses, is_drop_header, phrase
from aimms_fast.ops.csv_presets import (PREFIX_KEY, PRESETS_FILE, TARGETS, load_presets,  # noqa: F401 (API)
                                        matching_preset, save_preset)

DROP_WORDS = {"-", "drop", "none", "skip", "ignore", ""}


@dataclass
class ColumnChoice:
    """One column of the file and where it goes. `how`: auto | preset | map (--map) | user (UI)."""
    index: int
    header: str
    target: str | None
    why: str
    how: str = "auto"
    score: float = 0.0
    filled: int = 0          # rows with a value in this column
    sample: str = ""         # the first value, for the dialog

    @property
    def label(self) -> str:
        return self.header.strip() or f"column {self.index + 1}"

    def to_dict(self) -> dict:
        return {"index": self.index, "header": self.header, "target": self.target, "why": self.why,
                "how": self.how, "score": self.score, "filled": self.filled, "sample": self.sample}


@dataclass
class MapPlan:
    """The proposed (or edited) mapping of one file, what was left out, and any blocking problem."""
    path: str
    encoding: str | None = None
    format: str | None = None          # csv | markdown
    delimiter: str | None = None
    fenced: bool = False
    header_line: int | None = None
    columns: list[ColumnChoice] = field(default_factory=list)
    rows: int = 0
    dropped_lines: list[Issue] = field(default_factory=list)
    file_problems: list[Issue] = field(default_factory=list)   # unreadable file, no table
    spec_problems: list[Issue] = field(default_factory=list)   # --map names an unknown column/field
    preset: str | None = None
    # Shot numbers that restart in every scene ("1", "2" under scene 1 and again under scene 2) make
    # names that repeat: the shot name is then "<this column's value>-<shot>" ("2-1"). Column index.
    name_prefix: int | None = None

    @property
    def problems(self) -> list[Issue]:
        """Everything that blocks the import, the mapping's own checks computed now."""
        mapping = _mapping_problems(self.columns, self.header_line) if self.columns else []
        return [*self.file_problems, *self.spec_problems, *mapping]

    @property
    def ok(self) -> bool:
        return not self.problems

    def targets(self) -> dict[str, str | None]:
        """header -> target, plus PREFIX_KEY -> the name-prefix column's header (presets store this)."""
        out = {c.label: c.target for c in self.columns}
        if self.name_prefix is not None:
            out[PREFIX_KEY] = self.columns[self.name_prefix].label
        return out

    def spec(self) -> str:
        """The mapping as `--map` text: every column, `-` for dropped, `Scene+Shot=shot_name` for a prefix."""
        def one(c):
            if c.target == "shot_name" and self.name_prefix is not None:
                return f"{self.columns[self.name_prefix].label}+{c.label}=shot_name"
            return f"{c.label}={c.target or '-'}"
        return io_row([one(c) for c in self.columns])

    def set_name_prefix(self, index: int | None) -> None:
        """Shot names as "<column index's value>-<shot>", or plain (None). The dialog's combo."""
        if index is not None and not 0 <= index < len(self.columns):
            raise AimmsError(f"no column {index + 1}", field="name_prefix")
        self.name_prefix = index

    def set_target(self, index: int, target: str | None) -> None:
        """The user's choice for one column (the dialog); `problems` follows at once."""
        if target is not None and target not in TARGETS:
            raise AimmsError(f"'{target}' is not a shot field", field="mapping", hint="fields: " + ", ".join(TARGETS))
        c = self.columns[index]
        c.target, c.how, c.why = target, "user", "chosen by you"
        self.spec_problems = []

    def report_lines(self) -> list[str]:
        out = [f"{self.path}: {self.rows} row(s), {self.format or '?'}"
               + (f", delimiter {self.delimiter!r}" if self.delimiter else "")
               + (", inside a ``` code block" if self.fenced else "")
               + (f", preset '{self.preset}'" if self.preset else "")]
        width = max((len(c.label) for c in self.columns), default=0)
        for c in self.columns:
            out.append(f"  {c.label:<{width}} -> {c.target or 'dropped'}  [{c.why}]")
        if self.name_prefix is not None:
            shot = next((c.label for c in self.columns if c.target == "shot_name"), "?")
            out.append(f"  shot names: '<{self.columns[self.name_prefix].label}>-<{shot}>' "
                       "(the shot numbers start again in every scene)")
        if any(c.target == NOTES for c in self.columns):
            out.append("  (notes: each value is added to the shot's description as a 'Column: value' line)")
        if self.dropped_lines:
            out.append(f"lines left out ({len(self.dropped_lines)}):")
            out += [f"  {i}" for i in self.dropped_lines]
        for p in self.problems:
            out.append(f"problem: {p}")
        return out

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "encoding": self.encoding, "format": self.format,
                "delimiter": self.delimiter, "fenced": self.fenced, "header_line": self.header_line,
                "rows": self.rows, "preset": self.preset, "spec": self.spec(),
                "name_prefix": None if self.name_prefix is None else self.columns[self.name_prefix].label,
                "columns": [c.to_dict() for c in self.columns],
                "dropped_lines": [i.to_dict() for i in self.dropped_lines],
                "problems": [i.to_dict() for i in self.problems]}

    # -- what csv_io.read_csv calls (import thread) ----------------------------------------------
    def rows_for_import(self, text: str, report: CsvReport) -> list[tuple[int, list[str]]] | None:
        """The file's table in AIMMS columns: [(header line, field names), (line, cells)…], or None
        with errors in `report`. Re-reads `text` so the import uses the file as it is now."""
        try:
            t = extract_table(text)
        except TableError as e:
            report.error(e.line, None, str(e))
            return None
        report.delimiter = t.delimiter or "|"
        if [h.strip() for h in t.header] != [c.header.strip() for c in self.columns]:
            report.error(t.header_line, None, "the file's columns changed since the mapping was made; "
                                              "open the import again to map them")
            return None
        for p in _mapping_problems(self.columns, t.header_line):
            report.error(p.line, p.column, p.message)
        if report.errors:
            return None
        return apply_mapping(t, self.columns, report, self.name_prefix)


def io_row(cells: list[str]) -> str:
    """Cells joined as one CSV line (quoted where a cell holds a comma or quote)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def _mapping_problems(columns: list[ColumnChoice], line: int | None) -> list[Issue]:
    out = []
    seen: dict[str, str] = {}
    for c in columns:
        if c.target in (None, NOTES):
            continue
        if c.target in seen:
            out.append(Issue(line, None, f"columns '{seen[c.target]}' and '{c.label}' both map to "
                                         f"{c.target}; map one of them elsewhere (or to notes)"))
        seen.setdefault(c.target, c.label)
    if "shot_name" not in seen:
        out.append(Issue(line, None, "no column is mapped to shot_name (every shot needs a name); map the "
                                     "column that names or numbers the shots to it (e.g. Shot=shot_name)"))
    return out


# -- proposing ------------------------------------------------------------------------------------
def _values(t: Table, i: int) -> list[str]:
    return [r[i] for _, r in t.rows if i < len(r) and r[i].strip()]


def propose(t: Table) -> list[ColumnChoice]:
    """A target for every column of `t`: the best unclaimed field by header (each AIMMS field once,
    the surest header first); useful leftovers -> notes; empty, picture and checkbox columns dropped."""
    cols = [ColumnChoice(i, h, None, "", filled=len(v := _values(t, i)), sample=(v[0].strip()[:80] if v else ""))
            for i, h in enumerate(t.header)]
    cand = []
    for c in cols:
        vals = _values(t, c.index)
        if normalize_header(c.header) == "shot_id" and vals and all(v.strip().isdigit() for v in vals):
            cand.append((1.0, c.index, "shot_id", "AIMMS's own column (whole numbers)"))
            continue
        for g in guesses(c.header):
            if g.score >= RECOGNISED and g.target != "shot_id":
                cand.append((g.score, c.index, g.target, g.why))
    cand.sort(key=lambda x: (-x[0], x[1]))
    taken: set[str] = set()
    for score, i, target, why in cand:
        c = cols[i]
        if c.target is not None or (target != NOTES and target in taken):
            continue
        if target == NOTES and not c.filled:
            continue
        c.target, c.score, c.why = target, score, why
        if target != NOTES:
            taken.add(target)
    for c in cols:
        if c.target is not None:
            continue
        wanted = [g.target for g in guesses(c.header) if g.score >= RECOGNISED and g.target != NOTES]
        if not c.filled:
            c.why = "empty in every row"
        elif is_drop_header(c.header):
            c.why = "a checkbox, picture or link column"
        elif wanted:
            other = next(x.label for x in cols if x.target == wanted[0])
            c.target, c.why = NOTES, f"{wanted[0]} is taken by '{other}'; kept in notes"
        else:
            c.target, c.why = NOTES, "not recognised; kept in notes so nothing is lost"
    return cols


def parse_spec(spec: str, columns: list[ColumnChoice], plan: MapPlan | None = None) -> list[Issue]:
    """Apply "Col=field,Col2=notes,Col3=-" to `columns` (how='map'); columns it does not name keep
    their proposal. "Scene+Shot=shot_name" names shots "<Scene>-<Shot>" (plan.name_prefix); a plain
    "Shot=shot_name" turns that off. Returns problems (unknown column or field) instead of raising."""
    problems = []
    try:
        parts = next(csv.reader([spec], skipinitialspace=True))
    except (csv.Error, StopIteration):
        parts = []
    by_name = {c.label.casefold(): c for c in columns}
    by_phrase = {phrase(c.label): c for c in columns}
    for part in parts:
        if not part.strip() or part.strip().lower() == "auto":
            continue
        if "=" not in part:
            problems.append(Issue(None, None, f"--map: '{part}' is not Column=field (e.g. \"Shot=shot_name\")"))
            continue
        name, _, target = part.rpartition("=")
        c = by_name.get(name.strip().casefold()) or by_phrase.get(phrase(name))
        if c is None and "+" in name and plan is not None:
            a, _, b = name.partition("+")
            ca = by_name.get(a.strip().casefold()) or by_phrase.get(phrase(a))
            c = by_name.get(b.strip().casefold()) or by_phrase.get(phrase(b))
            if ca is not None and c is not None and normalize_header(target) == "shot_name":
                plan.name_prefix = ca.index
            else:
                c = None
        elif c is not None and plan is not None and normalize_header(target) == "shot_name":
            plan.name_prefix = None
        if c is None:
            problems.append(Issue(None, None, f"--map: the file has no column '{name.strip()}'; its columns are: "
                                  + ", ".join(x.label for x in columns)))
            continue
        t = target.strip()
        if t.lower() in DROP_WORDS:
            c.target, c.how, c.why = None, "map", "dropped by --map"
            continue
        t = NOTES if t.lower() == NOTES else normalize_header(t)
        if t not in TARGETS:
            problems.append(Issue(None, None, f"--map: '{target.strip()}' is not a shot field; fields are: "
                                  + ", ".join(TARGETS) + " (or - to drop the column)"))
            continue
        c.target, c.how, c.why = t, "map", "set by --map"
    return problems


def plan_mapping(path: str | Path, mapping: str = "auto", *, preset: dict | None = None,
                 preset_name: str | None = None) -> MapPlan:
    """Read `path` and propose a mapping; `preset` (header -> target, see load_presets) and then
    `mapping` ("auto" or "Col=field,…") override it. Never raises for a bad file: see `problems`."""
    report = CsvReport(path=str(path))
    plan = MapPlan(path=str(path))
    text = read_text(Path(path), report)
    plan.encoding = report.encoding
    plan.file_problems += report.errors
    if text is None:
        return plan
    try:
        t = extract_table(text)
    except TableError as e:
        plan.file_problems.append(Issue(e.line, None, str(e)))
        return plan
    plan.format, plan.delimiter, plan.fenced = t.format, t.delimiter, t.fenced
    plan.header_line, plan.rows, plan.dropped_lines = t.header_line, len(t.rows), t.dropped
    plan.columns = propose(t)
    plan.name_prefix = propose_name_prefix(t, plan.columns)
    if preset:
        plan.preset = preset_name
        by = {phrase(k): v for k, v in preset.items() if k != PREFIX_KEY}
        for c in plan.columns:
            if phrase(c.label) in by:
                target = by[phrase(c.label)]
                c.target, c.how, c.why = target if target in TARGETS else None, "preset", f"preset '{preset_name}'"
        want = phrase(preset.get(PREFIX_KEY) or "")
        plan.name_prefix = next((c.index for c in plan.columns if want and phrase(c.label) == want), None)
    plan.spec_problems = parse_spec(mapping or "auto", plan.columns, plan)
    return plan


def propose_name_prefix(t: Table, columns: list[ColumnChoice]) -> int | None:
    """The section column, when shot names repeat and "<section>-<shot>" would make them unique."""
    shot = next((c for c in columns if c.target == "shot_name"), None)
    sect = next((c for c in columns if c.target == "section"), None)
    if shot is None or sect is None:
        return None
    pairs = [(r[sect.index].strip() if sect.index < len(r) else "", r[shot.index].strip() if shot.index < len(r) else "")
             for _, r in t.rows]
    names = [n for _, n in pairs if n]
    if len(set(names)) == len(names) or len(set(pairs)) < len(pairs) or not all(s for s, _ in pairs):
        return None
    return sect.index


# -- applying -------------------------------------------------------------------------------------
def apply_mapping(t: Table, columns: list[ColumnChoice], report: CsvReport,
                  name_prefix: int | None = None) -> list[tuple[int, list[str]]]:
    """Rows in AIMMS columns. NOTES columns become "Col: value" lines after the description
    (the description column is added when the file has none); `name_prefix` (a column index) makes
    shot names "<its value>-<shot>"."""
    fields = [c.target for c in columns if c.target not in (None, NOTES)]
    notes = [c for c in columns if c.target == NOTES]
    if notes and "description" not in fields:
        fields.append("description")
    pos = {f: k for k, f in enumerate(fields)}
    out: list[tuple[int, list[str]]] = [(t.header_line, list(fields))]
    n = len(t.header)
    for line, cells in t.rows:
        if len(cells) > n and any(x.strip() for x in cells[n:]):
            report.error(line, None, f"this row has {len(cells)} values but the header has {n} columns "
                                     f"(a value containing '{report.delimiter}' must be in quotes)")
            continue
        row = [""] * len(fields)
        for c in columns:
            if c.target not in (None, NOTES) and c.index < len(cells):
                row[pos[c.target]] = cells[c.index]
        if name_prefix is not None and "shot_name" in pos and name_prefix < len(cells):
            pre, name = cells[name_prefix].strip(), row[pos["shot_name"]].strip()
            if pre and name:
                row[pos["shot_name"]] = f"{pre}-{name}"
        extra = [f"{c.label}: {unescape_cell(cells[c.index].strip())}" for c in notes
                 if c.index < len(cells) and cells[c.index].strip()]
        if extra:
            desc = unescape_cell(row[pos["description"]].strip())
            # escaped again so csv_io's unescape gives back exactly this text
            row[pos["description"]] = escape_cell((desc + "\n\n" if desc else "") + "\n".join(extra))
        out.append((line, row))
    return out


@dataclass
class MappedImport:
    """import_mapped's result: the mapping used and csv_io's report of the import."""
    plan: MapPlan
    report: CsvReport

    def to_dict(self) -> dict:
        return {**self.report.to_dict(), "mapping": self.plan.to_dict()}


def import_mapped(project, path: str | Path, plan: MapPlan | str = "auto", **kw) -> MappedImport:
    """Import `path` through `plan` (a MapPlan, or "auto"/"Col=field,…" to make one). `kw` are
    import_csv's (dry_run, update, placeholders, progress, cancel, valid_only). Same rules as
    import_csv: everything checked first, all rows or none, one transaction, one undo step."""
    if not isinstance(plan, MapPlan):
        plan = plan_mapping(path, plan)
    if not plan.ok:
        report = CsvReport(path=str(path), dry_run=bool(kw.get("dry_run")), encoding=plan.encoding)
        report.errors = list(plan.problems)
        return MappedImport(plan, report)
    return MappedImport(plan, import_csv(project, path, mapping=plan, **kw))
