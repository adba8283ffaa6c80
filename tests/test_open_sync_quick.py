"""Project.open skips the full fast_takes anti-join when the newest take row is synced (issue 15,
100K takes): every way another program can add or lose rows behind our back must still be synced."""
from __future__ import annotations

import sqlite3
import uuid

from aimms_fast.project import Project
from aimms_fast.store import aimms_schema as A
from aimms_fast.store.takes import newest_take_synced


def _aimms_insert(db, shot_id: int, rel: str, take_type: str = A.BASE_IMAGE) -> str:
    """What AIMMS does: a plain INSERT on its own connection, no fast_takes row."""
    tid = str(uuid.uuid4())
    c = sqlite3.connect(db)
    c.execute("INSERT INTO takes(take_id, shot_id, take_type, file_path, starred) VALUES (?,?,?,?,0)",
              (tid, shot_id, take_type, rel))
    c.commit()
    c.close()
    return tid


def _unsynced(p) -> int:
    return p.conn.execute("SELECT COUNT(*) FROM takes t LEFT JOIN fast_takes f USING (take_id) "
                          "WHERE f.take_id IS NULL").fetchone()[0]


def _new_project(tmp_path):
    p = Project.create(tmp_path / "proj", name="P", author="t")
    sid = p.conn.execute("INSERT INTO shots(shot_name, order_number) VALUES ('s1', 1)").lastrowid
    p.conn.commit()
    root, db = p.root, p.layout.db
    p.close()
    return root, db, sid


def test_takes_added_behind_our_back_are_synced(tmp_path):
    root, db, sid = _new_project(tmp_path)
    for i in range(3):
        _aimms_insert(db, sid, f"media/s/image_{i + 1:02d}.png")
    with Project.open(root) as p:
        assert _unsynced(p) == 0 and newest_take_synced(p.conn)
        assert sorted(r[0] for r in p.conn.execute("SELECT take_number FROM fast_takes")) == [1, 2, 3]
    # Nothing changed: the quick check holds and the open adds nothing.
    with Project.open(root) as p:
        assert newest_take_synced(p.conn) and _unsynced(p) == 0


def test_delete_newest_then_insert_reusing_its_rowid_is_synced(tmp_path):
    root, db, sid = _new_project(tmp_path)
    first = [_aimms_insert(db, sid, f"media/s/image_{i + 1:02d}.png") for i in range(3)]
    Project.open(root).close()
    c = sqlite3.connect(db)
    top = c.execute("SELECT rowid FROM takes WHERE take_id = ?", (first[-1],)).fetchone()[0]
    c.execute("DELETE FROM takes WHERE take_id = ?", (first[-1],))   # AIMMS: no cascade to fast_takes
    c.commit()
    c.close()
    new = _aimms_insert(db, sid, "media/s/image_04.png")
    c = sqlite3.connect(db)
    assert c.execute("SELECT rowid FROM takes WHERE take_id = ?", (new,)).fetchone()[0] == top  # same rowid
    c.close()
    with Project.open(root) as p:
        assert _unsynced(p) == 0
        assert p.conn.execute("SELECT take_number FROM fast_takes WHERE take_id = ?", (new,)).fetchone()[0] == 4


def test_lost_fast_takes_row_of_an_old_take_is_rebuilt(tmp_path):
    root, db, sid = _new_project(tmp_path)
    ids = [_aimms_insert(db, sid, f"media/s/image_{i + 1:02d}.png") for i in range(3)]
    Project.open(root).close()
    c = sqlite3.connect(db)
    c.execute("DELETE FROM fast_takes WHERE take_id = ?", (ids[0],))
    c.commit()
    c.close()
    with Project.open(root) as p:
        assert _unsynced(p) == 0


# -- find_bad_values skipped when nobody wrote the file since a clean scan --------------------------
def _count_scans(monkeypatch):
    import aimms_fast.project.project as pp
    import aimms_fast.store.record_check as rc
    monkeypatch.setattr(rc, "RACY_S", 0.0)   # the test cannot wait 2 s for the kernel's timestamps
    calls = []
    real = pp.find_bad_values

    def counting(conn):
        calls.append(1)
        return real(conn)
    monkeypatch.setattr(pp, "find_bad_values", counting)
    return calls


