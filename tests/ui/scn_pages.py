"""Scenarios for the pages (issue 13): cards that say which take they show, the representative take,
the star filter, right-click menus, our file browser, readable themes and Esc in search boxes.
Each runs in its own process (tests/ui/conftest.run_scenario) and returns facts as JSON."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Callable

from tests.ui.scenarios import (click, item_center, move_mouse, press, rects, scenario, shot, start_app,
                                wait_tiles)


def _right_click(xi, app, x: float, y: float) -> None:
    import dearpygui.dearpygui as dpg
    vx, vy = dpg.get_viewport_pos()
    xi.move(vx + x, vy + y)
    app.settle(2)
    xi.button(True, button=3)
    app.settle(1)
    xi.button(False, button=3)
    app.settle(3)


def _card_centre(grid, i):
    x0, y0, x1, y1 = grid.poster_rect(i)
    return (x0 + x1) / 2, (y0 + y1) / 2


@scenario
def pages_cards(project, out, args):
    """The first take's file of shot 1 is gone: its card shows take 02 (no MISSING FILE); every
    card says take number, duration and resolution; hovering shows the full name, prompt and file;
    'Starred only' keeps the starred shots; S (real key) stars and the toast says so."""
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    root = Path(project)
    for rel in args.get("delete", []):
        (root / rel).unlink()
    app = start_app(project)
    res = {}
    for page in ("images", "videos"):
        app.show_page(page)
        app.settle(2)
        g = app.pages[page].grid
        wait_tiles(app, g)
        res[page] = {"titles": [c.title for c in g.cards], "details": [c.detail for c in g.cards],
                     "badges": [c.badges for c in g.cards], "rels": [c.rel for c in g.cards],
                     "rects": rects(g), "shot": shot(app, out, page)}
        # What is drawn: the card's text items in its slot.
        s = g._by_index.get(0)
        res[page]["drawn_detail"] = dpg.get_item_configuration(s.detail)["text"] if s else None
    app.show_page("images")
    app.settle(2)
    g = app.pages["images"].grid
    xi = XInput()
    move_mouse(xi, app, *_card_centre(g, 1), frames=4)
    app.wait_until(lambda: g.tooltip_text is not None, timeout=5)
    # The tooltip appears after its 0.35 s delay: wait for it in real time (frames can be fast).
    app.wait_until(lambda: dpg.get_item_rect_max(g.tip_text)[0] > dpg.get_item_rect_min(g.tip_text)[0],
                   timeout=5)
    app.settle(2)
    res["tooltip"] = g.tooltip_text
    res["tooltip_shown"] = dpg.is_item_shown(g.tip)
    res["tooltip_shot"] = shot(app, out, "tooltip")
    res["tooltip_rect"] = [*dpg.get_item_rect_min(g.tip_text), *dpg.get_item_rect_max(g.tip_text)]
    move_mouse(xi, app, 5, 5)
    res["tooltip_after_leave"] = g.tooltip_text
    # S on card 3 (real click, real key): starred, the toast says which take of which shot.
    click(xi, app, *_card_centre(g, 3))
    press(xi, app, "s")
    res["toast"] = dpg.get_value(app._toast)
    page = app.pages["images"]
    page.set_star_filter("Starred only")
    app.settle(3)
    res["starred_only"] = [c.title for c in g.cards]
    res["starred_only_shot"] = shot(app, out, "starred_only")
    page.set_star_filter("Unstarred only")
    app.settle(2)
    res["unstarred_only"] = [c.title for c in g.cards]
    page.set_star_filter("All shots")
    app.settle(2)
    res["all"] = [c.title for c in g.cards]
    res["count_text"] = dpg.get_value(page.count_text)
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def pages_context_menu(project, out, args):
    """Right click (real X button 3) on a video card opens the menu; a real click on its Star
    entry stars the take in the database; the shot window's takes and the Shots table rows have
    their own menus."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.store.takes import get_take
    from aimms_fast.ui import context_menu as cm
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("videos")
    g = app.pages["videos"].grid
    wait_tiles(app, g)
    xi = XInput()
    take_id = g.cards[0].take_id
    res = {"starred_before": get_take(app.project.conn, take_id).starred}
    _right_click(xi, app, *_card_centre(g, 0))
    m = cm.menu(app)
    res["menu_open"] = m.is_open
    res["labels"] = m.labels
    res["selected_card"] = g.selected
    res["menu_shot"] = shot(app, out, "menu")
    star_item = m.items.get("Star")
    res["star_rect"] = [*dpg.get_item_rect_min(star_item), *dpg.get_item_rect_max(star_item)]
    click(xi, app, *item_center(star_item))
    app.settle(3)
    res["menu_open_after"] = m.is_open
    res["starred_after"] = get_take(app.project.conn, take_id).starred
    res["card_starred_after"] = g.cards[0].starred
    res["toast"] = dpg.get_value(app._toast)
    res["after_shot"] = shot(app, out, "after_star")
    # Copy path from the menu (API: the clipboard is the X selection).
    _right_click(xi, app, *_card_centre(g, 1))
    opened = []
    app.opener = lambda p: opened.append(str(p))
    m.invoke("Reveal in folder")
    res["revealed"] = opened
    m.hide()
    app.settle(2)
    # Shot window take.
    w = app.open_shot(g.cards[0].key, "video")
    app.settle(3)
    wait_tiles(app, w.grid)
    _right_click(xi, app, *_card_centre(w.grid, 1))
    res["window_labels"] = m.labels
    res["window_selected"] = w.grid.selected
    res["window_menu_shot"] = shot(app, out, "window_menu")
    m.invoke("Delete…")
    app.settle(2)
    res["delete_asks"] = len(app.dialogs.open)
    app.dialogs.close_top()
    app.settle(2)
    w.close()
    app.settle(2)
    # Shots table row.
    app.show_page("shots")
    app.settle(4)
    page = app.pages["shots"]
    sid = page.shown[1]["shot_id"]
    row = page._selectables[sid]
    x, y = item_center(row)
    _right_click(xi, app, dpg.get_item_rect_min(row)[0] + 30, y)
    res["row_menu_open"] = m.is_open
    res["row_labels"] = m.labels
    res["row_selected"] = sorted(page.selected)
    res["row_sid"] = sid
    res["row_menu_shot"] = shot(app, out, "row_menu")
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def pages_file_browser(project, out, args):
    """Our file browser (the desktop has no portal, zenity or kdialog here): folders first, only
    .csv files for the CSV picker, hidden files off until asked, image thumbnails, multi-select,
    folder picking."""
    os.environ["AIMMS_FILE_DIALOG"] = "builtin"
    import dearpygui.dearpygui as dpg
    from aimms_fast.ui.file_dialog import FileBrowser
    folder = Path(args["folder"])
    app = start_app(project)
    res = {}
    got = []
    b = app.dialogs.pick_files("Import shots from CSV", [".csv", ".txt", ".tsv"], got.append, start=folder)
    app.settle(3)
    res["is_browser"] = isinstance(b, FileBrowser)
    res["csv_names"] = b.names
    res["filters"] = [f.name for f in b.filters]
    res["csv_shot"] = shot(app, out, "csv_picker")
    res["file_name_field"] = dpg.get_value(b.path_input)
    b.set_show_hidden(True)
    app.settle(2)
    res["csv_hidden_names"] = b.names
    b.set_show_hidden(False)
    b.set_filter(b.filters[1].name)
    app.settle(2)
    res["table_names"] = b.names
    b.set_filter(b.filters[0].name)
    b.click(b.names.index("a.csv"))
    app.settle(2)
    b.accept()
    app.settle(2)
    res["picked_csv"] = [[str(p) for p in files] for files in got]
    res["dialogs_after"] = len(app.dialogs.open)
    # Media picker with thumbnails and multi-select.
    got.clear()
    b = app.dialogs.pick_files("Add image takes", [".png", ".jpg"], got.append, start=folder / "pics")
    app.wait_until(lambda: not b.thumbs_pending, timeout=20)
    app.settle(4)
    res["media_names"] = b.names
    res["thumb_rect"] = [*dpg.get_item_rect_min(b._rows[0][1]), *dpg.get_item_rect_max(b._rows[0][1])]
    res["media_shot"] = shot(app, out, "media_picker")
    b.click(0)
    b.click(2, shift=True)
    b.click(1, ctrl=True)
    res["multi"] = [p.name for p in b.chosen()]
    b.accept()
    app.settle(2)
    res["picked_media"] = [[p.name for p in files] for files in got]
    # Folder picker: folders only, "Choose" gives the selected one (or the folder shown).
    chosen = []
    b = app.dialogs.pick_folder("Export starred takes into…", chosen.append, start=folder)
    app.settle(3)
    res["folder_names"] = b.names
    res["folder_shot"] = shot(app, out, "folder_picker")
    b.activate(b.names.index("sub"))
    app.settle(2)
    b.accept()
    app.settle(2)
    res["picked_folder"] = [str(p) for p in chosen]
    # Escape closes it (keys reach the dialog, not the page).
    from tests.ui.xinput import XInput
    xi = XInput()
    b = app.dialogs.pick_files("Add image takes", [".png"], got.append, start=folder)
    app.settle(3)
    res["shortcuts"] = [dpg.get_item_label(c) for c in dpg.get_item_children(b.side, 1)
                        if dpg.get_item_type(c).endswith("mvButton")]
    press(xi, app, "Escape")
    res["escape_closed"] = not b.alive
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def pages_words(project, out, args):
    """Light theme: the shot window's take header is readable; the edit dialog speaks in labels;
    Settings in user words; Esc (real key) clears the Shots search box."""
    import dearpygui.dearpygui as dpg
    from tests.ui.xinput import XInput
    from aimms_fast.ui import theme as T
    app = start_app(project)
    app.set_theme("light")
    app.show_page("images")
    g = app.pages["images"].grid
    wait_tiles(app, g)
    w = app.open_shot(g.cards[0].key, "image")
    app.settle(4)
    res = {"head_colour": list(dpg.get_item_configuration(w.d_head)["color"]),
           "head_text": dpg.get_value(w.d_head), "window_bg": list(T.PALETTES["light"]["window_bg"])}
    res["shot_window"] = shot(app, out, "shot_window_light")
    w.close()
    app.settle(2)
    app.show_page("shots")
    app.settle(3)
    page = app.pages["shots"]
    page.click(page.shown[0]["shot_id"])
    page.edit_selected()
    app.settle(3)
    labels = app._last_edit_labels
    res["edit_labels"] = {f: dpg.get_value(t) for f, t in labels.items()}
    res["edit_shot"] = shot(app, out, "edit_dialog")
    app.dialogs.close_top()
    app.settle(2)
    res["column_headers"] = [dpg.get_item_label(c) for c in dpg.get_item_children(page.table, 0)]
    xi = XInput()
    click(xi, app, *item_center(page.search))
    for k in "forest":
        press(xi, app, k)
    res["typed"] = dpg.get_value(page.search)
    res["shown_typed"] = len(page.shown)
    press(xi, app, "Escape")
    app.settle(2)
    res["after_escape"] = dpg.get_value(page.search)
    res["shown_after_escape"] = len(page.shown)
    res["all_rows"] = len(page.rows)
    app.show_page("settings")
    app.settle(4)
    res["settings_shot"] = shot(app, out, "settings_light")
    texts = []

    def walk(item):
        for slot in (0, 1, 2, 3):
            for c in dpg.get_item_children(item, slot) or []:
                t = dpg.get_item_type(c)
                if t.endswith("mvText"):
                    texts.append(str(dpg.get_value(c)))
                elif not t.endswith("mvTooltip"):
                    texts.append(str(dpg.get_item_label(c) or ""))
                if t.endswith("mvCollapsingHeader") and not dpg.get_value(c):
                    continue            # folded: what it holds is not on screen
                walk(c)
    walk(app.tabs["settings"])
    res["settings_words"] = texts
    res["errors"] = app.errors
    xi.close()
    app.shutdown()
    return res


