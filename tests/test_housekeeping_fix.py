"""Housekeeping that fixes what it finds, on a damaged copy of the demo project
(tests/housekeeping_damage.py): exact lists, `aimms check` exit code and JSON, relink by content
and by name+size, undo of every bulk action, and emptying exactly what the trash listed."""
from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.ops import check as CK
from aimms_fast.ops import cleanup, history
from aimms_fast.ops import housekeeping as HK
from aimms_fast.ops.relink import relink
from aimms_fast.project import Project

from housekeeping_damage import damage, demo_copy


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("hk_demo")


@pytest.fixture
def damaged(demo_cache, tmp_path):
    root = demo_copy(demo_cache, tmp_path / "proj")
    with Project.open(root) as p:       # the pristine copy: what the check says before the damage
        pristine = CK.check(p)
    d = damage(root, tmp_path / "elsewhere")
    d["pristine"] = pristine
    p = Project.open(root)
    yield p, d, tmp_path / "elsewhere"
    p.close()


def _paths(items):
    return sorted(x["path"] for x in items)


def _cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_pristine_demo_problems_are_its_two_videos_without_png(damaged):
    _p, d, _o = damaged
    assert [(x.kind, x.detail) for x in d["pristine"].problems] == [("no_png", "no workflow PNG recorded")] * 2


def test_exact_lists(damaged):
    p, d, _o = damaged
    s = HK.unused_report(p)
    assert _paths(s.missing) == sorted([d["deleted"], d["renamed_from"], d["png_deleted"], *d["moved"]])
    assert _paths(s.orphans) == sorted([d["renamed_to"], d["note"], d["stray"], d["duplicate"]])
    assert {o["path"]: o["suggested_shot"] for o in s.orphans}[d["stray"]] == 5
    assert d["zeroed"] in _paths(s.placeholders)
    assert [(x["path"], x["group"]) for x in s.duplicates] == [(d["duplicate_of"], 1), (d["duplicate"], 1)]
    assert s.duplicates[0]["referenced"] and not s.duplicates[1]["referenced"]
    assert _paths(s.empty_folders) == [d["empty_folder"]]
    assert {x["reason"] for x in s.no_png if x["shot_id"] == 6} == {"recorded workflow PNG not found"}
    assert s.outside == [] and s.trash == []
    # Hashed once: a second survey reads no content.
    assert s.hashed >= 2 and HK.unused_report(p).hashed == 0


def test_check_json_and_exit_code(damaged):
    p, d, _o = damaged
    root = p.root
    p.close()
    r = _cli("check", root, "--json")
    assert r.exit_code == 1
    data = orjson.loads(r.stdout)
    assert data["healthy"] is False
    kinds = {(x["kind"], x["path"]) for x in data["problems"]}
    assert {("missing", m) for m in d["moved"]} <= kinds
    assert ("missing", d["deleted"]) in kinds and ("missing", d["png_deleted"]) in kinds
    assert ("orphan", d["renamed_to"]) in kinds and ("empty_folder", d["empty_folder"]) in kinds
    # The deleted PNG is one problem (missing), not also 'no_png'.
    assert data["counts"] == {"missing": 9, "orphan": 4, "no_png": 2, "empty_folder": 1}


def test_outside_paths_are_reported(damaged):
    p, _d, _o = damaged
    with p.db.conn:
        p.conn.execute("UPDATE takes SET file_path='../../etc/passwd' WHERE file_path=?",
                       (p.conn.execute("SELECT file_path FROM takes WHERE shot_id=5 AND take_type='base_image'"
                                       ).fetchone()[0],))
    r = CK.check(p)
    assert [(x.kind, x.path) for x in r.problems if x.kind == "outside"] == [("outside", "../../etc/passwd")]
    assert next(row for row in r.rows if row.shot_id == 5).cells["images"].state == CK.BAD


def test_relink_by_content_and_name_size_then_undo(damaged):
    p, d, outside = damaged
    dry = relink(p, outside, dry_run=True)
    assert sorted(m.path for m in dry.matches) == d["moved"] and not (p.root / d["moved"][0]).exists()
    r = relink(p, outside)
    assert r.copied == len(d["moved"]) and all((p.root / m).exists() for m in d["moved"])
    # The file renamed by hand: found by its content inside the project and moved back.
    r2 = relink(p, p.layout.media)
    assert [(m.path, m.by) for m in r2.matches] == [(d["renamed_from"], "fingerprint")]
    assert (p.root / d["renamed_from"]).exists() and not (p.root / d["renamed_to"]).exists()
    s = HK.unused_report(p)
    assert _paths(s.missing) == sorted([d["deleted"], d["png_deleted"]])
    history.undo(p)   # the rename comes back
    assert (p.root / d["renamed_to"]).exists() and not (p.root / d["renamed_from"]).exists()
    history.undo(p)   # the copies go (to the history stash), the outside folder is untouched
    assert not any((p.root / m).exists() for m in d["moved"]) and (outside / "4").is_dir()


