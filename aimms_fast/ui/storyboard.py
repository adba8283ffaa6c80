"""Image and Video storyboards: one card per shot, showing its representative take (the rule and
the query live in store/storyboard.py), filtered by the shared section filter and by star
(all / starred only / unstarred only). The grid widget is ui/card_grid.py. UI thread only.
"""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

from aimms_fast.store.storyboard import ShotCardRow, file_state, load_storyboard, project_exists
from aimms_fast.ui import theme as T
from aimms_fast.ui.card_grid import Card, CardGrid, card_status  # noqa: F401  (re-exported: shot window, tests)
from aimms_fast.ui.page import Page

STAR_FILTERS = ("All shots", "Starred only", "Unstarred only")
# The first screen after a load is built in one long frame rather than 8 ms a frame: every frame
# in between is a full render (~15-25 ms of software GL) of grey cards nobody can use yet, so a
# 28-card screen took ~10 renders before. Tiles the workers have not made yet don't wait here.
FIRST_SCREEN_BUDGET_S = 0.25
# Until the first screen shows its pictures (at most this long), the background sweep (worker
# processes starting, a stat per take) waits: on a cold start it competes for the same disk and
# both cores.
FIRST_SCREEN_HOLD_S = 8.0
# While the user scrolls, the sweep queues nothing (its slices cost UI-thread time each frame).
SCROLL_HOLD_S = 0.3
ALL_CHARACTERS = "All characters"


def fmt_duration(seconds: float | None) -> str:
    """0:04 / 1:02:03 for cards (a take is seconds long; tenths below ten seconds)."""
    if seconds is None or seconds <= 0:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def take_detail(number: int | None, duration: float | None, width: int | None, height: int | None) -> str:
    """The card line that says which take it shows: 'Take 03 · 2.0 s · 1920×1080'."""
    parts = [f"Take {number:02d}" if number else ""]
    parts.append(fmt_duration(duration))
    parts.append(f"{width}×{height}" if width and height else "")
    return " · ".join(p for p in parts if p)


