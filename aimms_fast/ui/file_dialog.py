"""File and folder pickers: the desktop's own dialog where there is one, else our browser.

Order (first that works): the XDG desktop portal's FileChooser over DBus (GNOME, KDE, and any
desktop with xdg-desktop-portal; jeepney, pure Python, speaks DBus), then `zenity` or `kdialog`
when installed, then `FileBrowser`, our own window: thumbnails for images, shortcuts (home, the
project folder, the ComfyUI output folder when set, recent folders), multi-select with Ctrl/Shift,
hidden files off (a tick box shows them), and only the file types the action takes (the CSV picker
lists .csv files; media pickers images or videos). `AIMMS_FILE_DIALOG=portal|zenity|kdialog|builtin`
forces one (tests use builtin).

Native dialogs block whoever waits for them, so they run on a thread; a small FloatingWindow-like
poller registered with the app delivers the answer on the UI thread. A native dialog that fails to
start (no portal answering, a crash) falls back to the browser, never to nothing.

Dear PyGui calls only on the UI thread; `list_dir`, `filters_for`, the recent-folder store and
the native backends are plain Python (any thread).
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

import orjson

from aimms_fast.ui.floating import FloatingWindow
from aimms_fast.ui.prefs import config_dir

MAX_RECENT = 8
THUMB = 40                   # thumbnail side in the browser's list (pixels)
MAX_THUMBS = 400             # per session: textures made for thumbnails are kept (40² px float32 = 25 KB each)
THUMB_MAX_BYTES = 40 << 20   # larger images get the file icon, not a decode on the browser's thread


# -- filters -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileFilter:
    name: str                     # "CSV files (.csv)"
    exts: tuple[str, ...]         # lower-case, with the dot; () = every file

    def accepts(self, name: str) -> bool:
        return not self.exts or os.path.splitext(name)[1].lower() in self.exts

    @property
    def patterns(self) -> list[str]:
        return [f"*{e}" for e in self.exts] or ["*"]


def filters_for(exts: list[str] | tuple[str, ...], kind: str | None = None) -> list[FileFilter]:
    """The filters a picker offers for these extensions: the first is the default. Media pickers
    get 'Images and videos' / 'Images' / 'Videos' where both kinds are allowed; every other picker
    exactly its own types (no 'All files': a CSV picker lists CSV files)."""
    from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS
    exts = tuple(sorted({e.lower() if e.startswith(".") else "." + e.lower() for e in exts}))
    imgs = tuple(e for e in exts if e in IMAGE_EXTS)
    vids = tuple(e for e in exts if e in VIDEO_EXTS)
    short = ", ".join(exts) if len(exts) <= 4 else ", ".join(exts[:4]) + ", …"
    if kind == "asset":       # the Assets page's Import…: every asset type first, then one kind each
        from aimms_fast.ops.assets import AUDIO_EXTS, MODEL_EXTS
        parts = [("Images", imgs), ("Videos", vids), ("Audio", tuple(e for e in exts if e in AUDIO_EXTS)),
                 ("3D models", tuple(e for e in exts if e in MODEL_EXTS))]
        return [FileFilter("Images, video, audio and 3D models", exts),
                *(FileFilter(f"{n} ({', '.join(x)})", x) for n, x in parts if x)]
    if imgs and vids:
        return [FileFilter("Images and videos", imgs + vids), FileFilter("Images", imgs), FileFilter("Videos", vids)]
    if imgs and len(imgs) == len(exts):
        return [FileFilter(f"Images ({short})", imgs)]
    if vids and len(vids) == len(exts):
        return [FileFilter(f"Videos ({short})", vids)]
    if ".csv" in exts:
        # The CSV picker lists .csv files; the import also reads TSV/TXT, one choice away.
        out = [FileFilter("CSV files (.csv)", (".csv",))]
        if len(exts) > 1:
            out.append(FileFilter(f"CSV and text tables ({short})", exts))
        return out
    label = {".aimms": "AIMMS saves"}.get(exts[0], "Files") if exts else "Files"
    return [FileFilter(f"{label} ({short})", exts)]


# -- listing (the browser's model; tested without a display) --------------------------------------

@dataclass
class Entry:
    name: str
    path: Path
    is_dir: bool
    size: int = 0
    mtime: float = 0.0

    @property
    def is_image(self) -> bool:
        from aimms_fast.ops.files import IMAGE_EXTS
        return not self.is_dir and self.path.suffix.lower() in IMAGE_EXTS


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def list_dir(folder: Path, filt: FileFilter | None = None, *, show_hidden: bool = False,
             dirs_only: bool = False) -> list[Entry]:
    """A folder's entries for the browser: folders first, then files the filter accepts, each
    sorted by name (case-insensitive). Hidden names (leading dot) only when asked. Unreadable
    entries are skipped; an unreadable folder raises OSError (the browser says so)."""
    dirs, files = [], []
    with os.scandir(folder) as it:
        for de in it:
            if not show_hidden and is_hidden(de.name):
                continue
            try:
                st = de.stat()          # follows links: a link to a folder is a folder
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                dirs.append(Entry(de.name, Path(de.path), True, 0, st.st_mtime))
            elif not dirs_only and (filt is None or filt.accepts(de.name)):
                files.append(Entry(de.name, Path(de.path), False, st.st_size, st.st_mtime))
    key = lambda e: e.name.casefold()  # noqa: E731
    return sorted(dirs, key=key) + sorted(files, key=key)


# -- remembered folders ---------------------------------------------------------------------------

@dataclass
class PickerPrefs:
    """Recent folders and the ComfyUI output folder (a shortcut and, later, an inbox). Kept in
    the user's config folder beside viewer.json; a broken file means defaults."""
    recent: list[str] = field(default_factory=list)
    comfyui_output: str = ""

    @staticmethod
    def path() -> Path:
        return config_dir() / "file_dialog.json"

    @classmethod
    def load(cls) -> "PickerPrefs":
        try:
            d = orjson.loads(cls.path().read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return cls()
        if not isinstance(d, dict):
            return cls()
        return cls(recent=[str(r) for r in d.get("recent") or [] if isinstance(r, str)][:MAX_RECENT],
                   comfyui_output=str(d.get("comfyui_output") or ""))

    def save(self) -> None:
        p = self.path()
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps({"recent": self.recent, "comfyui_output": self.comfyui_output},
                                         option=orjson.OPT_INDENT_2))
            os.replace(tmp, p)
        except OSError:
            pass    # a convenience: a read-only home must not break picking files

    def add_recent(self, folder: Path) -> None:
        s = str(Path(folder))
        self.recent = ([s] + [r for r in self.recent if r != s])[:MAX_RECENT]


