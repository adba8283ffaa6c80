"""The player's scrub bar: the take's cached filmstrip (the same texture the storyboard's hover scrub
uses) drawn across a drawlist, the playhead, the in/out range and an editor's trim.

Dragging on it seeks the transport; while the exact frame decodes, `filmstrip_frame` gives the
nearest cached filmstrip frame so the picture follows the mouse at once (the player shows it until
the decoded frame replaces it). The filmstrip texture belongs to the texture bank, which may evict
it: the bar stops drawing it first (`on_evict`), then asks for it again at most once a second.
UI thread only.
"""
from __future__ import annotations

import logging
import time

import dearpygui.dearpygui as dpg
import numpy as np

log = logging.getLogger(__name__)

SCRUB_H = 40                 # bar height (filmstrip frames are drawn into it)
HEAD_COLOUR = (255, 200, 40)
INOUT_FILL = (90, 140, 255, 60)
TRIM_COLOUR = (80, 220, 140)  # an editor's in/out (re-imported edit): brackets drawn on the bar


class ScrubBar:
    """One player's scrub bar. `drawlist` is its Dear PyGui item (tests read its rectangle)."""

    def __init__(self, app, parent, width: int):
        self.app = app
        self.width = max(1, int(width))
        self.rel: str | None = None
        self.frame_count = 1
        self.times = None
        self.trim: tuple[int, int] | None = None    # editor's (in, out), inclusive frame indices
        self.scrubbing = False
        self._was_playing = False
        self._strip_np = None                    # numpy filmstrip (None: not read yet; False: none)
        self._strip_tag = None
        self._strip_items: list = []
        self._strip_asked = 0.0
        w = self.width
        self.drawlist = dpg.add_drawlist(width=w, height=SCRUB_H, parent=parent)
        self.bg = dpg.draw_rectangle((0, 0), (w, SCRUB_H), fill=(35, 35, 38), color=(60, 60, 64),
                                     parent=self.drawlist)
        self.inout = dpg.draw_rectangle((0, 0), (0, SCRUB_H), fill=INOUT_FILL, color=(0, 0, 0, 0),
                                        parent=self.drawlist, show=False)
        self.trim_marks = dpg.draw_polyline([(0, 0)], color=TRIM_COLOUR, thickness=2, parent=self.drawlist,
                                            show=False)
        self.trim_marks_out = dpg.draw_polyline([(0, 0)], color=TRIM_COLOUR, thickness=2,
                                                parent=self.drawlist, show=False)
        self.head = dpg.draw_line((0, 0), (0, SCRUB_H), color=HEAD_COLOUR, thickness=2, parent=self.drawlist)
        app.textures.on_evict(self._on_evict)

    # -- take and size ---------------------------------------------------------------------------
    def set_take(self, rel: str | None, frame_count: int = 1, times=None,
                 trim: tuple[int, int] | None = None) -> None:
        """Show another take (None: none). `times`: seconds of each frame (filmstrip matching);
        `trim`: an editor's inclusive (in, out) frames, drawn as brackets."""
        self.rel = rel
        self.frame_count = max(1, int(frame_count))
        self.times = times
        self.trim = trim
        self._strip_np = None
        self.scrubbing = False
        self._clear_strip()

    def set_width(self, w: int) -> None:
        self.width = max(1, int(w))
        dpg.configure_item(self.drawlist, width=self.width)
        dpg.configure_item(self.bg, pmax=(self.width, SCRUB_H))
        self._clear_strip()

    def show(self, on: bool) -> None:
        dpg.configure_item(self.drawlist, show=on)

    def x_of(self, index: float) -> float:
        """Left edge of frame `index` on the bar, in drawlist pixels."""
        return self.width * index / self.frame_count

    # -- drawing -----------------------------------------------------------------------------------
    def _clear_strip(self) -> None:
        for it in self._strip_items:
            if dpg.does_item_exist(it):
                dpg.delete_item(it)
        self._strip_items = []
        self._strip_tag = None

    def _on_evict(self, tags: set) -> None:
        # The bank deletes the filmstrip texture right after this: stop drawing it first.
        if self._strip_tag is not None and self._strip_tag in tags:
            self._clear_strip()

    def draw(self, transport) -> None:
        """Per frame: filmstrip (once it is resident), playhead, in/out range, trim brackets."""
        w, n = self.width, self.frame_count
        services = self.app.services
        strip = self.app.textures.strip(self.rel) if services is not None and self.rel else None
        now = time.monotonic()
        if strip is None and services is not None and self.rel and now - self._strip_asked > 1.0:
            # Not every frame: the pages ask for their visible tiles each frame and the newest
            # request cancels older ones; once a second keeps ours in the queue without a fight.
            self._strip_asked = now
            services.request([self.rel], [])
        if strip is not None and strip.tag != self._strip_tag:
            self._clear_strip()
            k = len(strip.regions)
            for j, reg in enumerate(strip.regions):
                x0, x1 = w * j / k, w * (j + 1) / k
                self._strip_items.append(dpg.draw_image(reg.tag, (x0, 1), (x1, SCRUB_H - 1), uv_min=reg.uv_min,
                                                        uv_max=reg.uv_max, parent=self.drawlist,
                                                        before=self.inout))
            self._strip_tag = strip.tag
        x = self.x_of(transport.index + 0.5)
        dpg.configure_item(self.head, p1=(x, 0), p2=(x, SCRUB_H))
        if transport.in_index is not None or transport.out_index is not None:
            a = 0 if transport.in_index is None else transport.in_index
            b = n - 1 if transport.out_index is None else transport.out_index
            dpg.configure_item(self.inout, pmin=(self.x_of(a), 0), pmax=(self.x_of(b + 1), SCRUB_H), show=True)
        else:
            dpg.configure_item(self.inout, show=False)
        if self.trim is not None:
            a, b = self.x_of(self.trim[0]) + 1, self.x_of(self.trim[1] + 1) - 1
            dpg.configure_item(self.trim_marks, points=[(a + 6, 1), (a, 1), (a, SCRUB_H - 1), (a + 6, SCRUB_H - 1)],
                               show=True)
            dpg.configure_item(self.trim_marks_out, points=[(b - 6, 1), (b, 1), (b, SCRUB_H - 1),
                                                            (b - 6, SCRUB_H - 1)], show=True)
        else:
            dpg.configure_item(self.trim_marks, show=False)
            dpg.configure_item(self.trim_marks_out, show=False)

    # -- input -------------------------------------------------------------------------------------
    def drag(self, transport) -> bool:
        """Per frame: a drag on the bar (a drawlist is an invisible button: active while held)
        pauses and seeks; on release, playback resumes if it was playing. True while dragging."""
        if dpg.is_item_active(self.drawlist):
            if not self.scrubbing:
                self.scrubbing = True
                self._was_playing = bool(transport.rate)
                transport.pause()
            mx, _ = dpg.get_mouse_pos(local=False)
            x0, _ = dpg.get_item_rect_min(self.drawlist)
            frac = min(1.0, max(0.0, (mx - x0) / max(1, self.width)))
            n = self.frame_count
            transport.seek(min(n - 1, int(frac * n)))
            return True
        if self.scrubbing:
            self.scrubbing = False
            if self._was_playing:
                transport.play()
        return False

    def filmstrip_frame(self, i: int):
        """(k, frame) of the cached filmstrip frame nearest to frame i in time, or None."""
        if self._strip_np is None:
            tiles = self.app.services.tiles if self.app.services is not None else None
            got = None
            if tiles is not None and self.rel:
                try:
                    got = tiles.filmstrip(self.rel)
                except Exception:   # noqa: BLE001 - the cache is a convenience: exact frames still come
                    log.exception("filmstrip read failed for %s (scrubbing shows exact frames only)", self.rel)
            self._strip_np = got or False
        if not self._strip_np:
            return None
        frames, times = self._strip_np
        if len(frames) == 0:
            return None
        if times is not None and self.times is not None and len(times) == len(frames):
            t = float(self.times[i])
            k = int(np.argmin(np.abs(np.asarray(times, float) - t)))
        else:
            k = min(len(frames) - 1, int(i * len(frames) / self.frame_count))
        f = frames[k]
        if f.shape[-1] == 4:      # cache tiles are letterboxed: alpha 0 outside the picture
            rows = np.flatnonzero(f[..., 3].max(axis=1))
            cols = np.flatnonzero(f[..., 3].max(axis=0))
            if len(rows) and len(cols):
                f = f[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        return k, np.ascontiguousarray(f)

    def destroy(self) -> None:
        self.app.textures.off_evict(self._on_evict)
        self._clear_strip()
