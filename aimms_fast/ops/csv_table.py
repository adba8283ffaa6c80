"""Find the shot-list table inside a text file that is not only a table (issue 12, item 1).

Files an LLM writes arrive wrapped: "Sure! Here is your shot list:" before, a ```csv code fence
around, "Let me know if…" after, the header repeated every few rows (long answers are produced in
parts), "**Scene 2**" heading lines between rows, or the table in Markdown (`| a | b |` with a
`|---|` rule). Spreadsheets add an Excel `sep=;` line. This module keeps every line number of
the original file, so csv_io's report still says "line 14" for the line the user sees as 14,
and lists every line it set aside with the reason, so nothing disappears unexplained.

`extract_table(text)` returns the header and rows (cells as read, nothing mapped yet). Pure; any thread.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from aimms_fast.ops.csv_io import DELIMITERS, Issue
from aimms_fast.ops.csv_vocab import guesses, phrase

RECOGNISED = 0.84          # a header cell counts as known from this guess score on
_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SEP_LINE = re.compile(r'^"?sep=(.)"?[,;\t|]*$', re.I)


@dataclass
class Table:
    """The table found in a file: `header` cells at `header_line`, `rows` as (line, cells), and
    every non-blank line left out with its reason in `dropped` (Issue(line, None, reason))."""
    format: str                        # "csv" or "markdown"
    delimiter: str | None
    header_line: int
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    dropped: list[Issue] = field(default_factory=list)
    fenced: bool = False


class TableError(ValueError):
    """No table could be found, or a record cannot be parsed; `line` says where (or None)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _short(s: str, n: int = 60) -> str:
    s = s.strip()
    return s if len(s) <= n else s[:n - 1] + "…"


def _unfence(lines: list[str], dropped: list[Issue]) -> bool:
    """Blank every line outside ``` code blocks (and the fence lines) when the file has any."""
    if not any(_FENCE.match(x) for x in lines):
        return False
    inside = False
    for i, x in enumerate(lines):
        if _FENCE.match(x):
            inside = not inside
            lines[i] = ""
            continue
        if not inside and x.strip():
            dropped.append(Issue(i + 1, None, f"text outside the ``` code block, not part of the table: "
                                              f"'{_short(x)}'"))
            lines[i] = ""
    return True


def _md_cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    out = []
    for c in re.split(r"(?<!\\)\|", s):
        c = re.sub(r"<br\s*/?>", "\n", c.replace("\\|", "|"), flags=re.I).strip()
        m = re.fullmatch(r"(\*\*|__|\*|_|`)(.+)\1", c, flags=re.S)  # a cell wholly in bold/italics/code
        out.append(m.group(2).strip() if m else c)
    return out


def _markdown(lines: list[str], dropped: list[Issue], fenced: bool) -> Table | None:
    rules = [i for i, x in enumerate(lines) if _MD_RULE.match(x) and "|" in x and i > 0 and "|" in lines[i - 1]]
    if not rules:
        return None
    h = rules[0] - 1
    header = _md_cells(lines[h])
    t = Table("markdown", None, h + 1, header, fenced=fenced)
    t.dropped = dropped
    for i, x in enumerate(lines):
        if not x.strip() or i == h:
            continue
        if i < h:
            dropped.append(Issue(i + 1, None, f"text before the table: '{_short(x)}'"))
        elif i in rules:
            continue          # the |---| rule under a (repeated) header: layout, not data
        elif x.lstrip().startswith("|"):
            cells = _md_cells(x)
            if is_repeat(cells, header):
                dropped.append(Issue(i + 1, None, "the header row again (repeated inside the data)"))
            else:
                t.rows.append((i + 1, cells))
        else:
            where = "after the table" if not any(y.lstrip().startswith("|") for y in lines[i + 1:]) else \
                "between table rows (a heading or note, not a shot row)"
            dropped.append(Issue(i + 1, None, f"text {where}: '{_short(x)}'"))
    return t


def _split(line: str, d: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=d))
    except (csv.Error, StopIteration):
        return [line]


