"""The database we write is AIMMS's schema exactly (compared with ../shared/aimms-format/), older
AIMMS databases are upgraded safely, and our fast_* migrations are versioned."""
from __future__ import annotations

import json
import re
import sqlite3
import uuid
from pathlib import Path

import pytest

from aimms_fast.ops.csv_io import import_csv
from aimms_fast.ops.takes import add_placeholders, add_takes
from aimms_fast.project import Project
from aimms_fast.store import aimms_schema as A
from aimms_fast.store import migrations
from aimms_fast.store.migrations import m001_fast_core

from conftest import REALDATA, make_image, make_video

FORMAT = REALDATA.parent / "aimms-format"
SCHEMA = json.loads((FORMAT / "aimms-shot-db-schema.json").read_text())
META = json.loads((FORMAT / "aimms-meta-entries.json").read_text())
AIMMS_TABLES = ["assets", "deleted_shots", "meta", "shots", "takes"]
# The real AIMMS 1.2 statement for a new database (one line there; SQLite keeps whitespace as given).
_SQL_12 = "\n".join(ln for ln in (FORMAT / "aimms-1.2-schema.sql").read_text().splitlines()
                    if not ln.startswith("--"))
SHOTS_12_CREATE = next(st.strip() for st in _SQL_12.split(";") if st.strip().startswith("CREATE TABLE shots"))
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def published_columns(table: str, *, upgraded: bool = False) -> list[tuple]:
    """PRAGMA table_info rows as AIMMS makes the table: `shots` of a NEW database in AIMMS 1.2's
    order (../shared/aimms-format/aimms-1.2-schema.sql); of an `upgraded` 1.0/1.1 one with the six
    1.2 columns appended (ALTER TABLE ADD COLUMN)."""
    cols = [(c["cid"], c["name"], c["type"], bool(c["notnull"]), c["default_value"], bool(c["pk"]))
            for c in SCHEMA["tables"][f"{table}_columns"]]
    if table == "shots" and upgraded:
        cols += [(len(cols) + i, name, "TEXT", False, None, False) for i, name in enumerate(A.SHOTS_12_COLUMNS)]
    elif table == "shots":
        c = sqlite3.connect(":memory:")
        c.execute(SHOTS_12_CREATE)
        cols = actual_columns(c, "shots")
        c.close()
    return cols


def actual_columns(conn, table: str) -> list[tuple]:
    return [(cid, name, typ, bool(notnull), dflt, bool(pk))
            for cid, name, typ, notnull, dflt, pk in conn.execute(f"PRAGMA table_info([{table}])")]


def published_shots_sql_after_migration() -> str:
    """What SQLite stores for `shots` once AIMMS's 1.2 migration ALTERs the published table."""
    c = sqlite3.connect(":memory:")
    c.execute(SCHEMA["tables"]["shots"])
    for col in A.SHOTS_12_COLUMNS:
        c.execute(f"ALTER TABLE shots ADD COLUMN {col} TEXT")
    return c.execute("SELECT sql FROM sqlite_master WHERE name='shots'").fetchone()[0]


@pytest.fixture
def used_project(project, tmp_path, media_dir):
    """`aimms new` + CSV import + added takes, as the issue's "done when" describes."""
    csv_file = tmp_path / "shots.csv"
    csv_file.write_text("Shot Name,Section,Dialogue,LoRA 2\nOpening,Act 1,Hi,x.safetensors\nSecond,Act 1,,\n",
                        encoding="utf-8")
    assert import_csv(project, csv_file).ok
    sid = project.conn.execute("SELECT shot_id FROM shots ORDER BY order_number").fetchone()[0]
    add_takes(project, sid, [make_image(media_dir / "a b.png"), make_image(media_dir / "c.jpg")], storyboard="image")
    make_image(media_dir / "clip.png")
    add_takes(project, sid, [make_video(media_dir / "clip.mp4")], storyboard="video")
    add_placeholders(project, sid, 2, storyboard="video")
    return project


def test_aimms_tables_match_the_published_schema_exactly(used_project):
    conn = used_project.conn
    for t in AIMMS_TABLES:
        assert actual_columns(conn, t) == published_columns(t), t
    sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type='table'").fetchall())
    for t in ["assets", "deleted_shots", "meta", "takes", "sqlite_sequence"]:
        assert sql[t] == SCHEMA["tables"][t], t
    # a NEW database: AIMMS 1.2's own statement (same tokens; ours keeps the 1.0 line layout)
    assert " ".join(sql["shots"].split()) == " ".join(SHOTS_12_CREATE.split())
    assert sql["shots"] == A.SHOTS_12_SQL


