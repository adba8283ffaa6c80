"""glTF 2.0 / GLB loading (runs in the loader's child process): trimesh, plus Draco through DracoPy.

trimesh 5.2 decodes `KHR_draco_mesh_compression` only when DracoPy happens to be importable; without
it, it reads the fallback accessors (no bufferView in a Draco file) and silently yields all-zero
vertices (tests/test_viewer3d.py shows both). So the glTF JSON is read first; when Draco is used, every
compressed primitive is decoded here with DracoPy and rewritten as plain accessors in a new GLB that
trimesh reads like any other. Without DracoPy such a file is refused with a clear reason instead of
showing nothing, and any mesh whose vertices are all zero after loading is reported the same way.
"""
from __future__ import annotations

import base64
import os
import json
import struct
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from aimms_fast.errors import MediaError

GLB_MAGIC = b"glTF"
DRACO = "KHR_draco_mesh_compression"
_CT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NC = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def read_gltf(path: Path) -> tuple[dict, bytes | None]:
    """(JSON, GLB binary chunk or None). Raises MediaError for anything that is not glTF."""
    data = path.read_bytes()
    if data[:4] == GLB_MAGIC:
        if len(data) < 20:
            raise MediaError("GLB file is truncated (shorter than its header)", path=path)
        _, version, length = struct.unpack_from("<4sII", data, 0)
        if version != 2:
            raise MediaError(f"GLB version {version} is not supported (only glTF 2.0)", path=path,
                             hint="re-export the model as glTF 2.0")
        pos, js, binc = 12, None, None
        while pos + 8 <= min(length, len(data)):
            clen, ctype = struct.unpack_from("<II", data, pos)
            chunk = data[pos + 8:pos + 8 + clen]
            if len(chunk) < clen:
                raise MediaError("GLB file is truncated (a chunk ends past the end of the file)", path=path)
            if ctype == 0x4E4F534A:
                js = chunk
            elif ctype == 0x004E4942 and binc is None:
                binc = bytes(chunk)
            pos += 8 + clen + (-clen % 4)
        if js is None:
            raise MediaError("GLB file has no JSON chunk", path=path)
        try:
            return json.loads(js.decode("utf-8")), binc
        except (UnicodeDecodeError, ValueError) as e:
            raise MediaError(f"GLB JSON chunk is not valid JSON: {e}", path=path) from None
    try:
        return json.loads(data.decode("utf-8-sig")), None
    except (UnicodeDecodeError, ValueError) as e:
        raise MediaError(f"not a glTF file: {e}", path=path, hint="expected glTF 2.0 JSON or a binary GLB") from None


def pack_glb(gltf: dict, binary: bytes | None) -> bytes:
    """A GLB container around JSON and one binary chunk (tests build Draco fixtures with this)."""
    js = json.dumps(gltf, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 4)
    out = [struct.pack("<II", len(js), 0x4E4F534A), js]
    if binary:
        b = bytes(binary) + b"\0" * (-len(binary) % 4)
        out += [struct.pack("<II", len(b), 0x004E4942), b]
    body = b"".join(out)
    return struct.pack("<4sII", GLB_MAGIC, 2, 12 + len(body)) + body


def side_file(path: Path, uri: str) -> Path:
    """The file a .gltf names by `uri`, which must stay beside or below the .gltf (issue 14: a model
    in a shared project must not make the viewer read files elsewhere, e.g. '../../secret' or an
    absolute path, directly or through a symlink). Raises MediaError."""
    rel = unquote(uri).replace("\\", "/")
    parts = [x for x in rel.split("/") if x not in ("", ".")]
    if rel.startswith("/") or ".." in parts or (parts and ":" in parts[0]) or "\x00" in rel or not parts:
        raise MediaError(f"the model refers to '{uri}' outside its folder", path=path,
                         hint="keep the .bin and textures beside the .gltf, or use a .glb")
    p = path.parent.joinpath(*parts)
    base = os.path.realpath(path.parent)
    if not os.path.realpath(p).startswith(base.rstrip(os.sep) + os.sep):
        raise MediaError(f"the model's file '{uri}' is a link leading outside its folder", path=path,
                         hint="keep the .bin and textures beside the .gltf, or use a .glb")
    return p


def _buffer_bytes(path: Path, gltf: dict, binc: bytes | None, i: int) -> bytes:
    buf = gltf["buffers"][i]
    uri = buf.get("uri")
    if uri is None:
        if binc is None:
            raise MediaError(f"buffer {i} has no data", path=path)
        return binc
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    p = side_file(path, uri)
    if not p.is_file():
        raise MediaError(f"the buffer file '{uri}' is missing", path=path,
                         hint="keep the .bin next to the .gltf, or use a .glb")
    return p.read_bytes()


def uses_draco(gltf: dict) -> bool:
    return DRACO in (gltf.get("extensionsUsed") or []) or DRACO in (gltf.get("extensionsRequired") or [])


