"""The GL side of LiveView (ui/live_view.py) shared by every view of the process: Dear PyGui's own
GL context wrapped by moderngl, finding the GL names of Dear PyGui textures, the one-time
self-test, and a pool of pane textures that outlive the windows that made them.

Why a pool: a new GL pane texture is a Dear PyGui static texture, so making one costs a float32
copy of the whole canvas (16 B/pixel), Dear PyGui's upload of it and, one rendered frame later,
the scan for its GL name; for a 960x577 player canvas that was ~60 ms of CPU and most of
"open a player" (docs/performance.md). A closed view gives its found, verified textures back
(`give`); the next view of a fitting size takes one (`take`) and writes its first picture
straight into it with moderngl: nothing is converted or uploaded by Dear PyGui, nothing waits
a frame. The pool is capped by POOL_BYTES (oldest first out).

`prewarm` makes and verifies one texture of a given size ahead of time (the player's, right
after a project opens), so even the first player of a session finds one and the self-test has
run already.

Everything here runs on the UI thread (Dear PyGui and its GL context are not thread-safe).
"""
from __future__ import annotations

import ctypes
import itertools
import os
import sys
from dataclasses import dataclass

import numpy as np
import dearpygui.dearpygui as dpg

from aimms_fast.playback.compose import compose_numpy
from aimms_fast.ui.gl_compose import GLCompositor

BG = (14, 14, 16)                        # letterbox bars and empty panes
BG_U8 = np.array(BG + (255,), np.uint8)
SCAN_ABOVE = 4096                        # names scanned above the next free one (drivers that reuse)
CANVAS_STEP = 64                         # texture sides are multiples of this (see _canvas)
FIND_TRIES = 3                           # rendered frames to wait for Dear PyGui to upload a texture
# Pooled textures cost Dear PyGui's float32 copy (16 B/pixel) plus the GL texture (4 B/pixel):
# 48 MB holds a player's canvas (11 MB at 960x577) and a 2x2 compare set (4 x 4.9 MB) twice over.
POOL_BYTES = 48 << 20


@dataclass(eq=False)
class _Tex:
    """One pane's texture, w x h usable (>= the pane). GL backend: static, (w, h+1) with the
    signature row; numpy: raw (w, h)."""
    tag: int
    w: int
    h: int
    kind: str                             # "gl" | "numpy"
    created_frame: int = 0
    sig: np.ndarray | None = None         # GL: the hidden row's uint8 RGBA pixels
    glname: int | None = None
    ext: object = None                    # moderngl external texture
    fbo: object = None
    buf: np.ndarray | None = None         # numpy: the float32 array Dear PyGui uploads each frame
    shown: tuple[int, int] = (0, 0)       # size of the picture written in the top-left corner
    tries: int = 0                        # rendered frames it was looked for and not found
    last_try: int = -1