def test_new_database_shots_columns_are_aimms_12_order(used_project):
    names = [r[1] for r in used_project.conn.execute("PRAGMA table_info(shots)")]
    assert names == A.SHOTS_12_ORDER
    assert names.index("dialogue") == names.index("description") + 1
    assert names.index("image_negative") == names.index("image_prompt") + 1
    assert names[names.index("video_prompt") + 1:] == ["video_negative", "lora_1", "lora_2", "lora_3", "created_date"]


def test_csv_export_writes_columns_in_table_order_both_shapes(used_project, tmp_path):
    """New (1.2 order) and upgraded (appended) databases: the shots CSV header is the table's order."""
    from aimms_fast.ops.csv_io import export_csv
    out = export_csv(used_project, tables=["shots"], dest_dir=tmp_path / "new")
    header = Path(out[0]["path"]).read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header == A.SHOTS_12_ORDER
    root = tmp_path / "old"
    make_old_aimms_project(root)
    with Project.open(root) as p:
        out = export_csv(p, tables=["shots"], dest_dir=tmp_path / "oldcsv")
        header = Path(out[0]["path"]).read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        assert header == [c["name"] for c in SCHEMA["tables"]["shots_columns"]] + A.SHOTS_12_COLUMNS
        first = Path(out[0]["path"]).read_text(encoding="utf-8-sig").splitlines()[1].split(",")
        assert dict(zip(header, first))["video_prompt"] == "pan"


def test_aimms_indexes_match_and_nothing_extra_on_aimms_tables(used_project):
    conn = used_project.conn
    found = dict(conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name IN (%s)"
        % ",".join("?" * len(AIMMS_TABLES)), AIMMS_TABLES).fetchall())
    assert found == SCHEMA["indexes"]
    on_aimms = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'view') "
                            "AND tbl_name IN (%s)" % ",".join("?" * len(AIMMS_TABLES)), AIMMS_TABLES).fetchall()
    assert on_aimms == [] and SCHEMA["views"] == {} and SCHEMA["triggers"] == {}
    # everything else we keep is in fast_* tables
    ours = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")} - \
        set(AIMMS_TABLES) - {"sqlite_sequence"}
    assert ours and all(n.startswith("fast_") for n in ours)


def test_meta_entries_present(used_project):
    meta = dict(used_project.conn.execute("SELECT key, value FROM meta").fetchall())
    assert set(META["meta_entries"]) <= set(meta)
    assert meta["schema_version"] == A.SCHEMA_VERSION and meta["app_version"] == "1.0"
    assert ISO_Z.match(meta["created_at"]) and ISO_Z.match(meta["migration_date"])
    assert meta["project_name"] == "Test Project" and meta["author"] == "tester"
    for key, entry in META["meta_entries"].items():
        if entry.get("create_if_missing") and key not in ("project_name", "author"):
            assert meta[key] == entry["value"], key


def test_rows_follow_aimms_conventions(used_project):
    conn = used_project.conn
    takes = conn.execute("SELECT take_id, shot_id, take_type, file_path, starred, created_date FROM takes").fetchall()
    assert len(takes) == 2 * 3 + 2 + 2 + 2 * 2  # placeholders of 2 shots, 2 images, video+png, 2 placeholder pairs
    for take_id, shot_id, take_type, fp, starred, created in takes:
        assert str(uuid.UUID(take_id)) == take_id
        assert take_type in A.TAKE_TYPES and starred == 0 and ISO_Z.match(created)
        assert "\\" not in fp and not fp.startswith("/") and fp.startswith(f"media/{shot_id}/")
        assert re.fullmatch(r"media/\d+/(base|video)_\d{2,}\.(png|jpg|mp4)", fp), fp
        assert used_project.layout.abs(fp).is_file()
    for (created,) in conn.execute("SELECT created_date FROM shots"):
        assert ISO_Z.match(created)
    # and AIMMS itself could open it: a plain sqlite3 connection without our code sees a sound db
    plain = sqlite3.connect(used_project.layout.db)
    try:
        assert plain.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert plain.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        plain.close()


