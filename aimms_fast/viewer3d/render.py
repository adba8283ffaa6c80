"""moderngl renderer for 3D model previews: lit + textured shading, wireframe, ground grid, orbit camera.

API (M2's viewport and the thumbnailer use only this):

    from aimms_fast.viewer3d.render import Renderer, Camera, RenderSettings, standalone_context
    ctx = standalone_context()            # EGL, headless: a worker thread or child process ONLY
    # or, on the UI thread after show_viewport() + one frame: ctx = moderngl.create_context(require=330)
    r = Renderer(ctx)                     # compiles shaders/mesh.* and shaders/line.*
    r.set_model(model)                    # Model from viewer3d.loader.load_model (uploads buffers)
    model.animations                      # [skin.Animation(name, duration)]; [] when nothing moves
    r.set_pose(0, t_seconds)              # pose skinned meshes (per frame while playing); None: bind pose
    cam = Camera(); cam.view("iso"); cam.fit(model.bounds, aspect=w / h)
    rgba = r.render(cam, (w, h))          # -> (h, w, 4) uint8, row 0 = top
    r.render(cam, (w, h), target=fbo_or_texture)   # draws into it, returns None
    r.render(cam, (w, h), settings=RenderSettings(wireframe=True, grid=False, background=(1, 1, 1)))
    r.render(cam, (w, h), target=tex, settings=RenderSettings(msaa=0))   # while dragging (cheap)
    cam.orbit(dx_px, dy_px); cam.pan(dx_px, dy_px, viewport_h_px); cam.zoom(wheel_steps)
    cam.view("front"|"back"|"right"|"left"|"top"|"bottom"|"iso"|"three_quarter"); cam.reset()
    VIEW_KEYS = {"1": "front", "3": "right", "7": "top", "9": "iso"}   # Blender's numpad keys
    r.release()

Orientation: output is top-row-first in memory (`flip_y=True`, the default), which is what a Dear
PyGui texture (and numpy/PIL) expect; pass `flip_y=False` only to draw onto a window's default
framebuffer. A `target` may be a moderngl Framebuffer or Texture (e.g. `ctx.external_texture` of
a Dear PyGui texture, like ui/live_view.py); the picture lands in its top-left `size` corner.

Threads: every method runs on the thread that owns `ctx`. Never create an EGL context on the thread
that runs Dear PyGui (DESIGN.md: X BadAccess or garbage) - use Dear PyGui's own context there.
Rendering goes into our own framebuffer (4x MSAA unless RenderSettings.msaa says otherwise), then is
resolved into the target (or read back).
Animated models (glTF skins such as CesiumMan and Fox; FBX skins and animated FBX nodes, sampled with
ufbx) are skinned in the vertex shader; skin.py evaluates the pose on the CPU (~1 ms).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aimms_fast.viewer3d.skin import MAX_JOINTS

VIEW_KEYS = {"1": "front", "3": "right", "7": "top", "9": "iso"}
VIEWS = {                                       # (yaw, pitch) in degrees; yaw 0 = looking from +Z
    "front": (0.0, 0.0), "back": (180.0, 0.0), "right": (90.0, 0.0), "left": (-90.0, 0.0),
    "top": (0.0, 90.0), "bottom": (0.0, -90.0),
    "iso": (45.0, math.degrees(math.atan(1 / math.sqrt(2)))),   # 35.26°: the isometric angle
    "three_quarter": (35.0, 20.0),              # thumbnails: a little off the front, a little above
}
ORBIT_DEG_PER_PX = 0.4
ZOOM_STEP = 0.85                                # distance factor per wheel step


def _shader_dir() -> Path:
    from aimms_fast.playback.compose import shader_dir
    return shader_dir()


@dataclass
class Camera:
    """Orbit camera: looks at `target` from `distance`, at `yaw` (around +Y) and `pitch` (above the
    horizon), degrees. Pure math, any thread."""
    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    distance: float = 3.0
    yaw: float = VIEWS["iso"][0]
    pitch: float = VIEWS["iso"][1]
    fov: float = 35.0                           # vertical field of view, degrees
    _home: tuple | None = field(default=None, repr=False)
    _bounds: np.ndarray | None = field(default=None, repr=False)
    _aspect: float = field(default=1.0, repr=False)

    # -- moves ------------------------------------------------------------------------------
    def orbit(self, dx: float, dy: float) -> None:
        """Drag by (dx, dy) pixels: right turns the model right, down tilts the view down."""
        self.yaw = (self.yaw - dx * ORBIT_DEG_PER_PX + 180.0) % 360.0 - 180.0
        self.pitch = float(np.clip(self.pitch + dy * ORBIT_DEG_PER_PX, -89.9, 89.9))

    def pan(self, dx: float, dy: float, viewport_h: float = 600.0) -> None:
        """Move the target so the model follows the pointer by (dx, dy) pixels."""
        right, up, _ = self.basis()
        per_px = 2 * self.distance * math.tan(math.radians(self.fov) / 2) / max(1.0, viewport_h)
        self.target = self.target - right * dx * per_px + up * dy * per_px

    def zoom(self, steps: float) -> None:
        """Wheel steps: positive zooms in."""
        lo = 1e-4 if self._bounds is None else 0.02 * self._radius()
        hi = 1e6 if self._bounds is None else 50 * self._radius()
        self.distance = float(np.clip(self.distance * ZOOM_STEP ** steps, lo, hi))

    def view(self, name: str) -> None:
        """Named view (VIEWS); keeps the framing if the model was fitted (Blender's numpad)."""
        if name not in VIEWS:
            raise ValueError(f"unknown view '{name}' (one of {', '.join(VIEWS)})")
        self.yaw, self.pitch = VIEWS[name]
        if self._bounds is not None:
            self.fit(self._bounds, self._aspect)

    def fit(self, bounds, aspect: float = 1.0, margin: float = 0.9) -> None:
        """Frame the bounding box tightly from the current direction (the box's corners fill
        `margin` of the narrower side); remembers this as the home for reset()."""
        b = np.asarray(bounds, dtype=np.float64).reshape(2, 3)
        self._bounds, self._aspect = b, float(aspect)
        self.target = b.mean(axis=0)
        right, up, back = self.basis()
        tan_v = math.tan(math.radians(self.fov) / 2) * margin
        tan_h = tan_v * aspect
        corners = np.array([[x, y, z] for x in b[:, 0] for y in b[:, 1] for z in b[:, 2]]) - self.target
        x, y, z = corners @ right, corners @ up, corners @ back
        need = np.maximum(np.abs(x) / tan_h, np.abs(y) / tan_v) + z
        self.distance = float(max(need.max(), 1e-3))
        self._home = (self.target.copy(), self.distance, self.yaw, self.pitch)

    def reset(self) -> None:
        """Back to the last fit() (or the view it was given)."""
        if self._home is not None:
            t, self.distance, self.yaw, self.pitch = self._home
            self.target = t.copy()

    # -- matrices -----------------------------------------------------------------------------
    def _radius(self) -> float:
        b = self._bounds
        return float(np.linalg.norm(b[1] - b[0]) / 2) or 1.0 if b is not None else 1.0

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(right, up, back): back points from the target toward the eye."""
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        back = np.array([math.cos(p) * math.sin(y), math.sin(p), math.cos(p) * math.cos(y)])
        right = np.array([math.cos(y), 0.0, -math.sin(y)])
        up = np.cross(back, right)
        return right, up, back

    def eye(self) -> np.ndarray:
        return self.target + self.basis()[2] * self.distance

    def view_matrix(self) -> np.ndarray:
        right, up, back = self.basis()
        m = np.eye(4)
        m[0, :3], m[1, :3], m[2, :3] = right, up, back
        m[:3, 3] = -m[:3, :3] @ self.eye()
        return m

    def clip(self) -> tuple[float, float]:
        r = self._radius() if self._bounds is not None else self.distance
        near = max(self.distance - 2.5 * r, self.distance * 1e-3, 1e-5)
        far = self.distance + 12 * r
        return near, far

    def proj_matrix(self, aspect: float) -> np.ndarray:
        n, f = self.clip()
        t = 1 / math.tan(math.radians(self.fov) / 2)
        return np.array([[t / aspect, 0, 0, 0], [0, t, 0, 0],
                         [0, 0, (f + n) / (n - f), 2 * f * n / (n - f)], [0, 0, -1, 0]])


@dataclass
class RenderSettings:
    """What the viewport toggles (W, G, B, L keys)."""
    wireframe: bool = False
    grid: bool = True
    background: tuple[float, float, float] = (0.16, 0.17, 0.19)   # sRGB 0..1
    light_dir: tuple[float, float, float] = (0.45, 0.8, 0.55)     # toward the light, world space
    light: float = 1.25                                           # linear intensity
    ambient: float = 0.22
    msaa: int = 4               # samples; 0 while dragging on a software GL (see Renderer doc)
    wire_color: tuple[float, float, float, float] = (0.95, 0.62, 0.2, 0.9)
    grid_color: tuple[float, float, float, float] = (0.55, 0.57, 0.6, 0.55)


LIGHT_PRESETS = [(0.45, 0.8, 0.55), (-0.6, 0.7, 0.4), (0.0, 0.3, 1.0), (0.2, 1.0, -0.3)]   # L cycles


class _Gpu:
    """One primitive's buffers (and its joint matrices for the current pose, when skinned)."""

    def __init__(self, vao, wire, vbos, tex, base, n, prim):
        self.vao, self.wire, self.vbos, self.tex, self.base, self.n = vao, wire, vbos, tex, base, n
        self.prim = prim
        self.joints: bytes | None = None


class Renderer:
    """Draws one Model with moderngl. Everything runs on the thread that owns `ctx` (see module doc).

    Cost on llvmpipe (2 vCPU, CesiumMan 4.7K faces, 1024² texture, 800x600 + read-back, p50): 6 ms
    without MSAA, 25 ms with 4x MSAA; 4x anisotropic filtering doubled both, so it is used only on
    hardware GL. A viewport should pass RenderSettings(msaa=0) while the user drags and render one
    MSAA frame when the motion stops (tools/bench/models.py measures both)."""

    def __init__(self, ctx):
        import moderngl
        self.ctx = ctx
        folder = _shader_dir()
        rd = lambda n: (folder / n).read_text("utf-8")   # noqa: E731
        self.mesh_prog = ctx.program(vertex_shader=rd("mesh.vert"), fragment_shader=rd("mesh.frag"))
        self.line_prog = ctx.program(vertex_shader=rd("line.vert"), fragment_shader=rd("line.frag"))
        renderer = ctx.info.get("GL_RENDERER", "").lower()
        self.software = any(w in renderer for w in ("llvmpipe", "softpipe", "swiftshader", "swrast"))
        self.model = None
        self._gpu: list[_Gpu] = []
        self._grid = None                   # (vao, vbo, key)
        self._fbos: dict = {}               # size -> (msaa fbo, resolve fbo)
        self._white = ctx.texture((1, 1), 4, b"\xff\xff\xff\xff")
        self._moderngl = moderngl

    # -- model -------------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Upload a Model (None clears). Replaces the previous model's buffers."""
        self._release_model()
        self.model = model
        if model is None:
            return
        ctx = self.ctx
        textures = {}
        for i, mat in enumerate(model.materials):
            if mat.texture is not None:
                h, w = mat.texture.shape[:2]
                try:
                    t = ctx.texture((w, h), 4, np.ascontiguousarray(mat.texture).tobytes(),
                                    internal_format=0x8C43)   # GL_SRGB8_ALPHA8: sampled as linear
                except Exception:          # a driver without sRGB textures: shade slightly too light
                    t = ctx.texture((w, h), 4, np.ascontiguousarray(mat.texture).tobytes())
                t.build_mipmaps()
                t.filter = (self._moderngl.LINEAR_MIPMAP_LINEAR, self._moderngl.LINEAR)
                t.anisotropy = 1.0 if self.software else 4.0
                textures[i] = t
        for p in model.primitives:
            n = len(p.vertices)
            attrs = np.zeros((n, 9), np.float32)
            attrs[:, 0:3] = p.normals
            if p.uv is not None:
                attrs[:, 3:5] = p.uv
            attrs[:, 5:9] = p.colors if p.colors is not None else 1.0
            vpos = ctx.buffer(np.ascontiguousarray(p.vertices, np.float32).tobytes())
            vatt = ctx.buffer(attrs.tobytes())
            ibo = ctx.buffer(np.ascontiguousarray(p.indices, np.uint32).tobytes())
            mesh_attrs = [(vpos, "3f", "in_pos"), (vatt, "3f 2f 4f", "in_norm", "in_uv", "in_color")]
            wire_attrs = [(vpos, "3f", "in_pos")]
            bufs = [vpos, vatt, ibo]
            skinned = p.skin >= 0 and p.joints is not None and model.skeleton is not None and \
                len(model.skeleton.skins[p.skin][0]) <= MAX_JOINTS
            if skinned:
                jw = np.hstack([p.joints.astype(np.float32), p.weights.astype(np.float32)])
                vskin = ctx.buffer(np.ascontiguousarray(jw).tobytes())
                bufs.append(vskin)
                mesh_attrs.append((vskin, "4f 4f", "in_joints", "in_weights"))
                wire_attrs.append((vskin, "4f 4f", "in_joints", "in_weights"))
            vao = ctx.vertex_array(self.mesh_prog, mesh_attrs, index_buffer=ibo, index_element_size=4)
            wire = ctx.vertex_array(self.line_prog, wire_attrs, index_buffer=ibo, index_element_size=4)
            mat = model.materials[p.material] if p.material < len(model.materials) else None
            base = mat.base_color if mat is not None else (0.8, 0.8, 0.8, 1.0)
            tex = textures.get(p.material) if p.uv is not None else None
            self._gpu.append(_Gpu(vao, wire, bufs, tex, base, len(p.indices) * 3, p if skinned else None))
        self._textures = list(textures.values())
        self._grid_release()

    def set_pose(self, animation: int | None, time: float = 0.0) -> None:
        """Pose skinned primitives at `time` seconds of `model.animations[animation]`; None goes back
        to the bind pose (the vertices as loaded). Cheap (~1 ms for CesiumMan/Fox): call per frame."""
        sk = self.model.skeleton if self.model is not None else None
        for g in self._gpu:
            if g.prim is None or sk is None or animation is None:
                g.joints = None
                continue
            mats = sk.joint_matrices(g.prim.skin, animation, float(time), g.prim.baked)
            g.joints = np.ascontiguousarray(mats.transpose(0, 2, 1)).tobytes()   # column-major for GL

    def _release_model(self) -> None:
        for g in self._gpu:
            g.vao.release()
            g.wire.release()
            for b in g.vbos:
                b.release()
        for t in getattr(self, "_textures", []):
            t.release()
        self._gpu, self._textures = [], []

    # -- grid --------------------------------------------------------------------------------
    def _grid_release(self) -> None:
        if self._grid is not None:
            self._grid[0].release()
            self._grid[1].release()
            self._grid = None

    def _grid_vao(self):
        """Lines on the floor (y = model's lowest point), 1-2-5 spacing sized to the model."""
        b = self.model.bounds
        size = float(max(b[1][0] - b[0][0], b[1][2] - b[0][2], b[1][1] - b[0][1], 1e-6))
        raw = size / 4
        mag = 10 ** math.floor(math.log10(raw))
        step = min((s * mag for s in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
        half = math.ceil(size * 2.5 / step) * step
        cx = round(float(b.mean(axis=0)[0]) / step) * step
        cz = round(float(b.mean(axis=0)[2]) / step) * step
        y = float(b[0][1])
        ticks = np.arange(-half, half + step / 2, step)
        lines = []
        for t in ticks:
            lines += [(cx + t, y, cz - half), (cx + t, y, cz + half),
                      (cx - half, y, cz + t), (cx + half, y, cz + t)]
        data = np.array(lines, np.float32)
        vbo = self.ctx.buffer(data.tobytes())
        vao = self.ctx.vertex_array(self.line_prog, [(vbo, "3f", "in_pos")])
        self._grid = (vao, vbo, (cx, y, cz, half))
        return self._grid

    # -- frames ------------------------------------------------------------------------------
    def _offscreen(self, size, samples: int):
        samples = min(int(samples), self.ctx.max_samples) if samples and samples > 1 else 0
        fb = self._fbos.get((size, samples))
        if fb is None:
            ctx = self.ctx
            resolve = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4)],
                                      depth_attachment=ctx.depth_renderbuffer(size))
            msaa = None
            if samples:
                msaa = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4, samples=samples)],
                                       depth_attachment=ctx.depth_renderbuffer(size, samples=samples))
            if len(self._fbos) > 4:                  # viewport resizes: keep a few sizes only
                for m, r in self._fbos.values():
                    r.release()
                    if m is not None:
                        m.release()
                self._fbos.clear()
            fb = self._fbos[(size, samples)] = (msaa, resolve)
        return fb

    def render(self, camera: Camera, size: tuple[int, int], target=None, *,
               settings: RenderSettings | None = None, flip_y: bool = True) -> np.ndarray | None:
        """Draw the model. target None: returns (h, w, 4) uint8 RGBA (row 0 = top when flip_y);
        a moderngl Framebuffer/Texture: draws into its top-left `size` corner and returns None."""
        s = settings or RenderSettings()
        w, h = int(size[0]), int(size[1])
        if w <= 0 or h <= 0:
            raise ValueError(f"render size must be positive, got {size}")
        ctx = self.ctx
        mgl = self._moderngl
        dst, own = target, None
        if target is not None and isinstance(target, mgl.Texture):
            # A framebuffer per call (microseconds): a cached one would outlive a texture that
            # Dear PyGui deletes and whose GL name it hands out again.
            dst = own = ctx.framebuffer(color_attachments=[target])
        # Our framebuffers take the target's size, so the resolve is one full-size blit; the picture
        # is drawn into its top-left (w, h) corner through the viewport.
        fb_size = (w, h) if dst is None else tuple(dst.size)
        if fb_size[0] < w or fb_size[1] < h:
            raise ValueError(f"render size {size} is larger than the target {fb_size}")
        msaa, resolve = self._offscreen(fb_size, s.msaa)
        prev = ctx.fbo          # put back afterwards: on Dear PyGui's context its framebuffer is bound
        try:
            return self._frame(camera, s, w, h, dst, fb_size, msaa, resolve, flip_y)
        finally:
            # None on a fresh standalone context; released when it was another Renderer's buffer
            if prev is not None and type(prev.mglo).__name__ != "InvalidObject":
                prev.use()
            if own is not None:
                own.release()

    def _frame(self, camera, s, w, h, dst, fb_size, msaa, resolve, flip_y):
        ctx, mgl = self.ctx, self._moderngl
        draw_fb = msaa or resolve
        draw_fb.use()
        ctx.viewport = (0, 0, w, h)
        bg = tuple(float(c) for c in s.background)
        ctx.clear(*bg, 1.0)
        if self.model is not None:
            proj = camera.proj_matrix(w / h)
            if flip_y:
                proj = np.diag([1.0, -1.0, 1.0, 1.0]) @ proj
            mvp = (proj @ camera.view_matrix()).astype(np.float32)
            mvp_bytes = mvp.T.copy().tobytes()
            ctx.enable(mgl.DEPTH_TEST)
            ctx.disable(mgl.CULL_FACE)
            self._draw_mesh(mvp_bytes, camera, s, flip_y)
            ctx.enable(mgl.BLEND)
            ctx.blend_func = mgl.SRC_ALPHA, mgl.ONE_MINUS_SRC_ALPHA
            if s.wireframe:
                lp = self.line_prog
                lp["u_mvp"].write(mvp_bytes)
                lp["u_color"].value = tuple(s.wire_color)
                lp["u_fade"].value = 0.0
                lp["u_bias"].value = 2e-4
                ctx.wireframe = True
                try:
                    for g in self._gpu:
                        self._joints(lp, g)
                        g.wire.render(mgl.TRIANGLES)
                finally:
                    ctx.wireframe = False
                    lp["u_skinned"].value = False
            if s.grid:
                vao, _, (cx, y, cz, half) = self._grid or self._grid_vao()
                lp = self.line_prog
                lp["u_mvp"].write(mvp_bytes)
                lp["u_color"].value = tuple(s.grid_color)
                lp["u_center"].value = (cx, y, cz)
                lp["u_fade"].value = float(half)
                lp["u_bias"].value = 0.0
                ctx.depth_mask = False              # lines never hide each other or the model
                vao.render(mgl.LINES)
                ctx.depth_mask = True
            ctx.disable(mgl.BLEND)
            ctx.disable(mgl.DEPTH_TEST)
        if msaa is not None:
            ctx.copy_framebuffer(resolve, msaa)
        if dst is None:
            data = resolve.read(viewport=(0, 0, w, h), components=4, dtype="f1", alignment=1)
            img = np.frombuffer(data, np.uint8).reshape(h, w, 4)
            return img.copy() if flip_y else img[::-1].copy()
        ctx.copy_framebuffer(dst, resolve)          # glBlitFramebuffer, same size: no read-back
        return None

    def _draw_mesh(self, mvp_bytes, camera: Camera, s: RenderSettings, flip_y: bool) -> None:
        p = self.mesh_prog
        p["u_mvp"].write(mvp_bytes)
        ld = np.asarray(s.light_dir, np.float64)
        ld = ld / (np.linalg.norm(ld) or 1.0)
        p["u_light_dir"].value = tuple(float(x) for x in ld)
        p["u_light"].value = (s.light,) * 3
        p["u_sky"].value = (s.ambient * 1.0, s.ambient * 1.02, s.ambient * 1.1)
        p["u_ground"].value = (s.ambient * 0.45, s.ambient * 0.42, s.ambient * 0.4)
        p["u_eye"].value = tuple(float(x) for x in camera.eye())
        p["u_facing"].value = -1.0 if flip_y else 1.0
        p["u_dim"].value = 0.75 if s.wireframe else 1.0
        p["u_tex"].value = 0
        for g in self._gpu:
            p["u_base"].value = tuple(float(x) for x in g.base)
            p["u_has_tex"].value = g.tex is not None
            (g.tex or self._white).use(0)
            self._joints(p, g)
            g.vao.render()

    @staticmethod
    def _joints(prog, g: _Gpu) -> None:
        if g.joints is not None:
            prog["u_joints"].write(g.joints.ljust(MAX_JOINTS * 64, b"\0"))
            prog["u_skinned"].value = True
        else:
            prog["u_skinned"].value = False

    def release(self) -> None:
        self._release_model()
        self._grid_release()
        for m, r in self._fbos.values():
            r.release()
            if m is not None:
                m.release()
        self._fbos.clear()
        self._white.release()
        self.mesh_prog.release()
        self.line_prog.release()


def standalone_context():
    """A headless EGL moderngl context (GL 3.3+). Call on a worker thread or in a process without
    Dear PyGui only (DESIGN.md: EGL and Dear PyGui's GLX on one thread break each other)."""
    import moderngl
    try:
        return moderngl.create_context(standalone=True, backend="egl", require=330)
    except Exception as first:      # no EGL (e.g. macOS): the platform's own standalone context
        try:
            return moderngl.create_context(standalone=True, require=330)
        except Exception:
            raise first from None
