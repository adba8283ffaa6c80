"""3D model viewport (used by the Assets page's detail panel) and the floating 3D viewer window.

The model is loaded by viewer3d.loader.load_model on a worker thread (it parses in a child process
with time and memory limits and caches a normalised GLB; no GL, no Dear PyGui there). Drawing uses
M1's viewer3d.render Renderer + Camera on Dear PyGui's own GL context (the one ui/live_view.py
wraps with moderngl): never EGL on the UI thread (DESIGN.md: EGL next to Dear PyGui's GLX on one
thread breaks both). Each picture is rendered offscreen and handed to a LiveView pane, which writes
it into its static texture (no float conversion, nothing re-uploaded while the view stands still).
A frame is rendered only when something changed (camera, settings, size, model): `renders` counts
them.

Mouse: left drag orbits, middle drag or Shift+left drag pans, the wheel zooms (over the picture).
Keys (keys.py context "model"): F frame, Enter reset, 1/3/7/9 views, W wireframe, G grid,
B background, L light, Space plays / pauses the model's animation (`model.animations`, posed by
viewer3d through Renderer.set_pose; a model without one stays in its bind pose and says so), Esc
closes. The timeline slider scrubs (and pauses); a combo picks among several animations.
While dragging or playing, frames are drawn without MSAA (llvmpipe: 6 ms instead of 25, M1's
measurement); one MSAA frame follows when the motion stops. Measured here (Duck, 883x536 pane,
llvmpipe, 2 shared vCPUs): render + read-back p50 8.9 ms, p95 22 ms; handing the picture to the
LiveView texture adds ~0.5 ms, so the read-back path is kept (no GL-name games for this view).

Everything here runs on the UI thread except the loader thread, which touches no UI or GL.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.ui.floating import FloatingWindow

BACKGROUNDS = [(0.16, 0.17, 0.19), (0.42, 0.43, 0.45), (0.92, 0.92, 0.93)]   # B cycles: dark, grey, light
BACKGROUND_NAMES = ["dark", "grey", "light"]
VIEWS = {"view:front": "front", "view:right": "right", "view:top": "top", "view:iso": "iso"}


def stats_text(model) -> str:
    """The stats panel: vertices, faces, materials, bounds in metres, file format/version, load."""
    s = model.stats
    sx, sy, sz = s.size_m
    lines = [f"{s.format} {s.version}".strip() + f" · {s.vertices:,} vertices · {s.faces:,} faces · "
             f"{s.materials} material{'s' if s.materials != 1 else ''}" + (" · textured" if s.textured else ""),
             f"size {sx:.3g} × {sy:.3g} × {sz:.3g} m (x × y × z)"
             + (f" · loaded in {model.load_ms:.0f} ms" if getattr(model, "load_ms", None) else "")
             + (" from the cache" if model.from_cache else "")]
    if s.skinned and not model.animations:
        lines.append("skinned: shown in its bind pose (its animation is not evaluated)")
    lines += [n for n in (s.notes or []) if n]
    return "\n".join(lines)


class ModelViewport:
    """A moderngl picture of one model in a LiveView pane, with orbit/pan/zoom by mouse and the
    "model" key actions (`on_action`). UI thread only; call `tick()` every frame and `destroy()`."""

    def __init__(self, app, parent, width: int, height: int, *, on_loaded=None):
        from aimms_fast.ui.live_view import LiveView
        from aimms_fast.viewer3d.render import Camera, RenderSettings
        self.app = app
        self.view = LiveView(app, parent, width, height)
        self.camera = Camera()
        self.settings = RenderSettings(background=BACKGROUNDS[0])
        self.renderer = None
        self.model = None
        self.path: Path | None = None
        self.error: str | None = None
        self.loading = False
        self.renders = 0                   # pictures rendered (only when something changed)
        self.frame_ms: list[tuple[bool, float]] = []   # (fast, ms) of the last 240 renders (render + show)
        self.on_loaded = on_loaded         # fn(model | None, error | None) when a load ends
        self._light = 0
        self._bg = 0
        self._dirty = True
        self._drag: tuple | None = None     # (orbit|pan, button, x, y) while dragging
        self._job: dict | None = None
        self._size = (int(width), int(height))
        self.animation: int | None = None   # index into model.animations (None: no animation)
        self.anim_time = 0.0                # seconds into it
        self.playing = False
        self._clock: float | None = None
        self._fast = False                  # the last frame was drawn without MSAA
        self._wheel = dpg.add_handler_registry()
        dpg.add_mouse_wheel_handler(parent=self._wheel, callback=self._on_wheel)

    # -- loading --------------------------------------------------------------------------------
    def load(self, path: str | Path, cache_dir: str | Path | None = None) -> None:
        """Start loading a model file on a worker thread (child process + GLB cache)."""
        self.path = Path(path)
        self.error = None
        self.loading = True
        job = {"done": False, "model": None, "error": None}
        self._job = job

        def work():
            from aimms_fast.errors import AimmsError
            from aimms_fast.viewer3d.loader import load_model
            try:
                job["model"] = load_model(self.path, cache_dir)
            except AimmsError as e:
                job["error"] = str(e)
            except Exception as e:   # noqa: BLE001 - any failure is this file's error card, never a crash
                job["error"] = f"{self.path}: could not load ({type(e).__name__}: {e})"
            job["done"] = True
        threading.Thread(target=work, name="model-load", daemon=True).start()
        self._dirty = True

    def _poll_load(self) -> None:
        job = self._job
        if job is None or not job["done"]:
            return
        self._job = None
        self.loading = False
        self.error = job["error"]
        self.model = job["model"]
        if self.model is not None:
            try:
                self._ensure_renderer()
                self.renderer.set_model(self.model)
                self.playing = False
                self.animation = 0 if self.model.animations else None
                self.anim_time = 0.0
                if self.animation is not None:
                    self.renderer.set_pose(self.animation, 0.0)
                self.frame_all(view="iso")
            except Exception as e:   # noqa: BLE001 - a GL failure shows in the pane, the app goes on
                self.error = f"{self.path}: cannot draw the model ({type(e).__name__}: {e})"
                self.model = None
        self._dirty = True
        if self.on_loaded is not None:
            self.on_loaded(self.model, self.error)

    def _ensure_renderer(self) -> None:
        if self.renderer is not None:
            return
        from aimms_fast.ui.live_view import _GL
        from aimms_fast.viewer3d.render import Renderer
        if not _GL.start() or _GL.ctx is None:
            raise RuntimeError(f"no OpenGL context to draw with ({_GL.failure})")
        try:
            self.renderer = Renderer(_GL.ctx)
        finally:
            _GL.ctx.screen.use()

    # -- camera -----------------------------------------------------------------------------------
    def frame_all(self, view: str | None = None) -> None:
        """F: frame the whole model (from `view`, else the current direction)."""
        if self.model is None:
            return
        if view:
            self.camera.view(view)
        w, h = self._size
        self.camera.fit(self.model.bounds, aspect=w / max(1, h))
        self._dirty = True

    def on_action(self, action: str) -> bool:
        """The "model" context's view actions; True when handled."""
        from aimms_fast.viewer3d.render import LIGHT_PRESETS
        if action == "view:fit":
            self.frame_all()
        elif action == "view:reset":
            if self.model is not None:
                self.frame_all(view="iso")
        elif action in VIEWS:
            self.camera.view(VIEWS[action])
            if self.model is not None:
                self.frame_all()
        elif action == "view:wireframe":
            self.settings.wireframe = not self.settings.wireframe
        elif action == "view:grid":
            self.settings.grid = not self.settings.grid
        elif action == "view:background":
            self._bg = (self._bg + 1) % len(BACKGROUNDS)
            self.settings.background = BACKGROUNDS[self._bg]
        elif action == "view:light":
            self._light = (self._light + 1) % len(LIGHT_PRESETS)
            self.settings.light_dir = LIGHT_PRESETS[self._light]
        elif action == "play":
            self.play()
            return True
        else:
            return False
        self._dirty = True
        return True

    # -- animation --------------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        if self.model is None or self.animation is None:
            return 0.0
        return float(self.model.animations[self.animation].duration)

    def play(self, on: bool | None = None) -> bool:
        """Space: play / pause the animation (toggle with on=None). Says so when there is none."""
        if self.model is None:
            return False
        if self.animation is None:
            self.app.toast("this model has no animation to play" + (
                " (shown in its bind pose)" if self.model.stats.skinned else ""))
            return False
        self.playing = (not self.playing) if on is None else bool(on)
        self._clock = time.monotonic() if self.playing else None
        self._dirty = True
        return self.playing

    def set_animation(self, index: int) -> None:
        if self.model is not None and 0 <= index < len(self.model.animations):
            self.animation = index
            self.set_time(0.0)

    def set_time(self, t: float) -> None:
        """Show the animation at `t` seconds (the timeline)."""
        if self.animation is None or self.renderer is None:
            return
        d = self.duration
        self.anim_time = (float(t) % d) if d > 0 else 0.0
        self.renderer.set_pose(self.animation, self.anim_time)
        self._dirty = True

    def _advance(self) -> None:
        if not self.playing or self._clock is None:
            return
        now = time.monotonic()
        dt, self._clock = now - self._clock, now
        self.set_time(self.anim_time + dt)

    @property
    def background_name(self) -> str:
        return BACKGROUND_NAMES[self._bg]

    # -- mouse ------------------------------------------------------------------------------------
    def hovered(self) -> bool:
        return dpg.does_item_exist(self.view.drawlist) and dpg.is_item_hovered(self.view.drawlist)

    def _on_wheel(self, sender, delta) -> None:
        if self.model is not None and delta and self.hovered():
            self.camera.zoom(float(delta))
            self._dirty = True

    def _track_mouse(self) -> bool:
        down = dpg.is_mouse_button_down
        mx, my = dpg.get_mouse_pos(local=False)
        if self._drag is None:
            if self.model is None or not self.hovered():
                return False
            left, middle = down(dpg.mvMouseButton_Left), down(dpg.mvMouseButton_Middle)
            if not (left or middle):
                return False
            shift = dpg.is_key_down(dpg.mvKey_ModShift) or dpg.is_key_down(dpg.mvKey_LShift)
            button = dpg.mvMouseButton_Middle if middle else dpg.mvMouseButton_Left
            self._drag = ("pan" if middle or shift else "orbit", button, mx, my)
            return True
        mode, button, x0, y0 = self._drag
        if not down(button):           # the drag goes on outside the picture until the button is let go
            self._drag = None
            self._dirty = self._dirty or self._fast     # one full-quality frame now that it stands still
            return False
        dx, dy = mx - x0, my - y0
        if dx or dy:
            if mode == "orbit":
                self.camera.orbit(dx, dy)
            else:
                self.camera.pan(dx, dy, self._size[1])
            self._drag = (mode, button, mx, my)
            self._dirty = True
        return True

    # -- per frame --------------------------------------------------------------------------------
    def set_size(self, width: int, height: int) -> None:
        size = (max(16, int(width)), max(16, int(height)))
        if size != self._size:
            self._size = size
            self.view.set_size(*size)
            if self.model is not None and self.camera._bounds is not None:
                self.camera._aspect = size[0] / size[1]
            self._dirty = True

    def tick(self) -> bool:
        """Poll the load, follow the mouse, render if something changed. True while busy."""
        self._poll_load()
        dragging = self._track_mouse()
        self._advance()
        if not (dragging or self.playing) and self._fast:
            self._dirty = True             # the motion stopped: redraw once with MSAA
        if self._dirty:
            self._dirty = False
            self._draw(fast=dragging or self.playing)
        return self.loading or dragging or self.playing

    def _draw(self, fast: bool = False) -> None:
        if self.error:
            self.view.show([None], errors=[self.error])
            return
        if self.model is None:
            self.view.show([None], labels=["loading…" if self.loading else ""])
            return
        from aimms_fast.ui.live_view import _GL
        w, h = self._size
        t0 = time.perf_counter()
        try:
            s = dataclasses.replace(self.settings, msaa=0) if fast else self.settings
            rgba = self.renderer.render(self.camera, (w, h), settings=s)
        finally:
            _GL.ctx.screen.use()
        self.renders += 1
        self._fast = fast
        self.view.show([rgba])
        self.frame_ms.append((fast, (time.perf_counter() - t0) * 1000))
        del self.frame_ms[:-240]

    def destroy(self) -> None:
        if self.renderer is not None:
            from aimms_fast.ui.live_view import _GL
            try:
                self.renderer.release()
            finally:
                if _GL.ctx is not None:
                    _GL.ctx.screen.use()
            self.renderer = None
        self.view.destroy()
        if dpg.does_item_exist(self._wheel):
            dpg.delete_item(self._wheel)