def test_bulk_actions_each_undo(damaged):
    p, d, _o = damaged

    def lists():
        s = HK.unused_report(p)
        return {k: _paths(v) for k, v in s.to_dict().items() if k != "trash"}
    start = lists()
    # move orphans to the trash
    cleanup.trash_orphans(p, [d["note"], d["duplicate"]])
    after = lists()
    assert d["note"] not in after["orphans"] and d["duplicate"] not in after["orphans"]
    assert len(HK.unused_report(p).trash) == 1
    history.undo(p)
    assert lists() == start
    # attach an orphan to its suggested shot
    a = cleanup.attach_orphan(p, d["stray"], 5)
    assert a.path.startswith("media/5/base_") and (p.root / a.path).exists()
    assert d["stray"] not in lists()["orphans"]
    history.undo(p)
    assert lists() == start
    # delete placeholders
    ph = [x["take_id"] for x in HK.unused_report(p).placeholders]
    cleanup.delete_placeholders(p, ph)
    assert lists()["placeholders"] == []
    history.undo(p)
    assert lists() == start
    # regenerate missing workflow PNGs (the demo's broken video cannot have one)
    todo = [x["take_id"] for x in HK.unused_report(p).no_png]
    out = cleanup.regenerate_pngs(p, todo)
    assert sorted(st.action for st in out) == ["failed", "regenerated", "regenerated"]
    assert d["png_deleted"] not in lists()["missing"]
    history.undo(p)
    assert lists() == start
    # delete records whose file is gone
    gone = next(x["take_id"] for x in HK.unused_report(p).missing if x["path"] == d["deleted"])
    cleanup.delete_takes(p, [gone], label="Deleted 1 take whose file is missing")
    assert d["deleted"] not in lists()["missing"]
    history.undo(p)
    assert lists() == start


def test_empty_trash_removes_exactly_what_it_listed(damaged):
    p, d, _o = damaged
    cleanup.trash_orphans(p, [d["note"]])
    ph = [x["take_id"] for x in HK.unused_report(p).placeholders if x["shot_id"] == 8]
    cleanup.delete_placeholders(p, ph)
    listed = HK.unused_report(p).trash
    assert len(listed) == 2 and all(x["size"] >= 0 and x["files"] >= 1 for x in listed)
    # Something arrives after the list was made: emptying must leave it.
    cleanup.trash_orphans(p, [d["duplicate"]])
    size = sum(x["size"] for x in listed)
    e = cleanup.empty_trash(p, [x["path"] for x in listed])
    assert sorted(e.removed) == sorted(x["path"] for x in listed) and e.freed == size
    left = HK.unused_report(p).trash
    assert len(left) == 1 and left[0]["label"].startswith("Moved 1 unused file")
    with pytest.raises(Exception):
        cleanup.empty_trash(p, ["media/5"])


def test_cli_unused_trash_relink_and_check_exit_0_after_fixing(damaged):
    p, d, outside = damaged
    root = p.root
    # Fix everything the way the Unused page does, through ops.
    relink(p, outside)
    relink(p, p.layout.media)
    cleanup.attach_orphan(p, d["stray"], 5)
    out = cleanup.regenerate_pngs(p, [x["take_id"] for x in HK.unused_report(p).no_png])
    broken = [st.take_id for st in out if st.action == "failed"]
    gone = [x["take_id"] for x in HK.unused_report(p).missing]
    cleanup.delete_takes(p, broken + gone, label="Deleted broken and missing takes")
    cleanup.remove_empty_folders(p, [d["empty_folder"]])
    p.close()
    r = _cli("unused", root, "--json", "--trash")
    data = orjson.loads(r.stdout)
    assert r.exit_code == 0 and sorted(f["path"] for f in data["files"]) == sorted([d["note"], d["duplicate"]])
    assert "trash_id" in data
    r = _cli("check", root, "--json")
    assert r.exit_code == 0, r.stdout
    assert orjson.loads(r.stdout)["problems"] == []
    r = _cli("trash", root, "--json")
    listed = orjson.loads(r.stdout)
    assert listed["count"] >= 2
    r = _cli("trash", root, "--empty", "--json")
    emptied = orjson.loads(r.stdout)
    assert sorted(emptied["emptied"]) == sorted(x["path"] for x in listed["entries"])
    assert emptied["freed_bytes"] == listed["total_bytes"]
    assert orjson.loads(_cli("trash", root, "--json").stdout)["count"] == 0
    r = _cli("relink", root, outside, "--dry-run", "--json")
    assert r.exit_code == 0 and orjson.loads(r.stdout)["matches"] == []


