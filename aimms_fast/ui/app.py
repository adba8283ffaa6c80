"""The viewer's shell: window, menus, pages, keyboard, project open/close and the frame loop.

Loop discipline (see ../shared/DESIGN.md, Dear PyGui):
- manual callback management: callbacks run here, between frames, on this thread only;
- workers (thumbnail processes) never call Dear PyGui: their events are drained once per frame
  within a time budget, and textures are built within another;
- the window paints first (a frame is rendered before the project is opened);
- no callback can end the app: every callback Dear PyGui queues, every key, deferred call and page
  or window tick runs under `guard`, which logs the traceback (the project's log in logs/, or
  stderr without a project), shows the error and lets the next frame render;
- a long job runs on its own thread and its own project connection (ui/background.py Job); while
  a job that changes the project runs, every other change is refused with a message;
- when nothing is pending and nobody touches mouse or keyboard, the loop blocks in GLFW's
  glfwWaitEventsTimeout (Dear PyGui's bundled GLFW, called through ctypes) and renders ~2 frames/s;
  the first input event wakes it at once and it runs at up to 60 frames/s again. Measured: an idle
  1600x960 frame costs ~50 ms of CPU with software GL, so 12 idle frames/s would burn 60% of a core.
"""
from __future__ import annotations

import inspect
import logging
import statistics
import sys
import time
import traceback
from collections import deque
from pathlib import Path
from typing import Callable

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError
from aimms_fast.ui import keys as K
from aimms_fast.ui import theme as T
from aimms_fast.ui.dialogs import Dialogs
from aimms_fast.ui.prefs import Prefs

ACTIVE_FRAME_S = 1 / 60
IDLE_FRAME_S = 0.5             # longest wait for input while idle (then one frame is drawn anyway)
IDLE_AFTER_S = 0.75
FRAME_DUE_SLACK_S = 0.001      # wake just after a video frame is due, so the tick sees the new index
FRAME_POLL_S = 0.003           # a due frame still decoding: look again this soon
DRAIN_BUDGET_S = 0.002
BUILD_BUDGET_S = 0.0015        # thumbnails for rows about to scroll in
URGENT_BUILD_BUDGET_S = 0.008  # cards on screen without their picture
SWEEP_DELAY_S = 1.5            # after opening: the first screen's thumbnails are asked for first
UI_SWITCH_INTERVAL_S = 0.001  # sys.setswitchinterval while the viewer runs (see start)
WARMUP_IDLE_S = 1.0            # the review warm-up's GL steps wait this long after the last held frame
STATUS_H = 26

log = logging.getLogger(__name__)


class _ProjectLogBridge(logging.Handler):
    """Records of the `aimms_fast` loggers go to the open project's log file (logs/), or to stderr
    while no project is open: what the UI swallows is always written down somewhere."""

    def __init__(self, app: "App"):
        super().__init__(logging.INFO)
        self.app = app
        self._stderr = logging.StreamHandler(sys.stderr)
        self._stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        p = self.app.project
        if p is not None:
            p.log.handle(record)
        if p is None or record.levelno >= logging.ERROR:
            self._stderr.handle(record)


def _event_waiter() -> Callable[[float], None] | None:
    """glfwWaitEventsTimeout from the GLFW inside Dear PyGui's extension (its symbols are exported;
    dlopen of the already-loaded library gives the same GLFW state). None where unavailable."""
    import ctypes
    try:
        from dearpygui import _dearpygui
        lib = ctypes.CDLL(_dearpygui.__file__)
        fn = lib.glfwWaitEventsTimeout
    except (OSError, AttributeError, ImportError):
        return None
    fn.argtypes = [ctypes.c_double]
    fn.restype = None
    return fn


def _heading_fonts() -> dict[int, int]:
    """Larger sizes of the UI font for headings (Help > User guide), level -> font. Made at start:
    fonts join Dear PyGui's atlas before the first frame."""
    path = T.find_font()
    if path is None:
        return {}
    out = {}
    with dpg.font_registry():
        for level, scale in ((1, 1.6), (2, 1.3), (3, 1.12)):
            out[level] = dpg.add_font(str(path), round(T.BASE_FONT_PX * scale))
    return out


def _key_names() -> dict[int, str]:
    names = {}
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
        names[getattr(dpg, f"mvKey_{c}")] = c
    for i in range(1, 13):
        names[getattr(dpg, f"mvKey_F{i}")] = f"F{i}"
    for attr, name in [("Up", "Up"), ("Down", "Down"), ("Left", "Left"), ("Right", "Right"),
                       ("Prior", "PgUp"), ("Next", "PgDn"), ("Home", "Home"), ("End", "End"),
                       ("Return", "Enter"), ("NumPadEnter", "Enter"), ("Escape", "Escape"),
                       ("Delete", "Delete"), ("Comma", ","), ("Period", "."), ("Plus", "+"),
                       ("Spacebar", "Space"), ("Space", "Space"), ("Tab", "Tab"),
                       ("Add", "+"), ("Minus", "-"), ("Subtract", "-")]:
        code = getattr(dpg, f"mvKey_{attr}", None)
        if code is not None:
            names[code] = name
    for i in range(10):
        names.setdefault(getattr(dpg, f"mvKey_NumPad{i}"), str(i))
    return names


