"""CSV import/export of the shot list with real files in the encodings and shapes spreadsheets write."""
from __future__ import annotations

import csv
import errno
import io
import shutil
from pathlib import Path

import pytest

from aimms_fast.errors import AimmsError, ReadOnlyError
from aimms_fast.ops import csv_io
from aimms_fast.ops.csv_io import export_csv, import_csv, normalize_header, read_csv
from aimms_fast.project import Project
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.db import transaction

from conftest import REALDATA


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return p


def shots(project) -> list[dict]:
    cur = project.conn.execute("SELECT * FROM shots ORDER BY order_number, shot_id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def media_files(project) -> list[str]:
    return sorted(project.layout.rel(p) for p in project.layout.media.rglob("*") if p.is_file())


def assert_nothing_imported(project):
    assert shots(project) == []
    assert project.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == 0
    assert project.conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0] == 0
    assert media_files(project) == []


GOOD = ("Shot Name,Order Number,Section,Description,Image Prompt\r\n"
        "INT_OFFICE_DAY_001,1,Act 1,\"Hero enters,\r\nlooks around\",\"a \"\"quoted\"\" prompt\"\r\n"
        "EXT_STREET_NIGHT_002,2,Act 1,Rain,neon\r\n"
        "Café scène 3,3,Act 2,Ünïcødé ✓,\r\n")


def test_utf8_bom_multiline_and_placeholders(project, tmp_path):
    rep = import_csv(project, write(tmp_path, "s.csv", "\ufeff" + GOOD))
    assert rep.ok and rep.errors == [] and rep.imported == 3
    assert rep.encoding == "utf-8-sig" and rep.delimiter == ","
    rows = shots(project)
    assert [r["shot_name"] for r in rows] == ["INT_OFFICE_DAY_001", "EXT_STREET_NIGHT_002", "Café scène 3"]
    assert rows[0]["description"] == "Hero enters,\nlooks around"
    assert rows[0]["image_prompt"] == 'a "quoted" prompt'
    assert rows[2]["description"] == "Ünïcødé ✓" and rows[2]["image_prompt"] is None
    assert all(r["created_date"].endswith("Z") for r in rows)
    # AIMMS gives every new shot one placeholder take in each storyboard: zero-byte files.
    for r in rows:
        sid = r["shot_id"]
        takes = dict(project.conn.execute(
            "SELECT take_type, file_path FROM takes WHERE shot_id=?", (sid,)).fetchall())
        assert takes == {A.BASE_IMAGE: f"media/{sid}/base_01.png", A.FINAL_VIDEO: f"media/{sid}/video_01.mp4",
                         A.VIDEO_WORKFLOW: f"media/{sid}/video_01.png"}
        for fp in takes.values():
            assert project.layout.abs(fp).stat().st_size == 0
        fast = project.conn.execute(
            "SELECT f.placeholder, f.take_number, f.shot_order, f.companion_of, t.take_type FROM fast_takes f "
            "JOIN takes t USING (take_id) WHERE f.shot_id=?", (sid,)).fetchall()
        assert all(f[0] == 1 and f[1] == 1 and f[2] == r["order_number"] for f in fast)
        video_id = project.conn.execute("SELECT take_id FROM takes WHERE shot_id=? AND take_type=?",
                                        (sid, A.FINAL_VIDEO)).fetchone()[0]
        assert [f[3] for f in fast if f[4] == A.VIDEO_WORKFLOW] == [video_id]
    assert project.conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0] == 0
    mapping = project.layout.mapping.read_text(encoding="utf-8")
    assert "Café scène 3" in mapping


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiters_without_bom(project, tmp_path, delim):
    text = (f"shot_name{delim}order_number{delim}section\n"
            f"A{delim}1{delim}S1\n\"B{delim} with delimiter\"{delim}2{delim}S2\n")
    rep = import_csv(project, write(tmp_path, "s.csv", text))
    assert rep.ok, rep.errors
    assert rep.delimiter == delim and rep.encoding == "utf-8"
    assert [(r["shot_name"], r["section"]) for r in shots(project)] == [("A", "S1"), (f"B{delim} with delimiter", "S2")]


def test_cp1252_file_is_read_and_warned(project, tmp_path):
    text = "Shot Name;Description\r\nCaf\u00e9;It\u2019s \u201cquoted\u201d \u2013 \u20ac5\r\n"
    p = write(tmp_path, "win.csv", text, encoding="cp1252")
    rep = import_csv(project, p)
    assert rep.ok and rep.encoding == "cp1252"
    assert any("Windows-1252" in w.message and w.line == 2 for w in rep.warnings)
    assert shots(project)[0]["shot_name"] == "Café"
    assert shots(project)[0]["description"] == "It’s “quoted” – €5"