def test_regenerate_over_an_empty_png_and_undo_brings_the_empty_file_back(damaged):
    p, d, _o = damaged
    # A real video whose workflow PNG is a zero-byte placeholder.
    rel, vid = p.conn.execute("SELECT c.file_path, f.companion_of FROM takes c JOIN fast_takes f USING (take_id) "
                              "WHERE f.companion_of IS NOT NULL AND c.shot_id=7 AND f.placeholder=0").fetchone()
    (p.root / rel).write_bytes(b"")
    [item] = [x for x in HK.unused_report(p).no_png if x["take_id"] == vid]
    assert item["reason"] == "workflow PNG is an empty placeholder but the video is real"
    [st] = cleanup.regenerate_pngs(p, [vid])
    assert st.action == "regenerated" and (p.root / rel).stat().st_size > 0
    assert vid not in {x["take_id"] for x in HK.unused_report(p).no_png}
    history.undo(p)
    assert (p.root / rel).stat().st_size == 0
    history.redo(p)
    assert (p.root / rel).stat().st_size > 0


def test_relink_inside_the_project_and_by_name_and_size(damaged):
    p, d, outside = damaged
    # The moved folder comes back into the project under another name: moved, not copied.
    import shutil
    shutil.move(str(outside / "4"), str(p.layout.media / "old stuff"))
    real = [m for m in d["moved"] if (p.layout.media / "old stuff" / m.rsplit("/", 1)[1]).stat().st_size > 0]
    assert len(real) == 3
    with p.db.conn:   # the probe's fingerprint of one is lost: name and size still find it
        p.conn.execute("UPDATE fast_media SET fingerprint=NULL WHERE path=?", (real[0],))
    r = relink(p, p.layout.media / "old stuff")
    by = {m.path: m.by for m in r.matches}
    assert sorted(by) == d["moved"] and r.moved == len(d["moved"]) and r.copied == 0
    assert by[real[0]] == "name+size" and by[real[1]] == by[real[2]] == "fingerprint"
    # Zero-byte placeholders carry no fingerprint: found by name (and size when it was recorded).
    assert {by[m] for m in d["moved"] if m not in real} <= {"name", "name+size"}
    assert not any((p.layout.media / "old stuff").rglob("*.*"))
    history.undo(p)
    assert sorted(x.name for x in (p.layout.media / "old stuff").iterdir()) == sorted(m.rsplit("/", 1)[1] for m in d["moved"])


def test_a_renamed_copy_is_not_taken_from_a_live_take(damaged):
    p, d, _o = damaged
    # The duplicate's original is a live take: relink must never steal it for another record.
    r = relink(p, p.layout.media, dry_run=True)
    assert d["duplicate_of"] not in {m.found for m in r.matches}
    assert all(not m.found.endswith(d["duplicate_of"]) for m in r.matches)


def test_each_fix_is_one_line_in_the_project_log_and_cli_text(damaged):
    p, d, outside = damaged
    cleanup.trash_orphans(p, [d["note"]])
    cleanup.attach_orphan(p, d["stray"], 5)
    cleanup.remove_empty_folders(p, [d["empty_folder"]])
    for h in p.log.handlers:
        h.flush()
    log = p.layout.log_file.read_text()
    assert "delete_orphans Moved 1 unused file to the trash" in log
    assert f"attach_orphan {d['stray']} -> media/5/base_" in log
    assert f"mutation remove_empty_folders | {d['empty_folder']}" in log   # no undo entry: Project.audit's line
    root = p.root
    p.close()
    r = _cli("relink", root, outside, "--dry-run")
    assert r.exit_code == 0 and f"would put back {len(d['moved'])} file(s)" in r.output
    assert not (root / d["moved"][0]).exists()
    r = _cli("check", root)
    assert r.exit_code == 1 and f"missing       {d['deleted']}" in r.output and "problem(s) in" in r.output
    r = _cli("trash", root)
    assert r.exit_code == 0 and "1 trash entry" in r.output


def test_stored_paths_with_backslashes_or_dot_slash_are_not_orphans(damaged):
    p, _d, _o = damaged
    rel = p.conn.execute("SELECT file_path FROM takes WHERE shot_id=7 AND take_type='base_image'").fetchone()[0]
    with p.db.conn:
        p.conn.execute("UPDATE takes SET file_path=? WHERE file_path=?", ("./" + rel.replace("/", "\\"), rel))
    s = HK.unused_report(p)
    assert rel not in _paths(s.orphans) and rel not in _paths(s.missing)
