"""Approval commands (issue 12): `approve`, `lock` (with --off to undo either) and `approvals` (the
per-section summary and every approved/locked item). Thin layer over ops/approvals.py."""
from __future__ import annotations

import click

from aimms_fast.cli import cli
from aimms_fast.cli.common import emit, handle_errors, json_option, open_project, project_arg

ITEM_HELP = "take:<take id> | star:<shot id>:image|video | asset:<id_key> | charver:<version id>"


def _flag(path, item, off, as_json, fn_name):
    from aimms_fast.ops import approvals as AP
    kind, ident = AP.parse_item(item)
    with open_project(path) as p:
        a = getattr(AP, fn_name)(p, kind, ident, on=not off)
    data = {"item": item, "approved": bool(a and a.approved), "locked": bool(a and a.locked),
            "by": (a.locked_by or a.approved_by) if a else "", "at": (a.locked_at or a.approved_at) if a else None}
    emit(data, as_json, f"{item}: {'locked' if data['locked'] else 'approved' if data['approved'] else 'open'}"
         + (f" by {data['by']} at {data['at']}" if data["by"] else ""))


@cli.command("approve")
@project_arg
@click.argument("item")
@click.option("--off", is_flag=True, help="Withdraw the approval.")
@json_option
@handle_errors
def approve_cmd(path, item, off, as_json):
    """Approve ITEM (take:<take id>, star:<shot id>:image|video, asset:<id_key>, charver:<version id>) as the project's author (Settings / meta author)."""
    _flag(path, item, off, as_json, "approve")


@cli.command("lock")
@project_arg
@click.argument("item")
@click.option("--off", is_flag=True, help="Unlock.")
@json_option
@handle_errors
def lock_cmd(path, item, off, as_json):
    """Lock ITEM (approving it too): it then refuses replace, delete and star changes until unlocked."""
    _flag(path, item, off, as_json, "lock")


@cli.command("approvals")
@project_arg
@json_option
@handle_errors
def approvals_cmd(path, as_json):
    """Per-section approval summary and the approved/locked items."""
    from aimms_fast.ops import approvals as AP
    from aimms_fast.store import approvals as SA
    with open_project(path, write=False) as p:
        secs = AP.section_summary(p)
        items = SA.all_items(p.conn)
    lines = [f"{'section':<40}{'shots':>6}{'takes':>7}{'approved':>10}{'locked':>8}"]
    lines += [f"{s.section[:39]:<40}{s.shots:>6}{s.takes:>7}{s.approved:>10}{s.locked:>8}" for s in secs]
    lines += [f"{i.item}: {'locked' if i.locked else 'approved'} by {i.locked_by or i.approved_by}" for i in items]
    emit({"sections": [s.__dict__ for s in secs], "items": [i.__dict__ for i in items]}, as_json, "\n".join(lines))