# -- older AIMMS databases ----------------------------------------------------------------------
def make_old_aimms_project(root: Path) -> Path:
    """A project as an older AIMMS wrote it: published CREATE statements (no 1.2 columns), schema
    version 1, a couple of shots and takes with their files, no fast_* tables, no config file."""
    (root / "data").mkdir(parents=True)
    db = root / "data" / "shots.db"
    c = sqlite3.connect(db)
    for t in AIMMS_TABLES:
        c.execute(SCHEMA["tables"][t])
    for name, sql in SCHEMA["indexes"].items():
        if sql:
            c.execute(sql)
    c.executemany("INSERT INTO meta(key, value) VALUES (?, ?)",
                  [("schema_version", "1"), ("app_version", "1.0"), ("created_at", "2025-01-02T03:04:05Z")])
    c.execute("INSERT INTO shots(order_number, shot_name, section, video_prompt) VALUES (1, 'Old one', 'A', 'pan')")
    c.execute("INSERT INTO shots(order_number, shot_name) VALUES (2, 'Old two')")
    takes = [("base_image", "media/1/base_01.png", 1), ("final_video", "media/1/video_07.mp4", 1),
             ("video_workflow", "media/1/video_07.png", 0), ("base_image", "media/2/base_01.png", 0)]
    for tt, fp, star in takes:
        c.execute("INSERT INTO takes(take_id, shot_id, take_type, file_path, starred) VALUES (?, ?, ?, ?, ?)",
                  (str(uuid.uuid4()), int(fp.split("/")[1]), tt, fp, star))
        p = root / fp
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"" if fp == "media/2/base_01.png" else b"data")
    c.commit()
    c.close()
    return db


def test_opening_an_older_aimms_db_backs_up_then_upgrades(tmp_path):
    root = tmp_path / "old project"
    db = make_old_aimms_project(root)
    before = sqlite3.connect(db)
    old_rows = before.execute("SELECT * FROM shots ORDER BY shot_id").fetchall()
    old_takes = before.execute("SELECT * FROM takes ORDER BY take_id").fetchall()
    before.close()

    with Project.open(root) as p:
        rep = p.schema_report
        assert rep.added_columns == A.SHOTS_12_COLUMNS and rep.backup is not None
        assert rep.fast_migrations == [m.VERSION for m in migrations.MIGRATIONS]
        # the original, untouched, is in data/backup/
        assert rep.backup.parent == p.layout.backup
        with sqlite3.connect(rep.backup) as b:
            assert [r[1] for r in b.execute("PRAGMA table_info(shots)")] == \
                [c["name"] for c in SCHEMA["tables"]["shots_columns"]]
            assert b.execute("SELECT * FROM shots ORDER BY shot_id").fetchall() == old_rows
            assert not b.execute("SELECT name FROM sqlite_master WHERE name LIKE 'fast_%'").fetchall()
        # upgraded in place, every row kept
        assert actual_columns(p.conn, "shots") == published_columns("shots", upgraded=True)
        sql = p.conn.execute("SELECT sql FROM sqlite_master WHERE name='shots'").fetchone()[0]
        assert sql == published_shots_sql_after_migration()     # ALTER TABLE's appended order kept
        assert [r[:13] for r in p.conn.execute("SELECT * FROM shots ORDER BY shot_id")] == old_rows
        assert p.conn.execute("SELECT * FROM takes ORDER BY take_id").fetchall() == old_takes
        meta = p.meta()
        assert meta["schema_version"] == A.SCHEMA_VERSION and meta["created_at"] == "2025-01-02T03:04:05Z"
        assert ISO_Z.match(meta["migration_date"]) and set(META["meta_entries"]) <= set(meta)
        # takes made by AIMMS get their fast_takes row: number from the name, companion linked
        fast = {fp: (n, comp, ph) for fp, n, comp, ph in p.conn.execute(
            "SELECT t.file_path, f.take_number, f.companion_of, f.placeholder FROM fast_takes f "
            "JOIN takes t USING (take_id)")}
        video_id = p.conn.execute("SELECT take_id FROM takes WHERE file_path='media/1/video_07.mp4'").fetchone()[0]
        assert fast["media/1/video_07.mp4"] == (7, None, 0)
        assert fast["media/1/video_07.png"] == (7, video_id, 0)
        assert fast["media/2/base_01.png"] == (1, None, 1)  # zero bytes: a placeholder
        backups = sorted(p.layout.backup.iterdir())

    # Opening again changes nothing: no new backup, no migration.
    with Project.open(root) as p:
        rep = p.schema_report
        assert (rep.added_columns, rep.added_tables, rep.added_indexes, rep.fast_migrations, rep.backup) == \
            ([], [], [], [], None)
        assert sorted(p.layout.backup.iterdir()) == backups
        assert migrations.current_version(p.conn) == migrations.LATEST


