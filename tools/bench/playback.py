"""Playback benchmark (issue 7): the player and the compare view in the real app, under Xvfb.

    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" .venv/bin/python tools/bench/playback.py [--quick] [--out F]

(without a DISPLAY the script starts itself again under xvfb-run). It makes its own clips with
`aimms_fast.demo.numbered` (every frame carries its index in pixels), files them as takes of a real
project, starts the viewer at 1600x960 and drives it through its key dispatcher:

open_first_frame_ms   open_player() until the exact first frame is on screen (rendered frame)
step_p95_ms           key press (Right) to the frame whose pixels show the next frame, 1080p H.264,
                      GOP 24 and GOP 250; step_back_p95_ms: Left inside the look-ahead buffer
fps_1up_1080p         frames put on screen per second while playing a 1080p clip at 1x
fps_4up_720p          the compare view with four 720p takes playing in sync (frame sync); frames per
                      second of the master pane and the transport's dropped-frame count
rss_4_players_mb      resident memory with four players open (1080p), after playing each
cpu_ms_*              CPU per render / per step / per open by thread group (ui = Python + Dear PyGui,
                      llvmpipe = Mesa's rasterizer threads, other = decode threads): unlike the
                      wall-clock figures these hold up when other work shares the cores
backend               LiveView's backend ("gl": moderngl into Dear PyGui's own textures; "numpy":
                      raw float textures); the 4-up run is repeated with the other backend
ffplay                the same clips in ffplay (1 and 4 processes at once): its own dropped-frame
                      count ("fd=" of its status line) over the same clip, as the peer
Prints JSON and writes docs/bench/playback.json (--out to change).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24 +extension GLX"]


def pct(values, q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))], 2)


def thread_cpu_ms() -> dict[str, float]:
    """CPU ms so far of this process's threads, in groups: "ui" (the main thread: Python and Dear
    PyGui), "llvmpipe" (Mesa's rasterizer threads), "other" (decode threads, workers' pipes).
    From /proc schedstat (ns). CPU time, unlike wall-clock, holds up on a loaded machine."""
    out = {"ui": 0.0, "llvmpipe": 0.0, "other": 0.0}
    for t in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{t}/stat").read_text()
            ns = int(Path(f"/proc/self/task/{t}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        grp = "llvmpipe" if name.startswith("llvmpipe") else "ui" if int(t) == os.getpid() else "other"
        out[grp] += ns / 1e6
    return out


def cpu_per(before: dict, after: dict, n: int) -> dict[str, float]:
    return {k: round((after[k] - before[k]) / max(1, n), 2) for k in after}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- clips and project ------------------------------------------------------------------------------

def make_clips(work: Path, quick: bool) -> dict[str, list[Path]]:
    from aimms_fast.demo.numbered import make_numbered_clip
    s1080 = 4 if quick else 8
    s720 = 12 if quick else 24
    clips = {
        "gop24": [make_numbered_clip(work / "c1080_gop24.mp4", frames=24 * s1080, fps=24, size=(1920, 1080), gop=24)],
        "gop250": [make_numbered_clip(work / "c1080_gop250.mp4", frames=24 * s1080, fps=24, size=(1920, 1080), gop=250)],
        "720": [make_numbered_clip(work / f"c720_{k}.mp4", frames=24 * s720, fps=24, size=(1280, 720), gop=24)
                for k in range(4)],
    }
    return clips


def make_project(work: Path, clips: dict[str, list[Path]]) -> tuple[Path, dict[str, list[str]]]:
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    root = work / "project"
    ids: dict[str, list[str]] = {}
    with Project.create(root, name="Playback bench", author="bench") as p:
        for key, files in clips.items():
            sid = add_shot(p, shot_name=f"BENCH_{key.upper()}", section="Bench", description=key, placeholders=False)
            ids[key] = add_takes(p, sid, files, storyboard="video")
    return root, ids


# -- the app side (child process, one LiveView backend) -------------------------------------------

def ui_run(project: Path, ids: dict[str, list[str]], quick: bool, backend: str) -> dict:
    os.environ["AIMMS_LIVE_BACKEND"] = backend
    from aimms_fast.ui.app import App
    from aimms_fast.ui.compare import open_compare
    from aimms_fast.ui.player import open_player

    app = App(vsync=False, width=1600, height=960, persist_prefs=False)
    app.start(project)
    app.settle(5)
    res: dict = {"backend_asked": backend}

    def until(pred, timeout=10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            app.iterate(pace=False)
            if pred():
                return True
        return False

    # open -> first exact frame on screen
    opens = []
    open_cpu, made = [], 0
    for k in range(3 if quick else 8):
        c0 = thread_cpu_ms()
        t0 = time.perf_counter()
        p = open_player(app, ids["gop24"][0])
        ok = until(lambda: p.shown_kind == "exact" and p.shown_index == 0)
        opens.append((time.perf_counter() - t0) * 1000 if ok else float("inf"))
        open_cpu.append(cpu_per(c0, thread_cpu_ms(), 1))
        made += p.view.stats["textures"]
        res.setdefault("backend", p.view.backend)
        p.close()
        app.settle(2)
    res["open_first_frame_ms"] = {"p50": pct(opens, 50), "p95": pct(opens, 95), "runs": [round(x, 1) for x in opens]}
    # CPU of each open (all threads, incl. the stream's first decode), and pane textures made
    # (0 when the warmed / pooled texture was taken)
    res["open_cpu_ms"] = [round(sum(c.values()), 1) for c in open_cpu]
    res["open_textures_made"] = made

    # frame steps: key press to the rendered frame that shows the next frame
    steps, backs = {}, {}
    for key in ("gop24", "gop250"):
        p = open_player(app, ids[key][0])
        until(lambda: p.shown_kind == "exact" and p.shown_index == 0)
        n = p.stream.info.frame_count
        fw, bw = [], []
        for i in range(1, min(n, 30 if quick else 60)):
            t0 = time.perf_counter()
            app.handle_key("Right")
            ok = until(lambda: p.shown_index == i and p.shown_kind == "exact", timeout=5)
            fw.append((time.perf_counter() - t0) * 1000 if ok else float("inf"))
        c0, f0, m0 = thread_cpu_ms(), app.frames, p.stream.stats["misses"]
        for _ in range(10):
            want = p.shown_index - 1
            t0 = time.perf_counter()
            app.handle_key("Left")
            ok = until(lambda: p.shown_index == want and p.shown_kind == "exact", timeout=5)
            bw.append((time.perf_counter() - t0) * 1000 if ok else float("inf"))
        renders = app.frames - f0
        steps[key] = {"p50": pct(fw, 50), "p95": pct(fw, 95), "n": len(fw)}
        # renders per step back (1 = the new frame in the first frame drawn), CPU per step by
        # thread group, and look-ahead misses (0: every step back found its frame decoded)
        backs[key] = {"p50": pct(bw, 50), "p95": pct(bw, 95), "n": len(bw), "renders": renders,
                      "cpu_ms_per_step": cpu_per(c0, thread_cpu_ms(), len(bw)),
                      "misses": p.stream.stats["misses"] - m0}
        p.close()
        app.settle(2)
    res["step_ms"] = steps
    res["step_p95_ms"] = {k: v["p95"] for k, v in steps.items()}
    res["step_back_ms"] = backs
    res["step_back_p95_ms"] = {k: v["p95"] for k, v in backs.items()}

    # 1-up 1080p playback at 1x (the real paced loop: vsync off, 60 frames/s at most)
    p = open_player(app, ids["gop24"][0])
    until(lambda: p.shown_kind == "exact")
    secs = min(p.stream.info.duration - 0.5, 3.5 if quick else 7.5)
    res["fps_1up_1080p"], res["dropped_1up_1080p"], res["renders_per_s_1up"] = _play(
        app, lambda: p.shown_index, p.transport, secs)
    res["cpu_ms_1up"] = dict(_LAST_PLAY_CPU)
    p.close()
    app.settle(2)

    # 4-up 720p compare, frame sync
    w = open_compare(app, ids["720"])
    until(lambda: w.settled(), timeout=15)
    secs = 8.0 if quick else 20.0
    res["fps_4up_720p"], res["dropped_4up_720p"], res["renders_per_s_4up"] = _play(
        app, lambda: w.panes.shown[0], w.transport, secs)
    res["cpu_ms_4up"] = dict(_LAST_PLAY_CPU)
    res["seconds_4up"] = secs
    w.close()
    app.settle(2)

    # memory with four players open
    players = []
    base = rss_mb()
    for k in range(4):
        p = open_player(app, ids["gop24" if k % 2 == 0 else "gop250"][0])
        players.append(p)
        until(lambda: p.shown_kind == "exact")
        app.handle_key("Space")
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            app.iterate()
        app.handle_key("K")
    res["rss_4_players_mb"] = round(rss_mb(), 1)
    res["rss_before_players_mb"] = round(base, 1)
    for p in players:
        p.close()
    res["errors"] = app.errors
    app.shutdown()
    return res


def _play(app, shown, transport, seconds: float) -> tuple[float, int, float]:
    """Play at 1x for `seconds` in the paced loop. Returns the frames per second put on screen
    (new frames between the first and the last change, over that time), the transport's
    dropped-frame count, and UI renders per second (the loop draws when a frame is due)."""
    app.handle_key("Space")
    dropped0, frames0 = transport.dropped, app.frames
    changes, last = [], shown()
    c0 = thread_cpu_ms()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        app.iterate()
        cur = shown()
        if cur != last:
            changes.append(time.monotonic())
            last = cur
    elapsed = time.monotonic() - t0
    n = app.frames - frames0
    renders = n / elapsed
    dropped = transport.dropped - dropped0
    _LAST_PLAY_CPU.clear()
    _LAST_PLAY_CPU.update(per_render=cpu_per(c0, thread_cpu_ms(), n),
                          per_second=cpu_per(c0, thread_cpu_ms(), int(elapsed) or 1))
    app.handle_key("K")
    fps = (len(changes) - 1) / (changes[-1] - changes[0]) if len(changes) > 1 else 0.0
    return round(fps, 2), int(dropped), round(renders, 1)


_LAST_PLAY_CPU: dict = {}     # CPU ms per render and per second of the last _play, by thread group


# -- the peer: ffplay --------------------------------------------------------------------------------

def ffplay_drops(files: list[Path]) -> dict | None:
    """Run ffplay on the files at once (one process each); dropped frames from its status line."""
    exe = shutil.which("ffplay")
    if exe is None:
        return None
    env = dict(os.environ, SDL_AUDIODRIVER="dummy")
    procs = [subprocess.Popen([exe, "-autoexit", "-an", "-stats", "-loglevel", "info", "-x", "800", "-y", "450",
                               str(f)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
             for f in files]
    drops = []
    for pr in procs:
        try:
            _, err = pr.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pr.kill()
            _, err = pr.communicate()
        found = re.findall(rb"fd=\s*(\d+)", err)
        drops.append(int(found[-1]) if found else None)
    return {"processes": len(files), "dropped": drops}


# -- main -------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter clips and runs (under 5 minutes on 2 cores)")
    ap.add_argument("--out", default=None, help="JSON file (default docs/bench/playback.json)")
    ap.add_argument("--ui-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.ui_child:                      # child: one UI run with one LiveView backend
        spec = json.loads(args.ui_child)
        res = ui_run(Path(spec["project"]), spec["ids"], spec["quick"], spec["backend"])
        print("RESULT " + json.dumps(res))
        return
    if not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            sys.exit("playback.py needs an X display or xvfb-run")
        os.execvp("xvfb-run", XVFB + [sys.executable] + sys.argv)

    t_start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="aimms_playback_bench_"))
    try:
        t0 = time.monotonic()
        clips = make_clips(work, args.quick)
        project, ids = make_project(work, clips)
        setup_s = time.monotonic() - t0
        runs = {}
        for backend in ("gl", "numpy"):
            spec = {"project": str(project), "ids": ids, "quick": args.quick, "backend": backend}
            proc = subprocess.run([sys.executable, __file__, "--ui-child", json.dumps(spec)],
                                  capture_output=True, text=True, timeout=900)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                runs[backend] = {"failed": proc.returncode, "stderr": proc.stderr[-3000:]}
            else:
                runs[backend] = json.loads(line[7:])
        main_run = runs["gl"] if "failed" not in runs["gl"] else runs["numpy"]
        result = {
            "bench": "playback",
            "quick": args.quick,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_avg": os.getloadavg()},
            "setup_s": round(setup_s, 1),
            "backend": main_run.get("backend"),
            "open_first_frame_ms": main_run.get("open_first_frame_ms"),
            "step_p95_ms": main_run.get("step_p95_ms"),
            "step_back_p95_ms": main_run.get("step_back_p95_ms"),
            "fps_1up_1080p": main_run.get("fps_1up_1080p"),
            "dropped_1up_1080p": main_run.get("dropped_1up_1080p"),
            "fps_4up_720p": main_run.get("fps_4up_720p"),
            "dropped_4up_720p": main_run.get("dropped_4up_720p"),
            "rss_4_players_mb": main_run.get("rss_4_players_mb"),
            "cpu_ms_per_render_4up": (main_run.get("cpu_ms_4up") or {}).get("per_render"),
            "cpu_ms_per_step_back": {k: v.get("cpu_ms_per_step") for k, v in (main_run.get("step_back_ms") or {}).items()},
            "by_backend": runs,
            "ffplay_1up_1080p": ffplay_drops(clips["gop24"]),
            "ffplay_4up_720p": ffplay_drops(clips["720"]),
            "seconds": round(time.monotonic() - t_start, 1),
        }
        publish(result, args.out or default_out("playback"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