def remember(paths: list[Path]) -> None:
    """Record the folder the user picked from (any backend)."""
    if not paths:
        return
    p = Path(paths[0])
    prefs = PickerPrefs.load()
    prefs.add_recent(p if p.is_dir() else p.parent)
    prefs.save()


def shortcuts(app) -> list[tuple[str, Path]]:
    """The browser's left column: label and folder, existing folders only."""
    out: list[tuple[str, Path]] = [("Home", Path.home())]
    if app is not None and app.project is not None:
        out.append((f"Project: {app.project.name}", Path(app.project.root)))
    prefs = PickerPrefs.load()
    comfy = getattr(getattr(app, "prefs", None), "comfyui_output", "") or prefs.comfyui_output
    if comfy:
        out.append(("ComfyUI output", Path(comfy).expanduser()))
    if app is not None and app.project is not None:
        try:     # AIMMS keeps a per-project ComfyUI output folder in meta
            proj_comfy = (app.project.meta() or {}).get("comfyui_output_path")
        except Exception:  # a damaged meta table must not stop a file picker
            proj_comfy = None
        if proj_comfy:
            out.append(("ComfyUI output (project)", Path(str(proj_comfy)).expanduser()))
    for r in prefs.recent:
        out.append((f"Recent: {Path(r).name or r}", Path(r)))
    seen, uniq = set(), []
    for label, p in out:
        if p.is_dir() and str(p) not in seen:
            seen.add(str(p))
            uniq.append((label, p))
    return uniq


def _short(p: Path) -> str:
    home = str(Path.home())
    s = str(p)
    return "~" + s[len(home):] if s.startswith(home) else s


# -- native backends (blocking; run on a thread) ------------------------------------------------------

class Unavailable(Exception):
    """This backend cannot show a dialog here (the next one is tried)."""


def backend_order() -> list[str]:
    forced = os.environ.get("AIMMS_FILE_DIALOG", "").strip().lower()
    if forced in ("portal", "zenity", "kdialog", "builtin"):
        return [forced] if forced == "builtin" else [forced, "builtin"]
    order = []
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS") or os.environ.get("XDG_RUNTIME_DIR"):
        order.append("portal")
    for tool in ("zenity", "kdialog"):
        if shutil.which(tool):
            order.append(tool)
    return order + ["builtin"]


def _portal_filters(filters: list[FileFilter]):
    return ("a(sa(us))", [(f.name, [(0, p) for p in f.patterns]) for f in filters])


