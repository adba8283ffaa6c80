"""The audit log as CSV next to the CSV export (issue 12): `audit_<UTC stamp>.csv` in data/csv/ (or a
chosen folder), written the way ops/csv_io.py writes the AIMMS tables (UTF-8 BOM, CRLF, atomic).
Thread: any thread with its own connection."""
from __future__ import annotations

from pathlib import Path

from aimms_fast.errors import AimmsError
from aimms_fast.ops.csv_io import unique_path, write_rows_csv
from aimms_fast.store import audit as A
from aimms_fast.store.db import utc_stamp

COLUMNS = ["id", "at", "who", "action", "detail", "ids", "changes", "history_id"]


def export_audit(project, dest_dir: str | Path | None = None) -> dict:
    import orjson
    dest = Path(dest_dir) if dest_dir else project.layout.csv
    rows = list(reversed(A.rows(project.conn, limit=10**9)))
    path = unique_path(dest / f"audit_{utc_stamp()}.csv")
    try:
        n = write_rows_csv(path, COLUMNS, ([r.id, r.at, r.who, r.action, r.detail, orjson.dumps(r.ids).decode(),
                                             orjson.dumps(r.changes).decode(), r.history_id] for r in rows))
    except OSError as e:
        raise AimmsError(f"cannot write the audit CSV ({e.strerror or e})", path=e.filename or dest,
                         hint="check free space and permissions of the folder") from e
    return {"table": "fast_audit", "path": str(path), "rows": n}
