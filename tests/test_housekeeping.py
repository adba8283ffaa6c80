"""Housekeeping reports on a real project: unused media files (orphans in shot folders, asset
folders in both layouts, temp copies skipped) and routing health (takes whose file is gone,
placeholders), through ops/housekeeping.py and the `aimms unused` / `aimms routing` commands."""
from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner

from aimms_fast.cli import cli
from aimms_fast.ops.housekeeping import routing_health, unused_files
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes
from aimms_fast.project.recovery import PARTIAL_SUFFIX, STAGED_SUFFIX

from conftest import make_image, make_video


@pytest.fixture
def messy(project, media_dir):
    """Three shots (each with its AIMMS placeholders), one real image and one real video take,
    then the kinds of mess the reports exist for."""
    s1 = add_shot(project, shot_name="Opening")
    s2 = add_shot(project, shot_name="Chase")
    s3 = add_shot(project, shot_name="Ending")
    [img_take] = add_takes(project, s1, [make_image(media_dir / "a.png")], storyboard="image")
    make_image(media_dir / "v.png")                      # companion workflow PNG beside the video
    add_takes(project, s2, [make_video(media_dir / "v.mp4")], storyboard="video")
    lay = project.layout
    # Orphans: a real image in a shot folder, and an empty file.
    make_image(lay.shot_dir(s3) / "stray.png")
    (lay.shot_dir(s3) / "empty.mp4").write_bytes(b"")
    # Our own in-flight copies are recovery's business, never "unused".
    (lay.shot_dir(s3) / ("base_09.png" + PARTIAL_SUFFIX)).write_bytes(b"x")
    (lay.shot_dir(s3) / ("video_09.mp4" + STAGED_SUFFIX)).write_bytes(b"x")
    # Assets: one in media/characters (stored with Windows backslashes), one in the older assets/
    # layout; both referenced by the assets table. A second file in assets/ is an orphan.
    make_image(lay.media / "characters" / "hero.png")
    make_image(lay.legacy_assets / "locations" / "forest.png")
    make_image(lay.legacy_assets / "locations" / "unused_forest.png")
    project.conn.executemany(
        "INSERT INTO assets(id_key, asset_name, asset_type, file_path) VALUES (?, ?, ?, ?)",
        [("a1", "Hero", "characters", "media\\characters\\hero.png"),
         ("a2", "Forest", "locations", "assets/locations/forest.png")])
    project.conn.commit()
    # A take whose file was deleted outside the app.
    img_rel = project.conn.execute("SELECT file_path FROM takes WHERE take_id=?", (img_take,)).fetchone()[0]
    lay.abs(img_rel).unlink()
    return {"shots": (s1, s2, s3), "deleted": (img_take, img_rel)}


def test_unused_files_reports_only_orphans(project, messy):
    s3 = messy["shots"][2]
    files = unused_files(project)
    # media/ first, then the older assets/ folder; sorted within each.
    assert [f["path"] for f in files] == [f"media/{s3}/empty.mp4", f"media/{s3}/stray.png",
                                          "assets/locations/unused_forest.png"]
    by_path = {f["path"]: f for f in files}
    assert by_path[f"media/{s3}/empty.mp4"]["zero_byte"] is True
    assert by_path[f"media/{s3}/empty.mp4"]["size"] == 0
    stray = by_path[f"media/{s3}/stray.png"]
    assert stray["zero_byte"] is False
    assert stray["size"] == project.layout.abs(stray["path"]).stat().st_size > 0
    # Placeholders are zero-byte too, but a take refers to them: not reported.
    assert not any(p.endswith(("base_01.png", "video_01.mp4")) for p in by_path)


def test_unused_files_clean_project_and_pending_import(project, media_dir):
    sid = add_shot(project, shot_name="Only")
    add_takes(project, sid, [make_image(media_dir / "a.png")], storyboard="image")
    assert unused_files(project) == []
    # A file copied in by an import that has not written its take row yet is not an orphan.
    make_image(project.layout.shot_dir(sid) / "base_05.png")
    project.conn.execute("INSERT INTO fast_pending_files(path, started_at) VALUES (?, ?)",
                         (f"media/{sid}/base_05.png", "2024-01-01T00:00:00Z"))
    project.conn.commit()
    assert unused_files(project) == []


def test_routing_health_counts_and_missing(project, messy):
    s1 = messy["shots"][0]
    img_take, img_rel = messy["deleted"]
    r = routing_health(project)
    # Each shot got one placeholder per storyboard (video placeholders come with a workflow PNG);
    # shot 1 got one real image, shot 2 one real video with its workflow PNG.
    assert r["counts"] == {
        "image": {"takes": 4, "missing": 1, "placeholders": 3},
        "video": {"takes": 4, "missing": 0, "placeholders": 3},
        "workflow PNG": {"takes": 4, "missing": 0, "placeholders": 3},
    }
    assert r["missing"] == [{"take_id": img_take, "shot_id": s1, "shot_name": "Opening", "kind": "image",
                             "take_type": "base_image", "path": img_rel}]


def test_routing_health_missing_placeholder_is_counted_in_both(project, messy):
    s3 = messy["shots"][2]
    rel = f"media/{s3}/video_01.mp4"
    project.layout.abs(rel).unlink()
    r = routing_health(project)
    assert r["counts"]["video"] == {"takes": 4, "missing": 1, "placeholders": 3}
    assert [(m["shot_name"], m["path"]) for m in r["missing"]] == [("Opening", messy["deleted"][1]),
                                                                   ("Ending", rel)]


def _cli_json(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args] + ["--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return orjson.loads(r.stdout)


def test_cli_unused_and_routing(project, messy):
    root = project.root
    expected_unused = unused_files(project)
    expected_routing = routing_health(project)
    project.close()  # the CLI opens the project itself (a second open would be read-only anyway)
    data = _cli_json("unused", root)
    assert data["files"] == expected_unused
    assert data["count"] == 3 and data["total_bytes"] == sum(f["size"] for f in expected_unused)
    assert _cli_json("routing", root) == expected_routing
    text = CliRunner().invoke(cli, ["routing", str(root)])
    assert text.exit_code == 0
    assert "1 take(s) point at a missing file" in text.output and messy["deleted"][1] in text.output
    text = CliRunner().invoke(cli, ["unused", str(root)])
    assert text.exit_code == 0 and "3 unused file(s)" in text.output and "(empty)" in text.output


def test_cli_missing_project_fails_cleanly(tmp_path):
    r = CliRunner().invoke(cli, ["unused", str(tmp_path / "nope")])
    assert r.exit_code == 1 and "error:" in r.output
