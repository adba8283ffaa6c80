"""Shared fixtures: real projects on disk, real media encoded with PyAV, copies of ../shared/realdata."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def make_video(path: Path, *, frames: int = 24, size=(160, 90), fps: int = 24, gop: int = 12,
               codec: str = "libx264", color_seed: int = 0) -> Path:
    """Encode a small real clip whose frame i has a distinct flat colour (i*9, seed*40, 255-i*9)."""
    import av
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.gop_size = gop
        if codec == "libx264":
            s.codec_context.options = {"preset": "ultrafast", "bf": "0"}
        for i in range(frames):
            img = np.zeros((h, w, 3), np.uint8)
            img[..., 0] = (i * 9) % 256
            img[..., 1] = (color_seed * 40) % 256
            img[..., 2] = 255 - (i * 9) % 256
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def make_image(path: Path, size=(64, 48), color=(200, 30, 30), text_chunks: dict | None = None) -> Path:
    from PIL import Image, PngImagePlugin
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    if path.suffix.lower() == ".png":
        info = PngImagePlugin.PngInfo()
        for k, v in (text_chunks or {}).items():
            info.add_text(k, v)
        img.save(path, pnginfo=info)
    else:
        img.save(path)
    return path


@pytest.fixture
def realdata(tmp_path) -> Path:
    """A private copy of ../shared/realdata (tests may change files in it)."""
    if not REALDATA.exists():
        pytest.fail(f"shared real data not found at {REALDATA}")
    dst = tmp_path / "realdata"
    shutil.copytree(REALDATA, dst)
    return dst


@pytest.fixture
def project(tmp_path):
    from aimms_fast.project import Project
    p = Project.create(tmp_path / "proj", name="Test Project", author="tester")
    yield p
    p.close()


@pytest.fixture
def media_dir(tmp_path) -> Path:
    d = tmp_path / "incoming"
    d.mkdir()
    return d
