"""FBX loading with ufbx (runs in the loader's child process only).

ufbx reads binary and ASCII FBX (versions 5800-7700, either endianness) in milliseconds and converts
units and axes for us: the scene is loaded as Y-up, +Z front, metres. ufbx 0.0.5 can segfault when a
numpy view outlives the scene or on `free()` (DESIGN.md): every array is copied out at once and
`free()` is never called; the child process is the safety net for the rest.

Each mesh is unrolled per face corner (FBX normals/UVs are per corner), n-gons are fan-triangulated,
and triangles are grouped by material, then placed with the node's geometry-to-world matrix. The
result is written as a GLB by trimesh, which the parent caches. Skins and animation (sampled with
ufbx.evaluate_transform) travel beside it as JSON in skin.py's shape; if that part crashes ufbx, the
loader runs the child again with animate=False and the model shows its bind pose.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from aimms_fast.errors import MediaError


_KEEP: list = []          # ufbx objects of this (child) process, kept alive until os._exit


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


def load(path: Path, *, animate: bool = True) -> tuple[bytes, dict]:
    """(normalised GLB bytes, info) for an .fbx. Child process only. `animate=False` skips the
    animation sampling (the loader retries that way when ufbx crashed with it)."""
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
    # All node wrappers are taken once, up front, and kept alive until the end: in 0.0.5 a second
    # `scene.nodes` after other wrappers came and went returned objects of the wrong type (measured).
    all_nodes = scene.nodes
    nodes = [all_nodes[i] for i in range(len(all_nodes))]
    md = scene.metadata
    version = f"{md.version} {'ascii' if md.ascii else 'binary'}" + (" big-endian" if md.big_endian else "")
    folder = path.parent
    out = trimesh.Scene()
    skinned = False
    n_parts = 0
    materials_cache: dict[int, object] = {}
    parts: list[tuple] = []         # (node, corner vertex indices, baked vertices[:PROBE], geometry_to_world)
    for node in nodes:
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
            parts.append((node, pidx[c], np.asarray(tm.vertices[:8], np.float64), M))
            out.add_geometry(tm, geom_name=f"{node.name or 'mesh'}_{n_parts}")
            n_parts += 1
    notes = []
    skin_info = None
    if animate:
        skin_info = _animation(ufbx, scene, nodes, parts)
    if skinned and skin_info is None:
        notes.append("skinned: shown in its bind pose (no animation could be read)" if animate else
                     "skinned: shown in its bind pose (reading its animation crashed ufbx)")
    info = {"format": "FBX", "version": version, "skinned": skinned, "notes": notes, "skin": skin_info}
    if n_parts == 0:
        raise MediaError("the FBX file has no polygon meshes to show", path=path,
                         hint="cameras, lights, skeletons or NURBS only cannot be previewed")
    glb = out.export(file_type="glb")
    # Never free anything: 0.0.5 segfaults in GC when wrappers die around the scene (measured: on
    # return from here once animation was evaluated). The child ends with os._exit, skipping teardown.
    _KEEP.append((scene, all_nodes, nodes, parts))
    return glb, info


SAMPLE_FPS = 30          # FBX curves are sampled (ufbx.evaluate_transform) and played back linearly
MAX_SAMPLES = 900


def _mat(M) -> np.ndarray:
    m = np.eye(4)
    m[:3, :] = np.array([[c.x, c.y, c.z] for c in (M.c0, M.c1, M.c2, M.c3)]).T
    return m


def _animation(ufbx, scene, nodes, parts) -> dict | None:
    """Skin/animation data in skin.py's JSON shape, or None when nothing moves.

    Skinned meshes use ufbx's clusters (v = Σ w · bone_to_world(t) · geometry_to_bone · v_geom); rigid
    meshes are bound to their own node with weight 1, so node animation plays through the same path.
    Our vertices are already baked with geometry_to_world, so each inverse bind here is followed by
    its inverse. Only ufbx.evaluate_transform is used: evaluate_scene segfaults in ufbx 0.0.5."""
    stacks = [st for st in scene.anim_stacks if st.time_end > st.time_begin]
    if not stacks or not parts:
        return None
    index = {n.typed_id: i for i, n in enumerate(nodes)}
    parent = [index.get(n.parent.typed_id, -1) if n.parent is not None else -1 for n in nodes]
    skins, prims, skin_of_node, used = [], [], {}, set()
    for node, corner_vid, probe, M in parts:
        key = node.typed_id
        if key not in skin_of_node:
            inv_world = np.linalg.inv(M)
            mesh = node.mesh
            nv = int(mesh.num_vertices)
            vj = np.zeros((nv, 4), np.int64)
            vw = np.zeros((nv, 4), np.float64)
            if len(mesh.skin_deformers):
                sd = mesh.skin_deformers[0]
                clusters = list(sd.clusters)
                joints = [index[c.bone_node.typed_id] for c in clusters]
                ib = [(_mat(c.geometry_to_bone) @ inv_world) for c in clusters]
                weights = list(sd.weights)
                for v, sv in enumerate(sd.vertices):
                    if v >= nv:
                        break
                    b, n = sv.weight_begin, sv.num_weights
                    ws = sorted(((weights[b + k].weight, weights[b + k].cluster_index) for k in range(n)),
                                reverse=True)[:4]
                    total = sum(w for w, _ in ws) or 1.0
                    for k, (w, ci) in enumerate(ws):
                        vj[v, k], vw[v, k] = ci, w / total
            else:
                joints = [index[key]]
                ib = [np.linalg.inv(_mat(node.node_to_world))]     # geometry_to_node · M⁻¹
                vw[:, 0] = 1.0
            used.update(joints)
            skin_of_node[key] = (len(skins), vj, vw)
            skins.append({"joints": joints, "inverse_bind": np.stack(ib).transpose(0, 2, 1).reshape(-1).tolist()})
        si, vj, vw = skin_of_node[key]
        prims.append({"skin": si, "count": len(corner_vid), "probe": probe.reshape(-1).tolist(),
                      "joints": vj[corner_vid].reshape(-1).tolist(),
                      "weights": np.round(vw[corner_vid], 6).reshape(-1).tolist()})
    # Sample the joints and everything above them.
    need = set()
    for j in used:
        while j >= 0 and j not in need:
            need.add(j)
            j = parent[j]
    out_nodes = []
    for i, n in enumerate(nodes):
        lt = n.local_transform
        out_nodes.append({"parent": parent[i], "t": [lt.translation.x, lt.translation.y, lt.translation.z],
                          "r": [lt.rotation.x, lt.rotation.y, lt.rotation.z, lt.rotation.w],
                          "s": [lt.scale.x, lt.scale.y, lt.scale.z], "matrix": None})
    anims = []
    for st in stacks:
        dur = float(st.time_end - st.time_begin)
        count = int(min(MAX_SAMPLES, max(2, round(dur * SAMPLE_FPS) + 1)))
        times = np.linspace(0.0, dur, count)
        chans = []
        for i in sorted(need):
            T, R, S = [], [], []
            for t in times:
                tr = ufbx.evaluate_transform(st.anim, nodes[i], float(st.time_begin + t))
                T.append((tr.translation.x, tr.translation.y, tr.translation.z))
                R.append((tr.rotation.x, tr.rotation.y, tr.rotation.z, tr.rotation.w))
                S.append((tr.scale.x, tr.scale.y, tr.scale.z))
            for path_, vals in (("translation", T), ("rotation", R), ("scale", S)):
                arr = np.asarray(vals, np.float64)
                if np.ptp(arr, axis=0).max() < 1e-9 and np.allclose(arr[0], out_nodes[i][path_[0]]):
                    continue                          # constant and equal to rest: no channel
                chans.append({"node": i, "path": path_, "interp": "LINEAR", "times": times.tolist(),
                              "values": arr.reshape(-1).tolist()})
        if chans:
            anims.append({"name": st.name or "Take", "duration": dur, "channels": chans})
    if not anims:
        return None
    return {"nodes": out_nodes, "skins": skins, "prims": prims, "animations": anims}
