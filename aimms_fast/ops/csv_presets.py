"""Column-mapping presets for shot lists from other tools (issue 12, item 1): per user, not per
project (the same StudioBinder export layout comes back in every project), so a JSON file
`csv_map_presets.json` in the app's config folder, written atomically. A preset maps header
names to targets (an AIMMS field, "notes", or null = dropped), plus PREFIX_KEY -> the column whose
value prefixes shot names. The caller passes the folder (ui.prefs.config_dir()): ops does not
import the UI. Any thread; last writer wins (one user, one file).
"""
from __future__ import annotations

import os
from pathlib import Path

import orjson

from aimms_fast.errors import AimmsError
from aimms_fast.ops.csv_io import IMPORT_COLUMNS
from aimms_fast.ops.csv_vocab import NOTES, phrase

TARGETS = [*IMPORT_COLUMNS, NOTES]   # what a column may map to; None = dropped
PRESETS_FILE = "csv_map_presets.json"
PREFIX_KEY = "+shot_name prefix"      # a preset's entry for MapPlan.name_prefix (no header looks like it)


def load_presets(folder: Path) -> dict[str, dict[str, str | None]]:
    """name -> {header: target}; a missing or broken file is no presets (never an error)."""
    try:
        data = orjson.loads((Path(folder) / PRESETS_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    presets = data.get("presets") if isinstance(data, dict) else None
    if not isinstance(presets, dict):
        return {}
    return {str(k): {str(h): (t if t in TARGETS or (h == PREFIX_KEY and isinstance(t, str)) else None)
                     for h, t in v.items()}
            for k, v in presets.items() if isinstance(v, dict)}


def save_preset(folder: Path, name: str, plan) -> Path:
    """Store `plan.targets()` (a csv_map.MapPlan) as preset `name`, replacing one of that name."""
    name = name.strip()
    if not name:
        raise AimmsError("a preset needs a name", field="preset")
    presets = load_presets(folder)
    presets[name] = plan.targets()
    p = Path(folder) / PRESETS_FILE
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps({"version": 1, "presets": presets}, option=orjson.OPT_INDENT_2))
        os.replace(tmp, p)
    except OSError as e:
        raise AimmsError(f"cannot save the preset ({e.strerror or e})", path=p,
                         hint="check the permissions of the config folder") from e
    return p


def matching_preset(folder: Path, plan) -> str | None:
    """The saved preset that names every column of this file (the same tool's export), if any."""
    heads = {phrase(c.label) for c in plan.columns}
    for name, targets in load_presets(folder).items():
        if heads and heads <= {phrase(h) for h in targets if h != PREFIX_KEY}:
            return name
    return None
