"""Compare 2–4 takes (same shot or any shots) played by ONE transport: side by side, stacked or
2×2; wipe A/B with a draggable divider, difference |A−B| with a gain, blend with an opacity, and
an A/B toggle (1–4 show one pane full size). Sync by frame index or by normalised time.

The panes, their one transport and the shared keys live in ui/review_panes.py (the tournament
and cut points use them too); the hover text is ui/generation.py's summary, the shot window's lookup.

C (`add_to_compare`) collects takes without taking the keyboard from where it was pressed, so a
user picks the next take with the keys; C on a take already in the view goes there.

Everything here runs on the UI thread; the streams decode on their own threads.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError
from aimms_fast.store.review import review_takes
from aimms_fast.ui.floating import FloatingWindow
from aimms_fast.ui import review_chrome
from aimms_fast.ui import theme as T
from aimms_fast.ui.generation import generation_summary
from aimms_fast.ui.player import timecode
from aimms_fast.ui.review_panes import PaneSet, RepeatGuard, transport_action

MAX_PANES = 4
# Decoded frames kept per pane: 4 panes x 64 MB stays well inside the 800 MB for four open
# players; at a 620x340 pane that is ~75 frames (3 s at 24 fps) around the playhead.
PANE_BUDGET = 64 << 20
LETTERS = "ABCDEFGHI"
LAYOUTS = ("side", "stack", "grid")
MODES = ("panes", "wipe", "difference", "blend")
PARAM = {"wipe": (0.5, 0.0, 1.0, "divider"), "difference": (4.0, 1.0, 32.0, "gain"),
         "blend": (0.5, 0.0, 1.0, "opacity A")}
TOOLBAR_H = 118
FOCUS_BACK_TICKS = 4     # ticks in which C hands the keyboard back (see return_focus)


# -- the compare window ---------------------------------------------------------------------------

class CompareWindow(FloatingWindow):
    """2–4 takes in one window, one transport. Keys: keys.py context "compare"."""
    key_context = "compare"
    _count = 0

    def __init__(self, app, take_ids: list[str], *, start_indices: list[int] | None = None,
                 take_focus: bool = True):
        super().__init__(app)
        takes = review_takes(app.project.conn, list(take_ids)[:MAX_PANES])
        if not takes:
            raise AimmsError("none of these takes exists any more", path=app.project.root)
        CompareWindow._count += 1
        self.n_id = CompareWindow._count
        self.layout = "side" if len(takes) <= 2 else "grid"
        self.mode = "panes"
        self.params = {m: v[0] for m, v in PARAM.items()}
        self.solo: int | None = None
        self.ab = (0, 1)
        self._dragging = False
        self._was_down = False
        self._noted = None
        self._exact = False
        self._focus_back = None
        self._keys = RepeatGuard(self.key_context)
        self._view_size = (0, 0)
        self._tips: dict[str, str] = {}
        self._tip_for = None
        vw = dpg.get_viewport_client_width() or 1400
        vh = dpg.get_viewport_client_height() or 900
        off = 24 * (self.n_id % 5)
        w, h = min(1280, vw - 40), min(820, vh - 60)
        # C from elsewhere: the window must not take the keyboard when it appears (handing it back
        # costs the player a frame or two: its focus goes on to its picture's child window)
        self.win = dpg.add_window(label=self._title(len(takes)), width=w, height=h, pos=(20 + off, 40 + off),
                                  no_collapse=True, no_scrollbar=True, on_close=lambda: self.close(),
                                  no_focus_on_appearing=not take_focus)
        self._build(w, h)
        self.panes = PaneSet(app.project, takes, size=self._guess_size(len(takes)), budget_bytes=PANE_BUDGET)
        if start_indices:
            self.panes.set_start(list(start_indices))
        self._rebuild_pane_rows()

    def _title(self, n: int) -> str:
        return f"Compare {n} take{'s' if n != 1 else ''}###compare{self.n_id}"

    def _guess_size(self, n: int) -> tuple[int, int]:
        w, h = self._view_size if self._view_size[0] else (1200, 640)
        cols = 1 if n <= 1 else 2 if n <= 4 else 3
        rows = 1 if n <= 2 else 2
        return (max(16, w // cols), max(16, h // rows))

    # -- layout ----------------------------------------------------------------------------------
    def _build(self, w: int, h: int) -> None:
        from aimms_fast.ui.live_view import LiveView
        b = lambda label, action, **kw: dpg.add_button(label=label, callback=lambda: self.on_action(action, key=False), **kw)  # noqa: E731
        review_chrome.open_window(self.win)
        self.panel = review_chrome.add_panel(self.app, self.win, width=-1,
                                             height=review_chrome.rows_height(self.app, 3))
        with dpg.group(parent=self.panel, horizontal=True):
            self.b_play = b("Play", "play", width=60)
            b("|<", "first")
            b("-1s", "second:-1")
            b("<", "step:-1")
            b(">", "step:+1")
            b("+1s", "second:+1")
            b(">|", "last")
            b("J", "shuttle:-1")
            b("K", "pause")
            b("L", "shuttle:+1")
            b("In", "in")
            b("Out", "out")
            b("Clear in/out", "clear_inout")
            self.b_loop = b("Loop", "loop")
            self.t_status = dpg.add_text("")
        with dpg.group(parent=self.panel, horizontal=True):
            self.b_layout = b("Layout: side", "mode:side")
            self.b_mode = {m: b(m.capitalize(), f"mode:{m}") for m in MODES}
            self.b_sync = b("Sync: frame", "sync")
            self.s_param = dpg.add_slider_float(label="", width=150, min_value=0.0, max_value=1.0,
                                                default_value=0.5, show=False,
                                                callback=lambda s, a: self.set_param(a))
            dpg.add_text("A")
            self.c_a = dpg.add_combo([], width=48, callback=lambda s, a: self._set_ab(a, None))
            dpg.add_text("vs B")
            self.c_b = dpg.add_combo([], width=48, callback=lambda s, a: self._set_ab(None, a))
            dpg.add_text("  1–4 one pane · S star · Esc close",
                         color=(150, 155, 165))
        self.pane_row = dpg.add_group(parent=self.panel, horizontal=True)
        self.view_box = dpg.add_child_window(parent=self.win, width=-1, height=-1, border=False,
                                             no_scrollbar=True)
        with dpg.tooltip(parent=self.view_box) as self.tip:
            self.tip_text = dpg.add_text("", wrap=520)
        vw, vh = max(64, w), max(64, h - TOOLBAR_H - 24)
        self._view_size = (vw, vh)
        self.live = LiveView(self.app, self.view_box, vw, vh)

    def _rebuild_pane_rows(self) -> None:
        dpg.delete_item(self.pane_row, children_only=True)
        # One shot in every pane: "take 02" is enough (full labels cut the row off at 3-4 panes).
        one_shot = len({t.shot_id for t in self.panes.takes}) == 1
        for k, t in enumerate(self.panes.takes):
            with dpg.group(parent=self.pane_row, horizontal=True):
                dpg.add_button(label=f"{k + 1}", width=24, callback=lambda s, a, u: self.on_action(f"solo:{u}", key=False),
                               user_data=k + 1)
                dpg.add_button(label="Star", callback=lambda s, a, u: self.star(u), user_data=k,
                               enabled=not self.app.readonly)
                dpg.add_button(label="Remove", callback=lambda s, a, u: self.remove_pane(u), user_data=k)
                name = f"take {t.take_number:02d}" if one_shot and t.take_number is not None else t.label
                label = dpg.add_text(f"{LETTERS[k]}: {name}{'  ★' if t.starred else ''}",
                                     color=T.colour(self.app, "warning" if t.starred else "text"))
                with dpg.tooltip(label):
                    dpg.add_text(t.label)
                dpg.add_spacer(width=14)
        names = [LETTERS[k] for k in range(len(self.panes))]
        dpg.configure_item(self.c_a, items=names)
        dpg.configure_item(self.c_b, items=names)
        a, b = self.ab
        if len(names) >= 2:
            a, b = min(a, len(names) - 1), min(b, len(names) - 1)
            if a == b:
                a, b = 0, 1
            dpg.set_value(self.c_a, names[a])
            dpg.set_value(self.c_b, names[b])
        self.ab = (a, b)
        dpg.configure_item(self.win, label=self._title(len(self.panes)))

    # -- public ------------------------------------------------------------------------------------
    @property
    def take_ids(self) -> list[str]:
        return [t.take_id for t in self.panes.takes]

    @property
    def transport(self):
        return self.panes.transport

    def add_take(self, take_id: str) -> bool:
        """Add a pane (UI thread). False (with a toast) when full or already there."""
        if take_id in self.take_ids:
            self.app.toast("that take is already in the compare view")
            return False
        if len(self.panes) >= MAX_PANES:
            self.app.toast(f"compare holds {MAX_PANES} takes: remove one first")
            return False
        got = review_takes(self.app.project.conn, [take_id])
        if not got:
            self.app.toast("that take no longer exists")
            return False
        self.panes.add(got[0], self._guess_size(len(self.panes) + 1))
        if len(self.panes) == 3 and self.layout == "side":
            self.layout = "grid"
        self._rebuild_pane_rows()
        return True

    def focus(self) -> None:
        self._focus_back = None
        super().focus()

    def return_focus(self, src) -> None:
        """Give the keyboard back to `src` (a floating window, or None: the page) should this window
        hold it in the next few ticks (it was made not to take it when it appears)."""
        self._focus_back = [src, FOCUS_BACK_TICKS]

    def _apply_focus_back(self) -> None:
        src, n = self._focus_back
        # Only while this window holds the focus (it appears without taking it, see __init__, but a
        # click may): focusing a window again every frame keeps ImGui from settling on the child
        # window it hands the focus to.
        if self.focused():
            if src is not None and getattr(src, "alive", False):
                src.focus()
            elif dpg.does_item_exist("main"):
                dpg.focus_item("main")
        self._focus_back = [src, n - 1] if n > 1 else None

    def remove_pane(self, k: int) -> None:
        if not 0 <= k < len(self.panes):
            return
        self.panes.remove(k)
        if self.solo is not None:
            self.solo = None
        if not len(self.panes):
            self.close()
            return
        if len(self.panes) < 2 and self.mode != "panes":
            self.mode = "panes"
        self._rebuild_pane_rows()

    def star(self, k: int | None = None) -> None:
        """Star (toggle) the take of pane k; default: the pane under the mouse, else A."""
        if k is None:
            k = self.pane_under_mouse()
            k = 0 if k is None else k
        if not 0 <= k < len(self.panes):
            return
        from aimms_fast.ops.takes import star_take
        t = self.panes.takes[k]
        self.app.run_op(lambda: star_take(self.app.project, t.take_id), changed=("takes", [t.shot_id]),
                        title="Could not star the take")

    def pane_under_mouse(self) -> int | None:
        """The take index (pane) under the mouse in the current view, or None."""
        if not dpg.is_item_hovered(self.view_box):
            return None
        mx, my = dpg.get_mouse_pos(local=False)
        p = self.live.pane_at(mx, my)
        if p is None:
            return None
        view = self._view_panes()
        if self.solo is None and self.mode == "wipe":
            x0, y0, x1, y1 = self.live.pane_rect(0)
            frac = (mx - x0) / max(1.0, x1 - x0)
            return view[0] if frac < self.params["wipe"] else view[1]
        return view[p] if p < len(view) else None

    def _view_panes(self) -> list[int]:
        """Which panes the picture area shows now, in screen order."""
        n = len(self.panes)
        if self.solo is not None and self.solo < n:
            return [self.solo]
        if self.mode != "panes" and n >= 2:
            return list(self.ab)
        return list(range(n))

    def _view_layout(self) -> tuple[str, str]:
        n = len(self._view_panes())
        if n == 1 or (self.mode != "panes" and self.solo is None):
            return "single", ("panes" if n == 1 else self.mode)
        return self.layout, "panes"

    def view_rects(self) -> list[tuple[int, tuple[float, float, float, float]]]:
        """(pane, viewport rectangle) of what is on screen now (tests read pixels there)."""
        view = self._view_panes()
        layout, mode = self._view_layout()
        if mode != "panes":
            return [(view[0], self.live.pane_rect(0))]
        return [(k, self.live.pane_rect(j)) for j, k in enumerate(view)]

    # -- actions ------------------------------------------------------------------------------------
    def on_action(self, action: str, *, key: bool = True) -> bool:
        """A keys.py "compare" action (key=False: a button, never a key repeat). UI thread."""
        if key and self._keys.held(action):
            return True
        tr = self.transport
        if action == "clear_inout":
            tr.clear_in()
            tr.clear_out()
        elif transport_action(tr, action):
            pass
        elif action.startswith("solo:"):
            k = int(action[5:]) - 1
            if 0 <= k < len(self.panes):
                self.solo = None if self.solo == k else k
        elif action == "mode:side":
            if self.mode != "panes":
                self.mode = "panes"
            else:
                self.layout = LAYOUTS[(LAYOUTS.index(self.layout) + 1) % len(LAYOUTS)]
            self.solo = None
        elif action.startswith("mode:"):
            m = action[5:]
            if m in MODES:
                if m != "panes" and len(self.panes) < 2:
                    self.app.toast(f"{m} needs two takes: add another with C")
                    return True
                self.mode = "panes" if self.mode == m else m
                self.solo = None
        elif action == "sync":
            self.panes.set_sync("time" if tr.sync == "frame" else "frame")
        elif action == "star":
            self.star()
        elif action == "close":
            self.close()
        else:
            return False
        return True

    def set_param(self, v: float, mode: str | None = None) -> None:
        """Wipe position (0..1), difference gain or blend opacity of A — the slider's value."""
        mode = mode or self.mode
        if mode in PARAM:
            lo, hi = PARAM[mode][1], PARAM[mode][2]
            self.params[mode] = float(min(hi, max(lo, v)))

    def _set_ab(self, a, b) -> None:
        ka = LETTERS.index(a) if a else self.ab[0]
        kb = LETTERS.index(b) if b else self.ab[1]
        if ka != kb:
            self.ab = (ka, kb)

    # -- per frame ------------------------------------------------------------------------------------
    def tick(self) -> bool:
        if not self.alive or not dpg.does_item_exist(self.win):
            return False
        self._keys.tick()
        if self._focus_back is not None:
            self._apply_focus_back()
        self._fit()
        tr = self.transport
        tr.tick()
        dragging = self._mouse()
        exact = self._draw()
        self._update_controls()
        return bool(tr.rate) or not exact or dragging

    def _fit(self) -> None:
        w, h = dpg.get_item_rect_size(self.view_box)
        if w > 16 and h > 16 and (int(w), int(h)) != self._view_size:
            self._view_size = (int(w), int(h))
            self.live.set_size(int(w), int(h))

    def _mouse(self) -> bool:
        down = dpg.is_mouse_button_down(dpg.mvMouseButton_Left)
        hovered = dpg.is_item_hovered(self.view_box)
        wipe = self.mode == "wipe" and self.solo is None and len(self.panes) >= 2
        if down and not self._was_down:
            self._dragging = wipe and hovered
        if not down:
            self._dragging = False
        self._was_down = down
        if self._dragging:
            mx, _ = dpg.get_mouse_pos(local=False)
            x0, _, x1, _ = self.live.pane_rect(0)
            self.params["wipe"] = float(min(1.0, max(0.0, (mx - x0) / max(1.0, x1 - x0))))
        if hovered:
            k = self.pane_under_mouse()
            tid = self.panes.takes[k].take_id if k is not None else None
            if tid != self._tip_for:
                self._tip_for = tid
                if tid is not None and tid not in self._tips:
                    self._tips[tid] = generation_summary(self.app.project, self.panes.takes[k])
                dpg.set_value(self.tip_text, self._tips.get(tid, "") if tid else "")
        dpg.configure_item(self.tip, show=hovered and self._tip_for is not None and not self._dragging)
        return self._dragging

    def _draw(self) -> bool:
        """Hand the current frames to the LiveView (every frame: it rewrites a pane only when its
        frame object, mode or size changed, so a still picture costs nothing)."""
        view = self._view_panes()
        layout, mode = self._view_layout()
        sizes = self.live.pane_sizes(1 if mode != "panes" else len(view), layout)
        for j, k in enumerate(view):
            self.panes.set_size(k, sizes[0] if mode != "panes" else sizes[j])
        frames, exact = self.panes.poll()
        errors = [self.panes.errors[k] for k in view]
        self.live.show([frames[k] for k in view], layout=layout, mode=mode, param=self.params.get(mode, 0.5),
                       labels=[self._label(k) for k in view], errors=errors)
        live = self.panes._live()
        if live and self.panes.shown[live[0]] == self.panes.indices()[live[0]]:
            if self._noted != self.transport.index:
                self._noted = self.transport.index
                self.transport.note_shown(self.transport.index)
        self._exact = exact
        return exact

    def settled(self) -> bool:
        """True when every pane shows its exact frame for the playhead (tests; then one more
        rendered frame puts it on screen)."""
        return self._exact and not self.transport.rate

    def picture_rects(self) -> list[tuple[int, tuple[float, float, float, float]]]:
        """(pane, viewport rectangle of its letterboxed picture) for what is on screen now."""
        view = self._view_panes()
        _, mode = self._view_layout()
        if mode != "panes":
            return [(view[0], self.live.picture_rect(0))]
        return [(k, self.live.picture_rect(j)) for j, k in enumerate(view)]

    def _label(self, k: int) -> str:
        t = self.panes.takes[k]
        i = self.panes.indices()[k]
        frame = f"  ·  frame {i}" if i is not None else ""
        kind = "  (image)" if t.storyboard == "image" else ""
        return f"{LETTERS[k]}  {t.label}{kind}{'  ★' if t.starred else ''}{frame}"

    def _update_controls(self) -> None:
        tr = self.transport
        info = self.panes.master_info()
        if info is not None:
            i = tr.index
            t = float(info.times[i]) if i < len(info.times) else 0.0
            rate = f"  ·  {tr.rate:+g}x" if tr.rate else "  ·  paused"
            io = ""
            if tr.in_index is not None or tr.out_index is not None:
                io = f"  ·  in {tr.in_index if tr.in_index is not None else '-'} out " \
                     f"{tr.out_index if tr.out_index is not None else '-'}"
            span = "timeline frame" if self.panes.timeline is not None else "frame"   # cut pair: the union
            text = (f"{span} {i} / {info.frame_count - 1}  ·  {timecode(t, info.fps)}  ·  {info.fps:.3g} fps{rate}"
                    f"  ·  dropped {tr.dropped}{io}{'  ·  loop' if tr.loop else ''}")
        else:
            text = "no playable take"
        if dpg.get_value(self.t_status) != text:
            dpg.set_value(self.t_status, text)
        dpg.set_item_label(self.b_play, "Pause" if tr.rate else "Play")
        dpg.set_item_label(self.b_layout, f"Layout: {self.layout}")
        dpg.set_item_label(self.b_sync, f"Sync: {tr.sync}")
        dpg.set_item_label(self.b_loop, "Loop: on" if tr.loop else "Loop")
        p = PARAM.get(self.mode)
        show = p is not None and self.solo is None
        dpg.configure_item(self.s_param, show=show)
        if show:
            dpg.configure_item(self.s_param, min_value=p[1], max_value=p[2], label=p[3])
            if abs(dpg.get_value(self.s_param) - self.params[self.mode]) > 1e-6:
                dpg.set_value(self.s_param, self.params[self.mode])

    # -- shell hooks ------------------------------------------------------------------------------------
    def relayout(self) -> None:
        review_chrome.recolour(self.app, self.panel, 3)

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if what == "takes" and shot_ids and not set(shot_ids) & {t.shot_id for t in self.panes.takes}:
            return
        fresh = {t.take_id: t for t in review_takes(self.app.project.conn, self.take_ids)}
        for k in reversed(range(len(self.panes))):
            if self.panes.takes[k].take_id not in fresh:
                self.remove_pane(k)
                if not self.alive:
                    return
        self.panes.takes = [fresh[t.take_id] for t in self.panes.takes]
        self._tips.clear()
        self._tip_for = None
        self._rebuild_pane_rows()

    def close(self) -> None:
        if not self.alive:
            return
        self.panes.close()
        self.live.destroy()
        super().close()


