"""The player: one floating window per take (several may be open), for video and image takes.

Video: a TakeStream (playback/stream.py) decodes around the playhead on its own thread into frames
sized to the pane; a Transport (playback/transport.py) is the clock; the LiveView pane shows the
frame of the transport's index each UI frame, and the transport hears which index really reached
the screen (its dropped-frame count). The scrub bar (ui/scrub_bar.py) is the take's cached
filmstrip; dragging it shows the nearest filmstrip frame at once and the exact frame as soon as it
is decoded. Sound, when the clip has a track, follows the
transport through AudioOut (playback/audio.py).

Image takes: the same window, the picture rendered by ImageView (zoom with the wheel, Ctrl+0 fit,
Ctrl+1 100 %, drag to pan) into the same pane.

Every key action (keys.py context "player") is also a button; the transport keys are
review_panes.transport_action and a held one-shot key fires once (review_panes.RepeatGuard), as in
compare and the tournament. Everything here runs on the UI thread.
"""
from __future__ import annotations

import logging
import math
import sqlite3
from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.ui import review_chrome
from aimms_fast.ui.floating import FloatingWindow
from aimms_fast.ui.image_view import ImageView, over_checkerboard
from aimms_fast.ui.review_panes import RepeatGuard, transport_action
from aimms_fast.ui.scrub_bar import SCRUB_H, ScrubBar

log = logging.getLogger(__name__)

CONTROLS_H = SCRUB_H + 100   # scrub bar + two button rows + status line, below the picture
WHEEL_STEP = 1.25            # zoom factor per wheel notch
MIN_SIZE = (740, 420)        # the transport row's buttons fit on one line
PANEL_PAD = 8                # the controls panel's side padding (review_chrome)
# Decoded frames a player keeps around its playhead (TakeStream's budget): ~16 frames of a
# 1100x650 pane (2.9 MB each), 0.7 s at 24 fps, a quarter of it behind the playhead so stepping
# back costs no decode. Open RV notes a large look-ahead brings nothing (the decoder only has to
# stay ahead of the display); TakeStream's 96 MB default put four 1080p players at 807-841 MB RSS,
# over the 800 MB.
PLAYER_BUDGET = 48 << 20
_audio_note_shown = False    # "no audio device" is said once per session, not per player