def _canvas(n: int) -> int:
    """GL texture side for a pane side: rounded up to CANVAS_STEP, so resizing a window reuses the
    texture (only the UVs change) instead of making a new one every frame of the drag. Measured
    (dragging a 1280x720 pane smaller, CPU per frame): 60 ms with a new texture each frame (float32
    data, Dear PyGui's copy and upload, the GL-name scan), 35 ms reusing it."""
    return -(-max(1, n) // CANVAS_STEP) * CANVAS_STEP


def _canvas_ok(tw: int, th: int, pw: int, ph: int) -> bool:
    """An existing GL texture still serves a pane: big enough, and not more than one step bigger."""
    return tw >= pw and th >= ph and tw <= _canvas(pw) + CANVAS_STEP and th <= _canvas(ph) + CANVAS_STEP


# -- GL state shared by every LiveView of the process --- ------------------------------------------------

class _GLState:
    """Dear PyGui's GL context wrapped by moderngl, the compositor, and whether the self-test
    passed (None: not run yet). One per process."""

    def __init__(self):
        self.ctx = None
        self.comp: GLCompositor | None = None
        self.verified: bool | None = None
        self.failure: str | None = None
        self._gl = None
        self._glx = None
        self.pool: list[_Tex] = []        # verified pane textures of closed views, oldest first
        self.registry = None               # Dear PyGui texture registry of every GL pane texture
        self.warm: _Tex | None = None      # the texture prewarm() is waiting for
        self.stats = {"reused": 0, "pooled": 0, "evicted": 0}

    def start(self) -> bool:
        if self.failure is not None:
            return False
        if not sys.platform.startswith("linux"):
            return self.fail("Dear PyGui draws with DirectX/Metal here, not OpenGL")
        cur = _current_glx()
        if self.ctx is not None:
            if cur == self._glx:
                return True
            # Dear PyGui's context was destroyed and made again (a second App in one process):
            # everything made on the old one is gone with it.
            self.__init__()
        try:
            import moderngl
            self._glx = cur
            self.ctx = moderngl.create_context(require=330)   # Dear PyGui's current GLX context
            self.comp = GLCompositor(self.ctx)
            self.ctx.screen.use()
            gl = ctypes.CDLL("libGL.so.1")
            gl.glIsTexture.restype = ctypes.c_ubyte
            gl.glIsTexture.argtypes = [ctypes.c_uint]
            gl.glBindTexture.argtypes = [ctypes.c_uint, ctypes.c_uint]
            gl.glGetIntegerv.argtypes = [ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]
            gl.glGetTexLevelParameteriv.argtypes = [ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                                    ctypes.POINTER(ctypes.c_int)]
            gl.glGenTextures.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_uint)]
            gl.glDeleteTextures.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_uint)]
            self._gl = gl
        except Exception as e:    # noqa: BLE001 - any failure here means "use the numpy backend"
            return self.fail(f"moderngl on Dear PyGui's context: {type(e).__name__}: {e}")
        return True

    def fail(self, why: str) -> bool:
        if self.failure is None:
            self.failure = why
            print(f"aimms live view: GL path off, using numpy ({why})", file=sys.stderr)
        self.verified = False
        return False

    def find(self, pending: list["_Tex"]) -> None:
        """Give each pending texture its GL name (see module docstring); unfound ones stay pending."""
        gl = self._gl
        want: dict[tuple[int, int], list[_Tex]] = {}
        for t in pending:
            want.setdefault((t.w, t.h + 1), []).append(t)
        left = len(pending)
        bound, active = ctypes.c_int(), ctypes.c_int()
        gl.glGetIntegerv(0x8069, ctypes.byref(bound))      # GL_TEXTURE_BINDING_2D
        gl.glGetIntegerv(0x84E0, ctypes.byref(active))     # GL_ACTIVE_TEXTURE
        w, h = ctypes.c_int(), ctypes.c_int()
        # Scan from the newest name down: Mesa hands out names in increasing order and never reuses
        # them (measured), so in a long session (atlas pages come and go) the pane textures are the
        # last few names below the next free one. Drivers that reuse the lowest free name keep all
        # names low; the range above the next free one covers textures made before a hole opened.
        nxt = ctypes.c_uint()
        gl.glGenTextures(1, ctypes.byref(nxt))
        gl.glDeleteTextures(1, ctypes.byref(nxt))
        top = max(2, nxt.value)
        names = itertools.chain(range(top - 1, 0, -1), range(top + 1, top + SCAN_ABOVE))
        try:
            for name in names:
                if not left:
                    break
                if not gl.glIsTexture(name):
                    continue
                gl.glBindTexture(0x0DE1, name)
                gl.glGetTexLevelParameteriv(0x0DE1, 0, 0x1000, ctypes.byref(w))
                gl.glGetTexLevelParameteriv(0x0DE1, 0, 0x1001, ctypes.byref(h))
                cands = want.get((w.value, h.value))
                if not cands:
                    continue
                ext = self.ctx.external_texture(name, (w.value, h.value), 4, 0, "f1")
                try:
                    fbo = self.ctx.framebuffer(color_attachments=[ext])
                    row = np.frombuffer(fbo.read(viewport=(0, h.value - 1, w.value, 1), components=4,
                                                 dtype="f1", alignment=1), np.uint8).reshape(-1, 4)
                except Exception:    # noqa: BLE001 - not renderable: not one of ours
                    continue
                for t in cands:
                    if t.glname is None and np.array_equal(row, t.sig):
                        t.glname, t.ext, t.fbo = name, ext, fbo
                        cands.remove(t)
                        left -= 1
                        fbo = None
                        break
                if fbo is not None:
                    fbo.release()
        finally:
            gl.glActiveTexture(active.value)
            gl.glBindTexture(0x0DE1, bound.value)
            self.ctx.screen.use()

    def self_test(self, t: "_Tex") -> bool:
        """Write a known pattern into a found pane texture, read it back; compose a blend into it
        and compare with numpy. Runs once per process."""
        try:
            n = min(16, t.w, t.h)
            pat = (np.arange(n * n * 4, dtype=np.uint32).reshape(n, n, 4) * 37 % 256).astype(np.uint8)
            t.ext.write(pat, viewport=(0, 0, n, n))
            back = np.frombuffer(t.fbo.read(viewport=(0, 0, n, n), components=4, dtype="f1", alignment=1),
                                 np.uint8).reshape(n, n, 4)
            if not np.array_equal(back, pat):
                return self.fail("pixels written into a Dear PyGui texture read back different")
            other = pat[::-1].copy()
            self.comp.compose_to(pat, other, "blend", 0.5, t.fbo, viewport=(0, 0, n, n))
            back = np.frombuffer(t.fbo.read(viewport=(0, 0, n, n), components=4, dtype="f1", alignment=1),
                                 np.uint8).reshape(n, n, 4)
            want = compose_numpy(pat, other, "blend", 0.5)
            if np.abs(back.astype(np.int16) - want).max() > 1:
                return self.fail("the blend shader disagrees with compose_numpy")
        except Exception as e:   # noqa: BLE001 - a GL error here means "use numpy"
            return self.fail(f"self-test: {type(e).__name__}: {e}")
        finally:
            self.ctx.screen.use()
        self.verified = True
        return True

    # -- the pool ----------------------------------------------------------------------------------
    def texture_registry(self) -> int:
        """Dear PyGui registry of the GL pane textures (they outlive the views: see `give`)."""
        if self.registry is None or not dpg.does_item_exist(self.registry):
            self.registry = dpg.add_texture_registry()
            self.pool.clear()
        return self.registry

    def take(self, pw: int, ph: int) -> "_Tex | None":
        """A pooled texture that serves a pw x ph pane (see _canvas_ok), or None."""
        for i, t in enumerate(self.pool):
            if _canvas_ok(t.w, t.h, pw, ph):
                self.pool.pop(i)
                if not dpg.does_item_exist(t.tag):
                    return self.take(pw, ph)
                self.stats["reused"] += 1
                t.shown = (-1, -1)                # holds another view's picture: clear before use
                return t
        return None

    def give(self, t: "_Tex") -> None:
        """A view is done with texture t (found and verified): keep it for the next view."""
        if t.fbo is None or not self.verified or not dpg.does_item_exist(t.tag):
            self.discard(t)
            return
        self.pool.append(t)
        self.stats["pooled"] += 1
        while sum(tex_bytes(p) for p in self.pool) > POOL_BYTES:
            self.stats["evicted"] += 1
            self.discard(self.pool.pop(0))

    def discard(self, t: "_Tex") -> None:
        if t.fbo is not None:
            t.fbo.release()                        # the external texture itself is Dear PyGui's
            t.fbo = None
        if dpg.does_item_exist(t.tag):
            dpg.delete_item(t.tag)