def test_utf16_excel_unicode_text(project, tmp_path):
    p = write(tmp_path, "u16.txt", "Shot Name\tSection\r\nÖne\tA\r\nTwo\tB\r\n", encoding="utf-16")
    rep = import_csv(project, p)
    assert rep.ok and rep.encoding == "utf-16" and rep.delimiter == "\t"
    assert [r["shot_name"] for r in shots(project)] == ["Öne", "Two"]


def test_excel_sep_line_and_header_spellings(project, tmp_path):
    text = ("sep=|\n"
            "  SHOT   name | Order-Number |Colour Scheme (Image)| LoRA 1 |video negative\n"
            "X|7|teal|style.safetensors|blurry\n")
    rep = import_csv(project, write(tmp_path, "s.csv", text))
    assert rep.ok, rep.errors
    assert rep.columns == ["shot_name", "order_number", "colour_scheme_image", "lora_1", "video_negative"]
    r = shots(project)[0]
    assert (r["shot_name"], r["order_number"], r["colour_scheme_image"], r["lora_1"], r["video_negative"]) == \
        ("X", 7, "teal", "style.safetensors", "blurry")


def test_normalize_header():
    assert normalize_header("Shot Name") == "shot_name"
    assert normalize_header("\ufeff Order  Number ") == "order_number"
    assert normalize_header("Color Scheme Image") == "colour_scheme_image"
    assert normalize_header("time-of-day") == "time_of_day"


def test_one_bad_row_among_good_rows_imports_nothing(project, tmp_path):
    lines = ["shot_name,order_number"] + [f"S{i},{i}" for i in range(1, 8)]
    lines[4] = "S4,four"  # file line 5
    p = write(tmp_path, "bad.csv", "\n".join(lines) + "\n")
    rep = import_csv(project, p)
    assert not rep.ok and rep.imported == 0
    assert [(e.line, e.column) for e in rep.errors] == [(5, "order_number")]
    assert "whole number" in rep.errors[0].message and "four" in rep.errors[0].message
    assert_nothing_imported(project)
    with pytest.raises(AimmsError) as ei:
        rep.raise_for_errors()
    assert ei.value.line == 5 and ei.value.field == "order_number" and "bad.csv" in str(ei.value)


def test_errors_are_reported_per_line_and_column(project, tmp_path):
    text = ("shot_name,order_number,section\n"
            "ok,1,a\n"
            ",2,b\n"            # line 3: no name
            "x,2.5,c\n"         # line 4: not a whole number
            "y,3,c,extra\n"     # line 5: too many values
            "z,3.0,d\n")        # Excel's 3.0 is fine
    rep = import_csv(project, write(tmp_path, "e.csv", text))
    assert [(e.line, e.column) for e in rep.errors] == [(3, "shot_name"), (4, "order_number"), (5, None)]
    assert "4 values" in rep.errors[2].message
    assert_nothing_imported(project)


def test_unknown_and_missing_columns(project, tmp_path):
    rep = import_csv(project, write(tmp_path, "u.csv", "shot_name,shot nmae,camera\nA,b,c\n"))
    assert {e.column for e in rep.errors} == {"shot nmae", "camera"}
    assert all(e.line == 1 and "unknown column" in e.message for e in rep.errors)
    assert_nothing_imported(project)
    rep = import_csv(project, write(tmp_path, "u.csv", "shot_name,camera\nA,c\n"), ignore_unknown=True)
    assert rep.ok and rep.imported == 1 and rep.warnings[0].column == "camera"
    rep = import_csv(project, write(tmp_path, "n.csv", "section,description\nA,b\n"))
    assert [(e.line, e.column) for e in rep.errors] == [(1, "shot_name")]
    rep = import_csv(project, write(tmp_path, "d.csv", "shot_name,Shot Name\nA,b\n"))
    assert "appears twice" in rep.errors[0].message


