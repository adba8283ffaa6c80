"""Media exports benchmark: animatic MP4 speed against ffmpeg on the same clips, PDF boards and the
HTML review folder on the 600-shot project. Prints JSON; writes docs/bench/export_media.json.

    .venv/bin/python tools/bench/export_media.py [--demo PATH] [--scale PATH] [--runs N]

--demo   the demo project (`aimms demo`, 24 shots; built there if missing, default /tmp/aimms_demo_x2)
--scale  a project with >= 600 shots (default /tmp/aimms_scale, the store benchmark's 21K-take
         project, when it exists; else /tmp/aimms_export_600 is built: 600 shots, 2,400 takes)

Animatic: the demo's starred video cut rendered by export/animatic.py, and in the same run, the
same clips by the `ffmpeg` CLI two ways, alternating with ours `--runs` times (median reported):
  ffmpeg_filter  one ffmpeg process doing the same job: trim, scale + pad to the same size, the
                 same frame rate, sound or generated silence per clip, concat filter, libx264
                 veryfast crf 23 + AAC (the fair peer)
  ffmpeg_copy    the concat demuxer with stream copy (no re-encode: only possible because the demo
                 clips share one codec setup; no letterboxing, no conform, no silence; a floor)
Both again at 1280x720 (`animatic_720p`), the size a client gets.
Speed = seconds of animatic per wall second (> 1: faster than real time). CPU seconds are given
too: the machine is shared, and CPU time is less disturbed by other work than wall time.
PDF: 600 boards (video cut: posters decoded from the clips; image cut: stills), 3x3 A4 landscape,
prompts on. HTML: the review folder of the 600-shot video cut (takes copied, browsers play H.264).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import default_out, publish

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402

from aimms_fast.demo.builder import DemoSpec, build_demo, demo_status  # noqa: E402
from aimms_fast.errors import AimmsError  # noqa: E402
from aimms_fast.export.animatic import choose_size, render_animatic  # noqa: E402
from aimms_fast.export.boards_pdf import render_boards_pdf  # noqa: E402
from aimms_fast.export.review_html import render_review_html  # noqa: E402
from aimms_fast.export.timeline import build_cut  # noqa: E402
from aimms_fast.project import Project  # noqa: E402


def cpu_s() -> float:
    """CPU seconds of this process and its finished children (x264 threads count as ours)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def timed(fn):
    c0, t0 = cpu_s(), time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t0, cpu_s() - c0


def ffmpeg_filter_cmd(cut, out: Path, size, fps: float) -> list[str]:
    W, H = size
    args = ["ffmpeg", "-v", "error", "-y"]
    graph, n_in = [], 0
    pairs = []
    for i, c in enumerate(cut.clips):
        d = c.duration_s
        if c.kind == "video":
            args += ["-ss", f"{c.source_in_s:.6f}", "-t", f"{d:.6f}", "-i", str(c.path)]
            v = f"[{n_in}:v]"
            a = f"[{n_in}:a]" if c.has_audio else None
            n_in += 1
        elif c.kind == "image":
            args += ["-loop", "1", "-t", f"{d:.6f}", "-i", str(c.path)]
            v, a = f"[{n_in}:v]", None
            n_in += 1
        else:
            graph.append(f"color=black:s={W}x{H}:r={fps}:d={d:.6f}[src{i}]")
            v, a = f"[src{i}]", None
        graph.append(f"{v}scale={W}:{H}:force_original_aspect_ratio=decrease,pad={W}:{H}:(ow-iw)/2:(oh-ih)/2,"
                     f"setsar=1,fps={fps},format=yuv420p,setpts=PTS-STARTPTS[v{i}]")
        if a:
            graph.append(f"{a}aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                         f"apad,atrim=duration={d:.6f},asetpts=PTS-STARTPTS[a{i}]")
        else:
            graph.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={d:.6f}[a{i}]")
        pairs.append(f"[v{i}][a{i}]")
    graph.append("".join(pairs) + f"concat=n={len(pairs)}:v=1:a=1[vo][ao]")
    return args + ["-filter_complex", ";".join(graph), "-map", "[vo]", "-map", "[ao]",
                   "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-b:a", "128k",
                   "-movflags", "+faststart", str(out)]


def ffmpeg_copy_cmd(cut, out: Path, listfile: Path) -> list[str]:
    lines = []
    for c in cut.clips:
        if c.kind == "video":
            lines.append(f"file '{c.path}'\ninpoint {c.source_in_s:.6f}\noutpoint {c.source_in_s + c.duration_s:.6f}")
    listfile.write_text("\n".join(lines) + "\n")
    return ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listfile), "-c", "copy", str(out)]


def media_duration(path: Path) -> float:
    with av.open(str(path)) as c:
        return float(c.duration / 1e6) if c.duration else 0.0


