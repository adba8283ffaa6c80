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


@scenario
def logs_page(project, out, args):
    """Logs page on a project log with mutations, a warning and an error: all lines, then only
    errors, then a word search, then only project changes; select with click and Shift+click and
    copy; follow mode picks up a change made meanwhile; then the app log."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.ops.takes import toggle_star
    app = start_app(project, width=1500, height=900)
    app.project.log.warning("media problem: media/2/video_01.mp4: moov atom not found")
    app.project.log.error("could not write data/csv/shots.csv: disk full")
    app.show_page("logs")
    page = app.pages["logs"]
    app.settle(4)
    res = {"total": len(page.lines), "shown_all": len(page.shown), "png_all": shot(app, out, "logs_all")}
    dpg.set_value(page.level, "Errors only")
    page._refilter()
    app.settle(3)
    res["errors_only"] = [page.lines[i].text.split(" ", 2)[2] for i in page.shown]
    res["png_errors"] = shot(app, out, "logs_errors")
    dpg.set_value(page.level, "All lines")
    dpg.set_value(page.search, "starred shot")     # words in any order, any case
    page._refilter()
    app.settle(3)
    res["search"] = [page.lines[i].text.split(" ", 2)[2] for i in page.shown]
    res["png_search"] = shot(app, out, "logs_search")
    dpg.set_value(page.search, "")
    dpg.set_value(page.level, "Changes to the project")
    page._refilter()
    app.settle(3)
    res["mutations"] = [page.lines[i].text.split(" ", 2)[2] for i in page.shown]
    res["png_mutations"] = shot(app, out, "logs_mutations")
    # select the first and (shift) the third change, copy
    page.select(page.shown[0])
    page.select(page.shown[2], extend=True)
    page.copy_selection()
    app.settle(2)
    res["copied"] = dpg.get_clipboard_text()
    res["selected"] = len(page.selected)
    # follow: a change made now appears without a reload
    tid = app.project.conn.execute("SELECT take_id FROM takes WHERE take_type='base_image' "
                                   "ORDER BY file_path LIMIT 1").fetchone()[0]
    app.run_op(lambda: toggle_star(app.project, tid), changed=("takes",))
    for h in app.project.log.handlers:
        h.flush()
    import time as _t
    end = _t.monotonic() + 5
    n = len(page.shown)
    while _t.monotonic() < end and len(page.shown) == n:
        app.settle(1)
    res["followed"] = [page.lines[i].text.split(" ", 2)[2] for i in page.shown[n:]]
    page.open_in_editor()                  # the desktop's opener (a stand-in xdg-open in the test)
    app.settle(2)
    res["rows_in_pool"] = len(page.rows)
    dpg.set_value(page.source, "App log")
    page._open_source()
    app.settle(3)
    res["app_log"] = str(page.tail.path)
    res["app_lines"] = [ln.text.split(" ", 2)[2] for ln in page.lines]
    res["png_app"] = shot(app, out, "logs_app")
    res["errors"] = list(app.errors)
    return res


@scenario
def settings_page(project, out, args):
    """Settings: project meta typed and saved (read back from the database as AIMMS would), the
    scrub size and worker count saved to the prefs file, the cache measured and cleared by jobs."""
    import json
    import os
    import sqlite3

    import dearpygui.dearpygui as dpg
    from tests.ui.scenarios import press_dialog_button
    app = start_app(project, width=1500, height=1000)
    app.show_page("settings")
    page = app.pages["settings"]
    app.settle(4)
    res = {"png_top": shot(app, out, "settings_top")}
    form = page.project_form
    res["loaded"] = form.values()
    dpg.set_value(form.inputs["project_name"], "Night Train")
    dpg.set_value(form.inputs["author"], "Ada L.")
    dpg.set_value(form.inputs["project_info"], "colour: teal\nlook: 35mm")
    dpg.set_value(form.inputs["comfyui_URL"], "http://127.0.0.1:8188/")
    dpg.set_value(form.inputs["comfyui_output_path"], "C:/ComfyUI/output")
    form.save()
    app.settle(2)
    res["state_after_save"] = dpg.get_value(form.state)
    con = sqlite3.connect(app.project.layout.db)
    res["meta"] = dict(con.execute("SELECT key, value FROM meta").fetchall())
    con.close()
    dpg.set_value(form.inputs["comfyui_URL"], "not a url")
    form.save()
    app.settle(2)
    res["bad_url_errors"] = list(app.errors)
    res["state_after_bad"] = dpg.get_value(form.state)
    app.errors.clear()
    app.dialogs.close_top()
    app.settle(2)
    page.set_scrub_size("192 × 108")
    page.set_workers(2)
    res["prefs_file"] = json.loads((app.prefs.path()).read_text())
    res["widgets"] = [dpg.get_value(page.scrub), dpg.get_value(page.workers)]
    # cache: measure, then clear (confirm dialog, job), then the workers come back
    cache = app.project.layout.cache
    res["cache_files_before"] = sum(len(f) for _, _, f in os.walk(cache))
    from aimms_fast.ui import settings_cache as C
    C.measure(app, page._cache_text)
    wait_for(app, lambda: "files in" in dpg.get_value(page.cache))
    res["measured"] = dpg.get_value(page.cache)
    page.ask_clear_cache()
    app.settle(2)
    press_dialog_button(app, "Clear cache")
    wait_for(app, lambda: "Cleared" in dpg.get_value(page.cache), timeout=30)
    res["cleared"] = dpg.get_value(page.cache)
    res["cache_files_after"] = sum(len(f) for _, _, f in os.walk(cache)) if cache.exists() else 0
    res["services_back"] = app.services is not None
    dpg.set_y_scroll(dpg.get_item_parent(dpg.get_item_parent(form.save_button)), 430)   # the page's scroller
    app.settle(3)
    res["png_project"] = shot(app, out, "settings_project")
    res["title"] = app.project.name
    res["errors"] = list(app.errors)
    return res


@scenario
def logs_big(project, out, args):
    """A 9 MB project log of 100,000 lines (years of work): the page reads only its last MiB, keeps
    a fixed pool of rows however far it scrolls, loads older lines on request, and searches them.
    Work is counted (bytes read, rows made) and CPU time measured, not wall time."""
    import time as _t

    import dearpygui.dearpygui as dpg
    log_file = __import__("pathlib").Path(project) / "logs" / "project_log.log"
    n = args.get("lines", 100_000)
    with open(log_file, "w", encoding="utf-8") as f:
        for i in range(n):
            lvl = "WARNING" if i % 1000 == 7 else "INFO"
            f.write(f"2026-01-{1 + i // 4000:02d}T10:{(i // 60) % 60:02d}:{i % 60:02d}.000Z {lvl} "
                    f"mutation takes entry={i} | Starred take {i % 40:02d} of SHOT_{i // 40:05d} | shots=[{i // 40}]\n")
    size = log_file.stat().st_size
    app = start_app(project, width=1400, height=900)
    app.show_page("logs")
    page = app.pages["logs"]
    app.settle(4)
    res = {"file_bytes": size, "read_bytes": page.tail.end - page.tail.start, "lines_loaded": len(page.lines)}
    cpu = []
    for k in range(40):                           # scroll through what is loaded
        dpg.set_y_scroll(page.scroll, k * 700)
        c = _t.process_time()
        app.settle(1)
        cpu.append(_t.process_time() - c)
    res["rows_after_scroll"] = len(page.rows)
    res["frame_cpu_ms_median"] = sorted(cpu)[len(cpu) // 2] * 1000
    while page.tail.has_older:
        page.load_older()
    app.settle(2)
    res["lines_all"] = len(page.lines)
    dpg.set_value(page.level, "Warnings and errors")
    c = _t.process_time()
    page._refilter()
    res["filter_cpu_ms"] = (_t.process_time() - c) * 1000
    res["warnings"] = len(page.shown)
    dpg.set_value(page.level, "All lines")
    dpg.set_value(page.search, "shot_00025 warning")
    page._refilter()
    app.settle(3)
    res["search"] = [page.lines[i].text.split(" | ")[1] for i in page.shown]
    dpg.set_value(page.search, "")
    page._refilter()
    dpg.set_y_scroll(page.scroll, 0)
    app.settle(3)
    res["rows_final"] = len(page.rows)
    res["png"] = shot(app, out, "logs_big_top")
    res["errors"] = list(app.errors)
    return res
