"""Cut points: along the Video storyboard's starred takes in shot order, the LAST frame of shot N
beside the FIRST frame of shot N+1, for a continuity check. Left/Right walk the cuts, Enter opens
the pair in compare with N's tail and N+1's head (`open_compare(start_indices=...)`). A shot with
no starred video is a gap: its side of the cut says so instead of a picture.

Only the selected cut is decoded (two streams, one frame each): a 600-shot film's list is text,
so opening the view costs one query, not 1200 decodes. UI thread only.
"""
from __future__ import annotations

from dataclasses import dataclass

import dearpygui.dearpygui as dpg

from aimms_fast.store.review import CutShot, starred_sequence
from aimms_fast.ui.floating import FloatingWindow
from aimms_fast.ui.review_panes import RepeatGuard, fit_size, open_stream

LIST_H = 190


@dataclass(frozen=True)
class Cut:
    """The cut between two neighbouring shots (story order)."""
    out_shot: CutShot        # N: its last frame
    in_shot: CutShot         # N+1: its first frame

    @property
    def gap(self) -> bool:
        return self.out_shot.starred is None or self.in_shot.starred is None


def cuts_of(seq: list[CutShot]) -> list[Cut]:
    return [Cut(a, b) for a, b in zip(seq, seq[1:])]


def _side(s: CutShot) -> str:
    if s.starred is None:
        n = f" ({s.takes} take{'s' if s.takes != 1 else ''})" if s.takes else ""
        return f"{s.shot_order}. {s.shot_name}: GAP — no starred video{n}"
    return f"{s.shot_order}. {s.shot_name} (take {s.starred.take_number:02d})"


def gap_note(s: CutShot) -> str:
    if s.takes:
        return f"Gap: shot {s.shot_order} '{s.shot_name}' has {s.takes} video take{'s' if s.takes != 1 else ''} but none is starred."
    return f"Gap: shot {s.shot_order} '{s.shot_name}' has no video take yet."