def portal_pick(title: str, filters: list[FileFilter], *, multiple: bool, directory: bool,
                start: Path | None, parent: str = "", timeout: float = 3600) -> list[Path] | None:
    """org.freedesktop.portal.FileChooser.OpenFile; None = cancelled. Raises Unavailable when no
    portal answers on the session bus."""
    try:
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import open_dbus_connection
    except ImportError as e:
        raise Unavailable(f"jeepney is not installed ({e})") from e
    try:
        conn = open_dbus_connection(bus="SESSION")
    except Exception as e:  # no session bus (a bare X server, ssh): try the next backend
        raise Unavailable(f"no DBus session bus: {e}") from e
    try:
        portal = DBusAddress("/org/freedesktop/portal/desktop", bus_name="org.freedesktop.portal.Desktop",
                             interface="org.freedesktop.portal.FileChooser")
        token = f"aimms{os.getpid()}_{int(time.monotonic() * 1000) % 10**9}"
        sender = conn.unique_name.lstrip(":").replace(".", "_")
        req_path = f"/org/freedesktop/portal/desktop/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface="org.freedesktop.portal.Request", member="Response",
                         path=req_path)
        # Subscribe before asking, so a fast answer cannot be missed.
        conn.send_and_get_reply(new_method_call(message_bus, "AddMatch", "s", (rule.serialise(),)))
        opts = {"handle_token": ("s", token), "multiple": ("b", bool(multiple)),
                "directory": ("b", bool(directory)), "modal": ("b", True)}
        if filters and not directory:
            opts["filters"] = _portal_filters(filters)
            opts["current_filter"] = ("(sa(us))", (filters[0].name, [(0, p) for p in filters[0].patterns]))
        if start is not None and Path(start).is_dir():
            opts["current_folder"] = ("ay", os.fsencode(str(start)) + b"\0")
        with conn.filter(rule) as queue:
            try:
                reply = conn.send_and_get_reply(
                    new_method_call(portal, "OpenFile", "ssa{sv}", (parent, title, opts)), timeout=10)
            except Exception as e:  # the portal service is absent or refused: next backend
                raise Unavailable(f"the desktop portal did not answer: {e}") from e
            if reply.header.message_type.name == "error":
                raise Unavailable(f"the desktop portal refused: {reply.body}")
            sig = conn.recv_until_filtered(queue, timeout=timeout)
        code, results = sig.body
        if code != 0:
            return None
        uris = results.get("uris", ("as", []))[1]
        return [Path(unquote(urlparse(u).path)) for u in uris]
    finally:
        conn.close()


def zenity_args(title: str, filters: list[FileFilter], *, multiple: bool, directory: bool,
                start: Path | None) -> list[str]:
    args = ["zenity", "--file-selection", f"--title={title}"]
    if directory:
        args.append("--directory")
    if multiple:
        args += ["--multiple", "--separator=\n"]
    if start is not None:
        args.append(f"--filename={str(start).rstrip('/')}/")
    if not directory:
        for f in filters:
            pats = " ".join(p for e in f.patterns for p in (e, e.upper()))
            args.append(f"--file-filter={f.name} | {pats}")
    return args


def kdialog_args(title: str, filters: list[FileFilter], *, multiple: bool, directory: bool,
                 start: Path | None) -> list[str]:
    where = str(start or Path.home())
    if directory:
        return ["kdialog", "--title", title, "--getexistingdirectory", where]
    spec = "\n".join(f"{' '.join(f.patterns)}|{f.name}" for f in filters)
    args = ["kdialog", "--title", title, "--getopenfilename", where, spec]
    if multiple:
        args += ["--multiple", "--separate-output"]
    return args


def tool_pick(args: list[str]) -> list[Path] | None:
    """Run zenity/kdialog; exit 1 = cancelled (None), other failures raise Unavailable."""
    try:
        p = subprocess.run(args, capture_output=True, text=True)
    except OSError as e:
        raise Unavailable(f"{args[0]} could not start: {e}") from e
    if p.returncode == 1:
        return None
    if p.returncode != 0:
        raise Unavailable(f"{args[0]} failed (exit {p.returncode}): {p.stderr.strip()[:200]}")
    return [Path(line) for line in p.stdout.splitlines() if line.strip()]


# -- the UI side ---------------------------------------------------------------------------------------

def _parent_handle() -> str:
    """'x11:<window id>' so the portal's dialog sits above our window ('' if unknown)."""
    try:
        import ctypes

        from dearpygui import _dearpygui
        lib = ctypes.CDLL(_dearpygui.__file__)
        lib.glfwGetCurrentContext.restype = ctypes.c_void_p
        lib.glfwGetX11Window.restype = ctypes.c_ulong
        lib.glfwGetX11Window.argtypes = [ctypes.c_void_p]
        win = lib.glfwGetCurrentContext()
        xid = lib.glfwGetX11Window(win) if win else 0
        return f"x11:{xid:x}" if xid else ""
    except (OSError, AttributeError, ImportError):
        return ""


