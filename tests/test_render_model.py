"""3D rendering with real GL (Mesa EGL), each test's GL in its own process: `aimms render-model` on
every realdata model, the renderer's toggles and camera moves by pixels, rendering into a target
texture, a Draco model, and model thumbnails built by the real worker pool."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from test_viewer3d import GOOD, ROOT, make_draco_glb

BG = np.array([41, 43, 48])          # RenderSettings().background (0.16, 0.17, 0.19) in 8 bits
FUZZ = "fbx/ufbx__fuzz_0741.fbx"


@pytest.fixture(scope="module")
def models3d(tmp_path_factory):
    src = ROOT / ".." / "shared" / "realdata" / "3d"
    dst = tmp_path_factory.mktemp("m3d") / "3d"
    shutil.copytree(src, dst)
    return dst


def object_mask(img: np.ndarray, bg=BG) -> np.ndarray:
    return np.abs(img[..., :3].astype(int) - bg).max(axis=2) > 12


def aimms(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "aimms_fast", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


@pytest.mark.parametrize("rel", GOOD)
def test_render_model_cli_frames_every_realdata_model(models3d, tmp_path, rel):
    out = tmp_path / "shot.png"
    r = aimms("render-model", models3d / rel, "--out", out, "--size", "320x240", "--view", "iso",
              "--no-grid", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["size"] == [320, 240] and info["faces"] > 0
    img = np.asarray(Image.open(out))
    assert img.shape == (240, 320, 4) and (img[..., 3] == 255).all()
    mask = object_mask(img)
    share = mask.mean()
    # Framed: a sensible share of the frame, centred, and nothing cut off at the border.
    assert 0.02 < share < 0.8, share
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - 160) < 60 and abs(ys.mean() - 120) < 50
    edge = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    assert not edge.any()
    assert max(xs.max() - xs.min(), 1) > 0.5 * 320 or max(ys.max() - ys.min(), 1) > 0.5 * 240


def test_render_model_cli_errors(models3d, tmp_path):
    bad = models3d / FUZZ
    r = aimms("render-model", bad, "--out", tmp_path / "x.png")
    assert r.returncode == 1 and not (tmp_path / "x.png").exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "not a readable FBX file" in lines[0], r.stderr
    r = aimms("render-model", models3d / "gltf/Duck.glb", "--out", tmp_path / "x.png", "--size", "big")
    assert r.returncode == 2 and "WxH" in r.stderr
    r = aimms("render-model", tmp_path / "nope.glb", "--out", tmp_path / "x.png")
    assert r.returncode == 1 and r.stderr.strip() == f"error: {tmp_path / 'nope.glb'}: file not found"


JOB = r'''
import json, sys
import numpy as np
from PIL import Image
from aimms_fast.viewer3d.loader import load_model
from aimms_fast.viewer3d.render import Camera, Renderer, RenderSettings, standalone_context
from aimms_fast.viewer3d.thumbs import model_thumbnail
m3d, out, draco = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = standalone_context()
r = Renderer(ctx)
W, H = 320, 240
def cam_for(model, view="iso"):
    c = Camera(); c.view(view); c.fit(model.bounds, W / H); return c
def save(name, img):
    Image.fromarray(img).save(f"{out}/{name}.png")
NOGRID = RenderSettings(grid=False)
for name, rel in [("duck", "gltf/Duck.glb"), ("fox", "gltf/Fox/Fox.gltf"), ("man", "gltf/CesiumMan.glb"),
                  ("box", "gltf/Box.glb")]:
    model = load_model(f"{m3d}/{rel}")
    r.set_model(model)
    c = cam_for(model)
    save(name, r.render(c, (W, H), settings=NOGRID))
    if name != "duck":
        continue
    save("duck_grid", r.render(c, (W, H)))
    save("duck_wire", r.render(c, (W, H), settings=RenderSettings(grid=False, wireframe=True)))
    save("duck_white", r.render(c, (W, H), settings=RenderSettings(grid=False, background=(1, 1, 1))))
    save("duck_light", r.render(c, (W, H), settings=RenderSettings(grid=False, light_dir=(-0.6, 0.7, 0.4))))
    c2 = cam_for(model); c2.orbit(150, 0)
    save("duck_orbit", r.render(c2, (W, H), settings=NOGRID))
    c3 = cam_for(model); c3.zoom(-4)
    save("duck_zoomout", r.render(c3, (W, H), settings=NOGRID))
    c3.reset()
    save("duck_reset", r.render(c3, (W, H), settings=NOGRID))
    # Into a texture bigger than the picture (like a Dear PyGui texture rounded up): top-left corner.
    tex = ctx.texture((W + 64, H + 64), 4)
    r.render(c, (W, H), target=tex, settings=NOGRID)
    data = np.frombuffer(tex.read(), np.uint8).reshape(H + 64, W + 64, 4)
    save("duck_target", np.ascontiguousarray(data[:H, :W]))
    save("duck_nomsaa", r.render(c, (W, H), settings=RenderSettings(grid=False, msaa=0)))
    same = ctx.texture((W, H), 4)
    r.render(c, (W, H), target=same, settings=NOGRID)
    save("duck_target_same", np.frombuffer(same.read(), np.uint8).reshape(H, W, 4).copy())
man = load_model(f"{m3d}/gltf/CesiumMan.glb")
r.set_model(man)
c = cam_for(man, "front")
save("man_bind", r.render(c, (W, H), settings=NOGRID))
r.set_pose(0, 0.5)
save("man_walk", r.render(c, (W, H), settings=NOGRID))
save("man_walk_wire", r.render(c, (W, H), settings=RenderSettings(grid=False, wireframe=True)))
r.set_pose(None)
save("man_bind_again", r.render(c, (W, H), settings=NOGRID))
d = load_model(draco)
r.set_model(d)
save("draco", r.render(cam_for(d, "front"), (W, H), settings=NOGRID))
r.set_model(None)
save("empty", r.render(Camera(), (W, H)))
save("thumb", model_thumbnail(f"{m3d}/gltf/Duck.glb", (256, 144)))
r.release()
print("ok")
'''


@pytest.fixture(scope="module")
def shots(models3d, tmp_path_factory):
    out = tmp_path_factory.mktemp("shots")
    draco = out / "draco_sphere.glb"
    make_draco_glb(draco)
    r = subprocess.run([sys.executable, "-c", JOB, str(models3d), str(out), str(draco)], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
    return {p.stem: np.asarray(Image.open(p)) for p in out.glob("*.png")}


def test_textured_models_show_their_texture_colours(shots):
    duck = shots["duck"]
    m = object_mask(duck)
    rgb = duck[m][:, :3].astype(int)
    yellow = (rgb[:, 0] > 150) & (rgb[:, 1] > 120) & (rgb[:, 2] < 80)
    assert yellow.mean() > 0.6, yellow.mean()
    fox = shots["fox"][object_mask(shots["fox"])][:, :3].astype(int)
    assert ((fox[:, 0] > fox[:, 2] + 40) & (fox[:, 0] > 120)).mean() > 0.4     # orange fur
    box = shots["box"][object_mask(shots["box"])][:, :3].astype(int)
    assert ((box[:, 0] > 100) & (box[:, 1] < 30) & (box[:, 2] < 30)).mean() > 0.9  # red factor
    # sRGB-correct shading: the red box's faces differ in brightness (lit, not flat)
    assert np.ptp(box[:, 0]) > 40
    man = shots["man"][object_mask(shots["man"])][:, :3].astype(int)
    assert len(np.unique(man // 16, axis=0)) > 20                             # textured, not one colour


def test_toggles_and_camera_moves_change_pixels(shots):
    duck = shots["duck"]
    base = object_mask(duck)
    def differs(name, min_share):
        d = np.abs(shots[name].astype(int) - duck.astype(int)).max(axis=2) > 12
        assert d.mean() > min_share, (name, d.mean())
    differs("duck_grid", 0.02)
    differs("duck_wire", 0.03)
    differs("duck_white", 0.5)
    differs("duck_light", 0.05)
    differs("duck_orbit", 0.05)
    assert object_mask(shots["duck_zoomout"]).mean() < 0.5 * base.mean()
    assert np.array_equal(shots["duck_reset"], duck)                 # reset = back to the fit
    assert object_mask(shots["duck_white"], np.array([255, 255, 255])).mean() == pytest.approx(base.mean(), abs=0.02)
    # Without MSAA (a viewport while dragging) the same picture, only the edges differ.
    nomsaa = shots["duck_nomsaa"]
    assert (object_mask(nomsaa) != base).mean() < 0.01
    both = base & object_mask(nomsaa)
    assert np.median(np.abs(nomsaa[both].astype(int) - duck[both]).max(axis=1)) <= 2
    # Rendering into a target texture gives the same picture as the read-back path.
    assert np.abs(shots["duck_target"].astype(int) - duck).max() <= 1
    assert np.abs(shots["duck_target_same"].astype(int) - duck).max() <= 1


def test_draco_model_renders_real_geometry(shots):
    img = shots["draco"]
    m = object_mask(img)
    assert 0.1 < m.mean() < 0.8
    rgb = img[m][:, :3].astype(int)
    assert (rgb[:, 2] > rgb[:, 0] + 30).mean() > 0.8          # its blue base colour
    ys, xs = np.nonzero(m)
    assert 0.8 < (np.ptp(xs) + 1) / (np.ptp(ys) + 1) < 1.25        # a sphere looks round from the front


def test_empty_renderer_and_thumbnail(shots):
    assert (np.abs(shots["empty"][..., :3].astype(int) - BG).max() <= 1)
    th = shots["thumb"]
    assert th.shape == (144, 256, 4)
    assert 0.05 < object_mask(th, th[0, 0, :3].astype(int)).mean() < 0.9


def test_pool_builds_model_thumbnails(project, models3d):
    from aimms_fast.cache.pool import ThumbnailPool
    from aimms_fast.cache.tiles import TileCache
    root = project.root
    chars = root / "media" / "characters"
    chars.mkdir(parents=True, exist_ok=True)
    shutil.copy(models3d / "gltf/Duck.glb", chars / "Duck.glb")
    shutil.copytree(models3d / "gltf/Fox", chars / "Fox")
    shutil.copy(models3d / FUZZ, chars / "bad.fbx")
    rels = ["media/characters/Duck.glb", "media/characters/Fox/Fox.gltf", "media/characters/bad.fbx"]
    cache = root / ".aimms_fast_cache"
    with ThumbnailPool(root, cache, workers=1) as pool:
        pool.request(rels)
        assert pool.wait_idle(120)
        events = {e.rel_path: e for e in pool.drain(100)}
    assert events["media/characters/Duck.glb"].state == "ready"
    assert events["media/characters/Fox/Fox.gltf"].state == "ready"
    bad = events["media/characters/bad.fbx"]
    assert bad.state == "failed" and "not a readable FBX file" in bad.reason
    tc = TileCache(cache, root)
    poster = tc.poster("media/characters/Duck.glb")
    rgb = poster[..., :3].astype(int)
    yellow = (rgb[..., 0] > 150) & (rgb[..., 1] > 120) & (rgb[..., 2] < 80)
    assert yellow.mean() > 0.05
    Image.fromarray(poster).save(root / "duck_poster.png")
    assert len(list((cache / "models").glob("*.glb"))) == 2     # Duck and Fox converted and cached


def test_skinned_animation_poses_the_model(shots):
    bind, walk = object_mask(shots["man_bind"]), object_mask(shots["man_walk"])
    assert (bind != walk).mean() > 0.01                          # arms and legs moved
    assert 0.5 < walk.mean() / bind.mean() < 2                   # still the whole person in frame
    assert np.array_equal(shots["man_bind_again"], shots["man_bind"])
    wire = np.abs(shots["man_walk_wire"].astype(int) - shots["man_walk"]).max(axis=2) > 12
    assert wire[walk].mean() > 0.1 and wire[~walk].mean() < 0.01   # skinned wireframe stays on it


GLX_JOB = r'''
import sys, moderngl, numpy as np
from PIL import Image
from aimms_fast.viewer3d.loader import load_model
from aimms_fast.viewer3d.render import Camera, Renderer, RenderSettings
ctx = moderngl.create_context(standalone=True, require=330)      # GLX on the X display: a context we are given
print(ctx.info["GL_RENDERER"], file=sys.stderr)
m = load_model(sys.argv[1])
r = Renderer(ctx)
r.set_model(m)
c = Camera(); c.view("iso"); c.fit(m.bounds, 320 / 240)
tex = ctx.texture((384, 256), 4)                                 # a Dear PyGui-like texture, rounded up
r.render(c, (320, 240), target=tex, settings=RenderSettings(grid=False))
img = np.frombuffer(tex.read(), np.uint8).reshape(256, 384, 4)[:240, :320]
Image.fromarray(np.ascontiguousarray(img)).save(sys.argv[2])
'''


def test_renders_on_a_glx_context_it_is_given(models3d, shots, tmp_path):
    import os
    assert os.environ.get("DISPLAY"), "run the tests under xvfb-run (see RULES.md): this one needs GLX"
    out = tmp_path / "glx.png"
    r = subprocess.run([sys.executable, "-c", GLX_JOB, str(models3d / "gltf/Duck.glb"), str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    glx = np.asarray(Image.open(out)).astype(int)
    assert np.abs(glx - shots["duck"]).max(axis=2).mean() < 0.5      # same picture as EGL's
