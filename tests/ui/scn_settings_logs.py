"""Scenarios for issue 9's Logs, Settings and Stats pages: what a user sees on each (screenshots)
and what the pages did (facts read back from the page, the log file, the database, the prefs
file). Run one per process by tests/ui/test_settings_logs.py."""
from __future__ import annotations

import time

from tests.ui.scenarios import scenario, shot, start_app


def wait_for(app, cond, timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.settle(1)
        if cond():
            return True
    return False


@scenario
def stats_page(project, out, args):
    """View > Stats: the four charts and the table, counted on a background thread."""
    app = start_app(project, width=1500, height=1000)
    app.show_page("stats")
    page = app.pages["stats"]
    ok = wait_for(app, lambda: page.stats is not None)
    app.settle(4)
    st = page.stats
    res = {"counted": ok, "png": shot(app, out, "stats"),
           "shots": st.shots, "image_per_shot": st.image_takes_per_shot,
           "video_per_shot": st.video_takes_per_shot,
           "sections": [(s.section, s.shots, s.starred_image, s.starred_video) for s in st.sections],
           "summary": __import__("dearpygui.dearpygui", fromlist=["x"]).get_value(page.summary),
           "errors": list(app.errors)}
    # a change made elsewhere while the page is visible recounts it
    from aimms_fast.ops.shots import add_shot
    app.run_op(lambda: add_shot(app.project, shot_name="NEW_050", section="Act 9", placeholders=False),
               changed=("shots",))
    wait_for(app, lambda: page.stats is not None and page.stats.shots == st.shots + 1)
    res["shots_after_add"] = page.stats.shots
    res["view_menu_has_stats"] = _menu_has(app, "Stats")
    return res


def _menu_has(app, label: str) -> bool:
    import dearpygui.dearpygui as dpg

    def walk(item):
        for slot in (0, 1):
            for c in dpg.get_item_children(item, slot) or []:
                if dpg.get_item_type(c).endswith("mvMenuItem") and dpg.get_item_label(c) == label:
                    return True
                if walk(c):
                    return True
        return False
    return walk("main")
