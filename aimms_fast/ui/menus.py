"""Menu bar (File, Edit, Project, View, Help), the F1 keyboard map window and the actions both
trigger.

Every action is a name from keys.py or a menu-only name; `do_action(app, name)` is the one place
that runs them, so menu items, shortcuts and tests take the same path. `changes_project(name)`
says which actions must wait while a job changes the project (the app refuses them)."""
from __future__ import annotations

import logging
from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError
from aimms_fast.ui import keys as K

log = logging.getLogger(__name__)

# Actions that only look, move a selection, play or change the view: allowed while a job changes
# the project. Everything else (star, delete, edit, undo, import, restore, open another project…)
# is refused until the job ends. An allow-list, so that a new action is safe until listed here.
_SAFE = {"keymap", "escape", "export", "fullscreen", "about", "guide", "guide_browser", "info", "refresh",
         "build_thumbs", "perf_overlay", "open", "play", "pause", "first", "last", "loop", "search",
         "close", "mute", "compare_add", "tournament", "cutpoints", "in", "out", "clear_in",
         "clear_out", "sync"}
_SAFE_PREFIXES = ("page:", "theme:", "font:", "card:", "move:", "frame:", "shuttle:", "step:",
                  "second:", "zoom:", "solo:", "mode:", "shot:", "take:", "view:")


def changes_project(action: str) -> bool:
    """True for an action that writes to the project (refused while a job does)."""
    return not (action in _SAFE or action.startswith(_SAFE_PREFIXES))


def _chord(action: str) -> str:
    for s in K.SHORTCUTS:
        if s.context == "global" and s.action == action:
            return s.chord
    return ""


def _item(app, label: str, action: str, **kw):
    return dpg.add_menu_item(label=label, shortcut=_chord(action), callback=lambda: app.action(action), **kw)


def build_menus(app) -> None:
    with dpg.menu_bar():
        with dpg.menu(label="File"):
            _item(app, "New Project…", "new_project")
            _item(app, "Open Project…", "open_project")
            app._recent_menu = dpg.add_menu(label="Recent")
            dpg.add_separator()
            _item(app, "Import CSV…", "import_csv")
            _item(app, "Export CSV", "export_csv")
            dpg.add_separator()
            _item(app, "Backup Database", "backup")
            _item(app, "Save", "save")
            _item(app, "Restore…", "restore")
            _item(app, "Archive…", "archive")
            _item(app, "Export Starred Takes…", "export_starred")
            dpg.add_separator()
            _item(app, "Export…", "export")
            _item(app, "Read an Edited Timeline…", "import_edit")
            dpg.add_separator()
            _item(app, "Close Project", "close_project")
            _item(app, "Quit", "quit")
        with dpg.menu(label="Edit"):
            app._undo_item = _item(app, "Undo", "undo", enabled=False)
            app._redo_item = _item(app, "Redo", "redo", enabled=False)
        with dpg.menu(label="Project"):
            _item(app, "Add Shot…", "add_shot")
            _item(app, "Build Missing Thumbnails", "build_thumbs")
            _item(app, "Refresh", "refresh")
            _item(app, "Open Project Folder", "open_folder")
            _item(app, "Project Info", "info")
        with dpg.menu(label="View"):
            for p in K.PAGES + K.EXTRA_PAGES:   # the extra pages after the eight have no Ctrl+digit
                _item(app, K.PAGE_TITLES[p], f"page:{p}")
            dpg.add_separator()
            _item(app, "Full Screen", "fullscreen")
            _item(app, "Bigger Cards", "card:+")
            _item(app, "Smaller Cards", "card:-")
            with dpg.menu(label="Theme"):
                _item(app, "Dark", "theme:dark")
                _item(app, "Light", "theme:light")
            with dpg.menu(label="Text Size"):
                _item(app, "Larger", "font:+")
                _item(app, "Smaller", "font:-")
                _item(app, "Reset", "font:1")
            dpg.add_separator()
            app._perf_item = dpg.add_menu_item(label="Show Performance Overlay", check=True,
                                               default_value=app.prefs.show_perf_overlay,
                                               callback=lambda s, a: app.set_perf_overlay(a))
        with dpg.menu(label="Help"):
            _item(app, "Keyboard Map", "keymap")
            _item(app, "User Guide", "guide")
            _item(app, "User Guide in the Browser", "guide_browser")
            _item(app, "About", "about")


