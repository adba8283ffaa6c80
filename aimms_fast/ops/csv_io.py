"""Shot-list CSV in AIMMS's columns: validated import (all rows or none) and Excel-friendly export.

Import reads whatever a spreadsheet writes: UTF-8 with or without BOM, UTF-16 ("Unicode text"),
Windows-1252; delimiters `, ; tab |` (an Excel `sep=` line is honoured); quoted multi-line fields;
headers in any case/spacing ("Shot Name" -> shot_name). Everything is checked first and reported
per line/column; only a clean file is imported, in one transaction, so a bad row never leaves half
a shot list behind. Export writes one timestamped CSV per table (UTF-8 with BOM, CRLF: Excel opens
it with the right characters).
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from aimms_fast.errors import AimmsError, check_cancel
from aimms_fast.ops.csv_safe import escape_cell, unescape_cell
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.db import utc_now, utc_stamp

DELIMITERS = [",", ";", "\t", "|"]
# Columns an import may carry: the user fields plus the two the store manages.
IMPORT_COLUMNS = ["shot_id", *A.SHOT_FIELDS, "created_date"]
# Spellings spreadsheets commonly use for our columns (after normalize_header).
COLUMN_ALIASES = {
    "order": "order_number", "order_no": "order_number", "no": "order_number", "number": "order_number",
    "shot": "shot_name", "name": "shot_name", "shotname": "shot_name",
    "id": "shot_id", "shotid": "shot_id",
    "color_scheme_image": "colour_scheme_image", "colour_scheme": "colour_scheme_image",
    "color_scheme": "colour_scheme_image",
    "lora1": "lora_1", "lora2": "lora_2", "lora3": "lora_3",
    "created": "created_date", "created_at": "created_date",
}
EXPORT_TABLES = ("shots", "takes", "assets")
_EXPORT_ORDER = {"shots": "order_number, shot_id", "takes": "shot_id, take_type, file_path",
                 "assets": "asset_type, asset_name, id_key"}
Progress = Callable[[int, int], None] | None


# -- report -----------------------------------------------------------------------------------
@dataclass
class Issue:
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column '{self.column}'")
        return (", ".join(where) + ": " if where else "") + self.message

    def to_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class CsvReport:
    """What an import found and did. `ok` is False when anything blocks the import."""
    path: str
    dry_run: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    imported: int = 0
    updated: int = 0
    shot_ids: list[int] = field(default_factory=list)
    # valid_only: the problems of rows left out (moved here from `errors`) and their lines
    skipped: list[Issue] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, line, column, message) -> None:
        self.errors.append(Issue(line, column, message))

    def warn(self, line, column, message) -> None:
        self.warnings.append(Issue(line, column, message))

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "dry_run": self.dry_run, "encoding": self.encoding,
                "delimiter": self.delimiter, "columns": self.columns, "rows": self.rows,
                "imported": self.imported, "updated": self.updated, "shot_ids": self.shot_ids,
                "errors": [i.to_dict() for i in self.errors], "warnings": [i.to_dict() for i in self.warnings],
                "skipped": [i.to_dict() for i in self.skipped], "skipped_lines": self.skipped_lines}

    @property
    def valid_rows(self) -> int:
        """Rows without a problem of their own (what `valid_only` would import)."""
        bad = {i.line for i in self.errors if i.line in self._row_lines} | set(self.skipped_lines)
        return self.rows - len(bad)

    _row_lines: set = field(default_factory=set, repr=False)

    def raise_for_errors(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more problem(s))" if len(self.errors) > 1 else ""
        raise AimmsError(first.message + more, path=self.path, line=first.line, field=first.column,
                         hint="nothing was imported; fix the file and import it again")


@dataclass
class _Row:
    line: int
    values: dict  # column -> value (None for empty)


# -- reading ----------------------------------------------------------------------------------
def normalize_header(name: str) -> str:
    """'Shot Name' -> 'shot_name', ' ORDER-Number ' -> 'order_number', 'Colour Scheme (Image)' ->
    'colour_scheme_image'; then known aliases."""
    s = unicodedata.normalize("NFKC", name).replace("\ufeff", "").strip().lower()
    s = re.sub(r"[\s\-.\/]+", "_", s)
    s = re.sub(r"[^\w]", "", s)
    s = re.sub(r"_+", "_", s).strip("_")
    return COLUMN_ALIASES.get(s, s)


def decode_bytes(data: bytes, report: CsvReport) -> str | None:
    """Text of a CSV file, or None with an error in `report` (empty, binary, unknown encoding)."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        report.error(None, None, "the file is empty (0 bytes)" if not data else
                     "the file has no text (only blank lines or a byte-order mark)")
        return None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel "Unicode text": UTF-16 with BOM
        try:
            report.encoding = "utf-16"
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            report.error(None, None, f"the file says UTF-16 but is not valid UTF-16 ({e.reason})")
            return None
    if b"\x00" in data:
        report.error(data[:data.index(b"\x00")].count(b"\n") + 1, None,
                     "this is a binary file, not a CSV (it contains NUL bytes)")
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        enc, body = "utf-8-sig", data
    else:
        enc, body = "utf-8", data
    try:
        text = body.decode(enc)
    except UnicodeDecodeError as e:
        line = body[:e.start].count(b"\n") + 1
        try:
            text = data.decode("cp1252")
            enc = "cp1252"
            report.warn(line, None, "the file is not UTF-8; read it as Windows-1252 (cp1252). "
                                    "Check accented characters after the import")
        except UnicodeDecodeError as e2:
            line2 = data[:e2.start].count(b"\n") + 1
            report.error(line2, None, f"unrecognised text encoding: byte 0x{data[e2.start]:02x} is neither "
                                      "UTF-8 nor Windows-1252; save the file as 'CSV UTF-8'")
            return None
    report.encoding = enc
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if controls > max(2, len(text) // 200):
        report.error(None, None, f"this does not look like a text CSV ({controls} control characters); "
                                 "is it a spreadsheet or image file renamed to .csv?")
        return None
    return text


def _header_line(text: str) -> tuple[str, str | None, int]:
    """(first non-empty line, delimiter from an Excel `sep=X` line or None, lines to skip)."""
    lines = text.splitlines()
    skip = 0
    forced = None
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    if skip < len(lines):
        m = re.fullmatch(r'"?sep=(.)"?,*', lines[skip].strip(), flags=re.I)
        if m:
            forced = m.group(1)
            skip += 1
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    return (lines[skip] if skip < len(lines) else ""), forced, skip


def choose_delimiter(text: str) -> str:
    """The delimiter under which the header names the most known columns; csv.Sniffer breaks ties."""
    header, forced, _ = _header_line(text)
    if forced:
        return forced
    known = set(IMPORT_COLUMNS)
    scores = {}
    for d in DELIMITERS:
        try:
            cells = next(csv.reader([header], delimiter=d))
        except (csv.Error, StopIteration):
            cells = []
        scores[d] = sum(1 for c in cells if normalize_header(c) in known)
    best = max(scores.values())
    tied = [d for d in DELIMITERS if scores[d] == best]
    if len(tied) == 1:
        return tied[0]
    try:
        sniffed = csv.Sniffer().sniff(text[:8192], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    return sniffed if sniffed in tied else tied[0]


# Whole numbers beyond this are refused per line: SQLite stores at most 2**63-1 (OverflowError
# on insert) and order numbers take part in float maths (exact only up to 2**53).
MAX_WHOLE = 2 ** 53


def _parse_order(value: str) -> int:
    s = value.strip()
    try:
        n = int(s)
    except ValueError:
        f = float(s.replace(",", "."))  # "3.0" from Excel, "3,0" from a comma-decimal locale
        if not f.is_integer():
            raise ValueError(s) from None
        n = int(f)
    if abs(n) > MAX_WHOLE:
        raise ValueError(s)
    return n


def _parse_date(value: str) -> str | None:
    """AIMMS's `YYYY-MM-DDTHH:MM:SSZ` (UTC) from an ISO-ish date, or None."""
    s = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        d = datetime.fromisoformat(s)
        if d.tzinfo is None:
            d = d.replace(tzinfo=timezone.utc)
        # 9999-12-31T23:59:59-14:00 is past year 9999 in UTC: OverflowError, a bad date like any other
        d = d.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}Z"


def _iso_but_out_of_range(s: str) -> bool:
    try:
        datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        return True
    except ValueError:
        return False


def read_text(path: Path, report: CsvReport) -> str | None:
    """The file's text (decode_bytes), or None with the reason in `report`."""
    if path.exists() and not path.is_file() and not path.is_dir():
        report.error(None, None, "not a regular file (a FIFO or device); reading it could block forever")
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        report.error(None, None, "file not found")
        return None
    except IsADirectoryError:
        report.error(None, None, "this is a folder, not a CSV file")
        return None
    except PermissionError:
        report.error(None, None, "the file is not readable (permission denied)")
        return None
    return decode_bytes(data, report)


def read_csv(path: str | Path, *, ignore_unknown: bool = False, mapping=None) -> tuple[CsvReport, list[_Row]]:
    """Parse and check a shot-list CSV without touching any project. `mapping` (ops/csv_map.MapPlan)
    reads another tool's table instead: its columns mapped to AIMMS's, wrappers set aside."""
    path = Path(path)
    report = CsvReport(path=str(path))
    text = read_text(path, report)
    if text is None:
        return report, []
    if mapping is not None:
        raw_rows = mapping.rows_for_import(text, report)
        return (report, []) if raw_rows is None else _check_table(raw_rows, report, ignore_unknown)
    delim = choose_delimiter(text)
    report.delimiter = delim
    _, _, skip = _header_line(text)
    # The csv module's default field limit (128 KiB) ends a long description or pasted script in
    # "field larger than field limit"; the whole file is in memory already, so a cell can be as big.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    raw_rows: list[tuple[int, list[str]]] = []
    prev = 0
    try:
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if start <= skip:
                continue
            raw_rows.append((start, cells))
    except csv.Error as e:
        report.error(prev + 1, None, f"cannot parse this record ({e}); check its quotes "
                                     "(a field with quotes must be wrapped in quotes, inner quotes doubled)")
        return report, []
    return _check_table(raw_rows, report, ignore_unknown)


def _check_table(raw_rows, report: CsvReport, ignore_unknown: bool) -> tuple[CsvReport, list[_Row]]:
    raw_rows = [(ln, c) for ln, c in raw_rows if any(x.strip() for x in c)]
    if not raw_rows:
        report.error(None, None, "the file has no header row")
        return report, []
    header_line, header = raw_rows[0]
    cols = _check_header(header_line, header, raw_rows[1:], report, ignore_unknown)
    if report.errors:
        return report, []
    rows = _check_rows(raw_rows[1:], header, cols, report)
    report.rows = len(rows)
    if not rows and not report.errors:
        report.error(None, None, "the file has a header but no shot rows")
    return report, rows


def _check_header(line: int, header: list[str], data_rows, report: CsvReport, ignore_unknown: bool
                  ) -> list[str | None]:
    """Map each header cell to a known column (None = ignored); reports unknown/duplicate names."""
    known = set(IMPORT_COLUMNS)
    cols: list[str | None] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        col = normalize_header(name)
        if not col:
            if any(i < len(c) and c[i].strip() for _, c in data_rows):
                report.error(line, f"#{i + 1}", f"column {i + 1} has values but no header name")
            cols.append(None)
            continue
        if col not in known:
            msg = (f"unknown column '{name.strip()}'; AIMMS columns are: " + ", ".join(IMPORT_COLUMNS))
            if ignore_unknown:
                report.warn(line, name.strip(), msg + " (ignored)")
            else:
                report.error(line, name.strip(), msg + " (rename or remove it, or import with --ignore-unknown)")
            cols.append(None)
            continue
        if col in seen:
            report.error(line, name.strip(), f"column '{col}' appears twice (columns {seen[col] + 1} and {i + 1})")
            cols.append(None)
            continue
        seen[col] = i
        cols.append(col)
    report.columns = [c for c in cols if c]
    if "shot_name" not in seen and not report.errors:
        report.error(line, "shot_name", "the header has no shot_name column (every shot needs a name)")
    return cols


def _check_rows(data_rows, header, cols, report: CsvReport) -> list[_Row]:
    rows = []
    ncols = len(header)
    for line, cells in data_rows:
        if len(cells) > ncols and any(c.strip() for c in cells[ncols:]):
            report.error(line, None, f"this row has {len(cells)} values but the header has {ncols} columns "
                                     f"(a value containing '{report.delimiter}' must be in quotes)")
            continue
        values = {}
        for i, col in enumerate(cols):
            if col is None:
                continue
            v = unescape_cell(cells[i]) if i < len(cells) else ""  # our export's formula guard
            v = v.replace("\r\n", "\n").replace("\r", "\n")
            values[col] = v if v.strip() else None
        name = values.get("shot_name")
        if name is None:
            report.error(line, "shot_name", "shot_name is empty (every shot needs a name)")
        else:
            values["shot_name"] = name.strip()
        if values.get("order_number") is not None:
            try:
                values["order_number"] = _parse_order(values["order_number"])
            except ValueError:
                report.error(line, "order_number",
                             f"order_number must be a whole number up to {MAX_WHOLE:,} "
                             f"(got '{values['order_number'].strip()[:40]}')")
        if values.get("shot_id") is not None:
            try:
                sid = int(values["shot_id"].strip())
                if not 1 <= sid <= MAX_WHOLE:
                    raise ValueError
                values["shot_id"] = sid
            except ValueError:
                report.error(line, "shot_id", f"shot_id must be a positive whole number "
                                              f"(got '{values['shot_id'].strip()[:40]}')")
        if values.get("created_date") is not None:
            d = _parse_date(values["created_date"])
            if d is None:
                shown = values["created_date"].strip()[:40]
                why = "is outside the years 1..9999 once converted to UTC" if _iso_but_out_of_range(shown) \
                    else "is not an ISO date (YYYY-MM-DDTHH:MM:SSZ)"
                report.warn(line, "created_date", f"'{shown}' {why}; the import time is used")
            values["created_date"] = d
        rows.append(_Row(line, values))
    return rows


# -- import -----------------------------------------------------------------------------------
def _check_against_project(conn, rows: list[_Row], report: CsvReport, update: bool) -> None:
    existing_ids = {r[0] for r in conn.execute("SELECT shot_id FROM shots")}
    has_ids = any(r.values.get("shot_id") is not None for r in rows)
    if has_ids and not update:
        report.warn(None, "shot_id", "shot_id values are ignored: every row becomes a new shot "
                                     "(import with --update to change existing shots by id)")
    if update:
        seen: dict[int, int] = {}
        for r in rows:
            sid = r.values.get("shot_id")
            if sid is None:
                continue
            if sid in seen:
                report.error(r.line, "shot_id", f"shot_id {sid} also on line {seen[sid]}")
            seen[sid] = r.line
            if sid not in existing_ids:
                report.warn(r.line, "shot_id", f"no shot with id {sid}; the row is added as a new shot")
    updating = {r.values["shot_id"] for r in rows
                if update and r.values.get("shot_id") in existing_ids}
    in_db: dict[str, list[int]] = {}
    for sid, name in conn.execute("SELECT shot_id, shot_name FROM shots"):
        if sid not in updating and name:
            in_db.setdefault(name, []).append(sid)
    first_line: dict[str, int] = {}
    for r in rows:
        name = r.values.get("shot_name")
        if not name:
            continue
        if name in first_line:
            report.warn(r.line, "shot_name", f"shot name '{name}' is also on line {first_line[name]} "
                                             "(duplicates are allowed)")
        else:
            first_line[name] = r.line
        if name in in_db:
            report.warn(r.line, "shot_name", f"a shot named '{name}' already exists (id "
                                             f"{', '.join(map(str, in_db[name]))}; duplicates are allowed)")


def _set_aside_bad_rows(report: CsvReport, rows: list[_Row]) -> list[_Row]:
    """valid_only: rows with a problem of their own leave the import and their problems move from
    `errors` to `skipped`; problems of the whole file (no line, or the header line) stay errors."""
    row_lines = {r.line for r in rows}
    bad = {i.line for i in report.errors if i.line in row_lines}
    report.skipped += [i for i in report.errors if i.line in bad]
    report.errors = [i for i in report.errors if i.line not in bad]
    report.skipped_lines = sorted(set(report.skipped_lines) | bad)
    return [r for r in rows if r.line not in bad]


def import_csv(project, path: str | Path, *, dry_run: bool = False, update: bool = False,
               ignore_unknown: bool = False, placeholders: bool = True, progress: Progress = None,
               cancel=None, valid_only: bool = False, mapping=None) -> CsvReport:
    """Validate `path`, then (unless dry_run or any error) add every row as a shot in one transaction.

    New shots get AIMMS's placeholder takes (base_01.png, video_01.mp4 + video_01.png, zero bytes).
    With `update`, rows whose shot_id exists change that shot instead. With `valid_only`, rows that
    have a problem of their own are left out (listed in `report.skipped`) and the rest is imported,
    still in one transaction; problems of the whole file still block. `cancel` (threading.Event)
    stops it between batches with errors.Cancelled, leaving the project as it was. One undo step.
    `mapping`: see read_csv (ops/csv_map.import_mapped passes it). Returns the report; callers
    wanting an exception use `report.raise_for_errors()`.
    """
    if not dry_run:
        project.require_writable()
    report, rows = read_csv(path, ignore_unknown=ignore_unknown, mapping=mapping)
    report._row_lines = {r.line for r in rows}
    report.dry_run = dry_run
    if valid_only and rows:
        rows = _set_aside_bad_rows(report, rows)
    if report.errors:
        return report
    conn = project.conn
    _check_against_project(conn, rows, report, update)
    if valid_only and report.errors:
        rows = _set_aside_bad_rows(report, rows)
    if report.errors or dry_run:
        return report
    if not rows:
        report.error(None, None, "no valid rows to import")
        return report
    existing = {r[0] for r in conn.execute("SELECT shot_id FROM shots")}
    updates = [r for r in rows if update and r.values.get("shot_id") in existing]
    inserts = [r for r in rows if r not in updates]
    _write(project, inserts, updates, report, placeholders, progress, cancel)
    return report


def _write(project, inserts: list[_Row], updates: list[_Row], report: CsvReport, placeholders: bool,
           progress: Progress, cancel=None) -> None:
    from aimms_fast.ops import history
    from aimms_fast.ops.takes import placeholder_rows
    from aimms_fast.store.pending import pending_files
    from aimms_fast.store.shots import insert_shot, plan_shot_ids, update_shots
    from aimms_fast.store.takes import insert_takes, refresh_shot_order
    conn = project.conn
    lay = project.layout
    now = utc_now()
    ids = plan_shot_ids(conn, lay, len(inserts))
    orders = [r.values["order_number"] for r in [*inserts, *updates] if r.values.get("order_number") is not None]
    next_order = max([conn.execute("SELECT COALESCE(MAX(order_number), 0) FROM shots").fetchone()[0], *orders]) + 1
    shot_rows = []
    for sid, r in zip(ids, inserts):
        v = dict(r.values)
        v.pop("shot_id", None)
        if v.get("order_number") is None:
            v["order_number"] = next_order
            next_order += 1
        v["created_date"] = v.get("created_date") or now
        shot_rows.append((sid, v))
    take_rows = []
    if placeholders:
        for sid, v in shot_rows:
            take_rows += placeholder_rows(sid, v["order_number"], "image", 1, 1)
            take_rows += placeholder_rows(sid, v["order_number"], "video", 1, 1)
    upd_ids = [r.values["shot_id"] for r in updates]
    n = len(inserts) + len(updates)
    rec = history.begin(project, f"Imported {n} shot{'s' if n != 1 else ''} from {Path(report.path).name}",
                        what="all", shot_ids=ids + upd_ids,
                        scope={"shots": history.ids_in("shot_id", ids + upd_ids),
                               "takes": history.ids_in("shot_id", ids),
                               "fast_takes": history.ids_in("shot_id", ids + upd_ids)})
    total = len(take_rows) + 1
    # Files first, registered as pending: a crash before the rows commit leaves files that recovery
    # moves to the trash (store/pending.py); a cancel or error removes them here.
    try:
        with pending_files(project.db, lay, [t["rel"] for t in take_rows]) as pf:
            for k, t in enumerate(take_rows):
                pf.create_empty(t["rel"])
                if k % 64 == 0:
                    check_cancel(cancel, "CSV import")
                    if progress:
                        progress(k, total)
            with pf.commit() as c:
                for sid, v in shot_rows:
                    insert_shot(c, v, shot_id=sid)
                for r in updates:
                    v = {k: val for k, val in r.values.items() if k not in ("shot_id", "created_date")}
                    if v.get("order_number") is None:
                        v.pop("order_number", None)
                    if v:
                        update_shots(c, [r.values["shot_id"]], v)
                insert_takes(c, take_rows)
                if updates:
                    refresh_shot_order(c, upd_ids)
                for t in take_rows:
                    rec.created(t["rel"])
                project.audit("import_csv", f"{report.path}: {len(inserts)} new, {len(updates)} updated"
                              + (f", {len(report.skipped_lines)} invalid row(s) left out" if report.skipped_lines else ""))
                rec.finish()
                check_cancel(cancel, "CSV import")  # last chance: still inside the transaction
    except BaseException:
        for sid in ids:
            d = lay.shot_dir(sid)
            if d.exists() and not any(d.iterdir()):
                d.rmdir()
        raise
    for sid in ids:  # AIMMS makes the folder with the shot even without placeholders
        lay.shot_dir(sid).mkdir(parents=True, exist_ok=True)
    if progress:
        progress(total, total)
    report.imported = len(inserts)
    report.updated = len(updates)
    report.shot_ids = ids + upd_ids
    project.refresh_mapping()


# -- export -----------------------------------------------------------------------------------
def unique_path(path: Path) -> Path:
    """`path`, or `name_2.ext`, `name_3.ext`… if it exists (two exports in one second)."""
    if not path.exists():
        return path
    n = 2
    while True:
        cand = path.with_name(f"{path.stem}_{n}{path.suffix}")
        if not cand.exists():
            return cand
        n += 1


def write_rows_csv(path: Path, columns: list[str], rows) -> int:
    """UTF-8 with BOM and CRLF, every field that needs it quoted: Excel reads it as written.
    Text a spreadsheet would run as a formula gets a leading apostrophe (ops/csv_safe.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            w.writerow(columns)
            for r in rows:
                w.writerow(["" if v is None else escape_cell(v) for v in r])
                n += 1
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


def export_table(conn, table: str, path: Path) -> int:
    if table not in EXPORT_TABLES:
        raise AimmsError(f"cannot export table '{table}'", field="table", hint="tables: " + ", ".join(EXPORT_TABLES))
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")]
    cur = conn.execute(f"SELECT {', '.join(f'[{c}]' for c in cols)} FROM [{table}] ORDER BY {_EXPORT_ORDER[table]}")
    return write_rows_csv(path, cols, cur)


def export_csv(project, *, tables=EXPORT_TABLES, dest_dir: str | Path | None = None) -> list[dict]:
    """One `<table>_<UTC stamp>.csv` per table into data/csv/ (or dest_dir); returns path + rows each."""
    dest = Path(dest_dir) if dest_dir else project.layout.csv
    stamp = utc_stamp()
    out = []
    try:
        for t in tables:
            p = unique_path(dest / f"{t}_{stamp}.csv")
            out.append({"table": t, "path": str(p), "rows": export_table(project.conn, t, p)})
    except OSError as e:
        raise AimmsError(f"cannot write the CSV ({e.strerror or e})", path=e.filename or dest,
                         hint="check free space and permissions of the folder") from e
    project.log.info("exported CSV: %s", ", ".join(f"{o['table']} ({o['rows']})" for o in out))
    return out
