"""A damaged copy of the demo project for the housekeeping tests (tests/test_housekeeping_fix.py
and the UI scenario tests/ui/scn_housekeeping.py): each kind of rot the Unused and Routing pages
exist for, with what was done recorded so tests can assert exact lists."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from aimms_fast.demo.builder import DemoSpec, build_demo

SPEC = DemoSpec(shots=8, takes=16, seed=1)


def demo_copy(cache: Path, dest: Path) -> Path:
    """A fresh copy of the small demo (built once per `cache` folder)."""
    src = cache / "demo"
    if not (src / "data" / "shots.db").exists():
        build_demo(src, SPEC)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".aimms_fast_cache", "*.lock"))
    return dest


def _one(db: Path, sql: str, *args):
    with sqlite3.connect(db) as c:
        return c.execute(sql, args).fetchone()


def damage(root: Path, outside: Path) -> dict:
    """Break the project at `root` in every way the pages handle; `outside` receives a moved
    shot folder. Returns what was done (paths project-relative)."""
    from PIL import Image
    db = root / "data" / "shots.db"
    media = root / "media"
    d: dict = {}
    # 1. a take's file deleted outside the app (nothing to relink it from).
    d["deleted"] = _one(db, "SELECT file_path FROM takes WHERE shot_id=1 AND take_type='base_image' "
                            "ORDER BY file_path LIMIT 1")[0]
    (root / d["deleted"]).unlink()
    # 2. stray files: a real picture dropped into shot 5's folder, and a text note.
    Image.new("RGB", (96, 54), (20, 160, 90)).save(media / "5" / "stray.png")
    d["stray"] = "media/5/stray.png"
    (media / "5" / "notes.txt").write_text("todo: redo this shot\n")
    d["note"] = "media/5/notes.txt"
    # 3. a zero-byte file where a real image take was (a zeroed-out take).
    d["zeroed"] = _one(db, "SELECT file_path FROM takes WHERE shot_id=6 AND take_type='base_image' "
                           "ORDER BY file_path LIMIT 1")[0]
    (root / d["zeroed"]).write_bytes(b"")
    # 4. a duplicate copy of a take's file under another name.
    src = _one(db, "SELECT file_path FROM takes WHERE shot_id=7 AND take_type='base_image' LIMIT 1")[0]
    shutil.copy2(root / src, media / "7" / "copy of base.png")
    d["duplicate_of"], d["duplicate"] = src, "media/7/copy of base.png"
    # 5. a whole shot folder moved out of the project.
    outside.mkdir(parents=True, exist_ok=True)
    shutil.move(str(media / "4"), str(outside / "4"))
    d["moved"] = sorted(f"media/4/{p.name}" for p in (outside / "4").iterdir())
    # 6. a workflow PNG deleted.
    d["png_deleted"] = _one(db, "SELECT t.file_path FROM takes t JOIN fast_takes f USING (take_id) "
                                "WHERE t.take_type='video_workflow' AND f.placeholder=0 AND t.shot_id=6")[0]
    (root / d["png_deleted"]).unlink()
    # 7. a take's file renamed by hand (found again by content).
    d["renamed_from"] = _one(db, "SELECT file_path FROM takes WHERE shot_id=3 AND take_type='base_image' LIMIT 1")[0]
    d["renamed_to"] = "media/3/hero shot FINAL.png"
    (root / d["renamed_from"]).rename(root / d["renamed_to"])
    # 8. the folder of a shot that no longer exists.
    (media / "99").mkdir()
    d["empty_folder"] = "media/99"
    return d
