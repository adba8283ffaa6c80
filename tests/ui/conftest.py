"""UI test plumbing.

Each test builds a small real project here (PyAV clips, Pillow images), then runs one scenario of
tests/ui/scenarios.py in its own process: Dear PyGui keeps process-wide state (one context, one
viewport, GL), so every scenario gets a fresh process, exactly like a user starting the app. The
scenario drives the app through its own API (and real X input via XTest), saves screenshots and
returns facts as JSON; the tests assert on those facts and on the screenshot pixels.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_image, make_video  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).with_name("scenarios.py")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.ui)


@pytest.fixture(autouse=True)
def _need_display():
    # Dear PyGui aborts the process without a display; say so plainly instead of skipping.
    if not os.environ.get("DISPLAY"):
        pytest.fail("UI tests need an X display: run them through tools/test.sh (pytest under xvfb-run), "
                    "e.g. xvfb-run -a -s '-screen 0 1920x1080x24 +extension GLX' .venv/bin/python -m pytest tests/ui")


def run_scenario(name: str, tmp_path: Path, *, project: Path | None = None, args: dict | None = None,
                 timeout: float = 240) -> dict:
    """Run scenarios.<name> in a fresh process; returns its JSON result (with 'shots' dir)."""
    out = tmp_path / f"out_{name}"
    out.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "config"
    cfg.mkdir(exist_ok=True)
    env = dict(os.environ, AIMMS_CONFIG_DIR=str(cfg), PYTHONPATH=str(ROOT))
    spec = {"project": str(project) if project else None, "out": str(out), "args": args or {}}
    proc = subprocess.run([sys.executable, str(SCENARIOS), name, json.dumps(spec)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    keep = os.environ.get("AIMMS_UI_SHOTS")   # copy screenshots somewhere to look at them
    if keep:
        dst = Path(keep) / name
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(out, dst)
    result_file = out / "result.json"
    if proc.returncode != 0 or not result_file.exists():
        raise AssertionError(f"scenario {name} failed (exit {proc.returncode})\n--- stdout\n{proc.stdout[-4000:]}"
                             f"\n--- stderr\n{proc.stderr[-8000:]}")
    result = json.loads(result_file.read_text())
    result["_stderr"] = proc.stderr
    return result


def pixels(png: str | Path) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def region_mean(img: np.ndarray, rect, inset: float = 0.3) -> np.ndarray:
    """Mean colour of the middle of a rectangle (x0, y0, x1, y1) in viewport pixels."""
    x0, y0, x1, y1 = rect
    dx, dy = (x1 - x0) * inset, (y1 - y0) * inset
    sub = img[int(y0 + dy):int(y1 - dy), int(x0 + dx):int(x1 - dx)]
    assert sub.size, f"empty region {rect}"
    return sub.reshape(-1, 3).mean(axis=0)


def close_to(c, want, tol: float = 14) -> bool:
    return bool(np.all(np.abs(np.asarray(c, float) - np.asarray(want, float)) <= tol))


def video_colour(seed: int, frame: int = 0) -> tuple[int, int, int]:
    """The flat colour make_video paints into frame `frame`."""
    return ((frame * 9) % 256, (seed * 40) % 256, 255 - (frame * 9) % 256)


def build_project(root: Path, shots: list[dict], *, name: str = "UI Test") -> Path:
    """A real project: each shot dict has name, section, images=[rgb...], videos=[seed...],
    pngs (bool: give videos a workflow PNG), placeholders (AIMMS's empty takes), broken_videos=N
    (text files named .mp4: undecodable takes)."""
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.ops.takes import add_takes
    from aimms_fast.project import Project
    src = root.parent / f"{root.name}_src"
    src.mkdir(parents=True, exist_ok=True)
    with Project.create(root, name=name, author="ui tests") as p:
        for k, s in enumerate(shots):
            sid = add_shot(p, shot_name=s["name"], section=s.get("section", "Act 1"),
                           description=s.get("description", f"shot {k}"),
                           image_prompt=s.get("image_prompt", f"a test picture number {k}"),
                           placeholders=s.get("placeholders", False))
            imgs = [make_image(src / f"s{k}_img{i}.png", size=(128, 72), color=tuple(c))
                    for i, c in enumerate(s.get("images", []))]
            if imgs:
                add_takes(p, sid, imgs, storyboard="image")
            vids = []
            for i, seed in enumerate(s.get("videos", [])):
                v = make_video(src / f"s{k}_vid{i}.mp4", color_seed=seed)
                if s.get("pngs"):
                    make_image(v.with_suffix(".png"), size=(160, 90), color=(10, 10, 10),
                               text_chunks={"prompt": '{"3": {"class_type": "KSampler", "inputs": {"seed": 7}}}'})
                vids.append(v)
            for i in range(s.get("broken_videos", 0)):
                bad = src / f"s{k}_broken{i}.mp4"
                bad.write_text("this is a text file, not a video\n")
                vids.append(bad)
            if vids:
                add_takes(p, sid, vids, storyboard="video")
    return root