class StoryboardPage(Page):
    """Images or Videos: one card per shot, filtered by the shared section filter and by star."""

    storyboard = "image"
    key_context = "storyboard"

    def __init__(self, app):
        super().__init__(app)
        self.rows: list[ShotCardRow] = []
        self.grid: CardGrid | None = None
        self._files: dict[str, str] = {}
        self._stale = False
        self.star_filter = STAR_FILTERS[0]
        self._first_screen_until: float | None = None   # monotonic deadline while the first screen loads

    # -- build ------------------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_text("Section")
            self.section_combo = dpg.add_combo(["All sections"], default_value="All sections", width=220,
                                               callback=lambda s, a: self.app.set_section_filter(
                                                   None if a == "All sections" else a))
            dpg.add_spacer(width=12)
            dpg.add_text("Show")
            self.star_combo = dpg.add_combo(list(STAR_FILTERS), default_value=STAR_FILTERS[0], width=150,
                                            callback=lambda s, a: self.set_star_filter(a))
            # issue 12: only the shots a character is in (ops/characters.py)
            self.char_combo = dpg.add_combo([ALL_CHARACTERS], default_value=ALL_CHARACTERS, width=150,
                                            callback=lambda s, a: self.set_character_filter(a))
            dpg.add_spacer(width=12)
            dpg.add_text("Card size")
            self.size_slider = dpg.add_slider_int(default_value=self.app.prefs.card_width, min_value=120,
                                                  max_value=520, width=160,
                                                  callback=lambda s, a: self.app.set_card_width(a))
            dpg.add_spacer(width=12)
            self.count_text = dpg.add_text("")
            dpg.add_spacer(width=12)
            self.hint_text = T.text(self.app, None, "", "dim")
        self.grid = CardGrid(self.app, parent, video=self.storyboard == "video", on_open=self._open,
                             height=-1, status_of=self._status_of, on_context=self._context)

    # -- data -------------------------------------------------------------------------------
    def on_project(self, project) -> None:
        """Load now if on screen; otherwise when first shown (opening a project only pays for the
        page the user looks at)."""
        self._stale = True
        if project is None:
            self.rows = []
            self.grid.set_cards([])
            self._stale = False
            return
        from aimms_fast.ui.file_dialog import ensure_drop_target
        ensure_drop_target(self.app)        # files dropped from the desktop onto cards add takes
        if self.visible:
            self._load()

    def on_show(self) -> None:
        if getattr(self, "_stale", False) and self.project is not None:
            self._load()

    def _load(self) -> None:
        project = self.project
        self._stale = False
        self._first_screen_until = time.monotonic() + FIRST_SCREEN_HOLD_S
        self._files = {}
        self.rows = load_storyboard(project.conn, self.storyboard, exists=self._exists)
        from aimms_fast.store.approvals import star_states, take_states
        self._approval = take_states(project.conn)  # issue 12: APPROVED / LOCKED badges
        self._star_approval = star_states(project.conn, self.storyboard)
        for r in self.rows:
            for rel in (r.rel, r.companion):
                if rel and rel not in self._files:
                    self._files[rel] = file_state(project.layout, rel)
        self.apply_filter()

    def _exists(self, rel: str) -> bool:
        """load_storyboard's file check, remembering what it saw (one stat per file)."""
        st = self._files.get(rel)
        if st is None:
            st = self._files[rel] = file_state(self.project.layout, rel)
        return st != "missing"

    def _wanted(self, r: ShotCardRow) -> bool:
        sec = self.app.section_filter
        if sec is not None and r.section != sec:
            return False
        if getattr(self, "char_shots", None) is not None and r.shot_id not in self.char_shots:
            return False
        if self.star_filter == STAR_FILTERS[1]:
            return bool(r.starred)
        if self.star_filter == STAR_FILTERS[2]:
            return not r.starred
        return True

    def set_character_filter(self, name: str | None) -> None:
        """Only the shots character `name` is in (None or ALL_CHARACTERS: every shot)."""
        from aimms_fast.ops.characters import get_character
        self.char_filter = None if name in (None, ALL_CHARACTERS) else name
        self.char_shots = set(get_character(self.project, name).shot_ids) if self.char_filter else None
        dpg.set_value(self.char_combo, self.char_filter or ALL_CHARACTERS)
        self.apply_filter()

    def set_star_filter(self, value: str) -> None:
        """'All shots' | 'Starred only' | 'Unstarred only' (by the shot's shown take)."""
        if value not in STAR_FILTERS:
            raise ValueError(f"star filter must be one of {STAR_FILTERS}")
        self.star_filter = value
        dpg.set_value(self.star_combo, value)
        self.apply_filter()

    def apply_filter(self) -> None:
        if getattr(self, "_stale", False):
            return            # loads (filtered) when shown
        rows = [r for r in self.rows if self._wanted(r)]
        self.grid.set_cards([self._card(r) for r in rows])
        self._update_sections()
        self._update_count()

    def _update_count(self) -> None:
        rows = [r for r in self.rows if self._wanted(r)]
        total = sum(r.takes for r in rows)
        dpg.set_value(self.count_text, f"{len(rows)} shots · {total} takes")

    def _update_sections(self) -> None:
        from aimms_fast.store.shots import sections
        items = ["All sections"] + (sections(self.project.conn) if self.project else [])
        dpg.configure_item(self.section_combo, items=items)
        dpg.set_value(self.section_combo, self.app.section_filter or "All sections")
        from aimms_fast.store.characters import character_names
        names = character_names(self.project.conn) if self.project else []
        dpg.configure_item(self.char_combo, items=[ALL_CHARACTERS] + names, show=bool(names))

    def _card(self, r: ShotCardRow) -> Card:
        badges = []
        fstate = self._files.get(r.rel, "missing") if r.rel else None
        if r.rel and (r.placeholder or fstate == "empty"):
            badges.append("placeholder")
        elif r.rel and fstate == "missing":
            badges.append("missing")
        if self.storyboard == "video" and r.rel and not r.placeholder and fstate != "missing":
            cstate = self._files.get(r.companion, "missing") if r.companion else "missing"
            if cstate != "ok":
                badges.append("nopng")
        if r.take_id and r.take_id in getattr(self, "_approval", {}):
            badges.append(self._approval[r.take_id])
        if r.shot_id in getattr(self, "_star_approval", {}):
            badges.append(self._star_approval[r.shot_id])
        n = r.takes
        sub = " · ".join(x for x in (r.section, f"{n} take{'s' if n != 1 else ''}") if x)
        detail = take_detail(r.take_number, r.duration, r.width, r.height) if r.take_id else "no takes yet"
        if r.take_id and r.placeholder:
            detail = f"Take {r.take_number:02d} · placeholder" if r.take_number else "placeholder"
        title = f"{r.order}. {r.name}"
        tip = [title, detail]
        if r.starred:
            tip.append("★ chosen take" if self.storyboard == "video" else f"★ reference slot {r.starred}")
        if r.prompt:
            tip.append(f"Prompt: {r.prompt[:600]}")
        if r.rel:
            tip.append(f"File: {r.rel}" + ("  (missing)" if fstate == "missing" else ""))
        tip.append(sub)
        return Card(key=r.shot_id, rel=r.rel, title=title, subtitle=sub, detail=detail,
                    tooltip="\n".join(t for t in tip if t),
                    starred=bool(r.starred), badges=badges,
                    placeholder=bool(r.placeholder) or fstate in ("empty", "missing"),
                    take_id=r.take_id, video=self.storyboard == "video")

    def _status_of(self, card: Card) -> tuple[str, str]:
        return card_status(self.app, card)

    def reload_shots(self, shot_ids) -> None:
        """Takes of some shots changed (star, add, delete): re-read just those cards."""
        p = self.project
        if p is None:
            return
        by_id = {r.shot_id: k for k, r in enumerate(self.rows)}
        from aimms_fast.store.approvals import star_states, take_states
        self._approval = take_states(p.conn)  # issue 12: an approve/lock is a 'takes' change
        self._star_approval = star_states(p.conn, self.storyboard)
        refilter = False
        for sid in shot_ids:
            got = load_storyboard(p.conn, self.storyboard, shot_id=sid, exists=project_exists(p))
            if not got or sid not in by_id:
                self.on_project(p)
                return
            row = got[0]
            for rel in (row.rel, row.companion):
                if rel:
                    self._files[rel] = file_state(p.layout, rel)
            old = self.rows[by_id[sid]]
            self.rows[by_id[sid]] = row
            if self._wanted(old) != self._wanted(row):
                refilter = True      # e.g. unstarred under "Starred only": the card leaves
                continue
            for i, c in enumerate(self.grid.cards):
                if c.key == sid:
                    self.grid.update_card(i, self._card(row))
                    break
        if refilter:
            self.apply_filter()
        else:
            self._update_count()

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        if getattr(self, "_stale", False):
            return
        if what == "takes" and shot_ids:
            self.reload_shots(shot_ids)
        else:
            self.on_project(self.project)

    def on_tiles(self, events) -> None:
        rels = {e.rel_path for e in events}
        self.grid.refresh_status(rels)

    # -- per frame --------------------------------------------------------------------------
    def tick(self) -> bool:
        visible, ahead = self.grid.tick()
        self.app.textures.want(visible, urgent=True)
        self.app.textures.want(ahead)
        if self.app.services is not None:
            self.app.services.request(visible, ahead)
        if self._first_screen_until is not None:
            self._first_screen(visible)
        if self.grid.scrolling:
            self.app.hold_sweep(SCROLL_HOLD_S)
        self._update_hint()
        return bool(self.grid.hover)

    def _first_screen(self, visible: list[str]) -> None:
        """Right after a load: build every on-screen tile the cache has now, in this frame, and
        hold the background sweep back until they show (or FIRST_SCREEN_HOLD_S passes)."""
        bank, services = self.app.textures, self.app.services
        if bank.urgent_ready():
            bank.pump(FIRST_SCREEN_BUDGET_S)
        waiting = services is not None and any(
            not bank.resident(r) and services.state(r) in ("ready", "stale") for r in visible)
        # (no visible rels yet with cards loaded: the grid has not been laid out; keep waiting)
        if not self.grid.cards or (visible and not waiting) or time.monotonic() > self._first_screen_until:
            self._first_screen_until = None
            return
        self.app.hold_sweep()

    def _update_hint(self) -> None:
        g = self.grid
        if 0 <= g.selected < len(g.cards):
            c = g.cards[g.selected]
            text = f"selected: {c.title}"
            if c.rel:
                text += f"  ({c.rel})"
        else:
            text = "Enter opens a shot · S stars · arrows move" + (" · hover to scrub" if g.video else "")
        if text != getattr(self, "_hint", None):
            dpg.set_value(self.hint_text, text)
            self._hint = text

    # -- actions ----------------------------------------------------------------------------
    def _open(self, i: int) -> None:
        self.app.open_shot(self.grid.cards[i].key, self.storyboard)

    def on_action(self, action: str) -> bool:
        g = self.grid
        if action.startswith("move:"):
            g.move(action[5:])
        elif action == "open":
            if 0 <= g.selected < len(g.cards):
                self._open(g.selected)
        elif action == "star":
            self.star_selected()
        elif action.startswith("frame:"):
            g.step_frame(int(action[6:]))
        elif action == "card:+":
            self.app.set_card_width(self.app.prefs.card_width + 40)
        elif action == "card:-":
            self.app.set_card_width(self.app.prefs.card_width - 40)
        else:
            from aimms_fast.ui import review
            c = g.cards[g.selected] if 0 <= g.selected < len(g.cards) else None
            return review.dispatch(self.app, action, take_id=c.take_id if c else None,
                                   shot_id=c.key if c else None, storyboard=self.storyboard)
        return True

    def star_selected(self) -> str | None:
        """S: toggle the star of the take the selected card shows; the toast says what happened."""
        from aimms_fast.ui.context_menu import toggle_star
        g = self.grid
        if not (0 <= g.selected < len(g.cards)):
            return None
        c = g.cards[g.selected]
        if not c.take_id:
            self.app.toast("this shot has no take to star")
            return None
        return toggle_star(self.app, c.take_id, c.key)

    def _context(self, i: int) -> None:
        """Right click on card i (already selected by the grid)."""
        from aimms_fast.ui import context_menu as cm
        if self.project is None or not (0 <= i < len(self.grid.cards)):
            return
        c = self.grid.cards[i]
        cm.menu(self.app).show(cm.take_entries(self.app, c.take_id, shot_id=c.key, storyboard=self.storyboard))

    def set_card_width(self, w: int) -> None:
        dpg.set_value(self.size_slider, w)
        self.grid.relayout()

    def apply_theme(self) -> None:
        self.grid.relayout()
        T.retint(self.app)
