"""Frame server benchmark: exact-frame latency on 1080p H.264 with GOP 24 and GOP 250.

    .venv/bin/python tools/bench/frames.py [--seconds 5] [--random 40] [--keep DIR]

Prints JSON and writes docs/bench/frames.json. Clips: the demo's renderer, 1920x1080, 24 fps,
H.264 veryfast crf 26 with B-frames, GOP 24 and GOP 250 (one keyframe for a 5 s clip).

forward   FrameServer.frame(i) for every i in order (playback / stepping with `.`): the decoder
          keeps running, no seeks. Measured at full size (RGBA 1920x1080) and at 960x540 (what a
          player view typically asks for), and as decode only (ClipDecoder.frame, no conversion).
random    frame(i) for random i (scrubbing jumps): seek back to the keyframe, decode forward.
          For GOP 250 that is up to the whole clip.
Every frame returned is checked to be the frame asked for (the clip burns its frame number in a
block whose x position is the frame index).
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from report import default_out, publish

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aimms_fast.media.frames import ClipDecoder, FrameServer  # noqa: E402

W, H, FPS = 1920, 1080, 24


def make(path: Path, frames: int, gop: int) -> Path:
    """A 1080p clip with a moving gradient and a white marker block at x = frame index * 8."""
    yy, xx = np.mgrid[0:H, 0:W]
    base = np.empty((H, W, 3), np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.options = {"preset": "veryfast", "crf": "26",
                                   "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        for i in range(frames):
            base[..., 0] = (xx // 4 + i * 3) % 256
            base[..., 1] = (yy // 4 + i * 2) % 256
            base[..., 2] = 96
            base[100:180] = 0
            base[100:180, i * 8:i * 8 + 8] = 255
            for pkt in s.encode(av.VideoFrame.from_ndarray(base, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def marker(rgba: np.ndarray) -> int:
    row = rgba[140 * rgba.shape[0] // H, :, 0].astype(int)
    x = int(np.argmax(row > 200))
    return round(x * W / rgba.shape[1] / 8)


def stats(values: list[float]) -> dict:
    v = sorted(values)
    q = lambda p: v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
    return {"p50_ms": round(q(.5) * 1000, 2), "p95_ms": round(q(.95) * 1000, 2),
            "max_ms": round(v[-1] * 1000, 2), "n": len(v)}


def bench_clip(path: Path, frames: int, n_random: int) -> dict:
    out = {}
    for label, size in (("forward_full_rgba", None), ("forward_960x540", (960, 540))):
        with FrameServer() as fs:
            fs.frame(path, 0, size=size)
            times = []
            for i in range(1, frames):
                t = time.perf_counter()
                img = fs.frame(path, i, size=size)
                times.append(time.perf_counter() - t)
                assert marker(img) == i, (label, i, marker(img))
            out[label] = {**stats(times), "seeks": fs.decoder(path).seeks}
    with ClipDecoder(path) as d:
        d.frame(0)
        times = []
        for i in range(1, frames):
            t = time.perf_counter()
            d.frame(i)
            times.append(time.perf_counter() - t)
        out["forward_decode_only"] = stats(times)
    rng = random.Random(11)
    with FrameServer(lru_frames=4) as fs:
        fs.info(path)
        times = []
        for i in [rng.randrange(frames) for _ in range(n_random)]:
            t = time.perf_counter()
            img = fs.frame(path, i, size=(960, 540))
            times.append(time.perf_counter() - t)
            assert marker(img) == i
        out["random_960x540"] = {**stats(times), "seeks": fs.decoder(path).seeks}
    t = time.perf_counter()
    with FrameServer() as fs:
        fs.info(path)
    out["open_ms"] = round((time.perf_counter() - t) * 1000, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--random", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="folder for the clips (kept)")
    args = ap.parse_args()
    frames = int(args.seconds * FPS)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="aimms_bench_frames_"))
    folder.mkdir(parents=True, exist_ok=True)
    result = {"bench": "frames", "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()[0],
                                             "python": platform.python_version(),
                                             "pyav": av.__version__},
              "clip": {"size": [W, H], "fps": FPS, "frames": frames, "codec": "h264 veryfast crf26, B-frames"}}
    try:
        for gop in (24, 250):
            p = folder / f"f1080_g{gop}.mp4"
            if not p.exists():
                make(p, frames, gop)
            p.read_bytes()
            result[f"gop{gop}"] = bench_clip(p, frames, args.random)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    publish(result, default_out("frames"))


if __name__ == "__main__":
    main()