@scenario
def pages_drop(project, out, args):
    """Files dropped from the desktop (a real XDND drag from another X client, as a file manager
    does it) onto a storyboard card and onto a shot window's take grid become takes of that shot."""
    import dearpygui.dearpygui as dpg
    from aimms_fast.store.takes import takes_for_shot
    from tests.ui.xinput import XInput
    app = start_app(project)
    app.show_page("images")
    g = app.pages["images"].grid
    wait_tiles(app, g)
    watcher = app._drop_watcher
    lib = ctypes.CDLL(__import__("dearpygui._dearpygui", fromlist=["x"]).__file__)
    lib.glfwGetCurrentContext.restype = ctypes.c_void_p
    lib.glfwGetX11Window.restype = ctypes.c_ulong
    lib.glfwGetX11Window.argtypes = [ctypes.c_void_p]
    target = lib.glfwGetX11Window(lib.glfwGetCurrentContext())
    src, xi = XdndSource(), XInput()
    vx, vy = dpg.get_viewport_pos()
    sid = g.cards[1].key
    before = len(takes_for_shot(app.project.conn, sid, "image"))
    cx, cy = _card_centre(g, 1)
    xi.move(vx + cx, vy + cy)            # the pointer is where the drag ends, as with a real mouse
    app.settle(2)
    files = [Path(f) for f in args["files"]]
    src.drop(target, vx + cx, vy + cy, files, lambda: app.settle(1))
    app.settle(4)
    res = {"status_accepted": src.status_accepted, "finished": src.finished,
           "handled": [[w, k, len(ids)] for w, k, ids in watcher.handled], "card_shot": sid,
           "images_after": len(takes_for_shot(app.project.conn, sid, "image")) - before,
           "videos_after": len(takes_for_shot(app.project.conn, sid, "video")),
           "card_subtitle": g.cards[1].subtitle}
    res["after_card_drop"] = shot(app, out, "after_card_drop")
    # Onto a shot window's take grid (over the storyboard: the window wins).
    w = app.open_shot(g.cards[0].key, "image")
    app.settle(4)
    x0, y0, x1, y1 = w.grid._visible_rect()
    px, py = (x0 + x1) / 2, y1 - 40                  # empty space in the take grid, under the cards
    xi.move(vx + px, vy + py)
    app.settle(2)
    n0 = len(w.takes)
    src.drop(target, vx + px, vy + py, [Path(args["files"][0])], lambda: app.settle(1))
    app.settle(4)
    res["window_handled"] = [[wh, k, len(ids)] for wh, k, ids in watcher.handled[1:]]
    res["window_takes_added"] = len(w.takes) - n0
    res["window_shot"] = w.shot_id
    res["after_window_drop"] = shot(app, out, "after_window_drop")
    res["errors"] = app.errors
    src.close()
    xi.close()
    app.shutdown()
    return res