# -- entry points -------------------------------------------------------------------------------------

def _open_compare_window(app):
    for w in reversed(app.windows):
        if w.alive and isinstance(w, CompareWindow):
            return w
    return None


def open_compare(app, take_ids: list[str], *, start_indices: list[int] | None = None,
                 focus: bool = True) -> CompareWindow | None:
    """A new compare window with these takes (at most 4), pane k opened at frame start_indices[k]
    (cut points: N's last frame beside N+1's first). UI thread."""
    if app.project is None or not take_ids:
        return None
    if len(take_ids) > MAX_PANES:
        app.toast(f"compare shows {MAX_PANES} takes at most: the first {MAX_PANES} are open")
    try:
        w = CompareWindow(app, list(take_ids), start_indices=start_indices, take_focus=focus)
    except AimmsError as e:
        app.show_error("Could not open the compare view", e)
        return None
    app.add_window(w)
    if focus:
        w.focus()
    return w


def add_to_compare(app, take_id: str) -> CompareWindow | None:
    """C in the storyboard, the shot window or the player: add the take to the open compare window,
    or open one with it. The keyboard stays where it was, so the next take can be picked and added
    with the keys too; C on a take that is already in the compare view goes to the compare view
    (keys from then on drive it). UI thread."""
    if app.project is None:
        return None
    src = app.focused_window()
    w = _open_compare_window(app)
    if w is not None and take_id in w.take_ids:
        w.focus()
        return w
    if w is None:
        w = open_compare(app, [take_id], focus=False)
        if w is None:
            return None
    elif not w.add_take(take_id):
        return w
    n = len(w.panes)
    app.toast(f"compare: {n} take{'s' if n != 1 else ''} · C on a take again: go to compare"
              + (" (W wipe, D difference)" if n >= 2 else ""))
    w.return_focus(src)
    return w