@pytest.mark.parametrize("kind", ["empty", "blank", "png", "random", "header_only", "unclosed_quote", "no_header"])
def test_garbage_files_are_rejected_clearly(project, tmp_path, kind):
    import random
    rnd = random.Random(7)
    content = {
        "empty": b"",
        "blank": b"\r\n  \n\t\n",
        "png": (REALDATA / "comfyui/png/controlnet__shark_depthmap.png").read_bytes(),
        "random": bytes(rnd.randrange(256) for _ in range(4000)),
        "header_only": b"shot_name,section\r\n",
        "unclosed_quote": b'shot_name,description\nA,"fine"\nB,"never closed\nC,x\n',
        "no_header": b"Opening shot,Act 1\nSecond,Act 1\n",
    }[kind]
    rep = import_csv(project, write(tmp_path, f"{kind}.csv", content))
    assert not rep.ok and rep.errors
    msg = rep.errors[0].message
    expect = {"empty": "empty", "blank": "no text", "png": "binary", "random": "binary",
              "header_only": "no shot rows", "unclosed_quote": "quotes", "no_header": "unknown column"}[kind]
    assert expect in msg
    if kind == "unclosed_quote":
        assert rep.errors[0].line == 3  # the record that opens the quote, not the end of the file
    assert_nothing_imported(project)


def test_undecodable_bytes_name_the_line(project, tmp_path):
    # 0x81 is undefined in cp1252 and invalid UTF-8: neither encoding can read it.
    p = write(tmp_path, "x.csv", b"shot_name\nA\nB\x81\n")
    rep = import_csv(project, p)
    assert rep.errors[0].line == 3 and "encoding" in rep.errors[0].message
    assert_nothing_imported(project)


def test_missing_or_folder_path(project, tmp_path):
    assert "not found" in import_csv(project, tmp_path / "nope.csv").errors[0].message
    assert "folder" in import_csv(project, tmp_path).errors[0].message


def test_duplicate_names_are_allowed_but_warned(project, tmp_path):
    from aimms_fast.ops.shots import add_shot
    add_shot(project, shot_name="Twin")
    rep = import_csv(project, write(tmp_path, "d.csv", "shot_name\nTwin\nSolo\nSolo\n"))
    assert rep.ok and rep.imported == 3
    w = sorted((i.line, i.message) for i in rep.warnings)
    assert w[0][0] == 2 and "already exists" in w[0][1]
    assert w[1][0] == 4 and "also on line 3" in w[1][1]
    assert [r["shot_name"] for r in shots(project)] == ["Twin", "Twin", "Solo", "Solo"]


def test_dry_run_changes_nothing(project, tmp_path):
    before = project.layout.db.read_bytes()
    rep = import_csv(project, write(tmp_path, "s.csv", GOOD), dry_run=True)
    assert rep.ok and rep.dry_run and rep.rows == 3 and rep.imported == 0
    assert_nothing_imported(project)
    assert project.conn.execute("SELECT COUNT(*) FROM fast_audit WHERE action='import_csv'").fetchone()[0] == 0
    assert before  # the db file is still there


def test_order_numbers_continue_after_existing(project, tmp_path):
    from aimms_fast.ops.shots import add_shot
    add_shot(project, shot_name="first", order_number=10)
    import_csv(project, write(tmp_path, "s.csv", "shot_name,order_number\nb,\nc,12\nd,\n"))
    assert [(r["shot_name"], r["order_number"]) for r in shots(project)] == \
        [("first", 10), ("c", 12), ("b", 13), ("d", 14)]


def test_export_then_reimport_round_trip(project, tmp_path):
    import_csv(project, write(tmp_path, "s.csv", "\ufeff" + GOOD))
    with transaction(project.db):
        project.conn.execute("UPDATE shots SET dialogue = 'Line one\nLine two', lora_3 = 'x' WHERE order_number = 1")
    out = export_csv(project)
    assert [o["table"] for o in out] == ["shots", "takes", "assets"]
    shots_csv = Path(out[0]["path"])
    assert shots_csv.parent == project.layout.csv and shots_csv.name.startswith("shots_")
    raw = shots_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    cols = [r[1] for r in project.conn.execute("PRAGMA table_info(shots)")]
    assert table[0] == cols and len(table) == 4
    assert table[1][cols.index("dialogue")] == "Line one\nLine two"
    takes_csv = list(csv.reader(io.StringIO(Path(out[1]["path"]).read_text(encoding="utf-8-sig"), newline="")))
    assert takes_csv[0] == [r[1] for r in project.conn.execute("PRAGMA table_info(takes)")]
    assert len(takes_csv) == 1 + 9 and out[2]["rows"] == 0
    # Same second, second export: a new file, not an overwrite.
    again = export_csv(project, tables=["shots"])
    assert again[0]["path"] != out[0]["path"] and Path(out[0]["path"]).exists()

    other = Project.create(tmp_path / "other")
    try:
        rep = import_csv(other, shots_csv)
        assert rep.ok and rep.imported == 3
        assert any(w.column == "shot_id" for w in rep.warnings)  # ids are not carried over without --update
        src, dst = shots(project), shots(other)
        for a, b in zip(src, dst):
            assert {k: a[k] for k in A.SHOT_FIELDS} == {k: b[k] for k in A.SHOT_FIELDS}
            assert a["created_date"] == b["created_date"]
    finally:
        other.close()