def _find_header(lines: list[str], forced: str | None) -> tuple[str, int]:
    """(delimiter, index of the header line): the line among the first 40 with the most cells that
    name a known column; ties go to the line whose cell count the next lines repeat, then the earlier."""
    # a header comes after at most a few lines of chatter: 40 non-blank lines is plenty
    cand = [i for i, x in enumerate(lines) if x.strip()][:40]
    best = None
    for d in ([forced] if forced else DELIMITERS):
        for k, i in enumerate(cand):
            cells = _split(lines[i], d)
            if len(cells) < 2:
                continue
            known = sum(1 for c in cells if (g := guesses(c)) and g[0].score >= RECOGNISED)
            after = [len(_split(lines[j], d)) for j in cand[k + 1:k + 6]]
            same = sum(1 for n in after if n == len(cells))
            key = (known, same, -i, -DELIMITERS.index(d) if d in DELIMITERS else 0)
            if best is None or key > best[0]:
                best = (key, d, i)
    if best is None:
        raise TableError("no table found: no line has two or more values separated by , ; tab or |")
    (known, same, *_), d, i = best
    if known == 0 and same == 0:
        raise TableError("no table found: no line looks like a header row (no known column names, and no "
                         "lines below it with the same number of values)", i + 1)
    return d, i


def is_repeat(cells: list[str], header: list[str], hp: list[str] | None = None) -> bool:
    """A header row again (LLMs repeat it every few rows): most cells equal the header's. `hp`: the
    header's phrases, when the caller has them (a 20,000-row file: 1.3 s -> 0.7 s CPU)."""
    hp = hp if hp is not None else [phrase(h) for h in header]
    # a cell much longer than its header cell cannot read the same: skip phrase() for it
    same = sum(1 for k, c in enumerate(cells)
               if k < len(hp) and hp[k] and len(c) <= 2 * len(header[k]) + 8 and phrase(c) == hp[k])
    filled = sum(1 for c in cells if c.strip())
    return filled > 0 and same >= max(2 if len(header) > 1 else 1, (filled * 3 + 4) // 5)


def _csv(lines: list[str], dropped: list[Issue], fenced: bool) -> Table:
    forced = None
    for i, x in enumerate(lines):
        if x.strip():
            m = _SEP_LINE.match(x.strip())
            if m:
                forced = m.group(1)
                lines[i] = ""
            break
    d, h = _find_header(lines, forced)
    for i in range(h):
        if lines[i].strip():
            dropped.append(Issue(i + 1, None, f"text before the table: '{_short(lines[i])}'"))
    header = _split(lines[h], d)
    t = Table("csv", d, h + 1, header, fenced=fenced)
    t.dropped = dropped
    # csv's default 128 KiB field limit would end a pasted script; the text is in memory already.
    csv.field_size_limit(max(csv.field_size_limit(), sum(len(x) + 1 for x in lines)))
    reader = csv.reader(_lines_iter(lines[h + 1:]), delimiter=d, strict=True)
    records: list[tuple[int, list[str]]] = []
    prev = 0
    try:
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            records.append((h + 1 + start, cells))
    except csv.Error as e:
        raise TableError(f"cannot parse this record ({e}); check its quotes (a value with quotes must be "
                         "wrapped in quotes, inner quotes doubled)", h + 1 + prev + 1) from None
    n = len(header)
    hp = [phrase(x) for x in header]
    half = max(2, (n + 1) // 2)
    last_full = max((k for k, (_, c) in enumerate(records) if len(c) >= n), default=-1)
    blank_before = False
    for k, (line, cells) in enumerate(records):
        if not any(c.strip() for c in cells):
            blank_before = True
            continue
        text = d.join(cells)
        if is_repeat(cells, header, hp):
            dropped.append(Issue(line, None, "the header row again (repeated inside the data)"))
        elif len(cells) == 1 and n > 1:
            dropped.append(Issue(line, None, f"a line of text with no '{_show(d)}' between values (a heading or "
                                             f"note, not a shot row): '{_short(text)}'"))
        elif len(cells) < half and k > last_full:
            dropped.append(Issue(line, None, f"text after the table: '{_short(text)}'"))
        elif len(cells) < n and blank_before:
            # a short line after a blank one is prose ("Let me know, if…"); table rows follow each other
            where = "after the table" if k > last_full else "between table rows"
            dropped.append(Issue(line, None, f"text {where} (fewer values than the header, after a blank "
                                             f"line): '{_short(text)}'"))
            blank_before = True
            continue
        else:
            t.rows.append((line, cells))
        blank_before = False
    return t


def _lines_iter(lines: list[str]):
    for x in lines:
        yield x + "\n"


def _show(d: str) -> str:
    return "tab" if d == "\t" else d


def extract_table(text: str) -> Table:
    """The table in `text` (CSV in any delimiter, or Markdown), with its wrappers set aside.
    Raises TableError when there is none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    dropped: list[Issue] = []
    fenced = _unfence(lines, dropped)
    t = _markdown(lines, dropped, fenced) or _csv(lines, dropped, fenced)
    t.dropped.sort(key=lambda i: i.line or 0)
    if not t.rows:
        raise TableError("the table has a header but no rows", t.header_line)
    return t