class CutPointsWindow(FloatingWindow):
    key_context = "cutpoints"

    def __init__(self, app):
        super().__init__(app)
        self.section = app.section_filter
        self.cuts: list[Cut] = []
        self.selected = 0
        self.streams = [None, None]
        self.errors: list[str | None] = [None, None]
        self.indices: list[int | None] = [None, None]
        self.shown: list[int | None] = [None, None]
        self._rows: list[int] = []
        self._view_size = (0, 0)
        self._scroll_to = None
        self._keys = RepeatGuard(self.key_context)
        vw = dpg.get_viewport_client_width() or 1400
        vh = dpg.get_viewport_client_height() or 900
        w, h = min(1280, vw - 40), min(840, vh - 50)
        self.win = dpg.add_window(label="Cut points###cutpoints", width=w, height=h, pos=(30, 40),
                                  no_collapse=True, no_scrollbar=True, on_close=lambda: self.close())
        self._build(w, h)
        self.reload()

    def _build(self, w: int, h: int) -> None:
        from aimms_fast.ui.live_view import LiveView
        with dpg.group(parent=self.win, horizontal=True):
            dpg.add_button(label="< Previous cut", callback=lambda: self.on_action("move:-1", key=False))
            dpg.add_button(label="Next cut >", callback=lambda: self.on_action("move:+1", key=False))
            dpg.add_button(label="Open in compare (Enter)", callback=lambda: self.on_action("open", key=False))
            self.t_head = dpg.add_text("", color=(120, 180, 255))
        self.t_note = dpg.add_text("", parent=self.win, color=(255, 200, 90))
        self.view_box = dpg.add_child_window(parent=self.win, width=-1, height=-LIST_H - 8, border=False,
                                             no_scrollbar=True)
        self.list_box = dpg.add_child_window(parent=self.win, width=-1, height=LIST_H, border=True)
        vw, vh = max(64, w - 16), max(64, h - LIST_H - 90)
        self._view_size = (vw, vh)
        self.live = LiveView(self.app, self.view_box, vw, vh)

    # -- data ------------------------------------------------------------------------------------
    def reload(self) -> None:
        keep = self.cuts[self.selected] if self.cuts and 0 <= self.selected < len(self.cuts) else None
        seq = starred_sequence(self.app.project.conn, "video", section=self.section)
        self.cuts = cuts_of(seq)
        gaps = sum(1 for s in seq if s.starred is None)
        where = f" in section '{self.section}'" if self.section else ""
        dpg.set_value(self.t_head, f"{len(seq)} shots{where} · {len(self.cuts)} cuts · "
                                   f"{gaps} shot{'s' if gaps != 1 else ''} without a starred video")
        if keep is not None:
            same = [i for i, c in enumerate(self.cuts) if c.out_shot.shot_id == keep.out_shot.shot_id]
            self.selected = same[0] if same else min(self.selected, max(0, len(self.cuts) - 1))
        else:
            self.selected = 0
        dpg.delete_item(self.list_box, children_only=True)
        self._rows = []
        for i, c in enumerate(self.cuts):
            row = dpg.add_selectable(label=f"{i + 1:4d}.  {_side(c.out_shot)}   |   {_side(c.in_shot)}",
                                     parent=self.list_box, callback=lambda s, a, u: self.select(u), user_data=i)
            self._rows.append(row)
        if not self.cuts:
            dpg.add_text("A cut needs two shots: add shots and star one video take in each.", parent=self.list_box)
        self.select(self.selected, force=True)

    @property
    def cut(self) -> Cut | None:
        return self.cuts[self.selected] if 0 <= self.selected < len(self.cuts) else None

    def select(self, i: int, *, force: bool = False) -> None:
        """Show cut i (0-based) and decode its two frames."""
        if not self.cuts:
            self._close_streams()
            dpg.set_value(self.t_note, "")
            return
        i = max(0, min(len(self.cuts) - 1, int(i)))
        if i == self.selected and not force and self.streams != [None, None]:
            return
        for k, r in enumerate(self._rows):
            dpg.set_value(r, k == i)
        self.selected = i
        self._scroll_to = i
        self._open_pair()

    def _close_streams(self) -> None:
        for s in self.streams:
            if s is not None:
                s.close()
        self.streams = [None, None]

    def _open_pair(self) -> None:
        self._close_streams()
        c = self.cut
        size = self._pane_size()
        notes = []
        for k, s in enumerate((c.out_shot, c.in_shot)):
            self.shown[k] = None
            if s.starred is None:
                self.streams[k], self.errors[k], self.indices[k] = None, gap_note(s), None
                notes.append(gap_note(s))
                continue
            st, err = open_stream(self.app.project, s.starred, size)
            self.streams[k], self.errors[k] = st, err
            self.indices[k] = (st.info.frame_count - 1 if k == 0 else 0) if st is not None else None
            if st is not None:
                st.set_size(self._stream_size(st))
                st.want(self.indices[k], -1 if k == 0 else 1)
        dpg.set_value(self.t_note, "   ".join(notes))

    def _pane_size(self) -> tuple[int, int]:
        return self.live.pane_sizes(2, "side")[0]

    def _stream_size(self, s) -> tuple[int, int]:
        return fit_size(s.info.width, s.info.height, self._pane_size())

    def open_pair(self):
        """Enter: the selected cut in compare, N at its last frame beside N+1 at its first."""
        from aimms_fast.ui.compare import open_compare
        c = self.cut
        if c is None:
            return None
        if c.gap:
            missing = c.out_shot if c.out_shot.starred is None else c.in_shot
            self.app.toast(f"cannot compare: shot {missing.shot_order} '{missing.shot_name}' has no starred video")
            return None
        tail = self.indices[0]
        if tail is None:
            self.app.toast("the first take of this cut cannot be decoded")
            return None
        return open_compare(self.app, [c.out_shot.starred.take_id, c.in_shot.starred.take_id],
                            start_indices=[tail, 0])

    def on_action(self, action: str, *, key: bool = True) -> bool:
        """A keys.py "cutpoints" action (key=False: a button, never a key repeat). UI thread."""
        if key and self._keys.held(action):
            return True
        if action.startswith("move:"):
            self.select(self.selected + int(action[5:]))
        elif action == "open":
            self.open_pair()
        elif action == "close":
            self.close()
        else:
            return False
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
            for k, s in enumerate(self.streams):
                if s is not None:
                    s.set_size(self._stream_size(s))
                    s.want(self.indices[k], -1 if k == 0 else 1)
        if self._scroll_to is not None and self._rows:
            row = self._rows[self._scroll_to]
            y = dpg.get_item_pos(row)[1] - dpg.get_item_pos(self._rows[0])[1]
            top = dpg.get_y_scroll(self.list_box)
            if y < top or y > top + LIST_H - 40:
                dpg.set_y_scroll(self.list_box, max(0.0, y - LIST_H / 2))
            self._scroll_to = None
        if self.cut is None:
            return False
        frames, exact = [], True
        for k, s in enumerate(self.streams):
            f = None
            if s is not None:
                f = s.get(self.indices[k])
                if f is None and s.error:
                    self.errors[k] = s.error
                elif f is None:
                    exact = False
                else:
                    self.shown[k] = self.indices[k]
            frames.append(f)
        c = self.cut
        labels = [f"OUT  {_side(c.out_shot)}" + (f"  ·  last frame {self.indices[0]}" if self.indices[0] is not None else ""),
                  f"IN  {_side(c.in_shot)}" + ("  ·  first frame 0" if self.indices[1] is not None else "")]
        self.live.show(frames, layout="side", mode="panes", labels=labels, errors=list(self.errors))
        return not exact

    def view_rects(self) -> list[tuple[int, tuple[float, float, float, float]]]:
        return [(k, self.live.pane_rect(k)) for k in range(2)]

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        self.reload()

    def close(self) -> None:
        if not self.alive:
            return
        self._close_streams()
        self.live.destroy()
        super().close()


def open_cutpoints(app) -> CutPointsWindow | None:
    """The cut-points view of the Video storyboard (one window; a second call refreshes it). UI thread."""
    if app.project is None:
        return None
    for w in app.windows:
        if w.alive and isinstance(w, CutPointsWindow):
            w.section = app.section_filter
            w.reload()
            w.focus()
            return w
    w = CutPointsWindow(app)
    app.add_window(w)
    w.focus()
    return w