_GL = _GLState()


def _current_glx() -> int | None:
    """The GLX context current on this thread (Dear PyGui's), to notice it being replaced."""
    try:
        lib = ctypes.CDLL("libGL.so.1")
        lib.glXGetCurrentContext.restype = ctypes.c_void_p
        return lib.glXGetCurrentContext()
    except (OSError, AttributeError):
        return None


def forced_backend() -> str | None:
    v = os.environ.get("AIMMS_LIVE_BACKEND", "").strip().lower()
    return v if v in ("gl", "numpy") else None


def tex_bytes(t: _Tex) -> int:
    return t.w * (t.h + 1) * 20


def make_gl_texture(w: int, h: int, pic: np.ndarray | None, rng) -> _Tex:
    """A static Dear PyGui texture of w x (h+1) for the GL backend: `pic` (uint8 RGBA, may be None)
    in its top-left corner on the background colour, plus the hidden signature row that lets
    `_GLState.find` tell it apart. Dark signature values: at most a faint edge if ever sampled."""
    sig = rng.integers(0, 48, (w, 4), dtype=np.uint8)
    data = np.empty((h + 1, w, 4), np.float32)
    data[:] = BG_U8 / np.float32(255)
    if pic is not None:
        ph, pw_ = pic.shape[:2]
        np.multiply(pic, np.float32(1 / 255), out=data[:ph, :pw_], casting="unsafe")
    data[h] = sig / np.float32(255)
    tag = dpg.add_static_texture(w, h + 1, data, parent=_GL.texture_registry())
    return _Tex(tag, w, h, "gl", created_frame=dpg.get_frame_count(), sig=sig)


def ready(t: _Tex) -> None:
    """A found, verified texture: its signature row goes back to background (nothing odd can bleed
    in at the edge) and whatever a self-test drew is to be written over."""
    t.ext.write(np.broadcast_to(BG_U8, (1, t.w, 4)).copy(), viewport=(0, t.h, t.w, 1))
    t.shown = (-1, -1)


def prewarm(pw: int, ph: int) -> bool:
    """Have a found, verified GL pane texture for a pw x ph pane waiting in the pool (and so the
    self-test run). Call once per rendered frame until it returns True (about three frames: make,
    let Dear PyGui upload, find). Does nothing where the GL backend is off or forced off."""
    if forced_backend() == "numpy" or _GL.verified is False or not _GL.start():
        return True
    if any(_canvas_ok(t.w, t.h, pw, ph) for t in _GL.pool):
        return True
    t = _GL.warm
    if t is None:
        _GL.warm = make_gl_texture(_canvas(pw), _canvas(ph), None, np.random.default_rng())
        return False
    now = dpg.get_frame_count()
    if now <= t.created_frame:
        return False
    _GL.find([t])
    if t.glname is None:
        t.tries += 1
        if t.tries < FIND_TRIES:
            return False
        _GL.warm = None
        _GL.fail("could not find the GL name of a Dear PyGui texture")
        if dpg.does_item_exist(t.tag):
            dpg.delete_item(t.tag)
        return True
    _GL.warm = None
    if _GL.verified is None:
        _GL.self_test(t)
    if _GL.verified:
        ready(t)
        _GL.give(t)
    else:
        _GL.discard(t)
    return True