# -- a minimal XDND drag source (X11 drag and drop, version 5) through ctypes --------------------------
# What a file manager does: XdndEnter / XdndPosition / XdndDrop client messages to the target window,
# then the text/uri-list answer to the target's selection request. The caller renders the app's
# frames between steps (`pump`).

ClientMessage, SelectionRequest, SelectionNotify = 33, 30, 31
PropModeReplace = 0


class _ClientData(ctypes.Union):
    _fields_ = [("b", ctypes.c_char * 20), ("s", ctypes.c_short * 10), ("l", ctypes.c_long * 5)]


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", _ClientData)]


class XSelectionRequestEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("owner", ctypes.c_ulong), ("requestor", ctypes.c_ulong),
                ("selection", ctypes.c_ulong), ("target", ctypes.c_ulong), ("property", ctypes.c_ulong),
                ("time", ctypes.c_ulong)]


class XSelectionEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("requestor", ctypes.c_ulong), ("selection", ctypes.c_ulong),
                ("target", ctypes.c_ulong), ("property", ctypes.c_ulong), ("time", ctypes.c_ulong)]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xclient", XClientMessageEvent),
                ("xselectionrequest", XSelectionRequestEvent), ("xselection", XSelectionEvent),
                ("pad", ctypes.c_long * 24)]


