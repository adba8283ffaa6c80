"""A hostile project built in a tmp folder (issue 14), beside an "outside" tree and a second
"other" project that no command run on the hostile project may touch.

    base/
      outside/      secret.txt, victim.png, x.png (+ x.png.aimms-partial), dir/inner.txt, link -> secret.txt
      other/        a real project: media/<id>/base_01.png
      proj/         the project under test: shot A (2 images, 1 video + workflow PNG), shot B (1 image),
                    shot C (1 image); hostile rows and links are added per test with the helpers

`tree_state(*roots)` hashes every file and records every symlink target and folder, so a test can
assert the outside world is byte-identical after a command. Records are made hostile directly in
sqlite (the project closed), as a shared project would arrive.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson

from conftest import make_image, make_video

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Hostile:
    base: Path
    root: Path          # the hostile project
    outside: Path
    other: Path         # another project beside it
    other_file: str     # its take's file, relative to `other`
    shot_a: int
    shot_b: int
    shot_c: int
    img1: str           # shot A image takes (base_01.png, base_02.png)
    img2: str
    vid: str            # shot A video take (video_01.mp4) ...
    vid_png: str        # ... and its workflow PNG take (video_01.png)
    img_b: str          # shot B image take (base_01.png)
    img_c: str          # shot C image take

    # -- inspection -------------------------------------------------------------------------------
    def world(self) -> dict:
        """State of everything that must never change: the outside tree and the other project."""
        return tree_state(self.outside, self.other)

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.root / "data" / "shots.db")

    def path_of(self, take_id: str):
        with self.db() as c:
            r = c.execute("SELECT file_path FROM takes WHERE take_id=?", (take_id,)).fetchone()
        return r[0] if r else None

    def rel_out(self, name: str) -> str:
        """A stored path climbing from the project into the outside tree."""
        return f"../outside/{name}"

    # -- making it hostile --------------------------------------------------------------------------
    def set_path(self, take_id: str, path) -> None:
        with self.db() as c:
            c.execute("UPDATE takes SET file_path=? WHERE take_id=?", (path, take_id))

    def trash_row(self, state: str, moves: list[dict], *, kind: str = "take", rows: dict | None = None) -> int:
        with self.db() as c:
            cur = c.execute("INSERT INTO fast_trash(kind, label, rows_json, files_json, deleted_at, state) "
                            "VALUES (?, 'hostile', ?, ?, '2026-01-01T00:00:00Z', ?)",
                            (kind, orjson.dumps(rows or {}).decode(), orjson.dumps(moves).decode(), state))
            return cur.lastrowid

    def pending_row(self, path: str) -> None:
        with self.db() as c:
            c.execute("INSERT INTO fast_pending_files(path, started_at) VALUES (?, '2026-01-01T00:00:00Z')", (path,))

    def history_row(self, files: list[dict], *, undone: int = 0, state: str = "done", label: str = "Hostile step") -> int:
        from aimms_fast.store.history import encode
        with self.db() as c:
            cur = c.execute("INSERT INTO fast_history(at, label, what, shot_ids, changes, files, undone, state) "
                            "VALUES ('2026-01-01T00:00:00Z', ?, 'takes', '[]', ?, ?, ?, ?)",
                            (label, encode({}), orjson.dumps(files).decode(), undone, state))
            return cur.lastrowid

    def in_trash(self, rel: str, data: bytes = b"payload from the trash") -> str:
        """Put a file at data/trash/<rel>; returns rel (what a trash row's `to` holds)."""
        p = self.root / "data" / "trash" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return rel

    def link(self, rel: str, target: str | Path) -> Path:
        """A symlink at proj/<rel> pointing at `target` (relative targets as given)."""
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() or p.is_symlink():
            if p.is_dir() and not p.is_symlink():
                import shutil
                shutil.rmtree(p)
            else:
                p.unlink()
        os.symlink(target, p)
        return p

    def open(self):
        from aimms_fast.project import Project
        return Project.open(self.root)


def tree_state(*roots: Path) -> dict:
    """{path: ('file', sha256) | ('link', target) | ('dir',)} of everything under `roots`
    (symlinks are recorded, never followed)."""
    out = {}
    for root in roots:
        for dirpath, dirs, files in os.walk(root, followlinks=False):
            d = Path(dirpath)
            out[str(d)] = ("dir",)
            for n in dirs + files:
                p = d / n
                if p.is_symlink():
                    out[str(p)] = ("link", os.readlink(p))
                elif p.is_file():
                    out[str(p)] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def files_with(root: Path, data: bytes) -> list[Path]:
    """Regular files (links not followed) under root whose bytes contain `data`."""
    out = []
    for dirpath, _dirs, files in os.walk(root, followlinks=False):
        for n in files:
            p = Path(dirpath) / n
            if not p.is_symlink() and p.is_file() and data in p.read_bytes():
                out.append(p)
    return out


def find_named(root: Path, name: str) -> list[Path]:
    """Entries called `name` under root, dangling symlinks included (Path.rglob skips those)."""
    return [Path(d) / n for d, ds, fs in os.walk(root) for n in ds + fs if n == name]


SECRET = b"outside secret: must never be read, moved or overwritten\n"


def build(base: Path) -> Hostile:
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    from aimms_fast.store.takes import get_take
    out = base / "outside"
    (out / "dir").mkdir(parents=True)
    (out / "secret.txt").write_bytes(SECRET)
    (out / "dir" / "inner.txt").write_bytes(b"inner outside file\n")
    make_image(out / "victim.png", color=(1, 2, 3))
    make_image(out / "x.png", color=(4, 5, 6))
    (out / "x.png.aimms-partial").write_bytes(b"outside partial-looking file\n")
    os.symlink("secret.txt", out / "link")
    src = base / "incoming"
    imgs = [make_image(src / f"i{k}.png", color=(10 * k, 50, 90)) for k in range(5)]
    vid = make_video(src / "v.mp4", frames=6, size=(64, 36))
    vpng = make_image(src / "v.png", color=(0, 200, 0))

    with Project.create(base / "other", name="Other") as o:
        sid = add_shot(o, shot_name="OTHER_010", placeholders=False)
        t = add_takes(o, sid, [imgs[4]], storyboard="image")[0]
        other_file = get_take(o.conn, t).file_path

    with Project.create(base / "proj", name="Hostile") as p:
        a = add_shot(p, shot_name="A_010", placeholders=False)
        b = add_shot(p, shot_name="B_020", placeholders=False)
        c = add_shot(p, shot_name="C_030", placeholders=False)
        i1, i2 = add_takes(p, a, imgs[:2], storyboard="image")
        v = add_takes(p, a, [vid], storyboard="video", companions={str(vid): vpng})[0]
        ib = add_takes(p, b, [imgs[2]], storyboard="image")[0]
        ic = add_takes(p, c, [imgs[3]], storyboard="image")[0]
        from aimms_fast.store.takes import companion_id
        vp = companion_id(p.conn, v)
        from aimms_fast.store import history as H
        from aimms_fast.store.db import transaction
        with transaction(p.db):
            H.clear(p.conn)  # each test starts with an empty undo stack
    for d in (src,):
        import shutil
        shutil.rmtree(d)
    return Hostile(base=base, root=base / "proj", outside=out, other=base / "other", other_file=other_file,
                   shot_a=a, shot_b=b, shot_c=c, img1=i1, img2=i2, vid=v, vid_png=vp, img_b=ib, img_c=ic)


def run_cli(*args, cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """`python -m aimms_fast ARGS` in a fresh process (what a user types), from this worktree."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "aimms_fast", *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout, env=env)


def assert_clear(r: subprocess.CompletedProcess, *, ok: bool | None = None) -> None:
    """No traceback; with ok=False an `error: …` line, with ok=True exit 0."""
    assert "Traceback" not in r.stderr, r.stderr
    if ok is True:
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    if ok is False:
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "error:" in r.stderr or '"error"' in r.stdout, (r.stdout, r.stderr)