def timecode(seconds: float, fps: float) -> str:
    """HH:MM:SS:FF of a time from the first frame (FF counts frames of the nominal rate; for
    VFR clips it is the frame slot the time falls in)."""
    rate = max(1, int(round(fps or 0)) or 1)
    whole = int(math.floor(seconds + 1e-9))
    ff = min(rate - 1, int((seconds - whole) * rate + 1e-6))
    hh, rest = divmod(whole, 3600)
    mm, ss = divmod(rest, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def _window_size() -> tuple[int, int]:
    vw = dpg.get_viewport_client_width() or 1400
    vh = dpg.get_viewport_client_height() or 900
    return min(960, vw - 60), min(700, vh - 80)


def _pane_of(w: int, h: int) -> tuple[int, int]:
    # the picture spans the window (review_chrome: no padding), below the ~24 px title bar
    return max(64, w), max(48, h - 24 - CONTROLS_H)


def default_pane_size() -> tuple[int, int]:
    """The picture pane of a player opened now (review_warmup makes its texture ahead). UI thread."""
    return _pane_of(*_window_size())


def open_player(app, take_id: str):
    """Open a player on a take (a new window each time; several may be open). Returns the Player,
    or None when it could not open (the reason is shown). Called on the UI thread."""
    if app.project is None:
        return None
    try:
        p = Player(app, take_id)
    except AimmsError as e:
        app.show_error("Could not open the player", e)
        return None
    app.add_window(p)
    p.focus()
    return p


def save_take_dialog(app, take_id: str) -> None:
    """"Save take as…" (the player's and the shot window's button; AIMMS 1.0.1's save as): ask for a
    folder, then for the file name (`{shotname}_{filename}` offered, any name may be typed), then
    copy the take there with export/save_take.save_take_as in a background job (a large video
    takes seconds) and toast the path written. An existing file is never replaced: the copy gets
    a number (`_2`) instead. UI thread."""
    from aimms_fast.export.save_take import default_name, save_take_as
    from aimms_fast.store.shots import get_shot
    from aimms_fast.store.takes import get_take
    if app.project is None:
        return
    t = get_take(app.project.conn, take_id)
    if t is None:
        app.toast("that take no longer exists")
        return
    if t.placeholder or not t.file_path:
        app.toast("a placeholder take has no file to save yet")
        return
    shot = get_shot(app.project.conn, t.shot_id) or {}
    offered = default_name(shot.get("shot_name"), t.file_path, t.shot_id)

    def save(folder: Path, name: str) -> None:
        name = name.strip()
        custom = None if name in ("", offered) else name
        app.run_job(lambda progress, cancel, project: save_take_as(project, take_id, folder, name=custom,
                                                                   exists="number"),
                    title="Save take as", label=f"Copying {t.file_path} into {folder}…",
                    on_done=lambda path: app.toast(f"Saved {t.file_path} as {path}", 8.0),
                    mutating=False, cancellable=False)

    def folder_chosen(folder: Path) -> None:
        app.dialogs.prompt("Save take as", "file name", lambda name: save(folder, name), default=offered,
                           ok="Save", hint="shotname_filename")

    app.dialogs.pick_folder(f"Save {t.file_path} into which folder?", folder_chosen)


class Player(FloatingWindow):
    key_context = "player"
    _count = 0

    def __init__(self, app, take_id: str):
        from aimms_fast.store.review import review_take
        super().__init__(app)
        take = review_take(app.project.conn, take_id)
        if take is None:
            raise NotFoundError(f"no take with id {take_id}", path=app.project.root)
        self.take = take
        Player._count += 1
        self.n = Player._count
        self.stream = None
        self.transport = None
        self.audio = None
        self.image: ImageView | None = None
        self.error: str | None = None
        self.muted = False
        self.trim: tuple[int, int] | None = None  # an editor's in/out frames (re-imported edit)
        self.shown_index: int | None = None     # master index whose exact frame is on screen
        self.shown_kind = ""                     # "exact" | "filmstrip" | "image" | "error" | ""
        self._shown_key = None
        self._wanted: tuple[int, int, bool] | None = None
        self._dir = 1
        self._size = (0, 0)
        self._dragging: tuple[float, float] | None = None
        self._status_key = None
        self._audio_reason: str | None = None
        self._keys = RepeatGuard(self.key_context)

        w, h = _window_size()
        off = 28 * ((self.n - 1) % 6)
        self.win = dpg.add_window(label=self._title(), width=w, height=h, pos=(40 + off, 40 + off),
                                  no_collapse=True, no_scrollbar=True, min_size=MIN_SIZE,
                                  on_close=lambda: self.close())
        try:
            self._build(w, h)
            self._load(take)
        except BaseException:
            self._release_media()
            dpg.delete_item(self.win)      # no half-built window left behind
            raise
        with dpg.handler_registry() as self._handlers:
            dpg.add_mouse_wheel_handler(callback=self._on_wheel)

    # -- layout --------------------------------------------------------------------------------
    def _title(self) -> str:
        t = self.take
        kind = "image" if t.storyboard == "image" else "video"
        return f"Player · {t.label} ({kind})###player{self.n}"

    def _build(self, w: int, h: int) -> None:
        from aimms_fast.ui.live_view import LiveView
        ro = self.app.readonly
        pw, ph = _pane_of(w, h)
        review_chrome.open_window(self.win)
        self.pic = dpg.add_child_window(parent=self.win, width=-1, height=-CONTROLS_H, border=False,
                                        no_scrollbar=True)
        self.view = LiveView(self.app, self.pic, pw, ph)
        self.panel = review_chrome.add_panel(self.app, self.win, width=-1, height=-1)
        self.scrub_bar = ScrubBar(self.app, self.panel, pw - 2 * PANEL_PAD)
        self.scrub = self.scrub_bar.drawlist
        b = {}
        self._tips = {}
        transport = (("|<", "first", "First frame (Home)"),
                     ("-1s", "second:-1", "One second back (Shift+Left)"),
                     ("<", "step:-1", "One frame back (Left)"),
                     ("J", "shuttle:-1", "Play in reverse; again: faster (J)"),
                     ("K", "pause", "Pause (K)"),
                     ("Play", "play", "Play / pause (Space)"),
                     ("L", "shuttle:+1", "Play forward; again: faster (L)"),
                     (">", "step:+1", "One frame forward (Right)"),
                     ("+1s", "second:+1", "One second forward (Shift+Right)"),
                     (">|", "last", "Last frame (End)"),
                     ("In", "in", "Set the in point here (I)"),
                     ("Out", "out", "Set the out point here (O)"),
                     ("x In", "clear_in", "Clear the in point (Alt+I)"),
                     ("x Out", "clear_out", "Clear the out point (Alt+O)"),
                     ("Loop", "loop", "Loop between in and out (P)"),
                     ("Mute", "mute", "Sound on / off (M)"))
        take = (("Star", "star", "Star / unstar this take (S)"),
                ("Promote frame", "promote", "This frame as a new image take of this shot (F)"),
                ("to next shot", "promote:next", "This frame as a new image take of the next shot"),
                ("+ Compare", "compare_add", "Add this take to the compare view (C)"),
                ("Save as…", "save_as", "Save a copy of this take's file into a folder, as shotname_filename "
                                        "or a name you type"),
                ("< take", "take:-1", "Previous take of the shot (,)"),
                ("take >", "take:+1", "Next take of the shot (.)"),
                ("Fit", "zoom:fit", "Fit the picture (Ctrl+0)"),
                ("100%", "zoom:100", "Picture at 100 % (Ctrl+1)"),
                ("Close", "close", "Close the player (Esc)"))
        rows = []
        for items in (transport, take):
            with dpg.group(parent=self.panel, horizontal=True) as row:
                for label, action, tip in items:
                    bt = dpg.add_button(label=label, callback=self._button, user_data=action)
                    with dpg.tooltip(bt) as tt:
                        dpg.add_text(tip)
                    b[action] = bt
                    self._tips[action] = tt
            rows.append(row)
        self.transport_row, self.take_row = rows
        for a in ("star", "promote", "promote:next"):
            dpg.configure_item(b[a], enabled=not ro)
        self.b = b
        self.status = dpg.add_text("", parent=self.panel)
        self._size = (pw, ph)

    def relayout(self) -> None:
        review_chrome.recolour(self.app, self.panel)

    def _button(self, sender, app_data, action) -> None:
        self.on_action(action, key=False)

    def _video_controls(self, on: bool) -> None:
        dpg.configure_item(self.transport_row, show=on)
        for a in ("first", "second:-1", "step:-1", "shuttle:-1", "pause", "play", "shuttle:+1", "step:+1",
                  "second:+1", "last", "in", "out", "clear_in", "clear_out", "loop", "mute", "promote",
                  "promote:next"):
            self._show_button(a, on)
        for a in ("zoom:fit", "zoom:100"):
            self._show_button(a, not on)
        self.scrub_bar.show(on)
        # Stills have no scrub bar: the picture takes its room.
        dpg.configure_item(self.pic, height=-CONTROLS_H if on else -(CONTROLS_H - SCRUB_H - 30))

    def _show_button(self, action: str, on: bool) -> None:
        # A hidden button's tooltip must be hidden too: Dear PyGui's tooltip asks "is the last
        # drawn item hovered?", which for a hidden button is whatever was drawn before it (the
        # picture), so every hidden button's tooltip would pop up over the picture.
        dpg.configure_item(self.b[action], show=on)
        dpg.configure_item(self._tips[action], show=on)

    # -- the take ------------------------------------------------------------------------------
    def _load(self, take) -> None:
        """Show `take` in this window (opening, or , / . to another take of the shot)."""
        self._release_media()
        self.take = take
        self.error = None
        self.trim = None
        self.shown_index = None
        self.shown_kind = ""
        self._shown_key = None
        self._wanted = None
        self.scrub_bar.set_take(None)
        self._dragging = None
        dpg.configure_item(self.win, label=self._title())
        lay = self.app.project.layout
        path = lay.read_path(take.rel) if take.rel and lay.is_inside(take.rel, follow=True) else None
        video = take.storyboard == "video"
        self._video_controls(video)
        if path is None or take.placeholder or not path.is_file() or path.stat().st_size == 0:
            self.error = (f"{take.rel or 'this take'}: no media yet (placeholder or missing file); "
                          "replace the take with its file")
            return
        if not video:
            try:
                self.image = ImageView.open(path)
            except AimmsError as e:
                self.error = str(e)
            return
        from aimms_fast.playback.stream import TakeStream
        from aimms_fast.playback.transport import Transport
        try:
            self.stream = TakeStream(path, size=self._probed_frame_size(take.rel), budget_bytes=PLAYER_BUDGET)
        except AimmsError as e:
            self.error = str(e)
            return
        except Exception as e:   # a file FFmpeg chokes on in a way nobody named: still one take's problem
            log.exception("player could not open %s", path)
            self.error = f"{take.rel}: cannot play this file ({type(e).__name__}: {e})"
            return
        fit = self._frame_size()
        if fit != tuple(self.stream.size):
            self.stream.set_size(fit)
        self.transport = Transport([self.stream.info])
        self.trim = self._stored_trim()
        self.scrub_bar.set_take(take.rel, self.stream.info.frame_count, self.stream.info.times, trim=self.trim)
        self._apply_trim()
        self._dir = 1
        self._open_audio(path)

    def _stored_trim(self) -> tuple[int, int] | None:
        """The editor's in/out of this take as inclusive frame indices (store.export trims hold
        seconds in the file, out exclusive: in + duration), or None. Each end is rounded to the
        nearest frame (half a frame of slack: edit rates such as 23.976 vs 24 land a hair off)."""
        from aimms_fast.store.export import get_trims
        try:
            got = get_trims(self.app.project.conn, [self.take.take_id]).get(self.take.take_id)
        except sqlite3.Error:   # a project without the trims table (never re-imported an edit)
            return None
        if got is None:
            return None
        info = self.stream.info
        half = 0.5 / (info.fps or 24.0)
        a, b = info.index_at(float(got[0]) + half), info.index_at(float(got[1]) - half)
        if float(got[0]) >= info.duration or b < a:
            log.warning("trim %s of %s lies outside the file (%d frames): ignored", got, self.take.rel,
                        info.frame_count)
            return None
        return a, b

    def _apply_trim(self) -> None:
        """The trim becomes the transport's in/out points, loop off, the playhead on the in point
        (Space would start there anyway: play() starts at the range start from outside it)."""
        if self.trim is None or self.transport is None:
            return
        tr = self.transport
        tr.in_index, tr.out_index = self.trim
        tr.loop = False
        tr.seek(self.trim[0])

    def _open_audio(self, path) -> None:
        global _audio_note_shown
        if not self.stream.info.has_audio:
            return
        try:
            from aimms_fast.playback.audio import AudioOut, AudioTrack
        except ImportError as e:
            self._audio_reason = f"audio playback not available ({e})"
            return
        try:
            self.audio = AudioOut(AudioTrack(path))
        except AimmsError as e:
            self.audio = None
            self._audio_reason = f"sound track not readable: {e}"
            return
        except Exception as e:
            log.exception("audio output failed for %s", path)
            self.audio = None
            self._audio_reason = f"sound output failed ({type(e).__name__}: {e})"
            return
        if not self.audio.available and not _audio_note_shown:
            _audio_note_shown = True
            self.app.toast(f"Playing without sound: {self.audio.reason}", 8.0)

    def _release_media(self) -> None:
        if self.audio is not None:
            try:
                self.audio.close()
            except Exception:
                log.exception("closing the audio output failed (ignored: the player is closing)")
            self.audio = None
        self._audio_reason = None
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        self.transport = None
        self.image = None

    # -- sizes ---------------------------------------------------------------------------------
    def _pane_size(self) -> tuple[int, int]:
        return tuple(self.view.pane_sizes(1, "single")[0])

    def _frame_size(self) -> tuple[int, int]:
        """The size the stream decodes to: the picture fitted into the pane with its display
        aspect kept (TakeStream converts to exactly the size it is given), never larger than the
        clip itself (Dear PyGui scales a small frame up when drawing, for free; swscale would not)."""
        pw, ph = self._pane_size()
        info = self.stream.info
        s = min(1.0, pw / info.width, ph / info.height)
        return max(1, round(info.width * s)), max(1, round(info.height * s))

    def _probed_frame_size(self, rel: str) -> tuple[int, int]:
        """The fitted frame size from the probe stored at import, so the stream decodes its first
        frame at the right size once (a wrong guess costs a second decode: 22 ms at 1080p).
        Without probe facts: the pane size (corrected after the open)."""
        from aimms_fast.media.frames import display_size
        from aimms_fast.media.probe import facts
        pw, ph = self._pane_size()
        try:
            f = facts(self.app.project.conn, rel)
            sar = f["sample_aspect"] or "1:1"
            num, den = (int(x) for x in sar.split(":"))
            w, h = display_size(int(f["width"]), int(f["height"]), num / den if num and den else 1,
                                int(f["rotation"] or 0))
        except (TypeError, KeyError, ValueError, ZeroDivisionError, sqlite3.Error):
            return pw, ph     # never probed (older project) or an odd row: fixed after the open
        s = min(1.0, pw / w, ph / h)
        return max(1, round(w * s)), max(1, round(h * s))

    def _track_size(self) -> None:
        """Follow the window's size: the pane, the stream's frame size and the scrub bar."""
        w, h = dpg.get_item_rect_size(self.pic)
        w, h = int(w), int(h)
        if w < 32 or h < 32 or (w, h) == self._size:
            return
        self._size = (w, h)
        self.view.set_size(w, h)
        self.scrub_bar.set_width(w - 2 * PANEL_PAD)
        if self.stream is not None:
            self.stream.set_size(self._frame_size())
            self._wanted = None
        self._shown_key = None

    # -- per frame -----------------------------------------------------------------------------
    def tick(self) -> bool:
        if not self.alive:
            return False
        self._keys.tick()
        self._track_size()
        if self.error is not None:
            self._show_error()
            return False
        if self.image is not None:
            self._drag_pan()
            self._show_image()
            self._update_status()
            return self._dragging is not None
        if self.stream is None:
            return False
        tr = self.transport
        busy = self.scrub_bar.drag(tr)
        tr.tick()
        i = tr.index
        if tr.rate:
            self._dir = 1 if tr.rate > 0 else -1
        paused = not tr.rate
        if self._wanted != (i, self._dir, paused):
            self.stream.want(i, self._dir, paused=paused)
            self._wanted = (i, self._dir, paused)
        if self.stream.error:
            self.error = self.stream.error
            self._show_error()
            return False
        waiting = self._show_frame(i)
        if self.audio is not None:
            try:
                self.audio.sync(tr.position, tr.rate, self.muted)
            except Exception:
                log.exception("audio sync failed; sound stops for this take")
                self.audio.close()
                self.audio = None
        self.scrub_bar.draw(tr)
        self._update_status()
        return bool(tr.rate) or waiting or busy

    def _show_frame(self, i: int) -> bool:
        """Put frame i on screen if it is decoded, else the nearest filmstrip frame while scrubbing.
        Returns True while the exact frame is still on its way."""
        frame = self.stream.get(i)
        if frame is not None:
            key = ("exact", i, frame.shape)
            if key != self._shown_key or self.view.pending:
                if self.stream.info.has_alpha:
                    frame = over_checkerboard(frame)
                self.view.show([frame], labels=None)
                self._shown_key = key
                self.shown_index = i
                self.shown_kind = "exact"
            self.transport.note_shown(i)
            return False
        if self.scrub_bar.scrubbing or self._shown_key is None:
            strip = self.scrub_bar.filmstrip_frame(i)
            if strip is not None:
                k, img = strip
                key = ("filmstrip", k)
                if key != self._shown_key or self.view.pending:
                    self.view.show([img])
                    self._shown_key = key
                    self.shown_kind = "filmstrip"
        return True

    def _show_error(self) -> None:
        key = ("error", self.error)
        if key != self._shown_key:
            self.view.show([None], errors=[self.error])
            self._shown_key = key
            self.shown_kind = "error"
            dpg.set_value(self.status, f"Cannot show this take: {self.error}")

    def _show_image(self) -> None:
        size = self._pane_size()
        st = self.image.state(size)
        key = ("image", size, st.scale, st.center)
        if key != self._shown_key or self.view.pending:
            self.view.show([self.image.render(size)])
            self._shown_key = key
            self.shown_kind = "image"

    def _update_status(self) -> None:
        if self.image is not None:
            size = self._pane_size()
            text = (f"{self.image.width} x {self.image.height}  ·  zoom {self.image.zoom_text(size)}  ·  "
                    f"{self._star_text()}")
        else:
            tr, info = self.transport, self.stream.info
            i = tr.index
            n = info.frame_count
            rate = tr.rate
            parts = [timecode(float(info.times[i]), info.fps), f"frame {i} (0-{n - 1})", f"{info.fps:.2f} fps",
                     "paused" if not rate else f"{rate:+g}x", f"dropped {tr.dropped}"]
            if self.shown_kind == "filmstrip":
                parts.insert(2, "filmstrip preview, decoding…")
            if tr.in_index is not None or tr.out_index is not None:
                a = "-" if tr.in_index is None else tr.in_index
                b = "-" if tr.out_index is None else tr.out_index
                parts.append(f"in {a} out {b}")
            if self.trim is not None:
                parts.append(f"editor trim {self.trim[0]}-{self.trim[1]}")
            if tr.loop:
                parts.append("loop")
            if info.has_audio:
                if self.audio is None:
                    parts.append((f"no sound ({self._audio_reason})" if self._audio_reason else "no sound")
                                 + (" (muted)" if self.muted else ""))
                elif not self.audio.available:
                    parts.append("no sound device" + (" (muted)" if self.muted else ""))
                else:
                    parts.append("muted" if self.muted else "sound")
            parts.append(self._star_text())
            text = "  ·  ".join(parts)
        if text != self._status_key:
            dpg.set_value(self.status, text)
            dpg.configure_item(self.b["play"], label="Pause" if self.transport and self.transport.rate else "Play")
            self._status_key = text

    def _star_text(self) -> str:
        s = self.take.starred
        if not s:
            return "not starred"
        return "starred" if self.take.storyboard == "video" else f"starred (slot {s})"

    # -- image zoom and pan ----------------------------------------------------------------------
    def _mouse_in_pane(self) -> tuple[float, float] | None:
        """Mouse position in pane pixels while it is over this player's picture, else None."""
        if self.image is None or not dpg.is_item_hovered(self.view.drawlist):
            return None
        mx, my = dpg.get_mouse_pos(local=False)
        x0, y0, x1, y1 = self.view.pane_rect(0)
        if x0 <= mx < x1 and y0 <= my < y1:
            return mx - x0, my - y0
        return None

    def _on_wheel(self, sender, delta) -> None:
        at = self._mouse_in_pane()
        if at is None or not delta:
            return
        self.image.zoom_at(WHEEL_STEP ** float(delta), at[0], at[1], self._pane_size())

    def _drag_pan(self) -> None:
        # LiveView's drawlist is an invisible button: active while the mouse is held on it, so a
        # drag there pans the picture and never moves the window.
        if not dpg.is_item_active(self.view.drawlist):
            self._dragging = None
            return
        mx, my = dpg.get_mouse_pos(local=False)
        if self._dragging is None:
            self._dragging = (mx, my)
            return
        dx, dy = mx - self._dragging[0], my - self._dragging[1]
        if dx or dy:
            self.image.pan(dx, dy, self._pane_size())
            self._dragging = (mx, my)

    # -- actions -----------------------------------------------------------------------------------
    def on_action(self, action: str, *, key: bool = True) -> bool:
        """A keys.py "player" action (key=False: a button, never a key repeat). UI thread."""
        if not self.alive:
            return False
        if key and self._keys.held(action):
            return True
        if action == "close":
            self.close()
            return True
        if action.startswith("take:"):
            self.next_take(int(action.split(":")[1]))
            return True
        if action == "star":
            self.star()
            return True
        if action == "compare_add":
            self.compare_add()
            return True
        if action == "save_as":
            save_take_dialog(self.app, self.take.take_id)
            return True
        if action in ("promote", "promote:next"):
            self.promote(next_shot=action == "promote:next")
            return True
        if action.startswith("zoom:"):
            if self.image is None:
                self.app.toast("Zoom is for image takes; video fits the window")
            elif action == "zoom:fit":
                self.image.fit()
            else:
                self.image.actual_size()
            return True
        if action == "mute":
            self.muted = not self.muted
            return True
        tr = self.transport
        if tr is None:
            return True     # transport keys on an image or a broken take: nothing to move, key used
        if action.startswith(("step:", "second:")):
            self._dir = -1 if action.split(":")[1].startswith("-") else 1
        return transport_action(tr, action)

    def next_take(self, step: int) -> None:
        """, / . : the previous / next take of this shot in the same storyboard, in take order."""
        from aimms_fast.store.review import shot_review_takes
        takes = shot_review_takes(self.app.project.conn, self.take.shot_id, self.take.storyboard)
        ids = [t.take_id for t in takes]
        if self.take.take_id not in ids:
            return
        k = ids.index(self.take.take_id) + step
        if not 0 <= k < len(takes):
            self.app.toast("first take of the shot" if k < 0 else "last take of the shot")
            return
        self._load(takes[k])

    def star(self) -> None:
        from aimms_fast.ops.takes import star_take
        if self.app.readonly:
            self.app.toast("read-only: cannot star")
            return
        self.app.run_op(lambda: star_take(self.app.project, self.take.take_id),
                        changed=("takes", [self.take.shot_id]), title="Could not star the take")

    def compare_add(self) -> None:
        try:
            from aimms_fast.ui.compare import add_to_compare
        except ImportError as e:
            self.app.toast(f"compare view not available ({e})")
            return
        add_to_compare(self.app, self.take.take_id)

    def promote(self, *, next_shot: bool = False) -> int | None:
        """The frame on screen as a new image take of this shot (F) or of the next one (button).
        Playback pauses first, so the frame saved is the one the user saw. The decode + PNG +
        import run as a background job (a frame deep in a long GOP takes a second or more at
        1080p); returns the frame index queued, None when there is nothing to promote."""
        from aimms_fast.ops.promote import next_shot_id, promote_frame
        if self.stream is None or self.transport is None:
            self.app.toast("only a playable video has frames to promote")
            return None
        if self.app.readonly:
            self.app.toast("read-only: cannot add takes")
            return None
        p = self.app.project
        dest = self.take.shot_id
        if next_shot:
            dest = next_shot_id(p, self.take.shot_id)
            if dest is None:
                self.app.toast("this is the last shot: there is no next shot")
                return None
        self.transport.pause()
        i = self.shown_index if self.shown_kind == "exact" and self.shown_index is not None else self.transport.index
        take_id, rel = self.take.take_id, self.take.rel

        def done(new: str) -> None:
            from aimms_fast.store.takes import get_take
            t = get_take(p.conn, new)
            self.app.toast(f"Frame {i} of {rel} saved as {t.file_path if t else new}")
            if self.alive:
                self.focus()      # the job's modal dialog had the keyboard
        self.app.run_job(lambda progress, cancel, job: promote_frame(job, take_id, i, to_shot_id=dest),
                         title="Promote frame", label=f"Saving frame {i} of {rel} as a new image take…",
                         on_done=done, changed=("takes", [dest]))
        return i

    # -- shell events ------------------------------------------------------------------------------
    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if what not in ("takes", "all", "shots"):
            return
        if shot_ids is not None and self.take.shot_id not in shot_ids:
            return
        from aimms_fast.store.review import review_take
        t = review_take(self.app.project.conn, self.take.take_id)
        if t is None:               # deleted elsewhere
            self.close()
            return
        if t.rel != self.take.rel:  # replaced: show the new file
            self._load(t)
        else:
            self.take = t
            dpg.configure_item(self.win, label=self._title())
            if self.stream is not None:
                trim = self._stored_trim()
                if trim != self.trim:   # an edit was re-imported while the player was open
                    self.trim = trim
                    self.scrub_bar.trim = trim
                    self._apply_trim()
        self._status_key = None

    def close(self) -> None:
        if not self.alive:
            return
        self._release_media()
        self.scrub_bar.destroy()
        if dpg.does_item_exist(self._handlers):
            dpg.delete_item(self._handlers)
        self.view.destroy()
        super().close()
