"""FBX loading with ufbx (runs in the loader's child process only).

ufbx reads binary and ASCII FBX (versions 5800-7700, either endianness) in milliseconds and converts
units and axes for us: the scene is loaded as Y-up, +Z front, metres. ufbx 0.0.5 can segfault when a
numpy view outlives the scene or on `free()` (DESIGN.md): every array is copied out at once and
`free()` is never called; the child process is the safety net for the rest.

Each mesh is unrolled per face corner (FBX normals/UVs are per corner), n-gons are fan-triangulated,
and triangles are grouped by material, then placed with the node's geometry-to-world matrix. The
result is written as a GLB by trimesh, which the parent caches.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from aimms_fast.errors import MediaError


def _copy(buf, dtype) -> np.ndarray:
    try:
        mv = memoryview(buf)
    except TypeError:
        return np.array(list(buf), dtype=dtype)
    with mv:
        return np.array(mv, dtype=dtype, copy=True)


def _texture_image(tex, folder: Path):
    """The base-colour texture as a PIL image, from embedded content or a file next to the FBX."""
    from PIL import Image
    if tex is None:
        return None
    try:
        content = bytes(tex.content) if tex.content else b""
        if content:
            return Image.open(io.BytesIO(content)).convert("RGBA")
        for name in (tex.absolute_filename, tex.relative_filename, tex.filename):
            if not name:
                continue
            for p in (Path(name), folder / name, folder / Path(str(name).replace("\\", "/")).name):
                if p.is_file():
                    return Image.open(p).convert("RGBA")
    except Exception:          # a missing or broken texture: shade with the colour instead
        return None
    return None


def load(path: Path) -> tuple[bytes, dict]:
    """(normalised GLB bytes, info) for an .fbx. Child process only."""
    import trimesh
    import ufbx
    try:
        scene = ufbx.load_file(
            str(path),
            target_axes=ufbx.CoordinateAxes(right=ufbx.CoordinateAxis.POSITIVE_X,
                                            up=ufbx.CoordinateAxis.POSITIVE_Y,
                                            front=ufbx.CoordinateAxis.POSITIVE_Z),
            target_unit_meters=1.0, generate_missing_normals=True)
    except ufbx.UfbxError as e:
        raise MediaError(f"not a readable FBX file: {e}", path=path,
                         hint="the file is corrupt or not FBX; re-export it from the 3D application") from None
    md = scene.metadata
    version = f"{md.version} {'ascii' if md.ascii else 'binary'}" + (" big-endian" if md.big_endian else "")
    folder = path.parent
    out = trimesh.Scene()
    skinned = False
    n_parts = 0
    materials_cache: dict[int, object] = {}
    for node in scene.nodes:
        mesh = node.mesh
        if mesh is None or mesh.num_faces == 0:
            continue
        skinned = skinned or len(mesh.skin_deformers) > 0
        pos = _copy(mesh.vertex_position.values, np.float64).reshape(-1, 3)
        pidx = _copy(mesh.vertex_position.indices, np.int64)
        nrm = nidx = uvv = uvi = None
        if mesh.vertex_normal.exists:
            nrm = _copy(mesh.vertex_normal.values, np.float64).reshape(-1, 3)
            nidx = _copy(mesh.vertex_normal.indices, np.int64)
        if mesh.vertex_uv.exists:
            uvv = _copy(mesh.vertex_uv.values, np.float64).reshape(-1, 2)
            uvi = _copy(mesh.vertex_uv.indices, np.int64)
        # memoryview(mesh.faces) led to GC segfaults in 0.0.5: iterate (probes/fbx_ufbx.py)
        fb = np.array([(f.index_begin, f.num_indices) for f in mesh.faces], dtype=np.int64).reshape(-1, 2)
        fmat = _copy(mesh.face_material, np.int64) if len(mesh.face_material) else np.zeros(len(fb), np.int64)
        mats = list(mesh.materials)
        world = node.geometry_to_world
        M = np.eye(4)
        M[:3, :] = np.array([[c.x, c.y, c.z] for c in (world.c0, world.c1, world.c2, world.c3)]).T
        tri_corners, tri_mat = [], []
        kmax = int(fb[:, 1].max()) if len(fb) else 0
        for k in range(1, kmax - 1):
            sel = fb[:, 1] >= k + 2
            b = fb[sel, 0]
            tri_corners.append(np.stack([b, b + k, b + k + 1], 1))
            tri_mat.append(fmat[sel])
        if not tri_corners:
            continue
        corners = np.concatenate(tri_corners)
        cmat = np.concatenate(tri_mat)
        for mi in np.unique(cmat):
            c = corners[cmat == mi].reshape(-1)
            v = pos[pidx[c]]
            kw = {}
            if nrm is not None:
                kw["vertex_normals"] = nrm[nidx[c]]
            tm = trimesh.Trimesh(v, np.arange(len(c)).reshape(-1, 3), process=False, **kw)
            mat = mats[mi] if 0 <= mi < len(mats) else None
            key = mat.element_id if mat is not None else -1
            if key not in materials_cache:
                color, tex = (0.8, 0.8, 0.8, 1.0), None
                if mat is not None:
                    bc = mat.pbr.base_color
                    vv = bc.value_vec4
                    color = (vv.x, vv.y, vv.z, vv.w if vv.w > 0 else 1.0)
                    if bc.has_value is False and mat.fbx.diffuse_color.has_value:
                        dv = mat.fbx.diffuse_color.value_vec4
                        color = (dv.x, dv.y, dv.z, 1.0)
                    tex = _texture_image(bc.texture or mat.fbx.diffuse_color.texture, folder)
                materials_cache[key] = trimesh.visual.material.PBRMaterial(
                    name=(mat.name if mat is not None else "default"),
                    baseColorFactor=[float(x) for x in color], baseColorTexture=tex,
                    metallicFactor=0.0, roughnessFactor=0.8, doubleSided=True)
            pbr = materials_cache[key]
            uv = uvv[uvi[c]] if uvv is not None else None
            tm.visual = trimesh.visual.TextureVisuals(uv=uv, material=pbr)
            tm.apply_transform(M)
            out.add_geometry(tm, geom_name=f"{node.name or 'mesh'}_{n_parts}")
            n_parts += 1
    notes = []
    if skinned:
        notes.append("skinned: shown in its bind pose (animation is not played)")
    info = {"format": "FBX", "version": version, "skinned": skinned, "notes": notes}
    if n_parts == 0:
        raise MediaError("the FBX file has no polygon meshes to show", path=path,
                         hint="cameras, lights, skeletons or NURBS only cannot be previewed")
    glb = out.export(file_type="glb")
    del scene            # never scene.free(): 0.0.5 segfaults in GC when wrappers are still alive
    return glb, info