def test_update_mode_changes_existing_shots(project, tmp_path):
    import_csv(project, write(tmp_path, "s.csv", "shot_name,section\nA,one\nB,two\n"))
    ids = [r["shot_id"] for r in shots(project)]
    text = f"shot_id,shot_name,section\n{ids[1]},B,changed\n999,New,three\n"
    rep = import_csv(project, write(tmp_path, "u.csv", text), update=True)
    assert rep.ok and rep.updated == 1 and rep.imported == 1
    assert any(w.line == 3 and "999" in w.message for w in rep.warnings)
    assert [(r["shot_name"], r["section"]) for r in shots(project)] == [("A", "one"), ("B", "changed"), ("New", "three")]
    # the updated shot kept its takes and got no new placeholders
    assert project.conn.execute("SELECT COUNT(*) FROM takes WHERE shot_id=?", (ids[1],)).fetchone()[0] == 3
    rep = import_csv(project, write(tmp_path, "u2.csv", f"shot_id,shot_name\n{ids[0]},a\n{ids[0]},b\n"), update=True)
    assert rep.errors[0].line == 3 and rep.errors[0].column == "shot_id"


def test_bulk_import_of_1000_rows_is_one_transaction(project, tmp_path):
    rows = "".join(f"SHOT_{i:04d},{i},Section {i // 100},\"prompt {i}\nsecond line\"\n" for i in range(1, 1001))
    p = write(tmp_path, "big.csv", "shot_name,order_number,section,image_prompt\n" + rows)
    commits = []
    project.conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
    try:
        rep = import_csv(project, p)
    finally:
        project.conn.set_trace_callback(None)
    assert rep.ok and rep.imported == 1000
    # one small transaction registers the placeholder files, one holds all 1000 shots and 3000 takes
    assert len(commits) == 2
    assert project.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0] == 1000
    assert project.conn.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == 3000
    assert len(media_files(project)) == 3000
    assert len(set(rep.shot_ids)) == 1000


def test_failure_while_writing_rolls_everything_back(project, tmp_path, monkeypatch):
    from aimms_fast.store.pending import PendingFiles
    real = PendingFiles.create_empty  # placeholders are written through store/pending.py
    calls = {"n": 0}

    def flaky(self, rel):
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(errno.ENOSPC, "No space left on device", rel)
        return real(self, rel)
    monkeypatch.setattr(PendingFiles, "create_empty", flaky)
    p = write(tmp_path, "s.csv", "shot_name\n" + "".join(f"s{i}\n" for i in range(6)))
    with pytest.raises(OSError):
        import_csv(project, p)
    assert_nothing_imported(project)
    assert [d for d in project.layout.media.iterdir() if d.name.isdigit()] == []
    monkeypatch.setattr(PendingFiles, "create_empty", real)
    rep = import_csv(project, p)  # the same ids are free again
    assert rep.ok and rep.imported == 6


def test_import_skips_shot_ids_whose_folder_holds_files(project, tmp_path):
    stray = project.layout.shot_dir(1) / "base_01.png"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by someone else")
    rep = import_csv(project, write(tmp_path, "s.csv", "shot_name\nA\n"))
    assert rep.ok and rep.shot_ids == [2]
    assert stray.read_bytes() == b"left by someone else"


def test_readonly_project_refuses_import_but_allows_dry_run(project, tmp_path):
    p = write(tmp_path, "s.csv", "shot_name\nA\n")
    ro = Project.open(project.root)  # second instance: locked -> read-only
    try:
        assert ro.readonly
        assert import_csv(ro, p, dry_run=True).ok
        with pytest.raises(ReadOnlyError):
            import_csv(ro, p)
    finally:
        ro.close()


def test_read_csv_standalone_on_realdata_copy(tmp_path):
    # A real non-CSV text file (a Fountain screenplay) is reported, not imported.
    src = REALDATA / "screenplay" / "Brick_&_Steel.fountain"
    dst = tmp_path / "Brick & Steel.csv"
    shutil.copy(src, dst)
    rep, rows = read_csv(dst)
    assert not rep.ok and rows == []
