"""LiveView: the picture area of the player / compare / tournament / cut-points windows (panes of
live frames, or one pane with two takes composed: wipe, difference, blend).

Why it looks like this (see ../shared/DESIGN.md; numbers from tests/ui/scn_live_view.py
`live_view_bench`, CPU ms per frame of the whole process incl. llvmpipe, 2 vCPU, Xvfb):
- Dear PyGui re-uploads raw/dynamic textures in full EVERY frame and takes float32 only, so the
  fast ("gl") backend keeps each pane in a STATIC Dear PyGui texture and writes uint8 pixels straight
  into its GL texture through moderngl (`ctx.external_texture`), on Dear PyGui's own GL context:
  nothing is converted to float and nothing is sent again while the picture stands still. Wipe /
  difference / blend are rendered by ui.gl_compose.GLCompositor straight into that texture.
  1280x720 pane: still 28 ms (empty window 15), playing 29, 1080p frames scaled 38, composed 38-42;
  4 panes of 640x360 playing 30. The numpy backend: still 39, playing 41, 1080p 51, 4 panes 43,
  wipe 44, blend 48, difference 58.
- Dear PyGui has no API that gives a texture's GL name. Each pane texture is made one row taller
  than needed with a random signature in that hidden row; after Dear PyGui has uploaded it (one
  rendered frame) the GL names are scanned for that size and the signature is read back. A
  self-test (write a pattern, read it back; compose and compare with numpy) runs on the first
  texture found; if anything fails the view falls back to the "numpy" backend for the rest of the
  process: raw float32 textures filled from compose_numpy (uploaded whole every frame).
- Textures are sized to the panes (GL: rounded up to 64 px), not the sources. A frame that fits
  its pane is written 1:1 into the texture's top-left corner and Dear PyGui scales it when
  drawing (aspect kept, dark bars); a larger frame is scaled down first (GL: linear filtering in
  the copy shader; numpy: nearest).
- Only a pane whose frame object (or mode, param, size) changed is written again: callers must pass
  a new array for new pixels, or call `invalidate()`.
- GL textures outlive their view: a closed view gives them to a pool (ui/live_gl.py) and the next
  view of a fitting size takes one, so opening a player makes no texture (ui/review_warmup.py
  leaves one ready after a project opens).
- llvmpipe's cost is pixels filled (~7 ns each, whatever is drawn): the dark background is drawn
  only where no picture is (letterbox bars, gaps between panes), never under a picture.
- Dear PyGui on Windows (DirectX) and macOS (Metal) has no GL context to share: "numpy" there.
- `AIMMS_LIVE_BACKEND=numpy|gl` forces a backend (tests run both; "gl" that fails still falls back,
  and says why in `gl_failure`).

Everything here runs on the UI thread (Dear PyGui and its GL context are not thread-safe).
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np
import dearpygui.dearpygui as dpg

from aimms_fast.playback.compose import MODES, compose_numpy
from aimms_fast.ui.live_gl import (BG, BG_U8, CANVAS_STEP, FIND_TRIES, _GL, _Tex, _canvas, _canvas_ok,  # noqa: F401
                                   forced_backend, make_gl_texture, ready)

LAYOUTS = ("single", "side", "stack", "grid")
GAP = 2                                  # pixels between panes
LABEL_SIZE = 15
ERROR_COLOR = (255, 90, 90)


# -- textures -----------------------------------------------------------------------------------------

@dataclass
class _Pane:
    frame: object = None                  # last frame object written (identity, not pixels)
    frame2: object = None
    key: tuple = ()                       # (mode, param, size) it was written with
    picture: tuple[float, float, float, float] = (0, 0, 0, 0)   # letterboxed rect, drawlist coords
    items: dict = field(default_factory=dict)   # name -> draw item
    img_tex: int | None = None            # texture the picture item draws
    bars: tuple | None = None             # picture rect the background bars were drawn around
    text_state: tuple = ()                # (labels, error, rect) the text items show


def _fit(fw: int, fh: int, pw: int, ph: int) -> tuple[float, float]:
    s = min(pw / max(1, fw), ph / max(1, fh))
    return fw * s, fh * s


def _nearest_index(n_src: int, n_dst: int) -> np.ndarray:
    return np.minimum(n_src - 1, ((np.arange(n_dst) + 0.5) * (n_src / n_dst)).astype(np.intp))


class LiveView:
    """A picture area of 1–4 panes inside a Dear PyGui container, fed uint8 RGBA frames each frame.
    Textures are sized to the panes, not the sources (raw textures upload in full every frame).

    Public attributes: `drawlist` (the Dear PyGui drawlist: hover/active state for mouse handling;
    a caller may add its own draw layer to it, drawn above the panes), `backend` ("gl" | "numpy";
    a "gl" view turns "numpy" if the self-test fails after its first frame), `gl_failure`, and
    `stats` (pane writes, unchanged skips, textures made). All methods: UI thread only."""

    def __init__(self, app, parent, width: int, height: int):
        self.app = app
        self.width, self.height = max(1, int(width)), max(1, int(height))
        forced = forced_backend()
        if forced == "numpy" or _GL.verified is False:
            self.backend = "numpy"
        elif _GL.start():
            self.backend = "gl"
        else:
            self.backend = "numpy"
        self._registry = dpg.add_texture_registry()
        self.drawlist = dpg.add_drawlist(self.width, self.height, parent=parent)
        # Layers keep the drawing order whatever is created when: bars, pictures, then text.
        self._layer_bg = dpg.add_draw_layer(parent=self.drawlist)
        self._layer_img = dpg.add_draw_layer(parent=self.drawlist)
        self._layer_text = dpg.add_draw_layer(parent=self.drawlist)
        self._texs: list[_Tex | None] = []
        self._panes: list[_Pane] = []
        self._rects: list[tuple[int, int, int, int]] = []     # pane rects, drawlist coords
        self._layout_key = None
        self._gap_items: list = []                             # background between / without panes
        # True after a show() that could not write a pane yet (its new GL texture is found one
        # rendered frame later): the caller must call show() again with the same frames.
        self.pending = False
        self._idx_cache: dict = {}
        self._u8: dict = {}                                    # numpy scratch per size
        self._rng = np.random.default_rng()
        self.stats = {"writes": 0, "skips": 0, "textures": 0}     # pane writes, unchanged skips, textures made

    @property
    def gl_failure(self) -> str | None:
        """Why the GL backend is off in this process (None while it works)."""
        return _GL.failure

    # -- geometry ------------------------------------------------------------------------------------
    def set_size(self, width: int, height: int) -> None:
        width, height = max(1, int(width)), max(1, int(height))
        if (width, height) == (self.width, self.height):
            return
        self.width, self.height = width, height
        dpg.configure_item(self.drawlist, width=width, height=height)
        self._layout_key = None                               # panes and textures follow on show()

    def pane_sizes(self, n: int, layout: str) -> list[tuple[int, int]]:
        """Pane sizes for n frames in a layout ("single" = one pane, whatever n)."""
        return [(x1 - x0, y1 - y0) for x0, y0, x1, y1 in self._layout(n, layout)]

    def _layout(self, n: int, layout: str) -> list[tuple[int, int, int, int]]:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        W, H = self.width, self.height
        n = max(1, int(n))
        if layout == "single" or n == 1:
            cols, rows = 1, 1
        elif layout == "side":
            cols, rows = n, 1
        elif layout == "stack":
            cols, rows = 1, n
        else:
            cols = math.ceil(math.sqrt(n))
            rows = math.ceil(n / cols)
        count = 1 if layout == "single" else n
        cw = (W - GAP * (cols - 1)) / cols
        ch = (H - GAP * (rows - 1)) / rows
        out = []
        for k in range(count):
            r, c = divmod(k, cols)
            x0, y0 = round(c * (cw + GAP)), round(r * (ch + GAP))
            x1, y1 = round(c * (cw + GAP) + cw), round(r * (ch + GAP) + ch)
            out.append((x0, y0, max(x0 + 1, x1), max(y0 + 1, y1)))
        return out

    def _origin(self) -> tuple[float, float]:
        x, y = dpg.get_item_rect_min(self.drawlist)
        return float(x), float(y)

    def pane_rect(self, k: int) -> tuple[float, float, float, float]:
        """Pane k in viewport pixels (x0, y0, x1, y1), as last shown."""
        ox, oy = self._origin()
        x0, y0, x1, y1 = self._rects[k]
        return (ox + x0, oy + y0, ox + x1, oy + y1)

    def picture_rect(self, k: int) -> tuple[float, float, float, float]:
        """The letterboxed picture inside pane k, viewport pixels (empty rect before a frame)."""
        ox, oy = self._origin()
        x0, y0, x1, y1 = self._panes[k].picture
        return (ox + x0, oy + y0, ox + x1, oy + y1)

    def pane_at(self, x: float, y: float) -> int | None:
        """Index of the pane under viewport point (x, y), else None."""
        ox, oy = self._origin()
        for k, (x0, y0, x1, y1) in enumerate(self._rects):
            if ox + x0 <= x < ox + x1 and oy + y0 <= y < oy + y1:
                return k
        return None

    @property
    def pane_count(self) -> int:
        return len(self._rects)

    def invalidate(self) -> None:
        """Write every pane again on the next show() (pixels changed inside the same arrays)."""
        for p in self._panes:
            p.frame = p.frame2 = None
            p.key = ()

    # -- showing -------------------------------------------------------------------------------------
    def show(self, frames: list[np.ndarray | None], *, layout: str = "single", mode: str = "panes",
             param: float = 0.5, labels: list[str] | None = None,
             errors: list[str | None] | None = None) -> None:
        """Put frames on screen. mode "panes": frame k in pane k of `layout`; "wipe"/"difference"/
        "blend": frames[0] (A) against frames[1] (B) composed in one pane (param: wipe position 0..1,
        difference gain, blend opacity of A); B is stretched onto A's picture if their sizes differ,
        labels[0] / labels[1] go top-left / top-right. Frames are HxWx4 (or x3) uint8, any size:
        letterboxed into the pane (decode at `pane_sizes(...)` to skip scaling). A None frame keeps
        the pane's last picture (not decoded yet); errors[k] replaces pane k's picture with red,
        wrapped text (take cannot be decoded). The same array objects as last time are not written
        again: pass new arrays for new pixels (or call invalidate()).
        Call destroy() when the window closes: the textures live outside `parent`."""
        if mode != "panes" and mode not in MODES:
            raise ValueError(f"mode must be 'panes' or one of {MODES}, got {mode!r}")
        frames = list(frames)
        labels = list(labels or [])
        errors = list(errors or [])
        composed = mode != "panes"
        n = 1 if composed else max(1, len(frames))
        key = (n, "single" if composed else layout, self.width, self.height)
        if key != self._layout_key:
            self._relayout(self._layout(n, key[1]))
            self._layout_key = key
        self.pending = False
        if self.backend == "gl":
            self._resolve_gl()
        for k in range(len(self._rects)):
            pane = self._panes[k]
            if composed:
                err = "\n".join(e for e in errors[:2] if e) or None
                a = frames[0] if frames else None
                b = frames[1] if len(frames) > 1 else None
                text = labels[:2]
            else:
                err = errors[k] if k < len(errors) else None
                a, b = (frames[k] if k < len(frames) else None), None
                text = labels[k:k + 1]
            self._update_pane(k, pane, a, b, mode if (composed and b is not None) else "panes", param, err)
            self._update_labels(k, pane, text, err)
        if self.backend == "gl" and _GL.ctx is not None:
            _GL.ctx.screen.use()

    def _relayout(self, rects: list[tuple[int, int, int, int]]) -> None:
        old_sizes = [(r[2] - r[0], r[3] - r[1]) for r in self._rects]
        self._rects = rects
        while len(self._panes) > len(rects):
            pane = self._panes.pop()
            for item in pane.items.values():
                if dpg.does_item_exist(item):
                    dpg.delete_item(item)
        for k, (x0, y0, x1, y1) in enumerate(rects):
            if k >= len(self._panes):
                self._panes.append(_Pane())
            pane = self._panes[k]
            self._paint_bars(k, pane, None)
            size = (x1 - x0, y1 - y0)
            if k >= len(old_sizes) or old_sizes[k] != size:
                pane.key = ()                      # resized: write again into the new texture
        for k in range(len(rects), len(self._texs)):
            self._drop_tex(k)
        del self._texs[len(rects):]
        self._paint_gaps()

    def _paint_gaps(self) -> None:
        """The pane background also between the panes and in an empty grid cell: the review
        windows have no window background under their pictures (ui/review_chrome.py)."""
        for item in self._gap_items:
            if dpg.does_item_exist(item):
                dpg.delete_item(item)
        self._gap_items = []
        W, H = self.width, self.height
        xs = sorted({(r[0], r[2]) for r in self._rects})
        ys = sorted({(r[1], r[3]) for r in self._rects})
        strips = []
        for edges, vertical in ((xs, True), (ys, False)):
            ends = [0] + [v for e in edges for v in e] + [W if vertical else H]
            for a, b in zip(ends[0::2], ends[1::2]):
                if b > a:
                    strips.append((a, 0, b, H) if vertical else (0, a, W, b))
        have = {(r[0], r[2], r[1], r[3]) for r in self._rects}
        strips += [(x0, y0, x1, y1) for x0, x1 in xs for y0, y1 in ys if (x0, x1, y0, y1) not in have]
        for x0, y0, x1, y1 in strips:
            self._gap_items.append(dpg.draw_rectangle((x0, y0), (x1, y1), fill=BG + (255,), color=BG + (255,),
                                                      thickness=0, parent=self._layer_bg))

    # -- per pane ------------------------------------------------------------------------------------
    def _paint_bars(self, k: int, pane: _Pane, picture) -> None:
        """The pane's dark background: all of it while it shows no picture, else only the letterbox
        bars beside the picture (at most two rectangles). llvmpipe blends every pixel drawn
        (~7 ns each): a full-pane rectangle under the picture cost ~4 ms of CPU per frame for a
        943x521 player pane, ~6 ms for the four panes of a 2x2 compare."""
        x0, y0, x1, y1 = self._rects[k]
        pane.bars = picture
        if picture is None:
            rects = [(x0, y0, x1, y1)]
        else:
            px0, py0, px1, py1 = picture
            if px1 - px0 < x1 - x0 - 0.5:      # bars left and right
                rects = [(x0, y0, px0, y1), (px1, y0, x1, y1)]
            else:                              # bars above and below
                rects = [(x0, y0, x1, py0), (x0, py1, x1, y1)]
            rects = [r for r in rects if r[2] - r[0] >= 0.5 and r[3] - r[1] >= 0.5]
        for j, name in enumerate(("bg", "bg2")):
            item = pane.items.get(name)
            if j < len(rects):
                a, b = rects[j][:2], rects[j][2:]
                if item is None:
                    pane.items[name] = dpg.draw_rectangle(a, b, fill=BG + (255,), color=BG + (255,),
                                                          thickness=0, parent=self._layer_bg)
                else:
                    dpg.configure_item(item, pmin=a, pmax=b, show=True)
            elif item is not None:
                dpg.configure_item(item, show=False)

    def _update_pane(self, k: int, pane: _Pane, a, b, mode: str, param: float, err: str | None) -> None:
        x0, y0, x1, y1 = self._rects[k]
        pw, ph = x1 - x0, y1 - y0
        img = pane.items.get("img")
        if err:
            if img is not None:
                dpg.configure_item(img, show=False)
            self._paint_bars(k, pane, None)
            pane.frame = pane.frame2 = None
            pane.key = ()
            return
        if a is None:
            return                                 # not decoded yet: keep what is there
        key = (mode, float(param) if mode != "panes" else None, pw, ph, self.backend)
        if a is pane.frame and b is pane.frame2 and key == pane.key:
            self.stats["skips"] += 1
            if img is not None:
                dpg.configure_item(img, show=True)
            return
        src_a, src_b = a, b
        a = self._rgba(a)
        if b is not None:
            b = self._rgba(b)
        fh, fw = a.shape[:2]
        if fw <= pw and fh <= ph:
            ow, oh = fw, fh                        # 1:1 into the texture; Dear PyGui scales on draw
        else:
            dw, dh = _fit(fw, fh, pw, ph)
            ow, oh = max(1, min(pw, int(dw + 0.5))), max(1, min(ph, int(dh + 0.5)))
        tex = self._tex_for(k, pw, ph, a, b, mode, param, (ow, oh))
        if tex is None:
            self.pending = True                    # GL texture not uploaded yet: show() again next frame
            return
        dw, dh = _fit(ow, oh, pw, ph)
        px0, py0 = x0 + (pw - dw) / 2, y0 + (ph - dh) / 2
        pane.picture = (px0, py0, px0 + dw, py0 + dh)
        th = tex.h + 1 if tex.kind == "gl" else tex.h
        uv_max = (ow / tex.w, oh / th)
        if img is None or pane.img_tex != tex.tag:
            if img is not None and dpg.does_item_exist(img):
                dpg.delete_item(img)
            pane.items["img"] = dpg.draw_image(tex.tag, (px0, py0), (px0 + dw, py0 + dh), uv_min=(0, 0),
                                               uv_max=uv_max, parent=self._layer_img)
            pane.img_tex = tex.tag
        else:
            dpg.configure_item(img, pmin=(px0, py0), pmax=(px0 + dw, py0 + dh), uv_max=uv_max, show=True)
        if pane.bars != pane.picture:
            self._paint_bars(k, pane, pane.picture)
        pane.frame, pane.frame2, pane.key = src_a, src_b, key
        self.stats["writes"] += 1

    @staticmethod
    def _rgba(x: np.ndarray) -> np.ndarray:
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] not in (3, 4):
            raise ValueError(f"LiveView frames must be HxWx4 uint8 RGBA, got {x.dtype} {x.shape}")
        if x.shape[2] == 3:
            out = np.empty(x.shape[:2] + (4,), np.uint8)
            out[..., :3] = x
            out[..., 3] = 255
            return out
        return x

    def _scaled(self, x: np.ndarray, ow: int, oh: int) -> np.ndarray:
        """Nearest-neighbour resize (numpy backend, and B onto A's size for compose_numpy)."""
        h, w = x.shape[:2]
        if (w, h) == (ow, oh):
            return x
        key = (w, h, ow, oh)
        idx = self._idx_cache.get(key)
        if idx is None:
            if len(self._idx_cache) > 16:
                self._idx_cache.clear()
            idx = self._idx_cache[key] = (_nearest_index(h, oh)[:, None], _nearest_index(w, ow)[None, :])
        return x[idx[0], idx[1]]

    def _picture_u8(self, k, a, b, mode, param, ow, oh) -> np.ndarray:
        """The pane's picture as uint8 at (ow, oh), made on the CPU."""
        a = self._scaled(a, ow, oh)
        if mode == "panes":
            return a
        b = self._scaled(b, ow, oh)
        out = self._u8.get(k)
        if out is None or out.shape != a.shape:
            out = self._u8[k] = np.empty_like(a)
        return compose_numpy(a, b, mode, param, out=out)

    def _tex_for(self, k, pw, ph, a, b, mode, param, osize) -> _Tex | None:
        """Make sure pane k has a texture that can hold the pane's picture, and put the new picture
        in its top-left corner."""
        ow, oh = osize
        while len(self._texs) <= k:
            self._texs.append(None)
        t = self._texs[k]
        gl = self.backend == "gl"
        if t is not None and (t.kind != self.backend or not (_canvas_ok(t.w, t.h, pw, ph) if gl
                                                             else (t.w, t.h) == (pw, ph))):
            self._drop_tex(k)
            t = None
        if t is None and gl:
            t = self._texs[k] = _GL.take(pw, ph)      # a closed view's texture: no copy, no wait
        if t is None:
            # GL: rounded-up canvas (see _canvas). numpy: the exact pane size, because a raw
            # texture is cheap to make (no copy) but uploaded whole every frame.
            cw, ch = (_canvas(pw), _canvas(ph)) if gl else (pw, ph)
            t = self._texs[k] = self._make_tex(cw, ch, self._picture_u8(k, a, b, mode, param, ow, oh))
            t.shown = (ow, oh)
            return t                               # created holding the picture already
        if t.kind == "numpy":
            pic = self._picture_u8(k, a, b, mode, param, ow, oh)
            if t.shown != (ow, oh):
                t.buf[:] = BG_U8 / np.float32(255)
            np.multiply(pic, np.float32(1 / 255), out=t.buf[:oh, :ow], casting="unsafe")
            t.shown = (ow, oh)
            return t
        # GL
        if t.fbo is None:
            if t.glname is None:
                self._resolve_gl()
            if t.fbo is None:
                if self.backend != "gl":           # self-test failed: redo as numpy
                    return self._tex_for(k, pw, ph, a, b, mode, param, osize)
                return None
        if t.shown != (ow, oh):
            t.fbo.clear(*(c / 255 for c in BG), 1.0, viewport=(0, 0, t.w, t.h + 1))
        if mode == "panes" and (a.shape[1], a.shape[0]) == (ow, oh):
            t.ext.write(np.ascontiguousarray(a), viewport=(0, 0, ow, oh))
        else:
            _GL.comp.compose_to(a, b, "copy" if mode == "panes" else mode, param, t.fbo,
                                viewport=(0, 0, ow, oh))
        t.shown = (ow, oh)
        return t

    def _make_tex(self, w: int, h: int, pic: np.ndarray) -> _Tex:
        self.stats["textures"] += 1
        ph, pw_ = pic.shape[:2]
        if self.backend == "numpy":
            buf = np.empty((h, w, 4), np.float32)
            buf[:] = BG_U8 / np.float32(255)
            np.multiply(pic, np.float32(1 / 255), out=buf[:ph, :pw_], casting="unsafe")
            tag = dpg.add_raw_texture(w, h, buf, format=dpg.mvFormat_Float_rgba, parent=self._registry)
            return _Tex(tag, w, h, "numpy", buf=buf)
        # GL: a static texture holding the picture now (shown before the GL name is known).
        return make_gl_texture(w, h, pic, self._rng)

    def _resolve_gl(self) -> None:
        """Find GL names of pane textures Dear PyGui has uploaded since; self-test the first."""
        now = dpg.get_frame_count()
        pending = [t for t in self._texs if t is not None and t.kind == "gl" and t.glname is None
                   and now > t.created_frame]
        if not pending:
            return
        _GL.find(pending)
        for t in pending:
            k = self._texs.index(t)
            if t.glname is None:
                if t.last_try != now:
                    t.tries += 1
                    t.last_try = now
                if t.tries >= FIND_TRIES:
                    _GL.fail("could not find the GL name of a Dear PyGui texture")
            elif _GL.verified is None:
                _GL.self_test(t)
            if t.glname is not None and _GL.verified:
                ready(t)                           # the self-test may have drawn into it: write again
                if k < len(self._panes):
                    self._panes[k].key = ()
        if _GL.verified is False:
            self._fall_back()

    def _fall_back(self) -> None:
        """GL failed: rebuild every pane with raw textures on the next show()."""
        self.backend = "numpy"
        for k in range(len(self._texs)):
            self._drop_tex(k)
        for p in self._panes:
            p.key = ()

    def _drop_tex(self, k: int) -> None:
        t = self._texs[k] if k < len(self._texs) else None
        if t is None:
            return
        self._texs[k] = None
        pane = self._panes[k] if k < len(self._panes) else None
        if pane is not None:
            pane.img_tex = None
            img = pane.items.pop("img", None)
            if img is not None and dpg.does_item_exist(img):
                dpg.delete_item(img)
            pane.key = ()
        if t.kind == "gl":
            _GL.give(t)                            # kept for the next view (or deleted if unusable)
        elif dpg.does_item_exist(t.tag):
            dpg.delete_item(t.tag)
        self._u8.pop(k, None)

    # -- text ----------------------------------------------------------------------------------------
    def _update_labels(self, k: int, pane: _Pane, labels: list, err: str | None) -> None:
        x0, y0, x1, y1 = self._rects[k]
        state = (tuple(labels), err, self._rects[k])
        if pane.text_state == state:
            return
        pane.text_state = state      # text is redrawn only when it changes
        # Labels change every frame while playing (compare's "frame N"): the items are moved and
        # given the new text rather than deleted and made again.
        err_item = pane.items.pop("error", None)
        if err_item is not None and dpg.does_item_exist(err_item):
            dpg.delete_item(err_item)
        cw = LABEL_SIZE * 0.55                     # average glyph width of the UI font at this size
        for i in range(2):
            suffix = "" if i == 0 else "2"
            text = labels[i] if i < len(labels) else None
            bg, fg = pane.items.get("label_bg" + suffix), pane.items.get("label" + suffix)
            if not text:
                for item in (bg, fg):
                    if item is not None:
                        dpg.configure_item(item, show=False)
                continue
            tw = len(text) * cw + 10
            lx = x0 + 4 if i == 0 else max(x0 + 4, x1 - 4 - tw)
            pmin, pmax, tpos = (lx, y0 + 4), (lx + tw, y0 + 8 + LABEL_SIZE), (lx + 5, y0 + 6)
            if bg is None or not dpg.does_item_exist(bg):
                pane.items["label_bg" + suffix] = dpg.draw_rectangle(
                    pmin, pmax, fill=(0, 0, 0, 170), color=(0, 0, 0, 0), parent=self._layer_text)
                pane.items["label" + suffix] = dpg.draw_text(tpos, text, size=LABEL_SIZE, color=(235, 235, 235),
                                                             parent=self._layer_text)
            else:
                dpg.configure_item(bg, pmin=pmin, pmax=pmax, show=True)
                dpg.configure_item(fg, pos=tpos, text=text, show=True)
        if err:
            cols = max(8, int((x1 - x0 - 24) / cw))
            lines = []
            for para in str(err).splitlines() or [""]:
                lines.extend(textwrap.wrap(para, cols) or [""])
            ty = y0 + max(30, (y1 - y0) / 2 - len(lines) * (LABEL_SIZE + 2) / 2)
            pane.items["error"] = dpg.draw_text((x0 + 12, ty), "\n".join(lines), size=LABEL_SIZE,
                                                color=ERROR_COLOR, parent=self._layer_text)

    def destroy(self) -> None:
        for k in range(len(self._texs)):
            self._drop_tex(k)
        self._texs.clear()
        self._panes.clear()
        self._rects = []
        for item in (self.drawlist, self._registry):
            if dpg.does_item_exist(item):
                dpg.delete_item(item)