def set_edit_labels(app, undo: str | None, redo: str | None) -> None:
    """Edit menu items say what Ctrl+Z / Ctrl+Shift+Z would do ("Undo Starred take 03 of …")."""
    for item, word, label in ((getattr(app, "_undo_item", None), "Undo", undo),
                              (getattr(app, "_redo_item", None), "Redo", redo)):
        if item is not None and dpg.does_item_exist(item):
            text = f"{word} {label}" if label else f"{word} (nothing to {word.lower()})"
            dpg.configure_item(item, label=_clip(text, 70), enabled=bool(label))


def edit_labels(app) -> tuple[str, str]:
    """The Edit menu's two labels as shown (tests read them)."""
    return dpg.get_item_label(app._undo_item), dpg.get_item_label(app._redo_item)


def sync_view_checks(app) -> None:
    item = getattr(app, "_perf_item", None)
    if item is not None and dpg.does_item_exist(item):
        dpg.set_value(item, app.prefs.show_perf_overlay)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def fill_recent_menu(app) -> None:
    menu = getattr(app, "_recent_menu", None)
    if menu is None:
        return
    dpg.delete_item(menu, children_only=True)
    if not app.prefs.recent:
        dpg.add_menu_item(label="(none)", parent=menu, enabled=False)
    for r in app.prefs.recent:
        dpg.add_menu_item(label=r, parent=menu, user_data=r,
                          callback=lambda s, a, u: app.open_project(Path(u)))


