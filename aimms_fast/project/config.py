"""project_config.json: read tolerantly, written atomically, unknown keys preserved."""
from __future__ import annotations

import os
from pathlib import Path

import orjson

from aimms_fast.errors import ProjectError


def read_config(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = orjson.loads(path.read_bytes() or b"{}")
    except orjson.JSONDecodeError as e:
        raise ProjectError(f"not valid JSON ({e})", path=path,
                           hint="fix the file by hand or delete it; it is rebuilt from data/shots.db") from e
    if not isinstance(data, dict):
        raise ProjectError("expected a JSON object", path=path, hint="delete it to have it rebuilt")
    return data


def write_json_atomic(path: Path, data) -> None:
    """Write JSON to a temp file, fsync, then rename: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    from aimms_fast.store.pending import open_new
    with open_new(tmp) as f:   # never through a symlink planted at the temp name (issue 14)
        f.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def update_config(path: Path, **values) -> dict:
    cfg = read_config(path)
    cfg.update({k: v for k, v in values.items() if v is not None})
    write_json_atomic(path, cfg)
    return cfg