class _NativePick(FloatingWindow):
    """Waits (off the UI thread) for a native dialog; registered with app.add_window so its tick
    runs every frame and hands the answer over on the UI thread. No window of its own."""

    def __init__(self, app, order: list[str], title: str, filters: list[FileFilter], multiple: bool,
                 directory: bool, start: Path | None, deliver: Callable[[list[Path]], None],
                 fallback: Callable[[], None]):
        from aimms_fast.ui.background import BackgroundJob
        self.app, self.alive, self.win = app, True, None
        self.deliver, self.fallback = deliver, fallback
        parent = _parent_handle()

        def run():
            errors = []
            for b in order:
                try:
                    if b == "portal":
                        return b, portal_pick(title, filters, multiple=multiple, directory=directory,
                                              start=start, parent=parent)
                    args = (zenity_args if b == "zenity" else kdialog_args)(
                        title, filters, multiple=multiple, directory=directory, start=start)
                    return b, tool_pick(args)
                except Unavailable as e:
                    errors.append(f"{b}: {e}")
            raise Unavailable("; ".join(errors))
        self.work = BackgroundJob(run, name="aimms-file-dialog")

    def tick(self) -> bool:
        if not self.alive or not self.work.done:
            return False
        self.alive = False
        if self.work.error is not None:
            import logging
            logging.getLogger(__name__).info("native file dialog unavailable, using ours: %s", self.work.error)
            self.fallback()
            return True
        _, paths = self.work.result
        if paths:
            self.deliver(paths)
        return True



def pick_files(app, title: str, exts: list[str], on_files: Callable[[list[Path]], None], *,
               multiple: bool = True, start: Path | None = None, kind: str | None = None):
    """Ask for one or more files of these types; `on_files(paths)` runs on the UI thread when the
    user picks (never on cancel). Returns the browser (when ours is shown) or the native waiter."""
    filters = filters_for(exts, kind)
    start = Path(start) if start else _default_start(app)

    def deliver(paths: list[Path]) -> None:
        files = [p for p in paths if p.is_file() and any(f.accepts(p.name) for f in filters)]
        if not multiple:
            files = files[:1]
        if files:
            remember(files)
            on_files(files)

    def browser():
        return FileBrowser(app, title, filters, deliver, multiple=multiple, start=start)
    return _open(app, title, filters, multiple, False, start, deliver, browser)


def pick_folder(app, title: str, on_folder: Callable[[Path], None], *, start: Path | None = None):
    """Ask for a folder; `on_folder(path)` runs on the UI thread when the user picks one."""
    start = Path(start) if start else _default_start(app)

    def deliver(paths: list[Path]) -> None:
        if paths and paths[0].is_dir():
            remember(paths[:1])
            on_folder(paths[0])

    def browser():
        return FileBrowser(app, title, [], deliver, multiple=False, start=start, folders=True)
    return _open(app, title, [], False, True, start, deliver, browser)


def _open(app, title, filters, multiple, directory, start, deliver, browser):
    order = [b for b in backend_order() if b != "builtin"]
    if not order:
        return browser()
    pick = _NativePick(app, order, title, filters, multiple, directory, start, deliver, browser)
    app.add_window(pick)
    return pick


def _default_start(app) -> Path:
    prefs = PickerPrefs.load()
    for r in prefs.recent:
        if Path(r).is_dir():
            return Path(r)
    if app is not None and app.project is not None:
        return Path(app.project.root)
    return Path.home()



# -- our own browser ----------------------------------------------------------------------------------

MAX_LISTED = 2000            # rows in one listing (a table row is ~4 items; 2000 rows ≈ 60 ms to build)


