"""viewer3d loading (no GL in this process): every realdata model through the child-process loader,
the GLB cache, Draco, limits and errors, and the camera math."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aimms_fast.errors import MediaError
from aimms_fast.viewer3d import MODEL_EXTS
from aimms_fast.viewer3d.cache import ModelCache, content_key
from aimms_fast.viewer3d.loader import FORMATS, load_model
from aimms_fast.viewer3d.render import VIEWS, Camera

ROOT = Path(__file__).resolve().parents[1]
GOOD = ["gltf/Box.glb", "gltf/CesiumMan.glb", "gltf/Duck.glb", "gltf/Fox/Fox.gltf",
        "fbx/assimp__animation_with_skeleton.fbx", "fbx/assimp__boxWithCompressedCTypeArray.FBX",
        "fbx/ufbx__blender_279_default_7400_binary.fbx", "fbx/ufbx__max2009_cube_anim_5800_ascii.fbx",
        "fbx/ufbx__maya_cube_7100_ascii.fbx", "fbx/ufbx__maya_cube_7500_binary.fbx"]
VERSIONS = {"ufbx__max2009_cube_anim_5800_ascii.fbx": "5800 ascii", "ufbx__maya_cube_7100_ascii.fbx": "7100 ascii",
            "ufbx__maya_cube_7500_binary.fbx": "7500 binary", "ufbx__blender_279_default_7400_binary.fbx": "7400 binary"}


@pytest.fixture(scope="module")
def models3d(tmp_path_factory):
    """The realdata 3d/ folder copied to tmp (the originals are read-only)."""
    src = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "3d"
    dst = tmp_path_factory.mktemp("m3d") / "3d"
    shutil.copytree(src, dst)
    return dst


def make_draco_glb(path: Path, radius: float = 0.7) -> np.ndarray:
    """A GLB whose only mesh is Draco-compressed (KHR_draco_mesh_compression), made with DracoPy.
    Returns the source vertices."""
    import DracoPy
    import trimesh
    from aimms_fast.viewer3d.gltf import pack_glb
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=radius)
    v = np.asarray(sphere.vertices, np.float32) + np.float32([0, radius, 0])
    f = np.asarray(sphere.faces, np.uint32)
    n = np.asarray(sphere.vertex_normals, np.float64)
    blob = DracoPy.encode(v, f, normals=n, preserve_order=True, quantization_bits=16)
    dm = DracoPy.decode(blob)
    ids = {a["attribute_type"]: a["unique_id"] for a in dm.attributes}   # 0 POSITION, 1 NORMAL
    gltf = {
        "asset": {"version": "2.0", "generator": "aimms_fast test"},
        "extensionsUsed": ["KHR_draco_mesh_compression"],
        "extensionsRequired": ["KHR_draco_mesh_compression"],
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": "sphere"}],
        "meshes": [{"name": "sphere", "primitives": [{
            "attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0,
            "extensions": {"KHR_draco_mesh_compression": {"bufferView": 0, "attributes": {
                "POSITION": ids[0], "NORMAL": ids[1]}}}}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": [0.1, 0.4, 0.9, 1.0]}}],
        "accessors": [
            {"componentType": 5126, "count": len(v), "type": "VEC3",
             "min": v.min(0).tolist(), "max": v.max(0).tolist()},
            {"componentType": 5126, "count": len(v), "type": "VEC3"},
            {"componentType": 5125, "count": int(f.size), "type": "SCALAR"}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob)}],
        "buffers": [{"byteLength": len(blob)}],
    }
    path.write_bytes(pack_glb(gltf, blob))
    return v


def test_model_exts_are_the_loaders_formats():
    assert MODEL_EXTS == frozenset(FORMATS) == {".glb", ".gltf", ".fbx"}


@pytest.mark.parametrize("rel", GOOD)
def test_realdata_model_loads_and_cached_glb_reloads_equal(models3d, tmp_path, rel):
    path = models3d / rel
    cache = tmp_path / "cache"
    first = load_model(path, cache)
    assert not first.from_cache
    s = first.stats
    assert s.vertices > 0 and s.faces > 0 and s.materials >= 1
    assert s.format == ("FBX" if path.suffix.lower() == ".fbx" else "GLB" if path.suffix == ".glb" else "glTF")
    if path.name in VERSIONS:
        assert s.version == VERSIONS[path.name]
    size = first.bounds[1] - first.bounds[0]
    assert np.all(np.isfinite(first.bounds)) and size.max() > 0
    for p in first.primitives:
        assert p.vertices.dtype == np.float32 and p.indices.max() < len(p.vertices)
        assert np.allclose(np.linalg.norm(p.normals, axis=1), 1, atol=1e-3)
    assert len(list((cache / "models").glob("*.glb"))) == 1
    again = load_model(path, cache)
    assert again.from_cache and again.glb == first.glb
    assert again.stats == first.stats
    for a, b in zip(first.primitives, again.primitives, strict=True):
        assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.indices, b.indices)
    for a, b in zip(first.materials, again.materials, strict=True):
        assert a.base_color == b.base_color
        assert (a.texture is None) == (b.texture is None)
        if a.texture is not None:
            assert np.array_equal(a.texture, b.texture)


def test_textures_units_and_skins(models3d):
    duck = load_model(models3d / "gltf/Duck.glb")
    assert duck.stats.textured and duck.materials[0].texture.shape == (512, 512, 4)
    assert duck.primitives[0].uv is not None
    man = load_model(models3d / "gltf/CesiumMan.glb")
    assert man.stats.skinned and [(a.name, a.duration) for a in man.animations] == [("animation 1", 2.0)]
    assert 1.4 < man.stats.size_m[1] < 1.6                    # a 1.5 m person, standing on Y
    box = load_model(models3d / "gltf/Box.glb")
    assert np.allclose(box.materials[0].base_color, (0.8, 0.0, 0.0, 1.0), atol=0.01)
    # Maya works in centimetres: its 1-unit cube is 1 cm once normalised to metres.
    maya = load_model(models3d / "fbx/ufbx__maya_cube_7500_binary.fbx")
    assert np.allclose(maya.stats.size_m, (0.01, 0.01, 0.01), atol=1e-4)
    blender = load_model(models3d / "fbx/ufbx__blender_279_default_7400_binary.fbx")
    assert np.allclose(blender.stats.size_m, (2, 2, 2), atol=1e-3)   # Blender's 2 m default cube


def test_fuzzed_fbx_is_a_clear_error(models3d, tmp_path):
    path = models3d / "fbx/ufbx__fuzz_0741.fbx"
    with pytest.raises(MediaError) as e:
        load_model(path, tmp_path / "cache")
    assert str(path) in str(e.value) and "FBX" in e.value.message
    assert not list((tmp_path / "cache" / "models").glob("*")) or \
        not list((tmp_path / "cache" / "models").glob("*.glb"))    # nothing cached for a bad file


def test_bad_inputs_name_the_file(tmp_path, models3d):
    empty = tmp_path / "empty.glb"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.glb"
    junk.write_bytes(b"glTF\x02\x00\x00\x00" + b"\xff" * 40)
    notjson = tmp_path / "x.gltf"
    notjson.write_text("this is not json")
    fox = tmp_path / "fox"
    shutil.copytree(models3d / "gltf/Fox", fox)
    (fox / "Fox.bin").unlink()
    cases = {empty: "zero-byte", junk: "truncated", notjson: "not a glTF", tmp_path / "missing.fbx": "not found",
             tmp_path / "a.obj": "not a 3D format", fox / "Fox.gltf": "Fox.bin"}
    (tmp_path / "a.obj").write_text("v 0 0 0")
    for path, words in cases.items():
        with pytest.raises(MediaError) as e:
            load_model(path)
        assert str(path) in str(e.value) and words in str(e.value), str(e.value)


def test_loader_limits_turn_into_media_errors(models3d):
    with pytest.raises(MediaError, match="longer than 0.05 s"):
        load_model(models3d / "gltf/Duck.glb", time_limit=0.05)
    # 100 MB of address space is not enough to even import numpy + trimesh: the child fails,
    # the caller gets a MediaError (not a crash, not a hang)
    with pytest.raises(MediaError) as e:
        load_model(models3d / "gltf/Duck.glb", memory_mb=100)
    assert "Duck.glb" in str(e.value)


def test_parsers_never_run_in_the_calling_process(models3d):
    code = ("import sys; from aimms_fast.viewer3d.loader import load_model; "
            f"m = load_model({str(models3d / 'fbx/ufbx__maya_cube_7100_ascii.fbx')!r}); "
            "print(m.stats.faces, 'ufbx' in sys.modules, 'DracoPy' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["12", "False", "False"]


def test_draco_glb_decodes_to_real_geometry(tmp_path):
    path = tmp_path / "draco_sphere.glb"
    src = make_draco_glb(path)
    # Why the Draco check exists: trimesh without DracoPy reads the fallback accessors as zeros.
    code = ("import sys; sys.modules['DracoPy'] = None; import trimesh, numpy as np; "
            f"s = trimesh.load({str(path)!r}, force='scene'); "
            "print([bool(np.any(g.vertices)) for g in s.geometry.values()])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.stdout.strip() == "[False]", (r.stdout, r.stderr[-500:])
    m = load_model(path, tmp_path / "cache")
    assert any("Draco" in n for n in m.stats.notes)
    assert m.stats.vertices == len(src)
    assert np.allclose(m.bounds, [src.min(0), src.max(0)], atol=1e-3)
    assert np.allclose(m.materials[0].base_color, (0.1, 0.4, 0.9, 1.0), atol=0.01)


def test_content_key_follows_gltf_sidecars(models3d, tmp_path):
    fox = tmp_path / "fox"
    shutil.copytree(models3d / "gltf/Fox", fox)
    k1 = content_key(fox / "Fox.gltf")
    moved = tmp_path / "elsewhere"
    shutil.copytree(fox, moved)
    assert content_key(moved / "Fox.gltf") == k1                 # copies hit the same cache entry
    with open(fox / "Texture.png", "ab") as f:
        f.write(b"\0")
    assert content_key(fox / "Fox.gltf") != k1                   # an edited texture loads again
    assert ModelCache(tmp_path / "c").get(k1) is None


# -- camera math (pure numpy) ------------------------------------------------------------------

def _ndc(cam: Camera, pts: np.ndarray, aspect: float) -> np.ndarray:
    m = cam.proj_matrix(aspect) @ cam.view_matrix()
    h = np.c_[pts, np.ones(len(pts))] @ m.T
    return h[:, :3] / h[:, 3:4]


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_fit_frames_every_corner_in_every_view(view):
    b = np.array([[-0.2, 0.0, -3.0], [1.4, 0.5, 0.1]])
    corners = np.array([[x, y, z] for x in b[:, 0] for y in b[:, 1] for z in b[:, 2]])
    cam = Camera()
    cam.view(view)
    cam.fit(b, aspect=16 / 9)
    ndc = _ndc(cam, corners, 16 / 9)
    assert np.all(np.abs(ndc[:, :2]) <= 0.9 + 1e-6) and np.all(np.abs(ndc[:, 2]) < 1)
    assert np.max(np.abs(ndc[:, :2])) > 0.85            # tight: some corner touches the margin


def test_orbit_zoom_pan_reset():
    cam = Camera()
    cam.view("front")
    cam.fit([[-1, -1, -1], [1, 1, 1]], aspect=1.0)
    home = (cam.target.copy(), cam.distance, cam.yaw, cam.pitch)
    assert np.allclose(cam.eye()[[0, 1]], [0, 0]) and cam.eye()[2] > 1       # front: from +Z
    cam.view("right")
    assert cam.eye()[0] > 1 and abs(cam.eye()[2]) < 1e-9
    cam.view("top")
    assert cam.eye()[1] > 1
    cam.orbit(100, 0)
    assert cam.pitch == pytest.approx(89.9) and cam.yaw == pytest.approx(-40.0)
    cam.orbit(0, 1e6)
    assert cam.pitch == pytest.approx(89.9)             # never flips over the pole
    d = cam.distance
    cam.zoom(2)
    assert cam.distance == pytest.approx(d * 0.85 ** 2)
    cam.pan(50, 0, 500)
    assert not np.allclose(cam.target, 0)
    cam.fit([[-1, -1, -1], [1, 1, 1]], aspect=1.0)
    cam.view("front")
    cam.zoom(-3)
    cam.reset()
    assert np.allclose(cam.target, home[0]) and cam.distance == pytest.approx(home[1])
    assert (cam.yaw, cam.pitch) == home[2:]
    with pytest.raises(ValueError):
        cam.view("sideways")


def _skinned(model, animation, t):
    """CPU reference of the vertex shader's skinning: (n, 3) posed vertices of primitive 0."""
    p = model.primitives[0]
    mats = model.skeleton.joint_matrices(p.skin, animation, t, p.baked).astype(np.float64)
    s = np.einsum("nk,nkij->nij", p.weights, mats[p.joints.astype(int)])
    return np.einsum("nij,nj->ni", s, np.c_[p.vertices, np.ones(len(p.vertices))])[:, :3]


