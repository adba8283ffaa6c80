"""Issue 12's tables: which shot came from which script beat (re-import matches on it), the audit
log's who/ids/before->after columns, and approvals/locks. SQL lives in store/script.py,
store/audit.py, store/approvals.py, store/characters.py (one module each owns its table's statements; this file only creates them).
"""
VERSION = 9


def apply(conn):
    from aimms_fast.store import approvals, audit, characters, script
    for sql in script.SCHEMA + audit.SCHEMA + approvals.SCHEMA + characters.SCHEMA:
        conn.execute(sql)
    audit.add_columns(conn)
