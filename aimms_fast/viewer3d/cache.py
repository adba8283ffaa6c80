"""GLB cache of loaded models, keyed by content hash: `<cache>/models/<sha256>.glb` + `.json`.

The key hashes the file's bytes (for a .gltf also the .bin and images it names) and the loader
version, so an edited or replaced file is loaded again while a copied or renamed one is not. The
.json keeps what the GLB cannot (source format and version, notes). Entries are written to a temp
name and renamed, so a crash never leaves a half-written GLB behind; deleting the folder is safe.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from aimms_fast.errors import AimmsError

LOADER_VERSION = "3"      # bump when the normalised GLB changes shape: old entries are ignored
SUBDIR = "models"


def content_key(path: Path) -> str:
    """sha256 over the file (and a .gltf's sidecar files) plus the loader version."""
    h = hashlib.sha256(f"aimms-model-{LOADER_VERSION}\0{path.suffix.lower()}\0".encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if path.suffix.lower() == ".gltf":
        try:
            doc = json.loads(path.read_text("utf-8-sig"))
        except (ValueError, OSError, UnicodeDecodeError):
            doc = {}
        for item in (doc.get("buffers") or []) + (doc.get("images") or []):
            uri = item.get("uri") if isinstance(item, dict) else None
            if not uri or uri.startswith("data:"):
                continue
            h.update(b"\0" + str(uri).encode())
            try:
                from aimms_fast.viewer3d.gltf import side_file
                h.update(side_file(path, uri).read_bytes())
            except (OSError, AimmsError, AttributeError):   # missing, or refused (outside its folder)
                h.update(b"<missing>")
    return h.hexdigest()


class ModelCache:
    """Folder of cached GLBs. Any thread; concurrent writers of one key are harmless (same bytes)."""

    def __init__(self, cache_dir: Path):
        self.folder = Path(cache_dir) / SUBDIR

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.glb", self.folder / f"{key}.json"

    def get(self, key: str) -> tuple[bytes, dict] | None:
        glb, meta = self.paths(key)
        try:
            info = json.loads(meta.read_text("utf-8"))
            return glb.read_bytes(), info
        except (OSError, ValueError):
            return None

    def put_file(self, key: str, glb_file: Path, info: dict) -> Path:
        """Move an already written GLB into the cache (the child wrote it in the cache folder)."""
        glb, meta = self.paths(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        os.replace(glb_file, glb)
        tmp = meta.with_name(meta.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info), "utf-8")
        os.replace(tmp, meta)
        return glb

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob("*") if p.is_file()) if self.folder.is_dir() else 0
