"""data/shot_name_mapping.json: shot_id -> shot_name, kept current; dated copies with 30-day retention."""
from __future__ import annotations

import time
from pathlib import Path

from aimms_fast.project.config import write_json_atomic
from aimms_fast.store.db import utc_stamp

RETENTION_DAYS = 30


def build_mapping(db) -> dict[str, str]:
    return {str(r[0]): r[1] or "" for r in
            db.conn.execute("SELECT shot_id, shot_name FROM shots ORDER BY order_number, shot_id")}


def write_mapping(db, path: Path, backup_dir: Path | None = None) -> dict[str, str]:
    mapping = build_mapping(db)
    write_json_atomic(path, mapping)
    if backup_dir is not None:
        dated = backup_dir / f"shot_name_mapping_{utc_stamp()[:8]}.json"
        write_json_atomic(dated, mapping)
        prune_dated(backup_dir)
    return mapping


def prune_dated(backup_dir: Path, *, now: float | None = None) -> list[Path]:
    """Delete dated mapping copies older than RETENTION_DAYS; returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for p in backup_dir.glob("shot_name_mapping_*.json"):
        if now - p.stat().st_mtime > RETENTION_DAYS * 86400:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed
