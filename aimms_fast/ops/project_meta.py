"""Project settings AIMMS keeps in its `meta` table (project name, author, description, project
notes, the ComfyUI output folder and address): validated, written in one transaction, audited (one
`mutation` line in the project log). Not on the undo stack: AIMMS's own Settings page saves the
same way, and the previous values are in the log line. Thread: the project connection's owner."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from aimms_fast.errors import AimmsError
from aimms_fast.store import meta as M
from aimms_fast.store.db import transaction

EDITABLE_KEYS = M.EDITABLE_KEYS
LIMIT = 20000   # characters per value (project_info is free text; a pasted novel is a mistake)


@dataclass
class MetaChange:
    changed: list[str]
    before: dict[str, str]
    after: dict[str, str]


def project_meta(project) -> dict[str, str]:
    """Every meta key and value (AIMMS's and anything a later AIMMS added)."""
    return M.read_meta(project.conn)


def _check(values: dict) -> dict[str, str]:
    out = {}
    for k, v in values.items():
        if k not in EDITABLE_KEYS:
            raise AimmsError(f"'{k}' is not a project setting", field=k, hint="settings: " + ", ".join(EDITABLE_KEYS))
        v = "" if v is None else str(v)
        if k != "project_info":
            v = v.strip()
        if len(v) > LIMIT:
            raise AimmsError(f"{k} is {len(v):,} characters long", field=k, hint=f"keep it under {LIMIT:,}")
        if k == "project_name" and not v:
            raise AimmsError("the project name is empty", field=k, hint="type a name")
        if k == "comfyui_URL" and v:
            u = urlparse(v)
            if u.scheme not in ("http", "https") or not u.netloc:
                raise AimmsError(f"'{v}' is not a web address", field=k, hint="e.g. http://127.0.0.1:8188/")
        out[k] = v
    return out


def set_project_meta(project, **values) -> MetaChange:
    """Save project settings to `meta` as AIMMS does. Unchanged values write nothing and log nothing."""
    project.require_writable()
    values = _check(values)
    with transaction(project.db):
        before = M.read_meta(project.conn)
        changed = M.write_meta(project.conn, values)
        if changed:
            project.audit("project_settings", "; ".join(f"{k}: {before.get(k)!r} -> {values[k]!r}" for k in changed))
    return MetaChange(changed, {k: before.get(k) for k in changed}, {k: values[k] for k in changed})