class ModelViewerWindow(FloatingWindow):
    """The floating 3D viewer of one asset (or any model file)."""
    key_context = "model"
    STATS_H = 96
    BAR_H = 30

    def __init__(self, app, path: Path, *, title: str, key=None, on_error=None):
        super().__init__(app)
        self.key = key
        self.path = Path(path)
        self.on_error = on_error
        vw = dpg.get_viewport_client_width() or 1400
        vh = dpg.get_viewport_client_height() or 900
        w, h = min(900, vw - 80), min(700, vh - 80)
        self.win = dpg.add_window(label=f"3D · {title}###model{id(self)}", width=w, height=h, pos=(60, 50),
                                  no_collapse=True, no_scrollbar=True, min_size=(320, 260),
                                  on_close=lambda: self.close())
        with dpg.group(parent=self.win, horizontal=True):
            for label, action, tip in (("Fit", "view:fit", "Frame the whole model (F)"),
                                       ("Reset", "view:reset", "Reset the view (Enter)"),
                                       ("Front", "view:front", "Front view (1)"),
                                       ("Right", "view:right", "Right view (3)"),
                                       ("Top", "view:top", "Top view (7)"),
                                       ("Iso", "view:iso", "Three-quarter view (9)"),
                                       ("Wire", "view:wireframe", "Wireframe on / off (W)"),
                                       ("Grid", "view:grid", "Ground grid on / off (G)"),
                                       ("Bg", "view:background", "Next background (B)"),
                                       ("Light", "view:light", "Move the light (L)"),
                                       ("Close", "close", "Close (Esc)")):
                b = dpg.add_button(label=label, callback=lambda s, a, u: self.on_action(u), user_data=action)
                with dpg.tooltip(b):
                    dpg.add_text(tip)
        self.pic = dpg.add_child_window(parent=self.win, width=-1, height=-self.STATS_H, border=False,
                                        no_scrollbar=True)
        self.viewport = ModelViewport(app, self.pic, w - 16, h - self.STATS_H - self.BAR_H - 40,
                                      on_loaded=self._loaded)
        with dpg.group(parent=self.win, horizontal=True, show=False) as self.timeline:
            self.b_play = dpg.add_button(label="Play", width=60, callback=lambda: self.on_action("play"))
            self.anim_combo = dpg.add_combo([], width=160, callback=lambda s, a: self._pick_animation(a))
            self.slider = dpg.add_slider_float(width=-1, min_value=0.0, max_value=1.0, format="%.2f s",
                                               callback=lambda s, a: self._scrub(a))
        self.stats = dpg.add_text("loading…", parent=self.win, wrap=max(200, w - 30))
        from aimms_fast.viewer3d.thumbs import find_cache_dir
        self.viewport.load(self.path, find_cache_dir(self.path))

    def _loaded(self, model, error) -> None:
        if dpg.does_item_exist(self.stats):
            dpg.set_value(self.stats, error if error else stats_text(model))
        anims = model.animations if model is not None else []
        dpg.configure_item(self.timeline, show=bool(anims))
        if anims:
            names = [f"{k + 1}. {a.name}" for k, a in enumerate(anims)]
            dpg.configure_item(self.anim_combo, items=names)
            dpg.set_value(self.anim_combo, names[0])
            dpg.configure_item(self.slider, max_value=max(0.01, float(anims[0].duration)))
        if self.on_error is not None:
            self.on_error(self.key, error)

    def _pick_animation(self, label: str) -> None:
        k = int(label.split(".", 1)[0]) - 1
        self.viewport.set_animation(k)
        dpg.configure_item(self.slider, max_value=max(0.01, self.viewport.duration))

    def _scrub(self, t: float) -> None:
        self.viewport.play(False)
        self.viewport.set_time(t)

    def on_action(self, action: str) -> bool:
        if not self.alive:
            return False
        if action == "close":
            self.close()
            return True
        return self.viewport.on_action(action)

    def tick(self) -> bool:
        if not self.alive:
            return False
        w, h = dpg.get_item_rect_size(self.pic)
        if w >= 32 and h >= 32:
            self.viewport.set_size(int(w), int(h))
        busy = self.viewport.tick()
        vp = self.viewport
        if vp.animation is not None:
            dpg.configure_item(self.b_play, label="Pause" if vp.playing else "Play")
            if vp.playing or not dpg.is_item_active(self.slider):
                dpg.set_value(self.slider, vp.anim_time)
        return busy

    def focused(self) -> bool:
        if not (self.alive and self.win is not None and dpg.does_item_exist(self.win)):
            return False
        return any(dpg.does_item_exist(x) and dpg.is_item_focused(x) for x in (self.win, self.pic))

    def close(self) -> None:
        if not self.alive:
            return
        self.viewport.destroy()
        super().close()


def open_model(app, id_key: str, *, on_error=None) -> ModelViewerWindow | None:
    """Open (or bring forward) the 3D viewer on an asset. `on_error(id_key, reason | None)` hears
    how the load went. UI thread."""
    from aimms_fast.ops.assets import get_asset
    if app.project is None:
        return None
    for w in app.windows:
        if isinstance(w, ModelViewerWindow) and w.alive and w.key == id_key:
            w.focus()
            return w
    try:
        a = get_asset(app.project, id_key)
    except Exception as e:   # noqa: BLE001 - shown, never raised into the UI loop
        app.show_error("Could not open the 3D viewer", e)
        return None
    try:
        path = app.project.layout.read_path(a.file_path)  # issue 14: nothing outside the project is read
    except Exception as e:   # noqa: BLE001 - shown, never raised into the UI loop
        app.show_error("Could not open the 3D viewer", e)
        return None
    w = ModelViewerWindow(app, path, title=a.name, key=id_key, on_error=on_error)
    app.add_window(w)
    w.focus()
    return w