def decode_draco(path: Path, gltf: dict, binc: bytes | None) -> bytes:
    """Rewrite a Draco glTF/GLB as a plain GLB (one buffer) that trimesh reads correctly."""
    try:
        import DracoPy
    except ImportError:
        raise MediaError("the model uses Draco mesh compression and DracoPy is not installed", path=path,
                         hint="pip install DracoPy") from None
    gltf = json.loads(json.dumps(gltf))
    buffers = [_buffer_bytes(path, gltf, binc, i) for i in range(len(gltf.get("buffers", [])))]
    out = bytearray()
    offsets = []
    for b in buffers:
        out += b"\0" * (-len(out) % 8)
        offsets.append(len(out))
        out += b
    for bv in gltf.get("bufferViews", []):
        bv["byteOffset"] = offsets[bv.get("buffer", 0)] + bv.get("byteOffset", 0)
        bv["buffer"] = 0

    def add(arr: np.ndarray, target: int | None) -> int:
        out.extend(b"\0" * (-len(out) % 8))
        view = {"buffer": 0, "byteOffset": len(out), "byteLength": arr.nbytes}
        if target:
            view["target"] = target
        out.extend(arr.tobytes())
        gltf.setdefault("bufferViews", []).append(view)
        return len(gltf["bufferViews"]) - 1

    for mesh in gltf.get("meshes", []):
        for prim in mesh.get("primitives", []):
            ext = (prim.get("extensions") or {}).pop(DRACO, None)
            if ext is None:
                continue
            bv = gltf["bufferViews"][ext["bufferView"]]
            blob = bytes(out[bv["byteOffset"]:bv["byteOffset"] + bv["byteLength"]])
            try:
                dm = DracoPy.decode(blob)
            except Exception as e:
                raise MediaError(f"Draco data of mesh '{mesh.get('name', '?')}' does not decode: {e}",
                                 path=path) from None
            by_id = {a["unique_id"]: a for a in (dm.attributes or [])}
            for name, uid in ext.get("attributes", {}).items():
                if name not in prim.get("attributes", {}):
                    continue
                acc = gltf["accessors"][prim["attributes"][name]]
                a = by_id.get(uid)
                data = np.asarray(a["data"] if a is not None else
                                  {"POSITION": dm.points, "NORMAL": dm.normals,
                                   "TEXCOORD_0": dm.tex_coord}.get(name))
                if data is None or data.size == 0:
                    raise MediaError(f"Draco attribute {name} is missing", path=path)
                dtype = _CT[acc["componentType"]]
                data = data.reshape(len(data), -1).astype(dtype)
                acc["bufferView"] = add(np.ascontiguousarray(data), 34962)
                acc["byteOffset"] = 0
                acc["count"] = int(len(data))
                acc.pop("sparse", None)
            faces = np.asarray(dm.faces, dtype=np.uint32).reshape(-1)
            if "indices" in prim:
                acc = gltf["accessors"][prim["indices"]]
                acc["componentType"] = 5125
                acc["count"] = int(faces.size)
                acc["bufferView"] = add(faces, 34963)
                acc["byteOffset"] = 0
    for key in ("extensionsUsed", "extensionsRequired"):
        if key in gltf:
            gltf[key] = [e for e in gltf[key] if e != DRACO]
            if not gltf[key]:
                del gltf[key]
    gltf["buffers"] = [{"byteLength": len(out)}]
    return pack_glb(gltf, bytes(out))


def load(path: Path) -> tuple[bytes, dict]:
    """(normalised GLB bytes, info) for a .glb/.gltf. Child process only (trimesh on untrusted input)."""
    import io
    import trimesh
    from trimesh.resolvers import FilePathResolver
    gltf, binc = read_gltf(path)
    for key in ("buffers", "images"):  # trimesh resolves these itself: check them first (issue 14)
        for item in gltf.get(key) or []:
            uri = item.get("uri") if isinstance(item, dict) else None
            if isinstance(uri, str) and uri and not uri.startswith("data:"):
                side_file(path, uri)
    version = str((gltf.get("asset") or {}).get("version", "?"))
    if not version.startswith("2"):
        raise MediaError(f"glTF version {version} is not supported (only 2.0)", path=path,
                         hint="re-export the model as glTF 2.0")
    notes = []
    draco = uses_draco(gltf)
    resolver = FilePathResolver(str(path))
    if draco:
        src = io.BytesIO(decode_draco(path, gltf, binc))
        scene = trimesh.load(src, file_type="glb", resolver=resolver, force="scene", process=False)
        notes.append("Draco-compressed meshes decoded with DracoPy")
    else:
        scene = trimesh.load(str(path), force="scene", process=False)
    geoms = [g for g in scene.geometry.values() if hasattr(g, "faces") and len(g.faces)]
    if not geoms:
        raise MediaError("the file has no triangle meshes to show", path=path,
                         hint="points, lines or an empty scene cannot be previewed")
    for name, g in scene.geometry.items():
        v = np.asarray(getattr(g, "vertices", np.zeros((0, 3))))
        if len(v) and not np.any(v):
            raise MediaError(f"mesh '{name}' loaded with all vertices at zero", path=path,
                             hint="its geometry is compressed in a way this loader cannot decode "
                                  "(Draco needs DracoPy; meshopt is not supported)")
    skinned = bool(gltf.get("skins"))
    skin_info = None
    if skinned and not draco:
        from aimms_fast.viewer3d import skin
        try:
            buffers = [_buffer_bytes(path, gltf, binc, i) for i in range(len(gltf.get("buffers", [])))]
            skin_info = skin.extract(gltf, buffers)
        except (KeyError, IndexError, ValueError, TypeError) as e:   # odd skin data: show the bind pose
            notes.append(f"skin data unreadable ({type(e).__name__}: {e}): shown in its bind pose")
    if skinned and skin_info is None and not any("bind pose" in n for n in notes):
        notes.append("skinned: shown in its bind pose (animation is not played)")
    info = {"format": "GLB" if path.suffix.lower() == ".glb" else "glTF", "version": version,
            "skinned": skinned, "notes": notes, "skin": skin_info}
    return scene.export(file_type="glb"), info
