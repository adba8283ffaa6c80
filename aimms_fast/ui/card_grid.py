"""CardGrid: the virtualised grid of cards shared by the Image/Video storyboards and the shot window.

The grid is one Dear PyGui drawlist as tall as all rows, inside a scrolling child window, and a
fixed pool of card "slots" (outline, poster, badges, star image, three text lines) is moved with a
translation transform to whichever cards are on screen. A slot is three draw_nodes, one in each of
three layers (all posters, then all stars, then every outline and text line), so each texture is
bound once a frame instead of 3-5 times a card. Scrolling never creates
widgets; a card entering the screen costs ~15 configure calls (~40 µs). Posters come from
textures.TextureBank (static atlas pages, LRU); until a tile is resident the card shows a neutral
striped texture. Video cards scrub their filmstrip under the mouse (x position -> frame).

One tooltip item follows the mouse (the full name, prompt and file of the card under it: names cut
short on small cards are readable there); a right click selects the card and calls `on_context`
(ui/context_menu.py). Everything here runs on the UI thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import dearpygui.dearpygui as dpg

from aimms_fast.ui import theme as T

GAP = 12
PAD = 6
OVERSCAN_ROWS = 1       # rows kept assigned above/below the screen (no blank edge while scrolling)
PREFETCH_ROWS = 2       # rows whose tiles are built ahead of the scroll direction
SCRUB_AFTER_SCROLL_FRAMES = 10   # no hover scrub until the grid has been still this long
LAYERED = True          # cards drawn in layers (see _make_slot); False = one node per card (A/B)


@dataclass
class Card:
    key: object                      # shot_id (storyboards) or take_id (shot window)
    rel: str | None                  # media shown (project-relative), None = nothing to show
    title: str
    subtitle: str
    detail: str = ""                 # "Take 03 · 0:04 · 1920×1080": which take the card shows
    tooltip: str = ""                # full name, prompt and file (hover)
    starred: bool = False
    badges: list[str] = field(default_factory=list)   # keys of theme.BADGE
    placeholder: bool = False
    take_id: str | None = None
    video: bool = False
    extra: dict = field(default_factory=dict)


def card_status(app, card: Card) -> tuple[str, str]:
    """What a card's picture area shows: ('tile', '') for its poster, or a stand-in and its words.
    Shared by the storyboards and the shot window."""
    if not card.rel:
        return "empty", "no takes"
    if "placeholder" in card.badges:
        return "empty", "placeholder"
    if "missing" in card.badges:
        return "failed", "file missing"
    st = app.services.state(card.rel) if app.services else "missing"
    if st == "failed":
        return "failed", "no preview"
    if st == "placeholder":
        return "empty", "placeholder"
    return "tile", ""


class _Slot:
    __slots__ = ("node", "nodes", "bg", "img", "status", "star", "badges", "bar", "title", "detail", "sub", "sel",
                 "index", "region", "frame", "status_text")

    def __init__(self):
        self.index = -1
        self.region = None
        self.frame = None
        self.status_text = None


def _ellipsize(text: str, max_chars: int) -> str:
    text = (text or "").replace("\n", " ")
    if len(text) <= max_chars:
        return text
    return text[:max(1, max_chars - 1)] + "…"


class CardGrid:
    """A scrolling grid of cards with a recycled pool of draw slots."""

    def __init__(self, app, parent, *, video: bool, on_open: Callable[[int], None] | None = None,
                 on_select: Callable[[int], None] | None = None, height: int = -1, width: int = -1,
                 status_of: Callable[[Card], tuple] | None = None,
                 card_width: Callable[[], int] | None = None,
                 on_context: Callable[[int], None] | None = None):
        self.app = app
        self.card_width = card_width or (lambda: app.prefs.card_width)
        self.bank = app.textures
        self.video = video
        self.on_open = on_open
        self.on_select = on_select
        self.on_context = on_context
        self.status_of = status_of or (lambda c: ("tile", ""))
        self.cards: list[Card] = []
        self.selected = -1
        self.cols = 1
        self._slots: list[_Slot] = []
        self._by_index: dict[int, _Slot] = {}
        self._range = (0, 0)
        self._size = (0, 0)
        self._layout_key = None
        self._hover = None           # (index, frame) while the mouse scrubs a video card
        self._kbd_frame: dict[int, int] = {}
        self._pending_scroll: float | None = None
        self._last_y = 0.0
        self._dir = 1
        self._m = self._metrics()
        self._ticks = 0
        self._scrolled_at = -100
        self.scroll = dpg.add_child_window(parent=parent, border=False, width=width, height=height,
                                           no_scrollbar=False)
        self.dl = dpg.add_drawlist(parent=self.scroll, width=10, height=10)
        self._layers = tuple(dpg.add_draw_node(parent=self.dl) for _ in range(3))   # posters, stars, words
        with dpg.item_handler_registry() as h:
            dpg.add_item_clicked_handler(button=dpg.mvMouseButton_Left, callback=self._on_click)
            dpg.add_item_clicked_handler(button=dpg.mvMouseButton_Right, callback=self._on_right_click)
            dpg.add_item_double_clicked_handler(button=dpg.mvMouseButton_Left, callback=self._on_double)
        dpg.bind_item_handler_registry(self.dl, h)
        self._handlers = h
        # One tooltip for the whole grid, refilled with the card under the mouse.
        self._tip_index = -1
        self.tip = dpg.add_tooltip(self.scroll, delay=0.35, show=False)   # (a drawlist cannot hold one)
        self.tip_text = dpg.add_text("", parent=self.tip, wrap=520)
        self.bank.on_evict(self._on_evict)

    def destroy(self) -> None:
        self.bank.off_evict(self._on_evict)
        if dpg.does_item_exist(self.scroll):
            dpg.delete_item(self.scroll)
        if dpg.does_item_exist(self._handlers):
            dpg.delete_item(self._handlers)
        self._slots = []
        self._by_index = {}

    # -- geometry -----------------------------------------------------------------------------
    def _metrics(self):
        prefs = self.app.prefs
        cw = int(self.card_width())
        pw = cw - 2 * PAD
        tw, th = self.bank.poster_size
        ph = int(round(pw * th / max(1, tw)))
        fs = int(round(T.BASE_FONT_PX * prefs.font_scale))
        line = fs + 4
        ch = PAD + ph + PAD + 3 * line + PAD
        return cw, ch, pw, ph, fs, line

    def card_origin(self, i: int) -> tuple[float, float]:
        cw, ch = self._m[0], self._m[1]
        r, c = divmod(i, self.cols)
        return GAP + c * (cw + GAP), GAP + r * (ch + GAP)

    def poster_rect(self, i: int) -> tuple[float, float, float, float]:
        """The poster of card i in viewport pixels (for screenshots and tests)."""
        x, y = self.card_origin(i)
        x0, y0 = dpg.get_item_rect_min(self.dl)
        pw, ph = self._m[2], self._m[3]
        return x0 + x + PAD, y0 + y + PAD, x0 + x + PAD + pw, y0 + y + PAD + ph

    def card_rect(self, i: int) -> tuple[float, float, float, float]:
        x, y = self.card_origin(i)
        x0, y0 = dpg.get_item_rect_min(self.dl)
        return x0 + x, y0 + y, x0 + x + self._m[0], y0 + y + self._m[1]

    def index_at(self, lx: float, ly: float) -> tuple[int, float] | None:
        """Card under a drawlist-local point and the x fraction across its poster."""
        cw, ch, pw, ph = self._m[:4]
        c = int((lx - GAP) // (cw + GAP))
        r = int((ly - GAP) // (ch + GAP))
        if c < 0 or c >= self.cols or r < 0:
            return None
        x, y = GAP + c * (cw + GAP), GAP + r * (ch + GAP)
        if not (x <= lx <= x + cw and y <= ly <= y + ch):
            return None
        i = r * self.cols + c
        if i >= len(self.cards):
            return None
        return i, min(0.999, max(0.0, (lx - x - PAD) / max(1, pw)))

    @property
    def scrolling(self) -> bool:
        """The view moved in this frame's tick."""
        return self._scrolled_at == self._ticks

    @property
    def row_height(self) -> int:
        return self._m[1] + GAP

    # -- slots ----------------------------------------------------------------------------------
    def _make_slot(self) -> _Slot:
        cw, ch, pw, ph, fs, line = self._m
        pal = T.PALETTES[self.app.prefs.theme]
        s = _Slot()
        if LAYERED:
            # One node per layer: every poster, then every star, then every outline, badge and text
            # line. Dear PyGui hands each texture switch to GL as a separate draw; in layers the
            # font-atlas parts of all cards merge into one draw and posters of one atlas page into
            # another, instead of 3-5 draws per card.
            pic, mark, words = (dpg.add_draw_node(parent=layer, show=False) for layer in self._layers)
            s.nodes = (pic, mark, words)
        else:
            pic = mark = words = dpg.add_draw_node(parent=self.dl, show=False)
            s.nodes = (pic,)
        s.node = pic
        # Outlined, not filled: with software GL every filled pixel counts (see theme.py).
        s.bg = dpg.draw_rectangle((0, 0), (cw, ch), color=pal["card_border"], rounding=5, parent=words)
        n = self.bank.neutral
        s.img = dpg.draw_image(n.tag, (PAD, PAD), (PAD + pw, PAD + ph), uv_min=n.uv_min, uv_max=n.uv_max,
                               parent=pic)
        s.status = dpg.draw_text((PAD + 8, PAD + ph / 2 - fs / 2), "", size=fs, color=(235, 235, 240, 255),
                                 parent=words)
        r = max(8, min(18, pw // 14))
        star = self.bank.icon(("star", r), lambda: T.star_image(r))
        # Whole-pixel corners: the image is sampled 1:1, as crisp as the triangles were.
        side = T.star_box(r)
        x0, y0 = round(PAD + pw - r - 6 - side / 2), round(PAD + r + 6 - side / 2)
        s.star = dpg.draw_image(star.tag, (x0, y0), (x0 + side, y0 + side),
                                uv_min=star.uv_min, uv_max=star.uv_max, show=False, parent=mark)
        s.badges = []
        for k in range(3):
            bnode = dpg.add_draw_node(parent=words, show=False)
            rect = dpg.draw_rectangle((0, 0), (10, 10), fill=(0, 0, 0, 0), color=(0, 0, 0, 0), rounding=3,
                                      parent=bnode)
            txt = dpg.draw_text((0, 0), "", size=max(9, fs - 3), color=(255, 255, 255, 255), parent=bnode)
            s.badges.append((bnode, rect, txt))
        s.bar = dpg.draw_rectangle((PAD, PAD + ph - 4), (PAD + 10, PAD + ph), fill=pal["accent"],
                                   color=pal["accent"], show=False, parent=words)
        s.title = dpg.draw_text((PAD, PAD + ph + PAD), "", size=fs, color=pal["text"], parent=words)
        s.detail = dpg.draw_text((PAD, PAD + ph + PAD + line), "", size=max(9, fs - 2), color=pal["text"],
                                 parent=words)
        s.sub = dpg.draw_text((PAD, PAD + ph + PAD + 2 * line), "", size=max(9, fs - 2), color=pal["dim"],
                              parent=words)
        s.sel = dpg.draw_rectangle((-3, -3), (cw + 3, ch + 3), color=pal["accent"], thickness=3,
                                   rounding=6, show=False, parent=words)
        return s

    def _rebuild_slots(self) -> None:
        for s in self._slots:
            for node in s.nodes:
                dpg.delete_item(node)
        self._slots = []
        self._by_index = {}
        self._range = (0, 0)

    def _ensure_pool(self, n: int) -> None:
        while len(self._slots) < n:
            self._slots.append(self._make_slot())

    def _free(self, s: _Slot) -> None:
        if s.index >= 0:
            self._by_index.pop(s.index, None)
        s.index = -1
        s.frame = None
        for node in s.nodes:
            dpg.configure_item(node, show=False)
        n = self.bank.neutral
        if s.region is not n:
            dpg.configure_item(s.img, texture_tag=n.tag, uv_min=n.uv_min, uv_max=n.uv_max)
            s.region = n

    def _assign(self, s: _Slot, i: int) -> None:
        cw, ch, pw, ph, fs, line = self._m
        card = self.cards[i]
        s.index = i
        self._by_index[i] = s
        x, y = self.card_origin(i)
        move = dpg.create_translation_matrix([x, y])
        for node in s.nodes:
            dpg.apply_transform(node, move)
        chars = max(4, int(pw / (fs * 0.56)))
        dpg.configure_item(s.title, text=_ellipsize(card.title, chars))
        dpg.configure_item(s.detail, text=_ellipsize(card.detail, int(chars * 1.1)))
        dpg.configure_item(s.sub, text=_ellipsize(card.subtitle, int(chars * 1.1)))
        dpg.configure_item(s.star, show=bool(card.starred))
        bx = PAD + 4
        bfs = max(9, fs - 3)
        for k, (bnode, rect, txt) in enumerate(s.badges):
            if k < len(card.badges) and card.badges[k] in T.BADGE:
                colour, label = T.BADGE[card.badges[k]]
                bw = int(len(label) * bfs * 0.62) + 8
                by = PAD + ph - bfs - 10
                dpg.configure_item(rect, pmin=(bx, by), pmax=(bx + bw, by + bfs + 6), fill=colour, color=colour)
                dpg.configure_item(txt, pos=(bx + 4, by + 2), text=label)
                dpg.configure_item(bnode, show=True)
                bx += bw + 4
            else:
                dpg.configure_item(bnode, show=False)
        dpg.configure_item(s.sel, show=(i == self.selected))
        s.frame = None
        s.status_text = None
        self._update_status(s, card)
        for node in s.nodes:
            dpg.configure_item(node, show=True)

    def _update_status(self, s: _Slot, card: Card) -> None:
        kind, text = self.status_of(card)
        if text != s.status_text:
            dpg.configure_item(s.status, text=text)
            s.status_text = text

    def _set_region(self, s: _Slot, region) -> None:
        if region is not s.region:
            if s.region is None or region.tag != s.region.tag or region.uv_min != s.region.uv_min:
                dpg.configure_item(s.img, texture_tag=region.tag, uv_min=region.uv_min, uv_max=region.uv_max)
            s.region = region

    def _on_evict(self, tags: set) -> None:
        n = self.bank.neutral
        for s in self._slots:
            if s.region is not None and s.region.tag in tags:
                dpg.configure_item(s.img, texture_tag=n.tag, uv_min=n.uv_min, uv_max=n.uv_max)
                s.region = n

    # -- data -----------------------------------------------------------------------------------
    def set_cards(self, cards: list[Card], keep_selection: bool = True) -> None:
        key = self.cards[self.selected].key if keep_selection and 0 <= self.selected < len(self.cards) else None
        self.cards = cards
        self.selected = -1
        if key is not None:
            for i, c in enumerate(cards):
                if c.key == key:
                    self.selected = i
                    break
        self._kbd_frame.clear()
        self._hover = None
        for s in list(self._by_index.values()):
            self._free(s)
        self._range = (0, 0)
        self._layout_key = None

    def update_card(self, i: int, card: Card) -> None:
        self.cards[i] = card
        s = self._by_index.get(i)
        if s is not None:
            self._assign(s, i)

    def refresh_status(self, rels: set[str]) -> None:
        for i, s in self._by_index.items():
            c = self.cards[i]
            if c.rel in rels:
                self._update_status(s, c)

    def relayout(self) -> None:
        """Card size, font or theme changed: rebuild the slot pool."""
        self._rebuild_slots()
        self._layout_key = None

    # -- per frame ------------------------------------------------------------------------------
    def tick(self) -> tuple[list[str], list[str]]:
        """Place slots for what is on screen; returns (visible rels, prefetch rels)."""
        w, h = dpg.get_item_rect_size(self.scroll)
        if w <= 0 or h <= 0:
            return [], []
        m = self._metrics()
        key = (m, int(w), len(self.cards))
        if key != self._layout_key:
            if self._layout_key is None or m != self._layout_key[0]:
                self._m = m
                self._rebuild_slots()
            self._m = m
            self._layout_key = key
            cw, ch = m[0], m[1]
            self.cols = max(1, int((w - 14 - GAP) // (cw + GAP)))
            rows = (len(self.cards) + self.cols - 1) // self.cols
            dpg.configure_item(self.dl, width=int(self.cols * (cw + GAP) + GAP),
                               height=int(max(1, rows * (ch + GAP) + GAP)))
            for s in list(self._by_index.values()):
                self._free(s)
            self._range = (0, 0)
        if self._pending_scroll is not None:
            dpg.set_y_scroll(self.scroll, self._pending_scroll)
            self._pending_scroll = None
        y = dpg.get_y_scroll(self.scroll)
        self._ticks += 1
        if y != self._last_y:
            self._dir = 1 if y > self._last_y else -1
            self._last_y = y
            self._scrolled_at = self._ticks
        rh = self.row_height
        rows = (len(self.cards) + self.cols - 1) // self.cols
        first = max(0, int((y - GAP) // rh) - OVERSCAN_ROWS)
        last = min(rows - 1, int((y + h) // rh) + OVERSCAN_ROWS)
        rng = (first * self.cols, min(len(self.cards), (last + 1) * self.cols))
        if rng != self._range:
            # Pool sized by the view, not by this scroll position: it never grows while scrolling.
            self._ensure_pool((int(h // rh) + 2 + 2 * OVERSCAN_ROWS) * self.cols)
            lo, hi = rng
            for i, s in list(self._by_index.items()):
                if not lo <= i < hi:
                    self._free(s)
            free = [s for s in self._slots if s.index < 0]
            for i in range(lo, hi):
                if i not in self._by_index and free:
                    self._assign(free.pop(), i)
            self._range = rng
        self._track_hover()
        self._track_tooltip()
        # Pictures: filmstrip frame while scrubbing / stepping, else the poster, else neutral.
        hov = self._hover
        for i, s in self._by_index.items():
            c = self.cards[i]
            region = None
            k = hov[1] if hov is not None and hov[0] == i else self._kbd_frame.get(i)
            if k is not None and c.rel:
                st = self.bank.strip(c.rel)
                if st is not None and st.regions:
                    region = st.regions[min(k, len(st.regions) - 1)]
                    self._show_bar(s, (k + 1) / len(st.regions))
            elif s.frame == "bar":
                self._show_bar(s, None)
            if region is None and c.rel and not c.placeholder:
                region = self.bank.get(c.rel)
            if region is None:
                kind = self.status_of(c)[0]
                region = self.bank.failed if kind == "failed" else (
                    self.bank.empty if kind == "empty" else self.bank.neutral)
            self._set_region(s, region)
        # Tiles wanted: the screen (without overscan) first, then the rows ahead.
        vis_lo = max(0, int((y - GAP) // rh)) * self.cols
        vis_hi = min(len(self.cards), (int((y + h) // rh) + 1) * self.cols)
        visible = [self.cards[i].rel for i in range(vis_lo, vis_hi)
                   if self.cards[i].rel and not self.cards[i].placeholder]
        if self._dir > 0:
            a_lo, a_hi = vis_hi, min(len(self.cards), vis_hi + PREFETCH_ROWS * self.cols)
        else:
            a_lo, a_hi = max(0, vis_lo - PREFETCH_ROWS * self.cols), vis_lo
        ahead = [self.cards[i].rel for i in range(a_lo, a_hi) if self.cards[i].rel and not self.cards[i].placeholder]
        return visible, ahead

    def _show_bar(self, s: _Slot, frac: float | None) -> None:
        if frac is None:
            dpg.configure_item(s.bar, show=False)
            s.frame = None
            return
        pw, ph = self._m[2], self._m[3]
        dpg.configure_item(s.bar, pmin=(PAD, PAD + ph - 4), pmax=(PAD + max(2, pw * frac), PAD + ph), show=True)
        s.frame = "bar"

    def _track_hover(self) -> None:
        if not self.video:
            return
        if self._ticks - self._scrolled_at < SCRUB_AFTER_SCROLL_FRAMES:
            # Cards sliding under a still mouse during a wheel scroll are not a scrub request (and
            # loading each one's filmstrip would cost ~5 ms a card).
            self._hover = None
            return
        hit = None
        if dpg.is_item_hovered(self.dl):
            mx, my = dpg.get_mouse_pos(local=False)
            x0, y0 = dpg.get_item_rect_min(self.dl)
            hit = self.index_at(mx - x0, my - y0)
        if hit is None:
            self._hover = None
            return
        i, frac = hit
        c = self.cards[i]
        if not c.rel or c.placeholder:
            self._hover = None
            return
        st = self.bank.strip(c.rel)
        n = len(st.regions) if st is not None else 0
        self._hover = (i, int(frac * n)) if n else None

    @property
    def hover(self):
        return self._hover

    def _track_tooltip(self) -> None:
        hit = self._hit_mouse() if dpg.is_item_hovered(self.dl) else None
        i = hit[0] if hit is not None else -1
        if i == self._tip_index:
            return
        self._tip_index = i
        if i < 0:
            dpg.configure_item(self.tip, show=False)
            return
        c = self.cards[i]
        dpg.set_value(self.tip_text, c.tooltip or "\n".join(x for x in (c.title, c.detail, c.subtitle) if x))
        dpg.configure_item(self.tip, show=True)

    @property
    def tooltip_text(self) -> str | None:
        """What the hover tooltip says now (None while hidden)."""
        if self._tip_index < 0:
            return None
        return dpg.get_value(self.tip_text)

    # -- selection and keys ----------------------------------------------------------------------
    def select(self, i: int, *, scroll: bool = True) -> None:
        if not self.cards:
            self.selected = -1
            return
        i = max(0, min(len(self.cards) - 1, i))
        old = self._by_index.get(self.selected)
        if old is not None:
            dpg.configure_item(old.sel, show=False)
        if self.selected != i:
            self._kbd_frame.pop(self.selected, None)
        self.selected = i
        s = self._by_index.get(i)
        if s is not None:
            dpg.configure_item(s.sel, show=True)
        if scroll:
            self.ensure_visible(i)
        if self.on_select:
            self.on_select(i)

    def ensure_visible(self, i: int) -> None:
        h = dpg.get_item_rect_size(self.scroll)[1]
        y = dpg.get_y_scroll(self.scroll) if self._pending_scroll is None else self._pending_scroll
        _, top = self.card_origin(i)
        bottom = top + self._m[1]
        if top - GAP < y:
            self._pending_scroll = max(0, top - GAP)
        elif bottom + GAP > y + h:
            self._pending_scroll = bottom + GAP - h

    def scroll_to(self, y: float) -> None:
        self._pending_scroll = max(0.0, y)

    def scroll_y(self) -> float:
        return dpg.get_y_scroll(self.scroll)

    def scroll_max(self) -> float:
        return dpg.get_y_scroll_max(self.scroll)

    def move(self, how: str) -> None:
        if not self.cards:
            return
        cur = self.selected if self.selected >= 0 else 0
        h = dpg.get_item_rect_size(self.scroll)[1]
        page_rows = max(1, int(h // max(1, self.row_height)))
        step = {"-1": -1, "+1": 1, "-row": -self.cols, "+row": self.cols,
                "-page": -self.cols * page_rows, "+page": self.cols * page_rows}
        if how == "first":
            nxt = 0
        elif how == "last":
            nxt = len(self.cards) - 1
        elif self.selected < 0:
            nxt = 0
        else:
            nxt = cur + step.get(how, 0)
        self.select(nxt)

    def step_frame(self, delta: int) -> int | None:
        """`,` / `.`: step the selected video card through its filmstrip; returns the frame."""
        i = self.selected
        if not (0 <= i < len(self.cards)) or not self.cards[i].rel or self.cards[i].placeholder:
            return None
        st = self.bank.strip(self.cards[i].rel)
        if st is None or not st.regions:
            return None
        k = self._kbd_frame.get(i, -1 if delta > 0 else 0) + delta
        k %= len(st.regions)
        self._kbd_frame[i] = k
        return k

    def _hit_mouse(self):
        mx, my = dpg.get_mouse_pos(local=False)
        x0, y0 = dpg.get_item_rect_min(self.dl)
        return self.index_at(mx - x0, my - y0)

    def _on_click(self, *_):
        hit = self._hit_mouse()
        if hit is not None:
            self.select(hit[0], scroll=False)

    def _on_right_click(self, *_):
        hit = self._hit_mouse()
        if hit is not None:
            self.select(hit[0], scroll=False)
            if self.on_context:
                self.on_context(hit[0])

    def _visible_rect(self) -> tuple[float, float, float, float] | None:
        """The grid's visible area in viewport pixels (a child window has no rect_min of its own:
        the drawlist's, shifted by the scroll)."""
        if not dpg.does_item_exist(self.dl) or not dpg.is_item_visible(self.dl):
            return None
        dx, dy = dpg.get_item_rect_min(self.dl)
        w, h = dpg.get_item_rect_size(self.scroll)
        sy = dpg.get_y_scroll(self.scroll)
        return dx, dy + sy, dx + w, dy + sy + h

    def index_at_screen(self, x: float, y: float) -> int | None:
        """Card under a viewport point (drops from the desktop land where the pointer is)."""
        if not self.contains_screen(x, y):
            return None
        dx, dy = dpg.get_item_rect_min(self.dl)
        hit = self.index_at(x - dx, y - dy)
        return hit[0] if hit is not None else None

    def contains_screen(self, x: float, y: float) -> bool:
        r = self._visible_rect()
        return r is not None and r[0] <= x <= r[2] and r[1] <= y <= r[3]

    def _on_double(self, *_):
        hit = self._hit_mouse()
        if hit is not None and self.on_open:
            self.select(hit[0], scroll=False)
            self.on_open(hit[0])