def bench_animatic(demo: Path, runs: int, tmp: Path, size=None) -> dict:
    build_demo(demo, DemoSpec())
    with Project.open(demo, readonly=True) as p:
        cut = build_cut(p)
    size = choose_size(cut, size)
    media = [c for c in cut.clips if c.kind == "video"]
    ours, filt, copy = [], [], []
    res = None
    for k in range(runs):
        res, wall, cpu = timed(lambda: render_animatic(cut, tmp / f"ours{k}.mp4", size=size))
        ours.append((wall, cpu))
        cmd = ffmpeg_filter_cmd(cut, tmp / f"ff{k}.mp4", size, cut.fps)
        _, wall, cpu = timed(lambda: subprocess.run(cmd, check=True))
        filt.append((wall, cpu))
        cmd = ffmpeg_copy_cmd(cut, tmp / f"copy{k}.mp4", tmp / "list.txt")
        _, wall, cpu = timed(lambda: subprocess.run(cmd, check=True))
        copy.append((wall, cpu))
    dur = res.duration_s

    def summary(samples, out: Path) -> dict:
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "speed_x_realtime": round(dur / wall, 2),
                "speed_per_cpu_s": round(dur / cpu, 2) if cpu else None, "runs_wall_s": [round(s[0], 3) for s in samples],
                "output_s": round(media_duration(out), 3), "bytes": out.stat().st_size}

    return {
        "project": str(demo), "clips": len(cut.clips), "video_clips": len(media),
        "gaps": sum(1 for c in cut.clips if c.kind in ("gap", "title")),
        "clips_with_audio": sum(1 for c in cut.clips if c.has_audio),
        "fps": cut.fps, "size": list(res.size), "duration_s": round(dur, 3), "frames": res.frames,
        "aimms_fast": summary(ours, tmp / "ours0.mp4"),
        "ffmpeg_filter": summary(filt, tmp / "ff0.mp4"),
        "ffmpeg_copy": summary(copy, tmp / "copy0.mp4"),
        "ratio_wall_ours_over_ffmpeg_filter": round(statistics.median(s[0] for s in ours)
                                                    / statistics.median(s[0] for s in filt), 2),
    }


def scale_project(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    big = Path("/tmp/aimms_scale")
    # Only a finished build with enough shots (another benchmark may be building it right now).
    try:
        rep = demo_status(big) if (big / "data" / "shots.db").exists() else None
    except AimmsError:      # not (yet) a finished demo build
        rep = None
    if rep is not None and rep.shots >= 600:
        return big
    path = Path("/tmp/aimms_export_600")
    build_demo(path, DemoSpec(shots=600, takes=2400))
    return path


def bench_boards(path: Path, tmp: Path) -> dict:
    out = {"project": str(path)}
    with Project.open(path, readonly=True) as p:
        for sb in ("video", "image"):
            cut, t_cut, _ = timed(lambda: build_cut(p, storyboard=sb))
            r, wall, cpu = timed(lambda: render_boards_pdf(cut, tmp / f"boards_{sb}.pdf", rows=3, columns=3,
                                                           paper="A4", orientation="landscape", prompts=True))
            out[f"pdf_{sb}"] = {"boards": r.boards, "with_picture": r.with_picture, "pages": r.pages,
                                "build_cut_s": round(t_cut, 3), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                                "boards_per_s": round(r.boards / wall, 1),
                                "bytes": (tmp / f"boards_{sb}.pdf").stat().st_size}
        cut = build_cut(p)
        r, wall, cpu = timed(lambda: render_review_html(cut, tmp / "review"))
        size = sum(f.stat().st_size for f in (tmp / "review").rglob("*") if f.is_file())
        out["html_video"] = {"boards": r.boards, "copied": r.copied, "proxies": r.proxies,
                             "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "bytes": size}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--demo", default="/tmp/aimms_demo_x2")
    ap.add_argument("--scale", default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(default_out("export_media")))
    a = ap.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg not found (apt-get install ffmpeg): the comparison needs it")
    with tempfile.TemporaryDirectory(prefix="aimms_export_media_") as t:
        tmp = Path(t)
        result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "pyav": av.__version__,
                              "load_avg_at_start": list(os.getloadavg())}}
        result["animatic"] = bench_animatic(Path(a.demo), a.runs, tmp)
        # The same cut upscaled to 1280x720 (letterboxing and encoding at a common delivery size).
        result["animatic_720p"] = bench_animatic(Path(a.demo), max(1, min(2, a.runs)), tmp, size=(1280, 720))
        result["boards"] = bench_boards(scale_project(a.scale), tmp)
        result["machine"]["load_avg_at_end"] = list(os.getloadavg())
    publish(result, a.out)


if __name__ == "__main__":
    main()
