"""Shot window (AIMMS's "View Media", but non-blocking: several can stay open beside the
storyboards). All takes of one shot in a grid (each card: take number, duration, resolution, file;
hover for the prompt; right click for the take menu; S toggles the selected take's star); star,
add, add placeholders, replace, delete (asks; undo); the selected take's generation summary,
technical facts, workflow PNG status with regenerate/validate, notes and rating; copy the prompt;
open the file's folder. Files dropped from the desktop onto the take grid become takes
(ui/file_dialog.py). UI thread only."""
from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError
from aimms_fast.ui.floating import FloatingWindow
from aimms_fast.store.storyboard import file_state, media_lines
from aimms_fast.ui.card_grid import Card, CardGrid, card_status
from aimms_fast.ui.generation import generation_text, take_generation
from aimms_fast.ui.storyboard import take_detail

DETAILS_W = 440
TAKE_CARD_W = 220


class ShotWindow(FloatingWindow):
    key_context = "shot"
    _count = 0

    def __init__(self, app, shot_id: int, storyboard: str = "image"):
        from aimms_fast.store.shots import get_shot
        super().__init__(app)
        self.shot_id = int(shot_id)
        self.shot = get_shot(app.project.conn, self.shot_id)
        if self.shot is None:
            raise AimmsError(f"no shot with id {shot_id}", path=app.project.root)
        self.storyboard = storyboard
        self.takes = []
        self.last_trash: int | None = None
        self._detail_for = None
        self._files: dict[str, str] = {}
        ShotWindow._count += 1
        off = 30 * (ShotWindow._count % 6)
        vw = dpg.get_viewport_client_width() or 1600
        vh = dpg.get_viewport_client_height() or 960
        w, h = min(1240, vw - 40), min(780, vh - 60)
        self.win = dpg.add_window(label=self._title(), width=w, height=h, pos=(20 + off, 50 + off),
                                  no_collapse=True, on_close=lambda: self.close())
        self._build()
        self.reload()

    def _title(self) -> str:
        s = self.shot
        return f"Shot {s['order_number']}. {s['shot_name']}  (id {s['shot_id']})###shot{s['shot_id']}"

    # -- layout --------------------------------------------------------------------------------------
    def _build(self) -> None:
        app = self.app
        ro = app.readonly
        with dpg.group(parent=self.win, horizontal=True):
            self.kind_radio = dpg.add_radio_button(["Images", "Videos"], horizontal=True,
                                                   default_value="Videos" if self.storyboard == "video" else "Images",
                                                   callback=lambda s, a: self.set_storyboard(
                                                       "video" if a == "Videos" else "image"))
            dpg.add_spacer(width=10)
            self.b_add = dpg.add_button(label="Add takes…", enabled=not ro, callback=lambda: self._pick_add())
            self.n_ph = dpg.add_input_int(default_value=1, min_value=1, max_value=50, min_clamped=True,
                                          max_clamped=True, width=90, step=1)
            self.b_ph = dpg.add_button(label="Add placeholders", enabled=not ro,
                                       callback=lambda: self.add_placeholders(dpg.get_value(self.n_ph)))
            self.b_replace = dpg.add_button(label="Replace…", enabled=not ro, callback=lambda: self._pick_replace())
            self.slot_combo = dpg.add_combo(["slot 1", "slot 2", "slot 3"], default_value="slot 1", width=80)
            self.b_star = dpg.add_button(label="Star", enabled=not ro, callback=lambda: self.star())
            self.b_del = dpg.add_button(label="Delete…", enabled=not ro, callback=lambda: self.delete())
            dpg.bind_item_theme(self.b_del, app.themes["danger"])
            self.b_undo = dpg.add_button(label="Undo delete", enabled=False, callback=lambda: self.undo())
        with dpg.group(parent=self.win, horizontal=True):
            self.grid_box = dpg.add_child_window(width=-DETAILS_W - 8, height=-1, border=True)
            self.details = dpg.add_child_window(width=DETAILS_W, height=-1, border=True)
        self.grid = None
        self._make_grid()
        self._build_details()

    def _make_grid(self) -> None:
        if self.grid is not None:
            self.grid.destroy()
        self.grid = CardGrid(self.app, self.grid_box, video=self.storyboard == "video",
                             on_open=lambda i: self._play(i), on_select=lambda i: self._show_details(),
                             status_of=lambda c: card_status(self.app, c), card_width=lambda: TAKE_CARD_W,
                             on_context=self._context)
        dpg.configure_item(self.slot_combo, show=self.storyboard == "image")

    def _build_details(self) -> None:
        d = self.details
        from aimms_fast.ui import theme as T
        self.d_head = T.text(self.app, d, "", "heading", wrap=DETAILS_W - 20)
        self.d_state = dpg.add_text("", parent=d, wrap=DETAILS_W - 20)
        with dpg.group(parent=d, horizontal=True):
            dpg.add_button(label="Copy prompt", callback=lambda: self.copy_prompt())
            dpg.add_button(label="Open folder", callback=lambda: self.open_folder())
            self.b_save_as = dpg.add_button(label="Save take as…", callback=lambda: self.save_as())
        with dpg.collapsing_header(label="Generation", parent=d, default_open=True):
            self.d_gen = dpg.add_text("", wrap=DETAILS_W - 30)
        with dpg.collapsing_header(label="Technical", parent=d, default_open=True):
            self.d_tech = dpg.add_text("", wrap=DETAILS_W - 30)
        with dpg.collapsing_header(label="Workflow PNG", parent=d, default_open=True) as self.d_wf_head:
            self.d_wf = dpg.add_text("", wrap=DETAILS_W - 30)
            with dpg.group(horizontal=True):
                self.b_regen = dpg.add_button(label="Regenerate", callback=lambda: self.workflow("regenerate"))
                self.b_validate = dpg.add_button(label="Validate", callback=lambda: self.workflow("validate"))
                self.b_repair = dpg.add_button(label="Repair", callback=lambda: self.workflow("repair"))
        with dpg.collapsing_header(label="Assets", parent=d, default_open=True) as self.d_assets_head:
            from aimms_fast.ui.assets import AssetStrip      # characters/locations used in this shot
            self.assets = AssetStrip(self.app, self.d_assets_head, DETAILS_W - 30)
        with dpg.collapsing_header(label="Notes and rating", parent=d, default_open=True):
            self.d_notes = dpg.add_input_text(multiline=True, width=-1, height=80, readonly=self.app.readonly)
            self.app.register_text_input(self.d_notes)
            self.d_rating = dpg.add_slider_int(label="rating", min_value=0, max_value=5, width=200,
                                               enabled=not self.app.readonly)
            dpg.add_button(label="Save notes", enabled=not self.app.readonly, callback=lambda: self.save_notes())

    # -- data ----------------------------------------------------------------------------------------
    def reload(self) -> None:
        from aimms_fast.store.shots import get_shot
        from aimms_fast.store.takes import takes_for_shot
        p = self.app.project
        shot = get_shot(p.conn, self.shot_id)
        if shot is None:       # deleted elsewhere
            self.close()
            return
        self.shot = shot
        dpg.configure_item(self.win, label=self._title())
        self.takes = takes_for_shot(p.conn, self.shot_id, self.storyboard)
        self._files = {}
        for t in self.takes:
            for rel in (t.file_path, t.companion_path):
                if rel:
                    self._files[rel] = file_state(p.layout, rel)
        self._media = media_lines(p.conn, [t.file_path for t in self.takes if t.file_path])
        self.grid.set_cards([self._card(t) for t in self.takes])
        self.assets.set_shot(p, self.shot_id)
        if self.grid.selected < 0 and self.takes:
            self.grid.select(0, scroll=False)
        self._detail_for = None
        self._show_details()

    def _card(self, t) -> Card:
        fstate = self._files.get(t.file_path, "missing")
        badges = []
        if t.placeholder or fstate == "empty":
            badges.append("placeholder")
        elif fstate == "missing":
            badges.append("missing")
        if self.storyboard == "video" and not t.placeholder and fstate == "ok":
            if not t.companion_path or self._files.get(t.companion_path) != "ok":
                badges.append("nopng")
        star = ""
        if t.starred and t.storyboard == "image":
            star = f"  slot {t.starred}"
        m = getattr(self, "_media", {}).get(t.file_path)
        detail = take_detail(None, m.duration, m.width, m.height) if m else ""
        if t.placeholder or fstate == "empty":
            detail = "placeholder"
        elif fstate == "missing":
            detail = "file missing"
        sub = Path(t.file_path).name + (f"  ·  {'★' * t.rating}" if t.rating else "")
        tip = [f"Take {t.take_number:02d} of {self.shot['shot_name']}", detail]
        if t.starred:
            tip.append("★ chosen take" if t.storyboard == "video" else f"★ reference slot {t.starred}")
        if m and m.prompt:
            tip.append(f"Prompt: {m.prompt[:600]}")
        tip.append(f"File: {t.file_path}")
        if t.notes:
            tip.append(f"Notes: {t.notes[:300]}")
        return Card(key=t.take_id, rel=t.file_path, title=f"Take {t.take_number:02d}{star}",
                    subtitle=sub, detail=detail, tooltip="\n".join(x for x in tip if x),
                    starred=bool(t.starred), badges=badges,
                    placeholder=bool(t.placeholder) or fstate != "ok", take_id=t.take_id,
                    video=self.storyboard == "video")

    def set_storyboard(self, storyboard: str) -> None:
        if storyboard == self.storyboard:
            return
        self.storyboard = storyboard
        dpg.set_value(self.kind_radio, "Videos" if storyboard == "video" else "Images")
        self._make_grid()
        self.reload()

    def _play(self, i: int) -> None:
        """Double-click or Enter on a take: play it (images open in the same viewer, zoomable)."""
        if 0 <= i < len(self.takes):
            from aimms_fast.ui import review
            review.dispatch(self.app, "play", take_id=self.takes[i].take_id, shot_id=self.shot_id,
                            storyboard=self.storyboard)

    def relayout(self) -> None:
        self.grid.relayout()

    @property
    def selected_take(self):
        i = self.grid.selected
        return self.takes[i] if 0 <= i < len(self.takes) else None

    def select_take(self, take_id: str) -> None:
        for i, t in enumerate(self.takes):
            if t.take_id == take_id:
                self.grid.select(i)
                return

    # -- details -------------------------------------------------------------------------------------
    def _show_details(self) -> None:
        t = self.selected_take
        key = (t.take_id, t.starred, t.file_path) if t else None
        if key == self._detail_for:
            return
        self._detail_for = key
        show_wf = self.storyboard == "video"
        dpg.configure_item(self.d_wf_head, show=show_wf)
        if t is None:
            for item in (self.d_head, self.d_state, self.d_gen, self.d_tech, self.d_wf):
                dpg.set_value(item, "")
            dpg.set_value(self.d_head, "No takes yet: add files or placeholders.")
            return
        dpg.set_value(self.d_head, f"Take {t.take_number:02d}  ·  {t.file_path}")
        state = []
        if t.starred:
            state.append("★ chosen take" if t.storyboard == "video" else f"★ reference slot {t.starred}")
        fs = self._files.get(t.file_path)
        state.append({"ok": "file present", "empty": "placeholder (empty file)", "missing": "FILE MISSING"}.get(fs, ""))
        dpg.set_value(self.d_state, "  ·  ".join(s for s in state if s))
        self.gen = take_generation(self.app.project, t, self._files)
        dpg.set_value(self.d_gen, generation_text(self.gen))
        dpg.set_value(self.d_tech, self._tech_text(t))
        if show_wf:
            dpg.set_value(self.d_wf, self._workflow_text(t))
        dpg.set_value(self.d_notes, t.notes or "")
        dpg.set_value(self.d_rating, int(t.rating or 0))

    def _tech_text(self, t) -> str:
        p = self.app.project
        f = None
        try:
            from aimms_fast.media.probe import facts
            f = facts(p.conn, t.file_path)
        except Exception:
            f = None
        try:
            size = p.layout.read_path(t.file_path).stat().st_size  # issue 14: never outside
        except (OSError, AimmsError):
            size = None
        lines = [f"file size: {size:,} bytes" if size is not None else "file: not found"]
        if not f:
            lines.append("not probed yet")
            return "\n".join(lines)
        if f.get("status") not in (None, "ok"):
            lines.append(f"status: {f.get('status')}" + (f" ({f['reason']})" if f.get("reason") else ""))
        keys = [("container", "container"), ("codec", "codec"), ("width", "width"), ("height", "height"),
                ("fps", "fps"), ("duration", "duration s"), ("frame_count", "frames"),
                ("keyframe_interval", "GOP"), ("rotation", "rotation"), ("alpha", "alpha"),
                ("audio_streams", "audio streams"), ("mode", "mode"), ("animated_frames", "animated frames")]
        for k, label in keys:
            v = f.get(k)
            if v not in (None, "", 0) or k in ("width", "height"):
                if isinstance(v, float):
                    v = f"{v:.3f}".rstrip("0").rstrip(".")
                lines.append(f"{label}: {v}")
        return "\n".join(lines)

    def _workflow_text(self, t) -> str:
        wf = _workflow_module()
        if t.placeholder:
            return "placeholder take: no workflow PNG expected yet"
        if wf is not None:
            try:
                return _format_wf_status(wf.check(self.app.project, [t.take_id])[0])
            except Exception as e:
                return f"status unknown ({e})"
        if not t.companion_path:
            return "⚠ missing: no workflow PNG is recorded for this take"
        fs = self._files.get(t.companion_path)
        return {"ok": f"✔ present: {t.companion_path}", "empty": "⚠ empty placeholder PNG",
                "missing": f"✘ recorded but the file is gone: {t.companion_path}"}.get(fs, "")

    # -- actions -------------------------------------------------------------------------------------
    def _changed(self) -> None:
        self.app.notify("takes", [self.shot_id])

    def _pick_add(self) -> None:
        from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS
        exts = sorted(IMAGE_EXTS if self.storyboard == "image" else VIDEO_EXTS)
        self.app.dialogs.pick_files(f"Add {self.storyboard} takes to shot {self.shot['shot_name']}", exts,
                                    lambda files: self.add_files(files))

    def add_files(self, files: list[Path]) -> list[str] | None:
        from aimms_fast.ops.takes import add_takes
        ids = self.app.run_op(lambda: add_takes(self.app.project, self.shot_id, files, storyboard=self.storyboard),
                              title="Could not add the takes")
        if ids:
            self._changed()
            self.select_take(ids[0])
            self.app.toast(f"added {len(ids)} take(s)")
        return ids

    def add_placeholders(self, n: int) -> None:
        from aimms_fast.ops.takes import add_placeholders
        ids = self.app.run_op(lambda: add_placeholders(self.app.project, self.shot_id, int(n),
                                                       storyboard=self.storyboard),
                              title="Could not add placeholders")
        if ids:
            self._changed()

    def _pick_replace(self) -> None:
        t = self.selected_take
        if t is None:
            return
        from aimms_fast.ops.files import IMAGE_EXTS, VIDEO_EXTS
        exts = sorted(IMAGE_EXTS if self.storyboard == "image" else VIDEO_EXTS)
        self.app.dialogs.pick_files(f"Replace take {t.take_number:02d}", exts,
                                    lambda files: self.replace(files[0]), multiple=False)

    def replace(self, file: Path) -> None:
        from aimms_fast.ops.takes import replace_take
        t = self.selected_take
        if t is None:
            return
        rel = self.app.run_op(lambda: replace_take(self.app.project, t.take_id, file), title="Could not replace")
        if rel:
            if self.app.services is not None:
                self.app.services.forget_states([rel, t.file_path])
            self.app.textures.invalidate([rel, t.file_path])
            self._changed()
            self.app.toast(f"replaced take {t.take_number:02d}")

    def star(self) -> None:
        """The Star button: images take the slot picked beside it (moving the image there)."""
        from aimms_fast.ops.takes import star_take
        t = self.selected_take
        if t is None:
            return
        slot = int(dpg.get_value(self.slot_combo)[-1]) if self.storyboard == "image" else None
        if self.app.run_op(lambda: star_take(self.app.project, t.take_id, slot=slot), title="Could not star") is not None:
            self._changed()

    def toggle_star(self) -> str | None:
        """S: an exact toggle of the selected take (S twice = no change); the toast says what."""
        from aimms_fast.ui.context_menu import toggle_star
        t = self.selected_take
        if t is None:
            return None
        keep = t.take_id
        label = toggle_star(self.app, t.take_id, self.shot_id)
        self.select_take(keep)
        return label

    def _context(self, i: int) -> None:
        from aimms_fast.ui import context_menu as cm
        if not (0 <= i < len(self.takes)):
            return
        t = self.takes[i]
        cm.menu(self.app).show(cm.take_entries(self.app, t.take_id, shot_id=self.shot_id,
                                               storyboard=self.storyboard, open_shot=False))

    def delete(self) -> None:
        t = self.selected_take
        if t is None:
            return
        from aimms_fast.ops.takes import delete_take

        def go():
            tid = self.app.run_op(lambda: delete_take(self.app.project, t.take_id), title="Could not delete")
            if tid is not None:
                self.last_trash = tid
                dpg.configure_item(self.b_undo, enabled=True)
                self._changed()
                self.app.toast(f"take {t.take_number:02d} moved to the trash (Undo restores it)")
        self.app.dialogs.confirm("Delete take", f"Delete take {t.take_number:02d} ({t.file_path})"
                                 + (" and its workflow PNG" if t.companion_path else "")
                                 + "? It goes to the project trash; Undo brings it back.", go)

    def undo(self) -> None:
        from aimms_fast.ops.trash import undo
        if self.last_trash is None:
            return
        r = self.app.run_op(lambda: undo(self.app.project, self.last_trash), title="Could not undo")
        if r is not None:
            self.last_trash = None
            dpg.configure_item(self.b_undo, enabled=False)
            self._changed()
            self.app.toast(f"restored {r['label']}")

    def save_notes(self) -> None:
        from aimms_fast.ops.takes import set_notes
        t = self.selected_take
        if t is None:
            return
        notes, rating = dpg.get_value(self.d_notes), int(dpg.get_value(self.d_rating))
        ok = self.app.run_op(lambda: set_notes(self.app.project, t.take_id, notes=notes, rating=rating) or True,
                             title="Could not save the notes")
        if ok:
            keep = t.take_id
            self.reload()
            self.select_take(keep)
            self.app.toast("notes saved")

    def copy_prompt(self) -> str | None:
        g = getattr(self, "gen", None) or {}
        text = g.get("positive")
        if not text:
            # Fall back to the shot's own prompt (what AIMMS users paste into ComfyUI).
            text = self.shot.get("video_prompt" if self.storyboard == "video" else "image_prompt")
        if text:
            dpg.set_clipboard_text(text)
            self.app.toast("prompt copied")
        else:
            self.app.toast("no prompt to copy")
        return text

    def save_as(self) -> None:
        """Save a copy of the selected take's file into a folder (player.save_take_dialog)."""
        from aimms_fast.ui.player import save_take_dialog
        t = self.selected_take
        if t is None:
            self.app.toast("select a take first")
            return
        save_take_dialog(self.app, t.take_id)

    def open_folder(self) -> None:
        t = self.selected_take
        lay = self.app.project.layout
        folder = lay.shot_dir(self.shot_id)
        if t and lay.is_inside(t.file_path):
            folder = lay.abs(t.file_path).parent
        self.app.opener(folder)

    def workflow(self, what: str) -> None:
        """Validate (re-check), regenerate (missing/invalid -> PNG from the video's first frame and
        embedded recipe) or repair (rewrite a damaged PNG keeping pixels and text)."""
        t = self.selected_take
        wf = _workflow_module()
        if t is None or self.storyboard != "video":
            return
        if wf is None:
            self.app.toast("workflow PNG tools are not installed in this build")
            return
        fn = {"validate": wf.check, "regenerate": wf.regenerate, "repair": wf.repair}[what]
        r = self.app.run_op(lambda: fn(self.app.project, [t.take_id]), title=f"Could not {what} the workflow PNG")
        if r:
            self.app.toast(f"workflow PNG: {_format_wf_status(r[0])}")
            if what != "validate":
                self._changed()
            else:
                dpg.set_value(self.d_wf, _format_wf_status(r[0]))

    # -- per frame and keys --------------------------------------------------------------------------
    def tick(self) -> bool:
        if not self.alive:
            return False
        if not dpg.is_item_shown(self.win):
            return False
        visible, ahead = self.grid.tick()
        visible = visible + self.assets.tick()      # the shot's asset thumbnails, in the same request
        self.app.textures.want(visible, urgent=True)
        self.app.textures.want(ahead)
        if self.app.services is not None:
            self.app.services.request(visible, ahead)
        return bool(self.grid.hover)

    def on_tiles(self, events) -> None:
        self.grid.refresh_status({e.rel_path for e in events})

    def on_action(self, action: str) -> bool:
        if action.startswith("move:"):
            self.grid.move(action[5:])
        elif action == "star":
            self.toggle_star()
        elif action == "delete":
            self.delete()
        elif action.startswith("frame:"):
            self.grid.step_frame(int(action[6:]))
        elif action == "close":
            self.close()
        elif action in ("play", "compare_add", "tournament"):
            from aimms_fast.ui import review
            t = self.selected_take
            return review.dispatch(self.app, action, take_id=t.take_id if t else None,
                                   shot_id=self.shot_id, storyboard=self.storyboard)
        else:
            return False
        return True

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if what != "takes" or not shot_ids or self.shot_id in shot_ids:
            self.reload()

    def close(self) -> None:
        if not self.alive:
            return
        if self.grid is not None:
            self.grid.destroy()
        self.assets.destroy()
        super().close()


def _workflow_module():
    try:
        from aimms_fast.media import workflow_png
        return workflow_png
    except ImportError:
        return None


def _format_wf_status(st) -> str:
    """PngStatus (media/workflow_png.py) -> one line: icon, status, what was done, why."""
    d = st.to_dict() if hasattr(st, "to_dict") else dict(st) if isinstance(st, dict) else {"status": str(st)}
    # Drawn with the UI font (DejaVu has these; it has no colour emoji like the CLI's ✅/❌).
    icon = {"present": "✔", "missing": "⚠", "invalid": "✘", "placeholder": "·"}.get(str(d.get("status")), "")
    parts = [icon, str(d.get("status") or "")]
    if d.get("action"):
        parts.append(f"({d['action']})")
    if d.get("png"):
        parts.append(str(d["png"]))
    if d.get("reason"):
        parts.append(f"— {d['reason']}")
    return " ".join(p for p in parts if p)
