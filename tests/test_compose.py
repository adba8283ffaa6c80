"""Compare compositing: exact pixels of the numpy rule, and the GL shaders held to it (±1).

The GL half runs in a child process with its own standalone moderngl context (GLX under Xvfb, else
EGL): a GL context must never share a thread with another library's (DESIGN.md, moderngl)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aimms_fast.playback.compose import compose_numpy, wipe_split

ROOT = Path(__file__).resolve().parents[1]


def flat(w, h, rgba):
    img = np.empty((h, w, 4), np.uint8)
    img[...] = rgba
    return img


A = flat(10, 3, (200, 40, 40, 255))
B = flat(10, 3, (40, 180, 60, 255))


def test_wipe_takes_a_left_of_the_split_b_right_and_draws_a_white_divider():
    out = compose_numpy(A, B, "wipe", 0.3)
    assert wipe_split(0.3, 10) == 3
    assert (out[:, :3] == (200, 40, 40, 255)).all()
    assert (out[:, 3] == (255, 255, 255, 255)).all()          # the divider, 1 px
    assert (out[:, 4:] == (40, 180, 60, 255)).all()


def test_wipe_at_the_edges_is_all_a_or_all_b_with_the_divider_inside():
    all_b = compose_numpy(A, B, "wipe", 0.0)
    assert (all_b[:, 0] == 255).all() and (all_b[:, 1:] == (40, 180, 60, 255)).all()
    all_a = compose_numpy(A, B, "wipe", 1.0)
    assert (all_a[:, :9] == (200, 40, 40, 255)).all() and (all_a[:, 9] == 255).all()
    # out of range is clamped, not an error
    assert np.array_equal(compose_numpy(A, B, "wipe", 7.0), all_a)


def test_difference_with_gain_one_and_four_clips_at_white_and_is_opaque():
    a = flat(4, 2, (200, 40, 40, 128))
    b = flat(4, 2, (40, 180, 30, 10))
    assert (compose_numpy(a, b, "difference", 1.0) == (160, 140, 10, 255)).all()
    assert (compose_numpy(a, b, "difference", 4.0) == (255, 255, 40, 255)).all()
    assert (compose_numpy(a, b, "difference", 0.5) == (80, 70, 5, 255)).all()
    assert (compose_numpy(a, a, "difference", 4.0) == (0, 0, 0, 255)).all()


def test_blend_zero_half_one():
    a = flat(4, 2, (200, 41, 255, 255))
    b = flat(4, 2, (40, 180, 0, 255))
    assert np.array_equal(compose_numpy(a, b, "blend", 0.0), b)
    assert np.array_equal(compose_numpy(a, b, "blend", 1.0), a)
    # (A*128 + B*128 + 128) >> 8: halves rounded up
    assert (compose_numpy(a, b, "blend", 0.5) == (120, 111, 128, 255)).all()


def test_out_buffer_is_written_and_returned_and_bad_input_is_refused():
    out = np.zeros_like(A)
    assert compose_numpy(A, B, "blend", 0.25, out=out) is out
    with pytest.raises(ValueError, match="differ in size"):
        compose_numpy(A, B[:, :5], "wipe", 0.5)
    with pytest.raises(ValueError, match="uint8 RGBA"):
        compose_numpy(A.astype(np.float32), B, "wipe", 0.5)
    with pytest.raises(ValueError, match="mode"):
        compose_numpy(A, B, "overlay", 0.5)


_GL_CHILD = r"""
import json, sys
import numpy as np
from aimms_fast.playback.compose import compose_numpy
from aimms_fast.ui.gl_compose import GLCompositor, create_standalone_context
ctx = create_standalone_context()
comp = GLCompositor(ctx)
rng = np.random.default_rng(7)
a = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
b = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
res = {"renderer": ctx.info["GL_RENDERER"], "cases": []}
for mode, param in json.loads(sys.argv[1]):
    g = comp.compose(a, b, mode, param)
    n = compose_numpy(a, b, mode, param)
    d = np.abs(g.astype(int) - n.astype(int))
    res["cases"].append({"mode": mode, "param": param, "max": int(d.max()), "shape": list(g.shape)})
# a second size on the same compositor (its offscreen target is remade)
c = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
res["second_size_max"] = int(np.abs(comp.compose(c, c[::-1].copy(), "blend", 0.5).astype(int)
                                    - compose_numpy(c, c[::-1].copy(), "blend", 0.5).astype(int)).max())
# compose_to into a texture, at a viewport offset: the wipe column counts from the viewport's edge.
t = ctx.texture((80, 40), 4, dtype="f1")
comp.compose_to(a, b, "wipe", 0.5, t, viewport=(20, 3, 53, 37))
got = np.frombuffer(t.read(), np.uint8).reshape(40, 80, 4)[3:40, 20:73]
res["compose_to_wipe_max"] = int(np.abs(got.astype(int) - compose_numpy(a, b, "wipe", 0.5).astype(int)).max())
# scaled copy: a 2x picture of four flat quadrants into a 1x viewport keeps the quadrants
big = np.zeros((40, 60, 4), np.uint8); big[:20, :30] = (255, 0, 0, 255); big[:20, 30:] = (0, 255, 0, 255)
big[20:, :30] = (0, 0, 255, 255); big[20:, 30:] = (255, 255, 255, 255)
comp.compose_to(big, None, "copy", 0.0, t, viewport=(0, 0, 30, 20))
got = np.frombuffer(t.read(), np.uint8).reshape(40, 80, 4)
res["copy_corners"] = [got[2, 2].tolist(), got[2, 27].tolist(), got[17, 2].tolist(), got[17, 27].tolist()]
print(json.dumps(res))
"""

CASES = [("wipe", 0.0), ("wipe", 0.37), ("wipe", 0.5), ("wipe", 1.0), ("difference", 1.0), ("difference", 4.0),
         ("difference", 0.37), ("blend", 0.0), ("blend", 0.5), ("blend", 1.0), ("blend", 0.3)]


def test_gl_shaders_give_the_numpy_pixels_within_one():
    proc = subprocess.run([sys.executable, "-c", _GL_CHILD, json.dumps(CASES)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [(c["mode"], c["param"]) for c in res["cases"]] == [tuple(c) for c in CASES]
    for c in res["cases"]:
        assert c["shape"] == [37, 53, 4]
        assert c["max"] <= 1, c
    # wipe is integer-exact in both: the split column is computed once on the CPU
    assert all(c["max"] == 0 for c in res["cases"] if c["mode"] == "wipe")
    assert res["second_size_max"] <= 1
    assert res["compose_to_wipe_max"] == 0
    assert res["copy_corners"] == [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [255, 255, 255, 255]]