def test_gltf_skins_and_animations(models3d, tmp_path):
    fox = load_model(models3d / "gltf/Fox/Fox.gltf", tmp_path / "c")
    assert [a.name for a in fox.animations] == ["Survey", "Walk", "Run"]
    assert all(0.5 < a.duration < 4 for a in fox.animations)
    p = fox.primitives[0]
    assert p.skin == 0 and p.joints.shape == (1728, 4) and np.allclose(p.weights.sum(1), 1, atol=1e-4)
    # The rest pose skinned with inverse binds lands exactly on the vertices as loaded ...
    assert np.abs(_skinned(fox, None, 0.0) - p.vertices).max() < 1e-3 * fox.radius
    # ... and the walk moves the legs (a real pose, not the bind pose) while the fox stays put.
    walk = _skinned(fox, 1, 0.3)
    moved = np.linalg.norm(walk - p.vertices, axis=1)
    assert moved.max() > 0.05 * fox.radius and np.median(moved) < 0.2 * fox.radius
    # Skin data survives the cache.
    again = load_model(models3d / "gltf/Fox/Fox.gltf", tmp_path / "c")
    assert again.from_cache and np.array_equal(_skinned(again, 1, 0.3), walk)


def test_fbx_skin_and_node_animation(models3d):
    # A skinned FBX: ufbx's clusters and its sampled curves; the first frame is the bind pose.
    bar = load_model(models3d / "fbx/assimp__animation_with_skeleton.fbx")
    assert [(a.name, round(a.duration, 3)) for a in bar.animations] == [("Armature|ArmatureAction", 0.833)]
    p = bar.primitives[0]
    assert p.skin == 0 and np.allclose(p.weights.sum(1), 1, atol=1e-4)
    assert np.abs(_skinned(bar, 0, 0.0) - p.vertices).max() < 1e-3 * bar.radius
    bent = _skinned(bar, 0, 0.6)
    assert np.ptp(bent[:, 1]) > 2 * np.ptp(p.vertices[:, 1])          # the bar bends up
    assert np.allclose(np.ptp(bent[:, 0]), np.ptp(p.vertices[:, 0]), rtol=0.05)
    # A rigid mesh whose node is animated (3ds Max 5800 ASCII) plays through the same path.
    cube = load_model(models3d / "fbx/ufbx__max2009_cube_anim_5800_ascii.fbx")
    assert [a.name for a in cube.animations] == ["Take 001"] and cube.animations[0].duration == 2.0
    a, b = _skinned(cube, 0, 0.3), _skinned(cube, 0, 0.6)
    assert np.abs(a - b).max() > 0.05                                  # it moves
    edges = lambda v: np.linalg.norm(v[1::3] - v[0::3], axis=1)        # noqa: E731
    assert np.allclose(edges(a) / edges(a).max(), edges(b) / edges(b).max(), atol=1e-3)   # rigidly
    # Static FBX files have no animations and no skin.
    maya = load_model(models3d / "fbx/ufbx__maya_cube_7100_ascii.fbx")
    assert maya.animations == [] and maya.skeleton is None


def test_draco_without_dracopy_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "draco_sphere.glb"
    make_draco_glb(path)
    fake = tmp_path / "nodraco"
    fake.mkdir()
    (fake / "DracoPy.py").write_text("raise ImportError('DracoPy is not installed here')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake))           # the loader's child sees no DracoPy
    with pytest.raises(MediaError) as e:
        load_model(path)
    assert str(path) in str(e.value) and "Draco mesh compression and DracoPy is not installed" in str(e.value)
    assert e.value.hint == "pip install DracoPy"
