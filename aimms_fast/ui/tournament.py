"""Tournament: every playable take of one shot in an N-up grid (up to 9, 3×3) playing in sync on
one transport; number keys 1–9 star that take at once (database, storyboard, the pane's mark), Tab /
Shift+Tab go to the next / previous shot that has takes, so a whole film's stars (600 shots) can
be picked without the mouse.

A number key stars; it never toggles off (a second press on the chosen take keeps it chosen: rapid
picking must not undo itself). Image takes star into reference slot 1 (the storyboard card's take).
UI thread only; the streams decode on their own threads.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError
from aimms_fast.store.review import review_shots, shot_review_takes
from aimms_fast.ui import review_chrome
from aimms_fast.ui.floating import FloatingWindow
from aimms_fast.ui.player import timecode
from aimms_fast.ui.review_panes import PaneSet, RepeatGuard, transport_action

MAX_TAKES = 9
# Decoded frames kept per take: 9 x 32 MB; a 3x3 pane (~440x250) holds ~75 frames of it.
PANE_BUDGET = 32 << 20
STAR_GOLD = (255, 200, 40, 255)


def grid_layout(n: int) -> str:
    """LiveView layout for n panes: one, side by side, 2x2, or 3x3 beyond four."""
    return "single" if n <= 1 else "side" if n == 2 else "grid"


def _starred_theme(app) -> int:
    """Gold button for the starred take (made once per app, on the UI thread)."""
    th = app.themes.get("review_starred")
    if th is None:
        with dpg.theme() as th:
            with dpg.theme_component(dpg.mvButton):
                dpg.add_theme_color(dpg.mvThemeCol_Button, (170, 130, 20))
                dpg.add_theme_color(dpg.mvThemeCol_Text, (255, 255, 255))
        app.themes["review_starred"] = th
    return th


class TournamentWindow(FloatingWindow):
    key_context = "tournament"

    def __init__(self, app, shot_id: int, storyboard: str = "video"):
        super().__init__(app)
        if storyboard not in ("image", "video"):
            raise AimmsError(f"unknown storyboard '{storyboard}'", hint="use image or video")
        self.storyboard = storyboard
        self.shot_id = int(shot_id)
        self.panes: PaneSet | None = None
        self.takes = []
        self.more = 0
        self._keys = RepeatGuard(self.key_context)
        self._noted = None
        self._view_size = (0, 0)
        vw = dpg.get_viewport_client_width() or 1400
        vh = dpg.get_viewport_client_height() or 900
        w, h = min(1360, vw - 30), min(860, vh - 50)
        self.win = dpg.add_window(label="Tournament###tournament", width=w, height=h, pos=(15, 35),
                                  no_collapse=True, no_scrollbar=True, on_close=lambda: self.close())
        self._build(w, h)
        self.load_shot(self.shot_id)

    def _build(self, w: int, h: int) -> None:
        from aimms_fast.ui.live_view import LiveView
        b = lambda label, action, **kw: dpg.add_button(label=label, callback=lambda: self.on_action(action, key=False), **kw)  # noqa: E731
        review_chrome.open_window(self.win)     # no window background under the panes
        self.panel = review_chrome.add_panel(self.app, self.win, width=-1,
                                             height=review_chrome.rows_height(self.app, 3))
        with dpg.group(parent=self.panel, horizontal=True):
            b("< Shot (Shift+Tab)", "shot:-1")
            b("Shot > (Tab)", "shot:+1")
            self.t_shot = dpg.add_text("", color=(120, 180, 255))
        with dpg.group(parent=self.panel, horizontal=True):
            self.b_play = b("Pause", "play", width=60)
            b("|<", "first")
            b("<", "step:-1")
            b(">", "step:+1")
            b(">|", "last")
            b("J", "shuttle:-1")
            b("K", "pause")
            b("L", "shuttle:+1")
            self.t_status = dpg.add_text("")
        self.star_row = dpg.add_group(parent=self.panel, horizontal=True)
        self.view_box = dpg.add_child_window(parent=self.win, width=-1, height=-1, border=False, no_scrollbar=True)
        vw, vh = max(64, w - 2), max(64, h - 120)
        self._view_size = (vw, vh)
        self.live = LiveView(self.app, self.view_box, vw, vh)
        # The starred pane's gold frame: our own layer, created after LiveView's, so drawn on top.
        self._mark_layer = dpg.add_draw_layer(parent=self.live.drawlist)
        self._mark = dpg.draw_rectangle((0, 0), (1, 1), color=STAR_GOLD, thickness=4, show=False,
                                        parent=self._mark_layer)

    # -- shots -----------------------------------------------------------------------------------
    def shot_ids(self) -> list[int]:
        """Shots with playable takes, in story order (the section filter's, when this shot is in it)."""
        conn = self.app.project.conn
        sec = self.app.section_filter
        ids = review_shots(conn, self.storyboard, section=sec) if sec is not None else []
        if self.shot_id not in ids:
            ids = review_shots(conn, self.storyboard)
        return ids

    def load_shot(self, shot_id: int) -> None:
        from aimms_fast.store.shots import get_shot
        conn = self.app.project.conn
        shot = get_shot(conn, shot_id)
        if shot is None:
            raise AimmsError(f"no shot with id {shot_id}", path=self.app.project.root)
        keep_rate = self.panes.transport.rate if self.panes is not None else 1.0
        if self.panes is not None:
            self.panes.close()
        self.shot_id = int(shot_id)
        self.shot = shot
        takes = shot_review_takes(conn, self.shot_id, self.storyboard)
        self.more = max(0, len(takes) - MAX_TAKES)
        self.takes = takes[:MAX_TAKES]
        n = max(1, len(self.takes))
        self.panes = PaneSet(self.app.project, self.takes, size=self._guess_size(n), budget_bytes=PANE_BUDGET)
        tr = self.panes.transport
        tr.loop = True
        if keep_rate and self.takes and self.storyboard == "video":
            tr.play()
        self._rebuild_star_row()
        self._noted = None

    def _guess_size(self, n: int) -> tuple[int, int]:
        w, h = self._view_size
        cols = 1 if n <= 1 else 2 if n <= 4 else 3
        rows = 1 if n <= 2 else 2 if n <= 4 else 3
        return max(16, w // cols), max(16, h // rows)

    def _rebuild_star_row(self) -> None:
        dpg.delete_item(self.star_row, children_only=True)
        s = self.shot
        kind = "video" if self.storyboard == "video" else "image"
        ids = self.shot_ids()
        pos = f"shot {ids.index(self.shot_id) + 1} of {len(ids)} with takes" if self.shot_id in ids else ""
        more = f"  ·  showing {MAX_TAKES} of {MAX_TAKES + self.more} takes" if self.more else ""
        dpg.set_value(self.t_shot, f"{s['order_number']}. {s['shot_name']}  ·  {len(self.takes)} {kind} "
                                   f"take{'s' if len(self.takes) != 1 else ''}  ·  {pos}{more}")
        dpg.configure_item(self.win, label=f"Tournament: {s['order_number']}. {s['shot_name']}###tournament")
        if not self.takes:
            dpg.add_text(f"This shot has no {kind} takes.", parent=self.star_row)
        for k, t in enumerate(self.takes):
            lab = f"{k + 1}: take {t.take_number:02d}" + ("  ★" if t.starred else "")
            btn = dpg.add_button(label=lab, parent=self.star_row, enabled=not self.app.readonly,
                                 callback=lambda s_, a, u: self.star(u), user_data=k + 1)
            if t.starred:
                dpg.bind_item_theme(btn, _starred_theme(self.app))

    # -- public --------------------------------------------------------------------------------------
    @property
    def transport(self):
        return self.panes.transport

    @property
    def starred_index(self) -> int | None:
        """1-based number of the starred take on screen, or None."""
        for k, t in enumerate(self.takes):
            if t.starred:
                return k + 1
        return None

    def star(self, n: int) -> None:
        """Star take n (1-based, as the number keys); the storyboard shows it at once."""
        if not 1 <= n <= len(self.takes):
            self.app.toast(f"there is no take {n} in this shot")
            return
        from aimms_fast.ops.takes import star_take
        t = self.takes[n - 1]
        slot = 1 if self.storyboard == "image" else None
        self.app.run_op(lambda: star_take(self.app.project, t.take_id, slot=slot, on=True),
                        changed=("takes", [t.shot_id]), title="Could not star the take")

    def go(self, delta: int) -> None:
        """Next / previous shot with takes (Tab / Shift+Tab), in story order; also from a shot
        that has lost its takes meanwhile."""
        ids = self.shot_ids()
        if self.shot_id in ids:
            i = ids.index(self.shot_id) + (1 if delta > 0 else -1)
            target = ids[i] if 0 <= i < len(ids) else None
        else:
            from aimms_fast.store.shots import list_shots
            order = {s["shot_id"]: n for n, s in enumerate(list_shots(self.app.project.conn))}
            here = order.get(self.shot_id, -1)
            after = [s for s in ids if order.get(s, -1) > here]
            before = [s for s in ids if order.get(s, -1) < here]
            target = (after[0] if after else None) if delta > 0 else (before[-1] if before else None)
        if target is None:
            self.app.toast("last shot with takes" if delta > 0 else "first shot with takes")
            return
        self.load_shot(target)

    def on_action(self, action: str, *, key: bool = True) -> bool:
        """A keys.py "tournament" action (key=False: a button, never a key repeat). UI thread."""
        if key and self._keys.held(action):
            return True
        if action.startswith("star:"):
            self.star(int(action[5:]))
        elif action.startswith("shot:"):
            self.go(int(action[5:]))
        elif action == "close":
            self.close()
        elif not transport_action(self.transport, action):
            return False
        self._noted = None
        return True

    # -- per frame -----------------------------------------------------------------------------------
    def tick(self) -> bool:
        if not self.alive or not dpg.does_item_exist(self.win):
            return False
        self._keys.tick()
        w, h = dpg.get_item_rect_size(self.view_box)
        if w > 16 and h > 16 and (int(w), int(h)) != self._view_size:
            self._view_size = (int(w), int(h))
            self.live.set_size(int(w), int(h))
            self._noted = None
        tr = self.transport
        tr.tick()
        n = len(self.takes)
        layout = grid_layout(n)
        exact = True
        if n:
            for k, size in enumerate(self.live.pane_sizes(n, layout)):
                self.panes.set_size(k, size)
            frames, exact = self.panes.poll()
            labels = [f"{k + 1}  take {t.take_number:02d}" + ("   ★ STARRED" if t.starred else "")
                      for k, t in enumerate(self.takes)]
            self.live.show(frames, layout=layout, mode="panes", labels=labels, errors=list(self.panes.errors))
            live = self.panes._live()
            if live and self.panes.shown[live[0]] == self.panes.indices()[live[0]] and self._noted != tr.index:
                self._noted = tr.index
                tr.note_shown(tr.index)
        self._mark_starred()
        info = self.panes.master_info()
        if info is not None:
            t = float(info.times[tr.index]) if tr.index < len(info.times) else 0.0
            text = (f"frame {tr.index} / {info.frame_count - 1}  ·  {timecode(t, info.fps)}  ·  "
                    f"{'paused' if not tr.rate else f'{tr.rate:+g}x'}  ·  {'1' if n <= 1 else f'1–{n}'} star  ·  "
                    f"Tab next shot")
        else:
            text = "no playable take"
        if dpg.get_value(self.t_status) != text:
            dpg.set_value(self.t_status, text)
        dpg.set_item_label(self.b_play, "Pause" if tr.rate else "Play")
        return bool(tr.rate) or not exact

    def _mark_starred(self) -> None:
        k = self.starred_index
        if k is None or k > self.live.pane_count:
            dpg.configure_item(self._mark, show=False)
            return
        ox, oy = dpg.get_item_rect_min(self.live.drawlist)
        x0, y0, x1, y1 = self.live.pane_rect(k - 1)
        dpg.configure_item(self._mark, pmin=(x0 - ox + 2, y0 - oy + 2), pmax=(x1 - ox - 2, y1 - oy - 2), show=True)

    def view_rects(self) -> list[tuple[int, tuple[float, float, float, float]]]:
        return [(k, self.live.pane_rect(k)) for k in range(len(self.takes))]

    def relayout(self) -> None:
        review_chrome.recolour(self.app, self.panel, 3)

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if what == "takes" and shot_ids and self.shot_id not in shot_ids:
            return
        fresh = shot_review_takes(self.app.project.conn, self.shot_id, self.storyboard)[:MAX_TAKES]
        if [t.take_id for t in fresh] != [t.take_id for t in self.takes]:
            self.load_shot(self.shot_id)       # takes added or deleted: new grid
            return
        self.takes = fresh                     # only stars changed: keep playing
        self.panes.takes = list(fresh)
        self._rebuild_star_row()
        self._noted = None

    def close(self) -> None:
        if not self.alive:
            return
        if self.panes is not None:
            self.panes.close()
        self.live.destroy()
        super().close()


def open_tournament(app, shot_id: int, storyboard: str = "video") -> TournamentWindow | None:
    """The tournament for one shot (one window: a second call moves it to that shot). UI thread."""
    if app.project is None:
        return None
    for w in app.windows:
        if w.alive and isinstance(w, TournamentWindow):
            try:
                if w.storyboard != storyboard:
                    w.storyboard = storyboard
                w.load_shot(shot_id)
            except AimmsError as e:
                app.show_error("Could not open the tournament", e)
            w.focus()
            return w
    try:
        w = TournamentWindow(app, shot_id, storyboard)
    except AimmsError as e:
        app.show_error("Could not open the tournament", e)
        return None
    app.add_window(w)
    w.focus()
    return w
