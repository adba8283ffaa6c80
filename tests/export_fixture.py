"""A small real project for the export tests: real H.264 clips (PyAV, demo/clips.py renderer, each
frame labelled with shot, take and frame number, a different scene per take), real PNG stills,
ComfyUI-style generation metadata embedded in the files (read at import like any user's file).

Shots (order, section):
  1 OPEN  (Act A) video take 1 24 fps 2.0 s, take 2 24 fps 1.5 s  -> take 2 starred
  2 WALK  (Act A) video take 1 24 fps 1.0 s                         -> starred
  3 TALK  (Act B) video take 1 30 fps 1.0 s                         -> starred (conformed to 24)
  4 EMPTY (Act B) only AIMMS's placeholder video                    -> no starred video
  5 END   (Act B) video take 1 24 fps 1.25 s, take 2 24 fps 2.0 s   -> take 1 starred
Every shot has two stills; slot 1 is starred on the first (shot 4 too). Shot 3 has 10 words of
dialogue (0.3 s each + 0.3 s = 3.3 s hold); the others none (2 s).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aimms_fast.demo.clips import ClipSpec, make_clip, save_png, still
from aimms_fast.demo.workflows import Generation, png_chunks, vhs_comment
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes, star_take
from aimms_fast.project import Project

SIZE = (320, 180)
SHOTS = [
    # name, section, [(fps, seconds)], starred video index (None: none), dialogue
    ("OPEN", "Act A", [(24, 2.0), (24, 1.5)], 1, ""),
    ("WALK", "Act A", [(24, 1.0)], 0, ""),
    ("TALK", "Act B", [(30, 1.0)], 0, "one two three four five six seven eight nine ten"),
    ("EMPTY", "Act B", [], None, ""),
    ("END", "Act B", [(24, 1.25), (24, 2.0)], 0, ""),
]


@dataclass
class Built:
    root: Path
    shot_ids: dict[str, int]                # name -> shot id
    video_takes: dict[str, list[str]]       # name -> take ids in take order
    image_takes: dict[str, list[str]]
    seeds: dict[str, int]                   # take id -> scene seed of its file


def generation(name: str, n: int, *, frames: int = 0, fps: int = 24) -> Generation:
    return Generation(positive=f"{name.lower()} prompt take {n}", negative=f"{name.lower()} negative",
                      seed=1000 + n * 7 + len(name), checkpoint="demoModel_v1.safetensors",
                      loras=[("styleLora.safetensors", 0.5)], frames=frames, frame_rate=fps)


def build_project(root: Path) -> Built:
    src = root.parent / (root.name + "_src")
    src.mkdir(parents=True, exist_ok=True)
    p = Project.create(root, name="Export Test")
    shot_ids, vids, imgs, seeds = {}, {}, {}, {}
    try:
        for si, (name, section, videos, star, dialogue) in enumerate(SHOTS):
            sid = add_shot(p, shot_name=name, section=section, description=f"{name.lower()} happens",
                           dialogue=dialogue, video_prompt=f"{name.lower()} shot prompt")
            shot_ids[name] = sid
            files, file_seeds = [], []
            for vi, (fps, secs) in enumerate(videos):
                seed = 100 + si * 10 + vi
                spec = ClipSpec(label=f"{name} take {vi + 1}", seconds=secs, fps=fps, size=SIZE, gop=fps,
                                seed=seed, comment=vhs_comment(generation(name, vi + 1, frames=int(secs * fps), fps=fps)))
                files.append(make_clip(src / f"{name}_v{vi + 1}.mp4", spec))
                file_seeds.append(seed)
            vids[name] = add_takes(p, sid, files, storyboard="video") if files else []
            for tid, seed in zip(vids[name], file_seeds):
                seeds[tid] = seed
            if star is not None:
                star_take(p, vids[name][star], on=True)
            stills = []
            for ii in range(2):
                seed = 500 + si * 10 + ii
                stills.append(save_png(src / f"{name}_i{ii + 1}.png", still(f"{name} image {ii + 1}", seed=seed, size=SIZE),
                                       png_chunks(generation(name, ii + 1))))
            imgs[name] = add_takes(p, sid, stills, storyboard="image")
            for tid, ii in zip(imgs[name], range(2)):
                seeds[tid] = 500 + si * 10 + ii
            star_take(p, imgs[name][0], slot=1, on=True)
    finally:
        p.close()
    return Built(root, shot_ids, vids, imgs, seeds)


def make_av_clip(path: Path, label: str, *, seconds: float = 1.0, fps: int = 24, seed: int = 7,
                 tone_hz: float = 440.0) -> Path:
    """A labelled H.264 clip with an AAC sine tone (the demo clips are silent)."""
    import av
    import numpy as np
    from aimms_fast.demo.clips import _Renderer
    spec = ClipSpec(label=label, seconds=seconds, fps=fps, size=SIZE, gop=fps, seed=seed)
    render = _Renderer(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 48000
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        vs.codec_context.options = {"preset": "ultrafast"}
        aus = c.add_stream("aac", rate=rate)
        aus.layout = "mono"
        for i in range(spec.frames):
            for pkt in vs.encode(av.VideoFrame.from_ndarray(render.frame(i), format="rgb24")):
                c.mux(pkt)
        t = np.arange(int(seconds * rate)) / rate
        pcm = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
        for k in range(0, len(pcm), 1024):
            fr = av.AudioFrame.from_ndarray(pcm[None, k:k + 1024], format="fltp", layout="mono")
            fr.sample_rate = rate
            for pkt in aus.encode(fr):
                c.mux(pkt)
        for s in (vs, aus):
            for pkt in s.encode():
                c.mux(pkt)
    return path