def build_keymap_window(app):
    vw = dpg.get_viewport_client_width() or 1280
    vh = dpg.get_viewport_client_height() or 800
    w, h = min(900, vw - 40), min(700, vh - 60)
    win = dpg.add_window(label="Keyboard map (F1 or Esc to close)", width=w, height=h,
                         pos=((vw - w) // 2, 40), no_collapse=True,
                         on_close=lambda s: (dpg.delete_item(s), setattr(app, "_keymap_win", None)))
    for ctx, items in K.by_context().items():
        dpg.add_text(K.CONTEXT_TITLES[ctx], parent=win, color=(120, 180, 255))
        with dpg.table(parent=win, header_row=False, borders_innerH=True, policy=dpg.mvTable_SizingStretchProp):
            dpg.add_table_column(init_width_or_weight=0.25)
            dpg.add_table_column(init_width_or_weight=0.75)
            for s in items:
                with dpg.table_row():
                    dpg.add_text(s.chord)
                    dpg.add_text(s.text)
        dpg.add_spacer(parent=win, height=6)
    return win


# -- actions ---------------------------------------------------------------------------------------

def do_action(app, action: str) -> None:
    if action.startswith("page:"):
        app.show_page(action[5:])
    elif action == "keymap":
        app.toggle_keymap()
    elif action == "escape":
        if app._keymap_win is not None and dpg.does_item_exist(app._keymap_win):
            app.toggle_keymap()
        elif not app.dialogs.close_top():
            w = app.focused_window()
            if w is not None:
                w.close()
    elif action == "fullscreen":
        dpg.toggle_viewport_fullscreen()
    elif action == "quit":
        app.quit()
    elif action == "new_project":
        new_project_dialog(app)
    elif action == "open_project":
        app.dialogs.pick_folder("Open an AIMMS project folder", lambda p: app.open_project(p),
                                start=_start_dir(app))
    elif action == "close_project":
        app.close_project()
    elif action.startswith("theme:"):
        app.set_theme(action[6:])
    elif action.startswith("font:"):
        v = action[5:]
        scale = 1.0 if v == "1" else app.prefs.font_scale + (0.1 if v == "+" else -0.1)
        app.set_font_scale(round(scale, 2))
    elif action.startswith("card:"):
        app.set_card_width(app.prefs.card_width + (40 if action.endswith("+") else -40))
    elif action == "about":
        from aimms_fast import __version__
        app.dialogs.message("About aimms_fast", f"aimms_fast {__version__}\nA fast storyboard manager for AIMMS 1.0 "
                                               "projects (Dear PyGui, PyAV, SQLite).")
    elif action == "guide":
        guide = _guide_path()
        if not guide.exists():
            app.dialogs.message("User guide", f"The user guide is not installed ({guide} is missing).")
            return
        app.dialogs.markdown("User guide", guide.read_text(encoding="utf-8"),
                             on_browser=lambda: app.open_file(guide))
    elif action == "guide_browser":
        app.open_file(_guide_path())
    elif action == "perf_overlay":
        app.set_perf_overlay(not app.prefs.show_perf_overlay)
    elif action in ("undo", "redo"):
        app.undo(redo=action == "redo")
    elif app.project is None:
        app.toast("open a project first")
    else:
        _project_action(app, action)


def _guide_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"


def _start_dir(app) -> Path:
    if app.project is not None:
        return app.project.root.parent
    if app.prefs.recent:
        return Path(app.prefs.recent[0]).parent
    return Path.home()


def _project_action(app, action: str) -> None:
    p = app.project
    if action == "refresh":
        if app.services is not None and app.services.tiles is not None:
            try:
                app.services.tiles.refresh()
            except Exception:
                log.exception("F5: re-reading the thumbnail index failed; the pages reload anyway "
                              "and the workers rebuild what is missing")
            app.services.forget_states()
        app.textures.clear()
        page = app.current_page
        if page is not None:
            page.refresh()
        for w in app.windows:
            if w.alive:
                w.on_data_changed("all")
        app.toast("reloaded")
    elif action == "open_folder":
        app.opener(p.root)
    elif action == "info":
        from aimms_fast.store.stats import project_counts
        c = project_counts(p.conn)
        text = (f"{p.name}\n{p.root}\n\n{c.shots:,} shots in {c.sections:,} sections\n"
                f"{c.image_takes:,} image takes, {c.video_takes:,} video takes "
                f"({c.placeholders:,} placeholders, {c.starred_videos:,} starred videos)\n"
                f"{c.assets:,} assets" + (f"\n\nREAD-ONLY: {p.readonly_reason}" if p.readonly else ""))
        app.dialogs.message("Project info", text, height=250)
    elif action == "build_thumbs":
        if app.services is not None and app.services.tiles is not None:
            app.services.begin_sweep()
            app.toast("building every missing thumbnail in the background (progress: status bar)")
        else:
            app.toast(app.services.problem if app.services and app.services.problem else "no thumbnail cache")
    elif action == "export_csv":
        from aimms_fast.ops.csv_io import export_csv
        out = app.run_op(lambda: export_csv(p), title="Export failed", mutating=False)
        if out:
            app.dialogs.message("CSV exported", "\n".join(f"{o['table']}: {o['rows']} rows -> {o['path']}"
                                                          for o in out), height=220)
    elif action == "import_csv":
        app.dialogs.pick_files("Import shots from CSV", [".csv", ".txt", ".tsv"],
                               lambda files: import_csv_flow(app, files[0]), multiple=False,
                               start=p.layout.csv)
    elif action == "backup":
        from aimms_fast.ops.backup import backup_database
        app.run_job(lambda progress, cancel, jp: backup_database(jp, progress=progress, cancel=cancel),
                    title="Backup", label="Copying data/shots.db with SQLite's online backup…",
                    on_done=lambda out: app.toast(f"database backed up to {out}"))
    elif action == "save":
        from aimms_fast.ops.backup import save_project
        app.run_job(lambda progress, cancel, jp: save_project(jp, progress=progress, cancel=cancel),
                    title="Save", label="Writing the .aimms file of every shot, take and asset…",
                    on_done=lambda out: app.toast(f"saved {out}"))
    elif action == "restore":
        app.dialogs.pick_files("Restore from a .aimms save", [".aimms"], lambda f: _restore(app, f[0]),
                               multiple=False, start=p.layout.saves)
    elif action == "archive":
        app.dialogs.pick_folder("Archive the project (zip) into…", lambda d: _archive(app, d),
                                start=p.root.resolve().parent)
    elif action == "export_starred":
        app.dialogs.pick_folder("Export starred takes into…", lambda d: _export_starred(app, d),
                                start=p.root.resolve().parent)
    elif action == "export":
        from aimms_fast.ui.export_dialog import open_export_dialog
        open_export_dialog(app)
    elif action == "import_edit":
        from aimms_fast.ui.edit_import import pick_edit
        pick_edit(app)
    elif action == "add_shot":
        from aimms_fast.ui.shots import edit_dialog
        edit_dialog(app, [])
    else:
        page = app.current_page
        if page is None or not page.on_action(action):
            app.toast(f"unknown action {action}")


def import_csv_flow(app, path: Path) -> None:
    """Check the whole file first and show the report; import only on confirmation. Another
    tool's shot list (not AIMMS's columns, or text around the table) opens the mapping dialog."""
    from aimms_fast.ops.csv_io import import_csv
    from aimms_fast.ui.csv_map_dialog import maybe_map
    if maybe_map(app, path):
        return
    p = app.project
    report = app.run_op(lambda: import_csv(p, path, dry_run=True), title="Import failed", mutating=False)
    if report is None:
        return
    text = _report_text(report)

    def go(valid_only: bool = False, n: int = report.rows):
        app.run_job(lambda progress, cancel, jp: import_csv(jp, path, progress=progress, cancel=cancel,
                                                            valid_only=valid_only),
                    title="Import CSV", label=f"Importing {n} shots from {path.name}…", changed=("all",),
                    on_done=lambda done: app.dialogs.report(f"Imported {done.imported} shots",
                                                            _report_text(done)))
    if not report.ok:
        # AIMMS users can import just the good rows: offered as an explicit second step (still
        # one transaction) when the problems are all in rows, not in the file as a whole.
        valid = app.run_op(lambda: import_csv(p, path, dry_run=True, valid_only=True),
                           title="Import failed", mutating=False)
        n = valid.rows - len(valid.skipped_lines) if valid is not None and valid.ok else 0
        button = f"Import the {n} valid row{'s' * (n != 1)}"
        actions = [(button, lambda: go(True, n))] if n > 0 else []
        app.dialogs.report(f"CSV has problems: nothing imported ({len(report.errors)} errors)",
                           text + (f"\n\n{n} of {report.rows} rows are valid: '{button}' imports only "
                                   "those (the rows with problems are listed above)." if n else ""),
                           actions=actions)
        return
    app.dialogs.confirm("Import CSV", f"{path.name}: {report.rows} rows are valid"
                        + (f" ({len(report.warnings)} warnings)" if report.warnings else "")
                        + ". Import them as new shots?", lambda: go(), yes="Import", danger=False)


def _report_text(report) -> str:
    lines = [f"file: {report.path}", f"encoding: {report.encoding}  delimiter: {report.delimiter!r}",
             f"rows: {report.rows}  imported: {report.imported}  updated: {report.updated}",
             f"columns: {', '.join(report.columns)}", ""]
    if report.errors:
        lines.append(f"ERRORS ({len(report.errors)}):")
        lines += [f"  {i}" for i in report.errors]
    if report.warnings:
        lines.append(f"WARNINGS ({len(report.warnings)}):")
        lines += [f"  {i}" for i in report.warnings]
    if not report.errors and not report.warnings:
        lines.append("no problems found")
    return "\n".join(lines)


def _restore(app, save: Path) -> None:
    from aimms_fast.ops.backup import restore_project

    def done(r):
        import orjson
        app.dialogs.report("Project restored", orjson.dumps(r, option=orjson.OPT_INDENT_2,
                                                            default=str).decode())

    def go():
        app.run_job(lambda progress, cancel, jp: restore_project(jp, save, progress=progress, cancel=cancel),
                    title="Restore",
                    label=f"Rebuilding shots and takes from {save.name}…", changed=("all",), on_done=done)
    app.dialogs.confirm("Restore", f"Replace all shots and takes with the save {save.name}? "
                        "The current database is backed up first; no media file is touched.", go, yes="Restore")


def _archive(app, dest: Path) -> None:
    from aimms_fast.ops.backup import archive_project
    app.run_job(lambda progress, cancel, jp: archive_project(jp, dest, progress=progress, cancel=cancel),
                title="Archive",
                label=f"Zipping the project into {dest}…",
                on_done=lambda r: app.dialogs.message("Archive written", "\n".join(
                    f"{k}: {v}" for k, v in r.items()), height=240))


def _export_starred(app, dest: Path) -> None:
    from aimms_fast.ops.backup import export_starred
    app.run_job(lambda progress, cancel, jp: export_starred(jp, dest, progress=progress, cancel=cancel),
                title="Export starred takes", label=f"Copying starred takes into {dest}…",
                on_done=lambda r: app.dialogs.message("Starred takes exported", "\n".join(
                    f"{k}: {v}" for k, v in r.items() if not isinstance(v, list)), height=240))


def new_project_dialog(app) -> None:
    from aimms_fast.project import Project
    d = app.dialogs
    win = d._window("New project", 620, 230)
    start = _start_dir(app) / "New Project"
    path_in = dpg.add_input_text(parent=win, label="Folder", default_value=str(start), width=420)
    name_in = dpg.add_input_text(parent=win, label="Name", hint="default: the folder name", width=420)
    author_in = dpg.add_input_text(parent=win, label="Author", width=420)
    for t in (path_in, name_in, author_in):
        app.register_text_input(t)
    dpg.add_button(parent=win, label="Browse…", callback=lambda: d.pick_folder(
        "Parent folder", lambda f: dpg.set_value(path_in, str(f / Path(dpg.get_value(path_in)).name))))

    def create():
        path = Path(dpg.get_value(path_in)).expanduser()
        try:
            p = Project.create(path, name=dpg.get_value(name_in) or None, author=dpg.get_value(author_in) or None)
        except AimmsError as e:
            app.show_error("Could not create the project", e)
            return
        p.close()
        d.close(win)
        app.open_project(path)
    with dpg.group(parent=win, horizontal=True):
        dpg.add_button(label="Create", width=120, callback=create)
        dpg.add_button(label="Cancel", width=120, callback=lambda: d.close(win))