class App:
    """One viewer window. `start()`, then `run()` (interactive) or `iterate()` (tests, tour, bench)."""

    def __init__(self, *, prefs: Prefs | None = None, width: int = 1600, height: int = 960,
                 vsync: bool = True, title: str = "aimms", persist_prefs: bool = True):
        self.t0 = time.perf_counter()
        self.persist_prefs = persist_prefs   # the tour and benchmarks must not change the user's settings
        self.prefs = prefs or Prefs.load()
        self.prefs.clamp()
        self.width, self.height, self.vsync, self.title = width, height, vsync, title
        self.project = None
        self.services = None
        self.section_filter: str | None = None
        self.pages: dict = {}
        self.tabs: dict[str, int] = {}
        self.shot_windows: dict[int, object] = {}
        self.windows: list = []              # floating windows (ui/floating.py), oldest first
        self.first_frame_s: float | None = None
        self.first_frame_at: float | None = None   # perf_counter() when the first frame was drawn
        self.last_python_s = 0.0
        self.last_python_cpu_s = 0.0
        self.last_frame_s = 0.0
        self.frames = 0
        self._text_inputs: set = set()
        self._activity = time.monotonic()
        self._quit = False
        self._started = False
        self._current = None
        self._deferred: list[Callable[[], None]] = []
        self._jobs: list = []                # ui/background.py Job, oldest first
        self._sweep_at: float | None = None
        self._sweep_hold = 0.0               # monotonic time before which the sweep neither starts nor queues
        self._warmup = None                  # ui/review_warmup.py, from a project's open until done
        self._queued: list | None = None     # callbacks queued by the last render, run next frame
        self._status_at = 0.0
        self._toast_until = 0.0
        self._note = ""                      # quiet status line ("Nothing to undo"), until _note_until
        self._note_until = 0.0
        self.counts = None                   # store/stats.py ProjectCounts for the status bar
        self._log_bridge = _ProjectLogBridge(self)
        self._sigs: dict = {}                # callback -> number of arguments it takes
        self._error_dialogs: dict = {}       # (title, where, type, text) -> its open dialog
        self._keymap_win = None
        self._key_names: dict[int, str] = {}
        self.opener: Callable[[Path], None] = self.open_folder
        self.wait_events: Callable[[float], None] | None = None
        self.idle = False
        self._frame_times: deque[float] = deque(maxlen=60)
        self._capturing = False
        self.errors: list[str] = []          # messages shown to the user (tests read them)

    # -- start-up --------------------------------------------------------------------------------
    def start(self, project_path: Path | None = None, *, welcome_if_none: bool = True,
              readonly: bool = False) -> "App":
        pkg = logging.getLogger("aimms_fast")
        if self._log_bridge not in pkg.handlers:
            pkg.addHandler(self._log_bridge)
            pkg.setLevel(logging.WARNING)
        # The UI thread waits at most ~1 ms (default 5 ms) for the GIL that a decode, loader or
        # warm-up thread holds between its C calls: frame steps and first screens land sooner.
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
        dpg.create_context()
        dpg.configure_app(manual_callback_management=True)
        self._key_names = _key_names()
        self.font = T.load_font()
        if self.font is not None:
            dpg.bind_font(self.font)
        self.heading_fonts = _heading_fonts()
        dpg.set_global_font_scale(self.prefs.font_scale)
        self.themes = T.build_themes()
        dpg.bind_theme(self.themes[self.prefs.theme])
        self.dialogs = Dialogs(self)
        self._build_window()
        with dpg.handler_registry():
            dpg.add_key_press_handler(callback=self._on_key)
            dpg.add_mouse_move_handler(callback=self._on_input)
            dpg.add_mouse_wheel_handler(callback=self._on_input)
            dpg.add_mouse_click_handler(callback=self._on_input)
        dpg.create_viewport(title=self.title, width=self.width, height=self.height, vsync=self.vsync,
                            min_width=640, min_height=400)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window("main", True)
        T.paint_background(self)     # theme colour as the viewport clear: no full-window quad over it
        self.wait_events = _event_waiter()
        # Paint first: the window with its "opening…" line is on screen before any project work.
        if project_path is not None:
            dpg.set_value(self._welcome_status, f"Opening {project_path} …")
        dpg.render_dearpygui_frame()
        self.first_frame_at = time.perf_counter()
        self.first_frame_s = self.first_frame_at - self.t0
        # After the first frame: importing aimms_fast.project (sqlite_utils, numpy) was ~0.2 s.
        from aimms_fast.project.logs import start_app_log   # the Logs page's "App log" (issue 9)
        from aimms_fast.ui.prefs import app_log_file
        start_app_log(app_log_file())
        # The texture bank (and numpy with it, ~40 ms warm, ~25 MB from a cold disk) after the first
        # frame: nothing drawn before it needs a texture.
        from aimms_fast.ui.textures import TextureBank
        self.textures = TextureBank(self.prefs.texture_budget_mb << 20)
        self._build_pages()
        self._started = True
        if project_path is not None:
            self._deferred.append(lambda: self.open_project(project_path, readonly=readonly))
        elif welcome_if_none and self.prefs.last_project is not None:
            last = self.prefs.last_project
            dpg.set_value(self._welcome_status, f"Opening {last} …")
            self._deferred.append(lambda: self.open_project(last))
        return self

    def _build_window(self) -> None:
        from aimms_fast.ui.menus import build_menus
        with dpg.window(tag="main", no_scrollbar=True):
            build_menus(self)
            self._banner = dpg.add_child_window(height=30, border=False, show=False, no_scrollbar=True)
            dpg.bind_item_theme(self._banner, self.themes["banner"])
            self._banner_text = dpg.add_text("", parent=self._banner, pos=(10, 6))
            self._welcome = dpg.add_group()
            self._build_welcome()
            self._tabbar = dpg.add_tab_bar(show=False, callback=self._on_tab)   # pages: _build_pages
            with dpg.group(horizontal=True):
                self._status = dpg.add_text("")
                # Thumbnail building: done / (done + queued) since the queue was last empty.
                self._thumb_bar = dpg.add_progress_bar(width=220, show=False)
                self._toast = dpg.add_text("", color=(255, 200, 90))
                self._perf = dpg.add_text("", color=(150, 155, 165), show=False)
        self._thumb_peak = 0

    def _build_pages(self) -> None:
        """The pages' tabs, after the first frame: importing and building twelve pages is ~0.17 s
        of CPU, and the tab bar is hidden until a project is open anyway."""
        from aimms_fast.ui.pages import make_pages
        dpg.push_container_stack("main")      # as if inside the main window's `with` block
        try:
            for page in make_pages(self):
                self.pages[page.name] = page
                tab = dpg.add_tab(label=page.title, parent=self._tabbar)
                self.tabs[page.name] = tab
                body = dpg.add_child_window(parent=tab, border=False, height=-STATUS_H, no_scrollbar=True)
                page.build(body)
        finally:
            dpg.pop_container_stack()

    def _build_welcome(self) -> None:
        p = self._welcome
        dpg.add_spacer(parent=p, height=30)
        dpg.add_text("aimms_fast", parent=p)
        dpg.add_text("Storyboards for AI filmmakers (AIMMS 1.0 projects).", parent=p, color=(160, 165, 175))
        dpg.add_spacer(parent=p, height=10)
        with dpg.group(parent=p, horizontal=True):
            dpg.add_button(label="New project…", width=160, callback=lambda: self.action("new_project"))
            dpg.add_button(label="Open project…", width=160, callback=lambda: self.action("open_project"))
        dpg.add_spacer(parent=p, height=10)
        self._welcome_status = dpg.add_text("", parent=p, color=(255, 200, 90))
        dpg.add_text("Recent projects", parent=p)
        self._recent_group = dpg.add_group(parent=p)
        self._fill_recent()

    def _fill_recent(self) -> None:
        dpg.delete_item(self._recent_group, children_only=True)
        if not self.prefs.recent:
            dpg.add_text("(none yet)", parent=self._recent_group, color=(150, 150, 150))
        for r in self.prefs.recent:
            ok = (Path(r) / "data" / "shots.db").exists()
            dpg.add_button(label=r + ("" if ok else "  (missing)"), parent=self._recent_group, enabled=ok,
                           callback=lambda s, a, u: self.open_project(Path(u)), user_data=r)
        from aimms_fast.ui.menus import fill_recent_menu
        fill_recent_menu(self)

    # -- project lifecycle ------------------------------------------------------------------------
    def open_project(self, path: Path, *, readonly: bool = False) -> bool:
        from aimms_fast.project import Project
        from aimms_fast.ui.services import MediaServices
        path = Path(path).expanduser()
        if self.refuse_while_busy("opening another project"):
            return False
        try:
            project = Project.open(path, readonly=readonly)
        except Exception as e:  # a damaged database must not take the viewer down
            self.show_error("Could not open the project", e)
            self._show_welcome(True)
            return False
        self.close_project()
        self.project = project
        from aimms_fast.cache.atlas import parse_scrub_size
        self.services = MediaServices(project, workers=self.prefs.workers or None,   # Settings: 0 = auto
                                      strip_size=parse_scrub_size(self.prefs.scrub_size))
        # The whole-project sweep starts once the first screen has had its thumbnails asked for.
        self._sweep_at = time.monotonic() + SWEEP_DELAY_S
        from aimms_fast.ui.review_warmup import ReviewWarmup
        self._warmup = ReviewWarmup()        # the first player then opens as fast as the next ones
        self.textures.attach(self.services.tiles, self.services.states)
        self.section_filter = None
        self.prefs.add_recent(project.root)
        self.save_prefs()
        dpg.set_viewport_title(f"{project.name} — aimms" + (" (read-only)" if project.readonly else ""))
        if project.readonly:
            dpg.set_value(self._banner_text, f"READ-ONLY: {project.readonly_reason}. "
                                             "Viewing works; changes are switched off.")
        dpg.configure_item(self._banner, show=bool(project.readonly))
        for page in self.pages.values():
            try:
                page.on_project(project)
            except Exception as e:
                self.show_error(f"The {page.title} page could not load", e)
        self._show_welcome(False)
        if self._current is None:
            self.show_page("images")
        self._fill_recent()
        self.refresh_counts()
        self.refresh_edit_menu()
        if self.services.problem:
            self.toast(self.services.problem)
        return True

    def hold_sweep(self, seconds: float = 0.5) -> None:
        """Neither start the background sweep nor queue more of it for `seconds` from now: a
        page's first screen is still loading, or the user is scrolling (a 500-take slice is
        ~1-1.5 ms of UI-thread time at 21K-100K takes). storyboard.py calls it each such frame."""
        self._sweep_hold = max(self._sweep_hold, time.monotonic() + seconds)

    def close_project(self) -> None:
        for w in list(self.windows):
            w.close()
        self.windows.clear()
        self.shot_windows.clear()
        if self.services is not None:
            self.services.close()
            self.services = None
        if self.project is not None:
            for page in self.pages.values():
                try:
                    page.on_project(None)
                except Exception:   # the project closes anyway; the page is rebuilt on the next open
                    log.exception("the %s page failed to let go of the project", page.title)
            self.project.close()
            self.project = None
        self.counts = None
        self.refresh_edit_menu()
        self.textures.attach(None)
        dpg.configure_item(self._banner, show=False)
        self._show_welcome(True)

    def _show_welcome(self, on: bool) -> None:
        dpg.configure_item(self._welcome, show=on)
        dpg.configure_item(self._tabbar, show=not on)
        if on:
            dpg.set_value(self._welcome_status, "")
            if self._current is not None:
                self._current.visible = False
                self._current.on_hide()
            self._current = None

    def save_prefs(self) -> None:
        if self.persist_prefs:
            self.prefs.save()

    @property
    def readonly(self) -> bool:
        return bool(self.project is not None and self.project.readonly)

    # -- pages ------------------------------------------------------------------------------------
    def show_page(self, name: str) -> None:
        if self.project is None or name not in self.pages:
            return
        dpg.set_value(self._tabbar, self.tabs[name])
        self._switch_to(self.pages[name])

    def _on_tab(self, sender, tab) -> None:
        for name, t in self.tabs.items():
            if t == tab:
                self._switch_to(self.pages[name])

    def _switch_to(self, page) -> None:
        if page is self._current:
            return
        if self._current is not None:
            self._current.visible = False
            self._current.on_hide()
        self._current = page
        page.visible = True
        page.on_show()

    @property
    def current_page(self):
        return self._current

    def set_section_filter(self, section: str | None) -> None:
        self.section_filter = section
        for page in self.pages.values():
            if hasattr(page, "apply_filter"):
                page.apply_filter()

    def set_card_width(self, w: int) -> None:
        self.prefs.card_width = int(w)
        self.prefs.clamp()
        self.save_prefs()
        for page in self.pages.values():
            if hasattr(page, "set_card_width"):
                page.set_card_width(self.prefs.card_width)
        for w in self.windows:
            if w.alive:
                w.relayout()

    def set_theme(self, name: str) -> None:
        self.prefs.theme = name
        self.prefs.clamp()
        self.save_prefs()
        dpg.bind_theme(self.themes[self.prefs.theme])
        self._paint_background()
        for page in self.pages.values():
            if hasattr(page, "apply_theme"):
                page.apply_theme()
        for w in self.windows:
            if w.alive:
                w.relayout()

    def _paint_background(self) -> None:
        """The main window's background is the viewport's clear colour, not a filled window:
        llvmpipe blends every pixel a window fills (~7 ns each), so the full-size main window's
        background cost ~10 ms of CPU in every frame at 1600x960 (0.9 ms without it). Dear PyGui
        ignores no_background for the primary window unless it is set after set_primary_window."""
        T.paint_background(self)

    def set_font_scale(self, scale: float) -> None:
        self.prefs.font_scale = scale
        self.prefs.clamp()
        self.save_prefs()
        dpg.set_global_font_scale(self.prefs.font_scale)
        for page in self.pages.values():
            if hasattr(page, "apply_theme"):
                page.apply_theme()
        for w in self.windows:
            if w.alive:
                w.relayout()

    def set_file_manager(self, command: str) -> None:
        """Settings > File manager: the program "Open folder" falls back to (ui/desktop.py)."""
        self.prefs.file_manager = command
        self.prefs.clamp()
        self.save_prefs()
        self.toast(f"file manager: {self.prefs.file_manager}" if self.prefs.file_manager
                   else "file manager cleared: xdg-open and gio only")

    def set_texture_budget(self, mb: int) -> None:
        self.prefs.texture_budget_mb = int(mb)
        self.prefs.clamp()
        self.save_prefs()
        self.textures.set_budget(self.prefs.texture_budget_mb << 20)

    # -- shot windows ---------------------------------------------------------------------------
    def open_shot(self, shot_id: int, storyboard: str = "image"):
        from aimms_fast.ui.shot_window import ShotWindow
        if self.project is None:
            return None
        w = self.shot_windows.get(shot_id)
        if w is not None and w.alive:
            w.set_storyboard(storyboard)
            w.focus()
            return w
        try:
            w = ShotWindow(self, shot_id, storyboard)
        except AimmsError as e:
            self.show_error("Could not open the shot", e)
            return None
        self.shot_windows[shot_id] = w
        self.add_window(w)
        return w

    # -- changes -----------------------------------------------------------------------------------
    def run_op(self, fn: Callable, *, changed: tuple | None = None, done: str | None = None,
               title: str = "That did not work", mutating: bool = True):
        """Run a use case from ops/ on the UI thread and connection, show its error if it fails,
        tell the pages what changed. A change is refused (None, with a message) while a job that
        changes the project runs. A result with a `label` (ops' StarResult and friends) or a new
        entry on the undo stack is announced in a toast with the Ctrl+Z hint. UI thread only."""
        if mutating and self.refuse_while_busy():
            return None
        before = self._peek("undo") if mutating else None
        try:
            result = fn()
        except Exception as e:
            self.show_error(title, e)
            return None
        if changed:
            self.notify(*changed)
        if mutating:
            after = self._peek("undo")
            label = getattr(result, "label", None) or (after if after != before else None)
            self.refresh_edit_menu()
            if label or done:
                self.toast(f"{done or label} · Ctrl+Z to undo" if after != before or label else done)
        elif done:
            self.toast(done)
        return result

    def run_job(self, fn: Callable, *, title: str, label: str, on_done: Callable | None = None,
                changed: tuple | None = None, mutating: bool = True, cancellable: bool = True):
        """Run a long use case (backup, restore, CSV import, archive, export) off the UI thread
        behind a modal progress dialog. `fn(progress, cancel, project)` gets `progress(done,
        total)`, a threading.Event `cancel` and the job's own Project (`project.for_job()`: its
        own sqlite connection, never the UI's); it must not call Dear PyGui. The dialog closes
        only when the job ends; its Cancel button sets `cancel` (the use case raises Cancelled and
        rolls back; the UI then says nothing changed). While a `mutating` job runs every other
        change is refused. The result goes to `on_done` on the UI thread; an error is shown.
        Returns the ui.background.Job, or None when refused. UI thread only."""
        from aimms_fast.ui.background import Job
        if self.project is None:
            self.toast("open a project first")
            return None
        if self.refuse_while_busy():
            return None
        job = Job(fn, self.project, title=title, label=label, mutating=mutating, on_done=on_done,
                  changed=changed)
        job.win, job.bar, job.text, job.cancel_button = self.dialogs.progress(
            title, label, on_cancel=(lambda: self.cancel_job(job)) if cancellable else None)
        self._jobs.append(job)
        return job

    def cancel_job(self, job) -> None:
        """The progress dialog's Cancel button: ask the job to stop at its next batch."""
        if job.done or job.cancel.is_set():
            return
        job.cancel.set()
        if dpg.does_item_exist(job.text):
            dpg.set_value(job.text, f"Cancelling {job.title.lower()}: rolling back, nothing will change…")
        if job.cancel_button is not None and dpg.does_item_exist(job.cancel_button):
            dpg.configure_item(job.cancel_button, enabled=False, label="Cancelling…")

    @property
    def jobs_running(self) -> int:
        return len(self._jobs)

    @property
    def busy_job(self):
        """The running job that changes the project (others must wait for it), else None."""
        return next((j for j in self._jobs if j.mutating), None)

    def refuse_while_busy(self, what: str = "") -> bool:
        """True (and a message) when a job that changes the project is running. UI thread."""
        job = self.busy_job
        if job is None:
            return False
        self.status_note(f"{job.title} is running: {what or 'changes'} must wait until it ends "
                         "(or press Cancel in its window)", seconds=5)
        return True

    def _poll_jobs(self) -> None:
        for job in list(self._jobs):
            done, total = job.done_n, job.total
            if dpg.does_item_exist(job.bar):
                if total:
                    dpg.set_value(job.bar, min(1.0, done / total))
                    dpg.configure_item(job.bar, overlay=f"{done:,} / {total:,}")
                else:   # a job that cannot count its work: keep the bar moving
                    dpg.set_value(job.bar, (self.frames % 90) / 90)
                    dpg.configure_item(job.bar, overlay="working…")
            if not job.done:
                continue
            self._jobs.remove(job)
            self.dialogs.close(job.win)
            err = job.work.error
            if job.cancelled:
                self.toast(f"{job.title} cancelled, nothing changed", seconds=8)
                continue
            if err is not None:
                self.show_error(f"{job.title} failed", err)
                self.refresh_edit_menu()
                continue
            if job.changed:
                self.notify(*job.changed)
            else:
                self.refresh_edit_menu()
            if job.on_done is not None:
                self.guard(f"{job.title}: showing the result", job.on_done, job.work.result)

    def notify(self, what: str, shot_ids=None) -> None:
        """Tell every page and window that shots or takes changed ('shots' | 'takes' | 'all')."""
        for page in self.pages.values():
            try:
                page.on_data_changed(what, shot_ids)
            except Exception as e:
                self.show_error(f"The {page.title} page could not reload", e)
        for w in list(self.windows):
            if not w.alive:
                continue
            try:
                w.on_data_changed(what, shot_ids)
            except Exception as e:
                self.show_error("A window could not reload", e)
        self.refresh_counts()
        self.refresh_edit_menu()

    def undo(self, redo: bool = False):
        """Ctrl+Z / Ctrl+Shift+Z and the Edit menu: one step of ops/history.py on the UI connection
        (refused while a job runs). Nothing to undo is a quiet status line, not a dialog. Returns
        the HistoryEntry, or None. UI thread only."""
        from aimms_fast.ops import history
        word = "redo" if redo else "undo"
        if self.project is None:
            self.status_note(f"Nothing to {word}: no project is open")
            return None
        if self.refuse_while_busy(word.capitalize()):
            return None
        try:
            entry = (history.redo if redo else history.undo)(self.project)
        except Exception as e:
            self.show_error(f"Could not {word}", e)
            self.refresh_edit_menu()
            return None
        if entry is None:
            self.status_note(f"Nothing to {word}")
            return None
        self._forget_media(entry.what, entry.shot_ids)
        self.notify(entry.what, entry.shot_ids)
        self.toast(f"{'Redone' if redo else 'Undone'}: {entry.label}"
                   + ("" if redo else " · Ctrl+Shift+Z to redo"))
        return entry

    def _forget_media(self, what: str, shot_ids) -> None:
        """Undo/redo may put other bytes at a path the textures and tile states remember (a
        replaced take's old file comes back): forget those paths so they are read again."""
        if self.services is not None:
            self.services.forget_states()
        if what == "all" or not shot_ids:
            self.textures.clear()
            return
        from aimms_fast.store.takes import takes_for_shot
        rels = []
        for sid in shot_ids:
            for sb in ("image", "video"):
                rels += [t.file_path for t in takes_for_shot(self.project.conn, int(sid), sb)]
        self.textures.invalidate(rels)

    def _peek(self, which: str) -> str | None:
        if self.project is None:
            return None
        try:
            from aimms_fast.ops import history
            return (history.peek_redo if which == "redo" else history.peek_undo)(self.project)
        except Exception:
            log.exception("reading the undo stack for the Edit menu failed; the menu shows "
                          "plain Undo/Redo and Ctrl+Z still reports what it does")
            return None

    def refresh_edit_menu(self) -> None:
        """Edit menu: 'Undo <label>' / 'Redo <label>' from the undo stack. UI thread."""
        from aimms_fast.ui.menus import set_edit_labels
        set_edit_labels(self, self._peek("undo"), self._peek("redo"))

    def refresh_counts(self) -> None:
        from aimms_fast.store.stats import project_counts
        self.counts = None
        if self.project is not None:
            try:
                self.counts = project_counts(self.project.conn)
            except Exception:
                log.exception("counting shots and takes for the status bar failed; the bar "
                              "leaves the counts out")
        self._status_at = 0.0

    # -- errors ------------------------------------------------------------------------------------
    def guard(self, where: str, fn: Callable, *args):
        """Run one UI callback; an exception is logged and shown, never raised (the app keeps
        rendering). Returns fn's result, or None when it failed. UI thread."""
        try:
            return fn(*args)
        except Exception as e:
            self.show_error("Something went wrong", e, where=where)
            return None

    def _run_callbacks(self, jobs) -> None:
        """dpg.run_callbacks, one guarded call at a time (one failing callback must not drop the
        rest of the frame's queue, nor end the app)."""
        for job in jobs:
            fn = job[0]
            if fn is None:
                continue
            n = self._sigs.get(fn)
            if n is None:
                try:
                    n = len(inspect.signature(fn).parameters)
                except (TypeError, ValueError):
                    n = 0
                if len(self._sigs) > 4096:   # lambdas made per dialog: don't keep them all
                    self._sigs.clear()
                self._sigs[fn] = n
            self.guard(getattr(fn, "__qualname__", "a callback"), fn, *job[1:1 + n])

    def show_error(self, title: str, err: BaseException, *, where: str | None = None) -> None:
        """Show an error to the user. AimmsError is the user's to fix (its message says how);
        anything else is a bug: its traceback goes to the project's log (or stderr)."""
        key = (title, where, type(err).__name__, str(err))
        shown = self._error_dialogs.get(key)
        if shown is not None and shown in self.dialogs.open:
            return      # the same failure every frame (a tick): one dialog, one log entry
        if isinstance(err, AimmsError):
            text = str(err)
        else:
            text = f"{type(err).__name__}: {err}"
            if self.project is not None:
                self.project.log.error("viewer: %s%s: %s", title, f" ({where})" if where else "", text,
                                       exc_info=(type(err), err, err.__traceback__))
                text += f"\n\nThe details are in {self.project.layout.log_file}. The app keeps running."
            else:
                traceback.print_exception(err, file=sys.stderr)
                text += "\n\nThe details were written to the terminal (stderr). The app keeps running."
        self.errors.append(f"{title}: {text}")
        if self._started:
            try:
                self._error_dialogs = {k: w for k, w in self._error_dialogs.items() if w in self.dialogs.open}
                self._error_dialogs[key] = self.dialogs.message(title, text, height=220)
            except Exception:
                traceback.print_exc()   # the dialog itself failed: the terminal still has it

    def toast(self, text: str, seconds: float = 4.0) -> None:
        dpg.set_value(self._toast, text)
        self._toast_until = time.monotonic() + seconds

    def status_note(self, text: str, seconds: float = 4.0) -> None:
        """A quiet line in the status bar ("Nothing to undo"): no dialog, no sound."""
        self._note = text
        self._note_until = time.monotonic() + seconds
        self._status_at = 0.0
        if self._started:
            if self._toast_until:          # the newest message wins: no stale toast beside it
                dpg.set_value(self._toast, "")
                self._toast_until = 0.0
            self._update_status()

    def open_folder(self, path: Path) -> bool:
        """Show a folder in the desktop's file manager (ui/desktop.py fallbacks); says so when
        no way exists. UI thread."""
        from aimms_fast.ui import desktop
        r = desktop.open_folder(Path(path), file_manager=self.prefs.file_manager)
        self._say_opened(r)
        return r.ok

    def open_file(self, path: Path) -> bool:
        """Open a file in the desktop's program for it (ui/desktop.py fallbacks). UI thread."""
        from aimms_fast.ui import desktop
        r = desktop.open_file(Path(path), file_manager=self.prefs.file_manager)
        self._say_opened(r)
        return r.ok

    def _say_opened(self, r) -> None:
        if r.ok:
            self.toast(r.message)
        else:
            self.errors.append(f"{r.title}: {r.message}")
            self.dialogs.message(r.title, r.message, width=600, height=240)

    def register_text_input(self, tag) -> None:
        self._text_inputs.add(tag)

    def _typing(self) -> bool:
        dead = []
        for t in self._text_inputs:
            if not dpg.does_item_exist(t):
                dead.append(t)
            elif dpg.is_item_active(t):
                return True
        self._text_inputs.difference_update(dead)
        return False

    # -- keyboard ----------------------------------------------------------------------------------
    def _on_input(self, *_):
        self._activity = time.monotonic()

    def _on_key(self, sender, key) -> None:
        self._activity = time.monotonic()
        name = self._key_names.get(key)
        if name is None:
            return
        down = dpg.is_key_down
        ctrl = down(dpg.mvKey_ModCtrl) or down(dpg.mvKey_LControl) or down(dpg.mvKey_RControl)
        shift = down(dpg.mvKey_ModShift) or down(dpg.mvKey_LShift) or down(dpg.mvKey_RShift)
        alt = down(dpg.mvKey_ModAlt) or down(dpg.mvKey_LAlt) or down(dpg.mvKey_RAlt)
        self.handle_key(name, ctrl=ctrl, shift=shift, alt=alt)

    def handle_key(self, name: str, *, ctrl: bool = False, shift: bool = False, alt: bool = False) -> str | None:
        """Dispatch a chord (also what tests call). Returns the action taken, if any.

        Order: an open (modal) dialog swallows every key but Escape, F1 and F11 (Escape closes
        it, except a job's progress dialog); global chords (Ctrl/F-keys, also while typing); then
        the focused floating window, which owns every key while it has focus (unhandled keys stop
        there: they must never move a selection hidden behind it); then the page. While a job
        that changes the project runs, a key whose action would change it is refused."""
        chord = K.chord_of(name, ctrl=ctrl, shift=shift, alt=alt)
        typing = self._typing()
        if self.dialogs.any_open:
            action = K.lookup("global", chord)
            if action in ("escape", "keymap", "fullscreen"):
                self.action(action)
                return action
            if not typing and self.busy_job is not None:
                # The job's progress dialog is up: say why a change key does nothing.
                ctx = self._key_target()
                wanted = action or (K.lookup(ctx.key_context, chord) if ctx is not None else None)
                if wanted:
                    self._allowed(wanted)
            return None
        win = self.focused_window()
        if win is not None and not typing and (ctrl or name == "Escape"):
            action = K.lookup(win.key_context, chord)   # a window's own Ctrl chords win over global ones
            if action and self._allowed(action) and win.on_action(action):
                return action
        action = K.lookup("global", chord)
        if typing and action in ("undo", "redo"):
            return None      # Ctrl+Z in a text field undoes the typing (Dear PyGui's), not the project
        if action and (ctrl or name.startswith("F") and len(name) > 1 or name == "Escape" or not typing):
            self.action(action)
            return action
        if typing:
            return None
        if win is not None:
            action = K.lookup(win.key_context, chord)
            if action and self._allowed(action) and win.on_action(action):
                return action
            return None
        page = self._current
        if page is not None and page.key_context:
            action = K.lookup(page.key_context, chord)
            if action and self._allowed(action) and page.on_action(action):
                return action
        return None

    def _key_target(self):
        """What plain keys go to now: the focused floating window, else the page."""
        win = self.focused_window()
        if win is not None:
            return win
        page = self._current
        return page if page is not None and page.key_context else None

    def _allowed(self, action: str) -> bool:
        """False (with a message) for an action that changes the project while a job does."""
        from aimms_fast.ui.menus import changes_project
        return not (changes_project(action) and self.refuse_while_busy())

    def add_window(self, w) -> None:
        """Register a floating window (ui/floating.py): it gets keys while focused, ticks, tiles
        and data-changed notices, and is closed with the project."""
        self.windows.append(w)

    def focused_window(self):
        """The floating window that has keyboard focus (newest first), else None."""
        for w in reversed(self.windows):
            if w.alive and w.focused():
                return w
        return None

    def _focused_shot_window(self):
        w = self.focused_window()
        return w if w is not None and w.key_context == "shot" else None

    def action(self, action: str) -> None:
        """Menu items and global shortcuts end up here (refused while a job changes the project,
        when they would change it too)."""
        from aimms_fast.ui import menus
        if not self._allowed(action):
            return
        try:
            menus.do_action(self, action)
        except Exception as e:
            self.show_error("That did not work", e, where=f"action {action}")

    def toggle_keymap(self) -> None:
        if self._keymap_win is not None and dpg.does_item_exist(self._keymap_win):
            dpg.delete_item(self._keymap_win)
            self._keymap_win = None
            return
        from aimms_fast.ui.menus import build_keymap_window
        self._keymap_win = build_keymap_window(self)

    # -- loop ---------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while dpg.is_dearpygui_running() and not self._quit:
                self.iterate()
        finally:
            self.shutdown()

    def quit(self) -> None:
        self._quit = True

    def iterate(self, *, pace: bool = True) -> bool:
        """One frame: callbacks, drained worker events, page work, texture builds, render.
        Returns True while there is work pending (the caller may keep frames coming)."""
        t0, c0 = time.perf_counter(), time.process_time()
        jobs = [*(self._queued or ()), *(dpg.get_callback_queue() or ())]
        self._queued = None
        if jobs:
            self._run_callbacks(jobs)
        self.guard("showing dialogs", self.dialogs.flush)
        while self._deferred:
            fn = self._deferred.pop(0)
            self.guard("a deferred call", fn)
        busy = self.guard("the frame's work", self._tick)   # one bad frame must not end the session
        self.last_python_s = time.perf_counter() - t0
        self.last_python_cpu_s = time.process_time() - c0   # what load on a shared machine moves less
        dpg.render_dearpygui_frame()
        self.frames += 1
        dt = time.perf_counter() - t0
        self.last_frame_s = dt
        if not self._capturing:
            self._frame_times.append(dt)
        if busy or self._deferred:
            self._activity = time.monotonic()
        self.idle = time.monotonic() - self._activity > IDLE_AFTER_S
        if pace:
            # A key seen by this render runs now, not after the wait for the next video frame
            # (up to 42 ms at 24 fps) or the idle timeout: its callback is in the queue already.
            self._queued = dpg.get_callback_queue()
            if self._queued and any(job[0] == self._on_key for job in self._queued):
                return busy
            due = self._next_frame_due()
            if due is not None:
                self._wait_for_frame(due)
                return busy
            target = IDLE_FRAME_S if self.idle else ACTIVE_FRAME_S
            if dt < target:
                if self.idle and self.wait_events is not None:
                    self.wait_events(target - dt)     # returns early on any input
                else:
                    time.sleep(target - dt)           # active: a steady 60 frames/s at most
        return busy

    def _next_frame_due(self) -> float | None:
        """Earliest time a playing window needs its next frame, if any window plays."""
        dues = []
        for w in self.windows:
            due_of = getattr(w, "next_frame_due", None)    # helpers such as the drop watcher have none
            if w.alive and due_of is not None and (d := due_of()) is not None:
                dues.append(d)
        return min(dues) if dues else None

    def _wait_for_frame(self, due: float) -> None:
        """While video plays, draw when its next frame is due rather than at 60 Hz: a 24 fps clip
        then costs 24 renders a second, not one render after another (~30 ms each with software
        GL), and the CPU left over goes to the decode threads. Input still wakes the loop."""
        wait = due + FRAME_DUE_SLACK_S - time.monotonic()
        if wait <= 0:
            # Due already (or the frame on screen is not the one due: still decoding): poll soon,
            # without spinning the GL renderer on an unchanged picture.
            time.sleep(FRAME_POLL_S)
            return
        wait = min(wait, IDLE_FRAME_S)
        if self.wait_events is not None:
            self.wait_events(wait)
        else:
            time.sleep(wait)

    def _tick(self) -> bool:
        self.textures.begin_frame()
        busy = bool(self._jobs)
        if busy:
            self._poll_jobs()
        if self.services is not None:
            events = self.services.drain(DRAIN_BUDGET_S)
            if events:
                ready = [e.rel_path for e in events if e.state == "ready" and self.textures.resident(e.rel_path)]
                if ready:
                    self.textures.invalidate(ready)
                self.textures.forget_failures([e.rel_path for e in events])
                for page in self.pages.values():
                    page.on_tiles(events)
                for w in self.windows:
                    if w.alive:
                        w.on_tiles(events)
            if self.services.poll_foreign():
                self.textures.forget_failures()
                for page in self.pages.values():
                    page.on_tiles([])
            held = time.monotonic() < self._sweep_hold
            if self._sweep_at is not None and not held and time.monotonic() >= self._sweep_at:
                self._sweep_at = None
                self.services.begin_sweep()
            # The background sweep's own queue does not keep the loop at full frame rate: a 21K
            # cold build would otherwise redraw 60 times a second for minutes.
            busy = (self.services.sweeping if held else self.services.sweep_tick()) \
                or self.services.pending(urgent_only=True) > 0
        page = self._current
        if page is not None and self.project is not None:
            busy = self.guard(f"the {page.title} page", page.tick) or busy
        for sid, w in list(self.shot_windows.items()):
            if not w.alive:
                del self.shot_windows[sid]
        for w in list(self.windows):
            if not w.alive:
                self.windows.remove(w)
                continue
            busy = self.guard("a window", w.tick) or busy
        # The warm-up's imports run on a thread from the open; its GL steps (UI thread, ~30 ms a
        # frame) wait until a second after the sweep's hold (first screens, scrolling) ends.
        if self._warmup is not None:
            idle = time.monotonic() >= self._sweep_hold + WARMUP_IDLE_S
            if self.guard("warming up the player", lambda: self._warmup.step(self, idle=idle)) is not False:
                self._warmup = None
            elif idle and not self._warmup.importing():
                busy = True      # its few GL frames back to back; waiting (or importing) needs no frames
        urgent = self.textures.urgent_ready()
        left = self.textures.pump(URGENT_BUILD_BUDGET_S if urgent else BUILD_BUDGET_S)
        busy = busy or left > 0
        now = time.monotonic()
        if now - self._status_at > 0.25:
            self._status_at = now
            self._update_status()
        if self._toast_until and now > self._toast_until:
            dpg.set_value(self._toast, "")
            self._toast_until = 0.0
        return busy

    def _update_status(self) -> None:
        """The status bar in the user's words ("1,234 takes · building thumbnails 40 %"); the
        engineering figures (textures, ms/frame) only with the performance overlay on."""
        now = time.monotonic()
        note = self._note if now < self._note_until else ""
        perf = ""
        if self.project is None:
            parts = ["No project open"]
            dpg.configure_item(self._thumb_bar, show=False)
        else:
            parts = [self.project.name]
            if self.project.readonly:
                parts.append("read-only")
            c = self.counts
            if c is not None:
                parts.append(f"{c.shots:,} shot{'s' * (c.shots != 1)}")
                parts.append(f"{c.takes:,} take{'s' * (c.takes != 1)}")
            job = self._jobs[0] if self._jobs else None
            if job is not None:
                pct = f" {100 * job.done_n // job.total} %" if job.total else ""
                parts.append(f"{job.title.lower()} running{pct}")
            n = self.services.pending() if self.services is not None else 0
            self._thumb_peak = max(self._thumb_peak, n) if n else 0
            dpg.configure_item(self._thumb_bar, show=bool(n))
            if n:
                done = self._thumb_peak - n
                parts.append(f"building thumbnails {100 * done // self._thumb_peak} %")
                dpg.set_value(self._thumb_bar, done / self._thumb_peak)
                dpg.configure_item(self._thumb_bar, overlay=f"thumbnails {done:,} / {self._thumb_peak:,}")
            if self.prefs.show_perf_overlay:
                st = self.textures.stats
                perf = f"textures {st.tiles} tiles / {st.resident_bytes / 2**20:.0f} MB"
                if self.idle:
                    perf += "  ·  idle"
                elif self._frame_times:
                    perf += f"  ·  {statistics.median(self._frame_times) * 1000:.0f} ms/frame"
            extra = getattr(self.pages.get("inbox"), "status_part", None)   # ComfyUI jobs/Inbox (issue 11)
            if extra is not None and (text := extra()):
                parts.append(text)
        if note:
            parts.append(note)
        dpg.set_value(self._status, "  ·  ".join(parts))
        dpg.set_value(self._perf, perf)
        dpg.configure_item(self._perf, show=bool(perf))

    def set_perf_overlay(self, on: bool) -> None:
        """View > Show Performance Overlay: texture and frame-time figures in the status bar."""
        self.prefs.show_perf_overlay = bool(on)
        self.save_prefs()
        from aimms_fast.ui.menus import sync_view_checks
        sync_view_checks(self)
        self._status_at = 0.0

    # -- tests, tour, bench -----------------------------------------------------------------------------
    def settle(self, frames: int = 3) -> None:
        for _ in range(frames):
            self.iterate(pace=False)

    def wait_until(self, pred: Callable[[], bool], timeout: float = 20.0, *, min_frames: int = 2) -> bool:
        end = time.monotonic() + timeout
        n = 0
        while time.monotonic() < end:
            self.iterate(pace=False)
            n += 1
            if n >= min_frames and pred():
                return True
            time.sleep(0.005)
        return False

    def screenshot(self, path: Path) -> Path:
        """Save the viewport as PNG (rendered by Dear PyGui, no external tool)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self._update_status()
        self._capturing = True             # PNG encoding frames are not the app's frame time
        try:
            dpg.output_frame_buffer(file=str(path))
            for _ in range(20):
                self.iterate(pace=False)
                if path.exists() and path.stat().st_size > 0:
                    break
        finally:
            self._capturing = False
        return path

    def shutdown(self) -> None:
        if not self._started:
            return
        for job in self._jobs:            # daemon threads: ask them to roll back, briefly wait
            job.cancel.set()
        for job in self._jobs:
            job.wait(5.0)
        self.close_project()
        self._started = False
        dpg.destroy_context()
        logging.getLogger("aimms_fast").removeHandler(self._log_bridge)


def run_viewer(project_path: Path | None = None, *, readonly: bool = False) -> int:
    app = App()
    app.start(project_path, readonly=readonly)
    app.run()
    return 0