class XdndSource:
    def __init__(self):
        x = self.x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XCreateSimpleWindow.restype = ctypes.c_ulong
        x.XCreateSimpleWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_int] * 2 + \
            [ctypes.c_uint] * 3 + [ctypes.c_ulong] * 2
        x.XInternAtom.restype = ctypes.c_ulong
        x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x.XSetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        x.XChangeProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                      ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        x.XPending.argtypes = [ctypes.c_void_p]
        x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        x.XFlush.argtypes = [ctypes.c_void_p]
        x.XDestroyWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.dpy = x.XOpenDisplay(None)
        if not self.dpy:
            raise RuntimeError("cannot open the X display")
        self.root = x.XDefaultRootWindow(self.dpy)
        self.src = x.XCreateSimpleWindow(self.dpy, self.root, 0, 0, 1, 1, 0, 0, 0)
        self.atom = {n: x.XInternAtom(self.dpy, n.encode(), 0) for n in (
            "XdndAware", "XdndEnter", "XdndPosition", "XdndStatus", "XdndDrop", "XdndFinished",
            "XdndSelection", "XdndActionCopy", "text/uri-list")}
        self.status_accepted: bool | None = None
        self.finished = False
        self.data = b""

    def _send(self, target: int, msg: str, l: list[int]) -> None:
        ev = XEvent()
        ev.xclient.type = ClientMessage
        ev.xclient.display = self.dpy
        ev.xclient.window = target
        ev.xclient.message_type = self.atom[msg]
        ev.xclient.format = 32
        for i, v in enumerate(l):
            ev.xclient.data.l[i] = v
        self.x.XSendEvent(self.dpy, target, 0, 0, ctypes.byref(ev))
        self.x.XFlush(self.dpy)

    def serve(self) -> None:
        """Answer what the target asked (selection request, status, finished)."""
        while self.x.XPending(self.dpy):
            ev = XEvent()
            self.x.XNextEvent(self.dpy, ctypes.byref(ev))
            if ev.type == SelectionRequest:
                r = ev.xselectionrequest
                self.x.XChangeProperty(self.dpy, r.requestor, r.property, r.target, 8, PropModeReplace,
                                       self.data, len(self.data))
                out = XEvent()
                out.xselection.type = SelectionNotify
                out.xselection.display = self.dpy
                out.xselection.requestor = r.requestor
                out.xselection.selection = r.selection
                out.xselection.target = r.target
                out.xselection.property = r.property
                out.xselection.time = r.time
                self.x.XSendEvent(self.dpy, r.requestor, 0, 0, ctypes.byref(out))
                self.x.XFlush(self.dpy)
            elif ev.type == ClientMessage:
                if ev.xclient.message_type == self.atom["XdndStatus"]:
                    self.status_accepted = bool(ev.xclient.data.l[1] & 1)
                elif ev.xclient.message_type == self.atom["XdndFinished"]:
                    self.finished = True

    def drop(self, target: int, x_root: int, y_root: int, paths: list[Path], pump: Callable[[], None]) -> None:
        """Drag `paths` over the target window at root coordinates and drop them there."""
        self.data = "".join(f"{Path(p).resolve().as_uri()}\r\n" for p in paths).encode()
        self.x.XSetSelectionOwner(self.dpy, self.atom["XdndSelection"], self.src, 0)
        self._send(target, "XdndEnter", [self.src, 5 << 24, self.atom["text/uri-list"], 0, 0])
        pump()
        self._send(target, "XdndPosition", [self.src, 0, (int(x_root) << 16) | int(y_root), 0,
                                            self.atom["XdndActionCopy"]])
        for _ in range(6):
            pump()
            self.serve()
        self._send(target, "XdndDrop", [self.src, 0, 0, 0, 0])
        for _ in range(12):
            pump()
            self.serve()

    def close(self) -> None:
        if self.dpy:
            self.x.XDestroyWindow(self.dpy, self.src)
            self.x.XCloseDisplay(self.dpy)
            self.dpy = None


@scenario
def pages_native_dialog(project, out, args):
    """A native picker (AIMMS_FILE_DIALOG names it) runs off the UI thread: frames keep coming and
    the answer arrives on the UI thread through the app's frame loop."""
    import threading
    app = start_app(project)
    got, threads = [], []

    def on_files(files):
        threads.append(threading.current_thread() is threading.main_thread())
        got.append([str(f) for f in files])
    w = app.dialogs.pick_files("Import shots from CSV", [".csv", ".tsv"], on_files, start=Path(args["start"]))
    f0 = app.frames
    app.wait_until(lambda: bool(got), timeout=20)
    res = {"got": got, "frames_while_open": app.frames - f0, "on_ui_thread": threads,
           "waiter": type(w).__name__, "errors": app.errors}
    app.shutdown()
    return res
