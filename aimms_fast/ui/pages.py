"""The eight pages, in tab (and Ctrl+1..8) order, then the extra pages (keys.EXTRA_PAGES)."""
from __future__ import annotations


def make_pages(app) -> list:
    from aimms_fast.ui.assets import AssetsPage
    from aimms_fast.ui.audit import AuditPage
    from aimms_fast.ui.characters import ScriptPage
    from aimms_fast.ui.images import ImagesPage
    from aimms_fast.ui.inbox import InboxPage
    from aimms_fast.ui.logs import LogsPage
    from aimms_fast.ui.routing import RoutingPage
    from aimms_fast.ui.settings import SettingsPage
    from aimms_fast.ui.shots import ShotsPage
    from aimms_fast.ui.stats import StatsPage
    from aimms_fast.ui.unused import UnusedPage
    from aimms_fast.ui.videos import VideosPage
    return [ShotsPage(app), ImagesPage(app), VideosPage(app), AssetsPage(app), UnusedPage(app),
            SettingsPage(app), LogsPage(app), RoutingPage(app),
            InboxPage(app), StatsPage(app), ScriptPage(app), AuditPage(app)]  # after the eight: View menu
