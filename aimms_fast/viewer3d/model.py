"""The normalised model every format becomes: world-space primitives (Y-up, metres), materials, stats.

Loaders (gltf.py, fbx.py) run in a child process and hand back a GLB; `model_from_glb` turns that GLB
into a `Model` in the parent with trimesh (a few ms for the realdata files), so a cached GLB is all a
later open needs. Node transforms are baked into the vertices here: the renderer draws one list of
primitives with one model matrix, which keeps its draw loop trivial and the bounds exact.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Material:
    name: str = ""
    base_color: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)   # linear RGBA (glTF factor)
    texture: np.ndarray | None = None        # (h, w, 4) uint8 RGBA, sRGB-encoded, top row first
    double_sided: bool = True


@dataclass
class Primitive:
    vertices: np.ndarray                     # (n, 3) float32, world space, metres, Y up
    normals: np.ndarray                      # (n, 3) float32, unit length
    indices: np.ndarray                      # (m, 3) uint32 triangles
    uv: np.ndarray | None = None             # (n, 2) float32, glTF convention (v down from top)
    colors: np.ndarray | None = None         # (n, 4) float32 linear vertex colours
    material: int = 0                        # index into Model.materials
    joints: np.ndarray | None = None         # (n, 4) uint16 joint indices of its skin (glTF JOINTS_0)
    weights: np.ndarray | None = None        # (n, 4) float32, rows sum to 1
    skin: int = -1                           # index into Model.skeleton.skins; -1: not skinned
    baked: np.ndarray | None = None          # (4, 4) node matrix baked into `vertices` (skinning undoes it)


@dataclass
class ModelStats:
    vertices: int
    faces: int
    materials: int
    format: str                              # 'glTF' | 'GLB' | 'FBX'
    version: str                             # '2.0', '7400 binary', '5800 ascii'
    bounds: tuple[tuple[float, float, float], tuple[float, float, float]]
    textured: bool = False
    skinned: bool = False                    # has a skin: shown in its bind pose (see render.py)
    notes: list[str] = field(default_factory=list)

    @property
    def size_m(self) -> tuple[float, float, float]:
        lo, hi = self.bounds
        return tuple(float(h - l) for l, h in zip(lo, hi))


@dataclass
class Model:
    primitives: list[Primitive]
    materials: list[Material]
    bounds: np.ndarray                       # (2, 3) float64 min/max over all primitives
    stats: ModelStats
    source: str = ""                         # the file it came from
    glb: bytes | None = field(default=None, repr=False)   # the normalised GLB it was built from
    from_cache: bool = False                 # True when the GLB came from the model cache
    skeleton: object | None = None           # skin.Skeleton when the model can be animated
    load_ms: float = 0.0                     # wall time of load_model (child process or cache)

    @property
    def center(self) -> np.ndarray:
        return self.bounds.mean(axis=0)

    @property
    def animations(self) -> list:
        """skin.Animation list (name, duration in seconds); empty when nothing can play."""
        return list(self.skeleton.animations) if self.skeleton is not None else []

    @property
    def radius(self) -> float:
        return float(np.linalg.norm(self.bounds[1] - self.bounds[0]) / 2) or 1.0


def _texture_rgba(image) -> np.ndarray | None:
    if image is None:
        return None
    try:
        return np.ascontiguousarray(np.asarray(image.convert("RGBA"), dtype=np.uint8))
    except Exception:           # a texture Pillow cannot convert: shade with the base colour instead
        return None


def _material(mat) -> Material:
    """trimesh PBRMaterial/SimpleMaterial -> Material (trimesh stores factors as uint8 0..255)."""
    if mat is None:
        return Material()
    name = getattr(mat, "name", None) or ""
    factor = getattr(mat, "baseColorFactor", None)
    tex = getattr(mat, "baseColorTexture", None)
    if factor is None and hasattr(mat, "diffuse"):        # SimpleMaterial
        factor = mat.diffuse
        tex = tex if tex is not None else getattr(mat, "image", None)
    if factor is None:
        color = (1.0, 1.0, 1.0, 1.0) if tex is not None else (0.8, 0.8, 0.8, 1.0)
    else:
        f = np.asarray(factor, dtype=np.float64).ravel()
        if f.dtype.kind in "ui" or f.max() > 1.0:
            f = f / 255.0
        if f.size == 3:
            f = np.append(f, 1.0)
        color = tuple(float(x) for x in f[:4])
    return Material(name=str(name), base_color=color, texture=_texture_rgba(tex),
                    double_sided=bool(getattr(mat, "doubleSided", True) or True))


def model_from_glb(glb: bytes, *, source: str = "", fmt: str = "GLB", version: str = "2.0",
                   skinned: bool = False, notes: list[str] | None = None, skin: dict | None = None) -> Model:
    """Build a Model from GLB bytes (in-process; the GLB was made by our own child loader, so it is
    trusted). Any thread may call this."""
    import trimesh
    scene = trimesh.load(io.BytesIO(glb), file_type="glb", force="scene", process=False)
    prims: list[Primitive] = []
    materials: list[Material] = []
    mat_ids: dict[int, int] = {}
    for node in scene.graph.nodes_geometry:
        matrix, geom_name = scene.graph[node]
        geom = scene.geometry.get(geom_name)
        if geom is None or not hasattr(geom, "faces") or len(geom.faces) == 0:
            continue
        v = np.asarray(geom.vertices, dtype=np.float64)
        m = np.asarray(matrix, dtype=np.float64)
        vw = v @ m[:3, :3].T + m[:3, 3]
        nrm = np.asarray(geom.vertex_normals, dtype=np.float64)
        nm = np.linalg.inv(m[:3, :3]).T
        nw = nrm @ nm.T
        ln = np.linalg.norm(nw, axis=1, keepdims=True)
        nw = np.divide(nw, ln, out=np.zeros_like(nw), where=ln > 0)
        faces = np.asarray(geom.faces, dtype=np.uint32)
        if np.linalg.det(m[:3, :3]) < 0:               # mirrored node: keep front faces front
            faces = faces[:, ::-1].copy()
        visual = geom.visual
        uv = colors = None
        mat = None
        if getattr(visual, "kind", None) == "texture" or hasattr(visual, "material"):
            mat = getattr(visual, "material", None)
            if getattr(visual, "uv", None) is not None and len(visual.uv) == len(v):
                uv = np.asarray(visual.uv, dtype=np.float32).copy()
                uv[:, 1] = 1.0 - uv[:, 1]               # trimesh flips V on load; glTF has V down
        if getattr(visual, "kind", None) == "vertex":
            vc = np.asarray(visual.vertex_colors, dtype=np.float32)
            if len(vc) == len(v):
                colors = vc / 255.0
        key = id(mat)
        if key not in mat_ids:
            mat_ids[key] = len(materials)
            materials.append(_material(mat))
        prim = Primitive(vertices=vw.astype(np.float32), normals=nw.astype(np.float32),
                         indices=np.ascontiguousarray(faces), uv=uv, colors=colors, material=mat_ids[key])
        sp = _match_skin(skin, v)
        if sp is not None:
            prim.joints = np.asarray(sp["joints"], np.uint16).reshape(-1, 4)
            prim.weights = np.asarray(sp["weights"], np.float32).reshape(-1, 4)
            prim.skin, prim.baked = int(sp["skin"]), m.copy()
        prims.append(prim)
    if not prims:
        from aimms_fast.errors import MediaError
        raise MediaError("the file has no triangle meshes to show", path=source or None,
                         hint="points, lines or an empty scene cannot be previewed")
    lo = np.min([p.vertices.min(axis=0) for p in prims], axis=0).astype(np.float64)
    hi = np.max([p.vertices.max(axis=0) for p in prims], axis=0).astype(np.float64)
    bounds = np.stack([lo, hi])
    stats = ModelStats(vertices=sum(len(p.vertices) for p in prims),
                       faces=sum(len(p.indices) for p in prims), materials=len(materials),
                       format=fmt, version=version,
                       bounds=(tuple(float(x) for x in lo), tuple(float(x) for x in hi)),
                       textured=any(mt.texture is not None for mt in materials), skinned=skinned,
                       notes=list(notes or []))
    skeleton = None
    if any(p.skin >= 0 for p in prims):
        from aimms_fast.viewer3d.skin import Skeleton
        skeleton = Skeleton.from_info(skin)
        if skeleton.animations:
            names = ", ".join(f"{a.name} {a.duration:.1f} s" for a in skeleton.animations)
            stats.notes.append(f"animations: {names}")
    return Model(primitives=prims, materials=materials, bounds=bounds, stats=stats, source=source, glb=glb,
                 skeleton=skeleton)


def _match_skin(skin: dict | None, local: np.ndarray) -> dict | None:
    """The child's skinned primitive whose positions these are (same count, same first vertices)."""
    if not skin:
        return None
    for sp in skin.get("prims", []):
        if sp["count"] != len(local):
            continue
        probe = np.asarray(sp["probe"], np.float64).reshape(-1, 3)
        scale = float(np.abs(local).max()) or 1.0
        if np.allclose(local[:len(probe)], probe, atol=1e-5 * scale):
            return sp
    return None