def test_fast_migrations_are_versioned_and_resume(tmp_path):
    """A database an earlier aimms_fast left at fast version 1 gets exactly the later steps."""
    root = tmp_path / "p"
    db = make_old_aimms_project(root)
    c = sqlite3.connect(db)
    m001_fast_core.apply(c)
    c.execute("INSERT INTO fast_meta(key, value) VALUES ('schema_version', '1')")
    c.commit()
    assert migrations.current_version(c) == 1
    c.close()
    with Project.open(root) as p:
        assert p.schema_report.fast_migrations == list(range(2, migrations.LATEST + 1))
        assert migrations.current_version(p.conn) == migrations.LATEST
        assert migrations.migrate(p.conn) == []  # nothing left to do
        upgraded = {r[0] for r in p.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    fresh_root = tmp_path / "fresh"
    Project.create(fresh_root).close()
    with sqlite3.connect(fresh_root / "data" / "shots.db") as f:
        fresh = {r[0] for r in f.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    assert upgraded == fresh  # resuming ends where a new project starts
    assert [m.VERSION for m in migrations.MIGRATIONS] == list(range(1, migrations.LATEST + 1))
    # a step interrupted after its DDL but before recording its version can run again safely
    with Project.open(root) as p:
        for m in migrations.MIGRATIONS:
            m.apply(p.conn)


def test_readonly_open_of_a_never_upgraded_db_views_a_snapshot_and_changes_nothing(tmp_path):
    """An older AIMMS project opened read-only (a locked or read-only folder): we cannot upgrade
    it in place, so the viewer reads an upgraded private copy; the project itself is untouched."""
    import hashlib
    from aimms_fast.errors import ReadOnlyError
    from aimms_fast.ops.takes import star_take
    from aimms_fast.store.takes import takes_for_shot
    root = tmp_path / "old"
    db = make_old_aimms_project(root)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    p = Project.open(root, readonly=True)
    try:
        assert p.readonly and "snapshot" in p.readonly_reason
        videos = takes_for_shot(p.conn, 1, "video")
        assert [(t.take_number, t.file_path, t.companion_path, t.starred) for t in videos] == \
            [(7, "media/1/video_07.mp4", "media/1/video_07.png", 1)]
        images = takes_for_shot(p.conn, 2, "image")
        assert [(t.file_path, t.placeholder) for t in images] == [("media/2/base_01.png", 1)]
        assert {c for c in A.SHOTS_12_COLUMNS} <= {r[1] for r in p.conn.execute("PRAGMA table_info(shots)")}
        with pytest.raises(ReadOnlyError):
            star_take(p, videos[0].take_id)
        snap_dir = p._snapshot_dir
        assert snap_dir.exists() and not str(snap_dir).startswith(str(root))
    finally:
        p.close()
    assert not snap_dir.exists()                      # the private copy goes with the session
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_a_partly_upgraded_database_gets_the_missing_12_columns_appended(tmp_path):
    """A 1.1-era database that already has some 1.2 columns (ALTERed in by an earlier AIMMS) keeps
    them where they are and gets the rest appended, never a rebuilt table."""
    root = tmp_path / "p11"
    db = make_old_aimms_project(root)
    c = sqlite3.connect(db)
    c.execute("ALTER TABLE shots ADD COLUMN dialogue TEXT")
    c.execute("ALTER TABLE shots ADD COLUMN lora_1 TEXT")
    c.execute("UPDATE shots SET dialogue = 'hello' WHERE shot_id = 1")
    c.commit()
    c.close()
    with Project.open(root) as p:
        names = [r[1] for r in p.conn.execute("PRAGMA table_info(shots)")]
        base = [col["name"] for col in SCHEMA["tables"]["shots_columns"]]
        assert names == base + ["dialogue", "lora_1", "image_negative", "video_negative", "lora_2", "lora_3"]
        assert p.schema_report.added_columns == ["image_negative", "video_negative", "lora_2", "lora_3"]
        assert p.conn.execute("SELECT dialogue FROM shots WHERE shot_id = 1").fetchone()[0] == "hello"