def _icon_image(kind: str):
    """Folder / file / video glyphs for the list, drawn once (RGBA uint8, THUMB²)."""
    import numpy as np
    from PIL import Image, ImageDraw
    n = THUMB
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if kind == "folder":
        d.rounded_rectangle((3, 9, n - 4, n - 7), radius=3, fill=(225, 180, 70, 255))
        d.rounded_rectangle((3, 6, n // 2, 13), radius=2, fill=(200, 150, 50, 255))
    else:
        d.rectangle((8, 4, n - 9, n - 5), fill=(205, 210, 220, 255), outline=(120, 125, 135, 255))
        if kind == "video":
            c = n // 2
            d.polygon([(c - 5, c - 7), (c - 5, c + 7), (c + 7, c)], fill=(60, 90, 160, 255))
        else:
            for y in range(12, n - 10, 5):
                d.line((12, y, n - 13, y), fill=(140, 145, 155, 255))
    return np.asarray(img)


def _thumbnail(path: Path):
    """A THUMB² RGBA thumbnail of an image file, or None (any thread)."""
    import numpy as np
    from PIL import Image
    try:
        if path.stat().st_size > THUMB_MAX_BYTES:
            return None
        with Image.open(path) as im:
            im.draft("RGB", (THUMB * 2, THUMB * 2))     # JPEG: decode at a fraction of the size
            im = im.convert("RGBA")
            im.thumbnail((THUMB, THUMB))
            canvas = Image.new("RGBA", (THUMB, THUMB), (0, 0, 0, 0))
            canvas.paste(im, ((THUMB - im.width) // 2, (THUMB - im.height) // 2))
            return np.asarray(canvas)
    except Exception:  # a broken or unsupported image gets the file glyph; the listing goes on
        return None


_thumbs_made = 0


class FileBrowser:
    """Our file / folder picker: a modal window among app.dialogs (Escape closes it, keys stay off
    the page), ticked by the app (registered with add_window) to bring thumbnails in.

    Tests drive it through `navigate`, `click`, `activate`, `accept` and read `names`."""
    key_context = ""

    def __init__(self, app, title: str, filters: list[FileFilter], deliver: Callable[[list[Path]], None], *,
                 multiple: bool, start: Path, folders: bool = False):
        import dearpygui.dearpygui as dpg
        self.app, self.alive = app, True
        self.title, self.filters, self.deliver = title, filters, deliver
        self.filter = filters[0] if filters else None
        self.multiple, self.folders = multiple, folders
        self.show_hidden = False
        self.folder = Path(start) if Path(start).is_dir() else Path.home()
        self.entries: list[Entry] = []
        self.selected: set[int] = set()
        self._anchor: int | None = None
        self._rows: list[tuple[int, int]] = []        # (selectable, image) per entry
        self._thumb_q: list[tuple[int, Path]] = []
        self._thumb_done: dict[int, object] = {}
        self._thumb_lock = threading.Lock()
        self._thumb_thread: threading.Thread | None = None
        self._generation = 0
        bank = app.textures
        self._icons = {k: bank.icon(("file_dialog", k, THUMB), lambda k=k: _icon_image(k))
                       for k in ("folder", "file", "video")}
        self.win = app.dialogs._window(title, 980, 600)
        with dpg.group(parent=self.win, horizontal=True):
            dpg.add_button(label="Up", width=50, callback=lambda: self.navigate(self.folder.parent))
            self.path_input = dpg.add_input_text(default_value=str(self.folder), width=-230, on_enter=True,
                                                 callback=lambda s, a: self._typed(a))
            app.register_text_input(self.path_input)
            self.hidden_check = dpg.add_checkbox(label="Show hidden files", default_value=False,
                                                 callback=lambda s, a: self.set_show_hidden(a))
        with dpg.group(parent=self.win, horizontal=True):
            self.side = dpg.add_child_window(width=210, height=-40, border=True)
            self.table_box = dpg.add_child_window(width=-1, height=-40, border=False)
        self._fill_shortcuts()
        with dpg.item_handler_registry() as self._handlers:
            dpg.add_item_double_clicked_handler(button=dpg.mvMouseButton_Left,
                                                callback=lambda s, a: self._double(a[1]))
        with dpg.group(parent=self.win, horizontal=True):
            if filters:
                dpg.add_text("Show")
                self.filter_combo = dpg.add_combo([f.name for f in filters], default_value=filters[0].name,
                                                  width=260, callback=lambda s, a: self.set_filter(a))
            self.ok = dpg.add_button(label="Choose this folder" if folders else "Open", width=170,
                                     callback=lambda: self.accept())
            dpg.add_button(label="Cancel", width=100, callback=lambda: self.cancel())
            dpg.add_spacer(width=6)
            from aimms_fast.ui import theme as T
            self.info = T.text(app, 0, "", "dim")
        app.add_window(self)
        self.navigate(self.folder)

    # -- model ------------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def navigate(self, folder: Path) -> bool:
        import dearpygui.dearpygui as dpg
        folder = Path(folder).expanduser()
        try:
            entries = list_dir(folder, self.filter, show_hidden=self.show_hidden, dirs_only=self.folders)
        except OSError as e:
            dpg.set_value(self.info, f"Cannot open {folder}: {e.strerror or e}")
            return False
        self.folder = folder
        self.total = len(entries)
        self.entries = entries[:MAX_LISTED]
        self.selected = set()
        self._anchor = None
        dpg.set_value(self.path_input, str(folder))
        self._build_rows()
        self._update_info()
        return True

    def set_show_hidden(self, on: bool) -> None:
        import dearpygui.dearpygui as dpg
        self.show_hidden = bool(on)
        dpg.set_value(self.hidden_check, self.show_hidden)
        self.navigate(self.folder)

    def set_filter(self, name: str) -> None:
        import dearpygui.dearpygui as dpg
        for f in self.filters:
            if f.name == name:
                self.filter = f
                dpg.set_value(self.filter_combo, name)
                self.navigate(self.folder)
                return
        raise ValueError(f"no filter {name!r}")

    def click(self, i: int, *, ctrl: bool = False, shift: bool = False) -> None:
        """Select entry i (Ctrl toggles, Shift extends from the last click) like a file manager."""
        import dearpygui.dearpygui as dpg
        if not 0 <= i < len(self.entries):
            return
        e = self.entries[i]
        pickable = e.is_dir if self.folders else not e.is_dir
        if self.multiple and shift and self._anchor is not None:
            a, b = sorted((self._anchor, i))
            self.selected = {k for k in range(a, b + 1) if not self.entries[k].is_dir}
        elif self.multiple and ctrl and pickable:
            self.selected ^= {i}
            self._anchor = i
        else:
            self.selected = {i}
            self._anchor = i
        for k, (sel, _) in enumerate(self._rows):
            dpg.set_value(sel, k in self.selected)
        self._update_info()

    def activate(self, i: int) -> None:
        """Double click: open a folder, or pick a file."""
        if not 0 <= i < len(self.entries):
            return
        e = self.entries[i]
        if e.is_dir:
            self.navigate(e.path)
        else:
            self.selected = {i}
            self.accept()

    def chosen(self) -> list[Path]:
        if self.folders:
            sel = [self.entries[i].path for i in sorted(self.selected) if self.entries[i].is_dir]
            return sel[:1] or [self.folder]
        return [self.entries[i].path for i in sorted(self.selected) if not self.entries[i].is_dir]

    def accept(self) -> None:
        paths = self.chosen()
        if not paths:
            return
        self.close()
        self.deliver(paths)

    def cancel(self) -> None:
        self.close()

    def _typed(self, text: str) -> None:
        p = Path(text.strip()).expanduser()
        if p.is_dir():
            self.navigate(p)
        elif p.is_file() and not self.folders and (self.filter is None or self.filter.accepts(p.name)):
            self.close()
            self.deliver([p])

    # -- view -------------------------------------------------------------------------------------
    def _fill_shortcuts(self) -> None:
        import dearpygui.dearpygui as dpg
        dpg.add_text("Places", parent=self.side, color=(120, 180, 255))
        for label, path in shortcuts(self.app):
            b = dpg.add_button(label=label, parent=self.side, width=-1,
                               callback=lambda s, a, u: self.navigate(u), user_data=path)
            with dpg.tooltip(b):
                dpg.add_text(str(path))

    def _build_rows(self) -> None:
        import dearpygui.dearpygui as dpg
        from aimms_fast.ops.files import VIDEO_EXTS
        self._generation += 1
        with self._thumb_lock:
            self._thumb_q = []
            self._thumb_done = {}
        dpg.delete_item(self.table_box, children_only=True)
        self._rows = []
        table = dpg.add_table(parent=self.table_box, header_row=True, clipper=True, scrollY=True, height=-1,
                              row_background=True, borders_innerV=True, policy=dpg.mvTable_SizingStretchProp)
        dpg.add_table_column(label="", parent=table, width_fixed=True, init_width_or_weight=THUMB + 4)
        dpg.add_table_column(label="Name", parent=table, init_width_or_weight=4.0)
        dpg.add_table_column(label="Size", parent=table, init_width_or_weight=1.0)
        dpg.add_table_column(label="Modified", parent=table, init_width_or_weight=1.4)
        want = []
        for i, e in enumerate(self.entries):
            kind = "folder" if e.is_dir else ("video" if e.path.suffix.lower() in VIDEO_EXTS else "file")
            icon = self._icons[kind]
            with dpg.table_row(parent=table):
                img = dpg.add_image(icon.tag, width=THUMB, height=THUMB, uv_min=icon.uv_min, uv_max=icon.uv_max)
                sel = dpg.add_selectable(label=e.name + ("/" if e.is_dir else ""), span_columns=True,
                                         height=THUMB, callback=self._on_select, user_data=i)
                dpg.bind_item_handler_registry(sel, self._handlers)
                dpg.add_text(_size(e.size) if not e.is_dir else "")
                dpg.add_text(time.strftime("%Y-%m-%d %H:%M", time.localtime(e.mtime)) if e.mtime else "")
            self._rows.append((sel, img))
            if e.is_image:
                want.append((i, e.path))
        if want:
            self._start_thumbs(want)

    def _update_info(self) -> None:
        import dearpygui.dearpygui as dpg
        n = len(self.chosen()) if not self.folders else len(self.selected)
        more = f" (first {MAX_LISTED} of {self.total})" if self.total > MAX_LISTED else ""
        if self.folders:
            what = self.chosen()[0].name or str(self.chosen()[0])
            text = f"{len(self.entries)} folders{more} · double-click opens one"
            dpg.configure_item(self.ok, label=f"Choose “{what[:24]}”")
        elif n:
            text = f"{n} file{'s' if n != 1 else ''} selected{more}"
        else:
            files = sum(1 for e in self.entries if not e.is_dir)
            text = (f"{files} file{'s' if files != 1 else ''}{more} · double-click a folder to open it"
                    + (" · Ctrl/Shift+click picks several" if self.multiple else ""))
        dpg.set_value(self.info, text)
        dpg.configure_item(self.ok, enabled=bool(self.chosen()))

    def _on_select(self, sender, value, i) -> None:
        import dearpygui.dearpygui as dpg
        down = dpg.is_key_down
        ctrl = down(dpg.mvKey_ModCtrl) or down(dpg.mvKey_LControl) or down(dpg.mvKey_RControl)
        shift = down(dpg.mvKey_ModShift) or down(dpg.mvKey_LShift) or down(dpg.mvKey_RShift)
        self.click(i, ctrl=ctrl, shift=shift)

    def _double(self, item) -> None:
        import dearpygui.dearpygui as dpg
        i = dpg.get_item_user_data(item)
        if isinstance(i, int):
            self.activate(i)

    # -- thumbnails: decoded on one thread, turned into textures on the UI thread -----------------
    def _start_thumbs(self, want: list[tuple[int, Path]]) -> None:
        gen = self._generation
        with self._thumb_lock:
            self._thumb_q = list(want)

        def run():
            while True:
                with self._thumb_lock:
                    if gen != self._generation or not self._thumb_q or not self.alive:
                        return
                    i, path = self._thumb_q.pop(0)
                img = _thumbnail(path)
                with self._thumb_lock:
                    if gen == self._generation:
                        self._thumb_done[i] = (path, img)
        self._thumb_thread = threading.Thread(target=run, name="aimms-file-thumbs", daemon=True)
        self._thumb_thread.start()

    def tick(self) -> bool:
        import dearpygui.dearpygui as dpg
        global _thumbs_made
        if not self.alive:
            return False
        if not dpg.does_item_exist(self.win):     # closed by Escape or the title bar
            self.close()
            return False
        with self._thumb_lock:
            ready = list(self._thumb_done.items())[:8]
            for i, _ in ready:
                del self._thumb_done[i]
            pending = bool(self._thumb_q) or bool(self._thumb_done)
        for i, (path, img) in ready:
            if img is None or i >= len(self._rows) or _thumbs_made >= MAX_THUMBS:
                continue
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                continue
            region = self.app.textures.icon(("file_dialog_thumb", str(path), mtime), lambda img=img: img)
            _thumbs_made += 1
            dpg.configure_item(self._rows[i][1], texture_tag=region.tag, uv_min=region.uv_min, uv_max=region.uv_max)
        return pending or bool(ready)

    @property
    def thumbs_pending(self) -> bool:
        with self._thumb_lock:
            return bool(self._thumb_q) or bool(self._thumb_done)

    # -- what the app expects of a registered window --------------------------------------------------
    def focused(self) -> bool:
        from aimms_fast.ui.floating import window_focused
        import dearpygui.dearpygui as dpg
        return self.alive and dpg.does_item_exist(self.win) and window_focused(self.win)

    def on_action(self, action: str) -> bool:
        return False

    def on_tiles(self, events) -> None:
        pass

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        pass

    def relayout(self) -> None:
        pass

    def close(self) -> None:
        import dearpygui.dearpygui as dpg
        if not self.alive:
            return
        self.alive = False
        with self._thumb_lock:
            self._generation += 1
            self._thumb_q = []
        if dpg.does_item_exist(self.win):
            self.app.dialogs.close(self.win)
        if dpg.does_item_exist(self._handlers):
            dpg.delete_item(self._handlers)


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


# -- files dropped from the desktop ------------------------------------------------------------------
#
# Dear PyGui 2.x has no API for drops from other applications (DearPyGui issue #243: "not at the
# moment"), but the GLFW 3.3 it bundles exports glfwSetDropCallback and implements XDND (X11),
# OLE drops (Windows) and Cocoa drags: we install a callback through ctypes on the viewport's
# GLFW window, as ui/app.py does for glfwWaitEventsTimeout. The callback runs inside Dear PyGui's
# event polling (render_dearpygui_frame or the idle wait), where no Dear PyGui call is allowed: it
# only queues the paths and the pointer position; a watcher ticked by the app hands them to the
# shot window or storyboard card under the pointer on the next frame.

@dataclass
class Drop:
    paths: list[Path]
    x: float                 # viewport pixels, where the pointer was when the files were dropped
    y: float


class DropReceiver:
    """Owns the GLFW drop callback (UI thread) and the queue it fills."""

    def __init__(self):
        import ctypes
        self.queue: list[Drop] = []
        self._lock = threading.Lock()
        self.window = None
        self.error: str | None = None
        try:
            from dearpygui import _dearpygui
            lib = ctypes.CDLL(_dearpygui.__file__)
            lib.glfwGetCurrentContext.restype = ctypes.c_void_p
            self._proto = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p))
            lib.glfwSetDropCallback.restype = ctypes.c_void_p
            lib.glfwSetDropCallback.argtypes = [ctypes.c_void_p, self._proto]
            lib.glfwGetCursorPos.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double),
                                             ctypes.POINTER(ctypes.c_double)]
            self._lib = lib
        except (OSError, AttributeError, ImportError) as e:
            self.error = f"this Dear PyGui build does not expose GLFW's drop callback ({e})"
            return
        self._cb = self._proto(self._on_drop)       # kept alive: GLFW holds only the pointer

    def install(self) -> bool:
        """Hook the current GLFW window (call on the UI thread after show_viewport)."""
        if self.error:
            return False
        win = self._lib.glfwGetCurrentContext()
        if not win:
            self.error = "no GLFW window is current on this thread"
            return False
        self.window = win
        self._lib.glfwSetDropCallback(win, self._cb)
        return True

    def _on_drop(self, window, count, paths) -> None:
        import ctypes
        try:
            got = [Path(os.fsdecode(paths[i])) for i in range(count)]
            x, y = ctypes.c_double(), ctypes.c_double()
            self._lib.glfwGetCursorPos(window, ctypes.byref(x), ctypes.byref(y))
            with self._lock:
                self.queue.append(Drop(got, x.value, y.value))
        except Exception:  # never let an exception unwind into GLFW's C event loop
            import logging
            logging.getLogger(__name__).exception("reading a file drop failed")

    def take(self) -> list[Drop]:
        with self._lock:
            out, self.queue = self.queue, []
        return out