def test_clean_scan_is_skipped_until_another_program_writes(tmp_path, monkeypatch):
    calls = _count_scans(monkeypatch)
    root, db, sid = _new_project(tmp_path)
    tid = _aimms_insert(db, sid, "media/s/image_01.png")
    Project.open(root).close()                # scans; its own sync writes, so the close's checkpoint
    Project.open(root).close()                # changes the file: scans again, writes nothing, marks
    n = len(calls)
    with Project.open(root) as p:             # nothing wrote: no scan
        assert len(calls) == n and p.bad_values == []
    with Project.open(root, readonly=True) as p:
        assert len(calls) == n
    # Another program writes a wrong-typed value behind our back: found and repaired at open.
    c = sqlite3.connect(db)
    c.execute("UPDATE takes SET starred = 'yes' WHERE take_id = ?", (tid,))
    c.commit()
    c.close()
    with Project.open(root) as p:
        assert len(calls) == n + 1
        assert [(b.table, b.column) for b in p.bad_values] == [("takes", "starred")]
        assert p.conn.execute("SELECT typeof(starred) FROM takes WHERE take_id = ?", (tid,)).fetchone()[0] == "integer"


def test_forged_or_copied_mark_does_not_skip_the_scan(tmp_path, monkeypatch):
    import shutil
    calls = _count_scans(monkeypatch)
    root, db, sid = _new_project(tmp_path)
    _aimms_insert(db, sid, "media/s/image_01.png")
    Project.open(root).close()
    Project.open(root).close()
    mark = root / ".aimms_fast_cache" / "clean_values.json"
    assert mark.exists()
    # A project shipped with its mark (or the db restored from a copy) is a new inode: scanned.
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    n = len(calls)
    Project.open(copy).close()
    assert len(calls) == n + 1
    mark.write_text('{"fingerprint": "forged"}')
    Project.open(root).close()
    assert len(calls) == n + 2


def test_storyboard_window_is_the_slice_of_the_whole(tmp_path):
    from aimms_fast.store.storyboard import load_storyboard
    root, db, _ = _new_project(tmp_path)
    c = sqlite3.connect(db)
    # Shots out of id order (order_number decides), one with no takes, one starred take.
    sids = [c.execute("INSERT INTO shots(shot_name, order_number) VALUES (?, ?)", (f"s{i}", 10 - i)).lastrowid
            for i in range(6)]
    c.commit()
    c.close()
    for k, sid in enumerate(sids[:-1]):
        for n in range(1, 3):
            _aimms_insert(db, sid, f"media/{sid}/image_{n:02d}.png")
    c = sqlite3.connect(db)
    c.execute("UPDATE takes SET starred = 1 WHERE take_id = (SELECT take_id FROM takes WHERE shot_id = ? "
              "ORDER BY file_path DESC LIMIT 1)", (sids[2],))
    c.commit()
    c.close()
    with Project.open(root) as p:
        full = load_storyboard(p.conn, "image")
        assert len(full) == 7 and [r.takes for r in full].count(0) == 2
        for off in range(0, 8):
            for lim in (1, 3, 60):
                assert load_storyboard(p.conn, "image", limit=lim, offset=off) == full[off:off + lim]


def test_a_write_during_the_scan_is_not_marked_clean(tmp_path, monkeypatch):
    import aimms_fast.project.project as pp
    import aimms_fast.store.record_check as rc
    monkeypatch.setattr(rc, "RACY_S", 0.0)
    root, db, sid = _new_project(tmp_path)
    tid = _aimms_insert(db, sid, "media/s/image_01.png")
    Project.open(root).close()
    real, calls = pp.find_bad_values, []

    def scan_while_another_program_writes(conn):
        out = real(conn)          # clean ...
        c = sqlite3.connect(db)   # ... but AIMMS commits a wrong type before the open ends
        c.execute("UPDATE takes SET starred = 'yes' WHERE take_id = ?", (tid,))
        c.commit()
        c.close()
        calls.append(1)
        return out
    monkeypatch.setattr(pp, "find_bad_values", scan_while_another_program_writes)
    Project.open(root).close()
    monkeypatch.setattr(pp, "find_bad_values", real)
    with Project.open(root) as p:
        assert calls and [(b.table, b.column) for b in p.bad_values] == [("takes", "starred")]
