"""The compare shaders on moderngl: `GLCompositor` renders the pixel rule of playback/compose.py
(wipe / difference / blend) with the fragment shaders of the top-level `shaders/` folder, A and B
uploaded as uint8 textures and a full-screen quad drawn into a target. In the viewer the target is
the pane's own Dear PyGui texture (ui/live_view.py), so a composed frame never comes back to the
CPU. GL computes the rule in float and the driver rounds when it stores: within ±1 of
`compose_numpy` (tests hold them to that).

Here, not in playback/, because moderngl belongs to ui/ and viewer3d/ (the model never imports it);
nothing here imports Dear PyGui, so tests and benchmarks use it headless. A `GLCompositor` belongs
to the thread whose GL context it was made on. Never create an EGL context on the UI thread of a
Dear PyGui process (DESIGN.md).
"""
from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np

from aimms_fast.playback.compose import MODES, _check, shader_dir, wipe_split


class GLCompositor:
    """Renders wipe / difference / blend (and a plain scaled 'copy') with moderngl.

    `ctx` is any moderngl context: Dear PyGui's own (ui/live_view.py) or a standalone one (tests,
    benchmarks). Call on the thread that owns ctx."""

    COPY = "copy"    # extra mode: picture A alone, scaled into the viewport (b is ignored)

    def __init__(self, ctx):
        import moderngl
        self.ctx = ctx
        self._moderngl = moderngl
        folder = shader_dir()
        try:
            vert = (folder / "compare.vert").read_text()
            frags = {m: (folder / f"{m}.frag").read_text() for m in MODES + (self.COPY,)}
        except OSError as e:
            raise RuntimeError(f"compose shaders missing in {folder}: {e} "
                               "(the shaders/ folder must sit beside the aimms_fast package)") from e
        self._progs = {m: ctx.program(vertex_shader=vert, fragment_shader=src) for m, src in frags.items()}
        for prog in self._progs.values():
            if "tex_a" in prog:
                prog["tex_a"].value = 0
            if "tex_b" in prog:
                prog["tex_b"].value = 1
        quad = np.array([-1, -1, 1, -1, -1, 1, 1, 1], np.float32)
        self._quad = ctx.buffer(quad.tobytes())
        self._vaos = {m: ctx.vertex_array(p, [(self._quad, "2f", "in_pos")]) for m, p in self._progs.items()}
        self._tex: dict[str, object] = {}        # "a"/"b" -> uint8 source texture (resized on demand)
        self._last: dict[str, object] = {}       # "a"/"b" -> the array object uploaded last
        self._fbos: dict[int, tuple] = {}        # id(texture) -> (texture, framebuffer) for compose_to
        self._off = None                         # offscreen framebuffer for compose()

    # -- sources ------------------------------------------------------------------------------------
    def upload(self, slot: str, arr: np.ndarray, *, force: bool = True):
        """Put `arr` (HxWx4 uint8) into source texture `slot` ("a" or "b"); returns the texture.
        With force=False an array object uploaded last time is taken as unchanged (not re-sent)."""
        if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 4:
            raise ValueError(f"compose: {slot} must be an HxWx4 uint8 RGBA array, got "
                             f"{getattr(arr, 'dtype', type(arr))} {getattr(arr, 'shape', '')}")
        h, w = arr.shape[:2]
        tex = self._tex.get(slot)
        if tex is None or tex.size != (w, h):
            if tex is not None:
                tex.release()
            tex = self.ctx.texture((w, h), 4, dtype="f1")
            tex.filter = (self._moderngl.LINEAR, self._moderngl.LINEAR)
            tex.repeat_x = tex.repeat_y = False
            self._tex[slot] = tex
            self._last.pop(slot, None)
        if force or self._last.get(slot) is not arr:
            tex.write(np.ascontiguousarray(arr))
            self._last[slot] = arr
        return tex

    # -- rendering ----------------------------------------------------------------------------------
    def _draw(self, a, b, mode: str, param: float, fbo, viewport) -> None:
        if mode not in MODES and mode != self.COPY:
            raise ValueError(f"compose mode must be one of {MODES + (self.COPY,)}, got {mode!r}")
        ctx = self.ctx
        ta = self.upload("a", a, force=False)
        prog = self._progs[mode]
        if mode != self.COPY:
            if b is None:
                raise ValueError(f"compose: mode {mode!r} needs a second picture")
            tb = self.upload("b", b, force=False)
            tb.use(1)
        ta.use(0)
        x, y, w, h = viewport
        if mode == "wipe":
            split = wipe_split(param, w)
            prog["split"].value = split
            prog["divider"].value = min(split, w - 1)
            prog["origin_x"].value = x
        elif mode == "difference":
            prog["gain"].value = max(0.0, float(param))
        elif mode == "blend":
            prog["opacity"].value = min(1.0, max(0.0, float(param)))
        fbo.use()
        fbo.viewport = viewport
        ctx.disable(self._moderngl.BLEND | self._moderngl.DEPTH_TEST | self._moderngl.CULL_FACE)
        self._vaos[mode].render(self._moderngl.TRIANGLE_STRIP)

    def compose(self, a: np.ndarray, b: np.ndarray, mode: str, param: float) -> np.ndarray:
        """Render offscreen at a's size and read back (tests, benchmarks): HxWx4 uint8."""
        _check(a, b, mode)
        h, w = a.shape[:2]
        prev = self.ctx.fbo
        if self._off is None or self._off.size != (w, h):
            if self._off is not None:
                if prev is self._off:
                    prev = None                  # bound by the last compose(): about to be released
                self._off.color_attachments[0].release()
                self._off.release()
            self._off = self.ctx.framebuffer(color_attachments=[self.ctx.texture((w, h), 4, dtype="f1")])
        self._last.clear()                       # compose() always uploads: tests reuse arrays freely
        self._draw(a, b, mode, param, self._off, (0, 0, w, h))
        data = self._off.read(components=4, dtype="f1", alignment=1)
        if prev is not None:
            prev.use()
        return np.frombuffer(data, np.uint8).reshape(h, w, 4).copy()

    def compose_to(self, a: np.ndarray, b: np.ndarray | None, mode: str, param: float, target, *,
                   viewport: tuple[int, int, int, int] | None = None) -> None:
        """Render into `target` (a moderngl Framebuffer, or a Texture: a framebuffer is made for it
        and kept until `forget(texture)`), within `viewport` (x, y, w, h; default: all of it).
        mode may also be "copy" (a alone, b ignored). Array objects passed in the previous call are
        not re-uploaded (pass a new array for new pixels). Leaves `target` bound; the caller
        restores its own framebuffer (ctx.screen.use() on Dear PyGui's context)."""
        fbo = target
        if isinstance(target, self._moderngl.Texture):
            got = self._fbos.get(id(target))
            if got is None or got[0] is not target:
                got = (target, self.ctx.framebuffer(color_attachments=[target]))
                self._fbos[id(target)] = got
            fbo = got[1]
        if viewport is None:
            w, h = fbo.size
            viewport = (0, 0, w, h)
        self._draw(a, b, mode, param, fbo, tuple(int(v) for v in viewport))

    def forget(self, texture) -> None:
        """Drop the framebuffer made for `texture` (before that texture is deleted)."""
        got = self._fbos.pop(id(texture), None)
        if got is not None:
            got[1].release()

    def release(self) -> None:
        for _tex, fbo in self._fbos.values():
            fbo.release()
        self._fbos.clear()
        for tex in self._tex.values():
            tex.release()
        self._tex.clear()
        self._last.clear()
        if self._off is not None:
            self._off.color_attachments[0].release()
            self._off.release()
            self._off = None
        for vao in self._vaos.values():
            vao.release()
        for prog in self._progs.values():
            prog.release()
        self._quad.release()