class _DropWatcher(FloatingWindow):
    """Registered with app.add_window: each frame, hands queued drops to what is under them.
    No window of its own (FloatingWindow's defaults: never focused, no keys, nothing to redraw)."""

    def __init__(self, app, receiver: DropReceiver):
        self.app, self.receiver, self.alive, self.win = app, receiver, True, None
        self.handled: list[tuple[str, object, list[str]]] = []     # (where, key, rels added): tests read it

    def tick(self) -> bool:
        drops = self.receiver.take()
        for d in drops:
            try:
                self.handled.append(deliver_drop(self.app, d))
            except Exception as e:  # a bad drop says so and the app goes on
                self.app.show_error("Could not add the dropped files", e)
        return bool(drops)



def ensure_drop_target(app) -> _DropWatcher | None:
    """Accept files dropped from the desktop onto cards and take grids (idempotent; UI thread)."""
    w = getattr(app, "_drop_watcher", None)
    if w is not None and w.alive and w in app.windows:
        return w
    rec = getattr(app, "_drop_receiver", None)
    if rec is None:
        rec = DropReceiver()
        if not rec.install():
            import logging
            logging.getLogger(__name__).info("file drops unavailable: %s", rec.error)
        app._drop_receiver = rec
    if rec.error:
        return None
    w = _DropWatcher(app, rec)
    app._drop_watcher = w
    app.add_window(w)
    return w


