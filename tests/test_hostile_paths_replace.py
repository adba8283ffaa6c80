"""Issue 14: SIGKILL at every step of replace leaves a consistent pair.

A child process replaces a take and counts each file system change it makes (os.replace,
os.rename, os.unlink) and each COMMIT; it freezes right after step k and the parent kills it with
SIGKILL. The project is then opened (recovery runs) and must hold the old pair or the new pair,
whole: the take's file and its workflow PNG both from before, or both from after, every take row
pointing at an existing file, no pending registrations, staged copies or replace journals left.
Implementation-neutral step counting, so the same test shows the failure of the code before
issue 14 (a kill between the two renames left the new video with the old PNG)."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path


from conftest import make_image, make_video

REPO = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import os, sys, time
    from aimms_fast.project import Project
    from aimms_fast.ops.takes import replace_take
    root, take_id, new, png, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    p = Project.open(root)
    step = [0]

    def reached(what):
        step[0] += 1
        print(f"step {step[0]} {what}", flush=True)
        if step[0] == kill_at:
            print("frozen", flush=True)
            time.sleep(300)

    def spy(fn, name):
        def w(*a, **k):
            r = fn(*a, **k)
            reached(f"{name} {a[0] if a else ''}")
            return r
        return w
    os.replace, os.rename, os.unlink = spy(os.replace, "replace"), spy(os.rename, "rename"), spy(os.unlink, "unlink")

    class Conn:
        # sqlite3.Connection cannot be patched: a proxy that reports each COMMIT as a step.
        def __init__(self, c): self._c = c
        def __getattr__(self, n): return getattr(self._c, n)
        def execute(self, sql, *a):
            r = self._c.execute(sql, *a)
            if isinstance(sql, str) and sql.strip().upper() == "COMMIT":
                reached("commit")
            return r
    p.db.conn = Conn(p.db.conn)
    replace_take(p, take_id, new, companion=png if png != "-" else None)
    print("finished", flush=True)
""")


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def run_child(root: Path, take_id: str, new: Path, png: Path | None, kill_at: int) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root), take_id, str(new), str(png or "-"), str(kill_at)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line.strip())
            if line.strip() == "frozen":
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=120)
    if "frozen" in seen:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 0, proc.stderr.read()
    return seen


def check_pair(root: Path, take_id: str, old: tuple, new: tuple) -> str:
    """Open (recovery runs) and check the invariant; returns 'old' or 'new'."""
    from aimms_fast.project import Project
    from aimms_fast.store.takes import get_take
    with Project.open(root) as p:
        lay, conn = p.layout, p.conn
        t = get_take(conn, take_id)
        paths = [r[0] for r in conn.execute("SELECT file_path FROM takes")]
        assert [x for x in paths if not lay.abs(x).is_file()] == [], "take rows without a file"
        assert conn.execute("SELECT COUNT(*) FROM fast_pending_files").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM fast_trash WHERE state != 'done'").fetchone()[0] == 0
        media = {lay.rel(x) for x in lay.media.rglob("*") if x.is_file()}
        assert not [m for m in media if m.endswith((".aimms-partial", ".aimms-replacing"))]
        assert media <= set(paths), f"media files no take references: {sorted(media - set(paths))}"
        got = (sha(lay.abs(t.file_path)), sha(lay.abs(t.companion_path)) if t.companion_path else None)
    assert got in (old, new), f"mixed pair: video {'old' if got[0] == old[0] else 'new'}, png " \
                              f"{'old' if got[1] == old[1] else 'new' if got[1] == new[1] else got[1]}"
    return "old" if got == old else "new"


def _kill_everywhere(tmp_path, template: Path, take_id: str, new: Path, png: Path | None, old: tuple, newp: tuple):
    steps = [s for s in run_child(_copy(template, tmp_path / "count"), take_id, new, png, 0) if s.startswith("step ")]
    assert steps, "the child reported no steps"
    seen = {}
    for k in range(1, len(steps) + 1):
        root = _copy(template, tmp_path / f"k{k}")
        run_child(root, take_id, new, png, k)
        seen[k] = check_pair(root, take_id, old, newp)
        shutil.rmtree(root)
    # Early kills keep the old pair; once the rows committed, recovery completes the new one.
    assert seen[1] == "old" and seen[len(steps)] == "new", seen
    return seen


def _copy(template: Path, dst: Path) -> Path:
    shutil.copytree(template, dst, symlinks=True)
    return dst


def test_sigkill_at_every_step_of_video_replace_keeps_the_pair(tmp_path):
    """Same names (video_01.mp4 + video_01.png): the renames overwrite the take's own files."""
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    src = tmp_path / "src"
    v_old = make_video(src / "old.mp4", frames=4, size=(32, 18), color_seed=1)
    p_old = make_image(src / "old.png", color=(1, 1, 1))
    v_new = make_video(src / "new.mp4", frames=4, size=(32, 18), color_seed=2)
    p_new = make_image(src / "new.png", color=(2, 2, 2))
    tpl = tmp_path / "tpl"
    with Project.create(tpl, name="K") as p:
        sid = add_shot(p, shot_name="S", placeholders=False)
        tid = add_takes(p, sid, [v_old], storyboard="video", companions={str(v_old): p_old})[0]
    _kill_everywhere(tmp_path, tpl, tid, v_new, p_new, (sha(v_old), sha(p_old)), (sha(v_new), sha(p_new)))


def test_sigkill_at_every_step_of_image_replace_to_new_extension(tmp_path):
    """base_01.png -> base_01.jpg: the old file leaves media/ (kept in the backup) once committed."""
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    src = tmp_path / "src"
    i_old = make_image(src / "old.png", color=(1, 1, 1))
    i_new = make_image(src / "new.jpg", color=(200, 2, 2))
    tpl = tmp_path / "tpl"
    with Project.create(tpl, name="K") as p:
        sid = add_shot(p, shot_name="S", placeholders=False)
        tid = add_takes(p, sid, [i_old], storyboard="image")[0]
    _kill_everywhere(tmp_path, tpl, tid, i_new, None, (sha(i_old), None), (sha(i_new), None))
