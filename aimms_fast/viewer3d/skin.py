"""Skeletal animation of glTF skins: extracted in the loader's child, evaluated in numpy, skinned in
the vertex shader (shaders/mesh.vert, up to MAX_JOINTS joints per primitive).

The normalised GLB (trimesh's export) has no skins, so the child also returns what skinning needs as
plain JSON in the loader info (cached beside the GLB): per skinned primitive its JOINTS_0/WEIGHTS_0 and
a probe of its first positions (to find it again among the GLB's primitives), the node tree with rest
TRS, each skin's joints and inverse bind matrices, and every animation's channels.

Per frame `Skeleton.joint_matrices` walks the node tree (a few dozen nodes: ~0.3 ms) and returns, per
joint, G(t) · inverseBind · N⁻¹ where N is the node matrix baked into our vertices at load: the shader
then applies glTF's skinning to the baked vertices directly. Interpolation: LINEAR (rotations by
slerp), STEP; CUBICSPLINE keys are sampled linearly between their values (tangents ignored).
FBX (fbx.py) produces the same JSON: ufbx skin clusters, and curves sampled at 30 fps with
ufbx.evaluate_transform; rigid meshes under animated nodes are bound to their node with weight 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MAX_JOINTS = 64
_CT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NC = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_NORM = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}
PROBE = 8


# -- child side: JSON out of glTF -------------------------------------------------------------------

def read_accessor(gltf: dict, buffers: list[bytes], i: int, *, normalized_float: bool = False) -> np.ndarray:
    acc = gltf["accessors"][i]
    dtype = np.dtype(_CT[acc["componentType"]])
    nc = _NC[acc["type"]]
    count = acc["count"]
    if "bufferView" not in acc:
        out = np.zeros((count, nc), dtype)
    else:
        bv = gltf["bufferViews"][acc["bufferView"]]
        buf = buffers[bv.get("buffer", 0)]
        start = bv.get("byteOffset", 0) + acc.get("byteOffset", 0)
        stride = bv.get("byteStride") or dtype.itemsize * nc
        raw = np.frombuffer(buf, np.uint8, count=(count - 1) * stride + dtype.itemsize * nc if count else 0,
                            offset=start)
        out = np.lib.stride_tricks.as_strided(raw, (count, nc * dtype.itemsize), (stride, 1)).copy()
        out = out.view(dtype).reshape(count, nc)
    if normalized_float and acc["componentType"] in _NORM:
        return out.astype(np.float32) / np.float32(_NORM[acc["componentType"]])
    return out


def extract(gltf: dict, buffers: list[bytes]) -> dict | None:
    """JSON-able skinning data of a glTF (None when it has no skinned mesh)."""
    if not gltf.get("skins"):
        return None
    nodes = gltf.get("nodes", [])
    parent = [-1] * len(nodes)
    for i, n in enumerate(nodes):
        for c in n.get("children", []):
            parent[c] = i
    out_nodes = [{"parent": parent[i], "t": n.get("translation", [0, 0, 0]), "r": n.get("rotation", [0, 0, 0, 1]),
                  "s": n.get("scale", [1, 1, 1]), "matrix": n.get("matrix")} for i, n in enumerate(nodes)]
    skins = []
    for sk in gltf["skins"]:
        joints = list(sk["joints"])
        if "inverseBindMatrices" in sk:
            ib = read_accessor(gltf, buffers, sk["inverseBindMatrices"]).astype(np.float64).reshape(-1)
        else:
            ib = np.tile(np.eye(4).reshape(-1), len(joints))
        skins.append({"joints": joints, "inverse_bind": ib.tolist()})
    prims = []
    for n in nodes:
        if "mesh" not in n or "skin" not in n:
            continue
        for p in gltf["meshes"][n["mesh"]].get("primitives", []):
            a = p.get("attributes", {})
            if "JOINTS_0" not in a or "WEIGHTS_0" not in a or "POSITION" not in a:
                continue
            pos = read_accessor(gltf, buffers, a["POSITION"]).astype(np.float64)
            j = read_accessor(gltf, buffers, a["JOINTS_0"]).astype(np.int64)
            w = read_accessor(gltf, buffers, a["WEIGHTS_0"], normalized_float=True).astype(np.float64)
            s = w.sum(axis=1, keepdims=True)
            w = np.divide(w, s, out=np.zeros_like(w), where=s > 0)
            prims.append({"skin": n["skin"], "count": len(pos), "probe": pos[:PROBE].reshape(-1).tolist(),
                          "joints": j.reshape(-1).tolist(), "weights": np.round(w, 6).reshape(-1).tolist()})
    anims = []
    for k, an in enumerate(gltf.get("animations", [])):
        chans, dur = [], 0.0
        for ch in an.get("channels", []):
            tgt = ch.get("target", {})
            if tgt.get("path") not in ("translation", "rotation", "scale") or "node" not in tgt:
                continue
            smp = an["samplers"][ch["sampler"]]
            times = read_accessor(gltf, buffers, smp["input"]).astype(np.float64).reshape(-1)
            vals = read_accessor(gltf, buffers, smp["output"], normalized_float=True).astype(np.float64)
            interp = smp.get("interpolation", "LINEAR")
            if interp == "CUBICSPLINE":
                vals = vals.reshape(len(times), 3, -1)[:, 1]
            vals = vals.reshape(len(times), -1)
            if len(times):
                dur = max(dur, float(times[-1]))
            chans.append({"node": tgt["node"], "path": tgt["path"], "interp": interp,
                          "times": times.tolist(), "values": vals.reshape(-1).tolist()})
        if chans:
            anims.append({"name": an.get("name") or f"animation {k + 1}", "duration": dur, "channels": chans})
    if not prims:
        return None
    return {"nodes": out_nodes, "skins": skins, "prims": prims, "animations": anims}


# -- parent side: evaluation ------------------------------------------------------------------------

def _quat_matrix(q) -> np.ndarray:
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _slerp(a: np.ndarray, b: np.ndarray, u: float) -> np.ndarray:
    d = float(np.dot(a, b))
    if d < 0:
        b, d = -b, -d
    if d > 0.9995:
        q = a + u * (b - a)
    else:
        th = math.acos(min(1.0, d))
        q = (math.sin((1 - u) * th) * a + math.sin(u * th) * b) / math.sin(th)
    return q / (np.linalg.norm(q) or 1.0)


@dataclass
class Animation:
    name: str
    duration: float                               # seconds
    channels: list = field(default_factory=list, repr=False)   # (node, path, interp, times, values)


@dataclass
class Skeleton:
    parents: list[int]
    rest: list[tuple]                             # per node: (t, r, s, matrix | None)
    skins: list[tuple[list[int], np.ndarray]]     # (joint nodes, inverse binds (j, 4, 4))
    animations: list[Animation]
    order: list[int] = field(default_factory=list)   # nodes, parents first

    @classmethod
    def from_info(cls, info: dict) -> "Skeleton":
        nodes = info["nodes"]
        rest = []
        for n in nodes:
            m = n.get("matrix")
            rest.append((np.array(n["t"], float), np.array(n["r"], float), np.array(n["s"], float),
                         np.array(m, float).reshape(4, 4).T if m else None))
        skins = [(list(s["joints"]), np.array(s["inverse_bind"], float).reshape(-1, 4, 4).transpose(0, 2, 1))
                 for s in info["skins"]]
        anims = []
        for a in info.get("animations", []):
            chans = []
            for c in a["channels"]:
                t = np.array(c["times"], float)
                v = np.array(c["values"], float).reshape(len(t), -1) if len(t) else np.zeros((0, 4))
                chans.append((c["node"], c["path"], c["interp"], t, v))
            anims.append(Animation(a["name"], float(a["duration"]), chans))
        parents = [n["parent"] for n in nodes]
        order, seen = [], set()

        def visit(i):
            if i in seen or i < 0:
                return
            visit(parents[i])
            seen.add(i)
            order.append(i)
        for i in range(len(nodes)):
            visit(i)
        return cls(parents, rest, skins, anims, order)

    def _sample(self, interp: str, t: np.ndarray, v: np.ndarray, time: float, path: str) -> np.ndarray:
        if len(t) == 1 or time <= t[0]:
            return v[0]
        if time >= t[-1]:
            return v[-1]
        k = int(np.searchsorted(t, time, side="right")) - 1
        if interp == "STEP":
            return v[k]
        u = (time - t[k]) / max(t[k + 1] - t[k], 1e-12)
        if path == "rotation":
            return _slerp(v[k], v[k + 1], u)
        return v[k] + u * (v[k + 1] - v[k])

    def globals(self, animation: int | None, time: float) -> list[np.ndarray]:
        """World matrix of every node at `time` seconds of `animation` (None: rest pose)."""
        trs = [[r[0], r[1], r[2]] for r in self.rest]
        animated = set()
        if animation is not None and 0 <= animation < len(self.animations):
            for node, path, interp, t, v in self.animations[animation].channels:
                idx = {"translation": 0, "rotation": 1, "scale": 2}[path]
                trs[node][idx] = self._sample(interp, t, v, time, path)
                animated.add(node)
        out: list[np.ndarray | None] = [None] * len(self.rest)
        for i in self.order:
            m = self.rest[i][3]
            if m is None or i in animated:
                t, r, s = trs[i]
                m = np.eye(4)
                m[:3, :3] = _quat_matrix(r) * np.asarray(s)[None, :]
                m[:3, 3] = t
            p = self.parents[i]
            out[i] = m if p < 0 else out[p] @ m
        return out

    def joint_matrices(self, skin: int, animation: int | None, time: float, baked: np.ndarray) -> np.ndarray:
        """(j, 4, 4) float32 skinning matrices for vertices that were baked with node matrix `baked`."""
        g = self.globals(animation, time)
        joints, ib = self.skins[skin]
        inv_baked = np.linalg.inv(baked)
        return np.stack([g[j] @ ib[k] @ inv_baked for k, j in enumerate(joints)]).astype(np.float32)