def create_standalone_context():
    """A headless moderngl context for tests and benchmarks: the platform default (GLX under X),
    else EGL. Never call this in a process that runs Dear PyGui on the same thread (DESIGN.md)."""
    import moderngl
    errors = []
    for kw in ({}, {"backend": "egl"}):
        try:
            return moderngl.create_context(standalone=True, require=330, **kw)
        except Exception as e:   # noqa: BLE001 - each backend's failure is reported together below
            errors.append(f"{kw.get('backend', 'default')}: {e}")
    raise RuntimeError("no OpenGL 3.3 context: " + "; ".join(errors))


_PROBE = """
import numpy as np
from aimms_fast.playback.compose import compose_numpy
from aimms_fast.ui.gl_compose import GLCompositor, create_standalone_context
ctx = create_standalone_context()
a = np.full((4, 6, 4), 200, np.uint8); b = np.full((4, 6, 4), 40, np.uint8)
g = GLCompositor(ctx).compose(a, b, "blend", 0.5)
assert np.abs(g.astype(int) - compose_numpy(a, b, "blend", 0.5).astype(int)).max() <= 1
print("ok")
"""


@functools.lru_cache(maxsize=1)
def gl_available() -> bool:
    """Whether a headless GL 3.3 context can be made and the compare shaders run, checked once in a
    child process (~1 s) so this process's GL state (e.g. Dear PyGui's context) is never touched.
    The viewer itself decides by a self-test on its own context (ui/live_view.py)."""
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60,
                              cwd=str(shader_dir().parent))
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and proc.stdout.strip().endswith("ok")
