"""3D model previews: loading (one module per format behind loader.py), a GLB cache, a moderngl
renderer and thumbnails.

- `loader.load_model(path, cache_dir=None) -> Model` (model.py): .glb/.gltf (trimesh, Draco via
  DracoPy) and .fbx (ufbx), parsed in a child process with time and memory limits; the normalised
  GLB is cached by content hash in `<project>/.aimms_fast_cache/models/`.
- `render.Renderer`, `render.Camera`, `render.RenderSettings`: see render.py's docstring.
- `thumbs.model_thumbnail(path, size) -> RGBA`: a framed three-quarter view for the atlas.

Importing this package imports neither moderngl nor trimesh (the UI and the pool import it cheaply).
"""
from __future__ import annotations

MODEL_EXTS = frozenset({".glb", ".gltf", ".fbx"})