def deliver_drop(app, drop: Drop) -> tuple[str, object, list[str]]:
    """Add dropped media to the shot under the pointer: a shot window's take grid first (topmost
    wins), else the storyboard card under it. Images go to the image storyboard, videos (with a
    workflow PNG beside them) to the video storyboard. Returns (where, shot_id, take ids)."""
    from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS
    from aimms_fast.ops.takes import add_takes
    if app.project is None:
        return ("no project", None, [])
    if app.readonly:
        app.toast("the project is read-only: dropped files were not added")
        return ("read-only", None, [])
    target = None
    for w in reversed(app.windows):
        grid = getattr(w, "grid", None)
        if getattr(w, "key_context", "") == "shot" and w.alive and grid is not None \
                and grid.contains_screen(drop.x, drop.y):
            target = ("shot window", w.shot_id)
            break
    page = app.current_page
    if target is None and hasattr(page, "accept_drop"):
        return page.accept_drop(drop)       # the Assets page imports what is dropped on it
    if target is None and page is not None and getattr(page, "grid", None) is not None \
            and getattr(page, "storyboard", None) in ("image", "video"):
        i = page.grid.index_at_screen(drop.x, drop.y)
        if i is not None:
            target = ("card", page.grid.cards[i].key)
    if target is None:
        app.toast("drop files onto a shot's card or a shot window's takes to add them")
        return ("nowhere", None, [])
    where, sid = target
    files = [p for p in drop.paths if p.is_file()]
    images = [p for p in files if p.suffix.lower() in IMAGE_EXTS and not _is_companion(p, files)]
    videos = [p for p in files if p.suffix.lower() in VIDEO_EXTS]
    skipped = len(drop.paths) - len(images) - len(videos) - sum(1 for p in files if _is_companion(p, files))
    ids: list[str] = []
    for kind, group in (("image", images), ("video", videos)):
        if group:
            got = app.run_op(lambda g=group, k=kind: add_takes(app.project, sid, g, storyboard=k),
                             title="Could not add the dropped files")
            ids += got or []
    if ids:
        app.notify("takes", [sid])
        from aimms_fast.store.shots import get_shot
        name = (get_shot(app.project.conn, sid) or {}).get("shot_name") or f"shot {sid}"
        app.toast(f"added {len(ids)} take{'s' if len(ids) != 1 else ''} to {name}"
                  + (f"; {skipped} file(s) were not images or videos" if skipped else ""))
    elif skipped:
        app.toast("nothing added: drop image or video files")
    return (where, sid, ids)


def _is_companion(p: Path, files: list[Path]) -> bool:
    """A .png dropped together with the video of the same name is that video's workflow PNG."""
    from aimms_fast.ops.files import VIDEO_EXTS
    return p.suffix.lower() == ".png" and any(
        f.stem == p.stem and f.suffix.lower() in VIDEO_EXTS and f.parent == p.parent for f in files)
